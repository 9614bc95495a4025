//! Subcommands. Each one parses its flags, calls the library and prints the outcome.

#[macro_use]
mod out;
mod cube;
pub mod signals;
mod specs;

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use terrapix::bundle::{ensemble, spec, Bundle, EdgeMode, GapFill, Manifest};
use terrapix::engine::{self, EngineOptions, Model};
use terrapix::predict::{self, PredictOptions, Predictor};
use terrapix::quicklook::{self, Ramp};
use terrapix::raster::{BindOptions, Covariates, OutputOptions, Window};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

#[derive(Parser)]
#[command(name = "terrapix", version, about = "Turn trained environmental models (ONNX bundles) into maps")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
    /// Pretrain a SoilNet's image and climate branches without labels (seed 001): contrast the
    /// image window and the climate series of unlabelled locations drawn from the rasters.
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
    CdfMatch(cube::CdfMatchArgs),
    /// Map every date of covariate cubes with a bundle (or one per month): CF NetCDF out.
    PredictCube(cube::PredictCubeArgs),
    /// Learn the residual bias of a CDF-matched source against a reference with gradient
    /// boosting (per month, or month as a covariate), and correct the source's whole record.
    #[cfg(feature = "train")]
    BiasCorrect(cube::BiasCorrectArgs),
    /// Fill a cube's gaps with a model trained on its known values, validated by masking known
    /// values in realistic patterns; intervals and a flag for the filled values.
    #[cfg(feature = "train")]
    FillGaps(cube::FillGapsArgs),
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
pub(crate) struct RuntimeArgs {
    /// Inference sessions run at once, one thread each (0 = one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// ONNX Runtime threads inside each session.
    #[arg(long, default_value_t = 1)]
    intra_threads: usize,
    /// Path of libonnxruntime.so (default: $TERRAPIX_ORT_LIB, a .venv, or python3's onnxruntime).
    #[arg(long)]
    ort_library: Option<PathBuf>,
}

impl RuntimeArgs {
    pub(crate) fn engine(&self) -> EngineOptions {
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
        EngineOptions { sessions: threads, intra_threads: engine::clamp_threads(self.intra_threads, "--intra-threads"), ort_library }
    }
}

#[derive(Args)]
struct BundleArgs {
    /// The ONNX model to wrap.
    model: PathBuf,
    #[arg(short, long)]
    output: PathBuf,
    /// A complete manifest as JSON (instead of the flags below).
    #[arg(long)]
    manifest: Option<PathBuf>,
    #[arg(long)]
    name: Option<String>,
    #[arg(long, default_value = "1.0.0")]
    model_version: String,
    #[arg(long, default_value = "")]
    description: String,
    /// Target variable, e.g. soc.
    #[arg(long)]
    target: Option<String>,
    #[arg(long, default_value = "")]
    unit: String,
    /// The model predicts log(1 + target).
    #[arg(long)]
    log1p: bool,
    /// NAME:LAYOUT:COVARIATES, LAYOUT one of pixel, windowK, patchP, seriesTxF; covariates
    /// comma-separated, `cov[1-12]` for ranges, `@patch_x`/`@patch_y`/`@x`/`@y` generated.
    #[arg(long = "input")]
    inputs: Vec<String>,
    /// BAND=GRAPH_OUTPUT[:INDEX]; the kind follows the band name (mean, std, qNN, else value).
    /// Default: band "value" from the first graph output.
    #[arg(long = "band")]
    bands: Vec<String>,
    /// Markdown model card to embed.
    #[arg(long)]
    card: Option<PathBuf>,
    /// Treat context beyond the raster edge as nodata (default: replicate edge pixels).
    #[arg(long)]
    edge_nodata: bool,
    /// Fill isolated input gaps from neighbours within this radius (pixels).
    #[arg(long)]
    fill_gaps: Option<usize>,
    #[command(flatten)]
    runtime: RuntimeArgs,
}

#[cfg(feature = "train")]
#[derive(Args)]
struct TrainArgs {
    /// A folder written by `terrapix sample`.
    #[arg(long)]
    samples: PathBuf,
    /// Trainer configuration (TOML); defaults: an MLP, spatial 5-fold CV.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The ensemble bundle to write (without it, only cross-validate: give --report).
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[arg(long)]
    name: Option<String>,
    /// Unit of the target, e.g. %.
    #[arg(long, default_value = "")]
    unit: String,
    /// Also write the cross-validation report (JSON).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Also write PNG figures (observed vs predicted, residuals, learning curves, importance) here.
    #[arg(long)]
    figures: Option<PathBuf>,
    /// Markdown model card to embed in the bundle (what it predicts, data, method, validation,
    /// what it must not be used for).
    #[arg(long)]
    card: Option<PathBuf>,
    /// Report progress as JSON lines on stdout ({"event": "fold", "done", "total", "metrics"}),
    /// for hosts that drive the trainer (the QGIS plugin).
    #[arg(long)]
    progress_json: bool,
    #[command(flatten)]
    runtime: RuntimeArgs,
}

#[cfg(feature = "train")]
#[derive(Args)]
struct PretrainArgs {
    /// Covariate rasters to draw unlabelled locations from.
    #[arg(long, num_args = 1.., required = true)]
    covariates: Vec<PathBuf>,
    /// The model's inputs as NAME:LAYOUT:COVARIATES, as given to `terrapix sample` (a window
    /// for the image branch, a series for the climate branch).
    #[arg(long = "input", required = true)]
    inputs: Vec<String>,
    /// Trainer configuration (TOML): its [model] (a soilnet) and [pretrain] sections; fine-tune
    /// with the same [model] and `[fit] init = "WEIGHTS.ot"`.
    #[arg(long)]
    config: PathBuf,
    /// The weights to write (libtorch's format), with their sidecar WEIGHTS.ot.json.
    #[arg(short, long)]
    output: PathBuf,
    /// Report progress as JSON lines on stdout ({"event": "epoch", "done", "total", "metrics"}).
    #[arg(long)]
    progress_json: bool,
    #[command(flatten)]
    binding: BindingArgs,
}

