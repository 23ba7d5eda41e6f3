//! stackheap measures what the stack and the heap really cost on the machine it runs on.
//!
//! The folders are layers, each using only the ones before it (checked by `tests/layers.rs`):
//!
//! - [`workload`]: what is measured, as plain functions tested for what they compute and allocate:
//!   stack arrays against heap blocks, first touch, locality, contention between threads sharing one
//!   heap, recursion depth; and the allocators.
//! - [`data`]: the typed benchmark ids and the result files' schemas, one type per file for writer
//!   and reader, and reading results back (Criterion's and the suite's own).
//! - [`harness`]: what runs the workloads and records them: child processes (one protocol), the
//!   stack-depth probe, the memory and latency meters, the machine description, result files, the
//!   callgrind instruction counts, the A/B gate's processes.
//! - [`analysis`]: statistics across processes, comparisons with their verdicts, findings, the
//!   regression verdict and the paired gate.
//! - [`render`]: numbers, tables and charts for people, and the report's formats.
//!
//! On top of them, [`own`] asks the suite's questions of the user's own code: their type on the
//! stack or boxed, their recursion's depth per stack size, their workload under each allocator.
//!
//! Under all of them: [`error`] (the one bad-input error), [`config`] (the one parser of
//! `STACKHEAP_*` lists) and [`platform`] (every Linux-only call). The bench files in `benches/` and
//! the CLIs in `src/bin/` sit on top. Results land in Criterion's `target/criterion/` and the
//! suite's own `target/stackheap/`.

/// The entry point of a bench file that asks stackheap's questions of your own code:
/// `stackheap::main!(questions)` or, beside Criterion groups in the same binary,
/// `stackheap::main!(questions, benches)`. It writes `fn main`, which serves a child process
/// before anything else runs, measures the questions the command line selects (a small plan under
/// `cargo test --benches` or `-- --test`), prints and saves their answers, then runs the groups.
///
/// ```no_run
/// #[global_allocator]
/// static GLOBAL: stackheap::own::ChosenAllocator = stackheap::own::ChosenAllocator;
///
/// fn questions(ask: &mut stackheap::own::Questions) {
///     ask.stack_or_box("pair", || (1u64, [2u64; 63]), |p| p.0 + p.1[62]);
/// }
///
/// stackheap::main!(questions);
/// ```
#[macro_export]
macro_rules! main {
    ($questions:path $(, $group:path)* $(,)?) => {
        fn main() {
            $crate::own::run($questions, &[$($group),*]);
        }
    };
}

pub mod analysis;
pub mod config;
pub mod data;
pub mod error;
pub mod harness;
pub mod own;
pub mod platform;
pub mod render;
pub mod workload;

use std::time::Duration;

/// The Criterion settings every bench of the suite starts from, before command-line flags apply.
///
/// Short warm-up and measurement keep a full `cargo bench` within minutes on a 2-core machine; pass
/// `--warm-up-time`, `--measurement-time` and `--sample-size` for publication-quality numbers. Plots
/// are off by default (Criterion's plotters backend costs 3-5 s per benchmark here, longer than the
/// measurement; the suite's report draws its own charts): `--plotting-backend plotters` turns them on.
///
/// In a repeated run of n processes (`scripts/run`), each process measures for 1/n of the time (at
/// least 100 ms warm-up, 250 ms measurement; 300 ms for the default three): the variance lives
/// between processes, so time is better spent on more processes than on longer ones, and the run
/// keeps a share of its budget for further processes where the rows are still unsettled.
pub fn criterion(process: harness::settings::Process) -> criterion::Criterion {
    let share =
        |ms: u64, floor: u64| Duration::from_millis((ms / u64::from(process.count)).max(floor));
    criterion::Criterion::default()
        .warm_up_time(share(300, 100))
        .measurement_time(share(900, 250))
        .sample_size(50)
        .without_plots()
}

// Test binaries count allocations per thread through the global allocator, so tests can prove that a
// workload allocates nothing (or exactly one block) through it.
#[cfg(test)]
#[global_allocator]
static GLOBAL: workload::allocators::ThreadCountingGlobal<std::alloc::System> =
    workload::allocators::ThreadCountingGlobal(std::alloc::System);
