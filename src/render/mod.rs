//! Render: numbers written for people, charts, tables and the report's output formats.

pub mod answers;
pub mod chart;
pub mod claims;
pub mod compare_table;
pub mod depth_table;
pub mod engine;
pub mod findings;
pub mod gate_table;
pub mod report;
pub mod tables;
pub mod units;
pub mod words;
