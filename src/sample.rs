//! Field samples: points (CSV, GeoPackage, Shapefile... through OGR) with a target value, and
//! the tensors a model layout needs at each of them, extracted from covariate rasters with the
//! same [`TensorPlan`] that prediction uses, so a model trains on exactly what it will see.
//! Points outside the rasters, on missing covariates or without a target are reported, never
//! dropped silently.

use std::path::{Path, PathBuf};

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use gdal::vector::LayerAccess;
use gdal::{Dataset, DatasetOptions, GdalOpenFlags, Metadata};
use serde::{Deserialize, Serialize};

use crate::bundle::{InputSpec, Manifest, NodataPolicy, OutputBand, OutputKind, Provenance, Target, TargetTransform, SCHEMA_VERSION};
use crate::plan::{Block, TensorPlan};
use crate::raster::{BindOptions, Covariates, Window};

#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("cannot read points from '{path}': {reason}")]
    Points { path: PathBuf, reason: String },
    #[error("'{path}' has no column '{column}' (columns: {available})")]
    NoColumn { path: PathBuf, column: String, available: String },
    #[error(transparent)]
    Raster(#[from] crate::raster::RasterError),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot write '{path}': {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("cannot read samples '{path}' ({file}): {reason}")]
    Read { path: PathBuf, file: String, reason: String },
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
    #[error("cancelled; no output was written")]
    Cancelled,
}

/// How to read the points: one set of options for the CLI flags, the C ABI's options JSON and
/// the QGIS plugin (serde names are the JSON keys).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PointOptions {
    /// Target column ("" for none: covariate values only, nothing to train on).
    pub target: String,
    /// Columns of x/y in a CSV file (default: x, lon, long, longitude / y, lat, latitude).
    pub x: Option<String>,
    pub y: Option<String>,
    /// CRS of the points when the file has none (CSV): EPSG code, WKT or PROJ string;
    /// default EPSG:4326 when the coordinate columns are lon/lat, else required.
    pub crs: Option<String>,
    /// Optional grouping (site) and stratification columns, kept for cross-validation.
    pub group: Option<String>,
    pub stratum: Option<String>,
    /// Layer of a multi-layer source (default: the first).
    pub layer: Option<String>,
    /// Identifier column (default: a column named id, ID or Point_ID, else the feature number).
    pub id: Option<String>,
    /// Target value that means "not measured" (besides empty cells).
    pub target_nodata: Option<f64>,
    /// Further numeric columns to read (covariates given in the table itself).
    #[serde(skip)]
    pub columns: Vec<String>,
}

/// One field sample.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Point {
    pub id: String,
    /// Coordinates in the points' CRS.
    pub x: f64,
    pub y: f64,
    pub target: Option<f64>,
    /// The target cell's text when it is not a number (the point is skipped saying so).
    #[serde(skip)]
    pub target_text: Option<String>,
    pub group: Option<String>,
    pub stratum: Option<String>,
    /// Values of [`PointOptions::columns`], in that order (None: empty or not a number).
    #[serde(skip)]
    pub values: Vec<Option<f64>>,
}

impl Point {
    /// Why a point has no target: an empty cell, or text that is not a number.
    fn no_target_reason(&self) -> String {
        match &self.target_text {
            Some(_) => "the target is not a number".into(),
            None => "no target value".into(),
        }
    }
}

/// Points and their CRS (WKT).
pub struct Points {
    pub points: Vec<Point>,
    pub wkt: String,
}

const X_NAMES: &str = "x,X,lon,Lon,LON,long,Long,longitude,Longitude,LONGITUDE";
const Y_NAMES: &str = "y,Y,lat,Lat,LAT,latitude,Latitude,LATITUDE";

