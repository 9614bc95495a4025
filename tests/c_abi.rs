//! The C ABI: the checked-in header is what cbindgen generates now, and a real C program,
//! compiled with the system compiler against libterrapix.so, uses every entry point.

mod common;

use common::*;
use terrapix::bundle::Layout;

/// Compares (or, with TERRAPIX_UPDATE_HEADER, rewrites) a checked-in header with what cbindgen
/// generates now.
fn check_header(name: &str, generated: Vec<u8>) {
    let path = repo().join("include").join(name);
    if std::env::var_os("TERRAPIX_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let current = std::fs::read(&path).unwrap_or_default();
    assert!(current == generated, "include/{name} is stale: regenerate it with `TERRAPIX_UPDATE_HEADER=1 cargo test --test c_abi`");
}

#[test]
fn header_is_up_to_date() {
    let root = repo().join("crates/capi");
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new().with_crate(&root).with_config(config).generate().expect("cbindgen generates the header").write(&mut generated);
    check_header("terrapix.h", generated);
}

/// The GDAL driver shim (driver.cpp) includes a header generated from the Rust exports it
/// calls, so the two sides cannot drift apart.
#[test]
fn driver_header_is_up_to_date() {
    let root = repo().join("crates/capi");
    let config = cbindgen::Config::from_file(root.join("cbindgen-driver.toml")).expect("cbindgen-driver.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_src(root.join("src/gdal_plugin/driver.rs"))
        .with_src(root.join("src/boundary.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen generates the driver header")
        .write(&mut generated);
    check_header("terrapix_driver.h", generated);
}

const PROGRAM: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "terrapix.h"

static int calls = 0;
static int sample_calls = 0;
static int count_calls(double fraction, const char *message, void *user) {
    (void)fraction; (void)message; (void)user;
    sample_calls++;
    return 1;
}
static int stop_after_two(double fraction, const char *message, void *user) {
    (void)fraction; (void)message; (void)user;
    return ++calls < 2;
}

int main(int argc, char **argv) {
    const char *model_path = argv[1], *covs = argv[2], *out = argv[3];
    const char *vrt = argv[4], *points = argv[5], *samples = argv[6];
    printf("version %s\n", tpx_version());

    TpxModel *bad = tpx_model_open("/no/such/model.onnx", 0, 0);
    if (bad != NULL) return 10;
    printf("bad open: %s\n", tpx_last_error());

    TpxModel *m = tpx_model_open(model_path, 2, 1);
    if (!m) { printf("open failed: %s\n", tpx_last_error()); return 11; }
    TpxModelInfo info;
    if (tpx_model_info(m, &info) != TPX_OK) return 12;
    printf("info covariates=%zu halo=%zu cell=%zu outputs=%zu\n", info.covariates, info.halo, info.cell, info.outputs);
    printf("covariate0 %s\n", tpx_model_covariate(m, 0));
    char *json = tpx_model_manifest_json(m);
    printf("manifest has schema: %d\n", strstr(json, "\"schema\": 1") != NULL);
    tpx_string_free(json);

    /* A 4 x 3 block with the model's halo: covariate b has value (b + 1) everywhere, one missing. */
    size_t w = 4, h = 3, pw = w + 2 * info.halo, ph = h + 2 * info.halo;
    float *in = malloc(sizeof(float) * info.covariates * pw * ph);
    for (size_t b = 0; b < info.covariates; b++)
        for (size_t i = 0; i < pw * ph; i++) in[b * pw * ph + i] = (float)(b + 1);
    in[(info.halo) * pw + info.halo] = -1.0f; /* core pixel (0, 0) of band 0 is nodata */
    float out_buf[12];
    if (tpx_predict_buffer(m, in, info.covariates, w, h, info.halo, -1.0f, NULL, out_buf, 12) != TPX_OK) {
        printf("buffer failed: %s\n", tpx_last_error()); return 13;
    }
    printf("buffer %.6f %.6f\n", out_buf[0], out_buf[6]);
    if (tpx_predict_buffer(m, in, info.covariates + 1, w, h, info.halo, -1.0f, NULL, out_buf, 12) != TPX_INVALID_ARGUMENT) return 14;
    printf("wrong bands: %s\n", tpx_last_error());
    free(in);

    const char *paths[1] = { covs };
    TpxStatus s = tpx_predict_raster(m, paths, 1, out, "{\"tile\": 16}", stop_after_two, NULL);
    printf("cancelled: %d (%s)\n", s == TPX_CANCELLED, tpx_last_error());
    s = tpx_predict_raster(m, paths, 1, out, "{\"tile\": 32, \"compress\": \"LZW\"}", NULL, NULL);
    if (s != TPX_OK) { printf("raster failed: %s\n", tpx_last_error()); return 15; }
    s = tpx_predict_raster(m, paths, 1, out, "{\"bogus\": 1}", NULL, NULL);
    printf("bad options: %d (%s)\n", s == TPX_INVALID_ARGUMENT, tpx_last_error());
    if (tpx_model_close(m) != TPX_OK) return 18;

    /* Misuse that can be detected is an error, never a crash. */
    printf("closed twice: %d\n", tpx_model_close(m) == TPX_INVALID_HANDLE);
    s = tpx_model_info(m, &info);
    printf("use after close: %d (%s)\n", s == TPX_INVALID_HANDLE, tpx_last_error());
    printf("made-up handle: %d\n", tpx_model_info((TpxModel *)(void *)0x1234, &info) == TPX_INVALID_HANDLE);
    printf("manifest after close: %d\n", tpx_model_manifest_json(m) == NULL);
    TpxModel *m2 = tpx_model_open(model_path, 1, 1);
    char *text = tpx_model_describe(m2);
    printf("describe: %d\n", text != NULL && strstr(text, "Covariates needed: 2") != NULL);
    tpx_string_free(text);
    tpx_string_free(text); /* a second free is ignored */
    tpx_model_close(m2);

    if (tpx_write_prediction_vrt(model_path, paths, 1, vrt, NULL) != TPX_OK) { printf("vrt failed: %s\n", tpx_last_error()); return 16; }
    s = tpx_write_prediction_vrt(model_path, paths, 1, vrt, "{\"bind\": [\"slope=99\"]}");
    printf("bad vrt: %d (%s)\n", s == TPX_INVALID_ARGUMENT, tpx_last_error());
    s = tpx_predict_raster(NULL, paths, 1, covs, NULL, NULL, NULL);
    printf("null model: %d\n", s == TPX_INVALID_ARGUMENT);
    char *summary = NULL;
    s = tpx_sample(points, paths, 1, samples, "{\"target\": \"soc\", \"crs\": \"EPSG:32637\"}", count_calls, NULL, &summary);
    if (s != TPX_OK) { printf("sample failed: %s\n", tpx_last_error()); return 17; }
    printf("sample %s\n", summary);
    printf("sample progress calls: %d\n", sample_calls > 0);
    tpx_string_free(summary);

    /* The library's workflows through one JSON request each, and their misuse. */
    char request[4096], *report = NULL;
    snprintf(request, sizeof request,
             "{\"model\": \"%s\", \"points\": \"%s\", \"covariates\": [\"%s\"], "
             "\"point_options\": {\"target\": \"soc\", \"crs\": \"EPSG:32637\"}}", model_path, points, covs);
    s = tpx_validate(request, 1, 1, count_calls, NULL, &report);
    if (s != TPX_OK) { printf("validate failed: %s\n", tpx_last_error()); return 19; }
    printf("validate has metrics: %d\n", strstr(report, "\"rmse\"") != NULL && strstr(report, "\"summary\"") != NULL);
    tpx_string_free(report);
    printf("validate null: %d\n", tpx_validate(NULL, 1, 1, NULL, NULL, &report) == TPX_INVALID_ARGUMENT);
    s = tpx_validate("{\"model\": 3", 1, 1, NULL, NULL, &report);
    printf("validate malformed: %d (%s)\n", s == TPX_INVALID_ARGUMENT, tpx_last_error());
    s = tpx_validate("{\"modle\": \"m.onnx\"}", 1, 1, NULL, NULL, &report);
    printf("validate unknown key: %d (%s)\n", s == TPX_INVALID_ARGUMENT, tpx_last_error());
    s = tpx_validate("{\"model\": \"a\", \"model\": \"b\"}", 1, 1, NULL, NULL, &report);
    printf("validate duplicate key: %d (%s)\n", s == TPX_INVALID_ARGUMENT, tpx_last_error());
    snprintf(request, sizeof request, "{\"model\": \"%s\", \"points\": \"%s\", \"point_options\": {\"tragte\": \"soc\"}}", model_path, points);
    s = tpx_validate(request, 1, 1, NULL, NULL, &report);
    printf("validate unknown option: %d (%s)\n", s == TPX_INVALID_ARGUMENT, tpx_last_error());
    snprintf(request, sizeof request,
             "{\"model\": \"%s\", \"points\": \"%s\", \"covariates\": [\"%s\"], \"output\": \"%s\", "
             "\"point_options\": {\"target\": \"soc\", \"crs\": \"EPSG:32637\"}}", model_path, points, covs, points);
    s = tpx_validate(request, 1, 1, NULL, NULL, &report);
    printf("validate over its points: %d (%s)\n", s == TPX_WRITE_FAILED, tpx_last_error());
    s = tpx_cdf_match("{\"source\": \"/no/such/source.nc\", \"reference\": \"/no/such/ref.nc\", \"output\": \"/tmp/x.nc\"}", NULL, NULL, &report);
    printf("cdf-match missing: %d (%s)\n", s != TPX_OK && s != TPX_INVALID_HANDLE, tpx_last_error());
    s = tpx_cdf_match("{\"source\": \"a.nc\", \"output\": \"b.nc\", \"options\": {\"min_count\": -1}}", NULL, NULL, &report);
    printf("cdf-match bad options: %d (%s)\n", s == TPX_INVALID_ARGUMENT, tpx_last_error());
    snprintf(request, sizeof request, "{\"model\": \"%s\", \"cubes\": [], \"output\": \"/tmp/terrapix-none.nc\"}", model_path);
    s = tpx_predict_cube(request, 1, 1, NULL, NULL, &report);
    printf("predict-cube without cubes: %d (%s)\n", s == TPX_INVALID_ARGUMENT, tpx_last_error());
    char *table = NULL;
    if (tpx_samples_table(samples, &table) != TPX_OK) { printf("table failed: %s\n", tpx_last_error()); return 20; }
    printf("table has columns: %d\n", strstr(table, "\"columns\":[\"elevation\"") != NULL);
    tpx_string_free(table);
    s = tpx_samples_table("/no/such/folder", &table);
    printf("table of nothing: %d (%s)\n", s != TPX_OK, tpx_last_error());
    printf("table null: %d\n", tpx_samples_table(samples, NULL) == TPX_INVALID_ARGUMENT);
    printf("status names: %s %s %s\n", tpx_status_string(4), tpx_status_string(99), tpx_status_string(-1));
    char *names = NULL;
    printf("option names: %d\n", tpx_option_names(&names) == TPX_OK && strstr(names, "\"by_order\"") != NULL);
    tpx_string_free(names);
    /* A host's own output checked by the output rule: over its input, over an input named as a
       GDAL subdataset, in a missing folder, of an unknown kind, and a fine one. */
    snprintf(request, sizeof request, "{\"output\": \"%s\", \"kind\": \"geotiff\", \"inputs\": [{\"role\": \"raster\", \"path\": \"%s\"}]}", covs, covs);
    s = tpx_check_output(request);
    printf("check over its input: %d (%s)\n", s == TPX_WRITE_FAILED, tpx_last_error());
    snprintf(request, sizeof request, "{\"output\": \"%s\", \"inputs\": [{\"role\": \"cube\", \"path\": \"NETCDF:\\\"%s\\\":sm\"}]}", covs, covs);
    s = tpx_check_output(request);
    printf("check over a subdataset: %d (%s)\n", s == TPX_WRITE_FAILED, tpx_last_error());
    s = tpx_check_output("{\"output\": \"/no/such/folder/x.tif\", \"kind\": \"geotiff\"}");
    printf("check no folder: %d (%s)\n", s == TPX_WRITE_FAILED, tpx_last_error());
    s = tpx_check_output("{\"output\": \"x.tif\", \"kind\": \"gif\"}");
    printf("check bad kind: %d (%s)\n", s == TPX_INVALID_ARGUMENT, tpx_last_error());
    snprintf(request, sizeof request, "{\"output\": \"%s.new.tif\", \"kind\": \"geotiff\", \"inputs\": [{\"role\": \"raster\", \"path\": \"%s\"}]}", covs, covs);
    printf("check fine: %d\n", tpx_check_output(request) == TPX_OK);
    printf("check null: %d\n", tpx_check_output(NULL) == TPX_INVALID_ARGUMENT);
    printf("done\n");
    return 0;
}
"#;

#[test]
fn a_c_program_uses_the_library() {
    let dir = tempdir();
    let (covs, land) = landscape(dir.path(), 64);
    let m = manifest(vec![input("x", Layout::window(3), &["elevation", "slope"])], 1);
    let model = dir.path().join("m.onnx");
    let w = write_linear_bundle(&model, &m, 0.25);
    let src = dir.path().join("main.c");
    std::fs::write(&src, PROGRAM).unwrap();
    // The cdylib sits next to the test binary's deps folder: target/<profile>/libterrapix.so.
    let lib_dir = std::path::PathBuf::from(env!("CARGO_BIN_EXE_terrapix")).parent().unwrap().to_path_buf();
    assert!(lib_dir.join("libterrapix.so").exists(), "libterrapix.so in {}", lib_dir.display());
    let exe = dir.path().join("main");
    let cc = std::process::Command::new("cc")
        .args(["-std=c99", "-Wall", "-Werror", "-o"])
        .arg(&exe)
        .arg(&src)
        .arg(format!("-I{}", repo().join("include").display()))
        .arg(format!("-L{}", lib_dir.display()))
        .args(["-lterrapix", &format!("-Wl,-rpath,{}", lib_dir.display())])
        .output()
        .unwrap();
    assert!(cc.status.success(), "cc: {}", String::from_utf8_lossy(&cc.stderr));
    let map = dir.path().join("map.tif");
    let (vrt, samples) = (dir.path().join("p.vrt"), dir.path().join("samples"));
    let points = dir.path().join("samples.csv");
    let run = std::process::Command::new(&exe).arg(&model).arg(&covs).arg(&map).arg(&vrt).arg(&points).arg(&samples).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "C program exit {:?}:\n{stdout}\n{}", run.status.code(), String::from_utf8_lossy(&run.stderr));
    assert!(stdout.contains(&format!("version {}", terrapix::VERSION)), "{stdout}");
    assert!(stdout.contains("bad open: cannot read model '/no/such/model.onnx'"), "{stdout}");
    assert!(stdout.contains("info covariates=2 halo=1 cell=1 outputs=1"), "{stdout}");
    assert!(stdout.contains("covariate0 elevation") && stdout.contains("manifest has schema: 1"), "{stdout}");
    // Pixel (0,0) needs the missing value: nodata. Pixel (2,1)'s window is all present:
    // band 0 = 1 and band 1 = 2 everywhere, except the missing one, outside its window.
    let expect: f32 = (0..9).map(|i| w[i]).sum::<f32>() * 1.0 + (9..18).map(|i| w[i]).sum::<f32>() * 2.0 + 0.25;
    let line = stdout.lines().find(|l| l.starts_with("buffer ")).unwrap();
    let vals: Vec<f32> = line[7..].split(' ').map(|v| v.parse().unwrap()).collect();
    assert_eq!(vals[0], -9999.0, "{line}");
    assert!((vals[1] - expect).abs() < 1e-5, "{line} vs {expect}");
    assert!(stdout.contains("wrong bands: the model needs 2 covariate bands, got 3"), "{stdout}");
    assert!(stdout.contains("cancelled: 1 (cancelled; no output was written)"), "{stdout}");
    assert!(stdout.contains("bad options: 1 (options_json: unknown option 'bogus'"), "{stdout}");
    for line in [
        "closed twice: 1",
        "use after close: 1 (model handle is not open",
        "made-up handle: 1",
        "manifest after close: 1",
        "describe: 1",
        "null model: 1",
        "sample progress calls: 1",
        "validate has metrics: 1",
        "validate null: 1",
        "validate malformed: 1 (request_json:",
        "validate unknown key: 1 (request_json: unknown field `modle`",
        "validate duplicate key: 1 (request_json: the key 'model' appears twice",
        "validate unknown option: 1 (request_json: unknown option 'tragte' in \"point_options\"",
        "validate over its points: 1 (refusing to write",
        "cdf-match missing: 1 (",
        "cdf-match bad options: 1 (request_json:",
        "predict-cube without cubes: 1 (no time-varying covariate cube is bound",
        "table has columns: 1",
        "table of nothing: 1 (cannot read samples '/no/such/folder'",
        "table null: 1",
        "status names: TPX_NOT_FOUND TPX_UNKNOWN_STATUS TPX_UNKNOWN_STATUS",
        "option names: 1",
        "check over its input: 1 (refusing to write",
        "check over a subdataset: 1 (refusing to write",
        "check no folder: 1 (cannot write '/no/such/folder/x.tif': folder '/no/such/folder' does not exist",
        "check bad kind: 1 (request_json: unknown variant `gif`",
        "check fine: 1",
        "check null: 1",
    ] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    assert!(stdout.contains("done"), "{stdout}");
    // The VRT and its job were written; a bad binding is refused before anything is written.
    assert!(vrt.exists() && vrt.with_extension("tpx").exists());
    assert!(stdout.contains("bad vrt: 1 (") && stdout.contains("99"), "{stdout}");
    // Sampling without a model: every band of the covariates, per pixel.
    let line = stdout.lines().find(|l| l.starts_with("sample ")).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&line[7..]).unwrap();
    assert_eq!(summary["points"], 50, "{line}");
    assert!(summary["count"].as_u64().unwrap() > 40, "{line}");
    let channels = summary["inputs"][0]["channels"].as_array().unwrap();
    assert_eq!(channels[0]["covariate"], "elevation", "{line}");
    assert!(samples.join("x.npy").exists());
    assert_map_eq(&map, 1, &expected_linear(&m, &w, 0.25, &land)[0], -9999.0, 1e-5);
}

/// The shipped library carries no command-line or demo code, and nothing that starts a Python
/// process to find ONNX Runtime (it runs inside GDAL hosts): the linker keeps only what the
/// exports reach.
#[test]
fn the_shared_library_carries_no_command_line_code() {
    let lib = std::path::PathBuf::from(env!("CARGO_BIN_EXE_terrapix")).parent().unwrap().join("libterrapix.so");
    let out = std::process::Command::new("nm").args(["-C", "--defined-only"]).arg(&lib).output().expect("nm (binutils)");
    assert!(out.status.success());
    let symbols = String::from_utf8_lossy(&out.stdout);
    assert!(symbols.contains("tpx_predict_raster"), "nm lists the exports");
    for name in ["clap::", "indicatif::", "signal_hook::", "landscape::", "ort_library_of_python"] {
        assert!(!symbols.contains(name), "libterrapix.so contains {name}");
    }
}
