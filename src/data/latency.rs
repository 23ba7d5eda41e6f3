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
    /// The clock's step, measured at the start of the run: no two readings differ by less.
    pub clock_resolution_ns: f64,
    /// The meter's own cost per sample (a no-op timed through it) with this entry's `os_threads`
    /// threads sampling at once: included in every sample, not subtracted.
    pub meter_cost_ns: f64,
}

/// A percentile under this many clock steps is not a measurement of the operation but of the clock:
/// a reading is known to one step at best, so under 5 steps it is uncertain by more than 20%.
pub const RESOLVED_STEPS: f64 = 5.0;

impl LatencyEntry {
    /// Whether `ns` (one of this entry's percentiles) is below what its clock resolves: such a
    /// figure is shown as a bound and never compared.
    pub fn below_resolution(&self, ns: f64) -> bool {
        ns < RESOLVED_STEPS * self.clock_resolution_ns
    }

    /// The smallest figure this entry's clock resolves, in ns.
    pub fn resolution_floor_ns(&self) -> f64 {
        RESOLVED_STEPS * self.clock_resolution_ns
    }
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
        let meter = [self.clock_resolution_ns, self.meter_cost_ns];
        if p.iter().any(|v| !v.is_finite() || *v < 0.0) {
            Some("percentiles must be finite and non-negative".into())
        } else if meter.iter().any(|v| !v.is_finite() || *v < 0.0) {
            Some("clock_resolution_ns and meter_cost_ns must be finite and non-negative".into())
        } else if p.windows(2).any(|w| w[0] > w[1]) {
            Some("percentiles must not decrease from p50 to max".into())
        } else if self.samples == 0 || self.threads == 0 {
            Some("samples and threads must be at least 1".into())
        } else {
            None
        }
    }
}
