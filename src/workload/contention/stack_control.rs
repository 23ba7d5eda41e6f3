//! `stack_control`: `local_churn`'s random choices and writes on a stack buffer, with no allocator at
//! all: the ideal line the heap workloads are read against.

use super::blocks::{REPLACEMENTS_PER_ROUND, Rng};
use super::{ContentionWorkload, RunResult, run_workers};
use std::alloc::GlobalAlloc;
use std::hint::black_box;

pub struct StackControl;

impl ContentionWorkload for StackControl {
    const NAME: &'static str = "stack_control";
    const ALLOCATES: bool = false;

    /// The operations it stands in for (`local_churn`'s), so its line is read on the same scale.
    fn ops_per_round(threads: usize) -> u64 {
        2 * REPLACEMENTS_PER_ROUND as u64 * threads as u64
    }

    /// Runs the same code whatever `alloc` is: it never allocates.
    fn run<A: GlobalAlloc + Sync>(_: &A, threads: usize, rounds: u64) -> RunResult {
        stack_control(threads, rounds)
    }
}

/// `stack_control`: `local_churn`'s per-operation work (random slot, random size, two writes) on a
/// stack buffer: no allocator at all, so it scales with the cores alone. The ideal line.
pub fn stack_control(threads: usize, rounds: u64) -> RunResult {
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

