//! The trainer's configuration (TOML): model, fitting and cross-validation.

use serde::{Deserialize, Serialize};

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
}

/// How the fold models become the bundle.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ExportConfig {
    /// Test-time augmentation in the graph: every member averages its predictions on the
    /// window and patch inputs as they are and flipped left-right and up-down (seed 002).
    pub tta: bool,
}

impl TrainConfig {
    pub fn from_toml(text: &str) -> Result<TrainConfig, String> {
        toml::from_str(text).map_err(|e| format!("invalid trainer configuration: {e}"))
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
    /// Seed 004's CNN-LSTM (public code): a window input through Conv(k2, pad 1) x6, ReLU, max-pool
    /// 2, Conv(k2, pad 1) x16, ReLU, max-pool 2, dense 16, ReLU; a series input through a 2-layer
    /// LSTM (hidden 8), last step, dense 16, tanh; concatenated, dense 1.
    CnnLstm {
        #[serde(default = "default_cnnlstm_hidden")]
        lstm_hidden: i64,
        #[serde(default = "default_lstm_layers")]
        lstm_layers: i64,
    },
    /// Seed 004's CNN alone: its CNN-LSTM's window branch and a dense output.
    Cnn,
    /// Seed 002's coordinate CNN for patches (give it `@patch_x`, `@patch_y` channels): conv 3x3
    /// x32, InstanceNorm, ReLU, max-pool 2, dropout; the same with 64; conv x128, InstanceNorm,
    /// ReLU, dropout; flatten; dense 128 and 64, each with LayerNorm, ReLU, dropout; dense 1.
    CoordCnn {
        #[serde(default = "default_dropout")]
        dropout: f64,
    },
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
    /// Cosine annealing of the learning rate down to lr / 10 (seed 002).
    pub cosine: bool,
    pub seed: u64,
    /// libtorch threads (0 = its default).
    pub threads: usize,
    /// Augmentation of window and patch inputs during training (seed 002); none by default.
    pub augment: Option<Augment>,
    /// Hard-example mining (seed 002); none by default.
    pub hard_mining: Option<HardMining>,
}

/// Seed 002's hard-example mining: from epoch `start` on, each epoch draws `draws` x N training
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

/// Seed 002's augmentation: with probability `p` per sample, one random flip or 90-degree
/// rotation of every window and patch input, and per-sample, per-band jitter of contrast and
/// brightness by up to `jitter` (in normalised units). Generated channels (`@patch_x`...) are
/// never touched, so coordinates stay coordinates.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Augment {
    pub p: f64,
    pub flips: bool,
    pub rot90: bool,
    pub jitter: f64,
}

impl Default for Augment {
    fn default() -> Self {
        Augment { p: 0.7, flips: true, rot90: true, jitter: 0.1 }
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
    /// Every stratum spread evenly over the folds (seed 004 stratifies by lithology).
    Stratified,
    /// Seed 002's hybrid: k-means blocks within every site (group), dealt to the folds.
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
