//! A bundle described as a STAC item of the Machine Learning Model extension (MLM 1.4,
//! <https://github.com/stac-extensions/mlm>), so it can be catalogued next to the imagery it
//! reads; and the reverse: a STAC MLM item given where a bundle is expected opens the bundle its
//! `mlm:model` asset points to.
//!
//! Mapping: each manifest input is an `mlm:input` (its covariates as `bands`, the tensor shape
//! with a variable batch, the manifest's normalisation as per-channel `z-score` `value_scaling`);
//! each output band an `mlm:output` of task `regression`; the bundle file the `mlm:model` asset.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::manifest::{Layout, Manifest};
use super::BundleError;

/// The MLM schema the items follow.
pub const MLM_SCHEMA: &str = "https://stac-extensions.github.io/mlm/v1.4.0/schema.json";
const FILE_SCHEMA: &str = "https://stac-extensions.github.io/file/v2.1.0/schema.json";

/// The STAC item describing the bundle at `path` (its manifest `manifest`). The model asset's
/// href is the bundle's file name, relative to the item written beside it.
pub fn item(manifest: &Manifest, path: &Path) -> Value {
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let meta = std::fs::metadata(path).ok();
    let size = meta.as_ref().map(|m| m.len());
    let datetime = meta
        .and_then(|m| m.modified().ok())
        .map(|t| chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into());
    let inputs: Vec<Value> = manifest
        .inputs
        .iter()
        .map(|i| {
            let (shape, dims) = tensor(&i.layout, i.channels.len());
            let scaling: Vec<Value> = i.channels.iter().map(|c| json!({"type": "z-score", "mean": c.mean, "stddev": c.std})).collect();
            json!({
                "name": i.name,
                "bands": i.channels.iter().map(|c| c.covariate.clone()).collect::<Vec<_>>(),
                "input": {"shape": shape, "dim_order": dims, "data_type": "float32"},
                "value_scaling": scaling,
                "resize_type": null,
                "description": layout_description(&i.layout),
            })
        })
        .collect();
    let outputs: Vec<Value> = manifest
        .outputs
        .iter()
        .map(|o| {
            let unit = manifest.band_unit(o);
            json!({
                "name": o.name,
                "tasks": ["regression"],
                "result": {"shape": [-1], "dim_order": ["batch"], "data_type": "float32"},
                "description": if unit.is_empty() { manifest.band_description(o) } else { format!("{} ({unit})", manifest.band_description(o)) },
                "post_processing_function": null,
            })
        })
        .collect();
    let mut properties = json!({
        "title": format!("{} {}", manifest.name, manifest.version),
        "description": manifest.description,
        "datetime": datetime,
        "mlm:name": manifest.name,
        "mlm:architecture": architecture(manifest),
        "mlm:tasks": ["regression"],
        "mlm:framework": "ONNX",
        "mlm:accelerator": null,
        "mlm:accelerator_constrained": false,
        "mlm:input": inputs,
        "mlm:output": outputs,
        "terrapix:target": {"name": manifest.target.name, "unit": manifest.target.unit},
    });
    if let Some(cv) = &manifest.metrics {
        properties["terrapix:cross_validation"] = json!({"scheme": cv.scheme, "folds": cv.folds, "metrics": cv.overall});
    }
    let mut asset = json!({
        "href": file,
        "title": format!("terrapix bundle {} (ONNX graph with its manifest)", manifest.name),
        "type": "application/octet-stream; framework=onnx; profile=terrapix",
        "roles": ["mlm:model", "model", "data"],
        "mlm:artifact_type": "onnx",
    });
    if let Some(size) = size {
        asset["file:size"] = json!(size);
    }
    json!({
        "stac_version": "1.1.0",
        "stac_extensions": [MLM_SCHEMA, FILE_SCHEMA],
        "type": "Feature",
        "id": manifest.name,
        "geometry": null,
        "properties": properties,
        "assets": {"model": asset},
        "links": [],
    })
}

