//! Builds the C++ shim of the TERRAPIX GDAL driver, and compiles the vendored ONNX protobuf schema (proto/onnx.proto, Apache-2.0, from the `onnx`
//! project) into Rust types with prost. protox is a pure-Rust protobuf compiler, so building
//! terrapix needs no `protoc` on the machine.
fn main() {
    println!("cargo:rerun-if-changed=proto/onnx.proto");
    println!("cargo:rerun-if-changed=src/gdal_plugin/driver.cpp");
    // The TERRAPIX GDAL driver shim, compiled against the system GDAL's C++ headers.
    let gdal_include = std::process::Command::new("gdal-config")
        .arg("--cflags")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut cpp = cc::Build::new();
    cpp.cpp(true).std("c++17").file("src/gdal_plugin/driver.cpp").include("include").warnings(true);
    println!("cargo:rerun-if-changed=include/terrapix_driver.h");
    for flag in gdal_include.split_whitespace() {
        match flag.strip_prefix("-I") {
            Some(dir) => cpp.include(dir),
            None => cpp.flag(flag),
        };
    }
    cpp.compile("terrapix_gdal_driver");
    // With the trainer, binaries find libtorch (inside the torch Python package) by rpath.
    if std::env::var_os("CARGO_FEATURE_TRAIN").is_some() {
        for python in ["python", "python3"] {
            let out = std::process::Command::new(python)
                .args(["-c", "import os, torch; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))"])
                .output();
            if let Some(out) = out.ok().filter(|o| o.status.success()) {
                let lib = String::from_utf8_lossy(&out.stdout).trim().to_string();
                println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
                break;
            }
        }
    }
    let fds = protox::compile(["proto/onnx.proto"], ["proto"]).expect("compile proto/onnx.proto");
    prost_build::Config::new().compile_fds(fds).expect("generate ONNX protobuf types");
}
