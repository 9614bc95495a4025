//! The trainer's configuration (TOML): model, fitting and cross-validation.

use crate::error::{invalid, TrainError};
use serde::{Deserialize, Serialize};

pub use super::boost::{BoostParams, Objective};
pub use super::forest::ForestParams;
pub use super::soilnet::{Backbone, Climate, SoilNetConfig};

#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    #[serde(default)]
    pub model: ModelConfig,
    #[serde(default)]
    pub fit: FitConfig,
    #[serde(default)]
    pub cv: CvConfig,
    #[serde(default)]
    pub export: ExportConfig,
    #[serde(default)]
    pub uncertainty: UncertaintyConfig,
    /// Self-supervised pretraining (`terrapix pretrain`, SoilNet models).
    #[serde(default)]
    pub pretrain: super::pretrain::PretrainConfig,
}

/// The bundle's calibrated uncertainty: prediction intervals and the area of applicability.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct UncertaintyConfig {
    /// Nominal coverages of the interval bands (`lower_90`, `upper_90`...).
    pub levels: Vec<f64>,
    pub method: IntervalChoice,
    /// Dissimilarity-index (`di`) and area-of-applicability (`aoa`) bands.
    pub aoa: bool,
    /// Most training samples the bundle stores for the DI (a seeded random subset above; the
    /// threshold still comes from all of them). Each costs `features` multiply-adds per pixel.
    pub aoa_max_points: usize,
}

impl Default for UncertaintyConfig {
    fn default() -> Self {
        UncertaintyConfig { levels: vec![0.9], method: IntervalChoice::Auto, aoa: true, aoa_max_points: 20_000 }
    }
}

impl UncertaintyConfig {
    pub fn check(&self) -> Result<(), TrainError> {
        if self.levels.iter().any(|l| !(*l > 0.0 && *l < 1.0)) {
            return Err(invalid!("uncertainty.levels {:?}: each level must be in (0, 1), e.g. 0.9", self.levels));
        }
        let mut sorted = self.levels.clone();
        sorted.sort_by(f64::total_cmp);
        sorted.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
        if sorted.len() != self.levels.len() {
            return Err(invalid!("uncertainty.levels {:?} lists a level twice", self.levels));
        }
        Ok(())
    }
}

/// How interval bands are calibrated (all out of fold, by conformal prediction).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum IntervalChoice {
    /// The candidate with the best out-of-fold interval score at the first level: normalised or
    /// absolute conformal, and a quantile forest's conformalised quantiles.
    Auto,
    /// mean ± factor * (std + offset): widens where the fold models disagree.
    Normalised,
    /// mean ± factor.
    Absolute,
    /// A quantile forest's own quantiles, conformalised (CQR).
    Quantiles,
}

/// How the fold models become the bundle.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ExportConfig {
    /// Test-time augmentation in the graph: every member averages its predictions on the
    /// window and patch inputs as they are and flipped left-right and up-down (the above-ground-biomass patch CNN).
    pub tta: bool,
}

impl TrainConfig {
    /// Parses and checks a configuration (see [`TrainConfig::check`]).
    pub fn from_toml(text: &str) -> Result<TrainConfig, TrainError> {
        let cfg: TrainConfig = toml::from_str(text).map_err(|e| format!("invalid trainer configuration: {e}"))?;
        cfg.check().map_err(|e| format!("invalid trainer configuration: {e}"))?;
        Ok(cfg)
    }
}

