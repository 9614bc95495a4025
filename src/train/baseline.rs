//! The reference every seed compares against: a random forest on the same folds and features.

use std::collections::BTreeMap;

use smartcore::ensemble::random_forest_regressor::{RandomForestRegressor, RandomForestRegressorParameters};
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::cv::Fold;
use super::data::TrainingData;
use super::metrics;

/// Out-of-fold predictions of a random forest of `trees` trees (m = p / 3 candidate features per
/// split, as R's randomForest for regression) trained on every input flattened, and their metrics.
pub fn random_forest(data: &TrainingData, folds: &[Fold], trees: usize, seed: u64) -> Result<(Vec<f32>, BTreeMap<String, f64>), String> {
    let lens: Vec<usize> = data.inputs.iter().map(|i| i.layout.sample_len(i.channels.len())).collect();
    let rows: Vec<Vec<f64>> = (0..data.len())
        .map(|i| data.tensors.iter().zip(&lens).flat_map(|(t, &len)| t[i * len..(i + 1) * len].iter().map(|v| *v as f64)).collect())
        .collect();
    let p = lens.iter().sum::<usize>();
    // Averaged over repetitions, as the trainer's out-of-fold predictions.
    let (mut sum, mut count) = (vec![0f64; data.len()], vec![0u32; data.len()]);
    for (k, fold) in folds.iter().enumerate() {
        let pick = |idx: &[usize]| DenseMatrix::from_2d_vec(&idx.iter().map(|&i| rows[i].clone()).collect()).map_err(|e| e.to_string());
        let y: Vec<f64> = fold.train.iter().map(|&i| data.y[i] as f64).collect();
        let params =
            RandomForestRegressorParameters { n_trees: trees, m: Some((p / 3).max(1)), seed: seed + k as u64, ..Default::default() };
        let forest = RandomForestRegressor::fit(&pick(&fold.train)?, &y, params).map_err(|e| format!("random forest: {e}"))?;
        let pred: Vec<f64> = forest.predict(&pick(&fold.test)?).map_err(|e| format!("random forest: {e}"))?;
        for (&i, v) in fold.test.iter().zip(pred) {
            sum[i] += v;
            count[i] += 1;
        }
    }
    let oof: Vec<f32> = sum.iter().zip(&count).map(|(s, &n)| if n > 0 { (s / n as f64) as f32 } else { f32::NAN }).collect();
    let m = metrics::regression(&data.y, &oof);
    Ok((oof, m))
}
