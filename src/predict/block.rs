//! Prediction of one block: a buffer of covariate bands with a halo becomes output bands.
//!
//! This is the single path from covariate values to predictions; the tiled raster pipeline,
//! the C ABI's buffer call and the GDAL pixel functions all call [`Predictor::predict`].
//! Steps: optional gap filling, validity of every output cell under the nodata policy, tensor
//! assembly (normalised) for the valid cells only, batched inference, back-transform.

use rayon::prelude::*;
use std::time::Instant;

use crate::bundle::{generated, GapFill, Layout, TargetTransform};
use crate::engine::{EngineError, Model};

/// Covariate values around a block of output cells, band-sequential, NaN where missing.
pub struct Block {
    /// `bands` planes of `(width + 2 halo) x (height + 2 halo)` values.
    pub data: Vec<f32>,
    /// Core size in input pixels; a multiple of the model's cell size.
    pub width: usize,
    pub height: usize,
    pub halo: usize,
    /// Geotransform of the covariate grid and the (col, row) of the core's top-left pixel in
    /// it; needed only by models with map-coordinate channels.
    pub geo: Option<([f64; 6], usize, usize)>,
}

impl Block {
    fn plane(&self) -> usize {
        (self.width + 2 * self.halo) * (self.height + 2 * self.halo)
    }
    fn stride(&self) -> usize {
        self.width + 2 * self.halo
    }
}

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
    /// Seconds spent inside ONNX Runtime.
    pub infer_seconds: f64,
}

#[derive(Clone, Copy, Debug)]
enum Source {
    Band(usize),
    PatchX,
    PatchY,
    MapX,
    MapY,
}

struct ChannelPlan {
    source: Source,
    mean: f32,
    inv_std: f32,
}

struct InputPlan {
    layout: Layout,
    channels: Vec<ChannelPlan>,
    /// Distinct bands read by this input (for the validity mask).
    bands: Vec<usize>,
}

/// Everything needed to predict blocks with one model; cheap to share across threads.
pub struct Predictor<'m> {
    model: &'m Model,
    inputs: Vec<InputPlan>,
    cell: usize,
    model_halo: usize,
    fill: Option<GapFill>,
    transform: TargetTransform,
    back_transform: Vec<bool>,
    output_nodata: f32,
    pub bands: usize,
    pub batch: usize,
}