pub fn read_points(path: &Path, o: &PointOptions) -> Result<Points, SampleError> {
    let perr = |reason: String| SampleError::Points { path: path.into(), reason };
    if !path.exists() {
        return Err(perr("no such file".into()));
    }
    let is_csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let xs = o.x.clone().unwrap_or_else(|| X_NAMES.into());
    let ys = o.y.clone().unwrap_or_else(|| Y_NAMES.into());
    let open_options =
        [format!("X_POSSIBLE_NAMES={xs}"), format!("Y_POSSIBLE_NAMES={ys}"), "AUTODETECT_TYPE=YES".into(), "KEEP_GEOM_COLUMNS=YES".into()];
    let open_refs: Vec<&str> = open_options.iter().map(String::as_str).collect();
    let ds = Dataset::open_ex(
        path,
        DatasetOptions { open_flags: GdalOpenFlags::GDAL_OF_VECTOR, open_options: is_csv.then_some(&open_refs[..]), ..Default::default() },
    )
    .map_err(|e| perr(e.to_string()))?;
    let mut layer = match &o.layer {
        Some(name) => ds.layer_by_name(name).map_err(|e| perr(format!("layer '{name}': {e}")))?,
        None => ds.layer(0).map_err(|e| perr(e.to_string()))?,
    };
    let columns: Vec<String> = layer.defn().fields().map(|f| f.name()).collect();
    let column = |name: &str| -> Result<usize, SampleError> {
        columns.iter().position(|c| c == name).ok_or_else(|| SampleError::NoColumn {
            path: path.into(),
            column: name.into(),
            available: columns.join(", "),
        })
    };
    let target = if o.target.is_empty() { None } else { Some(column(&o.target)?) };
    let group = o.group.as_deref().map(column).transpose()?;
    let id = match &o.id {
        Some(name) => Some(column(name)?),
        None => ["id", "ID", "Id", "Point_ID", "point_id"].iter().find_map(|n| columns.iter().position(|c| c == n)),
    };
    let stratum = o.stratum.as_deref().map(column).transpose()?;
    let extra = o.columns.iter().map(|c| column(c)).collect::<Result<Vec<_>, _>>()?;
    let wkt = match (layer.spatial_ref(), &o.crs) {
        (_, Some(crs)) => SpatialRef::from_definition(crs).and_then(|s| s.to_wkt()).map_err(|e| perr(format!("CRS '{crs}': {e}")))?,
        (Some(srs), None) => srs.to_wkt().map_err(|e| perr(e.to_string()))?,
        (None, None) => {
            let lonlat = ["lon", "long", "longitude"].iter().any(|n| columns.iter().any(|c| c.eq_ignore_ascii_case(n)));
            if !lonlat {
                return Err(perr("the points have no CRS: give it with --crs (e.g. EPSG:32637)".into()));
            }
            SpatialRef::from_epsg(4326).and_then(|s| s.to_wkt()).map_err(|e| perr(e.to_string()))?
        }
    };
    let mut points = Vec::new();
    // OGR's CSV reader complains on stderr about rows whose coordinates are not numbers.
    let _quiet = crate::raster::CplCapture::new();
    for (i, f) in layer.features().enumerate() {
        // A CSV row whose coordinates are empty, text or NaN has an empty (or no) geometry: the
        // point is kept with NaN coordinates and reported as skipped, with its row.
        let (x, y) = match f.geometry() {
            Some(g) if !g.is_empty() => {
                let (x, y, _) = g.get_point(0);
                if x.is_finite() && y.is_finite() {
                    (x, y)
                } else {
                    (f64::NAN, f64::NAN)
                }
            }
            Some(_) => (f64::NAN, f64::NAN),
            None if is_csv => (f64::NAN, f64::NAN),
            None => {
                return Err(perr(format!("feature {} has no point geometry", i + 1)));
            }
        };
        let text = |idx: Option<usize>| idx.and_then(|k| f.field_as_string(k).ok().flatten()).filter(|s| !s.trim().is_empty());
        // Numbers are read from the cell's text: OGR reads text as 0 and an empty cell as 0 too,
        // which would silently make "n.d." or "" a measurement of zero.
        let number = |k: usize| text(Some(k)).and_then(|t| t.trim().parse::<f64>().ok()).filter(|v| v.is_finite());
        let value = target.and_then(number).filter(|v| Some(*v) != o.target_nodata);
        let target_text = target.and_then(|k| text(Some(k))).filter(|t| t.trim().parse::<f64>().is_err());
        let id = text(id).unwrap_or_else(|| f.fid().map_or_else(|| (i + 1).to_string(), |v| v.to_string()));
        let values = extra.iter().map(|&k| number(k)).collect();
        points.push(Point { id, x, y, target: value, target_text, group: text(group), stratum: text(stratum), values });
    }
    if points.is_empty() {
        return Err(perr("it holds no points".into()));
    }
    Ok(Points { points, wkt })
}

