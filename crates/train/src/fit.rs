//! Fitting one model: mini-batches, Adam or AdamW, optional cosine learning rate, MSE or Huber,
//! early stopping on a validation split that really restores the best weights.

use crate::error::TrainError;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Reduction, Tensor};

use rand::Rng;

use super::config::{Augment, FitConfig, Loss, ModelConfig, Optimizer};
use super::nets::Net;
use terrapix::bundle::InputSpec;
use terrapix::bundle::Layout;

/// A trained model and its learning curves.
pub struct Member {
    pub vs: nn::VarStore,
    pub net: Net,
    pub train_loss: Vec<f64>,
    pub val_loss: Vec<f64>,
    pub best_epoch: usize,
    /// Predictions are clipped to this range (model scale): the training targets' range widened
    /// by 10 % on each side. A network extrapolating far outside it on an extreme covariate
    /// value would otherwise give absurd values, and exp() of them after a log1p target.
    pub clip: Option<(f32, f32)>,
}

/// Inputs and (transformed) targets of the whole data set, on the device.
pub struct Tensors {
    pub inputs: Vec<Tensor>,
    pub y: Tensor,
}

impl Tensors {
    pub fn new(inputs: &[InputSpec], data: &[Vec<f32>], y: &[f32], device: Device) -> Tensors {
        let n = y.len() as i64;
        let inputs = inputs
            .iter()
            .zip(data)
            .map(|(spec, d)| {
                let mut shape = vec![n];
                shape.extend(spec.layout.shape(spec.channels.len()).iter().map(|s| *s as i64));
                Tensor::from_slice(d).view(shape.as_slice()).to_device(device)
            })
            .collect();
        Tensors { inputs, y: Tensor::from_slice(y).view([n, 1]).to_device(device) }
    }

    pub fn rows(&self, idx: &[usize]) -> (Vec<Tensor>, Tensor) {
        let device = self.y.device();
        let i = Tensor::from_slice(&idx.iter().map(|&v| v as i64).collect::<Vec<_>>()).to_device(device);
        (self.inputs.iter().map(|x| x.index_select(0, &i)).collect(), self.y.index_select(0, &i))
    }
}

fn loss(pred: &Tensor, y: &Tensor, kind: Loss) -> Tensor {
    match kind {
        Loss::Mse => pred.mse_loss(y, Reduction::Mean),
        Loss::Huber { delta } => pred.huber_loss(y, Reduction::Mean, delta),
    }
}

/// Trains on `train`, stopping early on a validation share of it. Deterministic for a seed on CPU,
/// provided no other fit runs at the same time in the process: initialisation and augmentation
/// draw from libtorch's process-wide generator, which `seed` resets.
pub fn fit(
    t: &Tensors,
    train: &[usize],
    model: &ModelConfig,
    specs: &[InputSpec],
    cfg: &FitConfig,
    seed: u64,
) -> Result<Member, TrainError> {
    tch::manual_seed(seed as i64);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (val, mut fit_idx) = super::models::validation_split(train, cfg.val_fraction, &mut rng);
    if fit_idx.is_empty() {
        return Err("too few training samples for a validation split".into());
    }
    let vs = nn::VarStore::new(t.y.device());
    let net = Net::new(&vs.root(), model, specs)?;
    if let Some(init) = &cfg.init {
        super::pretrain::load_into(&vs, init)?;
    }
    let mut opt = match cfg.optimizer {
        Optimizer::Adam => nn::Adam { wd: cfg.weight_decay, ..Default::default() }.build(&vs, cfg.lr),
        Optimizer::AdamW => nn::AdamW { wd: cfg.weight_decay, ..Default::default() }.build(&vs, cfg.lr),
    }?;
    let (val_x, val_y) = t.rows(&val);
    let mut best = (f64::INFINITY, 0usize, Vec::<(String, Tensor)>::new());
    let (mut train_loss, mut val_loss) = (Vec::new(), Vec::new());
    for epoch in 0..cfg.epochs {
        if let Some(s) = &cfg.step_decay {
            opt.set_lr(cfg.lr * s.factor.powi((epoch / s.every.max(1)) as i32));
        }
        if cfg.cosine {
            let lr_min = cfg.lr / 10.0;
            opt.set_lr(lr_min + 0.5 * (cfg.lr - lr_min) * (1.0 + (std::f64::consts::PI * epoch as f64 / cfg.epochs as f64).cos()));
        }
        let order = match &cfg.hard_mining {
            Some(h) if epoch >= h.start => hard_examples(&net, t, &fit_idx, h.draws, &mut rng),
            _ => {
                fit_idx.shuffle(&mut rng);
                fit_idx.clone()
            }
        };
        let (mut sum, mut count) = (0.0, 0.0);
        for batch in order.chunks(cfg.batch.max(1)) {
            let (x, y) = t.rows(batch);
            let x = match &cfg.augment {
                Some(a) => augment(&x, specs, a, &mut rng),
                None => x,
            };
            let l = loss(&net.forward(&x, true), &y, cfg.loss);
            opt.backward_step(&l);
            sum += l.double_value(&[]) * batch.len() as f64;
            count += batch.len() as f64;
        }
        train_loss.push(sum / count);
        let v = tch::no_grad(|| loss(&net.forward(&val_x, false), &val_y, cfg.loss).double_value(&[]));
        val_loss.push(v);
        if v < best.0 {
            let weights = vs.variables().into_iter().map(|(k, t)| (k, t.detach().copy())).collect();
            best = (v, epoch, weights);
        } else if epoch - best.1 >= cfg.patience {
            break;
        }
    }
    // Early stopping keeps the best weights (the biomass patch CNN's code did not).
    tch::no_grad(|| {
        let current = vs.variables();
        for (k, w) in &best.2 {
            current[k].shallow_clone().copy_(w);
        }
    });
    let rows = Tensor::from_slice(&train.iter().map(|&i| i as i64).collect::<Vec<_>>()).to_device(t.y.device());
    let ys =
        Vec::<f32>::try_from(t.y.index_select(0, &rows).flatten(0, -1).to_kind(Kind::Float).to_device(Device::Cpu)).unwrap_or_default();
    let (lo, hi) = ys.iter().fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let clip = (lo <= hi).then_some((lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo)));
    Ok(Member { vs, net, train_loss, val_loss, best_epoch: best.1, clip })
}

