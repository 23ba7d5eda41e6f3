//! `target/stackheap/latency.json`: percentiles of single allocator operations (allocations and
//! frees), per workload, allocator and thread count.

use crate::workload::allocators::AllocatorKind;
use crate::workload::contention::Workload;

/// An allocator operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Alloc,
    Free,
}

impl Op {
    pub const ALL: [Op; 2] = [Op::Alloc, Op::Free];

    pub const fn name(self) -> &'static str {
        match self {
            Op::Alloc => "alloc",
            Op::Free => "free",
        }
    }
}

/// One row of `target/stackheap/latency.json`: the latency of one operation kind in one workload,
/// allocator and thread count.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LatencyEntry {
    pub workload: Workload,
    pub allocator: AllocatorKind,
    /// The workload's thread count, as in its benchmark id (`producer_consumer`: pairs).
    pub threads: usize,
    /// Threads running at once (`producer_consumer`: 2 per pair).
    pub os_threads: usize,
    /// More threads at once than available cores: a descheduled thread shows in the tail.
    pub oversubscribed: bool,
    pub op: Op,
    pub p50_ns: f64,
    pub p99_ns: f64,
    pub p999_ns: f64,
    pub max_ns: f64,
    pub samples: u64,
    /// One operation in this many was timed.
    pub sampled_one_in: u64,
    /// `rdtsc` or `Instant`.
    pub clock: String,
    /// The median cost of two back-to-back clock reads: included in every sample, not subtracted.
    pub timer_overhead_ns: f64,
}

impl crate::data::results::SuiteEntry for LatencyEntry {
    fn key(&self) -> String {
        format!(
            "{} {} t{} {}",
            self.workload.name(),
            self.allocator,
            self.threads,
            self.op.name()
        )
    }

    /// Percentiles that are negative, not finite or out of order, no samples, or a thread count of
    /// zero.
    fn problem(&self) -> Option<String> {
        let p = [self.p50_ns, self.p99_ns, self.p999_ns, self.max_ns];
        if p.iter().any(|v| !v.is_finite() || *v < 0.0) {
            Some("percentiles must be finite and non-negative".into())
        } else if p.windows(2).any(|w| w[0] > w[1]) {
            Some("percentiles must not decrease from p50 to max".into())
        } else if self.samples == 0 || self.threads == 0 {
            Some("samples and threads must be at least 1".into())
        } else {
            None
        }
    }
}
