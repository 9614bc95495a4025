//! Random forests (Breiman 2001) and quantile regression forests (Meinshausen 2006), grown on
//! binned covariates.
//!
//! Each covariate is cut into at most 256 bins of its training values (one bin per distinct
//! value when it has 256 or fewer: then every split CART could make is considered), so a node
//! finds its best split from per-bin sums in one pass over its samples instead of a sort per
//! candidate feature. A split between bins b and b+1 is stored as the float32 threshold half
//! way between the largest training value of bin b and the next training value above it, with
//! `x <= threshold` going left, as ONNX Runtime compares: the trainer and the bundle agree.
//!
//! A quantile forest is the same forest whose leaves also remember the training targets that
//! fall in them (every training sample of the fold, not only the bootstrap draw), weighted as
//! in Meinshausen's estimator of the conditional distribution.

use crate::error::{invalid, TrainError};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use terrapix::bundle::trees::{Node, Tree, TreeModel, QUANTILE_TOLERANCE};

/// Hyper-parameters of a forest (defaults: R randomForest's for regression).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ForestParams {
    pub trees: usize,
    /// Covariates tried per split (default: a third of them, at least 1).
    pub max_features: Option<usize>,
    /// Fewest (bootstrap) samples in a leaf.
    pub min_leaf: usize,
    /// Deepest a tree may grow (none: until leaves are pure or too small).
    pub max_depth: Option<usize>,
    /// Samples drawn per tree, as a share of the training samples.
    pub sample_fraction: f64,
    /// Draw with replacement (the bootstrap) or without.
    pub replace: bool,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams { trees: 500, max_features: None, min_leaf: 5, max_depth: None, sample_fraction: 1.0, replace: true }
    }
}

impl ForestParams {
    pub fn check(&self) -> Result<(), TrainError> {
        if self.trees == 0 {
            return Err("a forest needs at least one tree (trees = 0)".into());
        }
        let share = self.sample_fraction;
        let valid = share > 0.0 && (share <= 1.0 || self.replace);
        if !valid {
            return Err(invalid!("sample_fraction {} must be in (0, 1] (or above 1 with replace = true)", self.sample_fraction));
        }
        if self.min_leaf == 0 {
            return Err("min_leaf must be at least 1".into());
        }
        if self.max_features == Some(0) {
            return Err("max_features must be at least 1".into());
        }
        Ok(())
    }
}

/// Samples as rows of features: every input of a sample flattened, in manifest order.
pub struct Features {
    pub p: usize,
    /// Row-major `[n, p]`.
    pub x: Vec<f32>,
}

impl Features {
    pub fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.p..(i + 1) * self.p]
    }

    pub fn len(&self) -> usize {
        self.x.len() / self.p.max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }
}

/// The training rows of one fit, binned.
struct Binned {
    n: usize,
    /// Column-major `[p, n]` bin codes.
    codes: Vec<u8>,
    /// `cuts[f][b]`: the threshold between bins b and b+1 of feature f.
    cuts: Vec<Vec<f32>>,
}

const MAX_BINS: usize = 256;

fn bin(x: &Features, rows: &[usize]) -> Binned {
    let (n, p) = (rows.len(), x.p);
    let mut codes = vec![0u8; n * p];
    let mut cuts = Vec::with_capacity(p);
    let mut values: Vec<f32> = Vec::with_capacity(n);
    for f in 0..p {
        values.clear();
        values.extend(rows.iter().map(|&i| x.x[i * p + f]));
        values.sort_unstable_by(f32::total_cmp);
        // Distinct values and how many samples hold each.
        let mut distinct: Vec<(f32, usize)> = Vec::new();
        for &v in &values {
            match distinct.last_mut() {
                Some((last, c)) if *last == v => *c += 1,
                _ => distinct.push((v, 1)),
            }
        }
        // Upper edges of the bins: every distinct value, or about equal-count groups of them.
        let mut upper: Vec<usize> = Vec::new(); // index into distinct of each bin's largest value
        if distinct.len() <= MAX_BINS {
            upper.extend(0..distinct.len());
        } else {
            let mut seen = 0usize;
            for (j, (_, c)) in distinct.iter().enumerate() {
                seen += c;
                if seen as f64 >= (upper.len() + 1) as f64 * n as f64 / MAX_BINS as f64 || j + 1 == distinct.len() {
                    upper.push(j);
                }
            }
        }
        let feature_cuts: Vec<f32> = upper[..upper.len() - 1].iter().map(|&j| between(distinct[j].0, distinct[j + 1].0)).collect();
        for (k, &i) in rows.iter().enumerate() {
            let v = x.x[i * p + f];
            codes[f * n + k] = feature_cuts.partition_point(|&c| v > c) as u8;
        }
        cuts.push(feature_cuts);
    }
    Binned { n, codes, cuts }
}

