//! Writing a cube as CF-compliant NetCDF-4 through GDAL's multidimensional API: `time`, `y`
//! (or `lat`) and `x` (or `lon`) coordinate variables, a grid mapping, units, `_FillValue`,
//! and provenance attributes; strips of rows over every date are written as they come. Written
//! under a temporary name and renamed once complete, like every terrapix output.

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::time::{days_since_epoch, Date, EPOCH_UNITS};
use super::{netcdf_lock, CubeError};
use crate::output::{Kind, Staged};
use crate::raster::gdal::md;
use crate::raster::{CplCapture, Grid};

/// A variable of the written cube, on (time, y, x).
#[derive(Clone, Debug)]
pub struct Variable {
    pub name: String,
    pub long_name: String,
    pub units: String,
    /// Flags (0/1 and such) are bytes; every value is a 32-bit float otherwise.
    pub flags: bool,
    /// Extra CF attributes (`flag_values`, `flag_meanings`, `comment`...).
    pub attributes: Vec<(String, String)>,
}

impl Variable {
    pub fn float(name: &str, long_name: &str, units: &str) -> Variable {
        Variable { name: name.into(), long_name: long_name.into(), units: units.into(), flags: false, attributes: Vec::new() }
    }
}

/// The fill value of float variables (NaN in memory).
pub const FILL: f32 = -9999.0;
/// The fill value of flag variables.
pub const FLAG_FILL: u8 = 255;

pub struct CubeWriter {
    staged: Option<Staged>,
    target: PathBuf,
    /// Released in this order: the arrays, then the dataset (see [`CubeWriter::close`]).
    arrays: Vec<md::Array>,
    ds: Option<md::Dataset>,
    flags: Vec<bool>,
    names: Vec<String>,
    grid: Grid,
    steps: usize,
}

impl CubeWriter {
    /// Creates `path` for `variables` on `grid` at `dates`, with global attributes `global`
    /// (`title`, `history`, `source`... ; `Conventions` is set).
    pub fn create(
        path: &Path,
        grid: &Grid,
        dates: &[Date],
        variables: &[Variable],
        global: &[(String, String)],
    ) -> Result<CubeWriter, CubeError> {
        let out = |reason: String| CubeError::Output { path: path.into(), reason };
        if grid.geotransform[2] != 0.0 || grid.geotransform[4] != 0.0 {
            return Err(out("a rotated grid cannot be written as CF coordinates".into()));
        }
        let staged = Staged::new(path, Kind::NetCdf).map_err(|e| out(e.to_string()))?;
        let mut w = CubeWriter {
            staged: None,
            target: path.into(),
            arrays: Vec::new(),
            ds: None,
            flags: variables.iter().map(|v| v.flags).collect(),
            names: variables.iter().map(|v| v.name.clone()).collect(),
            grid: grid.clone(),
            steps: dates.len(),
        };
        let tmp = staged.path().to_path_buf();
        w.staged = Some(staged);
        // Taken after `w`, so released before `w` drops (its drop takes it) on an early return.
        let _lock = netcdf_lock();
        let capture = CplCapture::new();
        w.ds = Some(md::Dataset::create_netcdf(&tmp).map_err(|e| out(capture.take(false).unwrap_or(e)))?);
        let result = w.define(grid, dates, variables, global);
        result.map_err(|e| out(capture.take(false).unwrap_or(e)))?;
        if let Some(e) = capture.take(false) {
            return Err(out(e));
        }
        Ok(w)
    }

