//! terrapix inside GDAL: the plugin (the loader gdal_terrapix.so and libterrapix-gdalX.Y.so in a
//! folder on GDAL_DRIVER_PATH) driven by the real GDAL command-line tools and Debian's Python
//! bindings.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::*;
use terrapix::bundle::Layout;

/// A plugin folder holding gdal_terrapix.so, made once per test binary.
fn plugin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| gdal_plugin_folder("gdal-plugin"))
}

/// Runs a GDAL tool (or /usr/bin/python3) with the plugin on GDAL_DRIVER_PATH.
fn gdal(program: &str, args: &[&str], trusted: Option<&Path>) -> Output {
    let ort = terrapix::engine::ort_library().expect("ONNX Runtime (scripts/setup.sh)");
    let mut cmd = Command::new(program);
    cmd.args(args).env("GDAL_DRIVER_PATH", plugin_dir()).env("TERRAPIX_ORT_LIB", ort).env_remove("TERRAPIX_TRUSTED_MODELS");
    if let Some(t) = trusted {
        cmd.env("TERRAPIX_TRUSTED_MODELS", t);
    }
    cmd.output().unwrap_or_else(|e| panic!("{program}: {e}"))
}

fn gdal_ok(program: &str, args: &[&str], trusted: Option<&Path>) -> String {
    let out = gdal(program, args, trusted);
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Fails cleanly (an exit code, not a signal) with a message containing `needle`.
fn gdal_fails_with(program: &str, args: &[&str], trusted: Option<&Path>, needle: &str) {
    let out = gdal(program, args, trusted);
    assert!(out.status.code().is_some(), "{program} was killed by a signal: {:?}", out.status);
    assert!(!out.status.success(), "{program} {args:?} should fail");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(needle), "expected '{needle}' in:\n{err}");
}

fn assert_same_map(a: &Path, b: &Path, bands: usize) {
    for band in 1..=bands {
        let (x, w, h) = read_band(a, band);
        let (y, w2, h2) = read_band(b, band);
        assert_eq!((w, h), (w2, h2));
        let worst = x.iter().zip(&y).map(|(u, v)| (u - v).abs()).fold(0f32, f32::max);
        assert!(worst <= 1e-6, "band {band}: {} and {} differ by up to {worst}", a.display(), b.display());
    }
}

#[test]
fn every_layout_through_gdal_translate_matches_predict() {
    let dir = tempdir();
    let d = dir.path();
    // 300 x 300: several 256-pixel blocks, partial edge blocks, halos across block borders.
    let (covs, _) = landscape(d, 300);
    let mut series = Vec::new();
    for y in 2016..=2023 {
        series.push(format!("ndvi_{y}"));
        series.push("tpi".to_string());
    }
    let series: Vec<&str> = series.iter().map(String::as_str).collect();
    let years: Vec<String> = (2016..=2023).map(|y| format!("ndvi_{y}")).collect();
    let years: Vec<&str> = years.iter().map(String::as_str).collect();
    let layouts = vec![
        ("pixel", vec![input("x", Layout::Pixel, &["elevation", "slope", "ndvi_2020"])], 2),
        ("window", vec![input("x", Layout::window(5), &["elevation", "tpi", "ndvi_2018"])], 1),
        ("patch", vec![input("x", Layout::Patch { size: 8 }, &["elevation", "ndvi_2017", "@patch_x", "@patch_y"])], 1),
        ("coarse", vec![input("x", Layout::Window { size: 12, cell: 4 }, &["elevation", "tpi"])], 1),
        ("series", vec![input("x", Layout::Series { steps: 8, features: 1 }, &years)], 1),
        (
            "cnnlstm",
            vec![
                input("x_cnn", Layout::window(3), &["elevation", "slope", "tpi"]),
                input("x_lstm", Layout::Series { steps: 8, features: 2 }, &series),
            ],
            2,
        ),
    ];
    for (name, inputs, outputs) in layouts {
        let m = manifest(inputs, outputs);
        let model = d.join(format!("{name}.onnx"));
        write_linear_bundle(&model, &m, 0.1);
        let (vrt, via_gdal, via_predict) =
            (d.join(format!("{name}.vrt")), d.join(format!("{name}_gdal.tif")), d.join(format!("{name}_predict.tif")));
        let out = terrapix_ok(&["vrt", "--model", s(&model), "--covariates", s(&covs), "-o", s(&vrt)]);
        assert!(!out.contains("note:"), "a model beside its VRT needs no trust setting: {out}");
        // The model sits in the job's folder: trusted without TERRAPIX_TRUSTED_MODELS.
        gdal_ok("gdal_translate", &["-q", s(&vrt), s(&via_gdal)], None);
        predict_ok(&model, &[&covs], &via_predict, &[]);
        assert_same_map(&via_gdal, &via_predict, outputs);
        let info = gdal_ok("gdalinfo", &[s(&vrt)], None);
        assert!(info.contains("Description = soc b0") && info.contains("NoData Value=-9999"), "{info}");
    }
}

