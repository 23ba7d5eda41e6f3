//! Analysis: statistics, comparisons with their verdicts, and the findings computed from results.

pub mod aggregate;
pub mod answers;
pub mod claims;
pub mod compare;
pub mod comparisons;
pub mod engine;
pub mod findings;
pub mod gate;
pub mod lookup;
pub mod own;
pub mod ratio;
pub mod stats;
#[cfg(test)]
mod tests;
pub mod unsettled;
