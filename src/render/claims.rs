//! The folklore claims in words: each claim's quote, its verdict and the sentence its evidence makes
//! (the decisions are `analysis::claims`).

use crate::analysis::claims::*;
use crate::analysis::stats::TIE_MARGIN;
use crate::render::units::{allocator_label, format_bytes, format_ns};
use crate::render::words::{
    behind_words, labelled, labelled_ratios, paired_tie_words, per_allocator, per_allocator_times,
    probe_set_words, ratio_words, scaling_words, within_noise,
};
use crate::workload::allocators::AllocatorKind;

/// The claim as the folklore puts it.
pub fn quote(kind: ClaimKind) -> &'static str {
    match kind {
        ClaimKind::Managed => "Stack memory is managed by the CPU; heap memory by the programmer.",
        ClaimKind::Freed => {
            "Stack memory is freed automatically when the function returns; heap memory persists until freed."
        }
        ClaimKind::Threads => "Each thread has its own stack; all threads share one heap.",
        ClaimKind::Static => "The stack is static per thread; the heap grows.",
        ClaimKind::Overflow => {
            "Endless recursion or a big local array (char test[1000000]) overflows the stack."
        }
        ClaimKind::PageFaults => "Heap access can be very expensive because of page faults.",
        ClaimKind::Cache => {
            "The stack frame of the running thread is in the processor cache, which is faster than RAM."
        }
        ClaimKind::HeapsDiffer => {
            "Some heaps are fast for small objects, others efficient in multithreaded programs."
        }
    }
}

/// The verdict in words.
pub fn verdict_text(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Holds => "holds",
        Verdict::HoldsInPart => "holds in part",
        Verdict::DoesNotHold => "does not hold here",
        Verdict::NotMeasured => "not measured in this run",
    }
}

/// What would measure a claim the run could not decide.
fn missing_words(what: Missing) -> &'static str {
    match what {
        Missing::StackArrayAt64 => {
            "needs stack_array and heap_box at 64 B (cargo bench --bench stack_vs_heap)."
        }
        Missing::HeapBoxAt64 => "needs heap_box at 64 B (cargo bench --bench stack_vs_heap).",
        Missing::NoBenchmark => {
            "No benchmark measures it. The suite's tests check the Rust side with counting allocators (cargo test): every stack workload allocates nothing and every heap workload frees exactly what it allocated, when its owner is dropped. A run-time check would compare resident memory before and after a scope."
        }
        Missing::ThreadScaling => {
            "needs local_churn and stack_control at 1 and 2+ threads (cargo bench --bench contention)."
        }
        Missing::StackControl => {
            "needs stack_control at 1 and 2+ threads (cargo bench --bench contention)."
        }
        Missing::StaticProbes => {
            "needs the 1 MiB and 2 MiB overflow probes and the heap loop (cargo bench --bench stack_depth)."
        }
        Missing::OverflowProbes => "needs the overflow probes (cargo bench --bench stack_depth).",
        Missing::FreshPages => {
            "needs first_touch/mmap at 1 MiB and its fault counts (cargo bench --bench stack_vs_heap)."
        }
        Missing::HotSizes => {
            "needs stack_array and heap_reused up to 16 KiB (cargo bench --bench stack_vs_heap); a locality benchmark (contiguous vs scattered data beyond the cache) would test the rest."
        }
        Missing::SmallAndThreaded => {
            "needs heap_box at 64 B and the contention workloads at 2+ threads for two or more allocators (scripts/run)."
        }
    }
}

/// `glibc and jemalloc`.
fn names(allocators: &[AllocatorKind]) -> String {
    allocators
        .iter()
        .map(|&a| allocator_label(a))
        .collect::<Vec<_>>()
        .join(" and ")
}

