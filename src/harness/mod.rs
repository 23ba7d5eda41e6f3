//! Harness: what runs the workloads and records them: child processes, the machine description,
//! result files, callgrind instruction counts and the paired A/B runner.

pub mod ab;
pub mod child;
pub mod depth_probe;
pub mod elsewhere;
pub mod engine;
pub mod environment;
pub mod icount;
pub mod latency;
pub mod machine;
pub mod memory;
pub mod output;
pub mod proof;
pub mod settings;
pub mod touch_meter;
pub mod worker;
