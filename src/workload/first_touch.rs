//! First touch of memory that is new to the process, heap and stack, with its minor page faults: a
//! heap that grows (a working set allocated block by block and touched, nothing freed), the same
//! after the allocator was made to give its free memory back to the kernel or not, and a fresh
//! thread touching its own stack against fresh heap in a fresh thread (thread creation not timed).

use crate::platform::{huge_page_faults, thread_minor_faults};
use crate::workload::allocators::Api2;
use crate::workload::arrays::{HeapBlock, page_size};
use allocator_api2::vec::Vec as AVec;
use std::alloc::GlobalAlloc;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The size class heap growth allocates in.
pub const GROWTH_BLOCK: usize = 64 << 10;
/// Working sets a heap grows to.
pub const GROWTH_SIZES: [usize; 3] = [1 << 20, 8 << 20, 64 << 20];
/// How much memory one first touch covers: by the kernel (`mmap`), a resident block, a fresh
/// thread's stack and fresh heap in a fresh thread.
pub const FIRST_TOUCH_SIZES: [usize; 3] = [64 << 10, 256 << 10, 1 << 20];
/// Stack a fresh thread asks for. glibc keeps the stacks of finished threads in a cache of at most
/// 40 MiB and hands one to a new thread when it is 1x to 4x the requested size, pages still
/// resident (measured: 0 faults for 256 pages on a reused stack). A stack larger than the whole
/// cache can never come from it; untouched, it costs address space only.
const FRESH_STACK_BYTES: usize = 64 << 20;

/// One timed first touch: how long it took, the minor faults it caused, and the pages it touched.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Touched {
    pub elapsed: Duration,
    pub faults: u64,
    pub pages: u64,
    /// Transparent huge pages faulted in meanwhile (system-wide, `/proc/vmstat` `thp_fault_alloc`):
    /// one such fault maps 512 pages, so faults per page alone would call that memory recycled.
    pub huge_faults: u64,
}

impl Touched {
    /// Times `body` and counts the minor faults it caused in this thread; it touches `pages` pages.
    pub fn measure(pages: usize, body: impl FnOnce()) -> Touched {
        let huge = huge_page_faults();
        let faults = thread_minor_faults();
        let start = Instant::now();
        body();
        let elapsed = start.elapsed();
        Touched {
            elapsed,
            faults: thread_minor_faults() - faults,
            pages: pages as u64,
            huge_faults: huge_page_faults().saturating_sub(huge),
        }
    }
}

/// `heap_growth`: allocates `total` bytes from `alloc` in blocks of [`GROWTH_BLOCK`], writing one byte
/// per page of each, none freed while timed; then frees them all (not timed).
pub fn heap_growth<A: GlobalAlloc>(alloc: &A, total: usize) -> Touched {
    let page = page_size();
    let count = total / GROWTH_BLOCK;
    let mut blocks: AVec<HeapBlock<'_, A>, Api2<'_, A>> =
        AVec::with_capacity_in(count, Api2(alloc));
    let touched = Touched::measure(total / page, || {
        for i in 0..count {
            let mut block = HeapBlock::new(alloc, GROWTH_BLOCK);
            black_box(block.touch_pages(page, i as u8));
            blocks.push(block);
        }
    });
    drop(blocks);
    touched
}

/// Writes one byte per page of `bytes` of this thread's stack below the current frame, highest page
/// first (as stack probes do), on a runtime-sized local array.
fn touch_own_stack(bytes: usize, page: usize) {
    alloca::with_alloca(bytes, |array| {
        for byte in array.iter_mut().rev().step_by(page) {
            byte.write(1);
        }
        black_box(array);
    });
}

/// Runs `work` in a newly spawned thread (with `stack_size` bytes of stack when given) and returns
/// what it measured there.
fn in_fresh_thread(
    stack_size: Option<usize>,
    work: impl FnOnce() -> Touched + Send,
) -> std::io::Result<Touched> {
    std::thread::scope(|scope| {
        let mut builder = std::thread::Builder::new();
        if let Some(bytes) = stack_size {
            builder = builder.stack_size(bytes);
        }
        builder
            .spawn_scoped(scope, work)?
            .join()
            .map_err(|_| std::io::Error::other("the fresh thread panicked"))
    })
}

/// `stack_fresh_thread`: in a newly spawned thread with a never-used stack, touches `bytes` of its own
/// stack; only the touch is timed and metered, inside the thread.
pub fn stack_fresh_thread(bytes: usize) -> std::io::Result<Touched> {
    let page = page_size();
    in_fresh_thread(Some(FRESH_STACK_BYTES.max(2 * bytes)), || {
        Touched::measure(bytes / page, || touch_own_stack(bytes, page))
    })
}

