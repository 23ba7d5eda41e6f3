//! The comparisons the report's answers, claims and findings rest on, computed from the data with the
//! uncertainty it has: figures with intervals, ratios, rankings, crossovers, scaling. The lookups
//! they start from are `lookup`; the wording is `render`.
//!
//! A ratio of two times is "decided" only when its whole interval clears the run's margin
//! ([`Noise`]; the engine's groups: [`Ratio::verdict`]). After a repeated run the interval is that of
//! the median of the ratios paired by process ([`compare`]); for a single process, the conservative
//! ratio of Criterion's intervals (slower low / faster high .. slower high / faster low).

use crate::analysis::aggregate::Results;
use crate::analysis::lookup::*;
use crate::analysis::stats;
use crate::data::id::{BenchId, HeapKind, Layout, Owner, StackKind, ranking_group};
use crate::data::results::Bench;
use crate::workload::allocators::AllocatorKind;
use crate::workload::contention::Workload;

pub use crate::analysis::ratio::Ratio;
/// The margin when a run cannot measure its own noise (fewer than [`NOISE_MIN_PROCESSES`]
/// processes): ±20%, about the spread between identical runs on the 2-vCPU development VMs (Intel
/// Xeon, AMD EPYC, 2026-11). Only tests and single runs see it; a single process never decides.
pub const NOISE_MARGIN: f64 = 0.20;

/// The smallest margin any run may use, however quiet: two builds of the same code differ by
/// 2-2.5% from code layout alone (tango-bench issue #52), in either direction, so 5%.
pub const MIN_NOISE_MARGIN: f64 = 0.05;

/// Rows need this many processes before their spread says anything about the machine's noise.
pub const NOISE_MIN_PROCESSES: usize = 3;

/// The expected range of `n` independent standard normal draws (the control-chart constant d2,
/// Tippett 1925), for n from 2 to 10 (10 beyond): a range over `d2(n)` estimates a standard
/// deviation whatever the number of processes, so a row measured again in a fourth process does
/// not read as noisier because four values span more than three.
fn expected_range(n: usize) -> f64 {
    const D2: [f64; 9] = [
        1.128, 1.693, 2.059, 2.326, 2.534, 2.704, 2.847, 2.970, 3.078,
    ];
    D2[n.clamp(2, 10) - 2]
}

/// How noisy this run's machine was, and the margin that allows: the median, across every row
/// measured in at least [`NOISE_MIN_PROCESSES`] processes, of the row's spread between processes
/// ((max - min) / median) as three processes would show it (scaled by `d2(3) / d2(n)`), floored at
/// [`MIN_NOISE_MARGIN`]. A ratio must clear the spread that
/// identical processes of this very run showed on a typical row before it is called decided; a
/// quiet machine decides 10% differences, a busy one decides less.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct Noise {
    /// The median relative spread between processes across rows.
    pub median_spread: f64,
    /// The 90th percentile of the same, for the report's first lines.
    pub p90_spread: f64,
    /// Rows the figures come from.
    pub rows: usize,
    /// The margin decisions use: `max(median_spread, MIN_NOISE_MARGIN)`.
    pub margin: f64,
}

impl Noise {
    /// The noise of `results`' repeated run; `None` when no row has enough processes.
    pub fn of(results: &Results) -> Option<Noise> {
        let spreads: Vec<f64> = results
            .benches
            .values()
            .filter_map(|b| {
                let n = results.process_count(&b.key);
                let spread = results.process_spread(&b.key)?;
                (n >= NOISE_MIN_PROCESSES).then(|| spread * expected_range(3) / expected_range(n))
            })
            .collect();
        Noise::of_spreads(&spreads)
    }

    /// The noise of rows given as each row's figures in its processes (rows of fewer than
    /// [`NOISE_MIN_PROCESSES`] processes say nothing and are left out).
    pub fn of_rows(rows: &[&[f64]]) -> Option<Noise> {
        let spreads: Vec<f64> = rows
            .iter()
            .filter(|row| row.len() >= NOISE_MIN_PROCESSES)
            .filter_map(|row| {
                Some(stats::relative_spread(row)? * expected_range(3) / expected_range(row.len()))
            })
            .collect();
        Noise::of_spreads(&spreads)
    }

