//! Shared-heap contention: threads have their own stacks but share one heap. Multi-threaded
//! allocate/free workloads, each run through one named allocator, and the runner that times them
//! without timing thread start-up.
//!
//! Every allocation a workload makes goes through the allocator it is given: blocks are
//! [`HeapBlock`]s of that allocator and every table or batch is an `allocator_api2` `Vec` in it.

use crate::workload::allocators::{AllocatorKind, AllocatorVisitor, Api2, NamedAllocator};
use crate::workload::arrays::HeapBlock;
use allocator_api2::vec::Vec as AVec;
use std::alloc::GlobalAlloc;
use std::hint::black_box;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::{Duration, Instant};

/// The workloads, in the order benches and reports list them (the derived `Ord` is that order:
/// reports sort by it).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Workload {
    /// Each thread replaces random blocks of its own working set: no object crosses threads.
    LocalChurn,
    /// Threads in a ring: each allocates batches and hands them to the next, which frees them.
    CrossThreadFree,
    /// P producer threads allocate 64 B objects and send them in batches to P consumer threads that
    /// only free them (xmalloc-test's shape).
    ProducerConsumer,
    /// `producer_consumer` with mixed sizes, 16..=1024 B, skewed toward small.
    ProducerConsumerMixed,
    /// Random slot replacement on slots first filled by another thread (larson).
    Larson,
    /// Generations of short-lived threads: each allocates a working set, keeps half, hands half to
    /// the next generation, and exits (mstress's shape). Thread creation is part of the pattern.
    ThreadChurn,
    /// `local_churn`'s random choices and writes on a stack buffer: no allocator at all.
    StackControl,
    /// A rayon pool mapping items to freshly allocated buffers and collecting them.
    RayonCollect,
}

impl std::fmt::Display for Workload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Workload {
    pub const ALL: [Workload; 8] = [
        Self::LocalChurn,
        Self::CrossThreadFree,
        Self::ProducerConsumer,
        Self::ProducerConsumerMixed,
        Self::Larson,
        Self::ThreadChurn,
        Self::StackControl,
        Self::RayonCollect,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Self::LocalChurn => "local_churn",
            Self::CrossThreadFree => "cross_thread_free",
            Self::ProducerConsumer => "producer_consumer",
            Self::ProducerConsumerMixed => "producer_consumer_mixed",
            Self::Larson => "larson",
            Self::ThreadChurn => "thread_churn",
            Self::StackControl => "stack_control",
            Self::RayonCollect => "rayon_collect",
        }
    }

    pub fn from_name(name: &str) -> Option<Workload> {
        Self::ALL.into_iter().find(|w| w.name() == name)
    }

    /// Allocator operations (allocations + frees) one round performs, over all `threads`.
    /// `stack_control` counts the operations it stands in for, so its line is read on the same scale.
    pub const fn ops_per_round(self, threads: usize) -> u64 {
        let threads = threads as u64;
        match self {
            Self::LocalChurn | Self::Larson | Self::StackControl => {
                2 * REPLACEMENTS_PER_ROUND as u64 * threads
            }
            Self::CrossThreadFree => 2 * BATCH as u64 * threads,
            Self::ProducerConsumer | Self::ProducerConsumerMixed => {
                2 * PC_OBJECTS_PER_ROUND as u64 * threads
            }
            Self::ThreadChurn => 2 * CHURN_OBJECTS as u64 * threads,
            Self::RayonCollect => 2 * RAYON_ITEMS as u64,
        }
    }

    /// The operating-system threads a run with thread count `threads` uses at once. The thread count
    /// of `producer_consumer` is the number of producer/consumer pairs: `t2` is 2 producers and 2
    /// consumers, 4 threads. Every other workload runs `threads` threads.
    pub const fn os_threads(self, threads: usize) -> usize {
        match self {
            Self::ProducerConsumer | Self::ProducerConsumerMixed => 2 * threads,
            _ => threads,
        }
    }

    /// Whether `stack_control` (the same per-operation work with no heap, on as many threads) is a
    /// fair ideal line for this workload: true for the workloads whose threads each do replacements
    /// or hand-overs of their own, false where threads are counted differently or are part of the cost.
    pub const fn has_stack_control_line(self) -> bool {
        matches!(
            self,
            Self::LocalChurn | Self::CrossThreadFree | Self::Larson
        )
    }

    /// Runs `rounds` rounds with `threads` threads through `alloc`; returns the elapsed time from
    /// the earliest worker start to the latest worker end, and a checksum of the work.
    pub fn run<A: GlobalAlloc + Sync>(
        self,
        alloc: &A,
        threads: usize,
        rounds: u64,
    ) -> Result<(Duration, u64), SpawnError> {
        match self {
            Self::LocalChurn => local_churn(alloc, threads, rounds),
            Self::CrossThreadFree => cross_thread_free(alloc, threads, rounds),
            Self::ProducerConsumer => producer_consumer(alloc, threads, rounds, fixed_object_size),
            Self::ProducerConsumerMixed => {
                producer_consumer(alloc, threads, rounds, Rng::small_size)
            }
            Self::Larson => larson(alloc, threads, rounds),
            Self::ThreadChurn => thread_churn(alloc, threads, rounds),
            Self::StackControl => stack_control(threads, rounds),
            Self::RayonCollect => rayon_collect(alloc, threads, rounds),
        }
    }
}