    fn define(&mut self, grid: &Grid, dates: &[Date], variables: &[Variable], global: &[(String, String)]) -> Result<(), String> {
        let root = self.ds.as_ref().expect("created").root()?;
        let geographic = is_geographic(&grid.wkt);
        let (yname, xname) = if geographic { ("lat", "lon") } else { ("y", "x") };
        let (nt, ny, nx) = (dates.len() as u64, grid.height as u64, grid.width as u64);
        let dims = [
            root.create_dimension("time", "TEMPORAL", "", nt)?,
            root.create_dimension(yname, "HORIZONTAL_Y", "NORTH", ny)?,
            root.create_dimension(xname, "HORIZONTAL_X", "EAST", nx)?,
        ];
        let g = grid.geotransform;
        let times: Vec<f64> = dates.iter().map(|d| days_since_epoch(*d)).collect();
        let ys: Vec<f64> = (0..grid.height).map(|r| g[3] + (r as f64 + 0.5) * g[5]).collect();
        let xs: Vec<f64> = (0..grid.width).map(|c| g[0] + (c as f64 + 0.5) * g[1]).collect();
        let units = if geographic { ("degrees_north", "degrees_east") } else { ("m", "m") };
        let names = if geographic {
            (("latitude", "latitude"), ("longitude", "longitude"))
        } else {
            (("projection_y_coordinate", "y coordinate of projection"), ("projection_x_coordinate", "x coordinate of projection"))
        };
        // (name, dimension, values, unit, attributes)
        #[allow(clippy::type_complexity)]
        let coords: [(&str, usize, &[f64], &str, Vec<(&str, &str)>); 3] = [
            (
                "time",
                0,
                &times,
                EPOCH_UNITS,
                vec![("standard_name", "time"), ("long_name", "time"), ("axis", "T"), ("calendar", "standard")],
            ),
            (yname, 1, &ys, units.0, vec![("standard_name", names.0 .0), ("long_name", names.0 .1), ("axis", "Y")]),
            (xname, 2, &xs, units.1, vec![("standard_name", names.1 .0), ("long_name", names.1 .1), ("axis", "X")]),
        ];
        for (name, d, values, unit, attrs) in coords {
            let a = root.create_array(name, &[&dims[d]], md::Type::Float64, &[])?;
            a.set_unit(unit)?;
            for (k, v) in attrs {
                a.set_string_attribute(k, v)?;
            }
            a.write_f64(&[0], &[values.len()], values).map_err(|e| format!("the '{name}' coordinate: {e}"))?;
        }
        // One chunk per date (for grids up to 1024 x 1024), as reading and writing go by date.
        let block = format!("BLOCKSIZE=1,{},{}", ny.min(1024), nx.min(1024));
        let options = ["COMPRESS=DEFLATE", "ZLEVEL=1", block.as_str()];
        let all: Vec<&md::Dimension> = dims.iter().collect();
        for v in variables {
            let a = root.create_array(&v.name, &all, if v.flags { md::Type::Byte } else { md::Type::Float32 }, &options)?;
            a.set_nodata(if v.flags { FLAG_FILL as f64 } else { FILL as f64 });
            if !v.units.is_empty() {
                a.set_unit(&v.units)?;
            }
            a.set_spatial_ref(&grid.wkt)?;
            a.set_string_attribute("long_name", &v.long_name)?;
            for (k, val) in &v.attributes {
                a.set_string_attribute(k, val)?;
            }
            self.arrays.push(a);
        }
        root.set_string_attribute("Conventions", "CF-1.8")?;
        for (k, v) in global {
            root.set_string_attribute(k, v)?;
        }
        Ok(())
    }

    /// Writes rows `rows` of variable `var` at every date: `data` laid out `[step][row][col]`,
    /// NaN for missing (flags: any value, 255 missing).
    pub fn write_strip(&mut self, var: usize, rows: Range<usize>, data: &[f32]) -> Result<(), CubeError> {
        self.write_block(var, 0..self.steps, rows, data)
    }

    /// Writes the dates `steps` (every row) of variable `var`: `data` laid out `[step][row][col]`.
    pub fn write_dates(&mut self, var: usize, steps: Range<usize>, data: &[f32]) -> Result<(), CubeError> {
        self.write_block(var, steps, 0..self.grid.height, data)
    }

    /// Writes rows `rows` of the dates `steps` of variable `var`: `data` laid out `[step][row][col]`.
    pub fn write_block(&mut self, var: usize, steps: Range<usize>, rows: Range<usize>, data: &[f32]) -> Result<(), CubeError> {
        let (w, h) = (self.grid.width, rows.len());
        if data.len() != steps.len() * w * h {
            return Err(self.err(format!("a block of {} dates x {h} rows x {w} columns got {} values", steps.len(), data.len())));
        }
        let _lock = netcdf_lock();
        let capture = CplCapture::new();
        let start = [steps.start as u64, rows.start as u64, 0];
        let count = [steps.len(), h, w];
        let array = &self.arrays[var];
        let written = if self.flags[var] {
            let bytes: Vec<u8> = data.iter().map(|v| if v.is_finite() { *v as u8 } else { FLAG_FILL }).collect();
            array.write_u8(&start, &count, &bytes)
        } else {
            let filled: Vec<f32> = data.iter().map(|v| if v.is_finite() { *v } else { FILL }).collect();
            array.write_f32(&start, &count, &filled)
        };
        match (capture.take(false), written) {
            (Some(msg), _) | (None, Err(msg)) => Err(self.err(msg)),
            (None, Ok(())) => Ok(()),
        }
    }

    fn err(&self, reason: impl std::fmt::Display) -> CubeError {
        CubeError::Output { path: self.target.clone(), reason: reason.to_string() }
    }

    /// Releases the arrays, then closes the file (the caller holds the lock).
    fn close(&mut self) {
        self.arrays.clear();
        self.ds = None;
    }

