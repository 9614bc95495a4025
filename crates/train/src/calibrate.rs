//! Calibrated prediction intervals from the cross-validation's out-of-fold predictions
//! (split-conformal prediction on CV residuals, as CV+ does with the fold models, evaluated with
//! each fold calibrated on the others only), Duan's smearing for log1p models, and the interval
//! metrics of the report: coverage (PICP), width, interval score and CRPS.
//!
//! Every method is one shape: a base interval `[lo, hi]` and a unit `w` per prediction, scores
//! `max(lo - y, y - hi) / w`, and the calibrated interval `[lo - f w, hi + f w]` with `f` the
//! conformal quantile of the scores. Normalised conformal: lo = hi = the mean, w = std + offset;
//! absolute: w = 1; conformalised quantiles: lo, hi = the forest's quantiles, w = 1. All on the
//! model scale; bounds of a log1p model are back-transformed, which keeps coverage.

use crate::error::TrainError;
use std::collections::BTreeMap;
use terrapix::metrics::Metrics;

use serde_json::json;

use super::config::IntervalChoice;
use super::cv::Fold;
use terrapix::bundle::uncertainty::{interval_names, level_tag, IntervalCalibration, IntervalMethod, Uncertainty};
use terrapix::metrics;

/// Nominal levels of the calibration figure.
pub fn curve_levels() -> Vec<f64> {
    (2..=19).map(|i| i as f64 * 0.05).collect()
}

/// Quantile levels of the CRPS (the mean pinball loss over them, doubled, approximates it).
const CRPS_LEVELS: usize = 20;

fn crps_levels() -> Vec<f64> {
    (0..CRPS_LEVELS).map(|j| (j as f64 + 0.5) / CRPS_LEVELS as f64).collect()
}

/// What calibration needs of the cross-validation, on the model scale.
pub struct OutOfFold<'a> {
    pub folds: &'a [Fold],
    /// Targets on the model scale (log1p applied) and as observed.
    pub y_model: &'a [f32],
    pub y: &'a [f32],
    pub log1p: bool,
    /// Per fold, the fold model's prediction of each test sample.
    pub centre: &'a [Vec<f32>],
    /// Per sample, the spread (population std) of all fold models there, as the `std` band.
    pub spread: &'a [f32],
    /// Per fold, per test sample, the fold model's quantiles at [`OutOfFold::quantile_levels`]
    /// (a quantile forest only).
    pub quantiles: Option<&'a [Vec<Vec<f64>>]>,
    pub groups: &'a [String],
}

/// The quantile levels a quantile forest's out-of-fold quantiles are asked for: both ends of
/// every configured and figure level, then the CRPS levels.
pub fn quantile_levels(levels: &[f64]) -> Vec<f64> {
    let mut qs: Vec<f64> = levels.iter().chain(&curve_levels()).flat_map(|l| [(1.0 - l) / 2.0, (1.0 + l) / 2.0]).collect();
    qs.extend(crps_levels());
    qs
}

fn q_index(all: &[f64], q: f64) -> usize {
    all.iter().position(|v| (v - q).abs() < 1e-12).expect("asked for in quantile_levels")
}

/// The result: the manifest record, the metrics merged into the report, and the report section.
pub struct Calibration {
    pub uncertainty: Uncertainty,
    /// Out-of-fold predictions of the bundle's `mean` band (target scale; smeared for log1p),
    /// by sample (averaged over repetitions) and per fold.
    pub oof_mean: Vec<f32>,
    pub fold_mean: Vec<Vec<f32>>,
    /// Interval metrics of every level (`picp_90`, `width_90`, `interval_score_90`) and `crps`.
    pub overall: Metrics,
    pub per_fold: Vec<Metrics>,
    pub per_group: BTreeMap<String, Metrics>,
    /// (nominal, out-of-fold empirical coverage) from 10 % to 95 %.
    pub curve: Vec<(f64, f64)>,
    pub report: serde_json::Value,
}

/// The `ceil((n + 1) level)`-th smallest score (the split-conformal quantile); the largest when
/// that is beyond n.
pub fn conformal_quantile(scores: &mut [f64], level: f64) -> f64 {
    scores.sort_unstable_by(f64::total_cmp);
    let n = scores.len();
    if n == 0 {
        return f64::INFINITY;
    }
    let k = ((n as f64 + 1.0) * level).ceil() as usize;
    scores[k.clamp(1, n) - 1]
}

