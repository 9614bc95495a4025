//! Binding covariate bands to a manifest's names (by description, order or explicit binding)
//! and aligning rasters on other grids or CRSs to the reference grid (warped VRTs in /vsimem/).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use ::gdal::spatial_ref::{CoordTransform, SpatialRef};
use ::gdal::{Dataset, Metadata};

use super::read::{open_raster, WindowReader};
use super::{gdal_err, Grid, RasterError};
/// options JSON, `.tpx` prediction jobs and the QGIS plugin (serde names are the JSON keys).
/// How to bind and align covariates: one set of options for the CLI flags, the C ABI's
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct BindOptions {
    /// Explicit bindings `NAME=FILE:BAND` or `NAME=BAND` (the first raster), 1-based bands.
    #[serde(rename = "bind", skip_serializing_if = "Vec::is_empty")]
    pub bindings: Vec<String>,
    /// Bind the covariates to the bands in order (all rasters' bands, one after another), ignoring descriptions.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub by_order: bool,
    /// The grid of the map; default: the first covariate raster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<PathBuf>,
    /// GDAL resampling for rasters that must be aligned (near, bilinear, cubic, average...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resampling: Option<String>,
    /// Map only this part (xmin, ymin, xmax, ymax in the reference CRS) of the reference grid,
    /// snapped outwards to its pixels. Windows near the crop's edge still read their halo from
    /// the covariates beyond it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extent: Option<[f64; 4]>,
}

/// GDAL's warp resampling methods.
pub const RESAMPLING: [&str; 13] =
    ["near", "bilinear", "cubic", "cubicspline", "lanczos", "average", "rms", "mode", "max", "min", "med", "q1", "q3"];

impl BindOptions {
    /// Whether covariate `name` has an explicit `NAME=...` binding.
    pub fn is_explicit(&self, name: &str) -> bool {
        self.bindings.iter().any(|b| b.split_once('=').is_some_and(|(k, _)| k == name))
    }

