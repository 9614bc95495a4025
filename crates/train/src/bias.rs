//! Bias correction of a soil-moisture record (the CCI-onto-SMAP harmonisation workflow): gradient-boosted trees predicting the
//! *residual* reference minus CDF-matched source (the seed's README; its code predicts the
//! value, a defect not copied) from the matched source, time-varying covariates, static bands
//! and the map coordinates, with calibrated intervals. Either one model per calendar month (the
//! seed) or one model with the month as a covariate; both are cross-validated on spatial blocks
//! of pixels, so their out-of-fold scores compare.
//!
//! Samples are the (pixel, date) pairs where the reference, the matched source and every
//! covariate are valid, read date by date and kept by seeded reservoir sampling up to a
//! maximum per model, so memory does not grow with the record.

use std::collections::BTreeMap;
use std::path::PathBuf;
use terrapix::metrics::Metrics;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::TrainConfig;
use crate::data::TrainingData;
use terrapix::bundle::{Bundle, Channel, InputSpec, Layout, Manifest};
use terrapix::cube::matching::CubeInput;
use terrapix::cube::read::CubeSource;
use terrapix::cube::time::{align, month};
use terrapix::cube::CubeError;

/// The covariate name of the CDF-matched source in a bias-correction bundle.
pub const SOURCE: &str = "source";

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// One model per calendar month (the seed).
    Monthly,
    /// One model, the month a covariate.
    MonthFeature,
}

/// The cubes a bias correction learns from.
#[derive(Clone, Debug)]
pub struct BiasData {
    pub reference: CubeInput,
    /// The CDF-matched source (the `source` covariate).
    pub matched: CubeInput,
    /// Time-varying covariates: name and cube.
    pub covariates: Vec<(String, CubeInput)>,
    /// Static rasters, bands named by their descriptions.
    pub statics: Vec<PathBuf>,
}

#[derive(Clone, Debug)]
pub struct BiasOptions {
    pub scheme: Scheme,
    /// Trainer settings (model: gradient boosting; cv: spatial blocks).
    pub config: TrainConfig,
    /// Most samples in all (a seeded random subset above), shared evenly by the models, so
    /// that both schemes learn from as many samples.
    pub max_samples: usize,
}

impl Default for BiasOptions {
    fn default() -> Self {
        BiasOptions { scheme: Scheme::Monthly, config: crate::boosted_trees(), max_samples: 240_000 }
    }
}

/// A trained correction: the bundle of each month (0: every month) and out-of-fold scores.
pub struct BiasModel {
    pub scheme: Scheme,
    pub bundles: Vec<(u32, Bundle)>,
    /// Out-of-fold metrics of each model (residual scale: the corrected value against the
    /// reference), and pooled over all models.
    pub per_model: Vec<(u32, Metrics)>,
    pub pooled: Metrics,
    pub samples: usize,
}

/// Reads the training samples: per model key (month, or 0), the rows' features, residual
/// targets and pixel coordinates.
struct Rows {
    names: Vec<String>,
    x: Vec<Vec<f32>>,
    y: Vec<f32>,
    xy: Vec<(f64, f64)>,
    seen: usize,
}

