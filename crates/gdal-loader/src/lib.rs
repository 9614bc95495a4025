//! `gdal_terrapix.so`, the file GDAL loads from `GDAL_DRIVER_PATH`: a loader that links no GDAL.
//!
//! terrapix's GDAL driver is C++ (`crates/capi/src/gdal_plugin/driver.cpp`) and GDAL's C++ ABI
//! changes with every minor version (3.6 is `libgdal.so.32`, 3.10 `libgdal.so.36`), so one
//! libterrapix is built per GDAL minor version and shipped beside this loader as
//! `libterrapix-gdalX.Y.so`. When GDAL calls [`GDALRegister_terrapix`], the loader finds the GDAL
//! already in the process, asks it its version, and loads the matching library (whose
//! `tpx_gdal_register` registers the pixel functions and the driver). A GDAL with no matching
//! library gets one warning in its own log naming both versions; nothing is loaded that could
//! fail on an undefined symbol.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::{Path, PathBuf};

/// The name of the library built for GDAL `minor` (e.g. "3.10").
pub fn library_name(minor: &str) -> String {
    format!("libterrapix-gdal{minor}.so")
}

/// "3.10" of "3.10.3" (or of "3.10.3dev").
fn minor_of(release: &str) -> String {
    release.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// A handle on the GDAL library already loaded in this process (the one that is loading us),
/// found among the loaded objects by name, never loading one itself.
fn loaded_gdal() -> Option<*mut c_void> {
    // Fast path: GDAL's symbols are global (gdal_translate, QGIS link it directly).
    // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name.
    if !unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"GDALVersionInfo".as_ptr()) }.is_null() {
        return Some(libc::RTLD_DEFAULT);
    }
    // Loaded with RTLD_LOCAL (Python's osgeo): find libgdal.so.N among the loaded objects.
    unsafe extern "C" fn visit(info: *mut libc::dl_phdr_info, _: libc::size_t, data: *mut c_void) -> c_int {
        // SAFETY: the loader passes a valid info; data is our Option<CString>.
        let (info, found) = unsafe { (&*info, &mut *(data as *mut Option<CString>)) };
        if info.dlpi_name.is_null() {
            return 0;
        }
        // SAFETY: dlpi_name is a NUL-terminated path.
        let name = unsafe { CStr::from_ptr(info.dlpi_name) };
        let file = Path::new(name.to_str().unwrap_or("")).file_name().and_then(|f| f.to_str()).unwrap_or("");
        if file.starts_with("libgdal.so") {
            *found = Some(name.to_owned());
            return 1;
        }
        0
    }
    let mut found: Option<CString> = None;
    // SAFETY: the callback only reads what the loader gives it and writes `found`.
    unsafe { libc::dl_iterate_phdr(Some(visit), &mut found as *mut _ as *mut c_void) };
    let path = found?;
    // SAFETY: RTLD_NOLOAD only returns a handle on an object already loaded.
    let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD) };
    (!handle.is_null()).then_some(handle)
}

type VersionInfo = unsafe extern "C" fn(*const c_char) -> *const c_char;
type CplError = unsafe extern "C" fn(c_int, c_int, *const c_char, ...);

fn symbol(handle: *mut c_void, name: &CStr) -> Option<*mut c_void> {
    // SAFETY: a valid handle (or RTLD_DEFAULT) and a NUL-terminated name.
    let p = unsafe { libc::dlsym(handle, name.as_ptr()) };
    (!p.is_null()).then_some(p)
}

/// The version of the GDAL at `handle` ("3.10.3").
fn gdal_release(handle: *mut c_void) -> Option<String> {
    let f = symbol(handle, c"GDALVersionInfo")?;
    // SAFETY: GDALVersionInfo's C signature; it returns a static string.
    let v = unsafe { std::mem::transmute::<*mut c_void, VersionInfo>(f)(c"RELEASE_NAME".as_ptr()) };
    // SAFETY: NUL-terminated, owned by GDAL.
    (!v.is_null()).then(|| unsafe { CStr::from_ptr(v) }.to_string_lossy().into_owned())
}

