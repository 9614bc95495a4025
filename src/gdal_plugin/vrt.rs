//! Prediction VRTs: a `.tpx` job (read by the TERRAPIX driver) and a VRT over it with one band
//! per model output, so that `gdal_translate prediction.vrt map.tif`, QGIS and every GDAL tool
//! predict on the fly.

use std::path::{Path, PathBuf};

use super::driver::{JobFile, JOB_VERSION};
use crate::engine::{EngineOptions, Model};
use crate::raster::{BindOptions, Covariates};

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
) -> Result<PredictionVrt, String> {
    let loaded = Model::open(model, &EngineOptions { sessions: 1, ..engine.clone() }).map_err(|e| e.to_string())?;
    let m = &loaded.manifest;
    let covs = Covariates::bind(rasters, &m.covariates(), bind).map_err(|e| e.to_string())?;
    let grid = covs.grid.coarsened(m.cell());
    let dir = vrt.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(format!("cannot write '{}': folder '{}' does not exist", vrt.display(), dir.display()));
    }
    let job_path = vrt.with_extension("tpx");
    let job = JobFile {
        terrapix_prediction: JOB_VERSION,
        model: relative(model, dir),
        covariates: rasters
            .iter()
            .map(|r| if r.to_string_lossy().starts_with("/vsi") { r.to_string_lossy().into() } else { relative(r, dir) })
            .collect(),
        bind: bind.bindings.clone(),
        by_order: bind.by_order,
        reference: bind.reference.as_deref().map(|r| relative(r, dir)),
        resampling: bind.resampling.clone(),
        extent: bind.extent,
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
    let write = |path: &Path, text: &str| -> Result<(), String> {
        let tmp = crate::util::temp_sibling(path);
        std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, path)).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("cannot write '{}': {e}", path.display())
        })
    };
    write(&job_path, &serde_json::to_string_pretty(&job).expect("a job serialises"))?;
    write(vrt, &xml)?;
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
