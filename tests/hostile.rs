//! Hostile and careless input against every door: each case asserts the exit status, the
//! message, that every file that was there before is byte-identical afterwards, and that no
//! temporary is left. The C ABI's misuse cases are in tests/c_abi.rs (a real C program).

mod common;
#[path = "hostile/surfaces.rs"]
mod surfaces;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use terrapix::bundle::{Layout, TargetTransform};

/// Every file below `dir` and its bytes (for a file over 64 MiB, its size and modification
/// time: the cases with huge files check they are never read).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let meta = p.symlink_metadata().unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else if meta.len() > 64 << 20 {
                out.insert(p.clone(), format!("{} bytes, modified {:?}", meta.len(), meta.modified().ok()).into_bytes());
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap_or_default());
            }
        }
    }
    out
}

/// Asserts that `before` is still there byte for byte, and that nothing but `allowed_new` was added
/// (no temporary in particular).
fn assert_untouched(dir: &Path, before: &BTreeMap<PathBuf, Vec<u8>>, allowed_new: &[&Path], what: &str) {
    let after = snapshot(dir);
    for (p, bytes) in before {
        assert!(after.get(p) == Some(bytes), "{what}: '{}' was changed or removed", p.display());
    }
    for p in after.keys() {
        let name = p.file_name().unwrap().to_string_lossy();
        assert!(!name.contains(".tmp-"), "{what}: temporary '{}' left behind", p.display());
        assert!(before.contains_key(p) || allowed_new.iter().any(|a| p.starts_with(a)), "{what}: '{}' was written", p.display());
    }
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempdir();
        let d = dir.path();
        landscape(d, 48);
        let m = manifest(vec![input("x", Layout::window(3), &["elevation", "slope"])], 2);
        write_linear_bundle(&d.join("m.onnx"), &m, 0.5);
        std::fs::copy(d.join("m.onnx"), d.join("m2.onnx")).unwrap();
        let one = manifest(vec![input("x", Layout::window(3), &["elevation", "slope"])], 1);
        write_linear_bundle(&d.join("one.onnx"), &one, 0.5);
        let names: Vec<String> = (1..=10).map(|i| format!("extra{i}")).collect();
        let mut covs: Vec<&str> = vec!["elevation", "slope"];
        covs.extend(names.iter().map(String::as_str));
        let three = manifest(vec![input("x", Layout::Pixel, &covs)], 1);
        write_linear_bundle(&d.join("three.onnx"), &three, 0.5);
        let mut log = manifest(vec![input("x", Layout::Pixel, &["elevation", "slope"])], 1);
        log.target.transform = TargetTransform::Log1p;
        write_linear_bundle(&d.join("log.onnx"), &log, 0.0);
        std::fs::write(d.join("notes.txt"), "my field notes\n").unwrap();
        std::fs::write(d.join("garbage.onnx"), [7u8; 300]).unwrap();
        std::fs::write(d.join("other.tpx"), "{\"my\": \"unrelated settings\"}").unwrap();
        std::os::unix::fs::symlink(d.join("covariates.tif"), d.join("link.tif")).unwrap();
        std::fs::create_dir(d.join("pts")).unwrap();
        std::fs::copy(d.join("samples.csv"), d.join("pts/points.csv")).unwrap();
        let f = Fixture { dir };
        f.ok(&["predict", "--model", "m.onnx", "--covariates", "covariates.tif", "-o", "map.tif", "-q", "--quicklook", "map.png"]);
        f.ok(&["vrt", "--model", "m.onnx", "--covariates", "covariates.tif", "-o", "p.vrt"]);
        f
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        closing_inherited_files(&mut Command::new(env!("CARGO_BIN_EXE_terrapix"))).args(args).current_dir(self.dir.path()).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "terrapix {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    }

    /// Runs a case that must fail with `code` and `needle` in its message, touching nothing.
    fn refuses(&self, args: &[&str], code: i32, needle: &str) {
        let before = snapshot(self.dir.path());
        let out = self.run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "terrapix {args:?}: {err}");
        assert!(err.contains(needle), "terrapix {args:?}: expected '{needle}' in: {err}");
        assert!(!err.contains("panicked") && !err.contains("NULL pointer"), "terrapix {args:?}: {err}");
        assert_untouched(self.dir.path(), &before, &[], &format!("{args:?}"));
    }
}

