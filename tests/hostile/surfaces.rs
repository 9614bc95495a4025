//! The surfaces added after the first hardening: the cube verbs, training, validation, STAC
//! items, tree bundles. Each case asserts the exit status and message, that every file that
//! was there is byte-identical afterwards, and that no temporary is left.

use super::*;
use terrapix::bundle::trees::{Node, Tree, TreeModel};
use terrapix::bundle::{Bundle, Layout};
use terrapix::cube::synthetic::{generate, SynthOptions};
use terrapix::cube::write::{CubeWriter, Variable};

/// The landscape fixture plus a small synthetic cube, a cube model, a samples folder, a VRT
/// over the covariates and a STAC item.
pub(crate) fn surfaces() -> Fixture {
    let f = Fixture::new();
    let d = f.dir.path();
    generate(&SynthOptions { width: 8, height: 6, days: 800, ..Default::default() }).write(&d.join("cube")).unwrap();
    // A pixel model of the cube's soil moisture (cube verbs bind it by name).
    let sm = manifest(vec![input("x", Layout::Pixel, &["sm"])], 1);
    write_linear_bundle(&d.join("sm.onnx"), &sm, 0.0);
    f.ok(&[
        "sample",
        "samples.csv",
        "--covariates",
        "covariates.tif",
        "--target",
        "soc",
        "--crs",
        "EPSG:32637",
        "-o",
        "s",
        "--input",
        "x:pixel:elevation,slope",
    ]);
    let out = closing_inherited_files(&mut Command::new("gdal_translate"))
        .args(["-q", "-of", "VRT", "covariates.tif", "wrap.vrt"])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(out.status.success());
    f.ok(&["info", "m.onnx", "--stac", "item.json"]);
    f
}

/// `NETCDF:"cube/NAME.nc":VAR` in the fixture's folder.
fn nc(name: &str, var: &str) -> String {
    format!("NETCDF:\"cube/{name}.nc\":{var}")
}

/// A bundle of one tree that is a chain of `depth` splits (a degenerate tree).
fn chain_tree_bundle(path: &Path, depth: usize) {
    let mut nodes = Vec::with_capacity(2 * depth + 1);
    for k in 0..depth {
        let i = 2 * k as u32;
        nodes.push(Node::Split { feature: 0, threshold: k as f32, left: i + 1, right: i + 2 });
        nodes.push(Node::Leaf { value: k as f64, dist: vec![] });
    }
    nodes.push(Node::Leaf { value: depth as f64, dist: vec![] });
    let model = TreeModel { trees: vec![Tree { nodes }], scale: 1.0, base: 0.0 };
    let mut m = manifest(vec![input("x", Layout::Pixel, &["elevation", "slope"])], 1);
    let (graph, outputs) = terrapix::bundle::trees::ensemble_graph(&[model], &m.inputs, None);
    m.outputs = outputs;
    let mut b = Bundle { model: graph, manifest: None };
    b.set_manifest(m).unwrap();
    b.write(path).unwrap();
}

