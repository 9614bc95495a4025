//! Model bundles: one `.onnx` file whose `metadata_props` carry a [`Manifest`].
//!
//! This layer reads and writes ONNX protobuf directly (no runtime needed): attaching a manifest
//! to any model, reading it back, and writing new graphs (ensembles).

pub mod ensemble;
pub mod graph;
pub mod manifest;
pub mod ml_trees;
pub mod spec;
pub mod stac;
pub mod trees;
pub mod tta;
pub mod uncertainty;

use prost::Message;
use std::path::{Path, PathBuf};

pub use manifest::*;

/// ONNX protobuf types generated from proto/onnx.proto.
#[allow(clippy::all, missing_docs)]
pub mod onnx {
    include!(concat!(env!("OUT_DIR"), "/onnx.rs"));
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("cannot read model '{path}': {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write model '{path}': {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Output(String),
    #[error("'{path}' is not a valid ONNX model (protobuf decoding failed: {reason})")]
    Corrupt { path: PathBuf, reason: String },
    #[error("'{0}' has no terrapix manifest (metadata key '{MANIFEST_KEY}'); wrap it with `terrapix bundle`")]
    NoManifest(PathBuf),
    #[error("invalid manifest: {0}")]
    Manifest(String),
    #[error("cannot build ensemble: {0}")]
    Ensemble(String),
    #[error("model '{path}' refers to external data '{location}' outside its folder; refused")]
    ExternalData { path: PathBuf, location: String },
    #[error("'{path}' is {size} bytes: an ONNX model is at most 2 GiB (protobuf's limit), so this is not one")]
    TooLarge { path: PathBuf, size: u64 },
}

pub use crate::output::MAX_ONNX_BYTES;

/// A decoded ONNX model and the manifest it carries, if any.
#[derive(Clone, Debug)]
pub struct Bundle {
    pub model: onnx::ModelProto,
    pub manifest: Option<Manifest>,
}

impl Bundle {
    /// Whether the graph holds an ONNX-ML tree ensemble (the engine then runs one session with
    /// all its threads rather than one copy of the trees per session).
    pub fn has_tree_ensemble(&self) -> bool {
        self.model.graph.iter().flat_map(|g| &g.node).any(|n| n.op_type.as_deref().is_some_and(|op| op.starts_with("TreeEnsemble")))
    }

    /// Reads and decodes an ONNX file. A missing manifest is not an error here (plain ONNX
    /// models are what `terrapix bundle` wraps); an unreadable one is.
    pub fn read(path: &Path) -> Result<Bundle, BundleError> {
        let resolved = stac::resolve(path)?;
        let path = resolved.as_path();
        let bytes = read_bounded(path)?;
        let model = decode(&bytes, path)?;
        let manifest = match manifest_text(&model) {
            Some(text) => Some(Manifest::from_json(text).map_err(|e| match e {
                BundleError::Manifest(m) => BundleError::Manifest(format!("in '{}': {m}", path.display())),
                other => other,
            })?),
            None => None,
        };
        check_external_data(&model, path)?;
        Ok(Bundle { model, manifest })
    }

    /// The manifest, or an error naming the file when the model has none.
    pub fn require_manifest(&self, path: &Path) -> Result<&Manifest, BundleError> {
        self.manifest.as_ref().ok_or_else(|| BundleError::NoManifest(path.into()))
    }

    /// Stores `manifest` in the model (replacing any previous one).
    pub fn set_manifest(&mut self, manifest: Manifest) -> Result<(), BundleError> {
        manifest.check()?;
        self.model.metadata_props.retain(|p| p.key.as_deref() != Some(MANIFEST_KEY));
        self.model.metadata_props.push(onnx::StringStringEntryProto { key: Some(MANIFEST_KEY.into()), value: Some(manifest.to_json()) });
        self.manifest = Some(manifest);
        Ok(())
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.model.encode_to_vec()
    }

    /// Writes the bundle to a temporary name beside `path` (see [`crate::output`]) and returns
    /// it uncommitted, for the caller to check before [`crate::output::Staged::commit`].
    pub fn write_staged(&self, path: &Path) -> Result<crate::output::Staged, BundleError> {
        let werr = |e: crate::output::OutputError| BundleError::Output(e.to_string());
        let staged = crate::output::Staged::new(path, crate::output::Kind::Onnx).map_err(werr)?;
        std::fs::write(staged.path(), self.to_bytes()).map_err(|source| BundleError::Write { path: path.into(), source })?;
        Ok(staged)
    }

    /// Writes the bundle to a temporary name beside `path`, then renames it into place.
    pub fn write(&self, path: &Path) -> Result<(), BundleError> {
        self.write_staged(path)?.commit().map_err(|e| BundleError::Output(e.to_string()))
    }

