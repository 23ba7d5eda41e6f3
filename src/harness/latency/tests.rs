//! Tests of `latency`.

use super::*;
use crate::workload::allocators::{Counting, MiMalloc, System};

#[test]
fn percentiles_are_nearest_rank() {
    let p = Percentiles::of((1..=1000).map(f64::from).rev().collect()).unwrap();
    assert_eq!(
        (p.p50_ns, p.p99_ns, p.p999_ns, p.max_ns),
        (500.0, 990.0, 999.0, 1000.0)
    );
    assert_eq!(p.samples, 1000);
    let one = Percentiles::of(vec![7.0]).unwrap();
    assert_eq!((one.p50_ns, one.p999_ns, one.max_ns), (7.0, 7.0, 7.0));
    assert_eq!(Percentiles::of(vec![]), None);
}

#[test]
fn impossible_or_duplicate_entries_are_named() {
    let good = LatencyEntry {
        workload: Workload::LocalChurn,
        allocator: AllocatorKind::Jemalloc,
        threads: 2,
        os_threads: 2,
        oversubscribed: false,
        op: Op::Free,
        p50_ns: 20.0,
        p99_ns: 90.0,
        p999_ns: 300.0,
        max_ns: 9000.0,
        samples: 1000,
        sampled_one_in: 4,
        clock: "rdtsc".into(),
        timer_overhead_ns: 16.0,
        clock_resolution_ns: 0.4,
        meter_cost_ns: 18.0,
    };
    let check = |entries: &[LatencyEntry]| {
        crate::data::results::check_entries(std::path::Path::new("latency.json"), entries)
            .map_err(|e| e.0)
    };
    assert_eq!(check(std::slice::from_ref(&good)), Ok(()));
    let bad = |f: fn(&mut LatencyEntry)| {
        let mut e = good.clone();
        f(&mut e);
        check(&[e]).unwrap_err()
    };
    assert_eq!(
        bad(|e| e.p99_ns = f64::NAN),
        "latency.json: entry local_churn jemalloc t2 free: percentiles must be finite and non-negative"
    );
    assert!(bad(|e| e.p50_ns = -1.0).contains("non-negative"));
    assert!(bad(|e| e.max_ns = 10.0).contains("must not decrease"));
    assert!(bad(|e| e.samples = 0).contains("at least 1"));
    assert_eq!(
        check(&[good.clone(), good]).unwrap_err(),
        "latency.json: entry local_churn jemalloc t2 free appears twice: expected each entry once"
    );
}

#[test]
fn sampled_forwards_every_call_and_times_about_one_in_n() {
    let counting = Counting::new(MiMalloc);
    let sampled = Sampled::new(&counting, Clock::monotonic(), 4);
    let layout = Layout::from_size_align(64, 8).unwrap();
    for _ in 0..40_000 {
        // SAFETY: a non-zero layout, freed with the same layout.
        unsafe { sampled.dealloc(sampled.alloc(layout), layout) };
    }
    let c = counting.counts();
    assert_eq!((c.allocs, c.frees), (40_000, 40_000));
    for op in Op::ALL {
        let n = sampled.samples_ns(op).len();
        assert!((8_000..12_000).contains(&n), "{op:?}: {n} samples");
        assert_eq!(sampled.dropped(op), 0);
    }
}

#[test]
fn a_full_store_drops_samples_instead_of_overflowing() {
    let store = SampleStore::new();
    let mut cursor = Cursors::NONE.ops[0];
    for t in 0..SAMPLE_CAPACITY as u64 + 5 {
        store.push(&mut cursor, t);
    }
    assert_eq!(store.recorded().count(), SAMPLE_CAPACITY);
    assert_eq!(store.dropped(), 5);
}

