//! The `terrapix` command line: argument parsing and presentation over the library.

mod cli;

fn main() {
    if let Err(e) = cli::run() {
        eprintln!("terrapix: error: {e}");
        std::process::exit(1);
    }
}