/// Blocks each `local_churn`/`larson` thread keeps alive.
pub const SLOTS: usize = 512;
/// Free + allocate pairs per thread per round.
pub const REPLACEMENTS_PER_ROUND: usize = 1000;
/// Objects per hand-over in `cross_thread_free`: one channel message carries this many allocations.
pub const BATCH: usize = 4096;
/// Size of each `cross_thread_free` object (xmalloc-test's size class).
pub const CROSS_OBJECT_BYTES: usize = 64;
/// Items each `rayon_collect` round maps to a fresh buffer.
pub const RAYON_ITEMS: usize = 4096;
/// Objects per `producer_consumer` message: a batch, as a request queue or a logger hands them over.
pub const PC_BATCH: usize = 256;
/// Objects each producer allocates (and its consumer frees) per round.
pub const PC_OBJECTS_PER_ROUND: usize = 16 * PC_BATCH;
/// Batches a producer may have in flight before it waits for its consumer: memory stays bounded and
/// producers cannot run ahead of the frees they cause.
pub const PC_IN_FLIGHT: usize = 4;
/// Objects each `thread_churn` thread allocates in its short life; it frees half and hands half on.
pub const CHURN_OBJECTS: usize = 512;

/// xorshift64*: a tiny deterministic generator, the same sequence for every allocator.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    #[inline(always)]
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    #[inline(always)]
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// 16..=1024 bytes, skewed toward small: a size class 16 << k with k geometric (half the blocks
    /// are 16..31 B, a quarter 32..63 B, ...), plus a uniform offset within the class.
    #[inline(always)]
    pub fn small_size(&mut self) -> usize {
        let r = self.next_u64();
        let class = (r.trailing_ones() as usize).min(6);
        let base = 16 << class;
        (base + (r >> 32) as usize % base).min(1024)
    }

    /// 8..=1000 bytes, uniform (larson's range).
    #[inline(always)]
    pub fn larson_size(&mut self) -> usize {
        8 + self.below(993)
    }
}

/// Writes to a fresh block: its first word and its last byte, so the allocation is really used
/// without turning the workload into a memset benchmark.
#[inline(always)]
fn write_block(block: &mut HeapBlock<'_, impl GlobalAlloc>, value: u64) -> u64 {
    let len = block.len();
    let ptr = black_box(block.as_mut_ptr());
    // SAFETY: blocks are at least 8 bytes; both writes are inside the block.
    unsafe {
        ptr.cast::<u64>().write_unaligned(value);
        ptr.add(len - 1).write(value as u8);
        ptr.cast::<u64>().read_unaligned() + u64::from(ptr.add(len - 1).read())
    }
}

/// A thread that could not be started (a process or memory limit): the run ends with this error
/// instead of a panic, and the threads already started are released, never left waiting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpawnError(pub String);

impl std::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: expected to start every thread of the run: lower STACKHEAP_THREADS or raise the process limit (ulimit -u)",
            self.0
        )
    }
}

impl std::error::Error for SpawnError {}

/// The start line of a run's workers. Unlike [`std::sync::Barrier`] it can be called off: when a later thread
/// cannot be started, the ones already waiting are released and do no work.
struct StartGate {
    parties: usize,
    /// (threads arrived, called off)
    state: std::sync::Mutex<(usize, bool)>,
    opened: std::sync::Condvar,
}

impl StartGate {
    fn new(parties: usize) -> StartGate {
        StartGate {
            parties,
            state: std::sync::Mutex::new((0, false)),
            opened: std::sync::Condvar::new(),
        }
    }

