//! The soil-moisture workflow's gap filling (cargo feature `train`): a gradient-boosted model, trained on the
//! cube's known values, fills its missing ones from covariates and the record itself (the
//! pixel's last and next known values and how far they are, the mean of its known neighbours
//! that day), with an interval for every filled value and a flag saying which were filled.
//!
//! The seed's README promises validation by artificial masking and an uncertainty band; its
//! code has neither. Here, known values are masked in realistic patterns (whole days, orbit
//! swaths, runs of days at a pixel), a model trained on what is left fills them, and the
//! errors on one half of the masked pixels (split by spatial blocks) set a conformal
//! interval half-width whose coverage is measured on the other half. The final model is then
//! trained on every known value and fills the real gaps.
//!
//! The cube is held in memory (one value per pixel and date, twice); cubes beyond
//! [`MAX_VALUES`] are refused with the advice to split them.

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::TrainConfig;
use crate::data::TrainingData;
use terrapix::bundle::{Channel, InputSpec, Layout};
use terrapix::cube::matching::CubeInput;
use terrapix::cube::read::CubeSource;
use terrapix::cube::time::{align, Date};
use terrapix::cube::write::{CubeWriter, Variable};
use terrapix::cube::{transpose, CubeError};
use terrapix::engine::{EngineOptions, Model};
use terrapix::metrics::{scores, Scores};
use terrapix::plan::Block;
use terrapix::predict::Predictor;
use terrapix::raster::Grid;

/// Largest cube filled (values per product): 1.5 G values (6 GiB as float32).
pub const MAX_VALUES: usize = 1_500_000_000;
/// Days of a gap beyond which the last/next known value says little (features are capped).
const FAR: f32 = 60.0;

#[derive(Clone, Debug)]
pub struct GapData {
    /// The cube to fill (e.g. `NETCDF:"corrected.nc":mean`).
    pub target: CubeInput,
    pub covariates: Vec<(String, CubeInput)>,
    pub statics: Vec<PathBuf>,
    /// An independent product of the same quantity (the soil-moisture workflow: SMAP). Where it has values at
    /// real gaps, the filled values' intervals are calibrated against it (the error of the
    /// filled value *and* of the product being filled), instead of against masked values of
    /// the product itself.
    pub reference: Option<CubeInput>,
}

#[derive(Clone, Debug)]
pub struct GapOptions {
    pub config: TrainConfig,
    /// Most training samples per model (a seeded random subset above).
    pub max_samples: usize,
    /// Nominal coverage of the filled values' interval.
    pub level: f64,
    /// Physical range of filled values and bounds.
    pub clip: (f64, f64),
    pub seed: u64,
}

impl Default for GapOptions {
    fn default() -> Self {
        let mut config = crate::boosted_trees();
        config.cv.folds = 3;
        GapOptions { config, max_samples: 120_000, level: 0.9, clip: (0.0, 1.0), seed: 11 }
    }
}

/// Scores of the masked known values, per masking pattern and in all.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct GapValidation {
    pub days: Scores,
    pub swaths: Scores,
    pub runs: Scores,
    pub all: Scores,
    /// The conformal half-width of each gap class (days to the nearest known value: 1, 2-3,
    /// 4-7, 8-15, more), from the calibration half, and the coverage they give on the test half
    /// of the masked values.
    pub half_widths: Vec<f64>,
    pub coverage: f64,
    pub level: f64,
    /// With a reference: the half-widths calibrated against it at real gaps, the coverage of
    /// the reference they give on held-out blocks, and how many filled values it scored.
    pub reference_half_widths: Option<Vec<f64>>,
    pub reference_coverage: Option<f64>,
    pub reference_values: usize,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct GapReport {
    pub validation: GapValidation,
    pub known: usize,
    pub filled: usize,
    /// Cells left missing (a covariate missing there).
    pub unfilled: usize,
    pub dates: usize,
}

/// Pattern codes of the artificial mask.
const DAY: u8 = 1;
const SWATH: u8 = 2;
const RUN: u8 = 3;

/// The cube, covariates and statics in memory, `[pixel][date]`.
struct Stack {
    w: usize,
    h: usize,
    dates: Vec<Date>,
    values: Vec<f32>,
    covariates: Vec<Vec<f32>>,
    statics: Vec<Vec<f32>>,
    names: Vec<String>,
    /// The cube's grid, variable name and unit (what the output keeps).
    grid: Grid,
    name: String,
    unit: String,
}

