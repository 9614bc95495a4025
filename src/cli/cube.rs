//! The cube verbs: `cdf-match`, `cube-info`, `cube-scores`, `synth-cube`.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{signals, Result};
use terrapix::cube::cdf::{CdfOptions, Method};
use terrapix::cube::matching::{cdf_apply, cdf_match, CubeInput, MatchReport};
use terrapix::cube::read::{read_dates_file, CubeSource};
use terrapix::cube::synthetic::{self, SynthOptions};
use terrapix::cube::time::{align, parse_date, summarise};

#[derive(Args)]
pub struct CdfMatchArgs {
    /// The product to correct (NetCDF variable, or a raster stack with dates).
    #[arg(long)]
    source: PathBuf,
    /// The product to match (on the source's grid). Not with --apply.
    #[arg(long, required_unless_present = "apply")]
    reference: Option<PathBuf>,
    /// The matched source: a CF NetCDF cube.
    #[arg(short, long)]
    output: PathBuf,
    /// beta (the seed's parametric fit: Beta by moments, quantile knots 1..99 % plus min and
    /// max) or empirical (sample quantiles at --points probabilities).
    #[arg(long, default_value = "beta")]
    method: String,
    /// Quantile points of the empirical mapping.
    #[arg(long, default_value_t = 51)]
    points: usize,
    /// Fewest dates with both products valid to fit a pixel (or zone); fewer: nodata.
    #[arg(long, default_value_t = 3)]
    min_count: usize,
    /// The physical range LOW,HIGH: the Beta's support, and the clip of mapped values.
    #[arg(long, default_value = "0,1")]
    range: String,
    /// An integer raster on the grid: pixels of one zone share one mapping (0: per pixel).
    #[arg(long)]
    zones: Option<PathBuf>,
    /// Also store the fitted mapping (GeoTIFF, two bands per knot) to reapply with --apply.
    #[arg(long)]
    save_mapping: Option<PathBuf>,
    /// Apply a stored mapping to --source instead of fitting one.
    #[arg(long, conflicts_with_all = ["reference", "zones", "save_mapping"])]
    apply: Option<PathBuf>,
    /// Dates of the source's bands, one per line (for stacks whose bands carry none).
    #[arg(long)]
    source_dates: Option<PathBuf>,
    /// Dates of the reference's bands, one per line.
    #[arg(long)]
    reference_dates: Option<PathBuf>,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    #[arg(short, long)]
    quiet: bool,
    /// Print the seconds spent reading, computing (fit and apply) and writing.
    #[arg(long)]
    stats: bool,
}

fn input(path: &Path, dates: Option<&Path>) -> Result<CubeInput> {
    Ok(CubeInput { path: path.into(), dates: dates.map(read_dates_file).transpose()? })
}

/// Sizes rayon's global pool (clamped as prediction clamps its workers: rayon cannot start
/// 100,000 threads, and a failed pool would panic at its first use).
fn threads(n: usize) {
    let n = terrapix::engine::clamp_threads(n, "--threads");
    if n > 0 {
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n).build_global();
    }
}

/// Runs `f` with a progress callback drawing a bar of `what` (hidden when quiet) that stops
/// the run on SIGINT/SIGTERM.
fn with_bar<T>(quiet: bool, what: &str, f: impl FnOnce(&mut dyn FnMut(usize, usize) -> bool) -> T) -> T {
    let bar = if quiet { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(0) };
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!("{{spinner}} [{{elapsed_precise}}] {{bar:40}} {{pos}}/{{len}} {what}"))
            .expect("valid template"),
    );
    let mut progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
        signals::received().is_none()
    };
    let r = f(&mut progress);
    bar.finish_and_clear();
    r
}

