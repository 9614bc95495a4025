//! Cubes (seed 003): the time axis through the real GDAL (CF NetCDF written by terrapix and read
//! back by GDAL's classic netCDF driver, GeoTIFF stacks with band dates), and CDF matching on the
//! seeded synthetic cube, scored against its truth.

mod common;

use std::path::{Path, PathBuf};

use common::cube::*;
use common::s;
use gdal::{Dataset, Metadata};
use terrapix::cube::cdf::{CdfOptions, Method};
use terrapix::cube::matching::{cdf_apply, cdf_match};
use terrapix::cube::read::{read_dates_file, CubeSource};
use terrapix::cube::synthetic::{generate, SynthOptions, Written};
use terrapix::cube::time::parse_date;
use terrapix::cube::{netcdf_lock, CubeError};

#[test]
fn written_cubes_are_cf_netcdf_that_gdal_reads_with_their_dates() {
    let dir = tempfile::tempdir().unwrap();
    let w = cube(dir.path());
    // GDAL's classic driver: one band per date, the CF time axis in the metadata (read under the
    // lock terrapix takes for every NetCDF use: the netCDF and HDF5 libraries are not thread-safe).
    let lock = netcdf_lock();
    let ds = Dataset::open(&w.reference).unwrap();
    assert_eq!(ds.raster_size(), (24, 20));
    assert_eq!(ds.raster_count(), 1005, "the reference starts on 2016-04-01");
    assert_eq!(ds.metadata_item("time#units", "").as_deref(), Some("days since 1970-01-01 00:00:00"));
    assert_eq!(ds.metadata_item("time#calendar", "").as_deref(), Some("standard"));
    assert_eq!(ds.metadata_item("NC_GLOBAL#Conventions", "").as_deref(), Some("CF-1.8"));
    let band = ds.rasterband(1).unwrap();
    assert_eq!(band.unit(), "m3 m-3");
    assert_eq!(band.no_data_value(), Some(-9999.0));
    // 2016-04-01 is day 16892 since 1970-01-01.
    assert_eq!(band.metadata_item("NETCDF_DIM_time", "").as_deref(), Some("16892"));
    assert!(ds.spatial_ref().unwrap().is_geographic());
    assert_eq!(ds.geo_transform().unwrap(), [10.0, 0.25, 0.0, 55.0, 0.0, -0.25]);
    drop(ds);
    drop(lock);
    // And terrapix reads the dates back.
    let c = CubeSource::open(&w.reference, None).unwrap();
    assert_eq!(c.dates.first().copied(), parse_date("2016-04-01"));
    assert_eq!(c.dates.last().copied(), parse_date("2018-12-31"));
    assert_eq!((c.name.as_str(), c.unit.as_str()), ("sm", "m3 m-3"));
    // The values round-trip, gaps as NaN.
    let truth = generate(&SynthOptions::default());
    let (values, _) = read_all(&w.source);
    assert_eq!(values.len(), truth.source.len());
    assert!(values.iter().zip(&truth.source).all(|(a, b)| a == b || (a.is_nan() && b.is_nan())));
}

