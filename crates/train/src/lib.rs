//! The terrapix trainer: models on libtorch (tch; CUDA when present) and tree ensembles
//! (forests, quantile forests, LightGBM boosting), cross-validation, metrics, and export of the
//! fold models as ONE ensemble bundle whose ONNX graph is written from Rust; the cube models
//! that need it (bias correction, gap filling). It depends on the core (`terrapix`) only.
//!
//! Data flows one way: samples ([`terrapix::sample`]) -> [`data`] (normalisation) -> [`cv`] folds
//! -> one model per fold ([`models`]: a network by [`fit`], a [`forest`], or [`boost`]ed trees)
//! -> out-of-fold [`metrics`] and [`calibrate`]d intervals -> [`export`] (networks) or
//! [`terrapix::bundle::trees`] -> bundle, with the interval bands and the area of
//! [`applicability`] ([`terrapix::bundle::uncertainty`]).

pub mod applicability;
pub mod baseline;
pub mod bench;
pub mod bias;
pub mod boost;
pub mod calibrate;
pub mod config;
mod config_check;
pub mod cv;
pub mod data;
pub mod error;
pub mod export;
pub mod figures;
pub mod fit;
pub mod forest;
pub mod gapfill;
pub mod importance;
/// libtorch, whose types (devices, variable stores, tensors) the trainer's interface uses.
pub use tch;
pub use terrapix::metrics;
pub mod models;
pub mod nets;
pub mod pretrain;
pub mod run;
pub mod soilnet;
pub mod soilnet_onnx;

use std::collections::BTreeMap;
use terrapix::metrics::Metrics;

use config::TrainConfig;
use data::TrainingData;
use error::TrainError;
use terrapix::bundle::{
    ensemble, trees, tta, Bundle, CvMetrics, InputSpec, Manifest, NodataPolicy, OutputBand, OutputKind, Provenance, Target,
    TargetTransform, SCHEMA_VERSION,
};

/// The trainer settings of the soil-moisture workflow's models (bias correction, gap filling): gradient-boosted
/// trees, at most 400 rounds at 0.05 with early stopping, 40 samples per leaf; no DI/AOA bands
/// (the DI of every pixel and date costs more than it tells for these models).
pub(crate) fn boosted_trees() -> TrainConfig {
    use config::{BoostParams, ModelConfig};
    let mut config = TrainConfig {
        model: ModelConfig::GradientBoosting(BoostParams { trees: 400, learning_rate: 0.05, min_leaf: 40, ..Default::default() }),
        ..Default::default()
    };
    config.uncertainty.aoa = false;
    config
}

/// The outcome of cross-validation: one model per fold and out-of-fold predictions.
pub struct CvResult {
    pub members: Vec<models::Member>,
    /// The samples as the models took them (for importance and export).
    pub prepared: models::Prepared,
    pub folds: Vec<cv::Fold>,
    /// Out-of-fold predictions of the `mean` band on the target scale, by sample.
    pub oof: Vec<f32>,
    /// Calibrated intervals and their out-of-fold metrics.
    pub calibration: calibrate::Calibration,
    pub overall: Metrics,
    pub per_fold: Vec<Metrics>,
    /// Input specs with the normalisation the models were trained with.
    pub specs: Vec<InputSpec>,
    /// The random-forest baseline on the same folds, when configured: metrics.
    pub baseline: Option<Metrics>,
    /// Out-of-fold metrics of each group (site) with at least 3 samples, when samples have groups.
    pub per_group: BTreeMap<String, Metrics>,
}

pub fn device() -> tch::Device {
    tch::Device::cuda_if_available()
}

/// Progress of a cross-validation: `(folds done, folds in all, that fold's metrics)`; return
/// `false` to stop.
pub type FoldProgress<'a> = dyn FnMut(usize, usize, &Metrics) -> bool + 'a;

