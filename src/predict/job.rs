//! Prediction jobs and VRTs: a `.tpx` job (JSON, read by the TERRAPIX driver) and a VRT over
//! it with one band per model output, so that `gdal_translate prediction.vrt map.tif`, QGIS and
//! every GDAL tool predict on the fly. The job format has one reader and one writer, here.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::PredictError;
use crate::engine::{EngineOptions, Model};
use crate::output::{Kind, Staged};
use crate::raster::{BindOptions, Covariates};

/// Format version of job files.
pub const JOB_VERSION: u32 = 1;

/// Largest job file read (a job is a few hundred bytes of JSON).
const MAX_JOB_BYTES: u64 = 1 << 20;

/// A prediction job file (`.tpx`): `{"terrapix_prediction": 1, "model": "soc.onnx",
/// "covariates": ["stack.tif"], "bind": [], "by_order": false, ...}`; relative paths are
/// relative to the job file.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct JobFile {
    pub terrapix_prediction: u32,
    pub model: String,
    pub covariates: Vec<String>,
    /// The output bands the VRT over this job was written for: a model swapped for one with
    /// other outputs is refused when the job is opened.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<String>,
    #[serde(flatten)]
    pub bind: BindOptions,
}

/// The keys of [`JobFile`] besides the binding options (it flattens those, which hides its own
/// field names from serde).
const JOB_KEYS: &[&str] = &["terrapix_prediction", "model", "covariates", "outputs"];

/// A job read from its file, paths resolved against the job's folder.
pub struct Job {
    pub model: PathBuf,
    pub covariates: Vec<PathBuf>,
    pub outputs: Vec<String>,
    pub bind: BindOptions,
}