/// A manifest that describes `inputs` with identity normalisation: what sampling and
/// training start from before normalisation statistics are known.
pub fn sampling_manifest(inputs: Vec<InputSpec>, target: &str) -> Result<Manifest, SampleError> {
    let m = Manifest {
        schema: SCHEMA_VERSION,
        name: "samples".into(),
        version: "0".into(),
        description: String::new(),
        target: Target { name: target.into(), unit: String::new(), transform: TargetTransform::None },
        inputs,
        outputs: vec![OutputBand { name: "value".into(), graph_output: "y".into(), index: 0, kind: OutputKind::Value }],
        nodata: NodataPolicy::default(),
        provenance: Provenance::default(),
        metrics: None,
        uncertainty: None,
        model_card: String::new(),
        time_varying: Vec::new(),
    };
    m.check().map_err(|e| SampleError::Invalid(e.to_string()))?;
    Ok(m)
}

/// A per-pixel input over every band of `rasters`, for sampling covariate values without a
/// model: each band is named by its description, else `<file stem>_b<band>`, and bound
/// explicitly (the returned `NAME=FILE:BAND` bindings), so undescribed bands work too.
pub fn all_bands_input(rasters: &[PathBuf]) -> Result<(InputSpec, Vec<String>), SampleError> {
    let mut channels = Vec::new();
    let mut bindings = Vec::new();
    for path in rasters {
        let ds = Dataset::open(path).map_err(|e| crate::raster::RasterError::Open { path: path.clone(), reason: e.to_string() })?;
        let stem = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
        for b in 1..=ds.raster_count() {
            let description = ds.rasterband(b).ok().and_then(|band| band.description().ok()).unwrap_or_default();
            let mut name = if description.trim().is_empty() { format!("{stem}_b{b}") } else { description.trim().to_string() };
            if channels.iter().any(|c: &crate::bundle::Channel| c.covariate == name) {
                name = format!("{stem}_{name}");
            }
            bindings.push(format!("{name}={}:{b}", path.display()));
            channels.push(crate::bundle::Channel { covariate: name, mean: 0.0, std: 1.0 });
        }
    }
    if channels.is_empty() {
        return Err(SampleError::Invalid("no covariate rasters were given".into()));
    }
    Ok((InputSpec { name: "x".into(), layout: crate::bundle::Layout::Pixel, channels }, bindings))
}

/// One sampling job, as `terrapix sample` and `tpx_sample()` run it: read the points, then
/// extract `inputs` (None: every band of `rasters`, per pixel) from `rasters`, or, without
/// rasters, from the points table's own columns. Returns the number of points read and the
/// samples (possibly none: the caller decides whether to write what was skipped).
pub fn sample_points(
    points: &Path,
    rasters: &[PathBuf],
    inputs: Option<Vec<InputSpec>>,
    mut options: PointOptions,
    bind: &BindOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<(usize, Samples), SampleError> {
    let mut bind = bind.clone();
    let inputs = match inputs {
        Some(inputs) => inputs,
        None => {
            let (input, bindings) = all_bands_input(rasters)?;
            bind.bindings.extend(bindings);
            vec![input]
        }
    };
    // Without rasters the covariates are columns of the table itself.
    if rasters.is_empty() {
        options.columns = inputs.iter().flat_map(|i| i.channels.iter().map(|c| c.covariate.clone())).collect();
    }
    let read = read_points(points, &options)?;
    // Every sample is held until the folder is written: the sizes are checked before.
    let per_sample: usize = inputs.iter().map(|i| i.layout.sample_len(i.channels.len()).saturating_mul(4)).sum();
    let bytes = per_sample.saturating_mul(read.points.len());
    if bytes > MAX_SAMPLE_BYTES {
        return Err(SampleError::Invalid(format!(
            "{} points of {per_sample} bytes each need {:.1} GiB, more than the {} GiB a sampling job holds: sample fewer points or smaller inputs",
            read.points.len(),
            bytes as f64 / (1u64 << 30) as f64,
            MAX_SAMPLE_BYTES >> 30
        )));
    }
    let manifest = sampling_manifest(inputs, &options.target)?;
    let samples = if rasters.is_empty() {
        extract_table(&read, &options.columns, manifest)?
    } else {
        extract(&read, rasters, &bind, manifest, progress)?
    };
    Ok((read.points.len(), samples))
}

/// Why a point gave no sample.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    pub point: Point,
    pub reason: String,
}

