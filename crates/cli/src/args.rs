//! The command line's arguments, and the one place where they become the library's requests.
//! Every flag maps to a field of a library type; nothing here decides anything about the work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use terrapix::cube::cdf::{CdfOptions, Method};
use terrapix::cube::predict::NamedCube;
use terrapix::engine::{self, EngineOptions};
use terrapix::raster::BindOptions;
use terrapix::sample::PointOptions;

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

#[derive(Parser)]
#[command(name = "terrapix", version, about = "Turn trained environmental models (ONNX bundles) into maps")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Print a bundle's manifest, model card and input/output signature.
    Info {
        /// A bundle, or a STAC MLM item whose model asset is one.
        model: PathBuf,
        /// Print the manifest as JSON only.
        #[arg(long)]
        json: bool,
        /// Describe the bundle as a STAC item of the Machine Learning Model extension (MLM
        /// 1.4), printed or written to this file (its model asset then points at the bundle).
        #[arg(long, value_name = "ITEM.json", num_args = 0..=1, default_missing_value = "-")]
        stac: Option<PathBuf>,
    },
    /// Wrap any ONNX model (e.g. from torch.onnx.export) into a bundle by adding a manifest.
    Bundle(BundleArgs),
    /// Merge member models into one graph computing the ensemble mean and standard deviation.
    Ensemble {
        /// Member models (bundles, or plain ONNX with --manifest).
        #[arg(required = true)]
        members: Vec<PathBuf>,
        #[arg(short, long)]
        output: PathBuf,
        /// Manifest JSON for the ensemble (default: the first member's).
        #[arg(long)]
        manifest: Option<PathBuf>,
        #[command(flatten)]
        runtime: RuntimeArgs,
    },
    /// Predict a map from covariate rasters.
    Predict(PredictArgs),
    /// Write a prediction VRT: GDAL tools and QGIS then predict on the fly (needs the GDAL plugin).
    Vrt(VrtArgs),
    /// Extract the tensors a model layout needs at field sample points (for training).
    Sample(SampleArgs),
    /// Check a bundle on independent points: accuracy, coverage of its interval bands, its
    /// quantiles, the area of applicability; a JSON report and figures.
    Validate(ValidateArgs),
    /// Train a model with cross-validation and export the fold models as one ensemble bundle.
    #[cfg(feature = "train")]
    Train(TrainArgs),
    /// Pretrain a SoilNet's image and climate branches without labels (SoilNet, Kakhani et al.
    /// 2024): contrast the image window and the climate series of unlabelled locations drawn
    /// from the rasters.
    #[cfg(feature = "train")]
    Pretrain(PretrainArgs),
    /// Benchmark helper: training samples per second of one fit, no early stopping.
    #[cfg(feature = "train")]
    #[command(hide = true)]
    BenchTrain {
        #[arg(long)]
        samples: PathBuf,
        #[arg(long)]
        config: PathBuf,
        #[arg(long, default_value_t = 20)]
        epochs: usize,
    },
    /// Write the seeded sample landscape (covariates.tif, truth.tif, samples.csv).
    SampleData {
        dir: PathBuf,
        #[arg(long, default_value_t = 512)]
        size: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value_t = 400)]
        samples: usize,
    },
    /// Render a band of a map to a PNG quick-look.
    Quicklook {
        raster: PathBuf,
        #[arg(short, long)]
        output: PathBuf,
        #[arg(long, default_value_t = 1)]
        band: usize,
        /// viridis (values) or magma (uncertainty).
        #[arg(long, default_value = "viridis")]
        ramp: String,
        #[arg(long, default_value_t = 1024)]
        max_side: usize,
    },
    /// Match a cube's distribution onto a reference's, per pixel (or zone), over their common
    /// dates, and apply it to the cube's whole record (CF NetCDF out).
    CdfMatch(CdfMatchArgs),
    /// Map every date of covariate cubes with a bundle (or one per month): CF NetCDF out.
    PredictCube(PredictCubeArgs),
    /// Learn the residual bias of a CDF-matched source against a reference with gradient
    /// boosting (per month, or month as a covariate), and correct the source's whole record.
    #[cfg(feature = "train")]
    BiasCorrect(BiasCorrectArgs),
    /// Fill a cube's gaps with a model trained on its known values, validated by masking known
    /// values in realistic patterns; intervals and a flag for the filled values.
    #[cfg(feature = "train")]
    FillGaps(FillGapsArgs),
    /// Write every date of a cube as a GeoTIFF (DIR/NAME_YYYY-MM-DD.tif, the date in the band).
    CubeExport {
        cube: PathBuf,
        /// The folder (created if missing).
        #[arg(long)]
        to: PathBuf,
        #[arg(short, long)]
        quiet: bool,
    },
    /// Print a cube's variable, grid and dates (and the days it has no step for).
    CubeInfo {
        cube: PathBuf,
        /// Dates of the bands, one per line (for stacks whose bands carry none).
        #[arg(long)]
        dates: Option<PathBuf>,
    },
    /// Score a cube against another (e.g. the synthetic truth): RMSE, bias, ubRMSE, R.
    CubeScores {
        estimate: PathBuf,
        truth: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Write the seeded synthetic soil-moisture cube (truth, reference, biased source with
    /// gaps, precipitation, air temperature, NDVI; static.tif).
    SynthCube {
        dir: PathBuf,
        #[arg(long, default_value_t = 3)]
        seed: u64,
        #[arg(long, default_value_t = 24)]
        width: usize,
        #[arg(long, default_value_t = 20)]
        height: usize,
        #[arg(long, default_value = "2015-01-01")]
        start: String,
        #[arg(long, default_value_t = 1461)]
        days: usize,
    },
    /// Benchmark helper: ONNX Runtime alone on the tensors of the first tiles of a job.
    BenchOrt {
        #[arg(long)]
        model: PathBuf,
        #[arg(long, num_args = 1.., required = true)]
        covariates: Vec<PathBuf>,
        /// Tiles (256 x 256 output cells, or fewer for patches) to time.
        #[arg(long, default_value_t = 4)]
        tiles: usize,
        #[command(flatten)]
        runtime: RuntimeArgs,
        #[arg(long, default_value_t = 0)]
        batch: usize,
    },
}

#[derive(Args, Clone)]
pub struct RuntimeArgs {
    /// Inference sessions run at once, one thread each (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// ONNX Runtime threads inside each session.
    #[arg(long, default_value_t = 1)]
    pub intra_threads: usize,
    /// Path of libonnxruntime.so (default: $TERRAPIX_ORT_LIB, a .venv, or python3's onnxruntime).
    #[arg(long)]
    pub ort_library: Option<PathBuf>,
}

impl RuntimeArgs {
    pub fn engine(&self) -> EngineOptions {
        let threads = engine::clamp_threads(self.threads, "--threads");
        if threads > 0 {
            let _ = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global();
        }
        // The library never starts a process to find ONNX Runtime; the command line may ask python3.
        let explicit = ["TERRAPIX_ORT_LIB", "ORT_DYLIB_PATH"].iter().any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
        let ort_library = self.ort_library.clone().or_else(|| {
            let fallback = !explicit && engine::ort_library().is_err();
            fallback.then(engine::ort_library_of_python).flatten()
        });
        EngineOptions {
            sessions: threads,
            intra_threads: engine::clamp_threads(self.intra_threads, "--intra-threads"),
            ort_library,
            ..Default::default()
        }
    }
}

/// Sizes rayon's global pool (clamped as prediction clamps its workers: rayon cannot start
/// 100,000 threads, and a failed pool would panic at its first use).
pub fn threads(n: usize) {
    let n = engine::clamp_threads(n, "--threads");
    if n > 0 {
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n).build_global();
    }
}