#[test]
fn geotiff_stacks_take_band_dates_or_a_dates_file_and_never_guess() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stack.tif");
    let driver = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
    let mut ds = driver.create_with_band_type::<f32, _>(&path, 4, 3, 3).unwrap();
    ds.set_geo_transform(&[0.0, 1.0, 0.0, 3.0, 0.0, -1.0]).unwrap();
    for (b, d) in [(1, "2020-03-01"), (2, "2020-03-02"), (3, "2020-03-05")] {
        ds.rasterband(b).unwrap().set_description(d).unwrap();
    }
    drop(ds);
    let c = CubeSource::open(&path, None).unwrap();
    assert_eq!(c.dates, ["2020-03-01", "2020-03-02", "2020-03-05"].map(|d| parse_date(d).unwrap()));
    // Dates from band metadata take precedence over descriptions.
    let ds =
        Dataset::open_ex(&path, gdal::DatasetOptions { open_flags: gdal::GdalOpenFlags::GDAL_OF_UPDATE, ..Default::default() }).unwrap();
    ds.rasterband(3).unwrap().set_metadata_item("DATE", "2020-03-04", "").unwrap();
    ds.rasterband(1).unwrap().set_description("red").unwrap();
    drop(ds);
    let err = CubeSource::open(&path, None).err().unwrap().to_string();
    assert!(err.contains("band 1 carries no date") && err.contains("give the dates"), "{err}");
    // A dates file: one per band, or a clear refusal.
    let dates = dir.path().join("dates.txt");
    std::fs::write(&dates, "# acquisition dates\n2020-03-01\n2020-03-02\n\n2020-03-04\n").unwrap();
    let c = CubeSource::open(&path, Some(&read_dates_file(&dates).unwrap())).unwrap();
    assert_eq!(c.dates[2], parse_date("2020-03-04").unwrap());
    std::fs::write(&dates, "2020-03-01\n2020-03-02\n").unwrap();
    let err = CubeSource::open(&path, Some(&read_dates_file(&dates).unwrap())).err().unwrap().to_string();
    assert!(err.contains("2 dates were given for its 3 bands"), "{err}");
    std::fs::write(&dates, "2020-03-01\nMarch 2\n").unwrap();
    assert!(read_dates_file(&dates).unwrap_err().to_string().contains("line 2: 'March 2' is not a date"));
}

#[test]
fn hdf5_cubes_read_through_gdal_with_their_dates_given() {
    // A NetCDF-4 file is HDF5: GDAL's HDF5 driver reads it as a plain HDF5 cube, with neither CF
    // dates nor georeferencing, like many HDF5 products.
    let dir = tempfile::tempdir().unwrap();
    let w = cube(dir.path());
    let (nc, netcdf) = read_all(&w.source);
    let hdf5 = PathBuf::from(format!("HDF5:\"{}\"://sm", w.source.display()));
    let err = CubeSource::open(&hdf5, None).err().unwrap().to_string();
    assert!(err.contains("carries no date") && err.contains("give the dates"), "{err}");
    let dates = dir.path().join("dates.txt");
    std::fs::write(&dates, netcdf.dates.iter().map(|d| format!("{d}\n")).collect::<String>()).unwrap();
    let c = CubeSource::open(&hdf5, Some(&read_dates_file(&dates).unwrap())).unwrap();
    assert_eq!((c.len(), c.grid.width, c.grid.height), (netcdf.len(), netcdf.grid.width, netcdf.grid.height));
    let mut values = Vec::new();
    c.read_strip(&(0..c.len()).collect::<Vec<_>>(), 0..c.grid.height, &mut values).unwrap();
    assert_eq!(values.len(), nc.len());
    let same = values.iter().zip(&nc).filter(|(a, b)| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())).count();
    assert_eq!(same, nc.len(), "the HDF5 reading differs from the NetCDF one");
}

#[test]
fn cdf_matching_brings_the_source_closer_to_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let w = cube(dir.path());
    let before = score(&w.source, &w.truth);
    for (name, method) in [("beta", Method::Beta), ("empirical", Method::Empirical { points: 51 })] {
        let out = dir.path().join(format!("{name}.nc"));
        let r = matched(&w, &out, &CdfOptions { method, ..Default::default() }, None);
        assert_eq!((r.fitted, r.overlap, r.steps), (480, 1005, 1461), "{name}");
        assert!(r.reference_lacks.starts_with("2015-01-01"), "{}", r.reference_lacks);
        let after = score(&out, &w.truth);
        eprintln!("{name}: source {before:?}\nmatched {after:?}");
        assert_eq!(after.n, before.n, "every valid source value is mapped, no gap filled");
        assert!(after.rmse < 0.75 * before.rmse, "{name}: RMSE {} -> {}", before.rmse, after.rmse);
        assert!(after.bias.abs() < 0.1 * before.bias.abs(), "{name}: bias {} -> {}", before.bias, after.bias);
        assert!(after.ubrmse < before.ubrmse, "{name}: ubRMSE {} -> {}", before.ubrmse, after.ubrmse);
        assert!(after.r > before.r, "{name}: R {} -> {}", before.r, after.r);
        // Every mapped value within the physical range.
        assert!(read_all(&out).0.iter().filter(|v| v.is_finite()).all(|v| (0.0..=1.0).contains(v)));
    }
}

