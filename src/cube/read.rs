//! Reading a cube through GDAL: a NetCDF variable with a CF time axis, or any raster stack
//! (GeoTIFF, HDF5, VRT...) whose bands carry dates, or whose dates are given.

use std::ops::Range;
use std::path::{Path, PathBuf};

use gdal::{Dataset, Metadata};

use super::time::{parse_date, CfUnits, Date};
use super::{netcdf_lock, CubeError};
use crate::raster::{open_raster, Grid};

/// Band metadata keys that may hold a band's date in a GeoTIFF (or other) stack.
const DATE_KEYS: &[&str] = &["DATE", "TIME", "DATETIME", "ACQUISITION_DATE", "date", "time", "datetime"];

/// An open cube: one variable on a grid, one band per date.
pub struct CubeSource {
    pub path: PathBuf,
    /// Always open; taken only to close it under the lock.
    ds: Option<Dataset>,
    pub grid: Grid,
    /// The date of each band, in band order.
    pub dates: Vec<Date>,
    /// The variable's name (NetCDF variable, else the file's stem) and unit.
    pub name: String,
    pub unit: String,
    /// Per band: (nodata, scale, offset).
    bands: Vec<(Option<f64>, f64, f64)>,
}

impl CubeSource {
    /// Opens `path` (a file, or GDAL's `NETCDF:"file.nc":variable` / `HDF5:"file.h5"://path`).
    /// `dates`: one per band, for stacks whose bands carry none.
    pub fn open(path: &Path, dates: Option<&[Date]>) -> Result<CubeSource, CubeError> {
        let err = |reason: String| CubeError::Input { path: path.into(), reason };
        let _lock = netcdf_lock();
        let ds = open_raster(path).map_err(err)?;
        if ds.raster_count() == 0 {
            let subs = subdatasets(&ds);
            return Err(err(if subs.is_empty() {
                "it has no raster bands".into()
            } else {
                format!("it holds several variables; name one as GDAL does: {}", subs.join(", "))
            }));
        }
        let grid = Grid::of(&ds);
        if grid.geotransform[2] != 0.0 || grid.geotransform[4] != 0.0 {
            return Err(err("its grid is rotated: warp it to a north-up grid first (gdalwarp)".into()));
        }
        let n = ds.raster_count();
        let mut bands = Vec::with_capacity(n);
        for b in 1..=n {
            let band = ds.rasterband(b).map_err(|e| err(e.to_string()))?;
            bands.push((band.no_data_value(), band.scale().unwrap_or(1.0), band.offset().unwrap_or(0.0)));
        }
        let dates = match dates {
            Some(d) if d.len() != n => {
                return Err(err(format!("{} dates were given for its {n} bands: give one date per band", d.len())));
            }
            Some(d) => d.to_vec(),
            None => band_dates(&ds).map_err(err)?,
        };
        let band1 = ds.rasterband(1).map_err(|e| err(e.to_string()))?;
        let name = band1
            .metadata_item("NETCDF_VARNAME", "")
            .unwrap_or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
        let unit = band1.unit();
        Ok(CubeSource { path: path.into(), ds: Some(ds), grid, dates, name, unit, bands })
    }

    pub fn len(&self) -> usize {
        self.dates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }

    /// Reads rows `rows` of the bands `steps` (0-based) into `out`, laid out
    /// `[step][row][col]`; nodata becomes NaN, packed values are unpacked.
    pub fn read_strip(&self, steps: &[usize], rows: Range<usize>, out: &mut Vec<f32>) -> Result<(), CubeError> {
        let (w, h) = (self.grid.width, rows.len());
        out.resize(steps.len() * w * h, f32::NAN);
        let _lock = netcdf_lock();
        for (k, &s) in steps.iter().enumerate() {
            let slot = &mut out[k * w * h..(k + 1) * w * h];
            let band = self.ds.as_ref().expect("open").rasterband(s + 1).map_err(|e| self.err(e))?;
            band.read_into_slice((0, rows.start as isize), (w, h), (w, h), slot, None).map_err(|e| self.err(e))?;
            let (nodata, scale, offset) = self.bands[s];
            for v in slot.iter_mut() {
                if nodata.is_some_and(|nd| *v as f64 == nd || (nd.is_nan() && v.is_nan())) {
                    *v = f32::NAN;
                } else if scale != 1.0 || offset != 0.0 {
                    *v = (*v as f64 * scale + offset) as f32;
                }
            }
        }
        Ok(())
    }

    fn err(&self, e: impl std::fmt::Display) -> CubeError {
        CubeError::Input { path: self.path.clone(), reason: e.to_string() }
    }
}

impl Drop for CubeSource {
    fn drop(&mut self) {
        let _lock = netcdf_lock();
        drop(self.ds.take());
    }
}

fn subdatasets(ds: &Dataset) -> Vec<String> {
    ds.metadata_domain("SUBDATASETS")
        .unwrap_or_default()
        .into_iter()
        .filter_map(|kv| kv.split_once('=').filter(|(k, _)| k.ends_with("_NAME")).map(|(_, v)| v.to_string()))
        .collect()
}

