//! The trainer's test binaries, and through the `links` metadata the program that links the
//! trainer, find libtorch by rpath in the folder torch-sys found it in.
fn main() {
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
        println!("cargo:libtorch_lib={lib}");
    }
}
