//! `target/stackheap/own.json`: what the user's own code measured, question by question: each
//! recursion's largest input per stack size, and each workload's time per call under each
//! allocator in each round, with the proof of the allocator each process ran on.

use crate::workload::allocators::AllocatorKind;

/// One row of `target/stackheap/own.json`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "question", rename_all = "snake_case")]
pub enum OwnEntry {
    Recursion(RecursionEntry),
    Workload(WorkloadEntry),
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

/// A user's workload at one thread count: each allocator's ns per call, one figure per round.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WorkloadEntry {
    pub name: String,
    pub threads: usize,
    /// Calls each process timed.
    pub calls: u64,
    pub allocators: Vec<AllocatorRounds>,
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
            OwnEntry::Recursion(r) => format!("recursion {}", r.name),
            OwnEntry::Workload(w) => format!("workload {} t{}", w.name, w.threads),
        }
    }

    fn problem(&self) -> Option<String> {
        match self {
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
                if w.allocators
                    .iter()
                    .flat_map(|a| &a.per_call_ns)
                    .any(|ns| !ns.is_finite() || *ns <= 0.0) =>
            {
                Some("per_call_ns must be positive, finite times".into())
            }
            _ => None,
        }
    }
}
