//! SoilNet's self-supervised pretraining: unlabelled locations drawn from the covariate
//! rasters, their image window and climate series extracted with the same tensor plan as
//! prediction ([`terrapix::sample::extract`]), and both SoilNet branches trained so that the image
//! embedding and the climate embedding of the same location agree (NT-Xent, cross-modal pairs).
//! The weights are written as a libtorch file with a JSON sidecar (the inputs and their
//! normalisation) that fine-tuning (`[fit] init`) checks and reuses.

use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::nn::{self, OptimizerConfig};
use tch::{Kind, Tensor};

use super::config::{ModelConfig, TrainConfig};
use super::data::TrainingData;
use super::nets::Net;
use crate::error::{invalid, TrainError};
use terrapix::bundle::InputSpec;
use terrapix::raster::{BindOptions, Grid};
use terrapix::sample::SampleError;
use terrapix::sample::{self, Point, Points};

/// How unlabelled locations are drawn.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Sampling {
    /// Uniformly over the rasters' extent.
    Random,
    /// One location in each cell of a regular grid of about `count` blocks over the extent
    /// (spatially balanced).
    Stratified,
}

/// The `[pretrain]` section of the trainer's configuration.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PretrainConfig {
    /// Unlabelled locations (the seed drew 35,000).
    pub count: usize,
    pub sampling: Sampling,
    /// NT-Xent temperature.
    pub temperature: f64,
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
}

impl Default for PretrainConfig {
    fn default() -> Self {
        PretrainConfig { count: 35_000, sampling: Sampling::Random, temperature: 0.5, epochs: 50, batch: 256, lr: 1e-3 }
    }
}

/// What a pretraining run wrote beside its weights (`WEIGHTS.json`).
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct Sidecar {
    pub terrapix_pretrained: u32,
    pub model: ModelConfig,
    /// The inputs, with the normalisation the branches were trained with.
    pub inputs: Vec<InputSpec>,
    pub locations: usize,
    pub temperature: f64,
    /// NT-Xent loss per epoch.
    pub loss: Vec<f64>,
}

/// The sidecar of the weights file `weights`.
pub fn sidecar_path(weights: &Path) -> PathBuf {
    let mut s = weights.as_os_str().to_owned();
    s.push(".json");
    PathBuf::from(s)
}

/// `count` locations (pixel centres' map coordinates, in the grid's CRS) drawn over `grid`.
pub fn draw(grid: &Grid, count: usize, sampling: Sampling, rng: &mut ChaCha8Rng) -> Points {
    let g = grid.geotransform;
    let at = |col: f64, row: f64| (g[0] + col * g[1] + row * g[2], g[3] + col * g[4] + row * g[5]);
    let (w, h) = (grid.width as f64, grid.height as f64);
    let mut pixels: Vec<(f64, f64)> = match sampling {
        Sampling::Random => (0..count).map(|_| (rng.random::<f64>() * w, rng.random::<f64>() * h)).collect(),
        Sampling::Stratified => {
            // Blocks of about equal area, as square as the extent allows.
            let nx = ((count as f64 * w / h).sqrt().round() as usize).clamp(1, count.max(1));
            let ny = count.div_ceil(nx).max(1);
            let mut cells: Vec<(usize, usize)> = (0..ny).flat_map(|j| (0..nx).map(move |i| (i, j))).collect();
            cells.shuffle(rng);
            cells
                .into_iter()
                .take(count)
                .map(|(i, j)| ((i as f64 + rng.random::<f64>()) * w / nx as f64, (j as f64 + rng.random::<f64>()) * h / ny as f64))
                .collect()
        }
    };
    pixels.iter_mut().for_each(|p| *p = (p.0.floor() + 0.5, p.1.floor() + 0.5));
    let points = pixels
        .into_iter()
        .enumerate()
        .map(|(i, (c, r))| {
            let (x, y) = at(c, r);
            Point { id: format!("u{i}"), x, y, target: None, target_text: None, group: None, stratum: None, values: Vec::new() }
        })
        .collect();
    Points { points, wkt: grid.wkt.clone() }
}