pub fn cross_validate(data: &TrainingData, cfg: &TrainConfig, progress: &mut FoldProgress<'_>) -> Result<CvResult, TrainError> {
    if data.y.iter().any(|v| !v.is_finite()) {
        return Err("some samples have no target value".into());
    }
    if cfg.fit.log1p && data.y.iter().any(|v| *v <= -1.0) {
        return Err("log1p needs targets above -1".into());
    }
    cfg.check()?;
    if cfg.model.is_trees() && cfg.export.tta {
        return Err("test-time augmentation (export.tta) is for networks on windows and patches, not tree models".into());
    }
    if cfg.fit.threads > 0 {
        tch::set_num_threads(cfg.fit.threads as i32);
    }
    let y: Vec<f32> = if cfg.fit.log1p { data.y.iter().map(|v| v.ln_1p()).collect() } else { data.y.clone() };
    let (specs, prepared) = models::Prepared::new(data, cfg, &y)?;
    let folds = cv::folds(data, &cfg.cv, cfg.fit.seed)?;
    cfg.uncertainty.check()?;
    let mut members = Vec::new();
    let mut per_fold = Vec::new();
    // Each fold model's predictions of its test samples (model scale).
    let mut centre = Vec::new();
    for (k, fold) in folds.iter().enumerate() {
        let member = prepared.fit(&fold.train, cfg, &specs, cfg.fit.seed + k as u64)?;
        let model_scale = prepared.predict(&member, &fold.test)?;
        let pred: Vec<f32> = if cfg.fit.log1p { model_scale.iter().map(|v| v.exp_m1()).collect() } else { model_scale.clone() };
        centre.push(model_scale);
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
            return Err(TrainError::Cancelled);
        }
    }
    let calibration = calibrate_folds(data, cfg, &prepared, &members, &folds, &y, &centre)?;
    let oof = calibration.oof_mean.clone();
    let mut overall = metrics::regression(&data.y, &oof);
    overall.extend(calibration.overall.clone());
    for (k, (m, fold)) in per_fold.iter_mut().zip(&folds).enumerate() {
        if cfg.fit.log1p {
            // The fold's metrics are those of the mean band (smeared), as the overall ones.
            let obs: Vec<f32> = fold.test.iter().map(|&i| data.y[i]).collect();
            m.extend(metrics::regression(&obs, &calibration.fold_mean[k]));
        }
        m.extend(calibration.per_fold[k].clone());
    }
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
            let mut m = metrics::regression(&obs, &pred);
            m.extend(calibration.per_group.get(g).cloned().unwrap_or_default());
            per_group.insert(g.clone(), m);
        }
    }
    Ok(CvResult { members, prepared, folds, oof, calibration, overall, per_fold, specs, baseline, per_group })
}

/// Out-of-fold calibration of the interval bands: the spread of all fold models at every
/// sample (what the `std` band shows there) and, for a quantile forest, each fold model's
/// quantiles of its test samples.
fn calibrate_folds(
    data: &TrainingData,
    cfg: &TrainConfig,
    prepared: &models::Prepared,
    members: &[models::Member],
    folds: &[cv::Fold],
    y_model: &[f32],
    centre: &[Vec<f32>],
) -> Result<calibrate::Calibration, TrainError> {
    let all: Vec<usize> = (0..data.len()).collect();
    let preds: Vec<Vec<f32>> = members.iter().map(|m| prepared.predict(m, &all)).collect::<Result<_, _>>()?;
    let k = preds.len() as f64;
    let spread: Vec<f32> = (0..data.len())
        .map(|i| {
            let mean = preds.iter().map(|p| p[i] as f64).sum::<f64>() / k;
            (preds.iter().map(|p| (p[i] as f64 - mean).powi(2)).sum::<f64>() / k).sqrt() as f32
        })
        .collect();
    let levels = &cfg.uncertainty.levels;
    let quantiles: Option<Vec<Vec<Vec<f64>>>> = match &cfg.model {
        config::ModelConfig::QuantileForest(_) => {
            let qs = calibrate::quantile_levels(levels);
            Some(folds.iter().zip(members).map(|(f, m)| prepared.quantiles(m, &f.test, &qs)).collect::<Result<_, _>>()?)
        }
        _ => None,
    };
    let oof = calibrate::OutOfFold {
        folds,
        y_model,
        y: &data.y,
        log1p: cfg.fit.log1p,
        centre,
        spread: &spread,
        quantiles: quantiles.as_deref(),
        groups: &data.groups,
    };
    calibrate::calibrate(&oof, levels, cfg.uncertainty.method)
}

