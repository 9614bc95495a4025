//! ONNX graphs of the trained networks, written from Rust (no Python in the path): each op of
//! [`super::nets::Net::forward`] has its ONNX counterpart here, with the same weights.

use std::collections::HashMap;

use tch::{nn, Kind, Tensor};

use super::nets::Net;
use terrapix::bundle::graph::{Attr, GraphBuilder};
use terrapix::bundle::onnx::ModelProto;
use terrapix::bundle::InputSpec;

/// Name of the single output of an exported member.
pub const OUTPUT: &str = "y";

pub(super) fn values(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(t.to_kind(Kind::Float).contiguous().flatten(0, -1)).expect("a float tensor")
}

pub(super) struct Weights(HashMap<String, Tensor>);

impl Weights {
    pub(super) fn get(&self, name: &str) -> &Tensor {
        self.0.get(name).unwrap_or_else(|| panic!("the var store holds {name}"))
    }
}

pub fn export(net: &Net, vs: &nn::VarStore, inputs: &[InputSpec]) -> ModelProto {
    export_clipped(net, vs, inputs, None)
}

/// A trained member's graph, its output clipped to the member's range (see `Member::clip`).
pub fn member(m: &super::fit::Member, inputs: &[InputSpec]) -> ModelProto {
    export_clipped(&m.net, &m.vs, inputs, m.clip)
}

fn export_clipped(net: &Net, vs: &nn::VarStore, inputs: &[InputSpec], clip: Option<(f32, f32)>) -> ModelProto {
    let w = Weights(vs.variables());
    let mut g = GraphBuilder::new("terrapix_member");
    let xs: Vec<String> =
        inputs.iter().map(|i| g.input(&i.name, &i.layout.shape(i.channels.len()).iter().map(|d| *d as i64).collect::<Vec<_>>())).collect();
    let y = match net {
        Net::Mlp { layers } => {
            let mut h = g.flat_features(&xs.iter().map(String::as_str).collect::<Vec<_>>());
            for l in 0..layers.len() {
                h = dense(&mut g, &w, &format!("l{l}"), &h);
                if l + 1 < layers.len() {
                    h = g.op("Relu", &[&h], vec![]);
                }
            }
            h
        }
        Net::Lstm { hidden, layers, .. } => {
            let h = recurrent_last(&mut g, &w, Recurrent::Lstm, "lstm", &xs[0], *hidden, *layers);
            dense(&mut g, &w, "head", &h)
        }
        Net::CnnLstm { window, series, hidden, layers, .. } => {
            let a = cnn_branch(&mut g, &w, &xs[*window]);
            let b = recurrent_last(&mut g, &w, Recurrent::Lstm, "lstm", &xs[*series], *hidden, *layers);
            let b = dense(&mut g, &w, "fl", &b);
            let b = g.op("Tanh", &[&b], vec![]);
            let ab = g.op("Concat", &[&a, &b], vec![("axis", Attr::Int(1))]);
            dense(&mut g, &w, "out", &ab)
        }
        Net::Cnn { .. } => {
            let a = cnn_branch(&mut g, &w, &xs[0]);
            dense(&mut g, &w, "out", &a)
        }
        Net::CoordCnn { .. } => {
            // Dropout is the identity at inference: it has no node.
            let mut h = xs[0].clone();
            for i in 0..3 {
                let p = format!("conv{i}");
                let weight = w.get(&format!("{p}.weight"));
                let wt = g.constant(&p, &weight.size(), values(weight));
                let b = bias(&mut g, &w, &p);
                h = g.op("Conv", &[&h, &wt, &b], vec![("kernel_shape", Attr::Ints(vec![3, 3])), ("pads", Attr::Ints(vec![1, 1, 1, 1]))]);
                let scale = w.get(&format!("{p}.in_weight"));
                let scale = g.constant("in_scale", &scale.size(), values(scale));
                let shift = w.get(&format!("{p}.in_bias"));
                let shift = g.constant("in_bias", &shift.size(), values(shift));
                h = g.op("InstanceNormalization", &[&h, &scale, &shift], vec![("epsilon", Attr::Float(1e-5))]);
                h = g.op("Relu", &[&h], vec![]);
                if i < 2 {
                    h = g.op("MaxPool", &[&h], vec![("kernel_shape", Attr::Ints(vec![2, 2])), ("strides", Attr::Ints(vec![2, 2]))]);
                }
            }
            let mut h = g.op("Flatten", &[&h], vec![("axis", Attr::Int(1))]);
            for (d, n) in [("d1", "n1"), ("d2", "n2")] {
                h = dense(&mut g, &w, d, &h);
                let scale = w.get(&format!("{n}.weight"));
                let scale = g.constant(n, &scale.size(), values(scale));
                let shift = bias(&mut g, &w, n);
                h = g.op("LayerNormalization", &[&h, &scale, &shift], vec![("axis", Attr::Int(-1)), ("epsilon", Attr::Float(1e-5))]);
                h = g.op("Relu", &[&h], vec![]);
            }
            dense(&mut g, &w, "out", &h)
        }
        Net::SoilNet(s) => super::soilnet_onnx::forward(&mut g, &w, s, &xs),
    };
    let y = match clip {
        Some((lo, hi)) => {
            let (lo, hi) = (g.constant("clip_lo", &[], vec![lo]), g.constant("clip_hi", &[], vec![hi]));
            g.op("Clip", &[&y, &lo, &hi], vec![])
        }
        None => y,
    };
    g.output(&y, OUTPUT, &[1]);
    g.finish()
}

