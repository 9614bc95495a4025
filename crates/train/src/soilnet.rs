//! SoilNet (Kakhani et al. 2024) on libtorch: an image backbone (a ViT or a ResNet) over a window of bands,
//! a climate branch (LSTM, GRU or transformer encoder) over a monthly series, and the seed's
//! fusion head (each branch to 128, sigmoid, concatenation, 128, sigmoid, 1). Either branch may
//! be left out (the inputs decide). Its ONNX twin is [`super::soilnet_onnx`]; the branches'
//! 128-wide projections are the embeddings that [`super::pretrain`] contrasts.

use crate::error::{invalid, TrainError};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, ModuleT};
use tch::{Kind, Tensor};

use super::nets::{conv_macs, last_step, linear_macs, rnn_macs};
use terrapix::bundle::{InputSpec, Layout};

/// Width of each branch's projection and of the fusion layer (the seed's 128).
pub const FUSION: i64 = 128;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SoilNetConfig {
    /// The image branch, for the window (or patch) input.
    pub backbone: Backbone,
    /// The climate branch, for the series input.
    pub climate: Climate,
}

/// Image backbones. Defaults are the seed's ViT (patch 8, dim 768, depth 12, 12 heads); a tiny
/// one for a CPU is e.g. `{ kind = "vit", patch = 8, dim = 64, depth = 4, heads = 4 }`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Backbone {
    /// Patch embedding, class token, learned position embeddings, pre-norm transformer blocks
    /// (multi-head self-attention and a GELU MLP, each with a residual), final layer norm; the
    /// class token is the image's feature.
    Vit {
        #[serde(default = "d_patch")]
        patch: i64,
        #[serde(default = "d_dim")]
        dim: i64,
        #[serde(default = "d_depth")]
        depth: i64,
        #[serde(default = "d_heads")]
        heads: i64,
        /// Width of the MLP as a multiple of `dim`.
        #[serde(default = "d_mlp")]
        mlp_ratio: i64,
    },
    /// torchvision's ResNet (depth 18 or 34: basic blocks; 50 or 101: bottlenecks) with a base
    /// `width` (64 in the paper), global average pooling; batch norm is folded into the
    /// convolutions on export.
    Resnet {
        #[serde(default = "d_resnet")]
        depth: i64,
        #[serde(default = "d_width")]
        width: i64,
    },
}

impl Default for Backbone {
    fn default() -> Self {
        Backbone::Vit { patch: d_patch(), dim: d_dim(), depth: d_depth(), heads: d_heads(), mlp_ratio: d_mlp() }
    }
}

/// Climate branches (the seed's: hidden 128, 2 layers).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Climate {
    Lstm {
        #[serde(default = "d_hidden")]
        hidden: i64,
        #[serde(default = "d_layers")]
        layers: i64,
    },
    Gru {
        #[serde(default = "d_hidden")]
        hidden: i64,
        #[serde(default = "d_layers")]
        layers: i64,
    },
    /// Steps embedded linearly, learned position embeddings, pre-norm transformer blocks,
    /// final layer norm, mean over the steps.
    Transformer {
        #[serde(default = "d_tdim")]
        dim: i64,
        #[serde(default = "d_layers")]
        depth: i64,
        #[serde(default = "d_theads")]
        heads: i64,
    },
}

impl Default for Climate {
    fn default() -> Self {
        Climate::Lstm { hidden: d_hidden(), layers: d_layers() }
    }
}

fn d_patch() -> i64 {
    8
}
fn d_dim() -> i64 {
    768
}
fn d_depth() -> i64 {
    12
}
fn d_heads() -> i64 {
    12
}
fn d_mlp() -> i64 {
    4
}
fn d_resnet() -> i64 {
    101
}
fn d_width() -> i64 {
    64
}
fn d_hidden() -> i64 {
    128
}
fn d_layers() -> i64 {
    2
}
fn d_tdim() -> i64 {
    64
}
fn d_theads() -> i64 {
    4
}

/// A pre-norm transformer block: x + attn(LN(x)), then x + MLP(LN(x)) with GELU.
pub struct Block {
    pub heads: i64,
    n1: nn::LayerNorm,
    q: nn::Linear,
    k: nn::Linear,
    v: nn::Linear,
    proj: nn::Linear,
    n2: nn::LayerNorm,
    fc1: nn::Linear,
    fc2: nn::Linear,
}

