//! Tree bundles without ONNX Runtime: a small interpreter for the graphs terrapix writes around
//! its forests, quantile forests and boosters (and scikit-learn's, XGBoost's and LightGBM's
//! converters write), whose tree ensembles run compiled ([`trees`]). A graph with any node it
//! does not know is left to ONNX Runtime, as before; the ONNX graph stays the contract.
//!
//! Each op follows the ONNX operator's definition (numpy broadcasting, opset 13-18 attribute
//! and input forms) in f32, as ONNX Runtime's CPU kernels compute it; sums may be added in
//! another order than ONNX Runtime's vectorised kernels, hence equality to 1e-6 relative,
//! not bit for bit, outside the trees (tests/trees.rs holds the two side by side).

mod ops;
mod tensor;
pub mod trees;

use std::collections::HashMap;

use crate::bundle::onnx::{ModelProto, TensorProto};
use tensor::Data;
pub use tensor::Tensor;

/// The ops the interpreter runs; a graph with any other runs on ONNX Runtime.
pub const OPS: &[&str] = &[
    "Identity",
    "Flatten",
    "Reshape",
    "Squeeze",
    "Unsqueeze",
    "Concat",
    "Slice",
    "Gather",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Max",
    "Min",
    "Sqrt",
    "Abs",
    "Neg",
    "Relu",
    "Exp",
    "Log",
    "Reciprocal",
    "ReduceMean",
    "ReduceSum",
    "ReduceMin",
    "ReduceMax",
    "MatMul",
    "CumSum",
    "Less",
    "LessOrEqual",
    "Greater",
    "GreaterOrEqual",
    "Equal",
    "Cast",
    "Where",
    "Constant",
    "TreeEnsembleRegressor",
];

/// A graph ready to run natively.
pub struct Graph {
    nodes: Vec<Step>,
    constants: HashMap<String, Tensor>,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
}

struct Step {
    op: String,
    inputs: Vec<String>,
    outputs: Vec<String>,
    attrs: ops::Attrs,
    trees: Option<trees::Trees>,
}

impl Graph {
    /// Compiles `model`'s main graph; Err names what keeps it on ONNX Runtime.
    pub fn compile(model: &ModelProto) -> Result<Graph, String> {
        let g = model.graph.as_ref().ok_or("no graph")?;
        let mut constants = HashMap::new();
        for t in &g.initializer {
            constants.insert(t.name.clone().unwrap_or_default(), tensor_of(t)?);
        }
        let ensembles = crate::bundle::ml_trees::ensembles(model)?;
        let mut ensembles = ensembles.into_iter();
        let mut nodes = Vec::with_capacity(g.node.len());
        for n in &g.node {
            let op = n.op_type.clone().unwrap_or_default();
            if !OPS.contains(&op.as_str()) {
                return Err(format!("op {op} is not implemented natively"));
            }
            let domain = n.domain.clone().unwrap_or_default();
            if !(domain.is_empty() || domain == "ai.onnx" || (domain == "ai.onnx.ml" && op == "TreeEnsembleRegressor")) {
                return Err(format!("op {op} of domain {domain}"));
            }
            let trees = if op == "TreeEnsembleRegressor" {
                Some(trees::Trees::compile(&ensembles.next().ok_or("tree ensembles out of order")?)?)
            } else {
                None
            };
            nodes.push(Step {
                attrs: ops::Attrs::of(n, &|t| tensor_of(t))?,
                inputs: n.input.clone(),
                outputs: n.output.clone(),
                op,
                trees,
            });
        }
        let inputs = g.input.iter().filter_map(|v| v.name.clone()).filter(|n| !constants.contains_key(n)).collect();
        let outputs = g.output.iter().filter_map(|v| v.name.clone()).collect();
        Ok(Graph { nodes, constants, inputs, outputs })
    }

