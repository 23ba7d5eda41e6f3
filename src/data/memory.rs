//! `target/stackheap/memory.json`: the peak resident memory of each contention workload, allocator and
//! thread count, each measured in a fresh child process.

use crate::workload::allocators::AllocatorKind;
use crate::workload::contention::Workload;

/// One row of `target/stackheap/memory.json`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct MemoryEntry {
    pub workload: Workload,
    pub allocator: AllocatorKind,
    pub threads: usize,
    /// More threads than available cores.
    pub oversubscribed: bool,
    pub rounds: u64,
    /// Peak resident set of a fresh child process that ran only this workload (`ru_maxrss`).
    pub peak_rss_bytes: u64,
    /// `peak_rss_bytes` minus the peak of the same child doing nothing: what the workload added.
    pub above_idle_bytes: u64,
}

impl crate::data::results::SuiteEntry for MemoryEntry {
    fn key(&self) -> String {
        format!("{} {} t{}", self.workload, self.allocator, self.threads)
    }

    /// A thread count, round count or peak of zero, or more above idle than the peak itself.
    fn problem(&self) -> Option<String> {
        if self.threads == 0 || self.rounds == 0 || self.peak_rss_bytes == 0 {
            Some("threads, rounds and peak_rss_bytes must be at least 1".into())
        } else if self.above_idle_bytes > self.peak_rss_bytes {
            Some("above_idle_bytes must not exceed peak_rss_bytes".into())
        } else {
            None
        }
    }
}
