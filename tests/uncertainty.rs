//! Calibrated uncertainty (issue: intervals that hold, area of applicability, validation on new
//! points), on seed 000's forest-steppe survey: out-of-fold coverage of the interval bands under
//! spatial CV, the bands the bundle serves equal to the calibration, the dissimilarity index and
//! threshold equal to an independent numpy reimplementation of CAST's, and `terrapix validate`.

mod common;

use common::*;
use terrapix::bundle::uncertainty::IntervalMethod;
use terrapix::bundle::OutputKind;
use terrapix::engine::{EngineOptions, Model};
use terrapix_train::config::TrainConfig;
use terrapix_train::data::TrainingData;
use terrapix_train::{self as train, applicability};

fn config(model: &str, log1p: bool) -> TrainConfig {
    TrainConfig::from_toml(&format!(
        "[model]\n{model}\n[fit]\nlog1p = {log1p}\nseed = 5\nepochs = 150\n[cv]\nscheme = \"spatial\"\nfolds = 5\n"
    ))
    .unwrap()
}

#[test]
fn spatial_cv_intervals_cover_90_percent_and_the_bundle_serves_the_calibration() {
    let dir = tempdir();
    let data = TrainingData::read(&forest_steppe_samples(dir.path()).0).unwrap();
    let kinds = [
        ("quantile forest", "kind = \"quantile_forest\"\ntrees = 100", false),
        ("log1p random forest", "kind = \"random_forest\"\ntrees = 100", true),
        ("MLP", "kind = \"mlp\"\nhidden = [32, 16]", false),
    ];
    for (name, model, log1p) in kinds {
        let cfg = config(model, log1p);
        let result = train::cross_validate(&data, &cfg, &mut |_, _, _| true).unwrap();
        let picp = result.overall["picp_90"];
        // The bar: 90 % intervals cover 85-95 % out of fold under spatial CV.
        assert!((0.85..=0.95).contains(&picp), "{name}: out-of-fold coverage {picp}");
        let curve = &result.calibration.curve;
        assert_eq!(curve.len(), 18, "{name}: the calibration figure's levels, 10 % to 95 %");
        assert!(curve.iter().all(|(nominal, got)| (nominal - got).abs() < 0.1), "{name}: {curve:?}");
        assert!(result.overall["crps"] > 0.0 && result.overall["crps"] < result.overall["mae"], "{name}: CRPS below MAE");
        assert!(result.per_fold.iter().all(|f| f.contains_key("picp_90") && f.contains_key("interval_score_90")));

        let bundle = train::ensemble_bundle(&result, &data, &cfg, "fs", "%", None).unwrap();
        let path = dir.path().join(format!("{}.onnx", name.replace(' ', "_")));
        bundle.write(&path).unwrap();
        assert_onnx_checker(&path, name);
        let m = bundle.manifest.as_ref().unwrap();
        let u = m.uncertainty.as_ref().unwrap();
        let engine = Model::open(&path, &EngineOptions { sessions: 1, ..Default::default() }).unwrap();
        // Raw bands, on the model scale: feed the tensors the bundle's normalisation expects.
        let got = engine.run(data.len(), &data.normalised(&m.inputs)).unwrap();
        let band = |kind: OutputKind| &got[m.outputs.iter().position(|b| b.kind == kind).unwrap_or_else(|| panic!("{name}: {kind:?}"))];
        let (lo, hi) = (band(OutputKind::Lower { level: 0.9 }), band(OutputKind::Upper { level: 0.9 }));
        let (mean, std) = (band(OutputKind::Mean), band(OutputKind::Std));
        let factor = u.intervals[0].factor;
        let shift = u.smearing.map_or(0.0, f64::ln);
        assert_eq!(u.smearing.is_some(), log1p, "{name}: a smeared mean exactly for log1p");
        for i in 0..data.len() {
            let centre = mean[i] as f64 - shift; // the graph's ensemble mean (model scale)
            let (want_lo, want_hi) = match u.method {
                IntervalMethod::NormalisedConformal { offset } => {
                    let h = factor * (std[i] as f64 + offset);
                    (centre - h, centre + h)
                }
                IntervalMethod::AbsoluteConformal => (centre - factor, centre + factor),
                IntervalMethod::ConformalisedQuantiles => {
                    let q = |q: f64| band(OutputKind::Quantile { q })[i] as f64;
                    (q(0.05) - factor, q(0.95) + factor)
                }
            };
            assert!((lo[i] as f64 - want_lo).abs() < 1e-4 * want_lo.abs().max(1.0), "{name}: sample {i} lower {} vs {want_lo}", lo[i]);
            assert!((hi[i] as f64 - want_hi).abs() < 1e-4 * want_hi.abs().max(1.0), "{name}: sample {i} upper {} vs {want_hi}", hi[i]);
            assert!(lo[i] <= hi[i]);
        }
        if log1p {
            assert!(m.outputs.iter().any(|b| b.name == "median"), "{name}: the back-transformed log mean is called a median");
        }
    }
}

