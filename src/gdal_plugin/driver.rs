//! The Rust side of the TERRAPIX driver (driver.cpp): prediction jobs described by `.tpx` files.
//!
//! A job file is JSON: `{"terrapix_prediction": 1, "model": "soc.onnx", "covariates":
//! ["stack.tif"], "bind": [], "by_order": false, "reference": null, "resampling": "bilinear"}`;
//! relative paths are relative to the job file. These functions are called only by driver.cpp;
//! none unwinds.

use std::ffi::{c_char, c_int, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::predict::WindowPredictor;
use crate::raster::BindOptions;

/// Format version of job files.
pub const JOB_VERSION: u32 = 1;

/// A prediction job file (`.tpx`).
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct JobFile {
    pub terrapix_prediction: u32,
    pub model: String,
    pub covariates: Vec<String>,
    #[serde(default)]
    pub bind: Vec<String>,
    #[serde(default)]
    pub by_order: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resampling: Option<String>,
    /// xmin, ymin, xmax, ymax in the reference CRS: map only this part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extent: Option<[f64; 4]>,
}

pub struct TpxJob {
    predictor: WindowPredictor,
    wkt: CString,
    descriptions: Vec<CString>,
    units: Vec<CString>,
}

fn open_job(path: &Path) -> Result<TpxJob, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read job '{}': {e}", path.display()))?;
    let job: JobFile = serde_json::from_str(&text).map_err(|e| format!("'{}' is not a valid terrapix job: {e}", path.display()))?;
    if job.terrapix_prediction != JOB_VERSION {
        return Err(format!(
            "'{}': job format {} is not supported (this terrapix reads {JOB_VERSION})",
            path.display(),
            job.terrapix_prediction
        ));
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let resolve = |p: &str| -> PathBuf {
        if Path::new(p).is_absolute() || p.starts_with("/vsi") {
            PathBuf::from(p)
        } else {
            dir.join(p)
        }
    };
    let model_path = resolve(&job.model);
    super::check_trusted(&model_path, Some(dir))?;
    let model = super::shared_model(&model_path)?;
    let rasters: Vec<PathBuf> = job.covariates.iter().map(|c| resolve(c)).collect();
    let bind = BindOptions {
        bindings: job.bind,
        by_order: job.by_order,
        reference: job.reference.as_deref().map(resolve),
        resampling: job.resampling,
        extent: job.extent,
    };
    let predictor = WindowPredictor::new(model, &rasters, &bind).map_err(|e| e.to_string())?;
    let m = &predictor.model().manifest;
    let cstr = |s: String| CString::new(s.replace('\0', " ")).unwrap_or_default();
    let descriptions = m.outputs.iter().map(|o| cstr(m.band_description(o))).collect();
    let units = m.outputs.iter().map(|o| cstr(m.band_unit(o))).collect();
    let wkt = cstr(predictor.grid().wkt.clone());
    Ok(TpxJob { predictor, wkt, descriptions, units })
}

/// Copies `msg` into the caller's error buffer (NUL-terminated, truncated to fit).
unsafe fn write_err(err: *mut c_char, len: usize, msg: &str) {
    if err.is_null() || len == 0 {
        return;
    }
    let bytes = msg.as_bytes();
    let n = bytes.len().min(len - 1);
    // SAFETY: `err` has room for `len` bytes (caller contract); n < len.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), err as *mut u8, n);
        *err.add(n) = 0;
    }
}

/// 0 for success; else 1 with the error (or the panic) written into the caller's buffer.
unsafe fn status(result: std::thread::Result<Result<(), String>>, err: *mut c_char, err_len: usize) -> c_int {
    let msg = match result {
        Ok(Ok(())) => return 0,
        Ok(Err(msg)) => msg,
        Err(p) => panic_message(p),
    };
    // SAFETY: forwarded caller contract.
    unsafe { write_err(err, err_len, &msg) };
    1
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    let what = p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned());
    format!("internal error in terrapix: {}", what.unwrap_or_else(|| "panic".into()))
}

#[no_mangle]
pub unsafe extern "C" fn tpx_job_identify(path: *const c_char, header: *const u8, header_len: c_int) -> c_int {
    catch_unwind(|| {
        // SAFETY: GDAL passes its filename and header buffer.
        let name = if path.is_null() { "" } else { unsafe { CStr::from_ptr(path) }.to_str().unwrap_or("") };
        let head =
            if header.is_null() || header_len <= 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(header, header_len as usize) } };
        let text = String::from_utf8_lossy(head);
        let by_name = name.to_ascii_lowercase().ends_with(".tpx");
        let by_content = text.trim_start().starts_with('{') && text.contains("\"terrapix_prediction\"");
        (by_name && !head.is_empty() || by_content) as c_int
    })
    .unwrap_or(0)
}