fn managed_words(m: &Managed) -> String {
    let direct = m.direct.as_ref().map_or(String::new(), |(stack, heap)| {
        format!(
            " Getting and giving back 64 B alone: the stack {}, the heap {}.",
            format_ns(*stack),
            per_allocator_times(heap)
        )
    });
    format!(
        "Neither is managed by the CPU: a stack array is a stack-pointer adjustment the compiler emits (stack_array 64 B: {} including the fill), a heap block a call into the allocator. heap_box / stack_array at 64 B: {}; decidedly costlier for {} of {} allocators.{direct} In Rust neither is freed by hand: both are released when their owner goes out of scope.",
        format_ns(m.stack_array),
        labelled_ratios(&m.ratios),
        m.costlier,
        m.ratios.len()
    )
}

fn threads_words(t: &Threads) -> String {
    let (median, low, high) = t.stack_scaling;
    let evidence = format!(
        "From 1 to {} threads, stack_control (no heap) scales {median:.2}x [{low:.2}, {high:.2}] (the median and range of its runs under each allocator: {}); local_churn (each thread churns its own blocks in the shared heap) scales {}.",
        t.threads,
        labelled(&t.stack, scaling_words),
        labelled(&t.heap, scaling_words)
    );
    let against_stack = format!(
        "stack_control's scaling over local_churn's: {}",
        labelled(&t.behind, behind_words)
    );
    let held_back: Vec<&str> = t
        .behind
        .iter()
        .filter(|(_, r)| r.decidedly_above())
        .map(|&(a, _)| allocator_label(a))
        .collect();
    if held_back.is_empty() {
        format!(
            "{evidence} The heap is shared, but per-thread caches hide the sharing for thread-local work: the heap holds no allocator's local_churn decidedly back ({against_stack}). It shows when memory crosses threads (producer_consumer, cross_thread_free)."
        )
    } else {
        format!(
            "{evidence} The shared heap holds back {} ({against_stack}).",
            held_back.join(", ")
        )
    }
}

fn overflow_words(o: &Overflow) -> String {
    let total: usize = o.probes.iter().map(|(_, n)| n).sum();
    let recursion = format!(
        "Unbounded recursion overflowed the stack in {} of {} (frames up to {} per level; Rust aborts the process with \"has overflowed its stack\").",
        o.overflowed,
        probe_set_words("recursion probes", total, &o.probes),
        format_bytes(o.largest_frame as f64)
    );
    let Some(a) = &o.arrays else {
        return format!(
            "{recursion} The largest local array is not probed in this run (the stack_depth bench's local_array probe), so that half is not measured."
        );
    };
    let stacks = |v: &[u64], none: &str| {
        if v.is_empty() {
            none.to_string()
        } else {
            let list: Vec<String> = v.iter().map(|s| format_bytes(*s as f64)).collect();
            format!("the {} stacks", list.join(", "))
        }
    };
    format!(
        "{recursion} A 1,000,000-byte local array overflowed {} and fitted {} (largest array bisected per stack size; e.g. {} B in {}).",
        stacks(&a.too_small, "no measured stack"),
        stacks(&a.big_enough, "none"),
        a.largest.1,
        format_bytes(a.largest.0 as f64),
    )
}

fn page_fault_words(p: &PageFaults) -> String {
    let mut words = format!(
        "Touching 1 MiB of pages fresh from the kernel costs {} ({:.0} minor faults, {} each)",
        format_ns(p.fresh),
        p.fresh_faults,
        format_ns(p.fresh / p.fresh_faults.max(1.0))
    );
    match &p.retouch {
        Some((ratio, retouch)) => {
            words += &format!(
                ", {} touching the same amount of memory already mapped ({}).",
                ratio_words(ratio),
                format_ns(*retouch)
            );
        }
        None => words += ".",
    }
    if let Some(stack) = p.fresh_thread_stack {
        words += &format!(
            " A new thread's own stack pays the same: 1 MiB of it costs {} to touch first.",
            format_ns(stack)
        );
    }
    if !p.regrowth_faults.is_empty() {
        words += &format!(
            " But allocators keep what is freed: growing the heap again to the same size faults {} per page; only memory new to the process (or given back to the kernel) pays.",
            per_allocator(&p.regrowth_faults, 2)
        );
    }
    words
}

