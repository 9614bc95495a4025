//! Permutation importance of covariates: how much each fold model's test RMSE grows when one
//! covariate's values are shuffled among that fold's test samples, averaged over the folds.
//! A series input's covariates are permuted per feature, all steps together (`aet_*` for the
//! 61 monthly `aet_YYYYMMDD` channels): one month of a climate series alone says little, and a
//! model of 13 variables x 61 months would otherwise need 793 permutations.

use crate::error::TrainError;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::data::TrainingData;
use super::{metrics, CvResult};
use terrapix::bundle::{InputSpec, Layout};

/// What is permuted together: a label and the (input, channel) positions it covers.
fn units(specs: &[InputSpec]) -> Vec<(String, Vec<(usize, usize)>)> {
    let mut out: Vec<(String, Vec<(usize, usize)>)> = Vec::new();
    let mut add = |label: String, at: (usize, usize)| match out.iter_mut().find(|(l, _)| *l == label) {
        Some((_, v)) => v.push(at),
        None => out.push((label, vec![at])),
    };
    for (k, spec) in specs.iter().enumerate() {
        match spec.layout {
            Layout::Series { steps, features } if steps > 1 => {
                for f in 0..features {
                    let names: Vec<&str> = (0..steps).map(|t| spec.channels[t * features + f].covariate.as_str()).collect();
                    if names.iter().all(|n| n.starts_with('@')) {
                        continue;
                    }
                    for t in 0..steps {
                        add(series_label(&names, f), (k, t * features + f));
                    }
                }
            }
            _ => {
                for (c, ch) in spec.channels.iter().enumerate().filter(|(_, ch)| !ch.is_generated()) {
                    add(ch.covariate.clone(), (k, c));
                }
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// `aet_*` for `aet_20100101, aet_20100201...`: the names' common prefix and a star (or the
/// feature's position when they share none).
fn series_label(names: &[&str], feature: usize) -> String {
    let first = names[0];
    let common = names.iter().fold(first.len(), |n, s| first.bytes().zip(s.bytes()).take(n).take_while(|(a, b)| a == b).count());
    let prefix = first[..common].trim_end_matches(|c: char| c.is_ascii_digit());
    if prefix.is_empty() {
        format!("feature {feature} (all steps)")
    } else {
        format!("{prefix}*")
    }
}

/// (covariate, mean RMSE increase), most important first.
pub fn permutation(result: &CvResult, data: &TrainingData, log1p: bool, seed: u64) -> Result<Vec<(String, f64)>, TrainError> {
    let specs = &result.specs;
    let back = |v: Vec<f32>| if log1p { v.iter().map(|p| p.exp_m1()).collect() } else { v };
    let lens: Vec<usize> = specs.iter().map(|s| s.layout.sample_len(s.channels.len())).collect();
    // The raw input tensors of some samples, in their order.
    let gather = |rows: &[usize]| -> Vec<Vec<f32>> {
        data.tensors
            .iter()
            .zip(&lens)
            .map(|(t, &len)| rows.iter().flat_map(|&i| t[i * len..(i + 1) * len].iter().copied()).collect())
            .collect()
    };
    // Each fold's test samples, observations and unpermuted RMSE, computed once.
    let mut folds = Vec::new();
    for (member, fold) in result.members.iter().zip(&result.folds) {
        let obs: Vec<f32> = fold.test.iter().map(|&i| data.y[i]).collect();
        let raw = gather(&fold.test);
        let base = metrics::regression(&obs, &back(result.prepared.predict_raw(member, specs, &raw, fold.test.len())?))["rmse"];
        folds.push((member, obs, raw, base));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    for (label, positions) in units(specs) {
        let mut increase = 0.0;
        for (member, obs, raw, base) in &folds {
            let n = obs.len();
            let mut perm: Vec<usize> = (0..n).collect();
            perm.shuffle(&mut rng);
            // Every value of the unit moves with its sample.
            let mut shuffled = raw.clone();
            for &(k, c) in &positions {
                let (len, per) = (lens[k], lens[k] / specs[k].channels.len());
                for (to, &from) in perm.iter().enumerate() {
                    let at = |i: usize| i * len + c * per..i * len + (c + 1) * per;
                    shuffled[k][at(to)].copy_from_slice(&raw[k][at(from)]);
                }
            }
            increase += metrics::regression(obs, &back(result.prepared.predict_raw(member, specs, &shuffled, n)?))["rmse"] - base;
        }
        out.push((label, increase / result.members.len() as f64));
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use terrapix::bundle::Channel;

    #[test]
    fn series_features_are_permuted_together_and_other_covariates_by_name() {
        let names = ["aet_201001", "pr_201001", "aet_201002", "pr_201002", "aet_201003", "pr_201003"];
        let specs = vec![
            InputSpec { name: "w".into(), layout: Layout::window(3), channels: vec![Channel::new("tpi"), Channel::new("@x")] },
            InputSpec {
                name: "s".into(),
                layout: Layout::Series { steps: 3, features: 2 },
                channels: names.iter().map(|n| Channel::new(*n)).collect(),
            },
            InputSpec { name: "p".into(), layout: Layout::Pixel, channels: vec![Channel::new("tpi")] },
        ];
        let u = units(&specs);
        let labels: Vec<&str> = u.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["aet_*", "pr_*", "tpi"]);
        assert_eq!(u[0].1, [(1, 0), (1, 2), (1, 4)]);
        assert_eq!(u[2].1, [(0, 0), (2, 0)]);
    }
}
