//! Peak memory of the contention workloads: each workload, allocator and thread count runs once in a
//! fresh child process (this bench binary again), which reports its own peak resident set.

use std::hint::black_box;
use std::io::Write;

use crate::data::memory::MemoryEntry;
use crate::workload::allocators::AllocatorKind;
use crate::workload::contention::{Workload, run_named};

/// The environment variable that turns a bench process into a memory-measurement child.
const MEMORY_CHILD_ENV: &str = "STACKHEAP_MEMORY_CHILD";
/// Rounds each memory child runs.
pub const MEMORY_ROUNDS: u64 = 20;

/// Measures the peak resident memory of a fresh child process (this executable, re-run with `args`)
/// that runs `workload` through `kind` and exits; `None` runs nothing, for the idle baseline.
///
/// The child reports its own `VmHWM` (peak RSS of its address space): `ru_maxrss` from `wait4` would
/// include the parent's memory, copied at fork before the child's exec.
pub fn peak_rss_of_child(
    exe: &std::path::Path,
    args: &[String],
    run: Option<(Workload, AllocatorKind, usize)>,
) -> Result<u64, String> {
    let spec = run.map_or("idle".into(), |(w, k, t)| {
        format!("{}:{}:{t}", w.name(), k.name())
    });
    let mut command = std::process::Command::new(exe);
    command.args(args).env(MEMORY_CHILD_ENV, &spec);
    // A library named at run time is the malloc of a child started with it preloaded.
    if let Some((_, kind, _)) = run {
        command.envs(crate::harness::settings::preload_env(kind));
    }
    let ended = crate::harness::child::run(command, MEMORY_CHILD_TIMEOUT)
        .map_err(|e| format!("cannot start the memory child for {spec}: {e}"))?;
    let peak = ended
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix(PEAK_PREFIX)?.trim().parse::<u64>().ok());
    match (ended.failure(), peak) {
        (None, Some(kib)) => Ok(kib * 1024),
        (Some(failure), _) => Err(format!("the memory child for {spec} {failure}")),
        (None, None) => Err(format!(
            "the memory child for {spec} exited without reporting its peak ({PEAK_PREFIX}...)"
        )),
    }
}

const PEAK_PREFIX: &str = "stackheap-peak-rss-kib=";

/// A memory child runs one workload once (well under a second here): one still running after this
/// long is stuck, not slow.
const MEMORY_CHILD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// In a memory child (started by [`peak_rss_of_child`]), runs the workload and exits; otherwise does
/// nothing. Call it first thing in `main` of the contention bench.
pub fn run_memory_child_if_requested() {
    let Ok(spec) = std::env::var(MEMORY_CHILD_ENV) else {
        return;
    };
    let report_and_exit = || -> ! {
        // Straight to the handle: println! would be captured when the child is a libtest binary.
        let peak = crate::platform::own_peak_rss_kib().unwrap_or(0);
        let _ = writeln!(std::io::stdout(), "{PEAK_PREFIX}{peak}");
        std::process::exit(0)
    };
    if spec == "idle" {
        report_and_exit();
    }
    if let Err(e) = crate::harness::settings::allocators_from_env() {
        let _ = writeln!(std::io::stderr(), "error: {e}");
        std::process::exit(2);
    }
    let mut parts = spec.split(':');
    let parsed = (|| {
        let workload = Workload::from_name(parts.next()?)?;
        let kind: AllocatorKind = parts.next()?.parse().ok()?;
        let threads: usize = parts.next()?.parse().ok()?;
        Some((workload, kind, threads))
    })();
    let Some((workload, kind, threads)) = parsed else {
        let _ = writeln!(std::io::stderr(), "error: bad {MEMORY_CHILD_ENV} '{spec}'");
        std::process::exit(3);
    };
    if let Err(e) = crate::harness::settings::proof_of(kind) {
        let _ = writeln!(std::io::stderr(), "error: {e}");
        std::process::exit(2);
    }
    if let Err(e) = black_box(run_named(kind, workload, threads, MEMORY_ROUNDS)) {
        let _ = writeln!(std::io::stderr(), "error: {e}");
        std::process::exit(2);
    }
    report_and_exit();
}

/// The peak memory of every workload in `threads` x `allocators`, each in a fresh child of the
/// executable `exe` (a bench binary that calls [`run_memory_child_if_requested`] first thing), and
/// the peak of an idle child, which every row's `above_idle_bytes` subtracts.
pub fn measure_memory(
    exe: &std::path::Path,
    threads: &[usize],
    allocators: &[AllocatorKind],
    cores: usize,
) -> Result<(Vec<MemoryEntry>, u64), String> {
    let idle = peak_rss_of_child(exe, &[], None)?;
    let mut entries = Vec::new();
    for workload in Workload::ALL {
        for &kind in allocators {
            for &t in threads {
                let peak = peak_rss_of_child(exe, &[], Some((workload, kind, t)))?;
                entries.push(MemoryEntry {
                    workload,
                    allocator: kind,
                    threads: t,
                    oversubscribed: workload.os_threads(t) > cores,
                    rounds: MEMORY_ROUNDS,
                    peak_rss_bytes: peak,
                    above_idle_bytes: peak.saturating_sub(idle),
                });
            }
        }
    }
    Ok((entries, idle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_child_reports_a_peak_above_the_idle_process() {
        // This test binary is the child: the child entry below runs the workload and exits.
        let exe = std::env::current_exe().unwrap();
        let args = [
            crate::harness::child::test_path(module_path!(), "memory_child_entry"),
            "--exact".into(),
        ];
        let idle = peak_rss_of_child(&exe, &args, None).unwrap();
        let busy = peak_rss_of_child(
            &exe,
            &args,
            Some((Workload::CrossThreadFree, AllocatorKind::Jemalloc, 2)),
        )
        .unwrap();
        assert!(idle > 0 && busy > idle, "idle {idle} B, busy {busy} B");
    }

    #[test]
    fn memory_child_entry() {
        run_memory_child_if_requested();
    }
}
