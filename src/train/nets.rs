//! The networks, on libtorch (tch). Each has an ONNX twin in [`super::export`].

use tch::nn::{self, Module, RNN};
use tch::Tensor;

use super::config::ModelConfig;
use crate::bundle::{InputSpec, Layout};

// A handful of these exist per training run: variant sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Net {
    Mlp {
        layers: Vec<nn::Linear>,
    },
    Lstm {
        lstm: nn::LSTM,
        head: nn::Linear,
        hidden: i64,
        layers: i64,
    },
    CnnLstm {
        c1: nn::Conv2D,
        c2: nn::Conv2D,
        fc: nn::Linear,
        lstm: nn::LSTM,
        fl: nn::Linear,
        out: nn::Linear,
        window: usize,
        series: usize,
        hidden: i64,
        layers: i64,
    },
}

/// Side of the CNN branch's output for a k x k window: conv(k 2, pad 1) adds 1, max-pool halves.
pub fn cnn_side(k: i64) -> i64 {
    ((k + 1) / 2 + 1) / 2
}

fn position(inputs: &[InputSpec], want: fn(&Layout) -> bool, what: &str) -> Result<usize, String> {
    let found: Vec<usize> = inputs.iter().enumerate().filter(|(_, i)| want(&i.layout)).map(|(k, _)| k).collect();
    match found.as_slice() {
        [k] => Ok(*k),
        _ => Err(format!("this model needs exactly one {what} input, the samples have {}", found.len())),
    }
}

fn lstm_config(layers: i64) -> nn::RNNConfig {
    nn::RNNConfig { num_layers: layers, batch_first: true, ..Default::default() }
}

impl Net {
    pub fn new(vs: &nn::Path, config: &ModelConfig, inputs: &[InputSpec]) -> Result<Net, String> {
        match config {
            ModelConfig::Mlp { hidden } => {
                let mut dims: Vec<i64> = vec![inputs.iter().map(|i| i.layout.sample_len(i.channels.len()) as i64).sum()];
                dims.extend(hidden);
                dims.push(1);
                let layers =
                    dims.windows(2).enumerate().map(|(l, d)| nn::linear(vs / format!("l{l}"), d[0], d[1], Default::default())).collect();
                Ok(Net::Mlp { layers })
            }
            ModelConfig::Lstm { hidden, layers } => {
                let k = position(inputs, |l| matches!(l, Layout::Series { .. }), "series")?;
                if inputs.len() != 1 {
                    return Err("an lstm model takes one series input".into());
                }
                let Layout::Series { features, .. } = inputs[k].layout else { unreachable!("position() checked the layout") };
                let lstm = nn::lstm(vs / "lstm", features as i64, *hidden, lstm_config(*layers));
                Ok(Net::Lstm { lstm, head: nn::linear(vs / "head", *hidden, 1, Default::default()), hidden: *hidden, layers: *layers })
            }
            ModelConfig::CnnLstm { lstm_hidden, lstm_layers } => {
                let window = position(inputs, |l| matches!(l, Layout::Window { .. }), "window")?;
                let series = position(inputs, |l| matches!(l, Layout::Series { .. }), "series")?;
                let (Layout::Window { size }, Layout::Series { features, .. }) = (inputs[window].layout, inputs[series].layout) else {
                    unreachable!("position() checked the layouts")
                };
                let channels = inputs[window].channels.len() as i64;
                let conv = nn::ConvConfig { padding: 1, ..Default::default() };
                let side = cnn_side(size as i64);
                if side < 1 {
                    return Err(format!("a {size}x{size} window is too small for the CNN branch"));
                }
                Ok(Net::CnnLstm {
                    c1: nn::conv2d(vs / "c1", channels, 6, 2, conv),
                    c2: nn::conv2d(vs / "c2", 6, 16, 2, conv),
                    fc: nn::linear(vs / "fc", 16 * side * side, 16, Default::default()),
                    lstm: nn::lstm(vs / "lstm", features as i64, *lstm_hidden, lstm_config(*lstm_layers)),
                    fl: nn::linear(vs / "fl", *lstm_hidden, 16, Default::default()),
                    out: nn::linear(vs / "out", 32, 1, Default::default()),
                    window,
                    series,
                    hidden: *lstm_hidden,
                    layers: *lstm_layers,
                })
            }
        }
    }

    /// Forward pass: one tensor per input (batch first); returns `[N, 1]`.
    pub fn forward(&self, xs: &[Tensor]) -> Tensor {
        match self {
            Net::Mlp { layers } => {
                let flat: Vec<Tensor> = xs.iter().map(|x| x.flatten(1, -1)).collect();
                let mut h = Tensor::cat(&flat, 1);
                for (i, l) in layers.iter().enumerate() {
                    h = l.forward(&h);
                    if i + 1 < layers.len() {
                        h = h.relu();
                    }
                }
                h
            }
            Net::Lstm { lstm, head, .. } => head.forward(&last_step(lstm, &xs[0])),
            Net::CnnLstm { c1, c2, fc, lstm, fl, out, window, series, .. } => {
                let a = c1.forward(&xs[*window]).relu().max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
                let a = c2.forward(&a).relu().max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
                let a = fc.forward(&a.flatten(1, -1)).relu();
                let b = fl.forward(&last_step(lstm, &xs[*series])).tanh();
                out.forward(&Tensor::cat(&[a, b], 1))
            }
        }
    }
}

/// The last time step's output of a batch-first LSTM.
fn last_step(lstm: &nn::LSTM, x: &Tensor) -> Tensor {
    let (out, _) = lstm.seq(x);
    let steps = out.size()[1];
    out.select(1, steps - 1)
}
