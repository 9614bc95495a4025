//! terrapix inside GDAL: `GDALRegister_terrapix` (what GDAL calls when it loads
//! `gdal_terrapix.so` from `GDAL_DRIVER_PATH`) registers the pixel functions and the TERRAPIX
//! driver; hosts that load libterrapix themselves call `tpx_gdal_register()`.
//!
//! Thin: the work is done by [`crate::predict`]; this layer parses GDAL's arguments, governs
//! which models a dataset may load, shares model sessions across datasets, and turns every
//! failure (and any panic) into a CPLError.

mod driver;
mod pixel;
mod vrt;

pub use driver::{JobFile, JOB_VERSION};
pub use vrt::{write_prediction_vrt, PredictionVrt};

use std::ffi::{c_char, CString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::engine::{EngineOptions, Model};

extern "C" {
    /// Registers the TERRAPIX raster driver (src/gdal_plugin/driver.cpp).
    fn tpx_register_gdal_driver();
}

/// Registers terrapix's pixel functions and the TERRAPIX driver with GDAL (idempotent).
#[no_mangle]
pub extern "C" fn GDALRegister_terrapix() {
    let _ = std::panic::catch_unwind(|| {
        pixel::register();
        // SAFETY: a plain C++ function that registers a driver once.
        unsafe { tpx_register_gdal_driver() };
    });
}

/// Registers terrapix's GDAL pixel functions and driver in the calling process's GDAL, for hosts
/// that load libterrapix themselves (the QGIS plugin, a C program). Idempotent.
#[no_mangle]
pub extern "C" fn tpx_gdal_register() {
    GDALRegister_terrapix();
}

/// A GDAL configuration option (which also reads the environment variable of that name).
pub(crate) fn config(key: &str) -> Option<String> {
    gdal::config::get_config_option(key, "").ok().filter(|v| !v.is_empty())
}

/// Reports `msg` through GDAL's error handler.
pub(crate) fn cpl_error(msg: &str) {
    let msg = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    // SAFETY: a constant format string with one string argument.
    unsafe {
        gdal_sys::CPLError(gdal_sys::CPLErr::CE_Failure, 1 /* CPLE_AppDefined */, c"%s".as_ptr(), msg.as_ptr() as *const c_char)
    };
}

/// Whether a dataset may load `model`. Models named by a `.tpx` job may live in the job's own
/// folder tree; anything else must be inside a folder listed in the configuration option
/// TERRAPIX_TRUSTED_MODELS (':'-separated, or ALL). Unset, nothing else is trusted: a VRT from
/// elsewhere cannot make GDAL load an arbitrary file as a model.
pub(crate) fn check_trusted(model: &Path, job_dir: Option<&Path>) -> Result<(), String> {
    let setting = config("TERRAPIX_TRUSTED_MODELS").unwrap_or_default();
    if setting.trim().eq_ignore_ascii_case("ALL") {
        return Ok(());
    }
    let model = model.canonicalize().map_err(|e| format!("cannot open model '{}': {e}", model.display()))?;
    let mut folders: Vec<PathBuf> = std::env::split_paths(&setting).filter(|p| !p.as_os_str().is_empty()).collect();
    folders.extend(job_dir.map(|d| d.canonicalize().unwrap_or_else(|_| d.to_path_buf())));
    if folders.iter().filter_map(|f| f.canonicalize().ok()).any(|f| model.starts_with(&f)) {
        return Ok(());
    }
    Err(format!(
        "model '{}' is not in a trusted folder (trusted: {}). List trusted model folders in the configuration option \
         TERRAPIX_TRUSTED_MODELS (':'-separated; ALL trusts every folder)",
        model.display(),
        if folders.is_empty() {
            "none".to_string()
        } else {
            folders.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
        }
    ))
}

/// Models loaded in this process, shared by every dataset and pixel function that names them
/// (one session pool per model file version), at most [`MAX_MODELS`] at a time.
static MODELS: Mutex<Vec<(PathBuf, SystemTime, Arc<Model>)>> = Mutex::new(Vec::new());
const MAX_MODELS: usize = 8;

pub(crate) fn shared_model(path: &Path) -> Result<Arc<Model>, String> {
    let canonical = path.canonicalize().map_err(|e| format!("cannot open model '{}': {e}", path.display()))?;
    let modified = std::fs::metadata(&canonical).and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH);
    let mut models = MODELS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(i) = models.iter().position(|(p, t, _)| *p == canonical && *t == modified) {
        let entry = models.remove(i);
        let model = entry.2.clone();
        models.push(entry); // most recently used last
        return Ok(model);
    }
    let options = EngineOptions { ort_library: config("TERRAPIX_ORT_LIB").map(PathBuf::from), ..Default::default() };
    let model = Arc::new(Model::open(&canonical, &options).map_err(|e| e.to_string())?);
    models.retain(|(p, _, _)| *p != canonical);
    if models.len() >= MAX_MODELS {
        models.remove(0);
    }
    models.push((canonical, modified, model.clone()));
    Ok(model)
}