impl<'m> Predictor<'m> {
    /// `batch` overrides the automatic batch size (0 = automatic).
    pub fn new(model: &'m Model, batch: usize) -> Predictor<'m> {
        let m = &model.manifest;
        let covariates = m.covariates();
        let inputs: Vec<InputPlan> = m
            .inputs
            .iter()
            .map(|spec| {
                let channels: Vec<ChannelPlan> = spec
                    .channels
                    .iter()
                    .map(|c| {
                        let source = match c.covariate.as_str() {
                            generated::PATCH_X => Source::PatchX,
                            generated::PATCH_Y => Source::PatchY,
                            generated::MAP_X => Source::MapX,
                            generated::MAP_Y => Source::MapY,
                            name => Source::Band(covariates.iter().position(|n| n == name).expect("covariates() lists every band channel")),
                        };
                        ChannelPlan { source, mean: c.mean, inv_std: 1.0 / c.std }
                    })
                    .collect();
                let mut bands: Vec<usize> =
                    channels.iter().filter_map(|c| if let Source::Band(b) = c.source { Some(b) } else { None }).collect();
                bands.sort_unstable();
                bands.dedup();
                InputPlan { layout: spec.layout, channels, bands }
            })
            .collect();
        let sample_len: usize = m.inputs.iter().map(|i| i.layout.sample_len(i.channels.len())).sum();
        let batch = match (model.fixed_batch, batch) {
            (Some(b), _) => b,
            // About 4 MB of input per call: large enough to amortise a run, small enough that
            // the activations stay in cache (measured: mlp, cnnlstm and coordcnn of ../shared/bench).
            (None, 0) => ((1 << 20) / sample_len.max(1)).clamp(256, 4096),
            (None, b) => b,
        };
        Predictor {
            model,
            inputs,
            cell: m.cell(),
            model_halo: m.halo(),
            fill: m.nodata.fill_gaps,
            transform: m.target.transform,
            back_transform: m.outputs.iter().map(|o| o.kind.is_on_target_scale()).collect(),
            output_nodata: m.nodata.output_nodata,
            bands: covariates.len(),
            batch,
        }
    }

    /// Pixels of context a block needs around its core.
    pub fn halo(&self) -> usize {
        self.model_halo + self.fill.map_or(0, |f| f.radius)
    }

    /// Input pixels per output cell along each axis.
    pub fn cell(&self) -> usize {
        self.cell
    }

    pub fn model(&self) -> &Model {
        self.model
    }

    /// Predicts every output cell of `block`. `cancelled` is polled between batches.
    pub fn predict(&self, block: &mut Block, cancelled: &dyn Fn() -> bool) -> Result<BlockOutput, PredictError> {
        assert_eq!(block.halo, self.halo(), "block read with the predictor's halo");
        assert_eq!(block.data.len(), self.bands * block.plane(), "block holds every covariate band");
        let (ow, oh, cells) = self.prepare(block);
        let n_out = self.back_transform.len();
        let mut bands = vec![vec![self.output_nodata; ow * oh]; n_out];
        let mut infer_seconds = 0.0;
        // Tensor buffers live as long as the thread: fresh ones per block cost page faults.
        thread_local!(static TENSORS: std::cell::RefCell<Vec<Vec<f32>>> = const { std::cell::RefCell::new(Vec::new()) });
        for chunk in cells.chunks(self.batch) {
            if cancelled() {
                return Err(PredictError::Cancelled);
            }
            let out = TENSORS.with_borrow_mut(|tensors| {
                let n = self.assemble_all(block, chunk, tensors);
                let t = Instant::now();
                let out = self.model.run(n, tensors);
                infer_seconds += t.elapsed().as_secs_f64();
                out
            })?;

            for (b, values) in out.into_iter().enumerate() {
                let back = self.back_transform[b] && self.transform == TargetTransform::Log1p;
                for (&cell, &v) in chunk.iter().zip(&values) {
                    bands[b][cell] = if back { v.exp_m1() } else { v };
                }
            }
        }
        Ok(BlockOutput { width: ow, height: oh, bands, valid: cells.len(), infer_seconds })
    }

    /// Benchmark helper: runs `block` as [`Predictor::predict`] does, timing tensor assembly and
    /// ONNX Runtime separately.
    pub fn time_stages(&self, block: &mut Block) -> Result<StageTimes, PredictError> {
        let t = Instant::now();
        let (_, _, cells) = self.prepare(block);
        let mut times = StageTimes { samples: cells.len(), assemble_seconds: t.elapsed().as_secs_f64(), ..Default::default() };
        let mut tensors = Vec::new();
        for chunk in cells.chunks(self.batch) {
            let t = Instant::now();
            let n = self.assemble_all(block, chunk, &mut tensors);
            times.assemble_seconds += t.elapsed().as_secs_f64();
            let t = Instant::now();
            self.model.run(n, &tensors)?;
            times.infer_seconds += t.elapsed().as_secs_f64();
        }
        Ok(times)
    }

    /// Fills gaps (if the policy says so) and lists the valid cells. Returns (width, height, cells)
    /// of the block's output.
    fn prepare(&self, block: &mut Block) -> (usize, usize, Vec<usize>) {
        let (ow, oh) = (block.width / self.cell, block.height / self.cell);
        if let Some(fill) = self.fill {
            fill_gaps(block, fill);
        }
        (ow, oh, self.valid_cells(block, ow, oh))
    }

    /// Indices (row-major) of the output cells whose every needed input value is present.
    fn valid_cells(&self, block: &Block, ow: usize, oh: usize) -> Vec<usize> {
        let (stride, plane, halo) = (block.stride(), block.plane(), block.halo);
        let rows = block.height + 2 * halo;
        let mut ok = vec![true; ow * oh];
        for input in &self.inputs {
            // Per pixel: all bands of this input present.
            let mut mask = vec![true; plane];
            for &b in &input.bands {
                for (m, v) in mask.iter_mut().zip(&block.data[b * plane..(b + 1) * plane]) {
                    *m &= v.is_finite();
                }
            }
            let (k, step, off) = match input.layout {
                Layout::Window { size } => (size, 1, halo - size / 2),
                Layout::Patch { size } => (size, size, halo),
                Layout::Pixel | Layout::Series { .. } => (1, 1, halo),
            };
            if k == 1 {
                for (i, o) in ok.iter_mut().enumerate() {
                    *o &= mask[(off + i / ow) * stride + off + i % ow];
                }
                continue;
            }
            // Summed-area table of valid pixels: a k x k area is valid when it counts k * k.
            let mut sat = vec![0u32; (stride + 1) * (rows + 1)];
            for y in 0..rows {
                let mut run = 0u32;
                for x in 0..stride {
                    run += mask[y * stride + x] as u32;
                    sat[(y + 1) * (stride + 1) + x + 1] = sat[y * (stride + 1) + x + 1] + run;
                }
            }
            let full = (k * k) as u32;
            for (i, o) in ok.iter_mut().enumerate() {
                let (x0, y0) = (off + (i % ow) * step, off + (i / ow) * step);
                let (x1, y1) = (x0 + k, y0 + k);
                let s =
                    sat[y1 * (stride + 1) + x1] + sat[y0 * (stride + 1) + x0] - sat[y0 * (stride + 1) + x1] - sat[y1 * (stride + 1) + x0];
                *o &= s == full;
            }
        }
        ok.iter().enumerate().filter_map(|(i, &v)| v.then_some(i)).collect()
    }

    /// Builds the flat tensor of one input for the cells in `chunk`, padded to `n` samples by
    /// repeating the last (only when the graph has a fixed batch size).
    fn assemble(&self, input: &InputPlan, block: &Block, chunk: &[usize], n: usize, out: &mut Vec<f32>) {
        /// Samples per parallel task: enough work per task to dwarf rayon's overhead.
        const GROUP: usize = 256;
        let len = input.layout.sample_len(input.channels.len());
        // Every element is overwritten below; resizing only grows the reused buffer.
        out.resize(n * len, 0.0);
        let ow = block.width / self.cell;
        let (stride, plane, halo) = (block.stride(), block.plane(), block.halo);
        let data = &block.data;
        // The window (k x k) each sample reads and its top-left pixel in the block buffer.
        let (k, origin): (usize, &(dyn Fn(usize, usize) -> (usize, usize) + Sync)) = match input.layout {
            Layout::Pixel | Layout::Series { .. } => (1, &|cx, cy| (halo + cx, halo + cy)),
            Layout::Window { size } => (size, &move |cx, cy| (halo + cx - size / 2, halo + cy - size / 2)),
            Layout::Patch { size } => (size, &move |cx, cy| (halo + cx * size, halo + cy * size)),
        };
        let map = |x: usize, y: usize| -> (f32, f32) {
            match block.geo {
                Some((g, c0, r0)) => {
                    let (c, r) = ((c0 + x) as f64 + 0.5 - halo as f64, (r0 + y) as f64 + 0.5 - halo as f64);
                    ((g[0] + c * g[1] + r * g[2]) as f32, (g[3] + c * g[4] + r * g[5]) as f32)
                }
                None => (f32::NAN, f32::NAN),
            }
        };
        out.par_chunks_mut(len * GROUP).enumerate().for_each(|(g, group)| {
            let cells = &chunk[(g * GROUP).min(chunk.len() - 1)..];
            let count = group.len() / len;
            // Top-left buffer position of each sample's window (the last cell repeats as padding).
            let origins: Vec<(usize, usize)> =
                (0..count).map(|j| cells[j.min(cells.len() - 1)]).map(|cell| origin(cell % ow, cell / ow)).collect();
            // Channel-major: each channel's plane is read in order, the samples written strided.
            for (c, ch) in input.channels.iter().enumerate() {
                let (mean, inv) = (ch.mean, ch.inv_std);
                match ch.source {
                    Source::Band(b) if k == 1 => {
                        let base = &data[b * plane..(b + 1) * plane];
                        for (dst, &(x0, y0)) in group[c..].iter_mut().step_by(len).zip(&origins) {
                            *dst = (base[y0 * stride + x0] - mean) * inv;
                        }
                    }
                    Source::Band(b) => {
                        let base = &data[b * plane..(b + 1) * plane];
                        let dst = &mut group[c * k * k..];
                        // Fixed sizes let the compiler unroll the small row copies.
                        match k {
                            3 => gather::<3>(base, stride, &origins, dst, len, mean, inv),
                            5 => gather::<5>(base, stride, &origins, dst, len, mean, inv),
                            7 => gather::<7>(base, stride, &origins, dst, len, mean, inv),
                            _ => gather_any(k, base, stride, &origins, dst, len, mean, inv),
                        }
                    }
                    source => {
                        for (j, &(x0, y0)) in origins.iter().enumerate() {
                            for dy in 0..k {
                                for dx in 0..k {
                                    let v = match source {
                                        Source::PatchX => linspace(dx, k),
                                        Source::PatchY => linspace(dy, k),
                                        Source::MapX => map(x0 + dx, y0 + dy).0,
                                        _ => map(x0 + dx, y0 + dy).1,
                                    };
                                    group[j * len + c * k * k + dy * k + dx] = (v - mean) * inv;
                                }
                            }
                        }
                    }
                }
            }
        });
    }

    /// Assembles every input of one batch into `tensors` (reused across batches: a fresh
    /// allocation per batch costs page faults that rival the copying itself).
    fn assemble_all(&self, block: &Block, chunk: &[usize], tensors: &mut Vec<Vec<f32>>) -> usize {
        let n = self.model.fixed_batch.unwrap_or(chunk.len());
        tensors.resize_with(self.inputs.len(), Vec::new);
        for (input, out) in self.inputs.iter().zip(tensors.iter_mut()) {
            self.assemble(input, block, chunk, n, out);
        }
        n
    }
}

/// Copies the k x k window at each origin of `base` (a plane of width `stride`), normalised, to
/// `dst[j * len..]` for sample j.
#[inline]
fn gather<const K: usize>(base: &[f32], stride: usize, origins: &[(usize, usize)], dst: &mut [f32], len: usize, mean: f32, inv: f32) {
    for (j, &(x0, y0)) in origins.iter().enumerate() {
        let out = &mut dst[j * len..j * len + K * K];
        for (dy, out_row) in out.chunks_exact_mut(K).enumerate() {
            let out_row: &mut [f32; K] = out_row.try_into().expect("K values");
            let row: &[f32; K] = base[(y0 + dy) * stride + x0..][..K].try_into().expect("K values");
            for dx in 0..K {
                out_row[dx] = (row[dx] - mean) * inv;
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn gather_any(k: usize, base: &[f32], stride: usize, origins: &[(usize, usize)], dst: &mut [f32], len: usize, mean: f32, inv: f32) {
    for (j, &(x0, y0)) in origins.iter().enumerate() {
        for dy in 0..k {
            let row = &base[(y0 + dy) * stride + x0..][..k];
            for (o, &v) in dst[j * len + dy * k..][..k].iter_mut().zip(row) {
                *o = (v - mean) * inv;
            }
        }
    }
}

/// Position `i` of `n` points evenly spaced from -1 to 1 (numpy's linspace(-1, 1, n)).
fn linspace(i: usize, n: usize) -> f32 {
    if n <= 1 {
        -1.0
    } else {
        -1.0 + 2.0 * i as f32 / (n - 1) as f32
    }
}

/// Replaces each missing value by the mean of the valid values of its band within `radius`
/// pixels, where at least `min_valid` are valid. Reads the original values, so fills never chain.
fn fill_gaps(block: &mut Block, fill: GapFill) {
    let (w, h) = (block.stride(), block.height + 2 * block.halo);
    let plane = block.plane();
    let r = fill.radius as isize;
    block.data.par_chunks_mut(plane).for_each(|band| {
        if band.iter().all(|v| v.is_finite()) {
            return;
        }
        let original = band.to_vec();
        for y in 0..h as isize {
            for x in 0..w as isize {
                let i = y as usize * w + x as usize;
                if original[i].is_finite() {
                    continue;
                }
                let (mut sum, mut count) = (0f64, 0usize);
                for ny in (y - r).max(0)..=(y + r).min(h as isize - 1) {
                    for nx in (x - r).max(0)..=(x + r).min(w as isize - 1) {
                        let v = original[ny as usize * w + nx as usize];
                        if v.is_finite() {
                            sum += v as f64;
                            count += 1;
                        }
                    }
                }
                if count >= fill.min_valid && count > 0 {
                    band[i] = (sum / count as f64) as f32;
                }
            }
        }
    });
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linspace_matches_numpy() {
        assert_eq!(linspace(0, 24,), -1.0);
        assert_eq!(linspace(23, 24), 1.0);
        assert!((linspace(1, 3) - 0.0).abs() < 1e-7);
    }

    #[test]
    fn gap_fill_uses_neighbours_and_respects_min_valid() {
        let nan = f32::NAN;
        #[rustfmt::skip]
        let data = vec![
            1.0, 2.0, 3.0,
            4.0, nan, 6.0,
            nan, nan, nan,
        ];
        let mut block = Block { data, width: 1, height: 1, halo: 1, geo: None };
        fill_gaps(&mut block, GapFill { radius: 1, min_valid: 5 });
        assert_eq!(block.data[4], (1.0 + 2.0 + 3.0 + 4.0 + 6.0) / 5.0);
        assert!(block.data[7].is_nan(), "only 3 valid neighbours of 8: stays missing");
    }
}
