//! `terrapix sample`: points through OGR (CSV, GeoPackage, lon/lat), tensors identical to what
//! prediction builds, and every point that gives no sample reported with its reason.

mod common;

use std::path::Path;

use common::*;
use terrapix::bundle::Layout;

fn npy(path: &Path) -> (Vec<usize>, Vec<f32>) {
    let a: ndarray::ArrayD<f32> = ndarray_npy::read_npy(path).expect("read .npy");
    (a.shape().to_vec(), a.iter().copied().collect())
}

#[test]
fn sampled_tensors_are_what_prediction_sees() {
    let dir = tempdir();
    let d = dir.path();
    let (covs, land) = landscape(d, 120);
    // A lake pixel, a point outside, a point without a target, and the landscape's samples.
    let lake = land.soc.iter().position(|v| v.is_nan()).unwrap();
    let (lx, ly) = land.centre(lake % 120, lake / 120);
    let mut csv = std::fs::read_to_string(d.join("samples.csv")).unwrap();
    csv += &format!("900,{lx},{ly},4.0\n901,0.5,0.5,4.0\n902,{},{},\n", lx + 300.0, ly - 300.0);
    std::fs::write(d.join("points.csv"), csv).unwrap();

    let inputs = ["--input", "x_cnn:window3:elevation,ndvi_2018", "--input", "x_lstm:series8x1:ndvi_[2016-2023]"];
    let out = d.join("samples");
    let points_csv = d.join("points.csv");
    let mut args = vec!["sample", s(&points_csv), "--covariates", s(&covs), "--target", "soc", "--crs", "EPSG:32637", "-o", s(&out)];
    args.extend_from_slice(&inputs);
    let report = terrapix_ok(&args);
    assert!(report.contains("skipped 1: outside the covariate rasters"), "{report}");
    assert!(report.contains("skipped 1: no target value"), "{report}");
    assert!(report.contains("covariates missing (nodata)"), "the lake point: {report}");
    let skipped = std::fs::read_to_string(out.join("skipped.csv")).unwrap();
    assert!(skipped.contains("901,0.5,0.5,outside") && skipped.contains("902,"), "{skipped}");

    let (shape_cnn, cnn) = npy(&out.join("x_cnn.npy"));
    let (shape_lstm, lstm) = npy(&out.join("x_lstm.npy"));
    let n = shape_cnn[0];
    assert_eq!((shape_cnn, shape_lstm), (vec![n, 2, 3, 3], vec![n, 8, 1]));
    assert_eq!(n, 50, "the landscape's 50 samples are kept");

    // A linear model over the same inputs: applied to the sampled tensors it must give what
    // `terrapix predict` writes at each sample's pixel.
    let m = manifest(
        vec![input("x_cnn", Layout::window(3), &["elevation", "ndvi_2018"]), {
            let years: Vec<String> = (2016..=2023).map(|y| format!("ndvi_{y}")).collect();
            let names: Vec<&str> = years.iter().map(String::as_str).collect();
            input("x_lstm", Layout::Series { steps: 8, features: 1 }, &names)
        }],
        1,
    );
    let model = d.join("m.onnx");
    let w = write_linear_bundle(&model, &m, 0.5);
    let map = d.join("map.tif");
    predict_ok(&model, &[&covs], &map, &[]);
    let (pred, _, _) = read_band(&map, 1);
    let points = std::fs::read_to_string(out.join("points.csv")).unwrap();
    for (i, line) in points.lines().skip(1).enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        let (x, y): (f64, f64) = (f[1].parse().unwrap(), f[2].parse().unwrap());
        let (col, row) = (((x - 455_000.0) / 30.0) as usize, ((5_845_000.0 - y) / 30.0) as usize);
        let features: Vec<f32> = cnn[i * 18..(i + 1) * 18].iter().chain(&lstm[i * 8..(i + 1) * 8]).copied().collect();
        let from_samples = features.iter().zip(&w).map(|(a, b)| a * b).sum::<f32>() + 0.5;
        let from_map = pred[row * 120 + col];
        assert!((from_samples - from_map).abs() < 1e-4, "sample {i}: {from_samples} vs map {from_map}");
        // And the window's centre is the elevation under the point.
        assert_eq!(cnn[i * 18 + 4], land.bands[0][row * 120 + col]);
    }
}

