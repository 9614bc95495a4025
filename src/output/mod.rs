//! Safe outputs: the one way terrapix writes a file or folder next to a user's data.
//!
//! - An output that is, or resolves to (links, `..`, hard links), one of the run's inputs, or
//!   a file an input reads (GDAL's subdataset and `/vsi` names, VRT and job sources, a STAC
//!   item's bundle, a folder's files: see [`sources`]), is refused before anything is written
//!   ([`refuse_inputs`]); so is a folder output that holds one of them.
//! - An existing file of another kind is never silently replaced ([`Kind`]).
//! - Everything is written under a hidden temporary name in the target's folder
//!   (`.NAME.tmp-PID-N.EXT`), flushed to disk, checked, and renamed into place only then
//!   ([`Staged`]); dropped unfinished, the temporary is removed.
//! - Temporaries of a run that died (its PID is gone) are removed by the next run writing the
//!   same target; a signal handler can remove the temporaries of the live run
//!   ([`remove_live_temporaries`]).

mod sources;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("refusing to write '{output}': it is the {role} '{input}' of this run (choose another output name)")]
    IsInput { output: PathBuf, role: String, input: PathBuf },
    #[error("refusing to write '{output}': the {role} '{input}' of this run reads '{file}' (choose another output name)")]
    ReadByInput { output: PathBuf, role: String, input: PathBuf, file: PathBuf },
    #[error("refusing to replace '{path}': it exists and is not {expected} (move it away or choose another output name)")]
    Foreign { path: PathBuf, expected: &'static str },
    #[error("refusing to write '{path}': it is a device, pipe or socket, not a file (choose a file name)")]
    Special { path: PathBuf },
    #[error("cannot write '{path}': folder '{dir}' does not exist")]
    NoFolder { path: PathBuf, dir: PathBuf },
    #[error("cannot write '{path}': {reason}")]
    Write { path: PathBuf, reason: String },
}

impl OutputError {
    pub fn write(path: &Path, reason: impl std::fmt::Display) -> OutputError {
        OutputError::Write { path: path.into(), reason: reason.to_string() }
    }
}

/// What an output is; an existing file at the target is replaced only if it is of this kind.
/// Hosts name it in lower case ("geotiff", "vrt", "samplesfolder", ...: see [`CheckRequest`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    GeoTiff,
    Png,
    Onnx,
    /// A VRT written by terrapix (a prediction, or terrapix pixel functions).
    Vrt,
    /// A terrapix prediction job (`.tpx`).
    Job,
    Json,
    /// A CSV table (text).
    Csv,
    /// Network weights written by libtorch (a zip archive), e.g. `terrapix pretrain`'s.
    Weights,
    /// A NetCDF file (netCDF-4 / HDF5, or classic).
    NetCdf,
    /// A folder written by `terrapix sample` (holds samples.json), or an empty one.
    SamplesFolder,
    /// A folder of several outputs (figures, a cube's GeoTIFFs, a synthetic data set), written
    /// whole ([`StagedFolder`]): it replaces an empty folder, or one terrapix wrote that holds
    /// nothing else.
    Folder,
}