/// The dates of the bands: a CF time axis (the netCDF driver's `NETCDF_DIM_<time>` band metadata
/// and `<time>#units`), else each band's date metadata or a description that is a date.
fn band_dates(ds: &Dataset) -> Result<Vec<Date>, String> {
    let n = ds.raster_count();
    let extra = ds.metadata_item("NETCDF_DIM_EXTRA", "").unwrap_or_default();
    let dims: Vec<&str> = extra.trim_matches(|c| c == '{' || c == '}').split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if !dims.is_empty() {
        if dims.len() > 1 {
            return Err(format!(
                "its variable has {} dimensions besides the grid ({}): terrapix reads cubes of time x y x x; select one level first (gdal_translate -b or a subset)",
                dims.len(),
                dims.join(", ")
            ));
        }
        let dim = dims[0];
        // GDAL exposes at most GDAL_MAX_BAND_COUNT (32,768) steps of a variable and only warns
        // about the rest: a cube must not lose dates silently.
        let steps = ds
            .metadata_item(&format!("NETCDF_DIM_{dim}_DEF"), "")
            .and_then(|d| d.trim_matches(|c| c == '{' || c == '}').split(',').next().and_then(|s| s.trim().parse::<usize>().ok()));
        if let Some(steps) = steps.filter(|&s| s > n) {
            return Err(format!(
                "its time axis has {steps} steps, more than the {n} bands GDAL reads of one variable (GDAL_MAX_BAND_COUNT): \
                 split the file (e.g. cdo splityear) or raise GDAL_MAX_BAND_COUNT"
            ));
        }
        let units = ds.metadata_item(&format!("{dim}#units"), "").unwrap_or_default();
        let calendar = ds.metadata_item(&format!("{dim}#calendar"), "").unwrap_or_default();
        let cf = CfUnits::parse(&units, &calendar).map_err(|e| format!("its '{dim}' axis: {e}"))?;
        return (1..=n)
            .map(|b| {
                let band = ds.rasterband(b).map_err(|e| e.to_string())?;
                let v = band.metadata_item(&format!("NETCDF_DIM_{dim}"), "").and_then(|v| v.trim().parse::<f64>().ok());
                let v = v.ok_or_else(|| format!("band {b} has no readable '{dim}' coordinate"))?;
                cf.date(v).ok_or_else(|| {
                    format!("band {b}'s '{dim}' is {v} {units}, which is no date terrapix can read (about 262,000 years either way)")
                })
            })
            .collect();
    }
    let mut dates = Vec::with_capacity(n);
    for b in 1..=n {
        let band = ds.rasterband(b).map_err(|e| e.to_string())?;
        let from_metadata = DATE_KEYS.iter().find_map(|k| band.metadata_item(k, "").and_then(|v| parse_date(&v)));
        let date = from_metadata.or_else(|| parse_date(&band.description().unwrap_or_default())).ok_or_else(|| {
            format!(
                "band {b} carries no date (no CF time axis, no DATE/TIME band metadata, no description that is a date): \
                 give the dates, one per band"
            )
        })?;
        dates.push(date);
    }
    Ok(dates)
}

/// Reads a list of dates, one per line (blank lines and `#` comments skipped).
pub fn read_dates_file(path: &Path) -> Result<Vec<Date>, CubeError> {
    let err = |reason: String| CubeError::Input { path: path.into(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    text.lines()
        .enumerate()
        .map(|(i, l)| (i, l.split('#').next().unwrap_or("").trim()))
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, l)| parse_date(l).ok_or_else(|| err(format!("line {}: '{l}' is not a date (YYYY-MM-DD)", i + 1))))
        .collect()
}

/// What a cube is: its variable, grid and time axis (`terrapix cube-info`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct CubeInfo {
    pub variable: String,
    pub unit: String,
    pub width: usize,
    pub height: usize,
    pub origin: (f64, f64),
    pub pixel: (f64, f64),
    pub dates: usize,
    pub first: Option<String>,
    pub last: Option<String>,
    /// Days between the first and last date without a step: how many, and the first few.
    pub days_without_step: usize,
    pub first_days_without_step: Vec<String>,
}

/// Describes the cube at `path` (`dates`: a file of the band dates of a stack that has none).
pub fn describe(path: &Path, dates: Option<&Path>) -> Result<CubeInfo, CubeError> {
    let dates = dates.map(read_dates_file).transpose()?;
    let c = CubeSource::open(path, dates.as_deref())?;
    let g = &c.grid;
    let al = super::time::align(&[("the cube", &c.dates)]).map_err(CubeError::Mismatch)?;
    let (shown, gaps) = super::time::missing_days(&al.common, 5);
    Ok(CubeInfo {
        variable: c.name.clone(),
        unit: c.unit.clone(),
        width: g.width,
        height: g.height,
        origin: (g.geotransform[0], g.geotransform[3]),
        pixel: (g.geotransform[1], g.geotransform[5]),
        dates: al.common.len(),
        first: al.common.first().map(|d| d.to_string()),
        last: al.common.last().map(|d| d.to_string()),
        days_without_step: gaps,
        first_days_without_step: shown.iter().map(|d| d.to_string()).collect(),
    })
}
