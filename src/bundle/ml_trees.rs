//! ONNX-ML tree ensembles read back from a graph: the node arrays of `TreeEnsembleRegressor`
//! (ai.onnx.ml 1 and 3) laid out as ONNX Runtime 1.31 builds them, whoever wrote the graph
//! (terrapix's forests and boosters, scikit-learn, XGBoost, LightGBM converters).
//!
//! ONNX Runtime's rules, which a native evaluator must follow to give its numbers:
//! - a tree is a run of equal `nodes_treeids` in array order; its root is the first node of the
//!   run, and trees are summed in the order their runs appear (not by tree id);
//! - a branch goes to its true child when `cmp(x, threshold)` holds, or when `x` is NaN and its
//!   `nodes_missing_value_tracks_true` entry is exactly 1;
//! - with one target only a leaf's first weight counts (a leaf without one adds its own
//!   `nodes_values`); with several, every weight of the leaf is added to its target in
//!   attribute order, and a target no leaf touched is 0 whatever its base value.
//!
//! Reading also bounds what a hostile graph can ask: trees deeper than [`MAX_TREE_DEPTH`] or
//! with cycles are refused here, before ONNX Runtime (which builds trees recursively) sees them.

use std::collections::HashMap;

use super::onnx::{AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto};

/// The deepest tree terrapix accepts. ONNX Runtime builds a tree recursively, about 700 bytes
/// of stack per level: 10,000 levels need 7 MB, which the session-building thread has
/// (`engine` builds sessions on a thread with a large stack). Real trees are far shallower
/// (a forest on 20,000 samples reaches 40 to 60 levels).
pub const MAX_TREE_DEPTH: usize = 10_000;

/// A comparison of a branch node (`x` against its threshold).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Leq,
    Lt,
    Gte,
    Gt,
    Eq,
    Neq,
    Leaf,
}

impl Mode {
    fn parse(s: &str) -> Option<Mode> {
        Some(match s {
            "BRANCH_LEQ" => Mode::Leq,
            "BRANCH_LT" => Mode::Lt,
            "BRANCH_GTE" => Mode::Gte,
            "BRANCH_GT" => Mode::Gt,
            "BRANCH_EQ" => Mode::Eq,
            "BRANCH_NEQ" => Mode::Neq,
            "LEAF" => Mode::Leaf,
            _ => return None,
        })
    }
}

/// How tree scores combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregate {
    Sum,
    Average,
    Min,
    Max,
}

/// One node, in the graph's array order. Children are array indices.
#[derive(Clone, Debug)]
pub struct Node {
    pub mode: Mode,
    pub feature: usize,
    /// As written: float attributes widened to f64 exactly.
    pub threshold: f64,
    pub missing_true: bool,
    pub true_child: usize,
    pub false_child: usize,
    /// A leaf's (target, weight) entries, in attribute order.
    pub weights: Vec<(usize, f64)>,
}

/// A `TreeEnsembleRegressor` node of a graph.
#[derive(Clone, Debug)]
pub struct Ensemble {
    pub nodes: Vec<Node>,
    /// Array index of each tree's root, in the order ONNX Runtime sums them.
    pub roots: Vec<usize>,
    pub n_targets: usize,
    pub aggregate: Aggregate,
    pub base_values: Vec<f64>,
    pub post_transform: String,
    /// Thresholds and weights stored as doubles (`*_as_tensor`).
    pub double_attributes: bool,
    /// The graph's input and output value names.
    pub input: String,
    pub output: String,
    /// Deepest root-to-leaf path (edges).
    pub depth: usize,
}

impl Ensemble {
    /// The highest feature index a branch reads.
    pub fn max_feature(&self) -> usize {
        self.nodes.iter().filter(|n| n.mode != Mode::Leaf).map(|n| n.feature).max().unwrap_or(0)
    }
}

fn attr<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute.iter().find(|a| a.name.as_deref() == Some(name))
}

fn ints(node: &NodeProto, name: &str) -> Vec<i64> {
    attr(node, name).map(|a| a.ints.clone()).unwrap_or_default()
}

