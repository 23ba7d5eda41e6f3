//! The allocator a process runs on, chosen when it starts: a global allocator that sends every
//! call to the one of the suite's allocators that the child's request names
//! (`STACKHEAP_CHILD_ALLOCATOR`, set by stackheap for the child processes it starts), so that one
//! binary runs a user's own code (`Box`, `Vec`, `HashMap`, through the global allocator) under each
//! of them, one process per allocator, with no rebuild.
//!
//! ```
//! #[global_allocator]
//! static GLOBAL: stackheap::own::ChosenAllocator = stackheap::own::ChosenAllocator;
//!
//! // A process stackheap did not start as a child runs on glibc's malloc.
//! let v = vec![1u8; 4096];
//! # if std::env::var_os("STACKHEAP_CHILD_ALLOCATOR").is_none() {
//! assert_eq!(stackheap::own::allocator::chosen().name(), "system");
//! # }
//! # drop(v);
//! ```
//!
//! A library named at run time (`name=path` in `STACKHEAP_ALLOCATORS`) is reached the way a
//! deployment reaches it: the child is started with it preloaded and chooses `system`, whose
//! `malloc` is then the library's, and proves that by the loader's account ([`child_env`]).
//!
//! The choice is read once, at the first allocation, and never changes (a block must be freed by
//! the allocator that made it). It is read with `getenv`, which does not allocate; an unknown name
//! ends the process with one line and exit status 2 before anything is allocated. The variable
//! has its own name, not one a user would set in a shell: the parent process, and with it every
//! Criterion bench beside the questions, always runs on the system allocator.
//!
//! What it costs: one relaxed load of the chosen allocator and one of the counting switch per
//! call, and an indirect call to the chosen allocator; measured in
//! `results/2026-12-02-epyc-2vcpu-chosen-allocator-cost.md` (+37 instructions per allocation and
//! free on that machine).

use crate::workload::allocators::{AllocatorKind, PROBE_BYTES};
use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering::Relaxed};

/// The environment variable that names the allocator a child process runs on (default: `system`).
/// stackheap sets it for the children it starts and removes it for every other child, so a value
/// in the user's shell never chooses the allocator of the process they started.
pub const ALLOCATOR_ENV: &str = "STACKHEAP_CHILD_ALLOCATOR";

/// The environment variable that names the library a child was started on, when it was (a library
/// named at run time in `STACKHEAP_ALLOCATORS`): such a child chooses `system`, whose `malloc` is the
/// preloaded library's, and proves that it is. Empty or unset: no library.
pub const LIBRARY_ENV: &str = "STACKHEAP_CHILD_LIBRARY";

/// The environment of a child started to run on `kind`: its choice for [`ChosenAllocator`]; for a
/// library named at run time, `system` with the library preloaded and named ([`LIBRARY_ENV`]).
/// One definition for every child and worker of the questions about a user's code.
pub fn child_env(kind: AllocatorKind) -> Vec<(String, String)> {
    let mut env = crate::harness::settings::preload_env(kind);
    let (chosen, library) = if kind.is_library() {
        (AllocatorKind::System, kind.name())
    } else {
        (kind, "")
    };
    env.push((ALLOCATOR_ENV.into(), chosen.name().into()));
    env.push((LIBRARY_ENV.into(), library.into()));
    env
}

/// The library named at run time this child was started on ([`LIBRARY_ENV`]), registered from the
/// `STACKHEAP_ALLOCATORS` its parent gave it; `None` for a child on a built-in allocator.
fn chosen_library() -> Result<Option<AllocatorKind>, String> {
    let name = std::env::var(LIBRARY_ENV).unwrap_or_default();
    if name.is_empty() {
        return Ok(None);
    }
    crate::harness::settings::allocators_from_env().map_err(|e| e.0)?;
    name.parse::<AllocatorKind>()
        .ok()
        .filter(|kind| kind.is_library())
        .map(Some)
        .ok_or_else(|| {
            format!("{LIBRARY_ENV}={name}: not a library STACKHEAP_ALLOCATORS names: expected <name>=<path> there")
        })
}

/// 0 until chosen, then 1 + the index in [`AllocatorKind::ALL`].
static CHOSEN: AtomicU8 = AtomicU8::new(0);

/// The global allocator that sends every call to the allocator chosen for this process.
pub struct ChosenAllocator;

/// Whether [`count_allocations`] is counting (one relaxed load per call when it is not).
static COUNTING: AtomicBool = AtomicBool::new(false);
static COUNTED_BLOCKS: AtomicU64 = AtomicU64::new(0);
static COUNTED_BYTES: AtomicU64 = AtomicU64::new(0);

pub use crate::data::own::Allocated;

/// Runs `f` and counts what it allocated through [`ChosenAllocator`], in the optimised build
/// that is measured: the proof that a path allocates what it claims. Counts every thread's
/// allocations while it runs, so call it when no other thread of the program allocates.
pub fn count_allocations<R>(f: impl FnOnce() -> R) -> (R, Allocated) {
    COUNTED_BLOCKS.store(0, Relaxed);
    COUNTED_BYTES.store(0, Relaxed);
    COUNTING.store(true, Relaxed);
    let result = std::hint::black_box(f());
    COUNTING.store(false, Relaxed);
    let counted = Allocated {
        blocks: COUNTED_BLOCKS.load(Relaxed),
        bytes: COUNTED_BYTES.load(Relaxed),
    };
    (result, counted)
}

