//! `producer_consumer`: P producer threads allocate 64 B objects and send them in batches to P
//! consumer threads that free them (xmalloc-test's shape, the consumers std threads that have
//! allocated, as every thread of a Rust program has).

use super::blocks::{Batch, Rng, write_block};
use super::cross_thread_free::fixed_object_size;
use super::runner::{handed_out, take_once};
use super::{ContentionWorkload, RunResult, run_workers};
use crate::workload::allocators::Api2;
use crate::workload::arrays::HeapBlock;
use allocator_api2::vec::Vec as AVec;
use std::alloc::GlobalAlloc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Objects per message: a batch, as a request queue or a logger hands them over.
pub const PC_BATCH: usize = 256;
/// Objects each producer allocates (and its consumer frees) per round.
pub const PC_OBJECTS_PER_ROUND: usize = 16 * PC_BATCH;
/// Batches a producer may have in flight before it waits for its consumer: memory stays bounded and
/// producers cannot run ahead of the frees they cause.
pub const PC_IN_FLIGHT: usize = 4;

/// What a reader of either producer/consumer workload must know.
pub const PAIRS_NOTE: &str = "t<P> is P producer threads that allocate and P consumer threads that free (2P threads in all); objects travel in batches of 256 over a bounded channel.";

pub struct ProducerConsumer;

impl ContentionWorkload for ProducerConsumer {
    const NAME: &'static str = "producer_consumer";
    const NOTE: Option<&'static str> = Some(PAIRS_NOTE);
    const IN_LATENCY: bool = true;
    const IN_GATE: bool = true;
    const IN_MEMORY_FINDINGS: bool = true;

    fn ops_per_round(pairs: usize) -> u64 {
        2 * PC_OBJECTS_PER_ROUND as u64 * pairs as u64
    }

    /// The thread count is the number of producer/consumer pairs: `t2` is 4 threads.
    fn os_threads(pairs: usize) -> usize {
        2 * pairs
    }

    fn run<A: GlobalAlloc + Sync>(alloc: &A, pairs: usize, rounds: u64) -> RunResult {
        producer_consumer(alloc, pairs, rounds, fixed_object_size)
    }
}

/// What a `producer_consumer` thread is: workers `0..pairs` produce, `pairs..2*pairs` consume.
enum Role<'a, A: GlobalAlloc> {
    Producer(SyncSender<Batch<'a, A>>, Rng),
    Consumer(Receiver<Batch<'a, A>>),
}

/// `producer_consumer`: `pairs` producer threads allocate objects of `size(rng)` bytes, write to them,
/// and send them in batches of [`PC_BATCH`] over a bounded channel ([`PC_IN_FLIGHT`] batches) to their
/// own consumer thread, which frees them without reading them: every allocation of the run happens on a
/// producer, every free on a consumer (each consumer allocated one block before, untimed).
///
/// The consumer does not read the objects, as xmalloc-test's does not: a read moves each object's cache
/// line to the consumer's core, a cost of the pipeline that every allocator pays alike and that hid a
/// threefold difference between two builds of jemalloc (`results/2026-12-02-epyc-2vcpu-library-allocators.md`);
/// what is measured here is the allocator's part, including whatever its `free` touches. Each producer sends [`PC_OBJECTS_PER_ROUND`] objects per round; `2 * pairs` threads
/// run at once.
pub fn producer_consumer<A: GlobalAlloc + Sync>(
    alloc: &A,
    pairs: usize,
    rounds: u64,
    size: fn(&mut Rng) -> usize,
) -> RunResult {
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
                // Untimed: the consumer allocates one block through the allocator and frees it, as
                // every thread of a program whose global allocator this is has allocated (the
                // standard library's per-thread state) before it frees. An allocator may free
                // differently on a thread it has never served: `producer_consumer_foreign` measures that.
                drop(HeapBlock::new(alloc, size(&mut Rng::new(0))));
                Role::Consumer(take_once(&receivers[i - pairs]))
            }
        },
        |_, role| match role {
            Role::Producer(consumer, rng) => {
                let mut sum = 0u64;
                for b in 0..batches {
                    let (batch, written) = fresh_batch(alloc, rng, size, b);
                    sum = sum.wrapping_add(written);
                    consumer.send(batch).expect("the consumer is alive");
                }
                sum
            }
            Role::Consumer(producer) => {
                // The sum of the freed blocks' lengths, which the consumer knows without touching them.
                let mut freed = 0u64;
                for _ in 0..batches {
                    let batch = producer.recv().expect("the producer is alive");
                    freed += batch.iter().map(|block| block.len() as u64).sum::<u64>();
                    // Dropping the batch frees every object on this, the consuming, thread.
                    drop(batch);
                }
                freed
            }
        },
    )
}

/// Batch `b` of a producer: [`PC_BATCH`] fresh objects of `size(rng)` bytes, each written, and the sum
/// of what was written.
pub(super) fn fresh_batch<'a, A: GlobalAlloc>(
    alloc: &'a A,
    rng: &mut Rng,
    size: fn(&mut Rng) -> usize,
    b: u64,
) -> (Batch<'a, A>, u64) {
    let mut sum = 0u64;
    let mut batch = AVec::with_capacity_in(PC_BATCH, Api2(alloc));
    for j in 0..PC_BATCH {
        let mut block = HeapBlock::new(alloc, size(rng));
        sum = sum.wrapping_add(write_block(&mut block, b ^ j as u64));
        batch.push(block);
    }
    (batch, sum)
}
