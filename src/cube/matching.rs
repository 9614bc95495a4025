//! CDF matching over whole cubes: the source's mapping onto the reference fitted per pixel (or
//! per zone) over the dates both have, applied to the source's whole record, written as a CF
//! NetCDF cube; the fitted knots can be stored (a GeoTIFF, two bands per knot, the method in its
//! metadata) and reapplied to another record of the source.

use std::ops::Range;
use std::path::{Path, PathBuf};

use gdal::Metadata;
use rayon::prelude::*;

use super::cdf::{fit, fit_moments, CdfOptions, Knots, Mapping, Method, Moments, Unfitted};
use super::read::CubeSource;
use super::time::{align, summarise, Date};
use super::write::{CubeWriter, Variable};
use super::{chunks, gather_series, strip_rows, transpose, CubeError};
use crate::raster::{open_raster, BandInfo, Grid, MapWriter, OutputOptions};

/// The metadata item of a stored mapping (JSON of [`StoredMapping`]).
pub const MAPPING_KEY: &str = "TERRAPIX_CDF_MAPPING";

/// How the stored knots were made: enough to reapply them and to say where they came from.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct StoredMapping {
    pub options: CdfOptions,
    pub probabilities: Vec<f64>,
    pub source: String,
    pub reference: String,
    pub overlap: (String, String, usize),
    pub unit: String,
    pub zones: Option<String>,
    pub terrapix: String,
}

/// A cube input: its path and, for stacks whose bands carry none, its dates.
#[derive(Clone, Debug, Default)]
pub struct CubeInput {
    pub path: PathBuf,
    pub dates: Option<Vec<Date>>,
}

impl CubeInput {
    pub fn open(&self) -> Result<CubeSource, CubeError> {
        CubeSource::open(&self.path, self.dates.as_deref())
    }
}

/// What a match did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct MatchReport {
    pub pixels: usize,
    /// Dates both products have, and the span they cover.
    pub overlap: usize,
    pub overlap_span: Option<(String, String)>,
    /// Dates of the other product each one lacks (a summary).
    pub source_lacks: String,
    pub reference_lacks: String,
    pub fitted: usize,
    pub too_few: usize,
    pub no_beta: usize,
    /// Source values mapped (valid source values at fitted pixels) and those clipped to the range.
    pub mapped: usize,
    pub clipped: usize,
    pub steps: usize,
    /// Seconds spent reading, fitting and applying, and writing.
    pub seconds: Phases,
}

#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Phases {
    pub read: f64,
    pub compute: f64,
    pub write: f64,
}

/// Adds the seconds `f` takes to `slot`.
fn timed<T>(slot: &mut f64, f: impl FnOnce() -> T) -> T {
    let t = std::time::Instant::now();
    let r = f();
    *slot += t.elapsed().as_secs_f64();
    r
}

/// Memory for one strip of a cube (all dates of a band of rows).
const STRIP_BUDGET: usize = 1 << 30;

