//! What the results say, in words: the three answers a reader comes for, the folklore claims with a
//! verdict each, and findings in sentences, each worded from the comparisons of
//! `analysis::comparisons` and left out when the data is missing.

use crate::analysis::aggregate::Results;
use crate::analysis::comparisons::*;
use crate::data::depth::ProbeKind;
use crate::data::faults::FaultEntry;
use crate::data::id::{BenchId, HeapKind, LargeBox, StackKind, TouchKind};
use crate::data::latency::LatencyEntry;
use crate::data::latency::Op;
use crate::render::units::{
    ALLOCATORS, allocator_label, format_bytes, format_ns, mib, thread_label,
};
use crate::workload::allocators::AllocatorKind;
use crate::workload::contention::Workload;
use std::collections::BTreeMap;

/// The three questions the report answers, each as (question, the report section that holds the
/// details, what the answer's table shows).
const STACK_QUESTION: [&str; 3] = [
    "Should this be on the stack?",
    "stack-vs-heap",
    "time per iteration; (Nx) heap / stack, ≈ within noise",
];
const ALLOCATOR_QUESTION: [&str; 3] = [
    "Which allocator should my threaded code use?",
    "contention",
    "time per allocator operation, relative to the fastest",
];
const DEPTH_QUESTION: [&str; 3] = [
    "How deep can my recursion go?",
    "depth",
    "recursion levels until overflow, spawned thread",
];

/// Sizes the answer's small table shows (those of them measured), else every measured size.
const ANSWER_SIZES: [u64; 6] = [8, 64, 1024, 4096, 65536, 1 << 20];

/// The folklore's `char test[1000000]`.
const FOLKLORE_ARRAY: u64 = 1_000_000;

/// "within noise (±8%)": what a comparison that is not decided at `margin` says.
pub fn within_noise(margin: f64) -> String {
    format!("within noise (±{:.0}%)", margin * 100.0)
}

/// A ratio in words with its interval and verdict: `1.35x [1.22, 1.49]` when decided, otherwise
/// why not: within noise, or measured in one process (whose interval cannot decide).
pub fn ratio_words(r: &Ratio) -> String {
    if r.decided() {
        r.text()
    } else if r.repeated() {
        format!("{} ({})", within_noise(r.margin), r.text())
    } else {
        format!("{} (one process: not decided)", r.text())
    }
}

/// "45 recursion probes (35 std_thread, 5 rust_min_stack, 5 rayon)": a count of depth probes with
/// what it is made of, so that every sentence that counts probes names the set it counts.
pub fn probe_set(what: &str, entries: &[&crate::data::depth::DepthEntry]) -> String {
    let mut kinds: Vec<(ProbeKind, usize)> = Vec::new();
    for e in entries {
        match kinds.iter_mut().find(|(k, _)| *k == e.kind) {
            Some((_, n)) => *n += 1,
            None => kinds.push((e.kind, 1)),
        }
    }
    let parts: Vec<String> = kinds
        .iter()
        .map(|(k, n)| format!("{n} {}", k.name()))
        .collect();
    format!("{} {what} ({})", entries.len(), parts.join(", "))
}

/// "t2" or "t2 (4 threads, oversubscribed)": a contention thread count as every sentence names it.
fn threads_words(workload: Workload, threads: usize, cores: Option<usize>) -> String {
    let os = workload.os_threads(threads);
    thread_label(threads, os, cores.is_some_and(|c| os > c))
}

/// What the data says about a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Holds,
    HoldsInPart,
    DoesNotHold,
    NotMeasured,
}

impl Verdict {
    pub fn text(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::HoldsInPart => "holds in part",
            Verdict::DoesNotHold => "does not hold here",
            Verdict::NotMeasured => "not measured in this run",
        }
    }
}

/// A folklore claim, what the suite measured for it, and the verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    pub quote: &'static str,
    pub verdict: Verdict,
    /// The numbers and how they decide the verdict; for `NotMeasured`, what would measure it.
    pub evidence: String,
}

/// One of the three questions, answered from the data: a sentence or two and a small table, or, when
/// the part was not run, what to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub question: &'static str,
    /// The report section that holds the details.
    pub anchor: &'static str,
    pub text: String,
    /// What the table's numbers are, in which unit.
    pub caption: &'static str,
    /// Header row first; empty when the part was not measured.
    pub table: Vec<Vec<String>>,
}

