//! Your own code: the suite's questions asked of a user's own recursive function (and, as this
//! module grows, their own type and multi-threaded workload), from their own crate. It sits on top of
//! the layers, beside the benches and the binaries, and uses the same child protocol, statistics and
//! words.

pub mod allocator;
pub mod recursion;
