//! Stack depth: recursion until overflow in spawned threads with configured stack and frame sizes
//! (each probe in a child process), next to the predicted depth; plus the time of one recursion level
//! by frame size and of spawning a thread by stack size.
//! Ids: `stack_depth/recursion_level/<frame>`, `stack_depth/spawn_join/<stack>`; probes are selected
//! by the filter `stack_depth/overflow_probes`.

use criterion::{Criterion, Throughput};
use stackheap::depth::*;
use stackheap::id::{BenchId, DepthBench, Family, Part};
use stackheap::output::{BenchFilter, BenchMode, write_results};
use std::time::{Duration, Instant};

/// Levels recursed per timed call: deep enough to amortise the call, shallow enough for 16 KiB frames
/// (1 MiB) to fit the bench's main-thread stack.
const TIMED_LEVELS: u64 = 64;
/// A probe that takes longer than this is killed and reported as hung.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// The heap loop goes this many times deeper than the 2 MiB stack allowed.
const HEAP_LOOP_FACTOR: u64 = 101;
const RUST_DEFAULT_STACK: usize = 2 << 20;

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(2)
}

fn probes(stacks: &[usize], frames: &[usize]) -> Vec<Probe> {
    let mut probes = Vec::new();
    for &frame in frames {
        for &stack in stacks {
            probes.push(Probe {
                kind: ProbeKind::StdThread,
                stack: Some(stack),
                frame,
            });
        }
        probes.push(Probe {
            kind: ProbeKind::StdThread,
            stack: None,
            frame,
        });
        probes.push(Probe {
            kind: ProbeKind::RustMinStack,
            stack: Some(RUST_MIN_STACK_PROBE),
            frame,
        });
        probes.push(Probe {
            kind: ProbeKind::Rayon,
            stack: Some(RUST_DEFAULT_STACK),
            frame,
        });
    }
    probes
}

fn run_overflow_probes(stacks: &[usize], frames: &[usize], mode: BenchMode) -> Vec<DepthEntry> {
    let child = ChildCommand::current_exe()
        .unwrap_or_else(|e| fail(&format!("cannot find this bench binary to re-execute: {e}")));
    let started = Instant::now();
    let mut entries: Vec<DepthEntry> = probes(stacks, frames)
        .iter()
        .map(|probe| run_probe(&child, probe, PROBE_TIMEOUT))
        .collect();
    let probe_time = started.elapsed();
    for &frame in frames {
        // 100x deeper than Rust's default 2 MiB stack allowed for this frame, in a thread of that size.
        let stack_depth = entries
            .iter()
            .find(|e| {
                e.kind == ProbeKind::StdThread
                    && e.requested_stack_bytes.is_none()
                    && e.frame_bytes == frame as u64
            })
            .and_then(|e| e.measured_depth)
            .unwrap_or((RUST_DEFAULT_STACK / (frame + 64)) as u64);
        let cap = if mode == BenchMode::Test {
            10_000
        } else {
            stack_depth * HEAP_LOOP_FACTOR
        };
        entries.push(run_heap_loop(RUST_DEFAULT_STACK, frame, cap));
    }
    // The folklore's `char test[1000000]`: the largest local array each stack size holds.
    let arrays_started = Instant::now();
    entries.extend(
        stacks
            .iter()
            .map(|&stack| run_local_array_probe(&child, stack, PROBE_TIMEOUT)),
    );
    let arrays_time = arrays_started.elapsed();
    println!(
        "\nstack depth until overflow ({})",
        stackheap::machine::Machine::current().summary()
    );
    print!("{}", format_table(&entries));
    println!(
        "{} overflow probes in {:.2} s",
        entries
            .iter()
            .filter(|e| !matches!(e.kind, ProbeKind::HeapLoop | ProbeKind::LocalArray))
            .count(),
        probe_time.as_secs_f64()
    );
    println!(
        "largest local array bisected for {} stack sizes in {:.2} s",
        stacks.len(),
        arrays_time.as_secs_f64()
    );
    entries
}

fn main() {
    run_child_if_requested();
    let mode = BenchMode::current();
    let filter = BenchFilter::current();
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
    let mut c: Criterion = stackheap::criterion().configure_from_args();

    if mode != BenchMode::List && filter.selects(Part::OverflowProbes.name()) {
        let entries = run_overflow_probes(&stacks, &frames, mode);
        if mode == BenchMode::Bench {
            match write_results("depth", &entries) {
                Ok(path) => println!("wrote {}\n", path.display()),
                Err(e) => fail(&format!("could not write target/stackheap/depth.json: {e}")),
            }
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
            b.iter(|| {
                std::thread::Builder::new()
                    .stack_size(stack)
                    .spawn(|| std::hint::black_box(1))
                    .expect("thread spawn")
                    .join()
            })
        });
    }
    group.finish();
    c.final_summary();
}
