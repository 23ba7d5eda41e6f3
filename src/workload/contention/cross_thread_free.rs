//! `cross_thread_free`: threads in a ring; each allocates batches and hands them to the next, which
//! frees them, so with two or more threads every free is remote.

use super::blocks::{Batch, Rng, write_block};
use super::runner::{handed_out, take_once};
use super::{ContentionWorkload, RunResult, run_workers};
use crate::workload::allocators::Api2;
use crate::workload::arrays::HeapBlock;
use allocator_api2::vec::Vec as AVec;
use std::alloc::GlobalAlloc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Objects per hand-over: one channel message carries this many allocations.
pub const BATCH: usize = 4096;
/// Size of each object (xmalloc-test's size class); `producer_consumer` uses it too.
pub const CROSS_OBJECT_BYTES: usize = 64;

pub struct CrossThreadFree;

impl ContentionWorkload for CrossThreadFree {
    const NAME: &'static str = "cross_thread_free";
    const HAS_STACK_CONTROL_LINE: bool = true;
    const IN_GATE: bool = true;

    fn ops_per_round(threads: usize) -> u64 {
        2 * BATCH as u64 * threads as u64
    }

    fn run<A: GlobalAlloc + Sync>(alloc: &A, threads: usize, rounds: u64) -> RunResult {
        cross_thread_free(alloc, threads, rounds)
    }
}

/// The object size of `producer_consumer` (and of `cross_thread_free`): always 64 B.
pub fn fixed_object_size(_: &mut Rng) -> usize {
    CROSS_OBJECT_BYTES
}

/// `cross_thread_free`: the threads form a ring; each round every thread allocates a batch of
/// [`BATCH`] 64 B objects, writes to them, hands the batch to the next thread in one message, and frees
/// the batch it receives from the previous one. With two or more threads every free is remote; with
/// one thread the ring closes on itself and the frees are local (the single-thread baseline).
pub fn cross_thread_free<A: GlobalAlloc + Sync>(
    alloc: &A,
    threads: usize,
    rounds: u64,
) -> RunResult {
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

