//! Numbers, sizes, names and thread counts written for people: `37.8 ns`, `64 KiB`, `glibc`,
//! `t2 (4 threads, oversubscribed)`. Shared by the findings and the report.

use crate::workload::allocators::AllocatorKind;

/// A time for people: `37.8 ns`, `1.20 µs`, `3.41 ms`.
pub fn format_ns(ns: f64) -> String {
    match ns {
        n if n >= 1e6 => format!("{:.2} ms", n / 1e6),
        n if n >= 1e3 => format!("{:.2} µs", n / 1e3),
        n => format!("{n:.1} ns"),
    }
}

pub fn format_bytes(bytes: f64) -> String {
    match bytes {
        b if b >= 1048576.0 => format!("{} MiB", trim(b / 1048576.0)),
        b if b >= 1024.0 => format!("{} KiB", trim(b / 1024.0)),
        b => format!("{} B", trim(b)),
    }
}

pub fn trim(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 {
        format!("{}", v.round())
    } else {
        format!("{v:.1}")
    }
}

pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1048576.0)
}

/// An allocator as people know it: `glibc` for the system allocator ([`AllocatorKind::label`]).
pub fn allocator_label(kind: impl std::borrow::Borrow<AllocatorKind>) -> &'static str {
    kind.borrow().label()
}

/// A thread count as a table shows it: `t2`, `t2 (4 threads)`, `t4 (oversubscribed)`.
pub fn thread_label(threads: usize, os_threads: usize, oversubscribed: bool) -> String {
    match (os_threads != threads, oversubscribed) {
        (false, false) => format!("t{threads}"),
        (false, true) => format!("t{threads} (oversubscribed)"),
        (true, false) => format!("t{threads} ({os_threads} threads)"),
        (true, true) => format!("t{threads} ({os_threads} threads, oversubscribed)"),
    }
}
