//! Training data: the tensors of `terrapix sample` (or any in-memory samples) with targets,
//! coordinates, groups and strata, and the per-channel normalisation the bundle will carry.

use std::path::Path;

use crate::bundle::InputSpec;
use crate::sample::{Samples, SamplesFile};

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
    pub fn read(dir: &Path) -> Result<TrainingData, String> {
        let err = |what: &str, e: &dyn std::fmt::Display| format!("cannot read samples '{}' ({what}): {e}", dir.display());
        let desc: SamplesFile =
            serde_json::from_str(&std::fs::read_to_string(dir.join("samples.json")).map_err(|e| err("samples.json", &e))?)
                .map_err(|e| err("samples.json", &e))?;
        let mut tensors = Vec::new();
        for (spec, file) in desc.inputs.iter().zip(&desc.files) {
            let a: ndarray::ArrayD<f32> = ndarray_npy::read_npy(dir.join(file)).map_err(|e| err(file, &e))?;
            let mut want = vec![desc.count];
            want.extend(spec.layout.shape(spec.channels.len()));
            if a.shape() != want.as_slice() {
                return Err(err(file, &format!("shape {:?}, expected {want:?}", a.shape())));
            }
            tensors.push(a.iter().copied().collect());
        }
        let table = std::fs::read_to_string(dir.join("points.csv")).map_err(|e| err("points.csv", &e))?;
        let (mut y, mut xy, mut groups, mut strata) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for line in table.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let num =
                |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).ok_or_else(|| err("points.csv", &format!("bad line '{line}'")));
            xy.push((num(1)?, num(2)?));
            y.push(num(3)? as f32);
            groups.push(f.get(4).unwrap_or(&"").to_string());
            strata.push(f.get(5).unwrap_or(&"").to_string());
        }
        if y.len() != desc.count {
            return Err(err("points.csv", &format!("{} rows for {} samples", y.len(), desc.count)));
        }
        Ok(TrainingData { target: desc.target, inputs: desc.inputs, tensors, y, xy, groups, strata })
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

    /// The tensors normalised with `specs` (from [`TrainingData::normalisation`]).
    pub fn normalised(&self, specs: &[InputSpec]) -> Vec<Vec<f32>> {
        specs
            .iter()
            .zip(&self.tensors)
            .map(|(spec, data)| {
                let len = spec.layout.sample_len(spec.channels.len());
                let per = len / spec.channels.len();
                let mut out = data.clone();
                for sample in out.chunks_mut(len) {
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
}
