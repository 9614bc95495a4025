//! `terrapix validate`: any bundle, trained here or brought, checked on independent points:
//! accuracy of its mean (or value) band, coverage, width and interval score of every interval
//! band, calibration of every quantile band, the share of points inside the area of
//! applicability and the accuracy inside and outside it, per group; figures and a JSON report.

use crate::metrics::Metrics;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::bundle::{OutputKind, TargetTransform};
use crate::engine::Model;
use crate::metrics;
use crate::plot::{err, fonts, range};

/// Points per ONNX Runtime call.
const BATCH: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    #[error(transparent)]
    Sample(#[from] crate::sample::SampleError),
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    #[error(transparent)]
    Bundle(#[from] crate::bundle::BundleError),
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
    /// Nothing to validate on, or a bundle without a band to score.
    #[error("{0}")]
    Invalid(String),
    #[error("cancelled: nothing was written")]
    Cancelled,
}

impl From<String> for ValidateError {
    fn from(e: String) -> ValidateError {
        ValidateError::Invalid(e)
    }
}

/// A validation job, as `terrapix validate`, `tpx_validate()`, Python's `terrapix.validate`
/// and QGIS's *Validate model* give it (serde names are the C ABI's JSON keys).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValidateRequest {
    /// The bundle (or a STAC item of one) to check.
    pub model: PathBuf,
    /// Independent points with an observed target.
    pub points: PathBuf,
    /// Rasters of the model's covariates; none: they are columns of the points table.
    pub covariates: Vec<PathBuf>,
    /// The JSON report to write, and a folder for figures.
    pub output: Option<PathBuf>,
    pub figures: Option<PathBuf>,
    /// How to read the points table.
    pub point_options: crate::sample::PointOptions,
    /// How covariate bands are bound and aligned.
    pub bind: crate::raster::BindOptions,
}

/// Runs a validation job: samples the bundle's inputs at the points exactly as prediction
/// builds them, predicts, scores, and writes the report and figures (each whole, or nothing).
pub fn run(
    request: &ValidateRequest,
    engine: &crate::engine::EngineOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Validation, ValidateError> {
    let r = request;
    let mut inputs_of_run: Vec<(&str, &Path)> = vec![("points", &r.points), ("model", &r.model)];
    inputs_of_run.extend(r.covariates.iter().map(|c| ("covariate raster", c.as_path())));
    if let Some(out) = &r.output {
        crate::output::refuse_inputs(out, false, &inputs_of_run)?;
        crate::output::check_target(out, crate::output::Kind::Json)?;
    }
    if let Some(dir) = &r.figures {
        crate::output::refuse_inputs(dir, true, &inputs_of_run)?;
        crate::output::check_target(dir, crate::output::Kind::Folder)?;
    }
    if r.point_options.target.is_empty() {
        return Err(ValidateError::Invalid("give the target, the column of observed values to validate against".into()));
    }
    let model = Model::open(&r.model, engine)?;
    let (read, samples) = crate::sample::sample_points(
        &r.points,
        &r.covariates,
        Some(model.manifest.inputs.clone()),
        r.point_options.clone(),
        &r.bind,
        progress,
    )
    .map_err(|e| match e {
        crate::sample::SampleError::Cancelled => ValidateError::Cancelled,
        other => other.into(),
    })?;
    let skipped: BTreeMap<String, usize> = samples.skipped_summary().into_iter().collect();
    if samples.is_empty() {
        let reasons: Vec<String> = skipped.iter().map(|(reason, count)| format!("  skipped {count}: {reason}")).collect();
        return Err(ValidateError::Invalid(format!(
            "none of the {read} points could be used, nothing was written:\n{}",
            reasons.join("\n")
        )));
    }
    let groups: Vec<String> = samples.points.iter().map(|p| p.group.clone().unwrap_or_default()).collect();
    let mut v = validate(&model, &samples.tensors, &samples.targets(), &groups, r.figures.as_deref())?;
    v.report.skipped = skipped;
    v.summary.insert(0, format!("{} on {} of {read} points:", model.manifest.name, samples.len()));
    if let Some(out) = &r.output {
        let json = serde_json::to_string_pretty(&v.report).map_err(|e| ValidateError::Invalid(e.to_string()))?;
        crate::output::Staged::write_all(out, crate::output::Kind::Json, json.as_bytes())?;
    }
    Ok(v)
}

/// What validation found, and the lines to show a person.
pub struct Validation {
    pub report: ValidationReport,
    pub summary: Vec<String>,
    pub figures: Vec<PathBuf>,
}

/// The validation report (`terrapix validate -o report.json`, `tpx_validate()`).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ValidationReport {
    pub model: String,
    /// Points validated on, and those the model gave no finite value for.
    pub points: usize,
    pub points_without_prediction: usize,
    /// The band scored (mean, else value, else the first on the target scale).
    pub band: String,
    pub metrics: Metrics,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_metrics: Option<Metrics>,
    pub intervals: Vec<IntervalResult>,
    pub quantiles: Vec<QuantileResult>,
    /// The std band read as if it were a 90 % interval (mean ± 1.645 std): what it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std_as_90_interval_coverage: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area_of_applicability: Option<AoaResult>,
    /// Per group (site, region) of at least 3 points.
    pub per_group: BTreeMap<String, Metrics>,
    /// Points that could not be used at all (sampling), by reason.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped: BTreeMap<String, usize>,
}

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct IntervalResult {
    pub level: f64,
    pub bands: [String; 2],
    pub metrics: Metrics,
}

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct QuantileResult {
    pub band: String,
    pub q: f64,
    pub observed_share_below: f64,
    pub pinball_loss: f64,
}

