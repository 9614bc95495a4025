//! What a binding did, for a person to check before trusting a map: which band feeds each of
//! the model's covariates and why (named explicitly, by band description, or in order), which
//! rasters are reprojected, which covariates no band provides, and warnings where the rasters
//! disagree with the model: unused bands when binding in order, a band whose description names
//! another covariate, another CRS, values far from the training statistics in the manifest.
//!
//! The core gives the facts; each door words them (the CLI names its flags, the QGIS plugin its
//! dialog's fields). The C ABI returns the report as JSON (`tpx_check_binding`).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::bundle::Manifest;
use crate::raster::{self, BindOptions, RasterError};

/// The binding of a model's covariates to the bands of some rasters.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BindingReport {
    /// The raster whose grid the map takes.
    pub reference: PathBuf,
    /// Its CRS, e.g. "EPSG:32637 (WGS 84 / UTM zone 37N)".
    pub reference_crs: String,
    /// One row per covariate that a band provides, in the model's order.
    pub rows: Vec<BoundBand>,
    /// Covariates no band provides (binding is impossible while this is not empty).
    pub missing: Vec<String>,
    /// Every band of the rasters, for saying what could be bound instead.
    pub available: Vec<AvailableBand>,
    /// Things that will not stop a map but may make it wrong.
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct BoundBand {
    pub covariate: String,
    pub file: PathBuf,
    /// 1-based.
    pub band: usize,
    pub description: String,
    /// "explicit", "description" or "order".
    pub how: &'static str,
    /// The resampling when the raster is aligned to the reference grid on the fly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aligned: Option<String>,
    /// Mean and standard deviation of a sample of the band's valid values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<(f64, f64)>,
    /// Mean and standard deviation of the training data (the manifest's normalisation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub training: Option<(f64, f64)>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AvailableBand {
    pub file: PathBuf,
    pub band: usize,
    pub description: String,
}

/// Largest side of one sampled block (the sample that estimates a band's values).
const SAMPLE_SIDE: usize = 256;
/// Blocks read per side of the grid of sampled blocks (at most this squared per band).
const SAMPLE_BLOCKS_PER_SIDE: usize = 4;
/// A band's mean this many training standard deviations away from the training mean, or its
/// spread this many times larger or smaller, is reported.
const FAR_SD: f64 = 4.0;
const SPREAD_RATIO: f64 = 10.0;

/// Binds `manifest`'s covariates to the bands of `rasters` as prediction would, and reports it.
/// Errors only where prediction could not even start (a raster that cannot be opened, a bad
/// option or binding); covariates no band provides are listed in `missing`.
/// The binding of `manifest`'s covariates to the bands of `rasters`, refused (with every
/// covariate no band provides, the bands there are and the flags that bind them) when it is
/// incomplete: what `terrapix predict`, `tpx_check_binding()` and QGIS show before a map.
pub fn check_complete(manifest: &Manifest, rasters: &[PathBuf], options: &BindOptions) -> Result<BindingReport, RasterError> {
    let report = check(manifest, rasters, options)?;
    if report.missing.is_empty() {
        return Ok(report);
    }
    let available: Vec<String> = report
        .available
        .iter()
        .take(40)
        .map(|b| format!("{}:{} '{}'", b.file.file_name().unwrap_or_default().to_string_lossy(), b.band, b.description))
        .collect();
    let how = if options.by_order {
        format!(
            "binding by order needs one band per covariate: the model reads {} covariates, the rasters have {} bands in all.",
            manifest.covariates().len(),
            report.available.len()
        )
    } else {
        format!("No band has that description. Bands available: {}.", available.join(", "))
    };
    let quoted: Vec<String> = report.missing.iter().map(|m| format!("'{m}'")).collect();
    let what = match quoted.as_slice() {
        [one] => format!("covariate {one} was not found"),
        _ => format!("{} of the model's {} covariates were not found: {}", quoted.len(), manifest.covariates().len(), quoted.join(", ")),
    };
    Err(RasterError::Unbound(format!("{what}. {how} Bind bands explicitly with --bind NAME=FILE:BAND, or by position with --by-order.")))
}

