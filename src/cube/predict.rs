//! Mapping every date of a cube with a bundle: each covariate the model reads is bound to a
//! time-varying cube (at date t, `ndvi` is that date's plane), a static band (by its
//! description), or a calendar covariate (`month` 1-12, `doy` day of year) when no cube or band
//! has that name. Dates are those every bound cube has; the others are reported. Dates are
//! predicted a few at a time, in parallel, strip of rows by strip of rows (with the model's
//! halo), and written as they are done, so memory holds a few strips whatever the record's
//! length and the grid's size. A model set may hold one model per calendar month.
//!
//! With an `offset` covariate, the model predicts a residual on top of that covariate (seed
//! 003's bias correction: reference minus CDF-matched source): the offset is added to every
//! band on the target scale (value, mean, quantiles, interval bounds) before clipping.

use std::path::{Path, PathBuf};

use gdal::Metadata;
use rayon::prelude::*;

use super::matching::CubeInput;
use super::models::ModelSet;
use super::read::CubeSource;
use super::time::{align, month, summarise, Date};
use super::write::{CubeWriter, Variable};
use super::{netcdf_lock, CubeError};
use crate::bundle::OutputKind;
use crate::plan::Block;
use crate::predict::Predictor;
use crate::raster::{open_raster, Grid};

/// Bytes of covariate values read for one strip of dates (the strip's height follows).
const STRIP_BYTES: usize = 64 << 20;

/// Refuses a physical range that is not one: `LOW < HIGH`, both finite.
pub fn check_range(lo: f64, hi: f64, what: &str) -> Result<(), CubeError> {
    if lo.is_finite() && hi.is_finite() && lo < hi {
        return Ok(());
    }
    Err(CubeError::Mismatch(format!("the {what} range {lo},{hi} is not LOW,HIGH with LOW below HIGH (e.g. 0,1)")))
}

/// Calendar covariates filled from each date when nothing else has their name.
pub const CALENDAR: &[&str] = &["month", "doy"];

/// What feeds the model's covariates.
#[derive(Clone, Debug, Default)]
pub struct CubeBindings {
    /// Time-varying covariates: name and cube.
    pub cubes: Vec<(String, CubeInput)>,
    /// Rasters whose bands, named by their descriptions, are static covariates.
    pub statics: Vec<PathBuf>,
}

