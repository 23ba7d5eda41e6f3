//! The latency of a library named at run time, which only a process it serves can measure: the
//! bench binary again, started with the library preloaded, runs [`super::measure_all`] for it and
//! writes its rows to stdout as JSON.

use crate::data::latency::LatencyEntry;
use crate::workload::allocators::AllocatorKind;
use std::io::Write;
use std::time::Duration;

/// The environment variable that turns a bench process into a latency child: `<allocator>:<threads,...>`.
const LATENCY_CHILD_ENV: &str = "STACKHEAP_LATENCY_CHILD";
/// The line before the child's JSON rows.
const ROWS_PREFIX: &str = "stackheap-latency-rows=";
/// Every latency workload at a few thread counts takes seconds: a child still running after this
/// long is stuck, not slow.
const LATENCY_CHILD_TIMEOUT: Duration = Duration::from_secs(600);

/// The latency rows of `kind` (a library), measured by `exe` started with it preloaded.
pub fn measure_in_child(
    exe: &std::path::Path,
    kind: AllocatorKind,
    threads: &[usize],
) -> Result<Vec<LatencyEntry>, String> {
    let threads: Vec<String> = threads.iter().map(ToString::to_string).collect();
    let spec = format!("{kind}:{}", threads.join(","));
    let mut command = std::process::Command::new(exe);
    command
        .env(LATENCY_CHILD_ENV, &spec)
        .envs(crate::harness::settings::preload_env(kind));
    let ended = crate::harness::child::run(command, LATENCY_CHILD_TIMEOUT)
        .map_err(|e| format!("cannot start the latency child of {kind}: {e}"))?;
    if let Some(failure) = ended.failure() {
        let why = ended.stderr.lines().last().unwrap_or("").to_owned();
        return Err(format!("the latency child of {kind} {failure}: {why}"));
    }
    let rows = ended
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix(ROWS_PREFIX))
        .ok_or_else(|| format!("the latency child of {kind} wrote no rows ({ROWS_PREFIX}...)"))?;
    serde_json::from_str(rows).map_err(|e| format!("the latency child of {kind}: bad rows ({e})"))
}

/// In a latency child (started by [`measure_in_child`]), measures and exits; otherwise does
/// nothing. Call it first thing in `main` of the contention bench.
pub fn run_latency_child_if_requested() {
    let Ok(spec) = std::env::var(LATENCY_CHILD_ENV) else {
        return;
    };
    let fail = |why: String| -> ! {
        let _ = writeln!(
            std::io::stderr(),
            "error: {LATENCY_CHILD_ENV}='{spec}': {why}"
        );
        std::process::exit(2)
    };
    if let Err(e) = crate::harness::settings::allocators_from_env() {
        fail(e.to_string());
    }
    let (name, threads) = spec
        .split_once(':')
        .unwrap_or_else(|| fail("expected <allocator>:<threads>".into()));
    let kind: AllocatorKind = name
        .parse()
        .unwrap_or_else(|e: crate::error::InputError| fail(e.0));
    let threads: Vec<usize> = threads
        .split(',')
        .map(|t| {
            t.parse()
                .unwrap_or_else(|_| fail(format!("'{t}': expected a thread count")))
        })
        .collect();
    if let Err(e) = crate::harness::settings::proof_of(kind) {
        fail(e);
    }
    let cores = crate::harness::machine::available_cores();
    let rows = super::measure_all(&threads, &[kind], cores).unwrap_or_else(|e| fail(e.to_string()));
    let json = serde_json::to_string(&rows).unwrap_or_else(|e| fail(e.to_string()));
    let _ = writeln!(std::io::stdout(), "{ROWS_PREFIX}{json}");
    std::process::exit(0)
}