#[derive(Args)]
struct SampleArgs {
    /// Points: CSV (x/y or lon/lat columns), GeoPackage, Shapefile, anything OGR reads.
    points: PathBuf,
    /// Covariate rasters; without them, the inputs' channels are columns of the points table.
    #[arg(long, num_args = 1..)]
    covariates: Vec<PathBuf>,
    /// Inputs as NAME:LAYOUT:COVARIATES (see `terrapix bundle --help`); without these or
    /// --model, every band of the covariate rasters, per pixel...
    #[arg(long = "input")]
    inputs: Vec<String>,
    /// ...or the inputs of an existing bundle.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Output folder: samples.json, one .npy per input, points.csv, skipped.csv.
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    point: PointArgs,
    #[command(flatten)]
    binding: BindingArgs,
}

/// How to read a points table (sampling and validation).
#[derive(Args)]
struct PointArgs {
    /// Target column (without one, only covariate values are extracted).
    #[arg(long, default_value = "")]
    target: String,
    /// Coordinate columns of a CSV file (default: x/lon/longitude, y/lat/latitude).
    #[arg(long)]
    x: Option<String>,
    #[arg(long)]
    y: Option<String>,
    /// CRS of points that carry none (CSV); default EPSG:4326 for lon/lat columns.
    #[arg(long)]
    crs: Option<String>,
    /// Group (site, region) and stratum columns, kept for cross-validation and per-group results.
    #[arg(long)]
    group: Option<String>,
    #[arg(long)]
    stratum: Option<String>,
    #[arg(long)]
    layer: Option<String>,
    /// Identifier column (default: id, ID or Point_ID if present).
    #[arg(long)]
    id: Option<String>,
    /// Target value meaning "not measured".
    #[arg(long)]
    target_nodata: Option<f64>,
}

impl PointArgs {
    fn options(self) -> terrapix::sample::PointOptions {
        terrapix::sample::PointOptions {
            target: self.target,
            x: self.x,
            y: self.y,
            crs: self.crs,
            group: self.group,
            stratum: self.stratum,
            layer: self.layer,
            id: self.id,
            target_nodata: self.target_nodata,
            columns: Vec::new(),
        }
    }
}

#[derive(Args)]
struct ValidateArgs {
    /// The bundle to check.
    #[arg(long)]
    model: PathBuf,
    /// Independent points with an observed target: CSV, GeoPackage, anything OGR reads; the
    /// bundle's covariates come from --covariates rasters, or from columns of the table itself.
    points: PathBuf,
    #[arg(long, num_args = 1..)]
    covariates: Vec<PathBuf>,
    /// The JSON report to write.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Also write PNG figures (observed against predicted with intervals, error against DI) here.
    #[arg(long)]
    figures: Option<PathBuf>,
    #[command(flatten)]
    point: PointArgs,
    #[command(flatten)]
    binding: BindingArgs,
    #[command(flatten)]
    runtime: RuntimeArgs,
}

#[derive(Args)]
struct VrtArgs {
    #[arg(long)]
    model: PathBuf,
    #[arg(long, num_args = 1.., required = true)]
    covariates: Vec<PathBuf>,
    /// The VRT to write; its job file gets the same name with the extension .tpx.
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    binding: BindingArgs,
    #[command(flatten)]
    runtime: RuntimeArgs,
}

/// How covariate bands are bound and aligned (shared by predict, vrt and sample); the flags
/// fill the library's one set of binding options.
#[derive(Args)]
struct BindingArgs {
    /// Explicit binding NAME=FILE:BAND or NAME=BAND (1-based; BAND alone means the first raster).
    #[arg(long = "bind")]
    bindings: Vec<String>,
    /// Bind covariates to bands by position instead of by description.
    #[arg(long)]
    by_order: bool,
    /// Raster whose grid the map uses (default: the first covariate raster).
    #[arg(long)]
    reference: Option<PathBuf>,
    /// Resampling for covariates on another grid (near, bilinear, cubic, average, ...).
    #[arg(long, default_value = "bilinear")]
    resampling: String,
    /// Map only this extent XMIN,YMIN,XMAX,YMAX (reference CRS), snapped outwards to its pixels.
    #[arg(long, value_parser = specs::parse_extent, allow_hyphen_values = true)]
    extent: Option<[f64; 4]>,
}

impl BindingArgs {
    fn options(self) -> BindOptions {
        BindOptions {
            bindings: self.bindings,
            by_order: self.by_order,
            reference: self.reference,
            resampling: Some(self.resampling),
            extent: self.extent,
        }
    }
}

#[derive(Args)]
struct PredictArgs {
    #[arg(long)]
    model: PathBuf,
    /// Covariate rasters (GeoTIFF, VRT, anything GDAL reads); bands bound by description.
    #[arg(long, num_args = 1.., required = true)]
    covariates: Vec<PathBuf>,
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    binding: BindingArgs,
    /// Write a Cloud Optimized GeoTIFF.
    #[arg(long)]
    cog: bool,
    #[arg(long, default_value = "DEFLATE")]
    compress: String,
    #[arg(long, default_value_t = 0)]
    batch: usize,
    /// Tile side in output cells (0 = automatic).
    #[arg(long, default_value_t = 0)]
    tile: usize,
    /// Worker threads (default: one per inference session, see --threads).
    #[arg(long, default_value_t = 0)]
    workers: usize,
    /// Write only these model outputs, in this order (default: all), e.g. --outputs mean.
    #[arg(long, value_delimiter = ',')]
    outputs: Vec<String>,
    /// Also write a PNG quick-look of the first band.
    #[arg(long)]
    quicklook: Option<PathBuf>,
    /// Print timing and memory figures.
    #[arg(long)]
    stats: bool,
    #[arg(short, long)]
    quiet: bool,
    #[command(flatten)]
    runtime: RuntimeArgs,
}