/// The CNN branch of Zhang et al.'s (2022) CNN-LSTM (see nets::cnn_branch).
fn cnn_branch(g: &mut GraphBuilder, w: &Weights, x: &str) -> String {
    let mut a = x.to_string();
    for c in ["c1", "c2"] {
        let weight = w.get(&format!("{c}.weight"));
        let (wt, b) = (g.constant(c, &weight.size(), values(weight)), bias(g, w, c));
        a = g.op("Conv", &[&a, &wt, &b], vec![("kernel_shape", Attr::Ints(vec![2, 2])), ("pads", Attr::Ints(vec![1, 1, 1, 1]))]);
        a = g.op("Relu", &[&a], vec![]);
        a = g.op("MaxPool", &[&a], vec![("kernel_shape", Attr::Ints(vec![2, 2])), ("strides", Attr::Ints(vec![2, 2]))]);
    }
    let a = g.op("Flatten", &[&a], vec![("axis", Attr::Int(1))]);
    let a = dense(g, w, "fc", &a);
    g.op("Relu", &[&a], vec![])
}

pub(super) fn bias(g: &mut GraphBuilder, w: &Weights, name: &str) -> String {
    let b = w.get(&format!("{name}.bias"));
    g.constant(name, &b.size(), values(b))
}

/// `x W^T + b` of the linear layer `name`.
pub(super) fn dense(g: &mut GraphBuilder, w: &Weights, name: &str, x: &str) -> String {
    let weight = w.get(&format!("{name}.weight"));
    let wt = g.constant(name, &weight.size(), values(weight));
    let b = bias(g, w, name);
    g.op("Gemm", &[x, &wt, &b], vec![("transB", Attr::Int(1))])
}

/// The recurrent layers terrapix exports, with what differs between their ONNX ops.
#[derive(Clone, Copy)]
pub(super) enum Recurrent {
    Lstm,
    Gru,
}

impl Recurrent {
    /// torch's gate blocks in ONNX's order: LSTM (input, forget, cell, output) becomes (input,
    /// output, forget, cell); GRU (reset, update, new) becomes (update, reset, hidden).
    fn order(self) -> &'static [usize] {
        match self {
            Recurrent::Lstm => &[0, 3, 1, 2],
            Recurrent::Gru => &[1, 0, 2],
        }
    }

    fn gates(&self, t: &Tensor, hidden: i64) -> Vec<f32> {
        let chunks = t.split(hidden, 0);
        values(&Tensor::cat(&self.order().iter().map(|&k| &chunks[k]).collect::<Vec<_>>(), 0))
    }
}

/// A batch-first multi-layer LSTM or GRU over `x` (`[N, T, F]`); returns the last step's
/// `[N, H]`. torch's GRU applies the reset gate after the recurrent product:
/// `linear_before_reset = 1`.
pub(super) fn recurrent_last(
    g: &mut GraphBuilder,
    w: &Weights,
    kind: Recurrent,
    prefix: &str,
    x: &str,
    hidden: i64,
    layers: i64,
) -> String {
    let (op, gates) = match kind {
        Recurrent::Lstm => ("LSTM", 4),
        Recurrent::Gru => ("GRU", 3),
    };
    let mut seq = g.op("Transpose", &[x], vec![("perm", Attr::Ints(vec![1, 0, 2]))]); // [T, N, F]
    let mut last_h = String::new();
    for l in 0..layers {
        let (wi, wh) = (w.get(&format!("{prefix}.weight_ih_l{l}")), w.get(&format!("{prefix}.weight_hh_l{l}")));
        let (input, rows) = (wi.size()[1], gates * hidden);
        let wn = g.constant("rnn_w", &[1, rows, input], kind.gates(wi, hidden));
        let rn = g.constant("rnn_r", &[1, rows, hidden], kind.gates(wh, hidden));
        let mut b = kind.gates(w.get(&format!("{prefix}.bias_ih_l{l}")), hidden);
        b.extend(kind.gates(w.get(&format!("{prefix}.bias_hh_l{l}")), hidden));
        let bn = g.constant("rnn_b", &[1, 2 * rows], b);
        let (y, y_h) = (g.fresh("rnn_y"), g.fresh("rnn_h"));
        let mut attrs = vec![("hidden_size", Attr::Int(hidden))];
        if let Recurrent::Gru = kind {
            attrs.push(("linear_before_reset", Attr::Int(1)));
        }
        g.op_outputs(op, &[&seq, &wn, &rn, &bn], attrs, &[&y, &y_h]);
        let axis1 = g.int_constant("axes", vec![1]);
        seq = g.op("Squeeze", &[&y, &axis1], vec![]); // [T, N, H]
        last_h = y_h;
    }
    let axis0 = g.int_constant("axes", vec![0]);
    g.op("Squeeze", &[&last_h, &axis0], vec![]) // [N, H]
}
