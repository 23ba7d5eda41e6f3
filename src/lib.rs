//! stackheap measures what the stack and the heap really cost on the machine it runs on.
//!
//! - [`arrays`]: stack-local arrays against heap blocks from glibc malloc, jemalloc and mimalloc, by
//!   size; first-touch page faults; the hidden stack copy of `Box::new([0; N])`.
//! - [`contention`]: threads with their own stacks sharing one heap: local churn, cross-thread frees,
//!   producer/consumer pipelines, larson, generations of short-lived threads, a stack-only control
//!   and a rayon job, through each allocator, across thread counts.
//! - [`locality`]: the same list walk over contiguous nodes (stack array, one heap block) and
//!   scattered ones (one allocation each, after churn), by working set: why the stack is "in cache".
//! - [`latency`]: percentiles of single allocation and free operations, sampled inside those
//!   workloads.
//! - [`depth`]: how deep a thread recurses before its stack overflows, measured by overflowing it in
//!   a child process, against `usable stack / bytes per level`.
//! - [`icount`]: instruction counts of the single-threaded workloads under callgrind, for CI gates
//!   that machine noise cannot fool.
//! - [`results`], [`report`], [`compare`]: reading results back, rendering reports (HTML, Markdown,
//!   JSON for CI tools) and the regression verdict against a saved baseline.
//!
//! Workloads are plain functions, each unit-tested for what it computes and what it allocates; the
//! bench files in `benches/` only choose parameters and hand workloads to Criterion. Results land in
//! Criterion's `target/criterion/` and the suite's own `target/stackheap/`.

pub mod ab;
pub mod allocators;
pub mod arrays;
pub mod chart;
pub mod child;
pub mod compare;
pub mod config;
pub mod contention;
pub mod depth;
pub mod findings;
pub mod first_touch;
pub mod icount;
pub mod id;
pub mod latency;
pub mod locality;
pub mod machine;
pub mod output;
pub mod platform;
pub mod report;
pub mod results;
pub mod stats;
pub mod units;

use std::time::Duration;

/// The Criterion settings every bench of the suite starts from, before command-line flags apply.
///
/// Short warm-up and measurement keep a full `cargo bench` within minutes on a 2-core machine; pass
/// `--warm-up-time`, `--measurement-time` and `--sample-size` for publication-quality numbers. Plots
/// are off by default (Criterion's plotters backend costs 3-5 s per benchmark here, longer than the
/// measurement; the suite's report draws its own charts): `--plotting-backend plotters` turns them on.
///
/// In a repeated run of n processes (`scripts/run`), each process measures for 1/n of the time (at
/// least 100 ms warm-up, 300 ms measurement): the variance lives between processes, so time is
/// better spent on more processes than on longer ones.
pub fn criterion() -> criterion::Criterion {
    let (_, processes) = output::process();
    let share = |ms: u64, floor: u64| Duration::from_millis((ms / u64::from(processes)).max(floor));
    criterion::Criterion::default()
        .warm_up_time(share(300, 100))
        .measurement_time(share(1200, 300))
        .sample_size(50)
        .without_plots()
}

// Test binaries count allocations per thread through the global allocator, so tests can prove that a
// workload allocates nothing (or exactly one block) through it.
#[cfg(test)]
#[global_allocator]
static GLOBAL: allocators::ThreadCountingGlobal<std::alloc::System> =
    allocators::ThreadCountingGlobal(std::alloc::System);
