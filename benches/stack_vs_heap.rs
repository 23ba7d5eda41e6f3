//! Stack vs heap: stack-local arrays against heap blocks from each allocator, by size, with
//! first-touch page faults, the cost of misalignment, and the hidden stack copy of `Box::new([0; N])`.
//! Run: `cargo bench --bench stack_vs_heap`.
//! Ids: `stack_vs_heap/<variant>/<allocator>/<size>` (`stack_vs_heap/stack_array/<size>`,
//! `stack_vs_heap/alignment/<offset>/<size>`: the same loop at a byte offset past a cache line;
//! `stack_vs_heap/alloc_free/<allocator>/<size>` and `stack_vs_heap/stack_reserve/<size>`: the cost
//! of getting N bytes, touching one byte per page, and giving them back, from the heap and the stack);
//! `locality/{contiguous,scattered}/<stack|allocator>/<working set>`: one list walk over nodes that
//! are contiguous (stack array, one heap block) or scattered (one allocation each, in random order).

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use serde::Serialize;
use stackheap::allocators::{Jemalloc, MiMalloc, NamedAllocator, System};
use stackheap::arrays::*;
use stackheap::output::{BenchMode, write_results};
use std::hint::black_box;

type Group<'a> = BenchmarkGroup<'a, WallTime>;

fn stack_and_heap<const N: usize>(group: &mut Group) {
    group.throughput(Throughput::Bytes(N as u64));
    group.bench_function(BenchmarkId::new("stack_array", size_label(N)), |b| {
        b.iter(|| stack_array::<N>(black_box(7)))
    });
    let page = page_size();
    group.bench_function(BenchmarkId::new("stack_reserve", size_label(N)), |b| {
        b.iter(|| stack_reserve::<N>(page, black_box(7)))
    });
    heap::<System, N>(group);
    heap::<Jemalloc, N>(group);
    heap::<MiMalloc, N>(group);
}

fn heap<A: NamedAllocator, const N: usize>(group: &mut Group) {
    if !selected::<A>() {
        return;
    }
    let name = A::KIND.name();
    let page = page_size();
    group.bench_function(
        BenchmarkId::new(format!("alloc_free/{name}"), size_label(N)),
        |b| b.iter(|| alloc_free::<A, N>(A::get(), page, black_box(7))),
    );
    group.bench_function(
        BenchmarkId::new(format!("heap_box/{name}"), size_label(N)),
        |b| b.iter(|| heap_box::<A, N>(A::get(), black_box(7))),
    );
    let mut block = HeapBlock::new(A::get(), N);
    group.bench_function(
        BenchmarkId::new(format!("heap_reused/{name}"), size_label(N)),
        |b| b.iter(|| heap_reused::<A, N>(&mut block, black_box(7))),
    );
}

/// The list walk over contiguous and scattered nodes, by working set. Flat sampling with 10 samples:
/// one walk over 64 MiB of scattered nodes takes tens of milliseconds.
fn locality(c: &mut Criterion) {
    use stackheap::locality::*;
    let mut group = c.benchmark_group("locality");
    group
        .sampling_mode(criterion::SamplingMode::Flat)
        .sample_size(10);
    locality_on_stack::<{ 16 << 10 }>(&mut group);
    locality_on_stack::<{ 256 << 10 }>(&mut group);
    locality_on_stack::<{ 2 << 20 }>(&mut group);
    for ws in WORKING_SETS {
        group.throughput(Throughput::Elements((ws / NODE_BYTES) as u64));
        locality_on_heap::<System>(&mut group, ws);
        locality_on_heap::<Jemalloc>(&mut group, ws);
        locality_on_heap::<MiMalloc>(&mut group, ws);
    }
    group.finish();
}