/// `(fold, test sample of the fold, level) -> (lo, hi, w)`.
type BaseInterval = Box<dyn Fn(usize, usize, f64) -> (f64, f64, f64) + Sync + 'static>;

/// One candidate method's base intervals and units: per fold, per test sample.
struct Base {
    method: IntervalMethod,
    at: BaseInterval,
}

fn candidates(oof: &OutOfFold<'_>, choice: IntervalChoice, qs: &[f64]) -> Result<Vec<Base>, TrainError> {
    let mut spread: Vec<f64> = oof.spread.iter().map(|&s| s as f64).collect();
    spread.sort_by(f64::total_cmp);
    let offset = spread[spread.len() / 2].max(1e-6 * spread.last().copied().unwrap_or(1.0).abs()).max(f64::MIN_POSITIVE);
    let centre: Vec<Vec<f64>> = oof.centre.iter().map(|c| c.iter().map(|&v| v as f64).collect()).collect();
    let unit: Vec<Vec<f64>> = oof.folds.iter().map(|f| f.test.iter().map(|&i| oof.spread[i] as f64 + offset).collect()).collect();
    let normalised = {
        let (c, u) = (centre.clone(), unit);
        Base { method: IntervalMethod::NormalisedConformal { offset }, at: Box::new(move |f, j, _| (c[f][j], c[f][j], u[f][j])) }
    };
    let absolute = {
        let c = centre;
        Base { method: IntervalMethod::AbsoluteConformal, at: Box::new(move |f, j, _| (c[f][j], c[f][j], 1.0)) }
    };
    let quantiles = || -> Result<Base, TrainError> {
        let q = oof.quantiles.ok_or("interval method 'quantiles' is for quantile forests (model kind quantile_forest)")?.to_vec();
        let qs = qs.to_vec();
        Ok(Base {
            method: IntervalMethod::ConformalisedQuantiles,
            at: Box::new(move |f, j, level| {
                let (lo, hi) = (q_index(&qs, (1.0 - level) / 2.0), q_index(&qs, (1.0 + level) / 2.0));
                (q[f][j][lo], q[f][j][hi], 1.0)
            }),
        })
    };
    Ok(match choice {
        IntervalChoice::Normalised => vec![normalised],
        IntervalChoice::Absolute => vec![absolute],
        IntervalChoice::Quantiles => vec![quantiles()?],
        IntervalChoice::Auto if oof.quantiles.is_some() => vec![quantiles()?, normalised, absolute],
        IntervalChoice::Auto => vec![normalised, absolute],
    })
}