#[test]
fn outputs_never_replace_an_input_named_in_any_syntax() {
    let f = surfaces();
    let d = f.dir.path();
    std::fs::write(d.join("train.toml"), "[model]\nkind = \"random_forest\"\ntrees = 5\n").unwrap();
    let zip = closing_inherited_files(&mut Command::new("zip")).args(["-q", "stack.zip", "covariates.tif"]).current_dir(d).status();
    let have_zip = zip.is_ok_and(|s| s.success());
    let src = nc("source", "sm");
    let cube_sm = format!("sm={src}");
    let mut cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["cdf-match", "--source", &src, "--reference", "cube/reference.nc", "-o", "cube/source.nc"], "reads 'cube/source.nc'"),
        (
            vec![
                "cdf-match",
                "--source",
                "cube/source.nc",
                "--reference",
                "cube/reference.nc",
                "-o",
                "cube/m.nc",
                "--save-mapping",
                "cube/reference.nc",
            ],
            "it is the reference",
        ),
        (vec!["predict-cube", "--model", "sm.onnx", "--cube", &cube_sm, "-o", "cube/source.nc"], "reads 'cube/source.nc'"),
        (vec!["cube-export", &src, "--to", "cube"], "reads 'cube/source.nc'"),
        (vec!["cube-export", &src, "--to", "."], "reads 'cube/source.nc'"),
        (
            vec!["fill-gaps", "--target", &src, "--cube", "p=cube/precipitation.nc", "--model-out", "g.onnx", "-o", "cube/source.nc"],
            "reads 'cube/source.nc'",
        ),
        (
            vec!["bias-correct", "--reference", "cube/reference.nc", "--source", "cube/source.nc", "--models", "cube", "-o", "b.nc"],
            "it is the reference",
        ),
        (vec!["info", "item.json", "--stac", "item.json"], "it is the model 'item.json'"),
        (vec!["info", "item.json", "--stac", "m.onnx"], "refusing to write 'm.onnx'"),
        (vec!["train", "--samples", "s", "--config", "train.toml", "--report", "s/samples.json"], "reads 's/samples.json'"),
        (vec!["train", "--samples", "s", "--config", "train.toml", "--figures", "."], "it is the samples folder"),
        (vec!["predict", "--model", "m.onnx", "--covariates", "wrap.vrt", "-q", "-o", "covariates.tif"], "reads"),
        (vec!["predict", "--model", "item.json", "--covariates", "covariates.tif", "-q", "-o", "m.onnx"], "refusing to write 'm.onnx'"),
        (vec!["vrt", "--model", "m.onnx", "--covariates", "GTIFF_DIR:1:covariates.tif", "-o", "covariates.tif"], "reads"),
        (vec!["quicklook", "wrap.vrt", "-o", "covariates.tif"], "reads"),
        (
            vec![
                "validate",
                "--model",
                "m.onnx",
                "samples.csv",
                "--target",
                "soc",
                "--crs",
                "EPSG:32637",
                "--covariates",
                "wrap.vrt",
                "--figures",
                ".",
            ],
            "it is the points",
        ),
    ];
    if have_zip {
        cases.push((
            vec!["predict", "--model", "m.onnx", "--covariates", "/vsizip/stack.zip/covariates.tif", "-q", "-o", "stack.zip"],
            "reads",
        ));
    }
    for (args, needle) in &cases {
        f.refuses(args, 1, needle);
    }
}

#[test]
fn hostile_bundles_end_in_errors_never_in_aborts() {
    let f = Fixture::new();
    let d = f.dir.path();
    // A fixed batch of 60,000 windows of 101 x 101 x 2: 4.9 GB of inputs per call.
    let big = manifest(vec![input("x", Layout::window(101), &["elevation", "slope"])], 1);
    let len = big.inputs[0].layout.sample_len(2);
    let mut b = Bundle { model: linear_model(&big, &vec![0.0; len], 0.0, Some(60_000)), manifest: None };
    b.set_manifest(big).unwrap();
    b.write(&d.join("batch.onnx")).unwrap();
    f.refuses(&["predict", "--model", "batch.onnx", "--covariates", "covariates.tif", "-q", "-o", "new.tif"], 1, "fixed batch of 60000");
    // A tree 100,000 levels deep (ONNX Runtime builds trees recursively), and one of 5,000.
    chain_tree_bundle(&d.join("deep.onnx"), 100_000);
    chain_tree_bundle(&d.join("deepish.onnx"), 5_000);
    f.refuses(&["predict", "--model", "deep.onnx", "--covariates", "covariates.tif", "-q", "-o", "new.tif"], 1, "deeper than 10000 levels");
    f.ok(&["predict", "--model", "deepish.onnx", "--covariates", "covariates.tif", "-q", "-o", "deepish.tif"]);
    // The same through GDAL: jobs naming them, read by gdal_translate (no signal, a message).
    for (model, needle) in [("batch.onnx", "fixed batch of 60000"), ("deep.onnx", "deeper than 10000 levels")] {
        let job = d.join(model.replace(".onnx", ".tpx"));
        std::fs::write(&job, serde_json::json!({"terrapix_prediction": 1, "model": model, "covariates": ["covariates.tif"]}).to_string())
            .unwrap();
        gdal_refuses(d, "gdal_translate", &[s(&job), "gdal_out.tif"], needle, true);
    }
    // A window of 1025 x 1025 pixels (8 MB a sample): predicted in batches that fit.
    let wide = manifest(vec![input("x", Layout::window(1025), &["elevation", "slope"])], 1);
    write_linear_bundle(&d.join("wide.onnx"), &wide, 0.0);
    f.ok(&["predict", "--model", "wide.onnx", "--covariates", "covariates.tif", "-q", "-o", "wide.tif"]);
}