/// A float32 threshold t with a <= t < b (a < b): the midpoint where float32 can hold one.
fn between(a: f32, b: f32) -> f32 {
    let m = ((a as f64 + b as f64) / 2.0) as f32;
    if m >= a && m < b {
        m
    } else {
        a
    }
}

/// A fitted forest: the trees as the bundle will hold them and, for a quantile forest, the
/// training samples of every leaf (for the exact in-memory estimator).
pub struct Forest {
    pub model: TreeModel,
    /// Per tree, per node: the training targets (model scale) in that leaf; empty unless quantile.
    pub leaf_targets: Vec<Vec<Vec<f32>>>,
}

/// Fits a forest on `rows` of `x` with targets `y` (indexed like `x`'s rows). With `grid`, the
/// leaves carry their targets' distribution over it (a quantile forest). `threads` 0: rayon's
/// default.
pub fn fit(x: &Features, y: &[f32], rows: &[usize], params: &ForestParams, seed: u64, grid: Option<&[f32]>, threads: usize) -> Forest {
    let binned = bin(x, rows);
    let yr: Vec<f32> = rows.iter().map(|&i| y[i]).collect();
    let mtry = params.max_features.unwrap_or((x.p / 3).max(1)).clamp(1, x.p.max(1));
    let draw = ((params.sample_fraction * rows.len() as f64).round() as usize).max(1);
    let grow_one = |t: usize| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(t as u64));
        let mut idx: Vec<u32> = if params.replace {
            (0..draw).map(|_| rng.random_range(0..rows.len()) as u32).collect()
        } else {
            let mut all: Vec<u32> = (0..rows.len() as u32).collect();
            all.shuffle(&mut rng);
            all.truncate(draw.min(rows.len()));
            all
        };
        let mut g = Grower { b: &binned, y: &yr, params, mtry, rng, nodes: Vec::new(), features: (0..x.p).collect() };
        g.grow(&mut idx, 0);
        let mut tree = Tree { nodes: g.nodes };
        let mut leaves = Vec::new();
        if let Some(grid) = grid {
            leaves = vec![Vec::new(); tree.nodes.len()];
            for (k, &i) in rows.iter().enumerate() {
                leaves[tree.leaf(x.row(i))].push(yr[k]);
            }
            for (node, targets) in tree.nodes.iter_mut().zip(&leaves) {
                if let Node::Leaf { dist, .. } = node {
                    *dist = distribution(targets, grid);
                }
            }
        }
        (tree, leaves)
    };
    let grown: Vec<(Tree, Vec<Vec<f32>>)> = if threads > 0 {
        match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
            Ok(pool) => pool.install(|| (0..params.trees).into_par_iter().map(grow_one).collect()),
            Err(_) => (0..params.trees).into_par_iter().map(grow_one).collect(),
        }
    } else {
        (0..params.trees).into_par_iter().map(grow_one).collect()
    };
    let (trees, leaf_targets): (Vec<Tree>, Vec<Vec<Vec<f32>>>) = grown.into_iter().unzip();
    let scale = 1.0 / trees.len() as f64;
    Forest { model: TreeModel { trees, scale, base: 0.0 }, leaf_targets }
}

/// Shares of `targets` in each bin of `grid`: a target goes to the first grid value at or above it.
pub fn distribution(targets: &[f32], grid: &[f32]) -> Vec<(u32, f32)> {
    let mut bins: Vec<u32> = targets.iter().map(|&v| grid.partition_point(|&g| g < v).min(grid.len() - 1) as u32).collect();
    bins.sort_unstable();
    let mut out: Vec<(u32, f32)> = Vec::new();
    let share = 1.0 / targets.len().max(1) as f32;
    for b in bins {
        match out.last_mut() {
            Some((last, w)) if *last == b => *w += share,
            _ => out.push((b, share)),
        }
    }
    out
}

