//! Cross-validation folds: random, spatial (k-means blocks with a buffer), grouped, stratified,
//! site-spatial (the biomass patch CNN: spatial blocks within each site), optionally repeated.

use crate::error::{invalid, TrainError};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::config::{CvConfig, Scheme};
use super::data::TrainingData;

/// One fold: sample indices to train on and to test on (disjoint across folds' test sets).
#[derive(Clone, Debug)]
pub struct Fold {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
    /// Training samples removed by the spatial buffer.
    pub buffered: usize,
    /// Which repetition of the k folds this fold belongs to (repeated k-fold).
    pub repeat: usize,
}

/// `cv.folds` folds, `cv.repeats` times with fresh assignments: within one repetition the test
/// sets partition the samples.
pub fn folds(data: &TrainingData, cv: &CvConfig, seed: u64) -> Result<Vec<Fold>, TrainError> {
    let mut out = Vec::new();
    for r in 0..cv.repeats.max(1) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(1_000_003 * r as u64));
        let assign = assignment(data, cv, &mut rng)?;
        for mut f in split(data, cv, &assign)? {
            f.repeat = r;
            out.push(f);
        }
    }
    Ok(out)
}

/// The fold of every sample.
fn assignment(data: &TrainingData, cv: &CvConfig, mut rng: &mut ChaCha8Rng) -> Result<Vec<usize>, TrainError> {
    let n = data.len();
    let k = cv.folds;
    if k < 2 || k > n {
        return Err(invalid!("{k} folds for {n} samples: need 2 <= folds <= samples"));
    }
    Ok(match cv.scheme {
        Scheme::Random => {
            let mut idx: Vec<usize> = (0..n).collect();
            idx.shuffle(&mut rng);
            let mut a = vec![0; n];
            for (pos, &i) in idx.iter().enumerate() {
                a[i] = pos % k;
            }
            a
        }
        Scheme::Spatial => kmeans(&data.xy, k, rng),
        Scheme::Grouped => by_key(&data.groups, k, rng, "group")?,
        Scheme::SiteSpatial => site_spatial(data, k, rng)?,
        Scheme::Stratified => {
            let mut a = vec![0; n];
            let mut strata: Vec<&String> = data.strata.iter().collect();
            strata.sort();
            strata.dedup();
            let mut next = 0;
            for s in strata {
                let mut members: Vec<usize> = (0..n).filter(|&i| &data.strata[i] == s).collect();
                members.shuffle(rng);
                for i in members {
                    a[i] = next % k;
                    next += 1;
                }
            }
            a
        }
    })
}

/// The biomass patch CNN's hybrid site-spatial CV: within every site (group), k-means blocks of its points,
/// dealt to the k folds (starting at a random fold per site, so folds stay balanced); every fold
/// then tests a spatial block of every site that has k points or more. Smaller sites are dealt
/// point by point.
fn site_spatial(data: &TrainingData, k: usize, rng: &mut ChaCha8Rng) -> Result<Vec<usize>, TrainError> {
    if data.groups.iter().any(|g| g.is_empty()) {
        return Err("site-spatial cross-validation needs a group (site) for every sample: give --group when sampling".into());
    }
    let mut sites: Vec<&String> = data.groups.iter().collect();
    sites.sort();
    sites.dedup();
    let mut a = vec![0; data.len()];
    for site in sites {
        let members: Vec<usize> = (0..data.len()).filter(|&i| &data.groups[i] == site).collect();
        let start = rng.random_range(0..k);
        if members.len() < k {
            for (j, &i) in members.iter().enumerate() {
                a[i] = (start + j) % k;
            }
            continue;
        }
        let xy: Vec<(f64, f64)> = members.iter().map(|&i| data.xy[i]).collect();
        for (&i, c) in members.iter().zip(kmeans(&xy, k, rng)) {
            a[i] = (start + c) % k;
        }
    }
    Ok(a)
}

/// Train and test sets of each fold of one assignment, with the buffer applied.
fn split(data: &TrainingData, cv: &CvConfig, assign: &[usize]) -> Result<Vec<Fold>, TrainError> {
    let (n, k) = (data.len(), cv.folds);
    let mut out = Vec::new();
    for f in 0..k {
        let test: Vec<usize> = (0..n).filter(|&i| assign[i] == f).collect();
        if test.is_empty() {
            return Err(invalid!("fold {f} has no test sample ({:?} scheme); use fewer folds", cv.scheme));
        }
        let candidates: Vec<usize> = (0..n).filter(|&i| assign[i] != f).collect();
        let train: Vec<usize> = if cv.buffer > 0.0 {
            let b2 = cv.buffer * cv.buffer;
            candidates
                .iter()
                .copied()
                .filter(|&i| test.iter().all(|&t| (data.xy[i].0 - data.xy[t].0).powi(2) + (data.xy[i].1 - data.xy[t].1).powi(2) >= b2))
                .collect()
        } else {
            candidates.clone()
        };
        if train.len() < 2 {
            return Err(invalid!("fold {f}: the buffer of {} removes all but {} training samples", cv.buffer, train.len()));
        }
        out.push(Fold { buffered: candidates.len() - train.len(), train, test, repeat: 0 });
    }
    Ok(out)
}

/// Whole keys (groups) dealt to folds, largest first, each to the currently smallest fold.
fn by_key(keys: &[String], k: usize, rng: &mut ChaCha8Rng, what: &str) -> Result<Vec<usize>, TrainError> {
    let mut distinct: Vec<&String> = keys.iter().collect();
    distinct.sort();
    distinct.dedup();
    if distinct.len() < k {
        return Err(invalid!("{} distinct {what}s for {k} folds", distinct.len()));
    }
    distinct.shuffle(rng);
    distinct.sort_by_key(|g| std::cmp::Reverse(keys.iter().filter(|k| k == g).count()));
    let mut size = vec![0usize; k];
    let mut fold_of = std::collections::HashMap::new();
    for g in distinct {
        let f = (0..k).min_by_key(|&f| size[f]).expect("k >= 2");
        size[f] += keys.iter().filter(|k| *k == g).count();
        fold_of.insert(g.clone(), f);
    }
    Ok(keys.iter().map(|g| fold_of[g]).collect())
}

