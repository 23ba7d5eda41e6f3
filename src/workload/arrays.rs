//! Stack-local arrays against heap blocks from a named allocator: the cost of filling and reading N
//! bytes on the stack, the same on a fresh heap block (allocate + fill + read + free), the same on a
//! reused heap block, the first touch of fresh pages, and the hidden stack copy of `Box::new([0; N])`.
//!
//! Every workload returns a checksum of what it read, so a body the optimiser deleted is caught by the
//! unit tests, and every pointer passes through `black_box`, so LLVM cannot delete the `malloc`/`free`
//! pair (it does, without: a "System" alloc+free then costs 0.34 ns).

use std::alloc::{GlobalAlloc, Layout, handle_alloc_error};
use std::hint::black_box;
use std::mem::MaybeUninit;
use std::ptr::NonNull;

/// Hands the stack-vs-heap sizes, the one list of them, to the macro `$then` as comma-separated
/// literals after any tokens given first: a bench instantiates its const-generic workloads from it
/// (`stack_array::<N>` needs a literal), and [`SIZES`] and `at_size!` are made from it.
#[macro_export]
macro_rules! stack_vs_heap_sizes {
    ($($then:ident)::+ $(; $($first:tt)*)?) => {
        $($then)::+!($($($first)*)? 8, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576)
    };
}

/// `Some($body)` with the const `$n` set to `$bytes` when it is one of [`SIZES`], `None` for any
/// other size: how code that learns a size at run time (the engine's worker, the instruction
/// counts) reaches a const-generic workload.
macro_rules! at_size {
    ($bytes:expr, $n:ident => $body:expr) => {
        $crate::stack_vs_heap_sizes!(crate::workload::arrays::at_size_arms; ($bytes, $n, $body);)
    };
}
pub(crate) use at_size;

/// The `match` of [`at_size!`], one arm per size.
macro_rules! at_size_arms {
    (($bytes:expr, $n:ident, $body:expr); $($size:literal),*) => {
        match $bytes {
            $($size => {
                const $n: usize = $size;
                Some($body)
            })*
            _ => None,
        }
    };
}
pub(crate) use at_size_arms;

/// `[a, b, ...]` from the sizes [`stack_vs_heap_sizes!`] hands over.
macro_rules! size_array {
    ($($size:literal),*) => {
        [$($size),*]
    };
}

/// The sizes measured, in bytes: 8 B and every power of 4 from 16 B to 1 MiB.
pub const SIZES: [usize; 10] = stack_vs_heap_sizes!(size_array);

/// Alignment of every heap block. 8, not 16: with `align <= size` glibc serves even 8 B blocks from
/// plain `malloc` instead of its slower aligned path, as `Box<[u64; N]>` would.
const BLOCK_ALIGN: usize = 8;

/// Writes a pattern that depends on `seed` into every byte of `bytes`.
#[inline(always)]
fn fill(bytes: &mut [MaybeUninit<u8>], seed: u8) {
    for (i, byte) in bytes.iter_mut().enumerate() {
        byte.write(seed.wrapping_add(i as u8));
    }
}

/// Wrapping sum of the bytes read as little-endian 64-bit words: reads every byte back. Words, not
/// bytes, so that the read vectorises as the fill does (a byte-wise sum into u64 stays scalar on
/// baseline x86-64 and would make the read, not the memory, the thing measured).
#[inline(always)]
fn checksum(bytes: &[u8]) -> u64 {
    let words = bytes.chunks_exact(8);
    let tail = words.remainder().iter().map(|&b| u64::from(b)).sum::<u64>();
    words
        .map(|w| u64::from_le_bytes(w.try_into().expect("chunks of 8")))
        .fold(tail, u64::wrapping_add)
}

/// The checksum every fill-and-read workload must return for `len` (a multiple of 8) bytes filled with
/// `seed`, computed byte by byte, independently of the workloads' code.
pub fn expected_checksum(len: usize, seed: u8) -> u64 {
    (0..len)
        .map(|i| u64::from(seed.wrapping_add(i as u8)) << (8 * (i % 8)))
        .fold(0, u64::wrapping_add)
}

/// A stack buffer aligned to a cache line. A plain `[u8; N]` has alignment 1, and Criterion 0.8 shifts
/// the stack by `i` bytes for its i-th sample (`routine.rs`: `alloca::with_alloca(i % page_size)`), so
/// a plain array starts at a different offset mod 16 in most samples, and its vector stores straddle
/// cache lines, while every heap block is at least 16-byte aligned. Aligned, the stack array and the
/// heap blocks are compared on equal terms; `stack_vs_heap/alignment` measures the effect itself.
#[repr(C, align(64))]
struct CacheAligned<const N: usize>([MaybeUninit<u8>; N]);

