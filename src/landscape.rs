//! A seeded synthetic landscape for the demo, the tests and the bundled default model:
//! terrain (elevation, slope, topographic position), an 8-year NDVI series, a lake where the
//! vegetation index is missing, a known soil-organic-carbon truth map and field samples drawn
//! from it with measurement noise. Same seed, same landscape, bit for bit.

use std::path::{Path, PathBuf};

use gdal::{DriverManager, Metadata};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const NODATA: f32 = -9999.0;
pub const YEARS: std::ops::RangeInclusive<u32> = 2016..=2023;
/// UTM zone 37N (the forest-steppe of the forest-steppe study), 30 m pixels.
pub const EPSG: u32 = 32637;
pub const PIXEL: f64 = 30.0;
pub const ORIGIN: (f64, f64) = (455_000.0, 5_845_000.0);

/// Band names of the covariate stack, in order.
pub fn band_names() -> Vec<String> {
    let mut names = vec!["elevation".to_string(), "slope".into(), "tpi".into()];
    names.extend(YEARS.map(|y| format!("ndvi_{y}")));
    names
}

pub struct Landscape {
    pub size: usize,
    /// Band-sequential covariates (see [`band_names`]); NaN where missing.
    pub bands: Vec<Vec<f32>>,
    /// Soil organic carbon, %, NaN under the lake.
    pub soc: Vec<f32>,
}

/// Files written by [`write`].
pub struct Written {
    pub covariates: PathBuf,
    pub truth: PathBuf,
    pub samples: PathBuf,
}

fn smooth_noise(rng: &mut ChaCha8Rng, size: usize, octaves: &[(usize, f32)]) -> Vec<f32> {
    let mut out = vec![0f32; size * size];
    for &(scale, weight) in octaves {
        let n = size / scale + 2;
        let grid: Vec<f32> = (0..n * n).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect();
        for y in 0..size {
            let fy = y as f32 / scale as f32;
            let (y0, ty) = (fy as usize, fy.fract());
            for x in 0..size {
                let fx = x as f32 / scale as f32;
                let (x0, tx) = (fx as usize, fx.fract());
                let (sx, sy) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
                let g = |i: usize, j: usize| grid[j * n + i];
                let top = g(x0, y0) * (1.0 - sx) + g(x0 + 1, y0) * sx;
                let bottom = g(x0, y0 + 1) * (1.0 - sx) + g(x0 + 1, y0 + 1) * sx;
                out[y * size + x] += weight * (top * (1.0 - sy) + bottom * sy);
            }
        }
    }
    out
}

