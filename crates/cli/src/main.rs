//! The `terrapix` command line: arguments converted into the library's requests ([`args`]),
//! one library call per command and its report printed ([`commands`]).

#[macro_use]
mod out;
mod args;
mod commands;
mod signals;

use clap::Parser;

fn main() {
    // Behave like other Unix tools when output is piped into `head`: exit quietly on a closed
    // pipe instead of failing to print.
    // SAFETY: resetting a signal disposition to its default at start-up, before any thread exists.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let cli = args::Cli::parse();
    signals::install();
    // GDAL's block cache defaults to 5 % of the machine's memory, and fills with whatever a run
    // reads: bounded from the start (unless GDAL_CACHEMAX is set), memory follows the tiles,
    // not the raster.
    terrapix::raster::bound_gdal_cache(commands::GDAL_CACHE_BYTES);
    let result = commands::run(cli.command);
    // Stopped by a signal: whatever the command returned, exit as the shell expects.
    if let Some(signal) = signals::received() {
        terrapix::output::remove_live_temporaries();
        out::write_note(format_args!("terrapix: stopped by signal {signal}; nothing was left half-written"));
        std::process::exit(128 + signal);
    }
    if let Err(e) = result {
        out::write_note(format_args!("terrapix: error: {e}"));
        std::process::exit(1);
    }
}
