//! Calibrated uncertainty written into a bundle: prediction-interval bands, an unbiased mean
//! for log-scale models, and the dissimilarity index and area of applicability (Meyer & Pebesma
//! 2021, CAST's `trainDI`/`aoa`).
//!
//! The trainer calibrates (see `train::calibrate`); this module only appends the calibrated
//! nodes to the graph and records the calibration in the manifest, so `terrapix predict`, the
//! GDAL driver, the pixel functions and QGIS serve the bands unchanged.

use serde::{Deserialize, Serialize};

use super::graph::{Attr, GraphBuilder, OPSET};
use super::onnx::ModelProto;
use super::{Manifest, OutputBand, OutputKind, TargetTransform};

/// What the manifest says of a bundle's calibrated uncertainty.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Uncertainty {
    pub method: IntervalMethod,
    /// One calibration per interval level.
    pub intervals: Vec<IntervalCalibration>,
    /// Duan's smearing factor of a log1p model, mean of exp(out-of-fold log residual): the
    /// `mean` band is `(1 + median) * smearing - 1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smearing: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aoa: Option<AoaSummary>,
}

/// How the interval bands are made from the ensemble's outputs (on the model scale).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum IntervalMethod {
    /// Normalised conformal prediction on out-of-fold residuals: `mean ± factor * (std + offset)`,
    /// so intervals widen where the fold models disagree (`offset` keeps them from collapsing
    /// where they agree).
    NormalisedConformal { offset: f64 },
    /// Absolute conformal prediction: `mean ± factor`.
    AbsoluteConformal,
    /// Conformalised quantile regression (Romano et al. 2019): the quantile forest's own
    /// quantiles `[q_lo - factor, q_hi + factor]`, with q_lo, q_hi at (1 ∓ level) / 2.
    ConformalisedQuantiles,
}

