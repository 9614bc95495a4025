//! Standard output and error that never panic: `println!` panics when stdout is a full device
//! (`terrapix info > /dev/full`) and `eprintln!` when stderr is closed. Lines go through here;
//! a failed write to stdout is an error the command returns (a closed pipe still ends the
//! program quietly through SIGPIPE, as `head` expects), a failed write to stderr is dropped.

use std::io::Write;

/// Writes one line to stdout.
pub fn line(text: std::fmt::Arguments) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_fmt(text)
        .and_then(|_| out.write_all(b"\n"))
        .and_then(|_| out.flush())
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot write to standard output: {e}")))
}

/// Writes one line to stderr, ignoring a failure (there is nowhere left to report it).
pub fn write_note(text: std::fmt::Arguments) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(text).and_then(|_| err.write_all(b"\n"));
}

/// `println!` that returns the write error from the enclosing function.
macro_rules! say {
    ($($t:tt)*) => { $crate::out::line(format_args!($($t)*))? };
}

/// `eprintln!` that cannot panic.
macro_rules! note {
    ($($t:tt)*) => { $crate::out::write_note(format_args!($($t)*)) };
}
