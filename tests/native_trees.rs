//! The native tree engine against ONNX Runtime on the same graphs: random `TreeEnsembleRegressor`
//! nodes with every branch mode, missing-value tracks, ties at thresholds, NaN, infinities and
//! denormals in the inputs, one or several targets, SUM and AVERAGE, base values; and the
//! bundles terrapix writes for its forests (mean, std, quantiles).

mod common;

use common::*;
use proptest::prelude::*;
use terrapix::bundle::graph::{Attr, GraphBuilder};
use terrapix::bundle::{Bundle, Layout, Manifest, OutputBand, OutputKind};
use terrapix::engine::{EngineOptions, Model};

/// Values that make comparisons interesting: thresholds come from the same set.
const VALUES: [f32; 10] = [-1.5, -0.0, 0.0, 0.25, 1.0, 1e-40, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 3.0];
const MODES: [&str; 6] = ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"];

#[derive(Clone, Debug)]
struct Spec {
    trees: Vec<Vec<(usize, usize, f32, bool)>>, // per tree: branch nodes (mode, feature, threshold, missing_true), a full binary tree
    leaf_weights: Vec<Vec<Vec<(i64, f32)>>>,
    targets: i64,
    average: bool,
    base: Vec<f32>,
}

const FEATURES: usize = 3;

fn spec() -> impl Strategy<Value = Spec> {
    (1i64..=2, any::<bool>(), 1usize..=6, 1usize..=3).prop_flat_map(|(targets, average, n_trees, depth)| {
        let branches = (1 << depth) - 1;
        let leaves = 1 << depth;
        let branch = (0..MODES.len(), 0..FEATURES, 0..VALUES.len() - 2, any::<bool>()).prop_map(|(m, f, v, miss)| (m, f, VALUES[v], miss));
        let weight = (0..targets, -2.0f32..2.0);
        (
            prop::collection::vec(prop::collection::vec(branch, branches), n_trees),
            prop::collection::vec(prop::collection::vec(prop::collection::vec(weight, 0..=2), leaves), n_trees),
            prop::collection::vec(-1.0f32..1.0, targets as usize),
        )
            .prop_map(move |(trees, leaf_weights, base)| Spec { trees, leaf_weights, targets, average, base })
    })
}

/// A one-node graph `x [N, 3] -> TreeEnsembleRegressor -> y [N, targets]` as a bundle file.
fn write(spec: &Spec, path: &std::path::Path) {
    let (mut tree_ids, mut node_ids, mut features, mut modes, mut values, mut trues, mut falses, mut tracks) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    let (mut w_tree, mut w_node, mut w_target, mut w_value) = (vec![], vec![], vec![], vec![]);
    for (t, branches) in spec.trees.iter().enumerate() {
        let nb = branches.len();
        for (i, &(m, f, v, miss)) in branches.iter().enumerate() {
            tree_ids.push(t as i64);
            node_ids.push(i as i64);
            features.push(f as i64);
            modes.push(MODES[m].to_string());
            values.push(v);
            trues.push(2 * i as i64 + 1);
            falses.push(2 * i as i64 + 2);
            tracks.push(miss as i64);
        }
        for (j, weights) in spec.leaf_weights[t].iter().enumerate() {
            let id = (nb + j) as i64;
            tree_ids.push(t as i64);
            node_ids.push(id);
            features.push(0);
            modes.push("LEAF".into());
            values.push(0.5 * j as f32);
            trues.push(0);
            falses.push(0);
            tracks.push(0);
            for &(target, w) in weights {
                w_tree.push(t as i64);
                w_node.push(id);
                w_target.push(target);
                w_value.push(w);
            }
        }
    }
    let mut g = GraphBuilder::new("random_trees");
    let x = g.input("x", &[FEATURES as i64]);
    let y = g.ml_op(
        "TreeEnsembleRegressor",
        &[&x],
        vec![
            ("n_targets", Attr::Int(spec.targets)),
            ("aggregate_function", Attr::Str(if spec.average { "AVERAGE" } else { "SUM" }.into())),
            ("base_values", Attr::Floats(spec.base.clone())),
            ("nodes_treeids", Attr::Ints(tree_ids)),
            ("nodes_nodeids", Attr::Ints(node_ids)),
            ("nodes_featureids", Attr::Ints(features)),
            ("nodes_modes", Attr::Strs(modes)),
            ("nodes_values", Attr::Floats(values)),
            ("nodes_truenodeids", Attr::Ints(trues)),
            ("nodes_falsenodeids", Attr::Ints(falses)),
            ("nodes_missing_value_tracks_true", Attr::Ints(tracks)),
            ("target_treeids", Attr::Ints(w_tree)),
            ("target_nodeids", Attr::Ints(w_node)),
            ("target_ids", Attr::Ints(w_target)),
            ("target_weights", Attr::Floats(w_value)),
        ],
    );
    g.output(&y, "y", &[spec.targets]);
    let mut m: Manifest = manifest(vec![input("x", Layout::Pixel, &["a", "b", "c"])], 1);
    m.outputs = (0..spec.targets as usize)
        .map(|i| OutputBand { name: format!("y{i}"), graph_output: "y".into(), index: i, kind: OutputKind::Mean })
        .collect();
    let mut b = Bundle { model: g.finish(), manifest: None };
    b.set_manifest(m).unwrap();
    b.write(path).unwrap();
}

