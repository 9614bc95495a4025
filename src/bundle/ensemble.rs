//! Merging member models into ONE ONNX graph that computes every member and reduces them to
//! the ensemble mean and (population) standard deviation.
//!
//! Each member's graph is copied with all its names prefixed (`m0.`, `m1.`, ...) except the
//! shared graph inputs, so the members run side by side on the same input tensors.

use std::collections::{HashMap, HashSet};

use super::onnx::{tensor_proto::DataType, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, ValueInfoProto};
use super::{Bundle, BundleError, Manifest, OutputBand, OutputKind};

pub const MEAN_OUTPUT: &str = "mean";
pub const STD_OUTPUT: &str = "std";

/// Builds the ensemble of `members`. Every member must take the same inputs (names, element
/// types, ranks) and produce the value to average as its first output, and all must use the
/// same ONNX opset. The returned bundle carries `manifest` with its outputs set to mean and std.
pub fn build(members: &[Bundle], mut manifest: Manifest) -> Result<Bundle, BundleError> {
    let err = |m: String| Err(BundleError::Ensemble(m));
    if members.is_empty() {
        return err("no member models given".into());
    }
    let first = &members[0];
    let first_graph = first.model.graph.as_ref().expect("decoded bundles have a graph");
    let inputs: Vec<ValueInfoProto> = first.graph_inputs().into_iter().cloned().collect();
    let input_names: HashSet<String> = inputs.iter().filter_map(|v| v.name.clone()).collect();
    let opset = default_opset(&first.model);

    for (i, m) in members.iter().enumerate() {
        let theirs: Vec<String> = m.graph_inputs().iter().filter_map(|v| v.name.clone()).collect();
        let mut a = theirs.clone();
        let mut b: Vec<String> = input_names.iter().cloned().collect();
        a.sort();
        b.sort();
        if a != b {
            return err(format!("member {i} takes inputs {theirs:?}, member 0 takes {b:?}"));
        }
        if default_opset(&m.model) != opset {
            return err(format!(
                "member {i} uses ONNX opset {:?}, member 0 uses {opset:?}; export all members with the same opset",
                default_opset(&m.model)
            ));
        }
        if let (Some(mine), Some(ours)) = (&m.manifest, &first.manifest) {
            if mine.inputs != ours.inputs {
                return err(format!(
                    "member {i}'s manifest describes different inputs (covariates, layout or normalisation) than member 0's"
                ));
            }
        }
        let g = m.model.graph.as_ref().expect("decoded bundles have a graph");
        if g.output.is_empty() {
            return err(format!("member {i} has no graph output"));
        }
    }

    let mut graph = GraphProto {
        name: Some("terrapix_ensemble".into()),
        input: inputs,
        doc_string: Some(format!("Ensemble of {} members: mean and standard deviation.", members.len())),
        ..Default::default()
    };
    let mut functions = Vec::new();
    let mut member_outputs = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let prefix = format!("m{i}.");
        let mut g = m.model.graph.clone().expect("decoded bundles have a graph");
        let fn_names = rename_functions(&m.model, &prefix, &mut functions);
        rename_graph(&mut g, &prefix, &input_names, &fn_names);
        member_outputs.push(g.output[0].name.clone().unwrap_or_default());
        graph.node.extend(g.node);
        graph.initializer.extend(g.initializer);
        graph.sparse_initializer.extend(g.sparse_initializer);
        graph.value_info.extend(g.value_info);
    }

    let n = members.len() as f32;
    let out_type = first_graph.output[0].r#type.clone();
    graph.initializer.push(scalar("terrapix.inv_n", 1.0 / n));
    graph.node.push(node("Sum", &member_outputs, "terrapix.sum"));
    graph.node.push(node("Mul", &["terrapix.sum".into(), "terrapix.inv_n".into()], MEAN_OUTPUT));
    let mut squares = Vec::new();
    for (i, o) in member_outputs.iter().enumerate() {
        let d = format!("terrapix.dev{i}");
        let sq = format!("terrapix.sq{i}");
        graph.node.push(node("Sub", &[o.clone(), MEAN_OUTPUT.into()], &d));
        graph.node.push(node("Mul", &[d.clone(), d.clone()], &sq));
        squares.push(sq);
    }
    graph.node.push(node("Sum", &squares, "terrapix.sumsq"));
    graph.node.push(node("Mul", &["terrapix.sumsq".into(), "terrapix.inv_n".into()], "terrapix.var"));
    graph.node.push(node("Sqrt", &["terrapix.var".into()], STD_OUTPUT));
    for name in [MEAN_OUTPUT, STD_OUTPUT] {
        graph.output.push(ValueInfoProto { name: Some(name.into()), r#type: out_type.clone(), ..Default::default() });
    }

    let mut opsets: HashMap<String, i64> = HashMap::new();
    for m in members {
        for o in &m.model.opset_import {
            let e = opsets.entry(o.domain.clone().unwrap_or_default()).or_insert(0);
            *e = (*e).max(o.version.unwrap_or(0));
        }
    }
    let mut opset_import: Vec<OperatorSetIdProto> =
        opsets.into_iter().map(|(domain, version)| OperatorSetIdProto { domain: Some(domain), version: Some(version) }).collect();
    opset_import.sort_by(|a, b| a.domain.cmp(&b.domain));

    let model = ModelProto {
        ir_version: members.iter().filter_map(|m| m.model.ir_version).max(),
        opset_import,
        producer_name: Some("terrapix".into()),
        producer_version: Some(env!("CARGO_PKG_VERSION").into()),
        graph: Some(graph),
        functions,
        ..Default::default()
    };

    manifest.outputs = vec![
        OutputBand { name: "mean".into(), graph_output: MEAN_OUTPUT.into(), index: 0, kind: OutputKind::Mean },
        OutputBand { name: "std".into(), graph_output: STD_OUTPUT.into(), index: 0, kind: OutputKind::Std },
    ];
    manifest.provenance.extra.insert("ensemble_members".into(), members.len().to_string());
    let mut bundle = Bundle { model, manifest: None };
    bundle.set_manifest(manifest)?;
    Ok(bundle)
}

fn default_opset(m: &ModelProto) -> Option<i64> {
    m.opset_import.iter().find(|o| o.domain.as_deref().unwrap_or("").is_empty()).and_then(|o| o.version)
}

fn node(op: &str, inputs: &[String], output: &str) -> NodeProto {
    NodeProto {
        op_type: Some(op.into()),
        name: Some(format!("terrapix/{output}")),
        input: inputs.to_vec(),
        output: vec![output.into()],
        ..Default::default()
    }
}

fn scalar(name: &str, value: f32) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        data_type: Some(DataType::Float as i32),
        dims: vec![],
        float_data: vec![value],
        ..Default::default()
    }
}