pub fn cdf_match_cmd(a: CdfMatchArgs) -> Result<()> {
    threads(a.threads);
    let source = input(&a.source, a.source_dates.as_deref())?;
    let mut inputs: Vec<(&str, &Path)> = vec![("source", &a.source)];
    if let Some(r) = &a.reference {
        inputs.push(("reference", r));
    }
    if let Some(m) = &a.apply {
        inputs.push(("mapping", m));
    }
    if let Some(z) = &a.zones {
        inputs.push(("zones", z));
    }
    terrapix::output::refuse_inputs(&a.output, false, &inputs)?;
    if let Some(m) = &a.save_mapping {
        terrapix::output::refuse_inputs(m, false, &inputs)?;
        terrapix::output::refuse_inputs(m, false, &[("output", &a.output)])?;
    }
    let report = if let Some(mapping) = &a.apply {
        with_bar(a.quiet, "strips", |progress| cdf_apply(mapping, &source, &a.output, progress))
    } else {
        let method = match a.method.as_str() {
            "beta" => Method::Beta,
            "empirical" => Method::Empirical { points: a.points },
            other => return Err(format!("unknown --method '{other}' (beta or empirical)").into()),
        };
        let range = parse_range(&a.range, "--range")?;
        let options = CdfOptions { method, min_count: a.min_count, range };
        let reference = input(a.reference.as_deref().expect("clap requires it"), a.reference_dates.as_deref())?;
        with_bar(a.quiet, "strips", |progress| {
            cdf_match(&source, &reference, a.zones.as_deref(), &a.output, a.save_mapping.as_deref(), &options, progress)
        })
    };
    let r = report?;
    print_report(&r, &a)
}

fn parse_range(text: &str, flag: &str) -> Result<(f64, f64)> {
    let bad = || format!("{flag} '{text}' is not LOW,HIGH with LOW below HIGH (e.g. 0,1)");
    let (lo, hi) = text.split_once(',').ok_or_else(bad)?;
    let (lo, hi): (f64, f64) = (lo.trim().parse().map_err(|_| bad())?, hi.trim().parse().map_err(|_| bad())?);
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(bad().into());
    }
    Ok((lo, hi))
}

/// The match's summary; with --quiet only what was written.
fn print_report(r: &MatchReport, a: &CdfMatchArgs) -> Result<()> {
    if a.quiet {
        say!("wrote {}", a.output.display());
        if let Some(m) = &a.save_mapping {
            say!("wrote {}", m.display());
        }
        return Ok(());
    }
    if let Some((first, last)) = &r.overlap_span {
        say!("overlap: {} common dates, {first} .. {last}", r.overlap);
        if r.source_lacks != "none" {
            say!("the source lacks dates of the reference: {}", r.source_lacks);
        }
        if r.reference_lacks != "none" {
            say!("the reference lacks dates of the source: {}", r.reference_lacks);
        }
    }
    say!(
        "fitted {} of {} pixels ({} with too few pairs, {} without a Beta fit: nodata); {} values mapped, {} clipped to the range",
        r.fitted,
        r.pixels,
        r.too_few,
        r.no_beta,
        r.mapped,
        r.clipped
    );
    say!("wrote {} ({} dates)", a.output.display(), r.steps);
    if let Some(m) = &a.save_mapping {
        say!("wrote {} (the mapping; reapply with --apply)", m.display());
    }
    if a.stats {
        let s = r.seconds;
        say!("stats: read {:.3} s, compute {:.3} s, write {:.3} s", s.read, s.compute, s.write);
    }
    Ok(())
}

/// Dates, grid and gaps of a cube.
pub fn cube_info(path: &Path, dates: Option<&Path>) -> Result<()> {
    let dates = dates.map(read_dates_file).transpose()?;
    let c = CubeSource::open(path, dates.as_deref())?;
    let g = &c.grid;
    say!("{}: variable '{}' ({})", path.display(), c.name, if c.unit.is_empty() { "no unit" } else { &c.unit });
    say!(
        "grid: {} x {} pixels, origin ({}, {}), pixel {} x {}",
        g.width,
        g.height,
        g.geotransform[0],
        g.geotransform[3],
        g.geotransform[1],
        g.geotransform[5]
    );
    if let (Some(first), Some(last)) = (c.dates.first(), c.dates.last()) {
        let al = align(&[("the cube", &c.dates)])?;
        let (shown, gaps) = missing_days(&al.common, 5);
        let more = if gaps > shown.len() { format!(" and {} more", gaps - shown.len()) } else { String::new() };
        let listed = if gaps == 0 { "none".to_string() } else { format!("{}{more}", summarise(&shown, 5)) };
        say!("time: {} dates, {first} .. {last}; days without a step: {listed}", al.common.len());
    }
    Ok(())
}

