//! Your workload under each allocator, in lock-step: one worker process per allocator (this program
//! started again, on the allocator it names), and a control, a second worker of the first
//! allocator. The supervisor asks the workers for one sample at a time, every worker once per block
//! in a rotated order, so that the samples of one block are milliseconds apart and a slow period of
//! the machine falls on every allocator alike. A *session* is one set of fresh workers; its value
//! for an allocator is the mean of its samples. Allocators are ranked by their ratios paired by
//! session, and the margin is what the control, the same allocator measured twice, says this run
//! can resolve. Sessions continue until every ratio is decided and the margin is within the plan's
//! target, or the budget is spent.
//!
//! Each worker proves, by the allocators' own accounts, that it runs on its allocator before any
//! time counts. The protocol is the gate's (`harness::worker`): `ready`, then `prove`,
//! `calibrate <threads> <ns>` and `sample <threads> <calls>`, one line each way.

use crate::analysis::own::{WorkloadRanking, rank_workload};
use crate::data::own::{AllocatorRounds, WorkloadEntry};
use crate::harness::ab::{Side, Worker};
use crate::harness::child::ChildCommand;
use crate::harness::worker::{calibrate, serve_with};
use crate::own::{allocator, check_name, say_error, time_calls};
use crate::workload::allocators::AllocatorKind;
use std::time::{Duration, Instant};

/// The environment variable that turns this program into a worker for the workload it names.
pub const WORKER_ENV: &str = "STACKHEAP_WORKLOAD_WORKER";

/// What [`measure`] runs, for each thread count.
#[derive(Clone, Debug)]
pub struct WorkloadPlan {
    /// The thread counts handed to the workload.
    pub threads: Vec<usize>,
    /// The allocators compared; the first is the reference, and its second worker the control.
    pub allocators: Vec<AllocatorKind>,
    /// How long one sample takes (calls calibrated once, on the first allocator's worker).
    pub sample: Duration,
    /// Samples of every worker per session.
    pub blocks: usize,
    /// Sessions before the first decision (6: the fewest whose median interval covers 95%).
    pub min_sessions: usize,
    pub max_sessions: usize,
    /// The margin the sessions aim for: after `min_sessions`, sessions go on while a ratio is
    /// undecided or the control's margin is above it (a goal, stated beside the margin reached).
    pub target_margin: f64,
    /// No new session starts when it would end after this, per thread count.
    pub budget: Duration,
}

impl Default for WorkloadPlan {
    fn default() -> WorkloadPlan {
        WorkloadPlan {
            threads: vec![1, 2],
            allocators: AllocatorKind::default_run(),
            sample: Duration::from_millis(10),
            // Ten: on the development VM six blocks left a session's mean noisy enough that 30
            // sessions did not always bring the margin under 5% (2026-12-02, AMD EPYC 2-vCPU).
            blocks: 10,
            min_sessions: 6,
            max_sessions: 30,
            target_margin: crate::own::TARGET_MARGIN,
            budget: Duration::from_secs(60),
        }
    }
}

impl WorkloadPlan {
    /// A plan small enough for a test run: structure, not figures.
    pub fn small(self) -> WorkloadPlan {
        WorkloadPlan {
            sample: Duration::from_millis(2),
            blocks: 2,
            min_sessions: 2,
            max_sessions: 2,
            budget: Duration::from_secs(20),
            ..self
        }
    }
}

/// One thread count of a workload, measured under every allocator.
#[derive(Clone, Debug)]
pub struct WorkloadResult {
    /// What was measured, as `own.json` keeps it.
    pub entry: WorkloadEntry,
    /// What it says: the allocators ranked, the margin, the verdicts.
    pub ranking: WorkloadRanking,
}