pub fn train(data: &BiasData, options: &BiasOptions, progress: &mut dyn FnMut(&str) -> bool) -> Result<BiasModel, CubeError> {
    let fail = CubeError::Mismatch;
    let reference = data.reference.open()?;
    let matched = data.matched.open()?;
    let covs: Vec<CubeSource> = data.covariates.iter().map(|(_, c)| c.open()).collect::<Result<_, _>>()?;
    let grid = matched.grid.clone();
    for c in std::iter::once(&reference).chain(&covs) {
        if !c.grid.same_as(&grid) {
            return Err(fail(format!("'{}' is not on the matched source's grid", c.path.display())));
        }
    }
    let statics = terrapix::cube::predict::read_statics(&data.statics, &grid)?;
    let mut axes: Vec<(&str, &[terrapix::cube::time::Date])> =
        vec![("the reference", &reference.dates), ("the matched source", &matched.dates)];
    axes.extend(data.covariates.iter().zip(&covs).map(|((n, _), c)| (n.as_str(), c.dates.as_slice())));
    let al = align(&axes).map_err(fail)?;
    if al.common.is_empty() {
        return Err(fail("the reference, the matched source and the covariates share no date".into()));
    }
    let mut names: Vec<String> = vec![SOURCE.into()];
    names.extend(data.covariates.iter().map(|(n, _)| n.clone()));
    names.extend(statics.iter().map(|(n, _, _)| n.clone()));
    names.extend(["@x".to_string(), "@y".to_string()]);
    if options.scheme == Scheme::MonthFeature {
        names.push("month".into());
    }
    // The matched source, the covariate cubes and the month change with time; statics and
    // coordinates do not.
    let mut time_varying: Vec<String> = vec![SOURCE.into()];
    time_varying.extend(data.covariates.iter().map(|(n, _)| n.clone()));
    if options.scheme == Scheme::MonthFeature {
        time_varying.push("month".into());
    }
    let keys: Vec<u32> = match options.scheme {
        Scheme::Monthly => (1..=12).collect(),
        Scheme::MonthFeature => vec![0],
    };
    let mut rows: BTreeMap<u32, Rows> =
        keys.iter().map(|&k| (k, Rows { names: names.clone(), x: Vec::new(), y: Vec::new(), xy: Vec::new(), seen: 0 })).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(options.config.fit.seed);
    let cap = (options.max_samples / keys.len()).max(1);
    let (w, h) = (grid.width, grid.height);
    let n = w * h;
    let g = grid.geotransform;
    let chunk = 32;
    let (mut rbuf, mut mbuf) = (Vec::new(), Vec::new());
    let mut cbufs: Vec<Vec<f32>> = vec![Vec::new(); covs.len()];
    for (c, steps) in al.common.chunks(chunk).enumerate() {
        if !progress(&format!("reading samples: {} of {} dates", (c * chunk).min(al.common.len()), al.common.len())) {
            return Err(CubeError::Cancelled);
        }
        let range = c * chunk..c * chunk + steps.len();
        reference.read_strip(&al.indices[0][range.clone()], 0..h, &mut rbuf)?;
        matched.read_strip(&al.indices[1][range.clone()], 0..h, &mut mbuf)?;
        for (i, cv) in covs.iter().enumerate() {
            cv.read_strip(&al.indices[2 + i][range.clone()], 0..h, &mut cbufs[i])?;
        }
        for (k, date) in steps.iter().enumerate() {
            let m = month(*date);
            let key = if options.scheme == Scheme::Monthly { m } else { 0 };
            let r = rows.get_mut(&key).expect("every key");
            for p in 0..n {
                let (refv, src) = (rbuf[k * n + p], mbuf[k * n + p]);
                if !refv.is_finite() || !src.is_finite() {
                    continue;
                }
                let (cx, cy) = (g[0] + (p % w) as f64 * g[1] + 0.5 * g[1], g[3] + (p / w) as f64 * g[5] + 0.5 * g[5]);
                let mut f = Vec::with_capacity(names.len());
                f.push(src);
                f.extend(cbufs.iter().map(|b| b[k * n + p]));
                f.extend(statics.iter().map(|(_, _, s)| s[p]));
                f.extend([cx as f32, cy as f32]);
                if options.scheme == Scheme::MonthFeature {
                    f.push(m as f32);
                }
                if f.iter().any(|v| !v.is_finite()) {
                    continue;
                }
                // Reservoir sampling (Algorithm R): every valid row is kept with equal chance.
                r.seen += 1;
                let slot = if r.y.len() < cap {
                    r.y.len()
                } else {
                    let j = rng.random_range(0..r.seen);
                    if j >= cap {
                        continue;
                    }
                    j
                };
                let target = refv - src;
                if slot == r.y.len() {
                    r.x.push(f);
                    r.y.push(target);
                    r.xy.push((cx, cy));
                } else {
                    r.x[slot] = f;
                    r.y[slot] = target;
                    r.xy[slot] = (cx, cy);
                }
            }
        }
    }
    let unit = if reference.unit.is_empty() { matched.unit.clone() } else { reference.unit.clone() };
    let mut bundles = Vec::new();
    let mut per_model = Vec::new();
    let (mut obs, mut pred) = (Vec::new(), Vec::new());
    let mut samples = 0;
    for (key, r) in rows {
        if r.y.len() < 50 {
            return Err(fail(format!(
                "{} has {} valid samples (reference, matched source and every covariate valid): too few to train",
                if key == 0 { "the record".to_string() } else { format!("month {key}") },
                r.y.len()
            )));
        }
        if !progress(&format!("training {}", if key == 0 { "one model, month as a covariate".to_string() } else { format!("month {key}") }))
        {
            return Err(CubeError::Cancelled);
        }
        samples += r.y.len();
        let td = training_data(&r);
        let mut cancelled = false;
        let result = crate::cross_validate(&td, &options.config, &mut |_, _, _| {
            cancelled = !progress("");
            !cancelled
        })
        .map_err(|e| if cancelled { CubeError::Cancelled } else { fail(format!("training the bias model: {e}")) })?;
        obs.extend_from_slice(&td.y);
        pred.extend_from_slice(&result.oof);
        let name = match key {
            0 => "bias-correction".to_string(),
            m => format!("bias-correction-month-{m:02}"),
        };
        let mut bundle = crate::ensemble_bundle(&result, &td, &options.config, &name, &unit, None).map_err(|e| fail(e.to_string()))?;
        describe(&mut bundle, key, options.scheme, r.seen, r.y.len(), &time_varying)?;
        per_model.push((key, result.overall.clone()));
        bundles.push((key, bundle));
    }
    let pooled = terrapix::metrics::regression(&obs, &pred);
    Ok(BiasModel { scheme: options.scheme, bundles, per_model, pooled, samples })
}

