//! A `TreeEnsembleRegressor` compiled for evaluation: every tree's nodes in one flat array of
//! 16-byte nodes (a tree's nodes contiguous), evaluated tree by tree over blocks of rows, so
//! that one tree (a few thousand nodes: tens of KiB) stays in L2 while every row of the block
//! walks it, instead of every row fetching every tree from memory. The rules are ONNX Runtime 1.31's, as
//! [`crate::bundle::ml_trees`] records them: trees summed in array order, missing values by
//! their track, float thresholds compared and scores accumulated in f32 (f64 for `_as_tensor`
//! attributes), base values added last, a target no leaf touched is 0.

use crate::bundle::ml_trees::{Aggregate, Ensemble, Mode};

/// Rows evaluated together against one tree (2048 rows of 12 covariates: 96 KiB).
pub const BLOCK: usize = 2048;

/// Rows walked in lockstep by [`Trees::leaves_leq`].
const LANES: usize = 8;

#[derive(Clone, Copy)]
struct Node {
    /// Feature index; for a leaf, the index of its first weight in `weights`.
    feature: u32,
    /// Mode (low 3 bits) and missing-goes-true (bit 3); `LEAF` marks a leaf.
    flags: u8,
    /// For a leaf: how many weights it has.
    count: u8,
    threshold: f32,
    /// Array indices of the children (the false child of a branch is `next`).
    true_child: u32,
    false_child: u32,
}

const LEAF: u8 = 7;
const MISSING_TRUE: u8 = 8;

fn mode_code(m: Mode) -> u8 {
    match m {
        Mode::Leq => 0,
        Mode::Lt => 1,
        Mode::Gte => 2,
        Mode::Gt => 3,
        Mode::Eq => 4,
        Mode::Neq => 5,
        Mode::Leaf => LEAF,
    }
}

/// A compiled ensemble. Generic over the attribute precision `T` (f32, or f64 for `_as_tensor`).
pub struct Trees {
    nodes: Vec<Node>,
    /// f64 thresholds, where the attributes were doubles (else empty: `Node::threshold` holds them).
    thresholds64: Vec<f64>,
    roots: Vec<u32>,
    /// A leaf's (target, weight) entries.
    targets: Vec<u32>,
    weights: Vec<f64>,
    n_targets: usize,
    aggregate: Aggregate,
    base_values: Vec<f64>,
    double: bool,
    /// Every branch is `x <= t` with no missing-value track to the true side (scikit-learn's,
    /// terrapix's forests): the walk needs no mode or NaN test (NaN <= t is false, as it should be).
    simple: bool,
    /// Input columns the trees read (at least max feature + 1).
    pub n_features: usize,
}

impl Trees {
    /// Compiles `e`; Err says why it cannot run natively (then ONNX Runtime runs it).
    pub fn compile(e: &Ensemble) -> Result<Trees, String> {
        if e.post_transform != "NONE" {
            return Err(format!("post_transform {} is not implemented natively", e.post_transform));
        }
        if !matches!(e.aggregate, Aggregate::Sum | Aggregate::Average) {
            return Err("MIN and MAX aggregation are not implemented natively".into());
        }
        if e.nodes.len() >= u32::MAX as usize {
            return Err("too many nodes".into());
        }
        if e.n_targets > 1 << 16 {
            return Err(format!("{} targets (terrapix maps at most 65,536 natively)", e.n_targets));
        }
        let mut nodes = Vec::with_capacity(e.nodes.len());
        let (mut targets, mut weights) = (Vec::new(), Vec::new());
        let mut thresholds64 = Vec::new();
        for n in &e.nodes {
            let leaf = n.mode == Mode::Leaf;
            let mut node = Node {
                feature: n.feature as u32,
                flags: mode_code(n.mode) | if n.missing_true { MISSING_TRUE } else { 0 },
                count: 0,
                threshold: n.threshold as f32,
                true_child: n.true_child as u32,
                false_child: n.false_child as u32,
            };
            if leaf {
                if n.weights.len() > u8::MAX as usize {
                    return Err("a leaf with more than 255 weights".into());
                }
                node.feature = targets.len() as u32;
                // One target: a leaf without a weight adds its own nodes_values entry.
                let own = [(0, n.threshold)];
                let entries: &[(usize, f64)] = if n.weights.is_empty() && e.n_targets == 1 { &own } else { &n.weights };
                node.count = entries.len() as u8;
                for &(t, w) in entries {
                    targets.push(t as u32);
                    weights.push(w);
                }
            }
            if e.double_attributes {
                thresholds64.push(n.threshold);
            }
            nodes.push(node);
        }
        let simple = !e.double_attributes && e.nodes.iter().all(|n| n.mode == Mode::Leaf || (n.mode == Mode::Leq && !n.missing_true));
        Ok(Trees {
            simple,
            nodes,
            thresholds64,
            roots: e.roots.iter().map(|&r| r as u32).collect(),
            targets,
            weights,
            n_targets: e.n_targets,
            aggregate: e.aggregate,
            base_values: e.base_values.clone(),
            double: e.double_attributes,
            n_features: e.max_feature() + 1,
        })
    }

    pub fn n_targets(&self) -> usize {
        self.n_targets
    }

    /// [`Trees::leaf`] for `simple` trees.
    #[inline]
    fn leaf_leq(&self, root: u32, x: &[f32]) -> &Node {
        let nodes = &self.nodes[..];
        let mut i = root as usize;
        loop {
            let n = &nodes[i];
            if n.flags == LEAF {
                return n;
            }
            i = if x[n.feature as usize] <= n.threshold { n.true_child } else { n.false_child } as usize;
        }
    }