#[derive(Args)]
pub struct BundleArgs {
    /// The ONNX model to wrap.
    pub model: PathBuf,
    #[arg(short, long)]
    pub output: PathBuf,
    /// A complete manifest as JSON (instead of the flags below).
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long, default_value = "1.0.0")]
    pub model_version: String,
    #[arg(long, default_value = "")]
    pub description: String,
    /// Target variable, e.g. soc.
    #[arg(long)]
    pub target: Option<String>,
    #[arg(long, default_value = "")]
    pub unit: String,
    /// The model predicts log(1 + target).
    #[arg(long)]
    pub log1p: bool,
    /// NAME:LAYOUT:COVARIATES, LAYOUT one of pixel, windowK, patchP, seriesTxF; covariates
    /// comma-separated, `cov[1-12]` for ranges, `@patch_x`/`@patch_y`/`@x`/`@y` generated.
    #[arg(long = "input")]
    pub inputs: Vec<String>,
    /// BAND=GRAPH_OUTPUT[:INDEX]; the kind follows the band name (mean, std, qNN, else value).
    /// Default: band "value" from the first graph output.
    #[arg(long = "band")]
    pub bands: Vec<String>,
    /// Markdown model card to embed.
    #[arg(long)]
    pub card: Option<PathBuf>,
    /// Treat context beyond the raster edge as nodata (default: replicate edge pixels).
    #[arg(long)]
    pub edge_nodata: bool,
    /// Fill isolated input gaps from neighbours within this radius (pixels).
    #[arg(long)]
    pub fill_gaps: Option<usize>,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
}