    /// Closes the file, checks that it reads back as a cube of the expected size, and renames it
    /// into place.
    pub fn finish(mut self) -> Result<(), CubeError> {
        let _lock = netcdf_lock();
        let capture = CplCapture::new();
        self.close();
        if let Some(msg) = capture.take(false) {
            return Err(self.err(msg));
        }
        let staged = self.staged.take().expect("finish is called once");
        // Re-open each variable: a truncated file fails here rather than in the user's hands.
        for name in &self.names {
            let sub = format!("NETCDF:\"{}\":{name}", staged.path().display());
            let ds = crate::raster::open_raster(Path::new(&sub)).map_err(|e| self.err(e))?;
            // Past GDAL_MAX_BAND_COUNT (32,768) GDAL shows fewer bands: the axis length says.
            let declared = gdal::Metadata::metadata_item(&ds, "NETCDF_DIM_time_DEF", "")
                .and_then(|d| d.trim_matches(|c| c == '{' || c == '}').split(',').next().and_then(|s| s.trim().parse::<usize>().ok()));
            let steps_ok = ds.raster_count() == self.steps || declared == Some(self.steps);
            if ds.raster_size() != (self.grid.width, self.grid.height) || !steps_ok {
                return Err(self.err(format!("the variable '{name}' does not read back as the expected cube")));
            }
        }
        staged.commit().map_err(|e| self.err(e))
    }
}

impl Drop for CubeWriter {
    fn drop(&mut self) {
        if self.ds.is_some() {
            let _lock = netcdf_lock();
            self.close(); // before the staged temporary is removed
        }
    }
}

/// Whether a WKT CRS is geographic (longitude/latitude degrees).
pub fn is_geographic(wkt: &str) -> bool {
    if wkt.is_empty() {
        return false;
    }
    gdal::spatial_ref::SpatialRef::from_wkt(wkt).map(|s| s.is_geographic()).unwrap_or(false)
}

/// Writes every date of the cube `source` as a GeoTIFF `dir/NAME_YYYY-MM-DD.tif` (one band, its
/// unit, the date in the band's `DATE` metadata and description), each written under a
/// temporary name and renamed; returns the files written.
pub fn export_geotiffs(
    source: &super::read::CubeSource,
    dir: &Path,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Vec<PathBuf>, CubeError> {
    use crate::raster::{BandInfo, MapWriter, OutputOptions};
    let folder_err = |e: crate::output::OutputError| CubeError::Output { path: dir.into(), reason: e.to_string() };
    let staged =
        crate::output::StagedFolder::new(dir, &format!("one GeoTIFF per date of {}", source.path.display())).map_err(folder_err)?;
    let (w, h) = (source.grid.width, source.grid.height);
    let mut written = Vec::new();
    let mut plane = Vec::new();
    for (t, date) in source.dates.iter().enumerate() {
        if !progress(t, source.dates.len()) {
            return Err(CubeError::Cancelled);
        }
        source.read_strip(&[t], 0..h, &mut plane)?;
        let name = format!("{}_{date}.tif", source.name);
        let path = staged.path().join(&name);
        let band = BandInfo { description: date.to_string(), unit: source.unit.clone() };
        let mut m = MapWriter::create(&path, &source.grid, &[band], f32::NAN, &OutputOptions::default())?;
        m.write(0, 0, w, h, &[plane.clone()])?;
        m.set_band_metadata_item(1, "DATE", &date.to_string())?;
        m.finish()?;
        written.push(dir.join(name));
    }
    // The last word before anything is renamed into place: a stop asked for now still leaves nothing.
    if !progress(source.dates.len(), source.dates.len()) {
        return Err(CubeError::Cancelled);
    }
    staged.commit().map_err(folder_err)?;
    Ok(written)
}

/// What an export wrote.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ExportReport {
    pub files: Vec<PathBuf>,
    pub first: Option<String>,
    pub last: Option<String>,
}

/// Exports every date of the cube at `cube` as a GeoTIFF into the folder `dir`, whole
/// (`terrapix cube-export`); `dir` may not hold the cube or be its folder.
pub fn export(cube: &Path, dir: &Path, progress: &mut dyn FnMut(usize, usize) -> bool) -> Result<ExportReport, CubeError> {
    crate::output::refuse_inputs(dir, true, &[("cube", cube)])
        .map_err(|e| CubeError::Output { path: dir.into(), reason: e.to_string() })?;
    let source = super::read::CubeSource::open(cube, None)?;
    let files = export_geotiffs(&source, dir, progress)?;
    Ok(ExportReport { files, first: source.dates.first().map(|d| d.to_string()), last: source.dates.last().map(|d| d.to_string()) })
}
