//! `target/stackheap/icount.json` (and `icount-<name>.json`, a saved baseline): instruction counts
//! of the single-threaded workloads under callgrind.

use serde::{Deserialize, Serialize};

/// One counted workload.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IcountEntry {
    pub id: String,
    pub iterations: u64,
    pub instructions: u64,
    pub instructions_per_iter: f64,
}

impl crate::data::results::SuiteEntry for IcountEntry {
    fn key(&self) -> String {
        self.id.clone()
    }

    /// Counts of zero, or a per-iteration figure that is not positive and finite (a verdict
    /// computed from it would read "+inf%").
    fn problem(&self) -> Option<String> {
        (self.iterations == 0
            || self.instructions == 0
            || !(self.instructions_per_iter.is_finite() && self.instructions_per_iter > 0.0))
            .then(|| {
                "iterations, instructions and instructions_per_iter must be positive and finite"
                    .into()
            })
    }
}