#[test]
fn cli_never_destroys_an_input() {
    let f = Fixture::new();
    let predict = |out: &'static str| vec!["predict", "--model", "m.onnx", "--covariates", "covariates.tif", "-q", "-o", out].into_iter();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (predict("covariates.tif").collect(), "it is the covariate raster"),
        (predict("link.tif").collect(), "it is the covariate raster"),
        (predict("./sub/../covariates.tif").collect(), "it is the covariate raster"),
        (predict("m.onnx").collect(), "it is the model"),
        (predict("map2.tif").chain(["--quicklook", "covariates.tif"]).collect(), "it is the covariate raster"),
        (predict("map2.tif").chain(["--quicklook", "map2.tif"]).collect(), "it is the output map"),
        (predict("notes.txt").collect(), "is not a TIFF file"),
        (predict("map2.tif").chain(["--quicklook", "notes.txt"]).collect(), "is not a PNG image"),
        (vec!["quicklook", "map.tif", "-o", "map.tif"], "it is the raster"),
        (vec!["quicklook", "covariates.tif", "-o", "notes.txt"], "is not a PNG image"),
        (vec!["ensemble", "m.onnx", "m2.onnx", "-o", "m.onnx"], "it is the member model"),
        (vec!["ensemble", "m.onnx", "m2.onnx", "-o", "notes.txt"], "is not an ONNX model"),
        (vec!["bundle", "m.onnx", "-o", "m.onnx", "--target", "soc", "--input", "x:window3:elevation,slope"], "it is the model"),
        (vec!["vrt", "--model", "m.onnx", "--covariates", "covariates.tif", "-o", "covariates.tif"], "it is the covariate raster"),
        (vec!["vrt", "--model", "m.onnx", "--covariates", "covariates.tif", "-o", "other.vrt"], "is not a terrapix prediction job"),
        (vec!["vrt", "--model", "m.onnx", "--covariates", "covariates.tif", "-o", "notes.vrt.tpx"], "another extension than .tpx"),
        (
            vec!["sample", "pts/points.csv", "--covariates", "covariates.tif", "--target", "soc", "--crs", "EPSG:32637", "-o", "pts"],
            "it is the points",
        ),
        (
            vec!["sample", "samples.csv", "--covariates", "covariates.tif", "--target", "soc", "--crs", "EPSG:32637", "-o", "notes.txt"],
            "is not an empty folder",
        ),
    ];
    std::fs::create_dir(f.path("sub")).unwrap();
    for (args, needle) in &cases {
        f.refuses(args, 1, needle);
    }
    // A model named like the job `vrt` writes beside its VRT.
    std::fs::copy(f.path("m.onnx"), f.path("mt.tpx")).unwrap();
    f.refuses(&["vrt", "--model", "mt.tpx", "--covariates", "covariates.tif", "-o", "mt.vrt"], 1, "it is the model");
    // Replacing an output of the same kind is what a user expects.
    f.ok(&["predict", "--model", "m.onnx", "--covariates", "covariates.tif", "-o", "map.tif", "-q"]);
    f.ok(&["vrt", "--model", "m.onnx", "--covariates", "covariates.tif", "-o", "p.vrt"]);
}