    /// Waits until every party has arrived (true) or the run was called off (false).
    fn wait(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 += 1;
        if state.0 == self.parties {
            self.opened.notify_all();
        }
        while state.0 < self.parties && !state.1 {
            state = self.opened.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        !state.1
    }

    fn call_off(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1 = true;
        self.opened.notify_all();
    }
}

/// Starts `threads` workers, each with state made by `setup(i)` before a common start line; after it
/// each worker records its own start, runs `work`, and records its own end. Returns the latest end
/// minus the earliest start (thread start-up and setup are not timed; a late-woken main thread cannot
/// distort it) and the sum of the workers' results. State is dropped after the end is recorded.
pub fn run_workers<S>(
    threads: usize,
    setup: impl Fn(usize) -> S + Sync,
    work: impl Fn(usize, &mut S) -> u64 + Sync,
) -> Result<(Duration, u64), SpawnError> {
    run_workers_with_stacks(threads, |_| None, setup, work)
}

/// [`run_workers`] with a stack size per worker (`None`: Rust's default), so that tests can make one
/// spawn fail the way a process limit does.
fn run_workers_with_stacks<S, Setup, Work>(
    threads: usize,
    stack_bytes: impl Fn(usize) -> Option<usize>,
    setup: Setup,
    work: Work,
) -> Result<(Duration, u64), SpawnError>
where
    Setup: Fn(usize) -> S + Sync,
    Work: Fn(usize, &mut S) -> u64 + Sync,
{
    let gate = StartGate::new(threads);
    let spans: Result<Vec<(Instant, Instant, u64)>, SpawnError> = std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(threads);
        for i in 0..threads {
            let (gate, setup, work) = (&gate, &setup, &work);
            let mut builder = std::thread::Builder::new();
            if let Some(bytes) = stack_bytes(i) {
                builder = builder.stack_size(bytes);
            }
            let spawned = builder.spawn_scoped(scope, move || {
                let mut state = setup(i);
                if !gate.wait() {
                    return None;
                }
                let start = Instant::now();
                let result = work(i, &mut state);
                let end = Instant::now();
                drop(state);
                Some((start, end, result))
            });
            match spawned {
                Ok(handle) => handles.push(handle),
                Err(e) => {
                    gate.call_off();
                    return Err(SpawnError(format!(
                        "cannot start thread {} of {threads}: {e}",
                        i + 1
                    )));
                }
            }
        }
        Ok(handles
            .into_iter()
            .map(|h| {
                h.join()
                    .expect("contention worker panicked")
                    .expect("the start line was not called off")
            })
            .collect())
    });
    let spans = spans?;
    let start = spans
        .iter()
        .map(|s| s.0)
        .min()
        .expect("at least one thread");
    let end = spans
        .iter()
        .map(|s| s.1)
        .max()
        .expect("at least one thread");
    Ok((end - start, spans.iter().map(|s| s.2).sum()))
}

type Slots<'a, A> = AVec<HeapBlock<'a, A>, Api2<'a, A>>;

fn fill_slots<'a, A: GlobalAlloc>(
    alloc: &'a A,
    rng: &mut Rng,
    size: fn(&mut Rng) -> usize,
) -> Slots<'a, A> {
    let mut slots = AVec::with_capacity_in(SLOTS, Api2(alloc));
    for i in 0..SLOTS {
        let mut block = HeapBlock::new(alloc, size(rng));
        write_block(&mut block, i as u64);
        slots.push(block);
    }
    slots
}

/// Replaces random slots: free one block, allocate another of `size(rng)` bytes, write to it.
#[inline(always)]
fn replace_randomly<'a, A: GlobalAlloc>(
    alloc: &'a A,
    slots: &mut Slots<'a, A>,
    rng: &mut Rng,
    rounds: u64,
    size: fn(&mut Rng) -> usize,
) -> u64 {
    let mut sum = 0u64;
    for _ in 0..rounds * REPLACEMENTS_PER_ROUND as u64 {
        let slot = rng.below(SLOTS);
        let mut block = HeapBlock::new(alloc, size(rng));
        sum = sum.wrapping_add(write_block(&mut block, slot as u64));
        // The assignment frees the old block.
        slots[slot] = block;
    }
    sum
}

