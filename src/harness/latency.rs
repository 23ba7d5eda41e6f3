//! Latency of single allocator operations: a wrapper allocator that times a random sample of the
//! allocations and frees passing through it with the cheapest steady clock the machine has, and the
//! percentiles of those samples (rows of `target/stackheap/latency.json`).
//!
//! What a sample includes: the allocator call itself, with whatever it does on that call (fast path,
//! refill from a shared pool, a lock, an `mmap`/`madvise`, a page fault on the allocator's own
//! metadata, a preemption by the OS), plus one clock read. What it excludes: the workload's first
//! write to the block (a page fault on fresh memory lands there, not in `alloc`), the sampling
//! decision, and every operation that was not sampled.

use crate::data::latency::{LatencyEntry, Op};
use crate::workload::allocators::{AllocatorKind, AllocatorVisitor, NamedAllocator};
use crate::workload::contention::{SpawnError, Workload};
use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// The workloads whose operations are sampled: thread-local churn, a pipeline, and short-lived threads.
pub const LATENCY_WORKLOADS: [Workload; 3] = [
    Workload::LocalChurn,
    Workload::ProducerConsumer,
    Workload::ThreadChurn,
];

/// One operation in `SAMPLE_ONE_IN` is timed (chosen at random per thread, so the sample cannot fall
/// into step with a workload's own period).
pub const SAMPLE_ONE_IN: u64 = 4;
/// Allocator operations (allocations + frees) a latency run aims at, whatever the workload.
pub const LATENCY_RUN_OPS: u64 = 800_000;
/// Samples kept per operation kind; later ones are counted as dropped, never written out of bounds.
const SAMPLE_CAPACITY: usize = 1 << 18;

/// A steady clock read in ticks: the CPU's time-stamp counter where it runs at a constant rate
/// (`constant_tsc` and `nonstop_tsc` on x86_64 Linux), else `Instant` in nanoseconds.
#[derive(Clone, Copy, Debug)]
pub enum Clock {
    /// `rdtsc` between two `lfence`s, so the read is not reordered around the timed call.
    Tsc {
        ns_per_tick: f64,
    },
    Monotonic {
        epoch: Instant,
    },
}

impl Clock {
    /// The TSC where it is usable (calibrated against `Instant` over 20 ms), else `Instant`.
    pub fn best() -> Clock {
        if tsc_is_invariant() {
            let (i0, t0) = (Instant::now(), Clock::tsc_ticks());
            std::thread::sleep(Duration::from_millis(20));
            let (ns, ticks) = (i0.elapsed().as_nanos() as f64, Clock::tsc_ticks() - t0);
            if ticks > 0 {
                return Clock::Tsc {
                    ns_per_tick: ns / ticks as f64,
                };
            }
        }
        Clock::monotonic()
    }

    pub fn monotonic() -> Clock {
        Clock::Monotonic {
            epoch: Instant::now(),
        }
    }

    /// The name recorded with the results.
    pub fn name(&self) -> &'static str {
        match self {
            Clock::Tsc { .. } => "rdtsc",
            Clock::Monotonic { .. } => "Instant",
        }
    }

    #[inline(always)]
    fn now(&self) -> u64 {
        match self {
            Clock::Tsc { .. } => Clock::tsc_ticks(),
            Clock::Monotonic { epoch } => epoch.elapsed().as_nanos() as u64,
        }
    }

    fn ticks_to_ns(self, ticks: u64) -> f64 {
        match self {
            Clock::Tsc { ns_per_tick } => ticks as f64 * ns_per_tick,
            Clock::Monotonic { .. } => ticks as f64,
        }
    }

    #[inline(always)]
    fn tsc_ticks() -> u64 {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: lfence and rdtsc have no memory effects; every x86_64 CPU has both.
        unsafe {
            use core::arch::x86_64::{_mm_lfence, _rdtsc};
            _mm_lfence();
            let t = _rdtsc();
            _mm_lfence();
            t
        }
        #[cfg(not(target_arch = "x86_64"))]
        0
    }

    /// The median cost of one timed nothing (two clock reads back to back), in ns: what every sample
    /// carries on top of the operation. Reported beside the percentiles, not subtracted.
    pub fn overhead_ns(&self) -> f64 {
        let ticks: Vec<f64> = (0..20_000)
            .map(|_| {
                let t0 = self.now();
                let t1 = std::hint::black_box(self.now());
                self.ticks_to_ns(t1.wrapping_sub(t0))
            })
            .collect();
        Percentiles::of(ticks).map_or(0.0, |p| p.p50_ns)
    }
}

