//! Your workload under each allocator, in lock-step: the comparison engine (`harness::engine`)
//! with one worker process per allocator (this program started again, on the allocator it names)
//! and a control, a second worker of the first allocator; one group per thread count. The engine
//! asks the workers for one sample at a time, every worker once per round in a random order, so
//! that the samples of a round are milliseconds apart and a slow period of the machine falls on
//! every allocator alike. A *session* is one set of fresh workers; its value for an allocator is
//! the mean of its samples. Allocators are ranked by their ratios paired by session, and the
//! margin is what the control, the same allocator measured twice, says this run can resolve.
//! Sessions continue until every ratio is decided and the margin is within the plan's target, or
//! the budget is spent.
//!
//! Each worker proves, by the allocators' own accounts, that it runs on its allocator before any
//! time counts. The protocol is the gate's (`harness::worker`): `ready`, then `prove`,
//! `calibrate <threads> <ns>` and `sample <threads> <calls>`, one line each way.

use crate::analysis::own::{WorkloadRanking, rank_workload};
use crate::data::groups::GroupEntry;
use crate::data::own::{AllocatorRounds, WorkloadEntry};
use crate::harness::ab::{Side, Worker};
use crate::harness::child::ChildCommand;
use crate::harness::engine::{self, Group, Member};
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
    /// Samples of every worker per session (the engine's rounds).
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
                // One untimed call first, as every engine sample starts (harness::worker).
                f(threads);
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

/// The side of one allocator's workers: this program started again as a worker for workload
/// `name` on `allocator`.
fn side(child: &ChildCommand, name: &str, allocator: AllocatorKind) -> Side {
    Side {
        label: format!("{name} under {allocator}"),
        worker: child.exe.clone(),
        args: child.args.clone(),
        env: [(WORKER_ENV.into(), name.into())]
            .into_iter()
            .chain(allocator::child_env(allocator))
            .collect(),
    }
}

/// What `group` of the engine measured, as `own.json` keeps it: one member per allocator (sides
/// in the order of `allocators`), the control the first allocator's second worker.
fn entry_of(
    name: &str,
    threads: usize,
    allocators: &[AllocatorKind],
    group: &GroupEntry,
    proofs: &[String],
) -> WorkloadEntry {
    WorkloadEntry {
        name: name.to_owned(),
        threads,
        calls: group.members[0].iterations,
        allocators: allocators
            .iter()
            .zip(&group.members)
            .zip(proofs)
            .map(|((&allocator, m), proof)| AllocatorRounds {
                allocator,
                per_call_ns: m.ns.clone(),
                proof: proof.clone(),
            })
            .collect(),
        control_ns: group.control_ns.clone(),
    }
}

/// Measures workload `name` under each allocator and thread count of `plan`, in lock-step workers
/// started as `child` says (each serves through [`serve_worker`]): the comparison engine's
/// groups, one per thread count, whose members are one worker per allocator and whose control is
/// a second worker of the first allocator.
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
    let allocators = &plan.allocators;
    // The allocator of each side: one per allocator, then the control's, the first again.
    let side_allocators: Vec<AllocatorKind> =
        allocators.iter().copied().chain([allocators[0]]).collect();
    let sides: Vec<Side> = side_allocators
        .iter()
        .map(|&a| side(child, name, a))
        .collect();
    let groups = plan
        .threads
        .iter()
        .map(|threads| Group {
            name: format!("{name}/t{threads}"),
            members: (0..allocators.len())
                .map(|side| Member {
                    id: threads.to_string(),
                    side,
                })
                .collect(),
            control_side: Some(allocators.len()),
            sample: plan.sample,
            // The user's workload at t threads runs t at once (as far as the suite can know).
            threads: *threads,
        })
        .collect();
    let dir = crate::data::suite_file::results_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: cannot create ({e})", dir.display()))?;
    let engine_plan = engine::Plan {
        sides,
        groups,
        rounds: plan.blocks,
        min_sessions: plan.min_sessions,
        max_sessions: plan.max_sessions,
        budget: plan.budget * plan.threads.len() as u32,
        log: dir.join("own-workers.log"),
        seed: 0x5EED ^ name.len() as u64,
        // Both thread counts in the same workers: each allocator's worker meets the same history.
        process_per_group: false,
    };
    // Every worker proves its allocator when it starts; the first proof of each side is kept.
    let mut proofs: Vec<Option<String>> = vec![None; side_allocators.len()];
    let prove = |side: usize, worker: &mut Worker| -> Result<(), String> {
        let allocator = side_allocators[side];
        let proof = worker.ask("prove")?;
        if !proof.starts_with(&format!("runs on {allocator} ")) {
            return Err(format!(
                "{}: the worker {proof}",
                engine_plan.sides[side].label
            ));
        }
        proofs[side].get_or_insert(proof);
        Ok(())
    };
    let threads_of = |group: &GroupEntry| group.members[0].id.parse().unwrap_or(0);
    let placeholder = vec![String::new(); allocators.len()];
    let settled = |group: &GroupEntry, _reachable: usize| {
        let ranking = rank_workload(&entry_of(
            name,
            threads_of(group),
            allocators,
            group,
            &placeholder,
        ));
        ranking.all_decided() && ranking.margin <= plan.target_margin
    };
    let start = Instant::now();
    let outcome = engine::run(&engine_plan, prove, settled, |_| {})?;
    let proofs: Vec<String> = proofs.into_iter().map(Option::unwrap_or_default).collect();
    Ok(outcome
        .entries
        .iter()
        .map(|group| {
            let entry = entry_of(name, threads_of(group), allocators, group, &proofs);
            let ranking = rank_workload(&entry);
            progress(&format!(
                "{name} at t{}: {} sessions, margin ±{:.1}% (every thread count: {:.1} s)",
                entry.threads,
                group.sessions(),
                ranking.margin * 100.0,
                start.elapsed().as_secs_f64()
            ));
            WorkloadResult { entry, ranking }
        })
        .collect())
}
