//! The bundle manifest: everything a host needs to turn covariate rasters into the tensors a
//! model expects, and its outputs back into map bands. Stored as JSON in the ONNX
//! `metadata_props` under [`MANIFEST_KEY`].

use crate::metrics::Metrics;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

use super::BundleError;

/// The `metadata_props` key that holds the manifest.
pub const MANIFEST_KEY: &str = "terrapix.manifest";
/// The manifest schema this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// Sizes a manifest may declare: they bound what terrapix allocates for a bundle from anywhere.
pub mod limits {
    /// Largest window side (a halo of 512 pixels).
    pub const WINDOW: usize = 1025;
    pub const PATCH: usize = 1024;
    /// Channels of one input.
    pub const CHANNELS: usize = 100_000;
    /// Values of one sample of one input (16 MiB of Float32).
    pub const SAMPLE_VALUES: usize = 1 << 22;
    pub const INPUTS: usize = 64;
    pub const OUTPUTS: usize = 1024;
}

/// Channel sources that are not covariate bands but computed per pixel by terrapix.
pub mod generated {
    /// x position inside a patch, linearly from -1 (left) to 1 (right), as in the biomass patch CNN.
    pub const PATCH_X: &str = "@patch_x";
    /// y position inside a patch, from -1 (top) to 1 (bottom).
    pub const PATCH_Y: &str = "@patch_y";
    /// Map x coordinate of the pixel centre in the reference grid's CRS.
    pub const MAP_X: &str = "@x";
    /// Map y coordinate of the pixel centre in the reference grid's CRS.
    pub const MAP_Y: &str = "@y";
    pub const ALL: [&str; 4] = [PATCH_X, PATCH_Y, MAP_X, MAP_Y];
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Schema version of this manifest (see [`SCHEMA_VERSION`]).
    pub schema: u32,
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub target: Target,
    pub inputs: Vec<InputSpec>,
    pub outputs: Vec<OutputBand>,
    #[serde(default)]
    pub nodata: NodataPolicy,
    #[serde(default)]
    pub provenance: Provenance,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<CvMetrics>,
    /// How the interval, mean and applicability bands were calibrated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncertainty: Option<super::uncertainty::Uncertainty>,
    /// The model card (Markdown): what it predicts, how it was made, how well it does.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub model_card: String,
    /// Covariates that change with time: over a cube, each takes the plane of the date being
    /// mapped (`predict-cube` binds them to cubes); the others are static bands. Empty: not
    /// declared (the binding decides).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub time_varying: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub name: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub transform: TargetTransform,
}

/// How the model's raw outputs relate to the target. `log1p` models predict log(1 + y); hosts
/// apply expm1 to every output band except spreads, which stay in the model's scale.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TargetTransform {
    #[default]
    None,
    Log1p,
}

/// One graph input: its tensor layout and the source of every channel, in tensor order.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// The graph input's name.
    pub name: String,
    pub layout: Layout,
    pub channels: Vec<Channel>,
}

/// Tensor layouts. N is the batch of output pixels (or patches).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Layout {
    /// `[N, C]`: the channel values at the pixel.
    Pixel,
    /// `[N, C, k, k]`: a k x k window centred on the output cell. The cell is one pixel (k odd)
    /// by default; a coarser cell (c x c input pixels per output value, k - c even) makes a map
    /// of windowed models at a fraction of the cost.
    Window {
        size: usize,
        #[serde(default = "one_cell", skip_serializing_if = "is_one")]
        cell: usize,
    },
    /// `[N, C, p, p]`: non-overlapping p x p patches; the map has one value per patch.
    Patch { size: usize },
    /// `[N, T, F]`: a time series at the pixel; channels are listed step-major (t0f0, t0f1, ...).
    Series { steps: usize, features: usize },
}

fn one_cell() -> usize {
    1
}

fn is_one(v: &usize) -> bool {
    *v == 1
}

impl Layout {
    /// A k x k window centred on each pixel.
    pub fn window(size: usize) -> Layout {
        Layout::Window { size, cell: 1 }
    }

    /// Pixels of context needed on each side of an output cell.
    pub fn halo(&self) -> usize {
        match *self {
            Layout::Window { size, cell } => size.saturating_sub(cell) / 2,
            _ => 0,
        }
    }

    /// Input pixels per output cell along each axis (pixel and series inputs follow the other
    /// inputs' cell and read its centre pixel).
    pub fn cell(&self) -> usize {
        match *self {
            Layout::Patch { size } => size,
            Layout::Window { cell, .. } => cell,
            _ => 1,
        }
    }

    /// The graph shape this layout implies, batch first (`None` = the batch dimension).
    pub fn shape(&self, channels: usize) -> Vec<usize> {
        match *self {
            Layout::Pixel => vec![channels],
            Layout::Window { size, .. } | Layout::Patch { size } => vec![channels, size, size],
            Layout::Series { steps, features } => vec![steps, features],
        }
    }