/// `local_churn`: each thread fills its own working set, then replaces random blocks with new ones of
/// random small size. Only the allocator's shared state is shared.
pub fn local_churn<A: GlobalAlloc + Sync>(
    alloc: &A,
    threads: usize,
    rounds: u64,
) -> Result<(Duration, u64), SpawnError> {
    run_workers(
        threads,
        |i| {
            let mut rng = Rng::new(i as u64 + 1);
            let slots = fill_slots(alloc, &mut rng, Rng::small_size);
            (rng, slots)
        },
        |_, (rng, slots)| {
            // One injection point of the gate check's deliberate slowdown (a no-op normally).
            let size = |rng: &mut Rng| {
                crate::workload::arrays::injected_slowdown(
                    crate::workload::arrays::InjectionPoint::LocalChurn,
                );
                Rng::small_size(rng)
            };
            replace_randomly(alloc, slots, rng, rounds, size)
        },
    )
}

/// `larson`: like `local_churn` with larson's 8..1000 B sizes, but each thread's slots were first
/// filled by another thread (thread i+1 fills thread i's slots during setup; with one thread, the main
/// thread fills them), so the first frees of every slot are remote. A worker takes its slots at the
/// start line, when every setup has run, and puts them back at the end: they are freed after timing.
pub fn larson<A: GlobalAlloc + Sync>(
    alloc: &A,
    threads: usize,
    rounds: u64,
) -> Result<(Duration, u64), SpawnError> {
    let filled: Vec<std::sync::Mutex<Option<Slots<'_, A>>>> =
        (0..threads).map(|_| std::sync::Mutex::new(None)).collect();
    if threads == 1 {
        *filled[0].lock().expect("not poisoned") =
            Some(fill_slots(alloc, &mut Rng::new(99), Rng::larson_size));
    }
    run_workers(
        threads,
        |i| {
            if threads > 1 {
                let owner = (i + threads - 1) % threads;
                let slots = fill_slots(alloc, &mut Rng::new(100 + i as u64), Rng::larson_size);
                *filled[owner].lock().expect("not poisoned") = Some(slots);
            }
            Rng::new(i as u64 + 1)
        },
        |i, rng| {
            // Every setup ran before the start line, so the slots are there.
            let mut slots = take_once(&filled[i]);
            let sum = replace_randomly(alloc, &mut slots, rng, rounds, Rng::larson_size);
            *filled[i].lock().expect("not poisoned") = Some(slots);
            sum
        },
    )
}

/// `stack_control`: `local_churn`'s per-operation work (random slot, random size, two writes) on a
/// stack buffer: no allocator at all, so it scales with the cores alone. The ideal line.
pub fn stack_control(threads: usize, rounds: u64) -> Result<(Duration, u64), SpawnError> {
    run_workers(
        threads,
        |i| Rng::new(i as u64 + 1),
        |_, rng| {
            const SLOT_BYTES: usize = 1024;
            let mut arena = [0u8; 64 * SLOT_BYTES];
            let mut sum = 0u64;
            for _ in 0..rounds * REPLACEMENTS_PER_ROUND as u64 {
                let slot = rng.below(64);
                let size = rng.small_size();
                let block = &mut black_box(&mut arena)[slot * SLOT_BYTES..slot * SLOT_BYTES + size];
                block[..8].copy_from_slice(&(slot as u64).to_ne_bytes());
                block[size - 1] = slot as u8;
                let block = black_box(block);
                sum = sum.wrapping_add(u64::from(block[0]) + u64::from(block[size - 1]));
            }
            sum
        },
    )
}

/// One slot per value, each to be taken by exactly one worker with [`take_once`].
fn handed_out<T>(values: impl IntoIterator<Item = T>) -> Vec<std::sync::Mutex<Option<T>>> {
    values
        .into_iter()
        .map(|v| std::sync::Mutex::new(Some(v)))
        .collect()
}

/// Takes the value a setup hands to exactly one worker (a channel end, a working set).
fn take_once<T>(slot: &std::sync::Mutex<Option<T>>) -> T {
    slot.lock()
        .expect("not poisoned")
        .take()
        .expect("each worker takes its own, once")
}

type Batch<'a, A> = AVec<HeapBlock<'a, A>, Api2<'a, A>>;

