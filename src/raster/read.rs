//! Reading windows of the covariates with their halo, nodata as NaN and the manifest's edge
//! policy beyond the raster.

use std::path::Path;

use ::gdal::Dataset;

use super::bind::Run;
use super::gdal::CplCapture;
use super::RasterError;
use crate::bundle::EdgeMode;

/// Opens a raster read-only, with GDAL's own reason when it cannot (not GDAL's bare "returned
/// a NULL pointer").
pub fn open_raster(path: &Path) -> Result<Dataset, String> {
    let capture = CplCapture::new();
    let options = gdal::DatasetOptions { open_flags: gdal::GdalOpenFlags::GDAL_OF_RASTER, ..Default::default() };
    Dataset::open_ex(path, options).map_err(|e| match capture.take(false) {
        Some(reason) => reason,
        None if matches!(e, gdal::errors::GdalError::NullPointer { .. }) => "not a raster format GDAL can read".into(),
        None => e.to_string(),
    })
}

/// A window of the covariate grid: its core (x, y, width, height) and the context pixels read
/// around it.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub x: isize,
    pub y: isize,
    pub width: usize,
    pub height: usize,
    pub halo: usize,
}

/// Reads windows of the covariates, with a halo and the manifest's edge policy, as
/// band-sequential Float32 where every missing value (nodata or NaN) is NaN.
pub struct WindowReader {
    pub(super) datasets: Vec<Dataset>,
    pub(super) runs: Vec<(usize, Run)>,
    /// The map grid's size; windows are in its pixels.
    pub width: usize,
    pub height: usize,
    /// Where the map grid starts in the datasets, and their size (halos are read from there).
    pub(super) offset: (isize, isize),
    pub(super) full_size: (isize, isize),
    pub bands: usize,
    pub(super) nodata: Vec<Option<f64>>,
}

impl WindowReader {
    /// Reads `window` grown by its halo on every side into `buf` (`bands * (width + 2 halo) *
    /// (height + 2 halo)` values). Pixels outside the raster follow `edge`.
    pub fn read(&self, window: Window, edge: EdgeMode, buf: &mut Vec<f32>) -> Result<(), RasterError> {
        let Window { x, y, width: w, height: h, halo } = window;
        let (pw, ph) = (w + 2 * halo, h + 2 * halo);
        buf.clear();
        buf.resize(self.bands * pw * ph, f32::NAN);
        // In the datasets' pixels: the map grid may be a crop of theirs.
        let (gx0, gy0) = (x - halo as isize + self.offset.0, y - halo as isize + self.offset.1);
        let cx0 = gx0.max(0);
        let cy0 = gy0.max(0);
        let cx1 = (gx0 + pw as isize).min(self.full_size.0);
        let cy1 = (gy0 + ph as isize).min(self.full_size.1);
        if cx1 <= cx0 || cy1 <= cy0 {
            return Ok(()); // entirely outside: all missing
        }
        let (cw, ch) = ((cx1 - cx0) as usize, (cy1 - cy0) as usize);
        let (ox, oy) = ((cx0 - gx0) as usize, (cy0 - gy0) as usize);
        let at = |first: usize| super::gdal::Placement { first, plane_width: pw, plane_height: ph, x: ox, y: oy };
        for (k, run) in &self.runs {
            let window = (cx0 as usize, cy0 as usize, cw, ch);
            super::gdal::read_bands_into(&self.datasets[*k], &run.bands, window, buf, &at(run.first))
                .map_err(|reason| RasterError::Gdal { path: run.dataset.clone(), reason })?;
        }
        for (b, plane) in buf.chunks_mut(pw * ph).enumerate() {
            if let Some(nd) = self.nodata[b] {
                let nd = nd as f32;
                for v in plane.iter_mut() {
                    if *v == nd {
                        *v = f32::NAN;
                    }
                }
            }
            if edge == EdgeMode::Replicate && (cw, ch) != (pw, ph) {
                replicate_edges(plane, pw, ph, ox, oy, cw, ch);
            }
        }
        Ok(())
    }
}

/// Fills the part of a pw x ph plane outside the valid rectangle (ox, oy, cw, ch) with the
/// nearest valid edge value.
fn replicate_edges(plane: &mut [f32], pw: usize, ph: usize, ox: usize, oy: usize, cw: usize, ch: usize) {
    for row in oy..oy + ch {
        let line = &mut plane[row * pw..(row + 1) * pw];
        let (left, right) = (line[ox], line[ox + cw - 1]);
        line[..ox].fill(left);
        line[ox + cw..].fill(right);
    }
    for row in 0..oy {
        plane.copy_within(oy * pw..(oy + 1) * pw, row * pw);
    }
    for row in oy + ch..ph {
        plane.copy_within((oy + ch - 1) * pw..(oy + ch) * pw, row * pw);
    }
}

/// Makes this thread read uncompressed GeoTIFFs straight into the caller's buffer, bypassing
/// GDAL's block cache (unless the user set GTIFF_DIRECT_IO): each covariate value is read once,
/// so caching blocks only costs memory and a copy. Thread-local: the host's settings stay.
pub fn prefer_direct_reads() {
    if gdal::config::get_config_option("GTIFF_DIRECT_IO", "").unwrap_or_default().is_empty() {
        let _ = gdal::config::set_thread_local_config_option("GTIFF_DIRECT_IO", "YES");
    }
}