impl Stack {
    fn pixels(&self) -> usize {
        self.w * self.h
    }

    /// The feature planes of date `t` (one `[pixel]` plane per feature), given the known values
    /// `known` (`[pixel][date]`, NaN missing) and each pixel's mean of them. A pixel's own value
    /// at `t` never enters its features, so known values train as gaps do.
    fn features(&self, known: &[f32], means: &[f32], t: usize) -> Vec<Vec<f32>> {
        let (n, nt) = (self.pixels(), self.dates.len());
        let mut planes: Vec<Vec<f32>> = Vec::with_capacity(self.names.len());
        for c in &self.covariates {
            planes.push((0..n).map(|p| c[p * nt + t]).collect());
        }
        planes.extend(self.statics.iter().cloned());
        planes.push(vec![chrono::Datelike::ordinal(&self.dates[t]) as f32; n]);
        let (mut prev, mut dprev, mut next, mut dnext) = (vec![0f32; n], vec![FAR; n], vec![0f32; n], vec![FAR; n]);
        for p in 0..n {
            let s = &known[p * nt..(p + 1) * nt];
            let mean = means[p];
            prev[p] = mean;
            next[p] = mean;
            if let Some(k) = (0..t).rev().take(FAR as usize).find(|&k| s[k].is_finite()) {
                prev[p] = s[k];
                dprev[p] = (t - k) as f32;
            }
            if let Some(k) = (t + 1..nt).take(FAR as usize).find(|&k| s[k].is_finite()) {
                next[p] = s[k];
                dnext[p] = (k - t) as f32;
            }
        }
        // The mean of the known values within 2 pixels that day (the pixel's own excluded).
        let (mut around, mut count) = (vec![0f32; n], vec![0f32; n]);
        for p in 0..n {
            let (x, y) = ((p % self.w) as isize, (p / self.w) as isize);
            let (mut sum, mut k) = (0f32, 0usize);
            for dy in -2..=2isize {
                for dx in -2..=2isize {
                    let (nx, ny) = (x + dx, y + dy);
                    if (dx, dy) == (0, 0) || nx < 0 || ny < 0 || nx >= self.w as isize || ny >= self.h as isize {
                        continue;
                    }
                    let v = known[(ny as usize * self.w + nx as usize) * nt + t];
                    if v.is_finite() {
                        sum += v;
                        k += 1;
                    }
                }
            }
            around[p] = if k > 0 { sum / k as f32 } else { 0.5 * (prev[p] + next[p]) };
            count[p] = k as f32;
        }
        planes.extend([prev, dprev, next, dnext, around, count]);
        planes
    }
}

/// Upper ends (days to the nearest known value of the pixel) of the gap classes whose intervals
/// are calibrated apart (Mondrian conformal prediction): a value 30 days from any known one is
/// less certain than one between two known days.
const GAP_CLASSES: [usize; 5] = [1, 3, 7, 15, usize::MAX];

/// The gap class of cell `t` of a pixel's series `s`.
fn gap_class(s: &[f32], t: usize) -> usize {
    let before = (0..t).rev().position(|k| s[k].is_finite()).map(|d| d + 1);
    let after = (t + 1..s.len()).position(|k| s[k].is_finite()).map(|d| d + 1);
    let d = before.into_iter().chain(after).min().unwrap_or(usize::MAX);
    GAP_CLASSES.iter().position(|&end| d <= end).expect("the last class is open")
}

fn pixel_means(known: &[f32], nt: usize) -> Vec<f32> {
    known.chunks(nt.max(1)).map(pixel_mean).collect()
}

fn pixel_mean(s: &[f32]) -> f32 {
    let (sum, n) = s.iter().filter(|v| v.is_finite()).fold((0f64, 0usize), |(a, n), v| (a + *v as f64, n + 1));
    if n > 0 {
        (sum / n as f64) as f32
    } else {
        f32::NAN
    }
}

fn feature_names(covariates: &[String], statics: &[String]) -> Vec<String> {
    let mut names: Vec<String> = covariates.to_vec();
    names.extend(statics.iter().cloned());
    names
        .extend(["doy", "last_known", "days_since_known", "next_known", "days_to_known", "neighbour_mean", "neighbours"].map(String::from));
    names
}