/// GDAL's block cache for a command-line run.
const GDAL_CACHE_BYTES: i64 = 64 << 20;

/// A line on stderr that cannot panic (for main's last words).
pub fn note(text: std::fmt::Arguments) {
    out::write_note(text)
}

pub fn run() -> Result<()> {
    let cli = Cli::parse();
    signals::install();
    // GDAL's block cache defaults to 5 % of the machine's memory, and fills with whatever a run
    // reads: bounded from the start (unless GDAL_CACHEMAX is set), memory follows the tiles,
    // not the raster. Enough for the output blocks being written; reads bypass the cache.
    terrapix::raster::bound_gdal_cache(GDAL_CACHE_BYTES);
    match cli.command {
        Command::Info { model, json, stac } => info(&model, json, stac.as_deref()),
        Command::Bundle(args) => bundle(args),
        Command::Ensemble { members, output, manifest, runtime } => ensemble_cmd(&members, &output, manifest.as_deref(), &runtime),
        Command::Predict(args) => predict_cmd(args),
        Command::Vrt(args) => vrt_cmd(args),
        Command::Sample(args) => sample_cmd(args),
        Command::Validate(args) => validate_cmd(args),
        #[cfg(feature = "train")]
        Command::Train(args) => train_cmd(args),
        #[cfg(feature = "train")]
        Command::Pretrain(args) => pretrain_cmd(args),
        #[cfg(feature = "train")]
        Command::BenchTrain { samples, config, epochs } => bench_train(&samples, &config, epochs),
        Command::SampleData { dir, size, seed, samples } => {
            if !(16..=8192).contains(&size) || !(1..=1_000_000).contains(&samples) {
                return Err(format!("--size {size} must be 16 to 8192 pixels and --samples {samples} 1 to 1000000").into());
            }
            let land = terrapix::landscape::generate(size, seed);
            let w = land.write(&dir, samples, seed)?;
            say!("wrote {}, {} and {}", w.covariates.display(), w.truth.display(), w.samples.display());
            Ok(())
        }
        Command::Quicklook { raster, output, band, ramp, max_side } => {
            terrapix::output::refuse_inputs(&output, false, &[("raster", &raster)])?;
            let ramp = match ramp.as_str() {
                "viridis" => Ramp::Viridis,
                "magma" => Ramp::Magma,
                other => return Err(format!("unknown ramp '{other}' (viridis or magma)").into()),
            };
            let s = quicklook::render(&raster, band, &output, ramp, max_side)?;
            say!("wrote {} (stretch {:.4} .. {:.4})", output.display(), s.low, s.high);
            Ok(())
        }
        Command::CdfMatch(args) => cube::cdf_match_cmd(args),
        Command::PredictCube(args) => cube::predict_cube_cmd(args),
        #[cfg(feature = "train")]
        Command::BiasCorrect(args) => cube::bias_correct_cmd(args),
        #[cfg(feature = "train")]
        Command::FillGaps(args) => cube::fill_gaps_cmd(args),
        Command::CubeExport { cube, to, quiet } => cube::cube_export(&cube, &to, quiet),
        Command::CubeInfo { cube, dates } => cube::cube_info(&cube, dates.as_deref()),
        Command::CubeScores { estimate, truth, json } => cube::cube_scores(&estimate, &truth, json),
        Command::SynthCube { dir, seed, width, height, start, days } => cube::synth_cube(&dir, seed, width, height, &start, days),
        Command::BenchOrt { model, covariates, tiles, runtime, batch } => bench_ort(&model, &covariates, tiles, &runtime, batch),
    }
}

/// Writes (or prints, for "-") the STAC MLM item of the bundle at `path`; the model asset's href
/// is the bundle's file name when the item sits beside it, else its absolute path.
fn write_stac_item(manifest: &terrapix::bundle::Manifest, path: &Path, item_path: &Path) -> Result<()> {
    let mut item = terrapix::bundle::stac::item(manifest, path);
    if item_path == Path::new("-") {
        say!("{}", serde_json::to_string_pretty(&item)?);
        return Ok(());
    }
    let beside = |p: &Path| p.canonicalize().ok().and_then(|c| c.parent().map(Path::to_path_buf));
    let item_dir = item_path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if item_dir.canonicalize().ok() != beside(path) {
        item["assets"]["model"]["href"] = serde_json::json!(path.canonicalize()?.display().to_string());
    }
    terrapix::output::refuse_inputs(item_path, false, &[("bundle", path)])?;
    terrapix::output::Staged::write_all(item_path, terrapix::output::Kind::Json, serde_json::to_string_pretty(&item)?.as_bytes())?;
    say!("wrote {}", item_path.display());
    Ok(())
}