/// Architectures. Sizes default to the seeds' public code.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ModelConfig {
    /// Every input flattened and concatenated, then dense layers with ReLU.
    Mlp {
        #[serde(default = "default_hidden")]
        hidden: Vec<i64>,
    },
    /// One series input; the last step's hidden state through a dense output.
    Lstm {
        #[serde(default = "default_lstm_hidden")]
        hidden: i64,
        #[serde(default = "default_lstm_layers")]
        layers: i64,
    },
    /// Zhang et al.'s (2022) CNN-LSTM (public code): a window input through Conv(k2, pad 1) x6, ReLU, max-pool
    /// 2, Conv(k2, pad 1) x16, ReLU, max-pool 2, dense 16, ReLU; a series input through a 2-layer
    /// LSTM (hidden 8), last step, dense 16, tanh; concatenated, dense 1.
    CnnLstm {
        #[serde(default = "default_cnnlstm_hidden")]
        lstm_hidden: i64,
        #[serde(default = "default_lstm_layers")]
        lstm_layers: i64,
    },
    /// The CNN of Zhang et al.'s (2022) CNN-LSTM alone: its window branch and a dense output.
    Cnn,
    /// The biomass patch CNN's coordinate CNN for patches (give it `@patch_x`, `@patch_y` channels): conv 3x3
    /// x32, InstanceNorm, ReLU, max-pool 2, dropout; the same with 64; conv x128, InstanceNorm,
    /// ReLU, dropout; flatten; dense 128 and 64, each with LayerNorm, ReLU, dropout; dense 1.
    CoordCnn {
        #[serde(default = "default_dropout")]
        dropout: f64,
    },
    /// SoilNet (Kakhani et al. 2024): a ViT or ResNet image branch on the window input and an LSTM, GRU or
    /// transformer climate branch on the series input, fused (see [`super::soilnet`]).
    Soilnet(SoilNetConfig),
    /// A random forest (Breiman 2001) on every input flattened into covariates.
    RandomForest(ForestParams),
    /// A quantile regression forest (Meinshausen 2006): a random forest whose bundle also
    /// outputs quantiles of the conditional distribution.
    QuantileForest(QuantileForestParams),
    /// Gradient-boosted trees (LightGBM) on every input flattened into covariates.
    GradientBoosting(BoostParams),
}

/// A quantile forest: the forest's hyper-parameters plus the quantiles its bundle outputs.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct QuantileForestParams {
    pub trees: usize,
    pub max_features: Option<usize>,
    pub min_leaf: usize,
    pub max_depth: Option<usize>,
    pub sample_fraction: f64,
    pub replace: bool,
    /// Quantiles the bundle outputs, besides mean and std.
    pub quantiles: Vec<f64>,
    /// Most target values the bundle's distributions distinguish: with at most this many
    /// distinct training targets its quantiles are the exact estimator's, else they are rounded
    /// up to the next of this many equal-count quantiles of the training targets.
    pub grid: usize,
}

impl Default for QuantileForestParams {
    fn default() -> Self {
        let f = ForestParams::default();
        QuantileForestParams {
            trees: f.trees,
            max_features: f.max_features,
            min_leaf: f.min_leaf,
            max_depth: f.max_depth,
            sample_fraction: f.sample_fraction,
            replace: f.replace,
            quantiles: vec![0.05, 0.5, 0.95],
            grid: 1000,
        }
    }
}

impl QuantileForestParams {
    pub fn forest(&self) -> ForestParams {
        ForestParams {
            trees: self.trees,
            max_features: self.max_features,
            min_leaf: self.min_leaf,
            max_depth: self.max_depth,
            sample_fraction: self.sample_fraction,
            replace: self.replace,
        }
    }

    pub fn check(&self) -> Result<(), TrainError> {
        self.forest().check()?;
        if self.quantiles.is_empty() || self.quantiles.iter().any(|q| !(*q > 0.0 && *q < 1.0)) {
            return Err(invalid!("quantile_forest: quantiles {:?} must be one or more levels in (0, 1)", self.quantiles));
        }
        if !(2..=100_000).contains(&self.grid) {
            return Err(invalid!("quantile_forest: grid {} must be in 2..=100000", self.grid));
        }
        Ok(())
    }
}

impl ModelConfig {
    /// Whether this is a tree model (fitted on flattened, unnormalised covariates).
    pub fn is_trees(&self) -> bool {
        matches!(self, ModelConfig::RandomForest(_) | ModelConfig::QuantileForest(_) | ModelConfig::GradientBoosting(_))
    }

    /// Checks the hyper-parameters of tree models (networks are checked when built).
    pub fn check(&self) -> Result<(), TrainError> {
        match self {
            ModelConfig::RandomForest(p) => p.check(),
            ModelConfig::QuantileForest(p) => p.check(),
            ModelConfig::GradientBoosting(p) => p.check(),
            _ => Ok(()),
        }
    }
}

fn default_dropout() -> f64 {
    0.5
}