    fn of_spreads(spreads: &[f64]) -> Option<Noise> {
        let median_spread = stats::median(spreads)?;
        Some(Noise {
            median_spread,
            p90_spread: stats::quantile(spreads, 0.9)?,
            rows: spreads.len(),
            margin: median_spread.max(MIN_NOISE_MARGIN),
        })
    }
}

/// The margin decisions of `results` use: its run's measured noise, or [`NOISE_MARGIN`].
pub fn margin(results: &Results) -> f64 {
    results.noise.map_or(NOISE_MARGIN, |n| n.margin)
}

/// A benchmark's figure with its interval ([`Bench::time`]), in ns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timed {
    pub point: f64,
    pub low: f64,
    pub high: f64,
    /// Processes behind the figure (1: Criterion's interval within one process).
    pub processes: usize,
    /// The margin a comparison of this figure must clear (its run's, [`margin`]).
    pub margin: f64,
}

impl Timed {
    pub fn of(bench: &Bench, margin: f64) -> Timed {
        Timed {
            point: bench.time.point_estimate,
            low: bench.time.confidence_interval.lower_bound,
            high: bench.time.confidence_interval.upper_bound,
            processes: bench.processes,
            margin,
        }
    }
}

/// heap_box / stack_array at `size` for `allocator`.
pub fn heap_over_stack(results: &Results, allocator: AllocatorKind, size: u64) -> Option<Ratio> {
    compare(
        results,
        &heap_id(HeapKind::Box, allocator, size),
        &stack_id(StackKind::Array, size),
    )
}

/// heap_box / stack_array for `allocator` at every size that has both, smallest first: what the
/// crossover rests on.
pub fn heap_over_stack_by_size(results: &Results, allocator: AllocatorKind) -> Vec<(u64, Ratio)> {
    sizes(results)
        .into_iter()
        .filter_map(|s| Some((s, heap_over_stack(results, allocator, s)?)))
        .collect()
}

/// The smallest size from which on (at that size and every larger one) a heap block from `allocator`
/// is not decidedly slower than the stack array.
pub fn heap_crossover(results: &Results, allocator: AllocatorKind) -> Option<u64> {
    let ratios = heap_over_stack_by_size(results, allocator);
    let last_slower = ratios.iter().rposition(|(_, r)| r.decidedly_above());
    match last_slower {
        None => ratios.first().map(|(s, _)| *s),
        Some(i) => ratios.get(i + 1).map(|(s, _)| *s),
    }
}

/// One allocator in a ranking: its time, and its ratio to the fastest (paired by process when the
/// run was repeated).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ranked {
    pub allocator: AllocatorKind,
    pub timed: Timed,
    pub to_best: Ratio,
}

/// Allocators with their time, fastest first.
pub type Ranking = Vec<Ranked>;

/// Whether every ratio of `ranking` to its fastest is paired in the engine's rounds (has the pairs
/// a 95% interval needs), so that each carries one of the four verdicts.
pub fn paired_in_rounds(ranking: &[Ranked]) -> bool {
    ranking.iter().skip(1).all(|r| r.to_best.enough_pairs())
}

/// `measured` (allocator, what it was measured as, its figure) fastest first, each with its ratio to
/// the fastest as `to_best` gives it (`None`: left out).
fn rank_by<T>(
    mut measured: Vec<(AllocatorKind, T, Timed)>,
    speed: impl Fn(&T, &Timed) -> f64,
    to_best: impl Fn(&T, &T) -> Option<Ratio>,
) -> Ranking {
    measured.sort_by(|a, b| speed(&a.1, &a.2).total_cmp(&speed(&b.1, &b.2)));
    let Some((_, best, _)) = measured.first() else {
        return Vec::new();
    };
    measured
        .iter()
        .filter_map(|(allocator, it, timed)| {
            Some(Ranked {
                allocator: *allocator,
                timed: *timed,
                to_best: to_best(it, best)?,
            })
        })
        .collect()
}