#[test]
fn dissimilarity_index_and_threshold_equal_casts_definition() {
    let dir = tempdir();
    let d = dir.path();
    let data = TrainingData::read(&forest_steppe_samples(d).0).unwrap();
    let cfg = config("kind = \"random_forest\"\ntrees = 50", false);
    let result = train::cross_validate(&data, &cfg, &mut |_, _, _| true).unwrap();
    // Uneven importance, one negative (counts 0), as permutation importance gives them.
    let names: Vec<String> = FOREST_STEPPE_COVARIATES.split(',').map(String::from).collect();
    let importance: Vec<(String, f64)> = names.iter().enumerate().map(|(k, n)| (n.clone(), (k as f64 * 0.37).sin())).collect();
    let (aoa, _) = applicability::train(&data, &result.specs, &result.folds, &importance, 0, 1).unwrap();
    let bundle = train::ensemble_bundle(&result, &data, &cfg, "fs", "%", Some(&aoa)).unwrap();
    let path = d.join("rf_aoa.onnx");
    bundle.write(&path).unwrap();

    // New points: training samples moved a little and a lot, beyond the training range too.
    let x = data.features();
    let (n, p) = (data.len(), x.p);
    let mut new = Vec::new();
    for i in (0..n).step_by(7) {
        let shift = (i % 5) as f32 * 0.6;
        new.extend(x.row(i).iter().enumerate().map(|(k, v)| v * (1.0 + shift * ((k % 3) as f32 - 1.0) * 0.3)));
    }
    let m = new.len() / p;
    let mut folds = vec![0i64; n];
    for (k, f) in result.folds.iter().enumerate() {
        f.test.iter().for_each(|&i| folds[i] = k as i64);
    }
    let weights: Vec<f64> = names.iter().map(|c| importance.iter().find(|(n, _)| n == c).unwrap().1).collect();
    ndarray_npy::write_npy(d.join("train.npy"), &ndarray::Array2::from_shape_vec((n, p), x.x.clone()).unwrap()).unwrap();
    ndarray_npy::write_npy(d.join("folds.npy"), &ndarray::Array1::from_vec(folds)).unwrap();
    ndarray_npy::write_npy(d.join("weights.npy"), &ndarray::Array1::from_vec(weights)).unwrap();
    ndarray_npy::write_npy(d.join("new.npy"), &ndarray::Array2::from_shape_vec((m, p), new.clone()).unwrap()).unwrap();
    let out = std::process::Command::new(venv_python())
        .args([s(&repo().join("tests/uncertainty/cast_di.py")), s(d)])
        .output()
        .expect("venv python");
    assert!(out.status.success(), "cast_di.py: {}", String::from_utf8_lossy(&out.stderr));
    let cast: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("cast.json")).unwrap()).unwrap();
    let summary = &bundle.manifest.as_ref().unwrap().uncertainty.as_ref().unwrap().aoa.as_ref().unwrap().clone();
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(1e-12);
    assert!(
        rel(summary.threshold, cast["threshold"].as_f64().unwrap()) < 1e-9,
        "threshold {} vs CAST {}",
        summary.threshold,
        cast["threshold"]
    );
    assert!(rel(summary.mean_distance, cast["mean_distance"].as_f64().unwrap()) < 1e-9);

    // The bundle's DI and AOA bands at the new points (tree bundles take raw covariates).
    let engine = Model::open(&path, &EngineOptions { sessions: 1, ..Default::default() }).unwrap();
    let got = engine.run(m, &[new]).unwrap();
    let manifest = bundle.manifest.as_ref().unwrap();
    let at = |kind: OutputKind| manifest.outputs.iter().position(|b| b.kind == kind).unwrap();
    let (di, inside) = (&got[at(OutputKind::Di)], &got[at(OutputKind::Aoa)]);
    let want_di = cast["di"].as_array().unwrap();
    let mut outside = 0;
    for k in 0..m {
        let want = want_di[k].as_f64().unwrap();
        // float32 in the graph, |z|² - 2 z.t + |t|²: close to 1e-3 of the mean distance.
        assert!((di[k] as f64 - want).abs() < 1e-3 * want.max(1.0), "point {k}: DI {} vs CAST {want}", di[k]);
        let near_threshold = (want - summary.threshold).abs() < 1e-3;
        if !near_threshold {
            assert_eq!(inside[k] as i64, cast["aoa"][k].as_i64().unwrap(), "point {k}: AOA (DI {want})");
        }
        outside += (inside[k] == 0.0) as usize;
    }
    assert!(outside > 0 && outside < m, "some new points inside the AOA, some outside ({outside} of {m} outside)");
}