#[cfg(feature = "train")]
#[derive(Args)]
pub struct TrainArgs {
    /// A folder written by `terrapix sample`.
    #[arg(long)]
    pub samples: PathBuf,
    /// Trainer configuration (TOML); defaults: an MLP, spatial 5-fold CV.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The ensemble bundle to write (without it, only cross-validate: give --report).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    #[arg(long)]
    pub name: Option<String>,
    /// Unit of the target, e.g. %.
    #[arg(long, default_value = "")]
    pub unit: String,
    /// Also write the cross-validation report (JSON).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Also write PNG figures (observed vs predicted, residuals, learning curves, importance) here.
    #[arg(long)]
    pub figures: Option<PathBuf>,
    /// Markdown model card to embed in the bundle (what it predicts, data, method, validation,
    /// what it must not be used for).
    #[arg(long)]
    pub card: Option<PathBuf>,
    /// Report progress as JSON lines on stdout ({"event": "fold", "done", "total", "metrics"}),
    /// for hosts that drive the trainer (the QGIS plugin).
    #[arg(long)]
    pub progress_json: bool,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
}

#[cfg(feature = "train")]
impl TrainArgs {
    pub fn request(&self) -> terrapix_train::run::TrainRequest {
        terrapix_train::run::TrainRequest {
            samples: self.samples.clone(),
            config: self.config.clone(),
            output: self.output.clone(),
            name: self.name.clone(),
            unit: self.unit.clone(),
            report: self.report.clone(),
            figures: self.figures.clone(),
            card: self.card.clone(),
        }
    }
}

#[cfg(feature = "train")]
#[derive(Args)]
pub struct PretrainArgs {
    /// Covariate rasters to draw unlabelled locations from.
    #[arg(long, num_args = 1.., required = true)]
    pub covariates: Vec<PathBuf>,
    /// The model's inputs as NAME:LAYOUT:COVARIATES, as given to `terrapix sample` (a window
    /// for the image branch, a series for the climate branch).
    #[arg(long = "input", required = true)]
    pub inputs: Vec<String>,
    /// Trainer configuration (TOML): its [model] (a soilnet) and [pretrain] sections; fine-tune
    /// with the same [model] and `[fit] init = "WEIGHTS.ot"`.
    #[arg(long)]
    pub config: PathBuf,
    /// The weights to write (libtorch's format), with their sidecar WEIGHTS.ot.json.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Report progress as JSON lines on stdout ({"event": "epoch", "done", "total", "metrics"}).
    #[arg(long)]
    pub progress_json: bool,
    #[command(flatten)]
    pub binding: BindingArgs,
}

#[cfg(feature = "train")]
impl PretrainArgs {
    pub fn request(&self) -> terrapix_train::pretrain::PretrainRequest {
        terrapix_train::pretrain::PretrainRequest {
            covariates: self.covariates.clone(),
            inputs: self.inputs.clone(),
            config: self.config.clone(),
            output: self.output.clone(),
            bind: self.binding.options(),
        }
    }
}

#[derive(Args)]
pub struct SampleArgs {
    /// Points: CSV (x/y or lon/lat columns), GeoPackage, Shapefile, anything OGR reads.
    pub points: PathBuf,
    /// Covariate rasters; without them, the inputs' channels are columns of the points table.
    #[arg(long, num_args = 1..)]
    pub covariates: Vec<PathBuf>,
    /// Inputs as NAME:LAYOUT:COVARIATES (see `terrapix bundle --help`); without these or
    /// --model, every band of the covariate rasters, per pixel...
    #[arg(long = "input")]
    pub inputs: Vec<String>,
    /// ...or the inputs of an existing bundle.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Output folder: samples.json, one .npy per input, points.csv, skipped.csv.
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub point: PointArgs,
    #[command(flatten)]
    pub binding: BindingArgs,
}