/// The allocators of `ids` (allocator, benchmark id) that were measured, fastest first.
pub fn ranked_ids(results: &Results, ids: &[(AllocatorKind, BenchId)]) -> Ranking {
    let measured = ids
        .iter()
        .filter_map(|(a, id)| Some((*a, id, timed(results, id)?)))
        .collect();
    // Ordered by the engine's paired ratios where one group has every allocator (its figures
    // were taken milliseconds apart), by the figures otherwise.
    let engine: Option<Vec<f64>> = ids
        .iter()
        .map(|(_, id)| Some(results.engine_ratio(id, &ids.first()?.1)?.ratio))
        .collect();
    let speed = |id: &&BenchId, timed: &Timed| {
        let k = ids.iter().position(|(_, x)| x == *id);
        engine.as_ref().zip(k).map_or(timed.point, |(e, k)| e[k])
    };
    rank_by(measured, speed, |id, best| compare(results, id, best))
}

/// Allocators measured in rounds of one process each (`rows`: each allocator's figures, the r-th of
/// every row from round r), fastest first: each figure the median across its processes with its
/// distribution-free interval, each ratio to the fastest paired by round. The same rule as every
/// ranking of the report: decided only when the paired interval clears `margin`.
pub fn rank_rounds(rows: &[(AllocatorKind, Vec<f64>)], margin: f64) -> Ranking {
    let measured = rows
        .iter()
        .filter_map(|(a, figures)| {
            let iv = stats::median_interval(figures)?;
            let timed = Timed {
                point: iv.point,
                low: iv.low,
                high: iv.high,
                processes: figures.len(),
                margin,
            };
            Some((*a, figures, timed))
        })
        .collect();
    rank_by(
        measured,
        |_, timed| timed.point,
        |figures: &&Vec<f64>, best: &&Vec<f64>| {
            Ratio::paired(&stats::paired_ratios(figures, best), margin)
        },
    )
}

/// The workload's time per round for each allocator at `threads`, fastest first.
pub fn ranked(results: &Results, workload: Workload, threads: usize) -> Ranking {
    let ids: Vec<(AllocatorKind, BenchId)> = AllocatorKind::all()
        .into_iter()
        .map(|a| (a, contention_id(workload, a, threads)))
        .collect();
    ranked_ids(results, &ids)
}

/// `numerator / denominator` of two benchmarks: from the comparison engine when one of its groups
/// has both (ratios paired by session, samples milliseconds apart, at the group's measured margin);
/// otherwise, after a repeated run, the median of the ratios paired by process, with its
/// distribution-free interval (see [`crate::analysis::stats`]); otherwise the conservative ratio
/// of Criterion's intervals.
pub fn compare(results: &Results, numerator: &BenchId, denominator: &BenchId) -> Option<Ratio> {
    if let Some(r) = results.engine_ratio(numerator, denominator) {
        return Some(r);
    }
    let paired = results.paired_ratios(numerator, denominator);
    if let Some(r) = Ratio::paired(&paired, margin(results)) {
        return Some(r);
    }
    Some(Ratio::of(
        timed(results, numerator)?,
        timed(results, denominator)?,
    ))
}

/// The largest thread count measured for `workload` whose threads all fit `cores`.
pub fn fitting_threads(
    results: &Results,
    workload: Workload,
    cores: Option<usize>,
) -> Option<usize> {
    let os = |t: usize| workload.os_threads(t);
    contention_threads(results)
        .into_iter()
        .filter(|&t| cores.is_none_or(|c| os(t) <= c))
        .filter(|&t| !ranked(results, workload, t).is_empty())
        .max()
}

