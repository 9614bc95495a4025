//! The networks, on libtorch (tch). Each has an ONNX twin in [`super::export`].

use crate::error::{invalid, TrainError};
use tch::nn::{self, Module, RNN};
use tch::Tensor;

use super::config::ModelConfig;
use super::soilnet::SoilNet;
use terrapix::bundle::{InputSpec, Layout};

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
    Cnn {
        c1: nn::Conv2D,
        c2: nn::Conv2D,
        fc: nn::Linear,
        out: nn::Linear,
    },
    CoordCnn {
        /// Convolution, InstanceNorm scale and shift of each block.
        convs: Vec<(nn::Conv2D, Tensor, Tensor)>,
        d1: nn::Linear,
        n1: nn::LayerNorm,
        d2: nn::Linear,
        n2: nn::LayerNorm,
        out: nn::Linear,
        dropout: f64,
    },
    SoilNet(Box<SoilNet>),
}

/// Side of the CNN branch's output for a k x k window: conv(k 2, pad 1) adds 1, max-pool halves.
pub fn cnn_side(k: i64) -> i64 {
    ((k + 1) / 2 + 1) / 2
}

fn position(inputs: &[InputSpec], want: fn(&Layout) -> bool, what: &str) -> Result<usize, TrainError> {
    let found: Vec<usize> = inputs.iter().enumerate().filter(|(_, i)| want(&i.layout)).map(|(k, _)| k).collect();
    match found.as_slice() {
        [k] => Ok(*k),
        _ => Err(invalid!("this model needs exactly one {what} input, the samples have {}", found.len())),
    }
}

fn lstm_config(layers: i64) -> nn::RNNConfig {
    nn::RNNConfig { num_layers: layers, batch_first: true, ..Default::default() }
}

