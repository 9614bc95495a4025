//! `terrapix predict` against the real GDAL and ONNX Runtime: every tensor layout checked
//! pixel by pixel against an independent computation, tiling invariance, nodata, alignment of
//! rasters on other grids and CRS, and the output file's metadata.

mod common;

use common::*;
use terrapix::bundle::{GapFill, Layout};

const NODATA: f32 = -9999.0;

fn check_layout(name: &str, inputs: Vec<terrapix::bundle::InputSpec>, outputs: usize, extra: &[&str]) {
    let dir = tempdir();
    let (covs, land) = landscape(dir.path(), 200);
    let mut m = manifest(inputs, outputs);
    m.inputs[0].channels[0].mean = 170.0;
    m.inputs[0].channels[0].std = 25.0;
    let model = dir.path().join(format!("{name}.onnx"));
    let w = write_linear_bundle(&model, &m, 0.5);
    let map = dir.path().join(format!("{name}.tif"));
    predict_ok(&model, &[&covs], &map, extra);
    let expected = expected_linear(&m, &w, 0.5, &land);
    for (k, plane) in expected.iter().enumerate() {
        assert_map_eq(&map, k + 1, plane, NODATA, 1e-5);
    }
}

#[test]
fn per_pixel_model_matches_independent_computation() {
    check_layout("pixel", vec![input("x", Layout::Pixel, &["elevation", "slope", "tpi", "ndvi_2020"])], 2, &[]);
}

#[test]
fn window_model_reads_its_halo_across_tiles_and_edges() {
    // Small tiles so that many windows straddle tile borders.
    check_layout("window", vec![input("x", Layout::window(5), &["elevation", "tpi", "ndvi_2018"])], 1, &["--tile", "48"]);
}

#[test]
fn window_model_on_a_coarser_output_cell() {
    // A 7 x 7 window centred on each 3 x 3 cell (200 is no multiple of 3: the last cell is
    // partial and its window reads replicated edges), tiles that split cells' windows.
    check_layout("coarse", vec![input("x", Layout::Window { size: 7, cell: 3 }, &["elevation", "tpi"])], 1, &["--tile", "40"]);
}

#[test]
fn even_window_with_a_series_on_a_coarser_cell() {
    // SoilNet's shape: an even window per even cell, a series read at each cell's centre pixel.
    let years: Vec<String> = (2016..=2023).map(|y| format!("ndvi_{y}")).collect();
    let names: Vec<&str> = years.iter().map(String::as_str).collect();
    check_layout(
        "fusion",
        vec![
            input("img", Layout::Window { size: 16, cell: 8 }, &["elevation", "slope"]),
            input("clim", Layout::Series { steps: 8, features: 1 }, &names),
        ],
        1,
        &[],
    );
}

#[test]
fn patch_model_with_coordinate_channels() {
    check_layout(
        "patch",
        vec![input("x", Layout::Patch { size: 8 }, &["elevation", "ndvi_2017", "@patch_x", "@patch_y"])],
        1,
        &["--tile", "7"],
    );
}

#[test]
fn series_model() {
    let years: Vec<String> = (2016..=2023).map(|y| format!("ndvi_{y}")).collect();
    let names: Vec<&str> = years.iter().map(String::as_str).collect();
    check_layout("series", vec![input("x", Layout::Series { steps: 8, features: 1 }, &names)], 1, &[]);
}

#[test]
fn cnn_lstm_mix_of_window_and_series() {
    // As in seed 004: a window of static covariates plus a time series, two graph inputs.
    let mut series = Vec::new();
    for y in 2016..=2023 {
        series.push(format!("ndvi_{y}"));
        series.push("slope".to_string());
    }
    let series: Vec<&str> = series.iter().map(String::as_str).collect();
    check_layout(
        "cnnlstm",
        vec![
            input("x_cnn", Layout::window(3), &["elevation", "slope", "tpi"]),
            input("x_lstm", Layout::Series { steps: 8, features: 2 }, &series),
        ],
        1,
        &["--tile", "64", "--threads", "2"],
    );
}

#[test]
fn tiles_and_workers_do_not_change_the_map() {
    let dir = tempdir();
    let (covs, _) = landscape(dir.path(), 160);
    let m = manifest(vec![input("x", Layout::window(3), &["elevation", "ndvi_2019"])], 1);
    let model = dir.path().join("m.onnx");
    write_linear_bundle(&model, &m, 0.0);
    let mut maps = Vec::new();
    for (tile, threads) in [("0", "1"), ("16", "2"), ("50", "3")] {
        let map = dir.path().join(format!("m{tile}.tif"));
        predict_ok(&model, &[&covs], &map, &["--tile", tile, "--threads", threads]);
        maps.push(read_band(&map, 1).0);
    }
    assert_eq!(maps[0], maps[1]);
    assert_eq!(maps[0], maps[2]);
}