/// Samples: for each kept point, the flat tensor of every input (`[n, layout shape...]`).
pub struct Samples {
    pub manifest: Manifest,
    pub points: Vec<Point>,
    /// Coordinates of the kept points in the covariates' CRS (for spatial cross-validation).
    pub grid_xy: Vec<(f64, f64)>,
    pub tensors: Vec<Vec<f32>>,
    pub skipped: Vec<Skipped>,
    pub covariates_wkt: String,
}

impl Samples {
    pub fn len(&self) -> usize {
        self.points.len()
    }
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
    pub fn targets(&self) -> Vec<f32> {
        self.points.iter().map(|p| p.target.unwrap_or(f64::NAN) as f32).collect()
    }
}

/// Extracts the tensors of `manifest`'s inputs at every point from the covariate rasters.
/// `progress(done, total)` is called as points are sampled; returning false cancels.
pub fn extract(
    points: &Points,
    rasters: &[PathBuf],
    bind: &BindOptions,
    manifest: Manifest,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Samples, SampleError> {
    let covs = Covariates::bind(rasters, &manifest.covariates(), bind)?;
    let plan = TensorPlan::new(&manifest);
    let (cell, halo) = (plan.cell(), plan.halo());
    let reader = covs.reader()?;
    let grid = &covs.grid;
    let to_grid = {
        let mut from = SpatialRef::from_wkt(&points.wkt).map_err(|e| SampleError::Invalid(e.to_string()))?;
        let mut to = SpatialRef::from_wkt(&grid.wkt).map_err(|e| SampleError::Invalid(e.to_string()))?;
        from.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
        to.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
        if from == to {
            None
        } else {
            Some(CoordTransform::new(&from, &to).map_err(|e| SampleError::Invalid(e.to_string()))?)
        }
    };
    let to_pixel = grid.to_pixel().ok_or_else(|| SampleError::Invalid("the covariates' geotransform cannot be inverted".into()))?;
    let mut out = Samples {
        manifest,
        points: Vec::new(),
        grid_xy: Vec::new(),
        tensors: vec![Vec::new(); plan.sample_lens().len()],
        skipped: Vec::new(),
        covariates_wkt: grid.wkt.clone(),
    };
    let (mut data, mut tensors) = (Vec::new(), Vec::new());
    let needs_target = !out.manifest.target.name.is_empty();
    let total = points.points.len();
    for (i, p) in points.points.iter().enumerate() {
        if (i % 64 == 0 || i + 1 == total) && !progress(i, total) {
            return Err(SampleError::Cancelled);
        }
        let skip = |out: &mut Samples, reason: &str| out.skipped.push(Skipped { point: p.clone(), reason: reason.into() });
        if needs_target && p.target.is_none() {
            skip(&mut out, &p.no_target_reason());
            continue;
        }
        if !(p.x.is_finite() && p.y.is_finite()) {
            skip(&mut out, "coordinates missing or not numbers");
            continue;
        }
        let (mut xs, mut ys, mut zs) = ([p.x], [p.y], [0.0]);
        if let Some(t) = &to_grid {
            if t.transform_coords(&mut xs, &mut ys, &mut zs).is_err() {
                skip(&mut out, "cannot be transformed to the covariates' CRS");
                continue;
            }
        }
        let (col, row) = to_pixel(xs[0], ys[0]);
        if !(col >= 0.0 && row >= 0.0 && col < grid.width as f64 && row < grid.height as f64) {
            skip(&mut out, "outside the covariate rasters");
            continue;
        }
        // The sample's cell: the pixel under the point, or the patch centred on it.
        let (x0, y0) = (col as isize - (cell / 2) as isize, row as isize - (cell / 2) as isize);
        let window = Window { x: x0, y: y0, width: cell, height: cell, halo };
        reader.read(window, out.manifest.nodata.edge, &mut data)?;
        let geo = Some((grid.geotransform, x0.max(0) as usize, y0.max(0) as usize));
        let mut block = Block { data: std::mem::take(&mut data), width: cell, height: cell, halo, geo };
        let (_, _, valid) = plan.prepare(&mut block);
        if valid.is_empty() {
            skip(&mut out, "covariates missing (nodata) where the model needs them");
        } else {
            plan.assemble_all(&block, &valid, 1, &mut tensors);
            for (all, one) in out.tensors.iter_mut().zip(&tensors) {
                all.extend_from_slice(one);
            }
            out.points.push(p.clone());
            out.grid_xy.push((xs[0], ys[0]));
        }
        data = block.data;
    }
    Ok(out)
}

/// Samples from the points' own columns (covariates sampled beforehand, as in a survey table):
/// each input's channels name columns of [`PointOptions::columns`]. Only inputs without spatial
/// context (per-pixel, series) can come from a table.
pub fn extract_table(points: &Points, columns: &[String], manifest: Manifest) -> Result<Samples, SampleError> {
    let mut index = Vec::new();
    for spec in &manifest.inputs {
        if !matches!(spec.layout, crate::bundle::Layout::Pixel | crate::bundle::Layout::Series { .. }) {
            return Err(SampleError::Invalid(format!(
                "input '{}' ({}) needs covariate rasters, not a table",
                spec.name,
                spec.layout.describe()
            )));
        }
        let cols = spec
            .channels
            .iter()
            .map(|c| {
                columns
                    .iter()
                    .position(|k| *k == c.covariate)
                    .ok_or_else(|| SampleError::Invalid(format!("column '{}' was not read", c.covariate)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        index.push(cols);
    }
    let mut out = Samples {
        manifest,
        points: Vec::new(),
        grid_xy: Vec::new(),
        tensors: vec![Vec::new(); index.len()],
        skipped: Vec::new(),
        covariates_wkt: points.wkt.clone(),
    };
    for p in &points.points {
        let missing = index.iter().flatten().find(|&&k| p.values[k].is_none());
        let reason = match (p.target, missing) {
            _ if !(p.x.is_finite() && p.y.is_finite()) => Some("coordinates missing or not numbers".to_string()),
            (None, _) if !out.manifest.target.name.is_empty() => Some(p.no_target_reason()),
            (_, Some(&k)) => Some(format!("no value in column '{}'", columns[k])),
            _ => None,
        };
        if let Some(reason) = reason {
            out.skipped.push(Skipped { point: p.clone(), reason });
            continue;
        }
        for (tensor, cols) in out.tensors.iter_mut().zip(&index) {
            tensor.extend(cols.iter().map(|&k| p.values[k].expect("checked above") as f32));
        }
        out.points.push(p.clone());
        out.grid_xy.push((p.x, p.y));
    }
    Ok(out)
}

/// The description of a written sample folder (`samples.json`).
#[derive(Serialize, Deserialize)]
pub struct SamplesFile {
    pub terrapix_samples: u32,
    pub target: String,
    pub count: usize,
    /// Inputs (layouts and covariates, identity normalisation) and their `.npy` files.
    pub inputs: Vec<InputSpec>,
    pub files: Vec<String>,
    pub crs_wkt: String,
    pub skipped: usize,
}

/// One row of a samples folder's `points.csv`: the one format the sampler writes, the trainer
/// reads and the QGIS plugin shows (a real CSV: quoted fields may hold commas and quotes).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PointRow {
    pub id: String,
    /// In the covariates' CRS.
    pub x: f64,
    pub y: f64,
    /// NaN where the target was not given.
    pub target: f64,
    pub group: String,
    pub stratum: String,
}

/// One row of `skipped.csv`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SkippedRow {
    pub id: String,
    pub x: f64,
    pub y: f64,
    pub reason: String,
}

fn write_csv<R: Serialize>(path: &Path, rows: impl Iterator<Item = R>) -> Result<(), String> {
    let mut w = csv::Writer::from_path(path).map_err(|e| e.to_string())?;
    for r in rows {
        w.serialize(r).map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())
}

/// What a samples folder holds.
pub struct SamplesFolder {
    pub desc: SamplesFile,
    /// One flat tensor per input, `[count, layout shape...]`.
    pub tensors: Vec<Vec<f32>>,
    pub rows: Vec<PointRow>,
}

/// Largest samples folder tensor read (values): 4 GiB of Float32.
const MAX_SAMPLE_VALUES: usize = 1 << 30;

impl SamplesFolder {
    /// Reads and checks a folder written by [`Samples::write`].
    pub fn read(dir: &Path) -> Result<SamplesFolder, SampleError> {
        let err = |file: &str, e: &dyn std::fmt::Display| SampleError::Read { path: dir.into(), file: file.into(), reason: e.to_string() };
        let text = std::fs::read_to_string(dir.join("samples.json")).map_err(|e| err("samples.json", &e))?;
        let desc: SamplesFile = serde_json::from_str(&text).map_err(|e| err("samples.json", &e))?;
        if desc.inputs.len() != desc.files.len() {
            return Err(err("samples.json", &format!("{} inputs but {} files", desc.inputs.len(), desc.files.len())));
        }
        let mut tensors = Vec::new();
        for (spec, file) in desc.inputs.iter().zip(&desc.files) {
            if Path::new(file).components().count() != 1 || file.starts_with('.') {
                return Err(err(file, &"a tensor file must be a plain name inside the folder"));
            }
            let mut want = vec![desc.count];
            want.extend(spec.layout.shape(spec.channels.len()));
            if want.iter().try_fold(1usize, |a, &b| a.checked_mul(b)).is_none_or(|n| n > MAX_SAMPLE_VALUES) {
                return Err(err(file, &format!("shape {want:?} is larger than terrapix reads")));
            }
            let a: ndarray::ArrayD<f32> = ndarray_npy::read_npy(dir.join(file)).map_err(|e| err(file, &e))?;
            if a.shape() != want.as_slice() {
                return Err(err(file, &format!("shape {:?}, expected {want:?}", a.shape())));
            }
            tensors.push(a.iter().copied().collect());
        }
        let mut reader = csv::Reader::from_path(dir.join("points.csv")).map_err(|e| err("points.csv", &e))?;
        let rows = reader.deserialize().collect::<Result<Vec<PointRow>, _>>().map_err(|e| err("points.csv", &e))?;
        if rows.len() != desc.count {
            return Err(err("points.csv", &format!("{} rows for {} samples", rows.len(), desc.count)));
        }
        Ok(SamplesFolder { desc, tensors, rows })
    }
}

impl Samples {
    /// Writes `dir/samples.json`, one `<input>.npy` per input (`[n, layout shape...]`, Float32),
    /// `points.csv` (id, x, y in the covariates' CRS, target, group, stratum) and `skipped.csv`.
    /// The folder is written whole under a temporary name and renamed into place (replacing a
    /// previous samples folder), so a failure leaves nothing half-written.
    pub fn write(&self, dir: &Path) -> Result<(), SampleError> {
        let werr = |path: &Path, e: &dyn std::fmt::Display| SampleError::Write { path: path.into(), reason: e.to_string() };
        let staged = crate::output::Staged::new(dir, crate::output::Kind::SamplesFolder)?;
        let tmp = staged.path();
        std::fs::create_dir(tmp).map_err(|e| werr(dir, &e))?;
        let mut files = Vec::new();
        for (spec, data) in self.manifest.inputs.iter().zip(&self.tensors) {
            let mut shape = vec![self.len()];
            shape.extend(spec.layout.shape(spec.channels.len()));
            let array = ndarray::ArrayD::from_shape_vec(shape, data.clone()).map_err(|e| werr(dir, &e))?;
            let name = format!("{}.npy", spec.name);
            ndarray_npy::write_npy(tmp.join(&name), &array).map_err(|e| werr(&dir.join(&name), &e))?;
            files.push(name);
        }
        let rows = self.points.iter().zip(&self.grid_xy).map(|(p, &(x, y))| PointRow {
            id: p.id.clone(),
            x,
            y,
            target: p.target.unwrap_or(f64::NAN),
            group: p.group.clone().unwrap_or_default(),
            stratum: p.stratum.clone().unwrap_or_default(),
        });
        write_csv(&tmp.join("points.csv"), rows).map_err(|e| werr(&dir.join("points.csv"), &e))?;
        let skipped =
            self.skipped.iter().map(|s| SkippedRow { id: s.point.id.clone(), x: s.point.x, y: s.point.y, reason: s.reason.clone() });
        write_csv(&tmp.join("skipped.csv"), skipped).map_err(|e| werr(&dir.join("skipped.csv"), &e))?;
        let desc = SamplesFile {
            terrapix_samples: 1,
            target: self.manifest.target.name.clone(),
            count: self.len(),
            inputs: self.manifest.inputs.clone(),
            files,
            crs_wkt: self.covariates_wkt.clone(),
            skipped: self.skipped.len(),
        };
        let json = serde_json::to_string_pretty(&desc).expect("serialisable");
        std::fs::write(tmp.join("samples.json"), json).map_err(|e| werr(&dir.join("samples.json"), &e))?;
        staged.commit()?;
        Ok(())
    }

    /// Counts of skipped points by reason, for reports.
    pub fn skipped_summary(&self) -> Vec<(String, usize)> {
        let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
        for s in &self.skipped {
            *counts.entry(s.reason.clone()).or_default() += 1;
        }
        counts.into_iter().collect()
    }
}

/// A sampling job, as `terrapix sample`, `tpx_sample()`, Python's `terrapix.sample` and QGIS's
/// *Extract covariates at points* give it (serde names are the C ABI's JSON keys).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SampleRequest {
    pub points: PathBuf,
    /// Covariate rasters; none: the inputs' channels are columns of the points table.
    pub covariates: Vec<PathBuf>,
    /// Inputs as `NAME:LAYOUT:COVARIATES` specs...
    pub inputs: Vec<String>,
    /// ...or the inputs of this bundle; neither: every band of the rasters, per pixel.
    pub model: Option<PathBuf>,
    /// The samples folder to write.
    pub output: PathBuf,
    /// How to read the points table.
    pub point_options: PointOptions,
    /// How covariate bands are bound and aligned.
    pub bind: BindOptions,
}

/// What a sampling job did.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SampleReport {
    /// Points sampled (rows of the folder).
    pub count: usize,
    /// Points read.
    pub points: usize,
    /// Points skipped, by reason (their rows are in `skipped.csv`).
    pub skipped: std::collections::BTreeMap<String, usize>,
    pub inputs: Vec<InputSpec>,
}

/// The most bytes of sample tensors a sampling job holds (every sample is in memory until the
/// folder is written).
const MAX_SAMPLE_BYTES: usize = 4 << 30;

/// Runs a sampling job: reads the points, extracts the tensors and writes the samples folder
/// whole. Nothing is written when no point gives a sample (the error lists why).
pub fn run(request: &SampleRequest, progress: &mut dyn FnMut(usize, usize) -> bool) -> Result<SampleReport, SampleError> {
    let r = request;
    let inputs = match (&r.model, r.inputs.is_empty()) {
        (Some(model), true) => {
            let bundle = crate::bundle::Bundle::read(model).map_err(|e| SampleError::Invalid(e.to_string()))?;
            Some(bundle.require_manifest(model).map_err(|e| SampleError::Invalid(e.to_string()))?.inputs.clone())
        }
        (None, false) => Some(
            r.inputs
                .iter()
                .map(|s| crate::bundle::spec::parse_input(s))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| SampleError::Invalid(e.to_string()))?,
        ),
        (None, true) if !r.covariates.is_empty() => None, // every band of the rasters
        (Some(_), false) => return Err(SampleError::Invalid("give the inputs as specs or as a model's, not both".into())),
        (None, true) => {
            return Err(SampleError::Invalid("give the inputs as specs, a model whose inputs to extract, or covariate rasters".into()))
        }
    };
    let mut inputs_of_run: Vec<(&str, &Path)> = vec![("points", &r.points)];
    inputs_of_run.extend(r.covariates.iter().map(|c| ("covariate raster", c.as_path())));
    inputs_of_run.extend(r.model.as_deref().map(|m| ("model", m)));
    crate::output::refuse_inputs(&r.output, true, &inputs_of_run)?;
    crate::output::check_target(&r.output, crate::output::Kind::SamplesFolder)?;
    let (read, samples) = sample_points(&r.points, &r.covariates, inputs, r.point_options.clone(), &r.bind, progress)?;
    let skipped: std::collections::BTreeMap<String, usize> = samples.skipped_summary().into_iter().collect();
    if samples.is_empty() {
        let reasons: Vec<String> = skipped.iter().map(|(reason, count)| format!("skipped {count}: {reason}")).collect();
        return Err(SampleError::Invalid(format!("no point could be sampled, nothing was written ({})", reasons.join("; "))));
    }
    samples.write(&r.output)?;
    Ok(SampleReport { count: samples.len(), points: read, skipped, inputs: samples.manifest.inputs.clone() })
}

