//! The allocators the suite measures, each one definition ([`NamedAllocator`] and one line of the
//! list), and a counting wrapper that proves which allocator a workload really used.
//!
//! All three live side by side in one process: workloads are generic over [`GlobalAlloc`] and are handed
//! the allocator explicitly, so `heap_box::<Jemalloc, 64>` calls jemalloc whatever the process's
//! `#[global_allocator]` is. For collections that must use a given allocator (`Vec`, `Box`), [`Api2`]
//! adapts any of them to `allocator_api2`'s `Allocator` trait.

use std::alloc::GlobalAlloc;
use std::fmt;

pub use mimalloc::MiMalloc;
pub use snmalloc_rs::SnMalloc;
pub use std::alloc::System;
pub use tikv_jemallocator::Jemalloc;

mod counting;
pub mod library;
pub use counting::{Api2, ByRef, Counting, Counts, ThreadCountingGlobal};
pub use library::LibraryId;

/// The chart colours of allocators named at run time, in the order they were named (none is a
/// built-in allocator's).
const LIBRARY_COLOURS: [(u8, u8, u8); 4] = [
    (255, 127, 14),
    (140, 86, 75),
    (227, 119, 194),
    (23, 190, 207),
];

/// Everything the suite knows about one allocator. An allocator is one impl of this trait plus one
/// line in the `allocators!` list below: its name, label, colour and marker, version, the
/// environment variables that tune it and how it gives memory back; every list, message, match and
/// report section derives from these.
pub trait NamedAllocator: GlobalAlloc + Send + Sync + 'static {
    /// Which allocator this is.
    const KIND: AllocatorKind;
    /// The stable name, in benchmark ids, result files and on the command line (the variant's name
    /// in lower case).
    const NAME: &'static str;
    /// As people know it, in reports: `glibc` for the system allocator.
    const LABEL: &'static str;
    /// Its colour (RGB) and marker in every chart.
    const COLOUR: (u8, u8, u8);
    const MARKER: MarkerShape;
    /// Environment variables that change its behaviour, recorded with every result: a name, or a
    /// prefix ending in `_` (`MIMALLOC_`).
    const TUNABLES: &'static [&'static str];
    /// Whether a run measures it unless `STACKHEAP_ALLOCATORS` says otherwise (each allocator adds
    /// about a quarter to a default run's time).
    const IN_DEFAULT_RUN: bool;
    /// The process-wide instance (each is a stateless handle to a process-wide heap).
    fn get() -> &'static Self;
    /// Its own version, read from the library linked into this binary.
    fn version() -> String;
    /// Asks it to return its free memory to the kernel, so that the next growth touches fresh
    /// pages. How much each really returns is what the fault counts then show.
    fn give_back();
    /// Whether it served the [`PROBE_BYTES`] block `allocate` returns (made through whatever global
    /// allocator the process runs on), by its own account: a counter of its own that grew by the
    /// block, or its ownership of the address. `None` where it keeps no such account. What proves
    /// which allocator a process really ran on.
    fn served(allocate: &mut dyn FnMut() -> *const u8) -> Option<bool>;
}

/// The size of the block [`NamedAllocator::served`] is asked about: below glibc's mmap threshold
/// (so glibc serves it from its heap, where `mallinfo2` counts it) and large enough that no cache
/// of a few small blocks hides it.
pub const PROBE_BYTES: usize = 64 << 10;

/// How a chart marks an allocator's series besides its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkerShape {
    Circle,
    Triangle,
    Square,
    Diamond,
}

