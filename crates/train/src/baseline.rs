//! The reference every seed compares against: a random forest on the same folds and features.

use terrapix::metrics::Metrics;

use super::cv::Fold;
use super::data::TrainingData;
use super::forest::{self, ForestParams};
use super::metrics;

/// Out-of-fold predictions of a random forest of `trees` trees (a third of the covariates tried
/// per split and leaves of at least 5 samples, as R's randomForest for regression) trained on
/// every input flattened, and their metrics.
pub fn random_forest(data: &TrainingData, folds: &[Fold], trees: usize, seed: u64, threads: usize) -> (Vec<f32>, Metrics) {
    let x = data.features();
    let params = ForestParams { trees, ..Default::default() };
    // Averaged over repetitions, as the trainer's out-of-fold predictions.
    let (mut sum, mut count) = (vec![0f64; data.len()], vec![0u32; data.len()]);
    for (k, fold) in folds.iter().enumerate() {
        let f = forest::fit(&x, &data.y, &fold.train, &params, seed + k as u64, None, threads);
        for &i in &fold.test {
            sum[i] += f.model.predict(x.row(i));
            count[i] += 1;
        }
    }
    let oof: Vec<f32> = sum.iter().zip(&count).map(|(s, &n)| if n > 0 { (s / n as f64) as f32 } else { f32::NAN }).collect();
    let m = metrics::regression(&data.y, &oof);
    (oof, m)
}
