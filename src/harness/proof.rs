//! The startup proof: before a bench binary measures anything, it calls each of its workloads once,
//! compiled and optimised exactly as the build it measures, through a counting wrapper, and checks
//! what each claims: the allocations and frees it makes, through which allocator, how many bytes,
//! and the checksum of what it read. A failed proof is one line; a run never fails on timing.
//!
//! What this proves, and what not: the proof calls the same generic workload code as the measured
//! benchmark, with the allocator wrapped in a counter (`heap_box::<Counting<System>, 64>` where the
//! bench measures `heap_box::<System, 64>`). The counter's calls are as opaque to LLVM as
//! jemalloc's and mimalloc's are; glibc's `malloc`/`free`, which LLVM knows by name and may delete
//! in pairs, are kept by the `black_box` on every block's pointer in the shared code, which is what
//! the proof checks is still there. Stack workloads are counted through the binary's global
//! allocator, which must be [`ThreadCountingGlobal`] (checked).

use crate::data::id::{
    BenchId, HeapKind, LargeBox, Layout as NodeLayout, Owner, StackKind, TouchKind,
};
use crate::error::InputError;
use crate::workload::allocators::{
    AllocatorKind, AllocatorVisitor, ByRef, Counting, HeapAllocator, System, ThreadCountingGlobal,
};
use crate::workload::arrays::*;
use crate::workload::contention::Workload;
use crate::workload::first_touch::{GROWTH_BLOCK, heap_growth};
use crate::workload::locality::{
    ContiguousHeap, NODE_BYTES, Scattered, StackNodes, expected_walk, link_on_stack, walk,
};
use std::hint::black_box;

/// The seed every proof call fills with (any value: the checksums are computed for it).
const SEED: u8 = 7;

/// The working set of the proven list walks: the smallest the bench measures, quick to build.
const WALK_BYTES: usize = 16 << 10;
/// The proof thread's stack: the largest stack workload (1 MiB arrays, reserved twice over) with room.
const PROOF_STACK_BYTES: usize = 32 << 20;

/// What a workload must do in one call: the blocks and bytes it allocates (and frees again) through
/// the allocator it was handed, and through the global allocator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Claim {
    /// Allocations (each freed) through the named allocator.
    named: Named,
    /// Allocations through the global allocator by the calling thread, (blocks, bytes); `None`
    /// where starting threads allocates there (contention workloads).
    global: Option<(u64, u64)>,
    /// The checksum the call must return; `None`: any but zero (a body that did not run).
    checksum: Option<u64>,
}

/// Allocations a workload makes through the allocator it is handed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Named {
    /// Exactly this many blocks of this many bytes in all.
    Exactly(u64, u64),
    /// At least this many blocks (a contention round, with its set-up on top).
    AtLeast(u64),
}

/// The running proof of one bench binary: how many workload calls held, and the first that did not.
pub struct Proof {
    held: usize,
    /// Whether the binary's global allocator counts this thread's allocations.
    global_counts: bool,
}

