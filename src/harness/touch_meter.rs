//! Sums the first touches of a first-touch benchmark over its timed iterations (time, minor faults,
//! huge-page faults, pages) and turns them into its `first_touch.json` row.

use crate::data::faults::{FaultEntry, MemorySource, TouchState};
use crate::workload::first_touch::Touched;
use std::time::Duration;

/// Sums first touches over a benchmark's timed iterations.
#[derive(Clone, Copy, Debug, Default)]
pub struct TouchMeter {
    pub faults: u64,
    pub huge_faults: u64,
    pub pages: u64,
    pub iterations: u64,
}

impl TouchMeter {
    /// Runs `touch` `iters` times, with `setup` (untimed) before each; returns the time of the
    /// touches alone.
    pub fn time(
        &mut self,
        iters: u64,
        mut setup: impl FnMut(),
        mut touch: impl FnMut() -> Touched,
    ) -> Duration {
        let mut elapsed = Duration::ZERO;
        for _ in 0..iters {
            setup();
            let touched = touch();
            elapsed += touched.elapsed;
            self.faults += touched.faults;
            self.huge_faults += touched.huge_faults;
            self.pages += touched.pages;
            self.iterations += 1;
        }
        elapsed
    }

    /// The row of the benchmark this meter measured; `None` when it never ran (filtered out).
    pub fn entry(
        &self,
        id: String,
        allocator: MemorySource,
        mode: TouchState,
        size_bytes: usize,
    ) -> Option<FaultEntry> {
        let per_iteration = |count: u64| count as f64 / self.iterations as f64;
        (self.iterations > 0).then(|| FaultEntry {
            id,
            allocator,
            mode,
            size_bytes,
            minor_faults_per_iter: per_iteration(self.faults),
            pages_per_iter: Some(per_iteration(self.pages)),
            huge_faults_per_iter: Some(per_iteration(self.huge_faults)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_meter_times_touches_only_and_counts_faults_per_page() {
        let mut meter = TouchMeter::default();
        let mut setups = 0;
        let elapsed = meter.time(
            3,
            || setups += 1,
            || Touched {
                elapsed: Duration::from_micros(5),
                faults: 4,
                pages: 8,
                huge_faults: 1,
            },
        );
        assert_eq!((elapsed, setups), (Duration::from_micros(15), 3));
        let entry = meter
            .entry(
                "first_touch/x/0000004".into(),
                MemorySource::Stack,
                TouchState::Fresh,
                4,
            )
            .unwrap();
        assert_eq!(entry.minor_faults_per_iter, 4.0);
        assert_eq!(entry.faults_per_page(), Some(0.5));
        assert_eq!(entry.huge_faults_per_iter, Some(1.0));
        assert_eq!(
            TouchMeter::default().entry("x".into(), MemorySource::Stack, TouchState::Fresh, 4),
            None
        );
    }
}