fn locality_on_stack<const BYTES: usize>(group: &mut Group) {
    use stackheap::locality::*;
    debug_assert!(BYTES <= STACK_WORKING_SET_MAX);
    group.throughput(Throughput::Elements((BYTES / NODE_BYTES) as u64));
    // The nodes live in this frame, on the bench thread's stack, while Criterion times the walks.
    let mut nodes = StackNodes::<BYTES>::new();
    let head = link_on_stack(&mut nodes);
    group.bench_function(
        BenchmarkId::new("contiguous/stack", size_label(BYTES)),
        |b| b.iter(|| walk(black_box(head))),
    );
}

fn locality_on_heap<A: NamedAllocator>(group: &mut Group, working_set: usize) {
    use stackheap::locality::*;
    if !selected::<A>() {
        return;
    }
    let name = A::KIND.name();
    let contiguous = ContiguousHeap::new(A::get(), working_set);
    group.bench_function(
        BenchmarkId::new(format!("contiguous/{name}"), size_label(working_set)),
        |b| b.iter(|| walk(black_box(contiguous.head))),
    );
    drop(contiguous);
    let scattered = Scattered::new(A::get(), working_set, 42);
    group.bench_function(
        BenchmarkId::new(format!("scattered/{name}"), size_label(working_set)),
        |b| b.iter(|| walk(black_box(scattered.head))),
    );
}

/// The same fill-and-read loop at each offset of `ALIGNMENT_OFFSETS` past a cache-line boundary.
fn alignment<const N: usize>(group: &mut Group) {
    debug_assert!(ALIGNMENT_SIZES.contains(&N));
    group.throughput(Throughput::Bytes(N as u64));
    let mut block = HeapBlock::with_align(&System, N + 64, 64);
    for offset in ALIGNMENT_OFFSETS {
        group.bench_function(
            BenchmarkId::new(format!("alignment/{offset:02}"), size_label(N)),
            |b| b.iter(|| fill_at_offset::<System, N>(&mut block, black_box(offset), black_box(7))),
        );
    }
}

/// Minor page faults per iteration of one first-touch benchmark, written to
/// `target/stackheap/first_touch.json`.
#[derive(Serialize)]
struct FaultEntry {
    id: String,
    allocator: &'static str,
    mode: &'static str,
    size_bytes: usize,
    minor_faults_per_iter: f64,
}

/// Whether `STACKHEAP_ALLOCATORS` (all three when unset) selects `A`.
fn selected<A: NamedAllocator>() -> bool {
    static SELECTED: std::sync::OnceLock<Vec<stackheap::allocators::AllocatorKind>> =
        std::sync::OnceLock::new();
    SELECTED
        .get_or_init(stackheap::allocators::selected_allocators)
        .contains(&A::KIND)
}

fn first_touch<A: NamedAllocator>(group: &mut Group, len: usize, faults: &mut Vec<FaultEntry>) {
    if !selected::<A>() {
        return;
    }
    let page = page_size();
    let alloc = A::KIND.name();
    let mut fresh = FaultMeter::default();
    let fresh_id = format!("first_touch_fresh/{alloc}");
    group.bench_function(BenchmarkId::new(&fresh_id, size_label(len)), |b| {
        b.iter_custom(|iters| {
            fresh.time(iters, || {
                black_box(first_touch_fresh(A::get(), len, page, black_box(7)));
            })
        })
    });
    let mut block = HeapBlock::new(A::get(), len);
    block.touch_pages(page, 0);
    let mut touched = FaultMeter::default();
    let touched_id = format!("first_touch_pretouched/{alloc}");
    group.bench_function(BenchmarkId::new(&touched_id, size_label(len)), |b| {
        b.iter_custom(|iters| {
            touched.time(iters, || {
                black_box(first_touch_pretouched(&mut block, page, black_box(7)));
            })
        })
    });
    record(faults, fresh_id, alloc, "fresh", len, fresh);
    record(faults, touched_id, alloc, "pretouched", len, touched);
}

fn first_touch_kernel(group: &mut Group, len: usize, faults: &mut Vec<FaultEntry>) {
    let page = page_size();
    let mut meter = FaultMeter::default();
    let id = "first_touch_fresh/mmap".to_owned();
    group.bench_function(BenchmarkId::new(&id, size_label(len)), |b| {
        b.iter_custom(|iters| {
            meter.time(iters, || {
                black_box(first_touch_mmap(len, page, black_box(7)));
            })
        })
    });
    record(faults, id, "mmap", "fresh", len, meter);
}

