//! Phrases every sentence of the report shares: a ratio with its verdict, "within noise", a set of
//! probes, a ranking, a thread count.

use crate::analysis::claims::ProbeCounts;
use crate::analysis::comparisons::{Ranked, Ratio};
use crate::render::units::{allocator_label, format_ns, thread_label};
use crate::workload::allocators::AllocatorKind;
use crate::workload::contention::Workload;

/// "within noise (±8%)": what a comparison that is not decided at `margin` says.
pub fn within_noise(margin: f64) -> String {
    format!("within noise (±{:.0}%)", margin * 100.0)
}

/// A ratio in words with its interval and verdict: `1.35x [1.22, 1.49]` when decided, otherwise
/// why not: with the pairs a 95% interval needs (the comparison engine's sessions), equal within
/// the margin or undecided ([`verdict_words`]); with fewer, within noise, or measured in one
/// process (whose interval cannot decide).
pub fn ratio_words(r: &Ratio) -> String {
    if r.decided() {
        r.text()
    } else if r.enough_pairs() {
        verdict_words(r)
    } else if r.repeated() {
        format!("{} ({})", within_noise(r.margin), r.text())
    } else {
        format!("{} (one process: not decided)", r.text())
    }
}

/// A ratio with its four-word verdict: `1.35x [1.22, 1.49], slower`, `0.80x [0.74, 0.86],
/// faster`, `equal within ±3% (1.01x [0.99, 1.02])`, or `undecided (1.04x [0.95, 1.13]; it could
/// have seen 12%)`, the smallest difference this run could have decided.
pub fn verdict_words(r: &Ratio) -> String {
    use crate::analysis::stats::Verdict;
    match r.verdict() {
        Verdict::Slower => format!("{}, slower", r.text()),
        Verdict::Faster => format!("{}, faster", r.text()),
        Verdict::Equal => format!(
            "equal within ±{:.0}% ({})",
            r.verdict_margin() * 100.0,
            r.text()
        ),
        Verdict::Undecided if !r.enough_pairs() => {
            format!(
                "undecided ({}; {} pairs: 6 make a 95% interval)",
                r.text(),
                r.processes
            )
        }
        Verdict::Undecided => format!(
            "undecided ({}; it could have seen {:.0}%)",
            r.text(),
            r.detectable() * 100.0
        ),
    }
}

/// `glibc 1.35x [1.22, 1.49], jemalloc within noise (...)`: each allocator's ratio in words.
pub fn labelled_ratios(ratios: &[(AllocatorKind, Ratio)]) -> String {
    ratios
        .iter()
        .map(|(a, r)| format!("{} {}", allocator_label(*a), ratio_words(r)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `glibc 0.78, jemalloc 0.01`: one figure per allocator, `digits` after the point.
pub fn per_allocator(values: &[(AllocatorKind, f64)], digits: usize) -> String {
    values
        .iter()
        .map(|(a, v)| format!("{} {v:.digits$}", allocator_label(*a)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `glibc 8.4 ns, jemalloc 7.9 ns`: one time per allocator.
pub fn per_allocator_times(times: &[(AllocatorKind, f64)]) -> String {
    times
        .iter()
        .map(|(a, t)| format!("{} {}", allocator_label(*a), format_ns(*t)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "45 recursion probes (35 std_thread, 5 rust_min_stack, 5 rayon)": a count of depth probes with
/// what it is made of, so that every sentence that counts probes names the set it counts.
pub fn probe_set_words(what: &str, total: usize, counts: &ProbeCounts) -> String {
    let parts: Vec<String> = counts
        .iter()
        .map(|(k, n)| format!("{n} {}", k.name()))
        .collect();
    format!("{total} {what} ({})", parts.join(", "))
}

/// A ranking in words, fastest first: `mimalloc ≈ jemalloc; glibc 1.90x [1.80, 2.00]`, where `≈` joins
/// allocators within noise of the fastest and the others carry their time ratio to it.
pub fn ranking_text(ranking: &[Ranked]) -> String {
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

/// "t2" or "t2 (4 threads, oversubscribed)": a contention thread count as every sentence names it.
pub fn threads_words(workload: Workload, threads: usize, cores: Option<usize>) -> String {
    let os = workload.os_threads(threads);
    thread_label(threads, os, cores.is_some_and(|c| os > c))
}
