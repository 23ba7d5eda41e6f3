//! `rayon_collect`: a rayon pool mapping items to freshly allocated buffers and collecting them, the
//! way data-parallel Rust code allocates.

use super::blocks::{Rng, write_block};
use super::{ContentionWorkload, RunResult, SpawnError};
use crate::workload::arrays::HeapBlock;
use std::alloc::GlobalAlloc;
use std::time::Instant;

/// Items each round maps to a fresh buffer.
pub const RAYON_ITEMS: usize = 4096;

pub struct RayonCollect;

impl ContentionWorkload for RayonCollect {
    const NAME: &'static str = "rayon_collect";

    /// Every item is allocated and freed once per round, whatever the pool's size.
    fn ops_per_round(_: usize) -> u64 {
        2 * RAYON_ITEMS as u64
    }

    fn run<A: GlobalAlloc + Sync>(alloc: &A, threads: usize, rounds: u64) -> RunResult {
        rayon_collect(alloc, threads, rounds)
    }
}

/// `rayon_collect`: a rayon pool of `threads` threads maps [`RAYON_ITEMS`] items to freshly allocated
/// buffers (16..1024 B, in `alloc`) and collects them into a vector, every round; the next round's
/// collect drops the previous buffers. Timed inside the pool, around all rounds.
pub fn rayon_collect<A: GlobalAlloc + Sync>(
    alloc: &A,
    threads: usize,
    rounds: u64,
) -> RunResult {
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

