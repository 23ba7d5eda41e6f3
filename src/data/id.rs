//! Benchmark ids as one type: every id the benches register, the report reads, `compare`, `icount`
//! and the A/B gate name, and the scripts list (`stackheap-report list`), is a [`BenchId`] written
//! by its `Display` and read back by its `FromStr`. Nothing else spells an id, so nothing guesses
//! what an id part means.
//!
//! The grammar (sizes in bytes, zero-padded to at least 7 digits so that ids sort by size):
//!
//! ```text
//! stack_vs_heap/{stack_array,stack_reserve}/<size>
//! stack_vs_heap/{heap_box,heap_reused,alloc_free}/<allocator>/<size>
//! stack_vs_heap/box_new_large_{array,vec,zeroed}/<allocator>/<size>
//! stack_vs_heap/alignment/<offset, 2 digits>/<size>
//! first_touch/{mmap,stack_fresh_thread}/<size>
//! first_touch/{heap_fresh_thread,heap_growth,heap_regrowth,pretouched}/<allocator>/<size>
//! locality/{contiguous,scattered}/{stack,<allocator>}/<size>
//! contention/<workload>/<allocator>/t<threads>
//! stack_depth/{recursion_level,spawn_join}/<size>
//! ```

use crate::error::InputError;
use crate::workload::allocators::AllocatorKind;
use crate::workload::contention::Workload;
use std::fmt;
use std::str::FromStr;

/// An enum whose variants have stable snake_case names, with `ALL`, `name` and `from_name`.
macro_rules! named {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),+];

            pub const fn name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn from_name(text: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.name() == text)
            }
        }
    };
}

named! {
    /// The first part of every id: which question a benchmark belongs to.
    Family {
        StackVsHeap = "stack_vs_heap",
        FirstTouch = "first_touch",
        Locality = "locality",
        Contention = "contention",
        StackDepth = "stack_depth",
    }
}

named! {
    /// A stack-local array, written in full (`stack_array`), or only reserved and touched once a
    /// page (`stack_reserve`).
    StackKind { Array = "stack_array", Reserve = "stack_reserve" }
}

named! {
    /// A heap block per iteration (`heap_box`), one block reused (`heap_reused`), or the allocation
    /// and free alone (`alloc_free`).
    HeapKind { Box = "heap_box", Reused = "heap_reused", AllocFree = "alloc_free" }
}

named! {
    /// How a large boxed array is made: `Box::new([0; N])`, from a `Vec`, or `Box::new_zeroed`.
    LargeBox {
        Array = "box_new_large_array",
        Vec = "box_new_large_vec",
        Zeroed = "box_new_large_zeroed",
    }
}

named! {
    /// Where first-touched memory comes from.
    TouchKind {
        Mmap = "mmap",
        StackFreshThread = "stack_fresh_thread",
        HeapFreshThread = "heap_fresh_thread",
        HeapGrowth = "heap_growth",
        HeapRegrowth = "heap_regrowth",
        Pretouched = "pretouched",
    }
}

impl TouchKind {
    /// Whether ids of this kind name an allocator (`mmap` and a thread's stack have none).
    pub const fn has_allocator(self) -> bool {
        !matches!(self, Self::Mmap | Self::StackFreshThread)
    }
}

named! {
    /// List nodes in one block (`contiguous`) or one allocation each (`scattered`).
    Layout { Contiguous = "contiguous", Scattered = "scattered" }
}

named! {
    /// The stack-depth benchmarks: one recursion level of a frame size, or a thread's spawn and join.
    DepthBench { RecursionLevel = "recursion_level", SpawnJoin = "spawn_join" }
}

/// Who owns a locality benchmark's nodes: a stack array, or an allocator's heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Owner {
    Stack,
    Heap(AllocatorKind),
}

/// The id part of a stack owner.
const STACK_OWNER: &str = "stack";