impl Answer {
    /// An answer still to be written: its question, where its details are, what its table shows.
    fn new([question, anchor, caption]: [&'static str; 3]) -> Answer {
        Answer {
            question,
            anchor,
            text: String::new(),
            caption,
            table: Vec::new(),
        }
    }
}

/// `glibc 8.4 ns`, one per allocator measured: alloc_free at `size`.
fn alloc_free_at(results: &Results, size: u64) -> Vec<String> {
    ALLOCATORS
        .into_iter()
        .filter_map(|a| {
            let t = time(results, &heap_id(HeapKind::AllocFree, a, size))?;
            Some(format!("{} {}", allocator_label(a), format_ns(t)))
        })
        .collect()
}

/// A ranking in words, fastest first: `mimalloc ≈ jemalloc; glibc 1.90x [1.80, 2.00]`, where `≈` joins
/// allocators within noise of the fastest and the others carry their time ratio to it.
fn ranking_text(ranking: &[Ranked]) -> String {
    let (tied, slower): (Vec<&Ranked>, Vec<&Ranked>) =
        ranking.iter().partition(|r| !r.to_best.decidedly_above());
    let mut text = tied
        .iter()
        .map(|r| allocator_label(r.allocator))
        .collect::<Vec<_>>()
        .join(" ≈ ");
    for r in slower {
        text += &format!("; {} {}", allocator_label(r.allocator), r.to_best.text());
    }
    text
}

fn answer_stack(results: &Results) -> Answer {
    let mut answer = Answer::new(STACK_QUESTION);
    let measured = sizes(results);
    let allocators: Vec<AllocatorKind> = ALLOCATORS
        .into_iter()
        .filter(|&a| {
            measured
                .iter()
                .any(|&s| heap_over_stack(results, a, s).is_some())
        })
        .collect();
    if allocators.is_empty() {
        answer.text = "Not measured in this run: run `scripts/run stack_vs_heap` (or `cargo bench --bench stack_vs_heap`).".into();
        return answer;
    }
    let mut sentences = Vec::new();
    if let Some(&small) = measured.iter().find(|&&s| s == 64).or(measured.first()) {
        let costs: Vec<String> = allocators
            .iter()
            .filter_map(|&a| {
                let r = heap_over_stack(results, a, small)?;
                Some(format!("{} {}", allocator_label(a), ratio_words(&r)))
            })
            .collect();
        sentences.push(format!(
            "A {} heap block (allocate, fill, read, free) costs, relative to a stack array of the same size: {}.",
            format_bytes(small as f64),
            costs.join(", ")
        ));
    }
    let direct = alloc_free_at(results, 64);
    if !direct.is_empty() {
        let stack = time(results, &stack_id(StackKind::Reserve, 64))
            .map_or(String::new(), |t| format!(" (the stack: {})", format_ns(t)));
        sentences.push(format!(
            "Allocating and freeing 64 B alone: {}{stack}.",
            direct.join(", ")
        ));
    }
    let crossovers: Vec<String> = allocators
        .iter()
        .map(|&a| match heap_crossover(results, a) {
            Some(s) => format!("{} {}", allocator_label(a), format_bytes(s as f64)),
            None => format!("{} none measured", allocator_label(a)),
        })
        .collect();
    sentences.push(format!(
        "From these sizes up, a heap block costs no more than the stack array ({}): {}. Below them the allocation is a real cost; above them, filling the memory dominates.",
        within_noise(margin(results)),
        crossovers.join(", ")
    ));
    answer.text = sentences.join(" ");
    let shown: Vec<u64> = {
        let picked: Vec<u64> = measured
            .iter()
            .copied()
            .filter(|s| ANSWER_SIZES.contains(s))
            .collect();
        if picked.is_empty() { measured } else { picked }
    };
    let mut header = vec!["size".to_string(), "stack_array".into()];
    header.extend(
        allocators
            .iter()
            .map(|a| format!("heap_box {} (x stack)", allocator_label(a))),
    );
    answer.table.push(header);
    for s in shown {
        let mut row = vec![
            format_bytes(s as f64),
            time(results, &stack_id(StackKind::Array, s)).map_or("-".into(), format_ns),
        ];
        row.extend(allocators.iter().map(|&a| {
            match (
                time(results, &heap_id(HeapKind::Box, a, s)),
                heap_over_stack(results, a, s),
            ) {
                (Some(t), Some(r)) if r.decided() => format!("{} ({})", format_ns(t), r.text()),
                (Some(t), Some(_)) => format!("{} (≈ stack)", format_ns(t)),
                _ => "-".into(),
            }
        }));
        answer.table.push(row);
    }
    answer
}

fn answer_allocator(results: &Results, cores: Option<usize>) -> Answer {
    let mut answer = Answer::new(ALLOCATOR_QUESTION);
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
        answer.text = "Not measured in this run: run `scripts/run contention` (or `cargo bench --bench contention`).".into();
        return answer;
    }
    let best_or_tied = |a: AllocatorKind| {
        rows.iter()
            .filter(|(_, _, r)| tied_best(r).contains(&a))
            .count()
    };
    let mut counts: Vec<(AllocatorKind, usize)> = ALLOCATORS
        .into_iter()
        .map(|a| (a, best_or_tied(a)))
        .filter(|(a, _)| {
            rows.iter()
                .any(|(_, _, r)| r.iter().any(|x| x.allocator == *a))
        })
        .collect();
    counts.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    answer.text = format!(
        "Fastest or tied with the fastest (within ±{:.0}%), per workload at the most threads that fit the cores: {}, of {} workloads. The table ranks each workload; the pattern of your own code decides.",
        margin(results) * 100.0,
        counts
            .iter()
            .map(|(a, n)| format!("{} in {n}", allocator_label(a)))
            .collect::<Vec<_>>()
            .join(", "),
        rows.len()
    );
    answer.table.push(vec![
        "workload".into(),
        "threads".into(),
        "fastest first (≈ within noise; Nx: time ratio to the fastest)".into(),
    ]);
    for (w, t, ranking) in rows {
        answer.table.push(vec![
            w.name().to_owned(),
            thread_label(t, w.os_threads(t), false),
            ranking_text(&ranking),
        ]);
    }
    answer
}

fn answer_depth(results: &Results) -> Answer {
    let mut answer = Answer::new(DEPTH_QUESTION);
    let probes = stack_probes(results);
    if probes.is_empty() {
        answer.text = "Not measured in this run: run `scripts/run stack_depth` (or `cargo bench --bench stack_depth`).".into();
        return answer;
    }
    let stacks = distinct(probes.iter().filter_map(|e| e.requested_stack_bytes));
    let frames = distinct(probes.iter().map(|e| e.frame_bytes));
    let probe = |stack: u64, frame: u64| {
        probes
            .iter()
            .find(|e| e.requested_stack_bytes == Some(stack) && e.frame_bytes == frame)
    };
    // Rust's default for spawned threads, else the largest measured.
    let shown_stack = if stacks.contains(&(2 << 20)) {
        2 << 20
    } else {
        *stacks.last().expect("at least one probe")
    };
    let mut sentences = Vec::new();
    if let Some(e) = frames.first().and_then(|&f| probe(shown_stack, f))
        && let (Some(d), Some(per), Some(naive)) =
            (e.measured_depth, e.bytes_per_level, e.naive_depth)
    {
        sentences.push(format!(
            "A spawned thread with a {} stack holds {d} levels of the smallest frame measured ({per} B per level). The rule of thumb stack size / bytes per level says {naive}: it misses {} that glibc takes from the top of the stack (TLS, the thread control block) and the frames below the first level.",
            format_bytes(shown_stack as f64),
            format_bytes(naive.saturating_sub(d) as f64 * per as f64)
        ));
    }
    let worst = probes
        .iter()
        .filter_map(|e| e.difference_percent)
        .map(f64::abs)
        .fold(0.0, f64::max);
    sentences.push(format!(
        "Depth scales with the stack size you request; usable stack / bytes per level, from the thread's real stack bounds, predicted all {} within {worst:.2}%.",
        probe_set(
            &format!(
                "overflow probes of spawned threads with a requested stack ({} stack sizes x {} frame sizes)",
                stacks.len(),
                frames.len()
            ),
            &probes
        )
    ));
    let arrays = largest_local_arrays(results);
    if let Some(&(stack, largest)) = arrays
        .iter()
        .find(|(s, _)| *s == shown_stack)
        .or(arrays.last())
    {
        let fits_from = arrays.iter().find(|(_, l)| *l >= FOLKLORE_ARRAY);
        sentences.push(format!(
            "One local array can be at most {largest} B in a {} thread; a 1,000,000-byte one fits {}.",
            format_bytes(stack as f64),
            fits_from.map_or("none of the measured stacks".into(), |(s, _)| format!(
                "from a {} stack up",
                format_bytes(*s as f64)
            ))
        ));
    }
    answer.text = sentences.join(" ");
    let shown_stacks: Vec<u64> = stacks
        .iter()
        .copied()
        .filter(|&s| s == 256 << 10 || s == 2 << 20 || s == 8 << 20)
        .collect();
    let shown_stacks = if shown_stacks.is_empty() {
        stacks
    } else {
        shown_stacks
    };
    let mut header = vec!["frame (bytes per level)".to_string()];
    header.extend(
        shown_stacks
            .iter()
            .map(|&s| format!("{} stack", format_bytes(s as f64))),
    );
    answer.table.push(header);
    for &f in &frames {
        let per = probes
            .iter()
            .find_map(|e| e.bytes_per_level.filter(|_| e.frame_bytes == f));
        let mut row = vec![format!(
            "{} ({})",
            format_bytes(f as f64),
            per.map_or("-".into(), |p| format!("{p} B"))
        )];
        row.extend(shown_stacks.iter().map(|&s| {
            probe(s, f)
                .and_then(|e| e.measured_depth)
                .map_or("-".into(), |d| format!("{d} levels"))
        }));
        answer.table.push(row);
    }
    answer
}