impl Kind {
    fn expected(self) -> &'static str {
        match self {
            Kind::GeoTiff => "a TIFF file",
            Kind::Png => "a PNG image",
            Kind::Onnx => "an ONNX model",
            Kind::Vrt => "a VRT written by terrapix",
            Kind::Job => "a terrapix prediction job",
            Kind::Json => "a JSON file",
            Kind::Csv => "a CSV table",
            Kind::Weights => "network weights written by terrapix pretrain",
            Kind::NetCdf => "a NetCDF file",
            Kind::SamplesFolder => "an empty folder or a samples folder written by terrapix (with samples.json)",
            Kind::Folder => "an empty folder or one terrapix wrote that holds only what it wrote",
        }
    }

    /// Whether the existing `path` may be replaced by an output of this kind, told from its
    /// first bytes (never the whole file: a target may be huge, or endless like /dev/zero).
    fn accepts(self, path: &Path) -> bool {
        let head = |n: usize| -> Vec<u8> {
            use std::io::Read;
            let mut buf = Vec::with_capacity(n);
            let _ = std::fs::File::open(path).and_then(|f| f.take(n as u64).read_to_end(&mut buf));
            buf
        };
        let text = || String::from_utf8_lossy(&head(4096)).trim_start().to_string();
        let is_folder = matches!(self, Kind::SamplesFolder | Kind::Folder);
        if is_folder != path.is_dir() || (!is_folder && !path.is_file()) {
            return false; // devices, pipes, sockets and folders are never replaced by a file
        }
        match self {
            Kind::GeoTiff => {
                let h = head(4);
                h.len() == 4 && (h[..2] == *b"II" || h[..2] == *b"MM") && matches!((h[2], h[3]), (42, 0) | (0, 42) | (43, 0) | (0, 43))
            }
            Kind::Png => head(8) == b"\x89PNG\r\n\x1a\n",
            Kind::Onnx => is_onnx_file(path),
            Kind::Vrt => {
                let t = text();
                t.starts_with("<VRTDataset") && (t.contains("TERRAPIX_MODEL") || t.contains("<PixelFunctionType>terrapix_"))
            }
            Kind::Job => {
                let t = text();
                t.starts_with('{') && t.contains("\"terrapix_prediction\"")
            }
            Kind::NetCdf => {
                let h = head(8);
                h.starts_with(b"CDF\x01") || h.starts_with(b"CDF\x02") || h.starts_with(b"CDF\x05") || h.starts_with(b"\x89HDF\r\n\x1a\n")
            }
            Kind::Weights => head(4) == b"PK\x03\x04",
            Kind::Json => {
                let t = text();
                t.starts_with('{') || t.starts_with('[')
            }
            Kind::Csv => {
                let h = head(4096);
                !h.contains(&0) && String::from_utf8_lossy(&h).lines().next().is_some_and(|l| l.contains(','))
            }
            Kind::SamplesFolder => path.join("samples.json").is_file() || std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_none()),
            Kind::Folder => folder_is_replaceable(path),
        }
    }
}

/// The largest ONNX file protobuf can encode (larger models keep their weights as external data).
pub const MAX_ONNX_BYTES: u64 = (2 << 30) - 1;

/// Whether the regular file at `path` is an ONNX model, told from the headers of its top-level
/// protobuf fields alone (a few bytes each; their payloads are skipped, never read): every
/// field a `ModelProto` field of the right wire type, lengths that end exactly at the end of
/// the file, and a graph among them.
fn is_onnx_file(path: &Path) -> bool {
    use std::io::{BufReader, Read, Seek};
    fn varint(r: &mut impl Read) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let mut b = [0u8; 1];
            r.read_exact(&mut b).ok()?;
            v |= u64::from(b[0] & 0x7f) << shift;
            if b[0] & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    let Ok(file) = std::fs::File::open(path) else { return false };
    let Some(len) = file.metadata().ok().filter(|m| m.is_file() && m.len() <= MAX_ONNX_BYTES).map(|m| m.len()) else {
        return false;
    };
    let mut r = BufReader::with_capacity(256, file);
    let (mut at, mut graph) = (0u64, false);
    for _ in 0..1_000_000 {
        if at == len {
            return graph;
        }
        let Some(tag) = varint(&mut r) else { return false };
        let (field, wire) = (tag >> 3, tag & 7);
        // ir_version and model_version are varints; every other ModelProto field is a message
        // or string (producer, domain, doc, graph, opsets, metadata, training info, functions).
        let ok = match field {
            1 | 5 => wire == 0,
            2 | 3 | 4 | 6 | 7 | 8 | 14 | 20 | 25 | 26 => wire == 2,
            _ => false,
        };
        if !ok {
            return false;
        }
        if wire == 0 {
            if varint(&mut r).is_none() {
                return false;
            }
        } else {
            let Some(n) = varint(&mut r) else { return false };
            let Ok(pos) = r.stream_position() else { return false };
            if pos.checked_add(n).is_none_or(|end| end > len) || r.seek_relative(n as i64).is_err() {
                return false;
            }
            graph |= field == 7;
        }
        let Ok(pos) = r.stream_position() else { return false };
        at = pos;
    }
    false
}

/// The file in a folder terrapix wrote whole that lists what it wrote.
pub const FOLDER_MARK: &str = ".terrapix-output.json";