/// The allocators tied with the fastest (not decidedly slower than it).
pub fn tied_best(ranking: &[Ranked]) -> Vec<AllocatorKind> {
    ranking
        .iter()
        .filter(|r| !r.to_best.decidedly_above())
        .map(|r| r.allocator)
        .collect()
}

/// scattered / contiguous for `allocator` at `working_set`: the cost of scattering the same reads.
pub fn scatter_ratio(
    results: &Results,
    allocator: AllocatorKind,
    working_set: u64,
) -> Option<Ratio> {
    compare(
        results,
        &locality_id(Layout::Scattered, Owner::Heap(allocator), working_set),
        &locality_id(Layout::Contiguous, Owner::Heap(allocator), working_set),
    )
}

/// The smallest working set from which on scattered nodes are decidedly slower than contiguous ones
/// for every allocator measured, at that size and every larger one.
pub fn locality_crossover(results: &Results) -> Option<u64> {
    let sets = locality_sets(results);
    let slower_everywhere = |ws: u64| {
        let ratios: Vec<Ratio> = AllocatorKind::all()
            .into_iter()
            .filter_map(|a| scatter_ratio(results, a, ws))
            .collect();
        !ratios.is_empty() && ratios.iter().all(Ratio::decidedly_above)
    };
    let last_not = sets.iter().rposition(|&ws| !slower_everywhere(ws));
    match last_not {
        None => sets.first().copied(),
        Some(i) => sets.get(i + 1).copied(),
    }
}

/// One pairwise comparison of `results.json`'s `rankings`: within `group`, `slower` took `ratio`
/// times as long as `faster`, with the interval `[low, high]` and its four-word verdict at
/// `margin` (slower, equal within the margin, or undecided: `slower` is named second, so never
/// "faster"); `decided` unless undecided. A comparison of fewer than six pairs (the engine's
/// sessions, or Criterion's processes where no group has both) is undecided.
#[derive(Clone, Debug, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct RankingEntry {
    pub group: String,
    pub faster: String,
    pub slower: String,
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
    pub verdict: stats::Verdict,
    /// The margin "slower" or "faster" must clear (0.05 = ±5%): the engine group's control (or the
    /// run's noise), at least 3%; "equal" is the whole interval within ±5%.
    pub margin: f64,
    pub decided: bool,
    /// Processes (or the engine's sessions) the comparison is paired over (1: Criterion's interval
    /// of one process).
    pub processes: usize,
    /// The full benchmark ids of `faster` and `slower`.
    pub faster_id: String,
    pub slower_id: String,
}

/// Every pairwise comparison the suite makes: at each stack_vs_heap size the stack array and each
/// allocator's `heap_box`; at each size, `alloc_free` between allocators; in each contention workload
/// and thread count, the allocators.
pub fn rankings(results: &Results) -> Vec<RankingEntry> {
    let mut out = Vec::new();
    for size in sizes(results) {
        let heap = |kind, allocator| BenchId::Heap {
            kind,
            allocator,
            bytes: size,
        };
        // Members are named by the id's parts below the ranking group: `stack_array`,
        // `heap_box/<allocator>`.
        let stack = BenchId::Stack {
            kind: StackKind::Array,
            bytes: size,
        };
        let mut members = vec![(stack.criterion_function(), stack)];
        members.extend(AllocatorKind::all().into_iter().map(|a| {
            let id = heap(HeapKind::Box, a);
            (id.criterion_function(), id)
        }));
        pairwise(results, &members, &mut out);
        let members: Vec<_> = AllocatorKind::all()
            .into_iter()
            .map(|a| (a.to_string(), heap(HeapKind::AllocFree, a)))
            .collect();
        pairwise(results, &members, &mut out);
    }
    for workload in contention_workloads(results) {
        for threads in contention_threads(results) {
            let members: Vec<_> = AllocatorKind::all()
                .into_iter()
                .map(|a| (a.to_string(), contention_id(workload, a, threads)))
                .collect();
            pairwise(results, &members, &mut out);
        }
    }
    out
}

