//! Shared-heap contention: multi-threaded allocate/free workloads through glibc malloc, jemalloc and
//! mimalloc, side by side, across thread counts; plus the peak memory of each in a fresh process and
//! the latency percentiles of single operations.
//! Run: `cargo bench --bench contention` (`STACKHEAP_THREADS=1,2` to choose thread counts).
//! Ids: `contention/<workload>/<allocator>/t<threads>` (throughput: allocator operations);
//! `stack_control` has the allocator part too (it runs the same code for each, with no allocation);
//! `producer_consumer*/t<P>` runs P producers and P consumers (2P threads).
//! The memory runs are selected by the filter `contention/memory`, the latency runs by
//! `contention/latency`.

mod common;

use common::fail;
use criterion::{Criterion, Throughput};
use stackheap::data::id::{BenchId, Part, contention_group};
use stackheap::data::memory::MemoryEntry;
use stackheap::harness::elsewhere::Elsewhere;
use stackheap::harness::machine::available_cores;
use stackheap::harness::memory::{self, MEMORY_ROUNDS, run_memory_child_if_requested};
use stackheap::harness::output::{BenchFilter, BenchMode};
use stackheap::harness::proof::Proof;
use stackheap::harness::settings::{
    Process, allocators_from_env, measured_here, thread_counts_from_env,
};
use stackheap::render::report::{latency_table, memory_table};
use stackheap::render::tables::markdown_table;
use stackheap::workload::allocators::AllocatorKind;
use stackheap::workload::contention::*;

fn measure_memory(
    threads: &[usize],
    allocators: &[AllocatorKind],
    cores: usize,
) -> Vec<MemoryEntry> {
    let exe = std::env::current_exe()
        .unwrap_or_else(|e| fail(&format!("cannot find this bench binary: {e}")));
    let (entries, idle) =
        memory::measure_memory(&exe, threads, allocators, cores).unwrap_or_else(|e| fail(&e));
    println!(
        "\npeak resident memory, fresh process per run ({MEMORY_ROUNDS} rounds; idle process: {:.1} MiB)",
        idle as f64 / 1048576.0
    );
    print!("{}", markdown_table(&memory_table(&entries)));
    entries
}

/// The runs with more threads at once than cores, as `t4` (every workload) or
/// `producer_consumer t2 (4 threads)` (workloads that run more threads than their count).
fn oversubscribed_runs(threads: &[usize], cores: usize) -> Vec<String> {
    let mut runs: Vec<String> = threads
        .iter()
        .filter(|&&t| t > cores)
        .map(|t| format!("t{t}"))
        .collect();
    for workload in Workload::ALL {
        for &t in threads.iter().filter(|&&t| t <= cores) {
            let os = workload.os_threads(t);
            if os > cores {
                runs.push(format!("{} t{t} ({os} threads)", workload.name()));
            }
        }
    }
    runs
}

fn main() {
    run_memory_child_if_requested();
    stackheap::harness::latency::in_child::run_latency_child_if_requested();
    let mode = BenchMode::current();
    let filter = BenchFilter::from_env().unwrap_or_else(|e| fail(&e.to_string()));
    let process = Process::from_env().unwrap_or_else(|e| fail(&e.to_string()));
    let cores = available_cores();
    let mut threads = thread_counts_from_env(cores).unwrap_or_else(|e| fail(&e));
    if mode == BenchMode::Test {
        // `cargo test`: one single-threaded and one oversubscribed run of each, once.
        threads = vec![1, cores + 1];
    }
    let oversubscribed = oversubscribed_runs(&threads, cores);
    if !oversubscribed.is_empty() && mode != BenchMode::List {
        eprintln!(
            "note: {} cores available: {} oversubscribed (more threads than cores): read those as time-sharing, not parallel scaling",
            cores,
            oversubscribed.join(", ")
        );
    }

    let chosen = process.order(allocators_from_env().unwrap_or_else(|e| fail(&e.to_string())));
    // Those this process measures itself; a library named at run time is timed by a worker it
    // serves, and its peak memory by a child it serves.
    let allocators = measured_here(&chosen).unwrap_or_else(|e| fail(&e.to_string()));
    let mut elsewhere = Elsewhere::new(env!("CARGO_BIN_EXE_stackheap-worker"));
    if mode != BenchMode::List {
        // Every workload once, through a counting wrapper, in this very build, before any timing,
        // on a thread of its own (see Proof::in_own_thread).
        let summary = Proof::in_own_thread(|proof| proof.contention(&threads, &allocators))
            .unwrap_or_else(|e| fail(&e.to_string()));
        eprintln!("{summary}");
    }
    let mut c: Criterion = stackheap::criterion(process).configure_from_args();
    for workload in Workload::ALL {
        let id = |allocator, threads| BenchId::Contention {
            workload,
            allocator,
            threads,
        };
        let mut group = c.benchmark_group(contention_group(workload));
        for &t in &threads {
            group.throughput(Throughput::Elements(workload.ops_per_round(t)));
            for &kind in &chosen {
                if !allocators.contains(&kind) {
                    elsewhere.bench(&mut group, kind, &id(kind, t), fail);
                    continue;
                }
                group.bench_function(id(kind, t).criterion_id(), |b| {
                    b.iter_custom(|rounds| {
                        run_named(kind, workload, t, rounds)
                            .unwrap_or_else(|e| fail(&e.to_string()))
                            .0
                    })
                });
            }
        }
        group.finish();
    }
    c.final_summary();

    // Memory and latency are measured once per run (by the first process of a repeated run).
    if mode == BenchMode::Bench && process.runs_once_parts() && filter.selects(Part::Memory.name())
    {
        let entries = measure_memory(&threads, &chosen, cores);
        common::write_or_exit("memory", &entries);
    }
    if mode == BenchMode::Bench && process.runs_once_parts() && filter.selects(Part::Latency.name())
    {
        let mut entries = stackheap::harness::latency::measure_all(&threads, &allocators, cores)
            .unwrap_or_else(|e| fail(&e.to_string()));
        // A library named at run time: in a child it serves.
        let exe = std::env::current_exe()
            .unwrap_or_else(|e| fail(&format!("cannot find this bench binary: {e}")));
        for &kind in chosen.iter().filter(|k| !allocators.contains(k)) {
            entries.extend(
                stackheap::harness::latency::in_child::measure_in_child(&exe, kind, &threads)
                    .unwrap_or_else(|e| fail(&e)),
            );
        }
        println!("\nlatency of single allocator operations (sampled; ns)");
        print!("{}", markdown_table(&latency_table(&entries)));
        common::write_or_exit("latency", &entries);
    }
    common::say_where_results_are(mode, process);
}
