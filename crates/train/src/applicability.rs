//! The dissimilarity index (DI) and area of applicability (AOA) of a model's training data, as
//! Meyer & Pebesma (2021) define them and CAST's `trainDI` computes them: predictors
//! standardised (mean, sample standard deviation) and weighted by their importance (negative
//! importance counts 0); a sample's DI is its distance to the nearest training sample of
//! another cross-validation fold divided by the mean distance between training samples; the
//! AOA threshold is Q75 + 1.5 IQR of the training DI, capped at its maximum. The bundle stores
//! the weighted, standardised training samples and computes a pixel's DI against all of them
//! (see [`terrapix::bundle::uncertainty`]).
//!
//! The DI's predictors are every covariate channel of every input, windows and patches at
//! their centre pixel; map coordinates and patch positions (`@x`, `@patch_x`...) are left out.

use crate::error::TrainError;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde_json::json;

use super::cv::Fold;
use super::data::TrainingData;
use terrapix::bundle::uncertainty::{AoaGraph, AoaSummary};
use terrapix::bundle::{InputSpec, Layout};
use terrapix::metrics::quantile_sorted;

/// The DI's predictors: (position in the inputs flattened and concatenated, covariate name).
pub fn features(specs: &[InputSpec]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for s in specs {
        let len = s.layout.sample_len(s.channels.len());
        let per = len / s.channels.len().max(1);
        let centre = match s.layout {
            Layout::Window { size, .. } | Layout::Patch { size } => (size / 2) * size + size / 2,
            _ => 0,
        };
        for (c, ch) in s.channels.iter().enumerate() {
            if !ch.is_generated() {
                out.push((offset + c * per + centre, ch.covariate.clone()));
            }
        }
        offset += len;
    }
    out
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

/// The training DI, threshold and the graph's data; and the report section.
pub fn train(
    data: &TrainingData,
    specs: &[InputSpec],
    folds: &[Fold],
    importance: &[(String, f64)],
    max_points: usize,
    seed: u64,
) -> Result<(AoaGraph, serde_json::Value), TrainError> {
    let n = data.len();
    if n < 2 {
        return Err("the area of applicability needs at least two training samples".into());
    }
    let normalised = data.normalised(specs);
    let lens: Vec<usize> = specs.iter().map(|s| s.layout.sample_len(s.channels.len())).collect();
    let value = |i: usize, pos: usize| -> f64 {
        let mut p = pos;
        for (t, &len) in normalised.iter().zip(&lens) {
            if p < len {
                return t[i * len + p] as f64;
            }
            p -= len;
        }
        unreachable!("feature positions are within the inputs")
    };
    // Standardise; constant predictors carry no dissimilarity and are dropped.
    let mut chosen = Vec::new();
    for (pos, name) in features(specs) {
        let col: Vec<f64> = (0..n).map(|i| value(i, pos)).collect();
        let mean = col.iter().sum::<f64>() / n as f64;
        let sd = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        if sd.is_finite() && sd > 1e-12 {
            chosen.push((pos, name, mean, sd, col));
        }
    }
    if chosen.is_empty() {
        return Err("the area of applicability needs at least one covariate that varies among the samples".into());
    }
    let weight_of = |name: &str| importance.iter().find(|(n, _)| n == name).map_or(0.0, |(_, v)| v.max(0.0));
    let mut weights: Vec<f64> = chosen.iter().map(|c| weight_of(&c.1)).collect();
    if weights.iter().all(|w| *w <= 0.0) {
        weights.iter_mut().for_each(|w| *w = 1.0); // no usable importance: unweighted, as CAST
    }
    let f = chosen.len();
    let z: Vec<Vec<f64>> = (0..n).map(|i| chosen.iter().zip(&weights).map(|(c, w)| (c.4[i] - c.2) / c.3 * w).collect()).collect();

    // Mean over samples of the mean distance to every other sample.
    let mean_distance = (0..n)
        .into_par_iter()
        .map(|i| (0..n).filter(|&j| j != i).map(|j| distance(&z[i], &z[j])).sum::<f64>() / (n - 1) as f64)
        .sum::<f64>()
        / n as f64;
    if mean_distance.is_nan() || mean_distance <= 0.0 {
        return Err("all training samples are identical in predictor space: no area of applicability".into());
    }
    // Folds of the first repetition: a sample's DI only looks at other folds' samples.
    let mut fold_of = vec![usize::MAX; n];
    for (k, fold) in folds.iter().enumerate().filter(|(_, f)| f.repeat == 0) {
        fold.test.iter().for_each(|&i| fold_of[i] = k);
    }
    let train_di: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| {
            (0..n)
                .filter(|&j| j != i && (fold_of[i] == usize::MAX || fold_of[j] != fold_of[i]))
                .map(|j| distance(&z[i], &z[j]))
                .fold(f64::INFINITY, f64::min)
                / mean_distance
        })
        .collect();
    let mut sorted: Vec<f64> = train_di.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let (q25, q75) = (quantile_sorted(&sorted, 0.25), quantile_sorted(&sorted, 0.75));
    let max = *sorted.last().ok_or("no training DI")?;
    let threshold = (q75 + 1.5 * (q75 - q25)).min(max);

    let mut keep: Vec<usize> = (0..n).collect();
    if max_points > 0 && n > max_points {
        keep.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        keep.truncate(max_points);
        keep.sort_unstable();
    }
    let points: Vec<f32> = keep.iter().flat_map(|&i| z[i].iter().map(|&v| v as f32)).collect();
    let summary = AoaSummary {
        threshold,
        mean_distance,
        training_points: keep.len(),
        features: chosen.iter().map(|c| c.1.clone()).collect(),
        weights: weights.clone(),
        macs_per_pixel: keep.len() * (f + 1),
    };
    let outside = train_di.iter().filter(|&&d| d > threshold).count();
    let report = json!({
        "threshold": threshold,
        "mean_distance": mean_distance,
        "features": summary.features,
        "weights": weights,
        "training_points_stored": keep.len(),
        "multiply_adds_per_pixel": summary.macs_per_pixel,
        "training_di": {"q25": q25, "median": quantile_sorted(&sorted, 0.5), "q75": q75, "max": max},
        "training_samples_outside": outside,
        "train_di": train_di,
    });
    let graph = AoaGraph {
        indices: chosen.iter().map(|c| c.0 as i64).collect(),
        centre: chosen.iter().map(|c| c.2 as f32).collect(),
        scale: chosen.iter().zip(&weights).map(|(c, w)| (w / c.3) as f32).collect(),
        points,
        summary,
    };
    Ok((graph, report))
}