    /// Values per sample.
    pub fn sample_len(&self, channels: usize) -> usize {
        self.shape(channels).iter().product()
    }

    pub fn describe(&self) -> String {
        match *self {
            Layout::Pixel => "per-pixel features".into(),
            Layout::Window { size, cell: 1 } => format!("{size}x{size} window"),
            Layout::Window { size, cell } => format!("{size}x{size} window per {cell}x{cell} output cell"),
            Layout::Patch { size } => format!("{size}x{size} patch"),
            Layout::Series { steps, features } => format!("series of {steps} steps x {features} features"),
        }
    }
}

/// One channel: its source (a covariate band name or a generated `@` channel) and the
/// normalisation `(value - mean) / std` applied before the model sees it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    pub covariate: String,
    #[serde(default)]
    pub mean: f32,
    #[serde(default = "one")]
    pub std: f32,
}

fn one() -> f32 {
    1.0
}

impl Channel {
    pub fn new(covariate: impl Into<String>) -> Self {
        Channel { covariate: covariate.into(), mean: 0.0, std: 1.0 }
    }
    pub fn is_generated(&self) -> bool {
        self.covariate.starts_with('@')
    }
}

/// One band of the output map, taken from column `index` of a graph output `[N]` or `[N, K]`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutputBand {
    /// Band name (also the band description in the map), e.g. "mean", "std", "q05".
    pub name: String,
    pub graph_output: String,
    #[serde(default)]
    pub index: usize,
    pub kind: OutputKind,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum OutputKind {
    /// A single model's prediction.
    Value,
    /// Ensemble mean.
    Mean,
    /// Ensemble standard deviation (in the model's scale; never back-transformed).
    Std,
    /// A quantile of the predictive distribution, q in (0, 1).
    Quantile { q: f64 },
    /// One ensemble member's prediction.
    Member { member: usize },
    /// Lower bound of a calibrated prediction interval of nominal coverage `level`.
    Lower { level: f64 },
    /// Upper bound of a calibrated prediction interval.
    Upper { level: f64 },
    /// Dissimilarity index to the training data (Meyer & Pebesma 2021): unitless.
    Di,
    /// Area of applicability: 1 where the DI is at or below the training threshold, else 0.
    Aoa,
}

impl OutputKind {
    /// Whether the target back-transform applies to this band.
    pub fn is_on_target_scale(&self) -> bool {
        !matches!(self, OutputKind::Std | OutputKind::Di | OutputKind::Aoa)
    }
}

/// What to do where inputs are missing.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NodataPolicy {
    /// Value written where no prediction is made.
    #[serde(default = "default_output_nodata")]
    pub output_nodata: f32,
    /// Context beyond the raster edge: replicate the edge pixels, or treat as nodata.
    #[serde(default)]
    pub edge: EdgeMode,
    /// Fill isolated input gaps before predicting (otherwise any missing input value that a
    /// prediction needs makes that output pixel nodata).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill_gaps: Option<GapFill>,
}

fn default_output_nodata() -> f32 {
    -9999.0
}

impl Default for NodataPolicy {
    fn default() -> Self {
        NodataPolicy { output_nodata: default_output_nodata(), edge: EdgeMode::default(), fill_gaps: None }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EdgeMode {
    #[default]
    Replicate,
    Nodata,
}

/// A missing input value is replaced by the mean of the valid values of the same band within
/// `radius` pixels, when at least `min_valid` of them are valid.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GapFill {
    #[serde(default = "one_usize")]
    pub radius: usize,
    #[serde(default = "default_min_valid")]
    pub min_valid: usize,
}

fn one_usize() -> usize {
    1
}
fn default_min_valid() -> usize {
    5
}

/// Provenance key of a network bundle's multiply-adds per output cell (all members together).
pub const MULTIPLY_ADDS: &str = "multiply_adds_per_cell";

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Provenance {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_by: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_at: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub training_data: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub method: String,
    /// Anything else worth keeping (source repository, paper DOI, members...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

/// Cross-validation results: the scheme and the metrics, overall and per fold.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct CvMetrics {
    pub scheme: String,
    pub folds: usize,
    pub overall: Metrics,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_fold: Vec<Metrics>,
}

impl Manifest {
    pub fn from_json(text: &str) -> Result<Manifest, BundleError> {
        let m: Manifest = serde_json::from_str(text).map_err(|e| BundleError::Manifest(e.to_string()))?;
        m.check()?;
        Ok(m)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a manifest always serialises")
    }

