//! Tree ensembles (issue: random forests, quantile forests, gradient boosting): trained by
//! terrapix and served by its native tree engine and by ONNX Runtime, compared with the trainer's in-memory predictions on
//! real data (seed 000's forest-steppe survey); trees brought from scikit-learn, XGBoost and
//! LightGBM mapped and compared with their own Python `predict`.

mod common;

use common::*;
use terrapix::engine::{EngineOptions, Model};
use terrapix_train::config::TrainConfig;
use terrapix_train::data::TrainingData;
use terrapix_train::models::Member;
use terrapix_train::{self as train, forest};

/// Relative difference as ONNX Runtime's own tests compare floats: |a - b| <= rtol * max(|b|, 1).
fn assert_close(got: f32, want: f64, rtol: f64, what: &str) {
    let d = (got as f64 - want).abs();
    assert!(d <= rtol * want.abs().max(1.0), "{what}: bundle {got}, trainer {want} (difference {d:e})");
}

#[test]
fn trained_tree_bundles_equal_the_trainers_predictions() {
    let dir = tempdir();
    let d = dir.path();
    let data = TrainingData::read(&forest_steppe_samples(d).0).unwrap();
    let kinds = [
        ("random forest", "random_forest", "trees = 100\n", false),
        ("quantile forest", "quantile_forest", "trees = 100\nquantiles = [0.05, 0.25, 0.5, 0.75, 0.95]\n", false),
        ("boosting", "gradient_boosting", "trees = 300\nlearning_rate = 0.05\nmax_leaves = 15\n", false),
        ("pinball boosting", "gradient_boosting", "trees = 200\nobjective = { kind = \"quantile\", q = 0.9 }\n", false),
        ("log1p quantile forest", "quantile_forest", "trees = 50\nmin_leaf = 3\n", true),
    ];
    for (name, kind, model, log1p) in kinds {
        let cfg = TrainConfig::from_toml(&format!(
            "[model]\nkind = \"{kind}\"\n{model}[fit]\nlog1p = {log1p}\nseed = 3\n[cv]\nscheme = \"spatial\"\nfolds = 4\n"
        ))
        .unwrap();
        let result = train::cross_validate(&data, &cfg, &mut |_, _, _| true).unwrap();
        assert_eq!(result.members.len(), 4);
        let r2 = result.overall["r2"];
        // A 0.9-quantile booster predicts high on purpose: R² is not its measure.
        assert!(r2 > 0.25 || name == "pinball boosting", "{name}: spatial CV R² {r2}");
        let bundle = train::ensemble_bundle(&result, &data, &cfg, "fs", "%", None).unwrap();
        let path = d.join(format!("{}.onnx", name.replace(' ', "_")));
        bundle.write(&path).unwrap();
        assert_onnx_checker(&path, name);
        let manifest = bundle.manifest.as_ref().unwrap();
        assert_eq!(manifest.provenance.extra["model_kind"], kind, "{name}");
        // Raw band values (the engine applies no back-transform; the graph works on the model scale).
        let engine = Model::open(&path, &EngineOptions { sessions: 1, ..Default::default() }).unwrap();
        // terrapix's own tree bundles take the native engine; ONNX Runtime must agree with it.
        assert!(engine.runtime().starts_with("terrapix's native"), "{name}: {}", engine.runtime());
        let ort = Model::open(&path, &EngineOptions { sessions: 1, onnx_runtime_only: true, ..Default::default() }).unwrap();
        let n = data.len();
        let got = engine.run(n, &data.tensors).unwrap();
        for (band, (a, b)) in got.iter().zip(ort.run(n, &data.tensors).unwrap()).enumerate() {
            let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs() / y.abs().max(1.0)).fold(0f32, f32::max);
            assert!(worst <= 1e-6, "{name}: band {band} native and ONNX Runtime differ by {worst:e} (relative to max(|v|, 1))");
        }
        let band = |name: &str| manifest.outputs.iter().position(|b| b.name == name).unwrap_or_else(|| panic!("{name}: no band {name}"));
        // A log1p model's mean band is smeared (Duan) and the first band; its log-scale mean is
        // served as the median unless the forest has its own q50.
        let shift = manifest.uncertainty.as_ref().and_then(|u| u.smearing).map_or(0.0, f64::ln);
        let median = manifest.outputs.iter().position(|b| b.name == "median");
        let quantile_bands: Vec<(usize, f64)> = manifest
            .outputs
            .iter()
            .enumerate()
            .filter_map(|(k, b)| match b.kind {
                terrapix::bundle::OutputKind::Quantile { q } if b.name != "median" => Some((k, q)),
                _ => None,
            })
            .collect();
        let x = data.features();
        let rows: Vec<usize> = (0..n).collect();
        let per_member: Vec<Vec<f32>> = result.members.iter().map(|m| result.prepared.predict(m, &rows).unwrap()).collect();
        for i in 0..n {
            let preds: Vec<f64> = per_member.iter().map(|p| p[i] as f64).collect();
            let mean = preds.iter().sum::<f64>() / preds.len() as f64;
            let std = (preds.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / preds.len() as f64).sqrt();
            if let Some(m) = median {
                assert_close(got[m][i], mean, 1e-5, &format!("{name}: sample {i} median"));
            }
            assert_close(got[0][i], mean + shift, 1e-5, &format!("{name}: sample {i} first band"));
            assert_close(got[band("std")][i], std, 1e-4, &format!("{name}: sample {i} std"));
            if kind == "quantile_forest" {
                let forests: Vec<&forest::Forest> =
                    result.members.iter().map(|m| if let Member::Forest(f) = m { f } else { panic!("a forest") }).collect();
                let qs: Vec<f64> = quantile_bands.iter().map(|b| b.1).collect();
                let exact = forest::exact_quantiles(&forests, x.row(i), &qs);
                for ((k, q), want) in quantile_bands.iter().zip(&exact) {
                    // Every distinct target is a grid value here (413 < 1000): the bundle's
                    // quantile is the exact estimator's.
                    assert_close(got[*k][i], *want, 1e-6, &format!("{name}: sample {i} quantile {q}"));
                }
            }
        }
    }
}