/// The binding of `manifest`'s covariates to the bands of `rasters`, complete or not.
pub fn check(manifest: &Manifest, rasters: &[PathBuf], options: &BindOptions) -> Result<BindingReport, RasterError> {
    let names = manifest.covariates();
    options.validate(&names)?;
    if rasters.is_empty() {
        return Ok(BindingReport { missing: names, ..Default::default() });
    }
    let sources = rasters.iter().map(|p| raster::open_source(p)).collect::<Result<Vec<_>, _>>()?;
    let reference_path = options.reference.clone().unwrap_or_else(|| sources[0].path.clone());
    let grid = match &options.reference {
        Some(p) => raster::open_source(p)?.grid,
        None => sources[0].grid.clone(),
    };
    let mut report = BindingReport { reference: reference_path.clone(), reference_crs: crs_label(&grid.wkt), ..Default::default() };
    report.available = sources
        .iter()
        .flat_map(|s| {
            s.descriptions.iter().enumerate().map(|(b, d)| AvailableBand { file: s.path.clone(), band: b + 1, description: d.clone() })
        })
        .collect();
    let total = report.available.len();
    let resampling = options.resampling.clone().unwrap_or_else(|| "bilinear".into());
    let training = training_statistics(manifest);
    let mut used = vec![false; sources.len()];
    for (i, name) in names.iter().enumerate() {
        if options.by_order && !options.is_explicit(name) && i >= total {
            report.missing.push(name.clone());
            continue;
        }
        let (s, b) = match raster::find_band(&sources, name, i, options) {
            Ok(found) => found,
            Err(RasterError::MissingCovariate { .. }) => {
                report.missing.push(name.clone());
                continue;
            }
            Err(e) => return Err(e),
        };
        used[s] = true;
        let src = &sources[s];
        let how = if options.is_explicit(name) {
            "explicit"
        } else if options.by_order {
            "order"
        } else {
            "description"
        };
        let band = src.ds.rasterband(b).map_err(|e| RasterError::Gdal { path: src.path.display().to_string(), reason: e.to_string() })?;
        report.rows.push(BoundBand {
            covariate: name.clone(),
            file: src.path.clone(),
            band: b,
            description: src.descriptions[b - 1].clone(),
            how,
            aligned: (!src.grid.same_as(&grid)).then(|| resampling.clone()),
            values: sample_values(&band),
            training: training.iter().find(|(c, _)| c == name).map(|(_, stats)| *stats),
        });
    }
    report.warnings = warnings(&report, &names, &sources, &used, &grid, options);
    Ok(report)
}

/// The normalisation of each covariate's first channel, where the manifest records one (a
/// mean of 0 and a standard deviation of 1 is no normalisation, hence no statistics).
fn training_statistics(manifest: &Manifest) -> Vec<(String, (f64, f64))> {
    let mut out: Vec<(String, (f64, f64))> = Vec::new();
    for c in manifest.inputs.iter().flat_map(|i| &i.channels) {
        let recorded = c.std.is_finite() && c.std > 0.0 && (c.mean != 0.0 || c.std != 1.0);
        if !c.is_generated() && recorded && !out.iter().any(|(n, _)| *n == c.covariate) {
            out.push((c.covariate.clone(), (c.mean as f64, c.std as f64)));
        }
    }
    out
}

