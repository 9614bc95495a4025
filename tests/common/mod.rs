//! Shared helpers for the integration tests: real ONNX models with known weights, the sample
//! landscape, GDAL reads, and an independent (plain loops) computation of what a linear model
//! must predict, to check terrapix's tiling, halos, layouts and nodata handling against.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gdal::Dataset;
use terrapix::bundle::graph::value_info;
use terrapix::bundle::onnx::{tensor_proto::DataType, AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto};
use terrapix::bundle::{
    Bundle, Channel, InputSpec, Layout, Manifest, NodataPolicy, OutputBand, OutputKind, Provenance, Target, TargetTransform, SCHEMA_VERSION,
};

pub mod cube;

/// The repository's root (the tests belong to crates/cli, which names them).
pub fn repo() -> PathBuf {
    let cli = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    cli.join("../..").canonicalize().expect("the repository root")
}

/// A path as the &str a command line takes.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub fn shared_data() -> PathBuf {
    repo().join("../shared/data")
}

pub fn terrapix(args: &[&str]) -> Output {
    closing_inherited_files(&mut Command::new(env!("CARGO_BIN_EXE_terrapix"))).args(args).output().expect("run terrapix")
}

/// Makes `cmd`'s child close every file it would inherit but its standard streams. Tests write
/// cubes in this process while children run: the HDF5 library opens files without
/// close-on-exec and locks them, so a child holding an inherited descriptor keeps the lock and
/// this process's next open of that file fails. (Python's subprocess, as hosts use it, closes
/// them by default; Rust's Command does not.)
pub fn closing_inherited_files(cmd: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: close_range is async-signal-safe; it runs in the child between fork and exec,
    // after the standard streams are in place.
    unsafe {
        cmd.pre_exec(|| {
            libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
            Ok(())
        })
    }
}