/// The first `shown` days without a step between the first and last of `dates` (ascending,
/// distinct), and how many there are in all, without listing every day of the span.
fn missing_days(dates: &[chrono::NaiveDate], shown: usize) -> (Vec<chrono::NaiveDate>, usize) {
    let (mut first, mut count) = (Vec::new(), 0usize);
    for pair in dates.windows(2) {
        let gap = (pair[1] - pair[0]).num_days().max(1) as usize - 1;
        let mut day = pair[0];
        for _ in 0..gap.min(shown.saturating_sub(first.len())) {
            day = day.succ_opt().unwrap_or(day);
            first.push(day);
        }
        count += gap;
    }
    (first, count)
}

/// RMSE, bias, ubRMSE and correlation of a cube against another (e.g. the synthetic truth).
pub fn cube_scores(estimate: &Path, truth: &Path, json: bool) -> Result<()> {
    let (e, t) = (CubeSource::open(estimate, None)?, CubeSource::open(truth, None)?);
    if !e.grid.same_as(&t.grid) {
        return Err(format!("'{}' and '{}' are not on one grid", estimate.display(), truth.display()).into());
    }
    let al = align(&[("the estimate", &e.dates), ("the truth", &t.dates)])?;
    if al.common.is_empty() {
        return Err(format!("'{}' and '{}' have no date in common: nothing to score", estimate.display(), truth.display()).into());
    }
    let (mut ev, mut tv) = (Vec::new(), Vec::new());
    e.read_strip(&al.indices[0], 0..e.grid.height, &mut ev)?;
    t.read_strip(&al.indices[1], 0..t.grid.height, &mut tv)?;
    let s = terrapix::metrics::scores(&ev, &tv);
    if s.n == 0 {
        return Err(format!("no pixel of the {} common dates has a value in both cubes: nothing to score", al.common.len()).into());
    }
    if json {
        say!("{}", serde_json::to_string(&s)?);
    } else {
        say!("{} dates in common; {} values compared", al.common.len(), s.n);
        say!("RMSE {:.4}, bias {:+.4}, ubRMSE {:.4}, R {:.3}", s.rmse, s.bias, s.ubrmse, s.r);
    }
    Ok(())
}

pub fn synth_cube(dir: &Path, seed: u64, width: usize, height: usize, start: &str, days: usize) -> Result<()> {
    let start = parse_date(start).ok_or_else(|| format!("--start '{start}' is not a date (YYYY-MM-DD)"))?;
    let defaults = SynthOptions::default();
    let reference_start = start + (defaults.reference_start - defaults.start);
    let options = SynthOptions { width, height, start, days, reference_start, seed };
    options.check()?;
    let cube = synthetic::generate(&options);
    let w = cube.write(dir)?;
    for p in [&w.truth, &w.reference, &w.source, &w.precipitation, &w.air_temperature, &w.ndvi, &w.statics] {
        say!("wrote {}", p.display());
    }
    Ok(())
}

/// `NAME=PATH` of a time-varying covariate cube.
fn named_cube(text: &str) -> Result<(String, CubeInput)> {
    let (name, path) = text.split_once('=').ok_or_else(|| format!("'{text}' is not NAME=CUBE (e.g. ndvi=ndvi.nc)"))?;
    Ok((name.trim().to_string(), CubeInput { path: path.into(), dates: None }))
}

#[derive(Args)]
pub struct PredictCubeArgs {
    /// A bundle, or a folder of monthly bundles (month_01.onnx .. month_12.onnx) or model.onnx.
    #[arg(long)]
    model: PathBuf,
    /// Time-varying covariates, NAME=CUBE (repeat): at each date, NAME is that date's plane.
    #[arg(long = "cube", required = true)]
    cubes: Vec<String>,
    /// Rasters of static covariates, bound by band description (repeat).
    #[arg(long = "static")]
    statics: Vec<PathBuf>,
    /// The covariate the model's predictions are a residual on (added back), e.g. source.
    #[arg(long)]
    offset: Option<String>,
    /// Clip target-scale bands to LOW,HIGH (e.g. 0,1 for soil moisture).
    #[arg(long)]
    clip: Option<String>,
    /// The predicted cube: CF NetCDF, one variable per model output.
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    runtime: super::RuntimeArgs,
    #[arg(short, long)]
    quiet: bool,
}

