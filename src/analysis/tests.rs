//! Tests of what the analysis decides (comparisons, rankings, answers, claims) from small results,
//! read through the words the report prints.

use crate::analysis::aggregate::Results;
use crate::analysis::claims::{ClaimKind, Verdict};
use crate::analysis::comparisons::*;
use crate::analysis::lookup::*;
use crate::render::answers::Answer;
use crate::render::words::ranking_text;
use crate::workload::allocators::AllocatorKind;
use crate::workload::contention::Workload;

/// The three answers, worded.
fn answers(results: &Results, cores: Option<usize>) -> [Answer; 3] {
    crate::render::answers::answer_words(&crate::analysis::answers::answers(results, cores))
}

/// A claim's verdict and its evidence in words.
#[derive(Debug)]
struct Worded {
    kind: ClaimKind,
    verdict: Verdict,
    evidence: String,
}

/// The claims, each with its evidence worded.
fn claims(results: &Results, cores: Option<usize>) -> Vec<Worded> {
    crate::analysis::claims::claims(results, cores)
        .iter()
        .map(|c| Worded {
            kind: c.kind,
            verdict: c.verdict,
            evidence: crate::render::claims::evidence_words(c),
        })
        .collect()
}

/// One claim, decided and worded.
fn claim(results: &Results, cores: Option<usize>, kind: ClaimKind) -> Worded {
    claims(results, cores)
        .into_iter()
        .find(|c| c.kind == kind)
        .expect("every claim is listed")
}
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
    // Three processes: fewer than the six pairs a 95% interval needs, so nothing is decided.
    assert!(!entry.decided);
    assert_eq!(entry.verdict, crate::analysis::stats::Verdict::Undecided);
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
    // Criterion's intervals of three processes, not pairs: listed, not decided.
    assert_eq!(
        groups,
        [
            (
                "stack_vs_heap/0000064",
                "stack_array",
                "heap_box/system",
                false
            ),
            (
                "stack_vs_heap/0000064",
                "stack_array",
                "heap_box/jemalloc",
                false
            ),
            (
                "stack_vs_heap/0000064",
                "heap_box/jemalloc",
                "heap_box/system",
                false
            ),
            (
                "stack_vs_heap/alloc_free/0000064",
                "mimalloc",
                "system",
                false
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
    let claim = claim(&r, None, ClaimKind::Overflow);
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
    let claim = claim(&r, None, ClaimKind::Cache);
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
    let claim = claim(&r, Some(4), ClaimKind::HeapsDiffer);
    assert_eq!(claim.verdict, Verdict::Holds, "{}", claim.evidence);
    assert!(claim.evidence.contains("one thread: jemalloc"));
    assert!(claim.evidence.contains("workloads: mimalloc (3 workloads)"));
}

#[test]
fn a_ratio_is_equal_within_five_percent_and_otherwise_decided_where_it_clears_the_runs_margin() {
    use crate::analysis::stats::{MIN_DIFFERENCE, Verdict};
    let ratio = |low: f64, high: f64, margin: f64| Ratio {
        ratio: (low + high) / 2.0,
        low,
        high,
        processes: 12,
        margin,
    };
    // A run that resolves 1.5%: "equal" within 5%, whatever it resolves finer.
    assert_eq!(ratio(1.02, 1.045, 0.015).verdict(), Verdict::Equal);
    assert_eq!(ratio(1.06, 1.09, 0.015).verdict(), Verdict::Slower);
    assert_eq!(ratio(0.90, 0.94, 0.015).verdict(), Verdict::Faster);
    // A real 6% difference whose interval crosses 5% but clears 3% (the run resolves finer,
    // but a ratio may shift that much between runs): slower.
    assert_eq!(ratio(1.035, 1.08, 0.015).resolution(), MIN_DIFFERENCE);
    assert_eq!(ratio(1.035, 1.08, 0.015).verdict(), Verdict::Slower);
    assert_eq!(ratio(0.925, 0.965, 0.015).verdict(), Verdict::Faster);
    // Crossing both 3% and 5%: the run could not tell.
    assert_eq!(ratio(1.02, 1.06, 0.015).verdict(), Verdict::Undecided);
    assert!((ratio(1.02, 1.06, 0.015).detectable() - (1.03 * 1.04 / 1.02 - 1.0)).abs() < 1e-12);
    // A run that resolves 3.5%: its margin for "slower".
    assert_eq!(ratio(1.03, 1.08, 0.035).verdict(), Verdict::Undecided);
    assert_eq!(ratio(1.04, 1.08, 0.035).verdict(), Verdict::Slower);
    // A run that resolves only 8%: no tie, however narrow the interval; "slower" beyond 8%.
    assert_eq!(ratio(0.99, 1.01, 0.08).verdict(), Verdict::Undecided);
    assert_eq!(ratio(1.06, 1.09, 0.08).verdict(), Verdict::Undecided);
    assert_eq!(ratio(1.09, 1.12, 0.08).verdict(), Verdict::Slower);
    // Fewer than six pairs decide nothing.
    let few = Ratio {
        processes: 5,
        ..ratio(1.01, 1.04, 0.015)
    };
    assert_eq!(few.verdict(), Verdict::Undecided);
}