fn record(
    faults: &mut Vec<FaultEntry>,
    function: String,
    allocator: &'static str,
    mode: &'static str,
    size_bytes: usize,
    meter: FaultMeter,
) {
    // A benchmark skipped by a filter never ran: it has nothing to report.
    if meter.iterations > 0 {
        faults.push(FaultEntry {
            id: format!("stack_vs_heap/{function}/{}", size_label(size_bytes)),
            allocator,
            mode,
            size_bytes,
            minor_faults_per_iter: meter.per_iteration(),
        });
    }
}

fn box_new_large<const N: usize>(group: &mut Group) {
    group.throughput(Throughput::Bytes(N as u64));
    let id =
        |variant: &str| BenchmarkId::new(format!("box_new_large_{variant}/system"), size_label(N));
    group.bench_function(id("array"), |b| b.iter(|| box_new_array::<N>(black_box(7))));
    group.bench_function(id("zeroed"), |b| {
        b.iter(|| box_new_zeroed::<N>(black_box(7)))
    });
    group.bench_function(id("vec"), |b| b.iter(|| box_from_vec::<N>(black_box(7))));
}

fn main() {
    let mode = BenchMode::current();
    // A bad STACKHEAP_ALLOCATORS stops the run before anything is measured.
    selected::<System>();
    let mut c: Criterion = stackheap::criterion().configure_from_args();
    // Debug builds (cargo test) spend their time in unoptimised fill loops; the guard is meaningful only
    // in the optimised build that is measured.
    if mode != BenchMode::List && !cfg!(debug_assertions) {
        match check_heap_box_allocates() {
            Ok((heap_ns, reused_ns)) => eprintln!(
                "check: heap_box/system/64 B {heap_ns:.1} ns >= heap_reused/system/64 B {reused_ns:.1} ns: the allocation is measured"
            ),
            Err(msg) => {
                eprintln!("error: {msg}");
                std::process::exit(1);
            }
        }
    }

    let mut group = c.benchmark_group("stack_vs_heap");
    stack_and_heap::<8>(&mut group);
    stack_and_heap::<16>(&mut group);
    stack_and_heap::<64>(&mut group);
    stack_and_heap::<256>(&mut group);
    stack_and_heap::<1024>(&mut group);
    stack_and_heap::<4096>(&mut group);
    stack_and_heap::<16384>(&mut group);
    stack_and_heap::<65536>(&mut group);
    stack_and_heap::<262144>(&mut group);
    stack_and_heap::<1048576>(&mut group);

    group.finish();
    locality(&mut c);
    let mut group = c.benchmark_group("stack_vs_heap");

    let mut faults = Vec::new();
    for len in FIRST_TOUCH_SIZES {
        group.throughput(Throughput::Bytes(len as u64));
        first_touch_kernel(&mut group, len, &mut faults);
        first_touch::<System>(&mut group, len, &mut faults);
        first_touch::<Jemalloc>(&mut group, len, &mut faults);
        first_touch::<MiMalloc>(&mut group, len, &mut faults);
    }

    alignment::<4096>(&mut group);
    alignment::<65536>(&mut group);

    box_new_large::<65536>(&mut group);
    box_new_large::<262144>(&mut group);
    box_new_large::<1048576>(&mut group);
    group.finish();
    c.final_summary();

    if mode == BenchMode::Bench && !faults.is_empty() {
        println!("\nminor page faults per iteration (getrusage):");
        for f in &faults {
            println!("  {:<55} {:>8.2}", f.id, f.minor_faults_per_iter);
        }
        match write_results("first_touch", &faults) {
            Ok(path) => println!("wrote {}", path.display()),
            Err(e) => {
                eprintln!("error: could not write target/stackheap/first_touch.json: {e}");
                std::process::exit(1);
            }
        }
    }
}
