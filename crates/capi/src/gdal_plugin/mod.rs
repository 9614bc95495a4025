//! terrapix inside GDAL: `GDALRegister_terrapix` (what GDAL calls when it loads
//! `gdal_terrapix.so` from `GDAL_DRIVER_PATH`) registers the pixel functions and the TERRAPIX
//! driver; hosts that load libterrapix themselves call `tpx_gdal_register()`.
//!
//! Thin: the work is done by [`terrapix::predict`]; this layer parses GDAL's arguments, governs
//! which models a dataset may load, shares model sessions across datasets, and turns every
//! failure (and any panic) into a CPLError.

mod driver;
mod pixel;

use std::ffi::{c_char, CString};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::boundary::{Failure, TpxStatus};
use terrapix::engine::{EngineOptions, Model};

extern "C" {
    /// Registers the TERRAPIX raster driver (src/gdal_plugin/driver.cpp).
    fn tpx_register_gdal_driver();
}

/// Registers terrapix's pixel functions and the TERRAPIX driver with GDAL (idempotent).
#[no_mangle]
pub extern "C" fn GDALRegister_terrapix() {
    let _ = crate::boundary::call(|| {
        // Inside a GDAL host, terrapix's warnings go through GDAL's error handler.
        terrapix::util::set_warning_sink(cpl_warning);
        pixel::register();
        // SAFETY: a plain C++ function that registers a driver once.
        unsafe { tpx_register_gdal_driver() };
        Ok(())
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

/// Reports a failure through GDAL's error handler, with the CPLE number that fits its status
/// (a missing file is CPLE_OpenFailed, an untrusted model CPLE_NotSupported).
pub(crate) fn cpl_error(f: &Failure) {
    let number = match f.status {
        TpxStatus::TpxNotFound => 4,        // CPLE_OpenFailed
        TpxStatus::TpxInvalidArgument => 5, // CPLE_IllegalArg
        TpxStatus::TpxUntrusted => 6,       // CPLE_NotSupported
        TpxStatus::TpxWriteFailed => 3,     // CPLE_FileIO
        TpxStatus::TpxCancelled => 9,       // CPLE_UserInterrupt
        _ => 1,                             // CPLE_AppDefined
    };
    report(gdal_sys::CPLErr::CE_Failure, number, &format!("terrapix: {}", f.message));
}

fn cpl_warning(msg: &str) {
    report(gdal_sys::CPLErr::CE_Warning, 1, &format!("terrapix: {msg}"));
}

fn report(class: gdal_sys::CPLErr::Type, number: i32, msg: &str) {
    let msg = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    // SAFETY: a constant format string with one string argument.
    unsafe { gdal_sys::CPLError(class, number, c"%s".as_ptr(), msg.as_ptr() as *const c_char) };
}

/// Whether a dataset may load `model` (for a STAC item, the bundle it names). Models named by a
/// `.tpx` job may live in the job's own folder tree; anything else must be inside a folder
/// listed in the configuration option
/// TERRAPIX_TRUSTED_MODELS (':'-separated, or ALL). Unset, nothing else is trusted: a VRT from
/// elsewhere cannot make GDAL load an arbitrary file as a model.
pub(crate) fn check_trusted(model: &Path, job_dir: Option<&Path>) -> Result<(), Failure> {
    let setting = config("TERRAPIX_TRUSTED_MODELS").unwrap_or_default();
    if setting.trim().eq_ignore_ascii_case("ALL") {
        return Ok(());
    }
    // A STAC item stands for the bundle its model asset names: that file is what gets loaded,
    // so that file is what must be trusted.
    let resolved = terrapix::bundle::stac::resolve(model).map_err(|e| Failure::new(TpxStatus::TpxBadModel, e.to_string()))?;
    let model = resolved
        .canonicalize()
        .map_err(|e| Failure::new(TpxStatus::TpxNotFound, format!("cannot open model '{}': {e}", resolved.display())))?;
    let mut folders: Vec<PathBuf> = std::env::split_paths(&setting).filter(|p| !p.as_os_str().is_empty()).collect();
    folders.extend(job_dir.map(|d| d.canonicalize().unwrap_or_else(|_| d.to_path_buf())));
    if folders.iter().filter_map(|f| f.canonicalize().ok()).any(|f| model.starts_with(&f)) {
        return Ok(());
    }
    Err(Failure::new(
        TpxStatus::TpxUntrusted,
        format!(
            "model '{}' is not in a trusted folder (trusted: {}). List trusted model folders in the configuration option \
         TERRAPIX_TRUSTED_MODELS (':'-separated; ALL trusts every folder)",
            model.display(),
            if folders.is_empty() {
                "none".to_string()
            } else {
                folders.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
            }
        ),
    ))
}

/// A model from the process-wide cache, opened with the runtime GDAL's configuration names.
pub(crate) fn shared_model(path: &Path) -> Result<Arc<Model>, Failure> {
    let options = EngineOptions { ort_library: config("TERRAPIX_ORT_LIB").map(PathBuf::from), ..Default::default() };
    Ok(terrapix::engine::shared_model(path, &options)?)
}