fn load(data: &GapData) -> Result<Stack, CubeError> {
    let target = data.target.open()?;
    let covs: Vec<CubeSource> = data.covariates.iter().map(|(_, c)| c.open()).collect::<Result<_, _>>()?;
    let grid = target.grid.clone();
    for c in &covs {
        if !c.grid.same_as(&grid) {
            return Err(CubeError::Mismatch(format!("'{}' is not on the grid of the cube to fill", c.path.display())));
        }
    }
    let mut axes: Vec<(&str, &[Date])> = vec![("the cube to fill", &target.dates)];
    axes.extend(data.covariates.iter().zip(&covs).map(|((n, _), c)| (n.as_str(), c.dates.as_slice())));
    let al = align(&axes).map_err(CubeError::Mismatch)?;
    let (n, nt) = (grid.width * grid.height, al.common.len());
    if n * nt > MAX_VALUES {
        return Err(CubeError::Mismatch(format!(
            "the cube holds {} values, more than the {MAX_VALUES} gap filling holds in memory: split it into tiles (gdal_translate -srcwin) first",
            n * nt
        )));
    }
    let read = |c: &CubeSource, idx: &[usize]| -> Result<Vec<f32>, CubeError> {
        let mut buf = Vec::new();
        c.read_strip(idx, 0..grid.height, &mut buf)?;
        Ok(transpose(&buf, idx.len(), n))
    };
    let values = read(&target, &al.indices[0])?;
    let covariates = covs.iter().enumerate().map(|(i, c)| read(c, &al.indices[1 + i])).collect::<Result<Vec<_>, _>>()?;
    let statics = terrapix::cube::predict::read_statics(&data.statics, &grid)?;
    let names = feature_names(
        &data.covariates.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        &statics.iter().map(|(n, _, _)| n.clone()).collect::<Vec<_>>(),
    );
    Ok(Stack {
        w: grid.width,
        h: grid.height,
        dates: al.common,
        values,
        covariates,
        statics: statics.into_iter().map(|(_, _, p)| p).collect(),
        names,
        grid,
        name: target.name.clone(),
        unit: target.unit.clone(),
    })
}

/// The artificial mask over known values: whole days (3 % of dates), an orbit swath (a
/// diagonal band 4 pixels wide on 20 % of dates), and runs of 5-40 days (about 10 % of pixels
/// a year), as long gaps (frozen soil, dense vegetation) are.
fn artificial_mask(s: &Stack, seed: u64) -> Vec<u8> {
    let (n, nt) = (s.pixels(), s.dates.len());
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut mask = vec![0u8; n * nt];
    for t in 0..nt {
        let r: f32 = rng.random();
        if r < 0.03 {
            (0..n).for_each(|p| mask[p * nt + t] = DAY);
        } else if r < 0.23 {
            let offset = rng.random_range(0..s.w + s.h);
            for p in 0..n {
                if (p % s.w + p / s.w + s.w + s.h - offset) % (s.w + s.h) < 4 {
                    mask[p * nt + t] = SWATH;
                }
            }
        }
    }
    for p in 0..n {
        for _ in 0..(0.1 * nt as f32 / 365.0).ceil() as usize {
            if rng.random::<f32>() > 0.1 * nt as f32 / 365.0 / (0.1 * nt as f32 / 365.0).ceil() {
                continue;
            }
            let (start, len) = (rng.random_range(0..nt), rng.random_range(5..=40));
            for t in start..(start + len).min(nt) {
                if mask[p * nt + t] == 0 {
                    mask[p * nt + t] = RUN;
                }
            }
        }
    }
    // Only known values can be masked.
    for (m, v) in mask.iter_mut().zip(&s.values) {
        if !v.is_finite() {
            *m = 0;
        }
    }
    mask
}