/// A float list attribute, or its `_as_tensor` double twin; the flag says which.
fn reals(node: &NodeProto, name: &str) -> Result<(Vec<f64>, bool), String> {
    if let Some(t) = attr(node, &format!("{name}_as_tensor")).and_then(|a| a.t.as_ref()) {
        return Ok((tensor_f64(t).ok_or_else(|| format!("attribute {name}_as_tensor is not a double tensor"))?, true));
    }
    Ok((attr(node, name).map(|a| a.floats.iter().map(|&f| f as f64).collect()).unwrap_or_default(), false))
}

fn tensor_f64(t: &TensorProto) -> Option<Vec<f64>> {
    const DOUBLE: i32 = 11;
    if t.data_type != Some(DOUBLE) {
        return None;
    }
    if !t.double_data.is_empty() {
        return Some(t.double_data.clone());
    }
    let raw = t.raw_data.as_deref()?;
    (raw.len() % 8 == 0).then(|| raw.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
}

/// Every tree-ensemble node of the model's graph (subgraphs included), read and checked.
/// `Ok(vec![])` when there is none.
pub fn ensembles(model: &ModelProto) -> Result<Vec<Ensemble>, String> {
    fn walk<'a>(g: &'a GraphProto, out: &mut Vec<&'a NodeProto>) {
        for n in &g.node {
            out.push(n);
            for a in &n.attribute {
                a.g.iter().chain(&a.graphs).for_each(|sub| walk(sub, out));
            }
        }
    }
    let mut nodes = Vec::new();
    if let Some(g) = &model.graph {
        walk(g, &mut nodes);
    }
    let mut found = Vec::new();
    for n in nodes {
        match n.op_type.as_deref() {
            Some("TreeEnsembleRegressor" | "TreeEnsembleClassifier") => found.push(read_v3(n)?),
            Some("TreeEnsemble") => check_v5(n)?,
            _ => {}
        }
    }
    Ok(found)
}