/// Declares [`AllocatorKind`], one variant per allocator type, and everything derived from the list.
macro_rules! allocators {
    ($($(#[$doc:meta])* $variant:ident => $ty:ty,)*) => {
        /// The allocators the suite measures, by stable name ([`NamedAllocator::NAME`]).
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize,
            serde::Deserialize,
        )]
        // By name, as in benchmark ids: a library's name is known only at run time.
        #[serde(into = "String", try_from = "String")]
        pub enum AllocatorKind {
            $($(#[$doc])* $variant,)*
            /// A shared library named at run time (`name=path`), the `malloc` of processes of its
            /// own ([`library`]); in such a process it is reached through `std::alloc::System`.
            Library(LibraryId),
        }

        impl AllocatorKind {
            /// Every built-in allocator, in the order reports list them ([`AllocatorKind::all`]
            /// adds the libraries named at run time).
            pub const ALL: [AllocatorKind; [$(stringify!($variant)),*].len()] = [$(Self::$variant),*];

            /// Calls `visitor` with the allocator this kind names. A library is reached through
            /// `System`: only a process whose `malloc` it is measures it (`settings::measured_here`).
            pub fn visit<V: AllocatorVisitor>(self, visitor: V) -> V::Output {
                match self {
                    $(Self::$variant => visitor.visit(self, <$ty as NamedAllocator>::get()),)*
                    Self::Library(_) => visitor.visit(self, &System),
                }
            }

            /// The stable name ([`NamedAllocator::NAME`], or the name a library was given).
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => <$ty as NamedAllocator>::NAME,)*
                    Self::Library(id) => id.library().name,
                }
            }

            /// As people know it ([`NamedAllocator::LABEL`]; a library's name).
            pub fn label(self) -> &'static str {
                match self {
                    $(Self::$variant => <$ty as NamedAllocator>::LABEL,)*
                    Self::Library(id) => id.library().name,
                }
            }

            /// Its chart colour, RGB ([`NamedAllocator::COLOUR`]; a library's by its position).
            pub fn colour(self) -> (u8, u8, u8) {
                match self {
                    $(Self::$variant => <$ty as NamedAllocator>::COLOUR,)*
                    Self::Library(id) => LIBRARY_COLOURS[id.index() % LIBRARY_COLOURS.len()],
                }
            }

            /// Its chart marker ([`NamedAllocator::MARKER`]; a library's by its position).
            pub fn marker(self) -> MarkerShape {
                match self {
                    $(Self::$variant => <$ty as NamedAllocator>::MARKER,)*
                    Self::Library(id) => [MarkerShape::Circle, MarkerShape::Triangle, MarkerShape::Square, MarkerShape::Diamond][id.index() % 4],
                }
            }

            /// The environment variables that tune it ([`NamedAllocator::TUNABLES`]; for a library,
            /// none the suite knows: its path and build are recorded instead).
            pub fn tunables(self) -> &'static [&'static str] {
                match self {
                    $(Self::$variant => <$ty as NamedAllocator>::TUNABLES,)*
                    Self::Library(_) => &[],
                }
            }

            /// Whether a run measures it by default ([`NamedAllocator::IN_DEFAULT_RUN`]).
            pub fn in_default_run(self) -> bool {
                match self {
                    $(Self::$variant => <$ty as NamedAllocator>::IN_DEFAULT_RUN,)*
                    Self::Library(_) => false,
                }
            }

            /// Its version ([`NamedAllocator::version`]; for a library, its file, soname and
            /// package, [`library::describe`]).
            pub fn version(self) -> String {
                match self {
                    $(Self::$variant => <$ty as NamedAllocator>::version(),)*
                    Self::Library(id) => id.library().path.as_deref()
                        .map_or_else(|| "shared library".into(), library::describe),
                }
            }

            /// Returns its free memory to the kernel ([`NamedAllocator::give_back`]; for a library,
            /// `malloc_trim(0)`, which is its own where it defines one and does nothing to it
            /// otherwise: the fault counts then show what it kept).
            pub fn give_back(self) {
                match self {
                    $(Self::$variant => <$ty as NamedAllocator>::give_back(),)*
                    Self::Library(id) => {
                        id.library().give_back();
                    }
                }
            }

            /// Whether it served `allocate`'s block, by its own account ([`NamedAllocator::served`]);
            /// a library by the loader's: whether this process's `malloc` is its.
            pub fn served(self, allocate: &mut dyn FnMut() -> *const u8) -> Option<bool> {
                match self {
                    $(Self::$variant => <$ty as NamedAllocator>::served(allocate),)*
                    Self::Library(id) => {
                        allocate();
                        Some(id.library().path.is_some()
                            && library::preloaded_malloc() == id.library().path)
                    }
                }
            }

            /// The process-wide instance, to be called through the `GlobalAlloc` trait object (a
            /// global allocator that picks one when the process starts).
            pub fn global(self) -> &'static dyn GlobalAlloc {
                match self {
                    $(Self::$variant => <$ty as NamedAllocator>::get(),)*
                    Self::Library(_) => &System,
                }
            }
        }
    };
}

allocators! {
    /// glibc's malloc, reached through `std::alloc::System`.
    System => System,
    /// jemalloc 5 through `tikv-jemallocator`.
    Jemalloc => Jemalloc,
    /// Microsoft's mimalloc through the `mimalloc` crate.
    Mimalloc => MiMalloc,
    /// Microsoft's snmalloc through `snmalloc-rs`: frees from another thread go back to the owner
    /// as messages, without locks (the cross-thread frees this suite measures).
    Snmalloc => SnMalloc,
}