fn info(given: &Path, json: bool, stac: Option<&Path>) -> Result<()> {
    let resolved = terrapix::bundle::stac::resolve(given)?;
    let path = resolved.as_path();
    if let Some(item_path) = stac.filter(|p| *p != Path::new("-")) {
        // Before anything is read: the item must not replace the item or bundle it describes.
        terrapix::output::refuse_inputs(item_path, false, &[("model", given), ("bundle", path)])?;
        terrapix::output::check_target(item_path, terrapix::output::Kind::Json)?;
    }
    let bundle = Bundle::read(path)?;
    let manifest = bundle.require_manifest(path)?;
    if let Some(item_path) = stac {
        return write_stac_item(manifest, path, item_path);
    }
    if json {
        say!("{}", manifest.to_json());
        return Ok(());
    }
    say!("{}", spec::describe(manifest));
    match Model::from_bundle(path, &bundle, &EngineOptions::default()) {
        Ok(model) => {
            say!("\nGraph signature (ONNX Runtime, {}):", engine::loaded_library().map(|p| p.display().to_string()).unwrap_or_default());
            for s in &model.inputs {
                say!("  input  {s}");
            }
            for s in &model.outputs {
                say!("  output {s}");
            }
            say!("  manifest and graph agree");
        }
        Err(e) => say!("\nGraph signature unavailable: {e}"),
    }
    Ok(())
}

fn bundle(a: BundleArgs) -> Result<()> {
    let mut bundle = Bundle::read(&a.model)?;
    let mut manifest = match &a.manifest {
        Some(p) => Manifest::from_json(&std::fs::read_to_string(p).map_err(|e| format!("cannot read '{}': {e}", p.display()))?)?,
        None => {
            let graph_outputs: Vec<String> =
                bundle.model.graph.as_ref().map(|g| g.output.iter().filter_map(|o| o.name.clone()).collect()).unwrap_or_default();
            spec::manifest_from_flags(&spec::ManifestFlags {
                name: a.name.clone().unwrap_or_else(|| a.model.file_stem().unwrap_or_default().to_string_lossy().into()),
                version: a.model_version.clone(),
                description: a.description.clone(),
                target: a.target.clone().ok_or("--target is required without --manifest")?,
                unit: a.unit.clone(),
                log1p: a.log1p,
                inputs: a.inputs.clone(),
                bands: a.bands.clone(),
                graph_outputs,
            })?
        }
    };
    if let Some(card) = &a.card {
        manifest.model_card = std::fs::read_to_string(card).map_err(|e| format!("cannot read '{}': {e}", card.display()))?;
    }
    if a.edge_nodata {
        manifest.nodata.edge = EdgeMode::Nodata;
    }
    if let Some(radius) = a.fill_gaps {
        manifest.nodata.fill_gaps = Some(GapFill { radius, min_valid: ((2 * radius + 1).pow(2) - 1) / 2 + 1 });
    }
    if manifest.provenance.created_by.is_empty() {
        manifest.provenance.created_by = format!("terrapix {} bundle", terrapix::VERSION);
    }
    bundle.set_manifest(manifest)?;
    let mut inputs: Vec<(&str, &Path)> = vec![("model", &a.model)];
    inputs.extend(a.manifest.as_deref().map(|m| ("manifest", m)));
    inputs.extend(a.card.as_deref().map(|c| ("model card", c)));
    write_checked(&bundle, &a.output, &inputs, &a.runtime)?;
    say!("wrote bundle {}", a.output.display());
    Ok(())
}

/// Writes a bundle and opens it with ONNX Runtime, so a manifest that does not match the graph
/// is refused before the user ever gets the file; `inputs` are the files it must not replace.
fn write_checked(bundle: &Bundle, output: &Path, inputs: &[(&str, &Path)], runtime: &RuntimeArgs) -> Result<()> {
    terrapix::output::refuse_inputs(output, false, inputs)?;
    let staged = bundle.write_staged(output)?;
    if let Err(e) = Model::from_bundle(staged.path(), bundle, &runtime.engine()) {
        return Err(e.to_string().replace(&staged.path().display().to_string(), &output.display().to_string()).into());
    }
    staged.commit()?;
    Ok(())
}

fn ensemble_cmd(members: &[PathBuf], output: &Path, manifest_path: Option<&Path>, runtime: &RuntimeArgs) -> Result<()> {
    let bundles = members.iter().map(|p| Bundle::read(p)).collect::<std::result::Result<Vec<_>, _>>()?;
    let manifest = match manifest_path {
        Some(p) => Manifest::from_json(&std::fs::read_to_string(p).map_err(|e| format!("cannot read '{}': {e}", p.display()))?)?,
        None => bundles[0].require_manifest(&members[0])?.clone(),
    };
    let ens = ensemble::build(&bundles, manifest)?;
    let mut inputs: Vec<(&str, &Path)> = members.iter().map(|m| ("member model", m.as_path())).collect();
    inputs.extend(manifest_path.map(|m| ("manifest", m)));
    write_checked(&ens, output, &inputs, runtime)?;
    say!("wrote ensemble of {} members to {} (outputs: mean, std)", members.len(), output.display());
    Ok(())
}

/// Shows which band feeds each covariate and warns where the rasters disagree with the model;
/// covariates that no band provides are an error naming every one of them and the flags.
fn check_binding(manifest: &terrapix::bundle::Manifest, rasters: &[PathBuf], bind: &BindOptions, quiet: bool) -> Result<()> {
    let report = terrapix::binding::check(manifest, rasters, bind)?;
    if !report.missing.is_empty() {
        let available: Vec<String> = report
            .available
            .iter()
            .take(40)
            .map(|b| format!("{}:{} '{}'", b.file.file_name().unwrap_or_default().to_string_lossy(), b.band, b.description))
            .collect();
        let how = if bind.by_order {
            format!(
                "binding by order needs one band per covariate: the model reads {} covariates, the rasters have {} bands in all.",
                manifest.covariates().len(),
                report.available.len()
            )
        } else {
            format!("No band has that description. Bands available: {}.", available.join(", "))
        };
        let quoted: Vec<String> = report.missing.iter().map(|m| format!("'{m}'")).collect();
        let what = match quoted.as_slice() {
            [one] => format!("covariate {one} was not found"),
            _ => {
                format!("{} of the model's {} covariates were not found: {}", quoted.len(), manifest.covariates().len(), quoted.join(", "))
            }
        };
        return Err(format!("{what}. {how} Bind bands explicitly with --bind NAME=FILE:BAND, or by position with --by-order.").into());
    }
    if !quiet {
        note!("covariates (map grid: {}, {}):\n{}", report.reference.display(), report.reference_crs, report.table().trim_end());
    }
    for w in &report.warnings {
        note!("warning: {w}");
    }
    Ok(())
}