/// Trains a model on the known values of `known` (features from `known` itself) and returns
/// it opened, its bundle written at `path`.
fn train_model(
    s: &Stack,
    known: &[f32],
    options: &GapOptions,
    path: &Path,
    progress: &mut dyn FnMut(&str) -> bool,
) -> Result<Model, CubeError> {
    let (n, nt) = (s.pixels(), s.dates.len());
    let total = known.iter().filter(|v| v.is_finite()).count();
    let keep = (options.max_samples as f64 / total.max(1) as f64).min(1.0);
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let (mut x, mut y, mut xy) = (Vec::new(), Vec::new(), Vec::new());
    let g = s.grid.geotransform;
    let means = pixel_means(known, nt);
    for t in 0..nt {
        if t % 64 == 0 && !progress(&format!("gap-filling samples: {t} of {nt} dates")) {
            return Err(CubeError::Cancelled);
        }
        let rows: Vec<usize> = (0..n).filter(|&p| known[p * nt + t].is_finite() && rng.random::<f64>() < keep).collect();
        if rows.is_empty() {
            continue;
        }
        let planes = s.features(known, &means, t);
        for &p in &rows {
            let f: Vec<f32> = planes.iter().map(|pl| pl[p]).collect();
            if f.iter().all(|v| v.is_finite()) {
                x.extend(f);
                y.push(known[p * nt + t]);
                xy.push((g[0] + (p % s.w) as f64 * g[1], g[3] + (p / s.w) as f64 * g[5]));
            }
        }
    }
    if y.len() < 100 {
        return Err(CubeError::Mismatch(format!("only {} known values with every covariate: too few to train a gap filler", y.len())));
    }
    let data = TrainingData {
        target: "value".into(),
        inputs: vec![InputSpec { name: "x".into(), layout: Layout::Pixel, channels: s.names.iter().map(Channel::new).collect() }],
        tensors: vec![x],
        xy,
        groups: vec![String::new(); y.len()],
        strata: vec![String::new(); y.len()],
        y,
    };
    if !progress(&format!("training the gap filler on {} known values", data.len())) {
        return Err(CubeError::Cancelled);
    }
    let result = crate::cross_validate(&data, &options.config, &mut |_, _, _| true)
        .map_err(|e| CubeError::Mismatch(format!("training the gap filler: {e}")))?;
    let mut bundle =
        crate::ensemble_bundle(&result, &data, &options.config, "gap-filler", "", None).map_err(|e| CubeError::Mismatch(e.to_string()))?;
    // Every feature but the static bands changes with the date.
    let mut manifest =
        bundle.manifest.clone().ok_or_else(|| CubeError::Mismatch("internal: a trained bundle without its manifest".into()))?;
    let statics = s.covariates.len()..s.covariates.len() + s.statics.len();
    manifest.time_varying = s.names.iter().enumerate().filter(|(i, _)| !statics.contains(i)).map(|(_, n)| n.clone()).collect();
    bundle.set_manifest(manifest).map_err(|e| CubeError::Mismatch(e.to_string()))?;
    bundle.write(path).map_err(|e| CubeError::Output { path: path.into(), reason: e.to_string() })?;
    Model::open(path, &EngineOptions::default()).map_err(|e| CubeError::Mismatch(e.to_string()))
}

/// Predicts the cells `wanted(p, t)` of every date from the features of `known`; the mean band
/// (`[pixel][date]`, NaN elsewhere).
fn predict_cells(s: &Stack, model: &Model, known: &[f32], wanted: &(dyn Fn(usize, usize) -> bool + Sync)) -> Result<Vec<f32>, CubeError> {
    use rayon::prelude::*;
    let (n, nt) = (s.pixels(), s.dates.len());
    let predictor = Predictor::new(model, 0);
    let means = pixel_means(known, nt);
    let mean = model
        .manifest
        .outputs
        .iter()
        .position(|o| matches!(o.kind, terrapix::bundle::OutputKind::Mean | terrapix::bundle::OutputKind::Value))
        .unwrap_or(0);
    let per_date: Vec<Result<Vec<(usize, f32)>, CubeError>> = (0..nt)
        .into_par_iter()
        .map(|t| {
            let cells: Vec<usize> = (0..n).filter(|&p| wanted(p, t)).collect();
            if cells.is_empty() {
                return Ok(Vec::new());
            }
            let planes = s.features(known, &means, t);
            let mut data = Vec::with_capacity(planes.len() * n);
            for pl in &planes {
                data.extend(pl.iter().enumerate().map(|(p, v)| if wanted(p, t) { *v } else { f32::NAN }));
            }
            let mut block = Block { data, width: s.w, height: s.h, halo: 0, geo: Some((s.grid.geotransform, 0, 0)) };
            let out = predictor.predict(&mut block, &|| false).map_err(|e| CubeError::Mismatch(format!("filling {}: {e}", s.dates[t])))?;
            Ok(cells
                .into_iter()
                .map(|p| (p, out.bands[mean][p]))
                .filter(|(_, v)| v.is_finite() && *v != model.manifest.nodata.output_nodata)
                .collect())
        })
        .collect();
    let mut out = vec![f32::NAN; n * nt];
    for (t, r) in per_date.into_iter().enumerate() {
        for (p, v) in r? {
            out[p * nt + t] = v;
        }
    }
    Ok(out)
}

