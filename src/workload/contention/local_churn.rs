//! `local_churn`: each thread replaces random blocks of its own working set; no object crosses
//! threads, only the allocator's shared state is shared.

use super::blocks::{REPLACEMENTS_PER_ROUND, Rng, fill_slots, replace_randomly};
use super::{ContentionWorkload, RunResult, run_workers};
use std::alloc::GlobalAlloc;

pub struct LocalChurn;

impl ContentionWorkload for LocalChurn {
    const NAME: &'static str = "local_churn";
    const HAS_STACK_CONTROL_LINE: bool = true;
    const IN_LATENCY: bool = true;
    const IN_GATE: bool = true;

    fn ops_per_round(threads: usize) -> u64 {
        2 * REPLACEMENTS_PER_ROUND as u64 * threads as u64
    }

    fn run<A: GlobalAlloc + Sync>(alloc: &A, threads: usize, rounds: u64) -> RunResult {
        local_churn(alloc, threads, rounds)
    }
}

/// `local_churn`: each thread fills its own working set, then replaces random blocks with new ones of
/// random small size. Only the allocator's shared state is shared.
pub fn local_churn<A: GlobalAlloc + Sync>(
    alloc: &A,
    threads: usize,
    rounds: u64,
) -> RunResult {
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