fn predict_cmd(a: PredictArgs) -> Result<()> {
    let model = Model::open(&a.model, &a.runtime.engine())?;
    let options = PredictOptions {
        bind: a.binding.options(),
        output: OutputOptions { compress: a.compress, cog: a.cog, ..Default::default() },
        batch: a.batch,
        tile: a.tile,
        workers: a.workers,
        outputs: a.outputs,
        gdal_cache: Some(GDAL_CACHE_BYTES),
    };
    if let Some(png) = &a.quicklook {
        // Checked before the map is made: the quick-look must not replace an input or the map.
        let mut inputs: Vec<(&str, &Path)> = vec![("model", &a.model), ("output map", &a.output)];
        inputs.extend(a.covariates.iter().map(|c| ("covariate raster", c.as_path())));
        terrapix::output::refuse_inputs(png, false, &inputs)?;
        terrapix::output::check_target(png, terrapix::output::Kind::Png)?;
    }
    check_binding(&model.manifest, &a.covariates, &options.bind, a.quiet)?;
    let bar = if a.quiet { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(0) };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} tiles, {eta} left")
            .expect("valid template"),
    );
    let mut progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
        signals::received().is_none()
    };
    let report = predict::predict_raster(&model, &a.covariates, &a.output, &options, &mut progress);
    bar.finish_and_clear();
    let report = report?;
    let names: Vec<&str> = model.manifest.outputs.iter().map(|o| o.name.as_str()).collect();
    say!(
        "wrote {} ({} x {}, bands: {}; {} of {} cells predicted)",
        a.output.display(),
        report.width,
        report.height,
        names.join(", "),
        report.valid_cells,
        report.width * report.height
    );
    if report.nonfinite_cells > 0 {
        terrapix::util::warn(&format!(
            "{} cells had a non-finite model output (an overflow on extreme covariate values) and are nodata",
            report.nonfinite_cells
        ));
    }
    if a.stats {
        say!("stats: {} cells with non-finite model output written as nodata", report.nonfinite_cells);
        let mpix = report.input_pixels as f64 / report.seconds / 1e6;
        let peak = terrapix::util::peak_rss_bytes().map(|b| b as f64 / (1 << 20) as f64).unwrap_or(f64::NAN);
        say!(
            "stats: {mpix:.3} Mpix/s ({} input pixels in {:.2} s; inference {:.2} s, reading {:.2} s); peak memory {peak:.0} MiB",
            report.input_pixels,
            report.seconds,
            report.infer_seconds,
            report.read_seconds
        );
    }
    if let Some(png) = &a.quicklook {
        let s = quicklook::render(&a.output, 1, png, Ramp::Viridis, 1024)?;
        say!("wrote {} (stretch {:.3} .. {:.3} {})", png.display(), s.low, s.high, model.manifest.target.unit);
    }
    Ok(())
}

