//! Tree ensembles as ONNX-ML graphs (`ai.onnx.ml` TreeEnsembleRegressor), written from Rust.
//!
//! The fold models of a forest or a boosted ensemble are written as ONE TreeEnsembleRegressor
//! node: member k's trees add to target k, so ONNX Runtime walks every tree in one pass over
//! the rows (one copy of the trees, its own row parallelism). The graph then reduces the
//! members to their mean and spread, as [`super::ensemble`] does for networks. A quantile
//! forest's leaves also carry their training targets' distribution on a shared grid of target
//! values (extra targets): their sum is the forest's conditional distribution (Meinshausen
//! 2006), from which a cumulative sum and a count give the quantiles inside the graph.
//!
//! Thresholds are float32 with `x <= t` going left, which is how ONNX Runtime compares float
//! inputs; [`Tree::leaf`] walks the trees the same way, so the trainer's in-memory predictions
//! and the bundle's agree.

use super::graph::{Attr, GraphBuilder};
use super::onnx::ModelProto;
use super::{InputSpec, Manifest, OutputBand, OutputKind};

/// One tree: node 0 is the root.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    pub nodes: Vec<Node>,
}

#[derive(Clone, Debug)]
pub enum Node {
    /// `x[feature] <= threshold` goes to `left`, anything else (NaN included) to `right`.
    Split { feature: u32, threshold: f32, left: u32, right: u32 },
    /// A leaf: its value and, in a quantile forest, the share of its training targets in each
    /// bin of the grid (`(bin, share)`, shares summing to 1).
    Leaf { value: f64, dist: Vec<(u32, f32)> },
}

impl Tree {
    /// The leaf that `x` falls in.
    pub fn leaf(&self, x: &[f32]) -> usize {
        let mut i = 0;
        while let Node::Split { feature, threshold, left, right } = &self.nodes[i] {
            i = if x[*feature as usize] <= *threshold { *left as usize } else { *right as usize };
        }
        i
    }

    pub fn value(&self, x: &[f32]) -> f64 {
        match &self.nodes[self.leaf(x)] {
            Node::Leaf { value, .. } => *value,
            Node::Split { .. } => unreachable!("leaf() ends at a leaf"),
        }
    }
}

/// One fold model: its prediction is `base + scale * sum of its trees' leaf values` (a forest
/// averages: scale 1 / trees; boosting sums: scale 1).
#[derive(Clone, Debug)]
pub struct TreeModel {
    pub trees: Vec<Tree>,
    pub scale: f64,
    pub base: f64,
}

impl TreeModel {
    pub fn predict(&self, x: &[f32]) -> f64 {
        self.base + self.scale * self.trees.iter().map(|t| t.value(x)).sum::<f64>()
    }
}

/// The conditional distribution a quantile forest's bundle serves: leaves' shares over `grid`
/// (ascending target values, model scale) and the quantiles to output.
#[derive(Clone, Debug)]
pub struct QuantileHead {
    pub grid: Vec<f32>,
    pub quantiles: Vec<f64>,
}

/// A cumulative share counts as reaching q from q - this on: the graph sums float32 shares,
/// whose rounding must not move a quantile that falls exactly on a grid value.
pub const QUANTILE_TOLERANCE: f32 = 2e-6;

/// The largest float32 not above `t`: for every float32 x, `x <= t` exactly when `x <= below(t)`.
/// Thresholds of other libraries (LightGBM's are doubles) become float32 this way.
pub fn f32_at_or_below(t: f64) -> f32 {
    let f = t as f32;
    if (f as f64) <= t || f.is_nan() {
        return f;
    }
    // One step towards minus infinity (f32::next_down is not stable at our minimum Rust).
    let bits = f.to_bits();
    f32::from_bits(if f == 0.0 {
        0x8000_0001
    } else if f > 0.0 {
        bits - 1
    } else {
        bits + 1
    })
}

/// Graph outputs of a tree-ensemble bundle.
pub const SCORES: &str = "members";
pub const MEAN_OUTPUT: &str = "mean";
pub const STD_OUTPUT: &str = "std";
pub const QUANTILES_OUTPUT: &str = "quantiles";