    /// Internal consistency, independent of any graph.
    pub fn check(&self) -> Result<(), BundleError> {
        let bad = |msg: String| Err(BundleError::Manifest(msg));
        if self.schema != SCHEMA_VERSION {
            return bad(format!("manifest schema {} is not supported by this terrapix (it reads schema {SCHEMA_VERSION})", self.schema));
        }
        if self.inputs.is_empty() {
            return bad("the manifest lists no inputs".into());
        }
        let covariates = self.covariates();
        if let Some(t) = self.time_varying.iter().find(|t| !covariates.contains(t)) {
            return bad(format!("time_varying names '{t}', which is not one of the model's covariates ({})", covariates.join(", ")));
        }
        if self.outputs.is_empty() {
            return bad("the manifest lists no output bands".into());
        }
        if self.inputs.len() > limits::INPUTS || self.outputs.len() > limits::OUTPUTS {
            return bad(format!(
                "the manifest lists {} inputs and {} outputs; terrapix reads at most {} and {}",
                self.inputs.len(),
                self.outputs.len(),
                limits::INPUTS,
                limits::OUTPUTS
            ));
        }
        let mut names = BTreeSet::new();
        for input in &self.inputs {
            let too_large = match input.layout {
                Layout::Window { size, .. } => size > limits::WINDOW,
                Layout::Patch { size } => size > limits::PATCH,
                Layout::Series { steps, features } => steps.checked_mul(features).is_none(),
                Layout::Pixel => false,
            };
            let sample = input.layout.shape(input.channels.len()).iter().try_fold(1usize, |a, &d| a.checked_mul(d));
            if too_large || input.channels.len() > limits::CHANNELS || sample.is_none_or(|n| n > limits::SAMPLE_VALUES) {
                return bad(format!(
                    "input '{}': {} of {} channels is larger than terrapix supports (windows up to {}, patches up to {}, \
                     {} channels, {} values per sample)",
                    input.name,
                    input.layout.describe(),
                    input.channels.len(),
                    limits::WINDOW,
                    limits::PATCH,
                    limits::CHANNELS,
                    limits::SAMPLE_VALUES
                ));
            }
            if !names.insert(input.name.as_str()) {
                return bad(format!("input '{}' is listed twice", input.name));
            }
            match input.layout {
                Layout::Window { size, cell: 1 } if size % 2 == 0 => {
                    return bad(format!("input '{}': a window size must be odd, got {size}", input.name))
                }
                Layout::Window { size, cell } if cell == 0 || cell > size || (size - cell) % 2 != 0 => {
                    return bad(format!(
                        "input '{}': a {size}x{size} window cannot be centred on a {cell}x{cell} cell (the cell must be at \
                         least 1, at most the window, and the window minus the cell even)",
                        input.name
                    ))
                }
                Layout::Patch { size: 0 } => return bad(format!("input '{}': patch size 0", input.name)),
                Layout::Series { steps, features } if steps * features != input.channels.len() => {
                    return bad(format!(
                        "input '{}': a series of {steps} steps x {features} features needs {} channels, the manifest lists {}",
                        input.name,
                        steps * features,
                        input.channels.len()
                    ))
                }
                _ => {}
            }
            if input.channels.is_empty() {
                return bad(format!("input '{}' lists no channels", input.name));
            }
            for c in &input.channels {
                if c.is_generated() && !generated::ALL.contains(&c.covariate.as_str()) {
                    return bad(format!(
                        "input '{}': unknown generated channel '{}' (known: {})",
                        input.name,
                        c.covariate,
                        generated::ALL.join(", ")
                    ));
                }
                if (c.covariate == generated::PATCH_X || c.covariate == generated::PATCH_Y) && !matches!(input.layout, Layout::Patch { .. })
                {
                    return bad(format!("input '{}': {} only makes sense in a patch input", input.name, c.covariate));
                }
                if !(c.std.is_finite() && c.std != 0.0 && c.mean.is_finite()) {
                    return bad(format!(
                        "input '{}', channel '{}': normalisation needs a finite mean and a non-zero std (got {}, {})",
                        input.name, c.covariate, c.mean, c.std
                    ));
                }
            }
        }
        let cells: BTreeSet<usize> = self
            .inputs
            .iter()
            .filter(|i| matches!(i.layout, Layout::Window { .. } | Layout::Patch { .. }))
            .map(|i| i.layout.cell())
            .collect();
        if cells.len() > 1 {
            return bad(format!("inputs have output cells of different sizes ({cells:?} pixels); a map has one cell size"));
        }
        let mut bands = BTreeSet::new();
        for o in &self.outputs {
            if !bands.insert(o.name.as_str()) {
                return bad(format!("output band '{}' is listed twice", o.name));
            }
            if let OutputKind::Quantile { q: level } | OutputKind::Lower { level } | OutputKind::Upper { level } = o.kind {
                if !(level > 0.0 && level < 1.0) {
                    return bad(format!("output band '{}': level {level} is not in (0, 1)", o.name));
                }
            }
        }
        Ok(())
    }

