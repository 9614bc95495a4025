//! The boundary with C: the one place where errors and panics become status codes and messages,
//! for every exported function (the C ABI in [`crate::ffi`], the TERRAPIX driver's exports and
//! the pixel functions in [`crate::gdal_plugin`]). Nothing unwinds past it, and a caught panic
//! prints nothing on the host's stderr: its message is returned like any other error.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

use terrapix::bundle::BundleError;
use terrapix::engine::EngineError;
use terrapix::output::OutputError;
use terrapix::predict::PredictError;
use terrapix::raster::RasterError;
use terrapix::sample::SampleError;

/// Result of a terrapix call.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TpxStatus {
    TpxOk = 0,
    /// Failed; see tpx_last_error().
    TpxError = 1,
    /// The progress callback asked to stop; nothing was written.
    TpxCancelled = 2,
    /// A NULL pointer, a bad size, malformed options or an input that does not fit the model
    /// (a missing covariate, a bad binding or extent); see tpx_last_error().
    TpxInvalidArgument = 3,
    /// An input file (model, raster, points) does not exist.
    TpxNotFound = 4,
    /// The model bundle is corrupt, has no or an invalid manifest, or its graph disagrees with it.
    TpxBadModel = 5,
    /// The model is outside the trusted model folders (GDAL datasets).
    TpxUntrusted = 6,
    /// An output could not be written (a full disk, a missing folder), or would have replaced
    /// an input or a file of another kind; nothing was written.
    TpxWriteFailed = 7,
    /// The handle was closed, or never came from terrapix.
    TpxInvalidHandle = 8,
}

/// An error on its way out: the status and the message for tpx_last_error() or CPLError.
#[derive(Debug)]
pub struct Failure {
    pub status: TpxStatus,
    pub message: String,
}

impl Failure {
    pub fn new(status: TpxStatus, message: impl Into<String>) -> Failure {
        Failure { status, message: message.into() }
    }
    pub fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(TpxStatus::TpxInvalidArgument, message)
    }
    pub fn error(message: impl std::fmt::Display) -> Failure {
        Failure::new(TpxStatus::TpxError, message.to_string())
    }
}

/// The status each layer's errors map to, so a host can tell a missing file from a bad model.
pub trait Classify: std::fmt::Display {
    fn status(&self) -> TpxStatus;
}

impl<E: Classify> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure { status: e.status(), message: e.to_string() }
    }
}

impl Classify for BundleError {
    fn status(&self) -> TpxStatus {
        match self {
            BundleError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => TpxStatus::TpxNotFound,
            BundleError::Read { .. } => TpxStatus::TpxError,
            BundleError::Write { .. } | BundleError::Output(_) => TpxStatus::TpxWriteFailed,
            BundleError::Ensemble(_) => TpxStatus::TpxInvalidArgument,
            BundleError::Corrupt { .. }
            | BundleError::NoManifest(_)
            | BundleError::Manifest(_)
            | BundleError::ExternalData { .. }
            | BundleError::TooLarge { .. } => TpxStatus::TpxBadModel,
        }
    }
}

impl Classify for EngineError {
    fn status(&self) -> TpxStatus {
        match self {
            EngineError::Bundle(b) => b.status(),
            EngineError::Session { .. } | EngineError::Mismatch { .. } | EngineError::Refused(_) => TpxStatus::TpxBadModel,
            EngineError::RuntimeNotFound(_) | EngineError::RuntimeLoad { .. } | EngineError::Run(_) => TpxStatus::TpxError,
        }
    }
}

impl Classify for RasterError {
    fn status(&self) -> TpxStatus {
        match self {
            RasterError::NotFound(_) => TpxStatus::TpxNotFound,
            RasterError::Output { .. } => TpxStatus::TpxWriteFailed,
            RasterError::Open { .. } | RasterError::Gdal { .. } => TpxStatus::TpxError,
            _ => TpxStatus::TpxInvalidArgument,
        }
    }
}