impl NamedAllocator for System {
    const KIND: AllocatorKind = AllocatorKind::System;
    const NAME: &'static str = "system";
    const LABEL: &'static str = "glibc";
    const COLOUR: (u8, u8, u8) = (214, 39, 40);
    const MARKER: MarkerShape = MarkerShape::Circle;
    // MALLOC_* (MALLOC_ARENA_MAX, ...) and the tunables string.
    const TUNABLES: &'static [&'static str] = &["GLIBC_TUNABLES", "MALLOC_"];
    const IN_DEFAULT_RUN: bool = true;
    fn get() -> &'static Self {
        &System
    }
    fn version() -> String {
        format!("glibc {}", crate::platform::glibc_version())
    }
    fn give_back() {
        crate::platform::malloc_trim();
    }
    fn served(allocate: &mut dyn FnMut() -> *const u8) -> Option<bool> {
        // Process-wide: another thread's frees between the readings can hide the block (seen once),
        // so up to three blocks are asked about; none served by another allocator can show here.
        Some((0..3).any(|_| {
            let before = crate::platform::glibc_bytes_in_use();
            allocate();
            crate::platform::glibc_bytes_in_use() >= before + PROBE_BYTES as u64
        }))
    }
}

impl NamedAllocator for Jemalloc {
    const KIND: AllocatorKind = AllocatorKind::Jemalloc;
    const NAME: &'static str = "jemalloc";
    const LABEL: &'static str = "jemalloc";
    const COLOUR: (u8, u8, u8) = (31, 119, 180);
    const MARKER: MarkerShape = MarkerShape::Triangle;
    // tikv-jemallocator prefixes jemalloc's symbols, so it reads _RJEM_MALLOC_CONF, not MALLOC_CONF.
    const TUNABLES: &'static [&'static str] = &["_RJEM_MALLOC_CONF"];
    const IN_DEFAULT_RUN: bool = true;
    fn get() -> &'static Self {
        &Jemalloc
    }
    fn version() -> String {
        format!("jemalloc {}", jemalloc_version())
    }
    fn give_back() {
        // SAFETY: "arena.4096.purge" (4096 = all arenas) is a write-only mallctl that takes no value.
        unsafe {
            tikv_jemalloc_sys::mallctl(
                c"arena.4096.purge".as_ptr(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                0,
            );
        }
    }
    fn served(allocate: &mut dyn FnMut() -> *const u8) -> Option<bool> {
        let before = jemalloc_thread_allocated()?;
        allocate();
        Some(jemalloc_thread_allocated()? >= before + PROBE_BYTES as u64)
    }
}

impl NamedAllocator for MiMalloc {
    const KIND: AllocatorKind = AllocatorKind::Mimalloc;
    const NAME: &'static str = "mimalloc";
    const LABEL: &'static str = "mimalloc";
    const COLOUR: (u8, u8, u8) = (44, 160, 44);
    const MARKER: MarkerShape = MarkerShape::Square;
    const TUNABLES: &'static [&'static str] = &["MIMALLOC_"];
    const IN_DEFAULT_RUN: bool = true;
    fn get() -> &'static Self {
        static MIMALLOC: MiMalloc = MiMalloc;
        &MIMALLOC
    }
    fn version() -> String {
        let v = MiMalloc.version();
        format!("mimalloc {}.{}.{}", v / 10000, v / 100 % 100, v % 100)
    }
    fn give_back() {
        // SAFETY: mi_collect has no preconditions.
        unsafe { libmimalloc_sys::mi_collect(true) }
    }
    fn served(allocate: &mut dyn FnMut() -> *const u8) -> Option<bool> {
        let block = allocate();
        // SAFETY: mi_is_in_heap_region only compares the address with mimalloc's own regions.
        Some(unsafe { libmimalloc_sys::mi_is_in_heap_region(block.cast()) })
    }
}

impl NamedAllocator for SnMalloc {
    const KIND: AllocatorKind = AllocatorKind::Snmalloc;
    const NAME: &'static str = "snmalloc";
    const LABEL: &'static str = "snmalloc";
    const COLOUR: (u8, u8, u8) = (148, 103, 189);
    const MARKER: MarkerShape = MarkerShape::Diamond;
    // snmalloc is configured when it is built, not from the environment.
    const TUNABLES: &'static [&'static str] = &[];
    // A fourth allocator adds about a quarter to a default run, which already fills its budget on
    // a 2-core machine: measured when STACKHEAP_ALLOCATORS names it.
    const IN_DEFAULT_RUN: bool = false;
    fn get() -> &'static Self {
        static SNMALLOC: SnMalloc = SnMalloc;
        &SNMALLOC
    }
    fn version() -> String {
        // The library reports no version at run time; the crate pins the snmalloc it builds.
        "snmalloc (snmalloc-rs 0.7)".into()
    }
    fn give_back() {
        // snmalloc has no call to return free memory at once: it decommits on its own schedule,
        // and the fault counts show what a growth after this touches.
    }
    fn served(_: &mut dyn FnMut() -> *const u8) -> Option<bool> {
        // Its only account is of memory reserved from the kernel, which a block from a chunk
        // already reserved does not move, and asking it about a foreign address is not defined.
        None
    }
}