/// Split conformal half-widths per gap class (Mondrian): from the `cells` (`[pixel][date]`
/// indices) on the calibration blocks (`half`), at least 30 per class (fewer: the widest of the others), and the coverage
/// they give on the other blocks. None when no class has enough.
fn mondrian(
    cells: &[usize],
    class_of: &dyn Fn(usize) -> usize,
    error: &dyn Fn(usize) -> f64,
    half: &dyn Fn(usize) -> bool,
    level: f64,
) -> Option<(Vec<f64>, f64)> {
    let mut widths = vec![f64::NAN; GAP_CLASSES.len()];
    for (c, w) in widths.iter_mut().enumerate() {
        let mut calib: Vec<f64> = cells.iter().filter(|&&i| half(i) && class_of(i) == c).map(|&i| error(i)).collect();
        if calib.len() >= 30 {
            *w = crate::calibrate::conformal_quantile(&mut calib, level);
        }
    }
    let widest = widths.iter().copied().filter(|w| w.is_finite()).fold(f64::NAN, f64::max);
    if !widest.is_finite() {
        return None;
    }
    widths.iter_mut().filter(|w| !w.is_finite()).for_each(|w| *w = widest);
    let test: Vec<usize> = cells.iter().copied().filter(|&i| !half(i)).collect();
    let inside = test.iter().filter(|&&i| error(i) <= widths[class_of(i)]).count();
    Some((widths, inside as f64 / test.len().max(1) as f64))
}

/// Half-widths per gap class from |filled - reference| at real gaps where the reference has a
/// value (calibration blocks), and the coverage of the reference they give (test blocks).
fn calibrate_on_reference(
    s: &Stack,
    reference: &CubeInput,
    values: &[f32],
    filled: &[f32],
    options: &GapOptions,
    half: &dyn Fn(usize) -> bool,
) -> Result<(Vec<f64>, f64, usize), CubeError> {
    let (n, nt) = (s.pixels(), s.dates.len());
    let r = reference.open()?;
    if r.grid.width != s.w || r.grid.height != s.h {
        return Err(CubeError::Mismatch(format!("the reference '{}' is not on the grid of the cube to fill", r.path.display())));
    }
    let al = align(&[("the cube", &s.dates), ("the reference", &r.dates)]).map_err(CubeError::Mismatch)?;
    let mut buf = Vec::new();
    r.read_strip(&al.indices[1], 0..s.h, &mut buf)?;
    let at = transpose(&buf, al.common.len(), n);
    // The reference on the cube's dates, NaN where it has none.
    let mut refv = vec![f32::NAN; n * nt];
    let step_of: std::collections::HashMap<Date, usize> = s.dates.iter().enumerate().map(|(i, d)| (*d, i)).collect();
    for (k, d) in al.common.iter().enumerate() {
        let t = step_of[d];
        for p in 0..n {
            refv[p * nt + t] = at[p * al.common.len() + k];
        }
    }
    let cells: Vec<usize> = (0..n * nt).filter(|&i| !values[i].is_finite() && filled[i].is_finite() && refv[i].is_finite()).collect();
    let class_of = |i: usize| gap_class(&values[(i / nt) * nt..(i / nt + 1) * nt], i % nt);
    let clip = |v: f32| v.clamp(options.clip.0 as f32, options.clip.1 as f32);
    let (widths, coverage) = mondrian(&cells, &class_of, &|i| (clip(filled[i]) - refv[i]).abs() as f64, half, options.level)
        .ok_or_else(|| CubeError::Mismatch("the reference has too few values at the gaps to calibrate the intervals on".into()))?;
    Ok((widths, coverage, cells.len()))
}