/// Opens a bundle, or the monthly bundles of a folder, as a model set.
pub fn model_set(path: &Path, options: &terrapix::engine::EngineOptions) -> Result<terrapix::cube::predict::ModelSet> {
    use terrapix::engine::Model;
    let mut models = Vec::new();
    if path.is_dir() {
        for m in 1..=12u32 {
            let p = path.join(format!("month_{m:02}.onnx"));
            if p.exists() {
                models.push((m, Model::open(&p, options)?));
            }
        }
        if models.is_empty() && path.join("model.onnx").exists() {
            models.push((0, Model::open(&path.join("model.onnx"), options)?));
        }
        if models.is_empty() {
            return Err(format!("'{}' holds neither month_01.onnx .. month_12.onnx nor model.onnx", path.display()).into());
        }
    } else {
        models.push((0, Model::open(path, options)?));
    }
    Ok(terrapix::cube::predict::ModelSet { models })
}

pub fn predict_cube_cmd(a: PredictCubeArgs) -> Result<()> {
    use terrapix::cube::predict::{predict_cube, CubeBindings, CubePredictOptions};
    let models = model_set(&a.model, &a.runtime.engine())?;
    let cubes: Vec<(String, CubeInput)> = a.cubes.iter().map(|c| named_cube(c)).collect::<Result<_>>()?;
    let mut inputs: Vec<(&str, &Path)> = vec![("model", &a.model)];
    inputs.extend(cubes.iter().map(|(_, c)| ("covariate cube", c.path.as_path())));
    inputs.extend(a.statics.iter().map(|s| ("static raster", s.as_path())));
    terrapix::output::refuse_inputs(&a.output, false, &inputs)?;
    let options = CubePredictOptions {
        offset: a.offset.clone(),
        clip: a.clip.as_deref().map(|c| parse_range(c, "--clip")).transpose()?,
        attributes: vec![("history".into(), format!("terrapix {} predict-cube --model {}", terrapix::VERSION, a.model.display()))],
        ..Default::default()
    };
    let bind = CubeBindings { cubes, statics: a.statics.clone() };
    let r = with_bar(a.quiet, "date batches", |progress| predict_cube(&models, &bind, &a.output, &options, progress))?;
    for (name, how) in &r.bindings {
        note!("{name} <- {how}");
    }
    for (name, lacks) in &r.lacking {
        note!("the cube of '{name}' lacks dates the others have: {lacks}");
    }
    say!("wrote {} ({} dates, {} .. {}; {} cells predicted)", a.output.display(), r.dates, r.first, r.last, r.valid_cells);
    Ok(())
}

#[cfg(feature = "train")]
#[derive(Args)]
pub struct BiasCorrectArgs {
    /// The reference product (e.g. SMAP).
    #[arg(long)]
    reference: PathBuf,
    /// The CDF-matched source (from cdf-match), corrected over its whole record.
    #[arg(long)]
    source: PathBuf,
    /// Time-varying covariates, NAME=CUBE (repeat).
    #[arg(long = "cube")]
    cubes: Vec<String>,
    /// Rasters of static covariates, bound by band description (repeat).
    #[arg(long = "static")]
    statics: Vec<PathBuf>,
    /// monthly (one model per calendar month, as the seed), month-feature (one model, the month
    /// a covariate), or compare (both cross-validated; the better one is kept).
    #[arg(long, default_value = "compare")]
    scheme: String,
    /// Most (pixel, date) samples in all, shared evenly by the models.
    #[arg(long, default_value_t = 240_000)]
    max_samples: usize,
    /// Physical range of the corrected values.
    #[arg(long, default_value = "0,1")]
    clip: String,
    /// Folder for the bundles (month_01.onnx .. month_12.onnx, or model.onnx) and report.json.
    #[arg(long)]
    models: PathBuf,
    /// The corrected cube (CF NetCDF: mean, std, lower_90, upper_90).
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    runtime: super::RuntimeArgs,
    #[arg(short, long)]
    quiet: bool,
}

