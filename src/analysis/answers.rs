//! The three questions a reader comes for, answered from the data: what each answer rests on, as
//! typed figures and decisions (`None` when the part was not run). `render::answers` words them.

use crate::analysis::aggregate::Results;
use crate::analysis::claims::{FOLKLORE_ARRAY, ProbeCounts, alloc_free_at, probe_counts};
use crate::analysis::comparisons::*;
use crate::analysis::lookup::*;
use crate::data::id::{HeapKind, StackKind};
use crate::workload::allocators::AllocatorKind;
use crate::workload::contention::Workload;

/// Sizes the stack answer's table shows (those of them measured), else every measured size.
pub const ANSWER_SIZES: [u64; 6] = [8, 64, 1024, 4096, 65536, 1 << 20];

/// Stack sizes the depth answer's table shows (those measured), else every measured stack size.
pub const ANSWER_STACKS: [u64; 3] = [256 << 10, 2 << 20, 8 << 20];

/// "Should this be on the stack?"
#[derive(Clone, Debug, PartialEq)]
pub struct StackAnswer {
    /// The allocators with at least one heap_box / stack_array ratio.
    pub allocators: Vec<AllocatorKind>,
    /// The small size (64 B, else the smallest) and each allocator's heap_box / stack_array there.
    pub small: Option<(u64, Vec<(AllocatorKind, Ratio)>)>,
    /// alloc_free at 64 B per allocator, and stack_reserve at 64 B.
    pub alloc_free_64: Vec<(AllocatorKind, f64)>,
    pub reserve_64: Option<f64>,
    /// Per allocator, the size from which heap_box is never decidedly slower than the stack.
    pub crossovers: Vec<(AllocatorKind, Option<u64>)>,
    pub margin: f64,
    pub rows: Vec<StackRow>,
}

/// One size of the stack answer's table: stack_array's time, and per allocator (in
/// [`StackAnswer::allocators`] order) heap_box's time and its ratio to the stack.
#[derive(Clone, Debug, PartialEq)]
pub struct StackRow {
    pub size: u64,
    pub stack: Option<f64>,
    pub heap: Vec<Option<(f64, Ratio)>>,
}

/// "Which allocator should my threaded code use?"
#[derive(Clone, Debug, PartialEq)]
pub struct AllocatorAnswer {
    /// Per workload, at the most threads that fit the cores, the allocators fastest first.
    pub rows: Vec<(Workload, usize, Ranking)>,
    /// How many workloads each allocator is fastest or tied with the fastest in, most first.
    pub counts: Vec<(AllocatorKind, usize)>,
    pub margin: f64,
}

