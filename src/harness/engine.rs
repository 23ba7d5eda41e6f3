//! The comparison engine's runner: a comparison *group* names its members (the rows compared, the
//! first of them the reference) and the engine samples the group in *rounds*: each round takes one
//! sample of every member and of the control (the reference again, under another name) in a fresh
//! random order, the next round in the reverse of that order, each sample a few milliseconds long
//! (iterations calibrated at run time) and preceded by one untimed call of its member, so that a
//! slow period of the machine falls on every member of the round and no member pays for what the
//! previous one left behind. A *session* samples every group still active, each in fresh worker
//! processes of its own (or, for the gate and the workload question, one set of workers for all of
//! them), each member first sampled once, not counted; its value for a member is the mean of its
//! rounds, so that layout and address randomisation vary between sessions, and the statistics
//! (`analysis::engine`) pair members by session. Members that must
//! live in processes of their own (two builds; one allocator per process) are members on different
//! sides: the same rounds, across processes; while a group of one-thread rows is sampled, its
//! workers (one or several) share one CPU (`share_one_cpu`).
//!
//! Groups stop when the caller's rule says they are settled (after `min_sessions`); the sessions
//! continue for the others until the budget or `max_sessions`.

use crate::data::groups::{GroupEntry, MemberRounds};
use crate::data::id::BenchId;
use crate::harness::ab::{Side, Worker};
use crate::workload::allocators::AllocatorKind;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// One member of a group: the row its worker runs, and which side's worker runs it.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub id: String,
    pub side: usize,
}

/// A comparison group.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub name: String,
    /// The members, the reference first.
    pub members: Vec<Member>,
    /// The side whose worker samples the control (the reference's row again): the reference's own
    /// side when the members share one process, another process of the same build otherwise;
    /// `None` for a group whose margin is set by its caller (the gate's threshold).
    pub control_side: Option<usize>,
    /// How long one sample should take.
    pub sample: Duration,
    /// The operating-system threads a member runs at once (the most of any member). A group of
    /// one-thread members has its workers share one CPU during its rounds (`share_one_cpu`).
    pub threads: usize,
}

impl Group {
    /// A group whose members all run in one process, the worker of side 0.
    pub fn in_one_process(name: String, ids: &[String], sample: Duration) -> Group {
        Group {
            name,
            members: ids
                .iter()
                .map(|id| Member {
                    id: id.clone(),
                    side: 0,
                })
                .collect(),
            control_side: Some(0),
            sample,
            threads: 1,
        }
    }
}

/// The report's comparison groups ([`crate::data::groups::comparison_groups`]) whose names `selected`
/// matches; a sample takes `sample` times the group's scale. Every member runs in the worker of
/// side 0, except a library's (an allocator named at run time), which runs in a worker of its own
/// with the library preloaded: side 1 + its position among the libraries of `allocators`, as
/// [`report_sides`] starts them.
pub fn report_groups(
    allocators: &[AllocatorKind],
    threads: &[usize],
    cores: usize,
    selected: &regex::Regex,
    sample: Duration,
) -> Vec<Group> {
    let libraries: Vec<AllocatorKind> = allocators
        .iter()
        .copied()
        .filter(|a| a.is_library())
        .collect();
    let side_of = |id: &BenchId| {
        id.allocator()
            .and_then(|a| libraries.iter().position(|&l| l == a))
            .map_or(0, |k| k + 1)
    };
    crate::data::groups::comparison_groups(allocators, threads, cores)
        .into_iter()
        .filter(|g| selected.is_match(&g.name))
        .map(|g| {
            let members: Vec<Member> = g
                .ids
                .iter()
                .map(|id| Member {
                    id: id.to_string(),
                    side: side_of(id),
                })
                .collect();
            Group {
                name: g.name,
                control_side: Some(members[0].side),
                members,
                sample: sample * g.sample_scale,
                threads: g.ids.iter().map(BenchId::os_threads).max().unwrap_or(1),
            }
        })
        .collect()
}

/// The workers [`report_groups`] places its members in: `worker` as it is (side 0), then one per
/// library of `allocators`, started with it preloaded (`settings::preload_env`).
pub fn report_sides(worker: &std::path::Path, allocators: &[AllocatorKind]) -> Vec<Side> {
    let plain = Side {
        label: "stackheap-worker".into(),
        worker: worker.to_path_buf(),
        args: Vec::new(),
        env: Vec::new(),
    };
    let libraries = allocators.iter().filter(|a| a.is_library()).map(|&a| Side {
        label: format!("stackheap-worker ({a})"),
        env: crate::harness::settings::preload_env(a),
        ..plain.clone()
    });
    std::iter::once(plain.clone()).chain(libraries).collect()
}