/// In a worker started for workload `name`, answers the supervisor's requests until its input
/// ends, then ends the process; otherwise returns at once.
pub fn serve_worker(name: &str, f: &(dyn Fn(usize) + Sync)) {
    if std::env::var(WORKER_ENV).ok().as_deref() != Some(name) {
        return;
    }
    let answer = |line: &str| -> Result<String, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let number = |i: usize| -> Result<u64, String> {
            words
                .get(i)
                .and_then(|w| w.parse().ok())
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("'{line}': expected a whole number > 0 in place {i}"))
        };
        match words.first().copied() {
            // A warm-up call fixes the allocator (and its first-use set-up) before the proof.
            Some("prove") => {
                f(1);
                allocator::prove_chosen()
            }
            Some("calibrate") => {
                let threads = number(1)? as usize;
                let target = Duration::from_nanos(number(2)?);
                calibrate(&mut |calls| Ok(time_calls(calls, || f(threads))), target)
                    .map(|calls| calls.to_string())
            }
            Some("sample") => {
                let threads = number(1)? as usize;
                let elapsed = time_calls(number(2)?, || f(std::hint::black_box(threads)));
                Ok(elapsed.as_nanos().to_string())
            }
            _ => Err(format!(
                "'{line}': expected prove, calibrate <threads> <ns> or sample <threads> <calls>"
            )),
        }
    };
    let served = serve_with(std::io::stdin().lock(), std::io::stdout(), answer);
    if let Err(e) = served {
        say_error(format_args!("error: workload worker {name}: {e}"));
        std::process::exit(3)
    }
    std::process::exit(0)
}

/// A worker of a session: its allocator, and whether it is the control (the reference again).
#[derive(Clone, Copy, Debug)]
struct Member {
    allocator: AllocatorKind,
    control: bool,
}

/// Starts `member`'s worker for workload `name` and checks its proof.
fn start(
    child: &ChildCommand,
    name: &str,
    member: Member,
    log: &std::path::Path,
) -> Result<(Worker, String), String> {
    let allocator = member.allocator;
    let side = Side {
        label: format!("{name} under {allocator}"),
        worker: child.exe.clone(),
        args: child.args.clone(),
        env: vec![
            (WORKER_ENV.into(), name.into()),
            (allocator::ALLOCATOR_ENV.into(), allocator.name().into()),
        ],
    };
    let mut worker = Worker::start(&side, log.to_path_buf())?;
    let proof = worker.ask("prove")?;
    if !proof.starts_with(&format!("runs on {allocator} ")) {
        return Err(format!("{}: the worker {proof}", side.label));
    }
    Ok((worker, proof))
}

/// One session: fresh workers (started in an order rotated by `session`), the calls per sample
/// calibrated on the first if `calls` is 0, a warm-up sample each, then `blocks` blocks of one
/// sample each, in an order rotated by block and reversed on every other. Returns the calls, each
/// member's ns per call and each member's proof.
fn session(
    child: &ChildCommand,
    name: &str,
    threads: usize,
    plan: &WorkloadPlan,
    members: &[Member],
    mut calls: u64,
    session: usize,
) -> Result<(u64, Vec<f64>, Vec<String>), String> {
    let n = members.len();
    // Every worker's stderr, appended to one file (its directory made once, by `measure`).
    let log = crate::data::suite_file::results_dir().join("own-workers.log");
    let mut started: Vec<Option<(Worker, String)>> = (0..n).map(|_| None).collect();
    for k in 0..n {
        let i = (k + session) % n;
        started[i] = Some(start(child, name, members[i], &log)?);
    }
    let (mut workers, proofs): (Vec<Worker>, Vec<String>) = started.into_iter().flatten().unzip();
    if calls == 0 {
        calls = workers[0]
            .ask(&format!("calibrate {threads} {}", plan.sample.as_nanos()))?
            .parse()
            .map_err(|_| format!("{name}: the worker's calibration is not a number"))?;
    }
    let request = format!("sample {threads} {calls}");
    let sample = |w: &mut Worker| -> Result<f64, String> {
        w.ask(&request)?
            .parse::<f64>()
            .map_err(|_| format!("{name}: a worker's sample is not a number"))
    };
    for worker in workers.iter_mut() {
        sample(worker)?;
    }
    let mut sums = vec![0.0; n];
    for block in 0..plan.blocks {
        let mut order: Vec<usize> = (0..n).map(|k| (k + block + session) % n).collect();
        if block % 2 == 1 {
            order.reverse();
        }
        for i in order {
            sums[i] += sample(&mut workers[i])?;
        }
    }
    let per_call = sums
        .iter()
        .map(|s| s / (plan.blocks as u64 * calls) as f64)
        .collect();
    Ok((calls, per_call, proofs))
}

