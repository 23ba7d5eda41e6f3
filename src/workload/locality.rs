//! Locality, the real reason "the stack is in cache": the same reads (a walk along a linked list of
//! 64-byte nodes) over nodes that are contiguous and in order (a stack array, one heap block) or
//! scattered (each node its own allocation, made amid churn so neighbours are not adjacent, linked
//! in random order), by working-set size from the L1 cache to well past the L2.

use crate::workload::allocators::Api2;
use crate::workload::arrays::HeapBlock;
use crate::workload::contention::Rng;
use allocator_api2::vec::Vec as AVec;
use std::alloc::GlobalAlloc;
use std::hint::black_box;
use std::mem::MaybeUninit;

/// Bytes per node: one cache line.
pub const NODE_BYTES: usize = 64;
/// Working sets measured, in bytes: L1 (16 KiB), L2 (256 KiB, 2 MiB), past the L2 (16, 64 MiB).
pub const WORKING_SETS: [usize; 5] = [16 << 10, 256 << 10, 2 << 20, 16 << 20, 64 << 20];
/// The largest working set the stack variant holds (the bench's main thread has an 8 MiB stack).
pub const STACK_WORKING_SET_MAX: usize = 2 << 20;

/// One node: the address of the next node (0 ends the list) and a value to read.
#[repr(C, align(64))]
struct Node {
    next: usize,
    value: u64,
    _pad: [u64; 6],
}

/// Links `count` nodes laid out contiguously at `base`, in address order; returns the first.
///
/// # Safety
/// `base` must be 64-byte aligned with `count * NODE_BYTES` writable bytes owned by the caller.
unsafe fn link_in_order(base: *mut u8, count: usize) -> usize {
    for i in 0..count {
        let next = if i + 1 < count {
            base as usize + (i + 1) * NODE_BYTES
        } else {
            0
        };
        // SAFETY: node i lies inside the caller's memory and is 64-byte aligned.
        unsafe {
            base.add(i * NODE_BYTES).cast::<Node>().write(Node {
                next,
                value: i as u64,
                _pad: [0; 6],
            })
        };
    }
    base as usize
}

/// Walks the list from `head` and sums the values: every step's address comes from the previous
/// load, so the walk costs what reaching each node costs.
#[inline(never)]
pub fn walk(head: usize) -> u64 {
    let mut sum = 0u64;
    let mut at = black_box(head);
    while at != 0 {
        // SAFETY: every address in a list was written by `link_in_order` or `Scattered::new` and
        // stays valid while the list's owner lives (the caller holds it).
        let node = unsafe { &*(at as *const Node) };
        sum = sum.wrapping_add(node.value);
        at = node.next;
    }
    sum
}

/// The sum a walk over `count` nodes returns.
pub fn expected_walk(count: usize) -> u64 {
    (0..count as u64).sum()
}

/// Contiguous nodes in one heap block from `alloc`.
pub struct ContiguousHeap<'a, A: GlobalAlloc> {
    _block: HeapBlock<'a, A>,
    pub head: usize,
}

impl<'a, A: GlobalAlloc> ContiguousHeap<'a, A> {
    pub fn new(alloc: &'a A, working_set: usize) -> Self {
        let mut block = HeapBlock::with_align(alloc, working_set, NODE_BYTES);
        // SAFETY: the block is 64-byte aligned and `working_set` bytes long.
        let head = unsafe { link_in_order(block.as_mut_ptr(), working_set / NODE_BYTES) };
        ContiguousHeap {
            _block: block,
            head,
        }
    }
}

/// Contiguous nodes in a stack buffer of the caller's frame: the caller keeps the buffer alive while
/// it walks.
pub fn link_on_stack<const BYTES: usize>(buffer: &mut StackNodes<BYTES>) -> usize {
    // SAFETY: the buffer is 64-byte aligned and BYTES long.
    unsafe { link_in_order(buffer.0.as_mut_ptr().cast(), BYTES / NODE_BYTES) }
}

/// A cache-line aligned stack buffer for [`link_on_stack`].
#[repr(C, align(64))]
pub struct StackNodes<const BYTES: usize>(pub [MaybeUninit<u8>; BYTES]);

impl<const BYTES: usize> StackNodes<BYTES> {
    pub fn new() -> Self {
        StackNodes([MaybeUninit::uninit(); BYTES])
    }
}

impl<const BYTES: usize> Default for StackNodes<BYTES> {
    fn default() -> Self {
        Self::new()
    }
}

