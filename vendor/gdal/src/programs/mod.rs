//! Rust wrappers for the [GDAL Programs](https://gdal.org/programs/index.html)

pub mod raster;
