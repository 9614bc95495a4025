//! The one place where terrapix calls GDAL's C API directly (the `gdal` crate covers the rest):
//! each call in a small function with one `unsafe` block and why it is sound, in the style of
//! georust/gdal. Everything else in terrapix calls these safe functions.

use std::ffi::{CStr, CString};

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

/// Caps GDAL's block cache for a batch job (unless the user set GDAL_CACHEMAX), so memory stays
/// bounded whatever the raster size; GDAL's own default is 5 % of the machine's memory.
pub fn bound_gdal_cache(bytes: i64) {
    if std::env::var_os("GDAL_CACHEMAX").is_none() {
        // SAFETY: plain setter of a global GDAL setting.
        unsafe { gdal_sys::GDALSetCacheMax64(bytes) };
    }
}

/// Where one band-sequential read lands in a caller's buffer: planes of `plane_width` x
/// `plane_height` values, the window's values at (`x`, `y`) of each plane, planes `first..`.
pub struct Placement {
    pub first: usize,
    pub plane_width: usize,
    pub plane_height: usize,
    pub x: usize,
    pub y: usize,
}

/// Reads the window (`x0`, `y0`, `w`, `h`) of `bands` (1-based) of `ds` as Float32 into `buf`
/// at `at`, in one GDAL call. The destination is checked to lie inside `buf` before GDAL writes.
#[allow(clippy::too_many_arguments)]
pub fn read_bands_into(
    ds: &::gdal::Dataset,
    bands: &[i32],
    (x0, y0, w, h): (usize, usize, usize, usize),
    buf: &mut [f32],
    at: &Placement,
) -> Result<(), String> {
    let plane = at.plane_width * at.plane_height;
    let fits = at.x + w <= at.plane_width && at.y + h <= at.plane_height && (at.first + bands.len()) * plane <= buf.len();
    if !fits || [x0, y0, w, h].iter().any(|&v| v > i32::MAX as usize) {
        return Err(format!("a read of {w} x {h} pixels does not fit its buffer"));
    }
    let mut band_map = bands.to_vec();
    let start = at.first * plane + at.y * at.plane_width + at.x;
    // SAFETY: the destination (plane `first` at row y, column x) plus the spacings (4 bytes a
    // pixel, a row of `plane_width`, a plane of `plane`) stays inside `buf`, checked above;
    // `band_map` lives for the call; the dataset handle is valid while `ds` is.
    let err = unsafe {
        gdal_sys::GDALDatasetRasterIOEx(
            ds.c_dataset(),
            gdal_sys::GDALRWFlag::GF_Read,
            x0 as i32,
            y0 as i32,
            w as i32,
            h as i32,
            buf.as_mut_ptr().add(start) as *mut libc::c_void,
            w as i32,
            h as i32,
            gdal_sys::GDALDataType::GDT_Float32,
            band_map.len() as i32,
            band_map.as_mut_ptr(),
            4,
            (at.plane_width * 4) as i64,
            (plane * 4) as i64,
            std::ptr::null_mut(),
        )
    };
    if err != gdal_sys::CPLErr::CE_None {
        return Err(last_cpl_error("read failed"));
    }
    Ok(())
}

/// Sets a band's unit (GDAL's crate has no setter).
pub fn set_unit(band: &mut ::gdal::raster::RasterBand, unit: &str) {
    let unit = CString::new(unit).unwrap_or_default();
    // SAFETY: a valid band handle and a NUL-terminated string GDAL copies.
    unsafe { gdal_sys::GDALSetRasterUnitType(band.c_rasterband(), unit.as_ptr()) };
}

/// Whether `driver` accepts the creation options `co` (GDAL only warns about a bad one).
pub fn creation_options_valid(driver: &::gdal::Driver, co: &::gdal::cpl::CslStringList) -> bool {
    // SAFETY: a valid driver handle and a NULL-terminated option list that outlives the call.
    unsafe { gdal_sys::GDALValidateCreationOptions(driver.c_driver(), co.as_ptr()) != 0 }
}

/// Runs GDAL's warper (gdalwarp's options `args`) from `src` into the dataset `dest` (a VRT in
/// /vsimem/), closing what it creates.
pub fn warp(src: &::gdal::Dataset, dest: &str, args: &[&str]) -> Result<(), String> {
    let cargs = args.iter().map(|a| CString::new(*a)).collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())?;
    let mut argv: Vec<*mut libc::c_char> = cargs.iter().map(|c| c.as_ptr() as *mut libc::c_char).collect();
    argv.push(std::ptr::null_mut());
    let dest_c = CString::new(dest).map_err(|e| e.to_string())?;
    // SAFETY: argv is a NULL-terminated array of C strings that outlive the calls; the options
    // are freed once; the source handle is valid while `src` is; the result is closed here.
    unsafe {
        let opts = gdal_sys::GDALWarpAppOptionsNew(argv.as_mut_ptr(), std::ptr::null_mut());
        if opts.is_null() {
            return Err(last_cpl_error("invalid warp options"));
        }
        let mut src_h = src.c_dataset();
        let mut usage_error = 0;
        let out = gdal_sys::GDALWarp(dest_c.as_ptr(), std::ptr::null_mut(), 1, &mut src_h, opts, &mut usage_error);
        gdal_sys::GDALWarpAppOptionsFree(opts);
        if out.is_null() {
            return Err(last_cpl_error("warping failed"));
        }
        gdal_sys::GDALClose(out);
    }
    Ok(())
}

