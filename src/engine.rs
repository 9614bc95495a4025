//! ONNX Runtime: locating and loading the shared library (ort, load-dynamic), sessions, and
//! the check of a manifest against the graph's real inputs and outputs. Tree bundles whose
//! graph [`crate::native`] can run take that path instead (no ONNX Runtime session at all).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use ort::environment::Environment;
use ort::session::{builder::GraphOptimizationLevel, Session, SessionInputValue};
use ort::value::{TensorElementType, TensorRef, ValueType};

use crate::bundle::{Bundle, BundleError, Manifest};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(
        "ONNX Runtime was not found. Set TERRAPIX_ORT_LIB to libonnxruntime.so (it ships in the PyPI wheel: \
         pip install onnxruntime==1.31.1, file onnxruntime/capi/libonnxruntime.so.1.31.1). Looked at: {0}"
    )]
    RuntimeNotFound(String),
    #[error("cannot load ONNX Runtime from '{path}': {reason}")]
    RuntimeLoad { path: PathBuf, reason: String },
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error("ONNX Runtime cannot load model '{path}': {reason}")]
    Session { path: PathBuf, reason: String },
    #[error("model '{path}': manifest and graph disagree: {detail}")]
    Mismatch { path: PathBuf, detail: String },
    #[error("inference failed: {0}")]
    Run(String),
    /// A bundle being written that ONNX Runtime refuses (the message names the output).
    #[error("{0}")]
    Refused(String),
}

/// Runtime settings.
#[derive(Clone, Debug, Default)]
pub struct EngineOptions {
    /// Sessions in the pool: how many inferences run at once (0 = one per core).
    pub sessions: usize,
    /// ONNX Runtime threads inside each session (0 = 1). On a few cores, several one-thread
    /// sessions fed by different tiles beat one session whose threads wait on each other.
    pub intra_threads: usize,
    /// Explicit path to libonnxruntime.so; otherwise it is looked up (see [`ort_library`]).
    pub ort_library: Option<PathBuf>,
    /// Run tree bundles on ONNX Runtime even where the native engine could (as
    /// TERRAPIX_NATIVE=0 does for a whole process): tests and benchmarks compare the two.
    pub onnx_runtime_only: bool,
}

static ENVIRONMENT: OnceLock<Result<(Environment, PathBuf), EngineError>> = OnceLock::new();

/// The process-wide ONNX Runtime environment, loaded on first use. The library can only be
/// loaded once per process; later calls return the first outcome.
pub fn environment(options: &EngineOptions) -> Result<&'static Environment, EngineError> {
    let result = ENVIRONMENT.get_or_init(|| {
        let path = match &options.ort_library {
            Some(p) => p.clone(),
            None => ort_library()?,
        };
        let load_err = |reason: String| EngineError::RuntimeLoad { path: path.clone(), reason };
        let builder = ort::init_from(&path).map_err(|e| load_err(e.to_string()))?;
        // ONNX Runtime's own log would go to the host's stderr (a GDAL tool's, QGIS's): keep
        // its warnings and errors instead; the errors reach the caller through the failed call.
        let logger: ort::logging::LoggerFunction = std::sync::Arc::new(|level, _category, _id, _location, message| {
            if matches!(level, ort::logging::LogLevel::Warning | ort::logging::LogLevel::Error | ort::logging::LogLevel::Fatal) {
                remember_runtime_message(message);
            }
        });
        let env = builder.with_name("terrapix").with_logger(logger).build().map_err(|e| load_err(e.to_string()))?;
        env.set_log_level(ort::logging::LogLevel::Warning);
        Ok((env, path))
    });
    match result {
        Ok((env, _)) => Ok(env),
        Err(e) => Err(clone_error(e)),
    }
}

/// ONNX Runtime's latest warnings and errors (its log, kept off the host's stderr).
static RUNTIME_LOG: Mutex<std::collections::VecDeque<String>> = Mutex::new(std::collections::VecDeque::new());

fn remember_runtime_message(message: &str) {
    let mut log = RUNTIME_LOG.lock().unwrap_or_else(|p| p.into_inner());
    if log.len() == 16 {
        log.pop_front();
    }
    log.push_back(message.to_string());
}

