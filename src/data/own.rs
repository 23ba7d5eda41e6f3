//! `target/stackheap/own.json`: what the user's own code measured, question by question: each
//! type's time on the stack and boxed under each allocator in each round, each recursion's largest
//! input per stack size, and each workload's time per call under each allocator in each round,
//! with the proof of the allocator each process ran on.

use crate::workload::allocators::AllocatorKind;

/// One row of `target/stackheap/own.json`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "question", rename_all = "snake_case")]
pub enum OwnEntry {
    Type(TypeEntry),
    Recursion(RecursionEntry),
    Workload(WorkloadEntry),
}

/// A user's type, built and used on the stack and in a `Box` under each allocator.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TypeEntry {
    pub name: String,
    /// `std::any::type_name` of the type.
    pub type_name: String,
    /// `size_of` the type.
    pub size_bytes: u64,
    /// Whether a copy of the value's bytes was in the stack frame that called `Box::new`, in the
    /// optimised build that was measured: the value was built on the stack, then moved.
    pub built_on_stack: bool,
    /// Calls of each path each process timed.
    pub calls: u64,
    pub allocators: Vec<TypeRounds>,
}

/// One allocator's processes of a type, in round order.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TypeRounds {
    pub allocator: AllocatorKind,
    /// ns per call of build-and-use with the value on the stack, one figure per round.
    pub stack_ns: Vec<f64>,
    /// ns per call of the same with the value in a `Box`, from the same processes.
    pub boxed_ns: Vec<f64>,
    /// The stack path timed again in batches of its own, from the same processes: the control
    /// whose ratio to `stack_ns` says what this run can resolve (empty in files before it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub control_ns: Vec<f64>,
    /// What one call of each path allocated, counted in the optimised build that was measured.
    pub stack_allocated: Allocated,
    pub boxed_allocated: Allocated,
    /// What the allocators' own accounts said in its first process.
    pub proof: String,
}

/// Blocks and bytes allocated (a `realloc` counts as one block of its new size).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Allocated {
    pub blocks: u64,
    pub bytes: u64,
}

/// A user's recursion: the largest input that returned, per stack size.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RecursionEntry {
    pub name: String,
    pub fits: Vec<StackFit>,
    /// Inputs the user asked the stack for (`10_000` levels of nesting, ...).
    #[serde(default)]
    pub asked_inputs: Vec<u64>,
}

/// The largest input measured for one stack size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StackFit {
    /// The stack size the thread was spawned with (`std::thread::Builder::stack_size`).
    pub stack_bytes: u64,
    /// The largest input that returned; one more overflowed.
    pub largest_input: u64,
    /// Child processes the bisection started.
    pub children: u32,
}

/// A user's workload at one thread count: each allocator's ns per call, one figure per session of
/// lock-step workers (or, in files before them, per round of processes).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WorkloadEntry {
    pub name: String,
    pub threads: usize,
    /// Calls of the workload per sample.
    pub calls: u64,
    pub allocators: Vec<AllocatorRounds>,
    /// The control: a second worker of the first allocator, one figure per session, whose ratio to
    /// the first allocator's says what this run can resolve (empty in files before it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub control_ns: Vec<f64>,
}

/// One allocator's processes of a workload, in round order, and the proof it ran on them.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AllocatorRounds {
    pub allocator: AllocatorKind,
    pub per_call_ns: Vec<f64>,
    /// What the allocators' own accounts said in its first process.
    pub proof: String,
}

impl crate::data::results::SuiteEntry for OwnEntry {
    fn key(&self) -> String {
        match self {
            OwnEntry::Type(t) => format!("type {}", t.name),
            OwnEntry::Recursion(r) => format!("recursion {}", r.name),
            OwnEntry::Workload(w) => format!("workload {} t{}", w.name, w.threads),
        }
    }

    fn problem(&self) -> Option<String> {
        match self {
            OwnEntry::Type(t) if t.size_bytes == 0 || t.calls == 0 => {
                Some("size_bytes and calls must be at least 1".into())
            }
            OwnEntry::Type(t)
                if t.allocators
                    .iter()
                    .any(|a| a.stack_ns.len() != a.boxed_ns.len()) =>
            {
                Some("stack_ns and boxed_ns must hold one figure per round each".into())
            }
            OwnEntry::Type(t)
                if bad_times(
                    t.allocators
                        .iter()
                        .flat_map(|a| a.stack_ns.iter().chain(&a.boxed_ns).chain(&a.control_ns)),
                ) =>
            {
                Some("stack_ns and boxed_ns must be positive, finite times".into())
            }
            OwnEntry::Recursion(r) if r.fits.is_empty() => {
                Some("fits must hold at least one stack size".into())
            }
            OwnEntry::Recursion(r) if r.fits.iter().any(|f| f.stack_bytes == 0) => {
                Some("stack_bytes must be at least 1".into())
            }
            OwnEntry::Workload(w) if w.threads == 0 || w.calls == 0 => {
                Some("threads and calls must be at least 1".into())
            }
            OwnEntry::Workload(w)
                if bad_times(
                    w.allocators
                        .iter()
                        .flat_map(|a| &a.per_call_ns)
                        .chain(&w.control_ns),
                ) =>
            {
                Some("per_call_ns must be positive, finite times".into())
            }
            _ => None,
        }
    }
}

/// Whether any of `ns` is not a positive, finite time.
fn bad_times<'a>(ns: impl IntoIterator<Item = &'a f64>) -> bool {
    ns.into_iter().any(|ns| !ns.is_finite() || *ns <= 0.0)
}
