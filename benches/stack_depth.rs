//! Stack depth: recursion until overflow in spawned threads with configured stack and frame sizes
//! (each probe in a child process), next to the predicted depth; plus the time of one recursion level
//! by frame size and of spawning a thread by stack size.
//! Ids: `stack_depth/recursion_level/<frame>`, `stack_depth/spawn_join/<stack>`; probes are selected
//! by the filter `stack_depth/overflow_probes`.

mod common;

use common::fail;
use criterion::{Criterion, Throughput};
use stackheap::data::depth::ProbeKind;
use stackheap::data::id::{BenchId, DepthBench, Family, Part};
use stackheap::harness::depth_probe::{ChildCommand, run_child_if_requested, run_depth_part};
use stackheap::harness::output::{BenchFilter, BenchMode};
use stackheap::harness::settings::{Process, frame_sizes_from, stack_sizes_from};
use stackheap::render::depth_table::depth_table;
use stackheap::workload::depth::{TIMED_LEVELS, recurse_to, spawn_join};
use std::time::Duration;

/// A probe child still running after this is stuck, not slow (a probe takes milliseconds).
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the stack-depth part and prints its table.
fn run_overflow_probes(
    stacks: &[usize],
    frames: &[usize],
    mode: BenchMode,
) -> Vec<stackheap::data::depth::DepthEntry> {
    let child = ChildCommand::current_exe()
        .unwrap_or_else(|e| fail(&format!("cannot find this bench binary to re-execute: {e}")));
    // `cargo test` keeps the heap loop short.
    let heap_loop_cap = (mode == BenchMode::Test).then_some(10_000);
    let run = run_depth_part(&child, stacks, frames, PROBE_TIMEOUT, heap_loop_cap);
    println!(
        "\nstack depth until overflow ({})",
        stackheap::data::machine::Machine::current().summary()
    );
    print!("{}", depth_table(&run.entries));
    println!(
        "{} overflow probes in {:.2} s",
        run.entries
            .iter()
            .filter(|e| !matches!(e.kind, ProbeKind::HeapLoop | ProbeKind::LocalArray))
            .count(),
        run.probe_time.as_secs_f64()
    );
    println!(
        "largest local array bisected for {} stack sizes in {:.2} s",
        stacks.len(),
        run.arrays_time.as_secs_f64()
    );
    run.entries
}

fn main() {
    run_child_if_requested();
    let mode = BenchMode::current();
    let filter = BenchFilter::from_env().unwrap_or_else(|e| fail(&e.to_string()));
    let process = Process::from_env().unwrap_or_else(|e| fail(&e.to_string()));
    let env = |name| std::env::var(name).ok();
    let (mut stacks, mut frames) = match (
        stack_sizes_from(env("STACKHEAP_STACK_SIZES").as_deref()),
        frame_sizes_from(env("STACKHEAP_FRAME_SIZES").as_deref()),
    ) {
        (Ok(s), Ok(f)) => (s, f),
        (Err(e), _) | (_, Err(e)) => fail(&e.to_string()),
    };
    if mode == BenchMode::Test {
        // `cargo test` checks that the probe works on a corner of the matrix, quickly.
        stacks.retain(|&s| s == 64 << 10 || s == 256 << 10);
        frames.retain(|&f| f == 256 || f == 1024);
    }
    let mut c: Criterion = stackheap::criterion(process).configure_from_args();

    if mode != BenchMode::List && filter.selects(Part::OverflowProbes.name()) {
        let entries = run_overflow_probes(&stacks, &frames, mode);
        if mode == BenchMode::Bench {
            common::write_or_exit("depth", &entries);
        }
    }

    let id = |kind, bytes: usize| {
        BenchId::Depth {
            kind,
            bytes: bytes as u64,
        }
        .criterion_id()
    };
    let mut group = c.benchmark_group(Family::StackDepth.name());
    group.throughput(Throughput::Elements(TIMED_LEVELS));
    for &frame in &frames {
        group.bench_function(id(DepthBench::RecursionLevel, frame), |b| {
            b.iter(|| recurse_to(frame, TIMED_LEVELS))
        });
    }
    group.throughput(Throughput::Elements(1));
    for &stack in &stacks {
        group.bench_function(id(DepthBench::SpawnJoin, stack), |b| {
            b.iter(|| spawn_join(stack).unwrap_or_else(|e| fail(&format!("thread spawn: {e}"))))
        });
    }
    group.finish();
    c.final_summary();
    common::say_where_results_are(mode, process);
}