/// Accuracy inside and outside the area of applicability.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct AoaResult {
    pub inside: AoaPart,
    pub outside: AoaPart,
}

/// Points on one side of the AOA, and (with 3 or more) their RMSE, bias and interval coverage.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct AoaPart {
    pub n: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rmse: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias: Option<f64>,
    /// `coverage_90`: the first interval level's coverage.
    #[serde(flatten)]
    pub coverage: BTreeMap<String, f64>,
}

/// The model's bands at `n` points: raw sample tensors in, back-transformed bands out.
pub fn predict_points(model: &Model, raw: &[Vec<f32>], n: usize) -> Result<Vec<Vec<f32>>, String> {
    let m = &model.manifest;
    let tensors = crate::plan::normalise(&m.inputs, raw);
    let lens: Vec<usize> = m.inputs.iter().map(|i| i.layout.sample_len(i.channels.len())).collect();
    let mut bands = vec![Vec::with_capacity(n); m.outputs.len()];
    let mut start = 0;
    while start < n {
        let end = (start + BATCH).min(n);
        let count = model.fixed_batch.unwrap_or(end - start);
        let chunk: Vec<Vec<f32>> = tensors
            .iter()
            .zip(&lens)
            .map(|(t, &len)| {
                let mut c = t[start * len..end * len].to_vec();
                c.resize(count * len, 0.0); // a fixed batch is padded; the padding is dropped below
                c
            })
            .collect();
        let out = model.run(count, &chunk).map_err(|e| e.to_string())?;
        for (b, (band, values)) in m.outputs.iter().zip(out).enumerate() {
            let back = band.kind.is_on_target_scale() && m.target.transform == TargetTransform::Log1p;
            bands[b].extend(values[..end - start].iter().map(|&v| if back { v.exp_m1() } else { v }));
        }
        start = end;
    }
    Ok(bands)
}

fn interval_metrics(y: &[f32], lo: &[f32], hi: &[f32], level: f64) -> Metrics {
    let n = y.len() as f64;
    let alpha = 1.0 - level;
    let (mut hits, mut width, mut score) = (0.0, 0.0, 0.0);
    for ((&y, &l), &h) in y.iter().zip(lo).zip(hi) {
        let (y, l, h) = (y as f64, l as f64, h as f64);
        hits += f64::from(l <= y && y <= h);
        width += h - l;
        score += metrics::interval_score(y, l, h, alpha);
    }
    Metrics(BTreeMap::from([
        ("coverage".to_string(), hits / n),
        ("mean_width".to_string(), width / n),
        ("interval_score".to_string(), score / n),
        ("n".to_string(), n),
    ]))
}