#[test]
fn no_panic_reaches_the_user() {
    let f = surfaces();
    let d = f.dir.path();
    // Standard output on a full device.
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let out = closing_inherited_files(&mut Command::new(env!("CARGO_BIN_EXE_terrapix")))
        .args(["info", "--json", "m.onnx"])
        .current_dir(d)
        .stdout(full)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot write to standard output: No space left on device") && !err.contains("panicked"), "{err}");
    // Thread counts beyond reason are clamped for rayon's pool too.
    let out = f.ok(&["cdf-match", "--source", "cube/source.nc", "--reference", "cube/reference.nc", "-o", "t.nc", "--threads", "100000"]);
    assert!(out.contains("is more than this machine can use"), "{out}");
    std::fs::write(d.join("hidden-3.toml"), "[model]\nkind = \"mlp\"\nhidden = [-3]\n").unwrap();
    std::fs::write(d.join("hidden2e9.toml"), "[model]\nkind = \"mlp\"\nhidden = [2000000000]\n").unwrap();
    std::fs::write(d.join("epochs0.toml"), "[fit]\nepochs = 0\n").unwrap();
    std::fs::write(d.join("count0.toml"), "[model]\nkind = \"soilnet\"\n[pretrain]\ncount = 0\n").unwrap();
    std::fs::write(d.join("sn.toml"), "[model]\nkind = \"soilnet\"\n[pretrain]\ncount = 100\n").unwrap();
    let cube_sm = format!("sm={}", nc("source", "sm"));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["predict-cube", "--model", "sm.onnx", "--cube", &cube_sm, "--clip", "1,0", "-o", "p.nc"], "--clip '1,0' is not LOW,HIGH"),
        (
            vec!["cdf-match", "--source", "cube/source.nc", "--reference", "cube/reference.nc", "-o", "r.nc", "--range", "0,nan"],
            "is not LOW,HIGH",
        ),
        (vec!["synth-cube", "z", "--width", "0"], "2 to 10000 pixels a side"),
        (vec!["synth-cube", "z", "--width", "10000", "--height", "10000"], "GiB in memory"),
        (
            vec![
                "cdf-match",
                "--source",
                "cube/source.nc",
                "--reference",
                "cube/reference.nc",
                "-o",
                "r.nc",
                "--method",
                "empirical",
                "--points",
                "1000000000",
            ],
            "2 to 10000 quantile points",
        ),
        (vec!["train", "--samples", "s", "--config", "hidden-3.toml", "--report", "r.json"], "model.hidden = -3 is out of range"),
        (vec!["train", "--samples", "s", "--config", "hidden2e9.toml", "--report", "r.json"], "model.hidden = 2000000000 is out of range"),
        (vec!["train", "--samples", "s", "--config", "epochs0.toml", "--report", "r.json"], "fit.epochs = 0 is out of range"),
        (vec!["sample-data", "z", "--size", "0"], "--size 0 must be 16 to 8192"),
        (
            vec!["pretrain", "--covariates", "covariates.tif", "--input", "img:window5:elevation", "--config", "count0.toml", "-o", "w.ot"],
            "pretrain.count = 0",
        ),
        (
            vec![
                "pretrain",
                "--covariates",
                "covariates.tif",
                "--input",
                "img:window5:elevation",
                "--config",
                "sn.toml",
                "-o",
                "covariates.tif",
            ],
            "it is the covariate raster",
        ),
        (
            vec!["pretrain", "--covariates", "covariates.tif", "--input", "img:window5:elevation", "--config", "sn.toml", "-o", "sn.toml"],
            "it is the config",
        ),
    ];
    for (args, needle) in &cases {
        f.refuses(args, 1, needle);
    }
    // A time axis that spans 300,000 years.
    let far = d.join("far.nc");
    let script = format!(
        "import netCDF4, numpy as np\nd = netCDF4.Dataset({:?}, 'w')\nfor n, k in (('time', 3), ('y', 2), ('x', 2)): d.createDimension(n, k)\n\
         t = d.createVariable('time', 'f8', ('time',)); t.units = 'days since 1900-01-01'; t[:] = [0, 1, 1.1e8]\n\
         v = d.createVariable('sm', 'f4', ('time', 'y', 'x')); v[:] = 0.2\nd.close()\n",
        far.display().to_string()
    );
    let out = closing_inherited_files(&mut Command::new(venv_python())).args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    f.refuses(&["cube-info", "far.nc"], 1, "which is no date terrapix can read");
}