impl Block {
    fn new(p: &nn::Path, dim: i64, heads: i64, mlp: i64) -> Block {
        let ln = nn::LayerNormConfig::default();
        let lin = |name: &str, i, o| nn::linear(p / name, i, o, Default::default());
        Block {
            heads,
            n1: nn::layer_norm(p / "n1", vec![dim], ln),
            q: lin("q", dim, dim),
            k: lin("k", dim, dim),
            v: lin("v", dim, dim),
            proj: lin("proj", dim, dim),
            n2: nn::layer_norm(p / "n2", vec![dim], ln),
            fc1: lin("fc1", dim, mlp),
            fc2: lin("fc2", mlp, dim),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let (n, t, d) = x.size3().expect("[N, T, D] tokens");
        let dh = d / self.heads;
        let h = self.n1.forward(x);
        let split = |l: &nn::Linear| l.forward(&h).view([n, t, self.heads, dh]).transpose(1, 2); // [N, H, T, dh]
        let (q, k, v) = (split(&self.q), split(&self.k), split(&self.v));
        let att = (q.matmul(&k.transpose(-2, -1)) * (1.0 / (dh as f64).sqrt())).softmax(-1, Kind::Float);
        let o = att.matmul(&v).transpose(1, 2).reshape([n, t, d]);
        let x = x + self.proj.forward(&o);
        let m = self.fc2.forward(&self.fc1.forward(&self.n2.forward(&x)).gelu("none"));
        x + m
    }
}

/// Pre-norm transformer blocks and the final layer norm.
pub struct Encoder {
    pub blocks: Vec<Block>,
    norm: nn::LayerNorm,
}

impl Encoder {
    fn new(p: &nn::Path, dim: i64, depth: i64, heads: i64, mlp: i64) -> Encoder {
        let blocks = (0..depth).map(|i| Block::new(&(p / format!("b{i}")), dim, heads, mlp)).collect();
        Encoder { blocks, norm: nn::layer_norm(p / "norm", vec![dim], Default::default()) }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let h = self.blocks.iter().fold(x.shallow_clone(), |h, b| b.forward(&h));
        self.norm.forward(&h)
    }
}

/// One convolution with its batch norm (no bias: the norm shifts).
pub struct ConvBn {
    pub conv: nn::Conv2D,
    pub bn: nn::BatchNorm,
    pub stride: i64,
    pub kernel: i64,
}

impl ConvBn {
    fn new(p: &nn::Path, i: i64, o: i64, kernel: i64, stride: i64) -> ConvBn {
        let cfg = nn::ConvConfig { stride, padding: kernel / 2, bias: false, ..Default::default() };
        ConvBn { conv: nn::conv2d(p / "conv", i, o, kernel, cfg), bn: nn::batch_norm2d(p / "bn", o, Default::default()), stride, kernel }
    }

    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        self.bn.forward_t(&self.conv.forward(x), train)
    }
}

/// A residual block: its convolutions (ReLU between them) and the projection of the shortcut.
pub struct Residual {
    /// Its variables' prefix under the backbone (`s{stage}b{block}`).
    pub name: String,
    pub convs: Vec<ConvBn>,
    pub shortcut: Option<ConvBn>,
}

impl Residual {
    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let mut h = x.shallow_clone();
        for (i, c) in self.convs.iter().enumerate() {
            h = c.forward(&h, train);
            if i + 1 < self.convs.len() {
                h = h.relu();
            }
        }
        let s = self.shortcut.as_ref().map_or_else(|| x.shallow_clone(), |c| c.forward(x, train));
        (h + s).relu()
    }
}

pub enum Image {
    Vit { embed: nn::Conv2D, cls: Tensor, pos: Tensor, encoder: Encoder, patch: i64 },
    Resnet { stem: ConvBn, blocks: Vec<Residual> },
}