impl SampleArgs {
    pub fn request(&self) -> terrapix::sample::SampleRequest {
        terrapix::sample::SampleRequest {
            points: self.points.clone(),
            covariates: self.covariates.clone(),
            inputs: self.inputs.clone(),
            model: self.model.clone(),
            output: self.output.clone(),
            point_options: self.point.options(),
            bind: self.binding.options(),
        }
    }
}

/// How to read a points table (sampling and validation).
#[derive(Args)]
pub struct PointArgs {
    /// Target column (without one, only covariate values are extracted).
    #[arg(long, default_value = "")]
    pub target: String,
    /// Coordinate columns of a CSV file (default: x/lon/longitude, y/lat/latitude).
    #[arg(long)]
    pub x: Option<String>,
    #[arg(long)]
    pub y: Option<String>,
    /// CRS of points that carry none (CSV); default EPSG:4326 for lon/lat columns.
    #[arg(long)]
    pub crs: Option<String>,
    /// Group (site, region) and stratum columns, kept for cross-validation and per-group results.
    #[arg(long)]
    pub group: Option<String>,
    #[arg(long)]
    pub stratum: Option<String>,
    #[arg(long)]
    pub layer: Option<String>,
    /// Identifier column (default: id, ID or Point_ID if present).
    #[arg(long)]
    pub id: Option<String>,
    /// Target value meaning "not measured".
    #[arg(long)]
    pub target_nodata: Option<f64>,
}

impl PointArgs {
    pub fn options(&self) -> PointOptions {
        PointOptions {
            target: self.target.clone(),
            x: self.x.clone(),
            y: self.y.clone(),
            crs: self.crs.clone(),
            group: self.group.clone(),
            stratum: self.stratum.clone(),
            layer: self.layer.clone(),
            id: self.id.clone(),
            target_nodata: self.target_nodata,
            columns: Vec::new(),
        }
    }
}

#[derive(Args)]
pub struct ValidateArgs {
    /// The bundle to check.
    #[arg(long)]
    pub model: PathBuf,
    /// Independent points with an observed target: CSV, GeoPackage, anything OGR reads; the
    /// bundle's covariates come from --covariates rasters, or from columns of the table itself.
    pub points: PathBuf,
    #[arg(long, num_args = 1..)]
    pub covariates: Vec<PathBuf>,
    /// The JSON report to write.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Also write PNG figures (observed against predicted with intervals, error against DI) here.
    #[arg(long)]
    pub figures: Option<PathBuf>,
    #[command(flatten)]
    pub point: PointArgs,
    #[command(flatten)]
    pub binding: BindingArgs,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
}

impl ValidateArgs {
    pub fn request(&self) -> Result<terrapix::validate::ValidateRequest> {
        if self.point.target.is_empty() {
            return Err("give --target, the column of observed values to validate against".into());
        }
        Ok(terrapix::validate::ValidateRequest {
            model: self.model.clone(),
            points: self.points.clone(),
            covariates: self.covariates.clone(),
            output: self.output.clone(),
            figures: self.figures.clone(),
            point_options: self.point.options(),
            bind: self.binding.options(),
        })
    }
}

#[derive(Args)]
pub struct VrtArgs {
    #[arg(long)]
    pub model: PathBuf,
    #[arg(long, num_args = 1.., required = true)]
    pub covariates: Vec<PathBuf>,
    /// The VRT to write; its job file gets the same name with the extension .tpx.
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub binding: BindingArgs,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
}

