//! CDF matching of one pixel's (or zone's) source series onto a reference: fitting the mapping
//! from paired values over the overlap, and applying it to any source value.
//!
//! A mapping is a list of knots (source value -> reference value) at the same probabilities of
//! both distributions, applied by linear interpolation between knots and linear extrapolation
//! beyond the end ones (the slope of the end segment), then clipped to the physical range.
//! - Parametric (the CCI-onto-SMAP soil-moisture workflow): a Beta distribution fitted to each product by the method of moments
//!   on the physical range, knots at its 1, 5, 10, 20 .. 90, 95 and 99 % quantiles, plus the
//!   observed minimum and maximum as end knots.
//! - Empirical: the type-7 sample quantiles of each product at `points` evenly spaced
//!   probabilities from 0 (the minimum) to 1 (the maximum).
//!
//! Ties: where several source knots are equal (a product stuck at one value), they become one
//! knot mapping to the mean of their reference knots. Knots of each product are sorted, so the
//! mapping never decreases.

use statrs::distribution::{Beta, ContinuousCDF};

use crate::metrics::quantile_sorted;

/// The seed's fixed probabilities of the parametric fit.
pub const BETA_PROBABILITIES: [f64; 13] = [0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99];

/// Most quantile points of an empirical mapping (each pixel stores two values per point).
pub const MAX_POINTS: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Method {
    /// Beta by the method of moments, the seed's quantile knots plus min and max.
    Beta,
    /// Sample quantiles at `points` probabilities from 0 to 1.
    Empirical { points: usize },
}

impl Method {
    /// The number of knots of a mapping.
    pub fn knots(&self) -> usize {
        match self {
            Method::Beta => BETA_PROBABILITIES.len() + 2,
            Method::Empirical { points } => *points,
        }
    }

    /// The probability of each knot (min and max as 0 and 1).
    pub fn probabilities(&self) -> Vec<f64> {
        match self {
            Method::Beta => std::iter::once(0.0).chain(BETA_PROBABILITIES).chain(std::iter::once(1.0)).collect(),
            Method::Empirical { points } => (0..*points).map(|k| k as f64 / (*points - 1).max(1) as f64).collect(),
        }
    }
}

/// How a fit is made and a mapped value bounded.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CdfOptions {
    pub method: Method,
    /// Fewest valid pairs (both products valid on a date) to fit a pixel or zone.
    pub min_count: usize,
    /// The physical range: the Beta's support, and where mapped values are clipped.
    pub range: (f64, f64),
}

impl Default for CdfOptions {
    fn default() -> Self {
        CdfOptions { method: Method::Beta, min_count: 3, range: (0.0, 1.0) }
    }
}

impl CdfOptions {
    /// Refuses options that cannot make a mapping (before anything is read or allocated).
    pub fn validate(&self) -> Result<(), String> {
        if let Method::Empirical { points } = self.method {
            if !(2..=MAX_POINTS).contains(&points) {
                return Err(format!("the empirical mapping takes 2 to {MAX_POINTS} quantile points, not {points}"));
            }
        }
        if self.min_count < 3 {
            return Err(format!("a fit needs at least 3 valid pairs (min-count {} is too few)", self.min_count));
        }
        let (lo, hi) = self.range;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(format!("the physical range {lo} .. {hi} is not an interval"));
        }
        Ok(())
    }
}

/// Why a pixel has no mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unfitted {
    /// Fewer valid pairs than the minimum.
    TooFew,
    /// A product's values do not admit a Beta (no spread, or spread beyond a Beta's on the range).
    NoBeta,
}

/// Knots of one mapping: `source[k] -> reference[k]`, both ascending.
#[derive(Clone, Debug, PartialEq)]
pub struct Knots {
    pub source: Vec<f64>,
    pub reference: Vec<f64>,
}

impl Knots {
    /// Each product's knots in ascending order, so the mapping never decreases.
    fn sorted(mut source: Vec<f64>, mut reference: Vec<f64>) -> Knots {
        source.sort_by(f64::total_cmp);
        reference.sort_by(f64::total_cmp);
        Knots { source, reference }
    }
}