impl Image {
    fn new(p: &nn::Path, cfg: &Backbone, channels: i64, size: i64) -> Result<(Image, i64), TrainError> {
        match *cfg {
            Backbone::Vit { patch, dim, depth, heads, mlp_ratio } => {
                if patch < 1 || size % patch != 0 {
                    return Err(invalid!("a ViT with patch {patch} needs a window whose side is a multiple of it, got {size}"));
                }
                if heads < 1 || dim % heads != 0 {
                    return Err(invalid!("a ViT's dim ({dim}) must be a multiple of its heads ({heads})"));
                }
                let tokens = (size / patch) * (size / patch) + 1;
                let embed = nn::conv2d(p / "embed", channels, dim, patch, nn::ConvConfig { stride: patch, ..Default::default() });
                let init = nn::Init::Randn { mean: 0.0, stdev: 0.02 };
                let (cls, pos) = (p.var("cls", &[1, 1, dim], init), p.var("pos", &[1, tokens, dim], init));
                let encoder = Encoder::new(&(p / "enc"), dim, depth, heads, dim * mlp_ratio);
                Ok((Image::Vit { embed, cls, pos, encoder, patch }, dim))
            }
            Backbone::Resnet { depth, width } => {
                let (bottleneck, counts): (bool, &[i64]) = match depth {
                    18 => (false, &[2, 2, 2, 2]),
                    34 => (false, &[3, 4, 6, 3]),
                    50 => (true, &[3, 4, 6, 3]),
                    101 => (true, &[3, 4, 23, 3]),
                    _ => return Err(invalid!("ResNet depth {depth}: terrapix builds 18, 34, 50 and 101")),
                };
                let stem = ConvBn::new(&(p / "stem"), channels, width, 7, 2);
                let (mut blocks, mut c_in) = (Vec::new(), width);
                for (stage, &count) in counts.iter().enumerate() {
                    let planes = width << stage;
                    for b in 0..count {
                        let name = format!("s{stage}b{b}");
                        let q = p / &name;
                        let stride = if b == 0 && stage > 0 { 2 } else { 1 };
                        let c_out = if bottleneck { 4 * planes } else { planes };
                        let convs = if bottleneck {
                            vec![
                                ConvBn::new(&(&q / "c0"), c_in, planes, 1, 1),
                                ConvBn::new(&(&q / "c1"), planes, planes, 3, stride),
                                ConvBn::new(&(&q / "c2"), planes, c_out, 1, 1),
                            ]
                        } else {
                            vec![ConvBn::new(&(&q / "c0"), c_in, planes, 3, stride), ConvBn::new(&(&q / "c1"), planes, planes, 3, 1)]
                        };
                        let shortcut = (stride != 1 || c_in != c_out).then(|| ConvBn::new(&(&q / "down"), c_in, c_out, 1, stride));
                        blocks.push(Residual { name, convs, shortcut });
                        c_in = c_out;
                    }
                }
                Ok((Image::Resnet { stem, blocks }, c_in))
            }
        }
    }

    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        match self {
            Image::Vit { embed, cls, pos, encoder, .. } => {
                let t = embed.forward(x).flatten(2, -1).transpose(1, 2); // [N, T, D]
                let n = t.size()[0];
                let h = Tensor::cat(&[cls.expand([n, -1, -1], false), t], 1) + pos;
                encoder.forward(&h).select(1, 0)
            }
            Image::Resnet { stem, blocks } => {
                let h = stem.forward(x, train).relu().max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false);
                let h = blocks.iter().fold(h, |h, b| b.forward(&h, train));
                h.adaptive_avg_pool2d([1, 1]).flatten(1, -1)
            }
        }
    }
}

pub enum Series {
    Lstm { lstm: nn::LSTM, hidden: i64, layers: i64 },
    Gru { gru: nn::GRU, hidden: i64, layers: i64 },
    Transformer { embed: nn::Linear, pos: Tensor, encoder: Encoder },
}