/// ONNX Runtime's latest logged warnings and errors, oldest first (at most 16).
pub fn runtime_log() -> Vec<String> {
    RUNTIME_LOG.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect()
}

/// Path of the ONNX Runtime library in use, once loaded.
pub fn loaded_library() -> Option<&'static Path> {
    ENVIRONMENT.get().and_then(|r| r.as_ref().ok()).map(|(_, p)| p.as_path())
}

fn clone_error(e: &EngineError) -> EngineError {
    match e {
        EngineError::RuntimeNotFound(s) => EngineError::RuntimeNotFound(s.clone()),
        EngineError::RuntimeLoad { path, reason } => EngineError::RuntimeLoad { path: path.clone(), reason: reason.clone() },
        other => EngineError::Run(other.to_string()),
    }
}

/// Finds libonnxruntime: `TERRAPIX_ORT_LIB`, then `ORT_DYLIB_PATH`, then a `.venv` beside or
/// above the executable or the working directory, then beside libterrapix itself (the QGIS
/// plugin's zip ships it there). It never starts a process: this runs inside GDAL hosts. (The
/// command line also asks `python3` for its onnxruntime package, see [`ort_library_of_python`].)
pub fn ort_library() -> Result<PathBuf, EngineError> {
    let mut looked = Vec::new();
    for var in ["TERRAPIX_ORT_LIB", "ORT_DYLIB_PATH"] {
        if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            let p = PathBuf::from(v);
            if p.is_file() {
                return Ok(p);
            }
            return Err(EngineError::RuntimeNotFound(format!("{var}={} (no such file)", p.display())));
        }
        looked.push(format!("${var} (unset)"));
    }
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(exe.ancestors().skip(1).map(Path::to_path_buf));
    }
    if let Ok(cwd) = std::env::current_dir() {
        roots.extend(cwd.ancestors().map(Path::to_path_buf));
    }
    for root in roots {
        let lib = root.join(".venv/lib");
        if let Some(p) = find_in_site_packages(&lib) {
            return Ok(p);
        }
    }
    looked.push(".venv/ beside or above the executable and working directory".into());
    if let Some(dir) = this_library_dir() {
        if let Some(p) = newest_lib(&dir) {
            return Ok(p);
        }
        looked.push(format!("{} (beside libterrapix)", dir.display()));
    }
    Err(EngineError::RuntimeNotFound(looked.join("; ")))
}

/// The folder of the shared object (or executable) this code was loaded from.
fn this_library_dir() -> Option<PathBuf> {
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr fills `info` for an address inside a loaded object; the name it returns is
    // a NUL-terminated string owned by the loader.
    let found = unsafe { libc::dladdr(this_library_dir as *const libc::c_void, &mut info) } != 0;
    if !found || info.dli_fname.is_null() {
        return None;
    }
    let name = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) }.to_string_lossy().into_owned();
    Path::new(&name).canonicalize().ok()?.parent().map(Path::to_path_buf)
}

/// libonnxruntime from the `onnxruntime` package of a Python interpreter (`TERRAPIX_PYTHON`,
/// else `python3`, else `/usr/bin/python3`). It starts a process: for the command line only.
pub fn ort_library_of_python() -> Option<PathBuf> {
    let pythons = std::env::var("TERRAPIX_PYTHON").map(|p| vec![p]).unwrap_or_else(|_| vec!["python3".into(), "/usr/bin/python3".into()]);
    pythons.iter().find_map(|py| {
        let out = std::process::Command::new(py)
            .args(["-c", "import onnxruntime, os; print(os.path.dirname(onnxruntime.__file__))"])
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        newest_lib(&PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("capi"))
    })
}

fn find_in_site_packages(lib: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(lib).ok()?;
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("python"))
        .find_map(|e| newest_lib(&e.path().join("site-packages/onnxruntime/capi")))
}