#[test]
fn cli_clear_words_for_bad_input() {
    let f = Fixture::new();
    // A raster whose geotransform has a zero pixel size, and one with an extreme value.
    {
        let driver = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
        let out = closing_inherited_files(&mut Command::new("gdal_translate"))
            .args(["-q", "-of", "VRT", "covariates.tif", "flat0.vrt"])
            .current_dir(f.dir.path())
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = std::fs::read_to_string(f.path("flat0.vrt")).unwrap();
        let start = text.find("<GeoTransform>").unwrap();
        let end = text.find("</GeoTransform>").unwrap();
        let flat = format!("{}<GeoTransform>500000, 0, 0, 4000000, 0, -30{}", &text[..start], &text[end..]);
        std::fs::write(f.path("flat.vrt"), flat).unwrap();
        let (mut data, w, h) = read_band(&f.path("covariates.tif"), 1);
        data[w * (h / 2) + w / 2] = -3.0e38;
        let src = gdal::Dataset::open(f.path("covariates.tif")).unwrap();
        let huge = src.create_copy(&driver, f.path("huge.tif"), &gdal::cpl::CslStringList::new()).unwrap();
        let mut buf = gdal::raster::Buffer::new((w, h), data);
        huge.rasterband(1).unwrap().write((0, 0), (w, h), &mut buf).unwrap();
    }
    let p = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut v = vec!["predict", "--model", "m.onnx", "--covariates", "covariates.tif", "-q", "-o", "new.tif"];
        v.extend_from_slice(extra);
        v
    };
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (p(&["--bind", "elevaton=2"]), 1, "the model has no covariate 'elevaton'. Did you mean 'elevation'?"),
        (p(&["--bind", "elevation=0"]), 1, "band 0 does not exist: bands are numbered from 1"),
        (p(&["--bind", "elevation=999"]), 1, "has bands 1 to 11; '999' is not one of them"),
        (p(&["--bind", "elevation=two"]), 1, "'two' is not a band number"),
        (p(&["--bind", "elevation=1", "--bind", "elevation=2"]), 1, "'elevation' is bound twice"),
        (p(&["--bind", "elevation=nope.tif:1"]), 1, "no covariate raster named 'nope.tif'"),
        (p(&["--extent=-inf,-inf,inf,inf"]), 2, "every value must be a finite number"),
        (p(&["--extent", "10,10,0,0"]), 2, "empty or inverted"),
        (p(&["--extent", "1,2,3"]), 2, "needs 4 numbers"),
        (p(&["--extent", "0,0,1,1"]), 1, "does not overlap"),
        (p(&["--compress", "BOGUS"]), 1, "compression must be one of"),
        (p(&["--resampling", "fancy"]), 1, "unknown resampling 'fancy'"),
        (p(&["--outputs", "mean,mean"]), 1, "output 'mean' is listed twice"),
        (p(&["--outputs", "median"]), 1, "has no output 'median'"),
        (
            vec!["predict", "--model", "three.onnx", "--covariates", "covariates.tif", "--by-order", "-q", "-o", "new.tif"],
            1,
            "the model reads 12 covariates, the rasters have 11 bands in all",
        ),
        (
            vec!["predict", "--model", "three.onnx", "--covariates", "covariates.tif", "-q", "-o", "new.tif"],
            1,
            "10 of the model's 12 covariates were not found: 'extra1', 'extra2'",
        ),
        (vec!["predict", "--model", "m.onnx", "--covariates", "flat.vrt", "-q", "-o", "new.tif"], 1, "zero or non-finite pixel size"),
        (
            vec!["predict", "--model", "m.onnx", "--covariates", "notes.txt", "-q", "-o", "new.tif"],
            1,
            "cannot open covariate raster 'notes.txt'",
        ),
        (vec!["predict", "--model", "m.onnx", "--covariates", "missing.tif", "-q", "-o", "new.tif"], 1, "'missing.tif' does not exist"),
        (vec!["predict", "--model", "m.onnx", "--covariates", "pts", "-q", "-o", "new.tif"], 1, "it is a folder, not a raster"),
        (vec!["predict", "--model", "garbage.onnx", "--covariates", "covariates.tif", "-q", "-o", "new.tif"], 1, "not a valid ONNX model"),
        (
            vec!["predict", "--model", "nope.onnx", "--covariates", "covariates.tif", "-q", "-o", "new.tif"],
            1,
            "cannot read model 'nope.onnx'",
        ),
        (
            vec!["predict", "--model", "m.onnx", "--covariates", "covariates.tif", "-q", "-o", "no/such/dir/new.tif"],
            1,
            "folder 'no/such/dir' does not exist",
        ),
        (vec!["quicklook", "map.tif", "-o", "q.png", "--max-side", "0"], 1, "at least 16 pixels"),
        (vec!["quicklook", "map.tif", "-o", "q.png", "--band", "9"], 1, "band 9"),
        (
            vec!["bundle", "m.onnx", "-o", "b.onnx", "--target", "soc", "--input", "x:window20001:elevation"],
            1,
            "larger than terrapix supports",
        ),
        (
            vec!["bundle", "m.onnx", "-o", "b.onnx", "--target", "soc", "--input", "x:pixel:cov[1-99999999999]"],
            1,
            "names more than 100000 channels",
        ),
        (vec!["bundle", "m.onnx", "-o", "b.onnx", "--target", "soc", "--input", "x:pixel:cov[9-1]"], 1, "9 is after 1"),
        (vec!["bundle", "m.onnx", "-o", "b.onnx", "--target", "soc", "--input", "x:window4:elevation"], 1, "window size must be odd"),
        (vec!["bundle", "m.onnx", "-o", "b.onnx", "--manifest", "notes.txt"], 1, "invalid manifest"),
        (
            vec!["sample", "samples.csv", "--covariates", "covariates.tif", "--target", "nope", "--crs", "EPSG:32637", "-o", "s"],
            1,
            "has no column 'nope'",
        ),
    ];
    for (args, code, needle) in &cases {
        f.refuses(args, *code, needle);
    }
    // Points whose coordinates are text or NaN: reported, nothing written when none is usable.
    std::fs::write(f.path("bad.csv"), "id,x,y,soc\n1,abc,4000000,2.5\n2,nan,nan,1.0\n3,,,1.0\n").unwrap();
    f.refuses(
        &["sample", "bad.csv", "--covariates", "covariates.tif", "--target", "soc", "--crs", "EPSG:32637", "-o", "s"],
        1,
        "skipped 3: coordinates missing or not numbers",
    );
    // An extreme covariate value: the cell whose output overflows is nodata, and counted.
    let out = f.ok(&["predict", "--model", "log.onnx", "--covariates", "huge.tif", "-o", "huge_map.tif", "-q", "--stats"]);
    assert!(out.contains("stats: 1 cells with non-finite model output written as nodata"), "{out}");
    let (v, _, _) = read_band(&f.path("huge_map.tif"), 1);
    assert!(v.iter().all(|x| x.is_finite()), "only finite values (or nodata) are written");
    // Thread counts beyond reason are clamped with a warning, and the run completes.
    for flag in ["--threads", "--workers", "--intra-threads"] {
        let started = Instant::now();
        let out = f.ok(&["predict", "--model", "m.onnx", "--covariates", "covariates.tif", "-o", "t.tif", "-q", flag, "100000"]);
        assert!(out.contains("is more than this machine can use"), "{flag}: {out}");
        assert!(started.elapsed() < Duration::from_secs(60), "{flag} took {:?}", started.elapsed());
    }
}

