//! The training benchmark's measure: samples (networks) or trees (tree models) per second of
//! one fit on every sample, without early stopping (`terrapix bench-train`).

use std::path::Path;

use crate::config::{BoostParams, FitConfig, ModelConfig, TrainConfig};
use crate::data::TrainingData;
use crate::error::TrainError;
use crate::{fit, models};

/// How fast one fit went.
pub enum FitRate {
    /// Networks: `samples_per_second` over `epochs` epochs of `samples`.
    Network { samples_per_second: f64, epochs: usize, samples: usize, seconds: f64 },
    /// Tree models: `trees` fitted on `samples` in `seconds`.
    Trees { trees_per_second: f64, trees: f64, samples: usize, seconds: f64 },
}

/// Fits the model of `config` once on every sample of `samples` (networks: `epochs` epochs).
pub fn fit_rate(samples: &Path, config: &Path, epochs: usize) -> Result<FitRate, TrainError> {
    let cfg = crate::run::read_config(Some(config))?;
    let data = TrainingData::read(samples)?;
    if cfg.model.is_trees() {
        let cfg = match cfg.model {
            ModelConfig::GradientBoosting(p) => {
                TrainConfig { model: ModelConfig::GradientBoosting(BoostParams { early_stopping: 0, ..p }), ..cfg }
            }
            _ => cfg,
        };
        let (specs, prepared) = models::Prepared::new(&data, &cfg, &data.y)?;
        let all: Vec<usize> = (0..data.len()).collect();
        let started = std::time::Instant::now();
        let member = prepared.fit(&all, &cfg, &specs, cfg.fit.seed)?;
        let seconds = started.elapsed().as_secs_f64();
        let (_, trees) = member.size();
        return Ok(FitRate::Trees { trees_per_second: trees / seconds, trees, samples: data.len(), seconds });
    }
    let specs = data.normalisation();
    let t = fit::Tensors::new(&specs, &data.normalised(&specs), &data.y, crate::device());
    let fit_cfg = FitConfig { epochs, patience: epochs, ..cfg.fit.clone() };
    let all: Vec<usize> = (0..data.len()).collect();
    let started = std::time::Instant::now();
    fit::fit(&t, &all, &cfg.model, &specs, &fit_cfg, fit_cfg.seed)?;
    let seconds = started.elapsed().as_secs_f64();
    let n_fit = data.len() - ((data.len() as f64 * fit_cfg.val_fraction).round() as usize).max(1);
    Ok(FitRate::Network { samples_per_second: (epochs * n_fit) as f64 / seconds, epochs, samples: n_fit, seconds })
}
