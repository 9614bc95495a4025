//! Permutation importance of covariates: how much each fold model's test RMSE grows when one
//! covariate's values are shuffled among that fold's test samples, averaged over the folds.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::Tensor;

use super::data::TrainingData;
use super::{fit, metrics, CvResult};

/// (covariate, mean RMSE increase), most important first.
pub fn permutation(result: &CvResult, data: &TrainingData, log1p: bool, seed: u64) -> Vec<(String, f64)> {
    let y: Vec<f32> = if log1p { data.y.iter().map(|v| v.ln_1p()).collect() } else { data.y.clone() };
    let t = fit::Tensors::new(&result.specs, &data.normalised(&result.specs), &y, super::device());
    let mut names: Vec<String> =
        result.specs.iter().flat_map(|s| s.channels.iter().map(|c| c.covariate.clone())).filter(|c| !c.starts_with('@')).collect();
    names.sort();
    names.dedup();
    let back = |v: Vec<f32>| if log1p { v.iter().map(|p| p.exp_m1()).collect() } else { v };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out: Vec<(String, f64)> = names
        .into_iter()
        .map(|name| {
            let mut increase = 0.0;
            for (member, fold) in result.members.iter().zip(&result.folds) {
                let obs: Vec<f32> = fold.test.iter().map(|&i| data.y[i]).collect();
                let (x, _) = t.rows(&fold.test);
                let base = metrics::regression(&obs, &back(fit::forward(member, &x)))["rmse"];
                let mut perm: Vec<i64> = (0..fold.test.len() as i64).collect();
                perm.shuffle(&mut rng);
                let perm = Tensor::from_slice(&perm).to_device(x[0].device());
                let shuffled: Vec<Tensor> = x
                    .iter()
                    .zip(&result.specs)
                    .map(|(x, spec)| {
                        let x = x.copy();
                        let channels = spec.channels.len() as i64;
                        let view = x.view([x.size()[0], channels, -1]);
                        for (c, ch) in spec.channels.iter().enumerate() {
                            if ch.covariate == name {
                                let column = view.select(1, c as i64);
                                let permuted = column.index_select(0, &perm);
                                column.shallow_clone().copy_(&permuted);
                            }
                        }
                        x
                    })
                    .collect();
                increase += metrics::regression(&obs, &back(fit::forward(member, &shuffled)))["rmse"] - base;
            }
            (name, increase / result.members.len() as f64)
        })
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}
