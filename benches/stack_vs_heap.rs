//! Stack vs heap: stack-local arrays against heap blocks from each allocator, by size, with
//! first-touch page faults, the cost of misalignment, and the hidden stack copy of `Box::new([0; N])`.
//! Run: `cargo bench --bench stack_vs_heap`.
//! Ids: `stack_vs_heap/<variant>/<allocator>/<size>` (`stack_vs_heap/stack_array/<size>`,
//! `stack_vs_heap/alignment/<offset>/<size>`: the same loop at a byte offset past a cache line;
//! `stack_vs_heap/alloc_free/<allocator>/<size>` and `stack_vs_heap/stack_reserve/<size>`: the cost
//! of getting N bytes, touching one byte per page, and giving them back, from the heap and the stack);
//! `locality/{contiguous,scattered}/<stack|allocator>/<working set>`: one list walk over nodes that
//! are contiguous (stack array, one heap block) or scattered (one allocation each, in random order);
//! `first_touch/<variant>[/<allocator>]/<bytes>`: the first touch of fresh memory, heap and stack,
//! with minor faults per page in `target/stackheap/first_touch.json`.

mod common;

use common::fail;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use stackheap::data::faults::{FaultEntry, MemorySource, TouchState};
use stackheap::data::id::{
    BenchId, Family, HeapKind, LargeBox, Layout, Owner, StackKind, TouchKind,
};
use stackheap::data::placement::PlacementEntry;
use stackheap::harness::elsewhere::Elsewhere;
use stackheap::harness::output::{BenchFilter, BenchMode};
use stackheap::harness::proof::Proof;
use stackheap::harness::settings::Process;
use stackheap::harness::settings::measured_here;
use stackheap::harness::touch_meter::{HeapTouchRow, TouchMeter};
use stackheap::workload::allocators::{AllocatorKind, AllocatorVisitor};
use stackheap::workload::allocators::{HeapAllocator, System};
use stackheap::workload::arrays::*;
use stackheap::workload::first_touch::*;
use std::hint::black_box;

type Group<'a> = BenchmarkGroup<'a, WallTime>;

// Counts each thread's allocations through the global allocator, so that the startup proof can see
// that the stack workloads allocate nothing and a large box exactly one block. No measured heap row
// allocates through it (they are handed their allocator); the large boxes, tens of microseconds each,
// carry its two thread-local increments.
#[global_allocator]
static GLOBAL: stackheap::workload::allocators::ThreadCountingGlobal<std::alloc::System> =
    stackheap::workload::allocators::ThreadCountingGlobal(std::alloc::System);

fn stack_and_heap<const N: usize>(
    group: &mut Group,
    placements: &mut Vec<PlacementEntry>,
    elsewhere: &mut Elsewhere,
) {
    group.throughput(Throughput::Bytes(N as u64));
    let stack = |kind| BenchId::Stack {
        kind,
        bytes: N as u64,
    };
    group.bench_function(stack(StackKind::Array).criterion_id(), |b| {
        b.iter(|| stack_array::<N>(black_box(7)))
    });
    let page = page_size();
    group.bench_function(stack(StackKind::Reserve).criterion_id(), |b| {
        b.iter(|| stack_reserve::<N>(page, black_box(7)))
    });
    for &kind in &settings().process.order(selection().to_vec()) {
        kind.visit(Heap::<N> {
            group: &mut *group,
            placements: &mut *placements,
        });
    }
    // The same rows of each library named at run time, timed by a worker it serves.
    for &allocator in &settings().elsewhere {
        for &kind in HeapKind::ALL {
            let id = BenchId::Heap {
                kind,
                allocator,
                bytes: N as u64,
            };
            elsewhere.bench(group, allocator, &id, fail);
        }
    }
}

/// [`heap`] for an allocator chosen at run time.
struct Heap<'g, 'c, 'p, const N: usize> {
    group: &'g mut Group<'c>,
    placements: &'p mut Vec<PlacementEntry>,
}

impl<const N: usize> AllocatorVisitor for Heap<'_, '_, '_, N> {
    type Output = ();
    fn visit<A: HeapAllocator>(self, kind: AllocatorKind, alloc: &'static A) {
        heap::<A, N>(kind, alloc, self.group, self.placements);
    }
}

