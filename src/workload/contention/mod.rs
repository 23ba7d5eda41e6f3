//! Shared-heap contention: threads have their own stacks but share one heap. The registry of the
//! multi-threaded allocate/free workloads, each one definition ([`ContentionWorkload`], one file in this
//! folder) and one line of the `workloads!` list, from which [`Workload`] and everything that lists,
//! names or runs a workload derive.
//!
//! Every allocation a workload makes goes through the allocator it is given: blocks are
//! [`HeapBlock`](crate::workload::arrays::HeapBlock)s of that allocator and every table or batch is an
//! `allocator_api2` `Vec` in it.

mod blocks;
mod runner;
#[cfg(test)]
mod tests;

pub use blocks::Rng;
pub use runner::{SpawnError, run_workers};

use crate::workload::allocators::{AllocatorKind, AllocatorVisitor, HeapAllocator};
use std::alloc::GlobalAlloc;
use std::time::Duration;

/// What a workload run returns: the elapsed time from the earliest worker start to the latest worker
/// end, and a checksum of the work.
pub type RunResult = Result<(Duration, u64), SpawnError>;

/// Everything the suite knows about one contention workload. A workload is one file in this folder
/// implementing this trait plus one line in the `workloads!` list below; benches, the proofs, the
/// worker, the memory and latency runs, the gate and the report derive from it.
pub trait ContentionWorkload {
    /// The stable name, in benchmark ids and result files.
    const NAME: &'static str;
    /// What a reader must know to read its numbers where its id does not say it (shown under its
    /// chart in the report).
    const NOTE: Option<&'static str> = None;
    /// Whether it allocates at all (false only for the stack-only control).
    const ALLOCATES: bool = true;
    /// Whether `stack_control` (the same per-operation work with no heap, on as many threads) is a
    /// fair ideal line for it: true where each thread does replacements or hand-overs of its own,
    /// false where threads are counted differently or are part of the cost.
    const HAS_STACK_CONTROL_LINE: bool = false;
    /// Whether the latency run samples each of its operations.
    const IN_LATENCY: bool = false;
    /// Whether the A/B gate judges it (at one and two threads, for every allocator).
    const IN_GATE: bool = false;
    /// Whether the report's findings quote its peak memory.
    const IN_MEMORY_FINDINGS: bool = false;

    /// Allocator operations (allocations + frees) one round performs, over all `threads`.
    fn ops_per_round(threads: usize) -> u64;

    /// The operating-system threads a run with thread count `threads` uses at once.
    fn os_threads(threads: usize) -> usize {
        threads
    }

    /// Runs `rounds` rounds with `threads` threads, every allocation through `alloc`.
    fn run<A: GlobalAlloc + Sync>(alloc: &A, threads: usize, rounds: u64) -> RunResult;
}