/// Draws `cfg.count` locations and extracts the model's inputs there (locations where a
/// covariate is missing are redrawn, up to five rounds). `progress(done, total)` may cancel.
pub fn unlabelled(
    rasters: &[PathBuf],
    bind: &BindOptions,
    inputs: Vec<InputSpec>,
    cfg: &PretrainConfig,
    seed: u64,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<TrainingData, TrainError> {
    let manifest = sample::sampling_manifest(inputs, "")?;
    let grid = terrapix::raster::Covariates::bind(rasters, &manifest.covariates(), bind).map_err(SampleError::from)?.grid.clone();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut all: Option<sample::Samples> = None;
    for _round in 0..5 {
        let have = all.as_ref().map_or(0, |s| s.len());
        if have >= cfg.count {
            break;
        }
        let points = draw(&grid, cfg.count - have, cfg.sampling, &mut rng);
        let mut report = |done: usize, _: usize| progress(have + done, cfg.count);
        let s = sample::extract(&points, rasters, bind, manifest.clone(), &mut report)?;
        match &mut all {
            None => all = Some(s),
            Some(a) => {
                for (t, more) in a.tensors.iter_mut().zip(&s.tensors) {
                    t.extend_from_slice(more);
                }
                a.points.extend(s.points);
                a.grid_xy.extend(s.grid_xy);
            }
        }
    }
    let s = all.filter(|s| s.len() >= 2).ok_or("fewer than two locations have every covariate the model needs")?;
    let mut data = TrainingData::from_samples(&s);
    data.y = vec![0.0; s.len()];
    Ok(data)
}

/// NT-Xent over cross-modal pairs: row i of `a` (images) and row i of `b` (climate) are a
/// positive pair, every other of the 2N - 2 embeddings a negative (SimCLR's loss with the two
/// modalities as the two views).
pub fn nt_xent(a: &Tensor, b: &Tensor, temperature: f64) -> Tensor {
    let n = a.size()[0];
    let z = Tensor::cat(&[a, b], 0);
    let z = &z / z.norm_scalaropt_dim(2, [1], true).clamp_min(1e-8);
    let eye = Tensor::eye(2 * n, (Kind::Bool, z.device()));
    let sim = (z.matmul(&z.tr()) / temperature).masked_fill(&eye, -1e9);
    let targets =
        Tensor::cat(&[Tensor::arange_start(n, 2 * n, (Kind::Int64, z.device())), Tensor::arange(n, (Kind::Int64, z.device()))], 0);
    sim.cross_entropy_for_logits(&targets)
}

/// Pretrains the branches of `cfg.model` (a SoilNet with both branches) on `data` and writes
/// their weights to `out` (and the sidecar). `progress(epoch, epochs, loss)` may cancel.
pub fn pretrain(
    data: &TrainingData,
    cfg: &TrainConfig,
    out: &Path,
    progress: &mut dyn FnMut(usize, usize, f64) -> bool,
) -> Result<Sidecar, TrainError> {
    let ModelConfig::Soilnet(_) = &cfg.model else {
        return Err("pretraining is for `kind = \"soilnet\"` models (an image and a climate branch)".into());
    };
    let p = &cfg.pretrain;
    if p.temperature.is_nan() || p.temperature <= 0.0 || p.batch < 2 || p.epochs == 0 {
        return Err(invalid!(
            "pretrain: temperature {} must be above 0, batch {} at least 2, epochs {} at least 1",
            p.temperature,
            p.batch,
            p.epochs
        ));
    }
    if cfg.fit.threads > 0 {
        tch::set_num_threads(cfg.fit.threads as i32);
    }
    let specs = data.normalisation();
    let t = super::fit::Tensors::new(&specs, &data.normalised(&specs), &data.y, super::device());
    tch::manual_seed(cfg.fit.seed as i64);
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.fit.seed);
    let vs = nn::VarStore::new(t.y.device());
    let Net::SoilNet(net) = Net::new(&vs.root(), &cfg.model, &specs)? else { unreachable!("a soilnet config builds a SoilNet") };
    if net.image.is_none() || net.climate.is_none() {
        return Err("pretraining pairs an image with a climate series: give a window (or patch) input and a series input".into());
    }
    let mut opt = nn::Adam::default().build(&vs, p.lr)?;
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut losses = Vec::new();
    for epoch in 0..p.epochs {
        order.shuffle(&mut rng);
        let (mut sum, mut count) = (0.0, 0.0);
        // A last batch of one has no negatives: it joins the next epoch's draw instead.
        for batch in order.chunks(p.batch).filter(|b| b.len() >= 2) {
            let (x, _) = t.rows(batch);
            let x = match &cfg.fit.augment {
                Some(a) => super::fit::augment(&x, &specs, a, &mut rng),
                None => x,
            };
            let (Some(a), Some(b)) = net.embeddings(&x, true) else { unreachable!("both branches checked above") };
            let loss = nt_xent(&a, &b, p.temperature);
            opt.backward_step(&loss);
            sum += loss.double_value(&[]) * batch.len() as f64;
            count += batch.len() as f64;
        }
        losses.push(sum / count);
        if !progress(epoch + 1, p.epochs, sum / count) {
            return Err(TrainError::Cancelled);
        }
    }
    // Only the branches and their projections: the fusion head is fine-tuning's to learn.
    let branches: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .filter(|(k, _)| ["image", "climate", "image_proj", "climate_proj"].iter().any(|b| k.split('.').next() == Some(*b)))
        .collect();
    let sidecar = Sidecar {
        terrapix_pretrained: 1,
        model: cfg.model.clone(),
        inputs: specs,
        locations: data.len(),
        temperature: p.temperature,
        loss: losses,
    };
    let staged = terrapix::output::Staged::new(out, terrapix::output::Kind::Weights)?;
    Tensor::save_multi(&branches, staged.path()).map_err(|e| format!("cannot write '{}': {e}", out.display()))?;
    let json = serde_json::to_string_pretty(&sidecar).map_err(|e| e.to_string())?;
    terrapix::output::Staged::write_all(&sidecar_path(out), terrapix::output::Kind::Json, json.as_bytes())?;
    staged.commit()?;
    Ok(sidecar)
}

