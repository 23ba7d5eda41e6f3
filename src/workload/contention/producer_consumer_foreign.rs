//! `producer_consumer_foreign`: `producer_consumer` whose consumers are threads started outside Rust's
//! standard library (with `pthread_create`, as a C library starts its own) that never allocate: they
//! only free. xmalloc-test's consumers are such threads.
//!
//! Why it is a workload of its own: an allocator may treat a thread that has never allocated apart.
//! jemalloc 5.3.0 keeps such a thread's state "minimal" and frees without a thread cache there, a lock
//! per free, where a thread that has allocated once frees through its cache
//! (`results/2026-12-02-epyc-2vcpu-library-allocators.md`: 2.5-3.4x in xmalloc-test). A thread
//! started by `std::thread` always has allocated before it runs its closure (the C library registers
//! its thread-local destructors with `calloc`), so `producer_consumer` never shows it. The consumers
//! here touch nothing of the standard library that allocates or keeps per-thread state: their queue
//! is a futex-based `Mutex` and `Condvar`, their clock `Instant`.

use super::blocks::{Batch, Rng};
use super::cross_thread_free::fixed_object_size;
use super::producer_consumer::{
    PC_BATCH, PC_IN_FLIGHT, PC_OBJECTS_PER_ROUND, ProducerConsumer, fresh_batch,
};
use super::{ContentionWorkload, RunResult, SpawnError, run_workers};
use std::alloc::GlobalAlloc;
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};
use std::time::Instant;

pub struct ProducerConsumerForeign;

impl ContentionWorkload for ProducerConsumerForeign {
    const NAME: &'static str = "producer_consumer_foreign";
    const NOTE: Option<&'static str> = Some(
        "producer_consumer with consumers started by pthread_create, as a C library's threads are, that never allocate (xmalloc-test's consumers): an allocator may free slower on a thread that has never allocated (jemalloc 5.3.0 takes a lock per free there). t<P> is P producers and P consumers.",
    );

    fn ops_per_round(pairs: usize) -> u64 {
        ProducerConsumer::ops_per_round(pairs)
    }

    fn os_threads(pairs: usize) -> usize {
        ProducerConsumer::os_threads(pairs)
    }

    fn run<A: GlobalAlloc + Sync>(alloc: &A, pairs: usize, rounds: u64) -> RunResult {
        producer_consumer_foreign(alloc, pairs, rounds)
    }
}

/// The batches in flight between one producer and its consumer, at most [`PC_IN_FLIGHT`], and
/// whether the producer has sent its last.
struct Queue<'a, A: GlobalAlloc> {
    state: Mutex<(VecDeque<Batch<'a, A>>, bool)>,
    not_empty: Condvar,
    not_full: Condvar,
}

/// What a consumer thread is given: its queue, and where it writes when it ended and what it freed.
struct Consumer<'q, 'a, A: GlobalAlloc> {
    queue: &'q Queue<'a, A>,
    ended: Option<(Instant, u64)>,
}

/// A consumer's body: frees every batch its queue delivers until the producer is done. Nothing here
/// allocates.
fn consume<A: GlobalAlloc>(consumer: &mut Consumer<'_, '_, A>) {
    let mut freed = 0u64;
    loop {
        let mut state = consumer.queue.state.lock().unwrap_or_else(|e| e.into_inner());
        while state.0.is_empty() && !state.1 {
            state = consumer
                .queue
                .not_empty
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        }
        let Some(batch) = state.0.pop_front() else {
            break;
        };
        drop(state);
        consumer.queue.not_full.notify_one();
        freed += batch.iter().map(|block| block.len() as u64).sum::<u64>();
        // Dropping the batch frees every object on this thread, which has allocated nothing.
        drop(batch);
    }
    consumer.ended = Some((Instant::now(), freed));
}

/// The entry of a consumer thread started with `pthread_create`.
extern "C" fn consumer_main<A: GlobalAlloc>(arg: *mut libc::c_void) -> *mut libc::c_void {
    // SAFETY: `arg` is the `Consumer` the starting thread keeps alive until it has joined this one.
    let consumer = unsafe { &mut *arg.cast::<Consumer<'_, '_, A>>() };
    // A panic must not unwind into C: end the process instead (none is expected: nothing here fails).
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| consume(consumer))).is_err() {
        std::process::abort();
    }
    std::ptr::null_mut()
}