/// A small tmpfs with about `kib` KiB free (root); None where mounting is not allowed.
struct FullDisk(PathBuf);

impl FullDisk {
    fn mount(kib: usize) -> Option<FullDisk> {
        let dir = std::env::temp_dir().join(format!("terrapix-full-{}-{kib}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        let ok = Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"]).arg(&dir).status().ok()?.success();
        ok.then_some(FullDisk(dir))
    }
}

impl Drop for FullDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[test]
fn a_full_disk_is_an_error_and_leaves_the_previous_files() {
    let f = Fixture::new();
    let Some(disk) = FullDisk::mount(96) else {
        // Not root here: the same failure through the file-size limit (EFBIG instead of ENOSPC).
        eprintln!("mount not allowed; checking write failures with RLIMIT_FSIZE instead");
        return full_disk_by_rlimit(&f);
    };
    let d = &disk.0;
    // Previous outputs that must survive a failed rewrite.
    std::fs::write(d.join("map.png"), std::fs::read(f.path("map.png")).unwrap()).unwrap();
    std::fs::create_dir(d.join("samples")).unwrap();
    std::fs::write(d.join("samples/samples.json"), "{}").unwrap();
    let before = snapshot(d);
    let big = f.path("big.tif");
    // A large enough map that it cannot fit: a 64 x 64 landscape upsampled to 1024 x 1024.
    f.ok(&["predict", "--model", "m.onnx", "--covariates", "covariates.tif", "-o", "small.tif", "-q"]);
    let out = closing_inherited_files(&mut Command::new("gdal_translate"))
        .args(["-q", "-outsize", "1024", "1024", "-r", "bilinear"])
        .arg(f.path("covariates.tif"))
        .arg(&big)
        .output()
        .unwrap();
    assert!(out.status.success());
    let target = d.join("map.tif");
    for extra in [&[][..], &["--cog"][..]] {
        let mut args = vec!["predict", "--model", "m.onnx", "--covariates", s(&big), "-q", "--compress", "NONE", "-o", s(&target)];
        args.extend_from_slice(extra);
        let out = f.run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {err}");
        assert!(err.contains(&target.display().to_string()) && err.contains("No space left on device"), "{extra:?}: {err}");
        assert!(!err.contains("NULL pointer"), "{err}");
        assert_untouched(d, &before, &[], "predict on a full disk");
    }
    // The quick-look: the previous PNG stays as it was. Fill the disk first.
    let filler = d.join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 200 << 10]);
    let before = snapshot(d);
    let out = f.run(&["quicklook", s(&f.path("map.tif")), "-o", s(&d.join("map.png"))]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert_untouched(d, &before, &[], "quicklook on a full disk");
    let out = f.run(&[
        "sample",
        "samples.csv",
        "--covariates",
        "covariates.tif",
        "--target",
        "soc",
        "--crs",
        "EPSG:32637",
        "-o",
        s(&d.join("samples")),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert_untouched(d, &before, &[], "sample on a full disk");
}

fn full_disk_by_rlimit(f: &Fixture) {
    use std::os::unix::process::CommandExt;
    let before = snapshot(f.dir.path());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_terrapix"));
    closing_inherited_files(&mut cmd);
    cmd.args(["predict", "--model", "m.onnx", "--covariates", "covariates.tif", "-q", "--compress", "NONE", "-o", "map.tif"]);
    cmd.current_dir(f.dir.path());
    // SAFETY: async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit { rlim_cur: 4096, rlim_max: 4096 };
            libc::setrlimit(libc::RLIMIT_FSIZE, &lim);
            Ok(())
        })
    };
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert_untouched(f.dir.path(), &before, &[], "predict past the file-size limit");
}