/// Reads the sidecar of `weights` and checks that it was made for `inputs` (same names,
/// layouts and channels) and a SoilNet like `model`; returns the inputs with the pretraining's
/// normalisation, which fine-tuning keeps so the branches see what they learned on.
pub fn init_specs(weights: &Path, inputs: &[InputSpec], model: &ModelConfig) -> Result<Vec<InputSpec>, TrainError> {
    let path = sidecar_path(weights);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!("fit.init '{}': cannot read its sidecar '{}' ({e}); pretrain with `terrapix pretrain`", weights.display(), path.display())
    })?;
    let s: Sidecar = serde_json::from_str(&text).map_err(|e| format!("'{}' is not a terrapix pretraining sidecar: {e}", path.display()))?;
    let shape = |specs: &[InputSpec]| -> Vec<(String, String, Vec<String>)> {
        specs.iter().map(|i| (i.name.clone(), i.layout.describe(), i.channels.iter().map(|c| c.covariate.clone()).collect())).collect()
    };
    if shape(&s.inputs) != shape(inputs) {
        return Err(invalid!(
            "fit.init '{}' was pretrained on other inputs ({}) than these samples have ({}): sample with the same --input specs",
            weights.display(),
            describe(&s.inputs),
            describe(inputs)
        ));
    }
    if serde_json::to_value(&s.model).ok() != serde_json::to_value(model).ok() {
        return Err(invalid!(
            "fit.init '{}' was pretrained with another [model] section: use the same one to fine-tune",
            weights.display()
        ));
    }
    Ok(s.inputs)
}

fn describe(specs: &[InputSpec]) -> String {
    specs.iter().map(|i| format!("{}: {} of {} channels", i.name, i.layout.describe(), i.channels.len())).collect::<Vec<_>>().join("; ")
}