/// How the engine runs.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The worker processes a session starts, one per side.
    pub sides: Vec<Side>,
    pub groups: Vec<Group>,
    /// Rounds of every group per session.
    pub rounds: usize,
    /// Sessions before a group may stop (6: the fewest whose median interval covers 95%).
    pub min_sessions: usize,
    pub max_sessions: usize,
    /// No session starts that is expected to end after this.
    pub budget: Duration,
    /// Where the workers' stderr goes (appended).
    pub log: PathBuf,
    /// Seeds the rounds' random orders (recorded, so that a run's orders can be repeated).
    pub seed: u64,
    /// Whether every group gets fresh workers of its own in each session, rather than one set for
    /// all the groups of a session: a group then meets no heap state that another group left (in
    /// one worker after the stack-vs-heap groups, jemalloc's producer_consumer ran 1.3x slower
    /// than alone, on the AMD EPYC 2-vCPU VM of 2026-12-02).
    pub process_per_group: bool,
}

/// What a run measured.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub entries: Vec<GroupEntry>,
    pub sessions: usize,
    pub seconds: f64,
    /// Why the run stopped: "done" (every group done, as the caller's rule says), "budget" (a
    /// group's next session would have ended after it) or "max_sessions".
    pub stopped: &'static str,
}

/// A small, seeded generator for the rounds' orders (splitmix64): reproducible, no dependency.
struct Orders(u64);

impl Orders {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A fresh random order of `0..n` (Fisher-Yates).
    fn shuffled(&mut self, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, (self.next() % (i as u64 + 1)) as usize);
        }
        order
    }
}

/// The order of each round: a fresh random one, then its reverse, so that over two rounds every
/// member is as often early as late.
fn round_orders(orders: &mut Orders, slots: usize, rounds: usize) -> Vec<Vec<usize>> {
    let mut all: Vec<Vec<usize>> = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let order = match all.last() {
            Some(last) if round % 2 == 1 => last.iter().rev().copied().collect(),
            _ => orders.shuffled(slots),
        };
        all.push(order);
    }
    all
}

impl Plan {
    fn check(&self) -> Result<(), String> {
        if self.rounds == 0 || self.min_sessions < 2 || self.max_sessions < self.min_sessions {
            return Err(format!(
                "{} rounds, {} to {} sessions: expected at least 1 round and 2 <= min <= max sessions",
                self.rounds, self.min_sessions, self.max_sessions
            ));
        }
        if self.groups.is_empty() {
            return Err("no comparison group: expected at least one".into());
        }
        for g in &self.groups {
            let sides = sides_of(g);
            if g.members.len() < 2 || sides.iter().any(|&s| s >= self.sides.len()) {
                return Err(format!(
                    "group {}: {} members on sides {:?} of {}: expected at least two, on known sides",
                    g.name,
                    g.members.len(),
                    sides,
                    self.sides.len()
                ));
            }
        }
        Ok(())
    }
}