/// Fills `len` bytes at `ptr` with the pattern, then reads them back through an opaque pointer: the
/// one loop every fill-and-read workload runs, stack or heap, so they differ only in where the memory
/// comes from. Callers pass a constant `len`, so the loops are compiled for a known length.
///
/// # Safety
/// `ptr..ptr + len` must be writable memory owned by the caller.
#[inline(always)]
unsafe fn fill_and_read_raw(ptr: *mut u8, len: usize, seed: u8) -> u64 {
    // SAFETY: the caller owns `len` bytes at `ptr`; MaybeUninit accepts uninitialised memory.
    fill(
        unsafe { std::slice::from_raw_parts_mut(ptr.cast(), len) },
        seed,
    );
    // Only the pointer goes through black_box, so `len` stays a known constant.
    let ptr = black_box(ptr);
    // SAFETY: `fill` initialised all `len` bytes.
    checksum(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// `stack_array`: fill a local, cache-line aligned N-byte array, read it back. No heap involved.
#[inline(never)]
pub fn stack_array<const N: usize>(seed: u8) -> u64 {
    let mut buf = CacheAligned([MaybeUninit::<u8>::uninit(); N]);
    // No black_box of our own: the pointer escapes through the one in the shared loop, between the
    // fill and the read, exactly as a heap block's does (a second one costs a store and a reload).
    // SAFETY: the array is N bytes we own.
    unsafe { fill_and_read_raw(buf.0.as_mut_ptr().cast(), N, seed) }
}

/// The address of `stack_array`'s buffer modulo 64 in the caller's current frame: 0 for the aligned
/// buffer, whatever the stack shift (tests prove it; a plain `[u8; N]` can sit anywhere).
#[inline(never)]
pub fn stack_array_offset<const N: usize>() -> usize {
    let buf = CacheAligned([MaybeUninit::<u8>::uninit(); N]);
    black_box(&buf) as *const CacheAligned<N> as usize % 64
}

/// `alloc_free`: allocate N bytes from `alloc`, write (and read) one byte per page so the block is
/// really used, free. The allocator's own cost, measured directly instead of as `heap_box -
/// heap_reused`, a difference of two noisy figures.
#[inline(never)]
pub fn alloc_free<A: GlobalAlloc, const N: usize>(alloc: &A, page: usize, seed: u8) -> u64 {
    HeapBlock::new(alloc, N).touch_pages(page, seed)
}

/// `stack_reserve`: the stack's counterpart of [`alloc_free`]: reserve N cache-line aligned bytes in
/// this frame and write (and read) one byte per page. What remains is the cost of moving the stack
/// pointer, plus the stack probes Rust emits for frames larger than a page.
#[inline(never)]
pub fn stack_reserve<const N: usize>(page: usize, seed: u8) -> u64 {
    let mut buf = CacheAligned([MaybeUninit::<u8>::uninit(); N]);
    // SAFETY: the buffer is N bytes we own; touch_pages writes each byte before it reads it.
    unsafe { touch_pages(buf.0.as_mut_ptr().cast(), N, page, seed) }
}

/// Offsets within a cache line that `stack_vs_heap/alignment` measures.
pub const ALIGNMENT_OFFSETS: [usize; 4] = [0, 1, 8, 32];
/// Sizes of the alignment sweep: one that fits L1, one that does not.
pub const ALIGNMENT_SIZES: [usize; 2] = [4096, 65536];

/// `alignment`: the fill-and-read loop on N bytes starting `offset` bytes past a cache-line boundary
/// of `block` (allocated once, 64-byte aligned, at least N + 64 bytes): the cost of misalignment alone.
#[inline(never)]
pub fn fill_at_offset<A: GlobalAlloc, const N: usize>(
    block: &mut HeapBlock<'_, A>,
    offset: usize,
    seed: u8,
) -> u64 {
    assert!(
        (block.as_mut_ptr() as usize).is_multiple_of(64)
            && offset < 64
            && N + offset <= block.len(),
        "the alignment block must be 64-byte aligned with room for N + offset bytes"
    );
    // SAFETY: checked above: offset..offset + N lies inside the block.
    unsafe { fill_and_read_raw(block.as_mut_ptr().add(offset), N, seed) }
}

/// Where a block measured by `heap_reused` lies, a row of `target/stackheap/placement.json`: two
/// blocks of one size that differ in speed may differ in placement (4K aliasing, split lines).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Placement {
    pub offset_in_line: usize,
    pub offset_in_page: usize,
}

/// One heap block of `len` bytes from allocator `A`, freed on drop.
pub struct HeapBlock<'a, A: GlobalAlloc> {
    alloc: &'a A,
    ptr: NonNull<u8>,
    layout: Layout,
}

