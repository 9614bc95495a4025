//! Regression metrics of observed against predicted values.

use std::collections::BTreeMap;

/// Named metrics (`rmse`, `r2`, `picp_90`...), serialised as a plain JSON object. A name that
/// is not there reads as NaN: no lookup can panic. serde_json writes a value that is not a
/// number (a Spearman correlation of constant predictions) as `null`, which reads back as NaN.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
#[serde(transparent)]
pub struct Metrics(pub BTreeMap<String, f64>);

impl<'de> serde::Deserialize<'de> for Metrics {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Metrics, D::Error> {
        let m: BTreeMap<String, Option<f64>> = serde::Deserialize::deserialize(d)?;
        Ok(m.into_iter().map(|(k, v)| (k, v.unwrap_or(f64::NAN))).collect())
    }
}

impl Metrics {
    /// The metric `name`, NaN when there is none.
    pub fn get(&self, name: &str) -> f64 {
        self.0.get(name).copied().unwrap_or(f64::NAN)
    }
}

impl std::ops::Index<&str> for Metrics {
    type Output = f64;
    fn index(&self, name: &str) -> &f64 {
        const MISSING: f64 = f64::NAN;
        self.0.get(name).unwrap_or(&MISSING)
    }
}

impl std::ops::Deref for Metrics {
    type Target = BTreeMap<String, f64>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Metrics {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl From<BTreeMap<String, f64>> for Metrics {
    fn from(m: BTreeMap<String, f64>) -> Metrics {
        Metrics(m)
    }
}

impl IntoIterator for Metrics {
    type Item = (String, f64);
    type IntoIter = std::collections::btree_map::IntoIter<String, f64>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl FromIterator<(String, f64)> for Metrics {
    fn from_iter<I: IntoIterator<Item = (String, f64)>>(iter: I) -> Metrics {
        Metrics(iter.into_iter().collect())
    }
}

/// RMSE, MAE, bias (mean of predicted - observed), R², Spearman's rho, Lin's concordance
/// correlation coefficient, RPD (sd / RMSE) and RPIQ (interquartile range / RMSE).
pub fn regression(obs: &[f32], pred: &[f32]) -> Metrics {
    let n = obs.len().min(pred.len()) as f64;
    let (o, p): (Vec<f64>, Vec<f64>) = obs.iter().zip(pred).map(|(a, b)| (*a as f64, *b as f64)).unzip();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / n;
    let (mo, mp) = (mean(&o), mean(&p));
    let var = |v: &[f64], m: f64| v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n;
    let (vo, vp) = (var(&o, mo), var(&p, mp));
    let cov = o.iter().zip(&p).map(|(a, b)| (a - mo) * (b - mp)).sum::<f64>() / n;
    let sse: f64 = o.iter().zip(&p).map(|(a, b)| (b - a).powi(2)).sum();
    let rmse = (sse / n).sqrt();
    let mut m = BTreeMap::new();
    m.insert("n".into(), n);
    m.insert("rmse".into(), rmse);
    m.insert("mae".into(), o.iter().zip(&p).map(|(a, b)| (b - a).abs()).sum::<f64>() / n);
    m.insert("bias".into(), mp - mo);
    m.insert("r2".into(), 1.0 - sse / (vo * n));
    m.insert("spearman".into(), pearson(&ranks(&o), &ranks(&p)));
    m.insert("ccc".into(), 2.0 * cov / (vo + vp + (mo - mp).powi(2)));
    m.insert("rpd".into(), vo.sqrt() / rmse);
    m.insert("rpiq".into(), (quantile(&o, 0.75) - quantile(&o, 0.25)) / rmse);
    Metrics(m)
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let (va, vb): (f64, f64) = (a.iter().map(|x| (x - ma).powi(2)).sum(), b.iter().map(|y| (y - mb).powi(2)).sum());
    cov / (va * vb).sqrt()
}

/// Ranks from 1, ties sharing their average rank.
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            r[idx[k]] = avg;
        }
        i = j + 1;
    }
    r
}

