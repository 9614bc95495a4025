//! The output map: a tiled GeoTIFF under a temporary name, renamed into place when complete.

use std::path::{Path, PathBuf};

use ::gdal::{Dataset, Metadata};

use super::gdal::CplCapture;
use super::{Grid, RasterError};
/// Settings of the output GeoTIFF.
#[derive(Clone, Debug)]
pub struct OutputOptions {
    /// GeoTIFF compression (DEFLATE, LZW, ZSTD, NONE...).
    pub compress: String,
    /// Write a Cloud Optimized GeoTIFF (overviews, COG layout).
    pub cog: bool,
    pub block: usize,
}

impl Default for OutputOptions {
    fn default() -> Self {
        OutputOptions { compress: "DEFLATE".into(), cog: false, block: 256 }
    }
}

/// Description of one output band.
pub struct BandInfo {
    pub description: String,
    pub unit: String,
}

/// The output map being written: a tiled GeoTIFF under a temporary name (see
/// [`crate::output`]), moved into place by [`MapWriter::finish`] only once GDAL has reported
/// no error; dropped unfinished, its temporary file is removed.
pub struct MapWriter {
    ds: Option<Dataset>,
    staged: Option<crate::output::Staged>,
    target: PathBuf,
    options: OutputOptions,
}

/// Checks creation options against what the driver declares (GDAL only warns about a bad one
/// and writes an uncompressed file).
fn validate_creation_options(driver: &gdal::Driver, co: &gdal::cpl::CslStringList, path: &Path) -> Result<(), RasterError> {
    let capture = CplCapture::new();
    let ok = super::gdal::creation_options_valid(driver, co);
    let detail = capture.take(true).unwrap_or_default();
    if ok {
        return Ok(());
    }
    let compressions = driver.metadata_item("DMD_CREATIONOPTIONLIST", "").and_then(|xml| {
        let at = xml.find("name='COMPRESS'")?;
        let values: Vec<String> = xml[at..xml[at..].find("</Option>")? + at]
            .split("<Value>")
            .skip(1)
            .filter_map(|v| v.split("</Value>").next().map(str::to_string))
            .collect();
        Some(values.join(", "))
    });
    Err(RasterError::Output {
        path: path.into(),
        reason: format!(
            "invalid {} creation option ({detail}){}",
            driver.short_name(),
            compressions.map(|c| format!("; compression must be one of: {c}")).unwrap_or_default()
        ),
    })
}

impl MapWriter {
    pub fn create(path: &Path, grid: &Grid, bands: &[BandInfo], nodata: f32, options: &OutputOptions) -> Result<MapWriter, RasterError> {
        let out_err = |reason: String| RasterError::Output { path: path.into(), reason };
        let staged = crate::output::Staged::new(path, crate::output::Kind::GeoTiff).map_err(|e| out_err(strip_path(&e, path)))?;
        let driver = gdal::DriverManager::get_driver_by_name("GTiff").map_err(|e| out_err(e.to_string()))?;
        let block = options.block.to_string();
        let mut co = vec![
            ("TILED", "YES".to_string()),
            ("BLOCKXSIZE", block.clone()),
            ("BLOCKYSIZE", block),
            ("COMPRESS", options.compress.clone()),
            ("BIGTIFF", "IF_SAFER".to_string()),
        ];
        if matches!(options.compress.to_ascii_uppercase().as_str(), "DEFLATE" | "LZW" | "ZSTD") {
            co.push(("PREDICTOR", "3".into()));
        }
        let co: Vec<String> = co.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        let co = co.iter().map(String::as_str).collect::<gdal::cpl::CslStringList>();
        validate_creation_options(&driver, &co, path)?;
        let capture = CplCapture::new();
        let ds = driver
            .create_with_band_type_with_options::<f32, _>(staged.path(), grid.width, grid.height, bands.len(), &co)
            .map_err(|e| out_err(capture.take(false).unwrap_or_else(|| e.to_string())))?;
        // From here on, an early return drops the writer, which removes the temporary file.
        let mut writer = MapWriter { ds: Some(ds), staged: Some(staged), target: path.into(), options: options.clone() };
        let ds = writer.ds.as_mut().expect("just created");
        ds.set_geo_transform(&grid.geotransform).map_err(|e| out_err(e.to_string()))?;
        if !grid.wkt.is_empty() {
            ds.set_projection(&grid.wkt).map_err(|e| out_err(e.to_string()))?;
        }
        for (i, info) in bands.iter().enumerate() {
            let mut band = ds.rasterband(i + 1).map_err(|e| out_err(e.to_string()))?;
            band.set_no_data_value(Some(nodata as f64)).map_err(|e| out_err(e.to_string()))?;
            band.set_description(&info.description).map_err(|e| out_err(e.to_string()))?;
            super::gdal::set_unit(&mut band, &info.unit);
        }
        if let Some(e) = capture.take(false) {
            return Err(out_err(e));
        }
        Ok(writer)
    }

