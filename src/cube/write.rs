//! Writing a cube as CF-compliant NetCDF-4 through GDAL's multidimensional API: `time`, `y`
//! (or `lat`) and `x` (or `lon`) coordinate variables, a grid mapping, units, `_FillValue`,
//! and provenance attributes; strips of rows over every date are written as they come. Written
//! under a temporary name and renamed once complete, like every terrapix output.

use std::ffi::{CString, NulError};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::ptr::{null, null_mut};

use gdal_sys::*;

use super::time::{days_since_epoch, Date, EPOCH_UNITS};
use super::{netcdf_lock, CubeError};
use crate::output::{Kind, Staged};
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
    ds: GDALDatasetH,
    arrays: Vec<GDALMDArrayH>,
    flags: Vec<bool>,
    names: Vec<String>,
    grid: Grid,
    steps: usize,
}

// The handles are used from one thread at a time (the writer is moved, never shared).
unsafe impl Send for CubeWriter {}

fn cstr(s: &str) -> Result<CString, NulError> {
    CString::new(s)
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
            ds: null_mut(),
            arrays: Vec::new(),
            flags: variables.iter().map(|v| v.flags).collect(),
            names: variables.iter().map(|v| v.name.clone()).collect(),
            grid: grid.clone(),
            steps: dates.len(),
        };
        let tmp = cstr(&staged.path().to_string_lossy()).map_err(|e| out(e.to_string()))?;
        w.staged = Some(staged);
        // Taken after `w`, so released before `w` drops (its drop takes it) on an early return.
        let _lock = netcdf_lock();
        let capture = CplCapture::new();
        // SAFETY: every handle below is checked for NULL before use and released once; strings
        // outlive the calls that take them.
        unsafe {
            let driver = GDALGetDriverByName(c"netCDF".as_ptr());
            if driver.is_null() {
                return Err(out("this GDAL has no netCDF driver".into()));
            }
            w.ds = GDALCreateMultiDimensional(driver, tmp.as_ptr(), null_mut(), null_mut());
            if w.ds.is_null() {
                return Err(out(capture.take(false).unwrap_or_else(|| "GDAL could not create it".into())));
            }
            let root = GDALDatasetGetRootGroup(w.ds);
            let result = w.define(root, grid, dates, variables, global);
            GDALGroupRelease(root);
            result.map_err(|e| out(capture.take(false).unwrap_or(e)))?;
        }
        if let Some(e) = capture.take(false) {
            return Err(out(e));
        }
        Ok(w)
    }

    unsafe fn define(
        &mut self,
        root: GDALGroupH,
        grid: &Grid,
        dates: &[Date],
        variables: &[Variable],
        global: &[(String, String)],
    ) -> Result<(), String> {
        let e = |x: NulError| x.to_string();
        let geographic = is_geographic(&grid.wkt);
        let (yname, xname) = if geographic { ("lat", "lon") } else { ("y", "x") };
        let (nt, ny, nx) = (dates.len() as u64, grid.height as u64, grid.width as u64);
        let dim = |name: &str, kind: &str, dir: &str, n: u64| -> Result<GDALDimensionH, String> {
            let (name, kind, dir) = (cstr(name).map_err(e)?, cstr(kind).map_err(e)?, cstr(dir).map_err(e)?);
            let d = GDALGroupCreateDimension(root, name.as_ptr(), kind.as_ptr(), dir.as_ptr(), n, null_mut());
            if d.is_null() {
                Err("could not create a dimension".into())
            } else {
                Ok(d)
            }
        };
        let mut dims =
            [dim("time", "TEMPORAL", "", nt)?, dim(yname, "HORIZONTAL_Y", "NORTH", ny)?, dim(xname, "HORIZONTAL_X", "EAST", nx)?];
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
        // (name, dimension, values, attributes)
        #[allow(clippy::type_complexity)]
        let coords: [(&str, usize, &[f64], Vec<(&str, &str)>); 3] = [
            ("time", 0, &times, vec![("standard_name", "time"), ("long_name", "time"), ("axis", "T"), ("calendar", "standard")]),
            (yname, 1, &ys, vec![("standard_name", names.0 .0), ("long_name", names.0 .1), ("axis", "Y")]),
            (xname, 2, &xs, vec![("standard_name", names.1 .0), ("long_name", names.1 .1), ("axis", "X")]),
        ];
        let f64t = GDALExtendedDataTypeCreate(GDALDataType::GDT_Float64);
        let mut result = Ok(());
        for (name, d, values, attrs) in coords {
            let cname = cstr(name).map_err(e)?;
            let a = GDALGroupCreateMDArray(root, cname.as_ptr(), 1, &mut dims[d], f64t, null_mut());
            if a.is_null() {
                result = Err(format!("could not create the '{name}' coordinate"));
                break;
            }
            let unit = match d {
                0 => EPOCH_UNITS,
                1 => units.0,
                _ => units.1,
            };
            let cu = cstr(unit).map_err(e)?;
            GDALMDArraySetUnit(a, cu.as_ptr());
            for (k, v) in attrs {
                string_attribute(Owner::Array(a), k, v)?;
            }
            let start = [0u64];
            let count = [values.len()];
            if GDALMDArrayWrite(a, start.as_ptr(), count.as_ptr(), null(), null(), f64t, values.as_ptr().cast(), null(), 0) == 0 {
                result = Err(format!("could not write the '{name}' coordinate"));
            }
            GDALMDArrayRelease(a);
        }
        GDALExtendedDataTypeRelease(f64t);
        result?;
        let srs = if grid.wkt.is_empty() {
            null_mut()
        } else {
            let wkt = cstr(&grid.wkt).map_err(e)?;
            OSRNewSpatialReference(wkt.as_ptr())
        };
        // One chunk per date (for grids up to 1024 x 1024), as reading and writing go by date.
        let block = format!("BLOCKSIZE=1,{},{}", ny.min(1024), nx.min(1024));
        let options = [cstr("COMPRESS=DEFLATE").map_err(e)?, cstr("ZLEVEL=1").map_err(e)?, cstr(&block).map_err(e)?];
        let mut option_ptrs: Vec<*mut libc::c_char> = options.iter().map(|o| o.as_ptr() as *mut _).collect();
        option_ptrs.push(null_mut());
        let mut result = Ok(());
        for v in variables {
            let t = GDALExtendedDataTypeCreate(if v.flags { GDALDataType::GDT_Byte } else { GDALDataType::GDT_Float32 });
            let cname = cstr(&v.name).map_err(e)?;
            let a = GDALGroupCreateMDArray(root, cname.as_ptr(), 3, dims.as_mut_ptr(), t, option_ptrs.as_mut_ptr());
            GDALExtendedDataTypeRelease(t);
            if a.is_null() {
                result = Err(format!("could not create the variable '{}'", v.name));
                break;
            }
            self.arrays.push(a);
            GDALMDArraySetNoDataValueAsDouble(a, if v.flags { FLAG_FILL as f64 } else { FILL as f64 });
            if !v.units.is_empty() {
                let cu = cstr(&v.units).map_err(e)?;
                GDALMDArraySetUnit(a, cu.as_ptr());
            }
            if !srs.is_null() {
                GDALMDArraySetSpatialRef(a, srs);
            }
            string_attribute(Owner::Array(a), "long_name", &v.long_name)?;
            for (k, val) in &v.attributes {
                string_attribute(Owner::Array(a), k, val)?;
            }
        }
        if !srs.is_null() {
            OSRDestroySpatialReference(srs);
        }
        result?;
        string_attribute(Owner::Group(root), "Conventions", "CF-1.8")?;
        for (k, v) in global {
            string_attribute(Owner::Group(root), k, v)?;
        }
        for d in dims {
            GDALDimensionRelease(d);
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
        assert_eq!(data.len(), steps.len() * w * h, "a block holds its dates x rows x columns");
        let _lock = netcdf_lock();
        let capture = CplCapture::new();
        let start = [steps.start as u64, rows.start as u64, 0];
        let count = [steps.len(), h, w];
        // SAFETY: the array handle is valid until drop; the buffers match `count`.
        let ok = unsafe {
            if self.flags[var] {
                let bytes: Vec<u8> = data.iter().map(|v| if v.is_finite() { *v as u8 } else { FLAG_FILL }).collect();
                let t = GDALExtendedDataTypeCreate(GDALDataType::GDT_Byte);
                let ok =
                    GDALMDArrayWrite(self.arrays[var], start.as_ptr(), count.as_ptr(), null(), null(), t, bytes.as_ptr().cast(), null(), 0);
                GDALExtendedDataTypeRelease(t);
                ok
            } else {
                let filled: Vec<f32> = data.iter().map(|v| if v.is_finite() { *v } else { FILL }).collect();
                let t = GDALExtendedDataTypeCreate(GDALDataType::GDT_Float32);
                let ok = GDALMDArrayWrite(
                    self.arrays[var],
                    start.as_ptr(),
                    count.as_ptr(),
                    null(),
                    null(),
                    t,
                    filled.as_ptr().cast(),
                    null(),
                    0,
                );
                GDALExtendedDataTypeRelease(t);
                ok
            }
        };
        match capture.take(false) {
            Some(msg) => Err(self.err(msg)),
            None if ok == 0 => Err(self.err("GDAL could not write the values")),
            None => Ok(()),
        }
    }

    fn err(&self, reason: impl std::fmt::Display) -> CubeError {
        CubeError::Output { path: self.target.clone(), reason: reason.to_string() }
    }

    /// Releases the handles (the caller holds the lock).
    fn close(&mut self) {
        // SAFETY: each handle is released once and nulled.
        unsafe {
            for a in self.arrays.drain(..) {
                GDALMDArrayRelease(a);
            }
            if !self.ds.is_null() {
                GDALClose(self.ds);
                self.ds = null_mut();
            }
        }
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
        if !self.ds.is_null() {
            let _lock = netcdf_lock();
            self.close(); // before the staged temporary is removed
        }
    }
}

/// What a string attribute is attached to.
#[derive(Clone, Copy)]
enum Owner {
    Array(GDALMDArrayH),
    Group(GDALGroupH),
}

/// Writes the string attribute `key` = `value` on `owner`.
unsafe fn string_attribute(owner: Owner, key: &str, value: &str) -> Result<(), String> {
    let (k, v) = (cstr(key).map_err(|e| e.to_string())?, cstr(value).map_err(|e| e.to_string())?);
    let t = GDALExtendedDataTypeCreateString(0);
    let h = match owner {
        Owner::Array(a) => GDALMDArrayCreateAttribute(a, k.as_ptr(), 0, null(), t, null_mut()),
        Owner::Group(g) => GDALGroupCreateAttribute(g, k.as_ptr(), 0, null(), t, null_mut()),
    };
    GDALExtendedDataTypeRelease(t);
    if h.is_null() {
        return Err(format!("could not create the attribute '{key}'"));
    }
    let ok = GDALAttributeWriteString(h, v.as_ptr());
    GDALAttributeRelease(h);
    if ok == 0 {
        Err(format!("could not write the attribute '{key}'"))
    } else {
        Ok(())
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