#[cfg(feature = "train")]
fn train_cmd(a: TrainArgs) -> Result<()> {
    use terrapix::train;
    let cfg = match &a.config {
        Some(p) => {
            train::config::TrainConfig::from_toml(&std::fs::read_to_string(p).map_err(|e| format!("cannot read '{}': {e}", p.display()))?)?
        }
        None => train::config::TrainConfig::default(),
    };
    if a.output.is_none() && a.report.is_none() && a.figures.is_none() {
        return Err("nothing to write: give --output (the bundle), --report or --figures".into());
    }
    let mut inputs: Vec<(&str, &Path)> = vec![("samples folder", &a.samples)];
    inputs.extend(a.config.as_deref().map(|c| ("config", c)));
    inputs.extend(a.card.as_deref().map(|c| ("model card", c)));
    let card = match &a.card {
        Some(c) => Some(std::fs::read_to_string(c).map_err(|e| format!("cannot read '{}': {e}", c.display()))?),
        None => None,
    };
    for (out, folder) in [(&a.output, false), (&a.report, false), (&a.figures, true)] {
        if let Some(out) = out {
            terrapix::output::refuse_inputs(out, folder, &inputs)?;
        }
    }
    // Every target is checked before hours of training: folder, kind, not a device.
    for (out, kind) in
        [(&a.output, terrapix::output::Kind::Onnx), (&a.report, terrapix::output::Kind::Json), (&a.figures, terrapix::output::Kind::Folder)]
    {
        if let Some(out) = out {
            terrapix::output::check_target(out, kind)?;
        }
    }
    let data = train::data::TrainingData::read(&a.samples)?;
    let repeats = if cfg.cv.repeats > 1 { format!(" x {} repeats", cfg.cv.repeats) } else { String::new() };
    say!("training on {} samples ({:?} CV, {} folds{repeats}) on {:?}", data.len(), cfg.cv.scheme, cfg.cv.folds, train::device());
    let started = std::time::Instant::now();
    // One line per fold as it ends (hosts such as the QGIS plugin read them as progress).
    let progress_json = a.progress_json;
    let mut report_fold = |done: usize, total: usize, m: &std::collections::BTreeMap<String, f64>| {
        let written = if progress_json {
            out::line(format_args!("{}", serde_json::json!({"event": "fold", "done": done, "total": total, "metrics": m})))
        } else {
            let g = |k: &str| m.get(k).copied().unwrap_or(f64::NAN);
            out::line(format_args!(
                "  fold {done}/{total}: RMSE {:.4}, R² {:.3} ({} test, {} train, {} removed by the buffer)",
                g("rmse"),
                g("r2"),
                g("n"),
                g("train"),
                g("buffered")
            ))
        };
        written.is_ok() && signals::received().is_none()
    };
    let result = train::cross_validate(&data, &cfg, &mut report_fold)?;
    let o = &result.overall;
    say!(
        "out-of-fold: RMSE {:.4}, MAE {:.4}, bias {:+.4}, R² {:.3}, Spearman {:.3}, CCC {:.3}, RPIQ {:.2} ({:.1} s)",
        o["rmse"],
        o["mae"],
        o["bias"],
        o["r2"],
        o["spearman"],
        o["ccc"],
        o["rpiq"],
        started.elapsed().as_secs_f64()
    );
    if let Some(b) = &result.baseline {
        say!(
            "random forest, same folds: RMSE {:.4}, MAE {:.4}, bias {:+.4}, R² {:.3}, Spearman {:.3}, CCC {:.3}, RPIQ {:.2}",
            b["rmse"],
            b["mae"],
            b["bias"],
            b["r2"],
            b["spearman"],
            b["ccc"],
            b["rpiq"]
        );
    }
    for l in &cfg.uncertainty.levels {
        let tag = terrapix::bundle::uncertainty::level_tag(*l);
        say!(
            "{tag} % intervals ({}), out of fold: coverage {:.1} %, mean width {:.4}, interval score {:.4}",
            result.calibration.uncertainty.method.words(),
            100.0 * o[&format!("picp_{tag}")],
            o[&format!("width_{tag}")],
            o[&format!("interval_score_{tag}")]
        );
    }
    if let Some(s) = result.calibration.uncertainty.smearing {
        say!("log1p target: mean = (1 + median) x {s:.4} - 1 (Duan's smearing; the median band is exp(mean of log1p) - 1)");
    }
    let importance = train::importance::permutation(&result, &data, cfg.fit.log1p, cfg.fit.seed)?;
    let top: Vec<String> = importance.iter().take(5).map(|(n, v)| format!("{n} {v:+.4}")).collect();
    say!("permutation importance (RMSE increase): {}", top.join(", "));
    // The area of applicability: computed once, for the bundle and the report.
    let aoa = if cfg.uncertainty.aoa {
        Some(train::applicability::train(&data, &result.specs, &result.folds, &importance, cfg.uncertainty.aoa_max_points, cfg.fit.seed)?)
    } else {
        None
    };
    if let Some((a, _)) = &aoa {
        say!(
            "area of applicability: DI threshold {:.4} (Q75 + 1.5 IQR of the training DI); the bundle stores {} training samples ({} multiply-adds per pixel)",
            a.summary.threshold, a.summary.training_points, a.summary.macs_per_pixel
        );
    }
    if let Some(output) = &a.output {
        let name = a.name.clone().unwrap_or_else(|| output.file_stem().unwrap_or_default().to_string_lossy().into());
        let mut bundle = train::ensemble_bundle(&result, &data, &cfg, &name, &a.unit, aoa.as_ref().map(|a| &a.0))?;
        if let Some(card) = card {
            let mut manifest = bundle.require_manifest(output)?.clone();
            manifest.model_card = card;
            bundle.set_manifest(manifest)?;
        }
        write_checked(&bundle, output, &inputs, &a.runtime)?;
        let bands: Vec<&str> = bundle.manifest.as_ref().map(|m| m.outputs.iter().map(|b| b.name.as_str()).collect()).unwrap_or_default();
        say!("wrote {} (ensemble of {} members: {})", output.display(), result.members.len(), bands.join(", "));
    }
    if let Some(dir) = &a.figures {
        let written = train::figures::write(dir, &result, &data, &importance, &a.unit)?;
        say!("wrote {} figures into {}", written.len(), dir.display());
    }
    if let Some(report) = &a.report {
        let json = serde_json::json!({
            "overall": result.overall,
            "per_fold": result.per_fold,
            "baseline_random_forest": result.baseline,
            "per_group": result.per_group,
            "permutation_importance": importance,
            // Which samples each fold tested (row numbers of the samples folder), so that other
            // tools can be scored on the very same folds.
            "fold_tests": result.folds.iter().map(|f| &f.test).collect::<Vec<_>>(),
            // Each sample's observed target and out-of-fold mean prediction (target scale), for
            // plots and tests of one's own.
            "out_of_fold": {"observed": &data.y, "mean": &result.oof},
            "uncertainty": result.calibration.report,
            "area_of_applicability": aoa.as_ref().map(|(_, r)| r),
            "config": cfg,
        });
        terrapix::output::Staged::write_all(report, terrapix::output::Kind::Json, serde_json::to_string_pretty(&json)?.as_bytes())?;
    }
    Ok(())
}