fn tsc_is_invariant() -> bool {
    cfg!(target_arch = "x86_64")
        && crate::platform::cpuinfo_field("flags").is_some_and(|flags| {
            let has = |f: &str| flags.split_whitespace().any(|w| w == f);
            has("constant_tsc") && has("nonstop_tsc")
        })
}

/// Percentiles of a set of samples, by nearest rank.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Percentiles {
    pub p50_ns: f64,
    pub p99_ns: f64,
    pub p999_ns: f64,
    pub max_ns: f64,
    pub samples: u64,
}

impl Percentiles {
    /// `None` for no samples. Nearest rank: the p-th percentile is the smallest sample with at least
    /// p% of the samples at or below it.
    pub fn of(mut ns: Vec<f64>) -> Option<Percentiles> {
        ns.sort_unstable_by(f64::total_cmp);
        let n = ns.len();
        let at = |q: f64| ns[((q * n as f64).ceil() as usize).clamp(1, n) - 1];
        (n > 0).then(|| Percentiles {
            p50_ns: at(0.50),
            p99_ns: at(0.99),
            p999_ns: at(0.999),
            max_ns: ns[n - 1],
            samples: n as u64,
        })
    }
}

/// A fixed array of samples that threads append to without allocating.
struct SampleStore {
    ticks: Box<[AtomicU64]>,
    next: AtomicUsize,
}

impl SampleStore {
    fn new() -> SampleStore {
        SampleStore {
            ticks: (0..SAMPLE_CAPACITY).map(|_| AtomicU64::new(0)).collect(),
            next: AtomicUsize::new(0),
        }
    }

    #[inline(always)]
    fn push(&self, ticks: u64) {
        let i = self.next.fetch_add(1, Relaxed);
        if let Some(slot) = self.ticks.get(i) {
            slot.store(ticks, Relaxed);
        }
    }

    fn recorded(&self) -> &[AtomicU64] {
        &self.ticks[..self.next.load(Relaxed).min(self.ticks.len())]
    }

    fn dropped(&self) -> u64 {
        self.next.load(Relaxed).saturating_sub(self.ticks.len()) as u64
    }
}

thread_local! {
    // Const-initialised without a destructor: safe to touch from inside an allocator call. Zero means
    // "not seeded yet" (xorshift never reaches zero from a non-zero seed).
    static SAMPLER: Cell<u64> = const { Cell::new(0) };
}

/// Seeds for the samplers of new threads. Each thread needs its own: workloads whose threads all run
/// the same sequence of operations (`thread_churn`) would otherwise sample the same positions in every
/// thread, a fixed subset rather than a random one.
static NEXT_SEED: AtomicU64 = AtomicU64::new(0x9E37_79B9_7F4A_7C15);

/// Whether to time this operation: one in `one_in` (a power of two), at random (xorshift per thread).
#[inline(always)]
fn sample_this(one_in: u64) -> bool {
    SAMPLER.with(|state| {
        let mut x = state.get();
        if x == 0 {
            x = NEXT_SEED.fetch_add(0x9E37_79B9_7F4A_7C15, Relaxed) | 1;
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.set(x);
        x & (one_in - 1) == 0
    })
}

/// Wraps an allocator and times a random sample of its allocations and frees, from every thread.
pub struct Sampled<'a, A> {
    inner: &'a A,
    clock: Clock,
    one_in: u64,
    stores: [SampleStore; 2],
}

impl<'a, A> Sampled<'a, A> {
    /// `one_in` must be a power of two.
    pub fn new(inner: &'a A, clock: Clock, one_in: u64) -> Self {
        assert!(one_in.is_power_of_two(), "one_in must be a power of two");
        Sampled {
            inner,
            clock,
            one_in,
            stores: [SampleStore::new(), SampleStore::new()],
        }
    }

    /// The samples of `op` so far, in ns.
    pub fn samples_ns(&self, op: Op) -> Vec<f64> {
        self.stores[op as usize]
            .recorded()
            .iter()
            .map(|t| self.clock.ticks_to_ns(t.load(Relaxed)))
            .collect()
    }