/// `cross_thread_free`: the threads form a ring; each round every thread allocates a batch of
/// [`BATCH`] 64 B objects, writes to them, hands the batch to the next thread in one message, and frees
/// the batch it receives from the previous one. With two or more threads every free is remote; with
/// one thread the ring closes on itself and the frees are local (the single-thread baseline).
pub fn cross_thread_free<A: GlobalAlloc + Sync>(
    alloc: &A,
    threads: usize,
    rounds: u64,
) -> Result<(Duration, u64), SpawnError> {
    // One mailbox per thread; the batch, not each object, is the message.
    type Mailbox<'a, A> = (SyncSender<Batch<'a, A>>, Receiver<Batch<'a, A>>);
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..threads)
        .map(|_| -> Mailbox<'_, A> { sync_channel(1) })
        .unzip();
    let receivers = handed_out(receivers);
    run_workers(
        threads,
        |i| (senders[(i + 1) % threads].clone(), take_once(&receivers[i])),
        |_, (next, inbox)| {
            let mut sum = 0u64;
            for round in 0..rounds {
                let mut batch = AVec::with_capacity_in(BATCH, Api2(alloc));
                for j in 0..BATCH {
                    let mut block = HeapBlock::new(alloc, CROSS_OBJECT_BYTES);
                    sum = sum.wrapping_add(write_block(&mut block, round ^ j as u64));
                    batch.push(block);
                }
                next.send(batch).expect("the next thread is alive");
                // Dropping the received batch frees objects another thread allocated.
                drop(inbox.recv().expect("the previous thread is alive"));
            }
            sum
        },
    )
}

/// The object size of `producer_consumer` (and of `cross_thread_free`): always 64 B.
fn fixed_object_size(_: &mut Rng) -> usize {
    CROSS_OBJECT_BYTES
}