/// How covariate bands are bound and aligned (shared by predict, vrt and sample); the flags
/// fill the library's one set of binding options.
#[derive(Args)]
pub struct BindingArgs {
    /// Explicit binding NAME=FILE:BAND or NAME=BAND (1-based; BAND alone means the first raster).
    #[arg(long = "bind")]
    pub bindings: Vec<String>,
    /// Bind covariates to bands by position instead of by description.
    #[arg(long)]
    pub by_order: bool,
    /// Raster whose grid the map uses (default: the first covariate raster).
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// Resampling for covariates on another grid (near, bilinear, cubic, average, ...).
    #[arg(long, default_value = "bilinear")]
    pub resampling: String,
    /// Map only this extent XMIN,YMIN,XMAX,YMAX (reference CRS), snapped outwards to its pixels.
    #[arg(long, value_parser = parse_extent, allow_hyphen_values = true)]
    pub extent: Option<[f64; 4]>,
}

impl BindingArgs {
    pub fn options(&self) -> BindOptions {
        BindOptions {
            bindings: self.bindings.clone(),
            by_order: self.by_order,
            reference: self.reference.clone(),
            resampling: Some(self.resampling.clone()),
            extent: self.extent,
        }
    }
}

/// `XMIN,YMIN,XMAX,YMAX` (commas or spaces).
fn parse_extent(s: &str) -> std::result::Result<[f64; 4], String> {
    let v: Vec<f64> = s
        .split([',', ' '])
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<f64>().map_err(|_| format!("'{t}' is not a number")))
        .collect::<std::result::Result<_, _>>()?;
    match v[..] {
        [x0, y0, x1, y1] => terrapix::raster::check_extent([x0, y0, x1, y1]).map(|_| [x0, y0, x1, y1]).map_err(|e| e.to_string()),
        _ => Err(format!("the extent needs 4 numbers XMIN,YMIN,XMAX,YMAX, got {}", v.len())),
    }
}

#[derive(Args)]
pub struct PredictArgs {
    #[arg(long)]
    pub model: PathBuf,
    /// Covariate rasters (GeoTIFF, VRT, anything GDAL reads); bands bound by description.
    #[arg(long, num_args = 1.., required = true)]
    pub covariates: Vec<PathBuf>,
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub binding: BindingArgs,
    /// Write a Cloud Optimized GeoTIFF.
    #[arg(long)]
    pub cog: bool,
    #[arg(long, default_value = "DEFLATE")]
    pub compress: String,
    #[arg(long, default_value_t = 0)]
    pub batch: usize,
    /// Tile side in output cells (0 = automatic).
    #[arg(long, default_value_t = 0)]
    pub tile: usize,
    /// Worker threads (default: one per inference session, see --threads).
    #[arg(long, default_value_t = 0)]
    pub workers: usize,
    /// Write only these model outputs, in this order (default: all), e.g. --outputs mean.
    #[arg(long, value_delimiter = ',')]
    pub outputs: Vec<String>,
    /// Also write a PNG quick-look of the first band.
    #[arg(long)]
    pub quicklook: Option<PathBuf>,
    /// Print timing and memory figures.
    #[arg(long)]
    pub stats: bool,
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
}

impl PredictArgs {
    pub fn options(&self, gdal_cache: i64) -> terrapix::predict::PredictOptions {
        terrapix::predict::PredictOptions {
            bind: self.binding.options(),
            raster: terrapix::predict::RasterOptions {
                compress: self.compress.clone(),
                cog: self.cog,
                batch: self.batch,
                tile: self.tile,
                workers: self.workers,
                outputs: self.outputs.clone(),
            },
            gdal_cache: Some(gdal_cache),
        }
    }
}