const PYTHON_READS: &str = r#"
import sys, numpy as np
from osgeo import gdal
gdal.UseExceptions()
vrt, tif = sys.argv[1], sys.argv[2]
a, b = gdal.Open(vrt), gdal.Open(tif)
assert a.GetDriver().ShortName == "VRT", a.GetDriver().ShortName
full = a.ReadAsArray()
assert np.array_equal(full, b.ReadAsArray()), "full read"
# An arbitrary window, unaligned to any block.
assert np.array_equal(a.ReadAsArray(37, 101, 190, 77), b.ReadAsArray(37, 101, 190, 77)), "window"
# A reduced-resolution read (what QGIS does zoomed out): GDAL resamples full-resolution predictions.
for alg in (gdal.GRIORA_NearestNeighbour, gdal.GRIORA_Average):
    x = a.GetRasterBand(1).ReadAsArray(buf_xsize=75, buf_ysize=75, resample_alg=alg)
    y = b.GetRasterBand(1).ReadAsArray(buf_xsize=75, buf_ysize=75, resample_alg=alg)
    assert np.allclose(x, y, atol=1e-5), ("reduced", alg, np.abs(x - y).max())
# Several datasets open at once, read from several threads, each with its own handles.
from concurrent.futures import ThreadPoolExecutor
def read(i):
    ds = gdal.Open(vrt)
    return ds.GetRasterBand(1 + i % ds.RasterCount).ReadAsArray(i * 7, i * 5, 120, 90)
with ThreadPoolExecutor(4) as pool:
    got = list(pool.map(read, range(8)))
for i, g in enumerate(got):
    band = 1 + i % b.RasterCount
    assert np.array_equal(g, b.GetRasterBand(band).ReadAsArray(i * 7, i * 5, 120, 90)), ("thread", i)
print("python ok")
"#;

#[test]
fn python_bindings_windows_reduced_resolution_and_threads() {
    let dir = tempdir();
    let d = dir.path();
    let (covs, _) = landscape(d, 300);
    let m = manifest(vec![input("x", Layout::window(3), &["elevation", "ndvi_2019"])], 2);
    let model = d.join("m.onnx");
    write_linear_bundle(&model, &m, 0.0);
    let (vrt, tif) = (d.join("m.vrt"), d.join("m.tif"));
    terrapix_ok(&["vrt", "--model", s(&model), "--covariates", s(&covs), "-o", s(&vrt)]);
    predict_ok(&model, &[&covs], &tif, &["--compress", "NONE"]);
    let out = gdal_ok("/usr/bin/python3", &["-c", PYTHON_READS, s(&vrt), s(&tif)], None);
    assert!(out.contains("python ok"), "{out}");
}

#[test]
fn multithreaded_gdal_tools() {
    let dir = tempdir();
    let d = dir.path();
    let (covs, _) = landscape(d, 520);
    let m = manifest(vec![input("x", Layout::window(5), &["elevation", "tpi", "ndvi_2021"])], 1);
    let model = d.join("m.onnx");
    write_linear_bundle(&model, &m, 0.0);
    let vrt = d.join("m.vrt");
    terrapix_ok(&["vrt", "--model", s(&model), "--covariates", s(&covs), "-o", s(&vrt)]);
    let reference = d.join("predict.tif");
    predict_ok(&model, &[&covs], &reference, &[]);
    let translated = d.join("translated.tif");
    gdal_ok(
        "gdal_translate",
        &[
            "-q",
            "--config",
            "GDAL_NUM_THREADS",
            "ALL_CPUS",
            "-co",
            "COMPRESS=DEFLATE",
            "-co",
            "NUM_THREADS=ALL_CPUS",
            s(&vrt),
            s(&translated),
        ],
        None,
    );
    assert_same_map(&translated, &reference, 1);
    let warped = d.join("warped.tif");
    gdal_ok("gdalwarp", &["-q", "-multi", "-wo", "NUM_THREADS=ALL_CPUS", "-r", "near", s(&vrt), s(&warped)], None);
    assert_same_map(&warped, &reference, 1);
}