/// The biomass patch CNN's hard-example mining: `draws` x N samples of `fit_idx` drawn with replacement,
/// weighted by ((|error| / max |error|) + 0.1)² under the current model.
fn hard_examples(net: &Net, t: &Tensors, fit_idx: &[usize], draws: f64, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut errors = Vec::with_capacity(fit_idx.len());
    tch::no_grad(|| {
        for chunk in fit_idx.chunks(1024) {
            let (x, y) = t.rows(chunk);
            let e = (net.forward(&x, false).view([-1]) - y.view([-1])).abs().to_kind(Kind::Float).to_device(Device::Cpu);
            errors.extend(Vec::<f32>::try_from(&e).unwrap_or_else(|_| vec![1.0; chunk.len()]));
        }
    });
    let max = errors.iter().copied().fold(0f32, f32::max).max(f32::MIN_POSITIVE);
    let weights: Vec<f64> = errors.iter().map(|e| ((e / max) as f64 + 0.1).powi(2)).collect();
    let n = ((fit_idx.len() as f64 * draws).round() as usize).max(1);
    match rand::distr::weighted::WeightedIndex::new(&weights) {
        Ok(dist) => (0..n).map(|_| fit_idx[rng.sample(&dist)]).collect(),
        Err(_) => fit_idx.to_vec(), // all weights equal zero cannot happen (+0.1); keep the plain order
    }
}

/// A flip or rotation of `[N, C, k, k]` tensors.
#[derive(Clone, Copy)]
enum Move {
    FlipX,
    FlipY,
    Rot(i64),
}

impl Move {
    fn apply(self, t: &Tensor) -> Tensor {
        match self {
            Move::FlipX => t.flip([3]),
            Move::FlipY => t.flip([2]),
            Move::Rot(k) => t.rot90(k, [2, 3]),
        }
    }
}

