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

fn threads(n: usize) {
    if n > 0 {
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n).build_global();
    }
}

fn bar(quiet: bool, what: &str) -> indicatif::ProgressBar {
    let bar = if quiet { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(0) };
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!("{{spinner}} [{{elapsed_precise}}] {{bar:40}} {{pos}}/{{len}} {what}"))
            .expect("valid template"),
    );
    bar
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
    let bar = bar(a.quiet, "strips");
    let mut progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
        signals::received().is_none()
    };
    let report = if let Some(mapping) = &a.apply {
        cdf_apply(mapping, &source, &a.output, &mut progress)
    } else {
        let method = match a.method.as_str() {
            "beta" => Method::Beta,
            "empirical" => Method::Empirical { points: a.points },
            other => return Err(format!("unknown --method '{other}' (beta or empirical)").into()),
        };
        let range = parse_range(&a.range)?;
        let options = CdfOptions { method, min_count: a.min_count, range };
        let reference = input(a.reference.as_deref().expect("clap requires it"), a.reference_dates.as_deref())?;
        cdf_match(&source, &reference, a.zones.as_deref(), &a.output, a.save_mapping.as_deref(), &options, &mut progress)
    };
    bar.finish_and_clear();
    let r = report?;
    print_report(&r, &a);
    Ok(())
}

fn parse_range(text: &str) -> Result<(f64, f64)> {
    let bad = || format!("--range '{text}' is not LOW,HIGH (e.g. 0,1)");
    let (lo, hi) = text.split_once(',').ok_or_else(bad)?;
    Ok((lo.trim().parse().map_err(|_| bad())?, hi.trim().parse().map_err(|_| bad())?))
}

fn print_report(r: &MatchReport, a: &CdfMatchArgs) {
    if let Some((first, last)) = &r.overlap_span {
        println!("overlap: {} common dates, {first} .. {last}", r.overlap);
        if r.source_lacks != "none" {
            println!("the source lacks dates of the reference: {}", r.source_lacks);
        }
        if r.reference_lacks != "none" {
            println!("the reference lacks dates of the source: {}", r.reference_lacks);
        }
    }
    println!(
        "fitted {} of {} pixels ({} with too few pairs, {} without a Beta fit: nodata); {} values mapped, {} clipped to the range",
        r.fitted, r.pixels, r.too_few, r.no_beta, r.mapped, r.clipped
    );
    println!("wrote {} ({} dates)", a.output.display(), r.steps);
    if let Some(m) = &a.save_mapping {
        println!("wrote {} (the mapping; reapply with --apply)", m.display());
    }
    if a.stats {
        let s = r.seconds;
        println!("stats: read {:.3} s, compute {:.3} s, write {:.3} s", s.read, s.compute, s.write);
    }
}

/// Dates, grid and gaps of a cube.
pub fn cube_info(path: &Path, dates: Option<&Path>) -> Result<()> {
    let dates = dates.map(read_dates_file).transpose()?;
    let c = CubeSource::open(path, dates.as_deref())?;
    let g = &c.grid;
    println!("{}: variable '{}' ({})", path.display(), c.name, if c.unit.is_empty() { "no unit" } else { &c.unit });
    println!(
        "grid: {} x {} pixels, origin ({}, {}), pixel {} x {}",
        g.width, g.height, g.geotransform[0], g.geotransform[3], g.geotransform[1], g.geotransform[5]
    );
    if let (Some(first), Some(last)) = (c.dates.first(), c.dates.last()) {
        let days = (*last - *first).num_days() + 1;
        let al = align(&[("the cube", &c.dates)])?;
        let daily: Vec<_> = (0..days).map(|d| *first + chrono::Duration::days(d)).collect();
        let gaps = align(&[("the cube", &c.dates), ("every day", &daily)])?;
        println!("time: {} dates, {first} .. {last}; days without a step: {}", al.common.len(), summarise(&gaps.missing[0], 5));
    }
    Ok(())
}

/// RMSE, bias, ubRMSE and correlation of a cube against another (e.g. the synthetic truth).
pub fn cube_scores(estimate: &Path, truth: &Path, json: bool) -> Result<()> {
    let (e, t) = (CubeSource::open(estimate, None)?, CubeSource::open(truth, None)?);
    if !e.grid.same_as(&t.grid) {
        return Err(format!("'{}' and '{}' are not on one grid", estimate.display(), truth.display()).into());
    }
    let al = align(&[("the estimate", &e.dates), ("the truth", &t.dates)])?;
    let (mut ev, mut tv) = (Vec::new(), Vec::new());
    e.read_strip(&al.indices[0], 0..e.grid.height, &mut ev)?;
    t.read_strip(&al.indices[1], 0..t.grid.height, &mut tv)?;
    let s = synthetic::scores(&ev, &tv);
    if json {
        println!("{}", serde_json::to_string(&s)?);
    } else {
        println!("{} dates in common; {} values compared", al.common.len(), s.n);
        println!("RMSE {:.4}, bias {:+.4}, ubRMSE {:.4}, R {:.3}", s.rmse, s.bias, s.ubrmse, s.r);
    }
    Ok(())
}

pub fn synth_cube(dir: &Path, seed: u64, width: usize, height: usize, start: &str, days: usize) -> Result<()> {
    let start = parse_date(start).ok_or_else(|| format!("--start '{start}' is not a date (YYYY-MM-DD)"))?;
    let defaults = SynthOptions::default();
    let reference_start = start + (defaults.reference_start - defaults.start);
    let cube = synthetic::generate(&SynthOptions { width, height, start, days, reference_start, seed });
    let w = cube.write(dir)?;
    for p in [&w.truth, &w.reference, &w.source, &w.precipitation, &w.air_temperature, &w.ndvi, &w.statics] {
        println!("wrote {}", p.display());
    }
    Ok(())
}