#[no_mangle]
pub unsafe extern "C" fn tpx_job_open(path: *const c_char, err: *mut c_char, err_len: usize) -> *mut TpxJob {
    let result = catch_unwind(|| {
        // SAFETY: GDAL's NUL-terminated filename.
        let path = unsafe { CStr::from_ptr(path) }.to_string_lossy().into_owned();
        open_job(Path::new(&path))
    });
    match result {
        Ok(Ok(job)) => Box::into_raw(Box::new(job)),
        Ok(Err(msg)) => {
            unsafe { write_err(err, err_len, &msg) };
            std::ptr::null_mut()
        }
        Err(p) => {
            unsafe { write_err(err, err_len, &panic_message(p)) };
            std::ptr::null_mut()
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn tpx_job_close(job: *mut TpxJob) {
    if !job.is_null() {
        // SAFETY: created by tpx_job_open, closed once by the dataset's destructor.
        let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { Box::from_raw(job) })));
    }
}

#[no_mangle]
pub unsafe extern "C" fn tpx_job_shape(
    job: *const TpxJob,
    width: *mut c_int,
    height: *mut c_int,
    bands: *mut c_int,
    geotransform: *mut f64,
    nodata: *mut f32,
) {
    // SAFETY: a live job and out-pointers from driver.cpp.
    let job = unsafe { &*job };
    let grid = job.predictor.grid();
    let m = &job.predictor.model().manifest;
    unsafe {
        *width = grid.width as c_int;
        *height = grid.height as c_int;
        *bands = m.outputs.len() as c_int;
        std::ptr::copy_nonoverlapping(grid.geotransform.as_ptr(), geotransform, 6);
        *nodata = m.nodata.output_nodata;
    }
}

#[no_mangle]
pub unsafe extern "C" fn tpx_job_wkt(job: *const TpxJob) -> *const c_char {
    // SAFETY: a live job.
    unsafe { &*job }.wkt.as_ptr()
}

#[no_mangle]
pub unsafe extern "C" fn tpx_job_band_description(job: *const TpxJob, band: c_int) -> *const c_char {
    // SAFETY: a live job; bands are 1-based and in range (driver.cpp creates exactly that many).
    unsafe { &*job }.descriptions.get((band - 1) as usize).map_or(c"".as_ptr(), |s| s.as_ptr())
}

#[no_mangle]
pub unsafe extern "C" fn tpx_job_band_unit(job: *const TpxJob, band: c_int) -> *const c_char {
    // SAFETY: as above.
    unsafe { &*job }.units.get((band - 1) as usize).map_or(c"".as_ptr(), |s| s.as_ptr())
}

/// Predicts `count` blocks of `block` x `block` cells (block coordinates `xs`, `ys`) in parallel:
/// block i's band planes, packed (clipped w x h each), start at `out + i * bands * block * block`.
/// Returns 0 on success.
#[no_mangle]
pub unsafe extern "C" fn tpx_job_read_blocks(
    job: *const TpxJob,
    count: c_int,
    xs: *const c_int,
    ys: *const c_int,
    block: c_int,
    out: *mut f32,
    err: *mut c_char,
    err_len: usize,
) -> c_int {
    use rayon::prelude::*;
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: a live job and `count` block coordinates (driver.cpp).
        let job = unsafe { &*job };
        let (xs, ys) = unsafe { (std::slice::from_raw_parts(xs, count as usize), std::slice::from_raw_parts(ys, count as usize)) };
        let grid = job.predictor.grid();
        let b = block as usize;
        let bands = job.predictor.model().manifest.outputs.len();
        // SAFETY: room for count x bands x block x block floats (driver.cpp).
        let dst = unsafe { std::slice::from_raw_parts_mut(out, count as usize * bands * b * b) };
        dst.par_chunks_mut(bands * b * b).zip(xs.par_iter().zip(ys.par_iter())).try_for_each(|(chunk, (&bx, &by))| {
            let (x, y) = (bx as usize * b, by as usize * b);
            let (w, h) = (b.min(grid.width - x), b.min(grid.height - y));
            let predicted = job.predictor.predict(x, y, w, h).map_err(|e| e.to_string())?;
            predicted.copy_into(chunk);
            Ok::<(), String>(())
        })
    }));
    // SAFETY: the caller's error buffer of err_len bytes.
    unsafe { status(result, err, err_len) }
}

/// Predicts the output window (x, y, width, height) into `out`: every band's plane, in order.
/// Returns 0 on success.
#[no_mangle]
pub unsafe extern "C" fn tpx_job_read(
    job: *const TpxJob,
    x: c_int,
    y: c_int,
    width: c_int,
    height: c_int,
    out: *mut f32,
    err: *mut c_char,
    err_len: usize,
) -> c_int {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: a live job (shared across GDAL's threads: WindowPredictor is thread-safe).
        let job = unsafe { &*job };
        let (w, h) = (width as usize, height as usize);
        let predicted = job.predictor.predict(x as usize, y as usize, w, h).map_err(|e| e.to_string())?;
        // SAFETY: driver.cpp passes room for bands x width x height floats.
        predicted.copy_into(unsafe { std::slice::from_raw_parts_mut(out, predicted.bands.len() * w * h) });
        Ok::<(), String>(())
    }));
    // SAFETY: the caller's error buffer of err_len bytes.
    unsafe { status(result, err, err_len) }
}
