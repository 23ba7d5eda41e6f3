//! Finding the suite's results: the typed id of each benchmark a comparison needs, and lookups of
//! what a run measured (times, sizes, workloads and thread counts, depth probes, memory and latency
//! entries). No decision is made here; `comparisons` decides.

use crate::analysis::aggregate::Results;
use crate::analysis::comparisons::{Timed, margin};
use crate::data::depth::ProbeKind;
use crate::data::id::{BenchId, Family, HeapKind, LargeBox, Layout, Owner, StackKind, TouchKind};
use crate::data::latency::{LatencyEntry, Op};
use crate::data::memory::MemoryEntry;
use crate::workload::allocators::AllocatorKind;
use crate::workload::contention::Workload;

/// `stack_vs_heap/<stack kind>/<size>`.
pub fn stack_id(kind: StackKind, bytes: u64) -> BenchId {
    BenchId::Stack { kind, bytes }
}

/// `stack_vs_heap/<heap kind>/<allocator>/<size>`.
pub fn heap_id(kind: HeapKind, allocator: AllocatorKind, bytes: u64) -> BenchId {
    BenchId::Heap {
        kind,
        allocator,
        bytes,
    }
}

/// `stack_vs_heap/box_new_large_<how>/system/<size>`.
pub fn large_box_id(how: LargeBox, bytes: u64) -> BenchId {
    BenchId::BoxNewLarge {
        how,
        allocator: AllocatorKind::System,
        bytes,
    }
}

/// `first_touch/<kind>[/<allocator>]/<size>`.
pub fn first_touch_id(kind: TouchKind, allocator: Option<AllocatorKind>, bytes: u64) -> BenchId {
    BenchId::FirstTouch {
        kind,
        allocator,
        bytes,
    }
}

/// `contention/<workload>/<allocator>/t<threads>`.
pub fn contention_id(workload: Workload, allocator: AllocatorKind, threads: usize) -> BenchId {
    BenchId::Contention {
        workload,
        allocator,
        threads,
    }
}

pub fn timed(results: &Results, id: &BenchId) -> Option<Timed> {
    results.bench(id).map(|b| Timed::of(b, margin(results)))
}

/// The distinct values, sorted.
pub fn distinct(values: impl IntoIterator<Item = u64>) -> Vec<u64> {
    let mut values: Vec<u64> = values.into_iter().collect();
    values.sort_unstable();
    values.dedup();
    values
}

/// Overflow probes of spawned threads with a requested stack size.
pub fn stack_probes(results: &Results) -> Vec<&crate::data::depth::DepthEntry> {
    results.depth.as_ref().map_or(Vec::new(), |d| {
        d.entries
            .iter()
            .filter(|e| {
                e.kind == ProbeKind::StdThread
                    && e.requested_stack_bytes.is_some()
                    && e.is_overflow()
            })
            .collect()
    })
}

/// `local_array` entries that found their largest array: (requested stack, largest array bytes).
pub fn largest_local_arrays(results: &Results) -> Vec<(u64, u64)> {
    let mut found: Vec<(u64, u64)> = results.depth.as_ref().map_or(Vec::new(), |d| {
        d.entries
            .iter()
            .filter(|e| e.kind == ProbeKind::LocalArray)
            .filter_map(|e| Some((e.requested_stack_bytes?, e.largest_local_array_bytes?)))
            .collect()
    });
    found.sort_unstable();
    found
}

/// `locality/<layout>/<owner>/<working set>`.
pub fn locality_id(layout: Layout, owner: Owner, working_set: u64) -> BenchId {
    BenchId::Locality {
        layout,
        owner,
        bytes: working_set,
    }
}

/// Working sets measured by the locality benchmarks, sorted.
pub fn locality_sets(results: &Results) -> Vec<u64> {
    distinct(
        results
            .benches
            .values()
            .filter(|b| b.family() == Family::Locality)
            .filter_map(|b| b.size_bytes()),
    )
}

pub fn time(results: &Results, id: &BenchId) -> Option<f64> {
    results.bench(id).map(|b| b.time.point_estimate)
}

/// Sizes present for the `stack_vs_heap` group, sorted.
pub fn sizes(results: &Results) -> Vec<u64> {
    distinct(results.benches.keys().filter_map(|key| match key {
        BenchId::Stack {
            kind: StackKind::Array,
            bytes,
        } => Some(*bytes),
        _ => None,
    }))
}

/// The contention workloads measured, in the order the benches list them.
pub fn contention_workloads(results: &Results) -> Vec<Workload> {
    Workload::ALL
        .into_iter()
        .filter(|&w| {
            results
                .benches
                .values()
                .any(|b| matches!(b.key, BenchId::Contention { workload, .. } if workload == w))
        })
        .collect()
}

pub fn contention_threads(results: &Results) -> Vec<usize> {
    let mut threads: Vec<usize> = results
        .benches
        .values()
        .filter(|b| b.family() == Family::Contention)
        .filter_map(|b| b.threads())
        .collect();
    threads.sort_unstable();
    threads.dedup();
    threads
}

/// Operations per second of `contention/<workload>/<alloc>/t<threads>`.
pub fn ops_per_second(
    results: &Results,
    workload: Workload,
    alloc: AllocatorKind,
    threads: usize,
) -> Option<f64> {
    results
        .bench(&contention_id(workload, alloc, threads))?
        .per_second()
        .map(|(v, _)| v)
}

/// The entry of `memory` for one workload, allocator and thread count.
pub fn memory_entry(
    memory: &[MemoryEntry],
    workload: Workload,
    allocator: AllocatorKind,
    threads: usize,
) -> Option<&MemoryEntry> {
    memory
        .iter()
        .find(|e| e.workload == workload && e.allocator == allocator && e.threads == threads)
}

/// The largest thread count of `memory` that is not oversubscribed.
pub fn memory_threads_within_cores(memory: &[MemoryEntry]) -> Option<usize> {
    memory
        .iter()
        .filter(|e| !e.oversubscribed)
        .map(|e| e.threads)
        .max()
}

/// The values of `render::findings::PERCENTILE_LABELS` for one entry, in ns.
pub fn latency_percentiles(e: &LatencyEntry) -> [f64; 4] {
    [e.p50_ns, e.p99_ns, e.p999_ns, e.max_ns]
}

/// The entry of `latency` for one cell and operation.
pub fn latency_entry(
    latency: &[LatencyEntry],
    workload: Workload,
    threads: usize,
    allocator: AllocatorKind,
    op: Op,
) -> Option<&LatencyEntry> {
    latency.iter().find(|e| {
        e.workload == workload && e.threads == threads && e.allocator == allocator && e.op == op
    })
}

/// The thread count a latency chart or finding shows for `workload`: the largest whose threads all fit
/// the cores.
pub fn latency_threads(latency: &[LatencyEntry], workload: Workload) -> Option<usize> {
    latency
        .iter()
        .filter(|e| e.workload == workload && !e.oversubscribed)
        .map(|e| e.threads)
        .max()
}

/// The workloads present in `latency`, in the suite's order.
pub fn latency_workloads(latency: &[LatencyEntry]) -> Vec<Workload> {
    Workload::ALL
        .into_iter()
        .filter(|w| latency.iter().any(|e| e.workload == *w))
        .collect()
}