impl Proof {
    /// Runs `prove` on a proof started in a thread of its own, with room for the largest stack
    /// workload, and returns the proof's summary. What a proof allocates and frees (a 1 MiB heap
    /// growth in 64 KiB blocks, lists, large boxes) then lives and dies in that thread's allocator
    /// caches and arena, not in the main thread's, which the benchmarks measure next. On the main
    /// thread, the growth left snmalloc's thread range holding a whole free 2 MiB chunk, after which
    /// every free of `heap_box`'s 1 MiB block went back to the global range and was decommitted
    /// (`madvise(MADV_FREE)`): the row read 317 µs instead of about 50 µs
    /// (results/2026-11-29-xeon-2vcpu-snmalloc-1mib-heap-box.md). A check must not change the
    /// state it checks before.
    pub fn in_own_thread(
        prove: impl FnOnce(&mut Proof) -> Result<(), InputError> + Send,
    ) -> Result<String, InputError> {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("stackheap-proof".into())
                .stack_size(PROOF_STACK_BYTES)
                .spawn_scoped(scope, || {
                    let mut proof = Proof::start();
                    prove(&mut proof).map(|()| proof.summary())
                })
                .map_err(|e| InputError(format!("proof: cannot start its thread: {e}")))?
                .join()
                .unwrap_or_else(|_| Err(InputError("proof: its thread panicked".into())))
        })
    }

    /// Starts a proof. A claim about the global allocator (the stack workloads allocate nothing)
    /// needs the binary's `#[global_allocator]` to be [`ThreadCountingGlobal`]; without it such a
    /// claim fails to be proven rather than passing unseen.
    pub fn start() -> Proof {
        let (before, _) = ThreadCountingGlobal::<System>::thread_counts();
        black_box(Box::new(black_box(1u64)));
        let (after, _) = ThreadCountingGlobal::<System>::thread_counts();
        Proof {
            held: 0,
            global_counts: after > before,
        }
    }

    /// Calls `call` with a counting wrapper around `A` and checks what it did against `claim`.
    fn check<A: HeapAllocator>(
        &mut self,
        (kind, alloc): (AllocatorKind, &'static A),
        id: &dyn std::fmt::Display,
        claim: Claim,
        call: impl FnOnce(&Counting<ByRef<A>>) -> u64,
    ) -> Result<(), InputError> {
        let counting = Counting::new(ByRef(alloc));
        let (allocs, bytes) = ThreadCountingGlobal::<System>::thread_counts();
        let sum = call(&counting);
        let (allocs_after, bytes_after) = ThreadCountingGlobal::<System>::thread_counts();
        let global = (allocs_after - allocs, bytes_after - bytes);
        let named = counting.counts();
        let fail = |what: String| {
            Err(InputError(format!(
                "proof failed: {id} {what}: the workload does not do what its name says in this build"
            )))
        };
        match claim.checksum {
            Some(want) if sum != want => {
                return fail(format!("returned checksum {sum}, expected {want}"));
            }
            None if sum == 0 => return fail("returned checksum 0: its body did not run".into()),
            _ => {}
        }
        if !named.balanced() {
            return fail(format!("left blocks unfreed through {}: {named:?}", kind));
        }
        match claim.named {
            Named::Exactly(blocks, bytes)
                if (named.allocs, named.bytes_allocated) != (blocks, bytes) =>
            {
                return fail(format!(
                    "made {} allocations ({} bytes) through {}, expected {blocks} ({bytes} bytes)",
                    named.allocs, named.bytes_allocated, kind
                ));
            }
            Named::AtLeast(blocks) if named.allocs < blocks => {
                return fail(format!(
                    "made {} allocations through {}, expected at least {blocks}",
                    named.allocs, kind
                ));
            }
            _ => {}
        }
        if claim.global.is_some() && !self.global_counts {
            return Err(InputError(format!(
                "proof: {id} claims what it allocates through the global allocator, which does not \
                 count in this binary: expected #[global_allocator] ThreadCountingGlobal"
            )));
        }
        if let Some((blocks, bytes)) = claim.global
            && global != (blocks, bytes)
        {
            return fail(format!(
                "made {} allocations ({} bytes) through the global allocator, expected {blocks} \
                 ({bytes} bytes)",
                global.0, global.1
            ));
        }
        self.held += 1;
        Ok(())
    }

    /// Proves a workload that touches no allocator at all (a stack workload, a walk over built nodes).
    fn allocates_nothing(
        &mut self,
        id: &dyn std::fmt::Display,
        checksum: u64,
        call: impl FnOnce() -> u64,
    ) -> Result<(), InputError> {
        let claim = Claim {
            named: Named::Exactly(0, 0),
            global: Some((0, 0)),
            checksum: Some(checksum),
        };
        self.check((AllocatorKind::System, &System), id, claim, |_| call())
    }

    /// Proves a workload that allocates `blocks` blocks of `bytes` in all through `A` and frees them.
    fn allocates_through<A: HeapAllocator>(
        &mut self,
        allocator: (AllocatorKind, &'static A),
        id: &dyn std::fmt::Display,
        (blocks, bytes): (u64, u64),
        checksum: u64,
        call: impl FnOnce(&Counting<ByRef<A>>) -> u64,
    ) -> Result<(), InputError> {
        let claim = Claim {
            named: Named::Exactly(blocks, bytes),
            global: Some((0, 0)),
            checksum: Some(checksum),
        };
        self.check(allocator, id, claim, call)
    }

    /// Proves the stack-vs-heap rows of size `N`: `stack_array` and `stack_reserve` allocate nothing,
    /// `heap_box` and `alloc_free` one block of N bytes through each allocator, `heap_reused` nothing
    /// in its body; each returns the checksum of what it wrote.
    pub fn stack_vs_heap<const N: usize>(
        &mut self,
        allocators: &[AllocatorKind],
    ) -> Result<(), InputError> {
        let page = page_size();
        let stack = |kind| BenchId::Stack {
            kind,
            bytes: N as u64,
        };
        self.allocates_nothing(&stack(StackKind::Array), expected_checksum(N, SEED), || {
            stack_array::<N>(black_box(SEED))
        })?;
        self.allocates_nothing(
            &stack(StackKind::Reserve),
            expected_touch_checksum(N, page, SEED),
            || stack_reserve::<N>(page, black_box(SEED)),
        )?;
        for &kind in allocators {
            kind.visit(HeapRows::<N> { proof: self, page })?;
        }
        Ok(())
    }

    /// Proves the rows measured once: the list walks allocate nothing and visit every node, the
    /// alignment loop reads what it wrote, each large box is one global block of N bytes, the mmap
    /// first touch skips the heap and a heap growth allocates its blocks through the allocator.
    pub fn once_parts(&mut self, allocators: &[AllocatorKind]) -> Result<(), InputError> {
        let mut nodes = StackNodes::<WALK_BYTES>::new();
        let head = link_on_stack(&mut nodes);
        let stack_walk = BenchId::Locality {
            layout: NodeLayout::Contiguous,
            owner: Owner::Stack,
            bytes: WALK_BYTES as u64,
        };
        let nodes_walked = expected_walk(WALK_BYTES / NODE_BYTES);
        self.allocates_nothing(&stack_walk, nodes_walked, || walk(black_box(head)))?;
        for &kind in allocators {
            kind.visit(OnceRows { proof: self })?;
        }
        let mut block = HeapBlock::with_align(&System, 4096 + 64, 64);
        for offset in ALIGNMENT_OFFSETS {
            let id = BenchId::Alignment {
                offset: offset as u8,
                bytes: 4096,
            };
            self.allocates_nothing(&id, expected_checksum(4096, SEED), || {
                fill_at_offset::<System, 4096>(&mut block, black_box(offset), black_box(SEED))
            })?;
        }
        let large = |how| BenchId::BoxNewLarge {
            how,
            allocator: AllocatorKind::System,
            bytes: 65536,
        };
        let global_box = |proof: &mut Proof, how, call: fn(u8) -> u64| {
            let claim = Claim {
                named: Named::Exactly(0, 0),
                global: Some((1, 65536)),
                checksum: Some(2 * u64::from(SEED)),
            };
            proof.check((AllocatorKind::System, &System), &large(how), claim, |_| {
                call(black_box(SEED))
            })
        };
        global_box(self, LargeBox::Array, box_new_array::<65536>)?;
        global_box(self, LargeBox::Zeroed, box_new_zeroed::<65536>)?;
        global_box(self, LargeBox::Vec, box_from_vec::<65536>)?;
        let page = page_size();
        let mmap = BenchId::FirstTouch {
            kind: TouchKind::Mmap,
            allocator: None,
            bytes: 65536,
        };
        self.allocates_nothing(&mmap, expected_touch_checksum(65536, page, SEED), || {
            first_touch_mmap(65536, page, black_box(SEED))
        })
    }

    /// Proves every contention workload at each thread count through each allocator, one round:
    /// everything allocated is freed through the allocator named, at least one allocation per
    /// operation the workload claims (`stack_control`: none), and a non-zero checksum.
    pub fn contention(
        &mut self,
        threads: &[usize],
        allocators: &[AllocatorKind],
    ) -> Result<(), InputError> {
        for workload in Workload::ALL {
            for &t in threads {
                for &kind in allocators {
                    kind.visit(ContentionRow {
                        proof: self,
                        workload,
                        threads: t,
                    })?;
                }
            }
        }
        Ok(())
    }

    /// The line a bench prints when its proof held.
    pub fn summary(&self) -> String {
        format!(
            "proof: {} workload calls allocate what they claim and read back what they wrote, in this build (opt-level {}{})",
            self.held,
            env!("STACKHEAP_OPT_LEVEL"),
            if cfg!(debug_assertions) {
                ", debug assertions on"
            } else {
                ""
            }
        )
    }
}

struct HeapRows<'p, const N: usize> {
    proof: &'p mut Proof,
    page: usize,
}