/// A message in GDAL's own log (CPLError), or on stderr when there is no GDAL to take it.
fn report(handle: Option<*mut c_void>, failure: bool, message: &str) {
    let text = CString::new(format!("terrapix: {message}").replace('\0', " ")).unwrap_or_default();
    if let Some(f) = handle.and_then(|h| symbol(h, c"CPLError")) {
        // SAFETY: CPLError(CPLErr, CPLErrorNum, fmt, ...) with "%s" and one string.
        unsafe { std::mem::transmute::<*mut c_void, CplError>(f)(if failure { 3 } else { 2 }, 1, c"%s".as_ptr(), text.as_ptr()) };
    } else {
        eprintln!("{}", text.to_string_lossy());
    }
}

/// The folder this loader was loaded from.
fn own_folder() -> Option<PathBuf> {
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr on the address of one of our own functions.
    if unsafe { libc::dladdr(GDALRegister_terrapix as *const c_void, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: NUL-terminated path owned by the loader.
    let file = PathBuf::from(unsafe { CStr::from_ptr(info.dli_fname) }.to_string_lossy().into_owned());
    std::fs::canonicalize(&file).unwrap_or(file).parent().map(Path::to_path_buf)
}

/// The GDAL versions there are libraries for in `folder` ("3.6", "3.10"), sorted.
pub fn shipped(folder: &Path) -> Vec<String> {
    let mut versions: Vec<String> = std::fs::read_dir(folder)
        .map(|d| {
            d.flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.strip_prefix("libterrapix-gdal")?.strip_suffix(".so").map(String::from)
                })
                .collect()
        })
        .unwrap_or_default();
    versions.sort_by_key(|v| v.split('.').map(|n| n.parse::<u32>().unwrap_or(0)).collect::<Vec<_>>());
    versions
}

fn register() -> Result<(), String> {
    let gdal = loaded_gdal();
    let release = gdal.and_then(gdal_release).ok_or("no GDAL is loaded in this process (gdal_terrapix.so is a GDAL plugin)")?;
    let minor = minor_of(&release);
    let folder = own_folder().ok_or("cannot tell which folder gdal_terrapix.so is in")?;
    let library = folder.join(library_name(&minor));
    if !library.is_file() {
        let have = shipped(&folder);
        let have = if have.is_empty() { "none".to_string() } else { format!("GDAL {}", have.join(", ")) };
        return Err(format!(
            "this GDAL is {release}, and {} holds terrapix libraries for {have}; install the terrapix build for GDAL {minor} \
             (its {} beside gdal_terrapix.so). terrapix's pixel functions and TERRAPIX driver are not registered.",
            folder.display(),
            library_name(&minor)
        ));
    }
    let path = CString::new(library.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
    // SAFETY: dlopen of a library file; RTLD_LOCAL keeps its symbols out of the host's namespace.
    let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        // SAFETY: dlerror returns NULL or a NUL-terminated message.
        let why = unsafe { libc::dlerror() };
        let why = if why.is_null() { String::new() } else { unsafe { CStr::from_ptr(why) }.to_string_lossy().into_owned() };
        return Err(format!("cannot load {} for GDAL {release}: {why}", library.display()));
    }
    let f = symbol(handle, c"tpx_gdal_register").ok_or_else(|| format!("{} has no tpx_gdal_register", library.display()))?;
    // SAFETY: tpx_gdal_register(void), see include/terrapix.h; it catches its own panics.
    unsafe { std::mem::transmute::<*mut c_void, extern "C" fn()>(f)() };
    Ok(())
}

/// What GDAL calls when it loads `gdal_terrapix.so` from `GDAL_DRIVER_PATH`.
#[no_mangle]
pub extern "C" fn GDALRegister_terrapix() {
    // No panic may cross into GDAL; a failure is a warning: GDAL and its host keep working.
    match std::panic::catch_unwind(register) {
        Ok(Ok(())) => {}
        Ok(Err(message)) => report(loaded_gdal(), false, &message),
        Err(_) => report(loaded_gdal(), false, "internal error while loading"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_versions() {
        assert_eq!(minor_of("3.10.3"), "3.10");
        assert_eq!(minor_of("3.13.0dev"), "3.13");
        assert_eq!(library_name("3.6"), "libterrapix-gdal3.6.so");
    }

    #[test]
    fn shipped_versions_sort_numerically() {
        let dir = std::env::temp_dir().join(format!("tpx-loader-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for v in ["3.10", "3.6", "3.13"] {
            std::fs::write(dir.join(library_name(v)), b"").unwrap();
        }
        std::fs::write(dir.join("libterrapix.so"), b"").unwrap();
        assert_eq!(shipped(&dir), ["3.6", "3.10", "3.13"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