/// The shape (batch first, -1) and dimension names of an input tensor.
fn tensor(layout: &Layout, channels: usize) -> (Vec<i64>, Vec<&'static str>) {
    let mut shape = vec![-1i64];
    shape.extend(layout.shape(channels).into_iter().map(|d| d as i64));
    let dims = match layout {
        Layout::Pixel => vec!["batch", "channel"],
        Layout::Window { .. } | Layout::Patch { .. } => vec!["batch", "channel", "height", "width"],
        Layout::Series { .. } => vec!["batch", "time", "channel"],
    };
    (shape, dims)
}

fn layout_description(layout: &Layout) -> String {
    match *layout {
        Layout::Pixel => "the covariates at each pixel".into(),
        Layout::Window { size, cell: 1 } => format!("a {size} x {size} window centred on each pixel"),
        Layout::Window { size, cell } => format!("a {size} x {size} window centred on each {cell} x {cell} output cell"),
        Layout::Patch { size } => format!("non-overlapping {size} x {size} patches, one output cell each"),
        Layout::Series { steps, features } => format!("a series of {steps} steps x {features} features at each pixel"),
    }
}

/// The model's kind in a word, from the layouts (the manifest does not name the architecture).
fn architecture(manifest: &Manifest) -> String {
    let kinds: Vec<&str> = manifest
        .inputs
        .iter()
        .map(|i| match i.layout {
            Layout::Pixel => "per-pixel",
            Layout::Window { .. } => "windowed",
            Layout::Patch { .. } => "patch",
            Layout::Series { .. } => "time series",
        })
        .collect();
    format!("{} ensemble", kinds.join(" + "))
}

/// Where the bundle of `path` is: `path` itself, or, when `path` is a STAC item (JSON), the file
/// its `mlm:model` asset points to (relative to the item; local files only).
pub fn resolve(path: &Path) -> Result<PathBuf, BundleError> {
    // An ONNX file (protobuf) never starts with '{'; a missing file is the caller's to report.
    if !is_json(path) {
        return Ok(path.into());
    }
    let err =
        |reason: String| BundleError::Manifest(format!("'{}' is JSON but not a STAC MLM item with a model: {reason}", path.display()));
    let text = read_item(path)?;
    let item: Value = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
    let assets = item.get("assets").and_then(Value::as_object).ok_or_else(|| err("it has no assets".into()))?;
    let model = assets
        .values()
        .find(|a| a.get("roles").and_then(Value::as_array).is_some_and(|r| r.iter().any(|r| r == "mlm:model")))
        .ok_or_else(|| err("no asset has the role mlm:model".into()))?;
    let href = model.get("href").and_then(Value::as_str).ok_or_else(|| err("its model asset has no href".into()))?;
    let local = href.strip_prefix("file://").unwrap_or(href);
    if local.contains("://") {
        return Err(err(format!("its model is at '{href}': download it and point the item's href at the local file")));
    }
    let target = path.parent().unwrap_or(Path::new("")).join(local);
    if is_json(&target) {
        return Err(err(format!("its model asset '{href}' is itself a JSON file")));
    }
    Ok(target)
}

/// Largest STAC item read (an item describing one model is a few kilobytes).
const MAX_ITEM_BYTES: u64 = 16 << 20;

fn read_item(path: &Path) -> Result<String, BundleError> {
    use std::io::Read;
    let rerr = |source| BundleError::Read { path: path.into(), source };
    let mut text = String::new();
    std::fs::File::open(path).and_then(|f| f.take(MAX_ITEM_BYTES + 1).read_to_string(&mut text)).map_err(rerr)?;
    if text.len() as u64 > MAX_ITEM_BYTES {
        return Err(BundleError::Manifest(format!("'{}' is over {} MiB: too large for a STAC item", path.display(), MAX_ITEM_BYTES >> 20)));
    }
    Ok(text)
}

/// Whether the file at `path` begins (after white space) with '{'.
fn is_json(path: &Path) -> bool {
    let mut head = [0u8; 64];
    let n = std::fs::File::open(path).and_then(|mut f| std::io::Read::read(&mut f, &mut head)).unwrap_or(0);
    head[..n].iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}