/// GDAL's multidimensional API (what CF NetCDF cubes are written with), as owned handles that
/// release themselves: a dataset, its root group, dimensions and arrays. The caller holds the
/// cube-file lock around every use (see [`crate::cube::netcdf_lock`]).
pub mod md {
    use std::ffi::CString;
    use std::path::Path;
    use std::ptr::{null, null_mut};

    use gdal_sys::*;

    fn c(s: &str) -> Result<CString, String> {
        CString::new(s).map_err(|e| e.to_string())
    }

    /// A multidimensional dataset being written.
    pub struct Dataset(GDALDatasetH);

    // Used from one thread at a time (a writer is moved, never shared), under the cube lock.
    unsafe impl Send for Dataset {}

    impl Dataset {
        /// Creates the NetCDF-4 file `path`.
        pub fn create_netcdf(path: &Path) -> Result<Dataset, String> {
            let name = c(&path.to_string_lossy())?;
            // SAFETY: a static driver name; `name` outlives the call; the result is checked.
            let ds = unsafe {
                let driver = GDALGetDriverByName(c"netCDF".as_ptr());
                if driver.is_null() {
                    return Err("this GDAL has no netCDF driver".into());
                }
                GDALCreateMultiDimensional(driver, name.as_ptr(), null_mut(), null_mut())
            };
            if ds.is_null() {
                return Err(super::last_cpl_error("GDAL could not create it"));
            }
            Ok(Dataset(ds))
        }

        pub fn root(&self) -> Result<Group, String> {
            // SAFETY: a valid dataset handle; the group is released by its Drop.
            let g = unsafe { GDALDatasetGetRootGroup(self.0) };
            if g.is_null() {
                return Err("the dataset has no root group".into());
            }
            Ok(Group(g))
        }
    }

    impl Drop for Dataset {
        fn drop(&mut self) {
            // SAFETY: closed once; its arrays and groups were released before (they are
            // dropped first by their owners, see CubeWriter::close).
            unsafe { GDALClose(self.0) };
        }
    }

    /// The element type of an array.
    #[derive(Clone, Copy)]
    pub enum Type {
        Float64,
        Float32,
        Byte,
    }

    struct Extended(GDALExtendedDataTypeH);

    impl Extended {
        fn new(t: Type) -> Extended {
            let kind = match t {
                Type::Float64 => GDALDataType::GDT_Float64,
                Type::Float32 => GDALDataType::GDT_Float32,
                Type::Byte => gdal::raster::GDT_UINT8,
            };
            // SAFETY: creates a numeric type; released by Drop.
            Extended(unsafe { GDALExtendedDataTypeCreate(kind) })
        }

        fn string() -> Extended {
            // SAFETY: creates a string type of unbounded length; released by Drop.
            Extended(unsafe { GDALExtendedDataTypeCreateString(0) })
        }
    }

    impl Drop for Extended {
        fn drop(&mut self) {
            // SAFETY: released once.
            unsafe { GDALExtendedDataTypeRelease(self.0) };
        }
    }

    pub struct Group(GDALGroupH);

    impl Group {
        pub fn create_dimension(&self, name: &str, kind: &str, direction: &str, size: u64) -> Result<Dimension, String> {
            let (n, k, d) = (c(name)?, c(kind)?, c(direction)?);
            // SAFETY: a valid group; the strings outlive the call; the result is checked.
            let h = unsafe { GDALGroupCreateDimension(self.0, n.as_ptr(), k.as_ptr(), d.as_ptr(), size, null_mut()) };
            if h.is_null() {
                return Err(format!("could not create the dimension '{name}'"));
            }
            Ok(Dimension(h))
        }

        /// An array on `dims` with GDAL's creation options `options` ("COMPRESS=DEFLATE"...).
        pub fn create_array(&self, name: &str, dims: &[&Dimension], t: Type, options: &[&str]) -> Result<Array, String> {
            let n = c(name)?;
            let mut handles: Vec<GDALDimensionH> = dims.iter().map(|d| d.0).collect();
            let opts = options.iter().map(|o| c(o)).collect::<Result<Vec<_>, _>>()?;
            let mut ptrs: Vec<*mut libc::c_char> = opts.iter().map(|o| o.as_ptr() as *mut _).collect();
            ptrs.push(null_mut());
            let t = Extended::new(t);
            // SAFETY: a valid group; the dimension handles, type and NULL-terminated options
            // outlive the call; the result is checked.
            let h = unsafe { GDALGroupCreateMDArray(self.0, n.as_ptr(), handles.len(), handles.as_mut_ptr(), t.0, ptrs.as_mut_ptr()) };
            if h.is_null() {
                return Err(format!("could not create the variable '{name}'"));
            }
            Ok(Array(h))
        }