#[test]
fn pixel_function_predict_matches_predict_and_checks_its_arguments() {
    let dir = tempdir();
    let d = dir.path();
    let (covs, _) = landscape(d, 150);
    let names = ["elevation", "slope", "ndvi_2022"];
    let m = manifest(vec![input("x", Layout::Pixel, &names)], 2);
    let models = d.join("models");
    std::fs::create_dir(&models).unwrap();
    let model = models.join("pixel.onnx");
    write_linear_bundle(&model, &m, 0.3);
    let bands = [1, 2, 10]; // elevation, slope, ndvi_2022 in covariates.tif
    let vrt_text = |model_arg: &str, band_args: [&str; 2], sources: &[usize]| -> String {
        let srcs: String = sources
            .iter()
            .map(|b| format!("<SimpleSource><SourceFilename relativeToVRT=\"1\">covariates.tif</SourceFilename><SourceBand>{b}</SourceBand></SimpleSource>"))
            .collect();
        let band = |i: usize, arg: &str| {
            format!(
                "<VRTRasterBand dataType=\"Float32\" band=\"{i}\" subClass=\"VRTDerivedRasterBand\"><NoDataValue>-9999</NoDataValue>\
                 <PixelFunctionType>terrapix_predict</PixelFunctionType><PixelFunctionArguments model=\"{model_arg}\" {arg} nodata=\"-9999\"/>\
                 <SourceTransferType>Float32</SourceTransferType>{srcs}</VRTRasterBand>"
            )
        };
        format!(
            "<VRTDataset rasterXSize=\"150\" rasterYSize=\"150\"><SRS>EPSG:32637</SRS><GeoTransform>455000, 30, 0, 5845000, 0, -30</GeoTransform>{}{}</VRTDataset>",
            band(1, band_args[0]),
            band(2, band_args[1])
        )
    };
    let vrt = d.join("pixel.vrt");
    std::fs::write(&vrt, vrt_text(s(&model), ["band=\"b0\"", "band=\"2\""], &bands)).unwrap();
    let (via_gdal, via_predict) = (d.join("gdal.tif"), d.join("predict.tif"));
    gdal_ok("gdal_translate", &["-q", s(&vrt), s(&via_gdal)], Some(&models));
    predict_ok(&model, &[&covs], &via_predict, &[]);
    assert_same_map(&via_gdal, &via_predict, 2);

    // Not trusted without the setting (a pixel function has no job folder).
    gdal_fails_with("gdal_translate", &["-q", s(&vrt), s(&d.join("x.tif"))], None, "TERRAPIX_TRUSTED_MODELS");
    // A STAC item in the trusted folder is trusted for the bundle it names, not for itself: one
    // naming a bundle inside predicts, one naming a bundle elsewhere is refused.
    let item =
        |href: &Path| format!(r#"{{"type": "Feature", "assets": {{"model": {{"href": "{}", "roles": ["mlm:model"]}}}}}}"#, href.display());
    std::fs::write(models.join("item.json"), item(Path::new("pixel.onnx"))).unwrap();
    std::fs::write(&vrt, vrt_text(s(&models.join("item.json")), ["band=\"b0\"", "band=\"2\""], &bands)).unwrap();
    let via_item = d.join("item.tif");
    gdal_ok("gdal_translate", &["-q", s(&vrt), s(&via_item)], Some(&models));
    assert_same_map(&via_item, &via_predict, 2);
    let outside = d.join("outside.onnx");
    std::fs::copy(&model, &outside).unwrap();
    std::fs::write(models.join("item.json"), item(&outside)).unwrap();
    gdal_fails_with("gdal_translate", &["-q", s(&vrt), s(&d.join("x.tif"))], Some(&models), "is not in a trusted folder");
    // Wrong number of sources.
    std::fs::write(&vrt, vrt_text(s(&model), ["band=\"1\"", "band=\"2\""], &bands[..2])).unwrap();
    gdal_fails_with(
        "gdal_translate",
        &["-q", s(&vrt), s(&d.join("x.tif"))],
        Some(&models),
        "reads 3 covariates (elevation, slope, ndvi_2022), the VRT band has 2 sources",
    );
    // Unknown output band.
    std::fs::write(&vrt, vrt_text(s(&model), ["band=\"median\"", "band=\"2\""], &bands)).unwrap();
    gdal_fails_with("gdal_translate", &["-q", s(&vrt), s(&d.join("x.tif"))], Some(&models), "has no output band 'median' (bands: b0, b1)");
    // Missing model file.
    std::fs::write(&vrt, vrt_text(s(&models.join("nope.onnx")), ["band=\"1\"", "band=\"2\""], &bands)).unwrap();
    gdal_fails_with("gdal_translate", &["-q", s(&vrt), s(&d.join("x.tif"))], Some(&models), "nope.onnx");
    // A model that needs spatial context is refused with the way out.
    let window = models.join("window.onnx");
    write_linear_bundle(&window, &manifest(vec![input("x", Layout::window(3), &names)], 2), 0.0);
    std::fs::write(&vrt, vrt_text(s(&window), ["band=\"1\"", "band=\"2\""], &bands)).unwrap();
    gdal_fails_with("gdal_translate", &["-q", s(&vrt), s(&d.join("x.tif"))], Some(&models), "terrapix vrt");
}

const PYTHON_INDICES: &str = r#"
import sys, os, numpy as np
from osgeo import gdal
gdal.UseExceptions()
l8, out = sys.argv[1], sys.argv[2]
src = gdal.Open(l8)
bands = {src.GetRasterBand(i + 1).GetDescription(): src.GetRasterBand(i + 1).ReadAsArray().astype(np.float64) for i in range(src.RasterCount)}
blue, green, red, nir = bands["SR_B2"], bands["SR_B3"], bands["SR_B4"], bands["SR_B5"]
cases = {
    "ndvi": ([4, 5], (nir - red) / (nir + red), ""),
    "evi": ([2, 4, 5], 2.5 * (nir - red) / (nir + 6 * red - 7.5 * blue + 1), ""),
    "evi2": ([4, 5], 2.5 * (nir - red) / (nir + 2.4 * red + 1), ""),
    "savi": ([4, 5], 1.3 * (nir - red) / (nir + red + 0.3), 'L="0.3"'),
    "gndvi": ([3, 5], (nir - green) / (nir + green), ""),
    "ndwi": ([3, 5], (green - nir) / (green + nir), ""),
}
for name, (srcs, want, args) in cases.items():
    sources = "".join(f'<SimpleSource><SourceFilename relativeToVRT="0">{l8}</SourceFilename><SourceBand>{b}</SourceBand></SimpleSource>' for b in srcs)
    xml = (f'<VRTDataset rasterXSize="{src.RasterXSize}" rasterYSize="{src.RasterYSize}"><VRTRasterBand dataType="Float32" band="1" '
           f'subClass="VRTDerivedRasterBand"><NoDataValue>-9999</NoDataValue><PixelFunctionType>terrapix_{name}</PixelFunctionType>'
           f'<PixelFunctionArguments output_nodata="-9999" {args}/>{sources}</VRTRasterBand></VRTDataset>')
    path = os.path.join(out, name + ".vrt")
    open(path, "w").write(xml)
    got = gdal.Open(path).ReadAsArray().astype(np.float64)
    ok = np.isfinite(want)
    assert np.allclose(got[ok], want[ok], rtol=1e-4, atol=1e-5), (name, np.abs(got[ok] - want[ok]).max())
    assert (got[~ok] == -9999).all(), name
    print(name, "ok", int(ok.sum()), "pixels")
# The chip's own NDVI band agrees with terrapix_ndvi.
ndvi = gdal.Open(os.path.join(out, "ndvi.vrt")).ReadAsArray()
ok = np.isfinite(bands["NDVI"]) & (ndvi != -9999)
assert np.abs(ndvi[ok] - bands["NDVI"][ok]).max() < 1e-4
print("indices ok")
"#;

#[test]
fn spectral_indices_on_a_real_landsat_chip() {
    let dir = tempdir();
    let l8 = shared_data().join("rasters/l8.tif");
    let out = gdal_ok("/usr/bin/python3", &["-c", PYTHON_INDICES, s(&l8), s(dir.path())], None);
    assert!(out.contains("indices ok"), "{out}");
}

#[test]
fn malformed_jobs_and_vrts_fail_cleanly() {
    let dir = tempdir();
    let d = dir.path();
    let (covs, _) = landscape(d, 64);
    let m = manifest(vec![input("x", Layout::window(3), &["elevation", "slope"])], 1);
    let model = d.join("m.onnx");
    write_linear_bundle(&model, &m, 0.0);
    let out = d.join("out.tif");
    let job = |text: &str| {
        let p = d.join("job.tpx");
        std::fs::write(&p, text).unwrap();
        p
    };
    let p = job("{\"terrapix_prediction\": 1, \"model\": \"m.onnx\", \"covariates\": [\"covariates.tif\"");
    gdal_fails_with("gdal_translate", &["-q", s(&p), s(&out)], None, "is not a valid terrapix job");
    let p = job("{\"terrapix_prediction\": 1, \"model\": \"missing.onnx\", \"covariates\": [\"covariates.tif\"]}");
    gdal_fails_with("gdal_translate", &["-q", s(&p), s(&out)], None, "missing.onnx");
    let p = job("{\"terrapix_prediction\": 1, \"model\": \"m.onnx\", \"covariates\": [\"covariates.tif\"], \"bind\": [\"slope=covariates.tif:99\"]}");
    gdal_fails_with("gdal_translate", &["-q", s(&p), s(&out)], None, "has bands 1 to 11");
    let p = job("{\"terrapix_prediction\": 7, \"model\": \"m.onnx\", \"covariates\": [\"covariates.tif\"]}");
    gdal_fails_with("gdal_translate", &["-q", s(&p), s(&out)], None, "job format 7 is not supported");
    let p = job(&format!("{{\"terrapix_prediction\": 1, \"model\": \"m.onnx\", \"covariates\": [\"{}\"]}}", s(&d.join("nothing.tif"))));
    gdal_fails_with("gdal_translate", &["-q", s(&p), s(&out)], None, "nothing.tif");
    // A model outside the job's folder is refused unless trusted.
    let elsewhere = tempdir();
    let far = elsewhere.path().join("far.onnx");
    std::fs::copy(&model, &far).unwrap();
    let p = job(&format!("{{\"terrapix_prediction\": 1, \"model\": \"{}\", \"covariates\": [\"covariates.tif\"]}}", s(&far)));
    gdal_fails_with("gdal_translate", &["-q", s(&p), s(&out)], None, "not in a trusted folder");
    gdal_ok("gdal_translate", &["-q", s(&p), s(&out)], Some(elsewhere.path()));
    // A truncated VRT and a pixel function without its model argument.
    let vrt = d.join("bad.vrt");
    std::fs::write(&vrt, "<VRTDataset rasterXSize=\"64\" rasterYSize=\"64\"><VRTRasterBand dataType=\"Float32\" band=\"1\"").unwrap();
    gdal_fails_with("gdal_translate", &["-q", s(&vrt), s(&out)], None, "Parse error");
    std::fs::write(
        &vrt,
        format!(
            "<VRTDataset rasterXSize=\"64\" rasterYSize=\"64\"><VRTRasterBand dataType=\"Float32\" band=\"1\" subClass=\"VRTDerivedRasterBand\">\
             <PixelFunctionType>terrapix_predict</PixelFunctionType><SimpleSource><SourceFilename>{}</SourceFilename><SourceBand>1</SourceBand>\
             </SimpleSource></VRTRasterBand></VRTDataset>",
            s(&covs)
        ),
    )
    .unwrap();
    gdal_fails_with("gdal_translate", &["-q", s(&vrt), s(&out)], None, "the argument model=PATH is required");
}

#[test]
fn the_documented_examples_run() {
    let examples = repo().join("gdal-vrt/examples");
    let make = Command::new("bash").arg(examples.join("make-data.sh")).env("TERRAPIX", env!("CARGO_BIN_EXE_terrapix")).output().unwrap();
    assert!(make.status.success(), "make-data.sh: {}", String::from_utf8_lossy(&make.stderr));
    let dir = tempdir();
    for example in ["ndvi_l8", "evi_l8_uint16", "soc_pixel", "soc_demo"] {
        let out = dir.path().join(format!("{example}.tif"));
        let vrt = examples.join(format!("{example}.vrt"));
        let mut cmd = Command::new("gdal_translate");
        cmd.current_dir(repo()).args(["-q", s(&vrt), s(&out)]);
        cmd.env("GDAL_DRIVER_PATH", plugin_dir()).env("TERRAPIX_ORT_LIB", terrapix::engine::ort_library().unwrap());
        cmd.env("TERRAPIX_TRUSTED_MODELS", repo().join("models"));
        let run = cmd.output().unwrap();
        assert!(run.status.success(), "{example}: {}", String::from_utf8_lossy(&run.stderr));
        let (v, _, _) = read_band(&out, 1);
        let valid: Vec<f32> = v.into_iter().filter(|x| x.is_finite() && *x != -9999.0).collect();
        assert!(valid.len() > 1000, "{example}: {} valid pixels", valid.len());
    }
    // The two bundled models agree broadly on the same landscape.
    let (a, _, _) = read_band(&dir.path().join("soc_pixel.tif"), 1);
    let (b, _, _) = read_band(&dir.path().join("soc_demo.tif"), 1);
    let pairs: Vec<(f32, f32)> = a.iter().zip(&b).filter(|(x, y)| **x != -9999.0 && **y != -9999.0).map(|(x, y)| (*x, *y)).collect();
    let mad = pairs.iter().map(|(x, y)| (x - y).abs()).sum::<f32>() / pairs.len() as f32;
    assert!(mad < 0.2, "mean absolute difference between the models: {mad}");
}

#[test]
fn a_host_that_loads_libterrapix_registers_the_driver_itself() {
    // What the QGIS plugin or a C program does: no GDAL_DRIVER_PATH, tpx_gdal_register() instead.
    let dir = tempdir();
    let d = dir.path();
    let (covs, _) = landscape(d, 100);
    let m = manifest(vec![input("x", Layout::window(3), &["elevation", "tpi"])], 1);
    let model = d.join("m.onnx");
    write_linear_bundle(&model, &m, 0.0);
    let vrt = d.join("m.vrt");
    terrapix_ok(&["vrt", "--model", s(&model), "--covariates", s(&covs), "-o", s(&vrt)]);
    let reference = d.join("predict.tif");
    predict_ok(&model, &[&covs], &reference, &[]);
    gdal::DriverManager::register_all();
    // SAFETY: loads the real libterrapix.so and calls its exported registration function, as a
    // C host does; the handle stays open for the process.
    unsafe {
        let lib = PathBuf::from(env!("CARGO_BIN_EXE_terrapix")).parent().unwrap().join("libterrapix.so");
        let name = std::ffi::CString::new(lib.to_str().unwrap()).unwrap();
        let handle = libc::dlopen(name.as_ptr(), libc::RTLD_NOW);
        assert!(!handle.is_null(), "dlopen {}", lib.display());
        let register = libc::dlsym(handle, c"tpx_gdal_register".as_ptr());
        assert!(!register.is_null(), "tpx_gdal_register is exported");
        let register: extern "C" fn() = std::mem::transmute(register);
        register();
        register(); // idempotent
    }
    assert!(gdal::DriverManager::get_driver_by_name("TERRAPIX").is_ok());
    let ds = gdal::Dataset::open(&vrt).expect("GDAL opens the prediction VRT in-process");
    let band = ds.rasterband(1).unwrap();
    let mut got = vec![0f32; 100 * 100];
    band.read_into_slice((0, 0), (100, 100), (100, 100), &mut got, None).unwrap();
    assert_eq!(got, read_band(&reference, 1).0);
}

#[test]
#[cfg_attr(not(feature = "train"), ignore = "trains a forest: needs the program built with --features train")]
fn quantile_forest_bands_through_gdal_translate_match_predict() {
    // A tree bundle trained here: its quantile bands come out of the driver as out of predict.
    let dir = tempdir();
    let d = dir.path();
    let land = terrapix::landscape::generate(150, 5);
    let w = land.write(d, 250, 5).unwrap();
    let samples = d.join("samples");
    terrapix_ok(&[
        "sample",
        s(&w.samples),
        "--covariates",
        s(&w.covariates),
        "--target",
        "soc",
        "--crs",
        "EPSG:32637",
        "--input",
        "x:pixel:elevation,slope,tpi,ndvi_2020",
        "-o",
        s(&samples),
    ]);
    let config = d.join("qrf.toml");
    std::fs::write(&config, "[model]\nkind = \"quantile_forest\"\ntrees = 20\n[cv]\nfolds = 3\n").unwrap();
    let model = d.join("qrf.onnx");
    terrapix_ok(&["train", "--samples", s(&samples), "--config", s(&config), "-o", s(&model)]);
    let (vrt, via_gdal, via_predict) = (d.join("qrf.vrt"), d.join("gdal.tif"), d.join("predict.tif"));
    terrapix_ok(&["vrt", "--model", s(&model), "--covariates", s(&w.covariates), "-o", s(&vrt)]);
    gdal_ok("gdal_translate", &["-q", s(&vrt), s(&via_gdal)], None);
    predict_ok(&model, &[&w.covariates], &via_predict, &[]);
    assert_same_map(&via_gdal, &via_predict, 5);
    let info = gdal_ok("gdalinfo", &[s(&vrt)], None);
    assert!(info.contains("Description = soc q05") && info.contains("Description = soc q95"), "{info}");
    let (q05, _, _) = read_band(&via_predict, 3);
    let (q95, _, _) = read_band(&via_predict, 5);
    assert!(q05.iter().zip(&q95).all(|(a, b)| a <= b));
}

/// The loader gdal_terrapix.so links no GDAL: on a GDAL it has no library for, GDAL's tools and
/// Python's osgeo (which loads GDAL privately, RTLD_LOCAL) print one warning naming both
/// versions and keep working; `gdalinfo --format TERRAPIX` then finds no such driver.
#[test]
fn a_gdal_without_its_library_gets_a_warning_naming_both_versions() {
    let built = PathBuf::from(env!("CARGO_BIN_EXE_terrapix")).parent().unwrap().to_path_buf();
    let dir = tempdir();
    std::fs::copy(built.join("libgdal_terrapix.so"), dir.path().join("gdal_terrapix.so")).unwrap();
    std::fs::write(dir.path().join("libterrapix-gdal9.9.so"), b"not for this GDAL").unwrap();
    let release = gdal::version::version_info("RELEASE_NAME");
    let run = |program: &str, args: &[&str]| {
        let out = Command::new(program).args(args).env("GDAL_DRIVER_PATH", dir.path()).output().unwrap();
        (out.status, String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
    };
    let (status, text) = run("gdalinfo", &["--formats"]);
    assert!(status.success(), "{text}");
    assert!(text.contains("GTiff"), "{text}");
    for needle in [format!("this GDAL is {release}"), "libraries for GDAL 9.9".into(), format!("libterrapix-gdal{}.so", gdal_minor())] {
        assert!(text.contains(&needle), "{needle}: {text}");
    }
    assert_eq!(text.matches("terrapix:").count(), 1, "{text}");
    let (status, text) =
        run("/usr/bin/python3", &["-c", "from osgeo import gdal; gdal.AllRegister(); print('driver', gdal.GetDriverByName('TERRAPIX'))"]);
    assert!(status.success(), "{text}");
    assert!(text.contains("driver None") && text.contains(&format!("this GDAL is {release}")), "{text}");
    // With its library, the same loader registers the driver in both hosts.
    let folder = plugin_dir();
    let out = gdal_ok("gdalinfo", &["--format", "TERRAPIX"], None);
    assert!(out.contains("TERRAPIX") && !out.contains("terrapix:"), "{out}");
    let out = gdal_ok(
        "/usr/bin/python3",
        &["-c", "from osgeo import gdal; gdal.AllRegister(); print(gdal.GetDriverByName('TERRAPIX').ShortName)"],
        None,
    );
    assert!(out.contains("TERRAPIX"), "{} {out}", folder.display());
}
