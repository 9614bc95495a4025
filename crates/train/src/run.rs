//! The training job as one function: samples and a configuration in; cross-validation,
//! calibration, permutation importance, the area of applicability, the ensemble bundle, the
//! figures and the report out. `terrapix train` converts its flags into a [`TrainRequest`] and
//! prints the [`Trained`] it gets back; nothing of the job lives in the command line.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use terrapix::metrics::Metrics;
use terrapix::output::{check_target, refuse_inputs, Kind, Staged};
use terrapix::progress::{Event, Progress};

use crate::config::TrainConfig;
use crate::data::TrainingData;
use crate::error::{invalid, TrainError};

/// A training job (serde names are those of the command line's flags).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainRequest {
    /// A folder written by `terrapix sample`.
    pub samples: PathBuf,
    /// The configuration (TOML); none: an MLP, spatial 5-fold CV.
    pub config: Option<PathBuf>,
    /// The ensemble bundle to write; without it the job only cross-validates.
    pub output: Option<PathBuf>,
    /// The bundle's name (default: the output's file stem) and the target's unit.
    pub name: Option<String>,
    pub unit: String,
    /// The report (JSON) and a folder of figures to write.
    pub report: Option<PathBuf>,
    pub figures: Option<PathBuf>,
    /// A Markdown model card to embed in the bundle.
    pub card: Option<PathBuf>,
}

/// The report of a training job (`report.json`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TrainReport {
    pub overall: Metrics,
    pub per_fold: Vec<Metrics>,
    pub baseline_random_forest: Option<Metrics>,
    pub per_group: std::collections::BTreeMap<String, Metrics>,
    pub permutation_importance: Vec<(String, f64)>,
    /// Which samples each fold tested (row numbers of the samples folder), so that other tools
    /// can be scored on the very same folds.
    pub fold_tests: Vec<Vec<usize>>,
    /// Each sample's observed target and out-of-fold mean prediction (target scale).
    pub out_of_fold: OutOfFold,
    /// The intervals' calibration: method, candidates, levels, curve, per fold and group.
    pub uncertainty: serde_json::Value,
    pub area_of_applicability: Option<serde_json::Value>,
    pub config: TrainConfig,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct OutOfFold {
    pub observed: Vec<f32>,
    pub mean: Vec<f32>,
}

/// What a training job did, for the one who asked.
pub struct Trained {
    pub report: TrainReport,
    pub samples: usize,
    pub seconds: f64,
    /// Interval calibration's method, in words, and Duan's smearing factor (log1p targets).
    pub interval_method: String,
    pub smearing: Option<f64>,
    /// The AOA's threshold, stored training samples and multiply-adds per pixel.
    pub aoa: Option<(f64, usize, usize)>,
    /// The bundle written: its path, members and bands.
    pub bundle: Option<(PathBuf, usize, Vec<String>)>,
    pub figures: Vec<PathBuf>,
}

/// The configuration of a job: its file, or the defaults.
pub fn read_config(path: Option<&Path>) -> Result<TrainConfig, TrainError> {
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| invalid!("cannot read '{}': {e}", p.display()))?;
            TrainConfig::from_toml(&text)
        }
        None => Ok(TrainConfig::default()),
    }
}

