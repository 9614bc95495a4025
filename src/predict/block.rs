//! Prediction of one block: a buffer of covariate bands with a halo becomes output bands.
//!
//! This is the single path from covariate values to predictions; the tiled raster pipeline,
//! the C ABI's buffer call and the GDAL driver and pixel functions all call
//! [`Predictor::predict`]. The [`TensorPlan`] fills gaps, finds the valid cells and assembles
//! their tensors; the predictor runs them through the model in batches and back-transforms.

use std::time::Instant;

use crate::bundle::TargetTransform;
use crate::engine::{EngineError, Model};
use crate::plan::{Block, TensorPlan};

/// Time split of one block, for benchmarks.
#[derive(Clone, Copy, Debug, Default)]
pub struct StageTimes {
    pub samples: usize,
    pub assemble_seconds: f64,
    pub infer_seconds: f64,
}

/// Output of one block: one plane of `width x height` cells per output band.
pub struct BlockOutput {
    pub width: usize,
    pub height: usize,
    pub bands: Vec<Vec<f32>>,
    /// Cells that got a prediction.
    pub valid: usize,
    /// Cells whose inputs were valid but whose model output was not finite (written as nodata).
    pub nonfinite: usize,
    /// Seconds spent inside ONNX Runtime.
    pub infer_seconds: f64,
}

impl BlockOutput {
    /// Copies the band planes, in order, into `dst` (bands x width x height values).
    pub fn copy_into(&self, dst: &mut [f32]) {
        for (plane, band) in dst.chunks_mut(self.width * self.height).zip(&self.bands) {
            plane.copy_from_slice(band);
        }
    }
}

/// A model and its tensor plan; cheap to share across threads.
pub struct Predictor<'m> {
    model: &'m Model,
    plan: TensorPlan,
    transform: TargetTransform,
    back_transform: Vec<bool>,
    output_nodata: f32,
    /// The manifest outputs to compute (None: all); the others stay nodata.
    only: Option<Vec<usize>>,
    pub bands: usize,
    pub batch: usize,
}