/// Linear-interpolation quantile (numpy's default).
fn quantile(v: &[f64], q: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    quantile_sorted(&s, q)
}

/// Linear-interpolation quantile (type 7: numpy's and R's default) of ascending values; NaN
/// when there are none.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// The interval score of `[lo, hi]` for observation `y` at miscoverage `alpha` (Gneiting &
/// Raftery 2007): the width plus 2 / alpha times the distance by which y falls outside.
pub fn interval_score(y: f64, lo: f64, hi: f64, alpha: f64) -> f64 {
    (hi - lo) + 2.0 / alpha * ((lo - y).max(0.0) + (y - hi).max(0.0))
}

/// The pinball (quantile) loss of predicting `value` as the `tau` quantile of observation `y`.
pub fn pinball(y: f64, value: f64, tau: f64) -> f64 {
    if y < value {
        (1.0 - tau) * (value - y)
    } else {
        tau * (y - value)
    }
}

/// The soil-moisture community's scores of `estimate` against `truth` over the values both
/// have: RMSE, bias (estimate minus truth), unbiased RMSE and Pearson correlation, and the count.
#[derive(Clone, Copy, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Scores {
    pub rmse: f64,
    pub bias: f64,
    pub ubrmse: f64,
    pub r: f64,
    pub n: usize,
}

pub fn scores(estimate: &[f32], truth: &[f32]) -> Scores {
    let mut sums = ScoreSums::default();
    sums.add(estimate, truth);
    sums.scores()
}

/// The sums [`Scores`] need, gathered chunk by chunk (a cube strip by strip).
#[derive(Clone, Copy, Debug, Default)]
pub struct ScoreSums {
    n: usize,
    e: f64,
    t: f64,
    ee: f64,
    tt: f64,
    et: f64,
}

impl ScoreSums {
    /// Adds the pairs where both values are finite.
    pub fn add(&mut self, estimate: &[f32], truth: &[f32]) {
        for (&e, &t) in estimate.iter().zip(truth) {
            if e.is_finite() && t.is_finite() {
                let (e, t) = (e as f64, t as f64);
                self.n += 1;
                (self.e, self.t) = (self.e + e, self.t + t);
                (self.ee, self.tt, self.et) = (self.ee + e * e, self.tt + t * t, self.et + e * t);
            }
        }
    }

    pub fn scores(&self) -> Scores {
        if self.n == 0 {
            return Scores::default();
        }
        let n = self.n as f64;
        let (me, mt) = (self.e / n, self.t / n);
        let mse = ((self.ee - 2.0 * self.et + self.tt) / n).max(0.0);
        let (rmse, bias) = (mse.sqrt(), me - mt);
        let (sxy, sxx, syy) = (self.et / n - me * mt, (self.ee / n - me * me).max(0.0), (self.tt / n - mt * mt).max(0.0));
        Scores { rmse, bias, ubrmse: (mse - bias * bias).max(0.0).sqrt(), r: sxy / (sxx * syy).sqrt(), n: self.n }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let obs = [1.0, 2.0, 3.0, 4.0, 5.0];
        let perfect = regression(&obs, &obs);
        assert!((perfect["r2"] - 1.0).abs() < 1e-12 && perfect["rmse"] == 0.0 && (perfect["ccc"] - 1.0).abs() < 1e-12);
        let shifted = regression(&obs, &[2.0, 3.0, 4.0, 5.0, 6.0]);
        assert!((shifted["bias"] - 1.0).abs() < 1e-12 && (shifted["rmse"] - 1.0).abs() < 1e-12);
        assert!((shifted["spearman"] - 1.0).abs() < 1e-12, "ranks unchanged by a shift");
        // R² = 1 - SSE / SST = 1 - 5 / 10; CCC = 2 cov / (vo + vp + 1) = 4 / 5.
        assert!((shifted["r2"] - 0.5).abs() < 1e-12 && (shifted["ccc"] - 0.8).abs() < 1e-12);
        assert!((shifted["rpd"] - 2f64.sqrt()).abs() < 1e-12 && (shifted["rpiq"] - 2.0).abs() < 1e-12);
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
    }
}
