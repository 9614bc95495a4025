//! Every value of a trainer configuration checked before it reaches libtorch, LightGBM or
//! rayon (which panic or abort on a negative width, a layer of two billion units or a zero
//! batch): a message names the key and the values it may take.

use super::config::*;
use crate::error::{invalid, TrainError};

/// Refuses `value` of `key` outside `lo..=hi`.
fn int(key: &str, value: i64, lo: i64, hi: i64) -> Result<(), TrainError> {
    if (lo..=hi).contains(&value) {
        return Ok(());
    }
    Err(invalid!("{key} = {value} is out of range: it must be {lo} to {hi}"))
}

fn count(key: &str, value: usize, lo: usize, hi: usize) -> Result<(), TrainError> {
    int(key, value.min(i64::MAX as usize) as i64, lo as i64, hi as i64)
}

/// Refuses a real `value` of `key` outside `[lo, hi]` (or not finite).
fn real(key: &str, value: f64, lo: f64, hi: f64) -> Result<(), TrainError> {
    if value.is_finite() && (lo..=hi).contains(&value) {
        return Ok(());
    }
    Err(invalid!("{key} = {value} is out of range: it must be a number from {lo} to {hi}"))
}

/// Widths of layers and embeddings; heads and patch sizes.
const MAX_WIDTH: i64 = 65_536;

impl TrainConfig {
    /// Checks every section; the first value out of range is the error.
    pub fn check(&self) -> Result<(), TrainError> {
        self.model.check_network()?;
        self.model.check()?;
        self.fit.check()?;
        self.cv.check()?;
        self.uncertainty.check()?;
        count("uncertainty.aoa_max_points", self.uncertainty.aoa_max_points, 1, 1_000_000)?;
        self.pretrain_check()
    }

    fn pretrain_check(&self) -> Result<(), TrainError> {
        let p = &self.pretrain;
        count("pretrain.count", p.count, 2, 10_000_000)?;
        real("pretrain.temperature", p.temperature, 1e-3, 100.0)?;
        count("pretrain.epochs", p.epochs, 1, 100_000)?;
        count("pretrain.batch", p.batch, 2, 1_000_000)?;
        real("pretrain.lr", p.lr, 1e-12, 10.0)
    }
}

impl ModelConfig {
    /// Checks every size of the model, naming its key (tree models' other rules: [`ModelConfig::check`]).
    pub fn check_network(&self) -> Result<(), TrainError> {
        match self {
            ModelConfig::Mlp { hidden } => {
                count("model.hidden (the number of layers)", hidden.len(), 0, 64)?;
                hidden.iter().try_for_each(|h| int("model.hidden", *h, 1, MAX_WIDTH))
            }
            ModelConfig::Lstm { hidden, layers } => {
                int("model.hidden", *hidden, 1, MAX_WIDTH)?;
                int("model.layers", *layers, 1, 16)
            }
            ModelConfig::CnnLstm { lstm_hidden, lstm_layers } => {
                int("model.lstm_hidden", *lstm_hidden, 1, MAX_WIDTH)?;
                int("model.lstm_layers", *lstm_layers, 1, 16)
            }
            ModelConfig::CoordCnn { dropout } => real("model.dropout", *dropout, 0.0, 0.99),
            ModelConfig::Soilnet(s) => {
                match &s.backbone {
                    Backbone::Vit { patch, dim, depth, heads, mlp_ratio } => {
                        int("model.backbone.patch", *patch, 1, 1024)?;
                        int("model.backbone.dim", *dim, 1, MAX_WIDTH)?;
                        int("model.backbone.depth", *depth, 1, 128)?;
                        int("model.backbone.heads", *heads, 1, 1024)?;
                        int("model.backbone.mlp_ratio", *mlp_ratio, 1, 64)?;
                        if dim % heads != 0 {
                            return Err(invalid!("model.backbone.dim = {dim} must be a multiple of model.backbone.heads = {heads}"));
                        }
                    }
                    Backbone::Resnet { depth, width } => {
                        if ![18, 34, 50, 101].contains(depth) {
                            return Err(invalid!("model.backbone.depth = {depth} must be 18, 34, 50 or 101"));
                        }
                        int("model.backbone.width", *width, 1, 4096)?;
                    }
                }
                match &s.climate {
                    Climate::Lstm { hidden, layers } | Climate::Gru { hidden, layers } => {
                        int("model.climate.hidden", *hidden, 1, MAX_WIDTH)?;
                        int("model.climate.layers", *layers, 1, 16)
                    }
                    Climate::Transformer { dim, depth, heads } => {
                        int("model.climate.dim", *dim, 1, MAX_WIDTH)?;
                        int("model.climate.depth", *depth, 1, 128)?;
                        int("model.climate.heads", *heads, 1, 1024)?;
                        if dim % heads != 0 {
                            return Err(invalid!("model.climate.dim = {dim} must be a multiple of model.climate.heads = {heads}"));
                        }
                        Ok(())
                    }
                }
            }
            ModelConfig::RandomForest(p) => forest_sizes("model", p),
            ModelConfig::QuantileForest(p) => forest_sizes("model", &p.forest()),
            ModelConfig::GradientBoosting(p) => {
                count("model.trees", p.trees, 1, 100_000)?;
                count("model.max_leaves", p.max_leaves, 2, 131_072)?;
                count("model.min_leaf", p.min_leaf, 1, 10_000_000)?;
                count("model.early_stopping", p.early_stopping, 0, 100_000)?;
                real("model.learning_rate", p.learning_rate, 1e-9, 10.0)?;
                real("model.l2", p.l2, 0.0, 1e12)?;
                if let Some(d) = p.max_depth {
                    count("model.max_depth", d, 1, 1000)?;
                }
                Ok(())
            }
            ModelConfig::Cnn => Ok(()),
        }
    }
}