        pub fn set_string_attribute(&self, key: &str, value: &str) -> Result<(), String> {
            let k = c(key)?;
            let t = Extended::string();
            // SAFETY: a valid group; `k` and the type outlive the call; the result is checked.
            let h = unsafe { GDALGroupCreateAttribute(self.0, k.as_ptr(), 0, null(), t.0, null_mut()) };
            write_string(h, key, value)
        }
    }

    impl Drop for Group {
        fn drop(&mut self) {
            // SAFETY: released once.
            unsafe { GDALGroupRelease(self.0) };
        }
    }

    /// Writes and releases a just-created string attribute.
    fn write_string(h: GDALAttributeH, key: &str, value: &str) -> Result<(), String> {
        if h.is_null() {
            return Err(format!("could not create the attribute '{key}'"));
        }
        let v = c(value);
        // SAFETY: a valid attribute handle, released once; the value outlives the call.
        let ok = unsafe {
            let ok = v.as_ref().map(|v| GDALAttributeWriteString(h, v.as_ptr())).unwrap_or(0);
            GDALAttributeRelease(h);
            ok
        };
        if ok == 0 {
            return Err(format!("could not write the attribute '{key}'"));
        }
        Ok(())
    }

    pub struct Dimension(GDALDimensionH);

    impl Drop for Dimension {
        fn drop(&mut self) {
            // SAFETY: released once.
            unsafe { GDALDimensionRelease(self.0) };
        }
    }

    pub struct Array(GDALMDArrayH);

    // As Dataset.
    unsafe impl Send for Array {}

    impl Array {
        pub fn set_unit(&self, unit: &str) -> Result<(), String> {
            let u = c(unit)?;
            // SAFETY: a valid array; the string outlives the call.
            unsafe { GDALMDArraySetUnit(self.0, u.as_ptr()) };
            Ok(())
        }

        pub fn set_nodata(&self, value: f64) {
            // SAFETY: a valid array.
            unsafe { GDALMDArraySetNoDataValueAsDouble(self.0, value) };
        }

        /// Sets the CRS from its WKT (nothing for an empty one).
        pub fn set_spatial_ref(&self, wkt: &str) -> Result<(), String> {
            if wkt.is_empty() {
                return Ok(());
            }
            let w = c(wkt)?;
            // SAFETY: the spatial reference is created, set (GDAL copies it) and destroyed here.
            unsafe {
                let srs = OSRNewSpatialReference(w.as_ptr());
                if srs.is_null() {
                    return Err("the grid's CRS is not one GDAL reads".into());
                }
                GDALMDArraySetSpatialRef(self.0, srs);
                OSRDestroySpatialReference(srs);
            }
            Ok(())
        }

        pub fn set_string_attribute(&self, key: &str, value: &str) -> Result<(), String> {
            let k = c(key)?;
            let t = Extended::string();
            // SAFETY: a valid array; `k` and the type outlive the call; the result is checked.
            let h = unsafe { GDALMDArrayCreateAttribute(self.0, k.as_ptr(), 0, null(), t.0, null_mut()) };
            write_string(h, key, value)
        }

        /// Writes the block at `start` of `count` values per dimension.
        pub fn write_f64(&self, start: &[u64], count: &[usize], values: &[f64]) -> Result<(), String> {
            self.write(start, count, Type::Float64, values.as_ptr().cast(), values.len())
        }

        pub fn write_f32(&self, start: &[u64], count: &[usize], values: &[f32]) -> Result<(), String> {
            self.write(start, count, Type::Float32, values.as_ptr().cast(), values.len())
        }

        pub fn write_u8(&self, start: &[u64], count: &[usize], values: &[u8]) -> Result<(), String> {
            self.write(start, count, Type::Byte, values.as_ptr().cast(), values.len())
        }

        fn write(&self, start: &[u64], count: &[usize], t: Type, data: *const libc::c_void, len: usize) -> Result<(), String> {
            if start.len() != count.len() || count.iter().product::<usize>() != len {
                return Err(format!("a block of {count:?} values does not match its {len} values"));
            }
            let t = Extended::new(t);
            // SAFETY: a valid array; `data` holds `len` values of type `t`, the product of
            // `count` (checked); dense strides (NULL); everything outlives the call.
            let ok = unsafe { GDALMDArrayWrite(self.0, start.as_ptr(), count.as_ptr(), null(), null(), t.0, data, null(), 0) };
            if ok == 0 {
                return Err("GDAL could not write the values".into());
            }
            Ok(())
        }
    }

    impl Drop for Array {
        fn drop(&mut self) {
            // SAFETY: released once.
            unsafe { GDALMDArrayRelease(self.0) };
        }
    }
}
