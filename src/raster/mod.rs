//! GDAL I/O, by job: [`bind`] binds covariate bands to a manifest's names and aligns rasters to
//! one reference grid; [`read`] reads windows with their halo; [`write`] creates the output map;
//! [`gdal`] is the one place where GDAL's C API is called directly (each call in its own small
//! function, with why it is sound).
//!
//! The covariates are presented to the rest of terrapix as one band-sequential Float32 buffer per
//! window, one plane per covariate in manifest order. Sources on the reference grid are read
//! directly; sources on another grid or CRS through a warped VRT (in `/vsimem/`), so alignment
//! happens on the fly inside GDAL.

mod bind;
pub mod gdal;
mod read;
mod write;

use std::path::PathBuf;

use ::gdal::spatial_ref::SpatialRef;
use ::gdal::Dataset;

pub use bind::{check_extent, BindOptions, Covariates};
pub(crate) use bind::{find_band, open_source, Source};
pub use gdal::{bound_gdal_cache, CplCapture};
pub use read::{open_raster, prefer_direct_reads, Window, WindowReader};
pub use write::{BandInfo, MapWriter, OutputOptions};

#[derive(Debug, thiserror::Error)]
pub enum RasterError {
    #[error("covariate raster '{0}' does not exist")]
    NotFound(PathBuf),
    #[error("cannot open covariate raster '{path}': {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("covariate {name} was not found. {hint}")]
    MissingCovariate { name: String, hint: String },
    /// Covariates that no band provides, with the bands there are.
    #[error("{0}")]
    Unbound(String),
    #[error("covariate '{name}' is ambiguous: it is band {a} and band {b}; bind it explicitly ({name}=FILE:BAND)")]
    Ambiguous { name: String, a: String, b: String },
    #[error("bad band binding '{binding}': {reason}")]
    BadBinding { binding: String, reason: String },
    #[error("{0}")]
    Invalid(String),
    #[error("the extent {extent:?} does not overlap the grid of '{reference}' (bounds {bounds:?})")]
    Extent { extent: [f64; 4], reference: PathBuf, bounds: [f64; 4] },
    #[error("'{path}' does not overlap the reference grid of '{reference}'")]
    NoOverlap { path: PathBuf, reference: PathBuf },
    #[error("'{path}' has no georeferencing (geotransform and CRS); cannot align it to '{reference}'")]
    NoGeoreference { path: PathBuf, reference: PathBuf },
    #[error("GDAL error on '{path}': {reason}")]
    Gdal { path: String, reason: String },
    #[error("cannot write output '{path}': {reason}")]
    Output { path: PathBuf, reason: String },
}

fn gdal_err(path: impl Into<String>) -> impl FnOnce(::gdal::errors::GdalError) -> RasterError {
    let path = path.into();
    move |e| RasterError::Gdal { path, reason: e.to_string() }
}

/// A raster grid: size in pixels, affine geotransform and CRS (WKT).
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    pub width: usize,
    pub height: usize,
    pub geotransform: [f64; 6],
    pub wkt: String,
}

impl Grid {
    pub(crate) fn of(ds: &Dataset) -> Grid {
        let (width, height) = ds.raster_size();
        Grid { width, height, geotransform: ds.geo_transform().unwrap_or([0.0, 1.0, 0.0, 0.0, 0.0, 1.0]), wkt: ds.projection() }
    }

    fn is_georeferenced(&self) -> bool {
        self.geotransform != [0.0, 1.0, 0.0, 0.0, 0.0, 1.0] && !self.wkt.is_empty()
    }

    /// The map coordinate of the centre of pixel (col, row).
    pub fn pixel_centre(&self, col: f64, row: f64) -> (f64, f64) {
        let g = &self.geotransform;
        let (c, r) = (col + 0.5, row + 0.5);
        (g[0] + c * g[1] + r * g[2], g[3] + c * g[4] + r * g[5])
    }

    /// This grid coarsened by `cell` pixels per output pixel (sizes rounded up).
    pub fn coarsened(&self, cell: usize) -> Grid {
        let mut g = self.clone();
        g.width = self.width.div_ceil(cell);
        g.height = self.height.div_ceil(cell);
        for i in [1, 2, 4, 5] {
            g.geotransform[i] *= cell as f64;
        }
        g
    }

    /// Map coordinates to (fractional) pixel coordinates, or None when the geotransform cannot
    /// be inverted.
    pub fn to_pixel(&self) -> Option<impl Fn(f64, f64) -> (f64, f64)> {
        let mut inverse = [0f64; 6];
        let mut gt = self.geotransform;
        // SAFETY: two 6-element arrays, as GDALInvGeoTransform expects.
        if unsafe { gdal_sys::GDALInvGeoTransform(gt.as_mut_ptr(), inverse.as_mut_ptr()) } == 0 {
            return None;
        }
        let g = inverse;
        Some(move |x: f64, y: f64| (g[0] + x * g[1] + y * g[2], g[3] + x * g[4] + y * g[5]))
    }

    /// The part of this grid covering `extent` (xmin, ymin, xmax, ymax in its CRS), snapped
    /// outwards to whole pixels: its pixel offset in this grid and the cropped grid.
    pub fn crop(&self, extent: [f64; 4]) -> Option<((usize, usize), Grid)> {
        let to_pixel = self.to_pixel()?;
        let [x0, y0, x1, y1] = extent;
        let (mut c0, mut r0, mut c1, mut r1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for (x, y) in [(x0, y0), (x0, y1), (x1, y0), (x1, y1)] {
            let (c, r) = to_pixel(x, y);
            (c0, r0, c1, r1) = (c0.min(c), r0.min(r), c1.max(c), r1.max(r));
        }
        // A small tolerance so that an extent on pixel edges does not take one more pixel.
        let eps = 1e-6;
        let c0 = (c0 + eps).floor().max(0.0) as usize;
        let r0 = (r0 + eps).floor().max(0.0) as usize;
        let c1 = ((c1 - eps).ceil().max(0.0) as usize).min(self.width);
        let r1 = ((r1 - eps).ceil().max(0.0) as usize).min(self.height);
        if c1 <= c0 || r1 <= r0 {
            return None;
        }
        let (ox, oy) = self.pixel_centre(c0 as f64 - 0.5, r0 as f64 - 0.5);
        let g = &self.geotransform;
        let grid = Grid { width: c1 - c0, height: r1 - r0, geotransform: [ox, g[1], g[2], oy, g[4], g[5]], wkt: self.wkt.clone() };
        Some(((c0, r0), grid))
    }

    fn bounds(&self) -> [f64; 4] {
        let (x0, y0) = self.pixel_centre(-0.5, -0.5);
        let (x1, y1) = self.pixel_centre(self.width as f64 - 0.5, self.height as f64 - 0.5);
        [x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1)]
    }

    pub fn same_as(&self, other: &Grid) -> bool {
        let tol = self.geotransform[1].abs().max(self.geotransform[5].abs()) * 1e-6;
        self.width == other.width
            && self.height == other.height
            && self.geotransform.iter().zip(&other.geotransform).all(|(a, b)| (a - b).abs() <= tol)
            && same_crs(&self.wkt, &other.wkt)
    }
}

pub(crate) fn same_crs(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (SpatialRef::from_wkt(a), SpatialRef::from_wkt(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