#[test]
fn validate_checks_any_bundle_on_independent_points() {
    let dir = tempdir();
    let d = dir.path();
    // Train on the western three quarters of the survey, validate on the east: a region the
    // model never saw.
    let table = shared_data().join("forest_steppe/soc_tokarevka.csv");
    let mut reader = csv::Reader::from_path(&table).unwrap();
    let headers = reader.headers().unwrap().clone();
    let xcol = headers.iter().position(|h| h == "X").unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let mut xs: Vec<f64> = rows.iter().map(|r| r[xcol].parse().unwrap()).collect();
    xs.sort_by(f64::total_cmp);
    let cut = xs[xs.len() * 3 / 4];
    for (name, east) in [("west.csv", false), ("east.csv", true)] {
        let mut w = csv::Writer::from_path(d.join(name)).unwrap();
        w.write_record(&headers).unwrap();
        for r in rows.iter().filter(|r| (r[xcol].parse::<f64>().unwrap() > cut) == east) {
            w.write_record(r).unwrap();
        }
    }
    let point_args = ["--target", "SOC, %", "--x", "X", "--y", "Y", "--crs", "EPSG:32637"];
    let samples = d.join("samples");
    let (west, east_csv) = (d.join("west.csv"), d.join("east.csv"));
    let mut args = vec!["sample", s(&west)];
    let covs = format!("x:pixel:{FOREST_STEPPE_COVARIATES}");
    args.extend(point_args);
    args.extend(["--input", &covs, "-o", s(&samples)]);
    terrapix_ok(&args);
    let cfg = d.join("qrf.toml");
    std::fs::write(&cfg, "[model]\nkind = \"quantile_forest\"\ntrees = 60\n[cv]\nfolds = 5\n").unwrap();
    let bundle = d.join("qrf.onnx");
    terrapix_ok(&["train", "--samples", s(&samples), "--config", s(&cfg), "-o", s(&bundle), "--unit", "%"]);

    // The covariates are columns of the table itself: no rasters.
    let (report, figures) = (d.join("validation.json"), d.join("figures"));
    let mut args = vec!["validate", "--model", s(&bundle), s(&east_csv)];
    args.extend(point_args);
    args.extend(["-o", s(&report), "--figures", s(&figures)]);
    let out = terrapix_ok(&args);
    assert!(out.contains("lower_90 .. upper_90: coverage"), "{out}");
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let n = r["points"].as_u64().unwrap();
    let east = rows.iter().filter(|r| r[xcol].parse::<f64>().unwrap() > cut).count();
    assert_eq!(n as usize, east, "every eastern point validated");
    let coverage = r["intervals"][0]["metrics"]["coverage"].as_f64().unwrap();
    let naive = r["std_as_90_interval_coverage"].as_f64().unwrap();
    assert!(coverage > naive, "calibrated intervals ({coverage}) cover more than the std band read as one ({naive})");
    assert!(r["metrics"]["rmse"].as_f64().unwrap() > 0.0);
    let q = r["quantiles"].as_array().unwrap();
    assert!(q.iter().any(|q| q["band"] == "q50"), "every quantile band is checked: {q:?}");
    let aoa = &r["area_of_applicability"];
    assert_eq!(aoa["inside"]["n"].as_u64().unwrap() + aoa["outside"]["n"].as_u64().unwrap(), n);
    for f in ["validation.png", "error_vs_di.png"] {
        assert!(std::fs::metadata(figures.join(f)).unwrap().len() > 10_000, "{f} drawn");
    }
    // Bad input: no target column, and an output that is one of the inputs.
    let err = terrapix_err(&["validate", "--model", s(&bundle), s(&east_csv), "--x", "X", "--y", "Y"]);
    assert!(err.contains("--target"), "{err}");
    let err = terrapix_err(&["validate", "--model", s(&bundle), s(&east_csv), "--target", "SOC, %", "-o", s(&bundle)]);
    assert!(err.contains("qrf.onnx"), "{err}");
    assert!(Model::open(&bundle, &EngineOptions::default()).is_ok(), "the bundle is untouched");
}