/// The fold models as ONE bundle: an ONNX graph computing every member and their mean and
/// standard deviation, with the manifest filled.
/// With `aoa` (from [`applicability::train`]), also the DI and AOA bands.
pub fn ensemble_bundle(
    result: &CvResult,
    data: &TrainingData,
    cfg: &TrainConfig,
    name: &str,
    unit: &str,
    aoa: Option<&terrapix::bundle::uncertainty::AoaGraph>,
) -> Result<Bundle, TrainError> {
    let bundle = point_bundle(result, data, cfg, name, unit)?;
    let mut manifest = bundle.manifest.clone().ok_or("internal: a trained bundle without its manifest")?;
    let mut u = result.calibration.uncertainty.clone();
    u.aoa = aoa.map(|a| a.summary.clone());
    if !manifest.outputs.iter().any(|b| b.kind == OutputKind::Mean) {
        // A pinball-loss booster predicts a quantile, not a centre to put an interval around.
        u.intervals.clear();
        u.smearing = None;
    }
    let model = terrapix::bundle::uncertainty::add(bundle.model, &mut manifest, &u, aoa)?;
    let mut bundle = Bundle { model, manifest: None };
    bundle.set_manifest(manifest)?;
    Ok(bundle)
}

/// The fold models as one bundle with its mean, std (and quantile) bands.
fn point_bundle(result: &CvResult, data: &TrainingData, cfg: &TrainConfig, name: &str, unit: &str) -> Result<Bundle, TrainError> {
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
            created_by: format!("terrapix {} train", terrapix::VERSION),
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
        uncertainty: None,
        model_card: String::new(),
        time_varying: Vec::new(),
    };
    if cfg.model.is_trees() {
        return tree_bundle(result, cfg, manifest);
    }
    let mut manifest = manifest;
    if let Some(models::Member::Net(m)) = result.members.first() {
        // What one output cell costs, for `terrapix info`: every member runs (twice more with TTA).
        let per_member = m.net.multiply_adds(&result.specs) * if cfg.export.tta { 3 } else { 1 };
        manifest.provenance.extra.insert(terrapix::bundle::MULTIPLY_ADDS.into(), (per_member * result.members.len() as u64).to_string());
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
        .collect::<Result<_, terrapix::bundle::BundleError>>()?;
    Ok(ensemble::build(&members, manifest)?)
}

/// The fold models of a tree kind as one TreeEnsembleRegressor graph (see [`terrapix::bundle::trees`]).
fn tree_bundle(result: &CvResult, cfg: &TrainConfig, mut manifest: Manifest) -> Result<Bundle, TrainError> {
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
            // Conformalised quantiles read the quantiles at both ends of every interval level.
            let mut quantiles = q.quantiles.clone();
            if result.calibration.uncertainty.method == terrapix::bundle::uncertainty::IntervalMethod::ConformalisedQuantiles {
                for l in &cfg.uncertainty.levels {
                    for end in [(1.0 - l) / 2.0, (1.0 + l) / 2.0] {
                        if !quantiles.iter().any(|v| (v - end).abs() < 1e-9) {
                            quantiles.push(end);
                        }
                    }
                }
                quantiles.sort_by(f64::total_cmp);
            }
            Some(trees::QuantileHead { grid: grid.clone(), quantiles })
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
    bundle.set_manifest(manifest)?;
    Ok(bundle)
}

fn model_name(cfg: &TrainConfig) -> &'static str {
    match cfg.model {
        config::ModelConfig::Mlp { .. } => "MLP",
        config::ModelConfig::Lstm { .. } => "LSTM",
        config::ModelConfig::CnnLstm { .. } => "CNN-LSTM",
        config::ModelConfig::Cnn => "CNN",
        config::ModelConfig::CoordCnn { .. } => "coordinate CNN",
        config::ModelConfig::Soilnet(_) => "SoilNet",
        config::ModelConfig::RandomForest(_) => "random forest",
        config::ModelConfig::QuantileForest(_) => "quantile regression forest",
        config::ModelConfig::GradientBoosting(_) => "gradient boosting",
    }
}