/// The three answers, in the order the report shows them.
pub fn answers(results: &Results, cores: Option<usize>) -> [Answer; 3] {
    [
        answer_stack(results),
        answer_allocator(results, cores),
        answer_depth(results),
    ]
}

fn claim(quote: &'static str, verdict: Verdict, evidence: String) -> Claim {
    Claim {
        quote,
        verdict,
        evidence,
    }
}

fn not_measured(quote: &'static str, what_would: &str) -> Claim {
    claim(quote, Verdict::NotMeasured, what_would.to_string())
}

fn claim_managed(results: &Results) -> Claim {
    const Q: &str = "Stack memory is managed by the CPU; heap memory by the programmer.";
    let ratios: Vec<(AllocatorKind, Ratio)> = ALLOCATORS
        .into_iter()
        .filter_map(|a| Some((a, heap_over_stack(results, a, 64)?)))
        .collect();
    let direct = alloc_free_at(results, 64);
    let direct = match time(results, &stack_id(StackKind::Reserve, 64)) {
        Some(stack) if !direct.is_empty() => format!(
            " Getting and giving back 64 B alone: the stack {}, the heap {}.",
            format_ns(stack),
            direct.join(", ")
        ),
        _ => String::new(),
    };
    let Some(stack) = time(results, &stack_id(StackKind::Array, 64)) else {
        return not_measured(
            Q,
            "needs stack_array and heap_box at 64 B (cargo bench --bench stack_vs_heap).",
        );
    };
    if ratios.is_empty() {
        return not_measured(
            Q,
            "needs heap_box at 64 B (cargo bench --bench stack_vs_heap).",
        );
    }
    let costlier = ratios.iter().filter(|(_, r)| r.decidedly_above()).count();
    let list: Vec<String> = ratios
        .iter()
        .map(|(a, r)| format!("{} {}", allocator_label(a), r.text()))
        .collect();
    claim(
        Q,
        if costlier > 0 {
            Verdict::HoldsInPart
        } else {
            Verdict::DoesNotHold
        },
        format!(
            "Neither is managed by the CPU: a stack array is a stack-pointer adjustment the compiler emits (stack_array 64 B: {} including the fill), a heap block a call into the allocator. heap_box / stack_array at 64 B: {}; decidedly costlier for {costlier} of {} allocators.{direct} In Rust neither is freed by hand: both are released when their owner goes out of scope.",
            format_ns(stack),
            list.join(", "),
            ratios.len()
        ),
    )
}

fn claim_freed() -> Claim {
    not_measured(
        "Stack memory is freed automatically when the function returns; heap memory persists until freed.",
        "No benchmark measures it. The suite's tests check the Rust side with counting allocators (cargo test): every stack workload allocates nothing and every heap workload frees exactly what it allocated, when its owner is dropped. A run-time check would compare resident memory before and after a scope.",
    )
}