impl Net {
    pub fn new(vs: &nn::Path, config: &ModelConfig, inputs: &[InputSpec]) -> Result<Net, TrainError> {
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
            ModelConfig::Cnn => {
                let k = position(inputs, |l| matches!(l, Layout::Window { .. }), "window")?;
                if inputs.len() != 1 {
                    return Err("a cnn model takes one window input".into());
                }
                let Layout::Window { size, .. } = inputs[k].layout else { unreachable!("position() checked the layout") };
                let (c1, c2, fc) = cnn_branch(vs, inputs[k].channels.len() as i64, size as i64)?;
                Ok(Net::Cnn { c1, c2, fc, out: nn::linear(vs / "out", 16, 1, Default::default()) })
            }
            ModelConfig::CoordCnn { dropout } => {
                let k = position(inputs, |l| matches!(l, Layout::Patch { .. }), "patch")?;
                if inputs.len() != 1 {
                    return Err("a coord_cnn model takes one patch input".into());
                }
                let Layout::Patch { size } = inputs[k].layout else { unreachable!("position() checked the layout") };
                let side = (size / 4) as i64; // two max-pools
                if side < 1 {
                    return Err(invalid!("a {size}x{size} patch is too small for two max-pools"));
                }
                let conv = nn::ConvConfig { padding: 1, ..Default::default() };
                let mut channels = inputs[k].channels.len() as i64;
                let mut convs = Vec::new();
                for (i, out) in [32, 64, 128].into_iter().enumerate() {
                    let p = vs / format!("conv{i}");
                    let c = nn::conv2d(&p, channels, out, 3, conv);
                    let (w, b) = (p.var("in_weight", &[out], nn::Init::Const(1.0)), p.var("in_bias", &[out], nn::Init::Const(0.0)));
                    convs.push((c, w, b));
                    channels = out;
                }
                let ln = nn::LayerNormConfig::default();
                Ok(Net::CoordCnn {
                    convs,
                    d1: nn::linear(vs / "d1", 128 * side * side, 128, Default::default()),
                    n1: nn::layer_norm(vs / "n1", vec![128], ln),
                    d2: nn::linear(vs / "d2", 128, 64, Default::default()),
                    n2: nn::layer_norm(vs / "n2", vec![64], ln),
                    out: nn::linear(vs / "out", 64, 1, Default::default()),
                    dropout: *dropout,
                })
            }
            ModelConfig::Soilnet(cfg) => Ok(Net::SoilNet(Box::new(SoilNet::new(vs, cfg, inputs)?))),
            ModelConfig::RandomForest(_) | ModelConfig::QuantileForest(_) | ModelConfig::GradientBoosting(_) => {
                Err("tree models are not networks".into())
            }
            ModelConfig::CnnLstm { lstm_hidden, lstm_layers } => {
                let window = position(inputs, |l| matches!(l, Layout::Window { .. }), "window")?;
                let series = position(inputs, |l| matches!(l, Layout::Series { .. }), "series")?;
                let (Layout::Window { size, .. }, Layout::Series { features, .. }) = (inputs[window].layout, inputs[series].layout) else {
                    unreachable!("position() checked the layouts")
                };
                let (c1, c2, fc) = cnn_branch(vs, inputs[window].channels.len() as i64, size as i64)?;
                Ok(Net::CnnLstm {
                    c1,
                    c2,
                    fc,
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

    /// Forward pass: one tensor per input (batch first); returns `[N, 1]`. `train` switches
    /// dropout on.
    pub fn forward(&self, xs: &[Tensor], train: bool) -> Tensor {
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
                let a = cnn_forward(c1, c2, fc, &xs[*window]);
                let b = fl.forward(&last_step(lstm, &xs[*series])).tanh();
                out.forward(&Tensor::cat(&[a, b], 1))
            }
            Net::Cnn { c1, c2, fc, out } => out.forward(&cnn_forward(c1, c2, fc, &xs[0])),
            Net::CoordCnn { convs, d1, n1, d2, n2, out, dropout } => {
                let mut h = xs[0].shallow_clone();
                for (i, (c, w, b)) in convs.iter().enumerate() {
                    h = c.forward(&h).instance_norm(Some(w), Some(b), None::<&Tensor>, None::<&Tensor>, true, 0.1, 1e-5, false).relu();
                    if i < 2 {
                        h = h.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
                    }
                    h = h.dropout(*dropout, train);
                }
                let h = n1.forward(&d1.forward(&h.flatten(1, -1))).relu().dropout(*dropout, train);
                let h = n2.forward(&d2.forward(&h)).relu().dropout(*dropout, train);
                out.forward(&h)
            }
            Net::SoilNet(s) => s.forward(xs, train),
        }
    }

    /// Multiply-adds of one forward pass for one output cell (dense layers, convolutions,
    /// recurrences and attention; norms and activations are left out): what `terrapix info`
    /// states of a bundle, per member.
    pub fn multiply_adds(&self, inputs: &[InputSpec]) -> u64 {
        let (lin, conv) = (linear_macs, conv_macs);
        let lstm = |t, f, h, layers| rnn_macs(4, t, f, h, layers);
        let series = |k: usize| match inputs[k].layout {
            Layout::Series { steps, features } => (steps as i64, features as i64),
            _ => (0, 0),
        };
        let side = |k: usize| inputs[k].layout.shape(inputs[k].channels.len()).last().copied().unwrap_or(1) as i64;
        // Zhang et al.'s (2022) CNN-LSTM branch: conv k2 pad 1 grows the side by one, max-pool halves it.
        let cnn = |c1: &nn::Conv2D, c2: &nn::Conv2D, fc: &nn::Linear, k: i64| {
            let s1 = k + 1;
            conv(c1, s1) + conv(c2, s1 / 2 + 1) + lin(fc)
        };
        let macs = match self {
            Net::Mlp { layers } => layers.iter().map(lin).sum(),
            Net::Lstm { head, hidden, layers, .. } => {
                let (t, f) = series(0);
                lstm(t, f, *hidden, *layers) + lin(head)
            }
            Net::CnnLstm { c1, c2, fc, fl, out, window, series: s, hidden, layers, .. } => {
                let (t, f) = series(*s);
                cnn(c1, c2, fc, side(*window)) + lstm(t, f, *hidden, *layers) + lin(fl) + lin(out)
            }
            Net::Cnn { c1, c2, fc, out } => cnn(c1, c2, fc, side(0)) + lin(out),
            Net::CoordCnn { convs, d1, d2, out, .. } => {
                let s = side(0);
                convs.iter().zip([s, s / 2, s / 4]).map(|((c, _, _), s)| conv(c, s)).sum::<i64>() + lin(d1) + lin(d2) + lin(out)
            }
            Net::SoilNet(s) => return s.multiply_adds(inputs),
        };
        macs as u64
    }
}

/// The CNN branch of Zhang et al.'s (2022) CNN-LSTM: conv(k 2, pad 1) x6, conv x16, each ReLU and max-pool 2; dense 16.
fn cnn_branch(vs: &nn::Path, channels: i64, window: i64) -> Result<(nn::Conv2D, nn::Conv2D, nn::Linear), TrainError> {
    let conv = nn::ConvConfig { padding: 1, ..Default::default() };
    let side = cnn_side(window);
    if side < 1 {
        return Err(invalid!("a {window}x{window} window is too small for the CNN branch"));
    }
    Ok((
        nn::conv2d(vs / "c1", channels, 6, 2, conv),
        nn::conv2d(vs / "c2", 6, 16, 2, conv),
        nn::linear(vs / "fc", 16 * side * side, 16, Default::default()),
    ))
}

fn cnn_forward(c1: &nn::Conv2D, c2: &nn::Conv2D, fc: &nn::Linear, x: &Tensor) -> Tensor {
    let a = c1.forward(x).relu().max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
    let a = c2.forward(&a).relu().max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
    fc.forward(&a.flatten(1, -1)).relu()
}

/// The last time step's output of a batch-first LSTM or GRU.
pub(super) fn last_step(rnn: &impl RNN, x: &Tensor) -> Tensor {
    let (out, _) = rnn.seq(x);
    let steps = out.size()[1];
    out.select(1, steps - 1)
}

/// Multiply-adds of a dense layer for one sample.
pub(super) fn linear_macs(l: &nn::Linear) -> i64 {
    l.ws.size().iter().product()
}

/// Multiply-adds of a convolution whose output is `side` x `side`.
pub(super) fn conv_macs(c: &nn::Conv2D, side: i64) -> i64 {
    side * side * c.ws.size().iter().product::<i64>()
}

/// Multiply-adds of a multi-layer recurrence over `steps` (LSTM: 4 gate blocks, GRU: 3).
pub(super) fn rnn_macs(gates: i64, steps: i64, features: i64, hidden: i64, layers: i64) -> i64 {
    (0..layers).map(|l| steps * gates * hidden * (if l == 0 { features } else { hidden } + hidden)).sum()
}
