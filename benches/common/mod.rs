//! What the bench binaries share: ending a run on bad input or a failure with one line.

/// Prints `error: <msg>` and ends the bench with exit code 2 (bad input, or a part that could not
/// run): one line, never a panic's backtrace.
pub fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(2)
}