impl<const N: usize> AllocatorVisitor for HeapRows<'_, N> {
    type Output = Result<(), InputError>;
    fn visit<A: HeapAllocator>(self, kind: AllocatorKind, alloc: &'static A) -> Self::Output {
        let (proof, page) = (self.proof, self.page);
        let id = |heap| BenchId::Heap {
            kind: heap,
            allocator: kind,
            bytes: N as u64,
        };
        let one_block = (1, N as u64);
        proof.allocates_through(
            (kind, alloc),
            &id(HeapKind::Box),
            one_block,
            expected_checksum(N, SEED),
            |c| heap_box::<_, N>(c, black_box(SEED)),
        )?;
        proof.allocates_through(
            (kind, alloc),
            &id(HeapKind::AllocFree),
            one_block,
            expected_touch_checksum(N, page, SEED),
            |c| alloc_free::<_, N>(c, page, black_box(SEED)),
        )?;
        // The block is allocated outside the proven call, as the bench allocates it before timing.
        let counting = Counting::new(ByRef(alloc));
        let mut block = HeapBlock::new(&counting, N);
        proof.allocates_through(
            (kind, alloc),
            &id(HeapKind::Reused),
            (0, 0),
            expected_checksum(N, SEED),
            |_| heap_reused::<_, N>(&mut block, black_box(SEED)),
        )
    }
}