fn training_data(r: &Rows) -> TrainingData {
    TrainingData {
        target: "residual".into(),
        inputs: vec![InputSpec { name: "x".into(), layout: Layout::Pixel, channels: r.names.iter().map(Channel::new).collect() }],
        tensors: vec![r.x.iter().flatten().copied().collect()],
        y: r.y.clone(),
        xy: r.xy.clone(),
        groups: vec![String::new(); r.y.len()],
        strata: vec![String::new(); r.y.len()],
    }
}

fn describe(bundle: &mut Bundle, key: u32, scheme: Scheme, seen: usize, kept: usize, time_varying: &[String]) -> Result<(), CubeError> {
    let mut m: Manifest =
        bundle.manifest.clone().ok_or_else(|| CubeError::Mismatch("internal: a trained bundle without its manifest".into()))?;
    m.description = format!(
        "{}; predicts the residual reference minus CDF-matched source (add the '{SOURCE}' covariate){}",
        m.description,
        if key == 0 { String::new() } else { format!(", month {key}") }
    );
    m.provenance.extra.insert("bias_scheme".into(), serde_json::to_string(&scheme).unwrap_or_default());
    m.provenance.extra.insert("offset".into(), SOURCE.into());
    m.provenance.extra.insert("month".into(), key.to_string());
    m.provenance.training_data = format!("{kept} (pixel, date) samples of {seen} valid");
    m.time_varying = time_varying.to_vec();
    bundle.set_manifest(m).map_err(|e| CubeError::Mismatch(e.to_string()))
}

/// A bias correction (`terrapix bias-correct`): which schemes to train, how many samples,
/// where the model set and the corrected cube go.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BiasCorrectRequest {
    /// The reference product (e.g. SMAP) and the CDF-matched source, corrected over its record.
    pub reference: PathBuf,
    pub source: PathBuf,
    /// Time-varying covariates, in order.
    pub cubes: Vec<terrapix::cube::predict::NamedCube>,
    /// Rasters of static covariates, bound by band description.
    pub statics: Vec<PathBuf>,
    /// The schemes cross-validated; the one with the lower out-of-fold RMSE is kept.
    pub schemes: Vec<Scheme>,
    /// Most (pixel, date) samples in all, shared evenly by the models.
    pub max_samples: usize,
    /// Physical range of the corrected values.
    pub clip: (f64, f64),
    /// The folder of the model set (see [`terrapix::cube::models`]) and its report.
    pub models: PathBuf,
    /// The corrected cube (CF NetCDF: mean, std, lower_90, upper_90).
    pub output: PathBuf,
}