#[test]
fn signals_leave_nothing_and_stale_temporaries_are_removed() {
    let f = Fixture::new();
    let big = f.path("big.tif");
    let out = closing_inherited_files(&mut Command::new("gdal_translate"))
        .args(["-q", "-outsize", "1536", "1536"])
        .arg(f.path("covariates.tif"))
        .arg(&big)
        .output()
        .unwrap();
    assert!(out.status.success());
    for (signal, code) in [(libc::SIGTERM, 143), (libc::SIGHUP, 129), (libc::SIGINT, 130)] {
        let before = snapshot(f.dir.path());
        let mut child = closing_inherited_files(&mut Command::new(env!("CARGO_BIN_EXE_terrapix")))
            .args(["predict", "--model", "m.onnx", "--covariates", "big.tif", "-q", "--tile", "32", "-o", "sig.tif"])
            .current_dir(f.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until its temporary exists: it is writing.
        let started = Instant::now();
        while !snapshot(f.dir.path()).keys().any(|p| p.to_string_lossy().contains(".sig.tmp-")) {
            assert!(started.elapsed() < Duration::from_secs(30), "no temporary appeared");
            std::thread::sleep(Duration::from_millis(20));
        }
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "signal {signal}");
        assert_untouched(f.dir.path(), &before, &[], &format!("signal {signal}"));
    }
    // A temporary left by a run that was killed outright (SIGKILL) is removed by the next run.
    let stale = f.path(".again.tmp-2147483646-0.tif");
    std::fs::write(&stale, b"half a map").unwrap();
    let out = f.ok(&["predict", "--model", "m.onnx", "--covariates", "covariates.tif", "-q", "-o", "again.tif"]);
    assert!(!stale.exists());
    assert!(out.contains("left by a run that did not finish"), "{out}");
}

fn plugin_env(cmd: &mut Command) -> &mut Command {
    cmd.env("GDAL_DRIVER_PATH", gdal_plugin_folder("hostile-plugin"))
        .env("TERRAPIX_ORT_LIB", terrapix::engine::ort_library().unwrap())
        .env_remove("TERRAPIX_TRUSTED_MODELS")
}

/// Runs a GDAL tool on a hostile dataset: it must fail by itself (no signal, no hang) with
/// `needle`. (`gdalinfo -checksum` reports a failed read but exits 0, as GDAL 3.6 does for any
/// driver; every other tool must exit non-zero.)
fn gdal_refuses(dir: &Path, program: &str, args: &[&str], needle: &str, trusted: bool) {
    let before = snapshot(dir);
    let mut cmd = Command::new("timeout");
    closing_inherited_files(&mut cmd).arg("60").arg(program).args(args).current_dir(dir);
    plugin_env(&mut cmd);
    if trusted {
        cmd.env("TERRAPIX_TRUSTED_MODELS", dir);
    }
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(124), "{program} {args:?} hung");
    let checksum = args.contains(&"-checksum");
    assert!(out.status.code().is_some_and(|c| c != 0 || checksum), "{program} {args:?}: {:?} {err}", out.status);
    assert!(err.contains(needle), "{program} {args:?}: expected '{needle}' in: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_untouched(dir, &before, &[], &format!("{program} {args:?}"));
}