impl Series {
    fn new(p: &nn::Path, cfg: &Climate, steps: i64, features: i64) -> Result<(Series, i64), TrainError> {
        let rnn = |layers| nn::RNNConfig { num_layers: layers, batch_first: true, ..Default::default() };
        match *cfg {
            Climate::Lstm { hidden, layers } => {
                Ok((Series::Lstm { lstm: nn::lstm(p / "lstm", features, hidden, rnn(layers)), hidden, layers }, hidden))
            }
            Climate::Gru { hidden, layers } => {
                Ok((Series::Gru { gru: nn::gru(p / "gru", features, hidden, rnn(layers)), hidden, layers }, hidden))
            }
            Climate::Transformer { dim, depth, heads } => {
                if heads < 1 || dim % heads != 0 {
                    return Err(invalid!("a climate transformer's dim ({dim}) must be a multiple of its heads ({heads})"));
                }
                let embed = nn::linear(p / "embed", features, dim, Default::default());
                let pos = p.var("pos", &[1, steps, dim], nn::Init::Randn { mean: 0.0, stdev: 0.02 });
                Ok((Series::Transformer { embed, pos, encoder: Encoder::new(&(p / "enc"), dim, depth, heads, 4 * dim) }, dim))
            }
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        match self {
            Series::Lstm { lstm, .. } => last_step(lstm, x),
            Series::Gru { gru, .. } => last_step(gru, x),
            Series::Transformer { embed, pos, encoder } => encoder.forward(&(embed.forward(x) + pos)).mean_dim(1, false, Kind::Float),
        }
    }
}

/// A branch: its input's position among the model's inputs, the network, its projection to
/// [`FUSION`] (the pretraining embedding) and the network's feature width.
pub struct Branch<T> {
    pub input: usize,
    pub net: T,
    pub project: nn::Linear,
    pub features: i64,
}

pub struct SoilNet {
    pub image: Option<Branch<Image>>,
    pub climate: Option<Branch<Series>>,
    pub fuse: nn::Linear,
    pub out: nn::Linear,
}

impl SoilNet {
    /// The image branch takes the window (or patch) input, the climate branch the series input.
    pub fn new(vs: &nn::Path, cfg: &SoilNetConfig, inputs: &[InputSpec]) -> Result<SoilNet, TrainError> {
        let (mut image, mut climate) = (None, None);
        for (k, spec) in inputs.iter().enumerate() {
            let channels = spec.channels.len() as i64;
            match spec.layout {
                Layout::Window { size, .. } | Layout::Patch { size } if image.is_none() => {
                    let (net, features) = Image::new(&(vs / "image"), &cfg.backbone, channels, size as i64)?;
                    let project = nn::linear(vs / "image_proj", features, FUSION, Default::default());
                    image = Some(Branch { input: k, net, project, features });
                }
                Layout::Series { steps, features } if climate.is_none() => {
                    let (net, width) = Series::new(&(vs / "climate"), &cfg.climate, steps as i64, features as i64)?;
                    let project = nn::linear(vs / "climate_proj", width, FUSION, Default::default());
                    climate = Some(Branch { input: k, net, project, features: width });
                }
                _ => {
                    return Err(invalid!(
                        "soilnet takes one window (or patch) input for its image branch and one series input for its climate \
                         branch; input '{}' ({}) is neither or a second one",
                        spec.name,
                        spec.layout.describe()
                    ))
                }
            }
        }
        let branches = image.is_some() as i64 + climate.is_some() as i64;
        if branches == 0 {
            return Err("soilnet needs a window or a series input".into());
        }
        Ok(SoilNet {
            image,
            climate,
            fuse: nn::linear(vs / "fuse", branches * FUSION, FUSION, Default::default()),
            out: nn::linear(vs / "out", FUSION, 1, Default::default()),
        })
    }

    /// Each present branch's 128-wide projection, before its sigmoid: (image, climate).
    pub fn embeddings(&self, xs: &[Tensor], train: bool) -> (Option<Tensor>, Option<Tensor>) {
        let image = self.image.as_ref().map(|b| b.project.forward(&b.net.forward(&xs[b.input], train)));
        let climate = self.climate.as_ref().map(|b| b.project.forward(&b.net.forward(&xs[b.input])));
        (image, climate)
    }

    pub fn forward(&self, xs: &[Tensor], train: bool) -> Tensor {
        let (image, climate) = self.embeddings(xs, train);
        let parts: Vec<Tensor> = image.into_iter().chain(climate).map(|e| e.sigmoid()).collect();
        self.out.forward(&self.fuse.forward(&Tensor::cat(&parts, 1)).sigmoid())
    }

