//! Tests of `arrays`.

use super::*;

#[test]
fn the_stack_buffer_is_cache_line_aligned_at_any_stack_depth() {
    // Each level shifts the stack by an odd amount, as Criterion's per-sample alloca does.
    fn at_depth(depth: usize) -> usize {
        if depth == 0 {
            return stack_array_offset::<4096>();
        }
        let pad = [depth as u8; 24];
        black_box(&pad);
        at_depth(depth - 1) + usize::from(black_box(pad[0]) == 255)
    }
    for depth in 0..12 {
        assert_eq!(at_depth(depth), 0, "depth {depth}");
    }
}

#[test]
fn fill_at_offset_reads_what_it_wrote_at_every_offset() {
    let mut block = HeapBlock::with_align(&System, 4096 + 64, 64);
    for offset in ALIGNMENT_OFFSETS {
        assert_eq!(
            fill_at_offset::<System, 4096>(&mut block, offset, 7),
            expected_checksum(4096, 7),
            "offset {offset}"
        );
    }
}
use crate::workload::allocators::ThreadCountingGlobal as Global;
use crate::workload::allocators::{Counting, Counts, Jemalloc, MiMalloc, NamedAllocator, System};

/// Global allocations made by this thread while running `f`.
fn global_allocs_during<R>(f: impl FnOnce() -> R) -> (u64, u64, R) {
    let (allocs, bytes) = Global::<System>::thread_counts();
    let result = f();
    let (allocs_after, bytes_after) = Global::<System>::thread_counts();
    (allocs_after - allocs, bytes_after - bytes, result)
}

#[test]
fn sizes_are_sorted_labels_and_cover_8_bytes_to_1_mib() {
    assert_eq!(SIZES.first(), Some(&8));
    assert_eq!(SIZES.last(), Some(&(1 << 20)));
    let labels: Vec<_> = SIZES
        .iter()
        .map(|&s| crate::data::id::size_part(s as u64))
        .collect();
    assert!(labels.is_sorted());
    assert_eq!(crate::data::id::size_part(64), "0000064");
}

#[test]
fn stack_array_allocates_nothing_and_reads_what_it_wrote() {
    let (allocs, _, sum) = global_allocs_during(|| stack_array::<4096>(3));
    assert_eq!(allocs, 0, "stack_array must not touch the heap");
    assert_eq!(sum, expected_checksum(4096, 3));
    assert_eq!(stack_array::<8>(250), expected_checksum(8, 250));
}

/// Runs `workload` on a counting `inner` and proves it allocated and freed exactly one block of
/// `len` bytes through it, nothing through the global allocator, and returned `checksum`.
fn allocates_once_through<A: NamedAllocator>(
    inner: A,
    len: u64,
    checksum: u64,
    workload: impl FnOnce(&Counting<A>) -> u64,
) {
    let counting = Counting::new(inner);
    let (global, _, sum) = global_allocs_during(|| workload(&counting));
    assert_eq!(sum, checksum, "{}", A::KIND);
    let want = Counts {
        allocs: 1,
        frees: 1,
        bytes_allocated: len,
        bytes_freed: len,
    };
    assert_eq!(counting.counts(), want, "{}", A::KIND);
    assert_eq!(global, 0, "{} must not use the global allocator", A::KIND);
}

fn heap_box_allocates_once_through<A: NamedAllocator>(inner: A) {
    allocates_once_through(inner, 1024, expected_checksum(1024, 9), |c| {
        heap_box::<_, 1024>(c, 9)
    });
}

#[test]
fn heap_box_allocates_and_frees_once_through_the_named_allocator() {
    heap_box_allocates_once_through(System);
    heap_box_allocates_once_through(Jemalloc);
    heap_box_allocates_once_through(MiMalloc);
}

fn alloc_free_allocates_once_through<A: NamedAllocator>(inner: A) {
    let page = page_size();
    allocates_once_through(inner, 65536, expected_touch_checksum(65536, page, 5), |c| {
        alloc_free::<_, 65536>(c, page, 5)
    });
}

#[test]
fn alloc_free_allocates_exactly_one_block_and_stack_reserve_none() {
    alloc_free_allocates_once_through(System);
    alloc_free_allocates_once_through(Jemalloc);
    alloc_free_allocates_once_through(MiMalloc);
    let page = page_size();
    let (allocs, _, sum) = global_allocs_during(|| stack_reserve::<65536>(page, 5));
    assert_eq!(allocs, 0, "stack_reserve must not touch the heap");
    assert_eq!(sum, expected_touch_checksum(65536, page, 5));
    assert_eq!(
        stack_reserve::<8>(page, 5),
        expected_touch_checksum(8, page, 5)
    );
}

#[test]
fn heap_reused_allocates_nothing_in_its_body() {
    let counting = Counting::new(Jemalloc);
    let mut block = HeapBlock::new(&counting, 256);
    let before = counting.counts();
    let (global, _, sums) = global_allocs_during(|| {
        (0..100)
            .map(|s| heap_reused::<_, 256>(&mut block, s))
            .collect::<Vec<_>>()
    });
    assert_eq!(counting.counts().since(before), Counts::default());
    assert_eq!(global, 1, "only the Vec collecting the results");
    assert_eq!(sums[7], expected_checksum(256, 7));
    drop(block);
    assert!(counting.counts().balanced());
}

#[test]
fn placement_is_the_address_modulo_a_line_and_a_page() {
    let block = HeapBlock::with_align(&System, 4096, 4096);
    assert_eq!(
        block.placement(),
        Placement {
            offset_in_line: 0,
            offset_in_page: 0
        }
    );
    let block = HeapBlock::new(&System, 24);
    let p = block.placement();
    assert_eq!(p.offset_in_line, p.offset_in_page % 64);
    assert_eq!(p.offset_in_page % 8, 0, "at least 8-byte aligned");
}

#[test]
fn pretouched_touches_every_page_of_its_block_and_allocates_nothing() {
    let page = page_size();
    let counting = Counting::new(MiMalloc);
    let mut block = HeapBlock::new(&counting, 65536);
    let before = counting.counts();
    let sum = first_touch_pretouched(&mut block, page, 2);
    assert_eq!(sum, expected_touch_checksum(65536, page, 2));
    assert_eq!(counting.counts().since(before), Counts::default());
}

#[test]
fn mmap_first_touch_page_faults_and_skips_the_heap() {
    let page = page_size();
    let before = crate::platform::thread_minor_faults();
    let (allocs, _, sum) = global_allocs_during(|| first_touch_mmap(1 << 20, page, 5));
    let faults = crate::platform::thread_minor_faults() - before;
    assert_eq!(allocs, 0);
    assert_eq!(sum, expected_touch_checksum(1 << 20, page, 5));
    let pages = ((1 << 20) / page) as u64;
    assert!(
        faults * 10 >= pages * 9,
        "a fresh mapping must fault: {faults} faults for {pages} pages"
    );
}

#[test]
fn box_variants_allocate_one_block_of_n_bytes() {
    const N: usize = 65536;
    let (allocs, bytes, sum) = global_allocs_during(|| box_new_array::<N>(4));
    assert_eq!((allocs, bytes, sum), (1, N as u64, 8));
    let (allocs, bytes, sum) = global_allocs_during(|| box_new_zeroed::<N>(4));
    assert_eq!((allocs, bytes, sum), (1, N as u64, 8));
    let (allocs, bytes, sum) = global_allocs_during(|| box_from_vec::<N>(4));
    assert_eq!((allocs, bytes, sum), (1, N as u64, 8));
}