#[test]
fn lake_pixels_and_windows_touching_them_are_nodata() {
    let dir = tempdir();
    let (covs, land) = landscape(dir.path(), 200);
    let m = manifest(vec![input("x", Layout::window(3), &["elevation", "ndvi_2016"])], 1);
    let model = dir.path().join("m.onnx");
    let w = write_linear_bundle(&model, &m, 0.0);
    let map = dir.path().join("m.tif");
    predict_ok(&model, &[&covs], &map, &[]);
    let expected = expected_linear(&m, &w, 0.0, &land);
    let lake = land.soc.iter().filter(|v| v.is_nan()).count();
    let nodata = expected[0].iter().filter(|v| v.is_nan()).count();
    assert!(nodata > lake, "the window grows the lake's nodata footprint ({nodata} > {lake})");
    assert_map_eq(&map, 1, &expected[0], NODATA, 1e-5);
}

#[test]
fn gap_filling_fills_isolated_gaps_only() {
    let dir = tempdir();
    let (covs, land) = landscape(dir.path(), 120);
    // Punch a single-pixel hole into the elevation band of a copy of the covariates.
    let holed = dir.path().join("holed.tif");
    std::fs::copy(&covs, &holed).unwrap();
    {
        let ds =
            gdal::Dataset::open_ex(&holed, gdal::DatasetOptions { open_flags: gdal::GdalOpenFlags::GDAL_OF_UPDATE, ..Default::default() })
                .unwrap();
        let mut band = ds.rasterband(1).unwrap();
        let mut buf = gdal::raster::Buffer::new((1, 1), vec![NODATA]);
        band.write((30, 40), (1, 1), &mut buf).unwrap();
    }
    let mut m = manifest(vec![input("x", Layout::Pixel, &["elevation", "slope"])], 1);
    let model = dir.path().join("strict.onnx");
    write_linear_bundle(&model, &m, 0.0);
    m.nodata.fill_gaps = Some(GapFill { radius: 1, min_valid: 5 });
    let filled_model = dir.path().join("filled.onnx");
    let w = write_linear_bundle(&filled_model, &m, 0.0);
    let (strict, filled) = (dir.path().join("strict.tif"), dir.path().join("filled.tif"));
    for (model, map) in [(&model, &strict), (&filled_model, &filled)] {
        predict_ok(model, &[&holed], map, &[]);
    }
    let i = 40 * 120 + 30;
    assert_eq!(read_band(&strict, 1).0[i], NODATA, "a hole is nodata without gap filling");
    let got = read_band(&filled, 1).0[i];
    let e = |x: usize, y: usize| land.bands[0][y * 120 + x];
    let neighbours: Vec<f32> =
        [(29, 39), (30, 39), (31, 39), (29, 40), (31, 40), (29, 41), (30, 41), (31, 41)].iter().map(|&(x, y)| e(x, y)).collect();
    let mean = neighbours.iter().sum::<f32>() / 8.0;
    let want = mean * w[0] + land.bands[1][i] * w[1];
    assert!((got - want).abs() < 1e-3, "filled hole: got {got}, expected {want}");
    // Elsewhere gap filling changes nothing.
    let (a, b) = (read_band(&strict, 1).0, read_band(&filled, 1).0);
    assert_eq!(a.iter().zip(&b).filter(|(x, y)| x != y).count(), 1);
}

