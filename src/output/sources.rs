//! The files behind an input's name: what a run reads when it opens it, however the name is
//! written. GDAL's subdataset syntax (`NETCDF:"f.nc":sm`, `HDF5:"f.h5"://path`,
//! `GTIFF_DIR:2:f.tif`), `/vsi...` archives and sub-files, VRTs and their sources, prediction
//! jobs (`.tpx`) and the model and rasters they name, STAC items and the bundle of their model
//! asset, folders and their own files. [`super::refuse_inputs`] compares an output with every
//! one of them, so no syntax lets an output replace an input.
//!
//! Reading is bounded: a file's first bytes tell what it is, and only VRTs, jobs and STAC items
//! of at most [`MAX_TEXT`] bytes are read whole; nesting stops at [`MAX_DEPTH`].

use std::io::Read;
use std::path::{Path, PathBuf};

/// How deep VRTs, jobs and items naming one another are followed.
const MAX_DEPTH: usize = 8;
/// Most files collected for one input (a folder's entries included).
const MAX_FILES: usize = 10_000;
/// Largest VRT, job or STAC item read to find the files it names.
const MAX_TEXT: u64 = 16 << 20;

/// What an input name stands for.
#[derive(Debug, Default)]
pub(crate) struct Behind {
    /// Existing files and folders read through the name (the name itself when it is one).
    pub files: Vec<PathBuf>,
    /// Names that are not local files (GDAL's in-memory and remote files): compared as written.
    pub names: Vec<String>,
}

/// The files and names behind the input `name`.
pub(crate) fn files_behind(name: &Path) -> Behind {
    let mut out = Behind::default();
    walk(&name.to_string_lossy(), None, 0, &mut out);
    out
}

fn walk(name: &str, base: Option<&Path>, depth: usize, out: &mut Behind) {
    if depth > MAX_DEPTH || out.files.len() >= MAX_FILES || name.is_empty() {
        return;
    }
    let plain = join(base, name);
    if plain.symlink_metadata().is_ok() {
        add_file(&plain, depth, out);
    } else if let Some(rest) = name.strip_prefix("/vsi") {
        vsi(name, rest, base, depth, out);
    } else if let Some(rest) = driver_prefixed(name) {
        for path in embedded_paths(rest, base) {
            walk(&path, base, depth + 1, out);
        }
    }
}

fn join(base: Option<&Path>, name: &str) -> PathBuf {
    match base {
        Some(b) if Path::new(name).is_relative() && !name.starts_with("/vsi") => b.join(name),
        _ => PathBuf::from(name),
    }
}

/// `/vsi...` names: archives and sub-files name a local file inside; in-memory and remote
/// files are only names.
fn vsi(name: &str, rest: &str, base: Option<&Path>, depth: usize, out: &mut Behind) {
    let Some((kind, inner)) = rest.split_once('/') else {
        out.names.push(name.into());
        return;
    };
    let inner = match kind {
        "zip" | "gzip" | "tar" | "7z" | "rar" | "cached" | "sparse" => inner,
        "subfile" => inner.split_once(',').map(|(_, p)| p).unwrap_or(inner),
        "crypt" => inner.split(',').find_map(|kv| kv.strip_prefix("file=")).unwrap_or(inner),
        _ => {
            // /vsimem/, /vsicurl/, /vsis3/, /vsistdin/...: nothing on the local disk to follow.
            out.names.push(name.into());
            return;
        }
    };
    // `{path/with/archive.zip}/inner` marks the archive explicitly.
    if let Some(braced) = inner.strip_prefix('{').and_then(|s| s.split_once('}')) {
        return walk(braced.0, base, depth + 1, out);
    }
    // Otherwise the archive is the longest prefix that exists (a chain of /vsi prefixes nests).
    let mut candidate = inner.trim_end_matches('/');
    loop {
        if candidate.starts_with("/vsi") || join(base, candidate).symlink_metadata().is_ok() {
            return walk(candidate, base, depth + 1, out);
        }
        match candidate.rfind('/') {
            Some(i) if i > 0 => candidate = &candidate[..i],
            _ => return,
        }
    }
}

/// The part after `DRIVER:` of a GDAL subdataset name (`NETCDF:`, `HDF5:`, `GTIFF_DIR:`...); a
/// one-letter prefix is a Windows drive, not a driver.
fn driver_prefixed(name: &str) -> Option<&str> {
    let (prefix, rest) = name.split_once(':')?;
    let is_driver = prefix.len() >= 2
        && prefix.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    is_driver.then_some(rest)
}