/// Runs a training job. Every output is checked before the samples are read (a full run can
/// take hours), and each is written whole or not at all. `progress` gets a [`Event::Stage`]
/// when training starts and an [`Event::Fold`] as each fold ends; returning false stops the job.
pub fn train(request: &TrainRequest, engine: &terrapix::engine::EngineOptions, progress: &mut Progress<'_>) -> Result<Trained, TrainError> {
    let r = request;
    let cfg = read_config(r.config.as_deref())?;
    if r.output.is_none() && r.report.is_none() && r.figures.is_none() {
        return Err("nothing to write: give the output (the bundle), the report or the figures".into());
    }
    let mut inputs: Vec<(&str, &Path)> = vec![("samples folder", &r.samples)];
    inputs.extend(r.config.as_deref().map(|c| ("config", c)));
    inputs.extend(r.card.as_deref().map(|c| ("model card", c)));
    for (out, folder, kind) in [(&r.output, false, Kind::Onnx), (&r.report, false, Kind::Json), (&r.figures, true, Kind::Folder)] {
        if let Some(out) = out {
            refuse_inputs(out, folder, &inputs)?;
            check_target(out, kind)?;
        }
    }
    let card =
        r.card.as_deref().map(|c| std::fs::read_to_string(c).map_err(|e| invalid!("cannot read '{}': {e}", c.display()))).transpose()?;
    let data = TrainingData::read(&r.samples)?;
    let repeats = if cfg.cv.repeats > 1 { format!(" x {} repeats", cfg.cv.repeats) } else { String::new() };
    let what =
        format!("training on {} samples ({:?} CV, {} folds{repeats}) on {:?}", data.len(), cfg.cv.scheme, cfg.cv.folds, crate::device());
    if !progress(&Event::Stage { what }) {
        return Err(TrainError::Cancelled);
    }
    let started = Instant::now();
    let mut fold = |done: usize, total: usize, m: &Metrics| progress(&Event::Fold { done, total, metrics: m.clone() });
    let result = crate::cross_validate(&data, &cfg, &mut fold)?;
    let importance = crate::importance::permutation(&result, &data, cfg.fit.log1p, cfg.fit.seed)?;
    // The area of applicability: computed once, for the bundle and the report.
    let aoa = if cfg.uncertainty.aoa {
        Some(crate::applicability::train(&data, &result.specs, &result.folds, &importance, cfg.uncertainty.aoa_max_points, cfg.fit.seed)?)
    } else {
        None
    };
    let mut trained = Trained {
        report: TrainReport::default(),
        samples: data.len(),
        seconds: started.elapsed().as_secs_f64(),
        interval_method: result.calibration.uncertainty.method.words().to_string(),
        smearing: result.calibration.uncertainty.smearing,
        aoa: aoa.as_ref().map(|(a, _)| (a.summary.threshold, a.summary.training_points, a.summary.macs_per_pixel)),
        bundle: None,
        figures: Vec::new(),
    };
    if let Some(output) = &r.output {
        let name = r.name.clone().unwrap_or_else(|| output.file_stem().unwrap_or_default().to_string_lossy().into());
        let mut bundle = crate::ensemble_bundle(&result, &data, &cfg, &name, &r.unit, aoa.as_ref().map(|a| &a.0))?;
        if let Some(card) = card {
            let mut manifest = bundle.require_manifest(output)?.clone();
            manifest.model_card = card;
            bundle.set_manifest(manifest)?;
        }
        terrapix::engine::write_checked(&bundle, output, &inputs, engine)?;
        let bands = bundle.manifest.as_ref().map(|m| m.outputs.iter().map(|b| b.name.clone()).collect()).unwrap_or_default();
        trained.bundle = Some((output.clone(), result.members.len(), bands));
    }
    if let Some(dir) = &r.figures {
        trained.figures = crate::figures::write(dir, &result, &data, &importance, &r.unit)?;
    }
    trained.report = TrainReport {
        overall: result.overall.clone(),
        per_fold: result.per_fold.clone(),
        baseline_random_forest: result.baseline.clone(),
        per_group: result.per_group.clone(),
        permutation_importance: importance,
        fold_tests: result.folds.iter().map(|f| f.test.clone()).collect(),
        out_of_fold: OutOfFold { observed: data.y.clone(), mean: result.oof.clone() },
        uncertainty: result.calibration.report.clone(),
        area_of_applicability: aoa.map(|(_, report)| report),
        config: cfg,
    };
    if let Some(path) = &r.report {
        let json = serde_json::to_string_pretty(&trained.report).map_err(|e| invalid!("the report: {e}"))?;
        Staged::write_all(path, Kind::Json, json.as_bytes())?;
    }
    Ok(trained)
}