    /// Checks what can be checked without opening a raster: the extent, the resampling, and
    /// that every binding names one of the model's `covariates`, in the `NAME=[FILE:]BAND` form.
    pub fn validate(&self, covariates: &[String]) -> Result<(), RasterError> {
        if let Some(e) = self.extent {
            check_extent(e)?;
        }
        if let Some(r) = &self.resampling {
            if !RESAMPLING.contains(&r.as_str()) {
                return Err(RasterError::Invalid(format!("unknown resampling '{r}' (one of: {})", RESAMPLING.join(", "))));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for b in &self.bindings {
            let Some((name, target)) = b.split_once('=') else {
                return Err(RasterError::BadBinding {
                    binding: b.clone(),
                    reason: "expected NAME=FILE:BAND or NAME=BAND (bands from 1)".into(),
                });
            };
            if !covariates.iter().any(|c| c == name) {
                let close: Vec<&String> = covariates.iter().filter(|c| c.eq_ignore_ascii_case(name) || similar(c, name)).collect();
                let hint = if close.is_empty() { String::new() } else { format!(" Did you mean '{}'?", close[0]) };
                return Err(RasterError::BadBinding {
                    binding: b.clone(),
                    reason: format!("the model has no covariate '{name}'.{hint} Its covariates: {}", covariates.join(", ")),
                });
            }
            if !seen.insert(name) {
                return Err(RasterError::BadBinding { binding: b.clone(), reason: format!("'{name}' is bound twice") });
            }
            let band = target.rsplit_once(':').map_or(target, |(_, band)| band);
            match band.trim().parse::<i64>() {
                Ok(n) if n >= 1 => {}
                Ok(n) => {
                    return Err(RasterError::BadBinding {
                        binding: b.clone(),
                        reason: format!("band {n} does not exist: bands are numbered from 1"),
                    })
                }
                Err(_) => {
                    return Err(RasterError::BadBinding {
                        binding: b.clone(),
                        reason: format!("'{band}' is not a band number (bands are numbered from 1)"),
                    })
                }
            }
        }
        Ok(())
    }
}

/// Whether two names differ by one edit (a typo), ignoring case.
fn similar(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.to_lowercase().chars().collect(), b.to_lowercase().chars().collect());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let (mut i, mut j, mut edits) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            i += 1;
            j += 1;
            continue;
        }
        edits += 1;
        match a.len().cmp(&b.len()) {
            std::cmp::Ordering::Greater => i += 1,
            std::cmp::Ordering::Less => j += 1,
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    edits + (a.len() - i) + (b.len() - j) <= 1
}

/// An extent must be finite and not inverted.
pub fn check_extent(e: [f64; 4]) -> Result<(), RasterError> {
    let [x0, y0, x1, y1] = e;
    if !e.iter().all(|v| v.is_finite()) {
        return Err(RasterError::Invalid(format!("extent {x0},{y0},{x1},{y1}: every value must be a finite number")));
    }
    if x0 >= x1 || y0 >= y1 {
        return Err(RasterError::Invalid(format!(
            "extent {x0},{y0},{x1},{y1} is empty or inverted: give XMIN,YMIN,XMAX,YMAX with XMIN < XMAX and YMIN < YMAX"
        )));
    }
    Ok(())
}

/// The covariates of one prediction job, bound to bands and aligned to the reference grid.
#[derive(Debug)]
pub struct Covariates {
    pub grid: Grid,
    pub names: Vec<String>,
    /// Where each covariate comes from, e.g. "stack.tif band 3 (aligned, bilinear)".
    pub sources: Vec<String>,
    /// Nodata value of each covariate band (NaN is always treated as missing too).
    pub nodata: Vec<Option<f64>>,
    /// Consecutive covariates read from one dataset with one RasterIO call.
    runs: Vec<Run>,
    /// Pixel offset of `grid` in the full reference grid (non-zero with an extent), and that
    /// grid's size: what the datasets of `runs` cover.
    offset: (usize, usize),
    full_size: (usize, usize),
    vsimem: Vec<String>,
}

/// Covariates `first..first + bands.len()` are bands `bands` of `dataset` (a file on the
/// reference grid, or a warped VRT of one in /vsimem/).
#[derive(Clone, Debug)]
pub(super) struct Run {
    pub(super) dataset: String,
    pub(super) bands: Vec<i32>,
    pub(super) first: usize,
}

impl Drop for Covariates {
    fn drop(&mut self) {
        for f in &self.vsimem {
            let _ = gdal::vsi::unlink_mem_file(f);
        }
    }
}

pub(crate) struct Source {
    pub(crate) path: PathBuf,
    pub(crate) ds: Dataset,
    pub(crate) grid: Grid,
    pub(crate) descriptions: Vec<String>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

impl Covariates {
    /// Opens `rasters` and binds the manifest's covariate `names` to their bands.
    pub fn bind(rasters: &[PathBuf], names: &[String], options: &BindOptions) -> Result<Covariates, RasterError> {
        if rasters.is_empty() {
            return Err(RasterError::MissingCovariate {
                name: names.first().map(|n| format!("'{n}'")).unwrap_or_default(),
                hint: "no covariate rasters were given".into(),
            });
        }
        options.validate(names)?;
        let sources = rasters.iter().map(|p| open_source(p)).collect::<Result<Vec<_>, _>>()?;
        if options.by_order {
            let total: usize = sources.iter().map(|s| s.descriptions.len()).sum();
            if let Some(last) = names.iter().rposition(|n| !options.is_explicit(n)).filter(|&i| i >= total) {
                return Err(RasterError::MissingCovariate {
                    name: format!("'{}'", names[last]),
                    hint: format!(
                        "binding by order needs one band per covariate: the model reads {} covariates, the rasters have {total} bands in all",
                        names.len()
                    ),
                });
            }
        }
        let (reference_path, grid) = match &options.reference {
            Some(p) => (p.clone(), open_source(p)?.grid),
            None => (sources[0].path.clone(), sources[0].grid.clone()),
        };
        let mut bound = Vec::with_capacity(names.len());
        let mut missing: Vec<(String, String)> = Vec::new();
        for (i, n) in names.iter().enumerate() {
            match find_band(&sources, n, i, options) {
                Ok(b) => bound.push(b),
                Err(RasterError::MissingCovariate { name, hint }) => missing.push((name, hint)),
                Err(e) => return Err(e),
            }
        }
        if let Some((_, hint)) = missing.first() {
            // Name every missing covariate, not only the first.
            let list: Vec<&str> = missing.iter().map(|(n, _)| n.as_str()).collect();
            let name =
                if list.len() == 1 { list[0].to_string() } else { format!("{} of {}: {}", list.len(), names.len(), list.join(", ")) };
            return Err(RasterError::MissingCovariate { name, hint: hint.clone() });
        }

        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let dir = format!("/vsimem/terrapix/{}-{id}", std::process::id());
        // Sources on the reference grid are read directly (a VRT in between costs several times
        // the read); the others through a warped VRT that aligns them on the fly.
        let mut vsimem = Vec::new();
        let resampling = options.resampling.clone().unwrap_or_else(|| "bilinear".into());
        // One aligned dataset name per source that is used.
        let mut aligned: Vec<Option<String>> = vec![None; sources.len()];
        for &(s, _) in &bound {
            if aligned[s].is_some() {
                continue;
            }
            let src = &sources[s];
            if src.grid.same_as(&grid) {
                aligned[s] = Some(src.path.to_string_lossy().into_owned());
                continue;
            }
            if !src.grid.is_georeferenced() || !grid.is_georeferenced() {
                return Err(RasterError::NoGeoreference { path: src.path.clone(), reference: reference_path.clone() });
            }
            check_overlap(src, &grid, &reference_path)?;
            let name = format!("{dir}/aligned{s}.vrt");
            warp_to_grid(src, &grid, &resampling, &name)?;
            vsimem.push(name.clone());
            aligned[s] = Some(name);
        }

        let mut runs: Vec<Run> = Vec::new();
        let mut nodata = Vec::new();
        let mut described = Vec::new();
        for (i, &(s, b)) in bound.iter().enumerate() {
            let src = &sources[s];
            let band = src.ds.rasterband(b).map_err(gdal_err(src.path.to_string_lossy()))?;
            nodata.push(band.no_data_value());
            let dataset = aligned[s].clone().expect("every bound source is aligned");
            let warped = dataset != src.path.to_string_lossy();
            described.push(format!(
                "{} band {b}{}",
                src.path.display(),
                if warped { format!(" (aligned, {resampling})") } else { String::new() }
            ));
            match runs.last_mut() {
                Some(run) if run.dataset == dataset => run.bands.push(b as i32),
                _ => runs.push(Run { dataset, bands: vec![b as i32], first: i }),
            }
        }
        let full_size = (grid.width, grid.height);
        let (offset, grid) = match options.extent {
            None => ((0, 0), grid),
            Some(extent) => {
                grid.crop(extent).ok_or_else(|| RasterError::Extent { extent, reference: reference_path.clone(), bounds: grid.bounds() })?
            }
        };
        Ok(Covariates { grid, names: names.to_vec(), sources: described, nodata, runs, offset, full_size, vsimem })
    }