#[inline]
fn counted(bytes: usize) {
    if COUNTING.load(Relaxed) {
        COUNTED_BLOCKS.fetch_add(1, Relaxed);
        COUNTED_BYTES.fetch_add(bytes as u64, Relaxed);
    }
}

/// The allocator this process runs on, choosing it from the environment on the first call.
#[inline]
pub fn chosen() -> AllocatorKind {
    match CHOSEN.load(Relaxed) {
        0 => choose(),
        k => AllocatorKind::ALL[usize::from(k) - 1],
    }
}

/// Reads [`ALLOCATOR_ENV`] without allocating and records the choice (the first to record it wins:
/// threads racing on the first allocation choose the same, from the same environment).
#[cold]
fn choose() -> AllocatorKind {
    // SAFETY: getenv with a NUL-terminated name; the value is only read here, before any thread of
    // this program could change the environment through std (which would need an allocation).
    let value = unsafe { libc::getenv(c"STACKHEAP_CHILD_ALLOCATOR".as_ptr()) };
    let kind = if value.is_null() {
        AllocatorKind::System
    } else {
        // SAFETY: getenv returns a NUL-terminated string.
        let name = unsafe { std::ffi::CStr::from_ptr(value) }.to_bytes();
        AllocatorKind::ALL
            .into_iter()
            .find(|k| k.name().as_bytes() == name)
            .unwrap_or_else(|| unknown(name))
    };
    let index = AllocatorKind::ALL
        .iter()
        .position(|&k| k == kind)
        .expect("a kind of ALL");
    match CHOSEN.compare_exchange(0, index as u8 + 1, Relaxed, Relaxed) {
        Ok(_) => kind,
        Err(k) => AllocatorKind::ALL[usize::from(k) - 1],
    }
}

/// Ends the process on an unknown allocator name, with one line written without allocating.
fn unknown(name: &[u8]) -> ! {
    let write = |bytes: &[u8]| {
        // SAFETY: writing a valid buffer to stderr.
        unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
    };
    write(b"error: STACKHEAP_CHILD_ALLOCATOR=");
    write(name);
    write(b": unknown allocator: expected one of");
    for (i, kind) in AllocatorKind::ALL.iter().enumerate() {
        write(if i == 0 { b" " } else { b", " });
        write(kind.name().as_bytes());
    }
    write(b"\n");
    // SAFETY: ending the process without running anything that could allocate.
    unsafe { libc::_exit(2) }
}

// SAFETY: every call goes to one allocator, fixed for the life of the process, so each block is
// freed and reallocated by the allocator that made it.
unsafe impl GlobalAlloc for ChosenAllocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        counted(layout.size());
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { chosen().global().alloc(layout) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        counted(layout.size());
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { chosen().global().alloc_zeroed(layout) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees; the block came from the same allocator.
        unsafe { chosen().global().dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        counted(new_size);
        // SAFETY: forwarded with the caller's guarantees; the block came from the same allocator.
        unsafe { chosen().global().realloc(ptr, layout, new_size) }
    }
}

/// What each allocator says about a block this process allocated the ordinary way: `Some(true)`
/// for the one that served it, by its own account, `Some(false)` for those that did not, `None`
/// for one that keeps no account it could be asked.
pub fn who_served() -> Vec<(AllocatorKind, Option<bool>)> {
    AllocatorKind::ALL
        .into_iter()
        .map(|kind| {
            let mut kept: Vec<Vec<u8>> = Vec::new();
            let answer = kind.served(&mut || {
                let block = vec![1u8; PROBE_BYTES];
                let at = std::hint::black_box(block.as_ptr());
                kept.push(block);
                at
            });
            (kind, answer)
        })
        .collect()
}

/// Whether [`ChosenAllocator`] is this program's global allocator: a `Box` made the ordinary way
/// is counted by it only then.
pub fn installed() -> bool {
    let (_, allocated) = count_allocations(|| std::hint::black_box(Box::new(7u64)));
    allocated.blocks > 0
}

/// Checks that this process runs on `chosen()` by the allocators' own accounts: the chosen one
/// served the probe (or keeps no account) and every other one that keeps an account did not.
/// Returns the evidence in one line, or what contradicts the choice.
pub fn prove_chosen() -> Result<String, String> {
    let chosen = chosen();
    if let Some(library) = chosen_library()? {
        // Its malloc is the library's, by the loader's account: the built-in allocators' own
        // accounts cannot speak for it (glibc's would say it served nothing).
        if chosen != AllocatorKind::System {
            return Err(format!(
                "{LIBRARY_ENV}={library} with {ALLOCATOR_ENV}={chosen}: expected system, whose malloc is the library's"
            ));
        }
        let evidence = crate::harness::settings::proof_of(library)?;
        return Ok(format!("runs on {library} ({evidence})"));
    }
    let answers = who_served();
    let mut evidence = Vec::new();
    for (kind, answer) in &answers {
        let expected = *kind == chosen;
        match answer {
            Some(served) if *served != expected => {
                return Err(format!(
                    "{ALLOCATOR_ENV} chose {chosen}, but {kind} says it {} a {PROBE_BYTES} B block allocated the ordinary way: expected only {chosen} to serve it",
                    if *served { "served" } else { "did not serve" }
                ));
            }
            Some(served) => evidence.push(format!(
                "{kind} {}",
                if *served { "served it" } else { "did not" }
            )),
            None => evidence.push(format!("{kind} keeps no account")),
        }
    }
    Ok(format!(
        "runs on {chosen} (a {PROBE_BYTES} B block: {})",
        evidence.join(", ")
    ))
}