#[cfg(feature = "train")]
fn bench_train(samples: &Path, config: &Path, epochs: usize) -> Result<()> {
    use terrapix::train::{self, fit};
    let cfg = train::config::TrainConfig::from_toml(&std::fs::read_to_string(config)?)?;
    let data = train::data::TrainingData::read(samples)?;
    if cfg.model.is_trees() {
        // One tree model fitted on every sample (no early stopping): trees per second.
        let cfg = match cfg.model {
            train::config::ModelConfig::GradientBoosting(p) => train::config::TrainConfig {
                model: train::config::ModelConfig::GradientBoosting(train::config::BoostParams { early_stopping: 0, ..p }),
                ..cfg
            },
            _ => cfg,
        };
        let (specs, prepared) = train::models::Prepared::new(&data, &cfg, &data.y)?;
        let all: Vec<usize> = (0..data.len()).collect();
        let started = std::time::Instant::now();
        let member = prepared.fit(&all, &cfg, &specs, cfg.fit.seed)?;
        let seconds = started.elapsed().as_secs_f64();
        let (_, trees) = member.size();
        say!("terrapix-train: {:.1} trees/s ({trees} trees on {} samples in {seconds:.2} s)", trees / seconds, data.len());
        return Ok(());
    }
    let specs = data.normalisation();
    let t = fit::Tensors::new(&specs, &data.normalised(&specs), &data.y, train::device());
    let fit_cfg = train::config::FitConfig { epochs, patience: epochs, ..cfg.fit.clone() };
    let all: Vec<usize> = (0..data.len()).collect();
    let started = std::time::Instant::now();
    fit::fit(&t, &all, &cfg.model, &specs, &fit_cfg, fit_cfg.seed)?;
    let seconds = started.elapsed().as_secs_f64();
    let n_fit = data.len() - ((data.len() as f64 * fit_cfg.val_fraction).round() as usize).max(1);
    say!("terrapix-train: {:.0} samples/s ({epochs} epochs of {n_fit} samples in {seconds:.2} s)", (epochs * n_fit) as f64 / seconds);
    Ok(())
}

#[cfg(feature = "train")]
fn pretrain_cmd(a: PretrainArgs) -> Result<()> {
    use terrapix::train::{self, pretrain};
    let text = std::fs::read_to_string(&a.config).map_err(|e| format!("cannot read '{}': {e}", a.config.display()))?;
    let cfg = train::config::TrainConfig::from_toml(&text)?;
    let inputs = a.inputs.iter().map(|s| spec::parse_input(s)).collect::<std::result::Result<Vec<_>, _>>()?;
    let mut inputs_of_run: Vec<(&str, &Path)> = vec![("config", &a.config)];
    inputs_of_run.extend(a.covariates.iter().map(|c| ("covariate raster", c.as_path())));
    let sidecar = pretrain::sidecar_path(&a.output);
    for out in [&a.output, &sidecar] {
        terrapix::output::refuse_inputs(out, false, &inputs_of_run)?;
    }
    terrapix::output::check_target(&a.output, terrapix::output::Kind::Weights)?;
    terrapix::output::check_target(&sidecar, terrapix::output::Kind::Json)?;
    let p = &cfg.pretrain;
    say!("drawing {} unlabelled locations ({:?})", p.count, p.sampling);
    let mut drawn = |_: usize, _: usize| signals::received().is_none();
    let data = pretrain::unlabelled(&a.covariates, &a.binding.options(), inputs, p, cfg.fit.seed, &mut drawn)?;
    if data.len() < p.count {
        say!("  {} of {} locations have every covariate the model needs", data.len(), p.count);
    }
    say!("pretraining on {} locations on {:?} (NT-Xent, temperature {})", data.len(), train::device(), p.temperature);
    let progress_json = a.progress_json;
    let started = std::time::Instant::now();
    let mut report = |done: usize, total: usize, loss: f64| {
        let written = if progress_json {
            out::line(format_args!("{}", serde_json::json!({"event": "epoch", "done": done, "total": total, "metrics": {"loss": loss}})))
        } else if done == total || done % 5 == 0 || done == 1 {
            out::line(format_args!("  epoch {done}/{total}: NT-Xent {loss:.4} ({:.1} s)", started.elapsed().as_secs_f64()))
        } else {
            Ok(())
        };
        if written.is_err() {
            return false;
        }
        signals::received().is_none()
    };
    let s = pretrain::pretrain(&data, &cfg, &a.output, &mut report)?;
    say!(
        "wrote {} and {} ({} locations, final NT-Xent {:.4}); fine-tune with `[fit] init = \"{}\"`",
        a.output.display(),
        sidecar.display(),
        s.locations,
        s.loss.last().copied().unwrap_or(f64::NAN),
        a.output.display()
    );
    Ok(())
}

fn sample_cmd(a: SampleArgs) -> Result<()> {
    use terrapix::sample;
    let inputs = match (&a.model, a.inputs.is_empty()) {
        (Some(model), true) => Some(Bundle::read(model)?.require_manifest(model)?.inputs.clone()),
        (None, false) => Some(a.inputs.iter().map(|s| spec::parse_input(s)).collect::<std::result::Result<Vec<_>, _>>()?),
        (None, true) if !a.covariates.is_empty() => None, // every band of the rasters
        _ => return Err("give the inputs with --input specs, with --model BUNDLE, or give covariate rasters".into()),
    };
    let options = a.point.options();
    let mut inputs_of_run: Vec<(&str, &Path)> = vec![("points", &a.points)];
    inputs_of_run.extend(a.covariates.iter().map(|c| ("covariate raster", c.as_path())));
    inputs_of_run.extend(a.model.as_deref().map(|m| ("model", m)));
    terrapix::output::refuse_inputs(&a.output, true, &inputs_of_run)?;
    terrapix::output::check_target(&a.output, terrapix::output::Kind::SamplesFolder)?;
    let mut progress = |_: usize, _: usize| signals::received().is_none();
    let (read, samples) = sample::sample_points(&a.points, &a.covariates, inputs, options, &a.binding.options(), &mut progress)?;
    let skipped: Vec<String> = samples.skipped_summary().iter().map(|(reason, count)| format!("  skipped {count}: {reason}")).collect();
    if samples.is_empty() {
        return Err(format!("no point could be sampled, nothing was written:\n{}", skipped.join("\n")).into());
    }
    samples.write(&a.output)?;
    say!("{} of {read} points sampled into {}", samples.len(), a.output.display());
    for line in skipped {
        say!("{line} (see skipped.csv)");
    }
    Ok(())
}