/// Declares [`Workload`], one variant per workload file, and everything derived from the list.
macro_rules! workloads {
    ($($(#[$doc:meta])* $variant:ident => $module:ident::$ty:ident,)*) => {
        $(mod $module;)*

        /// The workloads, in the order benches and reports list them (the derived `Ord` is that
        /// order: reports sort by it).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Workload {
            $($(#[$doc])* $variant,)*
        }

        impl Workload {
            /// Every workload, in the order reports list them.
            pub const ALL: [Workload; [$(stringify!($variant)),*].len()] = [$(Self::$variant),*];

            /// The stable name ([`ContentionWorkload::NAME`]).
            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => <$module::$ty as ContentionWorkload>::NAME,)*
                }
            }

            /// The reader's note ([`ContentionWorkload::NOTE`]).
            pub const fn note(self) -> Option<&'static str> {
                match self {
                    $(Self::$variant => <$module::$ty as ContentionWorkload>::NOTE,)*
                }
            }

            /// [`ContentionWorkload::ALLOCATES`].
            pub const fn allocates(self) -> bool {
                match self {
                    $(Self::$variant => <$module::$ty as ContentionWorkload>::ALLOCATES,)*
                }
            }

            /// [`ContentionWorkload::HAS_STACK_CONTROL_LINE`].
            pub const fn has_stack_control_line(self) -> bool {
                match self {
                    $(Self::$variant => <$module::$ty as ContentionWorkload>::HAS_STACK_CONTROL_LINE,)*
                }
            }

            /// [`ContentionWorkload::IN_LATENCY`].
            pub const fn in_latency(self) -> bool {
                match self {
                    $(Self::$variant => <$module::$ty as ContentionWorkload>::IN_LATENCY,)*
                }
            }

            /// [`ContentionWorkload::IN_GATE`].
            pub const fn in_gate(self) -> bool {
                match self {
                    $(Self::$variant => <$module::$ty as ContentionWorkload>::IN_GATE,)*
                }
            }

            /// [`ContentionWorkload::IN_MEMORY_FINDINGS`].
            pub const fn in_memory_findings(self) -> bool {
                match self {
                    $(Self::$variant => <$module::$ty as ContentionWorkload>::IN_MEMORY_FINDINGS,)*
                }
            }

            /// [`ContentionWorkload::ops_per_round`].
            pub fn ops_per_round(self, threads: usize) -> u64 {
                match self {
                    $(Self::$variant => <$module::$ty as ContentionWorkload>::ops_per_round(threads),)*
                }
            }

            /// [`ContentionWorkload::os_threads`].
            pub fn os_threads(self, threads: usize) -> usize {
                match self {
                    $(Self::$variant => <$module::$ty as ContentionWorkload>::os_threads(threads),)*
                }
            }

            /// [`ContentionWorkload::run`].
            pub fn run<A: GlobalAlloc + Sync>(self, alloc: &A, threads: usize, rounds: u64) -> RunResult {
                match self {
                    $(Self::$variant => <$module::$ty as ContentionWorkload>::run(alloc, threads, rounds),)*
                }
            }
        }
    };
}

workloads! {
    /// Each thread replaces random blocks of its own working set: no object crosses threads.
    LocalChurn => local_churn::LocalChurn,
    /// Threads in a ring: each allocates batches and hands them to the next, which frees them.
    CrossThreadFree => cross_thread_free::CrossThreadFree,
    /// P producer threads allocate 64 B objects and send them in batches to P consumer threads that
    /// free them (xmalloc-test's shape).
    ProducerConsumer => producer_consumer::ProducerConsumer,
    /// `producer_consumer` with mixed sizes, 16..=1024 B, skewed toward small.
    ProducerConsumerMixed => producer_consumer_mixed::ProducerConsumerMixed,
    /// `producer_consumer` whose consumers are threads started with `pthread_create` that never
    /// allocate (xmalloc-test's consumers).
    ProducerConsumerForeign => producer_consumer_foreign::ProducerConsumerForeign,
    /// Random slot replacement on slots first filled by another thread (larson).
    Larson => larson::Larson,
    /// Generations of short-lived threads: each allocates a working set, keeps half, hands half to
    /// the next generation, and exits (mstress's shape). Thread creation is part of the pattern.
    ThreadChurn => thread_churn::ThreadChurn,
    /// `local_churn`'s random choices and writes on a stack buffer: no allocator at all.
    StackControl => stack_control::StackControl,
    /// A rayon pool mapping items to freshly allocated buffers and collecting them.
    RayonCollect => rayon_collect::RayonCollect,
}

impl Workload {
    /// The workload of this name, if there is one.
    pub fn from_name(name: &str) -> Option<Workload> {
        Self::ALL.into_iter().find(|w| w.name() == name)
    }

    /// Every name, for messages that say what was expected.
    pub fn names() -> String {
        Self::ALL.map(Workload::name).join(", ")
    }
}

impl std::fmt::Display for Workload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

// Written and read by name, so the file format is the one definition's `NAME`.
impl serde::Serialize for Workload {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Workload {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Workload::from_name(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown workload `{name}`: expected one of {}",
                Workload::names()
            ))
        })
    }
}

/// Runs `workload` through the allocator named `kind`.
pub fn run_named(
    kind: AllocatorKind,
    workload: Workload,
    threads: usize,
    rounds: u64,
) -> RunResult {
    struct Run(Workload, usize, u64);
    impl AllocatorVisitor for Run {
        type Output = RunResult;
        fn visit<A: HeapAllocator>(self, _: AllocatorKind, alloc: &'static A) -> Self::Output {
            self.0.run(alloc, self.1, self.2)
        }
    }
    kind.visit(Run(workload, threads, rounds))
}
