//! GDAL I/O: binding covariate bands to a manifest's names, aligning rasters to one reference
//! grid, reading windows with their halo, and creating the output map.
//!
//! The covariates are presented to the rest of terrapix as one band-sequential Float32 buffer per
//! window, one plane per covariate in manifest order. Sources on the reference grid are read
//! directly; sources on another grid or CRS through a warped VRT (in `/vsimem/`), so alignment
//! happens on the fly inside GDAL.

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use gdal::spatial_ref::{CoordTransform, SpatialRef};
use gdal::{Dataset, Metadata};

use crate::bundle::EdgeMode;

#[derive(Debug, thiserror::Error)]
pub enum RasterError {
    #[error("covariate raster '{0}' does not exist")]
    NotFound(PathBuf),
    #[error("cannot open covariate raster '{path}': {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("covariate {name} was not found. {hint}")]
    MissingCovariate { name: String, hint: String },
    #[error("covariate '{name}' is ambiguous: it is band {a} and band {b}; bind it explicitly ({name}=FILE:BAND)")]
    Ambiguous { name: String, a: String, b: String },
    #[error("bad band binding '{binding}': {reason}")]
    BadBinding { binding: String, reason: String },
    #[error("{0}")]
    Invalid(String),
    #[error("the extent {extent:?} does not overlap the grid of '{reference}' (bounds {bounds:?})")]
    Extent { extent: [f64; 4], reference: PathBuf, bounds: [f64; 4] },
    #[error("'{path}' does not overlap the reference grid of '{reference}'")]
    NoOverlap { path: PathBuf, reference: PathBuf },
    #[error("'{path}' has no georeferencing (geotransform and CRS); cannot align it to '{reference}'")]
    NoGeoreference { path: PathBuf, reference: PathBuf },
    #[error("GDAL error on '{path}': {reason}")]
    Gdal { path: String, reason: String },
    #[error("cannot write output '{path}': {reason}")]
    Output { path: PathBuf, reason: String },
}

fn gdal_err(path: impl Into<String>) -> impl FnOnce(gdal::errors::GdalError) -> RasterError {
    let path = path.into();
    move |e| RasterError::Gdal { path, reason: e.to_string() }
}

/// A raster grid: size in pixels, affine geotransform and CRS (WKT).
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    pub width: usize,
    pub height: usize,
    pub geotransform: [f64; 6],
    pub wkt: String,
}

impl Grid {
    pub(crate) fn of(ds: &Dataset) -> Grid {
        let (width, height) = ds.raster_size();
        Grid { width, height, geotransform: ds.geo_transform().unwrap_or([0.0, 1.0, 0.0, 0.0, 0.0, 1.0]), wkt: ds.projection() }
    }

    fn is_georeferenced(&self) -> bool {
        self.geotransform != [0.0, 1.0, 0.0, 0.0, 0.0, 1.0] && !self.wkt.is_empty()
    }

    /// The map coordinate of the centre of pixel (col, row).
    pub fn pixel_centre(&self, col: f64, row: f64) -> (f64, f64) {
        let g = &self.geotransform;
        let (c, r) = (col + 0.5, row + 0.5);
        (g[0] + c * g[1] + r * g[2], g[3] + c * g[4] + r * g[5])
    }

    /// This grid coarsened by `cell` pixels per output pixel (sizes rounded up).
    pub fn coarsened(&self, cell: usize) -> Grid {
        let mut g = self.clone();
        g.width = self.width.div_ceil(cell);
        g.height = self.height.div_ceil(cell);
        for i in [1, 2, 4, 5] {
            g.geotransform[i] *= cell as f64;
        }
        g
    }