impl Classify for OutputError {
    fn status(&self) -> TpxStatus {
        TpxStatus::TpxWriteFailed
    }
}

impl Classify for PredictError {
    fn status(&self) -> TpxStatus {
        match self {
            PredictError::Engine(e) => e.status(),
            PredictError::Raster(e) => e.status(),
            PredictError::Bundle(e) => e.status(),
            PredictError::Cancelled => TpxStatus::TpxCancelled,
            PredictError::Invalid(_) => TpxStatus::TpxInvalidArgument,
            PredictError::Output(_) => TpxStatus::TpxWriteFailed,
            PredictError::AllNodata(_) => TpxStatus::TpxError,
        }
    }
}

impl Classify for SampleError {
    fn status(&self) -> TpxStatus {
        match self {
            SampleError::Raster(e) => e.status(),
            SampleError::Output(e) => e.status(),
            SampleError::Points { path, .. } if !path.exists() => TpxStatus::TpxNotFound,
            SampleError::Cancelled => TpxStatus::TpxCancelled,
            SampleError::Write { .. } => TpxStatus::TpxWriteFailed,
            _ => TpxStatus::TpxInvalidArgument,
        }
    }
}

impl Classify for terrapix::cube::CubeError {
    fn status(&self) -> TpxStatus {
        use terrapix::cube::CubeError;
        match self {
            CubeError::Input { path, .. } if !path.exists() && !path.to_string_lossy().contains(':') => TpxStatus::TpxNotFound,
            CubeError::Input { .. } | CubeError::Mismatch(_) => TpxStatus::TpxInvalidArgument,
            CubeError::Output { .. } => TpxStatus::TpxWriteFailed,
            CubeError::Raster(e) => e.status(),
            CubeError::Cancelled => TpxStatus::TpxCancelled,
        }
    }
}

impl Classify for terrapix::validate::ValidateError {
    fn status(&self) -> TpxStatus {
        use terrapix::validate::ValidateError;
        match self {
            ValidateError::Sample(e) => e.status(),
            ValidateError::Engine(e) => e.status(),
            ValidateError::Bundle(e) => e.status(),
            ValidateError::Output(e) => e.status(),
            ValidateError::Invalid(_) => TpxStatus::TpxInvalidArgument,
            ValidateError::Cancelled => TpxStatus::TpxCancelled,
        }
    }
}

/// The name of a status (`TPX_NOT_FOUND`), for `tpx_status_string()`; "TPX_UNKNOWN_STATUS"
/// for a number that is none.
pub fn status_name(status: std::ffi::c_int) -> &'static std::ffi::CStr {
    const NAMES: [&std::ffi::CStr; 9] = [
        c"TPX_OK",
        c"TPX_ERROR",
        c"TPX_CANCELLED",
        c"TPX_INVALID_ARGUMENT",
        c"TPX_NOT_FOUND",
        c"TPX_BAD_MODEL",
        c"TPX_UNTRUSTED",
        c"TPX_WRITE_FAILED",
        c"TPX_INVALID_HANDLE",
    ];
    usize::try_from(status).ok().and_then(|s| NAMES.get(s)).copied().unwrap_or(c"TPX_UNKNOWN_STATUS")
}

thread_local!(static PANIC_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) });

/// Replaces the default panic hook (which prints to stderr, with a backtrace when
/// RUST_BACKTRACE is set) by one that keeps the message for the boundary to return.
fn quiet_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let what = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
            PANIC_MESSAGE.with(|m| *m.borrow_mut() = Some(format!("{what}{at}")));
        }));
    });
}

/// Runs `f` at the boundary: its error, or a panic inside it, becomes a [`Failure`].
pub fn call<T>(f: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    quiet_panics();
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(_) => {
            let what = PANIC_MESSAGE.with(|m| m.borrow_mut().take()).unwrap_or_else(|| "panic".into());
            Err(Failure::error(format!("internal error in terrapix (please report it): {what}")))
        }
    }
}
