//! Every bad input gets a clear message and leaves nothing behind: no output file, no
//! temporary file.

mod common;

use std::path::Path;

use common::*;
use terrapix::bundle::{Bundle, Layout};

struct Job {
    dir: tempfile::TempDir,
    covs: std::path::PathBuf,
    model: std::path::PathBuf,
}

fn job() -> Job {
    let dir = tempdir();
    let (covs, _) = landscape(dir.path(), 64);
    let m = manifest(vec![input("x", Layout::window(3), &["elevation", "ndvi_2021"])], 1);
    let model = dir.path().join("m.onnx");
    write_linear_bundle(&model, &m, 0.0);
    Job { dir, covs, model }
}

impl Job {
    fn p(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }
    fn model(&self) -> &str {
        self.model.to_str().unwrap()
    }
    fn covs(&self) -> &str {
        self.covs.to_str().unwrap()
    }
    /// Runs predict expecting failure; checks nothing was left at the output or beside it.
    fn predict_fails(&self, extra: &[&str], covs: &[&str]) -> String {
        let out = self.p("map.tif");
        let mut args = vec!["predict", "--model", self.model(), "-o", &out, "-q", "--covariates"];
        args.extend_from_slice(covs);
        args.extend_from_slice(extra);
        let err = terrapix_err(&args);
        assert_nothing_left(self.dir.path(), "map");
        err
    }
}

fn assert_nothing_left(dir: &Path, stem: &str) {
    let left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(stem))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn missing_covariate_file() {
    let j = job();
    let err = j.predict_fails(&[], &[&j.p("nope.tif")]);
    assert!(err.contains("covariate raster") && err.contains("nope.tif") && err.contains("does not exist"), "{err}");
}

#[test]
fn unreadable_covariate_file() {
    let j = job();
    std::fs::write(j.p("garbage.tif"), "this is not a raster").unwrap();
    let err = j.predict_fails(&[], &[&j.p("garbage.tif")]);
    assert!(err.contains("cannot open covariate raster") && err.contains("garbage.tif"), "{err}");
}

#[test]
fn missing_band_name_lists_what_is_there() {
    let j = job();
    let run = |a: &[&str]| std::process::Command::new("gdal_translate").args(a).output().unwrap();
    assert!(run(&["-q", "-b", "1", "-b", "2", j.covs(), &j.p("two.tif")]).status.success());
    let err = j.predict_fails(&[], &[&j.p("two.tif")]);
    assert!(err.contains("covariate 'ndvi_2021' was not found"), "{err}");
    assert!(err.contains("'elevation'") && err.contains("'slope'") && err.contains("--bind"), "{err}");
}

#[test]
fn wrong_band_count_when_binding_by_order() {
    let j = job();
    let run = |a: &[&str]| std::process::Command::new("gdal_translate").args(a).output().unwrap();
    assert!(run(&["-q", "-b", "1", j.covs(), &j.p("one.tif")]).status.success());
    let err = j.predict_fails(&["--by-order"], &[&j.p("one.tif")]);
    assert!(err.contains("the model reads 2 covariates, the rasters have 1 bands in all"), "{err}");
}

#[test]
fn bad_binding_syntax_and_band_out_of_range() {
    let j = job();
    let err = j.predict_fails(&["--bind", "elevation"], &[j.covs()]);
    assert!(err.contains("bad band binding 'elevation'"), "{err}");
    let err = j.predict_fails(&["--bind", "elevation=covariates.tif:99"], &[j.covs()]);
    assert!(err.contains("has bands 1 to 11; '99' is not one of them"), "{err}");
}

#[test]
fn explicit_binding_overrides_descriptions() {
    let j = job();
    let out = j.p("bound.tif");
    // Bind both covariates to band 1: a different (but valid) map.
    terrapix_ok(&["predict", "--model", j.model(), "--covariates", j.covs(), "-o", &out, "-q", "--bind", "ndvi_2021=covariates.tif:1"]);
    assert!(Path::new(&out).exists());
}

#[test]
fn non_overlapping_extents() {
    let j = job();
    let run = |a: &[&str]| std::process::Command::new("gdal_translate").args(a).output().unwrap();
    assert!(run(&["-q", "-b", "8", "-a_ullr", "0", "1000", "1000", "0", j.covs(), &j.p("far.tif")]).status.success());
    assert!(run(&["-q", "-b", "1", j.covs(), &j.p("near.tif")]).status.success());
    let err = j.predict_fails(&["--bind", "elevation=near.tif:1", "--bind", "ndvi_2021=far.tif:1"], &[&j.p("near.tif"), &j.p("far.tif")]);
    assert!(err.contains("does not overlap the reference grid"), "{err}");
}

