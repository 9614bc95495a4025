//! With the trainer, the program (and the tests linked like it) find libtorch by rpath in the
//! folder the trainer's build reports.
fn main() {
    if let Ok(lib) = std::env::var("DEP_TERRAPIX_LIBTORCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
}
