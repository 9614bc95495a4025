//! The `terrapix` command line: argument parsing and presentation over the library.

mod cli;

fn main() {
    // Behave like other Unix tools when output is piped into `head`: exit quietly on a closed
    // pipe instead of panicking in println!.
    // SAFETY: resetting a signal disposition to its default at start-up, before any thread exists.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    if let Err(e) = cli::run() {
        eprintln!("terrapix: error: {e}");
        std::process::exit(1);
    }
}
