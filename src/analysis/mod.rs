//! Analysis: statistics, comparisons with their verdicts, and the findings computed from results.

pub mod aggregate;
pub mod compare;
pub mod comparisons;
pub mod gate;
pub mod stats;
pub mod unsettled;
