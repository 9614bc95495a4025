//! Training data: the tensors of `terrapix sample` (or any in-memory samples) with targets,
//! coordinates, groups and strata, and the per-channel normalisation the bundle will carry.

use crate::error::TrainError;
use std::path::Path;

use super::forest::Features;
use terrapix::bundle::InputSpec;
use terrapix::sample::{Samples, SamplesFolder};

pub struct TrainingData {
    pub target: String,
    pub inputs: Vec<InputSpec>,
    /// Flat tensors, one per input: `[n, layout shape...]`.
    pub tensors: Vec<Vec<f32>>,
    pub y: Vec<f32>,
    pub xy: Vec<(f64, f64)>,
    pub groups: Vec<String>,
    pub strata: Vec<String>,
}

impl TrainingData {
    pub fn len(&self) -> usize {
        self.y.len()
    }

    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    pub fn from_samples(s: &Samples) -> TrainingData {
        TrainingData {
            target: s.manifest.target.name.clone(),
            inputs: s.manifest.inputs.clone(),
            tensors: s.tensors.clone(),
            y: s.targets(),
            xy: s.grid_xy.clone(),
            groups: s.points.iter().map(|p| p.group.clone().unwrap_or_default()).collect(),
            strata: s.points.iter().map(|p| p.stratum.clone().unwrap_or_default()).collect(),
        }
    }

    /// Reads a folder written by `terrapix sample`.
    pub fn read(dir: &Path) -> Result<TrainingData, TrainError> {
        let f = SamplesFolder::read(dir)?;
        let rows = &f.rows;
        Ok(TrainingData {
            target: f.desc.target,
            inputs: f.desc.inputs,
            tensors: f.tensors,
            y: rows.iter().map(|r| r.target as f32).collect(),
            xy: rows.iter().map(|r| (r.x, r.y)).collect(),
            groups: rows.iter().map(|r| r.group.clone()).collect(),
            strata: rows.iter().map(|r| r.stratum.clone()).collect(),
        })
    }

    /// Per-channel mean and standard deviation of every input (a channel's values are all of
    /// its positions in all samples), written into the input specs.
    pub fn normalisation(&self) -> Vec<InputSpec> {
        let mut specs = self.inputs.clone();
        for (spec, data) in specs.iter_mut().zip(&self.tensors) {
            let len = spec.layout.sample_len(spec.channels.len());
            let per = len / spec.channels.len();
            for (c, ch) in spec.channels.iter_mut().enumerate() {
                if ch.is_generated() && (ch.covariate == "@patch_x" || ch.covariate == "@patch_y") {
                    continue; // already in -1..1
                }
                let (mut sum, mut sq, mut n) = (0f64, 0f64, 0f64);
                for sample in data.chunks(len) {
                    for &v in &sample[c * per..(c + 1) * per] {
                        sum += v as f64;
                        sq += (v as f64) * (v as f64);
                        n += 1.0;
                    }
                }
                let mean = sum / n.max(1.0);
                let var = (sq / n.max(1.0) - mean * mean).max(0.0);
                ch.mean = mean as f32;
                ch.std = if var.sqrt() > 1e-12 { var.sqrt() as f32 } else { 1.0 };
            }
        }
        specs
    }

    /// Every input of every sample flattened into one row of features, unnormalised (what tree
    /// models split on; the bundle feeds its graph the same values, see [`TrainingData::raw_specs`]).
    pub fn features(&self) -> Features {
        let lens: Vec<usize> = self.inputs.iter().map(|i| i.layout.sample_len(i.channels.len())).collect();
        let p = lens.iter().sum::<usize>();
        let mut x = Vec::with_capacity(p * self.len());
        for i in 0..self.len() {
            for (t, &len) in self.tensors.iter().zip(&lens) {
                x.extend_from_slice(&t[i * len..(i + 1) * len]);
            }
        }
        Features { p, x }
    }

    /// Input specs without normalisation (mean 0, standard deviation 1): tree models take the
    /// covariates as they are.
    pub fn raw_specs(&self) -> Vec<InputSpec> {
        let mut specs = self.inputs.clone();
        for ch in specs.iter_mut().flat_map(|s| s.channels.iter_mut()) {
            (ch.mean, ch.std) = (0.0, 1.0);
        }
        specs
    }

    /// The tensors normalised with `specs` (from [`TrainingData::normalisation`]).
    pub fn normalised(&self, specs: &[InputSpec]) -> Vec<Vec<f32>> {
        terrapix::plan::normalise(specs, &self.tensors)
    }
}