/// Runs `plan`: sessions of fresh workers until every group is done (`done`, asked after each of
/// a group's sessions from the `min_sessions`th on, with the sessions the group could reach in
/// all: as many more as its last session's time fits in what is left of the budget, at most
/// `max_sessions`), no group's next session fits the budget or `max_sessions` is reached. A group
/// whose next session would end after the budget stops, and the cheaper groups go on. `prepare` is handed each worker (with its side) as it starts, before
/// anything is sampled (to ask it for a proof, say). `progress` hears a line per session that
/// settles a group, and every tenth.
pub fn run(
    plan: &Plan,
    mut prepare: impl FnMut(usize, &mut Worker) -> Result<(), String>,
    done: impl Fn(&GroupEntry, usize) -> bool,
    mut progress: impl FnMut(&str),
) -> Result<Outcome, String> {
    plan.check()?;
    let start = Instant::now();
    let mut entries: Vec<GroupEntry> = plan
        .groups
        .iter()
        .map(|g| GroupEntry {
            group: g.name.clone(),
            rounds: plan.rounds,
            members: g
                .members
                .iter()
                .map(|m| MemberRounds {
                    id: m.id.clone(),
                    iterations: 0,
                    ns: Vec::new(),
                })
                .collect(),
            control_ns: Vec::new(),
        })
        .collect();
    // What one session of each group took (its workers' start included), to see whether the next
    // session fits the budget.
    let mut group_time = vec![Duration::ZERO; plan.groups.len()];
    let mut active: Vec<usize> = (0..plan.groups.len()).collect();
    let mut orders = Orders(plan.seed);
    let cpus = crate::platform::allowed_cpus();
    let mut sessions = 0;
    let mut budget_cut = false;
    let stopped = loop {
        if active.is_empty() {
            break if budget_cut { "budget" } else { "done" };
        }
        if sessions >= plan.max_sessions {
            break "max_sessions";
        }
        // Groups in a rotated order, so that none is always first in a fresh process.
        let offset = sessions % active.len();
        let order: Vec<usize> = active[offset..]
            .iter()
            .chain(&active[..offset])
            .copied()
            .collect();
        let mut shared = None;
        let mut out_of_time = Vec::new();
        for &g in &order {
            // A group whose session (taken as long as its last) would end after the budget stops;
            // the cheaper ones go on.
            if sessions > 0 && start.elapsed() + group_time[g] > plan.budget {
                out_of_time.push(g);
                continue;
            }
            let group_start = Instant::now();
            // Workers of their own for each group, or one set for the whole session.
            let mut own = None;
            let workers = if plan.process_per_group {
                own.insert(start_workers(plan, &[g], sessions, &mut prepare)?)
            } else {
                match &mut shared {
                    Some(w) => w,
                    None => shared.insert(start_workers(plan, &active, sessions, &mut prepare)?),
                }
            };
            share_one_cpu(&plan.groups[g], workers, &cpus, sessions)?;
            session_of_group(
                &plan.groups[g],
                &mut entries[g],
                workers,
                plan.rounds,
                &mut orders,
            )?;
            drop(own);
            group_time[g] = group_start.elapsed();
        }
        drop(shared);
        if out_of_time.len() == active.len() {
            break "budget";
        }
        budget_cut |= !out_of_time.is_empty();
        active.retain(|g| !out_of_time.contains(g));
        sessions += 1;
        let before = active.len();
        let left = plan.budget.saturating_sub(start.elapsed());
        active.retain(|&g| {
            let had = entries[g].sessions();
            // Sessions the group could still reach, were it alone.
            let more = left.as_secs_f64() / group_time[g].as_secs_f64().max(1e-3);
            let reachable = (had + more as usize).min(plan.max_sessions);
            had < plan.min_sessions || !done(&entries[g], reachable)
        });
        if active.len() < before || sessions.is_multiple_of(10) {
            progress(&format!(
                "session {sessions}: {} of {} groups done ({:.0} s)",
                plan.groups.len() - active.len(),
                plan.groups.len(),
                start.elapsed().as_secs_f64()
            ));
        }
    };
    Ok(Outcome {
        entries,
        sessions,
        seconds: start.elapsed().as_secs_f64(),
        stopped,
    })
}

/// Fresh workers for the sides the active groups use, started in an order rotated by `session`
/// so that no side is always the older process.
fn start_workers(
    plan: &Plan,
    active: &[usize],
    session: usize,
    prepare: &mut impl FnMut(usize, &mut Worker) -> Result<(), String>,
) -> Result<Vec<Option<Worker>>, String> {
    let n = plan.sides.len();
    let used: Vec<usize> = active
        .iter()
        .flat_map(|&g| sides_of(&plan.groups[g]))
        .collect();
    let mut workers: Vec<Option<Worker>> = (0..n).map(|_| None).collect();
    for k in 0..n {
        let side = (k + session) % n;
        if used.contains(&side) {
            let mut worker = Worker::start(&plan.sides[side], plan.log.clone())?;
            prepare(side, &mut worker)?;
            workers[side] = Some(worker);
        }
    }
    Ok(workers)
}

/// Lets the workers of `group` run on one CPU of `cpus` during its rounds, the session's (so that
/// the sessions visit every CPU), when its members run one thread each; on all of `cpus` otherwise
/// (the workers may be shared with a group of threads). Threads left free run where the scheduler
/// places them, often on two different vCPUs, whose speeds differ at a time: lock-step workers of
/// an A/A pair had session ratios from 0.81 to 1.42 left free, 0.994 to 1.030 on one CPU (twenty
/// sessions each, alternating; heap_box glibc 4 KiB), and a one-thread contention row, whose
/// thread each sample starts anew, landed on either vCPU while the reference's samples around it
/// ran on the other: the nine `contention/*/t1` groups' controls measured ±4.6% and ±4.7% (median)
/// free, ±1.5% and ±2.5% on one CPU (twelve sessions each, runs alternating; the AMD EPYC 2-vCPU VM
/// of 2026-12-03).
fn share_one_cpu(
    group: &Group,
    workers: &mut [Option<Worker>],
    cpus: &[usize],
    session: usize,
) -> Result<(), String> {
    let run_on = cpus_of(group, cpus, session);
    for side in sides_of(group) {
        worker_of(workers, side)?.run_on(&run_on)?;
    }
    Ok(())
}

