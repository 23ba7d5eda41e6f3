//! `thread_churn`: generations of short-lived threads; each allocates a working set, keeps half,
//! hands half to the next generation, and exits (mstress's shape). Thread creation is part of the
//! pattern and of the time.

use super::blocks::{Batch, Rng, read_block, write_block};
use super::{ContentionWorkload, RunResult, SpawnError};
use crate::workload::allocators::Api2;
use crate::workload::arrays::HeapBlock;
use allocator_api2::vec::Vec as AVec;
use std::alloc::GlobalAlloc;
use std::time::Instant;

/// Objects each thread allocates in its short life; it frees half and hands half on.
pub const CHURN_OBJECTS: usize = 512;

pub struct ThreadChurn;

impl ContentionWorkload for ThreadChurn {
    const NAME: &'static str = "thread_churn";
    const NOTE: Option<&'static str> = Some(
        "Each round is a generation of short-lived threads; the time includes spawning and joining them. Half of each thread's objects are freed by the next generation, after their allocating thread has exited.",
    );
    const IN_LATENCY: bool = true;
    const IN_MEMORY_FINDINGS: bool = true;

    fn ops_per_round(threads: usize) -> u64 {
        2 * CHURN_OBJECTS as u64 * threads as u64
    }

    fn run<A: GlobalAlloc + Sync>(alloc: &A, threads: usize, rounds: u64) -> RunResult {
        thread_churn(alloc, threads, rounds)
    }
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
) -> RunResult {
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