/// The file paths a subdataset name's remainder can hold: a quoted path (`"f.nc":sm`), else
/// every run of `:`-separated fields that names an existing file (`2:f.tif`, `f.nc:sm`).
fn embedded_paths(rest: &str, base: Option<&Path>) -> Vec<String> {
    if let Some(quoted) = rest.strip_prefix('"') {
        return quoted.split_once('"').map(|(p, _)| vec![p.to_string()]).unwrap_or_default();
    }
    let fields: Vec<&str> = rest.split(':').take(16).collect();
    let mut found = Vec::new();
    for a in 0..fields.len() {
        for b in a + 1..=fields.len() {
            let candidate = fields[a..b].join(":");
            if candidate.starts_with("/vsi") || join(base, &candidate).symlink_metadata().is_ok() {
                found.push(candidate);
            }
        }
    }
    found
}

/// Adds an existing file or folder and whatever it names in turn.
fn add_file(path: &Path, depth: usize, out: &mut Behind) {
    if out.files.iter().any(|f| f == path) {
        return; // a VRT naming itself, or a loop of jobs
    }
    out.files.push(path.to_path_buf());
    if path.is_dir() {
        // A folder input (samples, monthly bundles): its own files are inputs too.
        if let Ok(entries) = std::fs::read_dir(path) {
            for e in entries.flatten().take(MAX_FILES) {
                if e.file_type().is_ok_and(|t| t.is_file()) {
                    out.files.push(e.path());
                }
            }
        }
        return;
    }
    let Some(text) = named_files_text(path) else { return };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    for (name, relative) in names_in(&text) {
        walk(&name, relative.then_some(dir), depth + 1, out);
    }
}

/// The text of a VRT, job or STAC item (which name other files); None for anything else or a
/// file over [`MAX_TEXT`].
fn named_files_text(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > MAX_TEXT {
        return None;
    }
    let mut head = [0u8; 64];
    let n = file.read(&mut head).ok()?;
    let start = String::from_utf8_lossy(&head[..n]);
    let start = start.trim_start();
    if !(start.starts_with("<VRTDataset") || start.starts_with('{')) {
        return None;
    }
    let mut text = head[..n].to_vec();
    file.take(MAX_TEXT).read_to_end(&mut text).ok()?;
    String::from_utf8(text).ok()
}

/// Files a VRT, job or STAC item names, each with whether it is relative to the naming file's
/// folder.
fn names_in(text: &str) -> Vec<(String, bool)> {
    if text.trim_start().starts_with('<') {
        return vrt_names(text);
    }
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else { return Vec::new() };
    let mut names = Vec::new();
    let mut push = |v: Option<&serde_json::Value>| {
        if let Some(s) = v.and_then(serde_json::Value::as_str) {
            let local = s.strip_prefix("file://").unwrap_or(s);
            if !local.contains("://") {
                names.push((local.to_string(), true));
            }
        }
    };
    if value.get("terrapix_prediction").is_some() {
        push(value.get("model"));
        push(value.get("reference"));
        for c in value.get("covariates").and_then(serde_json::Value::as_array).into_iter().flatten() {
            push(Some(c));
        }
    } else if let Some(assets) = value.get("assets").and_then(serde_json::Value::as_object) {
        for asset in assets.values() {
            push(asset.get("href"));
        }
    }
    names
}

/// `<SourceFilename relativeToVRT="1">...</SourceFilename>` of every source of a VRT, and the
/// `model="..."` of terrapix pixel functions.
fn vrt_names(xml: &str) -> Vec<(String, bool)> {
    let mut names = Vec::new();
    let mut rest = xml;
    while let Some(at) = rest.find("<SourceFilename") {
        rest = &rest[at + "<SourceFilename".len()..];
        let Some(close) = rest.find('>') else { break };
        let attributes = &rest[..close];
        let relative = attribute(attributes, "relativeToVRT").is_some_and(|v| v.trim() == "1");
        rest = &rest[close + 1..];
        let Some(end) = rest.find("</SourceFilename>") else { break };
        names.push((unescape(rest[..end].trim()), relative));
        rest = &rest[end..];
    }
    let mut rest = xml;
    while let Some(at) = rest.find("<PixelFunctionArguments") {
        rest = &rest[at + 1..];
        let close = rest.find('>').unwrap_or(rest.len());
        if let Some(model) = attribute(&rest[..close], "model") {
            names.push((unescape(&model), true));
        }
    }
    names
}