    fn err(&self, reason: impl std::fmt::Display) -> RasterError {
        RasterError::Output { path: self.target.clone(), reason: reason.to_string() }
    }

    /// Sets a metadata item of band `band` (1-based, default domain).
    pub fn set_band_metadata_item(&mut self, band: usize, key: &str, value: &str) -> Result<(), RasterError> {
        let target = self.target.clone();
        let ds = self.ds.as_mut().expect("writer is open until finish");
        ds.rasterband(band)
            .and_then(|mut b| b.set_metadata_item(key, value, ""))
            .map_err(|e| RasterError::Output { path: target, reason: e.to_string() })
    }

    /// Sets a metadata item of the map (default domain).
    pub fn set_metadata_item(&mut self, key: &str, value: &str) -> Result<(), RasterError> {
        let ds = self.ds.as_mut().expect("writer is open until finish");
        ds.set_metadata_item(key, value, "").map_err(|e| RasterError::Output { path: self.target.clone(), reason: e.to_string() })
    }

    /// Writes `data` (band-sequential, w x h per band) at (x, y).
    pub fn write(&mut self, x: usize, y: usize, w: usize, h: usize, data: &[Vec<f32>]) -> Result<(), RasterError> {
        let capture = CplCapture::new();
        let ds = self.ds.as_mut().expect("writer is open until finish");
        let (width, height) = ds.raster_size();
        let mut result = Ok(());
        for (i, plane) in data.iter().enumerate() {
            let written = ds.rasterband(i + 1).and_then(|mut band| {
                let mut buf = gdal::raster::Buffer::new((w, h), plane.clone());
                band.write((x as isize, y as isize), (w, h), &mut buf)
            });
            if let Err(e) = written {
                result = Err(e.to_string());
                break;
            }
        }
        // A window that is exactly one output block is final: write it out now, so finished
        // blocks do not accumulate in GDAL's cache (flushing also drops them from it).
        let b = self.options.block;
        if result.is_ok() && x % b == 0 && y % b == 0 && w == b.min(width - x) && h == b.min(height - y) {
            result = ds.flush_cache().map_err(|e| e.to_string());
        }
        match (capture.take(false), result) {
            (Some(msg), _) | (None, Err(msg)) => Err(self.err(msg)),
            (None, Ok(())) => Ok(()),
        }
    }

    /// Closes the map, checks that GDAL reported no error and that it reads back, and moves it
    /// to its final name (converting to COG if asked).
    pub fn finish(mut self) -> Result<(), RasterError> {
        let capture = CplCapture::new();
        let ds = self.ds.take().expect("finish is called once");
        let (width, height, bands) = (ds.raster_size().0, ds.raster_size().1, ds.raster_count());
        let closed = ds.close();
        if let Some(msg) = capture.take(false) {
            return Err(self.err(msg));
        }
        closed.map_err(|e| self.err(e))?;
        let mut staged = self.staged.take().expect("finish is called once");
        if self.options.cog {
            let cog = crate::output::Staged::new(staged.target(), crate::output::Kind::GeoTiff).map_err(|e| self.err(e))?;
            let result = (|| -> Result<(), gdal::errors::GdalError> {
                let src = Dataset::open(staged.path())?;
                let driver = gdal::DriverManager::get_driver_by_name("COG")?;
                let co =
                    [format!("COMPRESS={}", self.options.compress), format!("BLOCKSIZE={}", self.options.block), "BIGTIFF=IF_SAFER".into()];
                let co = co.iter().map(String::as_str).collect::<gdal::cpl::CslStringList>();
                src.create_copy(&driver, cog.path(), &co)?.close()
            })();
            if let Some(msg) = capture.take(false).or(result.err().map(|e| e.to_string())) {
                return Err(self.err(format!("COG conversion failed: {msg}")));
            }
            staged = cog; // the plain GeoTIFF's temporary is removed as it drops
        }
        // Re-open what was written: a truncated file fails here rather than in the user's hands.
        let reopened = Dataset::open(staged.path()).map_err(|e| self.err(capture.take(false).unwrap_or_else(|| e.to_string())))?;
        if (reopened.raster_size(), reopened.raster_count()) != ((width, height), bands) {
            return Err(self.err("the written file does not read back with the expected size"));
        }
        drop(reopened);
        staged.commit().map_err(|e| self.err(e))
    }
}

/// An output error's text without the path, for errors that name it themselves.
fn strip_path(e: &crate::output::OutputError, path: &Path) -> String {
    e.to_string().replace(&format!("cannot write '{}': ", path.display()), "")
}

impl Drop for MapWriter {
    fn drop(&mut self) {
        // Close the dataset before the staged temporary is removed.
        drop(self.ds.take());
    }
}