fn heap<A: HeapAllocator, const N: usize>(
    allocator: AllocatorKind,
    alloc: &'static A,
    group: &mut Group,
    placements: &mut Vec<PlacementEntry>,
) {
    let id = |kind| BenchId::Heap {
        kind,
        allocator,
        bytes: N as u64,
    };
    let page = page_size();
    group.bench_function(id(HeapKind::AllocFree).criterion_id(), |b| {
        b.iter(|| alloc_free::<A, N>(alloc, page, black_box(7)))
    });
    group.bench_function(id(HeapKind::Box).criterion_id(), |b| {
        b.iter(|| heap_box::<A, N>(alloc, black_box(7)))
    });
    let mut block = HeapBlock::new(alloc, N);
    let mut ran = false;
    group.bench_function(id(HeapKind::Reused).criterion_id(), |b| {
        ran = true;
        b.iter(|| heap_reused::<A, N>(&mut block, black_box(7)))
    });
    if ran {
        placements.push(PlacementEntry {
            id: id(HeapKind::Reused).to_string(),
            placement: block.placement(),
        });
    }
}

/// The list walk over contiguous and scattered nodes, by working set. Flat sampling with 10 samples:
/// one walk over 64 MiB of scattered nodes takes tens of milliseconds.
fn locality(c: &mut Criterion, elsewhere: &mut Elsewhere) {
    use stackheap::workload::locality::*;
    let mut group = c.benchmark_group(Family::Locality.name());
    group
        .sampling_mode(criterion::SamplingMode::Flat)
        .sample_size(10);
    locality_on_stack::<{ 16 << 10 }>(&mut group);
    locality_on_stack::<{ 256 << 10 }>(&mut group);
    locality_on_stack::<{ 2 << 20 }>(&mut group);
    for ws in WORKING_SETS {
        group.throughput(Throughput::Elements((ws / NODE_BYTES) as u64));
        for kind in AllocatorKind::ALL {
            kind.visit(LocalityOnHeap(&mut group, ws));
        }
        for &allocator in &settings().elsewhere {
            for layout in [Layout::Contiguous, Layout::Scattered] {
                let id = BenchId::Locality {
                    layout,
                    owner: Owner::Heap(allocator),
                    bytes: ws as u64,
                };
                if wanted(&id.to_string()) {
                    elsewhere.bench(&mut group, allocator, &id, fail);
                }
            }
        }
    }
    group.finish();
}

fn locality_on_stack<const BYTES: usize>(group: &mut Group) {
    use stackheap::workload::locality::*;
    debug_assert!(BYTES <= STACK_WORKING_SET_MAX);
    group.throughput(Throughput::Elements((BYTES / NODE_BYTES) as u64));
    // The nodes live in this frame, on the bench thread's stack, while Criterion times the walks.
    let mut nodes = StackNodes::<BYTES>::new();
    let head = link_on_stack(&mut nodes);
    let id = BenchId::Locality {
        layout: Layout::Contiguous,
        owner: Owner::Stack,
        bytes: BYTES as u64,
    };
    group.bench_function(id.criterion_id(), |b| b.iter(|| walk(black_box(head))));
}

/// [`locality_on_heap`] for an allocator chosen at run time, at one working set.
struct LocalityOnHeap<'g, 'c>(&'g mut Group<'c>, usize);

impl AllocatorVisitor for LocalityOnHeap<'_, '_> {
    type Output = ();
    fn visit<A: HeapAllocator>(self, kind: AllocatorKind, alloc: &'static A) {
        locality_on_heap(kind, alloc, self.0, self.1);
    }
}