#[cfg(feature = "train")]
pub fn bias_correct_cmd(a: BiasCorrectArgs) -> Result<()> {
    use terrapix::cube::bias::{self, BiasData, BiasOptions, Scheme};
    use terrapix::cube::predict::{predict_cube, CubeBindings, CubePredictOptions};
    let engine = a.runtime.engine();
    let cubes: Vec<(String, CubeInput)> = a.cubes.iter().map(|c| named_cube(c)).collect::<Result<_>>()?;
    let mut inputs: Vec<(&str, &Path)> = vec![("reference", &a.reference), ("source", &a.source)];
    inputs.extend(cubes.iter().map(|(_, c)| ("covariate cube", c.path.as_path())));
    inputs.extend(a.statics.iter().map(|s| ("static raster", s.as_path())));
    terrapix::output::refuse_inputs(&a.output, false, &inputs)?;
    terrapix::output::refuse_inputs(&a.models, true, &inputs)?;
    let schemes = match a.scheme.as_str() {
        "monthly" => vec![Scheme::Monthly],
        "month-feature" => vec![Scheme::MonthFeature],
        "compare" => vec![Scheme::Monthly, Scheme::MonthFeature],
        other => return Err(format!("unknown --scheme '{other}' (monthly, month-feature or compare)").into()),
    };
    let data = BiasData {
        reference: CubeInput { path: a.reference.clone(), dates: None },
        matched: CubeInput { path: a.source.clone(), dates: None },
        covariates: cubes.clone(),
        statics: a.statics.clone(),
    };
    let quiet = a.quiet;
    let mut progress = |what: &str| {
        if !quiet && !what.is_empty() {
            note!("{what}");
        }
        signals::received().is_none()
    };
    let mut trained = Vec::new();
    for scheme in schemes {
        let m = bias::train(&data, &BiasOptions { scheme, max_samples: a.max_samples, ..Default::default() }, &mut progress)?;
        let p = &m.pooled;
        say!(
            "{scheme:?}: out-of-fold (spatial blocks) residual RMSE {:.4}, R2 {:.3}, {} samples",
            p.get("rmse").copied().unwrap_or(f64::NAN),
            p.get("r2").copied().unwrap_or(f64::NAN),
            m.samples
        );
        trained.push(m);
    }
    let best = trained
        .into_iter()
        .min_by(|x, y| x.pooled.get("rmse").copied().unwrap_or(f64::MAX).total_cmp(&y.pooled.get("rmse").copied().unwrap_or(f64::MAX)))
        .expect("at least one scheme");
    say!("kept: {:?}", best.scheme);
    std::fs::create_dir_all(&a.models).map_err(|e| format!("cannot create '{}': {e}", a.models.display()))?;
    for (month, bundle) in &best.bundles {
        let name = if *month == 0 { "model.onnx".to_string() } else { format!("month_{month:02}.onnx") };
        bundle.write(&a.models.join(name))?;
    }
    let report = serde_json::json!({
        "scheme": best.scheme, "pooled_out_of_fold": best.pooled, "per_model": best.per_model, "samples": best.samples,
    });
    terrapix::output::Staged::write_all(
        &a.models.join("report.json"),
        terrapix::output::Kind::Json,
        serde_json::to_string_pretty(&report)?.as_bytes(),
    )?;
    let models = model_set(&a.models, &engine)?;
    let mut bind_cubes = vec![(bias::SOURCE.to_string(), CubeInput { path: a.source.clone(), dates: None })];
    bind_cubes.extend(cubes);
    let options = CubePredictOptions {
        offset: Some(bias::SOURCE.into()),
        clip: Some(parse_range(&a.clip, "--clip")?),
        title: Some("bias-corrected".into()),
        attributes: vec![("history".into(), format!("terrapix {} bias-correct ({:?})", terrapix::VERSION, best.scheme))],
        ..Default::default()
    };
    let bind = CubeBindings { cubes: bind_cubes, statics: a.statics.clone() };
    let r = with_bar(a.quiet, "date batches", |progress| predict_cube(&models, &bind, &a.output, &options, progress))?;
    say!("wrote {} ({} dates, {} .. {}) and the models in {}", a.output.display(), r.dates, r.first, r.last, a.models.display());
    Ok(())
}

#[cfg(feature = "train")]
#[derive(Args)]
pub struct FillGapsArgs {
    /// The cube to fill, e.g. NETCDF:"corrected.nc":mean.
    #[arg(long)]
    target: PathBuf,
    /// Time-varying covariates without gaps, NAME=CUBE (repeat).
    #[arg(long = "cube")]
    cubes: Vec<String>,
    /// Rasters of static covariates, bound by band description (repeat).
    #[arg(long = "static")]
    statics: Vec<PathBuf>,
    /// An independent product of the same quantity (e.g. the reference of bias-correct): the
    /// filled values' intervals are calibrated against it where it has values at real gaps.
    #[arg(long)]
    reference: Option<PathBuf>,
    /// Nominal coverage of the filled values' intervals.
    #[arg(long, default_value_t = 0.9)]
    level: f64,
    /// Physical range of filled values.
    #[arg(long, default_value = "0,1")]
    clip: String,
    /// Most training samples per model.
    #[arg(long, default_value_t = 120_000)]
    max_samples: usize,
    /// Where the gap-filling model's bundle is written.
    #[arg(long)]
    model_out: PathBuf,
    /// The gap-free cube (CF NetCDF: value, lower/upper bounds of filled values, filled flag).
    #[arg(short, long)]
    output: PathBuf,
    #[arg(long, default_value_t = 0)]
    threads: usize,
    #[arg(short, long)]
    quiet: bool,
}

