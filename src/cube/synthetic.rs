//! The seeded synthetic soil-moisture cube of the soil-moisture workflow's tests, README and benchmarks.
//!
//! A daily "true" surface soil moisture (m3/m3) from a bucket model: rain storms (moving blobs,
//! more over high ground) fill a layer whose capacity grows with clay, evaporation driven by
//! air temperature empties it, and low ground stays wetter (convergence). From the truth:
//! - a *reference* product (SMAP-like): a shorter record, truth plus noise, missing on a 3-day
//!   revisit pattern;
//! - a *source* product (CCI-like): the whole record with a known non-linear, seasonal bias,
//!   `0.06 + 0.75 truth^0.8 + 0.03 sin(season) + 0.05 (NDVI - 0.45)` plus noise, and realistic
//!   gaps: whole days, a moving orbit swath, frozen soil (air temperature below 0 degC), and
//!   dense vegetation (NDVI above 0.65, half of the time);
//! - covariates: daily precipitation, air temperature and NDVI cubes, and a static stack (DEM,
//!   clay, sand, silt).
//!
//! Everything is written as CF NetCDF cubes (and one GeoTIFF for the static stack) on a 0.25
//! degree grid in EPSG:4326.

use std::path::{Path, PathBuf};

use chrono::Datelike;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::time::Date;
use super::write::{CubeWriter, Variable};
use super::CubeError;
use crate::raster::{BandInfo, Grid, MapWriter, OutputOptions};

#[derive(Clone, Debug)]
pub struct SynthOptions {
    pub width: usize,
    pub height: usize,
    pub start: Date,
    pub days: usize,
    /// First day of the reference product (the overlap runs from here to the end).
    pub reference_start: Date,
    pub seed: u64,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions {
            width: 24,
            height: 20,
            start: Date::from_ymd_opt(2015, 1, 1).expect("valid"),
            days: 4 * 365 + 1,
            reference_start: Date::from_ymd_opt(2016, 4, 1).expect("valid"),
            seed: 3,
        }
    }
}

/// Most bytes the generated cube may hold in memory (it is made whole, then written).
const MAX_BYTES: usize = 2 << 30;

impl SynthOptions {
    /// Refuses sizes that make no cube or one beyond [`MAX_BYTES`], before anything is allocated.
    pub fn check(&self) -> Result<(), CubeError> {
        let bad = |m: String| Err(CubeError::Mismatch(m));
        if !(2..=10_000).contains(&self.width) || !(2..=10_000).contains(&self.height) {
            return bad(format!("a synthetic cube is 2 to 10000 pixels a side, not {} x {}", self.width, self.height));
        }
        if !(30..=36_600).contains(&self.days) {
            return bad(format!("a synthetic cube spans 30 to 36600 days, not {}", self.days));
        }
        // Seven variables of (day, pixel) floats.
        let bytes = self.width.saturating_mul(self.height).saturating_mul(self.days).saturating_mul(7 * 4);
        if bytes > MAX_BYTES {
            return bad(format!(
                "{} x {} pixels over {} days need {:.1} GiB in memory, more than the {} GiB a synthetic cube may take",
                self.width,
                self.height,
                self.days,
                bytes as f64 / (1u64 << 30) as f64,
                MAX_BYTES >> 30
            ));
        }
        Ok(())
    }
}

/// Generates the cube of `options` (checked first) and writes it into the folder `dir`
/// (`terrapix synth-cube`).
pub fn write_cube(options: &SynthOptions, dir: &Path) -> Result<Written, CubeError> {
    options.check()?;
    generate(options).write(dir)
}

/// The generated cube, in memory: `[day][pixel]` planes (NaN: missing).
pub struct Synthetic {
    pub grid: Grid,
    pub dates: Vec<Date>,
    pub truth: Vec<f32>,
    pub reference: Vec<f32>,
    pub source: Vec<f32>,
    pub precipitation: Vec<f32>,
    pub air_temperature: Vec<f32>,
    pub ndvi: Vec<f32>,
    /// Static planes `[pixel]`: DEM (m), clay, sand, silt (fractions).
    pub dem: Vec<f32>,
    pub clay: Vec<f32>,
    pub sand: Vec<f32>,
}

