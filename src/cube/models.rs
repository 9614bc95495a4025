//! A cube model: one bundle for every date, or one per calendar month, and the one reader and
//! writer of its folder layout (`month_01.onnx` .. `month_12.onnx`, or `model.onnx`, and the
//! `report.json` of how they were made), as bias correction writes it and `predict-cube` reads it.

use std::path::Path;

use super::CubeError;
use crate::bundle::{Bundle, Manifest};
use crate::engine::{EngineOptions, Model};

/// One model for every date, or one per calendar month.
pub struct ModelSet {
    /// `(month, model)`: month 1-12, or 0 for every month.
    pub models: Vec<(u32, Model)>,
}

impl ModelSet {
    pub fn manifest(&self) -> &Manifest {
        &self.models[0].1.manifest
    }

    pub(crate) fn for_month(&self, m: u32) -> Option<usize> {
        self.models.iter().position(|(k, _)| *k == m).or_else(|| self.models.iter().position(|(k, _)| *k == 0))
    }

    /// Checks that every model reads the same covariates and writes the same bands.
    pub fn check(&self) -> Result<(), CubeError> {
        let first = self.manifest();
        for (m, model) in &self.models[1..] {
            let other = &model.manifest;
            if other.covariates() != first.covariates() || other.outputs.iter().map(|o| &o.name).ne(first.outputs.iter().map(|o| &o.name)) {
                return Err(CubeError::Mismatch(format!(
                    "the model of month {m} reads other covariates or writes other bands than the first"
                )));
            }
        }
        if self.models.iter().all(|(m, _)| *m != 0) {
            let mut months: Vec<u32> = self.models.iter().map(|(m, _)| *m).collect();
            months.sort_unstable();
            if months != (1..=12).collect::<Vec<_>>() {
                return Err(CubeError::Mismatch(format!("a monthly model set needs one model per month 1..12, not {months:?}")));
            }
        }
        Ok(())
    }
}

/// The file of the model of `month` (1-12) in a model set's folder; 0: the one for every month.
pub fn model_file(month: u32) -> String {
    if month == 0 {
        "model.onnx".into()
    } else {
        format!("month_{month:02}.onnx")
    }
}

/// The description of how a model set was made, beside its bundles.
pub const REPORT_FILE: &str = "report.json";

impl ModelSet {
    /// Opens a bundle, or the model set of a folder.
    pub fn open(path: &Path, options: &EngineOptions) -> Result<ModelSet, CubeError> {
        let open = |p: &Path| Model::open(p, options).map_err(|e| CubeError::Input { path: p.into(), reason: e.to_string() });
        let mut models = Vec::new();
        if path.is_dir() {
            for m in 1..=12u32 {
                let p = path.join(model_file(m));
                if p.exists() {
                    models.push((m, open(&p)?));
                }
            }
            if models.is_empty() && path.join(model_file(0)).exists() {
                models.push((0, open(&path.join(model_file(0)))?));
            }
            if models.is_empty() {
                return Err(CubeError::Input {
                    path: path.into(),
                    reason: format!("it holds neither {} .. {} nor {}", model_file(1), model_file(12), model_file(0)),
                });
            }
        } else {
            models.push((0, open(path)?));
        }
        let set = ModelSet { models };
        set.check()?;
        Ok(set)
    }

    /// Writes `bundles` (month, bundle) and `report` into the folder `dir`, whole: a folder
    /// replaced only if empty or written by terrapix (see [`crate::output::StagedFolder`]).
    pub fn write(dir: &Path, bundles: &[(u32, Bundle)], report: &serde_json::Value) -> Result<(), CubeError> {
        let err = |e: &dyn std::fmt::Display| CubeError::Output { path: dir.into(), reason: e.to_string() };
        let folder = crate::output::StagedFolder::new(dir, "a terrapix cube model set").map_err(|e| err(&e))?;
        for (month, bundle) in bundles {
            bundle.write(&folder.path().join(model_file(*month))).map_err(|e| err(&e))?;
        }
        let json = serde_json::to_string_pretty(report).map_err(|e| err(&e))?;
        std::fs::write(folder.path().join(REPORT_FILE), json).map_err(|e| err(&e))?;
        folder.commit().map_err(|e| err(&e))
    }
}