#[test]
fn refusal_reads_only_what_it_needs() {
    let f = surfaces();
    let d = f.dir.path();
    std::fs::write(d.join("train.toml"), "[model]\nkind = \"random_forest\"\ntrees = 5\n").unwrap();
    // Endless targets are refused from what they are, before anything is read.
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["bundle", "m.onnx", "-o", "/dev/zero", "--target", "soc", "--input", "x:window3:elevation,slope"], "is a device"),
        (vec!["train", "--samples", "s", "--config", "train.toml", "-o", "/dev/zero"], "is a device"),
        (
            vec![
                "validate",
                "--model",
                "m.onnx",
                "samples.csv",
                "--target",
                "soc",
                "--crs",
                "EPSG:32637",
                "--covariates",
                "covariates.tif",
                "-o",
                "/dev/zero",
            ],
            "is a device",
        ),
        (vec!["info", "m.onnx", "--stac", "/dev/zero"], "is a device"),
    ];
    for (args, needle) in &cases {
        let started = Instant::now();
        f.refuses(args, 1, needle);
        assert!(started.elapsed() < Duration::from_secs(20), "{args:?} took {:?}", started.elapsed());
    }
    // A STAC item naming a 3 GB file: refused from its size (an ONNX protobuf is at most 2 GiB).
    let huge = std::fs::File::create(d.join("huge.onnx")).unwrap();
    huge.set_len(3 << 30).unwrap();
    drop(huge);
    std::fs::write(d.join("huge.json"), r#"{"type": "Feature", "assets": {"model": {"href": "huge.onnx", "roles": ["mlm:model"]}}}"#)
        .unwrap();
    let started = Instant::now();
    let before = snapshot(d);
    let out = f.run(&["predict", "--model", "huge.json", "--covariates", "covariates.tif", "-q", "-o", "new.tif"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("an ONNX model is at most 2 GiB"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    assert_untouched(d, &before, &[], "a 3 GB bundle");
    // A 3 GB file at the output of `ensemble` is not an ONNX model: not replaced, not read.
    f.refuses(&["ensemble", "m.onnx", "m2.onnx", "-o", "huge.onnx"], 1, "is not an ONNX model");
}

#[test]
fn a_full_disk_leaves_no_multi_file_output() {
    let f = surfaces();
    let Some(disk) = FullDisk::mount(512) else {
        eprintln!("mount not allowed here: the staged folders are tested by the signals test");
        return;
    };
    let before = snapshot(&disk.0);
    // (the netCDF library words a full disk its own way: only the GeoTIFFs' error is checked)
    for (args, what, needle) in [
        (vec!["cube-export", "cube/source.nc", "--to", s(&disk.0.join("tifs")), "-q"], "cube-export", "No space left on device"),
        (vec!["synth-cube", s(&disk.0.join("synth"))], "synth-cube", "terrapix: error:"),
    ] {
        let out = f.run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(err.contains(needle) && !err.contains("panicked"), "{what}: {err}");
        assert_untouched(&disk.0, &before, &[], what);
    }
}

/// Waits until `dir` holds a temporary (the run is writing) or `limit` passes.
fn wait_for_temporary(dir: &Path, limit: Duration) {
    let started = Instant::now();
    while started.elapsed() < limit {
        let busy = walk(dir).iter().any(|p| p.to_string_lossy().contains(".tmp-"));
        if busy {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            out.push(e.path());
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            }
        }
    }
    out
}

#[test]
fn sigterm_stops_every_verb_within_a_second() {
    let f = surfaces();
    let d = f.dir.path();
    std::fs::write(d.join("slow.toml"), "[model]\nkind = \"mlp\"\n[fit]\nepochs = 5000\npatience = 5000\n").unwrap();
    generate(&SynthOptions { width: 128, height: 96, days: 1461, ..Default::default() }).write(&d.join("big")).unwrap();
    let cube_sm = "sm=big/source.nc".to_string();
    let runs: Vec<(Vec<&str>, &str)> = vec![
        (vec!["cdf-match", "--source", "big/source.nc", "--reference", "big/reference.nc", "-o", "m.nc", "-q"], "cdf-match"),
        (vec!["predict-cube", "--model", "sm.onnx", "--cube", &cube_sm, "-o", "p.nc", "-q"], "predict-cube"),
        (vec!["cube-export", "big/source.nc", "--to", "tifs", "-q"], "cube-export"),
        (vec!["train", "--samples", "s", "--config", "slow.toml", "--report", "r.json"], "train"),
        (vec!["synth-cube", "synth", "--width", "200", "--height", "200"], "synth-cube"),
        (
            vec![
                "fill-gaps",
                "--target",
                "big/source.nc",
                "--cube",
                "p=big/precipitation.nc",
                "--model-out",
                "g.onnx",
                "-o",
                "filled.nc",
                "-q",
            ],
            "fill-gaps",
        ),
    ];
    for (args, what) in runs {
        let before = snapshot(d);
        let mut child = closing_inherited_files(&mut Command::new(env!("CARGO_BIN_EXE_terrapix")))
            .args(&args)
            .current_dir(d)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for_temporary(d, Duration::from_millis(1500));
        let sent = Instant::now();
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let status = child.wait().unwrap();
        let took = sent.elapsed();
        eprintln!("{what}: stopped {took:?} after SIGTERM");
        // The rule is one second; the margin is for a loaded machine's scheduling, not the verb.
        assert!(took < Duration::from_millis(1500), "{what} took {took:?} to stop");
        assert_eq!(status.code(), Some(143), "{what}");
        assert_untouched(d, &before, &[], what);
    }
}

/// A cube of `dates` dates on a 2 x 2 grid, every value `value` (NaN: nodata).
fn tiny_cube(path: &Path, start: &str, dates: usize, value: f32) {
    let grid = terrapix::raster::Grid {
        width: 2,
        height: 2,
        geotransform: [10.0, 0.25, 0.0, 50.0, 0.0, -0.25],
        wkt: gdal::spatial_ref::SpatialRef::from_epsg(4326).unwrap().to_wkt().unwrap(),
    };
    let start = terrapix::cube::time::parse_date(start).unwrap();
    let axis: Vec<_> = (0..dates).map(|d| start + chrono::Duration::days(d as i64)).collect();
    let mut w = CubeWriter::create(path, &grid, &axis, &[Variable::float("sm", "soil moisture", "m3 m-3")], &[]).unwrap();
    w.write_strip(0, 0..2, &vec![value; dates * 4]).unwrap();
    w.finish().unwrap();
}

#[test]
fn empty_or_silently_wrong_results_are_errors() {
    let f = surfaces();
    let d = f.dir.path();
    tiny_cube(&d.join("empty.nc"), "2016-04-01", 30, f32::NAN);
    tiny_cube(&d.join("early.nc"), "1990-01-01", 30, 0.2);
    tiny_cube(&d.join("late.nc"), "2016-04-01", 30, 0.2);
    let script = format!(
        "import netCDF4, numpy as np\nd = netCDF4.Dataset({:?}, 'w')\nfor n, k in (('time', 40000), ('y', 2), ('x', 2)): d.createDimension(n, k)\n\
         t = d.createVariable('time', 'f8', ('time',)); t.units = 'days since 1900-01-01'; t[:] = np.arange(40000)\n\
         v = d.createVariable('sm', 'f4', ('time', 'y', 'x')); v[:] = 0.2\nd.close()\n",
        d.join("long.nc").display().to_string()
    );
    let out = closing_inherited_files(&mut Command::new(venv_python())).args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(d.join("text.csv"), "id,x,y,soc\n1,500100,3999900,n.d.\n2,500200,3999800,high\n").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["cdf-match", "--source", "empty.nc", "--reference", "late.nc", "-o", "m.nc"], "no value of the source could be matched"),
        (vec!["cdf-match", "--source", "early.nc", "--reference", "late.nc", "-o", "m.nc"], "share 0 dates"),
        (vec!["cube-scores", "early.nc", "late.nc"], "have no date in common"),
        (vec!["cube-scores", "empty.nc", "late.nc"], "nothing to score"),
        (
            vec!["predict-cube", "--model", "sm.onnx", "--cube", "sm=empty.nc", "-o", "p.nc"],
            "no cell of any of the 30 dates could be predicted",
        ),
        (vec!["cube-info", "long.nc"], "more than the 32768 bands GDAL reads"),
        (
            vec!["validate", "--model", "m.onnx", "text.csv", "--target", "soc", "--crs", "EPSG:32637", "--covariates", "covariates.tif"],
            "the target is not a number",
        ),
    ];
    for (args, needle) in &cases {
        f.refuses(args, 1, needle);
    }
}

