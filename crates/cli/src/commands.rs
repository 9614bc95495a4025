//! One function per command: convert the arguments (see [`crate::args`]), call the library
//! once, print what it reports. Progress goes to bars (or JSON lines for hosts) and every bar
//! and callback stops the run on SIGINT/SIGTERM.

use std::path::{Path, PathBuf};

use terrapix::bundle::{ensemble, spec, Bundle, EdgeMode, GapFill, Manifest};
use terrapix::engine::{self, EngineOptions, Model};
#[cfg(feature = "train")]
use terrapix::progress::Event;
use terrapix::quicklook::{self, Ramp};

use crate::args::*;
use crate::signals;

/// GDAL's block cache for a command-line run.
pub const GDAL_CACHE_BYTES: i64 = 64 << 20;

pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Info { model, json, stac } => info(&model, json, stac.as_deref()),
        Command::Bundle(args) => bundle(args),
        Command::Ensemble { members, output, manifest, runtime } => ensemble_cmd(&members, &output, manifest.as_deref(), &runtime),
        Command::Predict(args) => predict(args),
        Command::Vrt(args) => vrt(args),
        Command::Sample(args) => sample(args),
        Command::Validate(args) => validate(args),
        #[cfg(feature = "train")]
        Command::Train(args) => trainer::train(args),
        #[cfg(feature = "train")]
        Command::Pretrain(args) => trainer::pretrain(args),
        #[cfg(feature = "train")]
        Command::BenchTrain { samples, config, epochs } => trainer::bench_train(&samples, &config, epochs),
        #[cfg(feature = "train")]
        Command::BiasCorrect(args) => trainer::bias_correct(args),
        #[cfg(feature = "train")]
        Command::FillGaps(args) => trainer::fill_gaps(args),
        Command::SampleData { dir, size, seed, samples } => sample_data(&dir, size, seed, samples),
        Command::Quicklook { raster, output, band, ramp, max_side } => quicklook_cmd(&raster, &output, band, &ramp, max_side),
        Command::CdfMatch(args) => cdf_match(args),
        Command::PredictCube(args) => predict_cube(args),
        Command::CubeExport { cube, to, quiet } => cube_export(&cube, &to, quiet),
        Command::CubeInfo { cube, dates } => cube_info(&cube, dates.as_deref()),
        Command::CubeScores { estimate, truth, json } => cube_scores(&estimate, &truth, json),
        Command::SynthCube { dir, seed, width, height, start, days } => synth_cube(&dir, seed, width, height, &start, days),
        Command::BenchOrt { model, covariates, tiles, runtime, batch } => bench_ort(&model, &covariates, tiles, &runtime, batch),
    }
}

/// A bar of `what` (hidden when quiet) whose callback stops the run on SIGINT/SIGTERM.
struct Bar(indicatif::ProgressBar);

impl Bar {
    fn new(quiet: bool, what: &str) -> Bar {
        let bar = if quiet { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(0) };
        bar.set_style(
            indicatif::ProgressStyle::with_template(&format!("{{spinner}} [{{elapsed_precise}}] {{bar:40}} {{pos}}/{{len}} {what}"))
                .expect("valid template"),
        );
        Bar(bar)
    }

