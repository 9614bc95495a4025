//! SoilNet's ONNX graph (see [`super::soilnet`]), op for op with the tch forward pass: attention
//! as matrix products and a softmax, layer norms, exact (erf) GELU, residual additions, batch
//! norm folded into the preceding convolution, the recurrent branches as ONNX LSTM and GRU
//! ([`super::export::recurrent_last`]).

use tch::Tensor;

use super::export::{bias, dense, recurrent_last, values, Recurrent, Weights};
use super::soilnet::{Block, ConvBn, Encoder, Image, Series, SoilNet};
use terrapix::bundle::graph::{Attr, GraphBuilder};

/// The `[N, 1]` prediction of `net` for the graph inputs `xs`.
pub(super) fn forward(g: &mut GraphBuilder, w: &Weights, net: &SoilNet, xs: &[String]) -> String {
    let mut parts = Vec::new();
    if let Some(b) = &net.image {
        let h = match &b.net {
            Image::Vit { patch, encoder, .. } => vit(g, w, &xs[b.input], *patch, encoder),
            Image::Resnet { stem, blocks } => {
                let h = conv_bn(g, w, "image.stem", stem, &xs[b.input]);
                let h = g.op("Relu", &[&h], vec![]);
                let mut h = g.op(
                    "MaxPool",
                    &[&h],
                    vec![
                        ("kernel_shape", Attr::Ints(vec![3, 3])),
                        ("strides", Attr::Ints(vec![2, 2])),
                        ("pads", Attr::Ints(vec![1, 1, 1, 1])),
                    ],
                );
                for r in blocks {
                    let p = format!("image.{}", r.name);
                    let mut y = h.clone();
                    for (j, c) in r.convs.iter().enumerate() {
                        y = conv_bn(g, w, &format!("{p}.c{j}"), c, &y);
                        if j + 1 < r.convs.len() {
                            y = g.op("Relu", &[&y], vec![]);
                        }
                    }
                    let s = match &r.shortcut {
                        Some(c) => conv_bn(g, w, &format!("{p}.down"), c, &h),
                        None => h.clone(),
                    };
                    let sum = g.op("Add", &[&y, &s], vec![]);
                    h = g.op("Relu", &[&sum], vec![]);
                }
                let h = g.op("GlobalAveragePool", &[&h], vec![]);
                g.op("Flatten", &[&h], vec![("axis", Attr::Int(1))])
            }
        };
        let e = dense(g, w, "image_proj", &h);
        parts.push(g.op("Sigmoid", &[&e], vec![]));
    }
    if let Some(b) = &net.climate {
        let h = match &b.net {
            Series::Lstm { hidden, layers, .. } => recurrent_last(g, w, Recurrent::Lstm, "climate.lstm", &xs[b.input], *hidden, *layers),
            Series::Gru { hidden, layers, .. } => recurrent_last(g, w, Recurrent::Gru, "climate.gru", &xs[b.input], *hidden, *layers),
            Series::Transformer { encoder, .. } => {
                let h = linear3(g, w, "climate.embed", &xs[b.input]);
                let pos = param(g, w, "climate.pos");
                let h = g.op("Add", &[&h, &pos], vec![]);
                let h = encoder_graph(g, w, "climate.enc", encoder, &h);
                g.op("ReduceMean", &[&h], vec![("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(0))])
            }
        };
        let e = dense(g, w, "climate_proj", &h);
        parts.push(g.op("Sigmoid", &[&e], vec![]));
    }
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    let cat = if refs.len() == 1 { parts[0].clone() } else { g.op("Concat", &refs, vec![("axis", Attr::Int(1))]) };
    let f = dense(g, w, "fuse", &cat);
    let f = g.op("Sigmoid", &[&f], vec![]);
    dense(g, w, "out", &f)
}

fn param(g: &mut GraphBuilder, w: &Weights, name: &str) -> String {
    let t = w.get(name);
    g.constant(name, &t.size(), values(t))
}

/// A convolution with its batch norm folded in: w * s, beta - mean * s, s = gamma / sqrt(var + eps).
fn conv_bn(g: &mut GraphBuilder, w: &Weights, p: &str, c: &ConvBn, x: &str) -> String {
    let eps = 1e-5;
    let (gamma, beta) = (w.get(&format!("{p}.bn.weight")), w.get(&format!("{p}.bn.bias")));
    let (mean, var) = (w.get(&format!("{p}.bn.running_mean")), w.get(&format!("{p}.bn.running_var")));
    let s = gamma / (var + eps).sqrt();
    let weight = w.get(&format!("{p}.conv.weight")) * s.view([-1, 1, 1, 1]);
    let shift: Tensor = beta - mean * &s;
    let wt = g.constant(p, &weight.size(), values(&weight));
    let b = g.constant(p, &shift.size(), values(&shift));
    let (k, pad) = (c.kernel, c.kernel / 2);
    g.op(
        "Conv",
        &[x, &wt, &b],
        vec![
            ("kernel_shape", Attr::Ints(vec![k, k])),
            ("strides", Attr::Ints(vec![c.stride, c.stride])),
            ("pads", Attr::Ints(vec![pad, pad, pad, pad])),
        ],
    )
}

fn vit(g: &mut GraphBuilder, w: &Weights, x: &str, patch: i64, encoder: &Encoder) -> String {
    let weight = w.get("image.embed.weight");
    let dim = weight.size()[0];
    let wt = g.constant("embed", &weight.size(), values(weight));
    let b = bias(g, w, "image.embed");
    let e =
        g.op("Conv", &[x, &wt, &b], vec![("kernel_shape", Attr::Ints(vec![patch, patch])), ("strides", Attr::Ints(vec![patch, patch]))]);
    let shape = g.int_constant("shape", vec![0, dim, -1]);
    let e = g.op("Reshape", &[&e, &shape], vec![]);
    let tokens = g.op("Transpose", &[&e], vec![("perm", Attr::Ints(vec![0, 2, 1]))]); // [N, T, D]
                                                                                      // The class token, repeated over the batch.
    let full = g.op("Shape", &[&tokens], vec![]);
    let (from, to) = (g.int_constant("from", vec![0]), g.int_constant("to", vec![1]));
    let n = g.op("Slice", &[&full, &from, &to], vec![]);
    let rest = g.int_constant("rest", vec![1, dim]);
    let cls_shape = g.op("Concat", &[&n, &rest], vec![("axis", Attr::Int(0))]);
    let cls = param(g, w, "image.cls");
    let cls = g.op("Expand", &[&cls, &cls_shape], vec![]);
    let h = g.op("Concat", &[&cls, &tokens], vec![("axis", Attr::Int(1))]);
    let pos = param(g, w, "image.pos");
    let h = g.op("Add", &[&h, &pos], vec![]);
    let h = encoder_graph(g, w, "image.enc", encoder, &h);
    let tokens_axis = g.int_constant("axes", vec![1]);
    let first = g.op("Slice", &[&h, &from, &to, &tokens_axis], vec![]); // [N, 1, D]: the class token
    g.op("Flatten", &[&first], vec![("axis", Attr::Int(1))])
}

fn encoder_graph(g: &mut GraphBuilder, w: &Weights, p: &str, e: &Encoder, x: &str) -> String {
    let mut h = x.to_string();
    for (i, b) in e.blocks.iter().enumerate() {
        h = block(g, w, &format!("{p}.b{i}"), b, &h);
    }
    layer_norm(g, w, &format!("{p}.norm"), &h)
}

fn layer_norm(g: &mut GraphBuilder, w: &Weights, p: &str, x: &str) -> String {
    let (scale, shift) = (param(g, w, &format!("{p}.weight")), bias(g, w, p));
    g.op("LayerNormalization", &[x, &scale, &shift], vec![("axis", Attr::Int(-1)), ("epsilon", Attr::Float(1e-5))])
}

/// `x W^T + b` over the last axis of a `[N, T, F]` tensor.
fn linear3(g: &mut GraphBuilder, w: &Weights, p: &str, x: &str) -> String {
    let weight = w.get(&format!("{p}.weight"));
    let wt = g.constant(p, &[weight.size()[1], weight.size()[0]], values(&weight.tr()));
    let y = g.op("MatMul", &[x, &wt], vec![]);
    let b = bias(g, w, p);
    g.op("Add", &[&y, &b], vec![])
}

fn block(g: &mut GraphBuilder, w: &Weights, p: &str, b: &Block, x: &str) -> String {
    let d = w.get(&format!("{p}.q.weight")).size()[0];
    let (heads, dh) = (b.heads, d / b.heads);
    let h = layer_norm(g, w, &format!("{p}.n1"), x);
    let heads_shape = g.int_constant("heads", vec![0, -1, heads, dh]);
    let split = |g: &mut GraphBuilder, name: &str, perm: Vec<i64>| {
        let y = linear3(g, w, &format!("{p}.{name}"), &h);
        let y = g.op("Reshape", &[&y, &heads_shape], vec![]);
        g.op("Transpose", &[&y], vec![("perm", Attr::Ints(perm))])
    };
    let q = split(g, "q", vec![0, 2, 1, 3]); // [N, H, T, dh]
    let k = split(g, "k", vec![0, 2, 3, 1]); // [N, H, dh, T]
    let v = split(g, "v", vec![0, 2, 1, 3]);
    let scores = g.op("MatMul", &[&q, &k], vec![]);
    let scale = g.constant("scale", &[], vec![1.0 / (dh as f32).sqrt()]);
    let scores = g.op("Mul", &[&scores, &scale], vec![]);
    let att = g.op("Softmax", &[&scores], vec![("axis", Attr::Int(-1))]);
    let o = g.op("MatMul", &[&att, &v], vec![]);
    let o = g.op("Transpose", &[&o], vec![("perm", Attr::Ints(vec![0, 2, 1, 3]))]);
    let merged = g.int_constant("merged", vec![0, -1, d]);
    let o = g.op("Reshape", &[&o, &merged], vec![]);
    let o = linear3(g, w, &format!("{p}.proj"), &o);
    let x = g.op("Add", &[x, &o], vec![]);
    let m = layer_norm(g, w, &format!("{p}.n2"), &x);
    let m = linear3(g, w, &format!("{p}.fc1"), &m);
    let m = gelu(g, &m);
    let m = linear3(g, w, &format!("{p}.fc2"), &m);
    g.op("Add", &[&x, &m], vec![])
}

/// Exact GELU, x * (1 + erf(x / sqrt 2)) / 2 (ONNX has no Gelu op before opset 20).
fn gelu(g: &mut GraphBuilder, x: &str) -> String {
    let inv_sqrt2 = g.constant("inv_sqrt2", &[], vec![std::f32::consts::FRAC_1_SQRT_2]);
    let (one, half) = (g.constant("one", &[], vec![1.0]), g.constant("half", &[], vec![0.5]));
    let s = g.op("Mul", &[x, &inv_sqrt2], vec![]);
    let e = g.op("Erf", &[&s], vec![]);
    let e = g.op("Add", &[&e, &one], vec![]);
    let y = g.op("Mul", &[x, &e], vec![]);
    g.op("Mul", &[&y, &half], vec![])
}