fn claim_threads(results: &Results, cores: Option<usize>) -> Claim {
    const Q: &str = "Each thread has its own stack; all threads share one heap.";
    let Some(t) = fitting_threads(results, Workload::LocalChurn, cores).filter(|&t| t > 1) else {
        return not_measured(
            Q,
            "needs local_churn and stack_control at 1 and 2+ threads (cargo bench --bench contention).",
        );
    };
    // Each scaling paired by process, with its interval (`comparisons::scaling`).
    let scalings = |workload| -> Vec<(AllocatorKind, Ratio)> {
        ALLOCATORS
            .into_iter()
            .filter_map(|a| Some((a, scaling(results, workload, a, t)?)))
            .collect()
    };
    let words = |scalings: &[(AllocatorKind, Ratio)]| {
        scalings
            .iter()
            .map(|(a, r)| format!("{} {}", allocator_label(a), r.text()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // stack_control runs the same code for each allocator: its scaling is the median of theirs,
    // not the largest of noisy values.
    let stack = scalings(Workload::StackControl);
    let points: Vec<f64> = stack.iter().map(|(_, r)| r.ratio).collect();
    let Some(stack_scaling) = crate::analysis::stats::median(&points) else {
        return not_measured(
            Q,
            "needs stack_control at 1 and 2+ threads (cargo bench --bench contention).",
        );
    };
    let heap = scalings(Workload::LocalChurn);
    // Held back: stack_control's scaling over local_churn's, paired by process, decidedly above 1.
    let behind: Vec<&str> = heap
        .iter()
        .filter(|(a, _)| scaling_behind_stack(results, *a, t).is_some_and(|r| r.decidedly_above()))
        .map(|(a, _)| allocator_label(a))
        .collect();
    let low = points.iter().copied().fold(f64::INFINITY, f64::min);
    let high = points.iter().copied().fold(0.0, f64::max);
    let stack_words = format!(
        "{stack_scaling:.2}x [{low:.2}, {high:.2}] (the median and range of its runs under each allocator: {})",
        words(&stack)
    );
    let evidence = format!(
        "From 1 to {t} threads, stack_control (no heap) scales {stack_words}; local_churn (each thread churns its own blocks in the shared heap) scales {}.",
        words(&heap)
    );
    if behind.is_empty() {
        claim(
            Q,
            Verdict::HoldsInPart,
            format!(
                "{evidence} The heap is shared, but per-thread caches hide the sharing for thread-local work: every allocator scales within noise of the stack. It shows when memory crosses threads (producer_consumer, cross_thread_free)."
            ),
        )
    } else {
        claim(
            Q,
            Verdict::Holds,
            format!(
                "{evidence} The shared heap holds back {} beyond the noise.",
                behind.join(", ")
            ),
        )
    }
}

fn claim_static(results: &Results) -> Claim {
    const Q: &str = "The stack is static per thread; the heap grows.";
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
        (Some(one), Some(two), Some(h)) => claim(
            Q,
            Verdict::Holds,
            format!(
                "A thread's stack is fixed when it is created: recursion overflowed at {one} levels with 1 MiB and {two} with 2 MiB ({:.2}x, exact: depths are counts, for twice the size). The same recursion kept on the heap went {h} levels deep in the same 2 MiB thread and stopped only at its cap. Heap growth page by page is not measured yet.",
                two as f64 / one as f64
            ),
        ),
        _ => not_measured(
            Q,
            "needs the 1 MiB and 2 MiB overflow probes and the heap loop (cargo bench --bench stack_depth).",
        ),
    }
}

fn claim_overflow(results: &Results) -> Claim {
    const Q: &str =
        "Endless recursion or a big local array (char test[1000000]) overflows the stack.";
    let Some(depth) = &results.depth else {
        return not_measured(
            Q,
            "needs the overflow probes (cargo bench --bench stack_depth).",
        );
    };
    // The recursion probes: every kind but the heap loop and the local-array bisection.
    let stack_probes: Vec<_> = depth
        .entries
        .iter()
        .filter(|e| !matches!(e.kind, ProbeKind::HeapLoop | ProbeKind::LocalArray))
        .collect();
    let overflowed = stack_probes.iter().filter(|e| e.is_overflow()).count();
    if stack_probes.is_empty() {
        return not_measured(
            Q,
            "needs the overflow probes (cargo bench --bench stack_depth).",
        );
    }
    let largest_frame = stack_probes
        .iter()
        .map(|e| e.frame_bytes)
        .max()
        .unwrap_or(0);
    let recursion = format!(
        "Unbounded recursion overflowed the stack in {overflowed} of {} (frames up to {} per level; Rust aborts the process with \"has overflowed its stack\").",
        probe_set("recursion probes", &stack_probes),
        format_bytes(largest_frame as f64)
    );
    let all_overflowed = overflowed == stack_probes.len();
    let arrays = largest_local_arrays(results);
    if arrays.is_empty() {
        return claim(
            Q,
            if all_overflowed {
                Verdict::HoldsInPart
            } else {
                Verdict::DoesNotHold
            },
            format!(
                "{recursion} The largest local array is not probed in this run (the stack_depth bench's local_array probe), so that half is not measured."
            ),
        );
    }
    let (too_small, big_enough): (Vec<_>, Vec<_>) =
        arrays.iter().partition(|(_, l)| *l < FOLKLORE_ARRAY);
    let list = |v: &[&(u64, u64)]| {
        v.iter()
            .map(|(s, _)| format_bytes(*s as f64))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let arrays_text = format!(
        " A 1,000,000-byte local array overflowed {} and fitted {} (largest array bisected per stack size; e.g. {} B in {}).",
        if too_small.is_empty() {
            "no measured stack".into()
        } else {
            format!("the {} stacks", list(&too_small))
        },
        if big_enough.is_empty() {
            "none".into()
        } else {
            format!("the {} stacks", list(&big_enough))
        },
        arrays.last().map_or(0, |a| a.1),
        format_bytes(arrays.last().map_or(0, |a| a.0) as f64),
    );
    let verdict = match (all_overflowed, too_small.is_empty(), big_enough.is_empty()) {
        (true, false, true) => Verdict::Holds,
        (true, false, false) => Verdict::HoldsInPart,
        _ => Verdict::DoesNotHold,
    };
    claim(Q, verdict, format!("{recursion}{arrays_text}"))
}

fn claim_page_faults(results: &Results) -> Claim {
    const Q: &str = "Heap access can be very expensive because of page faults.";
    let faults = results.faults_by_id();
    let size = 1u64 << 20;
    let fresh_id = first_touch_id(TouchKind::Mmap, None, size);
    let (Some(fresh), Some(fresh_faults)) = (timed(results, &fresh_id), faults.get(&fresh_id))
    else {
        return not_measured(
            Q,
            "needs first_touch/mmap at 1 MiB and its fault counts (cargo bench --bench stack_vs_heap).",
        );
    };
    let fresh_faults = fresh_faults.minor_faults_per_iter;
    let retouch = ALLOCATORS
        .into_iter()
        .filter_map(|a| {
            timed(
                results,
                &first_touch_id(TouchKind::Pretouched, Some(a), size),
            )
        })
        .min_by(|a, b| a.point.total_cmp(&b.point));
    let mut evidence = format!(
        "Touching 1 MiB of pages fresh from the kernel costs {} ({fresh_faults:.0} minor faults, {} each)",
        format_ns(fresh.point),
        format_ns(fresh.point / fresh_faults.max(1.0))
    );
    let expensive = match retouch {
        Some(r) => {
            let ratio = Ratio::of(fresh, r);
            evidence += &format!(
                ", {} touching the same amount of memory already mapped ({}).",
                ratio_words(&ratio),
                format_ns(r.point)
            );
            // Measured in one process, the times cannot decide; the fault counts still can.
            if ratio.repeated() {
                ratio.decidedly_above()
            } else {
                fresh_faults >= 1.0
            }
        }
        None => {
            evidence += ".";
            fresh_faults >= 1.0
        }
    };
    if let Some(stack) = timed(
        results,
        &first_touch_id(TouchKind::StackFreshThread, None, size),
    ) {
        evidence += &format!(
            " A new thread's own stack pays the same: 1 MiB of it costs {} to touch first.",
            format_ns(stack.point)
        );
    }
    let kept = growth_faults(&faults, TouchKind::HeapRegrowth);
    if !kept.is_empty() {
        evidence += &format!(
            " But allocators keep what is freed: growing the heap again to the same size faults {} per page; only memory new to the process (or given back to the kernel) pays.",
            kept.join(", ")
        );
    }
    claim(
        Q,
        if expensive {
            Verdict::HoldsInPart
        } else {
            Verdict::DoesNotHold
        },
        evidence,
    )
}

/// `glibc 0.78`, one per allocator: faults per page of the largest `variant` heap growth measured.
fn growth_faults(faults: &BTreeMap<BenchId, &FaultEntry>, kind: TouchKind) -> Vec<String> {
    ALLOCATORS
        .into_iter()
        .filter_map(|a| {
            faults
                .iter()
                .filter(|(id, _)| {
                    matches!(id, BenchId::FirstTouch { kind: k, allocator: Some(x), .. } if *k == kind && *x == a)
                })
                .map(|(_, f)| f)
                .max_by_key(|f| f.size_bytes)
                .and_then(|f| f.faults_per_page())
                .map(|p| format!("{} {p:.2}", allocator_label(a)))
        })
        .collect()
}

fn claim_cache(results: &Results) -> Claim {
    const Q: &str = "The stack frame of the running thread is in the processor cache, which is faster than RAM.";
    let hot: Vec<(u64, AllocatorKind, Ratio)> = sizes(results)
        .into_iter()
        .filter(|&s| s <= 16 << 10)
        .flat_map(|s| {
            ALLOCATORS.into_iter().filter_map(move |a| {
                Some((
                    s,
                    a,
                    compare(
                        results,
                        &heap_id(HeapKind::Reused, a, s),
                        &stack_id(StackKind::Array, s),
                    )?,
                ))
            })
        })
        .collect();
    let locality = match (locality_crossover(results), locality_sets(results).last()) {
        (Some(ws), Some(&largest)) => {
            let at_largest: Vec<String> = ALLOCATORS
                .into_iter()
                .filter_map(|a| {
                    Some(format!("{} {}", allocator_label(a), scatter_ratio(results, a, largest)?.text()))
                })
                .collect();
            format!(
                " The same reads over separately allocated nodes in random order cost decidedly more than over contiguous ones from a {} working set up (at {}: {}): locality, not the stack, is what the cache rewards.",
                format_bytes(ws as f64),
                format_bytes(largest as f64),
                at_largest.join(", ")
            )
        }
        (None, Some(&largest)) => {
            let at_largest: Vec<String> = ALLOCATORS
                .into_iter()
                .filter_map(|a| {
                    Some(format!("{} {}", allocator_label(a), ratio_words(&scatter_ratio(results, a, largest)?)))
                })
                .collect();
            format!(
                " Scattered nodes were not decidedly slower than contiguous ones at the working sets measured (at {}: {}).",
                format_bytes(largest as f64),
                at_largest.join(", ")
            )
        }
        _ => " Cold and scattered data (where RAM speed shows) is not measured in this run (the locality benchmarks).".into(),
    };
    if hot.is_empty() {
        return not_measured(
            Q,
            "needs stack_array and heap_reused up to 16 KiB (cargo bench --bench stack_vs_heap); a locality benchmark (contiguous vs scattered data beyond the cache) would test the rest.",
        );
    }
    let stack_faster = hot.iter().filter(|(_, _, r)| r.decidedly_above()).count();
    let heap_faster = hot.iter().filter(|(_, _, r)| r.decidedly_below()).count();
    let tied = hot.len() - stack_faster - heap_faster;
    let verdict = if stack_faster > hot.len() / 2 {
        Verdict::Holds
    } else {
        Verdict::HoldsInPart
    };
    claim(
        Q,
        verdict,
        format!(
            "Hot memory is hot memory: a heap block reused every iteration (heap_reused) against the stack array, 8 B to 16 KiB, {} comparisons: stack decidedly faster in {stack_faster}, heap decidedly faster in {heap_faster}, {tied} {}. The stack is usually in cache because it is reused, not because it is the stack.{locality}",
            hot.len(),
            within_noise(margin(results))
        ),
    )
}

fn claim_heaps_differ(results: &Results, cores: Option<usize>) -> Claim {
    const Q: &str =
        "Some heaps are fast for small objects, others efficient in multithreaded programs.";
    let small_ids: Vec<(AllocatorKind, BenchId)> = ALLOCATORS
        .into_iter()
        .map(|a| (a, heap_id(HeapKind::Box, a, 64)))
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
        return not_measured(
            Q,
            "needs heap_box at 64 B and the contention workloads at 2+ threads for two or more allocators (scripts/run).",
        );
    }
    let small_best = tied_best(&small);
    let wins = |a: AllocatorKind| threaded.iter().filter(|b| b.contains(&a)).count();
    let threaded_best: Vec<AllocatorKind> = ALLOCATORS
        .into_iter()
        .filter(|&a| wins(a) * 2 > threaded.len())
        .collect();
    let names = |v: &[AllocatorKind]| {
        v.iter()
            .map(|&a| allocator_label(a))
            .collect::<Vec<_>>()
            .join(" and ")
    };
    let evidence = format!(
        "Fastest (or tied, ±{:.0}%) for one 64 B object on one thread: {}. Fastest or tied in most multi-threaded workloads: {} ({} workloads).",
        margin(results) * 100.0,
        names(&small_best),
        if threaded_best.is_empty() {
            "no allocator".into()
        } else {
            names(&threaded_best)
        },
        threaded.len()
    );
    let verdict =
        if small_best.len() == 1 && threaded_best.len() == 1 && small_best[0] != threaded_best[0] {
            Verdict::Holds
        } else if small_best.iter().any(|a| threaded_best.contains(a)) {
            Verdict::DoesNotHold
        } else {
            Verdict::HoldsInPart
        };
    claim(Q, verdict, evidence)
}

/// Every folklore claim the project started from, with what this run says about it.
pub fn claims(results: &Results, cores: Option<usize>) -> Vec<Claim> {
    vec![
        claim_managed(results),
        claim_freed(),
        claim_threads(results, cores),
        claim_static(results),
        claim_overflow(results),
        claim_page_faults(results),
        claim_cache(results),
        claim_heaps_differ(results, cores),
    ]
}

/// The percentiles a latency table and chart show, in order.
pub const PERCENTILE_LABELS: [&str; 4] = ["p50", "p99", "p99.9", "max"];

/// For each latency workload, at its largest thread count within the cores, the p99 of an allocation
/// and of a free for each allocator.
pub fn latency_findings(latency: &[LatencyEntry]) -> Vec<String> {
    let mut out = Vec::new();
    for workload in latency_workloads(latency) {
        let Some(t) = latency_threads(latency, workload) else {
            continue;
        };
        for op in Op::ALL {
            let figures: Vec<String> = AllocatorKind::ALL
                .into_iter()
                .filter_map(|a| {
                    let e = latency_entry(latency, workload, t, a, op)?;
                    let shown = |ns: f64| {
                        if e.below_resolution(ns) {
                            format!(
                                "below the clock's resolution (<{})",
                                format_ns(e.resolution_floor_ns())
                            )
                        } else {
                            format_ns(ns)
                        }
                    };
                    Some(format!(
                        "{} {} (p50 {}, max {})",
                        allocator_label(a),
                        shown(e.p99_ns),
                        shown(e.p50_ns),
                        shown(e.max_ns)
                    ))
                })
                .collect();
            if !figures.is_empty() {
                out.push(format!(
                    "p99 of one {} in {} at {}: {}.",
                    match op {
                        Op::Alloc => "allocation",
                        Op::Free => "free",
                    },
                    workload.name(),
                    thread_label(t, workload.os_threads(t), false),
                    figures.join(", ")
                ));
            }
        }
    }
    out
}

/// Plain sentences computed from the data; a sentence whose numbers are missing is left out.
pub fn findings(results: &Results, cores: Option<usize>) -> Vec<String> {
    let mut out = Vec::new();
    let size = 64u64;
    if let Some(stack) = time(results, &stack_id(StackKind::Array, size)) {
        for a in ALLOCATORS {
            if let (Some(heap), Some(ratio)) = (
                time(results, &heap_id(HeapKind::Box, a, size)),
                heap_over_stack(results, a, size),
            ) {
                let alloc_only = time(results, &heap_id(HeapKind::AllocFree, a, size))
                    .map(|t| {
                        format!(
                            "; allocating and freeing alone (alloc_free) costs {}",
                            format_ns(t)
                        )
                    })
                    .unwrap_or_default();
                out.push(format!(
                    "A {size} B heap allocation with {} costs {} here (allocate, fill, read, free), {} a stack array of the same size ({}){alloc_only}.",
                    allocator_label(a),
                    format_ns(heap),
                    ratio.text(),
                    format_ns(stack)
                ));
            }
        }
    }
    // Where the heap stops mattering: from which size on heap_box is within noise of the stack.
    for a in ALLOCATORS {
        if let Some(s) = heap_crossover(results, a) {
            out.push(format!(
                "From {} up, a heap block from {} is not decidedly slower than the stack array ({}): filling the memory, not allocating it, dominates.",
                format_bytes(s as f64),
                allocator_label(a),
                within_noise(margin(results))
            ));
        }
    }
    let faults = results.faults_by_id();
    let mmap_id = first_touch_id(TouchKind::Mmap, None, 1 << 20);
    if let (Some(t), Some(f)) = (time(results, &mmap_id), faults.get(&mmap_id)) {
        let f = f.minor_faults_per_iter;
        out.push(format!(
            "Touching 1 MiB of fresh pages from the kernel costs {} ({f:.0} minor faults, {} per fault).",
            format_ns(t),
            format_ns(t / f.max(1.0))
        ));
    }
    let given_back = growth_faults(&faults, TouchKind::HeapGrowth);
    if !given_back.is_empty() {
        out.push(format!(
            "Growing the heap after the allocator was asked to give its free memory back faults {} per page (1.00: every page fresh; less: the allocator kept memory).",
            given_back.join(", ")
        ));
    }
    let (array_id, zeroed_id) = (
        large_box_id(LargeBox::Array, 1 << 20),
        large_box_id(LargeBox::Zeroed, 1 << 20),
    );
    if let (Some(array), Some(zeroed), Some(r)) = (
        time(results, &array_id),
        time(results, &zeroed_id),
        compare(results, &array_id, &zeroed_id),
    ) {
        out.push(format!(
            "Box::new([0u8; 1 MiB]) takes {} and Box::new_zeroed {} ({}).",
            format_ns(array),
            format_ns(zeroed),
            ratio_words(&r)
        ));
    }
    let threads = contention_threads(results);
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
        let ops: Vec<(AllocatorKind, f64)> = ALLOCATORS
            .into_iter()
            .filter_map(|a| ops_per_second(results, workload, a, t).map(|v| (a, v)))
            .collect();
        if ops.len() < 2 {
            continue;
        }
        let by_ops = |a: &&(AllocatorKind, f64), b: &&(AllocatorKind, f64)| a.1.total_cmp(&b.1);
        let (Some(&(best, best_ops)), Some(&(worst, worst_ops))) =
            (ops.iter().max_by(by_ops), ops.iter().min_by(by_ops))
        else {
            continue;
        };
        // Operations per second are inverse times: best / worst operations is worst / best time,
        // paired by process like every ratio.
        let Some(r) = compare(
            results,
            &contention_id(workload, worst, t),
            &contention_id(workload, best, t),
        ) else {
            continue;
        };
        out.push(format!(
            "With {workload} at {}, {} does {} the operations of {} ({:.1} vs {:.1} million/s).",
            threads_words(workload, t, Some(cores)),
            allocator_label(best),
            ratio_words(&r),
            allocator_label(worst),
            best_ops / 1e6,
            worst_ops / 1e6
        ));
        if workload == Workload::LocalChurn && t > 1 {
            for a in ALLOCATORS {
                if let (Some(heap), Some(stack)) = (
                    scaling(results, workload, a, t),
                    scaling(results, Workload::StackControl, a, t),
                ) {
                    let against_stack =
                        scaling_behind_stack(results, a, t).map_or(String::new(), |r| {
                            format!(
                                "; stack_control's scaling over local_churn's: {}",
                                ratio_words(&r)
                            )
                        });
                    out.push(format!(
                        "local_churn with {} scales {} from 1 to {} (stack_control, with no heap: {}{against_stack}).",
                        allocator_label(a),
                        heap.text(),
                        threads_words(workload, t, Some(cores)),
                        stack.text()
                    ));
                }
            }
        }
    }
    if let Some(depth) = &results.depth {
        let two_mib: Vec<_> = depth
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
            if let (Some(d), Some(per), Some(g)) =
                (e.measured_depth, e.bytes_per_level, e.granted_stack_bytes)
            {
                out.push(format!(
                    "A 2 MiB thread stack holds {d} levels with a {} local array ({per} B per level); size / level would say {}, the difference being TLS, the thread control block and start-up frames.",
                    format_bytes(e.frame_bytes as f64),
                    g / per
                ));
            }
        }
        let predicted: Vec<(&crate::data::depth::DepthEntry, f64)> = depth
            .entries
            .iter()
            .filter_map(|e| {
                let (measured, predicted) = (e.measured_depth? as f64, e.predicted_depth? as f64);
                Some((e, (measured - predicted).abs() / predicted * 100.0))
            })
            .collect();
        if !predicted.is_empty() {
            let entries: Vec<_> = predicted.iter().map(|(e, _)| *e).collect();
            out.push(format!(
                "Across {} with a depth predicted from the real stack bounds, measured depth is within {:.2}% of it.",
                probe_set("overflow probes", &entries),
                predicted.iter().map(|(_, d)| *d).fold(0.0, f64::max)
            ));
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
        if let (Some(h), Some(s)) = (heap, stack) {
            out.push(format!(
                "The same recursion as a loop over a heap Vec went {h} levels deep in a thread with a 2 MiB stack, {:.0}x (exact: depths are counts) the stack's {s} (it stopped at its cap, not at a limit).",
                h as f64 / s as f64
            ));
        }
    }
    if let Some(memory) = &results.memory
        && let Some(t) = memory_threads_within_cores(&memory.entries)
    {
        for workload in Workload::ALL.into_iter().filter(|w| w.in_memory_findings()) {
            let row: Vec<String> = ALLOCATORS
                .into_iter()
                .filter_map(|a| {
                    memory_entry(&memory.entries, workload, a, t)
                        .map(|e| format!("{} {}", allocator_label(a), mib(e.peak_rss_bytes)))
                })
                .collect();
            if !row.is_empty() {
                out.push(format!(
                    "Peak memory of {workload} at t{t}: {}.",
                    row.join(", ")
                ));
            }
        }
    }
    if let Some(latency) = &results.latency {
        out.extend(latency_findings(&latency.entries));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::results::Bench;

    /// Results made of `(id, mean ns)` pairs, each with a +-1% interval as if aggregated across
    /// three processes (only such intervals may decide); contention ids get their throughput so
    /// that they read as operations.
    fn results(benches: &[(&str, f64)]) -> Results {
        Results {
            benches: benches
                .iter()
                .map(|&(id, ns)| {
                    let elements = id.starts_with("contention/").then_some(1000);
                    let bench = Bench {
                        processes: 3,
                        ..Bench::synthetic(id, ns, ns * 0.01, elements)
                    };
                    (bench.key, bench)
                })
                .collect(),
            ..Results::default()
        }
    }

    /// Results of a repeated run: one map of means per process.
    fn repeated(processes: &[&[(&str, f64)]]) -> Results {
        let mut r = results(processes[0]);
        r.processes = processes
            .iter()
            .map(|p| {
                p.iter()
                    .map(|&(id, ns)| (id.parse().unwrap(), ns))
                    .collect()
            })
            .collect();
        r
    }

    #[test]
    fn comparisons_pair_by_process_when_the_run_was_repeated() {
        // Each process is 2x slower or faster as a whole, but glibc is always 1.5x jemalloc in it:
        // unpaired, the times overlap; paired, the ratio is steady and decided.
        let r = repeated(&[
            &[
                ("contention/larson/system/t2", 150.0),
                ("contention/larson/jemalloc/t2", 100.0),
            ],
            &[
                ("contention/larson/system/t2", 300.0),
                ("contention/larson/jemalloc/t2", 200.0),
            ],
            &[
                ("contention/larson/system/t2", 75.0),
                ("contention/larson/jemalloc/t2", 50.0),
            ],
        ]);
        let ratio = compare(
            &r,
            &"contention/larson/system/t2".parse().unwrap(),
            &"contention/larson/jemalloc/t2".parse().unwrap(),
        )
        .unwrap();
        assert_eq!((ratio.ratio, ratio.low, ratio.high), (1.5, 1.5, 1.5));
        let rankings = rankings(&r);
        assert_eq!(rankings.len(), 1);
        let entry = &rankings[0];
        assert_eq!(entry.group, "contention/larson/t2");
        assert_eq!(
            (entry.faster.as_str(), entry.slower.as_str()),
            ("jemalloc", "system")
        );
        assert!(entry.decided);
        assert_eq!(entry.processes, 3);
    }

    #[test]
    fn rankings_name_ties_as_undecided_with_the_ratio_at_least_one() {
        let r = repeated(&[
            &[
                ("contention/larson/system/t2", 100.0),
                ("contention/larson/mimalloc/t2", 104.0),
            ],
            &[
                ("contention/larson/system/t2", 100.0),
                ("contention/larson/mimalloc/t2", 96.0),
            ],
            &[
                ("contention/larson/system/t2", 100.0),
                ("contention/larson/mimalloc/t2", 101.0),
            ],
        ]);
        let entry = &rankings(&r)[0];
        assert!(!entry.decided);
        assert!(entry.ratio >= 1.0 && entry.low <= entry.ratio && entry.ratio <= entry.high);
        assert_eq!(entry.slower, "mimalloc");
    }

    #[test]
    fn rankings_cover_stack_vs_heap_sizes_and_alloc_free() {
        let r = results(&[
            ("stack_vs_heap/stack_array/0000064", 10.0),
            ("stack_vs_heap/heap_box/system/0000064", 30.0),
            ("stack_vs_heap/heap_box/jemalloc/0000064", 20.0),
            ("stack_vs_heap/alloc_free/system/0000064", 20.0),
            ("stack_vs_heap/alloc_free/mimalloc/0000064", 10.0),
        ]);
        let entries = rankings(&r);
        let groups: Vec<(&str, &str, &str, bool)> = entries
            .iter()
            .map(|e| {
                (
                    e.group.as_str(),
                    e.faster.as_str(),
                    e.slower.as_str(),
                    e.decided,
                )
            })
            .collect();
        assert_eq!(
            groups,
            [
                (
                    "stack_vs_heap/0000064",
                    "stack_array",
                    "heap_box/system",
                    true
                ),
                (
                    "stack_vs_heap/0000064",
                    "stack_array",
                    "heap_box/jemalloc",
                    true
                ),
                (
                    "stack_vs_heap/0000064",
                    "heap_box/jemalloc",
                    "heap_box/system",
                    true
                ),
                (
                    "stack_vs_heap/alloc_free/0000064",
                    "mimalloc",
                    "system",
                    true
                ),
            ]
        );
    }

    /// A figure with its interval, aggregated over three processes.
    fn timed(point: f64, half: f64) -> Timed {
        Timed {
            point,
            low: point - half,
            high: point + half,
            processes: 3,
            margin: NOISE_MARGIN,
        }
    }

    #[test]
    fn a_ratio_is_decided_only_when_its_whole_interval_clears_the_margin() {
        let r = Ratio::of(timed(150.0, 5.0), timed(100.0, 5.0));
        assert!((r.low - 145.0 / 105.0).abs() < 1e-9 && (r.high - 155.0 / 95.0).abs() < 1e-9);
        assert!(r.decidedly_above() && r.decided());
        // 1.3x with a wide interval reaching below 1.2: undecided.
        let wide = Ratio::of(timed(130.0, 15.0), timed(100.0, 5.0));
        assert!(!wide.decided(), "{wide:?}");
        // Heavy outliers widen the interval; they cannot decide on their own.
        let noisy = Ratio::of(timed(200.0, 120.0), timed(100.0, 2.0));
        assert!(!noisy.decided());
        assert!(Ratio::of(timed(50.0, 1.0), timed(100.0, 1.0)).decidedly_below());
        assert_eq!(r.text(), "1.50x [1.38, 1.63]");
        // One process: Criterion's interval is blind to the variance between processes.
        let once = Timed {
            processes: 1,
            ..timed(150.0, 1.0)
        };
        let r = Ratio::of(once, timed(100.0, 1.0));
        assert!(!r.decided() && !r.repeated(), "{r:?}");
    }

    #[test]
    fn the_crossover_is_the_size_from_which_the_heap_is_never_decidedly_slower() {
        let r = results(&[
            ("stack_vs_heap/stack_array/0000008", 4.0),
            ("stack_vs_heap/heap_box/system/0000008", 30.0),
            ("stack_vs_heap/stack_array/0000064", 7.0),
            ("stack_vs_heap/heap_box/system/0000064", 31.0),
            ("stack_vs_heap/stack_array/0001024", 44.0),
            // A tie at 1 KiB, then decidedly slower again at 2 KiB: the crossover is after it.
            ("stack_vs_heap/heap_box/system/0001024", 48.0),
            ("stack_vs_heap/stack_array/0002048", 90.0),
            ("stack_vs_heap/heap_box/system/0002048", 150.0),
            ("stack_vs_heap/stack_array/0004096", 355.0),
            ("stack_vs_heap/heap_box/system/0004096", 350.0),
            ("stack_vs_heap/stack_array/0065536", 4340.0),
            ("stack_vs_heap/heap_box/system/0065536", 3460.0),
        ]);
        assert_eq!(heap_crossover(&r, AllocatorKind::System), Some(4096));
        assert_eq!(heap_crossover(&r, AllocatorKind::Jemalloc), None);
        let answer = &answers(&r, Some(2))[0];
        assert!(
            answer.text.contains("(within noise (±20%)): glibc 4 KiB."),
            "{}",
            answer.text
        );
        assert!(
            answer.text.contains("glibc 4.43x [4.34, 4.52]"),
            "{}",
            answer.text
        );
        assert_eq!(answer.table[0][2], "heap_box glibc (x stack)");
        assert_eq!(
            answer.table.len(),
            1 + 5,
            "8 B, 64 B, 1 KiB, 4 KiB, 64 KiB; not 2 KiB"
        );
        assert!(
            answer
                .table
                .iter()
                .any(|row| row[2] == "350.0 ns (≈ stack)")
        );
    }

    #[test]
    fn allocators_within_the_margin_are_tied_and_a_real_difference_is_decided() {
        let r = results(&[
            ("contention/local_churn/system/t2", 100.0),
            ("contention/local_churn/jemalloc/t2", 60.0),
            ("contention/local_churn/mimalloc/t2", 62.0),
            ("contention/local_churn/system/t4", 10.0),
        ]);
        let ranking = ranked(&r, Workload::LocalChurn, 2);
        assert_eq!(
            tied_best(&ranking),
            [AllocatorKind::Jemalloc, AllocatorKind::Mimalloc]
        );
        let text = ranking_text(&ranking);
        assert!(
            text.starts_with("jemalloc ≈ mimalloc; glibc 1.67x ["),
            "{text}"
        );
        let answer = &answers(&r, Some(2))[1];
        assert!(
            answer
                .text
                .contains("jemalloc in 1, mimalloc in 1, glibc in 0"),
            "{}",
            answer.text
        );
        // t4 does not fit 2 cores: the answer ranks at t2.
        assert_eq!(
            answer.table[1][..2],
            ["local_churn".to_string(), "t2".into()]
        );
    }

    #[test]
    fn a_missing_part_says_what_to_run_and_claims_say_not_measured() {
        let r = results(&[("contention/local_churn/system/t2", 100.0)]);
        let [stack, allocator, depth] = answers(&r, Some(2));
        assert!(
            stack
                .text
                .starts_with("Not measured in this run: run `scripts/run stack_vs_heap`")
        );
        assert!(
            allocator.text.starts_with("Not measured"),
            "one allocator is no ranking"
        );
        assert!(depth.text.contains("cargo bench --bench stack_depth"));
        assert!(stack.table.is_empty() && depth.table.is_empty());
        let claims = claims(&r, Some(2));
        assert_eq!(claims.len(), 8);
        assert!(
            claims.iter().all(|c| c.verdict == Verdict::NotMeasured),
            "{claims:?}"
        );
        assert!(claims.iter().all(|c| !c.evidence.is_empty()));
    }

    #[test]
    fn a_big_local_array_that_fits_some_stacks_makes_the_overflow_claim_hold_in_part() {
        let entry = |kind: &str, stack: u64, largest: Option<u64>| {
            serde_json::from_value::<crate::data::depth::DepthEntry>(serde_json::json!({
                "kind": kind, "requested_stack_bytes": stack, "granted_stack_bytes": stack,
                "frame_bytes": 0, "bytes_per_level": 48, "measured_depth": 100,
                "predicted_depth": 100, "naive_depth": 101, "difference_percent": 0.0,
                "outcome": if largest.is_some() { "largest_found" } else { "overflow" },
                "probe_ms": 1.0, "largest_local_array_bytes": largest,
            }))
            .unwrap()
        };
        let mut r = results(&[]);
        r.depth = Some(crate::data::suite_file::SuiteFile {
            schema: 1,
            kind: "depth".into(),
            machine: Default::default(),
            entries: vec![
                entry("std_thread", 1 << 18, None),
                entry("std_thread", 1 << 20, None),
                entry("local_array", 1 << 18, Some(253_952)),
                entry("local_array", 1 << 20, Some(1_040_384)),
            ],
        });
        let claim = claim_overflow(&r);
        assert_eq!(claim.verdict, Verdict::HoldsInPart, "{}", claim.evidence);
        assert!(
            claim
                .evidence
                .contains("in 2 of 2 recursion probes (2 std_thread)"),
            "{}",
            claim.evidence
        );
        assert!(
            claim
                .evidence
                .contains("overflowed the 256 KiB stacks and fitted the 1 MiB stacks"),
            "{}",
            claim.evidence
        );
        assert!(
            answers(&r, None)[2]
                .text
                .contains("a 1,000,000-byte one fits from a 1 MiB stack up")
        );
    }

    #[test]
    fn the_locality_crossover_is_where_scattered_nodes_become_decidedly_slower_for_good() {
        let r = results(&[
            ("locality/contiguous/system/0016384", 256.0),
            ("locality/scattered/system/0016384", 270.0),
            ("locality/contiguous/system/0262144", 4096.0),
            ("locality/scattered/system/0262144", 4400.0),
            ("locality/contiguous/system/2097152", 32768.0),
            ("locality/scattered/system/2097152", 90000.0),
            ("locality/contiguous/system/16777216", 262144.0),
            ("locality/scattered/system/16777216", 2000000.0),
        ]);
        assert_eq!(
            locality_sets(&r).last(),
            Some(&(16 << 20)),
            "8-digit sizes parse"
        );
        assert_eq!(locality_crossover(&r), Some(2 << 20));
        let claim = claim_cache(&r);
        assert_eq!(
            claim.verdict,
            Verdict::NotMeasured,
            "no hot-memory numbers here"
        );
        let empty = results(&[]);
        assert_eq!(locality_crossover(&empty), None);
    }

    #[test]
    fn different_winners_for_small_objects_and_threads_make_the_heaps_claim_hold() {
        let mut benches = vec![
            ("stack_vs_heap/heap_box/system/0000064", 31.0),
            ("stack_vs_heap/heap_box/jemalloc/0000064", 15.0),
            ("stack_vs_heap/heap_box/mimalloc/0000064", 21.0),
        ];
        for w in ["local_churn", "larson", "producer_consumer"] {
            benches.extend(
                [
                    (format!("contention/{w}/system/t2"), 100.0),
                    (format!("contention/{w}/jemalloc/t2"), 90.0),
                    (format!("contention/{w}/mimalloc/t2"), 50.0),
                ]
                .iter()
                .map(|(id, ns)| (&*id.clone().leak(), *ns)),
            );
        }
        let r = results(&benches);
        let claim = claim_heaps_differ(&r, Some(4));
        assert_eq!(claim.verdict, Verdict::Holds, "{}", claim.evidence);
        assert!(claim.evidence.contains("one thread: jemalloc"));
        assert!(claim.evidence.contains("workloads: mimalloc (3 workloads)"));
    }
}