/// One benchmark's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BenchId {
    Stack {
        kind: StackKind,
        bytes: u64,
    },
    Heap {
        kind: HeapKind,
        allocator: AllocatorKind,
        bytes: u64,
    },
    BoxNewLarge {
        how: LargeBox,
        allocator: AllocatorKind,
        bytes: u64,
    },
    /// A heap block whose address is `offset` bytes past a 64-byte line.
    Alignment {
        offset: u8,
        bytes: u64,
    },
    /// `allocator` is `Some` exactly when `kind.has_allocator()`.
    FirstTouch {
        kind: TouchKind,
        allocator: Option<AllocatorKind>,
        bytes: u64,
    },
    Locality {
        layout: Layout,
        owner: Owner,
        bytes: u64,
    },
    Contention {
        workload: Workload,
        allocator: AllocatorKind,
        threads: usize,
    },
    Depth {
        kind: DepthBench,
        bytes: u64,
    },
}

/// Criterion's group of one contention workload: `contention/<workload>` (each workload is a group,
/// its allocators and thread counts the benchmarks in it).
pub fn contention_group(workload: Workload) -> String {
    format!("{}/{}", Family::Contention.name(), workload.name())
}

/// Sizes in ids: at least 7 digits, zero-padded (16 MiB and up take 8).
pub fn size_part(bytes: u64) -> String {
    format!("{bytes:07}")
}

impl BenchId {
    pub fn family(&self) -> Family {
        match self {
            Self::Stack { .. }
            | Self::Heap { .. }
            | Self::BoxNewLarge { .. }
            | Self::Alignment { .. } => Family::StackVsHeap,
            Self::FirstTouch { .. } => Family::FirstTouch,
            Self::Locality { .. } => Family::Locality,
            Self::Contention { .. } => Family::Contention,
            Self::Depth { .. } => Family::StackDepth,
        }
    }

    /// The second part: `stack_array`, `heap_box`, `alignment`, `heap_growth`, `contiguous`,
    /// `local_churn`, `spawn_join`, ...
    pub fn variant(&self) -> &'static str {
        match self {
            Self::Stack { kind, .. } => kind.name(),
            Self::Heap { kind, .. } => kind.name(),
            Self::BoxNewLarge { how, .. } => how.name(),
            Self::Alignment { .. } => "alignment",
            Self::FirstTouch { kind, .. } => kind.name(),
            Self::Locality { layout, .. } => layout.name(),
            Self::Contention { workload, .. } => workload.name(),
            Self::Depth { kind, .. } => kind.name(),
        }
    }

    /// The allocator the benchmark's memory comes from, if any.
    pub fn allocator(&self) -> Option<AllocatorKind> {
        match *self {
            Self::Heap { allocator, .. }
            | Self::BoxNewLarge { allocator, .. }
            | Self::Contention { allocator, .. } => Some(allocator),
            Self::FirstTouch { allocator, .. } => allocator,
            Self::Locality {
                owner: Owner::Heap(a),
                ..
            } => Some(a),
            Self::Alignment { .. } => Some(AllocatorKind::System),
            _ => None,
        }
    }

    pub fn threads(&self) -> Option<usize> {
        match *self {
            Self::Contention { threads, .. } => Some(threads),
            _ => None,
        }
    }

    /// The operating-system threads the row runs at once: its workload's for a contention row
    /// (`producer_consumer`'s t1 is two), one otherwise.
    pub fn os_threads(&self) -> usize {
        match *self {
            Self::Contention {
                workload, threads, ..
            } => workload.os_threads(threads),
            _ => 1,
        }
    }

    /// The size part, in bytes (a frame for `recursion_level`, a stack for `spawn_join`).
    pub fn bytes(&self) -> Option<u64> {
        match *self {
            Self::Stack { bytes, .. }
            | Self::Heap { bytes, .. }
            | Self::BoxNewLarge { bytes, .. }
            | Self::Alignment { bytes, .. }
            | Self::FirstTouch { bytes, .. }
            | Self::Locality { bytes, .. }
            | Self::Depth { bytes, .. } => Some(bytes),
            Self::Contention { .. } => None,
        }
    }

    /// Criterion's group name for this id (Criterion joins group, function and parameter with `/`).
    pub fn criterion_group(&self) -> String {
        match *self {
            Self::Contention { workload, .. } => contention_group(workload),
            _ => self.family().name().to_owned(),
        }
    }

    /// Criterion's function name: the parts between the group and the last one.
    pub fn criterion_function(&self) -> String {
        let full = self.to_string();
        let group = self.criterion_group();
        let rest = &full[group.len() + 1..];
        rest.rsplit_once('/').map_or("", |(f, _)| f).to_owned()
    }

    /// Criterion's parameter: the last part (a size or a thread count).
    pub fn criterion_parameter(&self) -> String {
        let full = self.to_string();
        full.rsplit_once('/').map_or("", |(_, p)| p).to_owned()
    }

    /// The id as Criterion's `BenchmarkId`, for `BenchmarkGroup::bench_function` in a group made
    /// with [`BenchId::criterion_group`].
    pub fn criterion_id(&self) -> criterion::BenchmarkId {
        criterion::BenchmarkId::new(self.criterion_function(), self.criterion_parameter())
    }
}