/// Seeded k-means (k-means++ start, Lloyd iterations) of the coordinates; returns the cluster of
/// each sample. Empty clusters are re-seeded with the farthest point.
pub fn kmeans(xy: &[(f64, f64)], k: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let d2 = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).powi(2) + (a.1 - b.1).powi(2);
    let mut centres = vec![xy[rng.random_range(0..xy.len())]];
    while centres.len() < k {
        let dist: Vec<f64> = xy.iter().map(|&p| centres.iter().map(|&c| d2(p, c)).fold(f64::MAX, f64::min)).collect();
        let total: f64 = dist.iter().sum();
        let mut pick = rng.random::<f64>() * total;
        let mut chosen = xy.len() - 1;
        for (i, d) in dist.iter().enumerate() {
            if pick < *d {
                chosen = i;
                break;
            }
            pick -= d;
        }
        centres.push(xy[chosen]);
    }
    let mut label = vec![0; xy.len()];
    for _ in 0..100 {
        let new: Vec<usize> =
            xy.iter().map(|&p| (0..k).min_by(|&a, &b| d2(p, centres[a]).total_cmp(&d2(p, centres[b]))).expect("k >= 1")).collect();
        let changed = new != label;
        label = new;
        for (c, centre) in centres.iter_mut().enumerate() {
            let members: Vec<(f64, f64)> = xy.iter().zip(&label).filter(|(_, l)| **l == c).map(|(p, _)| *p).collect();
            if members.is_empty() {
                // Re-seed with the point farthest from its centre.
                let far = (0..xy.len()).max_by(|&a, &b| d2(xy[a], *centre).total_cmp(&d2(xy[b], *centre))).expect("points");
                *centre = xy[far];
            } else {
                let m = members.len() as f64;
                *centre = (members.iter().map(|p| p.0).sum::<f64>() / m, members.iter().map(|p| p.1).sum::<f64>() / m);
            }
        }
        if !changed {
            break;
        }
    }
    label
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(xy: Vec<(f64, f64)>) -> TrainingData {
        let n = xy.len();
        TrainingData {
            target: "t".into(),
            inputs: vec![],
            tensors: vec![],
            y: vec![0.0; n],
            xy,
            groups: (0..n).map(|i| format!("g{}", i % 7)).collect(),
            strata: (0..n).map(|i| format!("s{}", i % 3)).collect(),
        }
    }

    #[test]
    fn test_sets_partition_the_samples_and_buffers_remove_neighbours() {
        let xy: Vec<(f64, f64)> = (0..200).map(|i| ((i % 20) as f64 * 100.0, (i / 20) as f64 * 100.0)).collect();
        let d = data(xy);
        for scheme in [Scheme::Random, Scheme::Spatial, Scheme::Grouped, Scheme::Stratified, Scheme::SiteSpatial] {
            let folds = folds(&d, &CvConfig { scheme, folds: 5, ..Default::default() }, 1).unwrap();
            let mut seen = vec![0; d.len()];
            for f in &folds {
                f.test.iter().for_each(|&i| seen[i] += 1);
                assert!(f.train.iter().all(|i| !f.test.contains(i)), "{scheme:?}: train and test overlap");
            }
            assert!(seen.iter().all(|&c| c == 1), "{scheme:?}: every sample tested exactly once");
        }
        let buffered = folds(&d, &CvConfig { scheme: Scheme::Spatial, folds: 5, buffer: 150.0, ..Default::default() }, 1).unwrap();
        for f in &buffered {
            assert!(f.buffered > 0, "a 150 m buffer on a 100 m grid removes neighbours");
            for &i in &f.train {
                for &t in &f.test {
                    let dist = ((d.xy[i].0 - d.xy[t].0).powi(2) + (d.xy[i].1 - d.xy[t].1).powi(2)).sqrt();
                    assert!(dist >= 150.0);
                }
            }
        }
        // Repeated k-fold: every repetition partitions the samples anew.
        let rep = folds(&d, &CvConfig { scheme: Scheme::Random, folds: 4, repeats: 3, ..Default::default() }, 1).unwrap();
        assert_eq!(rep.len(), 12);
        for r in 0..3 {
            let mut seen = vec![0; d.len()];
            rep.iter().filter(|f| f.repeat == r).for_each(|f| f.test.iter().for_each(|&i| seen[i] += 1));
            assert!(seen.iter().all(|&c| c == 1));
        }
        assert_ne!(rep[0].test, rep[4].test);
        // Site-spatial: every fold tests part of every site (7 sites of about 28 points).
        let ss = folds(&d, &CvConfig { scheme: Scheme::SiteSpatial, folds: 4, ..Default::default() }, 1).unwrap();
        for f in &ss {
            let mut sites: Vec<&String> = f.test.iter().map(|&i| &d.groups[i]).collect();
            sites.sort();
            sites.dedup();
            assert_eq!(sites.len(), 7);
        }
        // Grouped folds keep groups whole.
        let g = folds(&d, &CvConfig { scheme: Scheme::Grouped, folds: 3, ..Default::default() }, 1).unwrap();
        for f in &g {
            for &i in &f.test {
                assert!(f.train.iter().all(|&j| d.groups[j] != d.groups[i]));
            }
        }
    }
}
