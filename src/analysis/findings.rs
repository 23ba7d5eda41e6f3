//! Findings: the plain facts a run supports, each typed with the figures it rests on and left out
//! when they are missing. `render::findings` words them.

use crate::analysis::aggregate::Results;
use crate::analysis::claims::{ProbeCounts, TOUCH_BYTES, growth_faults, probe_counts};
use crate::analysis::comparisons::*;
use crate::analysis::lookup::*;
use crate::data::depth::{DepthEntry, ProbeKind};
use crate::data::groups::LARGE_BOX_COMPARED_BYTES;
use crate::data::id::{HeapKind, LargeBox, StackKind, TouchKind};
use crate::data::latency::{LatencyEntry, Op};
use crate::workload::allocators::AllocatorKind;
use crate::workload::contention::Workload;

/// The size the heap-versus-stack finding is stated at.
pub const FINDING_BYTES: u64 = 64;

/// One finding, with its figures.
#[derive(Clone, Debug, PartialEq)]
pub enum Finding {
    /// heap_box at [`FINDING_BYTES`] against stack_array, with alloc_free alone when measured.
    HeapAllocation {
        allocator: AllocatorKind,
        heap: f64,
        ratio: Ratio,
        stack: f64,
        alloc_free: Option<f64>,
    },
    /// From `size` up, heap_box is never decidedly slower than the stack array; `paired` when
    /// every size's ratio comes from the engine's rounds (else by process, at `margin`).
    Crossover {
        allocator: AllocatorKind,
        size: u64,
        margin: f64,
        paired: bool,
    },
    /// Touching fresh pages from the kernel ([`TOUCH_BYTES`]).
    FreshPages { time: f64, faults: f64 },
    /// Faults per page when the heap grows after the allocator gave memory back.
    GivenBack(Vec<(AllocatorKind, f64)>),
    /// `Box::new([0u8; 1 MiB])` against `Box::new_zeroed`.
    LargeBox {
        array: f64,
        zeroed: f64,
        ratio: Ratio,
    },
    /// The fastest and slowest allocator of a workload at the most threads that fit the cores.
    BestAndWorst {
        workload: Workload,
        threads: usize,
        best: (AllocatorKind, f64),
        worst: (AllocatorKind, f64),
        /// Worst time over best time, paired by process.
        ratio: Ratio,
    },
    /// local_churn's and stack_control's scaling from 1 to `threads`.
    Scaling {
        allocator: AllocatorKind,
        threads: usize,
        heap: Ratio,
        stack: Ratio,
        behind: Option<Ratio>,
    },
    /// Depth of a 2 MiB thread with a `frame` local array per level, and the naive size / level.
    TwoMibDepth {
        frame: u64,
        depth: u64,
        per_level: u64,
        naive: u64,
    },
    /// The largest |measured - predicted| over the probes with a prediction.
    Predicted {
        probes: ProbeCounts,
        total: usize,
        worst_percent: f64,
    },
    /// The heap loop's depth against the stack's in the same 2 MiB thread.
    HeapLoop { heap: u64, stack: u64 },
    /// Peak memory of a workload at `threads`, per allocator.
    PeakMemory {
        workload: Workload,
        threads: usize,
        peaks: Vec<(AllocatorKind, u64)>,
    },
    /// One operation's latency percentiles in a workload, per allocator.
    Latency {
        workload: Workload,
        threads: usize,
        op: Op,
        entries: Vec<LatencyEntry>,
    },
}

fn stack_vs_heap(results: &Results, out: &mut Vec<Finding>) {
    let allocators = results.allocators();
    if let Some(stack) = time(results, &stack_id(StackKind::Array, FINDING_BYTES)) {
        for &allocator in &allocators {
            if let (Some(heap), Some(ratio)) = (
                time(results, &heap_id(HeapKind::Box, allocator, FINDING_BYTES)),
                heap_over_stack(results, allocator, FINDING_BYTES),
            ) {
                out.push(Finding::HeapAllocation {
                    allocator,
                    heap,
                    ratio,
                    stack,
                    alloc_free: time(
                        results,
                        &heap_id(HeapKind::AllocFree, allocator, FINDING_BYTES),
                    ),
                });
            }
        }
    }
    for allocator in allocators {
        if let Some(size) = heap_crossover(results, allocator) {
            out.push(Finding::Crossover {
                allocator,
                size,
                margin: margin(results),
                paired: heap_over_stack_by_size(results, allocator)
                    .iter()
                    .all(|(_, r)| r.enough_pairs()),
            });
        }
    }
}

fn first_touch(results: &Results, out: &mut Vec<Finding>) {
    let faults = results.faults_by_id();
    let mmap_id = first_touch_id(TouchKind::Mmap, None, TOUCH_BYTES);
    if let (Some(time), Some(f)) = (time(results, &mmap_id), faults.get(&mmap_id)) {
        out.push(Finding::FreshPages {
            time,
            faults: f.minor_faults_per_iter,
        });
    }
    let given_back = growth_faults(results, TouchKind::HeapGrowth);
    if !given_back.is_empty() {
        out.push(Finding::GivenBack(given_back));
    }
    let (array_id, zeroed_id) = (
        large_box_id(LargeBox::Array, LARGE_BOX_COMPARED_BYTES),
        large_box_id(LargeBox::Zeroed, LARGE_BOX_COMPARED_BYTES),
    );
    if let (Some(array), Some(zeroed), Some(ratio)) = (
        time(results, &array_id),
        time(results, &zeroed_id),
        compare(results, &array_id, &zeroed_id),
    ) {
        out.push(Finding::LargeBox {
            array,
            zeroed,
            ratio,
        });
    }
}