/// A samples folder as a table: one row per sample, one column per covariate value a person
/// reads (a pixel input's channels; a window's or patch's centre pixel; a series' steps).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SamplesTable {
    pub target: String,
    pub crs_wkt: String,
    /// Column names, made unique (`ndvi`, `ndvi_7`).
    pub columns: Vec<String>,
    pub points: Vec<PointRow>,
    /// `points.len()` rows of `columns.len()` values.
    pub values: Vec<Vec<f32>>,
}

impl SamplesFolder {
    /// The folder's samples as a table (what QGIS shows as a point layer).
    pub fn table(&self) -> SamplesTable {
        let n = self.desc.count;
        let mut columns: Vec<String> = Vec::new();
        let mut values = vec![Vec::new(); n];
        for (spec, t) in self.desc.inputs.iter().zip(&self.tensors) {
            let names: Vec<&str> = spec.channels.iter().map(|c| c.covariate.as_str()).collect();
            let len = spec.layout.sample_len(names.len());
            // (column, offset in one sample)
            let cells: Vec<(String, usize)> = match spec.layout {
                crate::bundle::Layout::Pixel => names.iter().enumerate().map(|(c, n)| (n.to_string(), c)).collect(),
                crate::bundle::Layout::Window { size, .. } | crate::bundle::Layout::Patch { size } => {
                    let centre = (size / 2) * size + size / 2;
                    names.iter().enumerate().map(|(c, n)| (n.to_string(), c * size * size + centre)).collect()
                }
                crate::bundle::Layout::Series { steps, features } => (0..steps * features).map(|k| (names[k].to_string(), k)).collect(),
            };
            for (name, offset) in cells {
                let unique = if columns.contains(&name) { format!("{name}_{}", columns.len()) } else { name };
                columns.push(unique);
                for (i, row) in values.iter_mut().enumerate() {
                    row.push(t[i * len + offset]);
                }
            }
        }
        SamplesTable { target: self.desc.target.clone(), crs_wkt: self.desc.crs_wkt.clone(), columns, points: self.rows.clone(), values }
    }
}