impl<'m> Predictor<'m> {
    /// `batch` overrides the automatic batch size (0 = automatic).
    pub fn new(model: &'m Model, batch: usize) -> Predictor<'m> {
        let m = &model.manifest;
        let plan = TensorPlan::new(m);
        let sample_len: usize = plan.sample_lens().iter().sum();
        // Never more than a quarter of what the engine allows for one call (a huge window has
        // few samples per batch); the engine refused a model whose single sample is over it.
        let cap = (crate::engine::MAX_BATCH_BYTES / 4 / (sample_len.max(1) * 4)).max(1);
        let batch = match (model.fixed_batch, batch) {
            (Some(b), _) => b,
            // About 4 MB of input per call: large enough to amortise a run, small enough that
            // the activations stay in cache (measured: mlp, cnnlstm and coordcnn of ../shared/bench).
            (None, 0) => ((1 << 20) / sample_len.max(1)).clamp(256, 4096).min(cap),
            (None, b) => b.min(cap),
        };
        Predictor {
            model,
            bands: plan.bands,
            plan,
            transform: m.target.transform,
            back_transform: m.outputs.iter().map(|o| o.kind.is_on_target_scale()).collect(),
            output_nodata: m.nodata.output_nodata,
            only: None,
            batch,
        }
    }

    /// Pixels of context a block needs around its core.
    pub fn halo(&self) -> usize {
        self.plan.halo()
    }

    /// Input pixels per output cell along each axis.
    pub fn cell(&self) -> usize {
        self.plan.cell()
    }

    pub fn model(&self) -> &Model {
        self.model
    }

    /// Predicts every output cell of `block`. `cancelled` is polled between batches.
    pub fn predict(&self, block: &mut Block, cancelled: &dyn Fn() -> bool) -> Result<BlockOutput, PredictError> {
        if block.halo != self.halo() || block.data.len() != self.bands * block.plane() {
            return Err(PredictError::Invalid(format!(
                "block of {} values with halo {} does not fit the model ({} bands, halo {})",
                block.data.len(),
                block.halo,
                self.bands,
                self.halo()
            )));
        }
        let (ow, oh, cells) = self.plan.prepare(block);
        let n_out = self.back_transform.len();
        let mut bands = vec![vec![self.output_nodata; ow * oh]; n_out];
        let mut infer_seconds = 0.0;
        // Tensor buffers live as long as the thread: fresh ones per block cost page faults. They
        // are taken out of the thread-local for the block, not borrowed: assembly runs rayon
        // work, and a rayon worker waiting there may run another block's predict on this thread.
        thread_local!(static TENSORS: std::cell::Cell<Vec<Vec<f32>>> = const { std::cell::Cell::new(Vec::new()) });
        let mut tensors = TENSORS.take();
        let mut nonfinite = 0;
        for chunk in cells.chunks(self.batch) {
            if cancelled() {
                return Err(PredictError::Cancelled);
            }
            let n = self.model.fixed_batch.unwrap_or(chunk.len());
            self.plan.assemble_all(block, chunk, n, &mut tensors);
            let t = Instant::now();
            let out = self.model.run_only(n, &tensors, self.only.as_deref())?;
            infer_seconds += t.elapsed().as_secs_f64();
            for (b, values) in out.into_iter().enumerate().filter(|(_, v)| !v.is_empty()) {
                let back = self.back_transform[b] && self.transform == TargetTransform::Log1p;
                for (&cell, &v) in chunk.iter().zip(&values) {
                    bands[b][cell] = if back { v.exp_m1() } else { v };
                }
            }
            // A cell with a non-finite output (an overflow on extreme covariates) is nodata in
            // every band: an infinite spread or a NaN is never written as valid data.
            for &cell in chunk {
                if bands.iter().enumerate().any(|(b, band)| self.only.as_ref().is_none_or(|k| k.contains(&b)) && !band[cell].is_finite()) {
                    nonfinite += 1;
                    bands.iter_mut().for_each(|band| band[cell] = self.output_nodata);
                }
            }
        }
        TENSORS.set(tensors);
        Ok(BlockOutput { width: ow, height: oh, bands, valid: cells.len() - nonfinite, nonfinite, infer_seconds })
    }

    /// Computes only the manifest outputs `keep` (the rest of each block stays nodata): the
    /// native engine then skips every graph node no kept output needs.
    pub fn only(mut self, keep: &[usize]) -> Predictor<'m> {
        if keep.len() < self.model.manifest.outputs.len() {
            self.only = Some(keep.to_vec());
        }
        self
    }

    /// Benchmark helper: runs `block` as [`Predictor::predict`] does, timing tensor assembly and
    /// ONNX Runtime separately.
    pub fn time_stages(&self, block: &mut Block) -> Result<StageTimes, PredictError> {
        let t = Instant::now();
        let (_, _, cells) = self.plan.prepare(block);
        let mut times = StageTimes { samples: cells.len(), assemble_seconds: t.elapsed().as_secs_f64(), ..Default::default() };
        let mut tensors = Vec::new();
        for chunk in cells.chunks(self.batch) {
            let t = Instant::now();
            let n = self.model.fixed_batch.unwrap_or(chunk.len());
            self.plan.assemble_all(block, chunk, n, &mut tensors);
            times.assemble_seconds += t.elapsed().as_secs_f64();
            let t = Instant::now();
            self.model.run(n, &tensors)?;
            times.infer_seconds += t.elapsed().as_secs_f64();
        }
        Ok(times)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Raster(#[from] crate::raster::RasterError),
    #[error(transparent)]
    Bundle(#[from] crate::bundle::BundleError),
    #[error("cancelled; no output was written")]
    Cancelled,
    #[error("every output pixel would be nodata: no location has all the covariates the model needs ({0})")]
    AllNodata(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
}
