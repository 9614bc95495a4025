//! Permutation importance of covariates: how much each fold model's test RMSE grows when one
//! covariate's values are shuffled among that fold's test samples, averaged over the folds.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::data::TrainingData;
use super::{metrics, CvResult};

/// (covariate, mean RMSE increase), most important first.
pub fn permutation(result: &CvResult, data: &TrainingData, log1p: bool, seed: u64) -> Result<Vec<(String, f64)>, String> {
    let specs = &result.specs;
    let mut names: Vec<String> =
        specs.iter().flat_map(|s| s.channels.iter().map(|c| c.covariate.clone())).filter(|c| !c.starts_with('@')).collect();
    names.sort();
    names.dedup();
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
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let mut increase = 0.0;
        for (member, fold) in result.members.iter().zip(&result.folds) {
            let obs: Vec<f32> = fold.test.iter().map(|&i| data.y[i]).collect();
            let n = fold.test.len();
            let raw = gather(&fold.test);
            let base = metrics::regression(&obs, &back(result.prepared.predict_raw(member, specs, &raw, n)?))["rmse"];
            let mut perm: Vec<usize> = (0..n).collect();
            perm.shuffle(&mut rng);
            // Every position of the covariate's channels moves with its sample.
            let shuffled: Vec<Vec<f32>> = raw
                .iter()
                .zip(specs)
                .zip(&lens)
                .map(|((orig, spec), &len)| {
                    let mut x = orig.clone();
                    let per = len / spec.channels.len();
                    for (c, ch) in spec.channels.iter().enumerate() {
                        if ch.covariate == name {
                            for (to, &from) in perm.iter().enumerate() {
                                let at = |i: usize| i * len + c * per..i * len + (c + 1) * per;
                                x[at(to)].copy_from_slice(&orig[at(from)]);
                            }
                        }
                    }
                    x
                })
                .collect();
            increase += metrics::regression(&obs, &back(result.prepared.predict_raw(member, specs, &shuffled, n)?))["rmse"] - base;
        }
        out.push((name, increase / result.members.len() as f64));
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(out)
}