#[test]
fn a_stored_mapping_reapplies_to_the_same_values() {
    let dir = tempfile::tempdir().unwrap();
    let w = cube(dir.path());
    let (out, again, mapping) = (dir.path().join("m.nc"), dir.path().join("again.nc"), dir.path().join("mapping.tif"));
    matched(&w, &out, &CdfOptions::default(), Some(&mapping));
    let ds = Dataset::open(&mapping).unwrap();
    assert_eq!(ds.raster_count(), 30, "15 source and 15 reference knots");
    assert_eq!(ds.rasterband(1).unwrap().description().unwrap(), "source min");
    assert!(ds.metadata_item("TERRAPIX_CDF_MAPPING", "").unwrap().contains("\"kind\":\"beta\""));
    drop(ds);
    let r = cdf_apply(&mapping, &input(&w.source), &again, &mut |_, _| true).unwrap();
    assert_eq!(r.fitted, 480);
    // The same gaps, and the same values up to the knots' float32 storage.
    let (a, b) = (read_all(&out).0, read_all(&again).0);
    assert!(a.iter().zip(&b).all(|(x, y)| x.is_nan() == y.is_nan()));
    let worst = a.iter().zip(&b).filter(|(x, _)| x.is_finite()).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
    assert!(worst < 1e-4, "reapplied values differ by up to {worst}");
    // Not a mapping: said so.
    let err = cdf_apply(&w.statics, &input(&w.source), &again, &mut |_, _| true).unwrap_err().to_string();
    assert!(err.contains("not a mapping written by terrapix cdf-match"), "{err}");
}

#[test]
fn zones_share_one_mapping_and_too_few_pairs_leave_nodata() {
    let dir = tempfile::tempdir().unwrap();
    let w = cube(dir.path());
    // Two zones: the western and eastern halves.
    let zones = dir.path().join("zones.tif");
    let driver = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
    let src = Dataset::open(&w.statics).unwrap();
    let mut z = driver.create_with_band_type::<i32, _>(&zones, 24, 20, 1).unwrap();
    z.set_geo_transform(&src.geo_transform().unwrap()).unwrap();
    z.set_spatial_ref(&src.spatial_ref().unwrap()).unwrap();
    let ids: Vec<i32> = (0..480).map(|p| if p % 24 < 12 { 1 } else { 2 }).collect();
    z.rasterband(1).unwrap().write((0, 0), (24, 20), &mut gdal::raster::Buffer::new((24, 20), ids)).unwrap();
    drop(z);
    let (out, mapping) = (dir.path().join("z.nc"), dir.path().join("zmap.tif"));
    let r =
        cdf_match(&input(&w.source), &input(&w.reference), Some(&zones), &out, Some(&mapping), &CdfOptions::default(), &mut |_, _| true)
            .unwrap();
    assert_eq!(r.fitted, 480);
    let knots = Dataset::open(&mapping).unwrap().rasterband(8).unwrap().read_as::<f32>((0, 0), (24, 20), (24, 20), None).unwrap();
    let v = knots.data();
    assert!(v[..12].iter().all(|x| *x == v[0]) && v[12..24].iter().all(|x| *x == v[12]) && v[0] != v[12]);
    // A minimum count above the overlap: refused before anything is written.
    let out2 = dir.path().join("never.nc");
    let err = matched_err(&w, &out2, &CdfOptions { min_count: 5000, ..Default::default() });
    assert!(err.contains("share 1005 dates, fewer than the 5000"), "{err}");
    assert!(!out2.exists());
}