impl fmt::Display for BenchId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let family = self.family().name();
        let variant = self.variant();
        match *self {
            Self::Stack { bytes, .. } | Self::Depth { bytes, .. } => {
                write!(f, "{family}/{variant}/{}", size_part(bytes))
            }
            Self::Heap {
                allocator, bytes, ..
            }
            | Self::BoxNewLarge {
                allocator, bytes, ..
            } => write!(f, "{family}/{variant}/{allocator}/{}", size_part(bytes)),
            Self::Alignment { offset, bytes } => {
                write!(f, "{family}/{variant}/{offset:02}/{}", size_part(bytes))
            }
            Self::FirstTouch {
                allocator, bytes, ..
            } => match allocator {
                Some(a) => write!(f, "{family}/{variant}/{a}/{}", size_part(bytes)),
                None => write!(f, "{family}/{variant}/{}", size_part(bytes)),
            },
            Self::Locality { owner, bytes, .. } => {
                let owner = match owner {
                    Owner::Stack => STACK_OWNER,
                    Owner::Heap(a) => a.name(),
                };
                write!(f, "{family}/{variant}/{owner}/{}", size_part(bytes))
            }
            Self::Contention {
                allocator, threads, ..
            } => write!(f, "{family}/{variant}/{allocator}/t{threads}"),
        }
    }
}

