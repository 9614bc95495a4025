//! Whole-raster prediction: the covariates are cut into tiles of output cells. Rayon workers
//! each read a tile with its halo (own GDAL reader), predict it (own ONNX Runtime session from
//! the model's pool) and hand it to the calling thread, which writes it and reports progress.
//! Workers out of phase overlap reading with inference; the hand-over channel is bounded, so
//! memory depends on the tile size and worker count, never on the raster size.

pub mod bench;
pub mod block;
pub mod job;
pub mod window;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crossbeam_channel::bounded;
use rayon::prelude::*;

pub use crate::plan::{Block, TensorPlan};
pub use block::{BlockOutput, PredictError, Predictor, StageTimes};
pub use window::WindowPredictor;

use crate::engine::Model;
use crate::raster::{BandInfo, BindOptions, Covariates, MapWriter, OutputOptions, RasterError, Window, WindowReader};

#[derive(Clone, Debug, Default)]
pub struct PredictOptions {
    pub bind: BindOptions,
    pub raster: RasterOptions,
    /// Cap GDAL's (process-wide) block cache at this many bytes, unless GDAL_CACHEMAX is set.
    /// Left alone when None: a host such as QGIS owns that setting.
    pub gdal_cache: Option<i64>,
}

/// How a map is written and computed: the one set of options of `terrapix predict`'s flags,
/// `tpx_predict_raster()`'s options JSON, Python's `predict_raster` and QGIS's *Predict map*
/// (serde names are the JSON keys).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RasterOptions {
    /// GeoTIFF compression (DEFLATE, LZW, ZSTD, NONE...).
    pub compress: String,
    /// Write a Cloud Optimized GeoTIFF.
    pub cog: bool,
    /// Samples per inference call (0 = automatic).
    pub batch: usize,
    /// Tile side in output cells (0 = automatic).
    pub tile: usize,
    /// Worker threads (0 = one per session of the model).
    pub workers: usize,
    /// Names of the model outputs to write, in this order (empty = all).
    pub outputs: Vec<String>,
}

impl Default for RasterOptions {
    fn default() -> Self {
        RasterOptions { compress: "DEFLATE".into(), cog: false, batch: 0, tile: 0, workers: 0, outputs: Vec::new() }
    }
}

impl RasterOptions {
    /// The GeoTIFF settings.
    pub fn output(&self) -> OutputOptions {
        OutputOptions { compress: self.compress.clone(), cog: self.cog, ..Default::default() }
    }
}

/// What a run did, for the CLI's summary and the benchmarks.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub width: usize,
    pub height: usize,
    pub input_pixels: usize,
    pub valid_cells: usize,
    /// Cells whose model output was not finite, written as nodata.
    pub nonfinite_cells: usize,
    pub seconds: f64,
    pub infer_seconds: f64,
    pub read_seconds: f64,
    pub tiles: usize,
}

/// Progress as tiles done out of the total; return `false` to cancel.
pub type ProgressFn<'a> = dyn FnMut(usize, usize) -> bool + 'a;

/// Upper bound of one tile's covariate buffer (tiles shrink to fit it).
const TILE_BYTES: usize = 48 << 20;
/// Fewest tiles an automatic tiling makes of a map (while tiles keep at least 8 cells a side).
const MIN_TILES: usize = 8;
/// What one tile may need at most, when even the smallest tile is over [`TILE_BYTES`].
const MAX_TILE_BYTES: usize = 1 << 30;

struct Tile {
    x: usize,
    y: usize,
    w: usize,
    h: usize,
}