fn matched_err(w: &Written, out: &Path, options: &CdfOptions) -> String {
    cdf_match(&input(&w.source), &input(&w.reference), None, out, None, options, &mut |_, _| true).unwrap_err().to_string()
}

#[test]
fn bad_inputs_and_cancel_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let w = cube(dir.path());
    let out = dir.path().join("out.nc");
    // Cancelled: no output, no temporary.
    let r = cdf_match(&input(&w.source), &input(&w.reference), None, &out, None, &CdfOptions::default(), &mut |_, _| false);
    assert!(matches!(r, Err(CubeError::Cancelled)));
    assert!(!out.exists() && leftovers(dir.path()).is_empty());
    // A file of another kind at the output is not replaced.
    std::fs::write(&out, "my notes").unwrap();
    let err = matched_err(&w, &out, &CdfOptions::default());
    assert!(err.contains("is not a NetCDF file"), "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "my notes");
    // Another grid: refused with the remedy.
    let other = dir.path().join("other");
    let small = generate(&SynthOptions { width: 10, ..Default::default() }).write(&other).unwrap();
    let err = cdf_match(
        &input(&w.source),
        &input(&small.reference),
        None,
        &dir.path().join("x.nc"),
        None,
        &CdfOptions::default(),
        &mut |_, _| true,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("not on one grid") && err.contains("gdalwarp"), "{err}");
    // Through the command line: the output may not be an input; a bad range is named.
    let o = terrapix(&["cdf-match", "--source", s(&w.source), "--reference", s(&w.reference), "-o", s(&w.source)]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("refusing to write"), "{o:?}");
    let o = terrapix(&["cdf-match", "--source", s(&w.source), "--reference", s(&w.reference), "-o", s(&out), "--range", "1"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--range '1' is not LOW,HIGH"), "{o:?}");
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn the_command_line_matches_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let o = terrapix(&["synth-cube", s(dir.path()), "--width", "8", "--height", "6", "--days", "800"]);
    assert!(o.status.success(), "{o:?}");
    let (src, reference, out) = (dir.path().join("source.nc"), dir.path().join("reference.nc"), dir.path().join("m.nc"));
    let o = terrapix(&["cdf-match", "--source", s(&src), "--reference", s(&reference), "-o", s(&out), "--method", "empirical"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{o:?}");
    assert!(text.contains("overlap: 344 common dates, 2016-04-01 .. 2017-03-10"), "{text}");
    assert!(text.contains("fitted 48 of 48 pixels"), "{text}");
    // Quiet: what was written, nothing else.
    let o = terrapix(&["cdf-match", "--source", s(&src), "--reference", s(&reference), "-o", s(&out), "--method", "empirical", "-q"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), format!("wrote {}", out.display()), "{o:?}");
    let o = terrapix(&["cube-scores", s(&out), s(&dir.path().join("truth.nc"))]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("RMSE"), "{o:?}");
    let o = terrapix(&["cube-info", s(&reference)]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("344 dates, 2016-04-01 .. 2017-03-10"), "{o:?}");
    // A GeoTIFF per date, the date in its band.
    let tifs = dir.path().join("tifs");
    let o = terrapix(&["cube-export", s(&out), "--to", s(&tifs), "-q"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("wrote 800 GeoTIFFs"), "{o:?}");
    let ds = Dataset::open(tifs.join("sm_2016-02-29.tif")).unwrap();
    let band = ds.rasterband(1).unwrap();
    assert_eq!(band.metadata_item("DATE", "").as_deref(), Some("2016-02-29"));
    assert_eq!(band.unit(), "m3 m-3");
}
