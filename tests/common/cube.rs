//! Cube helpers shared by the cube tests: the synthetic cube, whole-cube reads, scores.

use std::path::{Path, PathBuf};

use terrapix::cube::cdf::CdfOptions;
use terrapix::cube::matching::{cdf_match, CubeInput, MatchReport};
use terrapix::cube::read::CubeSource;
use terrapix::cube::synthetic::{generate, SynthOptions, Written};
use terrapix::metrics::{scores, Scores};

/// The default synthetic cube (24 x 20 pixels, 2015-2018 daily), written once per test.
pub fn cube(dir: &Path) -> Written {
    generate(&SynthOptions::default()).write(dir).unwrap()
}

pub fn read_all(path: &Path) -> (Vec<f32>, CubeSource) {
    let c = CubeSource::open(path, None).unwrap();
    let mut v = Vec::new();
    c.read_strip(&(0..c.len()).collect::<Vec<_>>(), 0..c.grid.height, &mut v).unwrap();
    (v, c)
}

pub fn score(path: &Path, truth: &Path) -> Scores {
    scores(&read_all(path).0, &read_all(truth).0)
}

pub fn input(p: &Path) -> CubeInput {
    CubeInput { path: p.into(), dates: None }
}

pub fn matched(w: &Written, out: &Path, options: &CdfOptions, mapping: Option<&Path>) -> MatchReport {
    cdf_match(&input(&w.source), &input(&w.reference), None, out, mapping, options, &mut |_, _| true).unwrap()
}

/// Runs the command line (its child closes the files it would inherit: see
/// [`super::closing_inherited_files`]).
pub fn terrapix(args: &[&str]) -> std::process::Output {
    super::terrapix(args)
}

pub fn leftovers(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.to_string_lossy().contains(".tmp-")).collect()
}