/// Runs terrapix and asserts success; returns stdout.
pub fn terrapix_ok(args: &[&str]) -> String {
    let out = terrapix(args);
    assert!(out.status.success(), "terrapix {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `terrapix predict -q` of `model` over `covariates` into `map`, plus `extra` flags; asserts
/// success and returns stdout.
pub fn predict_ok(model: &Path, covariates: &[&Path], map: &Path, extra: &[&str]) -> String {
    let mut args = vec!["predict", "--model", model.to_str().unwrap(), "-o", map.to_str().unwrap(), "-q", "--covariates"];
    args.extend(covariates.iter().map(|p| p.to_str().unwrap()));
    args.extend_from_slice(extra);
    terrapix_ok(&args)
}

/// Runs terrapix and asserts failure; returns stderr.
pub fn terrapix_err(args: &[&str]) -> String {
    let out = terrapix(args);
    assert!(!out.status.success(), "terrapix {args:?} should have failed; stdout:\n{}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("terrapix-test").tempdir().expect("temp dir")
}

/// The sample landscape written into `dir`; returns the covariates path and the arrays.
pub fn landscape(dir: &Path, size: usize) -> (PathBuf, terrapix::landscape::Landscape) {
    let land = terrapix::landscape::generate(size, 42);
    let w = land.write(dir, 50, 42).expect("write landscape");
    (w.covariates, land)
}

pub fn read_band(path: &Path, band: usize) -> (Vec<f32>, usize, usize) {
    let ds = Dataset::open(path).expect("open raster");
    let b = ds.rasterband(band).expect("band");
    let (w, h) = b.size();
    let mut v = vec![0f32; w * h];
    b.read_into_slice((0, 0), (w, h), (w, h), &mut v, None).expect("read");
    (v, w, h)
}

pub fn manifest(inputs: Vec<InputSpec>, outputs: usize) -> Manifest {
    Manifest {
        schema: SCHEMA_VERSION,
        name: "test-linear".into(),
        version: "1".into(),
        description: String::new(),
        target: Target { name: "soc".into(), unit: "%".into(), transform: TargetTransform::None },
        inputs,
        outputs: (0..outputs)
            .map(|k| OutputBand { name: format!("b{k}"), graph_output: "y".into(), index: k, kind: OutputKind::Value })
            .collect(),
        nodata: NodataPolicy::default(),
        provenance: Provenance::default(),
        metrics: None,
        uncertainty: None,
        model_card: String::new(),
        time_varying: Vec::new(),
    }
}

pub fn input(name: &str, layout: Layout, covs: &[&str]) -> InputSpec {
    InputSpec { name: name.into(), layout, channels: covs.iter().map(|c| Channel::new(*c)).collect() }
}

/// Deterministic small weights.
pub fn weights(len: usize, outputs: usize) -> Vec<f32> {
    (0..len * outputs).map(|i| (((i * 7919 + 13) % 101) as f32 - 50.0) / 500.0).collect()
}

fn node(op: &str, inputs: &[&str], output: &str, attrs: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        op_type: Some(op.into()),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        attribute: attrs,
        ..Default::default()
    }
}

fn int_attr(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(terrapix::bundle::onnx::attribute_proto::AttributeType::Int as i32),
        i: Some(v),
        ..Default::default()
    }
}

/// A real ONNX graph: every input flattened, concatenated, times W ([L, K]) plus `bias`; output
/// "y" of shape [N, K]. Layout dims as the manifest says (batch dynamic unless `fixed_batch`).
pub fn linear_model(m: &Manifest, w: &[f32], bias: f32, fixed_batch: Option<i64>) -> ModelProto {
    let k = m.outputs.len() as i64;
    let total: usize = m.inputs.iter().map(|i| i.layout.sample_len(i.channels.len())).sum();
    assert_eq!(w.len(), total * k as usize);
    let mut graph = GraphProto { name: Some("linear".into()), ..Default::default() };
    let mut flats = Vec::new();
    for i in &m.inputs {
        let mut dims = vec![fixed_batch];
        dims.extend(i.layout.shape(i.channels.len()).into_iter().map(|d| Some(d as i64)));
        graph.input.push(value_info(&i.name, &dims));
        let flat = format!("{}_flat", i.name);
        graph.node.push(node("Flatten", &[&i.name], &flat, vec![int_attr("axis", 1)]));
        flats.push(flat);
    }
    let refs: Vec<&str> = flats.iter().map(String::as_str).collect();
    graph.node.push(node("Concat", &refs, "features", vec![int_attr("axis", 1)]));
    graph.initializer.push(TensorProto {
        name: Some("W".into()),
        data_type: Some(DataType::Float as i32),
        dims: vec![total as i64, k],
        float_data: w.to_vec(),
        ..Default::default()
    });
    graph.initializer.push(TensorProto {
        name: Some("b".into()),
        data_type: Some(DataType::Float as i32),
        dims: vec![k],
        float_data: vec![bias; k as usize],
        ..Default::default()
    });
    graph.node.push(node("MatMul", &["features", "W"], "xw", vec![]));
    graph.node.push(node("Add", &["xw", "b"], "y", vec![]));
    graph.output.push(value_info("y", &[fixed_batch, Some(k)]));
    ModelProto {
        ir_version: Some(8),
        opset_import: vec![OperatorSetIdProto { domain: Some(String::new()), version: Some(13) }],
        producer_name: Some("terrapix-tests".into()),
        graph: Some(graph),
        ..Default::default()
    }
}

/// Writes a linear model bundle for `m` to `path`; returns its weights.
pub fn write_linear_bundle(path: &Path, m: &Manifest, bias: f32) -> Vec<f32> {
    let total: usize = m.inputs.iter().map(|i| i.layout.sample_len(i.channels.len())).sum();
    let w = weights(total, m.outputs.len());
    let mut b = Bundle { model: linear_model(m, &w, bias, None), manifest: None };
    b.set_manifest(m.clone()).expect("valid manifest");
    b.write(path).expect("write bundle");
    w
}

/// What a linear model must predict, computed in plain loops from the landscape arrays with
/// edge replication: one plane per output, NaN where an input needed is missing.
pub fn expected_linear(m: &Manifest, w: &[f32], bias: f32, land: &terrapix::landscape::Landscape) -> Vec<Vec<f32>> {
    let names = terrapix::landscape::band_names();
    let size = land.size as isize;
    let cell = m.cell();
    let out_size = land.size.div_ceil(cell);
    let k_out = m.outputs.len();
    let mut out = vec![vec![f32::NAN; out_size * out_size]; k_out];
    let at = |band: &str, x: isize, y: isize| -> f32 {
        let b = names.iter().position(|n| n == band).expect("known band");
        let (x, y) = (x.clamp(0, size - 1), y.clamp(0, size - 1));
        land.bands[b][(y * size + x) as usize]
    };
    for cy in 0..out_size as isize {
        for cx in 0..out_size as isize {
            let mut features = Vec::new();
            for i in &m.inputs {
                match i.layout {
                    Layout::Pixel | Layout::Series { .. } => {
                        let centre = (cell / 2) as isize;
                        for c in &i.channels {
                            features.push((at(&c.covariate, cx * cell as isize + centre, cy * cell as isize + centre) - c.mean) / c.std);
                        }
                    }
                    Layout::Window { size: k, cell: step } => {
                        // The window's top-left pixel: the cell's, less the context on each side.
                        let (k, step) = (k as isize, step as isize);
                        let (x0, y0) = (cx * step - (k - step) / 2, cy * step - (k - step) / 2);
                        for c in &i.channels {
                            for dy in 0..k {
                                for dx in 0..k {
                                    features.push((at(&c.covariate, x0 + dx, y0 + dy) - c.mean) / c.std);
                                }
                            }
                        }
                    }
                    Layout::Patch { size: p } => {
                        let p = p as isize;
                        for c in &i.channels {
                            for dy in 0..p {
                                for dx in 0..p {
                                    let v = match c.covariate.as_str() {
                                        "@patch_x" => -1.0 + 2.0 * dx as f32 / (p - 1) as f32,
                                        "@patch_y" => -1.0 + 2.0 * dy as f32 / (p - 1) as f32,
                                        name => at(name, cx * p + dx, cy * p + dy),
                                    };
                                    features.push((v - c.mean) / c.std);
                                }
                            }
                        }
                    }
                }
            }
            if features.iter().any(|v| !v.is_finite()) {
                continue;
            }
            for k in 0..k_out {
                let y: f32 = features.iter().enumerate().map(|(j, f)| f * w[j * k_out + k]).sum::<f32>() + bias;
                out[k][(cy as usize) * out_size + cx as usize] = y;
            }
        }
    }
    out
}

/// Asserts that a map band equals the expected plane (nodata where expected is NaN).
pub fn assert_map_eq(map: &Path, band: usize, expected: &[f32], nodata: f32, tol: f32) {
    let (got, w, h) = read_band(map, band);
    assert_eq!(got.len(), expected.len(), "map size {w} x {h}");
    let mut worst = 0f32;
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        if e.is_nan() {
            assert_eq!(*g, nodata, "pixel {} (x {}, y {}) should be nodata", i, i % w, i / w);
        } else {
            let d = (g - e).abs() / e.abs().max(1.0);
            assert!(d <= tol, "pixel {} (x {}, y {}): got {g}, expected {e}", i, i % w, i / w);
            worst = worst.max(d);
        }
    }
}

