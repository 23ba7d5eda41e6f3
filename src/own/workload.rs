//! Your workload under each allocator: the user's own closure, allocating the ordinary way, timed in
//! one child process per allocator and thread count, the processes interleaved in rounds (each round
//! runs every allocator once, in a rotated order) and the allocators ranked by ratios paired by
//! round, with the suite's one decision rule and the margin the rounds' own spread allows.
//!
//! The user's binary runs on [`ChosenAllocator`](crate::own::allocator::ChosenAllocator); each child
//! is started with `STACKHEAP_ALLOCATOR` set and proves, by the allocators' own accounts, that it ran
//! on that allocator before its time counts.

use crate::analysis::comparisons::{NOISE_MARGIN, Noise, Ranking, rank_rounds};
use crate::harness::child::{ChildCommand, run};
use crate::own::allocator::{ALLOCATOR_ENV, prove_chosen};
use crate::own::{child_request, say_error};
use crate::workload::allocators::AllocatorKind;
use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

/// The environment variable that turns this program into a workload child:
/// `<name>\t<threads>\t<calls>\t<target ns>` (0 calls: find how many calls fill the target time).
pub const CHILD_ENV: &str = "STACKHEAP_WORKLOAD_CHILD";
/// The child's last line starts with this, then the name, threads, calls, ns per call and the proof.
const TIMED: &str = "stackheap-workload";

/// What [`measure`] runs.
#[derive(Clone, Debug)]
pub struct WorkloadPlan {
    pub allocators: Vec<AllocatorKind>,
    /// The thread counts handed to the workload.
    pub threads: Vec<usize>,
    /// Processes per allocator and thread count, interleaved round by round.
    pub rounds: usize,
    /// How long one process's timed calls should take (calibrated once per thread count).
    pub target: Duration,
    /// How long one child may take.
    pub timeout: Duration,
}

impl Default for WorkloadPlan {
    fn default() -> WorkloadPlan {
        WorkloadPlan {
            allocators: AllocatorKind::default_run(),
            threads: vec![1, 2],
            rounds: 5,
            target: Duration::from_millis(300),
            timeout: Duration::from_secs(120),
        }
    }
}

/// One thread count of a workload, measured under every allocator.
#[derive(Clone, Debug)]
pub struct WorkloadResult {
    pub name: String,
    pub threads: usize,
    /// Calls of the workload each process timed.
    pub calls: u64,
    /// Each allocator's ns per call in each round, in round order.
    pub per_call_ns: Vec<(AllocatorKind, Vec<f64>)>,
    /// Each allocator's proof line, from its first process.
    pub proofs: Vec<(AllocatorKind, String)>,
    /// The rounds' own spread between processes of one allocator; `None` with fewer than three rounds.
    pub noise: Option<Noise>,
    /// Fastest first, each ratio to the fastest paired by round.
    pub ranking: Ranking,
}

/// In a child started for workload `name`, runs it as asked and ends the process; otherwise returns
/// at once. [`measure`] calls it first, so a program that calls `measure` needs nothing else.
pub fn serve_child(name: &str, f: &(dyn Fn(usize) + Sync)) {
    let Some([threads, calls, target_ns]) = child_request(
        CHILD_ENV,
        name,
        "<name>\\t<threads>\\t<calls>\\t<target ns>",
    ) else {
        return;
    };
    let threads = threads as usize;
    let fail = |msg: String| -> ! {
        say_error(format_args!("error: workload child: {msg}"));
        std::process::exit(3)
    };
    // A warm-up call, which also fixes the allocator; then the proof, before any time counts.
    f(threads);
    let proof = prove_chosen().unwrap_or_else(|e| {
        fail(format!(
            "{e} (is the program's #[global_allocator] stackheap::own::allocator::ChosenAllocator?)"
        ))
    });
    let time = |calls: u64| {
        let start = Instant::now();
        for _ in 0..calls {
            f(std::hint::black_box(threads));
        }
        start.elapsed()
    };
    let (calls, elapsed) = if calls > 0 {
        (calls, time(calls))
    } else {
        // Calibration: doubles the calls until they fill the target time.
        let mut calls = 1;
        loop {
            let elapsed = time(calls);
            if elapsed >= Duration::from_nanos(target_ns) || calls >= 1 << 30 {
                break (calls, elapsed);
            }
            calls *= 2;
        }
    };
    let mut out = std::io::stdout();
    let _ = writeln!(
        out,
        "{TIMED}\t{name}\t{threads}\t{calls}\t{}\t{proof}",
        elapsed.as_nanos() as f64 / calls as f64
    );
    let _ = out.flush();
    std::process::exit(0)
}