#[derive(Args)]
pub struct CdfMatchArgs {
    /// The product to correct (NetCDF variable, or a raster stack with dates).
    #[arg(long)]
    pub source: PathBuf,
    /// The product to match (on the source's grid). Not with --apply.
    #[arg(long, required_unless_present = "apply")]
    pub reference: Option<PathBuf>,
    /// The matched source: a CF NetCDF cube.
    #[arg(short, long)]
    pub output: PathBuf,
    /// beta (the seed's parametric fit: Beta by moments, quantile knots 1..99 % plus min and
    /// max) or empirical (sample quantiles at --points probabilities).
    #[arg(long, default_value = "beta")]
    pub method: String,
    /// Quantile points of the empirical mapping.
    #[arg(long, default_value_t = 51)]
    pub points: usize,
    /// Fewest dates with both products valid to fit a pixel (or zone); fewer: nodata.
    #[arg(long, default_value_t = 3)]
    pub min_count: usize,
    /// The physical range LOW,HIGH: the Beta's support, and the clip of mapped values.
    #[arg(long, default_value = "0,1")]
    pub range: String,
    /// An integer raster on the grid: pixels of one zone share one mapping (0: per pixel).
    #[arg(long)]
    pub zones: Option<PathBuf>,
    /// Also store the fitted mapping (GeoTIFF, two bands per knot) to reapply with --apply.
    #[arg(long)]
    pub save_mapping: Option<PathBuf>,
    /// Apply a stored mapping to --source instead of fitting one.
    #[arg(long, conflicts_with_all = ["reference", "zones", "save_mapping"])]
    pub apply: Option<PathBuf>,
    /// Dates of the source's bands, one per line (for stacks whose bands carry none).
    #[arg(long)]
    pub source_dates: Option<PathBuf>,
    /// Dates of the reference's bands, one per line.
    #[arg(long)]
    pub reference_dates: Option<PathBuf>,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    #[arg(short, long)]
    pub quiet: bool,
    /// Print the seconds spent reading, computing (fit and apply) and writing.
    #[arg(long)]
    pub stats: bool,
}

impl CdfMatchArgs {
    pub fn request(&self) -> Result<terrapix::cube::matching::CdfMatchRequest> {
        let method = match self.method.as_str() {
            "beta" => Method::Beta,
            "empirical" => Method::Empirical { points: self.points },
            other => return Err(format!("unknown --method '{other}' (beta or empirical)").into()),
        };
        Ok(terrapix::cube::matching::CdfMatchRequest {
            source: self.source.clone(),
            reference: self.reference.clone(),
            output: self.output.clone(),
            options: CdfOptions { method, min_count: self.min_count, range: parse_range(&self.range, "--range")? },
            zones: self.zones.clone(),
            save_mapping: self.save_mapping.clone(),
            apply: self.apply.clone(),
            source_dates: self.source_dates.clone(),
            reference_dates: self.reference_dates.clone(),
        })
    }
}

/// `LOW,HIGH` with LOW below HIGH, both finite.
pub fn parse_range(text: &str, flag: &str) -> Result<(f64, f64)> {
    let bad = || format!("{flag} '{text}' is not LOW,HIGH with LOW below HIGH (e.g. 0,1)");
    let (lo, hi) = text.split_once(',').ok_or_else(bad)?;
    let (lo, hi): (f64, f64) = (lo.trim().parse().map_err(|_| bad())?, hi.trim().parse().map_err(|_| bad())?);
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(bad().into());
    }
    Ok((lo, hi))
}

fn named_cubes(specs: &[String]) -> Result<Vec<NamedCube>> {
    Ok(specs.iter().map(|c| c.parse::<NamedCube>()).collect::<std::result::Result<_, _>>()?)
}

#[derive(Args)]
pub struct PredictCubeArgs {
    /// A bundle, or a folder of monthly bundles (month_01.onnx .. month_12.onnx) or model.onnx.
    #[arg(long)]
    pub model: PathBuf,
    /// Time-varying covariates, NAME=CUBE (repeat): at each date, NAME is that date's plane.
    #[arg(long = "cube", required = true)]
    pub cubes: Vec<String>,
    /// Rasters of static covariates, bound by band description (repeat).
    #[arg(long = "static")]
    pub statics: Vec<PathBuf>,
    /// The covariate the model's predictions are a residual on (added back), e.g. source.
    #[arg(long)]
    pub offset: Option<String>,
    /// Clip target-scale bands to LOW,HIGH (e.g. 0,1 for soil moisture).
    #[arg(long)]
    pub clip: Option<String>,
    /// The predicted cube: CF NetCDF, one variable per model output.
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    #[arg(short, long)]
    pub quiet: bool,
}

impl PredictCubeArgs {
    pub fn request(&self) -> Result<terrapix::cube::predict::PredictCubeRequest> {
        Ok(terrapix::cube::predict::PredictCubeRequest {
            model: self.model.clone(),
            cubes: named_cubes(&self.cubes)?,
            statics: self.statics.clone(),
            offset: self.offset.clone(),
            clip: self.clip.as_deref().map(|c| parse_range(c, "--clip")).transpose()?,
            output: self.output.clone(),
        })
    }
}