fn default_hidden() -> Vec<i64> {
    vec![64, 64]
}
fn default_lstm_hidden() -> i64 {
    32
}
fn default_lstm_layers() -> i64 {
    2
}
fn default_cnnlstm_hidden() -> i64 {
    8
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig::Mlp { hidden: default_hidden() }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Optimizer {
    Adam,
    AdamW,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Loss {
    Mse,
    Huber { delta: f64 },
}

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields, default)]
pub struct FitConfig {
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub optimizer: Optimizer,
    pub weight_decay: f64,
    pub loss: Loss,
    /// Train on log(1 + target); maps are back-transformed.
    pub log1p: bool,
    /// Stop when the validation loss has not improved for this many epochs; the best weights are kept.
    pub patience: usize,
    /// Share of each fold's training samples held out for early stopping.
    pub val_fraction: f64,
    /// Cosine annealing of the learning rate down to lr / 10 (the above-ground-biomass patch CNN).
    pub cosine: bool,
    pub seed: u64,
    /// libtorch threads (0 = its default).
    pub threads: usize,
    /// Augmentation of window and patch inputs during training (the above-ground-biomass patch CNN); none by default.
    pub augment: Option<Augment>,
    /// Hard-example mining (the above-ground-biomass patch CNN); none by default.
    pub hard_mining: Option<HardMining>,
    /// Start from pretrained weights (`terrapix pretrain`'s file): the branches it holds are
    /// loaded, and the inputs keep the pretraining's normalisation.
    pub init: Option<std::path::PathBuf>,
    /// Step decay of the learning rate (SoilNet: x 0.2 every 10 epochs).
    pub step_decay: Option<StepDecay>,
}

/// The learning rate times `factor` every `every` epochs.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StepDecay {
    pub every: usize,
    pub factor: f64,
}

impl Default for StepDecay {
    fn default() -> Self {
        StepDecay { every: 10, factor: 0.2 }
    }
}

/// The biomass patch CNN's hard-example mining: from epoch `start` on, each epoch draws `draws` x N training
/// samples with replacement, sample i with weight ((|error_i| / max |error|) + 0.1)², the errors
/// of the current model on the fitting set.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HardMining {
    pub start: usize,
    pub draws: f64,
}

impl Default for HardMining {
    fn default() -> Self {
        HardMining { start: 20, draws: 2.0 }
    }
}

/// The biomass patch CNN's augmentation: with probability `p` per sample, one random flip or 90-degree
/// rotation of every window and patch input, and per-sample, per-band jitter of contrast and
/// brightness by up to `jitter` (in normalised units); and (SoilNet (Kakhani et al. 2024)) a shift: reflect-padded
/// by `shift` pixels and cropped back at a random offset. Generated channels (`@patch_x`...)
/// are never touched, so coordinates stay coordinates.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Augment {
    pub p: f64,
    pub flips: bool,
    pub rot90: bool,
    pub jitter: f64,
    pub shift: i64,
}

impl Default for Augment {
    fn default() -> Self {
        Augment { p: 0.7, flips: true, rot90: true, jitter: 0.1, shift: 0 }
    }
}

impl Default for FitConfig {
    fn default() -> Self {
        FitConfig {
            epochs: 300,
            batch: 32,
            lr: 1e-3,
            optimizer: Optimizer::Adam,
            weight_decay: 0.0,
            loss: Loss::Mse,
            log1p: false,
            patience: 30,
            val_fraction: 0.125,
            cosine: false,
            seed: 42,
            threads: 0,
            augment: None,
            hard_mining: None,
            init: None,
            step_decay: None,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// Random k-fold.
    Random,
    /// k-means clusters of the sample coordinates as folds (spatial blocks).
    Spatial,
    /// Whole groups (sites) per fold.
    Grouped,
    /// Every stratum spread evenly over the folds (Zhang et al. (2022) stratifies by lithology).
    Stratified,
    /// The biomass patch CNN's hybrid: k-means blocks within every site (group), dealt to the folds.
    SiteSpatial,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields, default)]
pub struct CvConfig {
    pub scheme: Scheme,
    pub folds: usize,
    /// Training samples closer than this (map units of the samples' CRS) to any test sample of
    /// the fold are removed from its training set.
    pub buffer: f64,
    /// Trees of the random-forest baseline run on the same folds (0: no baseline).
    pub baseline_rf_trees: usize,
    /// Repeated k-fold: the folds this many times over with fresh assignments; out-of-fold
    /// predictions are averaged over the repetitions, and every fold model joins the ensemble.
    pub repeats: usize,
}

impl Default for CvConfig {
    fn default() -> Self {
        CvConfig { scheme: Scheme::Spatial, folds: 5, buffer: 0.0, baseline_rf_trees: 0, repeats: 1 }
    }
}