    /// [`Trees::leaf_leq`] for `LANES` rows at once, stepped together: their node loads are
    /// independent, so the core overlaps them instead of waiting for each in turn.
    #[inline]
    fn leaves_leq(&self, root: u32, rows: &[&[f32]; LANES]) -> [usize; LANES] {
        let nodes = &self.nodes[..];
        let mut at = [root as usize; LANES];
        loop {
            let mut moved = false;
            for l in 0..LANES {
                let n = &nodes[at[l]];
                if n.flags != LEAF {
                    moved = true;
                    at[l] = if rows[l][n.feature as usize] <= n.threshold { n.true_child } else { n.false_child } as usize;
                }
            }
            if !moved {
                return at;
            }
        }
    }

    /// The leaf row `x` reaches in the tree rooted at `root`.
    #[inline]
    fn leaf(&self, root: u32, x: &[f32]) -> &Node {
        let mut i = root as usize;
        loop {
            let n = &self.nodes[i];
            let mode = n.flags & 7;
            if mode == LEAF {
                return n;
            }
            let v = x[n.feature as usize];
            let go = if self.double {
                let (v, t) = (v as f64, self.thresholds64[i]);
                compare(mode, v, t)
            } else {
                compare(mode, v, n.threshold)
            } || (v.is_nan() && n.flags & MISSING_TRUE != 0);
            i = if go { n.true_child } else { n.false_child } as usize;
        }
    }

    /// Evaluates `rows` rows of `width` columns (`x` row-major) into `out` (rows x n_targets).
    pub fn predict(&self, x: &[f32], width: usize, out: &mut [f32]) {
        let rows = x.len() / width.max(1);
        let nt = self.n_targets;
        if self.double {
            self.predict_as::<f64>(x, width, rows, nt, out);
        } else {
            self.predict_as::<f32>(x, width, rows, nt, out);
        }
    }

    fn predict_as<S: Score>(&self, x: &[f32], width: usize, rows: usize, nt: usize, out: &mut [f32]) {
        let mut scores = vec![S::ZERO; BLOCK * nt];
        let mut touched = vec![false; BLOCK * nt];
        for start in (0..rows).step_by(BLOCK) {
            let m = BLOCK.min(rows - start);
            scores[..m * nt].fill(S::ZERO);
            touched[..m * nt].fill(false);
            let row = |r: usize| &x[(start + r) * width..(start + r + 1) * width];
            for &root in &self.roots {
                let mut r = 0;
                if self.simple && nt == 1 {
                    // The common case (one target, `<=` splits): LANES rows at a time.
                    while r + LANES <= m {
                        let rows: [&[f32]; LANES] = std::array::from_fn(|l| row(r + l));
                        for (l, at) in self.leaves_leq(root, &rows).into_iter().enumerate() {
                            let leaf = &self.nodes[at];
                            if leaf.count > 0 {
                                scores[r + l] = scores[r + l].add(self.weights[leaf.feature as usize]);
                                touched[r + l] = true;
                            }
                        }
                        r += LANES;
                    }
                }
                for r in r..m {
                    let row = row(r);
                    let leaf = if self.simple { self.leaf_leq(root, row) } else { self.leaf(root, row) };
                    let first = leaf.feature as usize;
                    if nt == 1 {
                        // One target: only a leaf's first weight counts.
                        if leaf.count > 0 {
                            scores[r] = scores[r].add(self.weights[first]);
                            touched[r] = true;
                        }
                    } else {
                        for k in first..first + leaf.count as usize {
                            let t = r * nt + self.targets[k] as usize;
                            scores[t] = scores[t].add(self.weights[k]);
                            touched[t] = true;
                        }
                    }
                }
            }
            let n_trees = self.roots.len().max(1);
            for r in 0..m {
                for t in 0..nt {
                    let k = r * nt + t;
                    let mut s = scores[k];
                    if self.aggregate == Aggregate::Average {
                        s = s.div(n_trees);
                    }
                    let base = self.base_values.get(t).copied().unwrap_or(0.0);
                    out[(start + r) * nt + t] = if nt > 1 && !touched[k] { 0.0 } else { s.add(base).to_f32() };
                }
            }
        }
    }
}

#[inline]
fn compare<T: PartialOrd>(mode: u8, v: T, t: T) -> bool {
    match mode {
        0 => v <= t,
        1 => v < t,
        2 => v >= t,
        3 => v > t,
        4 => v == t,
        _ => v != t,
    }
}

/// The accumulator ONNX Runtime uses: the attributes' precision.
trait Score: Copy {
    const ZERO: Self;
    fn add(self, w: f64) -> Self;
    fn div(self, n: usize) -> Self;
    fn to_f32(self) -> f32;
}

impl Score for f32 {
    const ZERO: f32 = 0.0;
    fn add(self, w: f64) -> f32 {
        self + w as f32
    }
    fn div(self, n: usize) -> f32 {
        self / n as f32
    }
    fn to_f32(self) -> f32 {
        self
    }
}

impl Score for f64 {
    const ZERO: f64 = 0.0;
    fn add(self, w: f64) -> f64 {
        self + w
    }
    fn div(self, n: usize) -> f64 {
        self / n as f64
    }
    fn to_f32(self) -> f32 {
        self as f32
    }
}