/// The Python of the project's virtual environment (Debian's python with GDAL, onnx, onnxruntime).
pub fn venv_python() -> PathBuf {
    repo().join(".venv/bin/python")
}

/// The onnx package's full checker accepts the model at `path` (`what` names it in a failure).
pub fn assert_onnx_checker(path: &Path, what: &str) {
    let check = std::process::Command::new(venv_python())
        .args(["-c", "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)", s(path)])
        .output()
        .expect("venv python");
    assert!(check.status.success(), "{what}: onnx checker: {}", String::from_utf8_lossy(&check.stderr));
}

/// Seed 000's forest-steppe survey's 22 covariates, sampled in the table itself.
pub const FOREST_STEPPE_COVARIATES: &str = "pH_val,TWI10m,TPI10m_1,Z10m_1,SOS21daily,SOS21_1,TRI10m_1,PPI_aut1_P,slope10m_1,\
     roughness1,Seasamp21_,SPI10m_1,VRM10m_1,SprPPI1_PP,EOS21_1,Aspect10m_,MSAVIZ37N_,NDWIZ37N_1,NDVIre3Z37,NDVIre1Z37,EVI2Z3N_1,\
     BI2Z37N_1";

/// The forest-steppe survey (413 points) as a samples folder `samples` in `dir`: (folder, stdout).
pub fn forest_steppe_samples(dir: &Path) -> (PathBuf, String) {
    let samples = dir.join("samples");
    let table = shared_data().join("forest_steppe/soc_tokarevka.csv");
    let out = terrapix_ok(&[
        "sample",
        s(&table),
        "--target",
        "SOC, %",
        "--x",
        "X",
        "--y",
        "Y",
        "--crs",
        "EPSG:32637",
        "--input",
        &format!("x:pixel:{FOREST_STEPPE_COVARIATES}"),
        "-o",
        s(&samples),
    ]);
    (samples, out)
}

/// The GDAL minor version this machine's GDAL is ("3.6"), as libterrapix's file names carry it.
pub fn gdal_minor() -> String {
    let release = gdal::version::version_info("RELEASE_NAME");
    release.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// A GDAL plugin folder laid out as shipped: the loader as gdal_terrapix.so and this build's
/// libterrapix as libterrapix-gdalX.Y.so for this machine's GDAL (made once per `name`).
#[allow(dead_code)]
pub fn gdal_plugin_folder(name: &str) -> PathBuf {
    let built = PathBuf::from(env!("CARGO_BIN_EXE_terrapix")).parent().unwrap().to_path_buf();
    let (loader, lib) = (built.join("libgdal_terrapix.so"), built.join("libterrapix.so"));
    assert!(loader.exists() && lib.exists(), "build the GDAL plugin first (cargo build --release --workspace)");
    let dir = std::env::temp_dir().join(format!("terrapix-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let library = dir.join(format!("libterrapix-gdal{}.so", gdal_minor()));
    if !library.exists() {
        std::fs::copy(&lib, &library).unwrap();
        std::fs::copy(&loader, dir.join("gdal_terrapix.so")).unwrap();
    }
    dir
}
