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
use crate::workload::allocators::{AllocatorKind, AllocatorVisitor, HeapAllocator};
use crate::workload::contention::{SpawnError, Workload, run_workers};
use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// The workloads whose operations are sampled ([`Workload::in_latency`]): thread-local churn, a
/// pipeline, and short-lived threads.
pub fn latency_workloads() -> impl Iterator<Item = Workload> {
    Workload::ALL.into_iter().filter(|w| w.in_latency())
}

/// One operation in `SAMPLE_ONE_IN` is timed (chosen at random per thread, so the sample cannot fall
/// into step with a workload's own period).
pub const SAMPLE_ONE_IN: u64 = 4;
/// Allocator operations (allocations + frees) a latency run aims at, whatever the workload.
pub const LATENCY_RUN_OPS: u64 = 800_000;
/// Samples kept per operation kind; later ones are counted as dropped, never written out of bounds.
const SAMPLE_CAPACITY: usize = 1 << 19;

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

    /// The clock's step in ns: the smallest difference it shows between two readings. Measured, not
    /// assumed: on one 2-vCPU VM (AMD EPYC, 2026-11-28) the TSC advanced in steps of about 10 ns, so
    /// every latency p50 read 30 or 40 ns. Back-to-back reads differ by a whole number of steps, so
    /// the step is the smallest positive difference between two readings or between two distinct
    /// differences.
    pub fn resolution_ns(&self) -> f64 {
        let mut deltas = self.back_to_back_ticks();
        deltas.sort_unstable();
        deltas.dedup();
        let smallest = deltas.iter().copied().find(|&d| d > 0);
        let smallest_gap = deltas.windows(2).map(|w| w[1] - w[0]).min();
        let step = [smallest, smallest_gap]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(1);
        self.ticks_to_ns(step)
    }

    /// The median cost of one timed nothing (two clock reads back to back), in ns: what every sample
    /// carries on top of the operation. Reported beside the percentiles, not subtracted.
    pub fn overhead_ns(&self) -> f64 {
        let ns = self
            .back_to_back_ticks()
            .into_iter()
            .map(|t| self.ticks_to_ns(t));
        Percentiles::of(ns.collect()).map_or(0.0, |p| p.p50_ns)
    }

    /// Ticks between two reads of the clock back to back, 20,000 times.
    fn back_to_back_ticks(&self) -> Vec<u64> {
        (0..20_000)
            .map(|_| {
                let t0 = self.now();
                std::hint::black_box(self.now()).wrapping_sub(t0)
            })
            .collect()
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

/// Samples a thread claims at once: 256 samples of 8 bytes, 2 KiB, whole cache lines of its own.
const CHUNK: usize = 256;
/// A store slot no sample was written to (a real sample can be 0 ticks, never this).
const EMPTY: u64 = u64::MAX;

/// Keeps `T` on cache lines of its own (128 bytes: adjacent-line prefetch pairs 64-byte lines), so
/// that no other thread's writes share them.
#[repr(align(128))]
struct Padded<T>(T);

/// Chunks of samples that each thread fills alone: a thread claims a chunk (one shared atomic add,
/// after its clock reads) and writes its samples there through a cursor of its own, so that between
/// two clock reads nothing is written that another thread reads or writes.
struct SampleStore {
    chunks: Box<[Padded<[AtomicU64; CHUNK]>]>,
    next_chunk: Padded<AtomicUsize>,
    dropped: Padded<AtomicU64>,
}

impl SampleStore {
    fn new() -> SampleStore {
        SampleStore {
            chunks: (0..SAMPLE_CAPACITY / CHUNK)
                .map(|_| Padded(std::array::from_fn(|_| AtomicU64::new(EMPTY))))
                .collect(),
            next_chunk: Padded(AtomicUsize::new(0)),
            dropped: Padded(AtomicU64::new(0)),
        }
    }

    /// Records `ticks` at `cursor`, claiming a new chunk when the cursor has none or a full one.
    #[inline(always)]
    fn push(&self, cursor: &mut Cursor, ticks: u64) {
        if cursor.used == CHUNK {
            let chunk = self.next_chunk.0.fetch_add(1, Relaxed);
            if chunk >= self.chunks.len() {
                self.dropped.0.fetch_add(1, Relaxed);
                return;
            }
            *cursor = Cursor { chunk, used: 0 };
        }
        self.chunks[cursor.chunk].0[cursor.used].store(ticks, Relaxed);
        cursor.used += 1;
    }

    /// Every sample recorded, in no particular order.
    fn recorded(&self) -> impl Iterator<Item = u64> + '_ {
        let claimed = self.next_chunk.0.load(Relaxed).min(self.chunks.len());
        self.chunks[..claimed]
            .iter()
            .flat_map(|chunk| chunk.0.iter().map(|t| t.load(Relaxed)))
            .filter(|&t| t != EMPTY)
    }

    fn dropped(&self) -> u64 {
        self.dropped.0.load(Relaxed)
    }
}

/// Where a thread writes its next sample of one operation kind: a chunk of its own and how much of
/// it is used (`CHUNK`: none claimed yet, or full).
#[derive(Clone, Copy, Debug)]
struct Cursor {
    chunk: usize,
    used: usize,
}

/// A thread's cursors into one [`Sampled`]'s stores (one per operation kind), tagged with that
/// wrapper's id so that a thread that meets a new wrapper starts afresh.
#[derive(Clone, Copy, Debug)]
struct Cursors {
    owner: u64,
    ops: [Cursor; 2],
}

impl Cursors {
    const NONE: Cursors = Cursors {
        owner: 0,
        ops: [Cursor {
            chunk: 0,
            used: CHUNK,
        }; 2],
    };
}

