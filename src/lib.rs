//! terrapix: turn trained environmental models into maps.
//!
//! Layers, with data flowing one way (cli / ffi -> predict -> raster, engine -> bundle):
//! - [`bundle`]: the model bundle (ONNX + manifest), reading, writing, ensembles;
//! - [`engine`]: ONNX Runtime, loaded dynamically, and the manifest-versus-graph check;
//! - [`raster`]: GDAL I/O, band binding, alignment, windows with halo, the output map;
//! - [`plan`]: the tensor plan, the one path from raster values to model tensors (prediction and sampling);
//! - [`predict`]: one block ([`predict::Predictor`]), the tiled, pipelined whole raster, prediction jobs and VRTs;
//! - [`output`]: safe outputs (temporary, checked, renamed; inputs never overwritten);
//! - [`indices`]: spectral indices (NDVI, EVI...);
//! - doors: [`ffi`], the C ABI (`include/terrapix.h`); [`gdal_plugin`], pixel functions and the TERRAPIX
//!   driver; both go through [`boundary`], which turns errors and panics into status codes;
//! - [`sample`]: field samples and the tensors a model layout needs at each of them;
//! - [`validate`]: a bundle checked on independent points ([`metrics`], figures by [`plot`]);
//! - `train` (feature `train`): libtorch models, cross-validation, ONNX ensemble export;
//! - [`landscape`], [`quicklook`]: the seeded sample landscape and PNG previews of maps.

pub mod binding;
pub mod bundle;
pub mod cube;
pub mod engine;
pub mod indices;
pub mod landscape;
pub mod metrics;
pub mod native;
pub mod output;
pub mod plan;
pub mod plot;
pub mod predict;
pub mod progress;
pub mod quicklook;
pub mod raster;
pub mod sample;
pub mod util;
pub mod validate;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