/// "How deep can my recursion go?"
#[derive(Clone, Debug, PartialEq)]
pub struct DepthAnswer {
    /// The stack size the sentences speak of: Rust's default 2 MiB, else the largest measured.
    pub shown_stack: u64,
    /// At that stack, the smallest frame's depth, bytes per level and the naive size / level.
    pub smallest: Option<(u64, u64, u64)>,
    /// The largest |measured - predicted| in percent over the probes.
    pub worst_percent: f64,
    pub probes: ProbeCounts,
    pub stacks: Vec<u64>,
    pub frames: Vec<u64>,
    /// The largest local array at the shown stack (or the largest probed), with that stack.
    pub local_array: Option<(u64, u64)>,
    /// The smallest stack a 1,000,000-byte array fits in.
    pub folklore_fits_from: Option<u64>,
    /// The table: its stack sizes, and per frame size its bytes per level and depth per stack.
    pub table_stacks: Vec<u64>,
    pub rows: Vec<DepthRow>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DepthRow {
    pub frame: u64,
    pub per_level: Option<u64>,
    pub depths: Vec<Option<u64>>,
}

/// The three answers, each `None` when its part was not run.
#[derive(Clone, Debug, PartialEq)]
pub struct Answers {
    pub stack: Option<StackAnswer>,
    pub allocator: Option<AllocatorAnswer>,
    pub depth: Option<DepthAnswer>,
}

/// The `wanted` values among `measured`, else every measured value: what a small table shows.
fn shown(measured: &[u64], wanted: &[u64]) -> Vec<u64> {
    let picked: Vec<u64> = measured
        .iter()
        .copied()
        .filter(|v| wanted.contains(v))
        .collect();
    if picked.is_empty() {
        measured.to_vec()
    } else {
        picked
    }
}

fn stack_answer(results: &Results) -> Option<StackAnswer> {
    let measured = sizes(results);
    let allocators: Vec<AllocatorKind> = results
        .allocators()
        .into_iter()
        .filter(|&a| {
            measured
                .iter()
                .any(|&s| heap_over_stack(results, a, s).is_some())
        })
        .collect();
    if allocators.is_empty() {
        return None;
    }
    let small = measured
        .iter()
        .find(|&&s| s == 64)
        .or(measured.first())
        .map(|&small| {
            let ratios = allocators
                .iter()
                .filter_map(|&a| Some((a, heap_over_stack(results, a, small)?)))
                .collect();
            (small, ratios)
        });
    let rows = shown(&measured, &ANSWER_SIZES)
        .into_iter()
        .map(|size| StackRow {
            size,
            stack: time(results, &stack_id(StackKind::Array, size)),
            heap: allocators
                .iter()
                .map(|&a| {
                    Some((
                        time(results, &heap_id(HeapKind::Box, a, size))?,
                        heap_over_stack(results, a, size)?,
                    ))
                })
                .collect(),
        })
        .collect();
    // The margin the crossovers were decided at: the widest of the ratios they rest on (the
    // comparison engine's groups each measure their own).
    let crossover_ratios: Vec<Ratio> = allocators
        .iter()
        .flat_map(|&a| heap_over_stack_by_size(results, a))
        .map(|(_, r)| r)
        .collect();
    Some(StackAnswer {
        margin: widest_margin(&crossover_ratios, results),
        small,
        alloc_free_64: alloc_free_at(results, 64),
        reserve_64: time(results, &stack_id(StackKind::Reserve, 64)),
        crossovers: allocators
            .iter()
            .map(|&a| (a, heap_crossover(results, a)))
            .collect(),
        allocators,
        rows,
    })
}

fn allocator_answer(results: &Results, cores: Option<usize>) -> Option<AllocatorAnswer> {
    let rows: Vec<(Workload, usize, Ranking)> = contention_workloads(results)
        .into_iter()
        .filter(|w| w.allocates())
        .filter_map(|w| {
            let t = fitting_threads(results, w, cores)?;
            let ranking = ranked(results, w, t);
            (ranking.len() >= 2).then_some((w, t, ranking))
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let mut counts: Vec<(AllocatorKind, usize)> = results
        .allocators()
        .into_iter()
        .filter(|a| {
            rows.iter()
                .any(|(_, _, r)| r.iter().any(|x| x.allocator == *a))
        })
        .map(|a| {
            let best = rows
                .iter()
                .filter(|(_, _, r)| tied_best(r).contains(&a))
                .count();
            (a, best)
        })
        .collect();
    counts.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    let ratios: Vec<Ratio> = rows
        .iter()
        .flat_map(|(_, _, r)| r.iter().map(|x| x.to_best))
        .collect();
    Some(AllocatorAnswer {
        margin: widest_margin(&ratios, results),
        rows,
        counts,
    })
}

/// The widest margin among `ratios` (each decided at its own: the run's noise, or its engine
/// group's control), or the run's margin when there are none.
fn widest_margin(ratios: &[Ratio], results: &Results) -> f64 {
    ratios
        .iter()
        .map(|r| r.margin)
        .reduce(f64::max)
        .unwrap_or_else(|| margin(results))
}

fn depth_answer(results: &Results) -> Option<DepthAnswer> {
    let probes = stack_probes(results);
    let stacks = distinct(probes.iter().filter_map(|e| e.requested_stack_bytes));
    let frames = distinct(probes.iter().map(|e| e.frame_bytes));
    let probe = |stack: u64, frame: u64| {
        probes
            .iter()
            .find(|e| e.requested_stack_bytes == Some(stack) && e.frame_bytes == frame)
    };
    let shown_stack = if stacks.contains(&(2 << 20)) {
        2 << 20
    } else {
        *stacks.last()?
    };
    let smallest = frames
        .first()
        .and_then(|&f| probe(shown_stack, f))
        .and_then(|e| Some((e.measured_depth?, e.bytes_per_level?, e.naive_depth?)));
    let worst_percent = probes
        .iter()
        .filter_map(|e| e.difference_percent)
        .map(f64::abs)
        .fold(0.0, f64::max);
    let arrays = largest_local_arrays(results);
    let local_array = arrays
        .iter()
        .find(|(s, _)| *s == shown_stack)
        .or(arrays.last())
        .copied();
    let folklore_fits_from = arrays
        .iter()
        .find(|(_, l)| *l >= FOLKLORE_ARRAY)
        .map(|(s, _)| *s);
    let table_stacks = shown(&stacks, &ANSWER_STACKS);
    let rows = frames
        .iter()
        .map(|&frame| DepthRow {
            frame,
            per_level: probes
                .iter()
                .find_map(|e| e.bytes_per_level.filter(|_| e.frame_bytes == frame)),
            depths: table_stacks
                .iter()
                .map(|&s| probe(s, frame).and_then(|e| e.measured_depth))
                .collect(),
        })
        .collect();
    Some(DepthAnswer {
        shown_stack,
        smallest,
        worst_percent,
        probes: probe_counts(&probes),
        stacks,
        frames,
        local_array,
        folklore_fits_from,
        table_stacks,
        rows,
    })
}

/// The three answers, in the order the report shows them.
pub fn answers(results: &Results, cores: Option<usize>) -> Answers {
    Answers {
        stack: stack_answer(results),
        allocator: allocator_answer(results, cores),
        depth: depth_answer(results),
    }
}