/// Augments one batch (see [`Augment`]): each sample, with probability `p`, gets a random flip
/// or rotation (the same for all its window and patch inputs) of its band channels, then
/// jitter; other inputs and generated channels pass unchanged.
pub fn augment(xs: &[Tensor], specs: &[InputSpec], a: &Augment, rng: &mut ChaCha8Rng) -> Vec<Tensor> {
    let mut moves = Vec::new();
    if a.flips {
        moves.extend([Move::FlipX, Move::FlipY]);
    }
    if a.rot90 {
        moves.extend([Move::Rot(1), Move::Rot(2), Move::Rot(3)]);
    }
    let n = xs.first().map_or(0, |x| x.size()[0]);
    // Samples by the move they get (the biomass patch CNN augments sample by sample).
    let mut by_move: Vec<Vec<i64>> = vec![Vec::new(); moves.len()];
    if !moves.is_empty() {
        for i in 0..n {
            if rng.random::<f64>() < a.p {
                by_move[rng.random_range(0..moves.len())].push(i);
            }
        }
    }
    xs.iter()
        .zip(specs)
        .map(|(x, spec)| {
            if !matches!(spec.layout, Layout::Window { .. } | Layout::Patch { .. }) {
                return x.shallow_clone();
            }
            let bands: Vec<i64> = spec.channels.iter().enumerate().filter(|(_, c)| !c.is_generated()).map(|(i, _)| i as i64).collect();
            if bands.is_empty() {
                return x.shallow_clone();
            }
            let index = Tensor::from_slice(&bands).to_device(x.device());
            let mut b = x.index_select(1, &index);
            for (m, samples) in moves.iter().zip(&by_move).filter(|(_, s)| !s.is_empty()) {
                let rows = Tensor::from_slice(samples).to_device(x.device());
                b = b.index_copy(0, &rows, &m.apply(&b.index_select(0, &rows)));
            }
            if a.shift > 0 {
                b = shifted(&b, a.shift, rng);
            }
            if a.jitter > 0.0 {
                let shape = [b.size()[0], b.size()[1], 1, 1];
                let scale = Tensor::rand(shape, (b.kind(), b.device())) * (2.0 * a.jitter) + (1.0 - a.jitter);
                let shift = Tensor::rand(shape, (b.kind(), b.device())) * (2.0 * a.jitter) - a.jitter;
                b = b * scale + shift;
            }
            x.index_copy(1, &index, &b)
        })
        .collect()
}

/// SoilNet's reflect-pad and crop: each sample's bands padded by `shift` pixels (reflected)
/// and cropped back to their size at a random offset, so the scene moves by up to `shift`.
fn shifted(b: &Tensor, shift: i64, rng: &mut ChaCha8Rng) -> Tensor {
    let size = b.size();
    let (n, h, w) = (size[0], size[2], size[3]);
    let s = shift.min(h - 1).min(w - 1).max(0);
    if s == 0 {
        return b.shallow_clone();
    }
    let padded = b.reflection_pad2d([s, s, s, s]);
    let crops: Vec<Tensor> = (0..n)
        .map(|i| {
            let (dy, dx) = (rng.random_range(0..=2 * s), rng.random_range(0..=2 * s));
            padded.get(i).narrow(1, dy, h).narrow(2, dx, w)
        })
        .collect();
    Tensor::stack(&crops, 0)
}

/// Predictions of `member` for rows `idx` (model scale).
pub fn predict(member: &Member, t: &Tensors, idx: &[usize]) -> Vec<f32> {
    forward(member, &t.rows(idx).0)
}

/// Predictions of `member` for the input tensors `x` (model scale), without gradients.
pub fn forward(member: &Member, x: &[Tensor]) -> Vec<f32> {
    let mut out = tch::no_grad(|| member.net.forward(x, false));
    if let Some((lo, hi)) = member.clip {
        out = out.clamp(lo as f64, hi as f64);
    }
    Vec::<f32>::try_from(out.to_kind(Kind::Float).flatten(0, -1).to_device(Device::Cpu)).expect("float predictions")
}

#[cfg(test)]
mod tests {
    use super::*;
    use terrapix::bundle::Channel;

    #[test]
    fn hard_example_mining_draws_badly_predicted_samples_more_often() {
        let spec =
            InputSpec { name: "x".into(), layout: Layout::Pixel, channels: vec![Channel { covariate: "a".into(), mean: 0.0, std: 1.0 }] };
        // 99 samples the fresh net predicts about right (target 0), one far off (target 100).
        let n = 100;
        let x: Vec<f32> = (0..n).map(|i| (i as f32 / n as f32) * 0.01).collect();
        let mut y = vec![0f32; n];
        y[7] = 100.0;
        let t = Tensors::new(std::slice::from_ref(&spec), &[x], &y, Device::Cpu);
        tch::manual_seed(1);
        let vs = nn::VarStore::new(Device::Cpu);
        let net = Net::new(&vs.root(), &ModelConfig::Mlp { hidden: vec![4] }, &[spec]).unwrap();
        let fit_idx: Vec<usize> = (0..n).collect();
        let drawn = hard_examples(&net, &t, &fit_idx, 2.0, &mut ChaCha8Rng::seed_from_u64(3));
        assert_eq!(drawn.len(), 200);
        // Weight about 1.2 against about 0.01 for each of the others: over half the draws.
        let hard = drawn.iter().filter(|&&i| i == 7).count();
        assert!(hard > 80, "sample 7 drawn {hard} times of 200");
    }
}