/// The value of `name="..."` (or `'...'`) in an XML tag's attributes.
fn attribute(attributes: &str, name: &str) -> Option<String> {
    let mut rest = attributes;
    while let Some(at) = rest.find(name) {
        let before_ok = at == 0 || rest[..at].ends_with(|c: char| c.is_whitespace());
        let after = rest[at + name.len()..].trim_start();
        if let (true, Some(value)) = (before_ok, after.strip_prefix('=')) {
            let value = value.trim_start();
            let quote = value.chars().next()?;
            if quote == '"' || quote == '\'' {
                return value[1..].split_once(quote).map(|(v, _)| v.to_string());
            }
        }
        rest = &rest[at + name.len()..];
    }
    None
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path) -> PathBuf {
        std::fs::write(p, b"x").unwrap();
        p.canonicalize().unwrap()
    }

    fn has(b: &Behind, p: &Path) -> bool {
        b.files.iter().any(|f| f.canonicalize().ok().as_deref() == Some(p))
    }

    #[test]
    fn subdataset_archive_and_vrt_names_lead_to_their_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let nc = touch(&d.join("ok.nc"));
        let tif = touch(&d.join("cov.tif"));
        let zip = touch(&d.join("stack.zip"));
        let s = |p: &Path| p.display().to_string();
        for name in [
            format!("NETCDF:\"{}\":sm", s(&nc)),
            format!("NETCDF:{}:sm", s(&nc)),
            format!("HDF5:\"{}\"://Soil_Moisture_Retrieval_Data_AM/soil_moisture", s(&nc)),
        ] {
            assert!(has(&files_behind(Path::new(&name)), &nc), "{name}");
        }
        assert!(has(&files_behind(Path::new(&format!("GTIFF_DIR:2:{}", s(&tif)))), &tif));
        assert!(has(&files_behind(Path::new(&format!("/vsizip/{}/inner/b.tif", s(&zip)))), &zip));
        assert!(has(&files_behind(Path::new(&format!("/vsizip/{{{}}}/b.tif", s(&zip)))), &zip));
        assert!(has(&files_behind(Path::new(&format!("/vsisubfile/100_2000,{}", s(&tif)))), &tif));
        assert!(files_behind(Path::new("/vsimem/x.tif")).names == ["/vsimem/x.tif"]);
        // A VRT names its sources (relative to itself), and a VRT over that VRT names them too.
        std::fs::create_dir(d.join("sub")).unwrap();
        std::fs::write(
            d.join("sub/wrap.vrt"),
            "<VRTDataset><VRTRasterBand><SimpleSource><SourceFilename relativeToVRT=\"1\">../cov.tif</SourceFilename>\
             </SimpleSource><SimpleSource><SourceFilename relativeToVRT=\"0\">NETCDF:&quot;ok.nc&quot;:sm</SourceFilename>\
             </SimpleSource></VRTRasterBand></VRTDataset>",
        )
        .unwrap();
        std::fs::write(d.join("outer.vrt"), "<VRTDataset><SourceFilename relativeToVRT='1'>sub/wrap.vrt</SourceFilename></VRTDataset>")
            .unwrap();
        let b = files_behind(&d.join("outer.vrt"));
        assert!(has(&b, &tif), "{b:?}");
        // A job names its model and covariates; a STAC item its assets.
        std::fs::write(d.join("j.tpx"), r#"{"terrapix_prediction": 1, "model": "m.onnx", "covariates": ["cov.tif"]}"#).unwrap();
        let model = touch(&d.join("m.onnx"));
        let b = files_behind(&d.join("j.tpx"));
        assert!(has(&b, &model) && has(&b, &tif), "{b:?}");
        std::fs::write(d.join("item.json"), r#"{"assets": {"model": {"href": "m.onnx", "roles": ["mlm:model"]}}}"#).unwrap();
        assert!(has(&files_behind(&d.join("item.json")), &model));
        // A folder's own files.
        let samples = touch(&d.join("sub/samples.json"));
        assert!(has(&files_behind(&d.join("sub")), &samples));
        // A VRT naming itself ends.
        std::fs::write(d.join("loop.vrt"), "<VRTDataset><SourceFilename relativeToVRT=\"1\">loop.vrt</SourceFilename></VRTDataset>")
            .unwrap();
        assert_eq!(files_behind(&d.join("loop.vrt")).files.len(), 1);
    }
}