#[derive(Clone, Debug, Default)]
pub struct CubePredictOptions {
    /// The covariate the model's target-scale bands are a residual on top of.
    pub offset: Option<String>,
    /// Physical range target-scale bands are clipped to.
    pub clip: Option<(f64, f64)>,
    /// Dates predicted at once (0: two per worker thread).
    pub dates_at_once: usize,
    /// Global attributes to add (history, source...).
    pub attributes: Vec<(String, String)>,
    /// What the values are, for the variables' long names ("bias-corrected mean"); default:
    /// the model's target.
    pub title: Option<String>,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct CubePredictReport {
    pub dates: usize,
    pub first: String,
    pub last: String,
    /// Per bound cube, the dates of the others it lacks (a summary).
    pub lacking: Vec<(String, String)>,
    pub valid_cells: usize,
    /// How each covariate was bound.
    pub bindings: Vec<(String, String)>,
}

enum Feed {
    Cube(usize),
    Static(Vec<f32>),
    Month,
    DayOfYear,
}

/// Predicts every common date of the bound cubes into a CF NetCDF cube at `output`, one
/// variable per model output.
pub fn predict_cube(
    models: &ModelSet,
    bind: &CubeBindings,
    output: &Path,
    options: &CubePredictOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<CubePredictReport, CubeError> {
    models.check()?;
    if let Some((lo, hi)) = options.clip {
        check_range(lo, hi, "clip")?;
    }
    let manifest = models.manifest();
    if bind.cubes.is_empty() {
        return Err(CubeError::Mismatch("no time-varying covariate cube is bound: give at least one NAME=CUBE".into()));
    }
    let cubes: Vec<CubeSource> = bind.cubes.iter().map(|(_, c)| c.open()).collect::<Result<_, _>>()?;
    let grid = cubes[0].grid.clone();
    for ((name, _), c) in bind.cubes.iter().zip(&cubes) {
        if !c.grid.same_as(&grid) {
            return Err(CubeError::Mismatch(format!("the cube of '{name}' is not on the grid of '{}' (warp it first)", bind.cubes[0].0)));
        }
    }
    let statics = read_statics(&bind.statics, &grid)?;
    let mut report = CubePredictReport::default();
    let mut feeds = Vec::new();
    let mut missing = Vec::new();
    // What the bundle declares (when it does): a time-varying covariate needs a cube, a static
    // one a band.
    if !manifest.time_varying.is_empty() {
        for name in manifest.covariates() {
            let declared = manifest.time_varying.contains(&name);
            let has_cube = bind.cubes.iter().any(|(n, _)| *n == name);
            if declared && !has_cube && !CALENDAR.contains(&name.as_str()) {
                return Err(CubeError::Mismatch(format!(
                    "'{name}' changes with time in this model: bind it to a cube (NAME=CUBE), not to a static band"
                )));
            }
            if !declared && has_cube {
                return Err(CubeError::Mismatch(format!(
                    "'{name}' is static in this model (one value per pixel): give it as a static raster band, not a cube"
                )));
            }
        }
    }
    for name in manifest.covariates() {
        let feed = if let Some(i) = bind.cubes.iter().position(|(n, _)| *n == name) {
            report.bindings.push((name.clone(), format!("cube {}", bind.cubes[i].1.path.display())));
            Feed::Cube(i)
        } else if let Some((_, file, plane)) = statics.iter().find(|(n, _, _)| *n == name) {
            report.bindings.push((name.clone(), format!("static band of {}", file.display())));
            Feed::Static(plane.clone())
        } else if name == "month" {
            report.bindings.push((name.clone(), "the date's month".into()));
            Feed::Month
        } else if name == "doy" {
            report.bindings.push((name.clone(), "the date's day of year".into()));
            Feed::DayOfYear
        } else {
            missing.push(name.clone());
            continue;
        };
        feeds.push(feed);
    }
    if !missing.is_empty() {
        let available: Vec<String> = bind
            .cubes
            .iter()
            .map(|(n, _)| n.clone())
            .chain(statics.iter().map(|(n, _, _)| n.clone()))
            .chain(CALENDAR.iter().map(|s| s.to_string()))
            .collect();
        return Err(CubeError::Mismatch(format!(
            "{} of the model's covariates have no cube or static band: {} (bound: {})",
            missing.len(),
            missing.join(", "),
            available.join(", ")
        )));
    }
    let offset = match &options.offset {
        Some(o) => Some(manifest.covariates().iter().position(|c| c == o).ok_or_else(|| {
            CubeError::Mismatch(format!("the offset '{o}' is not one of the model's covariates ({})", manifest.covariates().join(", ")))
        })?),
        None => None,
    };
    let axes: Vec<(&str, &[Date])> = bind.cubes.iter().zip(&cubes).map(|((n, _), c)| (n.as_str(), c.dates.as_slice())).collect();
    let al = align(&axes).map_err(CubeError::Mismatch)?;
    if al.common.is_empty() {
        return Err(CubeError::Mismatch("the bound cubes have no date in common".into()));
    }
    report.dates = al.common.len();
    report.first = al.common[0].to_string();
    report.last = al.common[al.common.len() - 1].to_string();
    report.lacking =
        bind.cubes.iter().zip(&al.missing).filter(|(_, m)| !m.is_empty()).map(|((n, _), m)| (n.clone(), summarise(m, 3))).collect();

    let variables: Vec<Variable> = manifest
        .outputs
        .iter()
        .map(|o| {
            let on_target = o.kind.is_on_target_scale() && !matches!(o.kind, OutputKind::Di);
            let what = options.title.as_deref().unwrap_or(&manifest.target.name);
            let mut v = Variable::float(&o.name, &format!("{what} {}", o.name), if on_target { &manifest.target.unit } else { "1" });
            if o.kind == OutputKind::Aoa {
                v.flags = true;
                v.units = String::new();
                v.attributes.push(("flag_values".into(), "0 1".into()));
                v.attributes.push(("flag_meanings".into(), "outside_area_of_applicability inside_area_of_applicability".into()));
            }
            v
        })
        .collect();
    let mut global = vec![
        ("title".to_string(), format!("{} from {}", manifest.target.name, manifest.name)),
        ("source".to_string(), format!("model {} {} ({})", manifest.name, manifest.version, manifest.description)),
        ("terrapix_bindings".to_string(), serde_json::to_string(&report.bindings).unwrap_or_default()),
    ];
    global.extend(options.attributes.iter().cloned());
    let mut writer = CubeWriter::create(output, &grid, &al.common, &variables, &global)?;

    let predictors: Vec<Predictor> = models.models.iter().map(|(_, m)| Predictor::new(m, 0)).collect();
    let halo = predictors[0].halo();
    let (w, h) = (grid.width, grid.height);
    let at_once = if options.dates_at_once > 0 { options.dates_at_once } else { 2 * rayon::current_num_threads() }.min(256);
    // Rows per strip: the dates read at once, with their halo rows, stay within the budget.
    let per_row = (w + 2 * halo).saturating_mul(at_once).saturating_mul(cubes.len() + feeds.len() + manifest.outputs.len()) * 4;
    let rows_per = (STRIP_BYTES / per_row.max(1)).saturating_sub(2 * halo).clamp(1, h.max(1));
    let strips = super::chunks(h, rows_per);
    let nodata = manifest.nodata.output_nodata;
    let target_scale: Vec<bool> = manifest.outputs.iter().map(|o| o.kind.is_on_target_scale()).collect();
    let mut planes: Vec<Vec<f32>> = vec![Vec::new(); cubes.len()];
    let batches = super::chunks(al.common.len(), at_once);
    let total = batches.len() * strips.len();
    for (b, steps) in batches.iter().enumerate() {
        for (s, rows) in strips.iter().enumerate() {
            if !progress(b * strips.len() + s, total) {
                return Err(CubeError::Cancelled);
            }
            // The strip's rows and its halo rows that exist; beyond the grid the halo stays NaN.
            let read = rows.start.saturating_sub(halo)..(rows.end + halo).min(h);
            let (top, sh) = (halo - (rows.start - read.start), rows.len());
            for (i, c) in cubes.iter().enumerate() {
                c.read_strip(&al.indices[i][steps.clone()], read.clone(), &mut planes[i])?;
            }
            let (pw, ph) = (w + 2 * halo, sh + 2 * halo);
            let outputs: Vec<Result<Vec<Vec<f32>>, CubeError>> = steps
                .clone()
                .into_par_iter()
                .map(|t| {
                    let date = al.common[t];
                    let k = t - steps.start;
                    let mut data = vec![f32::NAN; feeds.len() * pw * ph];
                    for (f, feed) in feeds.iter().enumerate() {
                        let plane = &mut data[f * pw * ph..(f + 1) * pw * ph];
                        for (r, row) in read.clone().enumerate() {
                            let dst = &mut plane[(top + r) * pw + halo..(top + r) * pw + halo + w];
                            match feed {
                                Feed::Cube(i) => {
                                    let at = (k * read.len() + r) * w;
                                    dst.copy_from_slice(&planes[*i][at..at + w])
                                }
                                Feed::Static(p) => dst.copy_from_slice(&p[row * w..(row + 1) * w]),
                                Feed::Month => dst.fill(month(date) as f32),
                                Feed::DayOfYear => dst.fill(chrono::Datelike::ordinal(&date) as f32),
                            }
                        }
                    }
                    let offset_plane: Option<Vec<f32>> =
                        offset.map(|o| (0..w * sh).map(|p| data[o * pw * ph + (p / w + halo) * pw + halo + p % w]).collect());
                    let mut block = Block { data, width: w, height: sh, halo, geo: Some((grid.geotransform, 0, rows.start)) };
                    let which =
                        models.for_month(month(date)).ok_or_else(|| CubeError::Mismatch(format!("no model for the month of {date}")))?;
                    let out = predictors[which]
                        .predict(&mut block, &|| false)
                        .map_err(|e| CubeError::Mismatch(format!("predicting {date}: {e}")))?;
                    let mut bands = out.bands;
                    for (band, &on_target) in bands.iter_mut().zip(&target_scale) {
                        for (p, v) in band.iter_mut().enumerate() {
                            if *v == nodata || !v.is_finite() {
                                *v = f32::NAN;
                                continue;
                            }
                            if on_target {
                                if let Some(off) = &offset_plane {
                                    *v += off[p];
                                }
                                if let Some((lo, hi)) = options.clip {
                                    *v = v.clamp(lo as f32, hi as f32);
                                }
                            }
                        }
                    }
                    Ok(bands)
                })
                .collect();
            let outputs: Vec<Vec<Vec<f32>>> = outputs.into_iter().collect::<Result<_, _>>()?;
            for (var, _) in variables.iter().enumerate() {
                let mut data = Vec::with_capacity(steps.len() * w * sh);
                for bands in &outputs {
                    data.extend_from_slice(&bands[var]);
                }
                if var == 0 {
                    report.valid_cells += data.iter().filter(|v| v.is_finite()).count();
                }
                writer.write_block(var, steps.clone(), rows.clone(), &data)?;
            }
        }
    }
    if report.valid_cells == 0 {
        return Err(CubeError::Mismatch(format!(
            "no cell of any of the {} dates could be predicted (every one lacks a covariate value): nothing was written",
            al.common.len()
        )));
    }
    // The last word before anything is renamed into place: a stop asked for now still leaves nothing.
    if !progress(total, total) {
        return Err(CubeError::Cancelled);
    }
    writer.finish()?;
    Ok(report)
}

/// The bands of static rasters on `grid`, by description: (name, file, plane).
pub fn read_statics(files: &[PathBuf], grid: &Grid) -> Result<Vec<(String, PathBuf, Vec<f32>)>, CubeError> {
    let mut out = Vec::new();
    for f in files {
        let err = |reason: String| CubeError::Input { path: f.clone(), reason };
        let _lock = netcdf_lock(); // a static may be a NetCDF file too
        let ds = open_raster(f).map_err(err)?;
        if !Grid::of(&ds).same_as(grid) {
            return Err(CubeError::Mismatch(format!("the static raster '{}' is not on the cubes' grid (warp it first)", f.display())));
        }
        for b in 1..=ds.raster_count() {
            let band = ds.rasterband(b).map_err(|e| err(e.to_string()))?;
            let name = band.description().unwrap_or_default();
            if name.is_empty() {
                return Err(err(format!("band {b} has no description: static bands are bound to covariates by their descriptions")));
            }
            let mut plane = vec![0f32; grid.width * grid.height];
            band.read_into_slice((0, 0), (grid.width, grid.height), (grid.width, grid.height), &mut plane, None)
                .map_err(|e| err(e.to_string()))?;
            if let Some(nd) = band.no_data_value() {
                plane.iter_mut().filter(|v| **v as f64 == nd).for_each(|v| *v = f32::NAN);
            }
            out.push((name, f.clone(), plane));
        }
    }
    Ok(out)
}

/// A cube prediction, as `terrapix predict-cube`, `tpx_predict_cube()`, Python's
/// `terrapix.predict_cube` and QGIS give it (serde names are the C ABI's JSON keys).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PredictCubeRequest {
    /// A bundle, or the folder of a model set (see [`super::models`]).
    pub model: PathBuf,
    /// Time-varying covariates, in order (the first one's grid is the map's).
    pub cubes: Vec<NamedCube>,
    /// Rasters whose bands, by description, are static covariates.
    pub statics: Vec<PathBuf>,
    /// The covariate the model's target-scale bands are a residual on (added back).
    pub offset: Option<String>,
    /// Clip target-scale bands to [low, high].
    pub clip: Option<(f64, f64)>,
    /// The predicted cube (CF NetCDF, one variable per model output).
    pub output: PathBuf,
}

/// A time-varying covariate: its name in the model and its cube (`{"name": "ndvi", "path":
/// "ndvi.nc"}`; on the command line `ndvi=ndvi.nc`).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedCube {
    pub name: String,
    pub path: PathBuf,
}