fn forest_sizes(at: &str, p: &ForestParams) -> Result<(), TrainError> {
    count(&format!("{at}.trees"), p.trees, 1, 100_000)?;
    count(&format!("{at}.min_leaf"), p.min_leaf, 1, 10_000_000)?;
    real(&format!("{at}.sample_fraction"), p.sample_fraction, 1e-9, 100.0)?;
    if let Some(d) = p.max_depth {
        count(&format!("{at}.max_depth"), d, 1, 1000)?;
    }
    if let Some(f) = p.max_features {
        count(&format!("{at}.max_features"), f, 1, 1_000_000)?;
    }
    Ok(())
}

impl FitConfig {
    pub fn check(&self) -> Result<(), TrainError> {
        count("fit.epochs", self.epochs, 1, 100_000)?;
        count("fit.batch", self.batch, 1, 1_000_000)?;
        real("fit.lr", self.lr, 1e-12, 10.0)?;
        real("fit.weight_decay", self.weight_decay, 0.0, 10.0)?;
        count("fit.patience", self.patience, 1, 100_000)?;
        real("fit.val_fraction", self.val_fraction, 0.01, 0.9)?;
        count("fit.threads", self.threads, 0, terrapix::engine::max_threads())?;
        if let Loss::Huber { delta } = self.loss {
            real("fit.loss.delta", delta, 1e-9, 1e12)?;
        }
        if let Some(a) = &self.augment {
            real("fit.augment.p", a.p, 0.0, 1.0)?;
            real("fit.augment.jitter", a.jitter, 0.0, 10.0)?;
            int("fit.augment.shift", a.shift, 0, 256)?;
        }
        if let Some(h) = &self.hard_mining {
            count("fit.hard_mining.start", h.start, 0, 100_000)?;
            real("fit.hard_mining.draws", h.draws, 0.01, 100.0)?;
        }
        if let Some(s) = &self.step_decay {
            count("fit.step_decay.every", s.every, 1, 100_000)?;
            real("fit.step_decay.factor", s.factor, 1e-9, 1.0)?;
        }
        Ok(())
    }
}

impl CvConfig {
    pub fn check(&self) -> Result<(), TrainError> {
        count("cv.folds", self.folds, 2, 10_000)?;
        count("cv.repeats", self.repeats, 1, 100)?;
        count("cv.baseline_rf_trees", self.baseline_rf_trees, 0, 100_000)?;
        real("cv.buffer", self.buffer, 0.0, f64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_out_of_range_name_their_key() {
        for (toml, needle) in [
            ("[model]\nkind = \"mlp\"\nhidden = [-3]", "model.hidden = -3 is out of range"),
            ("[model]\nkind = \"mlp\"\nhidden = [2000000000]", "model.hidden = 2000000000"),
            ("[fit]\nepochs = 0", "fit.epochs = 0"),
            ("[fit]\nlr = -1.0", "fit.lr = -1"),
            ("[cv]\nfolds = 1", "cv.folds = 1"),
            ("[model]\nkind = \"lstm\"\nlayers = 0", "model.layers = 0"),
            ("[model]\nkind = \"gradient_boosting\"\nmax_leaves = 1", "model.max_leaves = 1"),
        ] {
            let err = TrainConfig::from_toml(toml).unwrap_err();
            assert!(err.to_string().contains(needle), "{toml}: {err}");
        }
        assert!(TrainConfig::from_toml("").is_ok());
    }
}
