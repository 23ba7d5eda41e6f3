//! Your workload under each allocator: the user's own closure, allocating the ordinary way, timed in
//! one child process per allocator and thread count, the processes interleaved in rounds (each round
//! runs every allocator once, in a rotated order) and the allocators ranked by ratios paired by
//! round, with the suite's one decision rule and the margin the rounds' own spread allows.
//!
//! The user's binary runs on [`ChosenAllocator`](crate::own::allocator::ChosenAllocator); each child
//! is started with `STACKHEAP_ALLOCATOR` set and proves, by the allocators' own accounts, that it ran
//! on that allocator before its time counts.

use crate::analysis::comparisons::{NOISE_MARGIN, Noise, Ranking, rank_rounds};
use crate::harness::child::ChildCommand;
use crate::own::{
    Ask, ProcessPlan, answer_parent, ask_child, calls_for_target, check_name, child_request,
    prove_or_exit, time_calls,
};
use crate::workload::allocators::AllocatorKind;

/// The environment variable that turns this program into a workload child:
/// `<name>\t<threads>\t<calls>\t<target ns>` (0 calls: find how many calls fill the target time).
pub const CHILD_ENV: &str = "STACKHEAP_WORKLOAD_CHILD";
/// The child's last line starts with this, then the name, threads, calls, ns per call and the proof.
const TIMED: &str = "stackheap-workload";

/// What [`measure`] runs.
#[derive(Clone, Debug)]
pub struct WorkloadPlan {
    /// The thread counts handed to the workload.
    pub threads: Vec<usize>,
    /// The allocators, rounds and time per process, for each thread count.
    pub processes: ProcessPlan,
}

impl Default for WorkloadPlan {
    fn default() -> WorkloadPlan {
        WorkloadPlan {
            threads: vec![1, 2],
            processes: ProcessPlan::default(),
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
    // A warm-up call, which also fixes the allocator; then the proof, before any time counts.
    f(threads);
    let proof = prove_or_exit("workload");
    let (calls, elapsed) = calls_for_target(calls, target_ns, |calls| {
        time_calls(calls, || f(std::hint::black_box(threads)))
    });
    let per_call = elapsed.as_nanos() as f64 / calls as f64;
    answer_parent(
        TIMED,
        &[
            name.to_owned(),
            threads.to_string(),
            calls.to_string(),
            per_call.to_string(),
            proof,
        ],
    )
}

/// What one child reported: calls, ns per call, proof.
fn run_child(
    child: &ChildCommand,
    name: &str,
    allocator: AllocatorKind,
    threads: usize,
    calls: u64,
    plan: &ProcessPlan,
) -> Result<(u64, f64, String), String> {
    let ask = Ask {
        var: CHILD_ENV,
        marker: TIMED,
        name,
        numbers: &[threads as u64, calls],
        what: format!("{name} at {threads} threads"),
        fields: 5,
    };
    let answer = ask_child(child, plan, allocator, &ask)?;
    if answer.number::<usize>(1)? != threads {
        return Err(answer.bad_line());
    }
    Ok((answer.number(2)?, answer.number(3)?, answer.text(4)))
}

/// Measures workload `name` under each allocator and thread count of `plan`, in child processes
/// started as `child` says. In a child it runs what it was asked and ends the process instead.
///
/// ```no_run
/// use stackheap::harness::child::ChildCommand;
/// use stackheap::own::workload::{WorkloadPlan, measure};
///
/// // Each process runs on the allocator STACKHEAP_ALLOCATOR names.
/// #[global_allocator]
/// static GLOBAL: stackheap::own::allocator::ChosenAllocator =
///     stackheap::own::allocator::ChosenAllocator;
///
/// /// The user's workload: `threads` threads each build and sum a map.
/// fn index(threads: usize) {
///     std::thread::scope(|s| {
///         for t in 0..threads {
///             s.spawn(move || {
///                 let map: std::collections::HashMap<u64, String> =
///                     (0..1000).map(|i| (i, format!("{t}-{i}"))).collect();
///                 std::hint::black_box(map.len());
///             });
///         }
///     });
/// }
///
/// let child = ChildCommand::current_exe().unwrap();
/// for result in measure("index", &index, &child, &WorkloadPlan::default()).unwrap() {
///     println!("t{}: {:?}", result.threads, result.ranking.first().map(|r| r.allocator));
/// }
/// ```
pub fn measure(
    name: &str,
    f: &(dyn Fn(usize) + Sync),
    child: &ChildCommand,
    plan: &WorkloadPlan,
) -> Result<Vec<WorkloadResult>, String> {
    serve_child(name, f);
    check_name("workload", name)?;
    let processes = &plan.processes;
    processes.check(name)?;
    if plan.threads.is_empty() {
        return Err(format!("{name}: no thread count: expected at least one"));
    }
    let mut results = Vec::new();
    for &threads in &plan.threads {
        // The same calls in every process: calibrated once, under the first allocator.
        let (calls, _, _) = run_child(child, name, processes.allocators[0], threads, 0, processes)?;
        let measured = processes
            .interleave(|allocator| run_child(child, name, allocator, threads, calls, processes))?;
        let per_call: Vec<(AllocatorKind, Vec<f64>)> = measured
            .iter()
            .map(|(a, runs)| (*a, runs.iter().map(|r| r.1).collect()))
            .collect();
        let proofs = measured
            .iter()
            .map(|(a, runs)| (*a, runs[0].2.clone()))
            .collect();
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