fn validate_cmd(a: ValidateArgs) -> Result<()> {
    use terrapix::sample;
    let bundle = Bundle::read(&a.model)?;
    let manifest = bundle.require_manifest(&a.model)?.clone();
    let mut inputs_of_run: Vec<(&str, &Path)> = vec![("points", &a.points), ("model", &a.model)];
    inputs_of_run.extend(a.covariates.iter().map(|c| ("covariate raster", c.as_path())));
    if let Some(out) = &a.output {
        terrapix::output::refuse_inputs(out, false, &inputs_of_run)?;
        terrapix::output::check_target(out, terrapix::output::Kind::Json)?;
    }
    if let Some(dir) = &a.figures {
        terrapix::output::refuse_inputs(dir, true, &inputs_of_run)?;
    }
    let options = a.point.options();
    if options.target.is_empty() {
        return Err("give --target, the column of observed values to validate against".into());
    }
    let model = Model::from_bundle(&a.model, &bundle, &a.runtime.engine())?;
    let mut progress = |_: usize, _: usize| signals::received().is_none();
    let (read, samples) =
        sample::sample_points(&a.points, &a.covariates, Some(manifest.inputs.clone()), options, &a.binding.options(), &mut progress)?;
    let skipped: Vec<String> = samples.skipped_summary().iter().map(|(reason, count)| format!("  skipped {count}: {reason}")).collect();
    if samples.is_empty() {
        return Err(format!("none of the {read} points could be used, nothing was written:\n{}", skipped.join("\n")).into());
    }
    for line in &skipped {
        say!("{line}");
    }
    let groups: Vec<String> = samples.points.iter().map(|p| p.group.clone().unwrap_or_default()).collect();
    let v = terrapix::validate::validate(&model, &samples.tensors, &samples.targets(), &groups, a.figures.as_deref())?;
    say!("{} on {} of {read} points:", manifest.name, samples.len());
    for line in &v.summary {
        say!("  {line}");
    }
    if let Some(out) = &a.output {
        terrapix::output::Staged::write_all(out, terrapix::output::Kind::Json, serde_json::to_string_pretty(&v.report)?.as_bytes())?;
        say!("wrote {}", out.display());
    }
    if !v.figures.is_empty() {
        say!("wrote {} figures into {}", v.figures.len(), a.figures.as_deref().unwrap_or(Path::new("")).display());
    }
    Ok(())
}

fn vrt_cmd(a: VrtArgs) -> Result<()> {
    let engine = a.runtime.engine();
    let written = terrapix::predict::job::write_prediction_vrt(&a.model, &a.covariates, &a.binding.options(), &a.output, &engine)?;
    say!(
        "wrote {} ({} x {}, bands: {}) and its job {}",
        written.vrt.display(),
        written.width,
        written.height,
        written.bands.join(", "),
        written.job.display()
    );
    if !written.model_trusted_by_default {
        let folder = a.model.canonicalize().ok().and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or_default();
        say!(
            "note: the model is outside the VRT's folder; GDAL loads it only from a trusted folder: \
             export TERRAPIX_TRUSTED_MODELS={}",
            folder.display()
        );
    }
    Ok(())
}

fn bench_ort(model: &Path, covariates: &[PathBuf], tiles: usize, runtime: &RuntimeArgs, batch: usize) -> Result<()> {
    let model = Model::open(model, &runtime.engine())?;
    let covs = Covariates::bind(covariates, &model.manifest.covariates(), &BindOptions::default())?;
    let predictor = Predictor::new(&model, batch);
    let (cell, halo) = (predictor.cell(), predictor.halo());
    let side = (256 / cell).max(1) * cell;
    let reader = covs.reader()?;
    let (mut pixels, mut read_s, mut total) = (0usize, 0f64, predict::StageTimes::default());
    for t in 0..tiles {
        let per_row = (covs.grid.width / side).max(1);
        let (x, y) = ((t % per_row) * side, (t / per_row) * side);
        let (w, h) = (side.min(covs.grid.width.saturating_sub(x)), side.min(covs.grid.height.saturating_sub(y)));
        if w == 0 || h == 0 {
            break;
        }
        let (w, h) = (w / cell * cell, h / cell * cell);
        let mut data = Vec::new();
        let started = std::time::Instant::now();
        reader.read(Window { x: x as isize, y: y as isize, width: w, height: h, halo }, model.manifest.nodata.edge, &mut data)?;
        read_s += started.elapsed().as_secs_f64();
        let mut block = predict::Block { data, width: w, height: h, halo, geo: Some((covs.grid.geotransform, x, y)) };
        let times = predictor.time_stages(&mut block)?;
        pixels += times.samples * cell * cell;
        total.assemble_seconds += times.assemble_seconds;
        total.infer_seconds += times.infer_seconds;
    }
    say!(
        "ort-only: {:.3} Mpix/s ({pixels} input pixels; ONNX Runtime {:.3} s, assembly {:.3} s, reading {read_s:.3} s; batch {})",
        pixels as f64 / total.infer_seconds / 1e6,
        total.infer_seconds,
        total.assemble_seconds,
        predictor.batch
    );
    Ok(())
}