/// Calibrates interval bands at `levels` out of fold, chooses the method (`choice`), and
/// measures how the intervals hold with each fold calibrated on the other folds of its
/// repetition.
pub fn calibrate(oof: &OutOfFold<'_>, levels: &[f64], choice: IntervalChoice) -> Result<Calibration, TrainError> {
    let qs = quantile_levels(levels);
    let bases = candidates(oof, choice, &qs)?;
    let first = levels.first().copied().ok_or("no interval level configured")?;
    // The candidate with the best (lowest) out-of-fold interval score at the first level.
    let mut best: Option<(f64, usize)> = None;
    let mut compared = serde_json::Map::new();
    for (k, b) in bases.iter().enumerate() {
        let e = evaluate(oof, b, first);
        compared.insert(b.method.words().replace(' ', "_"), json!({"interval_score": e.interval_score, "coverage": e.coverage}));
        if best.is_none_or(|(s, _)| e.interval_score < s) {
            best = Some((e.interval_score, k));
        }
    }
    let base = &bases[best.expect("at least one candidate").1];

    let mut intervals = Vec::new();
    let mut overall = Metrics::default();
    let mut per_fold = vec![Metrics::default(); oof.folds.len()];
    let mut per_group: BTreeMap<String, Metrics> = BTreeMap::new();
    let mut level_reports = Vec::new();
    for &level in levels {
        let e = evaluate(oof, base, level);
        let tag = level_tag(level);
        intervals.push(IntervalCalibration { level, factor: e.factor, cv_coverage: e.coverage });
        overall.insert(format!("picp_{tag}"), e.coverage);
        overall.insert(format!("width_{tag}"), e.width);
        overall.insert(format!("interval_score_{tag}"), e.interval_score);
        for (f, m) in per_fold.iter_mut().enumerate() {
            let (c, w, s) = e.per_fold[f];
            m.insert(format!("picp_{tag}"), c);
            m.insert(format!("width_{tag}"), w);
            m.insert(format!("interval_score_{tag}"), s);
        }
        for (g, (c, w, n)) in &e.per_group {
            let m = per_group.entry(g.clone()).or_default();
            m.insert(format!("picp_{tag}"), *c);
            m.insert(format!("width_{tag}"), *w);
            m.insert("n".into(), *n);
        }
        let (lo, hi) = interval_names(level);
        level_reports.push(json!({
            "level": level, "bands": [lo, hi], "factor": e.factor, "coverage": e.coverage,
            "mean_width": e.width, "interval_score": e.interval_score,
        }));
    }
    let curve: Vec<(f64, f64)> = curve_levels().into_iter().map(|l| (l, evaluate(oof, base, l).coverage)).collect();
    let (crps, crps_fold) = crps(oof, base, &qs);
    overall.insert("crps".into(), crps);
    for (m, c) in per_fold.iter_mut().zip(&crps_fold) {
        m.insert("crps".into(), *c);
    }
    let (smearing, oof_mean, fold_mean, smearing_report) = smear(oof);
    let uncertainty = Uncertainty { method: base.method, intervals, smearing, aoa: None };
    let report = json!({
        "method": base.method,
        "methods_compared_at_first_level": compared,
        "levels": level_reports,
        "crps": crps,
        "calibration_curve": curve.iter().map(|(n, e)| json!({"nominal": n, "empirical": e})).collect::<Vec<_>>(),
        "per_fold": per_fold,
        "per_group": per_group,
        "log1p_mean": smearing_report,
    });
    Ok(Calibration { uncertainty, oof_mean, fold_mean, overall, per_fold, per_group, curve, report })
}

struct Evaluation {
    /// The factor from every out-of-fold score (what the bundle uses).
    factor: f64,
    coverage: f64,
    width: f64,
    interval_score: f64,
    /// (coverage, mean width, mean interval score) per fold.
    per_fold: Vec<(f64, f64, f64)>,
    /// (coverage, mean width, n) per group.
    per_group: BTreeMap<String, (f64, f64, f64)>,
}

fn back(oof: &OutOfFold<'_>, v: f64) -> f64 {
    if oof.log1p {
        v.exp_m1()
    } else {
        v
    }
}

/// `value(fold, position in its test set, sample)` for every fold's test samples, by fold.
fn per_test(oof: &OutOfFold<'_>, value: impl Fn(usize, usize, usize) -> f64) -> Vec<Vec<f64>> {
    oof.folds.iter().enumerate().map(|(f, fold)| fold.test.iter().enumerate().map(|(j, &i)| value(f, j, i)).collect()).collect()
}

/// Scores of every fold's test samples at `level`.
fn scores(oof: &OutOfFold<'_>, b: &Base, level: f64) -> Vec<Vec<f64>> {
    per_test(oof, |f, j, i| {
        let (lo, hi, w) = (b.at)(f, j, level);
        let y = oof.y_model[i] as f64;
        (lo - y).max(y - hi) / w
    })
}

/// The folds that calibrate fold `f`: the other folds of its repetition.
fn others(folds: &[Fold], f: usize) -> impl Iterator<Item = usize> + '_ {
    let repeat = folds[f].repeat;
    (0..folds.len()).filter(move |&g| g != f && folds[g].repeat == repeat)
}