/// Copies the pretrained weights of `weights` into `vs` (every one must be there with its
/// shape); returns how many tensors were loaded.
pub fn load_into(vs: &nn::VarStore, weights: &Path) -> Result<usize, TrainError> {
    let loaded = Tensor::load_multi(weights).map_err(|e| format!("fit.init: cannot read '{}': {e}", weights.display()))?;
    let vars = vs.variables();
    tch::no_grad(|| {
        for (name, t) in &loaded {
            let v = vars.get(name).ok_or_else(|| format!("fit.init '{}' holds '{name}', which this model has not", weights.display()))?;
            if v.size() != t.size() {
                return Err(invalid!(
                    "fit.init '{}': '{name}' is {:?} there and {:?} in this model",
                    weights.display(),
                    t.size(),
                    v.size()
                ));
            }
            v.shallow_clone().copy_(t);
        }
        Ok(())
    })?;
    if loaded.is_empty() {
        return Err(invalid!("fit.init '{}' holds no weights", weights.display()));
    }
    Ok(loaded.len())
}

/// A pretraining job (`terrapix pretrain`, Python's `terrapix.pretrain`, QGIS's *Pretrain
/// SoilNet*).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PretrainRequest {
    /// Covariate rasters to draw unlabelled locations from.
    pub covariates: Vec<PathBuf>,
    /// The model's inputs, `NAME:LAYOUT:COVARIATES` (a window for the image branch, a series for
    /// the climate branch).
    pub inputs: Vec<String>,
    /// The configuration (TOML): its `[model]` (a soilnet) and `[pretrain]` sections.
    pub config: PathBuf,
    /// The weights to write, with their sidecar `WEIGHTS.json`.
    pub output: PathBuf,
    /// How covariate bands are bound and aligned.
    pub bind: BindOptions,
}

/// What a pretraining job did.
pub struct Pretrained {
    /// Locations asked for, and those that had every covariate.
    pub asked: usize,
    pub sidecar: Sidecar,
    pub sidecar_path: PathBuf,
}

/// Runs a pretraining job: checks both outputs, draws the locations, trains both branches.
/// `progress` gets a [`Event::Stage`] before drawing and before training, and an
/// [`Event::Epoch`] per epoch; returning false stops the job (nothing is written).
pub fn run(request: &PretrainRequest, progress: &mut terrapix::progress::Progress<'_>) -> Result<Pretrained, TrainError> {
    use terrapix::progress::Event;
    let r = request;
    let cfg = crate::run::read_config(Some(&r.config))?;
    let inputs = r.inputs.iter().map(|s| terrapix::bundle::spec::parse_input(s)).collect::<Result<Vec<_>, _>>()?;
    let mut inputs_of_run: Vec<(&str, &Path)> = vec![("config", &r.config)];
    inputs_of_run.extend(r.covariates.iter().map(|c| ("covariate raster", c.as_path())));
    let sidecar = sidecar_path(&r.output);
    for out in [&r.output, &sidecar] {
        terrapix::output::refuse_inputs(out, false, &inputs_of_run)?;
    }
    terrapix::output::check_target(&r.output, terrapix::output::Kind::Weights)?;
    terrapix::output::check_target(&sidecar, terrapix::output::Kind::Json)?;
    let p = &cfg.pretrain;
    if !progress(&Event::Stage { what: format!("drawing {} unlabelled locations ({:?})", p.count, p.sampling) }) {
        return Err(TrainError::Cancelled);
    }
    let mut drawn = |done: usize, total: usize| progress(&Event::Step { what: "locations".into(), done, total });
    let data = unlabelled(&r.covariates, &r.bind, inputs, p, cfg.fit.seed, &mut drawn)?;
    let what = format!("pretraining on {} locations on {:?} (NT-Xent, temperature {})", data.len(), crate::device(), p.temperature);
    if !progress(&Event::Stage { what }) {
        return Err(TrainError::Cancelled);
    }
    let mut epoch = |done: usize, total: usize, loss: f64| {
        progress(&Event::Epoch { done, total, metrics: [("loss".to_string(), loss)].into_iter().collect() })
    };
    let s = pretrain(&data, &cfg, &r.output, &mut epoch)?;
    Ok(Pretrained { asked: p.count, sidecar: s, sidecar_path: sidecar })
}
