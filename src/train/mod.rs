//! `terrapix train` (cargo feature `train`): models on libtorch (tch; CUDA when present),
//! cross-validation, metrics, and export of the fold models as ONE ensemble bundle whose ONNX
//! graph is written from Rust.
//!
//! Data flows one way: samples ([`crate::sample`]) -> [`data`] (normalisation) -> [`cv`] folds
//! -> one model per fold ([`models`]: a network by [`fit`], a [`forest`], or [`boost`]ed trees)
//! -> out-of-fold [`metrics`] -> [`export`] (networks) or [`crate::bundle::trees`] -> bundle.

pub mod baseline;
pub mod boost;
pub mod config;
pub mod cv;
pub mod data;
pub mod export;
pub mod figures;
pub mod fit;
pub mod forest;
pub mod importance;
pub mod metrics;
pub mod models;
pub mod nets;

use std::collections::BTreeMap;

use crate::bundle::{
    ensemble, trees, tta, Bundle, CvMetrics, InputSpec, Manifest, NodataPolicy, OutputBand, OutputKind, Provenance, Target,
    TargetTransform, SCHEMA_VERSION,
};
use config::TrainConfig;
use data::TrainingData;

/// The outcome of cross-validation: one model per fold and out-of-fold predictions.
pub struct CvResult {
    pub members: Vec<models::Member>,
    /// The samples as the models took them (for importance and export).
    pub prepared: models::Prepared,
    pub folds: Vec<cv::Fold>,
    /// Out-of-fold predictions on the target scale, by sample.
    pub oof: Vec<f32>,
    pub overall: BTreeMap<String, f64>,
    pub per_fold: Vec<BTreeMap<String, f64>>,
    /// Input specs with the normalisation the models were trained with.
    pub specs: Vec<InputSpec>,
    /// The random-forest baseline on the same folds, when configured: metrics.
    pub baseline: Option<BTreeMap<String, f64>>,
    /// Out-of-fold metrics of each group (site) with at least 3 samples, when samples have groups.
    pub per_group: BTreeMap<String, BTreeMap<String, f64>>,
}

pub fn device() -> tch::Device {
    tch::Device::cuda_if_available()
}

/// Progress of a cross-validation: `(folds done, folds in all, that fold's metrics)`; return
/// `false` to stop.
pub type FoldProgress<'a> = dyn FnMut(usize, usize, &BTreeMap<String, f64>) -> bool + 'a;

pub fn cross_validate(data: &TrainingData, cfg: &TrainConfig, progress: &mut FoldProgress<'_>) -> Result<CvResult, String> {
    if data.y.iter().any(|v| !v.is_finite()) {
        return Err("some samples have no target value".into());
    }
    if cfg.fit.log1p && data.y.iter().any(|v| *v <= -1.0) {
        return Err("log1p needs targets above -1".into());
    }
    cfg.model.check()?;
    if cfg.model.is_trees() && cfg.export.tta {
        return Err("test-time augmentation (export.tta) is for networks on windows and patches, not tree models".into());
    }
    if cfg.fit.threads > 0 {
        tch::set_num_threads(cfg.fit.threads as i32);
    }
    let y: Vec<f32> = if cfg.fit.log1p { data.y.iter().map(|v| v.ln_1p()).collect() } else { data.y.clone() };
    let (specs, prepared) = models::Prepared::new(data, cfg, &y);
    let folds = cv::folds(data, &cfg.cv, cfg.fit.seed)?;
    // Out-of-fold predictions, averaged over repetitions (each sample is tested once per repetition).
    let (mut oof_sum, mut oof_n) = (vec![0f64; data.len()], vec![0u32; data.len()]);
    let mut members = Vec::new();
    let mut per_fold = Vec::new();
    for (k, fold) in folds.iter().enumerate() {
        let member = prepared.fit(&fold.train, cfg, &specs, cfg.fit.seed + k as u64)?;
        let pred = prepared.predict(&member, &fold.test)?;
        let pred: Vec<f32> = if cfg.fit.log1p { pred.iter().map(|v| v.exp_m1()).collect() } else { pred };
        for (&i, &p) in fold.test.iter().zip(&pred) {
            oof_sum[i] += p as f64;
            oof_n[i] += 1;
        }
        let obs: Vec<f32> = fold.test.iter().map(|&i| data.y[i]).collect();
        let mut m = metrics::regression(&obs, &pred);
        m.insert("train".into(), fold.train.len() as f64);
        m.insert("buffered".into(), fold.buffered as f64);
        let (what, size) = member.size();
        m.insert(what.into(), size);
        let go_on = progress(k + 1, folds.len(), &m);
        per_fold.push(m);
        members.push(member);
        if !go_on {
            return Err("cancelled".into());
        }
    }
    let oof: Vec<f32> = oof_sum.iter().zip(&oof_n).map(|(s, &n)| if n > 0 { (s / n as f64) as f32 } else { f32::NAN }).collect();
    let overall = metrics::regression(&data.y, &oof);
    let baseline = match cfg.cv.baseline_rf_trees {
        0 => None,
        trees => Some(baseline::random_forest(data, &folds, trees, cfg.fit.seed, cfg.fit.threads).1),
    };
    let mut per_group = BTreeMap::new();
    let mut groups: Vec<&String> = data.groups.iter().filter(|g| !g.is_empty()).collect();
    groups.sort();
    groups.dedup();
    for g in groups {
        let idx: Vec<usize> = (0..data.len()).filter(|&i| &data.groups[i] == g).collect();
        if idx.len() >= 3 {
            let (obs, pred): (Vec<f32>, Vec<f32>) = idx.iter().map(|&i| (data.y[i], oof[i])).unzip();
            per_group.insert(g.clone(), metrics::regression(&obs, &pred));
        }
    }
    Ok(CvResult { members, prepared, folds, oof, overall, per_fold, specs, baseline, per_group })
}

