//! Wrappers around an allocator: one that counts what a workload allocated through it (the proof
//! that a workload does what its name says), a global allocator that counts per thread, a
//! reference that is an allocator, and an adapter to `allocator_api2`'s `Allocator`.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A snapshot of what a [`Counting`] allocator has seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub allocs: u64,
    pub frees: u64,
    pub bytes_allocated: u64,
    pub bytes_freed: u64,
}

impl Counts {
    /// What happened between `earlier` and `self`.
    pub fn since(self, earlier: Counts) -> Counts {
        Counts {
            allocs: self.allocs - earlier.allocs,
            frees: self.frees - earlier.frees,
            bytes_allocated: self.bytes_allocated - earlier.bytes_allocated,
            bytes_freed: self.bytes_freed - earlier.bytes_freed,
        }
    }

    /// Every allocation was freed and every byte returned.
    pub fn balanced(self) -> bool {
        self.allocs == self.frees && self.bytes_allocated == self.bytes_freed
    }
}

#[derive(Default)]
struct AtomicCounts {
    allocs: AtomicU64,
    frees: AtomicU64,
    bytes_allocated: AtomicU64,
    bytes_freed: AtomicU64,
}

impl AtomicCounts {
    const fn new() -> Self {
        Self {
            allocs: AtomicU64::new(0),
            frees: AtomicU64::new(0),
            bytes_allocated: AtomicU64::new(0),
            bytes_freed: AtomicU64::new(0),
        }
    }

    fn on_alloc(&self, size: usize) {
        self.allocs.fetch_add(1, Relaxed);
        self.bytes_allocated.fetch_add(size as u64, Relaxed);
    }

    fn on_free(&self, size: usize) {
        self.frees.fetch_add(1, Relaxed);
        self.bytes_freed.fetch_add(size as u64, Relaxed);
    }

    fn snapshot(&self) -> Counts {
        Counts {
            allocs: self.allocs.load(Relaxed),
            frees: self.frees.load(Relaxed),
            bytes_allocated: self.bytes_allocated.load(Relaxed),
            bytes_freed: self.bytes_freed.load(Relaxed),
        }
    }
}

/// Wraps an allocator and counts allocations, frees and bytes that pass through this instance, from
/// every thread. Tests hand `&Counting<Jemalloc>` to a workload to prove what it allocates, and where.
///
/// A `realloc` counts as one free of the old size and one allocation of the new size.
pub struct Counting<A> {
    inner: A,
    counts: AtomicCounts,
}

impl<A> Counting<A> {
    pub const fn new(inner: A) -> Self {
        Self {
            inner,
            counts: AtomicCounts::new(),
        }
    }

    /// Totals so far, over every thread.
    pub fn counts(&self) -> Counts {
        self.counts.snapshot()
    }
}

// SAFETY: every call is forwarded unchanged to `inner`; counting has no effect on the memory returned.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.counts.on_alloc(layout.size());
        unsafe { self.inner.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.counts.on_alloc(layout.size());
        unsafe { self.inner.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.counts.on_free(layout.size());
        unsafe { self.inner.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.counts.on_free(layout.size());
        self.counts.on_alloc(new_size);
        unsafe { self.inner.realloc(ptr, layout, new_size) }
    }
}

/// The process-wide instance of an allocator as an allocator value, so that a [`Counting`] can wrap
/// the very instance a bench measures (`Counting::new(ByRef(A::get()))`).
pub struct ByRef<A: 'static>(pub &'static A);

// SAFETY: forwards every call unchanged to the referenced allocator.
unsafe impl<A: GlobalAlloc> GlobalAlloc for ByRef<A> {
    #[inline(always)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { self.0.alloc(layout) }
    }

    #[inline(always)]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { self.0.alloc_zeroed(layout) }
    }

    #[inline(always)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { self.0.dealloc(ptr, layout) }
    }

    #[inline(always)]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe { self.0.realloc(ptr, layout, new_size) }
    }
}

thread_local! {
    // Const-initialised and without a destructor, so touching it from inside the global allocator
    // cannot allocate or recurse.
    static THREAD_ALLOCS: Cell<u64> = const { Cell::new(0) };
    static THREAD_BYTES: Cell<u64> = const { Cell::new(0) };
}

/// A `#[global_allocator]` for test binaries that counts allocations made by the current thread, so a
/// test can prove that a workload allocates nothing (or exactly one block) through the global
/// allocator while other tests run on other threads.
pub struct ThreadCountingGlobal<A>(pub A);

impl<A> ThreadCountingGlobal<A> {
    /// (allocations, bytes) made by the calling thread through the global allocator so far.
    pub fn thread_counts() -> (u64, u64) {
        (THREAD_ALLOCS.get(), THREAD_BYTES.get())
    }

    fn record(size: usize) {
        // `try_with` fails only while the thread is being torn down; those allocations are not ours.
        let _ = THREAD_ALLOCS.try_with(|c| c.set(c.get() + 1));
        let _ = THREAD_BYTES.try_with(|c| c.set(c.get() + size as u64));
    }
}

// SAFETY: forwards every call unchanged to the wrapped allocator.
unsafe impl<A: GlobalAlloc> GlobalAlloc for ThreadCountingGlobal<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::record(layout.size());
        unsafe { self.0.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::record(layout.size());
        unsafe { self.0.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { self.0.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Self::record(new_size);
        unsafe { self.0.realloc(ptr, layout, new_size) }
    }
}

/// Adapts a [`GlobalAlloc`] to `allocator_api2`'s `Allocator`, so that `allocator_api2::vec::Vec<T,
/// Api2<A>>` and `Box<T, Api2<A>>` allocate through exactly that allocator instead of the global one.
pub struct Api2<'a, A>(pub &'a A);

impl<A> Clone for Api2<'_, A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A> Copy for Api2<'_, A> {}

// SAFETY: blocks come from `A` and go back to `A` with the layout they were allocated with; zero-sized
// requests never reach `A` (GlobalAlloc forbids them) and get a dangling, well-aligned pointer.
unsafe impl<A: GlobalAlloc> allocator_api2::alloc::Allocator for Api2<'_, A> {
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, allocator_api2::alloc::AllocError> {
        if layout.size() == 0 {
            let dangling = NonNull::new(layout.align() as *mut u8).expect("align is non-zero");
            return Ok(NonNull::slice_from_raw_parts(dangling, 0));
        }
        // SAFETY: non-zero size checked above.
        let ptr = unsafe { self.0.alloc(layout) };
        NonNull::new(ptr)
            .map(|p| NonNull::slice_from_raw_parts(p, layout.size()))
            .ok_or(allocator_api2::alloc::AllocError)
    }

    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        if layout.size() != 0 {
            // SAFETY: the caller returns a block this allocator gave out, with its layout.
            unsafe { self.0.dealloc(ptr.as_ptr(), layout) }
        }
    }
}