/// The sides `group`'s members and control run on, each once.
fn sides_of(group: &Group) -> Vec<usize> {
    let mut sides: Vec<usize> = group
        .members
        .iter()
        .map(|m| m.side)
        .chain(group.control_side)
        .collect();
    sides.sort_unstable();
    sides.dedup();
    sides
}

/// The CPUs `group`'s workers may use in session `session` ([`share_one_cpu`]).
fn cpus_of(group: &Group, cpus: &[usize], session: usize) -> Vec<usize> {
    if group.threads == 1 && !cpus.is_empty() {
        vec![cpus[session % cpus.len()]]
    } else {
        cpus.to_vec()
    }
}

/// One session of one group: members calibrated if they are not yet (each id once, on its side,
/// the control sharing the reference's), then `rounds` rounds in which every other slot is
/// *bracketed* by the reference: `R m1 R m2 R ...`, each sample taken against the mean of the
/// reference samples just before and after it. On the 2-vCPU VMs the machine's speed switches
/// between two modes (1.7 and 3.1 ns for the same 16-byte stack array) in stretches of roughly 50
/// to 150 ms, shorter than a round of a large group, so a member is compared with the reference
/// sampled milliseconds from it, not with the round's mean (the AMD EPYC 2-vCPU VM, 2026-12-02:
/// the control's margin ±2.6-3.5% bracketed against ±5.6-13.1% with rounds' means, same samples'
/// cost, one run each).
///
/// Appends to `entry`, per session: the reference's mean ns per iteration, and for every other
/// member and the control that figure times the median of its rounds' ratios to the reference
/// around it, so that `member.ns[s] / reference.ns[s]` is the session's bracketed ratio and the
/// figure stays a time.
fn session_of_group(
    group: &Group,
    entry: &mut GroupEntry,
    workers: &mut [Option<Worker>],
    rounds: usize,
    orders: &mut Orders,
) -> Result<(), String> {
    // Slots: the members, then the control.
    let slots: Vec<(&str, usize)> = group
        .members
        .iter()
        .map(|m| (m.id.as_str(), m.side))
        .chain(
            group
                .control_side
                .map(|side| (group.members[0].id.as_str(), side)),
        )
        .collect();
    let n = group.members.len();
    for (k, &(id, side)) in slots.iter().enumerate().take(n) {
        if entry.members[k].iterations == 0 {
            let known = entry
                .members
                .iter()
                .find(|m| m.id == id && m.iterations > 0);
            entry.members[k].iterations = match known {
                Some(m) => m.iterations,
                None => worker_of(workers, side)?.calibrate(id, group.sample)?,
            };
        }
    }
    // The control runs the reference's row, with its iterations.
    let iterations: Vec<u64> = (0..slots.len())
        .map(|k| entry.members[if k < n { k } else { 0 }].iterations)
        .collect();
    let mut per_iteration = |slot: usize| -> Result<f64, String> {
        let (id, side) = slots[slot];
        Ok(worker_of(workers, side)?.sample(id, iterations[slot])? / iterations[slot] as f64)
    };
    // A warm-up sample of every slot, not counted: the first samples of a row in a fresh process
    // pay for its set-up (the allocator's first use, the row's buffers).
    for slot in 0..slots.len() {
        per_iteration(slot)?;
    }
    let mut reference = vec![per_iteration(0)?];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); slots.len()];
    for order in round_orders(orders, slots.len() - 1, rounds) {
        for slot in order.into_iter().map(|k| k + 1) {
            let ns = per_iteration(slot)?;
            let after = per_iteration(0)?;
            let before = *reference
                .last()
                .expect("the first reference sample is taken");
            ratios[slot].push(ns / ((before + after) / 2.0));
            reference.push(after);
        }
    }
    let reference_ns = reference.iter().sum::<f64>() / reference.len() as f64;
    let figure = |slot: usize| median(&ratios[slot]).map_or(reference_ns, |r| r * reference_ns);
    for (k, member) in entry.members.iter_mut().enumerate() {
        member.ns.push(figure(k));
    }
    if group.control_side.is_some() {
        entry.control_ns.push(figure(n));
    }
    Ok(())
}

/// The median of `xs` (the mean of the middle two for an even count); `None` when empty. The
/// statistics proper live in `analysis`, above this layer.
fn median(xs: &[f64]) -> Option<f64> {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    match v.len() {
        0 => None,
        n if n % 2 == 1 => Some(v[m]),
        _ => Some((v[m - 1] + v[m]) / 2.0),
    }
}

/// The worker of `side`, started for this session.
fn worker_of(workers: &mut [Option<Worker>], side: usize) -> Result<&mut Worker, String> {
    workers[side]
        .as_mut()
        .ok_or_else(|| format!("side {side}: no worker started for it this session"))
}

#[cfg(test)]
mod tests;