struct OnceRows<'p> {
    proof: &'p mut Proof,
}

impl AllocatorVisitor for OnceRows<'_> {
    type Output = Result<(), InputError>;
    fn visit<A: HeapAllocator>(self, kind: AllocatorKind, alloc: &'static A) -> Self::Output {
        let proof = self.proof;
        let id = |layout| BenchId::Locality {
            layout,
            owner: Owner::Heap(kind),
            bytes: WALK_BYTES as u64,
        };
        let nodes_walked = expected_walk(WALK_BYTES / NODE_BYTES);
        let contiguous = ContiguousHeap::new(alloc, WALK_BYTES);
        proof.allocates_nothing(&id(NodeLayout::Contiguous), nodes_walked, || {
            walk(black_box(contiguous.head))
        })?;
        let scattered = Scattered::new(alloc, WALK_BYTES, 42);
        proof.allocates_nothing(&id(NodeLayout::Scattered), nodes_walked, || {
            walk(black_box(scattered.head))
        })?;
        // A growth of 1 MiB: its blocks of GROWTH_BLOCK bytes and the vector holding them.
        let total = 1 << 20;
        let blocks = (total / GROWTH_BLOCK) as u64;
        let growth = BenchId::FirstTouch {
            kind: TouchKind::HeapGrowth,
            allocator: Some(kind),
            bytes: total as u64,
        };
        let table = blocks * size_of::<HeapBlock<'_, Counting<ByRef<A>>>>() as u64;
        let pages = (total / page_size()) as u64;
        // The growth returns what it measured, not a checksum: the pages it touched stand in for one.
        // Its fault meter reads /proc through the global allocator, outside the timed touch.
        let claim = Claim {
            named: Named::Exactly(blocks + 1, total as u64 + table),
            global: None,
            checksum: Some(pages),
        };
        proof.check((kind, alloc), &growth, claim, |c| {
            heap_growth(c, total).pages
        })
    }
}

struct ContentionRow<'p> {
    proof: &'p mut Proof,
    workload: Workload,
    threads: usize,
}

impl AllocatorVisitor for ContentionRow<'_> {
    type Output = Result<(), InputError>;
    fn visit<A: HeapAllocator>(self, kind: AllocatorKind, alloc: &'static A) -> Self::Output {
        let Self {
            proof,
            workload,
            threads,
        } = self;
        let id = BenchId::Contention {
            workload,
            allocator: kind,
            threads,
        };
        // `stack_control` stands in for allocations it never makes; the others make at least one
        // allocation per replacement, object or item of the round, plus their set-up.
        let named = if !workload.allocates() {
            Named::Exactly(0, 0)
        } else {
            Named::AtLeast(workload.ops_per_round(threads) / 2)
        };
        let claim = Claim {
            named,
            global: None,
            checksum: None,
        };
        let mut spawn_error = None;
        let proven = proof.check((kind, alloc), &id, claim, |c| {
            match workload.run(c, threads, 1) {
                Ok((_, sum)) => sum,
                Err(e) => {
                    spawn_error = Some(e);
                    1
                }
            }
        });
        match spawn_error {
            Some(e) => Err(InputError(format!("proof failed: {id}: {e}"))),
            None => proven,
        }
    }
}