/// An empty folder, or one whose entries are all listed in its [`FOLDER_MARK`].
fn folder_is_replaceable(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    let names: Vec<String> = entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    if names.is_empty() {
        return true;
    }
    let listed: Vec<String> = std::fs::File::open(dir.join(FOLDER_MARK))
        .ok()
        .and_then(|f| {
            use std::io::Read;
            let mut text = String::new();
            f.take(1 << 20).read_to_string(&mut text).ok()?;
            serde_json::from_str::<serde_json::Value>(&text).ok()
        })
        .and_then(|v| v.get("files").and_then(|f| f.as_array()).map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect()))
        .unwrap_or_default();
    !listed.is_empty() && names.iter().all(|n| n == FOLDER_MARK || listed.contains(n))
}

/// The file-system identity of an existing path (device, inode), following links.
#[cfg(unix)]
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Elsewhere outputs are compared by resolved path only (see docs/platforms.md).
#[cfg(not(unix))]
fn identity(_: &Path) -> Option<(u64, u64)> {
    None
}

/// `path` made absolute with its folder resolved (the file itself need not exist).
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match (dir.canonicalize(), path.file_name()) {
        (Ok(d), Some(name)) => d.join(name),
        _ => std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
    }
}

/// Refuses `output` when it is, or resolves to, one of `inputs` (role, path) or a file one of
/// them reads (see [`sources`]): the same file through any link or name, or (for a folder
/// output) a folder holding one of them. GDAL's in-memory and remote files are compared by name.
pub fn refuse_inputs(output: &Path, folder_output: bool, inputs: &[(&str, &Path)]) -> Result<(), OutputError> {
    let out = resolved(output);
    let out_id = identity(output);
    let hits = |file: &Path| {
        let inp = resolved(file);
        inp == out || (out_id.is_some() && identity(file) == out_id) || (folder_output && inp.starts_with(&out))
    };
    for &(role, input) in inputs {
        let behind = sources::files_behind(input);
        let named = input == output || behind.names.iter().any(|n| Path::new(n) == output);
        // A name that is no path on disk (`NETCDF:"f.nc":sm`) is compared through its files.
        let as_path = !input.to_string_lossy().starts_with("/vsi") && (input.symlink_metadata().is_ok() || behind.files.is_empty());
        if named || (as_path && hits(input)) {
            return Err(OutputError::IsInput { output: output.into(), role: role.into(), input: input.into() });
        }
        if let Some(file) = behind.files.iter().find(|f| hits(f)) {
            return Err(OutputError::ReadByInput { output: output.into(), role: role.into(), input: input.into(), file: file.clone() });
        }
    }
    Ok(())
}

/// An output a host is about to write itself (QGIS's spectral index, a script), checked by the
/// same rule as terrapix's own: {"output", "kind" (optional: without it only the inputs and the
/// folder are checked), "inputs": [{"role", "path"}]}.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    pub output: PathBuf,
    #[serde(default)]
    pub kind: Option<Kind>,
    #[serde(default)]
    pub inputs: Vec<NamedInput>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedInput {
    pub role: String,
    pub path: PathBuf,
}

/// [`refuse_inputs`] then [`check_target`] (or, with no kind, that the folder exists).
pub fn check_output(request: &CheckRequest) -> Result<(), OutputError> {
    let folder = matches!(request.kind, Some(Kind::Folder | Kind::SamplesFolder));
    let inputs: Vec<(&str, &Path)> = request.inputs.iter().map(|i| (i.role.as_str(), i.path.as_path())).collect();
    refuse_inputs(&request.output, folder, &inputs)?;
    match request.kind {
        Some(kind) => check_target(&request.output, kind),
        None => check_folder(&request.output),
    }
}

/// The folder `path` would be written in exists.
fn check_folder(path: &Path) -> Result<(), OutputError> {
    let dir = folder_of(path);
    if !dir.is_dir() {
        return Err(OutputError::NoFolder { path: path.into(), dir: dir.into() });
    }
    Ok(())
}

/// Checks that `path` can be written as `kind`: its folder exists, and anything already there
/// is of the same kind.
pub fn check_target(path: &Path, kind: Kind) -> Result<(), OutputError> {
    check_folder(path)?;
    let exists = path.symlink_metadata().is_ok();
    if exists && std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        return Err(OutputError::Special { path: path.into() });
    }
    if exists && !kind.accepts(path) {
        return Err(OutputError::Foreign { path: path.into(), expected: kind.expected() });
    }
    Ok(())
}