/// Reads a `TreeEnsembleRegressor` (or the tree structure of a classifier) as ONNX Runtime does.
fn read_v3(n: &NodeProto) -> Result<Ensemble, String> {
    let op = n.op_type.clone().unwrap_or_default();
    let bad = |what: String| format!("{op} '{}': {what}", n.name.clone().unwrap_or_default());
    let tree_ids = ints(n, "nodes_treeids");
    let node_ids = ints(n, "nodes_nodeids");
    let features = ints(n, "nodes_featureids");
    let modes: Vec<String> =
        attr(n, "nodes_modes").map(|a| a.strings.iter().map(|s| String::from_utf8_lossy(s).into_owned()).collect()).unwrap_or_default();
    let trues = ints(n, "nodes_truenodeids");
    let falses = ints(n, "nodes_falsenodeids");
    let tracks = ints(n, "nodes_missing_value_tracks_true");
    let (values, double_values) = reals(n, "nodes_values").map_err(&bad)?;
    let count = tree_ids.len();
    for (name, len) in [
        ("nodes_nodeids", node_ids.len()),
        ("nodes_featureids", features.len()),
        ("nodes_modes", modes.len()),
        ("nodes_truenodeids", trues.len()),
        ("nodes_falsenodeids", falses.len()),
    ] {
        if len != count {
            return Err(bad(format!("{name} has {len} entries, nodes_treeids {count}")));
        }
    }
    if (!values.is_empty() && values.len() != count) || (!tracks.is_empty() && tracks.len() != count) {
        return Err(bad(format!("nodes_values or nodes_missing_value_tracks_true do not have {count} entries")));
    }
    let mut index: HashMap<(i64, i64), usize> = HashMap::with_capacity(count);
    for i in 0..count {
        if index.insert((tree_ids[i], node_ids[i]), i).is_some() {
            return Err(bad(format!("tree {} has node {} twice", tree_ids[i], node_ids[i])));
        }
    }
    let mut nodes = Vec::with_capacity(count);
    for i in 0..count {
        let mode = Mode::parse(&modes[i]).ok_or_else(|| bad(format!("unknown node mode '{}'", modes[i])))?;
        let child = |id: i64| -> Result<usize, String> {
            index
                .get(&(tree_ids[i], id))
                .copied()
                .ok_or_else(|| bad(format!("node {} of tree {} points to node {id}, which the tree lacks", node_ids[i], tree_ids[i])))
        };
        let (t, f) = if mode == Mode::Leaf { (i, i) } else { (child(trues[i])?, child(falses[i])?) };
        if mode != Mode::Leaf && (t == i || f == i) {
            return Err(bad(format!("node {} of tree {} points to itself", node_ids[i], tree_ids[i])));
        }
        if features[i] < 0 {
            return Err(bad(format!("node {} of tree {} reads feature {}", node_ids[i], tree_ids[i], features[i])));
        }
        nodes.push(Node {
            mode,
            feature: features[i] as usize,
            threshold: values.get(i).copied().unwrap_or(0.0),
            missing_true: tracks.get(i) == Some(&1),
            true_child: t,
            false_child: f,
            weights: Vec::new(),
        });
    }
    // Weights: regressors name them target_*, classifiers class_*.
    let (prefix, id_key) = if attr(n, "target_treeids").is_some() { ("target", "target_ids") } else { ("class", "class_ids") };
    let w_trees = ints(n, &format!("{prefix}_treeids"));
    let w_nodes = ints(n, &format!("{prefix}_nodeids"));
    let w_ids = ints(n, id_key);
    let (w_values, double_weights) = reals(n, &format!("{prefix}_weights")).map_err(&bad)?;
    if [w_nodes.len(), w_ids.len(), w_values.len()].iter().any(|&l| l != w_trees.len()) {
        return Err(bad(format!("the {prefix}_* attributes differ in length")));
    }
    let n_targets = attr(n, "n_targets").and_then(|a| a.i).unwrap_or(1).max(1) as usize;
    for k in 0..w_trees.len() {
        let Some(&leaf) = index.get(&(w_trees[k], w_nodes[k])) else {
            return Err(bad(format!("a weight names node {} of tree {}, which does not exist", w_nodes[k], w_trees[k])));
        };
        if w_ids[k] < 0 || w_ids[k] as usize >= n_targets && op == "TreeEnsembleRegressor" {
            return Err(bad(format!("target id {} is not below n_targets {n_targets}", w_ids[k])));
        }
        nodes[leaf].weights.push((w_ids[k] as usize, w_values[k]));
    }
    let mut roots = Vec::new();
    for i in 0..count {
        if i == 0 || tree_ids[i] != tree_ids[i - 1] {
            roots.push(i);
        }
    }
    let aggregate = match attr(n, "aggregate_function").and_then(|a| a.s.as_deref()).map(|s| String::from_utf8_lossy(s).into_owned()) {
        None => Aggregate::Sum,
        Some(s) => match s.as_str() {
            "SUM" => Aggregate::Sum,
            "AVERAGE" => Aggregate::Average,
            "MIN" => Aggregate::Min,
            "MAX" => Aggregate::Max,
            other => return Err(bad(format!("unknown aggregate_function '{other}'"))),
        },
    };
    let (base_values, _) = reals(n, "base_values").map_err(&bad)?;
    let post_transform = attr(n, "post_transform")
        .and_then(|a| a.s.as_deref())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .unwrap_or_else(|| "NONE".into());
    let depth = deepest(&nodes, &roots).map_err(&bad)?;
    Ok(Ensemble {
        nodes,
        roots,
        n_targets,
        aggregate,
        base_values,
        post_transform,
        double_attributes: double_values || double_weights,
        input: n.input.first().cloned().unwrap_or_default(),
        output: n.output.first().cloned().unwrap_or_default(),
        depth,
    })
}