#[test]
fn geopackage_and_lon_lat_points_give_the_same_samples() {
    let dir = tempdir();
    let d = dir.path();
    let (covs, _) = landscape(d, 100);
    let utm = d.join("samples.csv");
    let gpkg = d.join("points.gpkg");
    let run = std::process::Command::new("ogr2ogr")
        .args([
            "-f",
            "GPKG",
            s(&gpkg),
            s(&utm),
            "-oo",
            "X_POSSIBLE_NAMES=x",
            "-oo",
            "Y_POSSIBLE_NAMES=y",
            "-a_srs",
            "EPSG:32637",
            "-nln",
            "points",
        ])
        .output()
        .unwrap();
    assert!(run.status.success(), "ogr2ogr: {}", String::from_utf8_lossy(&run.stderr));
    let lonlat = d.join("lonlat.csv");
    let run = std::process::Command::new("ogr2ogr")
        .args(["-f", "CSV", s(&lonlat), s(&gpkg), "-t_srs", "EPSG:4326", "-lco", "GEOMETRY=AS_XY", "-lco", "SEPARATOR=COMMA"])
        .output()
        .unwrap();
    assert!(run.status.success(), "ogr2ogr: {}", String::from_utf8_lossy(&run.stderr));
    // ogr2ogr names the columns X, Y: tell terrapix they are longitude and latitude in WGS 84.
    let outs: Vec<_> = ["utm", "gpkg", "lonlat"].iter().map(|n| d.join(n)).collect();
    let common = ["--covariates", s(&covs), "--target", "soc", "--input", "x:window3:elevation,tpi"];
    let mut a = vec!["sample", s(&utm), "--crs", "EPSG:32637", "-o", s(&outs[0])];
    a.extend_from_slice(&common);
    terrapix_ok(&a);
    let mut b = vec!["sample", s(&gpkg), "-o", s(&outs[1])];
    b.extend_from_slice(&common);
    terrapix_ok(&b);
    let mut c = vec!["sample", s(&lonlat), "--x", "X", "--y", "Y", "--crs", "EPSG:4326", "-o", s(&outs[2])];
    c.extend_from_slice(&common);
    terrapix_ok(&c);
    let tensors: Vec<_> = outs.iter().map(|o| npy(&o.join("x.npy"))).collect();
    assert_eq!(tensors[0].0, vec![50, 2, 3, 3]);
    assert_eq!(tensors[0], tensors[1], "GeoPackage");
    assert_eq!(tensors[0], tensors[2], "lon/lat reprojected back to the grid");
}

#[test]
fn lucas_points_on_a_real_landsat_chip() {
    // Real data: ~17,000 LUCAS points (lon/lat, UTF-8 BOM in some copies) on a 103 x 103 Landsat
    // chip in Web Mercator cut around one of them.
    let dir = tempdir();
    let out = dir.path().join("lucas");
    let lucas = shared_data().join("lucas/LUCAS_2015_topsoil.csv");
    let l8 = shared_data().join("rasters/l8.tif");
    let report =
        terrapix_ok(&["sample", s(&lucas), "--covariates", s(&l8), "--target", "OC", "--input", "x:patch5:SR_B[1-7],NDVI", "-o", s(&out)]);
    assert!(report.starts_with("1 of 17381 points sampled"), "{report}");
    assert!(report.contains("skipped 17380: outside the covariate rasters"), "{report}");
    let points = std::fs::read_to_string(out.join("points.csv")).unwrap();
    assert!(points.contains("40463116,"), "the chip's own LUCAS point, by Point_ID: {points}");
    let (shape, values) = npy(&out.join("x.npy"));
    assert_eq!(shape, vec![1, 8, 5, 5]);
    assert!(values.iter().all(|v| v.is_finite()));
}

#[test]
fn point_errors_are_clear() {
    let dir = tempdir();
    let d = dir.path();
    let (covs, _) = landscape(d, 40);
    let pts = d.join("samples.csv");
    let (o, none) = (d.join("o"), d.join("none.csv"));
    let base = ["--covariates", s(&covs), "--input", "x:pixel:elevation", "-o", s(&o)];
    let mut a = vec!["sample", s(&pts), "--target", "carbon", "--crs", "EPSG:32637"];
    a.extend_from_slice(&base);
    let err = terrapix_err(&a);
    assert!(err.contains("has no column 'carbon' (columns: id, x, y, soc)"), "{err}");
    let mut b = vec!["sample", s(&pts), "--target", "soc"];
    b.extend_from_slice(&base);
    let err = terrapix_err(&b);
    assert!(err.contains("the points have no CRS: give it with --crs"), "{err}");
    let mut c = vec!["sample", s(&none), "--target", "soc"];
    c.extend_from_slice(&base);
    assert!(terrapix_err(&c).contains("no such file"));
    // Points entirely elsewhere: reported, and an error since nothing was sampled.
    let mut e = vec!["sample", s(&pts), "--target", "soc", "--crs", "EPSG:3857"];
    e.extend_from_slice(&base);
    let err = terrapix_err(&e);
    assert!(err.contains("no point could be sampled"), "{err}");
}