/// The grid a quantile forest's distributions live on: every distinct target when there are at
/// most `max` of them (then the bundle's quantiles are the exact estimator's), else `max`
/// equal-count quantiles of the targets.
pub fn target_grid(y: &[f32], max: usize) -> Vec<f32> {
    let mut v: Vec<f32> = y.iter().copied().filter(|v| v.is_finite()).collect();
    v.sort_unstable_by(f32::total_cmp);
    v.dedup();
    if v.len() <= max {
        return v;
    }
    let mut sorted: Vec<f32> = y.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_unstable_by(f32::total_cmp);
    let mut grid: Vec<f32> =
        (1..=max).map(|k| sorted[((k * sorted.len()).div_ceil(max)).saturating_sub(1).min(sorted.len() - 1)]).collect();
    grid.dedup();
    grid
}

/// The exact quantile regression forest estimate at `x` (Meinshausen 2006) from one or more
/// fitted forests (pooled with equal weight per forest): for each q, the smallest training
/// target whose cumulative weight reaches q (to within the bundle's tolerance, so that both
/// read a quantile falling exactly on a target alike).
pub fn exact_quantiles(forests: &[&Forest], x: &[f32], qs: &[f64]) -> Vec<f64> {
    let mut weighted: Vec<(f32, f64)> = Vec::new();
    for f in forests {
        let per_tree = 1.0 / (f.model.trees.len() as f64 * forests.len() as f64);
        for (tree, leaves) in f.model.trees.iter().zip(&f.leaf_targets) {
            let targets = &leaves[tree.leaf(x)];
            let w = per_tree / targets.len() as f64;
            weighted.extend(targets.iter().map(|&v| (v, w)));
        }
    }
    weighted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    qs.iter()
        .map(|&q| {
            let mut cum = 0.0;
            for &(v, w) in &weighted {
                cum += w;
                if cum >= q - QUANTILE_TOLERANCE as f64 {
                    return v as f64;
                }
            }
            weighted.last().map_or(f64::NAN, |l| l.0 as f64)
        })
        .collect()
}

struct Grower<'a> {
    b: &'a Binned,
    y: &'a [f32],
    params: &'a ForestParams,
    mtry: usize,
    rng: ChaCha8Rng,
    nodes: Vec<Node>,
    features: Vec<usize>,
}