/// Interval metrics with every fold calibrated on the other folds of its repetition.
fn evaluate(oof: &OutOfFold<'_>, b: &Base, level: f64) -> Evaluation {
    let s = scores(oof, b, level);
    let factor = conformal_quantile(&mut s.concat(), level);
    let alpha = 1.0 - level;
    let (mut hits, mut width, mut score, mut n) = (0.0, 0.0, 0.0, 0.0);
    let mut per_fold = Vec::new();
    let mut groups: BTreeMap<String, (f64, f64, f64)> = BTreeMap::new();
    for (f, fold) in oof.folds.iter().enumerate() {
        let mut calib: Vec<f64> = others(oof.folds, f).flat_map(|g| s[g].iter().copied()).collect();
        let q = conformal_quantile(&mut calib, level);
        let (mut fh, mut fw, mut fs) = (0.0, 0.0, 0.0);
        for (j, &i) in fold.test.iter().enumerate() {
            let (lo, hi, w) = (b.at)(f, j, level);
            let (lo, hi) = (back(oof, lo - q * w), back(oof, hi + q * w));
            let y = oof.y[i] as f64;
            let hit = if lo <= y && y <= hi { 1.0 } else { 0.0 };
            let is = metrics::interval_score(y, lo, hi, alpha);
            (fh, fw, fs) = (fh + hit, fw + (hi - lo), fs + is);
            if !oof.groups[i].is_empty() {
                let e = groups.entry(oof.groups[i].clone()).or_default();
                *e = (e.0 + hit, e.1 + (hi - lo), e.2 + 1.0);
            }
        }
        let m = fold.test.len() as f64;
        per_fold.push((fh / m, fw / m, fs / m));
        (hits, width, score, n) = (hits + fh, width + fw, score + fs, n + m);
    }
    let per_group = groups.into_iter().filter(|(_, v)| v.2 >= 3.0).map(|(g, (h, w, c))| (g, (h / c, w / c, c))).collect();
    Evaluation { factor, coverage: hits / n, width: width / n, interval_score: score / n, per_fold, per_group }
}

/// CRPS on the target scale (twice the mean pinball loss over [`crps_levels`]) of the
/// out-of-fold predictive distributions: the conformal one (centre plus unit times the other
/// folds' signed scores), or a quantile forest's own. Overall and per fold.
fn crps(oof: &OutOfFold<'_>, b: &Base, qs: &[f64]) -> (f64, Vec<f64>) {
    let taus = crps_levels();
    let signed = per_test(oof, |f, j, i| {
        let (c, _, w) = (b.at)(f, j, 0.5);
        (oof.y_model[i] as f64 - c) / w
    });
    let (mut total, mut n) = (0.0, 0.0);
    let mut per_fold = Vec::new();
    for (f, fold) in oof.folds.iter().enumerate() {
        let mut other: Vec<f64> = others(oof.folds, f).flat_map(|g| signed[g].iter().copied()).collect();
        other.sort_unstable_by(f64::total_cmp);
        let sq: Vec<f64> = taus.iter().map(|&t| metrics::quantile_sorted(&other, t)).collect();
        let mut sum = 0.0;
        for (j, &i) in fold.test.iter().enumerate() {
            let y = oof.y[i] as f64;
            let quantiles: Vec<f64> = match (b.method, oof.quantiles) {
                (IntervalMethod::ConformalisedQuantiles, Some(q)) => taus.iter().map(|&t| q[f][j][q_index(qs, t)]).collect(),
                _ => {
                    let (c, _, w) = (b.at)(f, j, 0.5);
                    sq.iter().map(|s| c + w * s).collect()
                }
            };
            let pinball: f64 = taus.iter().zip(&quantiles).map(|(&t, &q)| metrics::pinball(y, back(oof, q), t)).sum::<f64>();
            sum += 2.0 * pinball / taus.len() as f64;
        }
        per_fold.push(sum / fold.test.len() as f64);
        total += sum;
        n += fold.test.len() as f64;
    }
    (total / n, per_fold)
}