#[test]
fn gdal_plugin_refuses_hostile_jobs_and_vrts() {
    let f = Fixture::new();
    let d = f.dir.path();
    let job = |name: &str, json: serde_json::Value| std::fs::write(d.join(name), json.to_string()).unwrap();
    let base = || serde_json::json!({"terrapix_prediction": 1, "model": "m.onnx", "covariates": ["covariates.tif"]});
    // A VRT whose job lists that same VRT as a covariate.
    let mut j = base();
    j["covariates"] = serde_json::json!(["loop.vrt"]);
    job("loop.tpx", j);
    std::fs::write(d.join("loop.vrt"), std::fs::read_to_string(d.join("p.vrt")).unwrap().replace("p.tpx", "loop.tpx")).unwrap();
    let mut j = base();
    j["extent"] = serde_json::json!([10.0, 10.0, 0.0, 0.0]);
    job("inverted.tpx", j);
    let mut j = base();
    j["sneaky"] = serde_json::json!(true);
    job("unknown.tpx", j);
    let mut j = base();
    j["terrapix_prediction"] = serde_json::json!(99);
    job("future.tpx", j);
    let mut j = base();
    j["model"] = serde_json::json!("/etc/passwd");
    job("untrusted.tpx", j);
    let mut j = base();
    j["model"] = serde_json::json!("garbage.onnx");
    job("garbage.tpx", j);
    let mut j = base();
    j["covariates"] = serde_json::json!(["missing.tif"]);
    job("missing.tpx", j);
    let mut j = base();
    j["bind"] = serde_json::json!(["elevation=77"]);
    job("badbind.tpx", j);
    std::fs::write(d.join("broken.tpx"), "{\"terrapix_prediction\": 1, \"model\": ").unwrap();
    // The VRT's model swapped for one with fewer outputs.
    std::fs::copy(d.join("p.vrt"), d.join("swapped.vrt")).unwrap();
    let mut j: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("p.tpx")).unwrap()).unwrap();
    j["model"] = serde_json::json!("one.onnx");
    std::fs::write(d.join("swapped.tpx"), j.to_string()).unwrap();
    std::fs::write(d.join("swapped.vrt"), std::fs::read_to_string(d.join("p.vrt")).unwrap().replace("p.tpx", "swapped.tpx")).unwrap();
    let cases: [(&str, &[&str], &str); 13] = [
        ("gdal_translate", &["loop.vrt", "out.tif"], "refers to itself"),
        ("gdalinfo", &["-checksum", "loop.vrt"], "refers to itself"),
        ("gdalinfo", &["-checksum", "loop.tpx"], "refers to itself"),
        ("gdalinfo", &["inverted.tpx"], "empty or inverted"),
        ("gdalinfo", &["unknown.tpx"], "unknown option 'sneaky'"),
        ("gdalinfo", &["future.tpx"], "job format 99 is not supported"),
        ("gdalinfo", &["untrusted.tpx"], "not in a trusted folder"),
        ("gdalinfo", &["garbage.tpx"], "not a valid ONNX model"),
        ("gdalinfo", &["missing.tpx"], "missing.tif' does not exist"),
        ("gdalinfo", &["badbind.tpx"], "'77' is not one of them"),
        ("gdalinfo", &["broken.tpx"], "not a valid terrapix job"),
        ("gdal_translate", &["swapped.vrt", "out.tif"], "was written for a model with the outputs [b0, b1], but './one.onnx' now has [b0]"),
        ("gdal_translate", &["-b", "1", "p.tpx", "/proc/self/no/such/dir/out.tif"], "/proc/self/no/such/dir/out.tif"),
    ];
    for (program, args, needle) in cases {
        gdal_refuses(d, program, args, needle, false);
    }
}