impl Grower<'_> {
    /// Grows the subtree of the samples `idx` (local row numbers, repeated as drawn); returns its node.
    fn grow(&mut self, idx: &mut [u32], depth: usize) -> u32 {
        let id = self.nodes.len() as u32;
        let n = idx.len();
        let sum: f64 = idx.iter().map(|&i| self.y[i as usize] as f64).sum();
        self.nodes.push(Node::Leaf { value: sum / n as f64, dist: Vec::new() });
        let deep_enough = self.params.max_depth.is_some_and(|d| depth >= d);
        if n < 2 * self.params.min_leaf || deep_enough {
            return id;
        }
        let first = self.y[idx[0] as usize];
        if idx.iter().all(|&i| self.y[i as usize] == first) {
            return id;
        }
        let Some((feature, bin)) = self.best_split(idx, sum) else { return id };
        let codes = &self.b.codes[feature * self.b.n..(feature + 1) * self.b.n];
        // Partition: samples of bins <= bin first.
        let mut split = 0;
        for k in 0..n {
            if codes[idx[k] as usize] <= bin {
                idx.swap(k, split);
                split += 1;
            }
        }
        let (l, r) = idx.split_at_mut(split);
        let left = self.grow(l, depth + 1);
        let right = self.grow(r, depth + 1);
        self.nodes[id as usize] = Node::Split { feature: feature as u32, threshold: self.b.cuts[feature][bin as usize], left, right };
        id
    }

    /// The split with the largest decrease of squared error among `mtry` covariates that are not
    /// constant in the node (drawn at random, as CART forests do); None when no split leaves
    /// `min_leaf` samples on both sides or improves the node.
    fn best_split(&mut self, idx: &[u32], total: f64) -> Option<(usize, u8)> {
        let n = idx.len();
        let min_leaf = self.params.min_leaf;
        let mut best: Option<(f64, usize, u8)> = None;
        let parent = total * total / n as f64;
        let (mut sums, mut counts) = ([0f64; MAX_BINS], [0u32; MAX_BINS]);
        let p = self.features.len();
        let mut tried = 0;
        for j in 0..p {
            if tried == self.mtry {
                break;
            }
            let pick = self.rng.random_range(j..p);
            self.features.swap(j, pick);
            let f = self.features[j];
            let bins = self.b.cuts[f].len() + 1;
            if bins < 2 {
                continue;
            }
            let codes = &self.b.codes[f * self.b.n..(f + 1) * self.b.n];
            sums[..bins].fill(0.0);
            counts[..bins].fill(0);
            for &i in idx {
                let c = codes[i as usize] as usize;
                sums[c] += self.y[i as usize] as f64;
                counts[c] += 1;
            }
            let (lo, hi) = (counts[..bins].iter().position(|&c| c > 0), counts[..bins].iter().rposition(|&c| c > 0));
            let (Some(lo), Some(hi)) = (lo, hi) else { continue };
            if lo == hi {
                continue; // constant in this node: does not count towards mtry
            }
            tried += 1;
            let (mut nl, mut sl) = (0usize, 0f64);
            for b in lo..hi {
                nl += counts[b] as usize;
                sl += sums[b];
                if counts[b] == 0 || nl < min_leaf {
                    continue;
                }
                let nr = n - nl;
                if nr < min_leaf {
                    break;
                }
                let gain = sl * sl / nl as f64 + (total - sl) * (total - sl) / nr as f64 - parent;
                if best.is_none_or(|(g, _, _)| gain > g) {
                    best = Some((gain, f, b as u8));
                }
            }
        }
        best.filter(|(g, _, _)| *g > 1e-12 * parent.abs().max(1e-300)).map(|(_, f, b)| (f, b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u64) -> (Features, Vec<f32>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let p = 4;
        let x: Vec<f32> = (0..n * p).map(|_| rng.random::<f32>()).collect();
        let y = (0..n).map(|i| 10.0 * x[i * p] + 5.0 * (x[i * p + 1] > 0.5) as u8 as f32 + rng.random::<f32>()).collect();
        (Features { p, x }, y)
    }

    #[test]
    fn forest_learns_and_splits_fall_between_training_values() {
        let (x, y) = data(2000, 1);
        let rows: Vec<usize> = (0..1500).collect();
        let f = fit(&x, &y, &rows, &ForestParams { trees: 50, ..Default::default() }, 7, None, 2);
        let test: Vec<usize> = (1500..2000).collect();
        let mse: f64 = test.iter().map(|&i| (f.model.predict(x.row(i)) - y[i] as f64).powi(2)).sum::<f64>() / 500.0;
        let var: f64 = {
            let m = test.iter().map(|&i| y[i] as f64).sum::<f64>() / 500.0;
            test.iter().map(|&i| (y[i] as f64 - m).powi(2)).sum::<f64>() / 500.0
        };
        assert!(mse < 0.1 * var, "R² below 0.9: mse {mse}, variance {var}");
        // The same seed gives the same forest.
        let g = fit(&x, &y, &rows, &ForestParams { trees: 50, ..Default::default() }, 7, None, 1);
        assert_eq!(f.model.predict(x.row(1600)), g.model.predict(x.row(1600)));
    }

    #[test]
    fn leaves_hold_at_least_min_leaf_draws_and_quantiles_bracket_the_median() {
        let (x, y) = data(600, 2);
        let rows: Vec<usize> = (0..600).collect();
        let grid = target_grid(&y, 10_000);
        assert_eq!(grid.len(), 600, "every distinct target");
        let f = fit(&x, &y, &rows, &ForestParams { trees: 20, min_leaf: 5, ..Default::default() }, 3, Some(&grid), 2);
        for (tree, leaves) in f.model.trees.iter().zip(&f.leaf_targets) {
            for (node, targets) in tree.nodes.iter().zip(leaves) {
                if let Node::Leaf { dist, .. } = node {
                    assert!(!targets.is_empty());
                    let total: f32 = dist.iter().map(|d| d.1).sum();
                    assert!((total - 1.0).abs() < 1e-5);
                }
            }
        }
        let q = exact_quantiles(&[&f], x.row(10), &[0.05, 0.5, 0.95]);
        assert!(q[0] <= q[1] && q[1] <= q[2]);
    }

    #[test]
    fn between_never_reaches_the_upper_value() {
        let a = 1.0f32;
        let b = f32::from_bits(a.to_bits() + 1);
        assert_eq!(between(a, b), a);
        assert_eq!(between(1.0, 2.0), 1.5);
    }
}
