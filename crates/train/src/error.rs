//! The trainer's errors: what went wrong, typed; cancellation is its own variant.

use terrapix::bundle::BundleError;
use terrapix::cube::CubeError;
use terrapix::engine::EngineError;
use terrapix::output::OutputError;
use terrapix::sample::SampleError;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A configuration, a set of samples or a request the trainer cannot use (the message says
    /// which value, and what it may be).
    #[error("{0}")]
    Invalid(String),
    /// libtorch failed (an allocation, a device, a shape).
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// LightGBM failed.
    #[error("LightGBM: {0}")]
    Boost(String),
    /// The run was asked to stop; nothing was written.
    #[error("cancelled: nothing was written")]
    Cancelled,
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Sample(#[from] SampleError),
    #[error(transparent)]
    Cube(#[from] CubeError),
}

impl From<String> for TrainError {
    fn from(message: String) -> TrainError {
        TrainError::Invalid(message)
    }
}

impl From<&str> for TrainError {
    fn from(message: &str) -> TrainError {
        TrainError::Invalid(message.into())
    }
}

/// `TrainError::Invalid(format!(...))`.
macro_rules! invalid {
    ($($t:tt)*) => { $crate::error::TrainError::Invalid(format!($($t)*)) };
}
pub(crate) use invalid;