impl IntervalMethod {
    /// The method in words, for reports and legends.
    pub fn words(&self) -> &'static str {
        match self {
            IntervalMethod::NormalisedConformal { .. } => "normalised conformal",
            IntervalMethod::AbsoluteConformal => "absolute conformal",
            IntervalMethod::ConformalisedQuantiles => "conformalised quantiles",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IntervalCalibration {
    /// Nominal coverage, e.g. 0.9.
    pub level: f64,
    /// The conformal quantile of the out-of-fold scores at this level.
    pub factor: f64,
    /// Out-of-fold coverage under the cross-validation (each fold calibrated on the others).
    pub cv_coverage: f64,
}

/// The area of applicability as the manifest records it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AoaSummary {
    /// DI above this is outside the area of applicability: Q75 + 1.5 IQR of the training
    /// samples' cross-validation DI, capped at its maximum.
    pub threshold: f64,
    /// Mean distance between training samples (the DI's denominator), weighted standardised space.
    pub mean_distance: f64,
    /// Training samples stored in the graph.
    pub training_points: usize,
    /// Predictor features (covariate names; the centre pixel of windows and patches) and their
    /// importance weights.
    pub features: Vec<String>,
    pub weights: Vec<f64>,
    /// Multiply-adds per output pixel of the DI.
    pub macs_per_pixel: usize,
}

/// The DI's stored training data, as the graph needs it.
pub struct AoaGraph {
    /// Positions of the DI's features in the inputs flattened and concatenated in manifest order.
    pub indices: Vec<i64>,
    /// Per feature: subtract `centre`, multiply by `scale` (importance weight / standard deviation).
    pub centre: Vec<f32>,
    pub scale: Vec<f32>,
    /// Training samples in the weighted standardised space, row-major `[points, features]`.
    pub points: Vec<f32>,
    pub summary: AoaSummary,
}

/// Training samples per distance block: bounds the `[batch, block]` distance matrix (4096 x
/// 2048 float32 = 32 MiB) whatever the number of training samples.
const AOA_BLOCK: usize = 2048;

fn band(name: &str, graph_output: &str, kind: OutputKind) -> OutputBand {
    OutputBand { name: name.into(), graph_output: graph_output.into(), index: 0, kind }
}

/// `90`, `975`: a level in percent without the decimal point, as band and metric names use it.
pub fn level_tag(level: f64) -> String {
    format!("{}", (level * 1000.0).round() / 10.0).replace('.', "")
}

/// `lower_90` / `upper_90`: band names of an interval level.
pub fn interval_names(level: f64) -> (String, String) {
    let tag = level_tag(level);
    (format!("lower_{tag}"), format!("upper_{tag}"))
}

/// Appends the calibrated bands to a bundle graph whose manifest has `mean` and `std` bands
/// (and, for [`IntervalMethod::ConformalisedQuantiles`], the quantile bands of every level):
/// lower and upper per level, `median` and a smeared `mean` for log1p models, and `di` and
/// `aoa` with `aoa`. Records `u` in the manifest.
pub fn add(model: ModelProto, manifest: &mut Manifest, u: &Uncertainty, aoa: Option<&AoaGraph>) -> Result<ModelProto, String> {
    let opset = model.opset_import.iter().find(|o| o.domain.as_deref().unwrap_or("").is_empty()).and_then(|o| o.version);
    if opset != Some(OPSET) {
        return Err(format!("calibrated bands are written for ONNX opset {OPSET} graphs; this one has {opset:?}"));
    }
    let find = |kind: OutputKind| manifest.outputs.iter().find(|b| b.kind == kind).cloned();
    let mut g = GraphBuilder::extend(model, "tpx_u.");
    let mut outputs = manifest.outputs.clone();
    if !u.intervals.is_empty() || u.smearing.is_some() {
        let mean = find(OutputKind::Mean).ok_or("the bundle has no mean band to calibrate")?;
        let std = find(OutputKind::Std).ok_or("the bundle has no std band to calibrate")?;
        outputs = intervals(&mut g, manifest, u, &mean, &std)?;
    }
    if let Some(a) = aoa {
        let (di, inside) = dissimilarity(&mut g, manifest, a)?;
        g.output(&di, "di", &[1]);
        g.output(&inside, "aoa", &[1]);
        outputs.push(band("di", "di", OutputKind::Di));
        outputs.push(band("aoa", "aoa", OutputKind::Aoa));
    }
    manifest.outputs = outputs;
    manifest.uncertainty = Some(u.clone());
    Ok(g.finish())
}

/// The interval bands and, for log1p, the smeared mean and the median: the manifest's bands
/// with them.
fn intervals(
    g: &mut GraphBuilder,
    manifest: &Manifest,
    u: &Uncertainty,
    mean: &OutputBand,
    std: &OutputBand,
) -> Result<Vec<OutputBand>, String> {
    let column = |g: &mut GraphBuilder, b: &OutputBand| g.slice_columns(&b.graph_output, b.index as i64, b.index as i64 + 1);
    let m = column(g, mean);
    let s = column(g, std);
    let mut bands: Vec<OutputBand> = Vec::new();
    for cal in &u.intervals {
        let (lo_name, hi_name) = interval_names(cal.level);
        let factor = g.constant("factor", &[], vec![cal.factor as f32]);
        let (lo, hi) = match u.method {
            IntervalMethod::NormalisedConformal { offset } => {
                let offset = g.constant("offset", &[], vec![offset as f32]);
                let scale = g.op("Add", &[&s, &offset], vec![]);
                let half = g.op("Mul", &[&scale, &factor], vec![]);
                (g.op("Sub", &[&m, &half], vec![]), g.op("Add", &[&m, &half], vec![]))
            }
            IntervalMethod::AbsoluteConformal => (g.op("Sub", &[&m, &factor], vec![]), g.op("Add", &[&m, &factor], vec![])),
            IntervalMethod::ConformalisedQuantiles => {
                let q = |g: &mut GraphBuilder, q: f64| -> Result<String, String> {
                    let b = manifest
                        .outputs
                        .iter()
                        .find(|b| matches!(b.kind, OutputKind::Quantile { q: bq } if (bq - q).abs() < 1e-9))
                        .ok_or(format!("the bundle has no quantile {q} band for the {} interval", cal.level))?;
                    Ok(column(g, b))
                };
                let (ql, qh) = (q(g, (1.0 - cal.level) / 2.0)?, q(g, (1.0 + cal.level) / 2.0)?);
                (g.op("Sub", &[&ql, &factor], vec![]), g.op("Add", &[&qh, &factor], vec![]))
            }
        };
        let (lo_out, hi_out) = (format!("{lo_name}_out"), format!("{hi_name}_out"));
        g.output(&lo, &lo_out, &[1]);
        g.output(&hi, &hi_out, &[1]);
        bands.push(band(&lo_name, &lo_out, OutputKind::Lower { level: cal.level }));
        bands.push(band(&hi_name, &hi_out, OutputKind::Upper { level: cal.level }));
    }
    let mut outputs = manifest.outputs.clone();
    if let Some(smearing) = u.smearing {
        if manifest.target.transform != TargetTransform::Log1p {
            return Err("a smearing factor is for log1p models only".into());
        }
        // exp(m + ln S) - 1 = S (1 + median) - 1 once the engine back-transforms it.
        let ln_s = g.constant("ln_smearing", &[], vec![smearing.ln() as f32]);
        let smeared = g.op("Add", &[&m, &ln_s], vec![]);
        g.output(&smeared, "mean_smeared", &[1]);
        let at = outputs.iter().position(|b| b.kind == OutputKind::Mean).expect("found above");
        outputs[at] = band("mean", "mean_smeared", OutputKind::Mean);
        if !outputs.iter().any(|b| matches!(b.kind, OutputKind::Quantile { q } if (q - 0.5).abs() < 1e-9)) {
            outputs.insert(at + 1, OutputBand { name: "median".into(), kind: OutputKind::Quantile { q: 0.5 }, ..mean.clone() });
        }
    }
    outputs.extend(bands);
    Ok(outputs)
}

/// DI = (distance to the nearest stored training sample) / mean distance between training
/// samples, and AOA = DI <= threshold (1 inside, 0 outside).
fn dissimilarity(g: &mut GraphBuilder, manifest: &Manifest, a: &AoaGraph) -> Result<(String, String), String> {
    let f = a.centre.len();
    if f == 0 || a.scale.len() != f || a.indices.len() != f || a.points.is_empty() || a.points.len() % f != 0 {
        return Err("internal: inconsistent area-of-applicability data".into());
    }
    let all = g.flat_features(&manifest.inputs.iter().map(|i| i.name.as_str()).collect::<Vec<_>>());
    let idx = g.int_constant("di_features", a.indices.clone());
    let x = g.op("Gather", &[&all, &idx], vec![("axis", Attr::Int(1))]);
    let centre = g.constant("di_centre", &[f as i64], a.centre.clone());
    let scale = g.constant("di_scale", &[f as i64], a.scale.clone());
    let x = g.op("Sub", &[&x, &centre], vec![]);
    let z = g.op("Mul", &[&x, &scale], vec![]);
    // |z - t|² = |z|² - 2 z·t + |t|², the minimum over t taken block by block.
    let zz = g.op("Mul", &[&z, &z], vec![]);
    let axes = g.int_constant("axes", vec![1]);
    let z2 = g.op("ReduceSum", &[&zz, &axes], vec![("keepdims", Attr::Int(1))]);
    let minus_two = g.constant("minus_two", &[], vec![-2.0]);
    let mut mins = Vec::new();
    for block in a.points.chunks(AOA_BLOCK * f) {
        let n = block.len() / f;
        let mut t = vec![0f32; f * n]; // [f, n]: transposed for MatMul
        let mut t2 = vec![0f32; n];
        for (j, row) in block.chunks(f).enumerate() {
            for (k, v) in row.iter().enumerate() {
                t[k * n + j] = *v;
            }
            t2[j] = row.iter().map(|v| v * v).sum();
        }
        let t = g.constant("di_points", &[f as i64, n as i64], t);
        let t2 = g.constant("di_points_sq", &[n as i64], t2);
        let cross = g.op("MatMul", &[&z, &t], vec![]);
        let cross = g.op("Mul", &[&cross, &minus_two], vec![]);
        let d2 = g.op("Add", &[&cross, &t2], vec![]);
        mins.push(g.op("ReduceMin", &[&d2], vec![("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(1))]));
    }
    let refs: Vec<&str> = mins.iter().map(String::as_str).collect();
    let nearest = if refs.len() == 1 { refs[0].to_string() } else { g.op("Min", &refs, vec![]) };
    let d2 = g.op("Add", &[&nearest, &z2], vec![]);
    let zero = g.constant("zero", &[], vec![0.0]);
    let d2 = g.op("Max", &[&d2, &zero], vec![]); // rounding can leave -0.000001
    let d = g.op("Sqrt", &[&d2], vec![]);
    let inv = g.constant("inv_mean_distance", &[], vec![(1.0 / a.summary.mean_distance) as f32]);
    let di = g.op("Mul", &[&d, &inv], vec![]);
    let threshold = g.constant("di_threshold", &[], vec![a.summary.threshold as f32]);
    let inside = g.op("LessOrEqual", &[&di, &threshold], vec![]);
    let inside = g.op("Cast", &[&inside], vec![("to", Attr::Int(1))]);
    Ok((di, inside))
}