#[test]
fn pixel_functions_check_their_arguments() {
    let f = Fixture::new();
    let d = f.dir.path();
    let vrt = |name: &str, function: &str, args: &str, sources: usize| {
        let src: String = (1..=sources)
            .map(|b| format!("<SimpleSource><SourceFilename relativeToVRT=\"1\">covariates.tif</SourceFilename><SourceBand>{b}</SourceBand></SimpleSource>"))
            .collect();
        std::fs::write(
            d.join(name),
            format!(
                "<VRTDataset rasterXSize=\"48\" rasterYSize=\"48\"><VRTRasterBand dataType=\"Float32\" band=\"1\" subClass=\"VRTDerivedRasterBand\">\
                 <PixelFunctionType>{function}</PixelFunctionType><PixelFunctionArguments {args}/>{src}</VRTRasterBand></VRTDataset>"
            ),
        )
        .unwrap();
    };
    let mut pixel = manifest(vec![input("x", Layout::Pixel, &["elevation", "slope"])], 1);
    pixel.name = "pixel".into();
    write_linear_bundle(&d.join("pixel.onnx"), &pixel, 0.0);
    vrt("nonodata.vrt", "terrapix_predict", "model=\"pixel.onnx\"", 2);
    vrt("nanscale.vrt", "terrapix_ndvi", "scale=\"nan\"", 2);
    vrt("zeroscale.vrt", "terrapix_ndvi", "scale=\"0\"", 2);
    vrt("textscale.vrt", "terrapix_ndvi", "scale=\"lots\"", 2);
    vrt("onesource.vrt", "terrapix_ndvi", "", 1);
    vrt("nomodel.vrt", "terrapix_predict", "nodata=\"none\"", 2);
    vrt("windowed.vrt", "terrapix_predict", "model=\"m.onnx\" nodata=\"none\"", 2);
    let cases: [(&str, &str); 7] = [
        ("nonodata.vrt", "give the covariates' nodata value"),
        ("nanscale.vrt", "scale=NaN must be a finite number"),
        ("zeroscale.vrt", "scale=0 would make every value 0"),
        ("textscale.vrt", "scale='lots' is not a number"),
        ("onesource.vrt", "expects 2 source bands (red, nir)"),
        ("nomodel.vrt", "the argument model=PATH is required"),
        ("windowed.vrt", "needs spatial context"),
    ];
    for (file, needle) in cases {
        gdal_refuses(d, "gdalinfo", &["-checksum", file], needle, true);
    }
    // A model outside the trusted folders is refused as untrusted (CPLE_NotSupported = 6).
    gdal_refuses(d, "gdalinfo", &["-checksum", "windowed.vrt"], "ERROR 6: terrapix: terrapix_predict: model", false);
}

/// One dataset read from several threads (as GDAL hosts do) gives the values of a
/// single-threaded read, never zeros.
#[test]
fn one_job_dataset_shared_across_threads() {
    let f = Fixture::new();
    let script = r#"
import sys, threading
from osgeo import gdal
gdal.UseExceptions()
ds = gdal.Open(sys.argv[1])
expect = [ds.GetRasterBand(b).ReadAsArray().tolist() for b in (1, 2)]
ds = None
ds = gdal.Open(sys.argv[1])
gdal.SetCacheMax(1 << 16)
bad = []
def read(k):
    for i in range(6):
        b = 1 + (i + k) % 2
        if ds.GetRasterBand(b).ReadAsArray().tolist() != expect[b - 1]:
            bad.append((k, i, b))
threads = [threading.Thread(target=read, args=(k,)) for k in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
print("wrong reads:", len(bad))
"#;
    let mut cmd = Command::new("/usr/bin/python3");
    closing_inherited_files(&mut cmd);
    cmd.arg("-c").arg(script).arg(f.path("p.vrt"));
    let out = plugin_env(&mut cmd).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("wrong reads: 0"), "{stdout}");
}

/// Many small tiles on many threads with nested rayon work (the window predictor splits a
/// request, tensor assembly runs parallel loops): a worker that steals another tile while it
/// waits must not find the thread's buffers in use.
#[test]
fn nested_parallel_prediction_is_reentrant() {
    use rayon::prelude::*;
    let f = Fixture::new();
    let model = std::sync::Arc::new(
        terrapix::engine::Model::open(&f.path("m.onnx"), &terrapix::engine::EngineOptions { sessions: 8, ..Default::default() }).unwrap(),
    );
    let wp = terrapix::predict::WindowPredictor::new(model, &[f.path("covariates.tif")], &Default::default()).unwrap();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(16).build().unwrap();
    let whole = wp.predict(0, 0, 48, 48).unwrap();
    pool.install(|| {
        (0..400).into_par_iter().for_each(|i| {
            let (x, y) = ((i * 7) % 40, (i * 13) % 40);
            let part = wp.predict(x, y, 8, 8).unwrap();
            for r in 0..8 {
                for c in 0..8 {
                    assert_eq!(part.bands[0][r * 8 + c], whole.bands[0][(y + r) * 48 + x + c]);
                }
            }
        })
    });
}