/// What a bias correction did.
pub struct Corrected {
    /// Every scheme trained, with its out-of-fold scores; `kept` indexes the one written.
    pub trained: Vec<(Scheme, Metrics, usize)>,
    pub kept: Scheme,
    pub cube: terrapix::cube::predict::CubePredictReport,
}

/// Trains the schemes asked for, keeps the better one, writes its model set and corrects the
/// source's whole record with it. `progress` gets the stages and the date batches.
pub fn correct(
    request: &BiasCorrectRequest,
    engine: &terrapix::engine::EngineOptions,
    progress: &mut terrapix::progress::Progress<'_>,
) -> Result<Corrected, crate::error::TrainError> {
    use terrapix::cube::models::ModelSet;
    use terrapix::cube::predict::{check_range, predict_cube, CubeBindings, CubePredictOptions};
    use terrapix::progress::Event;
    let r = request;
    check_range(r.clip.0, r.clip.1, "clip")?;
    if r.schemes.is_empty() {
        return Err("give at least one scheme to train (monthly, month-feature)".into());
    }
    let mut inputs: Vec<(&str, &std::path::Path)> = vec![("reference", &r.reference), ("source", &r.source)];
    inputs.extend(r.cubes.iter().map(|c| ("covariate cube", c.path.as_path())));
    inputs.extend(r.statics.iter().map(|s| ("static raster", s.as_path())));
    terrapix::output::refuse_inputs(&r.output, false, &inputs)?;
    terrapix::output::refuse_inputs(&r.models, true, &inputs)?;
    terrapix::output::check_target(&r.models, terrapix::output::Kind::Folder)?;
    let cubes: Vec<(String, CubeInput)> =
        r.cubes.iter().map(|c| (c.name.clone(), CubeInput { path: c.path.clone(), dates: None })).collect();
    let data = BiasData {
        reference: CubeInput { path: r.reference.clone(), dates: None },
        matched: CubeInput { path: r.source.clone(), dates: None },
        covariates: cubes.clone(),
        statics: r.statics.clone(),
    };
    let mut models = Vec::new();
    for &scheme in &r.schemes {
        let mut stage = |what: &str| progress(&Event::Stage { what: what.into() });
        let m = train(&data, &BiasOptions { scheme, max_samples: r.max_samples, ..Default::default() }, &mut stage)?;
        models.push(m);
    }
    let trained: Vec<(Scheme, Metrics, usize)> = models.iter().map(|m| (m.scheme, m.pooled.clone(), m.samples)).collect();
    let best = models.into_iter().min_by(|x, y| x.pooled.get("rmse").total_cmp(&y.pooled.get("rmse"))).ok_or("no scheme was trained")?;
    let report = serde_json::json!({
        "scheme": best.scheme, "pooled_out_of_fold": best.pooled, "per_model": best.per_model, "samples": best.samples,
    });
    ModelSet::write(&r.models, &best.bundles, &report)?;
    let set = ModelSet::open(&r.models, engine)?;
    let mut bind_cubes = vec![(SOURCE.to_string(), CubeInput { path: r.source.clone(), dates: None })];
    bind_cubes.extend(cubes);
    let options = CubePredictOptions {
        offset: Some(SOURCE.into()),
        clip: Some(r.clip),
        title: Some("bias-corrected".into()),
        attributes: vec![("history".into(), format!("terrapix {} bias-correct ({:?})", terrapix::VERSION, best.scheme))],
        ..Default::default()
    };
    let bind = CubeBindings { cubes: bind_cubes, statics: r.statics.clone() };
    let mut batches = |done: usize, total: usize| progress(&Event::Step { what: "date batches".into(), done, total });
    let cube = predict_cube(&set, &bind, &r.output, &options, &mut batches)?;
    Ok(Corrected { trained, kept: best.scheme, cube })
}
