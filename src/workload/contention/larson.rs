//! `larson`: random slot replacement on slots first filled by another thread, so the first frees of
//! every slot are remote (the larson benchmark's shape).

use super::blocks::{REPLACEMENTS_PER_ROUND, Rng, Slots, fill_slots, replace_randomly};
use super::runner::take_once;
use super::{ContentionWorkload, RunResult, run_workers};
use std::alloc::GlobalAlloc;

pub struct Larson;

impl ContentionWorkload for Larson {
    const NAME: &'static str = "larson";
    const HAS_STACK_CONTROL_LINE: bool = true;
    const IN_GATE: bool = true;
    const IN_MEMORY_FINDINGS: bool = true;

    fn ops_per_round(threads: usize) -> u64 {
        2 * REPLACEMENTS_PER_ROUND as u64 * threads as u64
    }

    fn run<A: GlobalAlloc + Sync>(alloc: &A, threads: usize, rounds: u64) -> RunResult {
        larson(alloc, threads, rounds)
    }
}

/// `larson`: like `local_churn` with larson's 8..1000 B sizes, but each thread's slots were first
/// filled by another thread (thread i+1 fills thread i's slots during setup; with one thread, the main
/// thread fills them), so the first frees of every slot are remote. A worker takes its slots at the
/// start line, when every setup has run, and puts them back at the end: they are freed after timing.
pub fn larson<A: GlobalAlloc + Sync>(
    alloc: &A,
    threads: usize,
    rounds: u64,
) -> RunResult {
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