#[test]
fn gdal_hosts_get_words_for_duplicate_keys_and_unknown_arguments() {
    let f = Fixture::new();
    let d = f.dir.path();
    std::fs::write(
        d.join("dup.tpx"),
        r#"{"terrapix_prediction": 1, "model": "m.onnx", "model": "m2.onnx", "covariates": ["covariates.tif"]}"#,
    )
    .unwrap();
    gdal_refuses(d, "gdalinfo", &["dup.tpx"], "the key 'model' appears twice", false);
    let mut pixel = manifest(vec![input("x", Layout::Pixel, &["elevation", "slope"])], 1);
    pixel.name = "pixel".into();
    write_linear_bundle(&d.join("pixel.onnx"), &pixel, 0.0);
    let src: String = (1..=2)
        .map(|b| format!("<SimpleSource><SourceFilename relativeToVRT=\"1\">covariates.tif</SourceFilename><SourceBand>{b}</SourceBand></SimpleSource>"))
        .collect();
    for (name, function, args, needle) in [
        ("typo.vrt", "terrapix_predict", "model=\"pixel.onnx\" nodata=\"none\" bnad=\"2\"", "unknown argument 'bnad'"),
        ("lsavi.vrt", "terrapix_ndvi", "L=\"0.5\"", "unknown argument 'L'"),
    ] {
        std::fs::write(
            d.join(name),
            format!(
                "<VRTDataset rasterXSize=\"48\" rasterYSize=\"48\"><VRTRasterBand dataType=\"Float32\" band=\"1\" subClass=\"VRTDerivedRasterBand\">\
                 <PixelFunctionType>{function}</PixelFunctionType><PixelFunctionArguments {args}/>{src}</VRTRasterBand></VRTDataset>"
            ),
        )
        .unwrap();
        gdal_refuses(d, "gdalinfo", &["-checksum", name], needle, true);
    }
}