fn folder_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Temporaries of this process that are not yet committed or removed.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Removes every temporary this process has open (for a signal handler, just before exiting).
/// Holds the registry's lock until the process exits, so no rename can race with it.
pub fn remove_live_temporaries_and_exit(code: i32) -> ! {
    let mut live = live();
    remove_all(&mut live);
    // _exit, not exit: the other threads are still inside GDAL, ONNX Runtime or libtorch, whose
    // exit-time destructors would run under them (and crash the process instead of ending it).
    // SAFETY: ends the process at once; nothing after it runs.
    unsafe { libc::_exit(code) }
}

/// Removes every temporary this process has open; returns how many.
pub fn remove_live_temporaries() -> usize {
    remove_all(&mut live())
}

fn remove_all(live: &mut Vec<PathBuf>) -> usize {
    live.iter().for_each(|p| remove_any(p));
    let n = live.len();
    live.clear();
    n
}

fn remove_any(p: &Path) {
    if p.is_dir() {
        let _ = std::fs::remove_dir_all(p);
    } else {
        let _ = std::fs::remove_file(p);
    }
}

const TMP_MARK: &str = ".tmp-";

/// A hidden temporary name beside `path`, unique to this process: `dir/.name.tmp-PID-N.ext`
/// (the extension kept so GDAL picks the driver).
pub fn temp_sibling(path: &Path) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let ext = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    path.with_file_name(format!(".{stem}{TMP_MARK}{}-{n}{ext}", std::process::id()))
}

/// Removes the temporaries that a dead run left for `path` (same name pattern, a PID that no
/// longer exists); returns what was removed.
pub fn remove_stale_temporaries(path: &Path) -> Vec<PathBuf> {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
    let prefix = format!(".{stem}{TMP_MARK}");
    let Ok(entries) = std::fs::read_dir(folder_of(path)) else { return Vec::new() };
    let mut removed = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&prefix) else { continue };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<i32>().ok()) else { continue };
        if pid > 0 && !process_alive(pid) {
            remove_any(&e.path());
            removed.push(e.path());
        }
    }
    removed
}

fn process_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 || *libc::__errno_location() == libc::EPERM }
}

/// An output being written under a temporary name beside its target. [`Staged::commit`]
/// flushes it to disk and renames it into place; dropped uncommitted, it is removed.
#[derive(Debug)]
pub struct Staged {
    tmp: PathBuf,
    target: PathBuf,
    done: bool,
}

impl Staged {
    /// Stages a file (or, with `Kind::SamplesFolder`, a folder) for `target` after checking the
    /// target's kind; removes temporaries of dead runs for the same target.
    pub fn new(target: &Path, kind: Kind) -> Result<Staged, OutputError> {
        check_target(target, kind)?;
        for stale in remove_stale_temporaries(target) {
            crate::util::warn(&format!("removed '{}', left by a run that did not finish", stale.display()));
        }
        let tmp = temp_sibling(target);
        live().push(tmp.clone());
        Ok(Staged { tmp, target: target.into(), done: false })
    }

    /// Where to write.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Writes `bytes` to the temporary file and commits it.
    pub fn write_all(target: &Path, kind: Kind, bytes: &[u8]) -> Result<(), OutputError> {
        let staged = Staged::new(target, kind)?;
        std::fs::write(staged.path(), bytes).map_err(|e| OutputError::write(target, e))?;
        staged.commit()
    }

    /// Flushes the temporary to disk and renames it over the target. A folder target that
    /// exists is replaced whole (the old one is removed only after the new one is in place).
    pub fn commit(mut self) -> Result<(), OutputError> {
        let err = |e: std::io::Error| OutputError::write(&self.target, e);
        sync_tree(&self.tmp).map_err(err)?;
        let mut live = live();
        if self.tmp.is_dir() && self.target.is_dir() {
            let old = temp_sibling(&self.target);
            std::fs::rename(&self.target, &old).map_err(err)?;
            if let Err(e) = std::fs::rename(&self.tmp, &self.target) {
                let _ = std::fs::rename(&old, &self.target);
                return Err(err(e));
            }
            let _ = std::fs::remove_dir_all(&old);
        } else {
            std::fs::rename(&self.tmp, &self.target).map_err(err)?;
        }
        live.retain(|p| *p != self.tmp);
        drop(live);
        self.done = true;
        // The rename itself reaches the disk with the folder's entry.
        let _ = std::fs::File::open(folder_of(&self.target)).and_then(|d| d.sync_all());
        Ok(())
    }
}