impl std::str::FromStr for NamedCube {
    type Err = String;
    fn from_str(text: &str) -> Result<NamedCube, String> {
        let (name, path) = text.split_once('=').ok_or_else(|| format!("'{text}' is not NAME=CUBE (e.g. ndvi=ndvi.nc)"))?;
        Ok(NamedCube { name: name.trim().to_string(), path: path.into() })
    }
}

/// Runs a cube prediction: opens the model (set), refuses an output that names an input, and
/// predicts every common date of the bound cubes.
pub fn run(
    request: &PredictCubeRequest,
    engine: &crate::engine::EngineOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<CubePredictReport, CubeError> {
    let r = request;
    let mut inputs: Vec<(&str, &Path)> = vec![("model", &r.model)];
    inputs.extend(r.cubes.iter().map(|c| ("covariate cube", c.path.as_path())));
    inputs.extend(r.statics.iter().map(|s| ("static raster", s.as_path())));
    crate::output::refuse_inputs(&r.output, false, &inputs)
        .map_err(|e| CubeError::Output { path: r.output.clone(), reason: e.to_string() })?;
    let models = ModelSet::open(&r.model, engine)?;
    let options = CubePredictOptions {
        offset: r.offset.clone(),
        clip: r.clip,
        attributes: vec![("history".into(), format!("terrapix {} predict-cube --model {}", crate::VERSION, r.model.display()))],
        ..Default::default()
    };
    let cubes = r.cubes.iter().map(|c| (c.name.clone(), CubeInput { path: c.path.clone(), dates: None })).collect();
    predict_cube(&models, &CubeBindings { cubes, statics: r.statics.clone() }, &r.output, &options, progress)
}