/// Predicts the map of `model` over `covariates` into the GeoTIFF `output`.
pub fn predict_raster(
    model: &Model,
    covariates: &[PathBuf],
    output: &Path,
    options: &PredictOptions,
    progress: &mut ProgressFn<'_>,
) -> Result<Report, PredictError> {
    let start = Instant::now();
    if let Some(bytes) = options.gdal_cache {
        crate::raster::bound_gdal_cache(bytes);
    }
    let manifest = &model.manifest;
    let mut inputs: Vec<(&str, &Path)> = vec![("model", &model.path)];
    inputs.extend(covariates.iter().map(|c| ("covariate raster", c.as_path())));
    if let Some(r) = &options.bind.reference {
        inputs.push(("reference raster", r));
    }
    crate::output::refuse_inputs(output, false, &inputs)?;
    let covs = Covariates::bind(covariates, &manifest.covariates(), &options.bind)?;
    let keep = selected_outputs(manifest, &options.raster.outputs)?;
    let predictor = Predictor::new(model, options.raster.batch).only(&keep);
    let (cell, halo) = (predictor.cell(), predictor.halo());
    let grid = covs.grid.coarsened(cell);
    let bands: Vec<BandInfo> = keep
        .iter()
        .map(|&k| &manifest.outputs[k])
        .map(|o| BandInfo { description: manifest.band_description(o), unit: manifest.band_unit(o) })
        .collect();
    let settings = options.raster.output();
    let tiles = plan_tiles(grid.width, grid.height, settings.block, options.raster.tile, cell, halo, predictor.bands);
    let total = tiles.len();

    let edge = manifest.nodata.edge;
    let geo = covs.grid.geotransform;
    let workers =
        crate::engine::clamp_threads(if options.raster.workers > 0 { options.raster.workers } else { model.parallelism() }, "workers");
    let smallest = tiles.iter().map(|t| (t.w * cell + 2 * halo) * (t.h * cell + 2 * halo)).min().unwrap_or(0);
    if smallest.saturating_mul(predictor.bands.max(1)).saturating_mul(4) > MAX_TILE_BYTES {
        return Err(PredictError::Invalid(format!(
            "one tile of this model needs {} covariate values (halo {halo}, {} bands), more than terrapix allocates ({} MiB)",
            smallest * predictor.bands,
            predictor.bands,
            MAX_TILE_BYTES >> 20
        )));
    }
    // Created only once the job is known to fit, so a refused job never touches the output.
    let mut writer = MapWriter::create(output, &grid, &bands, manifest.nodata.output_nodata, &settings)?;
    let stop = AtomicBool::new(false);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()
        .map_err(|e| PredictError::Invalid(format!("cannot start worker threads: {e}")))?;
    let mut report = Report {
        width: grid.width,
        height: grid.height,
        input_pixels: covs.grid.width * covs.grid.height,
        tiles: total,
        ..Default::default()
    };

    let result: Result<(), PredictError> = std::thread::scope(|s| {
        let (tx, rx) = bounded::<Result<(usize, BlockOutput, f64), PredictError>>(workers + 1);
        let (covs, tiles, stop, predictor) = (&covs, &tiles, &stop, &predictor);
        s.spawn(move || {
            let cancelled = || stop.load(Ordering::Relaxed);
            // Each worker keeps its reader and its read buffer for all its tiles.
            let init = || {
                crate::raster::prefer_direct_reads();
                (covs.reader(), Vec::new())
            };
            let work = |state: &mut (Result<WindowReader, RasterError>, Vec<f32>), i: usize| -> Result<(), ()> {
                if cancelled() {
                    return Err(());
                }
                let out = (|| {
                    let reader = state.0.as_ref().map_err(|e| PredictError::Invalid(e.to_string()))?;
                    let t = &tiles[i];
                    let (x, y, w, h) = (t.x * cell, t.y * cell, t.w * cell, t.h * cell);
                    let started = Instant::now();
                    let mut data = std::mem::take(&mut state.1);
                    reader.read(Window { x: x as isize, y: y as isize, width: w, height: h, halo }, edge, &mut data)?;
                    let read_s = started.elapsed().as_secs_f64();
                    let mut block = Block { data, width: w, height: h, halo, geo: Some((geo, x, y)) };
                    let out = predictor.predict(&mut block, &cancelled);
                    state.1 = block.data;
                    Ok((i, out?, read_s))
                })();
                let failed = out.is_err();
                if tx.send(out).is_err() || failed {
                    return Err(()); // the writer stopped, or this tile failed: no more tiles
                }
                Ok(())
            };
            let _ = pool.install(|| (0..tiles.len()).into_par_iter().with_max_len(1).try_for_each_init(init, work));
        });

        let mut done = 0;
        for item in rx.iter() {
            let (i, mut out, read_s) = match item {
                Ok(v) => v,
                Err(e) => {
                    stop.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            };
            let t = &tiles[i];
            let planes: Vec<Vec<f32>> = keep.iter().map(|&k| std::mem::take(&mut out.bands[k])).collect();
            if let Err(e) = writer.write(t.x, t.y, out.width.min(t.w), out.height.min(t.h), &planes) {
                stop.store(true, Ordering::Relaxed);
                return Err(e.into());
            }
            report.valid_cells += out.valid;
            report.nonfinite_cells += out.nonfinite;
            report.infer_seconds += out.infer_seconds;
            report.read_seconds += read_s;
            done += 1;
            if !progress(done, total) {
                stop.store(true, Ordering::Relaxed);
                return Err(PredictError::Cancelled);
            }
        }
        Ok(())
    });
    result?; // on error `writer` is dropped, which removes its temporary file
    if report.valid_cells == 0 {
        let names = covs.names.join(", ");
        return Err(PredictError::AllNodata(format!("covariates: {names}")));
    }
    writer.finish()?;
    report.seconds = start.elapsed().as_secs_f64();
    Ok(report)
}

/// Indices of the outputs named in `names` (all when empty); an unknown name is an error that
/// lists the model's outputs.
fn selected_outputs(manifest: &crate::bundle::Manifest, names: &[String]) -> Result<Vec<usize>, PredictError> {
    if names.is_empty() {
        return Ok((0..manifest.outputs.len()).collect());
    }
    if let Some((_, n)) = names.iter().enumerate().find(|(i, n)| names[..*i].contains(n)) {
        return Err(PredictError::Invalid(format!("output '{n}' is listed twice in the outputs to write")));
    }
    names
        .iter()
        .map(|n| {
            manifest.outputs.iter().position(|o| o.name == *n).ok_or_else(|| {
                let have: Vec<&str> = manifest.outputs.iter().map(|o| o.name.as_str()).collect();
                PredictError::Invalid(format!("the model has no output '{n}' (it has: {})", have.join(", ")))
            })
        })
        .collect()
}

/// Tiles of output cells, block by block (so each output block is completed before the next is
/// started), each small enough that its covariate buffer stays under [`TILE_BYTES`], and
/// numerous enough ([`MIN_TILES`]) that every worker has some: a model on coarse cells (a
/// 64 x 64 window per 8 x 8 cell) makes a small map of costly cells.
fn plan_tiles(width: usize, height: usize, block: usize, tile: usize, cell: usize, halo: usize, bands: usize) -> Vec<Tile> {
    let mut t = if tile > 0 { tile } else { block };
    let bytes = |t: usize| (t * cell + 2 * halo).pow(2) * bands.max(1) * 4;
    let count = |t: usize| width.div_ceil(t) * height.div_ceil(t);
    while tile == 0 && t > 8 && (bytes(t) > TILE_BYTES || count(t) < MIN_TILES) {
        t /= 2;
    }
    let mut tiles = Vec::new();
    let outer = block.max(t);
    for by in (0..height).step_by(outer) {
        for bx in (0..width).step_by(outer) {
            for y in (by..(by + outer).min(height)).step_by(t) {
                for x in (bx..(bx + outer).min(width)).step_by(t) {
                    tiles.push(Tile { x, y, w: t.min(width - x).min(bx + outer - x), h: t.min(height - y).min(by + outer - y) });
                }
            }
        }
    }
    tiles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_the_grid_exactly_once() {
        for (w, h, block, cell, halo, bands) in [(1000, 700, 256, 1, 2, 130), (85, 86, 256, 24, 0, 12), (3, 2, 256, 1, 0, 1)] {
            let tiles = plan_tiles(w, h, block, 0, cell, halo, bands);
            let mut seen = vec![0u8; w * h];
            for t in &tiles {
                assert!((t.w * cell + 2 * halo).pow(2) * bands * 4 <= TILE_BYTES.max((8 * cell + 2 * halo).pow(2) * bands * 4));
                for y in t.y..t.y + t.h {
                    for x in t.x..t.x + t.w {
                        seen[y * w + x] += 1;
                    }
                }
            }
            assert!(seen.iter().all(|&c| c == 1), "{w}x{h}");
        }
    }
}