    /// Map coordinates to (fractional) pixel coordinates, or None when the geotransform cannot
    /// be inverted.
    pub fn to_pixel(&self) -> Option<impl Fn(f64, f64) -> (f64, f64)> {
        let mut inverse = [0f64; 6];
        let mut gt = self.geotransform;
        // SAFETY: two 6-element arrays, as GDALInvGeoTransform expects.
        if unsafe { gdal_sys::GDALInvGeoTransform(gt.as_mut_ptr(), inverse.as_mut_ptr()) } == 0 {
            return None;
        }
        let g = inverse;
        Some(move |x: f64, y: f64| (g[0] + x * g[1] + y * g[2], g[3] + x * g[4] + y * g[5]))
    }

    /// The part of this grid covering `extent` (xmin, ymin, xmax, ymax in its CRS), snapped
    /// outwards to whole pixels: its pixel offset in this grid and the cropped grid.
    pub fn crop(&self, extent: [f64; 4]) -> Option<((usize, usize), Grid)> {
        let to_pixel = self.to_pixel()?;
        let [x0, y0, x1, y1] = extent;
        let (mut c0, mut r0, mut c1, mut r1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for (x, y) in [(x0, y0), (x0, y1), (x1, y0), (x1, y1)] {
            let (c, r) = to_pixel(x, y);
            (c0, r0, c1, r1) = (c0.min(c), r0.min(r), c1.max(c), r1.max(r));
        }
        // A small tolerance so that an extent on pixel edges does not take one more pixel.
        let eps = 1e-6;
        let c0 = (c0 + eps).floor().max(0.0) as usize;
        let r0 = (r0 + eps).floor().max(0.0) as usize;
        let c1 = ((c1 - eps).ceil().max(0.0) as usize).min(self.width);
        let r1 = ((r1 - eps).ceil().max(0.0) as usize).min(self.height);
        if c1 <= c0 || r1 <= r0 {
            return None;
        }
        let (ox, oy) = self.pixel_centre(c0 as f64 - 0.5, r0 as f64 - 0.5);
        let g = &self.geotransform;
        let grid = Grid { width: c1 - c0, height: r1 - r0, geotransform: [ox, g[1], g[2], oy, g[4], g[5]], wkt: self.wkt.clone() };
        Some(((c0, r0), grid))
    }

    fn bounds(&self) -> [f64; 4] {
        let (x0, y0) = self.pixel_centre(-0.5, -0.5);
        let (x1, y1) = self.pixel_centre(self.width as f64 - 0.5, self.height as f64 - 0.5);
        [x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1)]
    }

    pub fn same_as(&self, other: &Grid) -> bool {
        let tol = self.geotransform[1].abs().max(self.geotransform[5].abs()) * 1e-6;
        self.width == other.width
            && self.height == other.height
            && self.geotransform.iter().zip(&other.geotransform).all(|(a, b)| (a - b).abs() <= tol)
            && same_crs(&self.wkt, &other.wkt)
    }
}