/// What one child reported: calls, ns per call, proof.
fn run_child(
    child: &ChildCommand,
    name: &str,
    allocator: AllocatorKind,
    threads: usize,
    calls: u64,
    plan: &WorkloadPlan,
) -> Result<(u64, f64, String), String> {
    let what = format!("{name} at {threads} threads under {allocator}");
    let mut command = Command::new(&child.exe);
    command
        .args(&child.args)
        .env(
            CHILD_ENV,
            format!("{name}\t{threads}\t{calls}\t{}", plan.target.as_nanos()),
        )
        .env(ALLOCATOR_ENV, allocator.name());
    let ended = run(command, plan.timeout)
        .map_err(|e| format!("{what}: cannot start {}: {e}", child.exe.display()))?;
    if let Some(failure) = ended.failure() {
        return Err(format!("{what}: {failure}: {}", ended.last_stderr_line()));
    }
    let line = ended
        .stdout
        .lines()
        .find_map(|l| Some(&l[l.find(TIMED)?..]))
        .ok_or_else(|| {
            format!(
                "{what}: the child ended without reaching stackheap's workload entry: expected the program to call serve_child or measure for `{name}`"
            )
        })?;
    let fields: Vec<&str> = line.split('\t').collect();
    match fields.as_slice() {
        [_, n, t, calls, ns, proof] if *n == name && t.parse() == Ok(threads) => {
            let calls = calls
                .parse()
                .map_err(|_| format!("{what}: bad line {line}"))?;
            let ns: f64 = ns.parse().map_err(|_| format!("{what}: bad line {line}"))?;
            if !proof.starts_with(&format!("runs on {allocator} ")) {
                return Err(format!("{what}: the child {proof}"));
            }
            Ok((calls, ns, proof.to_string()))
        }
        _ => Err(format!("{what}: bad line {line}")),
    }
}

/// Measures workload `name` under each allocator and thread count of `plan`, in child processes
/// started as `child` says. In a child it runs what it was asked and ends the process instead.
pub fn measure(
    name: &str,
    f: &(dyn Fn(usize) + Sync),
    child: &ChildCommand,
    plan: &WorkloadPlan,
) -> Result<Vec<WorkloadResult>, String> {
    serve_child(name, f);
    if name.is_empty() || name.contains(['\t', '\n']) {
        return Err(format!(
            "workload name {name:?}: expected a non-empty name without tabs or newlines"
        ));
    }
    if plan.allocators.len() < 2 || plan.rounds < 2 || plan.threads.is_empty() {
        return Err(format!(
            "{name}: {} allocators, {} rounds, {} thread counts: expected at least 2, 2 and 1",
            plan.allocators.len(),
            plan.rounds,
            plan.threads.len()
        ));
    }
    let mut results = Vec::new();
    for &threads in &plan.threads {
        // The same calls in every process: calibrated once, under the first allocator.
        let (calls, _, _) = run_child(child, name, plan.allocators[0], threads, 0, plan)?;
        let mut per_call: Vec<(AllocatorKind, Vec<f64>)> =
            plan.allocators.iter().map(|&a| (a, Vec::new())).collect();
        let mut proofs = Vec::new();
        for round in 0..plan.rounds {
            // Interleaved: every allocator once per round, the order rotated round by round.
            for k in 0..plan.allocators.len() {
                let i = (k + round) % plan.allocators.len();
                let allocator = plan.allocators[i];
                let (_, ns, proof) = run_child(child, name, allocator, threads, calls, plan)?;
                per_call[i].1.push(ns);
                if round == 0 {
                    proofs.push((allocator, proof));
                }
            }
        }
        let rows: Vec<&[f64]> = per_call.iter().map(|(_, v)| v.as_slice()).collect();
        let noise = Noise::of_rows(&rows);
        let margin = noise.map_or(NOISE_MARGIN, |n| n.margin);
        results.push(WorkloadResult {
            name: name.to_owned(),
            threads,
            calls,
            ranking: rank_rounds(&per_call, margin),
            per_call_ns: per_call,
            proofs,
            noise,
        });
    }
    Ok(results)
}
