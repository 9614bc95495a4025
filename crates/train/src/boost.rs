//! Gradient-boosted trees, fitted by LightGBM (the `lightgbm3` crate builds it from its
//! vendored source), read back from LightGBM's model text into [`TreeModel`] for the bundle.

use crate::error::{invalid, TrainError};
use lightgbm3::{Booster, Dataset};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::forest::Features;
use terrapix::bundle::trees::{f32_at_or_below, Node, Tree, TreeModel};

/// Hyper-parameters of gradient boosting (LightGBM's names in brackets).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BoostParams {
    /// Boosting rounds, at most (num_iterations).
    pub trees: usize,
    pub learning_rate: f64,
    /// Leaves per tree (num_leaves).
    pub max_leaves: usize,
    /// Deepest a tree may grow (max_depth; none: no limit).
    pub max_depth: Option<usize>,
    /// Fewest samples in a leaf (min_data_in_leaf).
    pub min_leaf: usize,
    /// Share of the samples drawn, without replacement, for each tree (bagging_fraction).
    pub subsample: f64,
    /// Share of the covariates tried per split (feature_fraction_bynode).
    pub max_features: f64,
    /// L2 penalty on leaf values (lambda_l2).
    pub l2: f64,
    /// Stop when the validation split's loss has not improved for this many rounds; the best
    /// round is kept (0: no early stopping, every round on all training samples).
    pub early_stopping: usize,
    pub objective: Objective,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Objective {
    /// Squared error: the model predicts the conditional mean.
    Squared,
    /// Pinball loss at level `q`: the model predicts the conditional q-quantile.
    Quantile { q: f64 },
}

impl Default for BoostParams {
    fn default() -> Self {
        BoostParams {
            trees: 1000,
            learning_rate: 0.05,
            max_leaves: 31,
            max_depth: None,
            min_leaf: 20,
            subsample: 1.0,
            max_features: 1.0,
            l2: 0.0,
            early_stopping: 50,
            objective: Objective::Squared,
        }
    }
}

impl BoostParams {
    pub fn check(&self) -> Result<(), TrainError> {
        let share = |v: f64, name: &str| {
            if v > 0.0 && v <= 1.0 {
                Ok(())
            } else {
                Err(invalid!("{name} {v} must be in (0, 1]"))
            }
        };
        share(self.subsample, "subsample")?;
        share(self.max_features, "max_features")?;
        if self.trees == 0 || self.max_leaves < 2 || self.learning_rate <= 0.0 || self.l2 < 0.0 {
            return Err("boosting needs trees >= 1, max_leaves >= 2, learning_rate > 0 and l2 >= 0".into());
        }
        if let Objective::Quantile { q } = self.objective {
            if !(q > 0.0 && q < 1.0) {
                return Err(invalid!("quantile objective: q {q} must be in (0, 1)"));
            }
        }
        Ok(())
    }
}

/// A fitted booster: LightGBM's own model (for in-memory predictions) and its trees.
pub struct Boosted {
    pub booster: Booster,
    pub model: TreeModel,
    /// Boosting rounds kept (after early stopping).
    pub rounds: usize,
}

fn rows_of(x: &Features, rows: &[usize]) -> Vec<f32> {
    rows.iter().flat_map(|&i| x.row(i).iter().copied()).collect()
}

/// Fits on `fit_rows`, stopping early on `valid_rows` when given and configured.
pub fn fit(
    x: &Features,
    y: &[f32],
    fit_rows: &[usize],
    valid_rows: &[usize],
    params: &BoostParams,
    seed: u64,
    threads: usize,
) -> Result<Boosted, TrainError> {
    let err = |e: lightgbm3::Error| format!("gradient boosting (LightGBM): {e}");
    let p = x.p as i32;
    let labels = |rows: &[usize]| rows.iter().map(|&i| y[i]).collect::<Vec<f32>>();
    let train = Dataset::from_slice(&rows_of(x, fit_rows), &labels(fit_rows), p, true).map_err(err)?;
    let stop = params.early_stopping > 0 && !valid_rows.is_empty();
    let valid = if stop {
        Some(Dataset::from_slice_with_reference(&rows_of(x, valid_rows), &labels(valid_rows), p, true, Some(&train)).map_err(err)?)
    } else {
        None
    };
    let (objective, metric, alpha) = match params.objective {
        Objective::Squared => ("regression", "l2", 0.5),
        Objective::Quantile { q } => ("quantile", "quantile", q),
    };
    let mut config = json!({
        "objective": objective,
        "metric": metric,
        "alpha": alpha,
        "num_iterations": params.trees,
        "learning_rate": params.learning_rate,
        "num_leaves": params.max_leaves,
        "max_depth": params.max_depth.map_or(-1, |d| d as i64),
        "min_data_in_leaf": params.min_leaf,
        "feature_fraction_bynode": params.max_features,
        "lambda_l2": params.l2,
        "seed": seed,
        "deterministic": true,
        "num_threads": threads,
        "verbosity": -1,
        // Covariates never hold NaN here (nodata is masked), and zero is a value like any other:
        // every split is then `x <= threshold`, which the bundle reproduces exactly.
        "use_missing": false,
        "zero_as_missing": false,
    });
    if params.subsample < 1.0 {
        config["bagging_fraction"] = json!(params.subsample);
        config["bagging_freq"] = json!(1);
    }
    if stop {
        config["early_stopping_rounds"] = json!(params.early_stopping);
    }
    let booster = Booster::train_with_valid(train, valid, &config).map_err(err)?;
    let text = booster.save_string().map_err(err)?;
    let model = parse_model(&text)?;
    let rounds = model.trees.len();
    Ok(Boosted { booster, model, rounds })
}