fn pick(v: &[f32], idx: &[usize]) -> Vec<f32> {
    idx.iter().map(|&i| v[i]).collect()
}

/// Validates `model` on points with observed `y` and their raw input tensors; writes figures
/// into `figures` when given.
pub fn validate(model: &Model, raw: &[Vec<f32>], y: &[f32], groups: &[String], figures: Option<&Path>) -> Result<Validation, String> {
    let m = &model.manifest;
    let n_all = y.len();
    if n_all == 0 {
        return Err("no point to validate on".into());
    }
    let bands = predict_points(model, raw, n_all)?;
    // Points the model gives no finite value for in some band are left out, and counted.
    let usable: Vec<usize> = (0..n_all).filter(|&i| y[i].is_finite() && bands.iter().all(|b| b[i].is_finite())).collect();
    if usable.is_empty() {
        return Err(format!("the model gave no finite prediction at any of the {n_all} points"));
    }
    let y_u = pick(y, &usable);
    let band = |kind: fn(&OutputKind) -> bool| m.outputs.iter().position(|b| kind(&b.kind));
    let centre = band(|k| matches!(k, OutputKind::Mean))
        .or_else(|| band(|k| matches!(k, OutputKind::Value)))
        .or_else(|| band(|k| k.is_on_target_scale()))
        .ok_or("the bundle has no band on the target scale to validate")?;
    let pred = pick(&bands[centre], &usable);
    let unit = &m.target.unit;
    let mut summary = Vec::new();
    let overall = metrics::regression(&y_u, &pred);
    summary.push(format!(
        "{} band at {} points: RMSE {:.4} {unit}, MAE {:.4}, bias {:+.4}, R² {:.3}, CCC {:.3}",
        m.outputs[centre].name,
        usable.len(),
        overall["rmse"],
        overall["mae"],
        overall["bias"],
        overall["r2"],
        overall["ccc"]
    ));
    let mut report = ValidationReport {
        model: m.name.clone(),
        points: n_all,
        points_without_prediction: n_all - usable.len(),
        band: m.outputs[centre].name.clone(),
        metrics: overall.clone(),
        ..Default::default()
    };
    if let Some(med) = band(|k| matches!(k, OutputKind::Quantile { q } if (q - 0.5).abs() < 1e-9)) {
        report.median_metrics = Some(metrics::regression(&y_u, &pick(&bands[med], &usable)));
    }

    // Interval bands, paired by level.
    let mut intervals = Vec::new();
    let mut pairs = Vec::new();
    for (i, b) in m.outputs.iter().enumerate() {
        if let OutputKind::Lower { level } = b.kind {
            if let Some(j) = m.outputs.iter().position(|u| matches!(u.kind, OutputKind::Upper { level: l } if (l - level).abs() < 1e-9)) {
                pairs.push((level, i, j));
            }
        }
    }
    for &(level, i, j) in &pairs {
        let im = interval_metrics(&y_u, &pick(&bands[i], &usable), &pick(&bands[j], &usable), level);
        summary.push(format!(
            "{} .. {}: coverage {:.1} % (nominal {:.0} %), mean width {:.4} {unit}, interval score {:.4}",
            m.outputs[i].name,
            m.outputs[j].name,
            100.0 * im["coverage"],
            100.0 * level,
            im["mean_width"],
            im["interval_score"]
        ));
        intervals.push(IntervalResult { level, bands: [m.outputs[i].name.clone(), m.outputs[j].name.clone()], metrics: im });
    }
    report.intervals = intervals;

    // Quantile bands: the share of observations at or below each (q when calibrated) and the
    // pinball loss.
    let mut quantiles = Vec::new();
    for (i, b) in m.outputs.iter().enumerate() {
        if let OutputKind::Quantile { q } = b.kind {
            let qv = pick(&bands[i], &usable);
            let below = y_u.iter().zip(&qv).filter(|(y, v)| y <= v).count() as f64 / y_u.len() as f64;
            let pinball = y_u.iter().zip(&qv).map(|(&y, &v)| metrics::pinball(y as f64, v as f64, q)).sum::<f64>() / y_u.len() as f64;
            quantiles.push(QuantileResult { band: b.name.clone(), q, observed_share_below: below, pinball_loss: pinball });
        }
    }
    report.quantiles = quantiles;

    // The spread read as if it were an interval (mean ± 1.645 std on the model scale): what the
    // std band is not.
    if let Some(s) = band(|k| matches!(k, OutputKind::Std)) {
        let log = m.target.transform == TargetTransform::Log1p;
        let c = band(|k| matches!(k, OutputKind::Quantile { q } if (q - 0.5).abs() < 1e-9)).unwrap_or(centre);
        let to_model = |v: f32| if log { v.ln_1p() } else { v };
        let hits = usable.iter().filter(|&&i| (to_model(y[i]) - to_model(bands[c][i])).abs() <= 1.645 * bands[s][i]).count();
        let share = hits as f64 / usable.len() as f64;
        summary.push(format!(
            "std band read as a 90 % interval ({} ± 1.645 std) would cover {:.1} %: the std band is the spread of the ensemble's members, not an interval",
            m.outputs[c].name,
            100.0 * share
        ));
        report.std_as_90_interval_coverage = Some(share);
    }

    // Inside and outside the area of applicability.
    if let Some(a) = band(|k| matches!(k, OutputKind::Aoa)) {
        let (inside, outside): (Vec<usize>, Vec<usize>) = (0..usable.len()).partition(|&k| bands[a][usable[k]] > 0.5);
        let part = |idx: &[usize]| {
            let mut entry = AoaPart { n: idx.len(), ..Default::default() };
            if idx.len() >= 3 {
                let (yy, pp) = (pick(&y_u, idx), pick(&pred, idx));
                let r = metrics::regression(&yy, &pp);
                (entry.rmse, entry.bias) = (Some(r["rmse"]), Some(r["bias"]));
                if let Some(&(level, i, j)) = pairs.first() {
                    let rows: Vec<usize> = idx.iter().map(|&k| usable[k]).collect();
                    let im = interval_metrics(&yy, &pick(&bands[i], &rows), &pick(&bands[j], &rows), level);
                    entry.coverage.insert(format!("coverage_{}", (level * 100.0).round()), im["coverage"]);
                }
            }
            entry
        };
        let (vi, vo) = (part(&inside), part(&outside));
        let shown = |p: &AoaPart| p.rmse.map_or_else(|| "-".to_string(), |v| format!("{v:.4}"));
        summary.push(format!(
            "area of applicability: {} of {} points inside ({:.1} %); RMSE inside {}, outside {}",
            inside.len(),
            usable.len(),
            100.0 * inside.len() as f64 / usable.len() as f64,
            shown(&vi),
            shown(&vo),
        ));
        report.area_of_applicability = Some(AoaResult { inside: vi, outside: vo });
    }

    // Per group (site, region) with at least 3 points.
    let mut per_group = BTreeMap::new();
    let mut names: Vec<&String> = usable.iter().map(|&i| &groups[i]).filter(|g| !g.is_empty()).collect();
    names.sort();
    names.dedup();
    for g in names {
        let idx: Vec<usize> = (0..usable.len()).filter(|&k| &groups[usable[k]] == g).collect();
        if idx.len() < 3 {
            continue;
        }
        let yy = pick(&y_u, &idx);
        let mut r = metrics::regression(&yy, &pick(&pred, &idx));
        if let Some(&(level, i, j)) = pairs.first() {
            let rows: Vec<usize> = idx.iter().map(|&k| usable[k]).collect();
            let im = interval_metrics(&yy, &pick(&bands[i], &rows), &pick(&bands[j], &rows), level);
            r.insert("coverage".into(), im["coverage"]);
        }
        per_group.insert(g.clone(), r);
    }
    report.per_group = per_group;

    let mut written = Vec::new();
    if let Some(target) = figures {
        fonts()?;
        let folder = crate::output::StagedFolder::new(target, "validation figures").map_err(err)?;
        let dir = folder.path();
        let label = if unit.is_empty() { m.target.name.clone() } else { format!("{} ({unit})", m.target.name) };
        let path = dir.join("validation.png");
        let interval = pairs.first().map(|&(level, i, j)| (level, pick(&bands[i], &usable), pick(&bands[j], &usable)));
        observed_vs_predicted(&path, &y_u, &pred, interval.as_ref(), &label, &overall)?;
        written.push(path);
        if let Some(d) = band(|k| matches!(k, OutputKind::Di)) {
            let path = dir.join("error_vs_di.png");
            let pts: Vec<(f64, f64)> =
                usable.iter().zip(&y_u).zip(&pred).map(|((&i, &y), &p)| (bands[d][i] as f64, (p - y).abs() as f64)).collect();
            let threshold = m.uncertainty.as_ref().and_then(|u| u.aoa.as_ref()).map(|a| a.threshold);
            error_vs_di(&path, &pts, threshold, &label)?;
            written.push(path);
        }
        written = written.iter().map(|p| target.join(p.file_name().expect("a file"))).collect();
        folder.commit().map_err(err)?;
    }
    Ok(Validation { report, summary, figures: written })
}