/// ONNX Runtime's library as its wheel names it on this system: libonnxruntime.so.1.31.1 (Linux),
/// libonnxruntime.1.31.1.dylib (macOS), onnxruntime.dll (Windows).
fn is_ort_file_name(name: &str) -> bool {
    let (prefix, suffix) = (std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
    name.strip_prefix(prefix).and_then(|n| n.strip_prefix("onnxruntime")).is_some_and(|rest| rest.starts_with('.') && rest.contains(suffix))
}

#[test]
fn ort_file_names() {
    assert!(is_ort_file_name(&format!("{}onnxruntime{}.1.31.1", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX)));
    assert!(!is_ort_file_name(&format!("{}onnxruntime_providers_shared{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX)));
}

fn newest_lib(dir: &Path) -> Option<PathBuf> {
    let mut libs: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| is_ort_file_name(&n.to_string_lossy())))
        .collect();
    libs.sort();
    libs.pop()
}

/// One graph tensor as the runtime reports it: name, element type, dims (-1 = dynamic).
#[derive(Clone, Debug)]
pub struct TensorSig {
    pub name: String,
    pub elem: String,
    pub dims: Vec<i64>,
}

impl std::fmt::Display for TensorSig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dims: Vec<String> = self.dims.iter().map(|d| if *d < 0 { "N".into() } else { d.to_string() }).collect();
        write!(f, "{} {}[{}]", self.name, self.elem, dims.join(", "))
    }
}

/// A loaded bundle: its manifest and what runs its graph (ONNX Runtime sessions, or the native
/// tree engine), checked against it.
pub struct Model {
    pub path: PathBuf,
    pub manifest: Manifest,
    pub inputs: Vec<TensorSig>,
    pub outputs: Vec<TensorSig>,
    /// Fixed batch size, when the graph's batch dimension is not dynamic.
    pub fixed_batch: Option<usize>,
    /// Why a tree bundle runs on ONNX Runtime rather than natively (None: native, or no trees).
    pub native_refusal: Option<String>,
    sessions: Vec<Mutex<Session>>,
    native: Option<crate::native::Graph>,
    /// Batches the native engine may run at once (the threads asked for).
    native_workers: usize,
    next: std::sync::atomic::AtomicUsize,
}

/// Set TERRAPIX_NATIVE=0 to run tree bundles on ONNX Runtime (benchmarks compare the two).
fn native_allowed() -> bool {
    std::env::var("TERRAPIX_NATIVE").map_or(true, |v| v != "0")
}