/// Fits the mapping from the valid pairs (`source[i]`, `reference[i]`); NaN marks a missing
/// value.
pub fn fit(source: &[f32], reference: &[f32], options: &CdfOptions) -> Result<Knots, Unfitted> {
    let pairs = source.iter().zip(reference).filter(|(a, b)| a.is_finite() && b.is_finite());
    match options.method {
        Method::Beta => {
            let (mut ms, mut mr) = (Moments::default(), Moments::default());
            for (a, b) in pairs {
                ms.push(*a as f64, options.range);
                mr.push(*b as f64, options.range);
            }
            fit_moments(&ms, &mr, options)
        }
        Method::Empirical { .. } => {
            let (mut s, mut r): (Vec<f64>, Vec<f64>) = pairs.map(|(a, b)| (*a as f64, *b as f64)).unzip();
            if s.len() < options.min_count {
                return Err(Unfitted::TooFew);
            }
            s.sort_unstable_by(f64::total_cmp);
            r.sort_unstable_by(f64::total_cmp);
            let p = options.method.probabilities();
            Ok(Knots::sorted(p.iter().map(|&q| quantile_sorted(&s, q)).collect(), p.iter().map(|&q| quantile_sorted(&r, q)).collect()))
        }
    }
}

/// What the parametric fit needs of one product's values: their count, the sums of the values
/// and of their squares on the unit interval of the range (clamped to it), and the raw minimum
/// and maximum. Accumulated value by value, so a cube can be fitted date by date without
/// gathering each pixel's series. (Plain sums in f64 are exact enough: the variance loses a few
/// of f64's sixteen digits to cancellation, far below the f32 values' own precision.)
#[derive(Clone, Copy, Debug)]
pub struct Moments {
    pub count: usize,
    sum: f64,
    squares: f64,
    min: f64,
    max: f64,
}

impl Default for Moments {
    fn default() -> Self {
        Moments { count: 0, sum: 0.0, squares: 0.0, min: f64::INFINITY, max: f64::NEG_INFINITY }
    }
}

impl Moments {
    /// Adds one valid value (in the product's units).
    #[inline]
    pub fn push(&mut self, v: f64, (lo, hi): (f64, f64)) {
        let u = ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
        self.count += 1;
        self.sum += u;
        self.squares += u * u;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// The Beta (method of moments on the range) quantile knots, with the observed minimum and
    /// maximum at the ends, in the values' units.
    fn beta_knots(&self, (lo, hi): (f64, f64)) -> Result<Vec<f64>, Unfitted> {
        let n = self.count as f64;
        let m = self.sum / n;
        let var = (self.squares / n - m * m).max(0.0);
        if !(m > 0.0 && m < 1.0 && var > 0.0 && var < m * (1.0 - m)) {
            return Err(Unfitted::NoBeta);
        }
        let common = m * (1.0 - m) / var - 1.0;
        let beta = Beta::new(m * common, (1.0 - m) * common).map_err(|_| Unfitted::NoBeta)?;
        let mut knots = Vec::with_capacity(BETA_PROBABILITIES.len() + 2);
        knots.push(self.min);
        knots.extend(BETA_PROBABILITIES.iter().map(|&p| lo + (hi - lo) * beta.inverse_cdf(p)));
        knots.push(self.max);
        Ok(knots)
    }
}

/// The parametric mapping from the moments of the valid pairs' source and reference values.
pub fn fit_moments(source: &Moments, reference: &Moments, options: &CdfOptions) -> Result<Knots, Unfitted> {
    if source.count < options.min_count {
        return Err(Unfitted::TooFew);
    }
    Ok(Knots::sorted(source.beta_knots(options.range)?, reference.beta_knots(options.range)?))
}

/// A mapping ready to apply: distinct ascending source knots (ties merged).
#[derive(Clone, Debug)]
pub struct Mapping {
    xs: Vec<f64>,
    ys: Vec<f64>,
    range: (f64, f64),
}

impl Mapping {
    /// From knots (NaN knots: no mapping); ties of source knots merged to the mean reference.
    pub fn new(knots: &Knots, range: (f64, f64)) -> Option<Mapping> {
        if knots.source.iter().chain(&knots.reference).any(|v| !v.is_finite()) || knots.source.is_empty() {
            return None;
        }
        let (mut xs, mut ys) = (Vec::with_capacity(knots.source.len()), Vec::with_capacity(knots.source.len()));
        let mut i = 0;
        while i < knots.source.len() {
            let mut j = i + 1;
            while j < knots.source.len() && knots.source[j] == knots.source[i] {
                j += 1;
            }
            xs.push(knots.source[i]);
            ys.push(knots.reference[i..j].iter().sum::<f64>() / (j - i) as f64);
            i = j;
        }
        Some(Mapping { xs, ys, range })
    }

    /// The mapped value of `x`: interpolated, extrapolated beyond the end knots along the end
    /// segments, clipped to the physical range. NaN stays NaN.
    pub fn apply(&self, x: f64) -> f64 {
        self.unclipped(x).clamp(self.range.0, self.range.1)
    }