fn normal(rng: &mut ChaCha8Rng) -> f32 {
    // Box-Muller.
    let u1: f32 = rng.random::<f32>().max(1e-12);
    let u2: f32 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// A smooth field in [0, 1]: a sum of random Gaussian bumps over the grid.
fn smooth_field(rng: &mut ChaCha8Rng, w: usize, h: usize, bumps: usize) -> Vec<f32> {
    let centres: Vec<(f32, f32, f32, f32)> = (0..bumps)
        .map(|_| {
            (
                rng.random::<f32>() * w as f32,
                rng.random::<f32>() * h as f32,
                2.0 + rng.random::<f32>() * w as f32 / 3.0,
                rng.random::<f32>() * 2.0 - 0.5,
            )
        })
        .collect();
    let mut v: Vec<f32> = (0..w * h)
        .map(|p| {
            let (x, y) = ((p % w) as f32, (p / w) as f32);
            centres.iter().map(|(cx, cy, r, a)| a * (-((x - cx).powi(2) + (y - cy).powi(2)) / (2.0 * r * r)).exp()).sum()
        })
        .collect();
    let (lo, hi) = v.iter().fold((f32::MAX, f32::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    v.iter_mut().for_each(|x| *x = (*x - lo) / (hi - lo).max(1e-6));
    v
}

pub fn generate(o: &SynthOptions) -> Synthetic {
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
    let (w, h, n) = (o.width, o.height, o.width * o.height);
    let cell = 0.25;
    let grid = Grid {
        width: w,
        height: h,
        geotransform: [10.0, cell, 0.0, 50.0 + h as f64 * cell, 0.0, -cell],
        wkt: gdal::spatial_ref::SpatialRef::from_epsg(4326).and_then(|s| s.to_wkt()).unwrap_or_default(),
    };
    let dates: Vec<Date> = (0..o.days).map(|d| o.start + chrono::Duration::days(d as i64)).collect();
    let relief = smooth_field(&mut rng, w, h, 6);
    let dem: Vec<f32> = relief.iter().map(|r| 200.0 + 1000.0 * r).collect();
    let clay: Vec<f32> = smooth_field(&mut rng, w, h, 5).iter().map(|c| 0.08 + 0.4 * c).collect();
    let sand: Vec<f32> = smooth_field(&mut rng, w, h, 5).iter().zip(&clay).map(|(s, c)| (0.15 + 0.5 * s).min(0.92 - c)).collect();
    let greenness = smooth_field(&mut rng, w, h, 4);
    let capacity: Vec<f32> = clay.iter().map(|c| 0.30 + 0.35 * c).collect();
    let residual: Vec<f32> = clay.iter().map(|c| 0.03 + 0.12 * c).collect();
    let nd = o.days;
    let (mut truth, mut reference, mut source) = (vec![0f32; nd * n], vec![f32::NAN; nd * n], vec![f32::NAN; nd * n]);
    let (mut precipitation, mut air, mut ndvi) = (vec![0f32; nd * n], vec![0f32; nd * n], vec![0f32; nd * n]);
    let mut sm: Vec<f32> = capacity.iter().zip(&residual).map(|(c, r)| 0.5 * (c + r)).collect();
    let mut weather = 0f32; // an AR(1) anomaly of air temperature shared by the region
    let mut swath = 0usize;
    for (d, date) in dates.iter().enumerate() {
        let doy = date.ordinal() as f32;
        let season = (std::f32::consts::TAU * (doy - 110.0) / 365.25).sin(); // +1 in late July
        weather = 0.8 * weather + 1.5 * normal(&mut rng);
        // Storms: a few moving blobs on a rainy day, wetter in winter and spring.
        let storms: Vec<(f32, f32, f32, f32)> = if rng.random::<f32>() < 0.35 - 0.1 * season {
            (0..1 + rng.random_range(0..3))
                .map(|_| {
                    (
                        rng.random::<f32>() * w as f32,
                        rng.random::<f32>() * h as f32,
                        3.0 + rng.random::<f32>() * 6.0,
                        4.0 + 20.0 * rng.random::<f32>(),
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        let day_missing = rng.random::<f32>() < 0.04;
        swath = (swath + 7) % (w + h);
        for p in 0..n {
            let (x, y) = ((p % w) as f32, (p / w) as f32);
            let i = d * n + p;
            let t = 9.0 + 11.0 * season - 0.0065 * (dem[p] - 500.0) + weather;
            let rain: f32 = storms
                .iter()
                .map(|(cx, cy, r, a)| a * (1.0 + relief[p]) * (-((x - cx).powi(2) + (y - cy).powi(2)) / (2.0 * r * r)).exp())
                .sum();
            let green = (0.2 + 0.35 * greenness[p] + 0.25 * (season * 0.5 + 0.5) * (0.6 + sm[p])).clamp(0.05, 0.9);
            // The bucket: infiltration into the free capacity, evaporation above residual water,
            // convergence keeping low ground wetter.
            let free = (capacity[p] - sm[p]).max(0.0);
            let infiltration = free * (1.0 - (-rain / 25.0).exp());
            let evaporation = 0.012 * ((t + 5.0) / 25.0).clamp(0.05, 1.6) * (sm[p] - residual[p]).max(0.0) / capacity[p];
            let convergence = 0.002 * (0.5 - relief[p]);
            sm[p] = (sm[p] + infiltration - evaporation + convergence).clamp(residual[p], capacity[p]);
            truth[i] = sm[p];
            precipitation[i] = rain;
            air[i] = t;
            ndvi[i] = green + 0.02 * normal(&mut rng);
            if *date >= o.reference_start && (x as usize + 2 * d) % 3 != 0 {
                reference[i] = (sm[p] + 0.02 * normal(&mut rng)).clamp(0.0, 0.6);
            }
            let gap =
                day_missing || ((x + y) as usize + (w + h) - swath) % (w + h) < 5 || t < 0.0 || (green > 0.65 && rng.random::<f32>() < 0.5);
            if !gap {
                let bias =
                    0.06 + 0.75 * sm[p].powf(0.8) + 0.03 * (std::f32::consts::TAU * (doy - 30.0) / 365.25).sin() + 0.05 * (green - 0.45);
                source[i] = (bias + 0.025 * normal(&mut rng)).clamp(0.0, 1.0);
            }
        }
    }
    let silt_check = sand.iter().zip(&clay).all(|(s, c)| s + c < 1.0);
    debug_assert!(silt_check);
    Synthetic { grid, dates, truth, reference, source, precipitation, air_temperature: air, ndvi, dem, clay, sand }
}

/// The files written by [`Synthetic::write`].
#[derive(Clone, Debug, serde::Serialize)]
pub struct Written {
    pub truth: PathBuf,
    pub reference: PathBuf,
    pub source: PathBuf,
    pub precipitation: PathBuf,
    pub air_temperature: PathBuf,
    pub ndvi: PathBuf,
    pub statics: PathBuf,
}

impl Synthetic {
    /// Writes the cubes into folder `dir` (created if missing).
    /// Writes the cube's files into the folder `dir`, whole: into a temporary folder renamed
    /// into place once every file is complete (see [`crate::output::StagedFolder`]).
    pub fn write(&self, dir: &Path) -> Result<Written, CubeError> {
        let folder_err = |e: crate::output::OutputError| CubeError::Output { path: dir.into(), reason: e.to_string() };
        let staged = crate::output::StagedFolder::new(dir, "the terrapix synthetic soil-moisture cube").map_err(folder_err)?;
        let written = self.write_into(staged.path())?;
        staged.commit().map_err(folder_err)?;
        let at = |p: PathBuf| dir.join(p.file_name().expect("a file"));
        Ok(Written {
            truth: at(written.truth),
            reference: at(written.reference),
            source: at(written.source),
            precipitation: at(written.precipitation),
            air_temperature: at(written.air_temperature),
            ndvi: at(written.ndvi),
            statics: at(written.statics),
        })
    }

    fn write_into(&self, dir: &Path) -> Result<Written, CubeError> {
        let n = self.grid.width * self.grid.height;
        // The reference's record starts later: its file holds its own dates only.
        let reference_from = self.reference.chunks(n).position(|day| day.iter().any(|v| v.is_finite())).unwrap_or(0);
        let cube = |file: &str, data: &[f32], name: &str, long: &str, unit: &str| -> Result<PathBuf, CubeError> {
            let path = dir.join(file);
            let global = [
                ("title".to_string(), format!("terrapix synthetic soil-moisture cube: {long}")),
                ("source".to_string(), "terrapix::cube::synthetic (seeded)".to_string()),
            ];
            let from = if file == "reference.nc" { reference_from } else { 0 };
            let dates = &self.dates[from..];
            let mut w = CubeWriter::create(&path, &self.grid, dates, &[Variable::float(name, long, unit)], &global)?;
            w.write_strip(0, 0..self.grid.height, &data[from * n..])?;
            w.finish()?;
            Ok(path)
        };
        let statics = dir.join("static.tif");
        let bands: Vec<BandInfo> = [("dem", "m"), ("clay", "1"), ("sand", "1"), ("silt", "1")]
            .iter()
            .map(|(d, u)| BandInfo { description: d.to_string(), unit: u.to_string() })
            .collect();
        let silt: Vec<f32> = self.clay.iter().zip(&self.sand).map(|(c, s)| 1.0 - c - s).collect();
        let mut m = MapWriter::create(&statics, &self.grid, &bands, f32::NAN, &OutputOptions::default())?;
        m.write(0, 0, self.grid.width, self.grid.height, &[self.dem.clone(), self.clay.clone(), self.sand.clone(), silt])?;
        m.finish()?;
        Ok(Written {
            truth: cube("truth.nc", &self.truth, "sm", "true surface soil moisture", "m3 m-3")?,
            reference: cube("reference.nc", &self.reference, "sm", "reference soil moisture (SMAP-like)", "m3 m-3")?,
            source: cube("source.nc", &self.source, "sm", "source soil moisture (CCI-like, biased, with gaps)", "m3 m-3")?,
            precipitation: cube("precipitation.nc", &self.precipitation, "precipitation", "daily precipitation", "mm")?,
            air_temperature: cube("air_temperature.nc", &self.air_temperature, "air_temperature", "air temperature", "degC")?,
            ndvi: cube("ndvi.nc", &self.ndvi, "ndvi", "NDVI", "1")?,
            statics,
        })
    }
}