/// `producer_consumer_foreign`: as `producer_consumer` (64 B objects in batches of [`PC_BATCH`], at
/// most [`PC_IN_FLIGHT`] in flight per pair), the consumers started with `pthread_create` and never
/// allocating. Timed from the producers' earliest start to the consumers' latest end.
pub fn producer_consumer_foreign<A: GlobalAlloc + Sync>(
    alloc: &A,
    pairs: usize,
    rounds: u64,
) -> RunResult {
    let queues: Vec<Queue<'_, A>> = (0..pairs)
        .map(|_| Queue {
            state: Mutex::new((VecDeque::with_capacity(PC_IN_FLIGHT), false)),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
        })
        .collect();
    let mut consumers: Vec<Consumer<'_, '_, A>> = queues
        .iter()
        .map(|queue| Consumer {
            queue,
            ended: None,
        })
        .collect();
    let mut started = Vec::with_capacity(pairs);
    let mut failed = None;
    for consumer in consumers.iter_mut() {
        let mut thread: libc::pthread_t = 0;
        let arg = std::ptr::from_mut(consumer).cast::<libc::c_void>();
        // SAFETY: default attributes; `consumer_main::<A>` reads `arg`, which outlives the thread
        // (joined below before `consumers` is dropped).
        let error = unsafe {
            libc::pthread_create(&mut thread, std::ptr::null(), consumer_main::<A>, arg)
        };
        if error != 0 {
            failed = Some(SpawnError(format!(
                "cannot start consumer thread {} of {pairs}: {}",
                started.len() + 1,
                std::io::Error::from_raw_os_error(error)
            )));
            break;
        }
        started.push(thread);
    }
    let first_start = Mutex::new(None::<Instant>);
    let batches = rounds * (PC_OBJECTS_PER_ROUND / PC_BATCH) as u64;
    let produced = if failed.is_none() {
        run_workers(
            pairs,
            |i| Rng::new(i as u64 + 1),
            |i, rng| {
                let start = Instant::now();
                let mut first = first_start.lock().unwrap_or_else(|e| e.into_inner());
                *first = Some(first.map_or(start, |f: Instant| f.min(start)));
                drop(first);
                send_batches(alloc, &queues[i], rng, batches)
            },
        )
    } else {
        Ok(Default::default())
    };
    // Whatever happened, every started consumer is told the producer is done and joined.
    for queue in &queues {
        queue.state.lock().unwrap_or_else(|e| e.into_inner()).1 = true;
        queue.not_empty.notify_all();
    }
    for thread in started {
        // SAFETY: a thread this function started and has not joined.
        unsafe { libc::pthread_join(thread, std::ptr::null_mut()) };
    }
    if let Some(error) = failed {
        return Err(error);
    }
    let (_, written) = produced?;
    let start = first_start
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .expect("a producer started");
    let (end, freed) = consumers.iter().fold((start, 0), |(end, freed), c| {
        let (ended, f) = c.ended.expect("a joined consumer ended");
        (end.max(ended), freed + f)
    });
    Ok((end - start, written.wrapping_add(freed)))
}

/// A producer's body: `batches` batches of [`PC_BATCH`] fresh, written objects, each sent when the
/// queue has room.
fn send_batches<'a, A: GlobalAlloc>(
    alloc: &'a A,
    queue: &Queue<'a, A>,
    rng: &mut Rng,
    batches: u64,
) -> u64 {
    let mut sum = 0u64;
    for b in 0..batches {
        let (batch, written) = fresh_batch(alloc, rng, fixed_object_size, b);
        sum = sum.wrapping_add(written);
        let mut state = queue.state.lock().unwrap_or_else(|e| e.into_inner());
        while state.0.len() >= PC_IN_FLIGHT {
            state = queue.not_full.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.0.push_back(batch);
        drop(state);
        queue.not_empty.notify_one();
    }
    sum
}