impl<'a, A: GlobalAlloc> HeapBlock<'a, A> {
    /// Allocates `len` (> 0) uninitialised bytes from `alloc`.
    #[inline(always)]
    pub fn new(alloc: &'a A, len: usize) -> Self {
        Self::with_align(alloc, len, BLOCK_ALIGN)
    }

    /// Allocates `len` (> 0) uninitialised bytes from `alloc`, aligned to `align` (a power of two).
    #[inline(always)]
    pub fn with_align(alloc: &'a A, len: usize, align: usize) -> Self {
        let layout = Layout::from_size_align(len, align).expect("block size fits a Layout");
        assert!(len > 0, "GlobalAlloc cannot allocate 0 bytes");
        // SAFETY: non-zero size checked above.
        let raw = unsafe { alloc.alloc(layout) };
        // black_box: the pointer escapes, so LLVM must keep the allocation.
        let ptr = NonNull::new(black_box(raw)).unwrap_or_else(|| handle_alloc_error(layout));
        Self { alloc, ptr, layout }
    }

    /// Where the block lies: its address modulo a cache line and modulo a page.
    pub fn placement(&self) -> Placement {
        let address = self.ptr.as_ptr() as usize;
        Placement {
            offset_in_line: address % 64,
            offset_in_page: address % page_size(),
        }
    }

    pub fn len(&self) -> usize {
        self.layout.size()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The start of the block (its bytes are uninitialised until written).
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Fills the first `len` bytes of the block with a pattern, then reads them back through an opaque
    /// pointer and returns the checksum. Callers pass a constant `len` so that the loops are compiled
    /// for a known length, the same in `heap_box`, `heap_reused` and `stack_array`.
    #[inline(always)]
    pub fn fill_and_read(&mut self, len: usize, seed: u8) -> u64 {
        assert!(
            len <= self.len(),
            "{len} bytes do not fit a block of {}",
            self.len()
        );
        // SAFETY: the block is at least `len` bytes we own.
        unsafe { fill_and_read_raw(self.ptr.as_ptr(), len, seed) }
    }

    /// Writes then reads one byte in each `page`-sized stretch of the block: touches every page once.
    #[inline(always)]
    pub fn touch_pages(&mut self, page: usize, seed: u8) -> u64 {
        // SAFETY: the pointer and length describe our own block.
        unsafe { touch_pages(self.ptr.as_ptr(), self.len(), page, seed) }
    }
}

// SAFETY: a block is uniquely owned memory; it may be freed on another thread because `A: Sync`
// (freeing on another thread than the allocating one is exactly what contention workloads measure).
unsafe impl<A: GlobalAlloc + Sync> Send for HeapBlock<'_, A> {}

impl<A: GlobalAlloc> Drop for HeapBlock<'_, A> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: allocated by `self.alloc` with `self.layout`, freed once.
        unsafe {
            self.alloc
                .dealloc(black_box(self.ptr.as_ptr()), self.layout)
        }
    }
}

/// `heap_box`: allocate N bytes from `alloc`, fill, read back, free: every call.
#[inline(never)]
pub fn heap_box<A: GlobalAlloc, const N: usize>(alloc: &A, seed: u8) -> u64 {
    injected_slowdown(InjectionPoint::HeapBox);
    // The `remove-heap-box-allocation` feature (for the startup proof's own test only) does what an
    // optimiser that deleted the allocation would leave: the same fill and read, on the stack.
    #[cfg(feature = "remove-heap-box-allocation")]
    {
        let _ = alloc;
        stack_array::<N>(seed)
    }
    #[cfg(not(feature = "remove-heap-box-allocation"))]
    HeapBlock::new(alloc, N).fill_and_read(N, seed)
}

/// Spins of extra work that the `inject-slowdown` feature adds to every `heap_box` call
/// (`STACKHEAP_INJECT_SPINS`) and to every `local_churn` replacement
/// (`STACKHEAP_INJECT_CHURN_SPINS`), read from the environment once, at the first call: a spin
/// costs a different share of each row and on each machine, so `scripts/gate-check` measures a
/// spin's cost with the gate itself and sets the counts at run time. Exists only so that the check
/// can prove the gate catches a real slowdown; a normal build compiles it to nothing.
#[cfg(feature = "inject-slowdown")]
fn injected_spins() -> &'static [u64; 2] {
    static SPINS: std::sync::OnceLock<[u64; 2]> = std::sync::OnceLock::new();
    SPINS.get_or_init(|| {
        ["STACKHEAP_INJECT_SPINS", "STACKHEAP_INJECT_CHURN_SPINS"].map(|name| {
            std::env::var(name).map_or(0, |text| {
                text.parse().unwrap_or_else(|_| {
                    eprintln!("error: {name}='{text}': expected a whole number of spins");
                    std::process::exit(2)
                })
            })
        })
    })
}