    /// Graph inputs that are real inputs (old IR versions also list initializers as inputs).
    pub fn graph_inputs(&self) -> Vec<&onnx::ValueInfoProto> {
        let Some(graph) = &self.model.graph else { return Vec::new() };
        let inits: std::collections::HashSet<&str> = graph.initializer.iter().filter_map(|t| t.name.as_deref()).collect();
        graph.input.iter().filter(|v| !inits.contains(v.name.as_deref().unwrap_or(""))).collect()
    }
}

/// The bytes of a model file, refused from its size alone when it cannot be an ONNX model.
fn read_bounded(path: &Path) -> Result<Vec<u8>, BundleError> {
    use std::io::Read;
    let rerr = |source| BundleError::Read { path: path.into(), source };
    let file = std::fs::File::open(path).map_err(rerr)?;
    let meta = file.metadata().map_err(rerr)?;
    if meta.is_dir() {
        return Err(rerr(std::io::Error::other("it is a folder, not a model")));
    }
    if meta.is_file() && meta.len() > MAX_ONNX_BYTES {
        return Err(BundleError::TooLarge { path: path.into(), size: meta.len() });
    }
    // A pipe or device has no size: read one byte past the limit at most.
    let mut bytes = Vec::with_capacity(meta.len().min(MAX_ONNX_BYTES) as usize);
    file.take(MAX_ONNX_BYTES + 1).read_to_end(&mut bytes).map_err(rerr)?;
    if bytes.len() as u64 > MAX_ONNX_BYTES {
        return Err(BundleError::TooLarge { path: path.into(), size: bytes.len() as u64 });
    }
    Ok(bytes)
}

/// Whether `bytes` decode as an ONNX model with a graph.
pub fn looks_like_onnx(bytes: &[u8]) -> bool {
    onnx::ModelProto::decode(bytes).is_ok_and(|m| m.graph.is_some())
}

fn decode(bytes: &[u8], path: &Path) -> Result<onnx::ModelProto, BundleError> {
    let model = onnx::ModelProto::decode(bytes).map_err(|e| BundleError::Corrupt { path: path.into(), reason: e.to_string() })?;
    if model.graph.is_none() {
        return Err(BundleError::Corrupt { path: path.into(), reason: "it holds no graph".into() });
    }
    Ok(model)
}

fn manifest_text(model: &onnx::ModelProto) -> Option<&str> {
    model.metadata_props.iter().find(|p| p.key.as_deref() == Some(MANIFEST_KEY)).and_then(|p| p.value.as_deref())
}

/// ONNX tensors can live in external files named by a relative `location`. A model may only
/// refer to files inside its own folder: a bundle named by a VRT must not read arbitrary files.
fn check_external_data(model: &onnx::ModelProto, path: &Path) -> Result<(), BundleError> {
    fn walk<'a>(g: &'a onnx::GraphProto, out: &mut Vec<&'a onnx::TensorProto>) {
        out.extend(g.initializer.iter());
        for node in &g.node {
            for a in &node.attribute {
                if let Some(t) = &a.t {
                    out.push(t);
                }
                out.extend(a.tensors.iter());
                if let Some(sub) = &a.g {
                    walk(sub, out);
                }
                for sub in &a.graphs {
                    walk(sub, out);
                }
            }
        }
    }
    let mut tensors = Vec::new();
    if let Some(g) = &model.graph {
        walk(g, &mut tensors);
    }
    for t in tensors {
        for entry in &t.external_data {
            if entry.key.as_deref() != Some("location") {
                continue;
            }
            let location = entry.value.clone().unwrap_or_default();
            let rel = Path::new(&location);
            let escapes =
                rel.is_absolute() || rel.components().any(|c| !matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir));
            if escapes {
                return Err(BundleError::ExternalData { path: path.into(), location });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_bytes_are_refused_with_the_path() {
        let err = decode(b"this is not protobuf at all", Path::new("bad.onnx")).unwrap_err();
        assert!(err.to_string().contains("bad.onnx"), "{err}");
        assert!(err.to_string().contains("not a valid ONNX model"), "{err}");
    }

    #[test]
    fn external_data_outside_the_folder_is_refused() {
        let tensor = |loc: &str| onnx::TensorProto {
            name: Some("w".into()),
            external_data: vec![onnx::StringStringEntryProto { key: Some("location".into()), value: Some(loc.into()) }],
            ..Default::default()
        };
        for (loc, ok) in [("weights.bin", true), ("sub/w.bin", true), ("../secret", false), ("/etc/passwd", false)] {
            let model = onnx::ModelProto {
                graph: Some(onnx::GraphProto { initializer: vec![tensor(loc)], ..Default::default() }),
                ..Default::default()
            };
            assert_eq!(check_external_data(&model, Path::new("m.onnx")).is_ok(), ok, "{loc}");
        }
    }
}
