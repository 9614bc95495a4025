//! The benchmarks' yardstick: ONNX Runtime alone on the tensors terrapix assembles for the
//! first tiles of a job, timed apart from reading and assembling (`terrapix bench-ort`).

use std::path::PathBuf;
use std::time::Instant;

use super::{Block, PredictError, Predictor, StageTimes};
use crate::engine::Model;
use crate::raster::{BindOptions, Covariates, Window};

/// Where the time went, over `tiles` tiles.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct OrtOnly {
    /// Input pixels the tiles cover.
    pub pixels: usize,
    pub infer_seconds: f64,
    pub assemble_seconds: f64,
    pub read_seconds: f64,
    pub batch: usize,
}

impl OrtOnly {
    /// Input pixels per second of ONNX Runtime's own time, in millions.
    pub fn mpix_per_second(&self) -> f64 {
        self.pixels as f64 / self.infer_seconds / 1e6
    }
}

/// Times ONNX Runtime alone on the first `tiles` tiles (256 x 256 output cells, or fewer for
/// coarse cells) of `model` over `covariates`; `batch` 0 is the automatic batch.
pub fn ort_only(model: &Model, covariates: &[PathBuf], tiles: usize, batch: usize) -> Result<OrtOnly, PredictError> {
    let covs = Covariates::bind(covariates, &model.manifest.covariates(), &BindOptions::default())?;
    let predictor = Predictor::new(model, batch);
    let (cell, halo) = (predictor.cell(), predictor.halo());
    let side = (256 / cell).max(1) * cell;
    let reader = covs.reader()?;
    let (mut out, mut total) = (OrtOnly { batch: predictor.batch, ..Default::default() }, StageTimes::default());
    for t in 0..tiles {
        let per_row = (covs.grid.width / side).max(1);
        let (x, y) = ((t % per_row) * side, (t / per_row) * side);
        let (w, h) = (side.min(covs.grid.width.saturating_sub(x)), side.min(covs.grid.height.saturating_sub(y)));
        if w == 0 || h == 0 {
            break;
        }
        let (w, h) = (w / cell * cell, h / cell * cell);
        let mut data = Vec::new();
        let started = Instant::now();
        reader.read(Window { x: x as isize, y: y as isize, width: w, height: h, halo }, model.manifest.nodata.edge, &mut data)?;
        out.read_seconds += started.elapsed().as_secs_f64();
        let mut block = Block { data, width: w, height: h, halo, geo: Some((covs.grid.geotransform, x, y)) };
        let times = predictor.time_stages(&mut block)?;
        out.pixels += times.samples * cell * cell;
        total.assemble_seconds += times.assemble_seconds;
        total.infer_seconds += times.infer_seconds;
    }
    out.infer_seconds = total.infer_seconds;
    out.assemble_seconds = total.assemble_seconds;
    Ok(out)
}