#[cfg(feature = "train")]
#[derive(Args)]
pub struct BiasCorrectArgs {
    /// The reference product (e.g. SMAP).
    #[arg(long)]
    pub reference: PathBuf,
    /// The CDF-matched source (from cdf-match), corrected over its whole record.
    #[arg(long)]
    pub source: PathBuf,
    /// Time-varying covariates, NAME=CUBE (repeat).
    #[arg(long = "cube")]
    pub cubes: Vec<String>,
    /// Rasters of static covariates, bound by band description (repeat).
    #[arg(long = "static")]
    pub statics: Vec<PathBuf>,
    /// monthly (one model per calendar month, as the seed), month-feature (one model, the month
    /// a covariate), or compare (both cross-validated; the better one is kept).
    #[arg(long, default_value = "compare")]
    pub scheme: String,
    /// Most (pixel, date) samples in all, shared evenly by the models.
    #[arg(long, default_value_t = 240_000)]
    pub max_samples: usize,
    /// Physical range of the corrected values.
    #[arg(long, default_value = "0,1")]
    pub clip: String,
    /// Folder for the bundles (month_01.onnx .. month_12.onnx, or model.onnx) and report.json.
    #[arg(long)]
    pub models: PathBuf,
    /// The corrected cube (CF NetCDF: mean, std, lower_90, upper_90).
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    #[arg(short, long)]
    pub quiet: bool,
}

#[cfg(feature = "train")]
impl BiasCorrectArgs {
    pub fn request(&self) -> Result<terrapix_train::bias::BiasCorrectRequest> {
        use terrapix_train::bias::Scheme;
        let schemes = match self.scheme.as_str() {
            "monthly" => vec![Scheme::Monthly],
            "month-feature" => vec![Scheme::MonthFeature],
            "compare" => vec![Scheme::Monthly, Scheme::MonthFeature],
            other => return Err(format!("unknown --scheme '{other}' (monthly, month-feature or compare)").into()),
        };
        Ok(terrapix_train::bias::BiasCorrectRequest {
            reference: self.reference.clone(),
            source: self.source.clone(),
            cubes: named_cubes(&self.cubes)?,
            statics: self.statics.clone(),
            schemes,
            max_samples: self.max_samples,
            clip: parse_range(&self.clip, "--clip")?,
            models: self.models.clone(),
            output: self.output.clone(),
        })
    }
}

#[cfg(feature = "train")]
#[derive(Args)]
pub struct FillGapsArgs {
    /// The cube to fill, e.g. NETCDF:"corrected.nc":mean.
    #[arg(long)]
    pub target: PathBuf,
    /// Time-varying covariates without gaps, NAME=CUBE (repeat).
    #[arg(long = "cube")]
    pub cubes: Vec<String>,
    /// Rasters of static covariates, bound by band description (repeat).
    #[arg(long = "static")]
    pub statics: Vec<PathBuf>,
    /// An independent product of the same quantity (e.g. the reference of bias-correct): the
    /// filled values' intervals are calibrated against it where it has values at real gaps.
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// Nominal coverage of the filled values' intervals.
    #[arg(long, default_value_t = 0.9)]
    pub level: f64,
    /// Physical range of filled values.
    #[arg(long, default_value = "0,1")]
    pub clip: String,
    /// Most training samples per model.
    #[arg(long, default_value_t = 120_000)]
    pub max_samples: usize,
    /// Where the gap-filling model's bundle is written.
    #[arg(long)]
    pub model_out: PathBuf,
    /// The gap-free cube (CF NetCDF: value, lower/upper bounds of filled values, filled flag).
    #[arg(short, long)]
    pub output: PathBuf,
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    #[arg(short, long)]
    pub quiet: bool,
}

#[cfg(feature = "train")]
impl FillGapsArgs {
    pub fn request(&self) -> Result<terrapix_train::gapfill::FillGapsRequest> {
        Ok(terrapix_train::gapfill::FillGapsRequest {
            target: self.target.clone(),
            cubes: named_cubes(&self.cubes)?,
            statics: self.statics.clone(),
            reference: self.reference.clone(),
            level: self.level,
            clip: parse_range(&self.clip, "--clip")?,
            max_samples: self.max_samples,
            model_out: self.model_out.clone(),
            output: self.output.clone(),
        })
    }
}