    /// Opens a reader (one per thread: GDAL datasets are not shared across threads).
    pub fn reader(&self) -> Result<WindowReader, RasterError> {
        let mut datasets: Vec<(String, Dataset)> = Vec::new();
        let mut runs = Vec::new();
        for run in &self.runs {
            let k = match datasets.iter().position(|(name, _)| *name == run.dataset) {
                Some(k) => k,
                None => {
                    let ds = Dataset::open(&run.dataset).map_err(gdal_err(&run.dataset))?;
                    datasets.push((run.dataset.clone(), ds));
                    datasets.len() - 1
                }
            };
            runs.push((k, run.clone()));
        }
        Ok(WindowReader {
            datasets: datasets.into_iter().map(|(_, d)| d).collect(),
            runs,
            width: self.grid.width,
            height: self.grid.height,
            offset: (self.offset.0 as isize, self.offset.1 as isize),
            full_size: (self.full_size.0 as isize, self.full_size.1 as isize),
            bands: self.names.len(),
            nodata: self.nodata.clone(),
        })
    }
}

pub(crate) fn open_source(path: &Path) -> Result<Source, RasterError> {
    let open_err = |reason: String| RasterError::Open { path: path.into(), reason };
    if !path.to_string_lossy().starts_with("/vsi") {
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(RasterError::NotFound(path.into())),
            Err(e) => return Err(open_err(e.to_string())),
            Ok(m) if m.is_dir() => return Err(open_err("it is a folder, not a raster".into())),
            Ok(_) => {}
        }
    }
    let ds = open_raster(path).map_err(open_err)?;
    if ds.raster_count() == 0 {
        return Err(open_err("it has no raster bands".into()));
    }
    let grid = Grid::of(&ds);
    let g = grid.geotransform;
    if !g.iter().all(|v| v.is_finite()) || g[1] * g[5] - g[2] * g[4] == 0.0 {
        return Err(open_err(format!("its geotransform {g:?} has a zero or non-finite pixel size")));
    }
    let descriptions =
        (1..=ds.raster_count()).map(|b| ds.rasterband(b).ok().and_then(|band| band.description().ok()).unwrap_or_default()).collect();
    Ok(Source { path: path.into(), grid, ds, descriptions })
}
/// Finds the (source index, 1-based band) of covariate `name` (the `index`-th covariate).
pub(crate) fn find_band(sources: &[Source], name: &str, index: usize, options: &BindOptions) -> Result<(usize, usize), RasterError> {
    for binding in &options.bindings {
        let bad = |reason: String| RasterError::BadBinding { binding: binding.clone(), reason };
        let Some((n, target)) = binding.split_once('=') else { return Err(bad("expected NAME=FILE:BAND or NAME=BAND".into())) };
        if n != name {
            continue;
        }
        let (file, band) = match target.rsplit_once(':') {
            Some((f, b)) => (Some(f), b),
            None => (None, target),
        };
        let s = match file {
            None => 0,
            // A path as given on the command line, or a bare file name.
            Some(f) => sources
                .iter()
                .position(|s| s.path == Path::new(f) || s.path.file_name() == Some(std::ffi::OsStr::new(f)))
                .ok_or_else(|| {
                    let names: Vec<String> = sources.iter().map(|s| s.path.display().to_string()).collect();
                    bad(format!("no covariate raster named '{f}' (the rasters: {})", names.join(", ")))
                })?,
        };
        let count = sources[s].descriptions.len();
        let band: usize = band
            .trim()
            .parse()
            .ok()
            .filter(|b| (1..=count).contains(b))
            .ok_or_else(|| bad(format!("'{}' has bands 1 to {count}; '{band}' is not one of them", sources[s].path.display())))?;
        return Ok((s, band));
    }
    if options.by_order {
        let mut k = index;
        for (s, src) in sources.iter().enumerate() {
            if k < src.descriptions.len() {
                return Ok((s, k + 1));
            }
            k -= src.descriptions.len();
        }
        unreachable!("bind checks the band count before binding by order")
    }
    let matches = |exact: bool| -> Vec<(usize, usize)> {
        let mut found = Vec::new();
        for (s, src) in sources.iter().enumerate() {
            for (b, d) in src.descriptions.iter().enumerate() {
                if (exact && d == name) || (!exact && d.eq_ignore_ascii_case(name)) {
                    found.push((s, b + 1));
                }
            }
        }
        found
    };
    let mut found = matches(true);
    if found.is_empty() {
        found = matches(false);
    }
    match found.len() {
        1 => Ok(found[0]),
        0 => {
            let name = format!("'{name}'");
            let available: Vec<String> = sources
                .iter()
                .flat_map(|s| {
                    s.descriptions
                        .iter()
                        .enumerate()
                        .map(move |(b, d)| format!("{}:{} '{}'", s.path.file_name().unwrap_or_default().to_string_lossy(), b + 1, d))
                })
                .take(40)
                .collect();
            Err(RasterError::MissingCovariate {
                name,
                hint: format!(
                    "No band has that description. Bands available: {}. Bind the covariates to bands explicitly (NAME=FILE:BAND) or in order.",
                    available.join(", ")
                ),
            })
        }
        _ => {
            let show = |(s, b): (usize, usize)| format!("{} of '{}'", b, sources[s].path.display());
            Err(RasterError::Ambiguous { name: name.into(), a: show(found[0]), b: show(found[1]) })
        }
    }
}

fn check_overlap(src: &Source, grid: &Grid, reference: &Path) -> Result<(), RasterError> {
    let err = gdal_err(src.path.to_string_lossy());
    let mut from = SpatialRef::from_wkt(&src.grid.wkt).map_err(gdal_err(src.path.to_string_lossy()))?;
    let mut to = SpatialRef::from_wkt(&grid.wkt).map_err(gdal_err(reference.to_string_lossy()))?;
    for s in [&mut from, &mut to] {
        s.set_axis_mapping_strategy(gdal::spatial_ref::AxisMappingStrategy::TraditionalGisOrder);
    }
    let t = CoordTransform::new(&from, &to).map_err(err)?;
    let b = t.transform_bounds(&src.grid.bounds(), 21).map_err(gdal_err(src.path.to_string_lossy()))?;
    let r = grid.bounds();
    if b[0] >= r[2] || b[2] <= r[0] || b[1] >= r[3] || b[3] <= r[1] {
        return Err(RasterError::NoOverlap { path: src.path.clone(), reference: reference.into() });
    }
    Ok(())
}

/// Writes a warped VRT of `src` on exactly `grid` to the (vsimem) file `dest`.
fn warp_to_grid(src: &Source, grid: &Grid, resampling: &str, dest: &str) -> Result<(), RasterError> {
    let g = &grid.geotransform;
    let (x0, y1) = (g[0], g[3]);
    let (x1, y0) = (g[0] + g[1] * grid.width as f64, g[3] + g[5] * grid.height as f64);
    let args = [
        "-of",
        "VRT",
        "-t_srs",
        &grid.wkt,
        "-te",
        &x0.to_string(),
        &y0.min(y1).to_string(),
        &x1.to_string(),
        &y0.max(y1).to_string(),
        "-ts",
        &grid.width.to_string(),
        &grid.height.to_string(),
        "-r",
        resampling,
        "-ot",
        "Float32",
    ];
    super::gdal::warp(&src.ds, dest, &args).map_err(|reason| RasterError::Gdal { path: src.path.to_string_lossy().into(), reason })
}