/// Validates by artificial masking, then fills the gaps of `data.target`, writing `output`
/// (variables: the gap-free value, `lower_NN` and `upper_NN` for filled cells, `filled` flag)
/// and the final model's bundle at `model_path`.
pub fn fill(
    data: &GapData,
    options: &GapOptions,
    output: &Path,
    model_path: &Path,
    progress: &mut dyn FnMut(&str) -> bool,
) -> Result<GapReport, CubeError> {
    let mut s = load(data)?;
    let (n, nt) = (s.pixels(), s.dates.len());
    let clip = |v: f32| v.clamp(options.clip.0 as f32, options.clip.1 as f32);
    // 1. Validation: mask known values, fill them from what is left.
    let mask = artificial_mask(&s, options.seed);
    let masked: Vec<f32> = s.values.iter().zip(&mask).map(|(v, m)| if *m != 0 { f32::NAN } else { *v }).collect();
    let probe = terrapix::output::temp_sibling(model_path);
    let model = train_model(&s, &masked, options, &probe, progress);
    let _ = std::fs::remove_file(&probe);
    let model = model?;
    if !progress("filling the masked values") {
        return Err(CubeError::Cancelled);
    }
    let guess = predict_cells(&s, &model, &masked, &|p, t| mask[p * nt + t] != 0)?;
    let guess: Vec<f32> = guess.iter().map(|v| if v.is_finite() { clip(*v) } else { *v }).collect();
    let pick = |code: u8| -> (Vec<f32>, Vec<f32>) {
        (0..n * nt).filter(|&i| if code == 0 { mask[i] != 0 } else { mask[i] == code }).map(|i| (guess[i], s.values[i])).unzip()
    };
    let score = |code: u8| {
        let (g, v) = pick(code);
        scores(&g, &v)
    };
    // Calibration and test halves: checkerboard blocks of 4 x 4 pixels; a half-width per gap
    // class (classes with fewer than 30 calibration values take the widest of the others).
    let half = |i: usize| {
        let p = i / nt; // cells are [pixel][date]
        ((p % s.w) / 4 + (p / s.w) / 4) % 2 == 0
    };
    let class_of = |i: usize, known: &[f32]| gap_class(&known[(i / nt) * nt..(i / nt + 1) * nt], i % nt);
    let scored: Vec<usize> = (0..n * nt).filter(|&i| mask[i] != 0 && guess[i].is_finite()).collect();
    let (mut widths, coverage) =
        mondrian(&scored, &|i| class_of(i, &masked), &|i| (guess[i] - s.values[i]).abs() as f64, &half, options.level).ok_or_else(
            || CubeError::Mismatch("too few masked values to calibrate the intervals: the cube is too small or too gappy".into()),
        )?;
    let validation = GapValidation {
        days: score(DAY),
        swaths: score(SWATH),
        runs: score(RUN),
        all: score(0),
        half_widths: widths.clone(),
        coverage,
        level: options.level,
        ..Default::default()
    };
    drop(model);
    // 2. The final model on every known value fills the real gaps.
    let model = train_model(&s, &s.values, options, model_path, progress)?;
    if !progress("filling the gaps") {
        return Err(CubeError::Cancelled);
    }
    let values = std::mem::take(&mut s.values);
    let filled = predict_cells(&s, &model, &values, &|p, t| !values[p * nt + t].is_finite())?;
    let mut validation = validation;
    if let Some(r) = &data.reference {
        let (ref_widths, coverage, count) = calibrate_on_reference(&s, r, &values, &filled, options, &half)?;
        validation.reference_half_widths = Some(ref_widths.clone());
        validation.reference_coverage = Some(coverage);
        validation.reference_values = count;
        widths = ref_widths;
    }
    let mut report = GapReport { validation, dates: nt, ..Default::default() };
    let (mut out, mut lo, mut hi, mut flag) = (values.clone(), vec![f32::NAN; n * nt], vec![f32::NAN; n * nt], vec![0f32; n * nt]);
    for i in 0..n * nt {
        if values[i].is_finite() {
            report.known += 1;
        } else if filled[i].is_finite() {
            report.filled += 1;
            let q = widths[gap_class(&values[(i / nt) * nt..(i / nt + 1) * nt], i % nt)] as f32;
            out[i] = clip(filled[i]);
            lo[i] = clip(filled[i] - q);
            hi[i] = clip(filled[i] + q);
            flag[i] = 1.0;
        } else {
            report.unfilled += 1;
            flag[i] = f32::NAN;
        }
    }
    // 3. Written as a CF cube.
    let pct = (options.level * 100.0).round();
    let mut flagvar = Variable::float("filled", "whether the value was filled by the gap-filling model", "");
    flagvar.flags = true;
    flagvar.attributes.push(("flag_values".into(), "0 1".into()));
    flagvar.attributes.push(("flag_meanings".into(), "observed filled".into()));
    let variables = [
        Variable::float(&s.name, &format!("{} without gaps", s.name), &s.unit),
        Variable::float(&format!("lower_{pct}"), &format!("lower bound of the {pct} % interval of filled values"), &s.unit),
        Variable::float(&format!("upper_{pct}"), &format!("upper bound of the {pct} % interval of filled values"), &s.unit),
        flagvar,
    ];
    let v = &report.validation;
    let global = [
        ("title".to_string(), format!("{} gap-filled by terrapix", s.name)),
        ("source".to_string(), format!("{}", data.target.path.display())),
        ("history".to_string(), format!("terrapix {} fill-gaps (model {})", terrapix::VERSION, model_path.display())),
        (
            "terrapix_gap_validation".to_string(),
            format!(
                "artificial masking (days, swaths, runs): RMSE {:.4}, R {:.3}; {pct} % interval half-widths {:?} by gap class (days to a known value: 1, 2-3, 4-7, 8-15, more), coverage {:.3} on held-out blocks",
                v.all.rmse, v.all.r, v.half_widths.iter().map(|w| (w * 1e4).round() / 1e4).collect::<Vec<_>>(), v.coverage
            ),
        ),
    ];
    let mut writer = CubeWriter::create(output, &s.grid, &s.dates, &variables, &global)?;
    for (k, plane) in [out, lo, hi, flag].iter().enumerate() {
        writer.write_strip(k, 0..s.h, &transpose(plane, n, nt))?;
    }
    writer.finish()?;
    Ok(report)
}