/// `heap_fresh_thread`: in a newly spawned thread, allocates `bytes` from `alloc` and touches each
/// page; the allocation and the touch are timed and metered inside the thread, the free is not.
pub fn heap_fresh_thread<A: GlobalAlloc + Sync>(
    alloc: &A,
    bytes: usize,
) -> std::io::Result<Touched> {
    let page = page_size();
    in_fresh_thread(None, || {
        let mut block = None;
        let touched = Touched::measure(bytes / page, || {
            let mut fresh = HeapBlock::new(alloc, bytes);
            black_box(fresh.touch_pages(page, 3));
            block = Some(fresh);
        });
        drop(block);
        touched
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::allocators::{
        AllocatorKind, Counting, HeapAllocator, Jemalloc, NamedAllocator, System,
    };

    /// These tests count page faults of memory that other tests of this process may have touched:
    /// one at a time.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn alone() -> std::sync::MutexGuard<'static, ()> {
        ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
    }

    // What glibc and mimalloc give back depends on the process's history (glibc's trim threshold
    // rises with every large free; a thread arena's top is never trimmed by malloc_trim; mimalloc
    // keeps part of its pages through mi_collect): the benchmark reports their faults per page as
    // measured. jemalloc's purge of all arenas returns every free page: that one is promised.

    #[test]
    fn heap_growth_touches_fresh_pages_after_jemalloc_purges() {
        let _alone = alone();
        let total = 8 << 20;
        heap_growth(Jemalloc::get(), total);
        AllocatorKind::Jemalloc.give_back();
        let fresh = heap_growth(Jemalloc::get(), total);
        assert!(
            fresh.faults * 10 >= fresh.pages * 9,
            "{} faults for {} pages after a purge",
            fresh.faults,
            fresh.pages
        );
        // Without the purge, jemalloc serves most of the same working set again from its own pages
        // (about 20% faulted here: its extents are not handed out in the same order). Tests on
        // other threads of this process may share the arena and take some of those pages, so the
        // claim must hold in one of three tries, not every time.
        let tries: Vec<Touched> = (0..3)
            .map(|_| heap_growth(Jemalloc::get(), total))
            .collect();
        assert!(tries.iter().any(|t| t.faults * 2 <= t.pages), "{tries:?}");
    }

    #[test]
    fn every_allocator_can_grow_and_give_back() {
        let _alone = alone();
        for kind in AllocatorKind::ALL {
            kind.visit(GrowAndGiveBack);
        }
    }

    struct GrowAndGiveBack;
    impl crate::workload::allocators::AllocatorVisitor for GrowAndGiveBack {
        type Output = ();
        fn visit<A: HeapAllocator>(self, kind: AllocatorKind, alloc: &'static A) {
            let grown = heap_growth(alloc, 1 << 20);
            kind.give_back();
            assert_eq!(grown.pages, (1 << 20) / page_size() as u64);
            assert!(grown.faults <= 2 * grown.pages, "{}: {grown:?}", kind);
        }
    }

    #[test]
    fn heap_growth_allocates_the_working_set_block_by_block_and_frees_it() {
        let _alone = alone();
        let counting = Counting::new(Jemalloc);
        let touched = heap_growth(&counting, 1 << 20);
        let c = counting.counts();
        assert_eq!(
            c.allocs,
            (1 << 20) / GROWTH_BLOCK as u64 + 1,
            "blocks and the vector"
        );
        assert!(c.balanced());
        assert_eq!(touched.pages, (1 << 20) / page_size() as u64);
    }

    #[test]
    fn a_fresh_thread_faults_in_its_own_stack_and_fresh_heap() {
        let _alone = alone();
        // Twice: the second thread must not get the first one's stack back.
        for _ in 0..2 {
            let stack = stack_fresh_thread(1 << 20).unwrap();
            assert!(
                stack.faults * 10 >= stack.pages * 9,
                "a new thread's stack pages are fresh: {stack:?}"
            );
        }
        AllocatorKind::Jemalloc.give_back();
        let heap = heap_fresh_thread(Jemalloc::get(), 1 << 20).unwrap();
        assert!(heap.faults * 10 >= heap.pages * 9, "{heap:?}");
    }

    #[test]
    fn heap_fresh_thread_allocates_one_block() {
        let counting = Counting::new(System);
        heap_fresh_thread(&counting, 1 << 16).unwrap();
        let c = counting.counts();
        assert_eq!((c.allocs, c.bytes_allocated), (1, 1 << 16));
        assert!(c.balanced());
    }
}