impl JobFile {
    /// Reads and checks a job file (size, format, version, extent, model outputs).
    pub fn read(path: &Path) -> Result<Job, String> {
        let len = std::fs::metadata(path).map_err(|e| format!("cannot read job '{}': {e}", path.display()))?.len();
        if len > MAX_JOB_BYTES {
            return Err(format!("'{}' is {len} bytes; a terrapix job is at most {MAX_JOB_BYTES}", path.display()));
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read job '{}': {e}", path.display()))?;
        let invalid = |e: String| format!("'{}' is not a valid terrapix job: {e}", path.display());
        let value = crate::util::json_object(&text, &[JOB_KEYS, crate::util::field_names::<BindOptions>()]).map_err(invalid)?;
        let job = JobFile::deserialize(value).map_err(|e| invalid(e.to_string()))?;
        if job.terrapix_prediction != JOB_VERSION {
            return Err(format!(
                "'{}': job format {} is not supported (this terrapix reads {JOB_VERSION})",
                path.display(),
                job.terrapix_prediction
            ));
        }
        if job.covariates.is_empty() || job.covariates.len() > 4096 {
            return Err(format!("'{}' lists {} covariate rasters (1 to 4096 expected)", path.display(), job.covariates.len()));
        }
        if let Some(e) = job.bind.extent {
            crate::raster::check_extent(e).map_err(|e| format!("'{}': {e}", path.display()))?;
        }
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let resolve = |p: &str| -> PathBuf {
            if Path::new(p).is_absolute() || p.starts_with("/vsi") {
                PathBuf::from(p)
            } else {
                dir.join(p)
            }
        };
        let mut bind = job.bind;
        bind.reference = bind.reference.as_deref().map(|r| resolve(&r.to_string_lossy()));
        Ok(Job { model: resolve(&job.model), covariates: job.covariates.iter().map(|c| resolve(c)).collect(), outputs: job.outputs, bind })
    }
}

impl Job {
    /// Refuses a model whose outputs are not the ones the VRT was written for.
    pub fn check_outputs(&self, model: &crate::bundle::Manifest, job: &Path) -> Result<(), String> {
        let have: Vec<&str> = model.outputs.iter().map(|o| o.name.as_str()).collect();
        if !self.outputs.is_empty() && self.outputs.iter().map(String::as_str).ne(have.iter().copied()) {
            return Err(format!(
                "'{}' was written for a model with the outputs [{}], but '{}' now has [{}]; write the VRT again with `terrapix vrt`",
                job.display(),
                self.outputs.join(", "),
                self.model.display(),
                have.join(", ")
            ));
        }
        Ok(())
    }
}

/// What was written.
pub struct PredictionVrt {
    pub vrt: PathBuf,
    pub job: PathBuf,
    pub width: usize,
    pub height: usize,
    pub bands: Vec<String>,
    /// Whether GDAL will load the model without TERRAPIX_TRUSTED_MODELS (it sits in the VRT's
    /// folder tree).
    pub model_trusted_by_default: bool,
}

/// `path` relative to `base` when that is possible without leaving the filesystem root.
fn relative(path: &Path, base: &Path) -> String {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (p, b) = (abs(path), abs(base));
    pathdiff::diff_paths(&p, &b).unwrap_or(p).to_string_lossy().into_owned()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Writes `vrt` and its job file (`vrt` with the extension `.tpx`) for `model` over `rasters`.
/// The binding is checked now, so a VRT that cannot work is never written.
pub fn write_prediction_vrt(
    model: &Path,
    rasters: &[PathBuf],
    bind: &BindOptions,
    vrt: &Path,
    engine: &EngineOptions,
) -> Result<PredictionVrt, PredictError> {
    let invalid = PredictError::Invalid;
    let job_path = vrt.with_extension("tpx");
    if vrt.extension().is_some_and(|e| e.eq_ignore_ascii_case("tpx")) {
        return Err(invalid(format!(
            "'{}': the VRT needs another extension than .tpx (its job is written beside it as .tpx)",
            vrt.display()
        )));
    }
    let mut inputs: Vec<(&str, &Path)> = vec![("model", model)];
    inputs.extend(rasters.iter().map(|r| ("covariate raster", r.as_path())));
    if let Some(r) = &bind.reference {
        inputs.push(("reference raster", r));
    }
    for out in [vrt, job_path.as_path()] {
        crate::output::refuse_inputs(out, false, &inputs)?;
    }
    let loaded = Model::open(model, &EngineOptions { sessions: 1, ..engine.clone() })?;
    let m = &loaded.manifest;
    let covs = Covariates::bind(rasters, &m.covariates(), bind)?;
    let grid = covs.grid.coarsened(m.cell());
    let dir = vrt.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    // Both targets are checked before either is written.
    let staged_job = Staged::new(&job_path, Kind::Job)?;
    let staged_vrt = Staged::new(vrt, Kind::Vrt)?;
    let job = JobFile {
        terrapix_prediction: JOB_VERSION,
        model: relative(model, dir),
        covariates: rasters
            .iter()
            .map(|r| if r.to_string_lossy().starts_with("/vsi") { r.to_string_lossy().into() } else { relative(r, dir) })
            .collect(),
        outputs: m.outputs.iter().map(|o| o.name.clone()).collect(),
        bind: BindOptions { reference: bind.reference.as_deref().map(|r| PathBuf::from(relative(r, dir))), ..bind.clone() },
    };
    let job_name = job_path.file_name().expect("a file name").to_string_lossy().into_owned();
    let mut xml = format!(
        "<VRTDataset rasterXSize=\"{}\" rasterYSize=\"{}\">\n  <SRS>{}</SRS>\n  <GeoTransform>{}</GeoTransform>\n  <Metadata>\n    <MDI key=\"TERRAPIX_MODEL\">{}</MDI>\n    <MDI key=\"TERRAPIX_MODEL_VERSION\">{}</MDI>\n  </Metadata>\n",
        grid.width,
        grid.height,
        xml_escape(&grid.wkt),
        grid.geotransform.iter().map(|v| format!("{v:.17e}")).collect::<Vec<_>>().join(", "),
        xml_escape(&m.name),
        xml_escape(&m.version),
    );
    for (i, o) in m.outputs.iter().enumerate() {
        xml += &format!(
            "  <VRTRasterBand dataType=\"Float32\" band=\"{b}\">\n    <Description>{}</Description>\n    <NoDataValue>{}</NoDataValue>\n    <UnitType>{}</UnitType>\n    <SimpleSource>\n      <SourceFilename relativeToVRT=\"1\">{}</SourceFilename>\n      <SourceBand>{b}</SourceBand>\n      <SrcRect xOff=\"0\" yOff=\"0\" xSize=\"{w}\" ySize=\"{h}\"/>\n      <DstRect xOff=\"0\" yOff=\"0\" xSize=\"{w}\" ySize=\"{h}\"/>\n    </SimpleSource>\n  </VRTRasterBand>\n",
            xml_escape(&m.band_description(o)),
            m.nodata.output_nodata,
            xml_escape(&m.band_unit(o)),
            xml_escape(&job_name),
            b = i + 1,
            w = grid.width,
            h = grid.height,
        );
    }
    xml += "</VRTDataset>\n";
    let write = |staged: Staged, text: &str| -> Result<(), PredictError> {
        std::fs::write(staged.path(), text).map_err(|e| crate::output::OutputError::write(staged.target(), e))?;
        Ok(staged.commit()?)
    };
    write(staged_job, &serde_json::to_string_pretty(&job).expect("a job serialises"))?;
    write(staged_vrt, &xml)?;
    let trusted = match (model.canonicalize(), dir.canonicalize()) {
        (Ok(m), Ok(d)) => m.starts_with(d),
        _ => false,
    };
    Ok(PredictionVrt {
        vrt: vrt.into(),
        job: job_path,
        width: grid.width,
        height: grid.height,
        bands: m.outputs.iter().map(|o| o.name.clone()).collect(),
        model_trusted_by_default: trusted,
    })
}