#[test]
fn corrupt_onnx_and_plain_onnx_without_manifest() {
    let j = job();
    std::fs::write(j.p("corrupt.onnx"), b"\x08\x07garbage that is not protobuf\xff\xff").unwrap();
    let err = terrapix_err(&["predict", "--model", &j.p("corrupt.onnx"), "--covariates", j.covs(), "-o", &j.p("map.tif")]);
    assert!(err.contains("not a valid ONNX model") && err.contains("corrupt.onnx"), "{err}");
    let mut plain = Bundle::read(&j.model).unwrap();
    plain.model.metadata_props.clear();
    std::fs::write(j.p("plain.onnx"), plain.to_bytes()).unwrap();
    let err = terrapix_err(&["predict", "--model", &j.p("plain.onnx"), "--covariates", j.covs(), "-o", &j.p("map.tif")]);
    assert!(err.contains("has no terrapix manifest") && err.contains("terrapix bundle"), "{err}");
    assert_nothing_left(j.dir.path(), "map");
}

#[test]
fn manifest_graph_mismatch_names_both_sides() {
    let j = job();
    // A manifest that says 3 channels on a graph that takes 2.
    let mut b = Bundle::read(&j.model).unwrap();
    let mut m = b.manifest.clone().unwrap();
    m.inputs[0].channels.push(terrapix::bundle::Channel::new("tpi"));
    b.set_manifest(m).unwrap();
    b.write(Path::new(&j.p("tampered.onnx"))).unwrap();
    let err = terrapix_err(&["predict", "--model", &j.p("tampered.onnx"), "--covariates", j.covs(), "-o", &j.p("map.tif")]);
    assert!(err.contains("manifest and graph disagree"), "{err}");
    assert!(err.contains("[N, 3, 3, 3]") && err.contains("x float32[N, 2, 3, 3]"), "{err}");
    // The same mistake made with `terrapix bundle` is refused before a file is written.
    let plain = j.p("plain.onnx");
    let mut p = Bundle::read(&j.model).unwrap();
    p.model.metadata_props.clear();
    std::fs::write(&plain, p.to_bytes()).unwrap();
    let out = j.p("wrapped.onnx");
    let err = terrapix_err(&["bundle", &plain, "-o", &out, "--target", "soc", "--input", "x:window3:elevation,slope,tpi"]);
    assert!(err.contains("manifest and graph disagree") && err.contains("wrapped.onnx"), "{err}");
    assert_nothing_left(j.dir.path(), "wrapped");
    let err = terrapix_err(&["bundle", &plain, "-o", &out, "--target", "soc", "--input", "features:window3:elevation,slope"]);
    assert!(
        err.contains("graph input 'x float32[N, 2, 3, 3]' is not described by the manifest (manifest inputs: [\"features\"])"),
        "{err}"
    );
}

#[test]
fn all_nodata_input() {
    let j = job();
    // An all-nodata copy made with GDAL's own tools.
    let blank = j.p("blank.tif");
    let ok = std::process::Command::new("gdal_translate")
        .args(["-q", "-scale", "0", "1", "-9999", "-9999", "-a_nodata", "-9999", j.covs(), &blank])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let err = j.predict_fails(&[], &[&blank]);
    assert!(err.contains("every output pixel would be nodata"), "{err}");
}

#[test]
fn unwritable_output() {
    let j = job();
    let err = terrapix_err(&["predict", "--model", j.model(), "--covariates", j.covs(), "-o", &j.p("no/such/dir/map.tif")]);
    assert!(err.contains("cannot write output") && err.contains("does not exist"), "{err}");
    std::fs::write(j.p("afile"), "x").unwrap();
    let err = terrapix_err(&["predict", "--model", j.model(), "--covariates", j.covs(), "-o", &j.p("afile/map.tif")]);
    assert!(err.contains("cannot write output"), "{err}");
}

#[test]
fn onnx_runtime_missing() {
    let j = job();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_terrapix"))
        .args(["info", j.model()])
        .env("TERRAPIX_ORT_LIB", "/nonexistent/libonnxruntime.so")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ONNX Runtime was not found") && text.contains("TERRAPIX_ORT_LIB=/nonexistent"), "{text}");
    let err = std::process::Command::new(env!("CARGO_BIN_EXE_terrapix"))
        .args(["predict", "--model", j.model(), "--covariates", j.covs(), "-o", &j.p("map.tif")])
        .env("TERRAPIX_ORT_LIB", "/nonexistent/libonnxruntime.so")
        .output()
        .unwrap();
    assert!(!err.status.success() && String::from_utf8_lossy(&err.stderr).contains("pip install onnxruntime"), "{err:?}");
}

#[test]
fn cancellation_leaves_no_output() {
    let j = job();
    let model = terrapix::engine::Model::open(&j.model, &Default::default()).unwrap();
    let out = j.dir.path().join("map.tif");
    let options = terrapix::predict::PredictOptions {
        raster: terrapix::predict::RasterOptions { tile: 16, ..Default::default() },
        ..Default::default()
    };
    let mut calls = 0;
    let mut progress = |done: usize, _total: usize| {
        calls += 1;
        done < 3
    };
    let err = terrapix::predict::predict_raster(&model, std::slice::from_ref(&j.covs), &out, &options, &mut progress).unwrap_err();
    assert!(matches!(err, terrapix::predict::PredictError::Cancelled), "{err}");
    assert_eq!(calls, 3, "stops at the first refusal");
    assert_nothing_left(j.dir.path(), "map");
}