    /// Samples of `op` that did not fit the store.
    pub fn dropped(&self, op: Op) -> u64 {
        self.stores[op as usize].dropped()
    }

    #[inline(always)]
    fn timed<R>(&self, op: Op, call: impl FnOnce() -> R) -> R {
        if !sample_this(self.one_in) {
            return call();
        }
        let t0 = self.clock.now();
        let result = call();
        let t1 = self.clock.now();
        self.stores[op as usize].push(t1.wrapping_sub(t0));
        result
    }
}

// SAFETY: every call is forwarded unchanged to `inner`; timing has no effect on the memory returned,
// and recording a sample allocates nothing.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Sampled<'_, A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.timed(Op::Alloc, || unsafe { self.inner.alloc(layout) })
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.timed(Op::Alloc, || unsafe { self.inner.alloc_zeroed(layout) })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.timed(Op::Free, || unsafe { self.inner.dealloc(ptr, layout) })
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.timed(Op::Alloc, || unsafe {
            self.inner.realloc(ptr, layout, new_size)
        })
    }
}

/// Rounds of `workload` at `threads` that make about [`LATENCY_RUN_OPS`] allocator operations.
pub fn latency_rounds(workload: Workload, threads: usize) -> u64 {
    (LATENCY_RUN_OPS / workload.ops_per_round(threads)).max(1)
}

/// Runs `workload` once untimed (to reach a steady state), then once with every operation through a
/// [`Sampled`] `kind`, and returns one entry per operation kind.
pub fn measure_latency(
    kind: AllocatorKind,
    workload: Workload,
    threads: usize,
    clock: Clock,
    timer_overhead_ns: f64,
    cores: usize,
) -> Result<Vec<LatencyEntry>, SpawnError> {
    struct Measure(Workload, usize, Clock);
    impl AllocatorVisitor for Measure {
        type Output = Result<[Vec<f64>; 2], SpawnError>;
        fn visit<A: NamedAllocator>(self, alloc: &'static A) -> Self::Output {
            let Measure(workload, threads, clock) = self;
            let rounds = latency_rounds(workload, threads);
            workload.run(alloc, threads, rounds)?;
            let sampled = Sampled::new(alloc, clock, SAMPLE_ONE_IN);
            workload.run(&sampled, threads, rounds)?;
            Ok(Op::ALL.map(|op| sampled.samples_ns(op)))
        }
    }
    let samples = kind.visit(Measure(workload, threads, clock))?;
    let os_threads = workload.os_threads(threads);
    Ok(Op::ALL
        .into_iter()
        .zip(samples)
        .filter_map(|(op, ns)| {
            let p = Percentiles::of(ns)?;
            Some(LatencyEntry {
                workload,
                allocator: kind,
                threads,
                os_threads,
                oversubscribed: os_threads > cores,
                op,
                p50_ns: p.p50_ns,
                p99_ns: p.p99_ns,
                p999_ns: p.p999_ns,
                max_ns: p.max_ns,
                samples: p.samples,
                sampled_one_in: SAMPLE_ONE_IN,
                clock: clock.name().into(),
                timer_overhead_ns,
            })
        })
        .collect())
}

/// [`measure_latency`] for every latency workload, thread count and allocator, allocators interleaved
/// inside each (workload, threads) cell so that drift over the run hits them alike.
pub fn measure_all(
    threads: &[usize],
    allocators: &[AllocatorKind],
    cores: usize,
) -> Result<Vec<LatencyEntry>, SpawnError> {
    let clock = Clock::best();
    let overhead = clock.overhead_ns();
    let mut entries = Vec::new();
    for workload in LATENCY_WORKLOADS {
        for &t in threads {
            for &kind in allocators {
                entries.extend(measure_latency(kind, workload, t, clock, overhead, cores)?);
            }
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::allocators::{Counting, MiMalloc};

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
        for t in 0..SAMPLE_CAPACITY as u64 + 5 {
            store.push(t);
        }
        assert_eq!(store.recorded().len(), SAMPLE_CAPACITY);
        assert_eq!(store.dropped(), 5);
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
    fn every_latency_workload_gives_both_operations() {
        for workload in LATENCY_WORKLOADS {
            let entries =
                measure_latency(AllocatorKind::System, workload, 1, Clock::best(), 1.0, 2).unwrap();
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
}