fn box_mean(v: &[f32], size: usize, r: usize) -> Vec<f32> {
    let s = size + 1;
    let mut sat = vec![0f64; s * s];
    for y in 0..size {
        let mut run = 0f64;
        for x in 0..size {
            run += v[y * size + x] as f64;
            sat[(y + 1) * s + x + 1] = sat[y * s + x + 1] + run;
        }
    }
    let mut out = vec![0f32; size * size];
    for y in 0..size {
        for x in 0..size {
            let (x0, y0, x1, y1) = (x.saturating_sub(r), y.saturating_sub(r), (x + r + 1).min(size), (y + r + 1).min(size));
            let sum = sat[y1 * s + x1] + sat[y0 * s + x0] - sat[y0 * s + x1] - sat[y1 * s + x0];
            out[y * size + x] = (sum / ((x1 - x0) * (y1 - y0)) as f64) as f32;
        }
    }
    out
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Generates the landscape of `size` x `size` pixels.
pub fn generate(size: usize, seed: u64) -> Landscape {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = size * size;
    let relief = smooth_noise(&mut rng, size, &[(128, 1.0), (64, 0.5), (32, 0.25), (16, 0.12), (8, 0.05)]);
    let elevation: Vec<f32> = relief.iter().map(|r| 170.0 + 45.0 * r).collect();
    let mut slope = vec![0f32; n];
    for y in 0..size {
        for x in 0..size {
            let e = |x: usize, y: usize| elevation[y.min(size - 1) * size + x.min(size - 1)];
            let dzdx = (e(x + 1, y) - e(x.saturating_sub(1), y)) / (2.0 * PIXEL as f32);
            let dzdy = (e(x, y + 1) - e(x, y.saturating_sub(1))) / (2.0 * PIXEL as f32);
            slope[y * size + x] = (dzdx.hypot(dzdy)).atan().to_degrees();
        }
    }
    let mean = box_mean(&elevation, size, 7);
    let tpi: Vec<f32> = elevation.iter().zip(&mean).map(|(e, m)| e - m).collect();
    let patchiness = smooth_noise(&mut rng, size, &[(24, 1.0), (6, 0.3)]);
    // Vegetation: greener in hollows (wetter), less on steep slopes, patchy land use.
    let potential: Vec<f32> = (0..n).map(|i| 0.42 + 0.25 * sigmoid(-tpi[i] / 1.5) - 0.02 * slope[i] + 0.08 * patchiness[i]).collect();
    // A lake in the lowest basin: water has no vegetation index.
    let lake_level = {
        let mut sorted = elevation.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        sorted[n / 60]
    };
    let is_lake: Vec<bool> = elevation.iter().map(|&e| e <= lake_level).collect();
    let anomalies = [0.02f32, -0.01, -0.09, 0.03, 0.01, -0.04, 0.05, 0.0]; // 2018 drought
    let mut bands = vec![elevation.clone(), slope.clone(), tpi.clone()];
    let mut ndvi_mean = vec![0f32; n];
    let mut ndvi_trend = vec![0f32; n];
    for (k, anomaly) in anomalies.iter().enumerate() {
        let t = k as f32 - 3.5;
        let band: Vec<f32> = (0..n)
            .map(|i| {
                // Hollows buffer droughts; slopes suffer more.
                let sensitivity = 1.0 + 0.04 * slope[i] - 0.3 * sigmoid(-tpi[i]);
                let trend = 0.006 * patchiness[i] * t;
                let v = (potential[i] + anomaly * sensitivity + trend + 0.015 * (rng.random::<f32>() - 0.5)).clamp(0.05, 0.95);
                ndvi_mean[i] += v / anomalies.len() as f32;
                ndvi_trend[i] += v * t / 42.0;
                if is_lake[i] {
                    f32::NAN
                } else {
                    v
                }
            })
            .collect();
        bands.push(band);
    }
    let soc: Vec<f32> = (0..n)
        .map(|i| {
            if is_lake[i] {
                return f32::NAN;
            }
            1.2 + 5.0 * ndvi_mean[i] + 1.1 * sigmoid(-tpi[i] / 1.5) - 0.06 * slope[i]
                + 0.012 * (elevation[i] - 170.0)
                + 25.0 * ndvi_trend[i]
        })
        .collect();
    Landscape { size, bands, soc }
}

impl Landscape {
    fn geotransform(&self) -> [f64; 6] {
        [ORIGIN.0, PIXEL, 0.0, ORIGIN.1, 0.0, -PIXEL]
    }

    /// Map coordinate of the centre of pixel (col, row).
    pub fn centre(&self, col: usize, row: usize) -> (f64, f64) {
        (ORIGIN.0 + (col as f64 + 0.5) * PIXEL, ORIGIN.1 - (row as f64 + 0.5) * PIXEL)
    }

    /// Field samples: `count` random pixels off the lake, the truth plus N(0, noise_sd) noise.
    pub fn samples(&self, count: usize, noise_sd: f32, seed: u64) -> Vec<(usize, usize, f32)> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            let (c, r) = (rng.random_range(2..self.size - 2), rng.random_range(2..self.size - 2));
            let truth = self.soc[r * self.size + c];
            if !truth.is_finite() {
                continue;
            }
            // Box-Muller: a normal deviate from two uniforms.
            let (u1, u2): (f32, f32) = (rng.random::<f32>().max(1e-7), rng.random());
            let z = (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos();
            out.push((c, r, truth + noise_sd * z));
        }
        out
    }

    /// Writes covariates.tif, truth.tif and samples.csv into `dir`.
    pub fn write(&self, dir: &Path, samples: usize, seed: u64) -> Result<Written, gdal::errors::GdalError> {
        std::fs::create_dir_all(dir).map_err(|e| gdal::errors::GdalError::BadArgument(e.to_string()))?;
        use crate::output::{Kind, Staged};
        let bad = |e: crate::output::OutputError| gdal::errors::GdalError::BadArgument(e.to_string());
        // Each file under a temporary name, renamed into place once complete.
        let covariates = Staged::new(&dir.join("covariates.tif"), Kind::GeoTiff).map_err(bad)?;
        let truth = Staged::new(&dir.join("truth.tif"), Kind::GeoTiff).map_err(bad)?;
        self.write_tif(covariates.path(), &self.bands, &band_names(), "")?;
        self.write_tif(truth.path(), std::slice::from_ref(&self.soc), &["soc".to_string()], "%")?;
        let mut csv = String::from("id,x,y,soc\n");
        for (i, (c, r, v)) in self.samples(samples, 0.25, seed).into_iter().enumerate() {
            let (x, y) = self.centre(c, r);
            csv += &format!("{i},{x:.1},{y:.1},{v:.4}\n");
        }
        let (covariates_path, truth_path) = (covariates.target().to_path_buf(), truth.target().to_path_buf());
        covariates.commit().map_err(bad)?;
        truth.commit().map_err(bad)?;
        let samples_path = dir.join("samples.csv");
        crate::output::Staged::write_all(&samples_path, Kind::Csv, csv.as_bytes()).map_err(bad)?;
        Ok(Written { covariates: covariates_path, truth: truth_path, samples: samples_path })
    }

    fn write_tif(&self, path: &Path, planes: &[Vec<f32>], names: &[String], unit: &str) -> Result<(), gdal::errors::GdalError> {
        let driver = DriverManager::get_driver_by_name("GTiff")?;
        let co: gdal::cpl::CslStringList =
            ["TILED=YES", "COMPRESS=DEFLATE", "PREDICTOR=3", "BLOCKXSIZE=256", "BLOCKYSIZE=256"].into_iter().collect();
        let mut ds = driver.create_with_band_type_with_options::<f32, _>(path, self.size, self.size, planes.len(), &co)?;
        ds.set_geo_transform(&self.geotransform())?;
        ds.set_spatial_ref(&gdal::spatial_ref::SpatialRef::from_epsg(EPSG)?)?;
        for (i, (plane, name)) in planes.iter().zip(names).enumerate() {
            let mut band = ds.rasterband(i + 1)?;
            band.set_description(name)?;
            band.set_no_data_value(Some(NODATA as f64))?;
            let data: Vec<f32> = plane.iter().map(|v| if v.is_finite() { *v } else { NODATA }).collect();
            let mut buf = gdal::raster::Buffer::new((self.size, self.size), data);
            band.write((0, 0), (self.size, self.size), &mut buf)?;
            if !unit.is_empty() {
                crate::raster::gdal::set_unit(&mut band, unit);
            }
        }
        ds.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_landscape() {
        let a = generate(64, 7);
        let b = generate(64, 7);
        let c = generate(64, 8);
        assert_eq!(a.bands[5].iter().map(|v| v.to_bits()).collect::<Vec<_>>(), b.bands[5].iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        assert_ne!(a.bands[0], c.bands[0]);
        assert_eq!(a.bands.len(), band_names().len());
        let lake = a.soc.iter().filter(|v| v.is_nan()).count();
        assert!(lake > 0 && lake < 64 * 64 / 10, "a small lake: {lake}");
        let soc: Vec<f32> = a.soc.iter().copied().filter(|v| v.is_finite()).collect();
        let (lo, hi) = soc.iter().fold((f32::MAX, f32::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
        assert!(lo > 1.0 && hi < 9.0 && hi - lo > 1.0, "plausible SOC %: {lo}..{hi}");
    }
}
