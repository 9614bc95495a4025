//! The binding report: which band feeds each covariate, and the warnings a person needs before
//! trusting a map made from the wrong rasters (the 12-band Landsat chip bound in order to an
//! 11-covariate model, another CRS, values far from the training data).

mod common;

use common::*;
use terrapix::binding;
use terrapix::bundle::Bundle;
use terrapix::raster::BindOptions;

fn soc_pixel() -> terrapix::bundle::Manifest {
    let path = repo().join("models/soc-pixel.onnx");
    Bundle::read(&path).unwrap().require_manifest(&path).unwrap().clone()
}

#[test]
fn the_right_stack_binds_by_description_without_warnings() {
    let dir = tempdir();
    let (covs, _) = landscape(dir.path(), 64);
    let report = binding::check(&soc_pixel(), &[covs], &BindOptions::default()).unwrap();
    assert!(report.missing.is_empty() && report.warnings.is_empty(), "{report:?}");
    assert_eq!(report.rows.len(), 11);
    assert!(report.rows.iter().enumerate().all(|(i, r)| r.band == i + 1 && r.how == "description" && r.aligned.is_none()));
    assert!(report.reference_crs.starts_with("EPSG:32637"), "{}", report.reference_crs);
    let table = report.table();
    assert!(table.contains("elevation <- covariates.tif band 1 'elevation' (by description)"), "{table}");
}

#[test]
fn a_landsat_chip_names_every_missing_covariate() {
    let l8 = shared_data().join("rasters/l8.tif");
    let report = binding::check(&soc_pixel(), &[l8], &BindOptions::default()).unwrap();
    assert_eq!(report.missing.len(), 11, "{report:?}");
    assert_eq!(report.available.len(), 12);
    assert_eq!(report.available[11].description, "NDVI");
}

#[test]
fn a_landsat_chip_bound_in_order_is_flagged() {
    let l8 = shared_data().join("rasters/l8.tif");
    let options = BindOptions { by_order: true, ..Default::default() };
    let report = binding::check(&soc_pixel(), &[l8], &options).unwrap();
    assert!(report.missing.is_empty());
    assert!(report.rows.iter().all(|r| r.how == "order"));
    let w = report.warnings.join("\n");
    assert!(
        w.contains("the rasters have 12 bands for the model's 11 covariates, bound in order: 1 band(s) unused (l8.tif band 12)"),
        "{w}"
    );
    // Reflectances of about 0.02 against an elevation of 174 +- 18 m.
    assert!(w.contains("covariate 'elevation' comes from l8.tif band 1, whose values"), "{w}");
    let far = report.warnings.iter().filter(|w| w.contains("far from the training data")).count();
    assert!(far >= 8, "{w}");
}

#[test]
fn another_crs_and_a_band_described_as_another_covariate_are_flagged() {
    let dir = tempdir();
    let (covs, _) = landscape(dir.path(), 64);
    // The same stack in geographic coordinates, with bands 2 and 3 swapped.
    let swapped = dir.path().join("swapped.tif");
    let bands = ["-b", "1", "-b", "3", "-b", "2", "-b", "4", "-b", "5", "-b", "6", "-b", "7", "-b", "8", "-b", "9", "-b", "10", "-b", "11"];
    let vrt = dir.path().join("swapped.vrt");
    let mut a = vec!["-q", "-of", "VRT"];
    a.extend(bands);
    a.extend([covs.to_str().unwrap(), vrt.to_str().unwrap()]);
    assert!(std::process::Command::new("gdal_translate").args(&a).status().unwrap().success());
    let warp = ["-q", "-t_srs", "EPSG:4326", vrt.to_str().unwrap(), swapped.to_str().unwrap()];
    assert!(std::process::Command::new("gdalwarp").args(warp).status().unwrap().success());
    let in_order = BindOptions { by_order: true, ..Default::default() };
    let report = binding::check(&soc_pixel(), &[swapped.clone(), covs.clone()], &in_order).unwrap();
    let w = report.warnings.join("\n");
    assert!(w.contains("covariate 'slope' is bound in order to swapped.tif band 2, whose description is 'tpi'"), "{w}");
    assert!(w.contains("11 band(s) unused (covariates.tif band 1"), "{w}");
    assert!(report.rows.iter().all(|r| r.file.ends_with("swapped.tif")));
    // By description onto the UTM grid: bound right, reprojected, and said so.
    let onto_utm = BindOptions { reference: Some(covs), ..Default::default() };
    let report = binding::check(&soc_pixel(), &[swapped], &onto_utm).unwrap();
    assert_eq!(report.rows[1].band, 3);
    assert!(report.rows.iter().all(|r| r.aligned.as_deref() == Some("bilinear")));
    let w = report.warnings.join("\n");
    assert!(w.contains("swapped.tif is in EPSG:4326 (WGS 84), the map's grid (covariates.tif) in EPSG:32637"), "{w}");
}