/// A folder of several files written whole: created under a temporary name beside its target,
/// filled, marked as terrapix's ([`FOLDER_MARK`], listing what it holds, so that a later run
/// may replace it and nothing else), and renamed into place by [`StagedFolder::commit`]. A
/// failure, a full disk or a signal before that leaves the previous folder as it was.
#[derive(Debug)]
pub struct StagedFolder {
    staged: Staged,
    what: String,
}

impl StagedFolder {
    /// Stages `target`; `what` says what the folder holds (for its marker).
    pub fn new(target: &Path, what: &str) -> Result<StagedFolder, OutputError> {
        let staged = Staged::new(target, Kind::Folder)?;
        std::fs::create_dir(staged.path()).map_err(|e| OutputError::write(target, e))?;
        Ok(StagedFolder { staged, what: what.into() })
    }

    /// Where to write the folder's files.
    pub fn path(&self) -> &Path {
        self.staged.path()
    }

    pub fn target(&self) -> &Path {
        self.staged.target()
    }

    /// Marks the folder and renames it into place (replacing the previous one whole).
    pub fn commit(self) -> Result<(), OutputError> {
        let target = self.staged.target().to_path_buf();
        let err = |e: std::io::Error| OutputError::write(&target, e);
        let mut files: Vec<String> =
            std::fs::read_dir(self.path()).map_err(err)?.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        files.sort();
        let mark = serde_json::json!({"written_by": format!("terrapix {}", crate::VERSION), "what": self.what, "files": files});
        std::fs::write(self.path().join(FOLDER_MARK), serde_json::to_string_pretty(&mark).unwrap_or_default()).map_err(err)?;
        self.staged.commit()
    }
}

/// fsync of a file, or of every file in a folder and the folder itself.
fn sync_tree(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        for e in std::fs::read_dir(path)?.flatten() {
            sync_tree(&e.path())?;
        }
    }
    std::fs::File::open(path)?.sync_all()
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.done {
            let mut live = live();
            remove_any(&self.tmp);
            live.retain(|p| *p != self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_that_resolves_to_an_input_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.tif");
        std::fs::write(&input, b"II*\0").unwrap();
        let link = dir.path().join("link.tif");
        std::os::unix::fs::symlink(&input, &link).unwrap();
        let hard = dir.path().join("hard.tif");
        std::fs::hard_link(&input, &hard).unwrap();
        let dotted = dir.path().join("sub/../in.tif");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for out in [&input, &link, &hard, &dotted] {
            let e = refuse_inputs(out, false, &[("covariate raster", &input)]).unwrap_err();
            assert!(e.to_string().contains("covariate raster"), "{e}");
        }
        assert!(refuse_inputs(&dir.path().join("out.tif"), false, &[("covariate raster", &input)]).is_ok());
        // A folder output that holds an input.
        assert!(refuse_inputs(dir.path(), true, &[("points", &input)]).is_err());
    }

    #[test]
    fn foreign_files_are_not_replaced_and_stale_temporaries_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("map.tif");
        std::fs::write(&target, b"not a tiff").unwrap();
        assert!(matches!(Staged::new(&target, Kind::GeoTiff), Err(OutputError::Foreign { .. })));
        std::fs::remove_file(&target).unwrap();
        // A temporary of a PID that cannot exist (beyond pid_max).
        let stale = dir.path().join(".map.tmp-2147483646-0.tif");
        std::fs::write(&stale, b"half").unwrap();
        let staged = Staged::new(&target, Kind::GeoTiff).unwrap();
        assert!(!stale.exists());
        std::fs::write(staged.path(), b"II*\0data").unwrap();
        let tmp = staged.path().to_path_buf();
        staged.commit().unwrap();
        assert!(!tmp.exists());
        assert_eq!(std::fs::read(&target).unwrap(), b"II*\0data");
        // Dropped uncommitted: nothing left, the old file untouched.
        let staged = Staged::new(&target, Kind::GeoTiff).unwrap();
        std::fs::write(staged.path(), b"II*\0new").unwrap();
        drop(staged);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert_eq!(std::fs::read(&target).unwrap(), b"II*\0data");
    }
}