fn parse_size(text: &str) -> Option<u64> {
    (text.len() >= 7 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

impl FromStr for BenchId {
    type Err = InputError;

    /// Only canonical spellings parse; anything else is one line naming the text.
    fn from_str(text: &str) -> Result<BenchId, InputError> {
        // Only the canonical spelling: `64` for `0000064` or `t02` would make two ids of one
        // benchmark.
        parse(text)
            .filter(|id| id.to_string() == text)
            .ok_or_else(|| {
                InputError(format!(
                    "'{text}' is not a stackheap benchmark id: expected e.g. stack_vs_heap/heap_box/system/0000064 or contention/larson/jemalloc/t2 (see `stackheap-report list`)"
                ))
            })
    }
}

fn parse(text: &str) -> Option<BenchId> {
    {
        let parts: Vec<&str> = text.split('/').collect();
        // A built-in allocator, or a library this process registered (named by
        // STACKHEAP_ALLOCATORS, or recorded by the result files being read).
        let allocator = |p: &str| p.parse::<AllocatorKind>().ok();
        match parts.as_slice() {
            [family, variant, size] => match Family::from_name(family)? {
                Family::StackVsHeap => Some(BenchId::Stack {
                    kind: StackKind::from_name(variant)?,
                    bytes: parse_size(size)?,
                }),
                Family::FirstTouch => {
                    let kind = TouchKind::from_name(variant).filter(|k| !k.has_allocator())?;
                    Some(BenchId::FirstTouch {
                        kind,
                        allocator: None,
                        bytes: parse_size(size)?,
                    })
                }
                Family::StackDepth => Some(BenchId::Depth {
                    kind: DepthBench::from_name(variant)?,
                    bytes: parse_size(size)?,
                }),
                Family::Locality | Family::Contention => None,
            },
            [family, variant, middle, last] => match Family::from_name(family)? {
                Family::StackVsHeap => {
                    if *variant == "alignment" {
                        let offset = (middle.len() == 2)
                            .then(|| middle.parse::<u8>().ok())
                            .flatten()?;
                        Some(BenchId::Alignment {
                            offset,
                            bytes: parse_size(last)?,
                        })
                    } else if let Some(kind) = HeapKind::from_name(variant) {
                        Some(BenchId::Heap {
                            kind,
                            allocator: allocator(middle)?,
                            bytes: parse_size(last)?,
                        })
                    } else {
                        Some(BenchId::BoxNewLarge {
                            how: LargeBox::from_name(variant)?,
                            allocator: allocator(middle)?,
                            bytes: parse_size(last)?,
                        })
                    }
                }
                Family::FirstTouch => {
                    let kind = TouchKind::from_name(variant).filter(|k| k.has_allocator())?;
                    Some(BenchId::FirstTouch {
                        kind,
                        allocator: Some(allocator(middle)?),
                        bytes: parse_size(last)?,
                    })
                }
                Family::Locality => Some(BenchId::Locality {
                    layout: Layout::from_name(variant)?,
                    owner: if *middle == STACK_OWNER {
                        Owner::Stack
                    } else {
                        Owner::Heap(allocator(middle)?)
                    },
                    bytes: parse_size(last)?,
                }),
                Family::Contention => Some(BenchId::Contention {
                    workload: Workload::from_name(variant)?,
                    allocator: allocator(middle)?,
                    threads: last
                        .strip_prefix('t')
                        .and_then(|n| n.parse().ok())
                        .filter(|&n| n > 0)?,
                }),
                Family::StackDepth => None,
            },
            _ => None,
        }
    }
}

/// Whether `results.json`'s rankings compare `id` with the other rows of its [`ranking_group`]:
/// the stack array and each allocator's `heap_box`, each allocator's `alloc_free`, every
/// contention row. (`stack_reserve` and `heap_reused` are compared with the stack array only.)
pub fn ranked(id: &BenchId) -> bool {
    matches!(
        id,
        BenchId::Stack {
            kind: StackKind::Array,
            ..
        } | BenchId::Heap {
            kind: HeapKind::Box | HeapKind::AllocFree,
            ..
        } | BenchId::Contention { .. }
    )
}

/// A group of comparable benchmarks, as `results.json`'s rankings name it (e.g.
/// `stack_vs_heap/0000064`, `stack_vs_heap/alloc_free/0000064`, `contention/local_churn/t2`).
pub fn ranking_group(id: &BenchId) -> Option<String> {
    match *id {
        BenchId::Stack { bytes, .. }
        | BenchId::Heap {
            kind: HeapKind::Box | HeapKind::Reused,
            bytes,
            ..
        } => Some(format!(
            "{}/{}",
            Family::StackVsHeap.name(),
            size_part(bytes)
        )),
        BenchId::Heap {
            kind: HeapKind::AllocFree,
            bytes,
            ..
        } => Some(format!(
            "{}/{}/{}",
            Family::StackVsHeap.name(),
            HeapKind::AllocFree.name(),
            size_part(bytes)
        )),
        BenchId::Contention {
            workload, threads, ..
        } => Some(format!(
            "{}/{}/t{threads}",
            Family::Contention.name(),
            workload.name()
        )),
        _ => None,
    }
}

named! {
    /// Parts of a run that are not Criterion benchmarks (their results go to
    /// `target/stackheap/*.json`) but answer to the same filter, by these names.
    Part {
        Memory = "contention/memory",
        Latency = "contention/latency",
        OverflowProbes = "stack_depth/overflow_probes",
    }
}

named! {
    /// Named sets of ids that scripts and gates ask for (`stackheap-report list --set <name>`).
    IdSet {
        /// The saved-baseline CI subset (`scripts/ci-bench <name>`): single-threaded rows at three
        /// sizes, the recursion levels and `local_churn` at one thread.
        Ci = "ci",
        /// What the paired A/B gate judges (`scripts/ci-bench --compare-ref`): the single-threaded
        /// rows and the contention rows at 1 and 2 threads.
        Gate = "gate",
        /// The rows `inject-slowdown` slows down, which `scripts/gate-check` must see caught.
        Injected = "injected",
        /// One quick row, for smoke tests of the gate's plumbing (`.ci/run`).
        Smoke = "smoke",
    }
}

/// The sizes the CI subsets and the instruction counts use.
pub const CI_SIZES: [u64; 3] = [64, 4096, 65536];

impl IdSet {
    pub fn ids(self) -> Vec<BenchId> {
        let mut ids = Vec::new();
        let stack = |bytes| BenchId::Stack {
            kind: StackKind::Array,
            bytes,
        };
        let heap = |kind, allocator, bytes| BenchId::Heap {
            kind,
            allocator,
            bytes,
        };
        let contention = |workload, allocator, threads| BenchId::Contention {
            workload,
            allocator,
            threads,
        };
        match self {
            IdSet::Ci => {
                for bytes in CI_SIZES {
                    ids.push(stack(bytes));
                    for allocator in AllocatorKind::ALL {
                        ids.push(heap(HeapKind::Box, allocator, bytes));
                        ids.push(heap(HeapKind::Reused, allocator, bytes));
                    }
                }
                ids.extend(crate::workload::depth::DEFAULT_FRAME_SIZES.map(|frame| {
                    BenchId::Depth {
                        kind: DepthBench::RecursionLevel,
                        bytes: frame as u64,
                    }
                }));
                ids.extend(AllocatorKind::ALL.map(|a| contention(Workload::LocalChurn, a, 1)));
            }
            IdSet::Gate => {
                for bytes in CI_SIZES {
                    ids.push(stack(bytes));
                    ids.extend(AllocatorKind::ALL.map(|a| heap(HeapKind::Box, a, bytes)));
                }
                for workload in Workload::ALL.into_iter().filter(|w| w.in_gate()) {
                    for allocator in AllocatorKind::ALL {
                        ids.extend([1, 2].map(|t| contention(workload, allocator, t)));
                    }
                }
            }
            IdSet::Smoke => ids.push(stack(64)),
            IdSet::Injected => {
                // 4 KiB, not 64 B: at 64 B (about 12 ns) the injection's fixed cost and one spin are
                // each a few percent, too coarse to inject +5%.
                ids.push(heap(HeapKind::Box, AllocatorKind::System, 4096));
                ids.push(contention(Workload::LocalChurn, AllocatorKind::System, 2));
            }
        }
        ids
    }
}

impl IdSet {
    /// The set's ids as text, in order.
    pub fn texts(self) -> Vec<String> {
        self.ids().iter().map(BenchId::to_string).collect()
    }

    /// One Criterion filter that selects exactly the set's ids.
    pub fn filter(self) -> String {
        exact_filter(self.texts().iter().map(String::as_str))
    }
}

/// A regular expression (Criterion's filter syntax) that selects exactly `ids`.
pub fn exact_filter<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    let alternatives: Vec<String> = ids.into_iter().map(regex::escape).collect();
    format!("^({})$", alternatives.join("|"))
}

#[cfg(test)]
mod tests;
