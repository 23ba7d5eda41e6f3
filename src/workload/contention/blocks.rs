//! What the contention workloads share: the generator of their random choices and sizes, the blocks
//! they write and read back, and the working set of slots `local_churn` and `larson` replace.

use crate::workload::allocators::Api2;
use crate::workload::arrays::HeapBlock;
use allocator_api2::vec::Vec as AVec;
use std::alloc::GlobalAlloc;
use std::hint::black_box;

/// Blocks each `local_churn`/`larson` thread keeps alive.
pub const SLOTS: usize = 512;
/// Free + allocate pairs per thread per round.
pub const REPLACEMENTS_PER_ROUND: usize = 1000;

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
pub fn write_block(block: &mut HeapBlock<'_, impl GlobalAlloc>, value: u64) -> u64 {
    let len = block.len();
    let ptr = black_box(block.as_mut_ptr());
    // SAFETY: blocks are at least 8 bytes; both writes are inside the block.
    unsafe {
        ptr.cast::<u64>().write_unaligned(value);
        ptr.add(len - 1).write(value as u8);
        ptr.cast::<u64>().read_unaligned() + u64::from(ptr.add(len - 1).read())
    }
}

/// Reads back what [`write_block`] wrote: the first word and the last byte.
#[inline(always)]
pub fn read_block(block: &mut HeapBlock<'_, impl GlobalAlloc>) -> u64 {
    let len = block.len();
    let ptr = black_box(block.as_mut_ptr());
    // SAFETY: `write_block` initialised the first word and the last byte of this block.
    unsafe { ptr.cast::<u64>().read_unaligned() + u64::from(ptr.add(len - 1).read()) }
}

/// Blocks of one allocator in a vector of that allocator: a batch handed over, or a working set.
pub type Batch<'a, A> = AVec<HeapBlock<'a, A>, Api2<'a, A>>;

pub type Slots<'a, A> = AVec<HeapBlock<'a, A>, Api2<'a, A>>;

pub fn fill_slots<'a, A: GlobalAlloc>(
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
pub fn replace_randomly<'a, A: GlobalAlloc>(
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