fn contention(results: &Results, cores: Option<usize>, out: &mut Vec<Finding>) {
    let threads = contention_threads(results);
    let allocators = results.allocators();
    let cores = cores.unwrap_or(usize::MAX);
    for workload in contention_workloads(results)
        .into_iter()
        .filter(|w| w.allocates())
    {
        // The largest thread count whose threads all fit the cores.
        let Some(t) = threads
            .iter()
            .copied()
            .filter(|&t| workload.os_threads(t) <= cores)
            .max()
        else {
            continue;
        };
        let ops: Vec<(AllocatorKind, f64)> = allocators
            .iter()
            .filter_map(|&a| Some((a, ops_per_second(results, workload, a, t)?)))
            .collect();
        if ops.len() < 2 {
            continue;
        }
        let by_ops = |a: &&(AllocatorKind, f64), b: &&(AllocatorKind, f64)| a.1.total_cmp(&b.1);
        let (Some(&best), Some(&worst)) = (ops.iter().max_by(by_ops), ops.iter().min_by(by_ops))
        else {
            continue;
        };
        // Operations per second are inverse times: best / worst operations is worst / best time,
        // paired by process like every ratio.
        let Some(ratio) = compare(
            results,
            &contention_id(workload, worst.0, t),
            &contention_id(workload, best.0, t),
        ) else {
            continue;
        };
        out.push(Finding::BestAndWorst {
            workload,
            threads: t,
            best,
            worst,
            ratio,
        });
        if workload == Workload::LocalChurn && t > 1 {
            for &allocator in &allocators {
                if let (Some(heap), Some(stack)) = (
                    scaling(results, workload, allocator, t),
                    scaling(results, Workload::StackControl, allocator, t),
                ) {
                    out.push(Finding::Scaling {
                        allocator,
                        threads: t,
                        heap,
                        stack,
                        behind: scaling_behind_stack(results, allocator, t),
                    });
                }
            }
        }
    }
}

fn depth(results: &Results, out: &mut Vec<Finding>) {
    let Some(depth) = &results.depth else {
        return;
    };
    let two_mib: Vec<&DepthEntry> = depth
        .entries
        .iter()
        .filter(|e| {
            e.kind == ProbeKind::StdThread
                && e.requested_stack_bytes == Some(2 << 20)
                && e.is_overflow()
        })
        .collect();
    for e in two_mib
        .iter()
        .filter(|e| e.frame_bytes == 0 || e.frame_bytes == 4096)
    {
        if let (Some(depth), Some(per_level), Some(granted)) =
            (e.measured_depth, e.bytes_per_level, e.granted_stack_bytes)
        {
            out.push(Finding::TwoMibDepth {
                frame: e.frame_bytes,
                depth,
                per_level,
                naive: granted / per_level,
            });
        }
    }
    let predicted: Vec<(&DepthEntry, f64)> = depth
        .entries
        .iter()
        .filter_map(|e| {
            let (measured, predicted) = (e.measured_depth? as f64, e.predicted_depth? as f64);
            Some((e, (measured - predicted).abs() / predicted * 100.0))
        })
        .collect();
    if !predicted.is_empty() {
        let entries: Vec<&DepthEntry> = predicted.iter().map(|(e, _)| *e).collect();
        out.push(Finding::Predicted {
            probes: probe_counts(&entries),
            total: entries.len(),
            worst_percent: predicted.iter().map(|(_, d)| *d).fold(0.0, f64::max),
        });
    }
    let heap = depth
        .entries
        .iter()
        .filter(|e| e.kind == ProbeKind::HeapLoop && e.frame_bytes == 0)
        .find_map(|e| e.measured_depth);
    let stack = two_mib
        .iter()
        .find(|e| e.frame_bytes == 0)
        .and_then(|e| e.measured_depth);
    if let (Some(heap), Some(stack)) = (heap, stack) {
        out.push(Finding::HeapLoop { heap, stack });
    }
}

fn memory(results: &Results, out: &mut Vec<Finding>) {
    let Some(memory) = &results.memory else {
        return;
    };
    let Some(threads) = memory_threads_within_cores(&memory.entries) else {
        return;
    };
    for workload in Workload::ALL.into_iter().filter(|w| w.in_memory_findings()) {
        let peaks: Vec<(AllocatorKind, u64)> = AllocatorKind::all()
            .into_iter()
            .filter_map(|a| {
                let e = memory_entry(&memory.entries, workload, a, threads)?;
                Some((a, e.peak_rss_bytes))
            })
            .collect();
        if !peaks.is_empty() {
            out.push(Finding::PeakMemory {
                workload,
                threads,
                peaks,
            });
        }
    }
}

/// For each latency workload, at its largest thread count within the cores, each operation's
/// percentiles for each allocator.
pub fn latency_findings(latency: &[LatencyEntry]) -> Vec<Finding> {
    let mut out = Vec::new();
    for workload in latency_workloads(latency) {
        let Some(threads) = latency_threads(latency, workload) else {
            continue;
        };
        for op in Op::ALL {
            let entries: Vec<LatencyEntry> = AllocatorKind::all()
                .into_iter()
                .filter_map(|a| latency_entry(latency, workload, threads, a, op).cloned())
                .collect();
            if !entries.is_empty() {
                out.push(Finding::Latency {
                    workload,
                    threads,
                    op,
                    entries,
                });
            }
        }
    }
    out
}

/// Every finding the data supports, in the order the report lists them.
pub fn findings(results: &Results, cores: Option<usize>) -> Vec<Finding> {
    let mut out = Vec::new();
    stack_vs_heap(results, &mut out);
    first_touch(results, &mut out);
    contention(results, cores, &mut out);
    depth(results, &mut out);
    memory(results, &mut out);
    if let Some(latency) = &results.latency {
        out.extend(latency_findings(&latency.entries));
    }
    out
}
