//! The folklore claims the project started from, each decided from the data: a verdict and the typed
//! evidence it rests on, or what is missing to decide it. `render::claims` words them.

use crate::analysis::aggregate::Results;
use crate::analysis::comparisons::*;
use crate::analysis::lookup::*;
use crate::data::depth::{DepthEntry, ProbeKind};
use crate::data::id::{BenchId, HeapKind, StackKind, TouchKind};
use crate::workload::allocators::AllocatorKind;
use crate::workload::contention::Workload;

/// The folklore's `char test[1000000]`.
pub const FOLKLORE_ARRAY: u64 = 1_000_000;

/// The size the first-touch claim is judged at.
pub const TOUCH_BYTES: u64 = 1 << 20;

/// What the data says about a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Holds,
    HoldsInPart,
    DoesNotHold,
    NotMeasured,
}

/// The claims, in the order the report lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimKind {
    Managed,
    Freed,
    Threads,
    Static,
    Overflow,
    PageFaults,
    Cache,
    HeapsDiffer,
}

/// What a claim could not be decided without.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// stack_array and heap_box at 64 B.
    StackArrayAt64,
    /// heap_box at 64 B.
    HeapBoxAt64,
    /// No benchmark measures it at all.
    NoBenchmark,
    /// local_churn and stack_control at 1 and 2+ threads.
    ThreadScaling,
    /// stack_control at 1 and 2+ threads.
    StackControl,
    /// The 1 MiB and 2 MiB overflow probes and the heap loop.
    StaticProbes,
    /// The overflow probes.
    OverflowProbes,
    /// first_touch/mmap at 1 MiB and its fault counts.
    FreshPages,
    /// stack_array and heap_reused up to 16 KiB.
    HotSizes,
    /// heap_box at 64 B and contention at 2+ threads, for two or more allocators.
    SmallAndThreaded,
}

/// The numbers a verdict rests on, one shape per claim.
#[derive(Clone, Debug, PartialEq)]
pub enum Evidence {
    Missing(Missing),
    Managed(Managed),
    Threads(Threads),
    Static {
        one_mib: u64,
        two_mib: u64,
        heap: u64,
    },
    Overflow(Overflow),
    PageFaults(PageFaults),
    Cache(Cache),
    HeapsDiffer(HeapsDiffer),
}

/// A claim, its verdict and the evidence.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    pub kind: ClaimKind,
    pub verdict: Verdict,
    pub evidence: Evidence,
}

/// "Stack memory is managed by the CPU": the stack array and the heap block at 64 B.
#[derive(Clone, Debug, PartialEq)]
pub struct Managed {
    pub stack_array: f64,
    /// heap_box / stack_array per allocator.
    pub ratios: Vec<(AllocatorKind, Ratio)>,
    /// How many of `ratios` are decidedly above 1.
    pub costlier: usize,
    /// stack_reserve and each allocator's alloc_free at 64 B, when measured.
    pub direct: Option<(f64, Vec<(AllocatorKind, f64)>)>,
}

/// "Each thread has its own stack; all threads share one heap": scaling from 1 to `threads`.
#[derive(Clone, Debug, PartialEq)]
pub struct Threads {
    pub threads: usize,
    /// stack_control's scaling under each allocator.
    pub stack: Vec<(AllocatorKind, Ratio)>,
    /// Their median, lowest and highest point.
    pub stack_scaling: (f64, f64, f64),
    /// local_churn's scaling per allocator.
    pub heap: Vec<(AllocatorKind, Ratio)>,
    /// stack_control's scaling over local_churn's per allocator: above 1 where the shared heap
    /// holds local_churn back.
    pub behind: Vec<(AllocatorKind, Ratio)>,
}

/// How many probes of each kind a set holds.
pub type ProbeCounts = Vec<(ProbeKind, usize)>;