impl AllocatorKind {
    /// The allocators a run measures unless `STACKHEAP_ALLOCATORS` names others.
    pub fn default_run() -> Vec<AllocatorKind> {
        Self::ALL
            .into_iter()
            .filter(|k| k.in_default_run())
            .collect()
    }

    /// The names, as an error message lists what was expected: `system, jemalloc, mimalloc`.
    pub fn names() -> String {
        Self::ALL.map(Self::name).join(", ")
    }

    /// The built-in allocator called `name`, if one is (a library is named with its path).
    pub fn built_in(name: &str) -> Option<AllocatorKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Every allocator this process knows: the built-in ones, then the libraries named at run time
    /// (by `STACKHEAP_ALLOCATORS`, or read from recorded results), in the order reports list them.
    pub fn all() -> Vec<AllocatorKind> {
        let mut all = Self::ALL.to_vec();
        all.extend(library::registered().into_iter().map(Self::Library));
        all
    }

    /// Whether it is a shared library named at run time, measured only in processes of its own.
    pub fn is_library(self) -> bool {
        matches!(self, Self::Library(_))
    }
}

/// What every allocator handed to a workload is: a global allocator any thread may call.
pub trait HeapAllocator: GlobalAlloc + Send + Sync + 'static {}
impl<T: GlobalAlloc + Send + Sync + 'static> HeapAllocator for T {}

/// Work that needs an allocator as a concrete type (workloads are generic over it), started from an
/// [`AllocatorKind`] known only at run time: [`AllocatorKind::visit`] hands it the named allocator
/// and the kind (which names it: a library is handed `System`).
pub trait AllocatorVisitor {
    type Output;
    fn visit<A: HeapAllocator>(self, kind: AllocatorKind, alloc: &'static A) -> Self::Output;
}

impl From<AllocatorKind> for String {
    fn from(kind: AllocatorKind) -> String {
        kind.name().to_owned()
    }
}

/// Reading recorded results: a name that is not built-in is a library named at run time, registered
/// by its name (`stackheap-report` checks that a proof of it was recorded).
impl TryFrom<String> for AllocatorKind {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        if let Some(kind) = Self::built_in(&name) {
            return Ok(kind);
        }
        if !library::valid_name(&name) {
            return Err(format!(
                "unknown allocator '{name}': expected one of {} or the name of a library",
                Self::names()
            ));
        }
        library::register(&name, None).map(Self::Library)
    }
}

impl fmt::Display for AllocatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for AllocatorKind {
    type Err = crate::error::InputError;

    /// A built-in allocator's name or a registered library's.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::built_in(s)
            .or_else(|| library::find(s).map(Self::Library))
            .ok_or_else(|| {
                crate::error::InputError(format!(
                    "unknown allocator '{s}': expected one of {}",
                    Self::names()
                ))
            })
    }
}

/// Reads jemalloc's mallctl `name`, a read-only value of type `T`.
fn jemalloc_read<T: Copy + Default>(name: &std::ffi::CStr) -> Option<T> {
    let mut value = T::default();
    let mut len = size_of::<T>();
    // SAFETY: `name` is a read-only mallctl of type `T` (the callers' names); we pass a correctly
    // sized out-pointer and no new value.
    let rc = unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr(),
            (&raw mut value).cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    (rc == 0).then_some(value)
}

/// Bytes jemalloc has allocated for the calling thread so far (`thread.allocated`).
fn jemalloc_thread_allocated() -> Option<u64> {
    jemalloc_read::<u64>(c"thread.allocated")
}

fn jemalloc_version() -> String {
    // `version` is a `const char *` to a static NUL-terminated string.
    match jemalloc_read::<usize>(c"version") {
        Some(at) if at != 0 => {
            // SAFETY: jemalloc returned a pointer to its static version string.
            unsafe { std::ffi::CStr::from_ptr(at as *const libc::c_char) }
                .to_string_lossy()
                .into_owned()
        }
        _ => "unknown".into(),
    }
}

#[cfg(test)]
mod tests;
