//! One fold model of any kind (a network on libtorch, a forest, a booster) behind one interface:
//! fit on some samples, predict others, export. Cross-validation, importance and figures use
//! only this.

use crate::error::TrainError;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::config::{ModelConfig, TrainConfig};
use super::data::TrainingData;
use super::forest::{self, Features};
use super::{boost, fit};
use terrapix::bundle::InputSpec;

/// A fitted fold model.
pub enum Member {
    Net(Box<fit::Member>),
    Forest(forest::Forest),
    Boosted(boost::Boosted),
}

impl Member {
    /// Learning curves (training and validation loss per epoch, best epoch) of a network.
    pub fn curves(&self) -> Option<(&[f64], &[f64], usize)> {
        match self {
            Member::Net(m) => Some((&m.train_loss, &m.val_loss, m.best_epoch)),
            _ => None,
        }
    }

    /// What the fold's report says of the fitted size: the best epoch, the trees kept.
    pub fn size(&self) -> (&'static str, f64) {
        match self {
            Member::Net(m) => ("best_epoch", m.best_epoch as f64),
            Member::Forest(f) => ("trees", f.model.trees.len() as f64),
            Member::Boosted(b) => ("rounds", b.rounds as f64),
        }
    }
}

/// The samples as every model kind takes them: normalised tensors on the libtorch device for
/// networks, rows of raw covariates for trees. Targets are on the model scale (log1p applied).
pub enum Prepared {
    Net(fit::Tensors),
    Trees { x: Features, y: Vec<f32>, grid: Option<Vec<f32>> },
}

impl Prepared {
    /// The input specs (with the normalisation the bundle will apply) and the prepared samples.
    pub fn new(data: &TrainingData, cfg: &TrainConfig, y: &[f32]) -> Result<(Vec<InputSpec>, Prepared), TrainError> {
        if cfg.model.is_trees() {
            let grid = match &cfg.model {
                ModelConfig::QuantileForest(q) => Some(forest::target_grid(y, q.grid)),
                _ => None,
            };
            Ok((data.raw_specs(), Prepared::Trees { x: data.features(), y: y.to_vec(), grid }))
        } else {
            let specs = match &cfg.fit.init {
                Some(init) => super::pretrain::init_specs(init, &data.inputs, &cfg.model)?,
                None => data.normalisation(),
            };
            let t = fit::Tensors::new(&specs, &data.normalised(&specs), y, super::device());
            Ok((specs, Prepared::Net(t)))
        }
    }

    pub fn fit(&self, train: &[usize], cfg: &TrainConfig, specs: &[InputSpec], seed: u64) -> Result<Member, TrainError> {
        match (self, &cfg.model) {
            (Prepared::Net(t), model) => Ok(Member::Net(Box::new(fit::fit(t, train, model, specs, &cfg.fit, seed)?))),
            (Prepared::Trees { x, y, .. }, ModelConfig::RandomForest(p)) => {
                Ok(Member::Forest(forest::fit(x, y, train, p, seed, None, cfg.fit.threads)))
            }
            (Prepared::Trees { x, y, grid }, ModelConfig::QuantileForest(p)) => {
                Ok(Member::Forest(forest::fit(x, y, train, &p.forest(), seed, grid.as_deref(), cfg.fit.threads)))
            }
            (Prepared::Trees { x, y, .. }, ModelConfig::GradientBoosting(p)) => {
                let (valid, fit_rows) = if p.early_stopping > 0 {
                    validation_split(train, cfg.fit.val_fraction, &mut ChaCha8Rng::seed_from_u64(seed))
                } else {
                    (Vec::new(), train.to_vec())
                };
                Ok(Member::Boosted(boost::fit(x, y, &fit_rows, &valid, p, seed, cfg.fit.threads)?))
            }
            (Prepared::Trees { .. }, _) => Err("internal: tree samples prepared for a network".into()),
        }
    }

    /// Predictions (model scale) of `member` for samples `rows`.
    pub fn predict(&self, member: &Member, rows: &[usize]) -> Result<Vec<f32>, TrainError> {
        match (self, member) {
            (Prepared::Net(t), Member::Net(m)) => Ok(fit::predict(m, t, rows)),
            (Prepared::Trees { x, .. }, Member::Forest(f)) => Ok(rows.iter().map(|&i| f.model.predict(x.row(i)) as f32).collect()),
            (Prepared::Trees { x, .. }, Member::Boosted(b)) => boost::predict(b, x, rows),
            _ => Err("internal: a model predicting samples prepared for another kind".into()),
        }
    }

    /// A quantile forest's quantiles `qs` (model scale) for samples `rows` (Meinshausen's exact
    /// estimator from that forest alone).
    pub fn quantiles(&self, member: &Member, rows: &[usize], qs: &[f64]) -> Result<Vec<Vec<f64>>, TrainError> {
        match (self, member) {
            (Prepared::Trees { x, .. }, Member::Forest(f)) if !f.leaf_targets.is_empty() => {
                Ok(rows.iter().map(|&i| forest::exact_quantiles(&[f], x.row(i), qs)).collect())
            }
            _ => Err("internal: quantiles of a model that is not a quantile forest".into()),
        }
    }

    /// Predictions (model scale) of `member` for raw (unnormalised) input tensors of `n`
    /// samples, laid out as [`TrainingData::tensors`]: what permutation importance feeds.
    pub fn predict_raw(&self, member: &Member, specs: &[InputSpec], raw: &[Vec<f32>], n: usize) -> Result<Vec<f32>, TrainError> {
        let data = TrainingData {
            target: String::new(),
            inputs: specs.to_vec(),
            tensors: raw.to_vec(),
            y: vec![0.0; n],
            xy: vec![(0.0, 0.0); n],
            groups: vec![String::new(); n],
            strata: vec![String::new(); n],
        };
        let rows: Vec<usize> = (0..n).collect();
        match (self, member) {
            (Prepared::Net(t), Member::Net(m)) => {
                let tensors = fit::Tensors::new(specs, &data.normalised(specs), &data.y, t.y.device());
                Ok(fit::predict(m, &tensors, &rows))
            }
            (Prepared::Trees { .. }, _) => {
                let prepared = Prepared::Trees { x: data.features(), y: Vec::new(), grid: None };
                prepared.predict(member, &rows)
            }
            _ => Err("internal: a model predicting samples prepared for another kind".into()),
        }
    }
}

/// A validation share of `train` for early stopping, drawn with `rng`: (validation, fitting).
pub fn validation_split(train: &[usize], fraction: f64, rng: &mut ChaCha8Rng) -> (Vec<usize>, Vec<usize>) {
    let mut idx = train.to_vec();
    idx.shuffle(rng);
    let n_val = ((idx.len() as f64 * fraction).round() as usize).clamp(1, idx.len().saturating_sub(1).max(1));
    let fit = idx.split_off(n_val);
    (idx, fit)
}