/// Scattered nodes: each one its own allocation from `alloc`. Twice as many are allocated, then a
/// random half freed (churn, so that the kept nodes are not neighbours), and the kept ones linked in
/// a random order.
pub struct Scattered<'a, A: GlobalAlloc> {
    _nodes: AVec<HeapBlock<'a, A>, Api2<'a, A>>,
    pub head: usize,
}

impl<'a, A: GlobalAlloc> Scattered<'a, A> {
    pub fn new(alloc: &'a A, working_set: usize, seed: u64) -> Self {
        let count = working_set / NODE_BYTES;
        let mut rng = Rng::new(seed);
        let mut all: AVec<HeapBlock<'a, A>, Api2<'a, A>> =
            AVec::with_capacity_in(2 * count, Api2(alloc));
        for _ in 0..2 * count {
            all.push(HeapBlock::with_align(alloc, NODE_BYTES, NODE_BYTES));
        }
        // Free a random half.
        shuffle(&mut all, &mut rng);
        all.truncate(count);
        // Link the kept nodes in a fresh random order (truncate kept a random subset, in random
        // order already; shuffle again so the order does not follow allocation either).
        shuffle(&mut all, &mut rng);
        let addresses: Vec<usize> = all.iter_mut().map(|b| b.as_mut_ptr() as usize).collect();
        for (i, &at) in addresses.iter().enumerate() {
            let next = addresses.get(i + 1).copied().unwrap_or(0);
            // SAFETY: each block is a live, 64-byte aligned allocation of NODE_BYTES.
            unsafe {
                (at as *mut Node).write(Node {
                    next,
                    value: i as u64,
                    _pad: [0; 6],
                })
            };
        }
        Scattered {
            _nodes: all,
            head: addresses.first().copied().unwrap_or(0),
        }
    }
}

fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i + 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::allocators::{Counting, Jemalloc, System, ThreadCountingGlobal};

    #[test]
    fn every_layout_walks_every_node_once() {
        let ws = 256 << 10;
        let count = ws / NODE_BYTES;
        let contiguous = ContiguousHeap::new(&System, ws);
        assert_eq!(walk(contiguous.head), expected_walk(count));
        let scattered = Scattered::new(&System, ws, 3);
        assert_eq!(walk(scattered.head), expected_walk(count));
        let mut stack = StackNodes::<{ 16 << 10 }>::new();
        assert_eq!(walk(link_on_stack(&mut stack)), expected_walk(256));
    }

    #[test]
    fn contiguous_is_one_block_scattered_is_one_allocation_per_node_after_churn() {
        let ws = 64 << 10;
        let count = (ws / NODE_BYTES) as u64;
        let counting = Counting::new(Jemalloc);
        drop(ContiguousHeap::new(&counting, ws));
        let c = counting.counts();
        assert_eq!((c.allocs, c.bytes_allocated), (1, ws as u64));
        assert!(c.balanced());
        let counting = Counting::new(Jemalloc);
        let scattered = Scattered::new(&counting, ws, 5);
        let c = counting.counts();
        // 2 x count nodes and the vector that owns them; half the nodes freed again.
        assert_eq!((c.allocs, c.frees), (2 * count + 1, count));
        drop(scattered);
        assert!(counting.counts().balanced());
        let (before, _) = ThreadCountingGlobal::<System>::thread_counts();
        let mut stack = StackNodes::<{ 16 << 10 }>::new();
        walk(link_on_stack(&mut stack));
        let (after, _) = ThreadCountingGlobal::<System>::thread_counts();
        assert_eq!(after, before, "the stack variant allocates nothing");
    }

    #[test]
    fn scattered_neighbours_in_the_walk_are_rarely_neighbours_in_memory() {
        let scattered = Scattered::new(&System, 1 << 20, 9);
        let mut adjacent = 0;
        let mut at = scattered.head;
        let mut steps = 0;
        while at != 0 {
            // SAFETY: a list built by Scattered::new, alive here.
            let next = unsafe { (*(at as *const Node)).next };
            if next != 0 && next.abs_diff(at) <= 2 * NODE_BYTES {
                adjacent += 1;
            }
            at = next;
            steps += 1;
        }
        assert_eq!(steps, (1 << 20) / NODE_BYTES);
        assert!(
            adjacent * 100 < steps,
            "{adjacent} of {steps} steps go to a neighbour"
        );
    }
}
