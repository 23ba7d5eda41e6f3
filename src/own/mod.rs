//! Your own code: the suite's questions asked of a user's own recursive function (and, as this
//! module grows, their own type and multi-threaded workload), from their own crate. It sits on top of
//! the layers, beside the benches and the binaries, and uses the same child protocol, statistics and
//! words.

pub mod allocator;
pub mod recursion;
pub mod workload;

/// Writes one line to this process's stderr handle: a child's last words must reach its parent
/// even when the child is a libtest binary, which captures `eprintln!`.
pub(crate) fn say_error(line: std::fmt::Arguments) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}