/// Measures workload `name` under each allocator and thread count of `plan`, in lock-step workers
/// started as `child` says (each serves through [`serve_worker`]).
pub fn measure(
    name: &str,
    child: &ChildCommand,
    plan: &WorkloadPlan,
    mut progress: impl FnMut(&str),
) -> Result<Vec<WorkloadResult>, String> {
    check_name("workload", name)?;
    if plan.allocators.len() < 2 || plan.min_sessions < 2 || plan.blocks < 1 {
        return Err(format!(
            "{name}: {} allocators, {} sessions, {} blocks: expected at least 2 allocators, 2 sessions and 1 block",
            plan.allocators.len(),
            plan.min_sessions,
            plan.blocks
        ));
    }
    if plan.threads.is_empty() || plan.threads.contains(&0) {
        return Err(format!(
            "{name}: threads {:?}: expected at least one count, each at least 1",
            plan.threads
        ));
    }
    let mut members: Vec<Member> = plan
        .allocators
        .iter()
        .map(|&allocator| Member {
            allocator,
            control: false,
        })
        .collect();
    members.push(Member {
        allocator: plan.allocators[0],
        control: true,
    });
    // The directory of the workers' log, made once for every session.
    let dir = crate::data::suite_file::results_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: cannot create ({e})", dir.display()))?;
    let mut results = Vec::new();
    for &threads in &plan.threads {
        let start = Instant::now();
        let mut calls = 0;
        let mut values: Vec<Vec<f64>> = vec![Vec::new(); members.len()];
        let mut proofs = Vec::new();
        let mut longest = Duration::ZERO;
        let mut sessions = 0;
        let (entry, ranking) = loop {
            let began = Instant::now();
            let (c, per_call, p) = session(child, name, threads, plan, &members, calls, sessions)?;
            longest = longest.max(began.elapsed());
            sessions += 1;
            (calls, proofs) = (c, if proofs.is_empty() { p } else { proofs });
            for (v, x) in values.iter_mut().zip(per_call) {
                v.push(x);
            }
            let entry = WorkloadEntry {
                name: name.to_owned(),
                threads,
                calls,
                allocators: members
                    .iter()
                    .zip(&values)
                    .zip(&proofs)
                    .filter(|((m, _), _)| !m.control)
                    .map(|((m, v), proof)| AllocatorRounds {
                        allocator: m.allocator,
                        per_call_ns: v.clone(),
                        proof: proof.clone(),
                    })
                    .collect(),
                control_ns: values[members.len() - 1].clone(),
            };
            let ranking = rank_workload(&entry);
            let out_of_time = start.elapsed() + longest > plan.budget;
            if sessions >= plan.max_sessions
                || (sessions >= plan.min_sessions
                    && ((ranking.all_decided() && ranking.margin <= plan.target_margin)
                        || out_of_time))
            {
                break (entry, ranking);
            }
        };
        progress(&format!(
            "{name} at t{threads}: {sessions} sessions in {:.1} s, margin ±{:.1}%",
            start.elapsed().as_secs_f64(),
            ranking.margin * 100.0
        ));
        results.push(WorkloadResult { entry, ranking });
    }
    Ok(results)
}