thread_local! {
    // Const-initialised without a destructor: safe to touch from inside an allocator call. Zero means
    // "not seeded yet" (xorshift never reaches zero from a non-zero seed).
    static SAMPLER: Cell<u64> = const { Cell::new(0) };
    // This thread's place in the stores of the wrapper it last sampled for.
    static CURSORS: Cell<Cursors> = const { Cell::new(Cursors::NONE) };
}

/// Ids of [`Sampled`] wrappers (0 is no wrapper).
static NEXT_SAMPLED_ID: AtomicU64 = AtomicU64::new(1);

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
    id: u64,
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
            id: NEXT_SAMPLED_ID.fetch_add(1, Relaxed),
            stores: [SampleStore::new(), SampleStore::new()],
        }
    }

    /// The samples of `op` so far, in ns.
    pub fn samples_ns(&self, op: Op) -> Vec<f64> {
        self.stores[op as usize]
            .recorded()
            .map(|t| self.clock.ticks_to_ns(t))
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
        // A copy on this thread's stack: inside the timed window the clock is read from here, not
        // from the shared wrapper.
        let clock = self.clock;
        let t0 = clock.now();
        let result = call();
        let t1 = clock.now();
        // Recorded after the second read: nothing between the reads writes shared memory.
        let mut cursors = CURSORS.get();
        if cursors.owner != self.id {
            cursors = Cursors {
                owner: self.id,
                ..Cursors::NONE
            };
        }
        self.stores[op as usize].push(&mut cursors.ops[op as usize], t1.wrapping_sub(t0));
        CURSORS.set(cursors);
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

/// An allocator that does nothing (its blocks are never written): timed through [`Sampled`], what is
/// measured is the meter alone.
pub struct NoopAlloc;

// SAFETY: never hands out memory to be used: `alloc` returns a dangling, well-aligned, non-null
// pointer that the meter's own loop never dereferences; `dealloc` does nothing.
unsafe impl GlobalAlloc for NoopAlloc {
    #[inline(always)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        std::hint::black_box(layout.align() as *mut u8)
    }

    #[inline(always)]
    unsafe fn dealloc(&self, ptr: *mut u8, _: Layout) {
        std::hint::black_box(ptr);
    }
}

/// Calls per thread when the meter times itself.
const METER_CALLS: usize = 50_000;

/// The meter's own cost per sample with `threads` threads sampling at once: the median of timing a
/// call of [`NoopAlloc`] through [`Sampled`], every call sampled, every thread at once. A sample of
/// a real operation carries this on top of the operation; if it grew with the thread count, the
/// meter would be measuring its own sharing.
pub fn meter_cost_ns(clock: Clock, threads: usize) -> Result<f64, SpawnError> {
    let sampled = Sampled::new(&NoopAlloc, clock, 1);
    let layout = Layout::new::<u64>();
    run_workers(
        threads,
        |_| (),
        |_, _| {
            for _ in 0..METER_CALLS {
                // SAFETY: NoopAlloc's blocks are never dereferenced.
                unsafe { sampled.dealloc(sampled.alloc(layout), layout) };
            }
            1
        },
    )?;
    Ok(Percentiles::of(sampled.samples_ns(Op::Alloc)).map_or(0.0, |p| p.p50_ns))
}

/// What the meter knows of itself for one run: its clock, the clock's step, two bare reads, and its
/// cost per sample at each number of threads sampling at once.
#[derive(Clone, Debug)]
pub struct MeterSelf {
    pub clock: Clock,
    pub resolution_ns: f64,
    pub overhead_ns: f64,
    /// (threads at once, median ns per sample of a no-op).
    pub cost_ns: Vec<(usize, f64)>,
}

impl MeterSelf {
    /// Measures the clock and the meter's cost for each of `os_threads`.
    pub fn measure(clock: Clock, os_threads: &[usize]) -> Result<MeterSelf, SpawnError> {
        let mut counts = os_threads.to_vec();
        counts.sort_unstable();
        counts.dedup();
        let cost_ns = counts
            .into_iter()
            .map(|t| Ok((t, meter_cost_ns(clock, t)?)))
            .collect::<Result<_, SpawnError>>()?;
        Ok(MeterSelf {
            clock,
            resolution_ns: clock.resolution_ns(),
            overhead_ns: clock.overhead_ns(),
            cost_ns,
        })
    }

    /// The meter's cost at `os_threads` threads at once (0 where it was not measured).
    pub fn cost_at(&self, os_threads: usize) -> f64 {
        self.cost_ns
            .iter()
            .find(|(t, _)| *t == os_threads)
            .map_or(0.0, |(_, ns)| *ns)
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
    meter: &MeterSelf,
    cores: usize,
) -> Result<Vec<LatencyEntry>, SpawnError> {
    let clock = meter.clock;
    struct Measure(Workload, usize, Clock);
    impl AllocatorVisitor for Measure {
        type Output = Result<[Vec<f64>; 2], SpawnError>;
        fn visit<A: HeapAllocator>(self, _: AllocatorKind, alloc: &'static A) -> Self::Output {
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
                timer_overhead_ns: meter.overhead_ns,
                clock_resolution_ns: meter.resolution_ns,
                meter_cost_ns: meter.cost_at(os_threads),
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
    let os_threads: Vec<usize> = latency_workloads()
        .flat_map(|w| threads.iter().map(move |&t| w.os_threads(t)))
        .collect();
    let meter = MeterSelf::measure(Clock::best(), &os_threads)?;
    let mut entries = Vec::new();
    for workload in latency_workloads() {
        for &t in threads {
            for &kind in allocators {
                entries.extend(measure_latency(kind, workload, t, &meter, cores)?);
            }
        }
    }
    Ok(entries)
}

pub mod in_child;

#[cfg(test)]
mod tests;