fn cache_words(c: &Cache) -> String {
    let locality = match &c.locality {
        Locality::SlowerFrom {
            from,
            largest,
            ratios,
        } => format!(
            " The same reads over separately allocated nodes in random order cost decidedly more than over contiguous ones from a {} working set up (at {}: {}): locality, not the stack, is what the cache rewards.",
            format_bytes(*from as f64),
            format_bytes(*largest as f64),
            labelled_ratios(ratios)
        ),
        Locality::NeverSlower { largest, ratios } => format!(
            " Scattered nodes were not decidedly slower than contiguous ones at the working sets measured (at {}: {}).",
            format_bytes(*largest as f64),
            labelled_ratios(ratios)
        ),
        Locality::NotMeasured => " Cold and scattered data (where RAM speed shows) is not measured in this run (the locality benchmarks).".into(),
    };
    let tied = c.comparisons - c.stack_faster - c.heap_faster;
    let tied = if c.paired {
        format!(
            "equal within ±{:.0}% in {}, undecided in {}",
            TIE_MARGIN * 100.0,
            c.equal,
            tied - c.equal
        )
    } else {
        format!("{tied} {}", within_noise(c.margin))
    };
    format!(
        "Hot memory is hot memory: a heap block reused every iteration (heap_reused) against the stack array, 8 B to 16 KiB, {} comparisons: stack decidedly faster in {}, heap decidedly faster in {}, {tied}. The stack is usually in cache because it is reused, not because it is the stack.{locality}",
        c.comparisons, c.stack_faster, c.heap_faster,
    )
}

fn heaps_differ_words(h: &HeapsDiffer) -> String {
    let tied = if h.paired {
        format!("or not decidedly slower: {}", paired_tie_words())
    } else {
        format!("or tied, ±{:.0}%", h.margin * 100.0)
    };
    format!(
        "Fastest ({tied}) for one 64 B object on one thread: {}. Fastest or tied in most multi-threaded workloads: {} ({} workloads).",
        names(&h.small_best),
        if h.threaded_best.is_empty() {
            "no allocator".into()
        } else {
            names(&h.threaded_best)
        },
        h.workloads
    )
}

/// The numbers and how they decide the verdict; for a claim not measured, what would measure it.
pub fn evidence_words(claim: &Claim) -> String {
    match &claim.evidence {
        Evidence::Missing(what) => missing_words(*what).into(),
        Evidence::Managed(m) => managed_words(m),
        Evidence::Threads(t) => threads_words(t),
        Evidence::Static {
            one_mib,
            two_mib,
            heap,
        } => format!(
            "A thread's stack is fixed when it is created: recursion overflowed at {one_mib} levels with 1 MiB and {two_mib} with 2 MiB ({:.2}x, exact: depths are counts, for twice the size). The same recursion kept on the heap went {heap} levels deep in the same 2 MiB thread and stopped only at its cap. Heap growth page by page is not measured yet.",
            *two_mib as f64 / *one_mib as f64
        ),
        Evidence::Overflow(o) => overflow_words(o),
        Evidence::PageFaults(p) => page_fault_words(p),
        Evidence::Cache(c) => cache_words(c),
        Evidence::HeapsDiffer(h) => heaps_differ_words(h),
    }
}

/// A claim as the report shows it: quote, verdict and evidence in words.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimWords {
    pub quote: &'static str,
    pub verdict: &'static str,
    pub evidence: String,
}

/// Every claim in words, in the order the report shows them.
pub fn claim_words(claims: &[Claim]) -> Vec<ClaimWords> {
    claims
        .iter()
        .map(|c| ClaimWords {
            quote: quote(c.kind),
            verdict: verdict_text(c.verdict),
            evidence: evidence_words(c),
        })
        .collect()
}