/// Fits the mapping of `source` onto `reference` and writes the matched source to `output`
/// (and the knots to `mapping` when given). `zones`: an integer raster on the same grid whose
/// pixels of one value share one mapping (0 or nodata: per pixel).
pub fn cdf_match(
    source: &CubeInput,
    reference: &CubeInput,
    zones: Option<&Path>,
    output: &Path,
    mapping: Option<&Path>,
    options: &CdfOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<MatchReport, CubeError> {
    options.validate().map_err(CubeError::Mismatch)?;
    let src = source.open()?;
    let refc = reference.open()?;
    if !src.grid.same_as(&refc.grid) {
        return Err(CubeError::Mismatch(format!(
            "the source ({} x {}) and the reference ({} x {}) are not on one grid: warp the source onto the reference's grid first (gdalwarp)",
            src.grid.width, src.grid.height, refc.grid.width, refc.grid.height
        )));
    }
    let al = align(&[("the source", &src.dates), ("the reference", &refc.dates)]).map_err(CubeError::Mismatch)?;
    let mut report = MatchReport {
        pixels: src.grid.width * src.grid.height,
        overlap: al.common.len(),
        overlap_span: al.common.first().zip(al.common.last()).map(|(a, b)| (a.to_string(), b.to_string())),
        source_lacks: summarise(&al.missing[0], 3),
        reference_lacks: summarise(&al.missing[1], 3),
        steps: src.len(),
        ..Default::default()
    };
    if al.common.len() < options.min_count {
        return Err(CubeError::Mismatch(format!(
            "the source and the reference share {} dates, fewer than the {} pairs a fit needs",
            al.common.len(),
            options.min_count
        )));
    }
    let zone_ids = zones.map(|z| read_zones(z, &src.grid)).transpose()?;
    let grid = src.grid.clone();
    let (w, h) = (grid.width, grid.height);
    let rows_per = strip_rows(w, h, src.len() + 3 * al.common.len() + 2 * options.method.knots(), STRIP_BUDGET)?;
    let strips = chunks(h, rows_per);
    let k = options.method.knots();
    // Per zone: the pooled pairs of its pixels over every strip, fitted once.
    let zone_knots = match &zone_ids {
        Some(ids) => Some(fit_zones(&src, &refc, &al.indices, ids, &strips, options, &mut report)?),
        None => None,
    };
    let mut writer = CubeWriter::create(output, &grid, &src.dates, &[matched_variable(&src, &refc)], &provenance(&src, &refc, options))?;
    let mut knots_out = match mapping {
        Some(p) => Some(mapping_writer(p, &grid, options, &src, &refc, &al.common, zones, &src.unit)?),
        None => None,
    };
    let all: Vec<usize> = (0..src.len()).collect();
    let (mut sbuf, mut rbuf) = (Vec::new(), Vec::new());
    for (i, rows) in strips.iter().enumerate() {
        if !progress(i, strips.len()) {
            return Err(CubeError::Cancelled);
        }
        let n = rows.len() * w;
        let mut ph = report.seconds;
        timed(&mut ph.read, || src.read_strip(&all, rows.clone(), &mut sbuf))?;
        if zone_knots.is_none() {
            timed(&mut ph.read, || refc.read_strip(&al.indices[1], rows.clone(), &mut rbuf))?;
        }
        let t0 = std::time::Instant::now();
        let knots: Vec<Result<Knots, Unfitted>> = match (&zone_knots, &zone_ids) {
            (Some(zk), Some(ids)) => {
                (0..n).map(|p| zk.get(&zone_key(ids, rows.start * w + p)).cloned().unwrap_or(Err(Unfitted::TooFew))).collect()
            }
            _ => fit_strip(&sbuf, &al.indices[0], &rbuf, n, options),
        };
        if zone_knots.is_none() {
            for r in &knots {
                match r {
                    Ok(_) => report.fitted += 1,
                    Err(Unfitted::TooFew) => report.too_few += 1,
                    Err(Unfitted::NoBeta) => report.no_beta += 1,
                }
            }
        }
        apply_strip(&mut sbuf, n, &knots, options.range, &mut report);
        ph.compute += t0.elapsed().as_secs_f64();
        timed(&mut ph.write, || writer.write_strip(0, rows.clone(), &sbuf))?;
        if let Some(out) = knots_out.as_mut() {
            timed(&mut ph.write, || write_knots(out, rows, w, k, &knots))?;
        }
        report.seconds = ph;
    }
    if report.mapped == 0 {
        return Err(CubeError::Mismatch(format!(
            "no value of the source could be matched: of its {} pixels, {} have fewer than {} dates with both products valid \
             and {} admit no Beta fit; nothing was written",
            report.pixels, report.too_few, options.min_count, report.no_beta
        )));
    }
    // The last word before anything is renamed into place: a stop asked for now still leaves nothing.
    if !progress(strips.len(), strips.len()) {
        return Err(CubeError::Cancelled);
    }
    let mut ph = report.seconds;
    timed(&mut ph.write, || -> Result<(), CubeError> {
        if let Some(out) = knots_out {
            out.finish()?;
        }
        writer.finish()
    })?;
    report.seconds = ph;
    Ok(report)
}

/// Applies a stored mapping to `source` (on the mapping's grid), writing the matched cube.
pub fn cdf_apply(
    mapping: &Path,
    source: &CubeInput,
    output: &Path,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<MatchReport, CubeError> {
    let merr = |reason: String| CubeError::Input { path: mapping.into(), reason };
    let ds = open_raster(mapping).map_err(merr)?;
    let stored: StoredMapping = ds
        .metadata_item(MAPPING_KEY, "")
        .ok_or_else(|| merr("it is not a mapping written by terrapix cdf-match (no TERRAPIX_CDF_MAPPING metadata)".into()))
        .and_then(|j| serde_json::from_str(&j).map_err(|e| merr(format!("its mapping metadata is unreadable: {e}"))))?;
    stored.options.validate().map_err(|e| merr(format!("its stored mapping is unusable: {e}")))?;
    let k = stored.options.method.knots();
    if ds.raster_count() != 2 * k {
        return Err(merr(format!("it has {} bands where its method needs {}", ds.raster_count(), 2 * k)));
    }
    let src = source.open()?;
    let mgrid = Grid::of(&ds);
    if !src.grid.same_as(&mgrid) {
        return Err(CubeError::Mismatch(format!(
            "the source ({} x {}) is not on the mapping's grid ({} x {})",
            src.grid.width, src.grid.height, mgrid.width, mgrid.height
        )));
    }
    let (w, h) = (src.grid.width, src.grid.height);
    let rows_per = strip_rows(w, h, src.len() + 2 * k, STRIP_BUDGET)?;
    let mut report = MatchReport { pixels: w * h, steps: src.len(), ..Default::default() };
    let refname = stored.reference.clone();
    let mut variable = Variable::float(&src.name, &format!("{} CDF-matched to {}", src.name, refname), &stored.unit);
    variable.attributes.push(("comment".into(), format!("mapping {}", mapping.display())));
    let global = [
        ("title".to_string(), format!("{} CDF-matched to {}", src.name, refname)),
        ("source".to_string(), src.path.display().to_string()),
        ("history".to_string(), format!("terrapix {} cdf-match --apply {}", crate::VERSION, mapping.display())),
        ("terrapix_cdf_mapping".to_string(), serde_json::to_string(&stored).unwrap_or_default()),
    ];
    let mut writer = CubeWriter::create(output, &src.grid, &src.dates, &[variable], &global)?;
    let all: Vec<usize> = (0..src.len()).collect();
    let mut sbuf = Vec::new();
    let strips = chunks(h, rows_per);
    for (i, rows) in strips.iter().enumerate() {
        if !progress(i, strips.len()) {
            return Err(CubeError::Cancelled);
        }
        let n = rows.len() * w;
        let mut planes = vec![0f32; 2 * k * n];
        for b in 0..2 * k {
            let band = ds.rasterband(b + 1).map_err(|e| merr(e.to_string()))?;
            band.read_into_slice((0, rows.start as isize), (w, rows.len()), (w, rows.len()), &mut planes[b * n..(b + 1) * n], None)
                .map_err(|e| merr(e.to_string()))?;
        }
        let knots: Vec<Result<Knots, Unfitted>> = (0..n)
            .map(|p| {
                let source = (0..k).map(|j| planes[j * n + p] as f64).collect::<Vec<_>>();
                let reference = (0..k).map(|j| planes[(k + j) * n + p] as f64).collect::<Vec<_>>();
                if source.iter().all(|v| v.is_finite()) {
                    Ok(Knots { source, reference })
                } else {
                    Err(Unfitted::TooFew)
                }
            })
            .collect();
        report.fitted += knots.iter().filter(|k| k.is_ok()).count();
        src.read_strip(&all, rows.clone(), &mut sbuf)?;
        apply_strip(&mut sbuf, n, &knots, stored.options.range, &mut report);
        writer.write_strip(0, rows.clone(), &sbuf)?;
    }
    if report.mapped == 0 {
        return Err(CubeError::Mismatch(format!(
            "no value of the source could be mapped: none of its {} pixels has both a value and a stored mapping; nothing was written",
            report.pixels
        )));
    }
    // The last word before anything is renamed into place: a stop asked for now still leaves nothing.
    if !progress(strips.len(), strips.len()) {
        return Err(CubeError::Cancelled);
    }
    writer.finish()?;
    Ok(report)
}

/// Pixels per block of the date-by-date passes: a block's accumulators or mappings stay in
/// cache while its values are read date after date.
const BLOCK: usize = 256;

/// Dates per task of the applying pass.
const DATES_PER_TASK: usize = 32;

/// Fits every pixel of a strip: `sbuf` holds the source's dates (`[date][pixel]`, `n` pixels),
/// `rbuf` the reference's common dates, `source_dates` the source's date of each common one.
fn fit_strip(sbuf: &[f32], source_dates: &[usize], rbuf: &[f32], n: usize, options: &CdfOptions) -> Vec<Result<Knots, Unfitted>> {
    match options.method {
        // The parametric fit needs only moments, accumulated date by date over blocks of pixels:
        // no pixel's series is ever gathered.
        Method::Beta => {
            let blocks: Vec<Vec<Result<Knots, Unfitted>>> = chunks(n, BLOCK)
                .into_par_iter()
                .map(|block| {
                    let (mut ms, mut mr) = (vec![Moments::default(); block.len()], vec![Moments::default(); block.len()]);
                    for (t, &st) in source_dates.iter().enumerate() {
                        let (s, r) = (&sbuf[st * n..][block.clone()], &rbuf[t * n..][block.clone()]);
                        for j in 0..block.len() {
                            if s[j].is_finite() && r[j].is_finite() {
                                ms[j].push(s[j] as f64, options.range);
                                mr[j].push(r[j] as f64, options.range);
                            }
                        }
                    }
                    ms.iter().zip(&mr).map(|(s, r)| fit_moments(s, r, options)).collect()
                })
                .collect();
            blocks.concat()
        }
        Method::Empirical { .. } => {
            let c = source_dates.len();
            let (s, r) = (gather_series(sbuf, n, source_dates), transpose(rbuf, c, n));
            (0..n).into_par_iter().map(|p| fit(&s[p * c..(p + 1) * c], &r[p * c..(p + 1) * c], options)).collect()
        }
    }
}

/// Maps every value of a strip (`[date][pixel]`, `n` pixels) in place, NaN where a pixel has
/// no mapping, in parallel over runs of dates, block of pixels by block; counts the values
/// mapped and those clipped to the range in `report`.
fn apply_strip(values: &mut [f32], n: usize, knots: &[Result<Knots, Unfitted>], range: (f64, f64), report: &mut MatchReport) {
    let maps: Vec<Option<Mapping>> = knots.par_iter().map(|k| k.as_ref().ok().and_then(|k| Mapping::new(k, range))).collect();
    let (lo, hi) = range;
    let (mapped, clipped) = values
        .par_chunks_mut(n.max(1) * DATES_PER_TASK)
        .map(|dates| {
            let (mut mapped, mut clipped) = (0, 0);
            for block in chunks(n, BLOCK) {
                for row in dates.chunks_mut(n) {
                    for (v, map) in row[block.clone()].iter_mut().zip(&maps[block.clone()]) {
                        match map {
                            None => *v = f32::NAN,
                            Some(map) if v.is_finite() => {
                                let y = map.unclipped(*v as f64);
                                mapped += 1;
                                clipped += usize::from(!(lo..=hi).contains(&y));
                                *v = y.clamp(lo, hi) as f32;
                            }
                            Some(_) => {}
                        }
                    }
                }
            }
            (mapped, clipped)
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    report.mapped += mapped;
    report.clipped += clipped;
}

fn read_zones(path: &Path, grid: &Grid) -> Result<Vec<i64>, CubeError> {
    let err = |reason: String| CubeError::Input { path: path.into(), reason };
    let ds = open_raster(path).map_err(err)?;
    if !Grid::of(&ds).same_as(grid) {
        return Err(CubeError::Mismatch(format!("the zones '{}' are not on the source's grid", path.display())));
    }
    let band = ds.rasterband(1).map_err(|e| err(e.to_string()))?;
    let nodata = band.no_data_value();
    let mut v = vec![0f64; grid.width * grid.height];
    band.read_into_slice((0, 0), (grid.width, grid.height), (grid.width, grid.height), &mut v, None).map_err(|e| err(e.to_string()))?;
    Ok(v.into_iter().map(|z| if Some(z) == nodata || !z.is_finite() { 0 } else { z.round() as i64 }).collect())
}

/// Fits one mapping per zone (value != 0) from the pairs of all its pixels. Pixels of zone 0
/// are fitted alone (keyed by -1 - pixel index).
fn fit_zones(
    src: &CubeSource,
    refc: &CubeSource,
    indices: &[Vec<usize>],
    ids: &[i64],
    strips: &[Range<usize>],
    options: &CdfOptions,
    report: &mut MatchReport,
) -> Result<std::collections::HashMap<i64, Result<Knots, Unfitted>>, CubeError> {
    use std::collections::HashMap;
    let w = src.grid.width;
    let c = indices[0].len();
    let mut pairs: HashMap<i64, (Vec<f32>, Vec<f32>)> = HashMap::new();
    let (mut sbuf, mut rbuf) = (Vec::new(), Vec::new());
    for rows in strips {
        let n = rows.len() * w;
        src.read_strip(&indices[0], rows.clone(), &mut sbuf)?;
        refc.read_strip(&indices[1], rows.clone(), &mut rbuf)?;
        let (s, r) = (transpose(&sbuf, c, n), transpose(&rbuf, c, n));
        for p in 0..n {
            let pixel = rows.start * w + p;
            let e = pairs.entry(zone_key(ids, pixel)).or_default();
            e.0.extend_from_slice(&s[p * c..(p + 1) * c]);
            e.1.extend_from_slice(&r[p * c..(p + 1) * c]);
        }
    }
    let fitted: HashMap<i64, Result<Knots, Unfitted>> = pairs.into_par_iter().map(|(z, (s, r))| (z, fit(&s, &r, options))).collect();
    for p in 0..ids.len() {
        match fitted.get(&zone_key(ids, p)) {
            Some(Ok(_)) => report.fitted += 1,
            Some(Err(Unfitted::NoBeta)) => report.no_beta += 1,
            _ => report.too_few += 1,
        }
    }
    Ok(fitted)
}

/// The key of a pixel's mapping: its zone, or the pixel itself outside every zone (zone 0).
fn zone_key(ids: &[i64], pixel: usize) -> i64 {
    if ids[pixel] != 0 {
        ids[pixel]
    } else {
        -1 - pixel as i64
    }
}

/// The matched values' unit: the reference's, else the source's.
fn matched_unit(src: &CubeSource, refc: &CubeSource) -> String {
    if refc.unit.is_empty() { &src.unit } else { &refc.unit }.clone()
}

fn matched_variable(src: &CubeSource, refc: &CubeSource) -> Variable {
    Variable::float(&src.name, &format!("{} CDF-matched to {}", src.name, refc.name), &matched_unit(src, refc))
}

fn provenance(src: &CubeSource, refc: &CubeSource, options: &CdfOptions) -> Vec<(String, String)> {
    vec![
        ("title".into(), format!("{} CDF-matched to {}", src.name, refc.name)),
        ("source".into(), format!("source {}; reference {}", src.path.display(), refc.path.display())),
        ("history".into(), format!("terrapix {} cdf-match", crate::VERSION)),
        ("terrapix_cdf_options".into(), serde_json::to_string(options).unwrap_or_default()),
    ]
}

#[allow(clippy::too_many_arguments)]
fn mapping_writer(
    path: &Path,
    grid: &Grid,
    options: &CdfOptions,
    src: &CubeSource,
    refc: &CubeSource,
    common: &[Date],
    zones: Option<&Path>,
    unit: &str,
) -> Result<MapWriter, CubeError> {
    let p = options.method.probabilities();
    let label = |q: f64| match options.method {
        Method::Beta if q == 0.0 => "min".to_string(),
        Method::Beta if q == 1.0 => "max".to_string(),
        _ => format!("p{q:.4}"),
    };
    let bands: Vec<BandInfo> = ["source", "reference"]
        .iter()
        .flat_map(|which| p.iter().map(move |&q| BandInfo { description: format!("{which} {}", label(q)), unit: unit.to_string() }))
        .collect();
    let mut w = MapWriter::create(path, grid, &bands, f32::NAN, &OutputOptions::default())?;
    let stored = StoredMapping {
        options: *options,
        probabilities: p,
        source: src.path.display().to_string(),
        reference: refc.path.display().to_string(),
        overlap: (
            common.first().map(|d| d.to_string()).unwrap_or_default(),
            common.last().map(|d| d.to_string()).unwrap_or_default(),
            common.len(),
        ),
        unit: matched_unit(src, refc),
        zones: zones.map(|z| z.display().to_string()),
        terrapix: crate::VERSION.into(),
    };
    w.set_metadata_item(MAPPING_KEY, &serde_json::to_string(&stored).unwrap_or_default())?;
    Ok(w)
}

fn write_knots(out: &mut MapWriter, rows: &Range<usize>, w: usize, k: usize, knots: &[Result<Knots, Unfitted>]) -> Result<(), CubeError> {
    let n = rows.len() * w;
    let mut planes = vec![vec![f32::NAN; n]; 2 * k];
    for (p, kn) in knots.iter().enumerate() {
        if let Ok(kn) = kn {
            for j in 0..k {
                planes[j][p] = kn.source[j] as f32;
                planes[k + j][p] = kn.reference[j] as f32;
            }
        }
    }
    Ok(out.write(0, rows.start, w, rows.len(), &planes)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A strip of `n` pixels over `steps` dates with gaps, and a reference on every other date.
    fn strip(n: usize, steps: usize) -> (Vec<f32>, Vec<usize>, Vec<f32>) {
        let value =
            |t: usize, p: usize| 0.1 + 0.3 * (0.5 + 0.5 * ((t * 7 + p * 13) as f32 * 0.37).sin()) * (1.0 + p as f32 / n as f32) / 2.0;
        let s: Vec<f32> = (0..steps).flat_map(|t| (0..n).map(move |p| if (t + p) % 5 == 0 { f32::NAN } else { value(t, p) })).collect();
        let dates: Vec<usize> = (0..steps).step_by(2).collect();
        let r: Vec<f32> = dates
            .iter()
            .flat_map(|&t| (0..n).map(move |p| if (t * p) % 7 == 3 { f32::NAN } else { 0.8 * value(t + 1, p) + 0.05 }))
            .collect();
        (s, dates, r)
    }

    #[test]
    fn date_by_date_fits_and_applies_as_pixel_by_pixel() {
        let (n, steps) = (600, 90); // more pixels than a block
        let (s, dates, r) = strip(n, steps);
        for method in [Method::Beta, Method::Empirical { points: 21 }] {
            let options = CdfOptions { method, ..Default::default() };
            let knots = fit_strip(&s, &dates, &r, n, &options);
            let (ss, rs) = (gather_series(&s, n, &dates), transpose(&r, dates.len(), n));
            let c = dates.len();
            for p in 0..n {
                assert_eq!(knots[p], fit(&ss[p * c..(p + 1) * c], &rs[p * c..(p + 1) * c], &options), "{method:?} pixel {p}");
            }
            let mut matched = s.clone();
            let mut report = MatchReport::default();
            apply_strip(&mut matched, n, &knots, options.range, &mut report);
            let mut mapped = 0;
            for (i, (m, v)) in matched.iter().zip(&s).enumerate() {
                let map = knots[i % n].as_ref().ok().and_then(|k| Mapping::new(k, options.range));
                let want = map.map_or(f32::NAN, |m| m.apply(*v as f64) as f32);
                assert!(m.to_bits() == want.to_bits() || (m.is_nan() && want.is_nan()), "{method:?} value {i}: {m} vs {want}");
                mapped += usize::from(v.is_finite() && knots[i % n].is_ok());
            }
            assert_eq!(report.mapped, mapped);
            assert!(knots.iter().all(|k| k.is_ok()));
        }
    }
}

/// A CDF match, as `terrapix cdf-match`, `tpx_cdf_match()`, Python's `terrapix.cdf_match` and
/// QGIS's *CDF matching of a cube* give it (serde names are the C ABI's JSON keys).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CdfMatchRequest {
    /// The product to correct.
    pub source: PathBuf,
    /// The product to match (on the source's grid); not with `apply`.
    pub reference: Option<PathBuf>,
    /// The matched source (CF NetCDF).
    pub output: PathBuf,
    /// How the mapping is fitted (not with `apply`).
    pub options: CdfOptions,
    /// An integer raster on the grid: pixels of one zone share one mapping.
    pub zones: Option<PathBuf>,
    /// Also store the fitted mapping (GeoTIFF) here, to reapply with `apply`.
    pub save_mapping: Option<PathBuf>,
    /// Apply this stored mapping instead of fitting one.
    pub apply: Option<PathBuf>,
    /// Files of dates (one per band) of stacks whose bands carry none.
    pub source_dates: Option<PathBuf>,
    pub reference_dates: Option<PathBuf>,
}

/// Runs a CDF match (or applies a stored mapping): refuses outputs that name an input, then
/// fits and applies. Nothing is written on an error or a stop.
pub fn run(request: &CdfMatchRequest, progress: &mut dyn FnMut(usize, usize) -> bool) -> Result<MatchReport, CubeError> {
    let r = request;
    let out_err = |path: &Path, e: crate::output::OutputError| CubeError::Output { path: path.into(), reason: e.to_string() };
    let mut inputs: Vec<(&str, &Path)> = vec![("source", &r.source)];
    inputs.extend(r.reference.as_deref().map(|p| ("reference", p)));
    inputs.extend(r.apply.as_deref().map(|p| ("mapping", p)));
    inputs.extend(r.zones.as_deref().map(|p| ("zones", p)));
    crate::output::refuse_inputs(&r.output, false, &inputs).map_err(|e| out_err(&r.output, e))?;
    if let Some(m) = &r.save_mapping {
        crate::output::refuse_inputs(m, false, &inputs).map_err(|e| out_err(m, e))?;
        crate::output::refuse_inputs(m, false, &[("output", &r.output)]).map_err(|e| out_err(m, e))?;
    }
    let dates = |p: &Option<PathBuf>| p.as_deref().map(super::read::read_dates_file).transpose();
    let source = CubeInput { path: r.source.clone(), dates: dates(&r.source_dates)? };
    match (&r.apply, &r.reference) {
        (Some(mapping), None) if r.zones.is_none() && r.save_mapping.is_none() => cdf_apply(mapping, &source, &r.output, progress),
        (Some(_), _) => Err(CubeError::Mismatch("a stored mapping is applied alone: no reference, zones or mapping to save".into())),
        (None, Some(reference)) => {
            let reference = CubeInput { path: reference.clone(), dates: dates(&r.reference_dates)? };
            cdf_match(&source, &reference, r.zones.as_deref(), &r.output, r.save_mapping.as_deref(), &r.options, progress)
        }
        (None, None) => Err(CubeError::Mismatch("give the reference to match, or a stored mapping to apply".into())),
    }
}
