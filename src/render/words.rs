//! Phrases every sentence of the report shares: a ratio with its verdict, "within noise", a set of
//! probes, a ranking, a thread count.

use crate::analysis::claims::ProbeCounts;
use crate::analysis::comparisons::{Ranked, Ratio, paired_in_rounds};
use crate::analysis::ratio::Reading;
use crate::render::units::{allocator_label, format_ns, thread_label};
use crate::workload::allocators::AllocatorKind;
use crate::workload::contention::Workload;

/// "within noise (±8%)": what a comparison that is not decided at `margin` says.
pub fn within_noise(margin: f64) -> String {
    format!("within noise (±{:.0}%)", margin * 100.0)
}

/// "beyond the ±14% noise": what a comparison paired by process that is decided at `margin` says.
pub fn beyond_noise(margin: f64) -> String {
    format!("beyond the ±{:.0}% noise", margin * 100.0)
}

/// A ratio in words with its interval and verdict: with the pairs a 95% interval needs (the
/// comparison engine's sessions), its four-word verdict ([`verdict_words`]); with fewer,
/// `1.35x [1.22, 1.49] (decided, beyond the ±20% noise)` when decided (paired by process), otherwise within noise, or measured in one process (whose
/// interval cannot decide).
pub fn ratio_words(r: &Ratio) -> String {
    match r.reading() {
        Reading::Verdict(_) => verdict_words(r),
        Reading::DecidedByProcess => format!("{} (decided, {})", r.text(), beyond_noise(r.margin)),
        Reading::WithinNoise => format!("{} ({})", within_noise(r.margin), r.text()),
        Reading::OneProcess => format!("{} (one process: not decided)", r.text()),
    }
}

/// A ratio whose "slower" and "faster" would mislead (a throughput ratio, a ratio of ratios) in
/// words with its interval and verdict: as [`ratio_words`], except that a decided engine verdict
/// says what above or below 1 means: `1.94x [1.90, 1.98], more operations per second`.
pub fn directed_words(r: &Ratio, above: &str, below: &str) -> String {
    use crate::analysis::stats::Verdict;
    match r.reading() {
        Reading::Verdict(Verdict::Slower) => format!("{}, {above}", r.text()),
        Reading::Verdict(Verdict::Faster) => format!("{}, {below}", r.text()),
        _ => ratio_words(r),
    }
}

/// A scaling from 1 to t threads in words ([`directed_words`]).
pub fn scaling_words(r: &Ratio) -> String {
    directed_words(
        r,
        "more operations per second than one thread",
        "fewer operations per second than one thread",
    )
}

/// stack_control's scaling over local_churn's in words ([`directed_words`]).
pub fn behind_words(r: &Ratio) -> String {
    directed_words(
        r,
        "the shared heap holds local_churn back",
        "local_churn scales better than the stack",
    )
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
            crate::analysis::stats::TIE_MARGIN * 100.0,
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

/// What "not decidedly slower than the fastest" covers where a ranking is paired in the engine's
/// rounds: `equal within ±5% or undecided, in the engine's paired rounds`.
pub fn paired_tie_words() -> String {
    format!(
        "equal within ±{:.0}% or undecided, in the engine's paired rounds",
        crate::analysis::stats::TIE_MARGIN * 100.0
    )
}

/// What "never decidedly slower" covers in a crossover: in the engine's paired rounds, equal
/// within ±5%, faster or undecided at each size; paired by process, within noise at `margin`.
pub fn crossover_tie_words(paired: bool, margin: f64) -> String {
    if paired {
        format!(
            "equal within ±{:.0}%, faster or undecided at each size, in the engine's paired rounds",
            crate::analysis::stats::TIE_MARGIN * 100.0
        )
    } else {
        within_noise(margin)
    }
}

/// A ratio in a table cell: `1.35x [1.22, 1.49], slower`, `equal ±5%: 1.01x [0.99, 1.02]`,
/// `undecided: 1.04x [0.95, 1.13]` with the pairs a 95% interval needs; with fewer, the ratio when
/// decided and `≈` (within noise) otherwise.
pub fn ratio_cell(r: &Ratio) -> String {
    use crate::analysis::stats::Verdict;
    match r.reading() {
        Reading::Verdict(Verdict::Slower | Verdict::Faster) => verdict_words(r),
        Reading::Verdict(Verdict::Equal) => format!(
            "equal ±{:.0}%: {}",
            crate::analysis::stats::TIE_MARGIN * 100.0,
            r.text()
        ),
        Reading::Verdict(Verdict::Undecided) => format!("undecided: {}", r.text()),
        Reading::DecidedByProcess => r.text(),
        Reading::WithinNoise | Reading::OneProcess => "≈".into(),
    }
}

/// `glibc 1.35x [1.22, 1.49], jemalloc within noise (...)`: each allocator's ratio in words.
pub fn labelled_ratios(ratios: &[(AllocatorKind, Ratio)]) -> String {
    labelled(ratios, ratio_words)
}

/// [`labelled_ratios`] with each ratio in `words`.
pub fn labelled(ratios: &[(AllocatorKind, Ratio)], words: fn(&Ratio) -> String) -> String {
    ratios
        .iter()
        .map(|(a, r)| format!("{} {}", allocator_label(*a), words(r)))
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
/// allocators within noise of the fastest and the others carry their time ratio to it; with the
/// engine's pairs, every allocator after the fastest carries its ratio and verdict
/// (`mimalloc; jemalloc equal ±5%: 1.02x [0.99, 1.04]; glibc 1.90x [1.80, 2.00], slower`).
pub fn ranking_text(ranking: &[Ranked]) -> String {
    if let [best, rest @ ..] = ranking
        && !rest.is_empty()
        && paired_in_rounds(ranking)
    {
        let rest = rest.iter().map(|r| {
            format!(
                "{} {}",
                allocator_label(r.allocator),
                ratio_cell(&r.to_best)
            )
        });
        let all: Vec<String> = std::iter::once(allocator_label(best.allocator).to_owned())
            .chain(rest)
            .collect();
        return all.join("; ");
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::comparisons::Timed;

    fn paired(low: f64, high: f64) -> Ratio {
        Ratio {
            ratio: (low + high) / 2.0,
            low,
            high,
            processes: 12,
            margin: 0.02,
        }
    }

    #[test]
    fn a_paired_ratio_always_carries_its_verdict_in_a_cell_and_in_a_ranking() {
        assert_eq!(ratio_cell(&paired(1.5, 1.7)), "1.60x [1.50, 1.70], slower");
        assert_eq!(
            ratio_cell(&paired(0.99, 1.01)),
            "equal ±5%: 1.00x [0.99, 1.01]"
        );
        assert_eq!(
            ratio_cell(&paired(1.01, 1.09)),
            "undecided: 1.05x [1.01, 1.09]"
        );
        let timed = Timed {
            point: 1.0,
            low: 1.0,
            high: 1.0,
            processes: 12,
            margin: 0.02,
        };
        let ranked = |allocator, to_best| Ranked {
            allocator,
            timed,
            to_best,
        };
        let ranking = [
            ranked(AllocatorKind::Mimalloc, paired(1.0, 1.0)),
            ranked(AllocatorKind::Jemalloc, paired(0.99, 1.01)),
            ranked(AllocatorKind::System, paired(1.5, 1.7)),
        ];
        assert_eq!(
            ranking_text(&ranking),
            "mimalloc; jemalloc equal ±5%: 1.00x [0.99, 1.01]; glibc 1.60x [1.50, 1.70], slower"
        );
    }
}
