//! The tensor plan of a manifest: which covariate band (or generated channel) feeds each tensor
//! element, the context each output cell needs, and which cells are valid under the nodata
//! policy. It needs no runtime: prediction ([`crate::predict::Predictor`]) and the trainer's sampling
//! build their tensors through the same plan, so training and prediction see the same values.

use rayon::prelude::*;

use crate::bundle::{generated, GapFill, InputSpec, Layout, Manifest};

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
    pub(crate) fn plane(&self) -> usize {
        (self.width + 2 * self.halo) * (self.height + 2 * self.halo)
    }
    fn stride(&self) -> usize {
        self.width + 2 * self.halo
    }
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

/// How to turn blocks of covariates into a model's input tensors; cheap to share across threads.
pub struct TensorPlan {
    inputs: Vec<InputPlan>,
    cell: usize,
    model_halo: usize,
    fill: Option<GapFill>,
    /// Covariate bands a block holds, in [`Manifest::covariates`] order.
    pub bands: usize,
}

impl TensorPlan {
    pub fn new(m: &Manifest) -> TensorPlan {
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
        TensorPlan { inputs, cell: m.cell(), model_halo: m.halo(), fill: m.nodata.fill_gaps, bands: covariates.len() }
    }

    /// Pixels of context a block needs around its core.
    pub fn halo(&self) -> usize {
        self.model_halo + self.fill.map_or(0, |f| f.radius)
    }

    /// Input pixels per output cell along each axis.
    pub fn cell(&self) -> usize {
        self.cell
    }

    /// Values per sample of each input tensor.
    pub fn sample_lens(&self) -> Vec<usize> {
        self.inputs.iter().map(|i| i.layout.sample_len(i.channels.len())).collect()
    }

    /// Fills gaps (if the policy says so) and lists the valid cells. Returns (width, height, cells)
    /// of the block's output.
    pub fn prepare(&self, block: &mut Block) -> (usize, usize, Vec<usize>) {
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
            let (k, off) = footprint(input.layout, self.cell, halo);
            let step = self.cell;
            if k == 1 {
                for (i, o) in ok.iter_mut().enumerate() {
                    *o &= mask[(off + (i / ow) * step) * stride + off + (i % ow) * step];
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
        let (k, off) = footprint(input.layout, self.cell, halo);
        let step = self.cell;
        let origin = |cx: usize, cy: usize| (off + cx * step, off + cy * step);
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

    /// Assembles every input for the cells in `chunk` into `tensors`, padded to `n` samples by
    /// repeating the last cell (for graphs with a fixed batch size). `tensors` is reused across
    /// batches: a fresh allocation per batch costs page faults that rival the copying itself.
    pub fn assemble_all(&self, block: &Block, chunk: &[usize], n: usize, tensors: &mut Vec<Vec<f32>>) {
        tensors.resize_with(self.inputs.len(), Vec::new);
        for (input, out) in self.inputs.iter().zip(tensors.iter_mut()) {
            self.assemble(input, block, chunk, n, out);
        }
    }
}

/// The side of the square each sample of an input reads, and the buffer offset of the first
/// cell's top-left pixel in a block with `halo`; cell `(cx, cy)` reads from `off + c * cell`.
/// Windows are centred on their cell, pixel and series inputs read the cell's centre pixel.
fn footprint(layout: Layout, cell: usize, halo: usize) -> (usize, usize) {
    match layout {
        Layout::Window { size, .. } => (size, halo - (size - cell) / 2),
        Layout::Patch { size } => (size, halo),
        Layout::Pixel | Layout::Series { .. } => (1, halo + cell / 2),
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

/// Sample tensors (`[n, layout shape...]` per input, as sampling writes them) normalised as the
/// plan normalises rasters: `(value - mean) / std` per channel.
pub fn normalise(specs: &[InputSpec], raw: &[Vec<f32>]) -> Vec<Vec<f32>> {
    specs
        .iter()
        .zip(raw)
        .map(|(spec, data)| {
            let len = spec.layout.sample_len(spec.channels.len());
            let per = len / spec.channels.len().max(1);
            let mut out = data.clone();
            for sample in out.chunks_mut(len.max(1)) {
                for (c, ch) in spec.channels.iter().enumerate() {
                    for v in &mut sample[c * per..(c + 1) * per] {
                        *v = (*v - ch.mean) / ch.std;
                    }
                }
            }
            out
        })
        .collect()
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