    /// Runs the graph on `feeds` (input name -> tensor); returns the tensors named `wanted`.
    /// Nodes no wanted output depends on are skipped.
    pub fn run(&self, feeds: Vec<(String, Tensor)>, wanted: &[&str]) -> Result<Vec<Tensor>, String> {
        let needed = self.needed(wanted);
        let mut values: HashMap<String, Tensor> = feeds.into_iter().collect();
        let profile = std::env::var_os("TERRAPIX_NATIVE_PROFILE").is_some();
        for (k, step) in self.nodes.iter().enumerate() {
            if !needed[k] {
                continue;
            }
            let started = std::time::Instant::now();
            let args: Vec<Option<&Tensor>> = step
                .inputs
                .iter()
                .map(|name| if name.is_empty() { None } else { values.get(name.as_str()).or_else(|| self.constants.get(name)) })
                .collect();
            if let Some((i, _)) = step.inputs.iter().zip(&args).find(|(n, a)| !n.is_empty() && a.is_none()) {
                return Err(format!("{} reads '{i}', which nothing computed", step.op));
            }
            let out = if let Some(trees) = &step.trees {
                let x = args[0].ok_or("TreeEnsembleRegressor without input")?;
                let width = if x.shape.len() == 2 { x.shape[1] } else { return Err("tree input is not 2-D".into()) };
                if width < trees.n_features {
                    return Err(format!("the trees read {} features, the input has {width}", trees.n_features));
                }
                let rows = x.shape[0];
                tensor::check_size(&[rows, trees.n_targets()])?;
                let mut out = vec![0f32; rows * trees.n_targets()];
                predict_parallel(trees, x.floats()?, width, &mut out);
                vec![Tensor::f32(vec![rows, trees.n_targets()], out)]
            } else {
                ops::run(&step.op, &step.attrs, &args).map_err(|e| format!("{}: {e}", step.op))?
            };
            if profile {
                let shapes: Vec<String> = out.iter().map(|t| format!("{:?}", t.shape)).collect();
                eprintln!("native {:>24} {:>9.3} ms -> {}", step.op, started.elapsed().as_secs_f64() * 1e3, shapes.join(" "));
            }
            for (name, t) in step.outputs.iter().zip(out) {
                values.insert(name.clone(), t);
            }
        }
        wanted
            .iter()
            .map(|w| values.remove(*w).or_else(|| self.constants.get(*w).cloned()).ok_or_else(|| format!("output '{w}' was not computed")))
            .collect()
    }

    /// Which nodes the `wanted` outputs depend on.
    fn needed(&self, wanted: &[&str]) -> Vec<bool> {
        let mut live: std::collections::HashSet<&str> = wanted.iter().copied().collect();
        let mut needed = vec![false; self.nodes.len()];
        for (k, step) in self.nodes.iter().enumerate().rev() {
            if step.outputs.iter().any(|o| live.contains(o.as_str())) {
                needed[k] = true;
                live.extend(step.inputs.iter().map(String::as_str));
            }
        }
        needed
    }
}

/// The rows split over rayon's threads (each a contiguous run of rows).
fn predict_parallel(trees: &trees::Trees, x: &[f32], width: usize, out: &mut [f32]) {
    use rayon::prelude::*;
    let rows = x.len() / width.max(1);
    let nt = trees.n_targets();
    // Whole blocks per task, and enough tasks to keep every thread busy.
    let per_thread = rows.div_ceil(rayon::current_num_threads() * 2);
    let chunk = per_thread.div_ceil(trees::BLOCK).max(1) * trees::BLOCK;
    let chunk = chunk.min(rows.max(1));
    out.par_chunks_mut(chunk * nt).zip(x.par_chunks(chunk * width)).for_each(|(o, xs)| trees.predict(xs, width, o));
}

/// An ONNX tensor as a native one (float, double as float, int64, int32 as int64, bool).
fn tensor_of(t: &TensorProto) -> Result<Tensor, String> {
    let shape: Vec<usize> = t.dims.iter().map(|&d| d.max(0) as usize).collect();
    let raw = t.raw_data.as_deref().unwrap_or(&[]);
    // Raw little-endian values of N bytes each, converted one by one.
    fn le<const N: usize, T>(raw: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
        raw.chunks_exact(N).map(|c| f(c.try_into().expect("N bytes"))).collect()
    }
    let data = match t.data_type.unwrap_or(0) {
        1 if raw.is_empty() => Data::F32(t.float_data.clone()),
        1 => Data::F32(le(raw, f32::from_le_bytes)),
        11 if raw.is_empty() => Data::F32(t.double_data.iter().map(|&v| v as f32).collect()),
        11 => Data::F32(le(raw, |b| f64::from_le_bytes(b) as f32)),
        7 if raw.is_empty() => Data::I64(t.int64_data.clone()),
        7 => Data::I64(le(raw, i64::from_le_bytes)),
        6 if raw.is_empty() => Data::I64(t.int32_data.iter().map(|&v| v as i64).collect()),
        6 => Data::I64(le(raw, |b| i32::from_le_bytes(b) as i64)),
        9 if raw.is_empty() => Data::Bool(t.int32_data.iter().map(|&v| v != 0).collect()),
        9 => Data::Bool(raw.iter().map(|&b| b != 0).collect()),
        other => return Err(format!("initializer '{}' of type {other}", t.name.clone().unwrap_or_default())),
    };
    let t = Tensor { shape, data };
    let n = match &t.data {
        Data::F32(v) => v.len(),
        Data::I64(v) => v.len(),
        Data::Bool(v) => v.len(),
    };
    if n != t.len() {
        return Err(format!("a tensor of shape {:?} holds {n} values", t.shape));
    }
    Ok(t)
}