    /// Multiply-adds of one forward pass for one output cell (convolutions, matrix products and
    /// recurrences; norms and activations are left out).
    pub fn multiply_adds(&self, inputs: &[InputSpec]) -> u64 {
        let mut total = 0i64;
        if let Some(b) = &self.image {
            let (Layout::Window { size, .. } | Layout::Patch { size }) = inputs[b.input].layout else {
                unreachable!("the image branch takes a window or a patch")
            };
            let size = size as i64;
            total += match &b.net {
                Image::Vit { embed, patch, encoder, .. } => {
                    let side = size / patch;
                    conv_macs(embed, side) + encoder_macs(encoder, side * side + 1, b.features)
                }
                Image::Resnet { stem, blocks } => {
                    let mut side = conv_side(size, stem.kernel, stem.stride);
                    let mut macs = conv_macs(&stem.conv, side);
                    side = (side - 1) / 2 + 1; // max-pool 3, stride 2, pad 1
                    for r in blocks {
                        let mut s = side;
                        for cb in &r.convs {
                            s = conv_side(s, cb.kernel, cb.stride);
                            macs += conv_macs(&cb.conv, s);
                        }
                        macs += r.shortcut.as_ref().map_or(0, |sc| conv_macs(&sc.conv, s));
                        side = s;
                    }
                    macs
                }
            } + linear_macs(&b.project);
        }
        if let Some(b) = &self.climate {
            let Layout::Series { steps, features } = inputs[b.input].layout else { unreachable!("the climate branch takes a series") };
            let (t, f) = (steps as i64, features as i64);
            total += match &b.net {
                Series::Lstm { hidden, layers, .. } => rnn_macs(4, t, f, *hidden, *layers),
                Series::Gru { hidden, layers, .. } => rnn_macs(3, t, f, *hidden, *layers),
                Series::Transformer { embed, encoder, .. } => t * linear_macs(embed) + encoder_macs(encoder, t, b.features),
            } + linear_macs(&b.project);
        }
        (total + linear_macs(&self.fuse) + linear_macs(&self.out)) as u64
    }
}

fn conv_side(side: i64, kernel: i64, stride: i64) -> i64 {
    (side + 2 * (kernel / 2) - kernel) / stride + 1
}

fn encoder_macs(e: &Encoder, t: i64, d: i64) -> i64 {
    let per_block = |b: &Block| {
        let mlp = b.fc1.ws.size()[0];
        4 * t * d * d + 2 * t * t * d + 2 * t * d * mlp
    };
    e.blocks.iter().map(per_block).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use terrapix::bundle::Channel;

    fn image(size: usize) -> Vec<InputSpec> {
        let channels = ["r", "g", "b"].map(Channel::new).to_vec();
        // An even window on a cell of 2 pixels: the backbone sees exactly size x size.
        let layout = if size % 2 == 0 { Layout::Window { size, cell: 2 } } else { Layout::window(size) };
        vec![InputSpec { name: "img".into(), layout, channels }]
    }

    /// The backbone's share of the count: less the projection, fusion and output layers.
    fn backbone_macs(cfg: Backbone, size: usize) -> f64 {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let specs = image(size);
        let net = SoilNet::new(&vs.root(), &SoilNetConfig { backbone: cfg, climate: Climate::default() }, &specs).unwrap();
        let head = net.image.as_ref().unwrap().features * FUSION + FUSION * FUSION + FUSION;
        (net.multiply_adds(&specs) as i64 - head) as f64
    }

    #[test]
    fn multiply_adds_match_the_published_counts() {
        // torchvision's ResNet-18 on 224 x 224 RGB: 1.814 G multiply-adds, 0.512 M of them its classifier.
        let r = backbone_macs(Backbone::Resnet { depth: 18, width: 64 }, 224);
        assert!((r / (1.8137e9 - 0.512e6) - 1.0).abs() < 0.005, "ResNet-18: {r}");
        // ViT-B/16 on 224 x 224: 17.56 G (fvcore's count, without its 0.77 M classifier).
        let v = backbone_macs(Backbone::Vit { patch: 16, dim: 768, depth: 12, heads: 12, mlp_ratio: 4 }, 224);
        assert!((v / 17.56e9 - 1.0).abs() < 0.01, "ViT-B/16: {v}");
    }
}
