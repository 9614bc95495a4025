//! Builds the C++ shim of the TERRAPIX GDAL driver against the system GDAL's C++ headers.
fn main() {
    println!("cargo:rerun-if-changed=src/gdal_plugin/driver.cpp");
    // The TERRAPIX GDAL driver shim, compiled against the system GDAL's C++ headers.
    let gdal_include = std::process::Command::new("gdal-config")
        .arg("--cflags")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut cpp = cc::Build::new();
    cpp.cpp(true).std("c++17").file("src/gdal_plugin/driver.cpp").include("../../include").warnings(true);
    println!("cargo:rerun-if-changed=../../include/terrapix_driver.h");
    for flag in gdal_include.split_whitespace() {
        match flag.strip_prefix("-I") {
            Some(dir) => cpp.include(dir),
            None => cpp.flag(flag),
        };
    }
    cpp.compile("terrapix_gdal_driver");
}