/// The graph's declared inputs (initializers excluded) and outputs, as ONNX Runtime reports them.
fn graph_sigs(model: &crate::bundle::onnx::ModelProto) -> (Vec<TensorSig>, Vec<TensorSig>) {
    use crate::bundle::onnx::{tensor_shape_proto::dimension::Value as Dim, type_proto::Value, ValueInfoProto};
    let Some(g) = &model.graph else { return (vec![], vec![]) };
    let sig = |v: &ValueInfoProto| {
        let (elem, dims) = match v.r#type.as_ref().and_then(|t| t.value.as_ref()) {
            Some(Value::TensorType(t)) => (
                match t.elem_type.unwrap_or(0) {
                    1 => "float32".to_string(),
                    7 => "int64".into(),
                    11 => "float64".into(),
                    9 => "bool".into(),
                    other => format!("type {other}"),
                },
                t.shape
                    .as_ref()
                    .map(|s| {
                        s.dim
                            .iter()
                            .map(|d| match &d.value {
                                Some(Dim::DimValue(v)) => *v,
                                _ => -1,
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            _ => ("not a tensor".into(), vec![]),
        };
        TensorSig { name: v.name.clone().unwrap_or_default(), elem, dims }
    };
    let constants: std::collections::HashSet<&str> = g.initializer.iter().filter_map(|t| t.name.as_deref()).collect();
    let inputs = g.input.iter().filter(|v| !v.name.as_deref().is_some_and(|n| constants.contains(n))).map(sig).collect();
    (inputs, g.output.iter().map(sig).collect())
}

impl Model {
    /// Opens the bundle at `path` (or the one a STAC MLM item at `path` points to).
    pub fn open(path: &Path, options: &EngineOptions) -> Result<Model, EngineError> {
        let path = crate::bundle::stac::resolve(path)?;
        Self::from_bundle(&path, &Bundle::read(&path)?, options)
    }

    /// Opens the ONNX graph at `path`, which holds `bundle` (already read by the caller).
    pub fn from_bundle(path: &Path, bundle: &Bundle, options: &EngineOptions) -> Result<Model, EngineError> {
        let manifest = bundle.require_manifest(path)?.clone();
        let trees = bundle.has_tree_ensemble();
        let serr = |e: String| EngineError::Session { path: path.into(), reason: e };
        let mut count = clamp_threads(if options.sessions > 0 { options.sessions } else { default_parallelism() }, "sessions");
        let mut threads = clamp_threads(options.intra_threads.max(1), "ONNX Runtime threads per session");
        if trees {
            // A tree ensemble's nodes can take gigabytes: one session, its threads splitting the
            // rows of each batch, instead of one copy of the trees per session.
            (threads, count) = (clamp_threads(count * threads, "ONNX Runtime threads"), 1);
        }
        let mut native_refusal = None;
        if trees {
            // Checked before ONNX Runtime builds the trees (recursively): depth, cycles, indices.
            crate::bundle::ml_trees::ensembles(&bundle.model).map_err(serr)?;
            let compiled = if options.onnx_runtime_only {
                Err("asked for ONNX Runtime".to_string())
            } else if !native_allowed() {
                Err("TERRAPIX_NATIVE=0".to_string())
            } else {
                crate::native::Graph::compile(&bundle.model)
            };
            match compiled {
                Ok(graph) => {
                    let (inputs, outputs) = graph_sigs(&bundle.model);
                    let fixed_batch = check_signature(&manifest, &inputs, &outputs)
                        .map_err(|detail| EngineError::Mismatch { path: path.into(), detail })?;
                    return Ok(Model {
                        path: path.into(),
                        manifest,
                        inputs,
                        outputs,
                        fixed_batch,
                        native_refusal: None,
                        sessions: Vec::new(),
                        native: Some(graph),
                        native_workers: threads,
                        next: Default::default(),
                    });
                }
                Err(why) => native_refusal = Some(why),
            }
        }
        let env = environment(options)?;
        let first = build_session(env, path, threads).map_err(serr)?;
        let sig = |outlets: &[ort::value::Outlet]| outlets.iter().map(tensor_sig).collect::<Vec<_>>();
        let inputs = sig(first.inputs());
        let outputs = sig(first.outputs());
        let fixed_batch =
            check_signature(&manifest, &inputs, &outputs).map_err(|detail| EngineError::Mismatch { path: path.into(), detail })?;
        let mut sessions = vec![Mutex::new(first)];
        for _ in 1..count {
            sessions.push(Mutex::new(build_session(env, path, threads).map_err(serr)?));
        }
        Ok(Model {
            path: path.into(),
            manifest,
            inputs,
            outputs,
            fixed_batch,
            native_refusal,
            sessions,
            native: None,
            native_workers: 0,
            next: Default::default(),
        })
    }

    /// Runs the graph on `n` samples. `inputs[i]` is the flat data of manifest input i (shape
    /// `[n, layout shape...]`). Returns one vector of `n` values per manifest output band.
    pub fn run(&self, n: usize, inputs: &[Vec<f32>]) -> Result<Vec<Vec<f32>>, EngineError> {
        self.run_only(n, inputs, None)
    }

    /// [`Model::run`] computing only the manifest outputs `only` (None: all); the bands of the
    /// others come back empty. The native engine skips what they alone need; ONNX Runtime
    /// computes its whole graph.
    pub fn run_only(&self, n: usize, inputs: &[Vec<f32>], only: Option<&[usize]>) -> Result<Vec<Vec<f32>>, EngineError> {
        if let Some(graph) = &self.native {
            return self.run_native(graph, n, inputs, only);
        }
        let run_err = |e: ort::Error| EngineError::Run(e.to_string());
        let mut feeds: Vec<(std::borrow::Cow<'_, str>, SessionInputValue<'_>)> = Vec::new();
        for (spec, data) in self.manifest.inputs.iter().zip(inputs) {
            let mut shape = vec![n];
            shape.extend(spec.layout.shape(spec.channels.len()));
            debug_assert_eq!(shape.iter().product::<usize>(), data.len());
            let tensor = TensorRef::from_array_view((shape, data.as_slice())).map_err(run_err)?;
            feeds.push((spec.name.as_str().into(), tensor.into()));
        }
        let mut session = self.session();
        let outputs = session.run(feeds).map_err(run_err)?;
        let mut bands = Vec::with_capacity(self.manifest.outputs.len());
        for band in &self.manifest.outputs {
            let value = outputs
                .get(band.graph_output.as_str())
                .ok_or_else(|| EngineError::Run(format!("graph output '{}' missing from the results", band.graph_output)))?;
            let (shape, data) = value.try_extract_tensor::<f32>().map_err(run_err)?;
            let cols = if shape.len() >= 2 { shape[1..].iter().product::<i64>() as usize } else { 1 };
            if data.len() != n * cols || band.index >= cols {
                return Err(EngineError::Run(format!(
                    "graph output '{}' has shape {shape:?}, expected {n} rows with column {}",
                    band.graph_output, band.index
                )));
            }
            bands.push((0..n).map(|i| data[i * cols + band.index]).collect());
        }
        Ok(bands)
    }
}

impl Model {
    /// What runs the graph, for `terrapix info`.
    pub fn runtime(&self) -> String {
        match (&self.native, &self.native_refusal) {
            (Some(_), _) => "terrapix's native tree engine".into(),
            (None, Some(why)) => format!("ONNX Runtime (not natively: {why})"),
            (None, None) => "ONNX Runtime".into(),
        }
    }

    fn run_native(
        &self,
        graph: &crate::native::Graph,
        n: usize,
        inputs: &[Vec<f32>],
        only: Option<&[usize]>,
    ) -> Result<Vec<Vec<f32>>, EngineError> {
        let feeds = self
            .manifest
            .inputs
            .iter()
            .zip(inputs)
            .map(|(spec, data)| {
                let mut shape = vec![n];
                shape.extend(spec.layout.shape(spec.channels.len()));
                (spec.name.clone(), crate::native::Tensor::f32(shape, data.clone()))
            })
            .collect();
        let kept = |k: usize| only.is_none_or(|o| o.contains(&k));
        let mut wanted: Vec<&str> = Vec::new();
        for (k, band) in self.manifest.outputs.iter().enumerate() {
            if kept(k) && !wanted.contains(&band.graph_output.as_str()) {
                wanted.push(&band.graph_output);
            }
        }
        let values = graph.run(feeds, &wanted).map_err(EngineError::Run)?;
        let mut bands = Vec::with_capacity(self.manifest.outputs.len());
        for (k, band) in self.manifest.outputs.iter().enumerate() {
            if !kept(k) {
                bands.push(Vec::new());
                continue;
            }
            let t = &values[wanted.iter().position(|w| *w == band.graph_output).expect("wanted")];
            let data = t.floats().map_err(EngineError::Run)?;
            let cols = if t.shape.len() >= 2 { t.shape[1..].iter().product::<usize>() } else { 1 };
            if data.len() != n * cols || band.index >= cols {
                return Err(EngineError::Run(format!(
                    "graph output '{}' has shape {:?}, expected {n} rows with column {}",
                    band.graph_output, t.shape, band.index
                )));
            }
            bands.push((0..n).map(|i| data[i * cols + band.index]).collect());
        }
        Ok(bands)
    }

    /// How many inferences can run at once: the sessions in the pool, or for the native engine
    /// the threads asked for (each batch then runs on the thread that asked for it).
    pub fn parallelism(&self) -> usize {
        if self.native.is_some() {
            self.native_workers.max(1)
        } else {
            self.sessions.len().max(1)
        }
    }

    /// A free session from the pool, or (all busy) the next one in turn, waited for.
    fn session(&self) -> std::sync::MutexGuard<'_, Session> {
        for s in &self.sessions {
            if let Ok(guard) = s.try_lock() {
                return guard;
            }
        }
        let k = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.sessions.len();
        // A poisoned session only means another thread panicked mid-run; the session is intact.
        self.sessions[k].lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The most threads (sessions, workers, ONNX Runtime threads) terrapix starts for one job:
/// more than a few per core only costs memory and switching.
pub fn max_threads() -> usize {
    (4 * default_parallelism()).clamp(16, 256)
}

/// `requested` clamped to [`max_threads`], with a warning when it was higher.
pub fn clamp_threads(requested: usize, what: &str) -> usize {
    let max = max_threads();
    if requested > max {
        crate::util::warn(&format!("{what} {requested} is more than this machine can use; using {max}"));
        return max;
    }
    requested
}

/// The largest fixed batch dimension a graph may declare (terrapix allocates a batch of inputs).
pub const MAX_FIXED_BATCH: usize = 1 << 16;

/// The most bytes of input tensors terrapix assembles for one inference call: a graph's fixed
/// batch, or one sample of a huge window, above it is refused when the model is opened.
pub const MAX_BATCH_BYTES: usize = 1 << 30;

/// Models loaded in this process, shared by every GDAL dataset and pixel function that names them
/// (one session pool per model file version), at most [`MAX_MODELS`] at a time.
static MODELS: Mutex<Vec<(PathBuf, std::time::SystemTime, Arc<Model>)>> = Mutex::new(Vec::new());
const MAX_MODELS: usize = 8;

pub fn shared_model(path: &Path, options: &EngineOptions) -> Result<Arc<Model>, EngineError> {
    let canonical = path.canonicalize().map_err(|source| EngineError::Bundle(BundleError::Read { path: path.into(), source }))?;
    let modified = std::fs::metadata(&canonical).and_then(|m| m.modified()).unwrap_or(std::time::SystemTime::UNIX_EPOCH);
    let mut models = MODELS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(i) = models.iter().position(|(p, t, _)| *p == canonical && *t == modified) {
        let entry = models.remove(i);
        let model = entry.2.clone();
        models.push(entry); // most recently used last
        return Ok(model);
    }
    let model = Arc::new(Model::open(&canonical, options)?);
    models.retain(|(p, _, _)| *p != canonical);
    if models.len() >= MAX_MODELS {
        models.remove(0);
    }
    models.push((canonical, modified, model.clone()));
    Ok(model)
}

/// Cores available to this process.
pub fn default_parallelism() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Stack of the thread that builds sessions: ONNX Runtime builds each tree of a tree ensemble
/// recursively (about 700 bytes a level), so a tree of [`crate::bundle::ml_trees::MAX_TREE_DEPTH`]
/// levels needs more than the 2 MiB of a Rust thread or whatever a host's thread has.
const SESSION_STACK: usize = 64 << 20;

fn build_session(env: &Environment, path: &Path, threads: usize) -> Result<Session, String> {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("terrapix-session".into())
            .stack_size(SESSION_STACK)
            .spawn_scoped(s, || build_session_here(env, path, threads))
            .map_err(|e| format!("cannot start a thread to load the model: {e}"))?
            .join()
            .unwrap_or_else(|_| Err("ONNX Runtime failed while loading the model".into()))
    })
}

fn build_session_here(env: &Environment, path: &Path, threads: usize) -> Result<Session, String> {
    let e = |e: ort::Error<ort::session::builder::SessionBuilder>| e.to_string();
    Session::builder(env)
        .map_err(|e| e.to_string())?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(e)?
        .with_intra_threads(threads)
        .map_err(e)?
        .with_inter_threads(1)
        .map_err(e)?
        // Other work (reading, other sessions) shares the cores: idle ORT threads must not spin.
        .with_intra_op_spinning(false)
        .map_err(e)?
        .commit_from_file(path)
        .map_err(|e| e.to_string())
}

fn tensor_sig(o: &ort::value::Outlet) -> TensorSig {
    match o.dtype() {
        ValueType::Tensor { ty, shape, .. } => TensorSig { name: o.name().into(), elem: elem_name(*ty), dims: shape.to_vec() },
        other => TensorSig { name: o.name().into(), elem: format!("{other:?}"), dims: vec![] },
    }
}

fn elem_name(t: TensorElementType) -> String {
    match t {
        TensorElementType::Float32 => "float32".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// Checks the manifest against the graph's inputs and outputs. Returns the graph's fixed batch
/// size if it has one; the error text names both sides.
pub fn check_signature(m: &Manifest, inputs: &[TensorSig], outputs: &[TensorSig]) -> Result<Option<usize>, String> {
    let mut fixed_batch: Option<usize> = None;
    for g in inputs {
        if !m.inputs.iter().any(|i| i.name == g.name) {
            let listed: Vec<&str> = m.inputs.iter().map(|i| i.name.as_str()).collect();
            return Err(format!("graph input '{g}' is not described by the manifest (manifest inputs: {listed:?})"));
        }
    }
    for spec in &m.inputs {
        let Some(g) = inputs.iter().find(|g| g.name == spec.name) else {
            let names: Vec<String> = inputs.iter().map(|g| g.to_string()).collect();
            return Err(format!("manifest input '{}' is not a graph input (graph inputs: {})", spec.name, names.join(", ")));
        };
        let want = spec.layout.shape(spec.channels.len());
        let want_txt = format!(
            "[N, {}] ({} of {} channels)",
            want.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "),
            spec.layout.describe(),
            spec.channels.len()
        );
        if g.elem != "float32" {
            return Err(format!("input '{}': manifest expects float32 {want_txt}, graph has {g}", spec.name));
        }
        let shape_ok = g.dims.len() == want.len() + 1 && g.dims[1..].iter().zip(&want).all(|(gd, wd)| *gd < 0 || *gd as usize == *wd);
        if !shape_ok {
            return Err(format!("input '{}': manifest says {want_txt}, graph has {g}", spec.name));
        }
        if let Some(&b) = g.dims.first().filter(|b| **b > 0) {
            if b as usize > MAX_FIXED_BATCH {
                return Err(format!("input {g}: a fixed batch of {b} is larger than terrapix supports ({MAX_FIXED_BATCH}); export the graph with a dynamic batch"));
            }
            fixed_batch = Some(fixed_batch.map_or(b as usize, |f| f.min(b as usize)));
        }
    }
    // Sizes are checked before anything is allocated: a batch (or one sample) of the inputs.
    let sample_bytes = m.inputs.iter().fold(0usize, |acc, spec| {
        let values = spec.layout.shape(spec.channels.len()).iter().fold(1usize, |a, d| a.saturating_mul(*d));
        acc.saturating_add(values.saturating_mul(4))
    });
    let batch_bytes = sample_bytes.saturating_mul(fixed_batch.unwrap_or(1));
    if batch_bytes > MAX_BATCH_BYTES {
        let what = match fixed_batch {
            Some(b) => format!("its fixed batch of {b} samples of {sample_bytes} bytes"),
            None => format!("one sample of its inputs ({sample_bytes} bytes)"),
        };
        return Err(format!(
            "{what} needs {:.1} GiB, more than terrapix allocates for one inference call ({} GiB); {}",
            batch_bytes as f64 / (1u64 << 30) as f64,
            MAX_BATCH_BYTES >> 30,
            if fixed_batch.is_some() { "export the graph with a dynamic batch" } else { "use a smaller window or fewer channels" }
        ));
    }
    for band in &m.outputs {
        let Some(g) = outputs.iter().find(|g| g.name == band.graph_output) else {
            let names: Vec<String> = outputs.iter().map(|g| g.to_string()).collect();
            return Err(format!(
                "output band '{}' reads graph output '{}', which the graph lacks (graph outputs: {})",
                band.name,
                band.graph_output,
                names.join(", ")
            ));
        };
        if g.elem != "float32" {
            return Err(format!("output band '{}': graph output {g} is not float32", band.name));
        }
        let cols: i64 = if g.dims.len() >= 2 { g.dims[1..].iter().product() } else { 1 };
        let per_sample_ok = g.dims.len() <= 1 || g.dims[1..].iter().all(|d| *d > 0);
        if !per_sample_ok || g.dims.is_empty() || (cols > 0 && band.index as i64 >= cols) {
            return Err(format!(
                "output band '{}' takes column {} of graph output {g}; expected shape [N] or [N, K] with K > {}",
                band.name, band.index, band.index
            ));
        }
    }
    Ok(fixed_batch)
}

/// Writes `bundle` to `output` and opens it with ONNX Runtime before renaming it into place, so
/// a manifest that does not match the graph is refused before anyone gets the file; `inputs`
/// (role, path) are the files it must not replace.
pub fn write_checked(bundle: &Bundle, output: &Path, inputs: &[(&str, &Path)], options: &EngineOptions) -> Result<(), EngineError> {
    let out = |e: crate::output::OutputError| EngineError::Bundle(BundleError::Output(e.to_string()));
    crate::output::refuse_inputs(output, false, inputs).map_err(out)?;
    let staged = bundle.write_staged(output)?;
    if let Err(e) = Model::from_bundle(staged.path(), bundle, options) {
        // The temporary's name means nothing to the user: the message names the output.
        return Err(EngineError::Refused(e.to_string().replace(&staged.path().display().to_string(), &output.display().to_string())));
    }
    staged.commit().map_err(out)
}
