//! GDAL processing routines.

pub mod dem;
