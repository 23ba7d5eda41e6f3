//! Data: the typed benchmark ids and the result files' schemas, and reading results back into them.

pub mod depth;
pub mod faults;
pub mod groups;
pub mod icount;
pub mod id;
pub mod latency;
pub mod machine;
pub mod memory;
pub mod own;
pub mod placement;
pub mod results;
pub mod suite_file;