/// A gap filling (`terrapix fill-gaps`): the cube, its covariates, the reference, the interval
/// level, and where the filled cube and the model go.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FillGapsRequest {
    /// The cube to fill, e.g. `NETCDF:"corrected.nc":mean`.
    pub target: PathBuf,
    /// Time-varying covariates without gaps, in order.
    pub cubes: Vec<terrapix::cube::predict::NamedCube>,
    pub statics: Vec<PathBuf>,
    /// An independent product of the same quantity (the bias correction's reference).
    pub reference: Option<PathBuf>,
    /// Nominal coverage of the filled values' intervals (0 to 1).
    pub level: f64,
    pub clip: (f64, f64),
    pub max_samples: usize,
    /// The gap-filling model's bundle, and the gap-free cube.
    pub model_out: PathBuf,
    pub output: PathBuf,
}

/// Checks a gap filling's outputs against its inputs, then fills (see [`fill`]).
pub fn run(request: &FillGapsRequest, progress: &mut terrapix::progress::Progress<'_>) -> Result<GapReport, crate::error::TrainError> {
    let r = request;
    if !(r.level > 0.0 && r.level < 1.0) {
        return Err(crate::error::invalid!("level {} must be in (0, 1), e.g. 0.9", r.level));
    }
    terrapix::cube::predict::check_range(r.clip.0, r.clip.1, "clip")?;
    let mut inputs: Vec<(&str, &Path)> = vec![("cube to fill", &r.target)];
    inputs.extend(r.cubes.iter().map(|c| ("covariate cube", c.path.as_path())));
    inputs.extend(r.statics.iter().map(|s| ("static raster", s.as_path())));
    inputs.extend(r.reference.as_deref().map(|p| ("reference", p)));
    terrapix::output::refuse_inputs(&r.output, false, &inputs)?;
    terrapix::output::refuse_inputs(&r.model_out, false, &inputs)?;
    terrapix::output::refuse_inputs(&r.model_out, false, &[("output", &r.output)])?;
    terrapix::output::check_target(&r.model_out, terrapix::output::Kind::Onnx)?;
    terrapix::output::check_target(&r.output, terrapix::output::Kind::NetCdf)?;
    let defaults = GapOptions::default();
    let options = GapOptions {
        level: r.level,
        clip: r.clip,
        max_samples: if r.max_samples > 0 { r.max_samples } else { defaults.max_samples },
        ..defaults
    };
    let data = GapData {
        target: CubeInput { path: r.target.clone(), dates: None },
        covariates: r.cubes.iter().map(|c| (c.name.clone(), CubeInput { path: c.path.clone(), dates: None })).collect(),
        statics: r.statics.clone(),
        reference: r.reference.as_ref().map(|p| CubeInput { path: p.clone(), dates: None }),
    };
    let mut stage = |what: &str| progress(&terrapix::progress::Event::Stage { what: what.into() });
    Ok(fill(&data, &options, &r.output, &r.model_out, &mut stage)?)
}