/// "Endless recursion or a big local array overflows the stack".
#[derive(Clone, Debug, PartialEq)]
pub struct Overflow {
    pub probes: ProbeCounts,
    pub overflowed: usize,
    pub largest_frame: u64,
    /// Stacks (requested bytes) a 1,000,000-byte array overflowed and fitted; `None` when the
    /// local-array probe did not run.
    pub arrays: Option<FolkloreArray>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FolkloreArray {
    pub too_small: Vec<u64>,
    pub big_enough: Vec<u64>,
    /// The largest stack probed and the largest array it held.
    pub largest: (u64, u64),
}

/// "Heap access can be very expensive because of page faults".
#[derive(Clone, Debug, PartialEq)]
pub struct PageFaults {
    pub fresh: f64,
    pub fresh_faults: f64,
    /// Fresh over the cheapest allocator's re-touch of mapped memory, and that re-touch's time.
    pub retouch: Option<(Ratio, f64)>,
    pub fresh_thread_stack: Option<f64>,
    /// Faults per page when the heap grows again to the same size, per allocator.
    pub regrowth_faults: Vec<(AllocatorKind, f64)>,
}

/// "The stack frame is in the processor cache".
#[derive(Clone, Debug, PartialEq)]
pub struct Cache {
    pub comparisons: usize,
    pub stack_faster: usize,
    pub heap_faster: usize,
    /// Equal within ±5%: counted only where every comparison is the engine's (`paired`).
    pub equal: usize,
    /// Every comparison paired in the engine's rounds (four verdicts), rather than by process.
    pub paired: bool,
    pub margin: f64,
    pub locality: Locality,
}

/// What the locality benchmarks add to the cache claim.
#[derive(Clone, Debug, PartialEq)]
pub enum Locality {
    NotMeasured,
    /// Scattered nodes decidedly slower from `from` up; the ratios at the largest working set.
    SlowerFrom {
        from: u64,
        largest: u64,
        ratios: Vec<(AllocatorKind, Ratio)>,
    },
    /// Never decidedly slower; the ratios at the largest working set.
    NeverSlower {
        largest: u64,
        ratios: Vec<(AllocatorKind, Ratio)>,
    },
}

/// "Some heaps are fast for small objects, others efficient in multithreaded programs".
#[derive(Clone, Debug, PartialEq)]
pub struct HeapsDiffer {
    pub margin: f64,
    /// Every ranking paired in the engine's rounds: "tied" is then equal within ±5% or undecided.
    pub paired: bool,
    pub small_best: Vec<AllocatorKind>,
    pub threaded_best: Vec<AllocatorKind>,
    pub workloads: usize,
}

fn claim(kind: ClaimKind, verdict: Verdict, evidence: Evidence) -> Claim {
    Claim {
        kind,
        verdict,
        evidence,
    }
}

/// A claim that holds in part when `some` evidence supports it, and not otherwise.
fn in_part_or_not(some: bool) -> Verdict {
    if some {
        Verdict::HoldsInPart
    } else {
        Verdict::DoesNotHold
    }
}

fn missing(kind: ClaimKind, what: Missing) -> Claim {
    claim(kind, Verdict::NotMeasured, Evidence::Missing(what))
}

/// Counts probes by kind, in the order kinds first appear.
pub fn probe_counts(entries: &[&DepthEntry]) -> ProbeCounts {
    let mut kinds: ProbeCounts = Vec::new();
    for e in entries {
        match kinds.iter_mut().find(|(k, _)| *k == e.kind) {
            Some((_, n)) => *n += 1,
            None => kinds.push((e.kind, 1)),
        }
    }
    kinds
}

fn managed(results: &Results) -> Claim {
    let kind = ClaimKind::Managed;
    let ratios: Vec<(AllocatorKind, Ratio)> = results
        .allocators()
        .into_iter()
        .filter_map(|a| Some((a, heap_over_stack(results, a, 64)?)))
        .collect();
    let Some(stack_array) = time(results, &stack_id(StackKind::Array, 64)) else {
        return missing(kind, Missing::StackArrayAt64);
    };
    if ratios.is_empty() {
        return missing(kind, Missing::HeapBoxAt64);
    }
    let alloc_free = alloc_free_at(results, 64);
    let direct = time(results, &stack_id(StackKind::Reserve, 64))
        .filter(|_| !alloc_free.is_empty())
        .map(|reserve| (reserve, alloc_free));
    let costlier = ratios.iter().filter(|(_, r)| r.decidedly_above()).count();
    claim(
        kind,
        in_part_or_not(costlier > 0),
        Evidence::Managed(Managed {
            stack_array,
            ratios,
            costlier,
            direct,
        }),
    )
}

/// Each allocator's alloc_free time at `size`, where measured.
pub fn alloc_free_at(results: &Results, size: u64) -> Vec<(AllocatorKind, f64)> {
    results
        .allocators()
        .into_iter()
        .filter_map(|a| Some((a, time(results, &heap_id(HeapKind::AllocFree, a, size))?)))
        .collect()
}

fn threads(results: &Results, cores: Option<usize>) -> Claim {
    let kind = ClaimKind::Threads;
    let Some(t) = fitting_threads(results, Workload::LocalChurn, cores).filter(|&t| t > 1) else {
        return missing(kind, Missing::ThreadScaling);
    };
    let scalings = |workload| -> Vec<(AllocatorKind, Ratio)> {
        results
            .allocators()
            .into_iter()
            .filter_map(|a| Some((a, scaling(results, workload, a, t)?)))
            .collect()
    };
    // stack_control runs the same code for each allocator: its scaling is the median of theirs,
    // not the largest of noisy values.
    let stack = scalings(Workload::StackControl);
    let points: Vec<f64> = stack.iter().map(|(_, r)| r.ratio).collect();
    let Some(median) = crate::analysis::stats::median(&points) else {
        return missing(kind, Missing::StackControl);
    };
    let low = points.iter().copied().fold(f64::INFINITY, f64::min);
    let high = points.iter().copied().fold(0.0, f64::max);
    let heap = scalings(Workload::LocalChurn);
    // Held back: stack_control's scaling over local_churn's decidedly above 1.
    let behind: Vec<(AllocatorKind, Ratio)> = heap
        .iter()
        .filter_map(|&(a, _)| Some((a, scaling_behind_stack(results, a, t)?)))
        .collect();
    let verdict = if !behind.iter().any(|(_, r)| r.decidedly_above()) {
        Verdict::HoldsInPart
    } else {
        Verdict::Holds
    };
    claim(
        kind,
        verdict,
        Evidence::Threads(Threads {
            threads: t,
            stack,
            stack_scaling: (median, low, high),
            heap,
            behind,
        }),
    )
}

fn static_stack(results: &Results) -> Claim {
    let kind = ClaimKind::Static;
    let probes = stack_probes(results);
    let at = |stack: u64| {
        probes
            .iter()
            .filter(|e| e.requested_stack_bytes == Some(stack))
            .min_by_key(|e| e.frame_bytes)
            .and_then(|e| e.measured_depth)
    };
    let heap = results.depth.as_ref().and_then(|d| {
        d.entries
            .iter()
            .filter(|e| e.kind == ProbeKind::HeapLoop)
            .find_map(|e| e.measured_depth)
    });
    match (at(1 << 20), at(2 << 20), heap) {
        (Some(one_mib), Some(two_mib), Some(heap)) => claim(
            kind,
            Verdict::Holds,
            Evidence::Static {
                one_mib,
                two_mib,
                heap,
            },
        ),
        _ => missing(kind, Missing::StaticProbes),
    }
}

fn overflow(results: &Results) -> Claim {
    let kind = ClaimKind::Overflow;
    // The recursion probes: every kind but the heap loop and the local-array bisection.
    let probes: Vec<&DepthEntry> = results.depth.as_ref().map_or(Vec::new(), |d| {
        d.entries
            .iter()
            .filter(|e| !matches!(e.kind, ProbeKind::HeapLoop | ProbeKind::LocalArray))
            .collect()
    });
    if probes.is_empty() {
        return missing(kind, Missing::OverflowProbes);
    }
    let overflowed = probes.iter().filter(|e| e.is_overflow()).count();
    let all_overflowed = overflowed == probes.len();
    let largest_frame = probes.iter().map(|e| e.frame_bytes).max().unwrap_or(0);
    let arrays = largest_local_arrays(results);
    let arrays = arrays.last().map(|&largest| {
        let stacks = |fits: bool| -> Vec<u64> {
            arrays
                .iter()
                .filter(|(_, l)| (*l >= FOLKLORE_ARRAY) == fits)
                .map(|(s, _)| *s)
                .collect()
        };
        FolkloreArray {
            too_small: stacks(false),
            big_enough: stacks(true),
            largest,
        }
    });
    let verdict = match &arrays {
        None if all_overflowed => Verdict::HoldsInPart,
        None => Verdict::DoesNotHold,
        Some(a) => match (
            all_overflowed,
            a.too_small.is_empty(),
            a.big_enough.is_empty(),
        ) {
            (true, false, true) => Verdict::Holds,
            (true, false, false) => Verdict::HoldsInPart,
            _ => Verdict::DoesNotHold,
        },
    };
    claim(
        kind,
        verdict,
        Evidence::Overflow(Overflow {
            probes: probe_counts(&probes),
            overflowed,
            largest_frame,
            arrays,
        }),
    )
}

/// Faults per page of the largest `kind` heap growth measured, per allocator.
pub fn growth_faults(results: &Results, kind: TouchKind) -> Vec<(AllocatorKind, f64)> {
    let faults = results.faults_by_id();
    results
        .allocators()
        .into_iter()
        .filter_map(|a| {
            let per_page = faults
                .iter()
                .filter(|(id, _)| {
                    matches!(id, BenchId::FirstTouch { kind: k, allocator: Some(x), .. } if *k == kind && *x == a)
                })
                .map(|(_, f)| f)
                .max_by_key(|f| f.size_bytes)
                .and_then(|f| f.faults_per_page())?;
            Some((a, per_page))
        })
        .collect()
}

fn page_faults(results: &Results) -> Claim {
    let kind = ClaimKind::PageFaults;
    let faults = results.faults_by_id();
    let fresh_id = first_touch_id(TouchKind::Mmap, None, TOUCH_BYTES);
    let (Some(fresh), Some(fresh_faults)) = (timed(results, &fresh_id), faults.get(&fresh_id))
    else {
        return missing(kind, Missing::FreshPages);
    };
    let fresh_faults = fresh_faults.minor_faults_per_iter;
    let retouch = results
        .allocators()
        .into_iter()
        .filter_map(|a| {
            timed(
                results,
                &first_touch_id(TouchKind::Pretouched, Some(a), TOUCH_BYTES),
            )
        })
        .min_by(|a, b| a.point.total_cmp(&b.point))
        .map(|r| (Ratio::of(fresh, r), r.point));
    // Measured in one process, the times cannot decide; the fault counts still can.
    let expensive = match &retouch {
        Some((ratio, _)) if ratio.repeated() => ratio.decidedly_above(),
        _ => fresh_faults >= 1.0,
    };
    claim(
        kind,
        in_part_or_not(expensive),
        Evidence::PageFaults(PageFaults {
            fresh: fresh.point,
            fresh_faults,
            retouch,
            fresh_thread_stack: time(
                results,
                &first_touch_id(TouchKind::StackFreshThread, None, TOUCH_BYTES),
            ),
            regrowth_faults: growth_faults(results, TouchKind::HeapRegrowth),
        }),
    )
}

fn cache(results: &Results) -> Claim {
    let kind = ClaimKind::Cache;
    let allocators = results.allocators();
    let hot: Vec<Ratio> = sizes(results)
        .into_iter()
        .filter(|&s| s <= 16 << 10)
        .flat_map(|s| {
            allocators.iter().filter_map(move |&a| {
                compare(
                    results,
                    &heap_id(HeapKind::Reused, a, s),
                    &stack_id(StackKind::Array, s),
                )
            })
        })
        .collect();
    if hot.is_empty() {
        return missing(kind, Missing::HotSizes);
    }
    let at_largest = |largest: u64| -> Vec<(AllocatorKind, Ratio)> {
        allocators
            .iter()
            .filter_map(|&a| Some((a, scatter_ratio(results, a, largest)?)))
            .collect()
    };
    let locality = match (locality_crossover(results), locality_sets(results).last()) {
        (Some(from), Some(&largest)) => Locality::SlowerFrom {
            from,
            largest,
            ratios: at_largest(largest),
        },
        (None, Some(&largest)) => Locality::NeverSlower {
            largest,
            ratios: at_largest(largest),
        },
        _ => Locality::NotMeasured,
    };
    let stack_faster = hot.iter().filter(|r| r.decidedly_above()).count();
    let heap_faster = hot.iter().filter(|r| r.decidedly_below()).count();
    let verdict = if stack_faster > hot.len() / 2 {
        Verdict::Holds
    } else {
        Verdict::HoldsInPart
    };
    claim(
        kind,
        verdict,
        Evidence::Cache(Cache {
            comparisons: hot.len(),
            stack_faster,
            heap_faster,
            equal: hot
                .iter()
                .filter(|r| r.verdict() == crate::analysis::stats::Verdict::Equal)
                .count(),
            paired: hot.iter().all(|r| r.enough_pairs()),
            margin: margin(results),
            locality,
        }),
    )
}

fn heaps_differ(results: &Results, cores: Option<usize>) -> Claim {
    let kind = ClaimKind::HeapsDiffer;
    let allocators = results.allocators();
    let small_ids: Vec<(AllocatorKind, BenchId)> = allocators
        .iter()
        .map(|&a| (a, heap_id(HeapKind::Box, a, 64)))
        .collect();
    let small = ranked_ids(results, &small_ids);
    let threaded: Vec<Vec<AllocatorKind>> = contention_workloads(results)
        .into_iter()
        .filter(|w| w.allocates())
        .filter_map(|w| {
            let t = fitting_threads(results, w, cores).filter(|&t| t > 1)?;
            let r = ranked(results, w, t);
            (r.len() >= 2).then(|| tied_best(&r))
        })
        .collect();
    if small.len() < 2 || threaded.is_empty() {
        return missing(kind, Missing::SmallAndThreaded);
    }
    let small_best = tied_best(&small);
    let wins = |a: AllocatorKind| threaded.iter().filter(|b| b.contains(&a)).count();
    let threaded_best: Vec<AllocatorKind> = allocators
        .into_iter()
        .filter(|&a| wins(a) * 2 > threaded.len())
        .collect();
    let verdict =
        if small_best.len() == 1 && threaded_best.len() == 1 && small_best[0] != threaded_best[0] {
            Verdict::Holds
        } else if small_best.iter().any(|a| threaded_best.contains(a)) {
            Verdict::DoesNotHold
        } else {
            Verdict::HoldsInPart
        };
    claim(
        kind,
        verdict,
        Evidence::HeapsDiffer(HeapsDiffer {
            margin: margin(results),
            paired: paired_in_rounds(&small),
            small_best,
            threaded_best,
            workloads: threaded.len(),
        }),
    )
}

/// Every folklore claim the project started from, decided from `results`.
pub fn claims(results: &Results, cores: Option<usize>) -> Vec<Claim> {
    vec![
        managed(results),
        missing(ClaimKind::Freed, Missing::NoBenchmark),
        threads(results, cores),
        static_stack(results),
        overflow(results),
        page_faults(results),
        cache(results),
        heaps_differ(results, cores),
    ]
}