/// Where the `inject-slowdown` feature adds work.
#[derive(Clone, Copy)]
pub enum InjectionPoint {
    HeapBox,
    LocalChurn,
}

/// The `inject-slowdown` feature's extra work at `point`; nothing in a normal build.
#[inline(always)]
pub fn injected_slowdown(point: InjectionPoint) {
    #[cfg(feature = "inject-slowdown")]
    {
        let spins = injected_spins()[point as usize];
        for spin in 0..spins {
            black_box(spin);
        }
    }
    #[cfg(not(feature = "inject-slowdown"))]
    let _ = point;
}

/// `heap_reused`: fill and read back a heap block allocated once by the caller: the same access as
/// `heap_box` without the allocation, so the difference between the two is the allocator's cost.
#[inline(never)]
pub fn heap_reused<A: GlobalAlloc, const N: usize>(block: &mut HeapBlock<'_, A>, seed: u8) -> u64 {
    block.fill_and_read(N, seed)
}

/// The size of a virtual memory page here.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

/// Writes then reads one byte per page of `len` bytes at `ptr`.
///
/// # Safety
/// `ptr..ptr+len` must be writable memory owned by the caller.
#[inline(always)]
unsafe fn touch_pages(ptr: *mut u8, len: usize, page: usize, seed: u8) -> u64 {
    let ptr = black_box(ptr);
    for offset in (0..len).step_by(page) {
        // SAFETY: offset < len.
        unsafe {
            ptr.add(offset)
                .write(seed.wrapping_add((offset / page) as u8))
        };
    }
    let ptr = black_box(ptr);
    // SAFETY: as above; every byte read was written just before.
    (0..len)
        .step_by(page)
        .map(|offset| u64::from(unsafe { ptr.add(offset).read() }))
        .sum()
}

/// The checksum of [`first_touch_mmap`] and friends for `len` bytes.
pub fn expected_touch_checksum(len: usize, page: usize, seed: u8) -> u64 {
    (0..len.div_ceil(page))
        .map(|p| u64::from(seed.wrapping_add(p as u8)))
        .sum()
}

/// `first_touch/pretouched`: one write per page of a block whose pages are already resident.
#[inline(never)]
pub fn first_touch_pretouched<A: GlobalAlloc>(
    block: &mut HeapBlock<'_, A>,
    page: usize,
    seed: u8,
) -> u64 {
    block.touch_pages(page, seed)
}

/// `first_touch/mmap`: one write per page of memory straight from the kernel (`mmap`/`munmap`),
/// bypassing every allocator: each page is faulted in every call. The floor that allocators recycling memory avoid.
#[inline(never)]
pub fn first_touch_mmap(len: usize, page: usize, seed: u8) -> u64 {
    // SAFETY: an anonymous private mapping of `len` bytes, unmapped below; checked for failure.
    unsafe {
        let ptr = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert!(ptr != libc::MAP_FAILED, "mmap of {len} bytes failed");
        let sum = touch_pages(ptr.cast(), len, page, seed);
        libc::munmap(black_box(ptr), len);
        sum
    }
}

/// Writes `seed` to the first and last byte of a freshly created box and reads them back.
#[inline(always)]
fn touch_ends(bytes: &mut [u8], seed: u8) -> u64 {
    let last = bytes.len() - 1;
    bytes[0] = seed;
    bytes[last] = seed;
    let bytes = black_box(bytes);
    u64::from(bytes[0]) + u64::from(bytes[last])
}

/// `box_new_large_array`: `Box::new([0u8; N])`, which may build the array on the stack and copy it
/// (rust-lang/rust#53827). Each variant is its own `#[inline(never)]` function: one function holding
/// every variant would reserve stack for all of them in debug builds.
#[inline(never)]
pub fn box_new_array<const N: usize>(seed: u8) -> u64 {
    let mut boxed = Box::new([0u8; N]);
    touch_ends(&mut boxed[..], seed)
}

/// `box_new_large_zeroed`: `Box::<[u8; N]>::new_zeroed()`: zeroed straight on the heap (calloc).
#[inline(never)]
pub fn box_new_zeroed<const N: usize>(seed: u8) -> u64 {
    // SAFETY: all-zero bytes are a valid [u8; N].
    let mut boxed = unsafe { Box::<[u8; N]>::new_zeroed().assume_init() };
    touch_ends(&mut boxed[..], seed)
}

/// `box_new_large_vec`: `vec![0u8; N].into_boxed_slice()`: calloc, no stack copy.
#[inline(never)]
pub fn box_from_vec<const N: usize>(seed: u8) -> u64 {
    let mut boxed = vec![0u8; N].into_boxed_slice();
    touch_ends(&mut boxed, seed)
}

#[cfg(test)]
mod tests;
