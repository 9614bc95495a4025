//! The `terrapix` command line: argument parsing and presentation over the library.

mod cli;

fn main() {
    // Behave like other Unix tools when output is piped into `head`: exit quietly on a closed
    // pipe instead of panicking in println!.
    // SAFETY: resetting a signal disposition to its default at start-up, before any thread exists.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let result = cli::run();
    // Stopped by a signal: whatever the command returned, exit as the shell expects.
    if let Some(signal) = cli::signals::received() {
        terrapix::output::remove_live_temporaries();
        cli::note(format_args!("terrapix: stopped by signal {signal}; nothing was left half-written"));
        std::process::exit(128 + signal);
    }
    if let Err(e) = result {
        cli::note(format_args!("terrapix: error: {e}"));
        std::process::exit(1);
    }
}