/// Duan's smearing for a log1p model: the factor from every out-of-fold residual, and the
/// out-of-fold mean predictions with each fold smeared by the other folds' factor (averaged
/// over repetitions). Without log1p: the plain out-of-fold predictions.
fn smear(oof: &OutOfFold<'_>) -> (Option<f64>, Vec<f32>, Vec<Vec<f32>>, serde_json::Value) {
    let n = oof.y.len();
    let resid = per_test(oof, |f, j, i| (oof.y_model[i] - oof.centre[f][j]) as f64);
    let (mut sum, mut count) = (vec![0f64; n], vec![0u32; n]);
    let mut median = (vec![0f64; n], vec![0u32; n]);
    let mut fold_mean = Vec::new();
    for (f, fold) in oof.folds.iter().enumerate() {
        let factor = if oof.log1p {
            let other: Vec<f64> = others(oof.folds, f).flat_map(|g| resid[g].iter().map(|r| r.exp())).collect();
            other.iter().sum::<f64>() / other.len().max(1) as f64
        } else {
            1.0
        };
        let mut this = Vec::with_capacity(fold.test.len());
        for (&i, &p) in fold.test.iter().zip(&oof.centre[f]) {
            let v = if oof.log1p { (p as f64).exp() * factor - 1.0 } else { p as f64 };
            this.push(v as f32);
            sum[i] += v;
            count[i] += 1;
            median.0[i] += back(oof, p as f64);
            median.1[i] += 1;
        }
        fold_mean.push(this);
    }
    let avg = |s: &[f64], c: &[u32]| -> Vec<f32> {
        s.iter().zip(c).map(|(s, &c)| if c > 0 { (s / c as f64) as f32 } else { f32::NAN }).collect()
    };
    let oof_mean = avg(&sum, &count);
    if !oof.log1p {
        return (None, oof_mean, fold_mean, serde_json::Value::Null);
    }
    let all: Vec<f64> = resid.iter().flatten().map(|r| r.exp()).collect();
    let factor = all.iter().sum::<f64>() / all.len().max(1) as f64;
    let oof_median = avg(&median.0, &median.1);
    let bias = |p: &[f32]| p.iter().zip(oof.y).map(|(p, y)| (p - y) as f64).sum::<f64>() / n as f64;
    let report = json!({
        "smearing": factor,
        "bias_of_mean": bias(&oof_mean),
        "bias_of_median": bias(&oof_median),
        "note": "mean = (1 + median) * smearing - 1 (Duan 1983); median = exp(mean of log1p predictions) - 1",
    });
    (Some(factor), oof_mean, fold_mean, report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conformal_quantile_is_the_finite_sample_rank() {
        let mut s: Vec<f64> = (1..=19).map(|v| v as f64).collect();
        // ceil(20 * 0.9) = 18th smallest of 19.
        assert_eq!(conformal_quantile(&mut s, 0.9), 18.0);
        let mut few = vec![3.0, 1.0];
        assert_eq!(conformal_quantile(&mut few, 0.9), 3.0, "beyond n: the largest");
    }

    #[test]
    fn exchangeable_residuals_cover_at_the_nominal_level() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let n = 4000;
        let y: Vec<f32> = (0..n).map(|_| rng.random::<f32>() * 4.0 - 2.0 + rng.random::<f32>()).collect();
        let folds: Vec<Fold> =
            (0..5).map(|k| Fold { test: (0..n).filter(|i| i % 5 == k).collect(), train: vec![], buffered: 0, repeat: 0 }).collect();
        let centre: Vec<Vec<f32>> = folds.iter().map(|f| f.test.iter().map(|&i| y[i] - (rng.random::<f32>() - 0.5)).collect()).collect();
        let spread = vec![0.1f32; n];
        let groups = vec![String::new(); n];
        let oof = OutOfFold {
            folds: &folds,
            y_model: &y,
            y: &y,
            log1p: false,
            centre: &centre,
            spread: &spread,
            quantiles: None,
            groups: &groups,
        };
        let c = calibrate(&oof, &[0.5, 0.9], IntervalChoice::Normalised).unwrap();
        // Uniform(-0.5, 0.5) errors: the 90 % half-width is 0.45.
        assert!((c.overall["picp_90"] - 0.9).abs() < 0.02, "{:?}", c.overall);
        assert!((c.overall["picp_50"] - 0.5).abs() < 0.03);
        assert!((c.overall["width_90"] - 0.9).abs() < 0.03);
        // The predictive distribution is the centre plus uniform(-0.5, 0.5), the observation the
        // centre plus an independent one: CRPS = E|X - y| - E|X - X'| / 2 = 1/3 - 1/6.
        assert!((c.overall["crps"] - 1.0 / 6.0).abs() < 0.01, "{}", c.overall["crps"]);
        assert!(c.uncertainty.smearing.is_none());
    }
}