/// The bundle graph of `members` (fold models taking the same flattened features): every input
/// flattened and concatenated in manifest order, one TreeEnsembleRegressor, then `mean` and
/// `std` of the members and, with `head`, the configured quantiles of the members' pooled
/// conditional distribution. Returns the graph and the manifest's output bands.
pub fn ensemble_graph(members: &[TreeModel], inputs: &[InputSpec], head: Option<&QuantileHead>) -> (ModelProto, Vec<OutputBand>) {
    let k = members.len();
    let bins = head.map_or(0, |h| h.grid.len());
    let mut g = GraphBuilder::new("terrapix_trees");
    let xs: Vec<String> =
        inputs.iter().map(|i| g.input(&i.name, &i.layout.shape(i.channels.len()).iter().map(|d| *d as i64).collect::<Vec<_>>())).collect();
    let features = g.flat_features(&xs.iter().map(String::as_str).collect::<Vec<_>>());

    let mut a = Attributes::default();
    let mut tree_id = 0i64;
    for (m, member) in members.iter().enumerate() {
        // Each member's distribution weighs 1 / k of the pooled one.
        let dist_scale = 1.0 / (member.trees.len().max(1) as f64 * k as f64);
        for (t, tree) in member.trees.iter().enumerate() {
            // The member's base value rides on its first tree's leaves: no base_values per target.
            let base = if t == 0 { member.base } else { 0.0 };
            a.add_tree(tree_id, tree, |value, dist, out| {
                out.push((m as i64, (base + member.scale * value) as f32));
                if bins > 0 {
                    out.extend(dist.iter().map(|&(b, w)| ((k as u32 + b) as i64, (w as f64 * dist_scale) as f32)));
                }
            });
            tree_id += 1;
        }
    }
    let scores = a.node(&mut g, &features, (k + bins) as i64);
    let member_scores = if bins > 0 { g.slice_columns(&scores, 0, k as i64) } else { scores.clone() };
    g.op_outputs("Identity", &[&member_scores], vec![], &[SCORES]);
    let mean = g.op("ReduceMean", &[SCORES], vec![("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(1))]);
    let dev = g.op("Sub", &[SCORES, &mean], vec![]);
    let sq = g.op("Mul", &[&dev, &dev], vec![]);
    let var = g.op("ReduceMean", &[&sq], vec![("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(1))]);
    let std = g.op("Sqrt", &[&var], vec![]);
    g.output(&mean, MEAN_OUTPUT, &[1]);
    g.output(&std, STD_OUTPUT, &[1]);
    let mut bands = vec![
        OutputBand { name: "mean".into(), graph_output: MEAN_OUTPUT.into(), index: 0, kind: OutputKind::Mean },
        OutputBand { name: "std".into(), graph_output: STD_OUTPUT.into(), index: 0, kind: OutputKind::Std },
    ];
    if let Some(h) = head {
        let pdf = g.slice_columns(&scores, k as i64, (k + bins) as i64);
        let q = quantiles(&mut g, &pdf, h);
        g.output(&q, QUANTILES_OUTPUT, &[h.quantiles.len() as i64]);
        for (i, &q) in h.quantiles.iter().enumerate() {
            bands.push(OutputBand {
                name: quantile_name(q),
                graph_output: QUANTILES_OUTPUT.into(),
                index: i,
                kind: OutputKind::Quantile { q },
            });
        }
    }
    (g.finish(), bands)
}

/// `q05`, `q50`, `q975`: the band name of quantile q.
pub fn quantile_name(q: f64) -> String {
    let pct = format!("{}", (q * 1000.0).round() / 10.0);
    let pct = if q < 0.1 && !pct.starts_with('0') { format!("0{pct}") } else { pct };
    format!("q{}", pct.replace('.', ""))
}

/// Quantiles of the distribution `pdf` (`[N, bins]`, shares over `head.grid`): for each q the
/// first grid value whose cumulative share reaches q (as quantregForest defines a QRF
/// quantile), as `[N, quantiles]`.
fn quantiles(g: &mut GraphBuilder, pdf: &str, head: &QuantileHead) -> String {
    let axis = g.int_constant("axis", vec![1]);
    // CumSum takes a scalar axis.
    let axis = g.op("Squeeze", &[&axis], vec![]);
    let cdf = g.op("CumSum", &[pdf, &axis], vec![]);
    let grid = g.constant("grid", &[head.grid.len() as i64], head.grid.clone());
    let last = g.constant("last_bin", &[], vec![(head.grid.len() - 1) as f32]);
    let mut cols = Vec::new();
    for &q in &head.quantiles {
        let level = g.constant("level", &[], vec![q as f32 - QUANTILE_TOLERANCE]);
        let below = g.op("Less", &[&cdf, &level], vec![]);
        let below = g.op("Cast", &[&below], vec![("to", Attr::Int(1))]);
        let axes = g.int_constant("axes", vec![1]);
        let count = g.op("ReduceSum", &[&below, &axes], vec![("keepdims", Attr::Int(1))]);
        let count = g.op("Min", &[&count, &last], vec![]);
        let index = g.op("Cast", &[&count], vec![("to", Attr::Int(7))]);
        cols.push(g.op("Gather", &[&grid, &index], vec![("axis", Attr::Int(0))]));
    }
    let refs: Vec<&str> = cols.iter().map(String::as_str).collect();
    if refs.len() == 1 {
        refs[0].to_string()
    } else {
        g.op("Concat", &refs, vec![("axis", Attr::Int(1))])
    }
}

/// The attribute arrays of one TreeEnsembleRegressor.
#[derive(Default)]
struct Attributes {
    tree_ids: Vec<i64>,
    node_ids: Vec<i64>,
    features: Vec<i64>,
    values: Vec<f32>,
    modes: Vec<String>,
    true_ids: Vec<i64>,
    false_ids: Vec<i64>,
    target_tree: Vec<i64>,
    target_node: Vec<i64>,
    target_ids: Vec<i64>,
    target_weights: Vec<f32>,
}

impl Attributes {
    fn add_tree(&mut self, id: i64, tree: &Tree, mut leaf_targets: impl FnMut(f64, &[(u32, f32)], &mut Vec<(i64, f32)>)) {
        let mut targets = Vec::new();
        for (n, node) in tree.nodes.iter().enumerate() {
            self.tree_ids.push(id);
            self.node_ids.push(n as i64);
            match node {
                Node::Split { feature, threshold, left, right } => {
                    self.features.push(*feature as i64);
                    self.values.push(*threshold);
                    self.modes.push("BRANCH_LEQ".into());
                    self.true_ids.push(*left as i64);
                    self.false_ids.push(*right as i64);
                }
                Node::Leaf { value, dist } => {
                    self.features.push(0);
                    self.values.push(0.0);
                    self.modes.push("LEAF".into());
                    self.true_ids.push(0);
                    self.false_ids.push(0);
                    targets.clear();
                    leaf_targets(*value, dist, &mut targets);
                    for &(t, w) in &targets {
                        self.target_tree.push(id);
                        self.target_node.push(n as i64);
                        self.target_ids.push(t);
                        self.target_weights.push(w);
                    }
                }
            }
        }
    }

    fn node(self, g: &mut GraphBuilder, features: &str, n_targets: i64) -> String {
        g.ml_op(
            "TreeEnsembleRegressor",
            &[features],
            vec![
                ("n_targets", Attr::Int(n_targets)),
                ("aggregate_function", Attr::Str("SUM".into())),
                ("post_transform", Attr::Str("NONE".into())),
                ("nodes_treeids", Attr::Ints(self.tree_ids)),
                ("nodes_nodeids", Attr::Ints(self.node_ids)),
                ("nodes_featureids", Attr::Ints(self.features)),
                ("nodes_values", Attr::Floats(self.values)),
                ("nodes_modes", Attr::Strs(self.modes)),
                ("nodes_truenodeids", Attr::Ints(self.true_ids)),
                ("nodes_falsenodeids", Attr::Ints(self.false_ids)),
                ("target_treeids", Attr::Ints(self.target_tree)),
                ("target_nodeids", Attr::Ints(self.target_node)),
                ("target_ids", Attr::Ints(self.target_ids)),
                ("target_weights", Attr::Floats(self.target_weights)),
            ],
        )
    }
}

/// The manifest's record of a tree model: kind and hyper-parameters go in the provenance.
pub fn describe(manifest: &mut Manifest, kind: &str, params: &str) {
    manifest.provenance.extra.insert("model_kind".into(), kind.into());
    manifest.provenance.extra.insert("hyper_parameters".into(), params.into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_round_down_to_float32_without_changing_decisions() {
        for t in [0.1f64, -0.1, 1.0 / 3.0, 1e-40, -1e-40, 0.0, 16_777_217.0, 3.4e38] {
            let f = f32_at_or_below(t);
            assert!(f as f64 <= t, "{t}");
            let up = if f > 0.0 || f.to_bits() == 0 { f32::from_bits(f.to_bits() + 1) } else { f32::from_bits(f.to_bits() - 1) };
            assert!(up as f64 > t, "{t}: {f} is not the largest float32 at or below");
        }
    }

    #[test]
    fn quantile_names() {
        assert_eq!(quantile_name(0.05), "q05");
        assert_eq!(quantile_name(0.5), "q50");
        assert_eq!(quantile_name(0.95), "q95");
        assert_eq!(quantile_name(0.975), "q975");
    }
}