fn locality_on_heap<A: HeapAllocator>(
    kind: AllocatorKind,
    alloc: &'static A,
    group: &mut Group,
    working_set: usize,
) {
    use stackheap::workload::locality::*;
    if !selection().contains(&kind) {
        return;
    }
    let id = |layout| BenchId::Locality {
        layout,
        owner: Owner::Heap(kind),
        bytes: working_set as u64,
    };
    // Building 64 MiB of scattered nodes takes a while: only for a benchmark the filter selects.
    let contiguous = id(Layout::Contiguous);
    if wanted(&contiguous.to_string()) {
        let nodes = ContiguousHeap::new(alloc, working_set);
        group.bench_function(contiguous.criterion_id(), |b| {
            b.iter(|| walk(black_box(nodes.head)))
        });
    }
    let scattered = id(Layout::Scattered);
    if wanted(&scattered.to_string()) {
        let nodes = Scattered::new(alloc, working_set, 42);
        group.bench_function(scattered.criterion_id(), |b| {
            b.iter(|| walk(black_box(nodes.head)))
        });
    }
}

/// Whether the benchmark filter (Criterion's, read the same way) selects `id`.
fn wanted(id: &str) -> bool {
    settings().filter.selects(id)
}

/// The run's settings, read and checked once at the start of `main`: a bad value ends the run with
/// one line before anything is measured.
struct Settings {
    /// The allocators this process measures itself ([`measured_here`]).
    allocators: Vec<AllocatorKind>,
    /// Libraries named at run time that it measures through their own workers ([`Elsewhere`]).
    elsewhere: Vec<AllocatorKind>,
    filter: BenchFilter,
    process: Process,
}

static SETTINGS: std::sync::OnceLock<Settings> = std::sync::OnceLock::new();

fn settings() -> &'static Settings {
    SETTINGS.get_or_init(|| {
        let or_fail = |e: stackheap::error::InputError| -> ! { fail(&e.to_string()) };
        let chosen =
            stackheap::harness::settings::allocators_from_env().unwrap_or_else(|e| or_fail(e));
        let here = measured_here(&chosen).unwrap_or_else(|e| or_fail(e));
        Settings {
            elsewhere: chosen.into_iter().filter(|k| !here.contains(k)).collect(),
            allocators: here,
            filter: BenchFilter::from_env().unwrap_or_else(|e| or_fail(e)),
            process: Process::from_env().unwrap_or_else(|e| or_fail(e)),
        }
    })
}

/// The same fill-and-read loop at each offset of `ALIGNMENT_OFFSETS` past a cache-line boundary.
fn alignment<const N: usize>(group: &mut Group) {
    debug_assert!(ALIGNMENT_SIZES.contains(&N));
    group.throughput(Throughput::Bytes(N as u64));
    let mut block = HeapBlock::with_align(&System, N + 64, 64);
    for offset in ALIGNMENT_OFFSETS {
        let id = BenchId::Alignment {
            offset: offset as u8,
            bytes: N as u64,
        };
        group.bench_function(id.criterion_id(), |b| {
            b.iter(|| fill_at_offset::<System, N>(&mut block, black_box(offset), black_box(7)))
        });
    }
}

/// The allocators `STACKHEAP_ALLOCATORS` selects (all three when unset), read once.
fn selection() -> &'static [AllocatorKind] {
    &settings().allocators
}