/// LightGBM's own predictions for `rows`.
pub fn predict(b: &Boosted, x: &Features, rows: &[usize]) -> Result<Vec<f32>, TrainError> {
    let out = b.booster.predict(&rows_of(x, rows), x.p as i32, true).map_err(|e| TrainError::Boost(e.to_string()))?;
    Ok(out.into_iter().map(|v| v as f32).collect())
}

/// The trees of a LightGBM model text (`Tree=` sections: `split_feature`, `threshold`,
/// `decision_type`, `left_child`, `right_child`, `leaf_value`). Children below zero are leaves
/// (`-1 - leaf`). Leaf values already include the learning rate and, in the first tree, the
/// initial score, so the model is the plain sum of its trees.
pub fn parse_model(text: &str) -> Result<TreeModel, TrainError> {
    let mut trees = Vec::new();
    for section in text.split("\nTree=").skip(1) {
        let field = |name: &str| -> Option<&str> {
            section.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix('='))).map(str::trim)
        };
        let numbers = |name: &str| -> Result<Vec<f64>, TrainError> {
            field(name)
                .unwrap_or("")
                .split_whitespace()
                .map(|v| v.parse::<f64>().map_err(|e| TrainError::Boost(format!("its model: {name} '{v}': {e}"))))
                .collect()
        };
        let leaves = numbers("leaf_value")?;
        if leaves.is_empty() {
            return Err("LightGBM model: a tree without leaf_value".into());
        }
        if leaves.len() == 1 {
            trees.push(Tree { nodes: vec![Node::Leaf { value: leaves[0], dist: Vec::new() }] });
            continue;
        }
        let (feature, threshold, decision) = (numbers("split_feature")?, numbers("threshold")?, numbers("decision_type")?);
        let (left, right) = (numbers("left_child")?, numbers("right_child")?);
        let internal = leaves.len() - 1;
        if [feature.len(), threshold.len(), decision.len(), left.len(), right.len()].iter().any(|&l| l != internal) {
            return Err("LightGBM model: split arrays of unequal length".into());
        }
        // Node ids: internal nodes first (LightGBM's numbering), then the leaves.
        let child = |c: f64| if c < 0.0 { (internal as i64 + (-1 - c as i64)) as u32 } else { c as u32 };
        let mut nodes = Vec::with_capacity(2 * internal + 1);
        for i in 0..internal {
            let d = decision[i] as u32;
            if d & 1 != 0 || (d >> 2) & 3 != 0 {
                return Err(invalid!("LightGBM model: split {i} is categorical or routes missing values (decision_type {d})"));
            }
            nodes.push(Node::Split {
                feature: feature[i] as u32,
                threshold: f32_at_or_below(threshold[i]),
                left: child(left[i]),
                right: child(right[i]),
            });
        }
        nodes.extend(leaves.iter().map(|&value| Node::Leaf { value, dist: Vec::new() }));
        trees.push(Tree { nodes });
    }
    if trees.is_empty() {
        return Err("LightGBM model: no trees".into());
    }
    Ok(TreeModel { trees, scale: 1.0, base: 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn parsed_trees_predict_what_lightgbm_predicts() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let (n, p) = (3000, 5);
        let x: Vec<f32> = (0..n * p).map(|_| rng.random::<f32>() * 100.0 - 20.0).collect();
        let y: Vec<f32> = (0..n).map(|i| x[i * p] * 0.3 + (x[i * p + 2] > 10.0) as u8 as f32 * 7.0 + rng.random::<f32>()).collect();
        let f = Features { p, x };
        let rows: Vec<usize> = (0..2000).collect();
        let valid: Vec<usize> = (2000..2400).collect();
        for objective in [Objective::Squared, Objective::Quantile { q: 0.9 }] {
            let params = BoostParams { trees: 200, objective, ..Default::default() };
            let b = fit(&f, &y, &rows, &valid, &params, 1, 2).unwrap();
            assert!(b.rounds >= 1 && b.rounds <= 200);
            let test: Vec<usize> = (2400..3000).collect();
            let theirs = predict(&b, &f, &test).unwrap();
            for (&i, t) in test.iter().zip(&theirs) {
                let ours = b.model.predict(f.row(i)) as f32;
                assert!((ours - t).abs() <= 1e-5 * t.abs().max(1.0), "row {i}: {ours} against LightGBM's {t}");
            }
        }
    }
}