/// The fold models as ONE bundle: an ONNX graph computing every member and their mean and
/// standard deviation, with the manifest filled.
pub fn ensemble_bundle(result: &CvResult, data: &TrainingData, cfg: &TrainConfig, name: &str, unit: &str) -> Result<Bundle, String> {
    let manifest = Manifest {
        schema: SCHEMA_VERSION,
        name: name.into(),
        version: "1.0.0".into(),
        description: format!("{} ensemble of {} cross-validation fold models", model_name(cfg), result.members.len()),
        target: Target {
            name: data.target.clone(),
            unit: unit.into(),
            transform: if cfg.fit.log1p { TargetTransform::Log1p } else { TargetTransform::None },
        },
        inputs: result.specs.clone(),
        outputs: vec![OutputBand { name: "value".into(), graph_output: export::OUTPUT.into(), index: 0, kind: OutputKind::Value }],
        nodata: NodataPolicy::default(),
        provenance: Provenance {
            created_by: format!("terrapix {} train", crate::VERSION),
            method: toml::to_string(cfg).unwrap_or_default(),
            training_data: format!("{} samples", data.len()),
            ..Default::default()
        },
        metrics: Some(CvMetrics {
            scheme: serde_json::to_value(cfg.cv.scheme).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
            folds: result.folds.len(),
            overall: result.overall.clone(),
            per_fold: result.per_fold.clone(),
        }),
        model_card: String::new(),
    };
    if cfg.model.is_trees() {
        return tree_bundle(result, cfg, manifest);
    }
    let members: Vec<Bundle> = result
        .members
        .iter()
        .map(|m| {
            let models::Member::Net(m) = m else { unreachable!("networks only: tree models returned above") };
            let mut b = Bundle { model: export::member(m, &result.specs), manifest: None };
            b.set_manifest(manifest.clone())?;
            if cfg.export.tta {
                b = tta::with_flips(&b, &result.specs, &manifest)?;
            }
            Ok(b)
        })
        .collect::<Result<_, crate::bundle::BundleError>>()
        .map_err(|e| e.to_string())?;
    ensemble::build(&members, manifest).map_err(|e| e.to_string())
}

/// The fold models of a tree kind as one TreeEnsembleRegressor graph (see [`crate::bundle::trees`]).
fn tree_bundle(result: &CvResult, cfg: &TrainConfig, mut manifest: Manifest) -> Result<Bundle, String> {
    let models: Vec<trees::TreeModel> = result
        .members
        .iter()
        .map(|m| match m {
            models::Member::Forest(f) => Ok(f.model.clone()),
            models::Member::Boosted(b) => Ok(b.model.clone()),
            models::Member::Net(_) => Err("internal: a network among tree models".to_string()),
        })
        .collect::<Result<_, _>>()?;
    let head = match (&cfg.model, &result.prepared) {
        (config::ModelConfig::QuantileForest(q), models::Prepared::Trees { grid: Some(grid), .. }) => {
            Some(trees::QuantileHead { grid: grid.clone(), quantiles: q.quantiles.clone() })
        }
        _ => None,
    };
    let (model, mut bands) = trees::ensemble_graph(&models, &result.specs, head.as_ref());
    if let config::ModelConfig::GradientBoosting(config::BoostParams { objective: config::Objective::Quantile { q }, .. }) = cfg.model {
        // A pinball-loss booster predicts a quantile: its band says so.
        bands[0] = OutputBand { name: trees::quantile_name(q), kind: OutputKind::Quantile { q }, ..bands[0].clone() };
    }
    manifest.outputs = bands;
    let (kind, params) = match &cfg.model {
        config::ModelConfig::RandomForest(p) => ("random_forest", serde_json::to_string(p)),
        config::ModelConfig::QuantileForest(p) => ("quantile_forest", serde_json::to_string(p)),
        config::ModelConfig::GradientBoosting(p) => ("gradient_boosting", serde_json::to_string(p)),
        _ => ("network", Ok(String::new())),
    };
    trees::describe(&mut manifest, kind, &params.map_err(|e| e.to_string())?);
    manifest.provenance.extra.insert("ensemble_members".into(), models.len().to_string());
    let mut bundle = Bundle { model, manifest: None };
    bundle.set_manifest(manifest).map_err(|e| e.to_string())?;
    Ok(bundle)
}

fn model_name(cfg: &TrainConfig) -> &'static str {
    match cfg.model {
        config::ModelConfig::Mlp { .. } => "MLP",
        config::ModelConfig::Lstm { .. } => "LSTM",
        config::ModelConfig::CnnLstm { .. } => "CNN-LSTM",
        config::ModelConfig::Cnn => "CNN",
        config::ModelConfig::CoordCnn { .. } => "coordinate CNN",
        config::ModelConfig::RandomForest(_) => "random forest",
        config::ModelConfig::QuantileForest(_) => "quantile regression forest",
        config::ModelConfig::GradientBoosting(_) => "gradient boosting",
    }
}
