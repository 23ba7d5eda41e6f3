//! The findings in words: one sentence per finding of `analysis::findings`, with its figures and
//! their intervals.

use crate::analysis::findings::Finding;
use crate::data::latency::{LatencyEntry, Op};
use crate::render::units::{allocator_label, format_bytes, format_ns, mib, thread_label};
use crate::render::words::{
    behind_words, beyond_noise, crossover_tie_words, per_allocator, probe_set_words, ratio_words,
    scaling_words, threads_words, within_noise,
};

/// The percentiles a latency table and chart show, in order.
pub const PERCENTILE_LABELS: [&str; 4] = ["p50", "p99", "p99.9", "max"];

/// A latency figure, or that it is below what the entry's clock resolves.
fn latency_figure(e: &LatencyEntry, ns: f64) -> String {
    if e.below_resolution(ns) {
        format!(
            "below the clock's resolution (<{})",
            format_ns(e.resolution_floor_ns())
        )
    } else {
        format_ns(ns)
    }
}

/// One finding as a sentence; `cores` marks oversubscribed thread counts.
pub fn finding_words(finding: &Finding, cores: Option<usize>) -> String {
    match finding {
        Finding::HeapAllocation {
            allocator,
            heap,
            ratio,
            stack,
            alloc_free,
        } => {
            let alloc_only = alloc_free.map_or(String::new(), |t| {
                format!(
                    "; allocating and freeing alone (alloc_free) costs {}",
                    format_ns(t)
                )
            });
            format!(
                "A {} B heap allocation with {} costs {} here (allocate, fill, read, free), against {} for a stack array of the same size: {}{alloc_only}.",
                crate::analysis::findings::FINDING_BYTES,
                allocator_label(*allocator),
                format_ns(*heap),
                format_ns(*stack),
                ratio_words(ratio),
            )
        }
        Finding::Crossover {
            allocator,
            size,
            margin,
            paired,
        } => format!(
            "From {} up, a heap block from {} is not decidedly slower than the stack array ({}): filling the memory, not allocating it, dominates.",
            format_bytes(*size as f64),
            allocator_label(*allocator),
            crossover_tie_words(*paired, *margin)
        ),
        Finding::FreshPages { time, faults } => format!(
            "Touching 1 MiB of fresh pages from the kernel costs {} ({faults:.0} minor faults, {} per fault).",
            format_ns(*time),
            format_ns(time / faults.max(1.0))
        ),
        Finding::GivenBack(per_page) => format!(
            "Growing the heap after the allocator was asked to give its free memory back faults {} per page (1.00: every page fresh; less: the allocator kept memory).",
            per_allocator(per_page, 2)
        ),
        Finding::LargeBox {
            array,
            zeroed,
            ratio,
        } => format!(
            "Box::new([0u8; {}]) takes {} and Box::new_zeroed {} ({}).",
            format_bytes(crate::data::groups::LARGE_BOX_COMPARED_BYTES as f64),
            format_ns(*array),
            format_ns(*zeroed),
            ratio_words(ratio)
        ),
        Finding::BestAndWorst {
            workload,
            threads,
            best,
            worst,
            ratio,
        } => format!(
            "With {workload} at {}, {} does {} the operations of {} ({}; {:.1} vs {:.1} million/s).",
            threads_words(*workload, *threads, cores),
            allocator_label(best.0),
            ratio.text(),
            allocator_label(worst.0),
            slower_words(ratio, allocator_label(worst.0)),
            best.1 / 1e6,
            worst.1 / 1e6
        ),
        Finding::Scaling {
            allocator,
            threads,
            heap,
            stack,
            behind,
        } => {
            let against_stack = behind.as_ref().map_or(String::new(), |r| {
                format!(
                    "; stack_control's scaling over local_churn's: {}",
                    behind_words(r)
                )
            });
            format!(
                "local_churn with {} scales {} from 1 to {} (stack_control, with no heap: {}{against_stack}).",
                allocator_label(*allocator),
                scaling_words(heap),
                threads_words(
                    crate::workload::contention::Workload::LocalChurn,
                    *threads,
                    cores
                ),
                scaling_words(stack)
            )
        }
        Finding::TwoMibDepth {
            frame,
            depth,
            per_level,
            naive,
        } => format!(
            "A 2 MiB thread stack holds {depth} levels with a {} local array ({per_level} B per level); size / level would say {naive}, the difference being TLS, the thread control block and start-up frames.",
            format_bytes(*frame as f64)
        ),
        Finding::Predicted {
            probes,
            total,
            worst_percent,
        } => format!(
            "Across {} with a depth predicted from the real stack bounds, measured depth is within {worst_percent:.2}% of it.",
            probe_set_words("overflow probes", *total, probes)
        ),
        Finding::HeapLoop { heap, stack } => format!(
            "The same recursion as a loop over a heap Vec went {heap} levels deep in a thread with a 2 MiB stack, {:.0}x (exact: depths are counts) the stack's {stack} (it stopped at its cap, not at a limit).",
            *heap as f64 / *stack as f64
        ),
        Finding::PeakMemory {
            workload,
            threads,
            peaks,
        } => {
            let row: Vec<String> = peaks
                .iter()
                .map(|(a, bytes)| format!("{} {}", allocator_label(*a), mib(*bytes)))
                .collect();
            format!(
                "Peak memory of {workload} at t{threads}: {}.",
                row.join(", ")
            )
        }
        Finding::Latency {
            workload,
            threads,
            op,
            entries,
        } => {
            let figures: Vec<String> = entries
                .iter()
                .map(|e| {
                    format!(
                        "{} {} (p50 {}, max {})",
                        allocator_label(e.allocator),
                        latency_figure(e, e.p99_ns),
                        latency_figure(e, e.p50_ns),
                        latency_figure(e, e.max_ns)
                    )
                })
                .collect();
            format!(
                "p99 of one {} in {} at {}: {}.",
                match op {
                    Op::Alloc => "allocation",
                    Op::Free => "free",
                },
                workload.name(),
                thread_label(*threads, workload.os_threads(*threads), false),
                figures.join(", ")
            )
        }
    }
}

/// Every finding in words.
pub fn finding_sentences(findings: &[Finding], cores: Option<usize>) -> Vec<String> {
    findings.iter().map(|f| finding_words(f, cores)).collect()
}

/// The verdict of `ratio` (`slower` / faster, at least 1) said of `slower`, the one whose time is
/// the numerator: `glibc slower` (paired in rounds), `glibc slower, beyond the ±14% noise`
/// (paired by process), `equal within ±5%`, `undecided` or within noise.
fn slower_words(ratio: &crate::analysis::comparisons::Ratio, slower: &str) -> String {
    use crate::analysis::ratio::Reading;
    use crate::analysis::stats::{TIE_MARGIN, Verdict};
    match ratio.reading() {
        Reading::Verdict(Verdict::Slower) => format!("{slower} slower"),
        Reading::Verdict(Verdict::Faster) => format!("{slower} faster"),
        Reading::Verdict(Verdict::Equal) => format!("equal within ±{:.0}%", TIE_MARGIN * 100.0),
        Reading::Verdict(Verdict::Undecided) => "undecided".into(),
        Reading::DecidedByProcess => format!("{slower} slower, {}", beyond_noise(ratio.margin)),
        Reading::WithinNoise | Reading::OneProcess => within_noise(ratio.margin),
    }
}