#[test]
fn each_thread_writes_chunks_of_its_own_and_every_sample_is_kept() {
    let sampled = Sampled::new(&System, Clock::monotonic(), 1);
    let layout = Layout::from_size_align(64, 8).unwrap();
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                for _ in 0..1000 {
                    // SAFETY: a non-zero layout, freed with the same layout.
                    unsafe { sampled.dealloc(sampled.alloc(layout), layout) };
                }
            });
        }
    });
    for op in Op::ALL {
        assert_eq!(sampled.samples_ns(op).len(), 3000, "{op:?}");
    }
    // Three threads, 1000 samples each: 4 chunks each, none shared.
    assert_eq!(
        sampled.stores[0].next_chunk.0.load(Relaxed),
        3 * 1000_usize.div_ceil(CHUNK)
    );
}

#[test]
fn the_clock_measures_time_and_its_own_cost() {
    let clock = Clock::best();
    let t0 = clock.now();
    std::thread::sleep(Duration::from_millis(5));
    let ns = clock.ticks_to_ns(clock.now() - t0);
    assert!(
        (4e6..5e8).contains(&ns),
        "{} measured {ns} ns",
        clock.name()
    );
    let overhead = clock.overhead_ns();
    assert!(overhead > 0.0 && overhead < 10_000.0, "{overhead}");
}

#[test]
fn the_clock_step_is_positive_and_below_two_bare_reads() {
    let clock = Clock::best();
    let step = clock.resolution_ns();
    // Two reads back to back differ by at least one step whenever they differ at all.
    assert!(
        step > 0.0 && step <= clock.overhead_ns().max(step),
        "{step}"
    );
    let coarse = Clock::monotonic().resolution_ns();
    assert!((0.5..1e6).contains(&coarse), "Instant step {coarse} ns");
}

/// The meter's cost with two threads sampling at once equals its cost with one, within noise: it
/// writes nothing shared between its two clock reads. Noise on a shared machine (other tests run
/// beside this one) only adds time, in bursts, so each side is the best of five measurements
/// taken alternately, and the comparison gets three attempts; the margin is the larger of 25%
/// and four clock steps (a reading is known to a step at best). A cross-core miss in every
/// sample would cost a multiple of that.
#[test]
fn the_meter_costs_the_same_at_two_threads_as_at_one() {
    let clock = Clock::best();
    let mut attempts = Vec::new();
    for _ in 0..3 {
        let (mut one, mut two) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..5 {
            one = one.min(meter_cost_ns(clock, 1).unwrap());
            two = two.min(meter_cost_ns(clock, 2).unwrap());
        }
        let margin = (0.25 * one).max(4.0 * clock.resolution_ns());
        assert!(one > 0.0);
        if two <= one + margin {
            return;
        }
        attempts.push(format!(
            "{two:.1} ns against {one:.1} ns (margin {margin:.1} ns)"
        ));
    }
    panic!(
        "{}: the meter costs more per sample at two threads than at one in every attempt: {}",
        clock.name(),
        attempts.join("; ")
    );
}

#[test]
fn every_latency_workload_gives_both_operations() {
    for workload in latency_workloads() {
        let meter = MeterSelf::measure(Clock::best(), &[1, 2]).unwrap();
        let entries = measure_latency(AllocatorKind::System, workload, 1, &meter, 2).unwrap();
        assert_eq!(entries.len(), 2, "{workload:?}");
        for e in &entries {
            assert!(e.samples > 1000, "{e:?}");
            assert!(e.p50_ns <= e.p99_ns && e.p99_ns <= e.p999_ns && e.p999_ns <= e.max_ns);
            assert!(e.p50_ns > 0.0, "{e:?}");
        }
        assert_eq!(entries[0].os_threads, workload.os_threads(1));
        // Every workload frees what it allocates: a random sample of each has about the same size.
        let (allocs, frees) = (entries[0].samples as f64, entries[1].samples as f64);
        assert!(
            (allocs / frees - 1.0).abs() < 0.05,
            "{workload:?}: {allocs} alloc and {frees} free samples"
        );
    }
}