/// Mean and standard deviation of a sample of the band: a few of its blocks spread evenly over
/// it (never a decimated read of the whole band, which would read every block and fill GDAL's
/// cache with the whole raster), nodata and non-finite values left out. Reads, never computes
/// GDAL statistics: those would be written next to the user's raster in an .aux.xml file.
fn sample_values(band: &gdal::raster::RasterBand) -> Option<(f64, f64)> {
    let (w, h) = band.size();
    let (bw, bh) = band.block_size();
    let (bw, bh) = (bw.clamp(1, SAMPLE_SIDE).min(w), bh.clamp(1, SAMPLE_SIDE).min(h));
    let nodata = band.no_data_value();
    let mut valid = Vec::new();
    let per_side = SAMPLE_BLOCKS_PER_SIDE;
    for j in 0..per_side {
        for i in 0..per_side {
            // Block-aligned windows at evenly spaced positions.
            let x = ((w - bw) * i / (per_side - 1).max(1)) / bw * bw;
            let y = ((h - bh) * j / (per_side - 1).max(1)) / bh * bh;
            let (cw, ch) = (bw.min(w - x), bh.min(h - y));
            let Ok(buffer) = band.read_as::<f64>((x as isize, y as isize), (cw, ch), (cw, ch), None) else { continue };
            valid.extend(buffer.data().iter().copied().filter(|v| v.is_finite() && Some(*v) != nodata));
        }
    }
    if valid.is_empty() {
        return None;
    }
    let n = valid.len() as f64;
    let mean = valid.iter().sum::<f64>() / n;
    let sd = (valid.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    Some((mean, sd))
}

fn warnings(
    report: &BindingReport,
    names: &[String],
    sources: &[raster::Source],
    used: &[bool],
    grid: &raster::Grid,
    options: &BindOptions,
) -> Vec<String> {
    let mut out = Vec::new();
    let file = |p: &Path| p.file_name().map_or_else(|| p.display().to_string(), |f| f.to_string_lossy().into_owned());
    if options.by_order {
        // Binding in order gives covariate i the i-th band of all the rasters.
        let total = report.available.len();
        if total > names.len() && report.missing.is_empty() {
            let unused: Vec<String> =
                report.available[names.len()..].iter().map(|a| format!("{} band {}", file(&a.file), a.band)).take(6).collect();
            out.push(format!(
                "the rasters have {total} bands for the model's {} covariates, bound in order: {} band(s) unused ({}). Binding in order is right only when the bands come in the model's order.",
                names.len(),
                total - names.len(),
                unused.join(", ")
            ));
        }
        for row in report.rows.iter().filter(|r| r.how == "order") {
            let d = row.description.trim();
            if !d.is_empty() && !d.eq_ignore_ascii_case(&row.covariate) && names.iter().any(|n| n.eq_ignore_ascii_case(d)) {
                out.push(format!(
                    "covariate '{}' is bound in order to {} band {}, whose description is '{d}', another covariate of the model",
                    row.covariate,
                    file(&row.file),
                    row.band
                ));
            }
        }
    }
    for (src, _) in sources.iter().zip(used).filter(|(_, u)| **u) {
        if !raster::same_crs(&src.grid.wkt, &grid.wkt) {
            out.push(format!(
                "{} is in {}, the map's grid ({}) in {}: it is reprojected on the fly",
                file(&src.path),
                crs_label(&src.grid.wkt),
                file(&report.reference),
                report.reference_crs
            ));
        }
    }
    for row in &report.rows {
        let (Some((mean, sd)), Some((t_mean, t_sd))) = (row.values, row.training) else { continue };
        let far = (mean - t_mean).abs() > FAR_SD * t_sd;
        let spread = sd > 0.0 && (sd / t_sd > SPREAD_RATIO || t_sd / sd > SPREAD_RATIO);
        if far || spread {
            out.push(format!(
                "covariate '{}' comes from {} band {}, whose values (mean {}, sd {}) are far from the training data's (mean {}, sd {}): is it the right band, in the right unit?",
                row.covariate,
                file(&row.file),
                row.band,
                short(mean),
                short(sd),
                short(t_mean),
                short(t_sd)
            ));
        }
    }
    out
}

/// A number with four significant digits.
fn short(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 8) as usize;
    format!("{v:.digits$}")
}

/// "EPSG:32637 (WGS 84 / UTM zone 37N)", the CRS name alone, or "no CRS".
pub fn crs_label(wkt: &str) -> String {
    if wkt.is_empty() {
        return "no CRS".into();
    }
    let Ok(srs) = gdal::spatial_ref::SpatialRef::from_wkt(wkt) else { return "an unreadable CRS".into() };
    let name = srs.name().unwrap_or_default();
    match (srs.auth_name(), srs.auth_code()) {
        (Some(auth), Ok(code)) => format!("{auth}:{code} ({name})"),
        _ => name,
    }
}

impl BindingReport {
    /// The binding as an aligned text table, one covariate per line.
    pub fn table(&self) -> String {
        let width = self.rows.iter().map(|r| r.covariate.len()).max().unwrap_or(0);
        let mut out = String::new();
        for r in &self.rows {
            let file = r.file.file_name().map_or_else(|| r.file.display().to_string(), |f| f.to_string_lossy().into_owned());
            let described = if r.description.is_empty() { String::new() } else { format!(" '{}'", r.description) };
            let how = match r.how {
                "explicit" => "bound explicitly",
                "order" => "in order",
                _ => "by description",
            };
            let aligned = r.aligned.as_ref().map(|m| format!(", aligned ({m})")).unwrap_or_default();
            out.push_str(&format!("  {:width$} <- {file} band {}{described} ({how}{aligned})\n", r.covariate, r.band));
        }
        out
    }
}