/// Every pair of the measured `members` (name, id), slower named second, in the ranking group the
/// members share ([`ranking_group`]).
pub fn pairwise(results: &Results, members: &[(String, BenchId)], out: &mut Vec<RankingEntry>) {
    let Some(group) = members.first().and_then(|(_, id)| ranking_group(id)) else {
        return;
    };
    let measured: Vec<(&String, &BenchId)> = members
        .iter()
        .map(|(name, id)| (name, id))
        .filter(|(_, id)| results.bench(id).is_some())
        .collect();
    for (i, (a, a_id)) in measured.iter().enumerate() {
        for (b, b_id) in &measured[i + 1..] {
            let Some(r) = compare(results, a_id, b_id) else {
                continue;
            };
            let ((faster, slower), (faster_id, slower_id), r) = if r.ratio >= 1.0 {
                ((b, a), (b_id, a_id), r)
            } else {
                ((a, b), (a_id, b_id), r.inverse())
            };
            out.push(RankingEntry {
                group: group.clone(),
                faster: faster.to_string(),
                slower: slower.to_string(),
                ratio: r.ratio,
                low: r.low,
                high: r.high,
                verdict: r.verdict(),
                margin: r.resolution(),
                decided: r.verdict() != stats::Verdict::Undecided,
                processes: r.processes,
                faster_id: faster_id.to_string(),
                slower_id: slower_id.to_string(),
            });
        }
    }
}

/// `stack_control` does not allocate: its line is the median of its runs under each allocator (the
/// same code measured three times), not the largest of three noisy values.
pub fn stack_control_ops(results: &Results, threads: usize) -> Option<f64> {
    let runs: Vec<f64> = AllocatorKind::all()
        .into_iter()
        .filter_map(|a| ops_per_second(results, Workload::StackControl, a, threads))
        .collect();
    stats::median(&runs)
}

/// How `workload` under `alloc` scales from 1 to `threads` threads: operations per second at
/// `threads` over those at 1, `threads x time(t1) / time(t<threads>)`, paired by process. A
/// figure with its interval, not a comparison to decide.
pub fn scaling(
    results: &Results,
    workload: Workload,
    alloc: AllocatorKind,
    threads: usize,
) -> Option<Ratio> {
    let r = compare(
        results,
        &contention_id(workload, alloc, 1),
        &contention_id(workload, alloc, threads),
    )?;
    Some(r.scaled(threads as f64))
}

/// stack_control's scaling over local_churn's under `alloc`, from 1 to `threads` threads, paired by
/// process: above 1 (decided) when the shared heap holds local_churn back beyond the noise.
pub fn scaling_behind_stack(
    results: &Results,
    alloc: AllocatorKind,
    threads: usize,
) -> Option<Ratio> {
    let id = |workload, t| contention_id(workload, alloc, t);
    let (sc1, sct) = (
        id(Workload::StackControl, 1),
        id(Workload::StackControl, threads),
    );
    let (lc1, lct) = (
        id(Workload::LocalChurn, 1),
        id(Workload::LocalChurn, threads),
    );
    if let Some(r) = results.engine_ratio_of_ratios([&sc1, &sct, &lc1, &lct]) {
        return Some(r);
    }
    let paired: Vec<f64> = results
        .processes
        .iter()
        .filter_map(|p| Some((p.get(&sc1)? / p.get(&sct)?) / (p.get(&lc1)? / p.get(&lct)?)))
        .collect();
    if let Some(r) = Ratio::paired(&paired, margin(results)) {
        return Some(r);
    }
    let (stack, heap) = (
        scaling(results, Workload::StackControl, alloc, threads)?,
        scaling(results, Workload::LocalChurn, alloc, threads)?,
    );
    Some(Ratio {
        ratio: stack.ratio / heap.ratio,
        low: stack.low / heap.high,
        high: stack.high / heap.low,
        processes: 1,
        margin: margin(results),
    })
}

#[cfg(test)]
mod tests;