/// Observed against predicted, with each point's interval as a vertical bar (grey when it
/// holds the observation, red when not).
fn observed_vs_predicted(
    path: &Path,
    y: &[f32],
    pred: &[f32],
    interval: Option<&(f64, Vec<f32>, Vec<f32>)>,
    label: &str,
    m: &Metrics,
) -> Result<(), String> {
    // Axes fit the points; interval bars running beyond them are cut at the edge.
    let (lo_ax, hi_ax) = range(y.iter().chain(pred).map(|&v| v as f64));
    let root = BitMapBackend::new(path, (800, 700)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let caption = match interval {
        Some((level, lo, hi)) => {
            let im = interval_metrics(y, lo, hi, *level);
            format!(
                "Validation: RMSE {:.3}, R² {:.3}; {:.0} % intervals hold {:.1} %",
                m["rmse"],
                m["r2"],
                100.0 * level,
                100.0 * im["coverage"]
            )
        }
        None => format!("Validation: RMSE {:.3}, R² {:.3}, bias {:+.3}", m["rmse"], m["r2"], m["bias"]),
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(lo_ax..hi_ax, lo_ax..hi_ax)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_desc(format!("observed {label}"))
        .y_desc(format!("predicted {label} (bars: interval; red: misses the observation)"))
        .draw()
        .map_err(err)?;
    if let Some((_, lo, hi)) = interval {
        chart
            .draw_series(y.iter().zip(lo).zip(hi).map(|((&o, &l), &h)| {
                let colour = if l <= o && o <= h { BLACK.mix(0.15) } else { RED.mix(0.5) };
                let clip = |v: f32| (v as f64).clamp(lo_ax, hi_ax);
                PathElement::new(vec![(o as f64, clip(l)), (o as f64, clip(h))], colour)
            }))
            .map_err(err)?;
    }
    chart.draw_series(LineSeries::new([(lo_ax, lo_ax), (hi_ax, hi_ax)], BLACK.mix(0.6))).map_err(err)?;
    chart.draw_series(y.iter().zip(pred).map(|(&o, &p)| Circle::new((o as f64, p as f64), 3, BLUE.mix(0.6).filled()))).map_err(err)?;
    root.present().map_err(err)
}

/// Absolute error against the dissimilarity index, with the AOA threshold.
fn error_vs_di(path: &Path, pts: &[(f64, f64)], threshold: Option<f64>, label: &str) -> Result<(), String> {
    let (xl, xh) = range(pts.iter().map(|p| p.0).chain(threshold));
    let (yl, yh) = range(pts.iter().map(|p| p.1).chain([0.0]));
    let root = BitMapBackend::new(path, (800, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Error against dissimilarity to the training data", ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(xl..xh, yl..yh)
        .map_err(err)?;
    chart.configure_mesh().x_desc("dissimilarity index (DI)").y_desc(format!("|predicted - observed| {label}")).draw().map_err(err)?;
    if let Some(t) = threshold {
        chart
            .draw_series(LineSeries::new([(t, yl), (t, yh)], RED.stroke_width(2)))
            .map_err(err)?
            .label(format!("AOA threshold {t:.3}: outside to the right"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    }
    chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, BLUE.mix(0.5).filled()))).map_err(err)?;
    chart.configure_series_labels().border_style(BLACK).background_style(WHITE.mix(0.8)).draw().map_err(err)?;
    root.present().map_err(err)
}