#[test]
fn trees_brought_from_scikit_learn_xgboost_and_lightgbm_map_as_their_python_predict() {
    let dir = tempdir();
    let d = dir.path();
    let made = std::process::Command::new(venv_python())
        .args([s(&repo().join("tests/trees/byo_models.py")), s(d), "200", "50"])
        .output()
        .expect("venv python");
    assert!(
        made.status.success(),
        "byo_models.py (scripts/setup.sh --torch installs its packages): {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let stack = d.join("stack.tif");
    for name in ["sklearn_rf", "sklearn_gbr", "xgboost", "lightgbm"] {
        let onnx = d.join(format!("{name}.onnx"));
        let input = terrapix::bundle::Bundle::read(&onnx).unwrap().graph_inputs()[0].name.clone().unwrap();
        let bundle = d.join(format!("{name}.bundle.onnx"));
        terrapix_ok(&["bundle", s(&onnx), "-o", s(&bundle), "--target", "y", "--input", &format!("{input}:pixel:cov[1-12]")]);
        let map = d.join(format!("{name}.tif"));
        predict_ok(&bundle, &[&stack], &map, &["--threads", "2"]);
        let (got, w, h) = read_band(&map, 1);
        assert_eq!((w, h), (200, 200));
        let want: ndarray::Array1<f64> = ndarray_npy::read_npy(d.join(format!("{name}.npy"))).unwrap();
        let off = got.iter().zip(want.iter()).filter(|(g, w)| (**g as f64 - *w).abs() > 1e-5 * w.abs().max(1.0)).count();
        // onnxmltools rounds LightGBM's double thresholds to the nearest float32, so a pixel
        // whose covariate falls between the two goes the other way (ONNX Runtime alone does the
        // same; terrapix's own LightGBM export rounds down and is exact): 1 of these 40,000.
        let allowed = if name == "lightgbm" { 2 } else { 0 };
        assert!(off <= allowed, "{name}: {off} pixels differ from the library's predict by more than 1e-5 (relative)");
    }
}