/// The structure of an ai.onnx.ml 5 `TreeEnsemble`: children index nodes, or leaves where the
/// `nodes_trueleafs`/`nodes_falseleafs` flag is set. Only its depth and cycles are checked.
fn check_v5(n: &NodeProto) -> Result<(), String> {
    let bad = |what: String| format!("TreeEnsemble '{}': {what}", n.name.clone().unwrap_or_default());
    let roots = ints(n, "tree_roots");
    let (trues, falses) = (ints(n, "nodes_truenodeids"), ints(n, "nodes_falsenodeids"));
    let (true_leaf, false_leaf) = (ints(n, "nodes_trueleafs"), ints(n, "nodes_falseleafs"));
    let count = trues.len();
    if falses.len() != count || true_leaf.len() != count || false_leaf.len() != count {
        return Err(bad("its node attributes differ in length".into()));
    }
    let mut nodes = Vec::with_capacity(count);
    for i in 0..count {
        let (t, f) = (trues[i], falses[i]);
        if !(0..count as i64).contains(&t) && true_leaf[i] == 0 || !(0..count as i64).contains(&f) && false_leaf[i] == 0 {
            return Err(bad(format!("node {i} points outside the tree")));
        }
        // A leaf child ends the path: it is modelled as pointing to no node (usize::MAX).
        let child = |c: i64, leaf: i64| if leaf != 0 { usize::MAX } else { c as usize };
        nodes.push(Node {
            mode: Mode::Leq,
            feature: 0,
            threshold: 0.0,
            missing_true: false,
            true_child: child(t, true_leaf[i]),
            false_child: child(f, false_leaf[i]),
            weights: Vec::new(),
        });
    }
    let roots: Vec<usize> = roots.iter().filter(|&&r| (0..count as i64).contains(&r)).map(|&r| r as usize).collect();
    deepest(&nodes, &roots).map(|_| ()).map_err(bad)
}

/// The longest root-to-leaf path over every tree (walked iteratively: trees of any depth), or
/// an error for a cycle or a tree deeper than [`MAX_TREE_DEPTH`].
fn deepest(nodes: &[Node], roots: &[usize]) -> Result<usize, String> {
    // 0: unseen, 1: on the current path, 2: done (its depth below is known).
    let mut state = vec![0u8; nodes.len()];
    let mut below = vec![0usize; nodes.len()];
    let mut deepest = 0;
    for &root in roots {
        if state[root] == 2 {
            deepest = deepest.max(below[root]);
            continue;
        }
        // (node, entered?, its depth from the root)
        let mut stack: Vec<(usize, bool, usize)> = vec![(root, false, 0)];
        while let Some((i, entered, depth)) = stack.pop() {
            let node = &nodes[i];
            let children: [usize; 2] = if node.mode == Mode::Leaf { [usize::MAX; 2] } else { [node.true_child, node.false_child] };
            if !entered {
                if state[i] == 2 {
                    continue;
                }
                if depth > MAX_TREE_DEPTH {
                    return Err(format!("a tree is deeper than {MAX_TREE_DEPTH} levels, the most terrapix accepts"));
                }
                state[i] = 1;
                stack.push((i, true, depth));
                for c in children.into_iter().filter(|&c| c != usize::MAX) {
                    match state[c] {
                        1 => return Err("a tree has a cycle (a node leads back to itself)".into()),
                        0 => stack.push((c, false, depth + 1)),
                        _ => {}
                    }
                }
            } else {
                below[i] = children.into_iter().filter(|&c| c != usize::MAX).map(|c| below[c] + 1).max().unwrap_or(0);
                state[i] = 2;
            }
        }
        deepest = deepest.max(below[root]);
    }
    if deepest > MAX_TREE_DEPTH {
        return Err(format!("a tree is {deepest} levels deep, more than the {MAX_TREE_DEPTH} terrapix accepts"));
    }
    Ok(deepest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(depth: usize) -> Vec<Node> {
        let leaf =
            |_| Node { mode: Mode::Leaf, feature: 0, threshold: 0.0, missing_true: false, true_child: 0, false_child: 0, weights: vec![] };
        let mut nodes = Vec::new();
        for k in 0..depth {
            let i = 2 * k;
            nodes.push(Node {
                mode: Mode::Leq,
                feature: 0,
                threshold: k as f64,
                missing_true: false,
                true_child: i + 1,
                false_child: i + 2,
                weights: vec![],
            });
            nodes.push(leaf(()));
        }
        nodes.push(leaf(()));
        nodes
    }

    #[test]
    fn depth_is_found_without_recursion_and_bounded() {
        assert_eq!(deepest(&chain(50), &[0]).unwrap(), 50);
        assert_eq!(deepest(&chain(MAX_TREE_DEPTH), &[0]).unwrap(), MAX_TREE_DEPTH);
        let err = deepest(&chain(100_000), &[0]).unwrap_err();
        assert!(err.contains("deeper than 10000 levels"), "{err}");
        let mut cyclic = chain(3);
        cyclic[2].false_child = 0;
        assert!(deepest(&cyclic, &[0]).unwrap_err().contains("cycle"));
    }
}
