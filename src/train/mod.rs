//! `terrapix train` (cargo feature `train`): models on libtorch (tch; CUDA when present),
//! cross-validation, metrics, and export of the fold models as ONE ensemble bundle whose ONNX
//! graph is written from Rust.
//!
//! Data flows one way: samples ([`crate::sample`]) -> [`data`] (normalisation) -> [`cv`] folds
//! -> [`fit`] one model per fold -> out-of-fold [`metrics`] -> [`export`] -> ensemble bundle.

pub mod baseline;
pub mod config;
pub mod cv;
pub mod data;
pub mod export;
pub mod figures;
pub mod fit;
pub mod importance;
pub mod metrics;
pub mod nets;

use std::collections::BTreeMap;

use crate::bundle::{
    ensemble, tta, Bundle, CvMetrics, InputSpec, Manifest, NodataPolicy, OutputBand, OutputKind, Provenance, Target, TargetTransform,
    SCHEMA_VERSION,
};
use config::TrainConfig;
use data::TrainingData;

/// The outcome of cross-validation: one model per fold and out-of-fold predictions.
pub struct CvResult {
    pub members: Vec<fit::Member>,
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
    if cfg.fit.threads > 0 {
        tch::set_num_threads(cfg.fit.threads as i32);
    }
    let specs = data.normalisation();
    let y: Vec<f32> = if cfg.fit.log1p { data.y.iter().map(|v| v.ln_1p()).collect() } else { data.y.clone() };
    let t = fit::Tensors::new(&specs, &data.normalised(&specs), &y, device());
    let folds = cv::folds(data, &cfg.cv, cfg.fit.seed)?;
    // Out-of-fold predictions, averaged over repetitions (each sample is tested once per repetition).
    let (mut oof_sum, mut oof_n) = (vec![0f64; data.len()], vec![0u32; data.len()]);
    let mut members = Vec::new();
    let mut per_fold = Vec::new();
    for (k, fold) in folds.iter().enumerate() {
        let member = fit::fit(&t, &fold.train, &cfg.model, &specs, &cfg.fit, cfg.fit.seed + k as u64)?;
        let pred = fit::predict(&member, &t, &fold.test);
        let pred: Vec<f32> = if cfg.fit.log1p { pred.iter().map(|v| v.exp_m1()).collect() } else { pred };
        for (&i, &p) in fold.test.iter().zip(&pred) {
            oof_sum[i] += p as f64;
            oof_n[i] += 1;
        }
        let obs: Vec<f32> = fold.test.iter().map(|&i| data.y[i]).collect();
        let mut m = metrics::regression(&obs, &pred);
        m.insert("train".into(), fold.train.len() as f64);
        m.insert("buffered".into(), fold.buffered as f64);
        m.insert("best_epoch".into(), member.best_epoch as f64);
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
        trees => Some(baseline::random_forest(data, &folds, trees, cfg.fit.seed)?.1),
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
    Ok(CvResult { members, folds, oof, overall, per_fold, specs, baseline, per_group })
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
    let members: Vec<Bundle> = result
        .members
        .iter()
        .map(|m| {
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

fn model_name(cfg: &TrainConfig) -> &'static str {
    match cfg.model {
        config::ModelConfig::Mlp { .. } => "MLP",
        config::ModelConfig::Lstm { .. } => "LSTM",
        config::ModelConfig::CnnLstm { .. } => "CNN-LSTM",
        config::ModelConfig::Cnn => "CNN",
        config::ModelConfig::CoordCnn { .. } => "coordinate CNN",
    }
}