    /// The mapped value before clipping.
    pub fn unclipped(&self, x: f64) -> f64 {
        if !x.is_finite() {
            return f64::NAN;
        }
        let (xs, ys) = (&self.xs, &self.ys);
        let n = xs.len();
        if n == 1 {
            ys[0]
        } else {
            // The segment [k, k + 1] holding x (the first or last one beyond the ends).
            // A vectorised count beats a binary search's mispredicted branches on a few dozen knots.
            let below = if n <= 64 { xs.iter().filter(|&&v| v <= x).count() } else { xs.partition_point(|&v| v <= x) };
            let k = below.saturating_sub(1).min(n - 2);
            let t = (x - xs[k]) / (xs[k + 1] - xs[k]);
            ys[k] + t * (ys[k + 1] - ys[k])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(method: Method) -> CdfOptions {
        CdfOptions { method, ..Default::default() }
    }

    #[test]
    fn identical_products_map_onto_themselves() {
        let v: Vec<f32> = (0..200).map(|i| 0.1 + 0.3 * ((i as f32 * 0.37).sin() * 0.5 + 0.5)).collect();
        for m in [Method::Beta, Method::Empirical { points: 21 }] {
            let map = Mapping::new(&fit(&v, &v, &opts(m)).unwrap(), (0.0, 1.0)).unwrap();
            for x in [0.12, 0.2, 0.35] {
                assert!((map.apply(x) - x).abs() < 1e-9, "{m:?} {x} -> {}", map.apply(x));
            }
        }
    }

    #[test]
    fn a_linear_bias_is_undone() {
        // source = 0.5 * reference + 0.2: the empirical mapping inverts it exactly.
        let r: Vec<f32> = (0..500).map(|i| 0.05 + 0.4 * (i as f32 / 499.0)).collect();
        let s: Vec<f32> = r.iter().map(|v| 0.5 * v + 0.2).collect();
        let map = Mapping::new(&fit(&s, &r, &opts(Method::Empirical { points: 51 })).unwrap(), (0.0, 1.0)).unwrap();
        for v in [0.1f64, 0.3, 0.44] {
            assert!((map.apply(0.5 * v + 0.2) - v).abs() < 1e-5);
        }
        // Beyond the fitted range: extrapolated along the end segment, then clipped.
        assert!((map.apply(0.5 * 0.5 + 0.2) - 0.5).abs() < 1e-5);
        assert_eq!(map.apply(0.9), 1.0);
        assert_eq!(map.apply(-0.5), 0.0);
        assert!(map.apply(f64::NAN).is_nan());
    }

    #[test]
    fn beta_knots_follow_the_moments() {
        // A Beta(2, 5) sample: the fitted quantiles sit near the true ones.
        let beta = Beta::new(2.0, 5.0).unwrap();
        let v: Vec<f32> = (1..2000).map(|i| beta.inverse_cdf(i as f64 / 2000.0) as f32).collect();
        let k = fit(&v, &v, &opts(Method::Beta)).unwrap();
        assert_eq!(k.source.len(), 15);
        for (p, q) in BETA_PROBABILITIES.iter().zip(&k.source[1..14]) {
            assert!((q - beta.inverse_cdf(*p)).abs() < 0.01, "p {p}: {q}");
        }
    }

    #[test]
    fn too_few_pairs_ties_and_no_spread() {
        let o = opts(Method::Beta);
        assert_eq!(fit(&[0.1, f32::NAN, 0.3], &[0.2, 0.2, f32::NAN], &o), Err(Unfitted::TooFew));
        assert_eq!(fit(&[0.2; 10], &[0.1, 0.2, 0.3, 0.1, 0.2, 0.3, 0.1, 0.2, 0.3, 0.2], &o), Err(Unfitted::NoBeta));
        // A source stuck at one value: one knot, mapping everything to the reference's mean knot.
        let k = Knots { source: vec![0.2, 0.2, 0.2], reference: vec![0.1, 0.2, 0.3] };
        let m = Mapping::new(&k, (0.0, 1.0)).unwrap();
        assert!((m.apply(0.7) - 0.2).abs() < 1e-12);
        assert!(Mapping::new(&Knots { source: vec![f64::NAN], reference: vec![0.1] }, (0.0, 1.0)).is_none());
    }

    #[test]
    fn options_are_checked() {
        assert!(CdfOptions { min_count: 2, ..Default::default() }.validate().is_err());
        assert!(CdfOptions { range: (1.0, 0.0), ..Default::default() }.validate().is_err());
        assert!(opts(Method::Empirical { points: 1 }).validate().is_err());
    }
}
