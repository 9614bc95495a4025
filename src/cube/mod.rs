//! Cubes: rasters with a time axis (the soil-moisture workflow's soil-moisture records).
//!
//! - [`time`]: dates from CF time coordinates or per-band dates; products aligned on common dates;
//! - [`read`]: a cube through GDAL (NetCDF variable, GeoTIFF/HDF5 stack), strips of rows over dates;
//! - [`write`]: CF-compliant NetCDF-4 through GDAL's multidimensional API, temporary then renamed;
//! - [`cdf`]: CDF matching of one series (Beta method of moments, empirical quantiles);
//! - [`matching`]: CDF matching over whole cubes, per pixel or zone, with a stored mapping;
//! - [`predict`]: a bundle (or one per month) over every date of bound cubes, streamed;
//! - `bias` (feature `train`): the residual bias correction, monthly or month-as-covariate boosting;
//! - `gapfill` (feature `train`): gap filling validated by artificial masking, with intervals and a flag;
//! - [`synthetic`]: the seeded test cube (truth, reference, biased and gappy source, covariates).

pub mod cdf;
pub mod matching;
pub mod models;
pub mod predict;
pub mod read;
pub mod synthetic;
pub mod time;
pub mod write;

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CubeError {
    #[error("cannot read cube '{path}': {reason}")]
    Input { path: PathBuf, reason: String },
    #[error("cannot write '{path}': {reason}")]
    Output { path: PathBuf, reason: String },
    /// Inputs that do not fit together (grids, dates, options).
    #[error("{0}")]
    Mismatch(String),
    #[error(transparent)]
    Raster(#[from] crate::raster::RasterError),
    #[error("cancelled: nothing was written")]
    Cancelled,
}

/// The netCDF and HDF5 libraries GDAL reads cubes with are not thread-safe: every use of a cube
/// file (open, read, write, close) holds this lock.
static NETCDF: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Holds the cube-file lock (taken for every use of a NetCDF/HDF5 file by terrapix; hold it
/// too when reading such a file through GDAL on another thread).
pub fn netcdf_lock() -> std::sync::MutexGuard<'static, ()> {
    NETCDF.lock().unwrap_or_else(|e| e.into_inner())
}

/// Rows per strip so that a strip of `values_per_pixel` floats per pixel stays within `budget`
/// bytes; an error (naming the size and the budget) when even one row is over it.
pub fn strip_rows(width: usize, height: usize, values_per_pixel: usize, budget: usize) -> Result<usize, CubeError> {
    let per_row = width.max(1).saturating_mul(values_per_pixel.max(1)).saturating_mul(std::mem::size_of::<f32>());
    if per_row > budget {
        return Err(CubeError::Mismatch(format!(
            "one row of the cube ({width} pixels x {values_per_pixel} values) needs {:.1} GiB, more than terrapix allocates \
             for it ({:.1} GiB): split the record in time or space",
            per_row as f64 / (1u64 << 30) as f64,
            budget as f64 / (1u64 << 30) as f64
        )));
    }
    Ok((budget / per_row).clamp(1, height.max(1)))
}

/// `0..len` in consecutive ranges of `size` (the last one shorter).
pub fn chunks(len: usize, size: usize) -> Vec<std::ops::Range<usize>> {
    (0..len).step_by(size.max(1)).map(|s| s..(s + size).min(len)).collect()
}

/// `[step][pixel]` to `[pixel][step]` (and back, with the sizes swapped), in parallel.
pub fn transpose(data: &[f32], steps: usize, pixels: usize) -> Vec<f32> {
    gather_series(data, pixels, &(0..steps).collect::<Vec<_>>())
}

/// Each pixel's series over the chosen `steps` of `data` (`[step][pixel]`): `[pixel][k]` is
/// `data[steps[k]][pixel]`; in parallel.
pub fn gather_series(data: &[f32], pixels: usize, steps: &[usize]) -> Vec<f32> {
    use rayon::prelude::*;
    let mut out = vec![0f32; pixels * steps.len()];
    out.par_chunks_mut(steps.len().max(1)).enumerate().for_each(|(p, series)| {
        for (v, &t) in series.iter_mut().zip(steps) {
            *v = data[t * pixels + p];
        }
    });
    out
}

/// Scores the cube `estimate` against `truth` over their common dates and the values both have
/// (`terrapix cube-scores`); returns the number of common dates and the scores. No common date,
/// or no value in both, is an error: there is nothing to score.
pub fn score(estimate: &std::path::Path, truth: &std::path::Path) -> Result<(usize, crate::metrics::Scores), CubeError> {
    let (e, t) = (read::CubeSource::open(estimate, None)?, read::CubeSource::open(truth, None)?);
    if !e.grid.same_as(&t.grid) {
        return Err(CubeError::Mismatch(format!("'{}' and '{}' are not on one grid", estimate.display(), truth.display())));
    }
    let al = time::align(&[("the estimate", &e.dates), ("the truth", &t.dates)]).map_err(CubeError::Mismatch)?;
    if al.common.is_empty() {
        return Err(CubeError::Mismatch(format!(
            "'{}' and '{}' have no date in common: nothing to score",
            estimate.display(),
            truth.display()
        )));
    }
    // Strip by strip: a long record of a large grid is never held whole.
    let rows = strip_rows(e.grid.width, e.grid.height, 2 * al.common.len(), 256 << 20)?;
    let (mut ev, mut tv) = (Vec::new(), Vec::new());
    let mut acc = crate::metrics::ScoreSums::default();
    for r in chunks(e.grid.height, rows) {
        e.read_strip(&al.indices[0], r.clone(), &mut ev)?;
        t.read_strip(&al.indices[1], r, &mut tv)?;
        acc.add(&ev, &tv);
    }
    let s = acc.scores();
    if s.n == 0 {
        return Err(CubeError::Mismatch(format!(
            "no pixel of the {} common dates has a value in both cubes: nothing to score",
            al.common.len()
        )));
    }
    Ok((al.common.len(), s))
}