pub(crate) fn same_crs(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (SpatialRef::from_wkt(a), SpatialRef::from_wkt(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// How to bind and align covariates: one set of options for the CLI flags, the C ABI's
/// options JSON, `.tpx` prediction jobs and the QGIS plugin (serde names are the JSON keys).
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
struct Run {
    dataset: String,
    bands: Vec<i32>,
    first: usize,
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

/// Opens a raster read-only, with GDAL's own reason when it cannot (not GDAL's bare "returned
/// a NULL pointer").
pub fn open_raster(path: &Path) -> Result<Dataset, String> {
    let capture = CplCapture::new();
    let options = gdal::DatasetOptions { open_flags: gdal::GdalOpenFlags::GDAL_OF_RASTER, ..Default::default() };
    Dataset::open_ex(path, options).map_err(|e| match capture.take(false) {
        Some(reason) => reason,
        None if matches!(e, gdal::errors::GdalError::NullPointer { .. }) => "not a raster format GDAL can read".into(),
        None => e.to_string(),
    })
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
    let cargs: Vec<CString> = args.iter().map(|a| CString::new(*a).expect("no NUL in warp arguments")).collect();
    let mut argv: Vec<*mut libc::c_char> = cargs.iter().map(|c| c.as_ptr() as *mut libc::c_char).collect();
    argv.push(std::ptr::null_mut());
    let dest_c = CString::new(dest).expect("no NUL in vsimem name");
    // SAFETY: argv is a NULL-terminated array of valid C strings that outlive the calls; the
    // source handle is valid for the duration; the returned dataset is closed here.
    unsafe {
        let opts = gdal_sys::GDALWarpAppOptionsNew(argv.as_mut_ptr(), std::ptr::null_mut());
        if opts.is_null() {
            return Err(RasterError::Gdal { path: src.path.to_string_lossy().into(), reason: last_cpl_error("invalid warp options") });
        }
        let mut src_h = src.ds.c_dataset();
        let mut usage_error = 0;
        let out = gdal_sys::GDALWarp(dest_c.as_ptr(), std::ptr::null_mut(), 1, &mut src_h, opts, &mut usage_error);
        gdal_sys::GDALWarpAppOptionsFree(opts);
        if out.is_null() {
            return Err(RasterError::Gdal { path: src.path.to_string_lossy().into(), reason: last_cpl_error("warping failed") });
        }
        gdal_sys::GDALClose(out);
    }
    Ok(())
}

/// Collects the GDAL errors (and warnings) raised on this thread while it lives, instead of
/// letting them reach the host's handler: GDAL reports many write failures (a full disk, an
/// invalid creation option) only through its error handler, not through return codes.
pub struct CplCapture {
    messages: Box<std::cell::RefCell<Vec<(gdal_sys::CPLErr::Type, String)>>>,
    /// Not Send: the handler was pushed on this thread's stack and must be popped there.
    _thread: std::marker::PhantomData<*const ()>,
}

unsafe extern "C" fn collect_cpl(class: gdal_sys::CPLErr::Type, _no: gdal_sys::CPLErrorNum, msg: *const libc::c_char) {
    // SAFETY: the user data is the RefCell of the capture that pushed this handler, which pops
    // it before it is freed; GDAL passes a NUL-terminated message.
    let cell = unsafe { &*(gdal_sys::CPLGetErrorHandlerUserData() as *const std::cell::RefCell<Vec<(gdal_sys::CPLErr::Type, String)>>) };
    let text = if msg.is_null() { String::new() } else { unsafe { CStr::from_ptr(msg) }.to_string_lossy().into_owned() };
    if let Ok(mut v) = cell.try_borrow_mut() {
        v.push((class, text));
    }
}

impl CplCapture {
    pub fn new() -> CplCapture {
        let messages = Box::new(std::cell::RefCell::new(Vec::new()));
        // SAFETY: the handler and its user data stay valid until Drop pops them (same thread).
        unsafe { gdal_sys::CPLPushErrorHandlerEx(Some(collect_cpl), &*messages as *const _ as *mut libc::c_void) };
        CplCapture { messages, _thread: std::marker::PhantomData }
    }

    /// Failures (and, with `warnings`, warnings) raised so far, joined; None when there were none.
    pub fn take(&self, warnings: bool) -> Option<String> {
        let mut v = self.messages.borrow_mut();
        let wanted: Vec<String> = v
            .iter()
            .filter(|(c, _)| *c >= gdal_sys::CPLErr::CE_Failure || (warnings && *c == gdal_sys::CPLErr::CE_Warning))
            .map(|(_, m)| m.clone())
            .filter(|m| !m.is_empty())
            .collect();
        v.clear();
        (!wanted.is_empty()).then(|| wanted.join("; "))
    }
}

impl Default for CplCapture {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for CplCapture {
    fn drop(&mut self) {
        // SAFETY: pops the handler this capture pushed on this thread.
        unsafe { gdal_sys::CPLPopErrorHandler() };
    }
}

pub(crate) fn last_cpl_error(fallback: &str) -> String {
    // SAFETY: CPLGetLastErrorMsg returns a pointer to a thread-local, NUL-terminated string.
    let msg = unsafe { CStr::from_ptr(gdal_sys::CPLGetLastErrorMsg()) }.to_string_lossy().into_owned();
    if msg.is_empty() {
        fallback.into()
    } else {
        msg
    }
}

/// A window of the covariate grid: its core (x, y, width, height) and the context pixels read
/// around it.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub x: isize,
    pub y: isize,
    pub width: usize,
    pub height: usize,
    pub halo: usize,
}

/// Reads windows of the covariates, with a halo and the manifest's edge policy, as
/// band-sequential Float32 where every missing value (nodata or NaN) is NaN.
pub struct WindowReader {
    datasets: Vec<Dataset>,
    runs: Vec<(usize, Run)>,
    /// The map grid's size; windows are in its pixels.
    pub width: usize,
    pub height: usize,
    /// Where the map grid starts in the datasets, and their size (halos are read from there).
    offset: (isize, isize),
    full_size: (isize, isize),
    pub bands: usize,
    nodata: Vec<Option<f64>>,
}

impl WindowReader {
    /// Reads `window` grown by its halo on every side into `buf` (`bands * (width + 2 halo) *
    /// (height + 2 halo)` values). Pixels outside the raster follow `edge`.
    pub fn read(&self, window: Window, edge: EdgeMode, buf: &mut Vec<f32>) -> Result<(), RasterError> {
        let Window { x, y, width: w, height: h, halo } = window;
        let (pw, ph) = (w + 2 * halo, h + 2 * halo);
        buf.clear();
        buf.resize(self.bands * pw * ph, f32::NAN);
        // In the datasets' pixels: the map grid may be a crop of theirs.
        let (gx0, gy0) = (x - halo as isize + self.offset.0, y - halo as isize + self.offset.1);
        let cx0 = gx0.max(0);
        let cy0 = gy0.max(0);
        let cx1 = (gx0 + pw as isize).min(self.full_size.0);
        let cy1 = (gy0 + ph as isize).min(self.full_size.1);
        if cx1 <= cx0 || cy1 <= cy0 {
            return Ok(()); // entirely outside: all missing
        }
        let (cw, ch) = ((cx1 - cx0) as usize, (cy1 - cy0) as usize);
        let (ox, oy) = ((cx0 - gx0) as usize, (cy0 - gy0) as usize);
        let band_space = (pw * ph * 4) as i64;
        for (k, run) in &self.runs {
            let mut band_map = run.bands.clone();
            // SAFETY: the destination pointer plus the spacings stays inside `buf`: the clipped
            // window (cw x ch at offset ox, oy) fits in the padded pw x ph plane, and the run's
            // planes first..first + n lie within the `bands` planes of `buf`.
            let err = unsafe {
                gdal_sys::GDALDatasetRasterIOEx(
                    self.datasets[*k].c_dataset(),
                    gdal_sys::GDALRWFlag::GF_Read,
                    cx0 as i32,
                    cy0 as i32,
                    cw as i32,
                    ch as i32,
                    buf.as_mut_ptr().add(run.first * pw * ph + oy * pw + ox) as *mut libc::c_void,
                    cw as i32,
                    ch as i32,
                    gdal_sys::GDALDataType::GDT_Float32,
                    band_map.len() as i32,
                    band_map.as_mut_ptr(),
                    4,
                    (pw * 4) as i64,
                    band_space,
                    std::ptr::null_mut(),
                )
            };
            if err != gdal_sys::CPLErr::CE_None {
                return Err(RasterError::Gdal { path: run.dataset.clone(), reason: last_cpl_error("read failed") });
            }
        }
        for (b, plane) in buf.chunks_mut(pw * ph).enumerate() {
            if let Some(nd) = self.nodata[b] {
                let nd = nd as f32;
                for v in plane.iter_mut() {
                    if *v == nd {
                        *v = f32::NAN;
                    }
                }
            }
            if edge == EdgeMode::Replicate && (cw, ch) != (pw, ph) {
                replicate_edges(plane, pw, ph, ox, oy, cw, ch);
            }
        }
        Ok(())
    }
}

/// Fills the part of a pw x ph plane outside the valid rectangle (ox, oy, cw, ch) with the
/// nearest valid edge value.
fn replicate_edges(plane: &mut [f32], pw: usize, ph: usize, ox: usize, oy: usize, cw: usize, ch: usize) {
    for row in oy..oy + ch {
        let line = &mut plane[row * pw..(row + 1) * pw];
        let (left, right) = (line[ox], line[ox + cw - 1]);
        line[..ox].fill(left);
        line[ox + cw..].fill(right);
    }
    for row in 0..oy {
        plane.copy_within(oy * pw..(oy + 1) * pw, row * pw);
    }
    for row in oy + ch..ph {
        plane.copy_within((oy + ch - 1) * pw..(oy + ch) * pw, row * pw);
    }
}

/// Settings of the output GeoTIFF.
#[derive(Clone, Debug)]
pub struct OutputOptions {
    /// GeoTIFF compression (DEFLATE, LZW, ZSTD, NONE...).
    pub compress: String,
    /// Write a Cloud Optimized GeoTIFF (overviews, COG layout).
    pub cog: bool,
    pub block: usize,
}

impl Default for OutputOptions {
    fn default() -> Self {
        OutputOptions { compress: "DEFLATE".into(), cog: false, block: 256 }
    }
}

/// Description of one output band.
pub struct BandInfo {
    pub description: String,
    pub unit: String,
}

/// The output map being written: a tiled GeoTIFF under a temporary name (see
/// [`crate::output`]), moved into place by [`MapWriter::finish`] only once GDAL has reported
/// no error; dropped unfinished, its temporary file is removed.
pub struct MapWriter {
    ds: Option<Dataset>,
    staged: Option<crate::output::Staged>,
    target: PathBuf,
    options: OutputOptions,
}

/// Checks creation options against what the driver declares (GDAL only warns about a bad one
/// and writes an uncompressed file).
fn validate_creation_options(driver: &gdal::Driver, co: &gdal::cpl::CslStringList, path: &Path) -> Result<(), RasterError> {
    let capture = CplCapture::new();
    // SAFETY: a valid driver handle and a NULL-terminated option list.
    let ok = unsafe { gdal_sys::GDALValidateCreationOptions(driver.c_driver(), co.as_ptr()) } != 0;
    let detail = capture.take(true).unwrap_or_default();
    if ok {
        return Ok(());
    }
    let compressions = driver.metadata_item("DMD_CREATIONOPTIONLIST", "").and_then(|xml| {
        let at = xml.find("name='COMPRESS'")?;
        let values: Vec<String> = xml[at..xml[at..].find("</Option>")? + at]
            .split("<Value>")
            .skip(1)
            .filter_map(|v| v.split("</Value>").next().map(str::to_string))
            .collect();
        Some(values.join(", "))
    });
    Err(RasterError::Output {
        path: path.into(),
        reason: format!(
            "invalid {} creation option ({detail}){}",
            driver.short_name(),
            compressions.map(|c| format!("; compression must be one of: {c}")).unwrap_or_default()
        ),
    })
}

impl MapWriter {
    pub fn create(path: &Path, grid: &Grid, bands: &[BandInfo], nodata: f32, options: &OutputOptions) -> Result<MapWriter, RasterError> {
        let out_err = |reason: String| RasterError::Output { path: path.into(), reason };
        let staged = crate::output::Staged::new(path, crate::output::Kind::GeoTiff).map_err(|e| out_err(strip_path(&e, path)))?;
        let driver = gdal::DriverManager::get_driver_by_name("GTiff").map_err(|e| out_err(e.to_string()))?;
        let block = options.block.to_string();
        let mut co = vec![
            ("TILED", "YES".to_string()),
            ("BLOCKXSIZE", block.clone()),
            ("BLOCKYSIZE", block),
            ("COMPRESS", options.compress.clone()),
            ("BIGTIFF", "IF_SAFER".to_string()),
        ];
        if matches!(options.compress.to_ascii_uppercase().as_str(), "DEFLATE" | "LZW" | "ZSTD") {
            co.push(("PREDICTOR", "3".into()));
        }
        let co: Vec<String> = co.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        let co = co.iter().map(String::as_str).collect::<gdal::cpl::CslStringList>();
        validate_creation_options(&driver, &co, path)?;
        let capture = CplCapture::new();
        let ds = driver
            .create_with_band_type_with_options::<f32, _>(staged.path(), grid.width, grid.height, bands.len(), &co)
            .map_err(|e| out_err(capture.take(false).unwrap_or_else(|| e.to_string())))?;
        // From here on, an early return drops the writer, which removes the temporary file.
        let mut writer = MapWriter { ds: Some(ds), staged: Some(staged), target: path.into(), options: options.clone() };
        let ds = writer.ds.as_mut().expect("just created");
        ds.set_geo_transform(&grid.geotransform).map_err(|e| out_err(e.to_string()))?;
        if !grid.wkt.is_empty() {
            ds.set_projection(&grid.wkt).map_err(|e| out_err(e.to_string()))?;
        }
        for (i, info) in bands.iter().enumerate() {
            let mut band = ds.rasterband(i + 1).map_err(|e| out_err(e.to_string()))?;
            band.set_no_data_value(Some(nodata as f64)).map_err(|e| out_err(e.to_string()))?;
            band.set_description(&info.description).map_err(|e| out_err(e.to_string()))?;
            let unit = CString::new(info.unit.as_str()).unwrap_or_default();
            // SAFETY: a valid band handle and a NUL-terminated string.
            unsafe { gdal_sys::GDALSetRasterUnitType(band.c_rasterband(), unit.as_ptr()) };
        }
        if let Some(e) = capture.take(false) {
            return Err(out_err(e));
        }
        Ok(writer)
    }

    fn err(&self, reason: impl std::fmt::Display) -> RasterError {
        RasterError::Output { path: self.target.clone(), reason: reason.to_string() }
    }

    /// Sets a metadata item of band `band` (1-based, default domain).
    pub fn set_band_metadata_item(&mut self, band: usize, key: &str, value: &str) -> Result<(), RasterError> {
        let target = self.target.clone();
        let ds = self.ds.as_mut().expect("writer is open until finish");
        ds.rasterband(band)
            .and_then(|mut b| b.set_metadata_item(key, value, ""))
            .map_err(|e| RasterError::Output { path: target, reason: e.to_string() })
    }

    /// Sets a metadata item of the map (default domain).
    pub fn set_metadata_item(&mut self, key: &str, value: &str) -> Result<(), RasterError> {
        let ds = self.ds.as_mut().expect("writer is open until finish");
        ds.set_metadata_item(key, value, "").map_err(|e| RasterError::Output { path: self.target.clone(), reason: e.to_string() })
    }

    /// Writes `data` (band-sequential, w x h per band) at (x, y).
    pub fn write(&mut self, x: usize, y: usize, w: usize, h: usize, data: &[Vec<f32>]) -> Result<(), RasterError> {
        let capture = CplCapture::new();
        let ds = self.ds.as_mut().expect("writer is open until finish");
        let (width, height) = ds.raster_size();
        let mut result = Ok(());
        for (i, plane) in data.iter().enumerate() {
            let written = ds.rasterband(i + 1).and_then(|mut band| {
                let mut buf = gdal::raster::Buffer::new((w, h), plane.clone());
                band.write((x as isize, y as isize), (w, h), &mut buf)
            });
            if let Err(e) = written {
                result = Err(e.to_string());
                break;
            }
        }
        // A window that is exactly one output block is final: write it out now, so finished
        // blocks do not accumulate in GDAL's cache (flushing also drops them from it).
        let b = self.options.block;
        if result.is_ok() && x % b == 0 && y % b == 0 && w == b.min(width - x) && h == b.min(height - y) {
            result = ds.flush_cache().map_err(|e| e.to_string());
        }
        match (capture.take(false), result) {
            (Some(msg), _) | (None, Err(msg)) => Err(self.err(msg)),
            (None, Ok(())) => Ok(()),
        }
    }

    /// Closes the map, checks that GDAL reported no error and that it reads back, and moves it
    /// to its final name (converting to COG if asked).
    pub fn finish(mut self) -> Result<(), RasterError> {
        let capture = CplCapture::new();
        let ds = self.ds.take().expect("finish is called once");
        let (width, height, bands) = (ds.raster_size().0, ds.raster_size().1, ds.raster_count());
        let closed = ds.close();
        if let Some(msg) = capture.take(false) {
            return Err(self.err(msg));
        }
        closed.map_err(|e| self.err(e))?;
        let mut staged = self.staged.take().expect("finish is called once");
        if self.options.cog {
            let cog = crate::output::Staged::new(staged.target(), crate::output::Kind::GeoTiff).map_err(|e| self.err(e))?;
            let result = (|| -> Result<(), gdal::errors::GdalError> {
                let src = Dataset::open(staged.path())?;
                let driver = gdal::DriverManager::get_driver_by_name("COG")?;
                let co =
                    [format!("COMPRESS={}", self.options.compress), format!("BLOCKSIZE={}", self.options.block), "BIGTIFF=IF_SAFER".into()];
                let co = co.iter().map(String::as_str).collect::<gdal::cpl::CslStringList>();
                src.create_copy(&driver, cog.path(), &co)?.close()
            })();
            if let Some(msg) = capture.take(false).or(result.err().map(|e| e.to_string())) {
                return Err(self.err(format!("COG conversion failed: {msg}")));
            }
            staged = cog; // the plain GeoTIFF's temporary is removed as it drops
        }
        // Re-open what was written: a truncated file fails here rather than in the user's hands.
        let reopened = Dataset::open(staged.path()).map_err(|e| self.err(capture.take(false).unwrap_or_else(|| e.to_string())))?;
        if (reopened.raster_size(), reopened.raster_count()) != ((width, height), bands) {
            return Err(self.err("the written file does not read back with the expected size"));
        }
        drop(reopened);
        staged.commit().map_err(|e| self.err(e))
    }
}

/// An output error's text without the path, for errors that name it themselves.
fn strip_path(e: &crate::output::OutputError, path: &Path) -> String {
    e.to_string().replace(&format!("cannot write '{}': ", path.display()), "")
}

impl Drop for MapWriter {
    fn drop(&mut self) {
        // Close the dataset before the staged temporary is removed.
        drop(self.ds.take());
    }
}

/// Makes this thread read uncompressed GeoTIFFs straight into the caller's buffer, bypassing
/// GDAL's block cache (unless the user set GTIFF_DIRECT_IO): each covariate value is read once,
/// so caching blocks only costs memory and a copy. Thread-local: the host's settings stay.
pub fn prefer_direct_reads() {
    if gdal::config::get_config_option("GTIFF_DIRECT_IO", "").unwrap_or_default().is_empty() {
        let _ = gdal::config::set_thread_local_config_option("GTIFF_DIRECT_IO", "YES");
    }
}

/// Caps GDAL's block cache for a batch job (unless the user set GDAL_CACHEMAX), so memory stays
/// bounded whatever the raster size; GDAL's own default is 5 % of the machine's memory.
pub fn bound_gdal_cache(bytes: i64) {
    if std::env::var_os("GDAL_CACHEMAX").is_none() {
        // SAFETY: plain setter of a global GDAL setting.
        unsafe { gdal_sys::GDALSetCacheMax64(bytes) };
    }
}