/// First touch of memory new to the process, heap and stack, with minor faults per page. Flat
/// sampling with 10 samples: one growth to 64 MiB faults in 16,384 pages.
fn first_touch(c: &mut Criterion, faults: &mut Vec<FaultEntry>, elsewhere: &mut Elsewhere) {
    let mut group = c.benchmark_group(Family::FirstTouch.name());
    // Half the suite's usual time: faults per page barely vary, and untimed set-up (a new thread,
    // giving memory back) makes each benchmark take longer than its measured time. Half that again
    // in the processes after the first, which check its times rather than count its faults.
    let ms = if settings().process.runs_once_parts() {
        |ms: u64| std::time::Duration::from_millis(ms)
    } else {
        |ms: u64| std::time::Duration::from_millis(ms / 2)
    };
    group
        .sampling_mode(criterion::SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(ms(200))
        .measurement_time(ms(600));
    let page = page_size();
    for bytes in FIRST_TOUCH_SIZES {
        group.throughput(Throughput::Bytes(bytes as u64));
        let pages = bytes / page;
        let plain = |kind| BenchId::FirstTouch {
            kind,
            allocator: None,
            bytes: bytes as u64,
        };
        touch_bench(
            &mut group,
            faults,
            (
                plain(TouchKind::Mmap),
                MemorySource::Mmap,
                TouchState::Fresh,
            ),
            || {
                Touched::measure(pages, || {
                    black_box(first_touch_mmap(bytes, page, black_box(7)));
                })
            },
        );
        touch_bench(
            &mut group,
            faults,
            (
                plain(TouchKind::StackFreshThread),
                MemorySource::Stack,
                TouchState::Fresh,
            ),
            || spawned(stack_fresh_thread(bytes)),
        );
        let kinds = [TouchKind::HeapFreshThread, TouchKind::Pretouched];
        heap_touches(&mut group, faults, elsewhere, bytes, kinds);
    }
    for bytes in GROWTH_SIZES {
        group.throughput(Throughput::Bytes(bytes as u64));
        let kinds = [TouchKind::HeapGrowth, TouchKind::HeapRegrowth];
        heap_touches(&mut group, faults, elsewhere, bytes, kinds);
    }
    group.finish();
}

/// The first touch a fresh thread made; a thread that cannot start ends the run with one line.
fn spawned(touched: std::io::Result<Touched>) -> Touched {
    touched.unwrap_or_else(|e| {
        fail(&format!(
            "cannot start a thread for a first-touch benchmark: {e}"
        ))
    })
}

/// Benchmarks `touch` as `id` (the time is the touch's own) and records its faults per page, with
/// where the memory came from and in what state.
fn touch_bench(
    group: &mut Group,
    faults: &mut Vec<FaultEntry>,
    row: (BenchId, MemorySource, TouchState),
    mut touch: impl FnMut() -> Touched,
) {
    metered(group, faults, row, |meter, iters| {
        meter.time(iters, || {}, &mut touch)
    });
}

/// Benchmarks `id`, whose iterations `time` runs and counts into a meter, and records its faults per
/// page, with where the memory came from and in what state.
fn metered(
    group: &mut Group,
    faults: &mut Vec<FaultEntry>,
    (id, memory, mode): (BenchId, MemorySource, TouchState),
    mut time: impl FnMut(&mut TouchMeter, u64) -> std::time::Duration,
) {
    let mut meter = TouchMeter::default();
    group.bench_function(id.criterion_id(), |b| {
        b.iter_custom(|iters| time(&mut meter, iters))
    });
    let bytes = id.bytes().unwrap_or_default() as usize;
    faults.extend(meter.entry(id.to_string(), memory, mode, bytes));
}

/// The heap rows of first touch of `kinds` at `bytes`, for every allocator: measured here
/// ([`HeapTouchRow`]), or by the worker of a library named at run time, which runs the same row.
fn heap_touches(
    group: &mut Group,
    faults: &mut Vec<FaultEntry>,
    elsewhere: &mut Elsewhere,
    bytes: usize,
    kinds: [TouchKind; 2],
) {
    let here = selection().iter().map(|&a| (a, true));
    let there = settings().elsewhere.iter().map(|&a| (a, false));
    for (allocator, measured_here) in here.chain(there) {
        for kind in kinds {
            let id = BenchId::FirstTouch {
                kind,
                allocator: Some(allocator),
                bytes: bytes as u64,
            };
            let state = HeapTouchRow::state_of(kind).expect("a heap kind");
            let mut row = measured_here
                .then(|| HeapTouchRow::new(kind, allocator, bytes).expect("a heap kind"));
            let name = id.to_string();
            metered(
                group,
                faults,
                (id, allocator.into(), state),
                |meter, iters| match &mut row {
                    Some(row) => row.time(meter, iters).unwrap_or_else(|e| fail(&e)),
                    None => {
                        let (elapsed, touched) = elsewhere
                            .touch(allocator, &name, iters)
                            .unwrap_or_else(|e| fail(&e));
                        meter.add(&touched);
                        elapsed
                    }
                },
            );
        }
    }
}

fn box_new_large<const N: usize>(group: &mut Group) {
    group.throughput(Throughput::Bytes(N as u64));
    let id = |how| {
        BenchId::BoxNewLarge {
            how,
            allocator: AllocatorKind::System,
            bytes: N as u64,
        }
        .criterion_id()
    };
    group.bench_function(id(LargeBox::Array), |b| {
        b.iter(|| box_new_array::<N>(black_box(7)))
    });
    group.bench_function(id(LargeBox::Zeroed), |b| {
        b.iter(|| box_new_zeroed::<N>(black_box(7)))
    });
    group.bench_function(id(LargeBox::Vec), |b| {
        b.iter(|| box_from_vec::<N>(black_box(7)))
    });
}

/// Locality, alignment, large boxes and first touch (a library's locality walks in its worker, one
/// `elsewhere` for the whole process).
fn once_parts(c: &mut Criterion, faults: &mut Vec<FaultEntry>, elsewhere: &mut Elsewhere) {
    locality(c, elsewhere);
    let mut group = c.benchmark_group(Family::StackVsHeap.name());
    alignment::<4096>(&mut group);
    alignment::<65536>(&mut group);
    box_new_large::<65536>(&mut group);
    box_new_large::<262144>(&mut group);
    box_new_large::<1048576>(&mut group);
    group.finish();
    first_touch(c, faults, elsewhere);
}

/// Calls every workload this binary measures once, through a counting wrapper, in this very build,
/// and checks what each allocates and reads back (`harness::proof`), before anything is timed: on a
/// thread of its own, so that the benchmarks start from the allocators' state the proof found.
fn prove(process: Process) -> Result<(), stackheap::error::InputError> {
    let summary = Proof::in_own_thread(|proof| {
        macro_rules! prove_at {
            ($($size:literal),*) => {
                $(proof.stack_vs_heap::<$size>(selection())?;)*
            };
        }
        stackheap::stack_vs_heap_sizes!(prove_at);
        if process.runs_checked_parts() {
            proof.once_parts(selection())?;
        }
        Ok(())
    })?;
    eprintln!("{summary}");
    Ok(())
}

fn main() {
    let mode = BenchMode::current();
    // A bad STACKHEAP_ALLOCATORS, STACKHEAP_PROCESS or filter stops the run, with one line, before
    // anything is measured.
    let process = settings().process;
    let mut c: Criterion = stackheap::criterion(process).configure_from_args();
    if mode != BenchMode::List {
        prove(process).unwrap_or_else(|e| fail(&e.to_string()));
    }

    let mut group = c.benchmark_group(Family::StackVsHeap.name());
    let mut placements = Vec::new();
    let mut elsewhere = Elsewhere::new(env!("CARGO_BIN_EXE_stackheap-worker"));
    // Every size of the one list (`workload::arrays::SIZES`), each a const-generic instance.
    macro_rules! stack_and_heap_at {
        ($($size:literal),*) => {
            $(stack_and_heap::<$size>(&mut group, &mut placements, &mut elsewhere);)*
        };
    }
    stackheap::stack_vs_heap_sizes!(stack_and_heap_at);

    group.finish();
    // Large effects, slow to set up: measured by the first two processes of a repeated run (each
    // such row then has a second measurement to be checked against) and by the rounds that measure
    // unsettled rows again; their fault counts are recorded by the first process.
    let mut faults = Vec::new();
    if process.runs_checked_parts() {
        once_parts(&mut c, &mut faults, &mut elsewhere);
    }
    c.final_summary();

    if mode == BenchMode::Bench && process.runs_once_parts() && !faults.is_empty() {
        println!(
            "\nminor page faults (getrusage) per iteration and per touched page; huge page faults per iteration (system-wide):"
        );
        for f in &faults {
            let per_page = f.faults_per_page().unwrap_or(f64::NAN);
            let huge = f.huge_faults_per_iter.unwrap_or(f64::NAN);
            println!(
                "  {:<50} {:>8.1} {per_page:>6.2} {huge:>6.1}",
                f.id, f.minor_faults_per_iter
            );
        }
        common::write_or_exit("first_touch", &faults);
    }
    if mode == BenchMode::Bench && !placements.is_empty() {
        common::write_or_exit("placement", &placements);
    }
    common::say_where_results_are(mode, process);
}