#[test]
fn covariates_split_across_rasters_and_crs_are_aligned_on_the_fly() {
    let dir = tempdir();
    let (covs, _) = landscape(dir.path(), 200);
    let d = dir.path();
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    // Terrain stays on the grid; the vegetation index is reprojected to geographic coordinates
    // by the real gdalwarp, so terrapix must warp it back on the fly.
    let run = |args: &[&str]| {
        let out = std::process::Command::new(args[0]).args(&args[1..]).output().expect("GDAL tool");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&["gdal_translate", "-q", "-b", "1", "-b", "2", &p("covariates.tif"), &p("terrain.tif")]);
    run(&["gdal_translate", "-q", "-b", "8", &p("covariates.tif"), &p("ndvi_utm.tif")]);
    run(&["gdalwarp", "-q", "-t_srs", "EPSG:4326", "-r", "bilinear", &p("ndvi_utm.tif"), &p("ndvi_wgs84.tif")]);
    let m = manifest(vec![input("x", Layout::Pixel, &["elevation", "slope", "ndvi_2020"])], 1);
    let model = d.join("m.onnx");
    write_linear_bundle(&model, &m, 0.0);
    let (one, split) = (d.join("one.tif"), d.join("split.tif"));
    predict_ok(&model, &[&covs], &one, &[]);
    let out = predict_ok(&model, &[&d.join("terrain.tif"), &d.join("ndvi_wgs84.tif")], &split, &[]);
    assert!(out.contains("200 x 200"), "{out}");
    let (a, _, _) = read_band(&one, 1);
    let (b, _, _) = read_band(&split, 1);
    // Two resamplings blur the index a little: compare the interior, most pixels close.
    let mut close = 0;
    let mut n = 0;
    for y in 10..190 {
        for x in 10..190 {
            let (u, v) = (a[y * 200 + x], b[y * 200 + x]);
            if u != NODATA && v != NODATA {
                n += 1;
                if (u - v).abs() < 0.02 * u.abs().max(1.0) {
                    close += 1;
                }
            }
        }
    }
    assert!(n > 30000 && close as f64 > 0.9 * n as f64, "{close} of {n} pixels agree");
}

#[test]
fn output_is_a_tiled_compressed_geotiff_with_band_metadata_or_a_cog() {
    let dir = tempdir();
    let (covs, _) = landscape(dir.path(), 300);
    let m = manifest(vec![input("x", Layout::Pixel, &["elevation", "tpi"])], 2);
    let model = dir.path().join("m.onnx");
    write_linear_bundle(&model, &m, 0.0);
    for (name, cog) in [("plain.tif", false), ("cog.tif", true)] {
        let map = dir.path().join(name);
        predict_ok(&model, &[&covs], &map, if cog { &["--cog"] } else { &[] });
        let info = std::process::Command::new("gdalinfo").arg(&map).output().unwrap();
        let info = String::from_utf8_lossy(&info.stdout);
        assert!(info.contains("Description = soc b0") && info.contains("Description = soc b1"), "{info}");
        assert!(info.contains("NoData Value=-9999") && info.contains("Unit Type: %"), "{info}");
        assert!(info.contains("COMPRESSION=DEFLATE"), "{info}");
        assert!(info.contains("Block=256x256"), "{info}");
        assert!(info.contains("EPSG\",32637") || info.contains("UTM zone 37N"), "{info}");
        if cog {
            assert!(info.contains("LAYOUT=COG"), "{info}");
        }
        let leftovers: Vec<_> =
            std::fs::read_dir(dir.path()).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().contains(".tmp-")).collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }
}

#[test]
fn an_extent_maps_a_crop_with_halos_from_beyond_it_and_outputs_can_be_chosen() {
    let dir = tempdir();
    let (covs, _) = landscape(dir.path(), 96);
    let m = manifest(vec![input("x", Layout::window(5), &["elevation", "slope"])], 2);
    let model = dir.path().join("m.onnx");
    write_linear_bundle(&model, &m, 0.5);
    let full = dir.path().join("full.tif");
    predict_ok(&model, &[&covs], &full, &[]);
    let ds = gdal::Dataset::open(&covs).unwrap();
    let g = ds.geo_transform().unwrap();
    // Columns 10..40, rows 20..50, the corners given 0.3 pixel inside: snapped outwards.
    let (x0, x1) = (g[0] + 10.3 * g[1], g[0] + 39.7 * g[1]);
    let (y1, y0) = (g[3] + 20.3 * g[5], g[3] + 49.7 * g[5]);
    let crop = dir.path().join("crop.tif");
    let extent = format!("{x0},{y0},{x1},{y1}");
    let names: Vec<String> = m.outputs.iter().map(|o| o.name.clone()).collect();
    predict_ok(&model, &[&covs], &crop, &["--extent", &extent, "--outputs", &names[1]]);
    let (got, w, h) = read_band(&crop, 1);
    assert_eq!((w, h), (30, 30));
    assert_eq!(gdal::Dataset::open(&crop).unwrap().raster_count(), 1);
    let (all, fw, _) = read_band(&full, 2);
    for r in 0..30 {
        for c in 0..30 {
            assert_eq!(got[r * 30 + c], all[(r + 20) * fw + c + 10], "row {r} col {c}");
        }
    }
    let err = terrapix_err(&["predict", "--model", s(&model), "--covariates", s(&covs), "-o", s(&crop), "--outputs", "median"]);
    assert!(err.contains("no output 'median'"), "{err}");
    let err = terrapix_err(&["predict", "--model", s(&model), "--covariates", s(&covs), "-o", s(&crop), "--extent", "0,0,1,1"]);
    assert!(err.contains("does not overlap"), "{err}");
}