/// What a `producer_consumer` thread is: workers `0..pairs` produce, `pairs..2*pairs` consume.
enum Role<'a, A: GlobalAlloc> {
    Producer(SyncSender<Batch<'a, A>>, Rng),
    Consumer(Receiver<Batch<'a, A>>),
}

/// `producer_consumer`: `pairs` producer threads allocate objects of `size(rng)` bytes, write to them,
/// and send them in batches of [`PC_BATCH`] over a bounded channel ([`PC_IN_FLIGHT`] batches) to their
/// own consumer thread, which reads and frees them: every allocation happens on a producer, every free
/// on a consumer. Each producer sends [`PC_OBJECTS_PER_ROUND`] objects per round; `2 * pairs` threads
/// run at once.
pub fn producer_consumer<A: GlobalAlloc + Sync>(
    alloc: &A,
    pairs: usize,
    rounds: u64,
    size: fn(&mut Rng) -> usize,
) -> Result<(Duration, u64), SpawnError> {
    type Channel<'a, A> = (SyncSender<Batch<'a, A>>, Receiver<Batch<'a, A>>);
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..pairs)
        .map(|_| -> Channel<'_, A> { sync_channel(PC_IN_FLIGHT) })
        .unzip();
    let (senders, receivers) = (handed_out(senders), handed_out(receivers));
    let batches = rounds * (PC_OBJECTS_PER_ROUND / PC_BATCH) as u64;
    run_workers(
        2 * pairs,
        |i| {
            if i < pairs {
                Role::Producer(take_once(&senders[i]), Rng::new(i as u64 + 1))
            } else {
                Role::Consumer(take_once(&receivers[i - pairs]))
            }
        },
        |_, role| match role {
            Role::Producer(consumer, rng) => {
                let mut sum = 0u64;
                for b in 0..batches {
                    let mut batch = AVec::with_capacity_in(PC_BATCH, Api2(alloc));
                    for j in 0..PC_BATCH {
                        let mut block = HeapBlock::new(alloc, size(rng));
                        sum = sum.wrapping_add(write_block(&mut block, b ^ j as u64));
                        batch.push(block);
                    }
                    consumer.send(batch).expect("the consumer is alive");
                }
                sum
            }
            Role::Consumer(producer) => {
                let mut sum = 0u64;
                for _ in 0..batches {
                    let mut batch = producer.recv().expect("the producer is alive");
                    for block in batch.iter_mut() {
                        sum = sum.wrapping_add(read_block(block));
                    }
                    // Dropping the batch frees every object on this, the consuming, thread.
                    drop(batch);
                }
                sum
            }
        },
    )
}

/// Reads back what [`write_block`] wrote: the first word and the last byte.
#[inline(always)]
fn read_block(block: &mut HeapBlock<'_, impl GlobalAlloc>) -> u64 {
    let len = block.len();
    let ptr = black_box(block.as_mut_ptr());
    // SAFETY: `write_block` initialised the first word and the last byte of this block.
    unsafe { ptr.cast::<u64>().read_unaligned() + u64::from(ptr.add(len - 1).read()) }
}

/// `thread_churn`: `rounds` generations of `threads` short-lived threads. Each thread frees the objects
/// that the previous generation's thread of the same index handed on (allocated by a thread that has
/// exited), allocates [`CHURN_OBJECTS`] objects of 16..=1024 B, writes to them, frees half, hands the
/// other half to the next generation, and exits. The time covers everything: spawning and joining
/// every thread, the allocations and frees, and freeing the last generation's hand-over at the end.
pub fn thread_churn<A: GlobalAlloc + Sync>(
    alloc: &A,
    threads: usize,
    rounds: u64,
) -> Result<(Duration, u64), SpawnError> {
    // Two hand-over buffers, alternating by generation, so no thread can take its own generation's.
    let handover: [Vec<std::sync::Mutex<Option<Batch<'_, A>>>>; 2] =
        std::array::from_fn(|_| (0..threads).map(|_| std::sync::Mutex::new(None)).collect());
    let start = Instant::now();
    let mut sum = 0u64;
    for round in 0..rounds {
        let (inherit, pass_on) = (
            &handover[round as usize % 2],
            &handover[1 - round as usize % 2],
        );
        sum = sum.wrapping_add(std::thread::scope(|scope| {
            let mut handles = Vec::with_capacity(threads);
            for i in 0..threads {
                let spawned = std::thread::Builder::new().spawn_scoped(scope, move || {
                    let mut sum = 0u64;
                    if let Some(mut inherited) = inherit[i].lock().expect("not poisoned").take() {
                        for block in inherited.iter_mut() {
                            sum = sum.wrapping_add(read_block(block));
                        }
                    }
                    let mut rng = Rng::new(round * threads as u64 + i as u64 + 1);
                    let mut kept = AVec::with_capacity_in(CHURN_OBJECTS / 2, Api2(alloc));
                    let mut handed = AVec::with_capacity_in(CHURN_OBJECTS / 2, Api2(alloc));
                    for j in 0..CHURN_OBJECTS {
                        let mut block = HeapBlock::new(alloc, rng.small_size());
                        sum = sum.wrapping_add(write_block(&mut block, j as u64));
                        if j % 2 == 0 { &mut kept } else { &mut handed }.push(block);
                    }
                    drop(kept);
                    *pass_on[i].lock().expect("not poisoned") = Some(handed);
                    sum
                });
                match spawned {
                    Ok(handle) => handles.push(handle),
                    // The threads already started run to their end; the scope joins them.
                    Err(e) => {
                        return Err(SpawnError(format!(
                            "cannot start thread {} of {threads} (generation {round}): {e}",
                            i + 1
                        )));
                    }
                }
            }
            Ok(handles
                .into_iter()
                .map(|h| h.join().expect("thread_churn thread panicked"))
                .fold(0u64, u64::wrapping_add))
        })?);
    }
    for slot in handover.iter().flatten() {
        drop(slot.lock().expect("not poisoned").take());
    }
    Ok((start.elapsed(), sum))
}

/// `rayon_collect`: a rayon pool of `threads` threads maps [`RAYON_ITEMS`] items to freshly allocated
/// buffers (16..1024 B, in `alloc`) and collects them into a vector, every round; the next round's
/// collect drops the previous buffers. Timed inside the pool, around all rounds.
pub fn rayon_collect<A: GlobalAlloc + Sync>(
    alloc: &A,
    threads: usize,
    rounds: u64,
) -> Result<(Duration, u64), SpawnError> {
    use rayon::prelude::*;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| {
            SpawnError(format!(
                "cannot start a rayon pool of {threads} threads: {e}"
            ))
        })?;
    let sizes: Vec<usize> = {
        let mut rng = Rng::new(7);
        (0..RAYON_ITEMS).map(|_| rng.small_size()).collect()
    };
    // Output capacity reserved outside the timed region, so that each round's collect allocates
    // nothing but the items themselves.
    let mut out: Vec<HeapBlock<'_, A>> = Vec::with_capacity(RAYON_ITEMS);
    pool.install(|| {
        let start = Instant::now();
        let mut sum = 0u64;
        for round in 0..rounds {
            sizes
                .par_iter()
                .enumerate()
                .map(|(i, &size)| {
                    let mut block = HeapBlock::new(alloc, size);
                    write_block(&mut block, round ^ i as u64);
                    block
                })
                .collect_into_vec(&mut out);
            sum = sum.wrapping_add(out.len() as u64);
        }
        let elapsed = start.elapsed();
        out.clear();
        Ok((elapsed, sum))
    })
}

/// Runs `workload` through the allocator named `kind`.
pub fn run_named(
    kind: AllocatorKind,
    workload: Workload,
    threads: usize,
    rounds: u64,
) -> Result<(Duration, u64), SpawnError> {
    struct Run(Workload, usize, u64);
    impl AllocatorVisitor for Run {
        type Output = Result<(Duration, u64), SpawnError>;
        fn visit<A: NamedAllocator>(self, alloc: &'static A) -> Self::Output {
            self.0.run(alloc, self.1, self.2)
        }
    }
    kind.visit(Run(workload, threads, rounds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_derived_order_is_the_order_reports_list() {
        assert!(Workload::ALL.is_sorted());
    }
    use crate::workload::allocators::{Counting, Jemalloc, MiMalloc, System};
    use std::collections::{HashMap, HashSet};
    use std::sync::Mutex;
    use std::thread::ThreadId;

    #[test]
    fn every_workload_frees_everything_it_allocates_through_the_named_allocator() {
        for workload in Workload::ALL {
            for threads in [1, 3] {
                let counting = Counting::new(MiMalloc);
                let (elapsed, sum) = workload.run(&counting, threads, 2).unwrap();
                let c = counting.counts();
                assert!(c.balanced(), "{} t{threads}: {c:?}", workload.name());
                assert!(sum > 0 && elapsed > Duration::ZERO, "{}", workload.name());
                if workload == Workload::StackControl {
                    assert_eq!(c.allocs, 0, "stack_control must not touch the heap");
                } else {
                    // Each round really allocates: at least one block per replacement / object / item.
                    let per_round = workload.ops_per_round(threads) / 2;
                    assert!(
                        c.allocs >= 2 * per_round,
                        "{} t{threads}: {c:?}",
                        workload.name()
                    );
                }
            }
        }
    }

    #[test]
    fn ops_per_round_counts_allocations_and_frees() {
        let counting = Counting::new(Jemalloc);
        local_churn(&counting, 2, 3).unwrap();
        let c = counting.counts();
        // 3 rounds of replacements (one alloc + one free each), plus setup: SLOTS blocks + the table.
        let setup = 2 * (SLOTS as u64 + 1);
        assert_eq!(
            c.allocs + c.frees,
            3 * Workload::LocalChurn.ops_per_round(2) + 2 * setup
        );
    }

    /// Records which thread allocated each block, counts frees made by another thread, and the sets of
    /// threads that allocated and that freed.
    struct ThreadTracking<A> {
        inner: A,
        owners: Mutex<HashMap<usize, ThreadId>>,
        allocating_threads: Mutex<HashSet<ThreadId>>,
        freeing_threads: Mutex<HashSet<ThreadId>>,
        remote_frees: std::sync::atomic::AtomicU64,
        local_frees: std::sync::atomic::AtomicU64,
    }

    unsafe impl<A: GlobalAlloc> GlobalAlloc for ThreadTracking<A> {
        unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
            let ptr = unsafe { self.inner.alloc(layout) };
            let me = std::thread::current().id();
            self.owners.lock().unwrap().insert(ptr as usize, me);
            self.allocating_threads.lock().unwrap().insert(me);
            ptr
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
            self.freeing_threads
                .lock()
                .unwrap()
                .insert(std::thread::current().id());
            let owner = self.owners.lock().unwrap().remove(&(ptr as usize));
            let counter = if owner == Some(std::thread::current().id()) {
                &self.local_frees
            } else {
                &self.remote_frees
            };
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            unsafe { self.inner.dealloc(ptr, layout) }
        }
    }

    fn tracking() -> ThreadTracking<System> {
        ThreadTracking {
            inner: System,
            owners: Mutex::new(HashMap::new()),
            allocating_threads: Mutex::new(HashSet::new()),
            freeing_threads: Mutex::new(HashSet::new()),
            remote_frees: 0.into(),
            local_frees: 0.into(),
        }
    }

    #[test]
    fn cross_thread_free_frees_every_object_on_another_thread() {
        for threads in [2, 4] {
            let alloc = tracking();
            cross_thread_free(&alloc, threads, 3).unwrap();
            let remote = alloc.remote_frees.into_inner();
            assert_eq!(alloc.local_frees.into_inner(), 0, "t{threads}");
            // Objects plus the batch vectors that carry them.
            assert_eq!(remote, (threads * 3 * (BATCH + 1)) as u64, "t{threads}");
        }
    }

    #[test]
    fn producer_consumer_allocates_only_on_producers_and_frees_only_on_consumers() {
        for (pairs, size) in [
            (1, fixed_object_size as fn(&mut Rng) -> usize),
            (3, Rng::small_size),
        ] {
            let alloc = tracking();
            producer_consumer(&alloc, pairs, 2, size).unwrap();
            let allocating = alloc.allocating_threads.into_inner().unwrap();
            let freeing = alloc.freeing_threads.into_inner().unwrap();
            assert_eq!(
                allocating.len(),
                pairs,
                "one allocating thread per producer"
            );
            assert_eq!(freeing.len(), pairs, "one freeing thread per consumer");
            assert!(
                allocating.is_disjoint(&freeing),
                "no thread both allocates and frees"
            );
            assert!(
                alloc.owners.into_inner().unwrap().is_empty(),
                "everything is freed"
            );
            // Objects plus the batch vectors that carry them, every one freed remotely.
            let batches = pairs * 2 * PC_OBJECTS_PER_ROUND / PC_BATCH;
            assert_eq!(alloc.local_frees.into_inner(), 0);
            assert_eq!(
                alloc.remote_frees.into_inner(),
                (pairs * 2 * PC_OBJECTS_PER_ROUND + batches) as u64
            );
        }
    }

    #[test]
    fn thread_churn_balances_and_frees_half_of_each_generation_on_another_thread() {
        let (threads, rounds) = (3, 4);
        let counting = Counting::new(Jemalloc);
        thread_churn(&counting, threads, rounds).unwrap();
        let c = counting.counts();
        assert!(c.balanced(), "{c:?}");
        // Objects plus two vectors (kept, handed on) per thread and generation.
        assert_eq!(
            c.allocs,
            rounds * threads as u64 * (CHURN_OBJECTS as u64 + 2)
        );
        let alloc = tracking();
        thread_churn(&alloc, threads, rounds).unwrap();
        let half = rounds * threads as u64 * (CHURN_OBJECTS as u64 / 2 + 1);
        assert_eq!(alloc.local_frees.into_inner(), half, "the kept half");
        assert_eq!(alloc.remote_frees.into_inner(), half, "the half handed on");
        // Every generation is a new set of threads.
        assert_eq!(
            alloc.allocating_threads.into_inner().unwrap().len(),
            rounds as usize * threads
        );
    }

    #[test]
    fn a_thread_that_cannot_start_ends_the_run_with_an_error_not_a_hang() {
        // A stack larger than the address space makes the third spawn fail, as a process limit would;
        // the two workers already waiting at the start line must be released.
        let started = std::sync::atomic::AtomicUsize::new(0);
        let result = run_workers_with_stacks(
            3,
            |i| (i == 2).then_some(1 << 50),
            |_| {
                started.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            },
            |_, _| 1,
        );
        let err = result.unwrap_err();
        assert!(err.0.starts_with("cannot start thread 3 of 3"), "{err}");
        assert!(err.to_string().contains("STACKHEAP_THREADS"));
        assert_eq!(started.into_inner(), 2);
    }

    #[test]
    fn larson_first_frees_are_remote_and_local_churn_never_crosses_threads() {
        let alloc = tracking();
        larson(&alloc, 2, 1).unwrap();
        // Every slot was filled by another thread; most are replaced (remote free), the rest are
        // freed at the end by their new owner (still remote).
        assert!(alloc.remote_frees.into_inner() >= SLOTS as u64);
        let alloc = tracking();
        local_churn(&alloc, 2, 1).unwrap();
        assert_eq!(alloc.remote_frees.into_inner(), 0);
    }

    #[test]
    fn workers_run_with_more_threads_than_cores() {
        let cores = crate::harness::machine::available_cores();
        let (_, sum) = stack_control(2 * cores + 1, 1).unwrap();
        assert!(sum > 0);
        let counting = Counting::new(System);
        cross_thread_free(&counting, 2 * cores + 1, 1).unwrap();
        assert!(counting.counts().balanced());
    }

    #[test]
    fn sizes_stay_in_range_and_skew_small() {
        let mut rng = Rng::new(1);
        let sizes: Vec<usize> = (0..10_000).map(|_| rng.small_size()).collect();
        assert!(sizes.iter().all(|&s| (16..=1024).contains(&s)));
        assert!(sizes.iter().filter(|&&s| s < 32).count() > 4000);
        assert!(
            (0..10_000)
                .map(|_| rng.larson_size())
                .all(|s| (8..=1000).contains(&s))
        );
    }
}