    /// The library's `(done, total) -> go on?` callback.
    fn tick(&self, done: usize, total: usize) -> bool {
        self.0.set_length(total as u64);
        self.0.set_position(done as u64);
        signals::received().is_none()
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// The library's event callback for runs whose stages a person reads: stages on stderr (unless
/// quiet), counted steps on a bar; with `json`, every event as a JSON line on stdout (the
/// protocol hosts read). A failed write to stdout stops the run.
#[cfg(feature = "train")]
fn events(quiet: bool, json: bool) -> impl FnMut(&Event) -> bool {
    let bar = Bar::new(quiet || json, "");
    move |event: &Event| {
        let written = match event {
            _ if json => crate::out::line(format_args!("{}", event.to_line())).is_ok(),
            Event::Step { done, total, .. } => bar.tick(*done, *total),
            Event::Stage { what } if !what.is_empty() && !quiet => {
                crate::out::write_note(format_args!("{what}"));
                true
            }
            Event::Fold { .. } | Event::Epoch { .. } if !quiet => crate::out::line(format_args!("  {}", event.words())).is_ok(),
            _ => true,
        };
        written && signals::received().is_none()
    }
}

/// Writes (or prints, for "-") the STAC MLM item of the bundle at `path`; the model asset's href
/// is the bundle's file name when the item sits beside it, else its absolute path.
fn write_stac_item(manifest: &Manifest, path: &Path, item_path: &Path) -> Result<()> {
    let mut item = terrapix::bundle::stac::item(manifest, path);
    if item_path == Path::new("-") {
        say!("{}", serde_json::to_string_pretty(&item)?);
        return Ok(());
    }
    let beside = |p: &Path| p.canonicalize().ok().and_then(|c| c.parent().map(Path::to_path_buf));
    let item_dir = item_path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if item_dir.canonicalize().ok() != beside(path) {
        item["assets"]["model"]["href"] = serde_json::json!(path.canonicalize()?.display().to_string());
    }
    terrapix::output::refuse_inputs(item_path, false, &[("bundle", path)])?;
    terrapix::output::Staged::write_all(item_path, terrapix::output::Kind::Json, serde_json::to_string_pretty(&item)?.as_bytes())?;
    say!("wrote {}", item_path.display());
    Ok(())
}

fn info(given: &Path, json: bool, stac: Option<&Path>) -> Result<()> {
    let resolved = terrapix::bundle::stac::resolve(given)?;
    let path = resolved.as_path();
    if let Some(item_path) = stac.filter(|p| *p != Path::new("-")) {
        // Before anything is read: the item must not replace the item or bundle it describes.
        terrapix::output::refuse_inputs(item_path, false, &[("model", given), ("bundle", path)])?;
        terrapix::output::check_target(item_path, terrapix::output::Kind::Json)?;
    }
    let bundle = Bundle::read(path)?;
    let manifest = bundle.require_manifest(path)?;
    if let Some(item_path) = stac {
        return write_stac_item(manifest, path, item_path);
    }
    if json {
        say!("{}", manifest.to_json());
        return Ok(());
    }
    say!("{}", spec::describe(manifest));
    match Model::from_bundle(path, &bundle, &EngineOptions::default()) {
        Ok(model) => {
            let runtime = model.runtime();
            let library = engine::loaded_library().filter(|_| runtime.starts_with("ONNX Runtime"));
            say!("\nRuns on: {runtime}{}", library.map(|p| format!(", {}", p.display())).unwrap_or_default());
            say!("Graph signature:");
            for s in &model.inputs {
                say!("  input  {s}");
            }
            for s in &model.outputs {
                say!("  output {s}");
            }
            say!("  manifest and graph agree");
        }
        Err(e) => say!("\nGraph signature unavailable: {e}"),
    }
    Ok(())
}

fn read_text(path: &Path) -> Result<String> {
    Ok(std::fs::read_to_string(path).map_err(|e| format!("cannot read '{}': {e}", path.display()))?)
}

fn bundle(a: BundleArgs) -> Result<()> {
    let mut bundle = Bundle::read(&a.model)?;
    let mut manifest = match &a.manifest {
        Some(p) => Manifest::from_json(&read_text(p)?)?,
        None => {
            let graph_outputs: Vec<String> =
                bundle.model.graph.as_ref().map(|g| g.output.iter().filter_map(|o| o.name.clone()).collect()).unwrap_or_default();
            spec::manifest_from_flags(&spec::ManifestFlags {
                name: a.name.clone().unwrap_or_else(|| a.model.file_stem().unwrap_or_default().to_string_lossy().into()),
                version: a.model_version.clone(),
                description: a.description.clone(),
                target: a.target.clone().ok_or("--target is required without --manifest")?,
                unit: a.unit.clone(),
                log1p: a.log1p,
                inputs: a.inputs.clone(),
                bands: a.bands.clone(),
                graph_outputs,
            })?
        }
    };
    if let Some(card) = &a.card {
        manifest.model_card = read_text(card)?;
    }
    if a.edge_nodata {
        manifest.nodata.edge = EdgeMode::Nodata;
    }
    if let Some(radius) = a.fill_gaps {
        manifest.nodata.fill_gaps = Some(GapFill { radius, min_valid: ((2 * radius + 1).pow(2) - 1) / 2 + 1 });
    }
    if manifest.provenance.created_by.is_empty() {
        manifest.provenance.created_by = format!("terrapix {} bundle", terrapix::VERSION);
    }
    bundle.set_manifest(manifest)?;
    let mut inputs: Vec<(&str, &Path)> = vec![("model", &a.model)];
    inputs.extend(a.manifest.as_deref().map(|m| ("manifest", m)));
    inputs.extend(a.card.as_deref().map(|c| ("model card", c)));
    engine::write_checked(&bundle, &a.output, &inputs, &a.runtime.engine())?;
    say!("wrote bundle {}", a.output.display());
    Ok(())
}

fn ensemble_cmd(members: &[PathBuf], output: &Path, manifest_path: Option<&Path>, runtime: &RuntimeArgs) -> Result<()> {
    let bundles = members.iter().map(|p| Bundle::read(p)).collect::<std::result::Result<Vec<_>, _>>()?;
    let manifest = match manifest_path {
        Some(p) => Manifest::from_json(&read_text(p)?)?,
        None => bundles[0].require_manifest(&members[0])?.clone(),
    };
    let ens = ensemble::build(&bundles, manifest)?;
    let mut inputs: Vec<(&str, &Path)> = members.iter().map(|m| ("member model", m.as_path())).collect();
    inputs.extend(manifest_path.map(|m| ("manifest", m)));
    engine::write_checked(&ens, output, &inputs, &runtime.engine())?;
    say!("wrote ensemble of {} members to {} (outputs: mean, std)", members.len(), output.display());
    Ok(())
}

fn predict(a: PredictArgs) -> Result<()> {
    let model = Model::open(&a.model, &a.runtime.engine())?;
    let options = a.options(GDAL_CACHE_BYTES);
    if let Some(png) = &a.quicklook {
        // Checked before the map is made: the quick-look must not replace an input or the map.
        let mut inputs: Vec<(&str, &Path)> = vec![("model", &a.model), ("output map", &a.output)];
        inputs.extend(a.covariates.iter().map(|c| ("covariate raster", c.as_path())));
        terrapix::output::refuse_inputs(png, false, &inputs)?;
        terrapix::output::check_target(png, terrapix::output::Kind::Png)?;
    }
    let binding = terrapix::binding::check_complete(&model.manifest, &a.covariates, &options.bind)?;
    if !a.quiet {
        note!("covariates (map grid: {}, {}):\n{}", binding.reference.display(), binding.reference_crs, binding.table().trim_end());
    }
    for w in &binding.warnings {
        note!("warning: {w}");
    }
    let bar = Bar::new(a.quiet, "tiles");
    let report = terrapix::predict::predict_raster(&model, &a.covariates, &a.output, &options, &mut |d, t| bar.tick(d, t));
    drop(bar);
    let report = report?;
    let names: Vec<&str> = model.manifest.outputs.iter().map(|o| o.name.as_str()).collect();
    say!(
        "wrote {} ({} x {}, bands: {}; {} of {} cells predicted)",
        a.output.display(),
        report.width,
        report.height,
        names.join(", "),
        report.valid_cells,
        report.width * report.height
    );
    if report.nonfinite_cells > 0 {
        terrapix::util::warn(&format!(
            "{} cells had a non-finite model output (an overflow on extreme covariate values) and are nodata",
            report.nonfinite_cells
        ));
    }
    if a.stats {
        say!("stats: {} cells with non-finite model output written as nodata", report.nonfinite_cells);
        let mpix = report.input_pixels as f64 / report.seconds / 1e6;
        let peak = terrapix::util::peak_rss_bytes().map(|b| b as f64 / (1 << 20) as f64).unwrap_or(f64::NAN);
        say!(
            "stats: {mpix:.3} Mpix/s ({} input pixels in {:.2} s; inference {:.2} s, reading {:.2} s); peak memory {peak:.0} MiB",
            report.input_pixels,
            report.seconds,
            report.infer_seconds,
            report.read_seconds
        );
    }
    if let Some(png) = &a.quicklook {
        let s = quicklook::render(&a.output, 1, png, Ramp::Viridis, 1024)?;
        say!("wrote {} (stretch {:.3} .. {:.3} {})", png.display(), s.low, s.high, model.manifest.target.unit);
    }
    Ok(())
}

fn vrt(a: VrtArgs) -> Result<()> {
    let written =
        terrapix::predict::job::write_prediction_vrt(&a.model, &a.covariates, &a.binding.options(), &a.output, &a.runtime.engine())?;
    say!(
        "wrote {} ({} x {}, bands: {}) and its job {}",
        written.vrt.display(),
        written.width,
        written.height,
        written.bands.join(", "),
        written.job.display()
    );
    if !written.model_trusted_by_default {
        let folder = a.model.canonicalize().ok().and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or_default();
        say!(
            "note: the model is outside the VRT's folder; GDAL loads it only from a trusted folder: export TERRAPIX_TRUSTED_MODELS={}",
            folder.display()
        );
    }
    Ok(())
}

fn sample(a: SampleArgs) -> Result<()> {
    let bar = Bar::new(true, "points");
    let r = terrapix::sample::run(&a.request(), &mut |d, t| bar.tick(d, t))?;
    say!("{} of {} points sampled into {}", r.count, r.points, a.output.display());
    for (reason, count) in &r.skipped {
        say!("  skipped {count}: {reason} (see skipped.csv)");
    }
    Ok(())
}

fn validate(a: ValidateArgs) -> Result<()> {
    let bar = Bar::new(true, "points");
    let v = terrapix::validate::run(&a.request()?, &a.runtime.engine(), &mut |d, t| bar.tick(d, t))?;
    for (reason, count) in &v.report.skipped {
        say!("  skipped {count}: {reason}");
    }
    let (header, lines) = v.summary.split_first().ok_or("no summary")?;
    say!("{header}");
    for line in lines {
        say!("  {line}");
    }
    if let Some(out) = &a.output {
        say!("wrote {}", out.display());
    }
    if !v.figures.is_empty() {
        say!("wrote {} figures into {}", v.figures.len(), a.figures.as_deref().unwrap_or(Path::new("")).display());
    }
    Ok(())
}

fn sample_data(dir: &Path, size: usize, seed: u64, samples: usize) -> Result<()> {
    if !(16..=8192).contains(&size) || !(1..=1_000_000).contains(&samples) {
        return Err(format!("--size {size} must be 16 to 8192 pixels and --samples {samples} 1 to 1000000").into());
    }
    let w = terrapix::landscape::generate(size, seed).write(dir, samples, seed)?;
    say!("wrote {}, {} and {}", w.covariates.display(), w.truth.display(), w.samples.display());
    Ok(())
}

fn quicklook_cmd(raster: &Path, output: &Path, band: usize, ramp: &str, max_side: usize) -> Result<()> {
    terrapix::output::refuse_inputs(output, false, &[("raster", raster)])?;
    let ramp = match ramp {
        "viridis" => Ramp::Viridis,
        "magma" => Ramp::Magma,
        other => return Err(format!("unknown ramp '{other}' (viridis or magma)").into()),
    };
    let s = quicklook::render(raster, band, output, ramp, max_side)?;
    say!("wrote {} (stretch {:.4} .. {:.4})", output.display(), s.low, s.high);
    Ok(())
}

fn cdf_match(a: CdfMatchArgs) -> Result<()> {
    threads(a.threads);
    let request = a.request()?;
    let bar = Bar::new(a.quiet, "strips");
    let r = terrapix::cube::matching::run(&request, &mut |d, t| bar.tick(d, t));
    drop(bar);
    let r = r?;
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

fn predict_cube(a: PredictCubeArgs) -> Result<()> {
    let request = a.request()?;
    let bar = Bar::new(a.quiet, "date batches");
    let r = terrapix::cube::predict::run(&request, &a.runtime.engine(), &mut |d, t| bar.tick(d, t));
    drop(bar);
    let r = r?;
    for (name, how) in r.bindings.iter().filter(|_| !a.quiet) {
        note!("{name} <- {how}");
    }
    for (name, lacks) in &r.lacking {
        note!("the cube of '{name}' lacks dates the others have: {lacks}");
    }
    say!("wrote {} ({} dates, {} .. {}; {} cells predicted)", a.output.display(), r.dates, r.first, r.last, r.valid_cells);
    Ok(())
}

fn cube_export(cube: &Path, dir: &Path, quiet: bool) -> Result<()> {
    let bar = Bar::new(quiet, "dates");
    let r = terrapix::cube::write::export(cube, dir, &mut |d, t| bar.tick(d, t));
    drop(bar);
    let r = r?;
    say!("wrote {} GeoTIFFs in {} ({} .. {})", r.files.len(), dir.display(), r.first.unwrap_or_default(), r.last.unwrap_or_default());
    Ok(())
}

fn cube_info(cube: &Path, dates: Option<&Path>) -> Result<()> {
    let c = terrapix::cube::read::describe(cube, dates)?;
    say!("{}: variable '{}' ({})", cube.display(), c.variable, if c.unit.is_empty() { "no unit" } else { &c.unit });
    say!("grid: {} x {} pixels, origin ({}, {}), pixel {} x {}", c.width, c.height, c.origin.0, c.origin.1, c.pixel.0, c.pixel.1);
    if let (Some(first), Some(last)) = (&c.first, &c.last) {
        let shown = c.first_days_without_step.join(", ");
        let listed = match c.days_without_step {
            0 => "none".to_string(),
            n if n > c.first_days_without_step.len() => format!("{shown} and {} more", n - c.first_days_without_step.len()),
            _ => shown,
        };
        say!("time: {} dates, {first} .. {last}; days without a step: {listed}", c.dates);
    }
    Ok(())
}

fn cube_scores(estimate: &Path, truth: &Path, json: bool) -> Result<()> {
    let (common, s) = terrapix::cube::score(estimate, truth)?;
    if json {
        say!("{}", serde_json::to_string(&s)?);
    } else {
        say!("{common} dates in common; {} values compared", s.n);
        say!("RMSE {:.4}, bias {:+.4}, ubRMSE {:.4}, R {:.3}", s.rmse, s.bias, s.ubrmse, s.r);
    }
    Ok(())
}

fn synth_cube(dir: &Path, seed: u64, width: usize, height: usize, start: &str, days: usize) -> Result<()> {
    use terrapix::cube::synthetic::{write_cube, SynthOptions};
    let start = terrapix::cube::time::parse_date(start).ok_or_else(|| format!("--start '{start}' is not a date (YYYY-MM-DD)"))?;
    let defaults = SynthOptions::default();
    let reference_start = start + (defaults.reference_start - defaults.start);
    let w = write_cube(&SynthOptions { width, height, start, days, reference_start, seed }, dir)?;
    for p in [&w.truth, &w.reference, &w.source, &w.precipitation, &w.air_temperature, &w.ndvi, &w.statics] {
        say!("wrote {}", p.display());
    }
    Ok(())
}

fn bench_ort(model: &Path, covariates: &[PathBuf], tiles: usize, runtime: &RuntimeArgs, batch: usize) -> Result<()> {
    // ONNX Runtime itself, whatever terrapix would run the bundle on: the baseline.
    let model = Model::open(model, &EngineOptions { onnx_runtime_only: true, ..runtime.engine() })?;
    let r = terrapix::predict::bench::ort_only(&model, covariates, tiles, batch)?;
    say!(
        "ort-only: {:.3} Mpix/s ({} input pixels; ONNX Runtime {:.3} s, assembly {:.3} s, reading {:.3} s; batch {})",
        r.mpix_per_second(),
        r.pixels,
        r.infer_seconds,
        r.assemble_seconds,
        r.read_seconds,
        r.batch
    );
    Ok(())
}

/// The commands of the trainer (feature `train`).
#[cfg(feature = "train")]
mod trainer {
    use super::*;
    use terrapix_train as train;

    pub fn train(a: TrainArgs) -> Result<()> {
        let json = a.progress_json;
        // One line when training starts and one per fold as it ends (hosts such as the QGIS
        // plugin read the JSON events as progress).
        let mut progress = |e: &Event| {
            let written = match e {
                _ if json && !matches!(e, Event::Stage { .. }) => crate::out::line(format_args!("{}", e.to_line())),
                Event::Stage { what } if !what.is_empty() => crate::out::line(format_args!("{what}")),
                Event::Fold { done, total, metrics: m } => crate::out::line(format_args!(
                    "  fold {done}/{total}: RMSE {:.4}, R² {:.3} ({} test, {} train, {} removed by the buffer)",
                    m["rmse"], m["r2"], m["n"], m["train"], m["buffered"]
                )),
                _ => Ok(()),
            };
            written.is_ok() && signals::received().is_none()
        };
        let t = train::run::train(&a.request(), &a.runtime.engine(), &mut progress)?;
        let (r, o) = (&t.report, &t.report.overall);
        say!(
            "out-of-fold: RMSE {:.4}, MAE {:.4}, bias {:+.4}, R² {:.3}, Spearman {:.3}, CCC {:.3}, RPIQ {:.2} ({:.1} s)",
            o["rmse"],
            o["mae"],
            o["bias"],
            o["r2"],
            o["spearman"],
            o["ccc"],
            o["rpiq"],
            t.seconds
        );
        if let Some(b) = &r.baseline_random_forest {
            say!(
                "random forest, same folds: RMSE {:.4}, MAE {:.4}, bias {:+.4}, R² {:.3}, Spearman {:.3}, CCC {:.3}, RPIQ {:.2}",
                b["rmse"],
                b["mae"],
                b["bias"],
                b["r2"],
                b["spearman"],
                b["ccc"],
                b["rpiq"]
            );
        }
        for l in &r.config.uncertainty.levels {
            let tag = terrapix::bundle::uncertainty::level_tag(*l);
            say!(
                "{tag} % intervals ({}), out of fold: coverage {:.1} %, mean width {:.4}, interval score {:.4}",
                t.interval_method,
                100.0 * o[&format!("picp_{tag}")],
                o[&format!("width_{tag}")],
                o[&format!("interval_score_{tag}")]
            );
        }
        if let Some(s) = t.smearing {
            say!("log1p target: mean = (1 + median) x {s:.4} - 1 (Duan's smearing; the median band is exp(mean of log1p) - 1)");
        }
        let top: Vec<String> = r.permutation_importance.iter().take(5).map(|(n, v)| format!("{n} {v:+.4}")).collect();
        say!("permutation importance (RMSE increase): {}", top.join(", "));
        if let Some((threshold, points, macs)) = t.aoa {
            say!(
                "area of applicability: DI threshold {threshold:.4} (Q75 + 1.5 IQR of the training DI); the bundle stores {points} training samples ({macs} multiply-adds per pixel)"
            );
        }
        if let Some((path, members, bands)) = &t.bundle {
            say!("wrote {} (ensemble of {members} members: {})", path.display(), bands.join(", "));
        }
        if let Some(dir) = &a.figures {
            say!("wrote {} figures into {}", t.figures.len(), dir.display());
        }
        Ok(())
    }

    pub fn pretrain(a: PretrainArgs) -> Result<()> {
        let started = std::time::Instant::now();
        let json = a.progress_json;
        let mut shown = events(true, json);
        // Epochs: every fifth (and the first and last) on a line, with the time so far.
        let mut progress = |e: &Event| {
            if let (false, Event::Epoch { done, total, metrics }) = (json, e) {
                if *done == *total || done % 5 == 0 || *done == 1 {
                    let line = format!("  epoch {done}/{total}: NT-Xent {:.4} ({:.1} s)", metrics["loss"], started.elapsed().as_secs_f64());
                    return crate::out::line(format_args!("{line}")).is_ok() && signals::received().is_none();
                }
            }
            if let (false, Event::Stage { what }) = (json, e) {
                if !what.is_empty() && crate::out::line(format_args!("{what}")).is_err() {
                    return false;
                }
            }
            shown(e)
        };
        let p = train::pretrain::run(&a.request(), &mut progress)?;
        let s = &p.sidecar;
        if s.locations < p.asked {
            say!("  {} of {} locations have every covariate the model needs", s.locations, p.asked);
        }
        say!(
            "wrote {} and {} ({} locations, final NT-Xent {:.4}); fine-tune with `[fit] init = \"{}\"`",
            a.output.display(),
            p.sidecar_path.display(),
            s.locations,
            s.loss.last().copied().unwrap_or(f64::NAN),
            a.output.display()
        );
        Ok(())
    }

    pub fn bench_train(samples: &Path, config: &Path, epochs: usize) -> Result<()> {
        match train::bench::fit_rate(samples, config, epochs)? {
            train::bench::FitRate::Trees { trees_per_second, trees, samples, seconds } => {
                say!("terrapix-train: {trees_per_second:.1} trees/s ({trees} trees on {samples} samples in {seconds:.2} s)")
            }
            train::bench::FitRate::Network { samples_per_second, epochs, samples, seconds } => {
                say!("terrapix-train: {samples_per_second:.0} samples/s ({epochs} epochs of {samples} samples in {seconds:.2} s)")
            }
        }
        Ok(())
    }

    pub fn bias_correct(a: BiasCorrectArgs) -> Result<()> {
        let request = a.request()?;
        let mut progress = events(a.quiet, false);
        let c = train::bias::correct(&request, &a.runtime.engine(), &mut progress)?;
        for (scheme, pooled, samples) in &c.trained {
            say!(
                "{scheme:?}: out-of-fold (spatial blocks) residual RMSE {:.4}, R2 {:.3}, {samples} samples",
                pooled.get("rmse"),
                pooled.get("r2")
            );
        }
        say!("kept: {:?}", c.kept);
        let r = &c.cube;
        say!("wrote {} ({} dates, {} .. {}) and the models in {}", a.output.display(), r.dates, r.first, r.last, a.models.display());
        Ok(())
    }

    pub fn fill_gaps(a: FillGapsArgs) -> Result<()> {
        threads(a.threads);
        let request = a.request()?;
        let mut progress = events(a.quiet, false);
        let r = train::gapfill::run(&request, &mut progress)?;
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
}
