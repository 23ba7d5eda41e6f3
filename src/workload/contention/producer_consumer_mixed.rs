//! `producer_consumer_mixed`: `producer_consumer` with mixed sizes, 16..=1024 B, skewed toward small.

use super::blocks::Rng;
use super::producer_consumer::{PAIRS_NOTE, ProducerConsumer, producer_consumer};
use super::{ContentionWorkload, RunResult};
use std::alloc::GlobalAlloc;

pub struct ProducerConsumerMixed;

impl ContentionWorkload for ProducerConsumerMixed {
    const NAME: &'static str = "producer_consumer_mixed";
    const NOTE: Option<&'static str> = Some(PAIRS_NOTE);

    fn ops_per_round(pairs: usize) -> u64 {
        ProducerConsumer::ops_per_round(pairs)
    }

    fn os_threads(pairs: usize) -> usize {
        ProducerConsumer::os_threads(pairs)
    }

    fn run<A: GlobalAlloc + Sync>(alloc: &A, pairs: usize, rounds: u64) -> RunResult {
        producer_consumer(alloc, pairs, rounds, Rng::small_size)
    }
}