    /// Distinct covariate band names the model reads, in first-use order.
    pub fn covariates(&self) -> Vec<String> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for c in self.inputs.iter().flat_map(|i| &i.channels) {
            if !c.is_generated() && seen.insert(c.covariate.clone()) {
                out.push(c.covariate.clone());
            }
        }
        out
    }

    /// Context pixels needed around each output cell (the largest of the inputs' halos).
    pub fn halo(&self) -> usize {
        self.inputs.iter().map(|i| i.layout.halo()).max().unwrap_or(0)
    }

    /// Input pixels per output cell along each axis (a patch's size, a window's cell, or 1).
    pub fn cell(&self) -> usize {
        self.inputs.iter().map(|i| i.layout.cell()).max().unwrap_or(1)
    }

    /// Unit of an output band as written in the map.
    pub fn band_unit(&self, band: &OutputBand) -> String {
        if matches!(band.kind, OutputKind::Di | OutputKind::Aoa) {
            return String::new();
        }
        match (band.kind.is_on_target_scale(), self.target.transform) {
            (false, TargetTransform::Log1p) => format!("log1p({})", self.target.unit),
            _ => self.target.unit.clone(),
        }
    }

    /// Band description written into the map, e.g. "soc mean".
    pub fn band_description(&self, band: &OutputBand) -> String {
        format!("{} {}", self.target.name, band.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            schema: SCHEMA_VERSION,
            name: "m".into(),
            version: "1".into(),
            description: String::new(),
            target: Target { name: "soc".into(), unit: "%".into(), transform: TargetTransform::None },
            inputs: vec![
                InputSpec { name: "x_cnn".into(), layout: Layout::window(5), channels: vec![Channel::new("a"), Channel::new("b")] },
                InputSpec {
                    name: "x_lstm".into(),
                    layout: Layout::Series { steps: 2, features: 2 },
                    channels: vec![Channel::new("b"), Channel::new("c"), Channel::new("d"), Channel::new("@x")],
                },
            ],
            outputs: vec![OutputBand { name: "mean".into(), graph_output: "y".into(), index: 0, kind: OutputKind::Mean }],
            nodata: NodataPolicy::default(),
            provenance: Provenance::default(),
            metrics: None,
            uncertainty: None,
            model_card: String::new(),
            time_varying: Vec::new(),
        }
    }

    #[test]
    fn metrics_that_are_not_numbers_read_back_as_nan() {
        let cv: CvMetrics = serde_json::from_str(
            r#"{"scheme": "random", "folds": 2, "overall": {"spearman": null, "rmse": 1.5},
            "per_fold": [{"spearman": null}]}"#,
        )
        .unwrap();
        assert!(cv.overall["spearman"].is_nan() && cv.per_fold[0]["spearman"].is_nan());
        assert_eq!(cv.overall["rmse"], 1.5);
    }

    #[test]
    fn round_trips_through_json() {
        let m = sample();
        let back = Manifest::from_json(&m.to_json()).unwrap();
        assert_eq!(m, back);
        assert_eq!(back.covariates(), vec!["a", "b", "c", "d"]);
        assert_eq!(back.halo(), 2);
        assert_eq!(back.cell(), 1);
    }

    #[test]
    fn refuses_inconsistent_manifests() {
        let mut m = sample();
        m.inputs[0].layout = Layout::window(4);
        assert!(m.check().unwrap_err().to_string().contains("odd"));
        let mut m = sample();
        m.inputs[1].layout = Layout::Series { steps: 3, features: 2 };
        assert!(m.check().unwrap_err().to_string().contains("needs 6 channels"));
        let mut m = sample();
        m.inputs[0].layout = Layout::Patch { size: 4 };
        m.inputs[1].layout = Layout::Window { size: 6, cell: 2 };
        assert!(m.check().unwrap_err().to_string().contains("one cell size"));
        let mut m = sample();
        m.inputs[0].layout = Layout::Window { size: 7, cell: 2 };
        assert!(m.check().unwrap_err().to_string().contains("cannot be centred on a 2x2 cell"));
        // A series beside a coarser window reads each cell's centre pixel.
        let mut m = sample();
        m.inputs[0].layout = Layout::Window { size: 64, cell: 8 };
        m.check().unwrap();
        assert_eq!((m.halo(), m.cell()), (28, 8));
        let mut m = sample();
        m.schema = 99;
        assert!(m.check().unwrap_err().to_string().contains("schema 99"));
        let mut m = sample();
        m.inputs[0].channels[0].covariate = "@nope".into();
        assert!(m.check().unwrap_err().to_string().contains("unknown generated channel"));
        assert!(Manifest::from_json("{\"schema\": 1}").unwrap_err().to_string().contains("missing field"));
    }
}