/// Local functions are renamed per member (their bodies have their own scope); returns the
/// map from (domain, old name) to the new name for the nodes that call them.
fn rename_functions(model: &ModelProto, prefix: &str, out: &mut Vec<super::onnx::FunctionProto>) -> HashMap<(String, String), String> {
    let mut map = HashMap::new();
    for f in &model.functions {
        let domain = f.domain.clone().unwrap_or_default();
        let old = f.name.clone().unwrap_or_default();
        map.insert((domain, old.clone()), format!("{prefix}{old}"));
    }
    for f in &model.functions {
        let mut f = f.clone();
        f.name = Some(format!("{prefix}{}", f.name.clone().unwrap_or_default()));
        for n in &mut f.node {
            rename_op(n, &map);
        }
        out.push(f);
    }
    map
}

fn rename_op(n: &mut NodeProto, fns: &HashMap<(String, String), String>) {
    let key = (n.domain.clone().unwrap_or_default(), n.op_type.clone().unwrap_or_default());
    if let Some(new) = fns.get(&key) {
        n.op_type = Some(new.clone());
    }
}

/// Prefixes every value, node and initializer name in `g` (and its subgraphs) except the shared
/// inputs and empty names (ONNX's "optional input omitted").
fn rename_graph(g: &mut GraphProto, prefix: &str, keep: &HashSet<String>, fns: &HashMap<(String, String), String>) {
    let re = |s: &mut String| {
        if !s.is_empty() && !keep.contains(s.as_str()) {
            *s = format!("{prefix}{s}");
        }
    };
    let re_opt = |s: &mut Option<String>| {
        if let Some(s) = s {
            re(s)
        }
    };
    for v in g.input.iter_mut().chain(g.output.iter_mut()).chain(g.value_info.iter_mut()) {
        re_opt(&mut v.name);
    }
    for t in &mut g.initializer {
        re_opt(&mut t.name);
    }
    for s in &mut g.sparse_initializer {
        if let Some(v) = &mut s.values {
            re_opt(&mut v.name);
        }
        if let Some(i) = &mut s.indices {
            re_opt(&mut i.name);
        }
    }
    for n in &mut g.node {
        re_opt(&mut n.name);
        n.input.iter_mut().for_each(re);
        n.output.iter_mut().for_each(re);
        rename_op(n, fns);
        for a in &mut n.attribute {
            if let Some(sub) = &mut a.g {
                rename_graph(sub, prefix, keep, fns);
            }
            for sub in &mut a.graphs {
                rename_graph(sub, prefix, keep, fns);
            }
        }
    }
}