#[test]
fn onnx_runtime_keeps_off_the_hosts_stderr() {
    let f = Fixture::new();
    let d = f.dir.path();
    // A graph that fails inside ONNX Runtime at run time: a Reshape to a size the batch lacks.
    let m = manifest(vec![input("x", Layout::Pixel, &["elevation", "slope"])], 1);
    let mut model = linear_model(&m, &[0.5, 0.5], 0.0, None);
    let graph = model.graph.as_mut().unwrap();
    graph.initializer.push(terrapix::bundle::onnx::TensorProto {
        name: Some("shape".into()),
        data_type: Some(terrapix::bundle::onnx::tensor_proto::DataType::Int64 as i32),
        dims: vec![2],
        int64_data: vec![7, -1],
        ..Default::default()
    });
    let add = graph.node.last_mut().unwrap();
    add.output = vec!["y0".into()];
    graph.node.push(terrapix::bundle::onnx::NodeProto {
        op_type: Some("Reshape".into()),
        input: vec!["y0".into(), "shape".into()],
        output: vec!["y1".into()],
        ..Default::default()
    });
    graph.node.push(terrapix::bundle::onnx::NodeProto {
        op_type: Some("Reshape".into()),
        input: vec!["y1".into(), "shape_back".into()],
        output: vec!["y".into()],
        ..Default::default()
    });
    graph.initializer.push(terrapix::bundle::onnx::TensorProto {
        name: Some("shape_back".into()),
        data_type: Some(terrapix::bundle::onnx::tensor_proto::DataType::Int64 as i32),
        dims: vec![2],
        int64_data: vec![-1, 1],
        ..Default::default()
    });
    let mut b = Bundle { model, manifest: None };
    b.set_manifest(m).unwrap();
    b.write(&d.join("fails.onnx")).unwrap();
    let before = snapshot(d);
    let out = f.run(&["predict", "--model", "fails.onnx", "--covariates", "covariates.tif", "-q", "-o", "new.tif"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("terrapix: error:"), "{err}");
    // ONNX Runtime's own log lines look like "2026-12-04 ... [E:onnxruntime:, sequential_executor.cc:...]".
    assert!(!err.contains("[E:onnxruntime") && !err.contains("[W:onnxruntime"), "ONNX Runtime's own log reached stderr: {err}");
    assert_untouched(d, &before, &[], "a graph that fails at run time");
}