#[cfg(feature = "train")]
pub fn fill_gaps_cmd(a: FillGapsArgs) -> Result<()> {
    use terrapix::cube::gapfill::{fill, GapData, GapOptions};
    threads(a.threads);
    if !(a.level > 0.0 && a.level < 1.0) {
        return Err(format!("--level {} must be in (0, 1), e.g. 0.9", a.level).into());
    }
    let cubes: Vec<(String, CubeInput)> = a.cubes.iter().map(|c| named_cube(c)).collect::<Result<_>>()?;
    let mut inputs: Vec<(&str, &Path)> = vec![("cube to fill", &a.target)];
    inputs.extend(cubes.iter().map(|(_, c)| ("covariate cube", c.path.as_path())));
    inputs.extend(a.statics.iter().map(|s| ("static raster", s.as_path())));
    if let Some(r) = &a.reference {
        inputs.push(("reference", r));
    }
    terrapix::output::refuse_inputs(&a.output, false, &inputs)?;
    terrapix::output::refuse_inputs(&a.model_out, false, &inputs)?;
    terrapix::output::check_target(&a.model_out, terrapix::output::Kind::Onnx)?;
    let options = GapOptions { level: a.level, clip: parse_range(&a.clip, "--clip")?, max_samples: a.max_samples, ..Default::default() };
    let data = GapData {
        target: CubeInput { path: a.target.clone(), dates: None },
        covariates: cubes,
        statics: a.statics.clone(),
        reference: a.reference.as_ref().map(|p| CubeInput { path: p.clone(), dates: None }),
    };
    let quiet = a.quiet;
    let mut progress = |what: &str| {
        if !quiet && !what.is_empty() {
            note!("{what}");
        }
        signals::received().is_none()
    };
    let r = fill(&data, &options, &a.output, &a.model_out, &mut progress)?;
    let v = &r.validation;
    say!("validation by artificial masking of known values (RMSE, bias, R, values):");
    for (what, s) in [("whole days", &v.days), ("orbit swaths", &v.swaths), ("runs of days", &v.runs), ("all", &v.all)] {
        say!("  {what:<13} {:.4} {:+.4} {:.3} {}", s.rmse, s.bias, s.r, s.n);
    }
    let widths: Vec<String> = v.half_widths.iter().map(|w| format!("{w:.4}")).collect();
    say!(
        "{:.0} % interval: +/- {} (days to a known value: 1, 2-3, 4-7, 8-15, more), covering {:.3} of held-out masked values",
        v.level * 100.0,
        widths.join(" / "),
        v.coverage
    );
    if let (Some(w), Some(c)) = (&v.reference_half_widths, v.reference_coverage) {
        let widths: Vec<String> = w.iter().map(|w| format!("{w:.4}")).collect();
        say!(
            "calibrated on the reference at {} filled values: +/- {}, covering {c:.3} of the reference on held-out blocks (the intervals written)",
            v.reference_values,
            widths.join(" / ")
        );
    }
    say!(
        "wrote {} ({} dates: {} known, {} filled, {} left missing) and {}",
        a.output.display(),
        r.dates,
        r.known,
        r.filled,
        r.unfilled,
        a.model_out.display()
    );
    Ok(())
}

pub fn cube_export(cube: &Path, dir: &Path, quiet: bool) -> Result<()> {
    terrapix::output::refuse_inputs(dir, true, &[("cube", cube)])?;
    let source = CubeSource::open(cube, None)?;
    let files = with_bar(quiet, "dates", |progress| terrapix::cube::write::export_geotiffs(&source, dir, progress))?;
    say!(
        "wrote {} GeoTIFFs in {} ({} .. {})",
        files.len(),
        dir.display(),
        source.dates.first().map(|d| d.to_string()).unwrap_or_default(),
        source.dates.last().map(|d| d.to_string()).unwrap_or_default()
    );
    Ok(())
}