fn both(path: &std::path::Path) -> (Model, Model) {
    let native = Model::open(path, &EngineOptions { sessions: 1, intra_threads: 1, ..Default::default() }).unwrap();
    let ort = Model::open(path, &EngineOptions { sessions: 1, intra_threads: 1, onnx_runtime_only: true, ..Default::default() }).unwrap();
    assert!(native.runtime().starts_with("terrapix's native"), "{}", native.runtime());
    assert!(ort.runtime().starts_with("ONNX Runtime"), "{}", ort.runtime());
    (native, ort)
}

/// Equal, NaN where the other is NaN; `rtol` relative to max(|b|, 1).
fn same(a: f32, b: f32, rtol: f32) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= rtol * b.abs().max(1.0)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn random_tree_ensembles_equal_onnx_runtime(spec in spec(), rows in prop::collection::vec(prop::collection::vec(0..VALUES.len(), FEATURES), 1..40)) {
        let dir = tempdir();
        let path = dir.path().join("t.onnx");
        write(&spec, &path);
        let (native, ort) = both(&path);
        let x: Vec<f32> = rows.iter().flatten().map(|&i| VALUES[i]).collect();
        let (a, b) = (native.run(rows.len(), std::slice::from_ref(&x)).unwrap(), ort.run(rows.len(), &[x]).unwrap());
        for (band, (p, q)) in a.iter().zip(&b).enumerate() {
            for (i, (&u, &v)) in p.iter().zip(q).enumerate() {
                // Leaf sums are added in the same order (one thread): equal but for the last bit.
                prop_assert!(same(u, v, 1e-6), "band {} row {} ({:?}): native {} ONNX Runtime {}", band, i, rows[i], u, v);
            }
        }
    }
}

/// A terrapix forest bundle (two members, mean and std) maps natively, `terrapix info` says so,
/// and `--outputs mean` writes the same mean while computing only what it needs.
#[test]
fn forest_bundles_map_natively_and_only_what_is_asked() {
    use terrapix::bundle::trees::{ensemble_graph, Node, Tree, TreeModel};
    let dir = tempdir();
    let (covs, _) = landscape(dir.path(), 48);
    let split = |f: u32, t: f32, a: f64, b: f64| Tree {
        nodes: vec![
            Node::Split { feature: f, threshold: t, left: 1, right: 2 },
            Node::Leaf { value: a, dist: vec![] },
            Node::Leaf { value: b, dist: vec![] },
        ],
    };
    let members = vec![
        TreeModel { trees: vec![split(0, 0.5, 1.0, 2.0), split(1, 1.5, -1.0, 3.0)], scale: 0.5, base: 0.0 },
        TreeModel { trees: vec![split(1, 1.0, 0.5, 4.0)], scale: 1.0, base: 0.25 },
    ];
    let mut m = manifest(vec![input("x", Layout::Pixel, &["elevation", "slope"])], 1);
    let (model, bands) = ensemble_graph(&members, &m.inputs, None);
    m.outputs = bands;
    let path = dir.path().join("forest.onnx");
    let mut b = Bundle { model, manifest: None };
    b.set_manifest(m).unwrap();
    b.write(&path).unwrap();
    let info = terrapix_ok(&["info", s(&path)]);
    assert!(info.contains("Runs on: terrapix's native tree engine"), "{info}");
    let (all, mean) = (dir.path().join("all.tif"), dir.path().join("mean.tif"));
    predict_ok(&path, &[&covs], &all, &[]);
    predict_ok(&path, &[&covs], &mean, &["--outputs", "mean"]);
    let (a, w, h) = read_band(&all, 1);
    let (b, w2, h2) = read_band(&mean, 1);
    assert_eq!((w, h), (w2, h2));
    assert_eq!(a, b);
    assert!(a.iter().any(|v| *v != a[0]), "a map, not a constant");
}
