//! `target/stackheap/groups.json`: the comparison engine's record (`harness::engine`), one entry
//! per comparison group: each member's time per iteration in each session (one set of fresh worker
//! processes), a session's value being the mean of its rounds, and the control: the group's
//! reference sampled again as a member of its own, whose ratio to the reference is the run's noise.
//! Also the report's groups themselves ([`comparison_groups`]).

use crate::data::id::{BenchId, Family, HeapKind, LargeBox, Layout, Owner, StackKind};
use crate::data::results::SuiteEntry;
use crate::workload::allocators::AllocatorKind;
use crate::workload::contention::Workload;
use serde::{Deserialize, Serialize};

/// One comparison group of `groups.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupEntry {
    /// The group's name, e.g. `stack_vs_heap/0004096`.
    pub group: String,
    /// Rounds per session: in each, every member (and the control) was sampled once, in a fresh
    /// random order.
    pub rounds: usize,
    /// The members; the first is the reference every ratio of the group is taken against.
    pub members: Vec<MemberRounds>,
    /// The reference sampled again under another name: ns per iteration, one figure per session;
    /// empty for a group without a control (the gate's, whose margin is its threshold).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub control_ns: Vec<f64>,
}

/// One member of a group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberRounds {
    /// What the worker ran (a benchmark id).
    pub id: String,
    /// Iterations per sample, calibrated once at run time and kept for every session.
    pub iterations: u64,
    /// ns per iteration, one figure per session, in session order.
    pub ns: Vec<f64>,
}

impl GroupEntry {
    /// Sessions measured.
    pub fn sessions(&self) -> usize {
        self.members.first().map_or(0, |m| m.ns.len())
    }

    /// The member `id`, if the group has it.
    pub fn member(&self, id: &str) -> Option<&MemberRounds> {
        self.members.iter().find(|m| m.id == id)
    }
}

impl SuiteEntry for GroupEntry {
    fn key(&self) -> String {
        self.group.clone()
    }

    fn problem(&self) -> Option<String> {
        if self.members.len() < 2 {
            return Some(format!(
                "{} members: expected a reference and at least one member to compare with it",
                self.members.len()
            ));
        }
        let sessions = self.sessions();
        if !self.control_ns.is_empty() && self.control_ns.len() != sessions {
            return Some(format!(
                "the control has {} sessions, the reference {sessions}: expected one figure per session for each",
                self.control_ns.len()
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for m in &self.members {
            if !seen.insert(m.id.as_str()) {
                return Some(format!("member {} appears twice: expected each once", m.id));
            }
            if m.ns.len() != sessions {
                return Some(format!(
                    "member {}: {} sessions, the reference {sessions}: expected one figure per session for each",
                    m.id,
                    m.ns.len()
                ));
            }
            if m.iterations == 0 {
                return Some(format!(
                    "member {}: 0 iterations: expected at least 1",
                    m.id
                ));
            }
        }
        let figures = self
            .members
            .iter()
            .flat_map(|m| &m.ns)
            .chain(&self.control_ns);
        if let Some(bad) = figures.into_iter().find(|x| !(x.is_finite() && **x > 0.0)) {
            return Some(format!("time {bad}: expected finite ns > 0"));
        }
        None
    }
}

/// The size at which the report compares `Box::new([0; N])` with `Box::new_zeroed` (1 MiB).
pub const LARGE_BOX_COMPARED_BYTES: u64 = 1 << 20;

/// The largest locality working set the engine samples in rounds. Past it a scattered walk takes
/// a tenth of a second or more and its nodes are built anew in every session's fresh worker: the
/// three 64 MiB groups took 13.4 s a session and the three 16 MiB groups 2.8 s, against 0.34 s
/// for the three 2 MiB groups (the AMD EPYC 2-vCPU VM, 2026-12-03), a fifth of a default run's
/// engine time for the six ratios that differ most (60-110x, which pairing by process decides
/// too). Those keep the pairing by process.
pub const LOCALITY_IN_ROUNDS_MAX: usize = 2 << 20;

/// A contention sample is this many single-threaded samples per thread: threads woken and
/// scheduled on a shared machine make short samples noisy. With 2 ms samples the one-thread
/// contention groups' controls measured margins of ±5.0% to ±12.9%; with 8 ms, ±3.3% to ±5.0%
/// (one run each, the AMD EPYC 2-vCPU VM, 2026-12-02).
pub const CONTENTION_SAMPLES: u32 = 4;

/// A comparison group of the report, as the comparison engine samples it: the rows one question
/// compares, the reference first.
#[derive(Clone, Debug, PartialEq)]
pub struct ComparisonGroup {
    /// `stack_vs_heap/<size>`, `stack_vs_heap/box_new_large/<size>`,
    /// `locality/<allocator>/<working set>`,
    /// `contention/<workload>/t<threads>` or `contention/scaling/<allocator>/t<threads>`.
    pub name: String,
    pub ids: Vec<BenchId>,
    /// How many single-threaded samples long one sample of a member is: 1 for the stack and heap
    /// rows, [`CONTENTION_SAMPLES`] times the operating-system threads (at most the cores) for a
    /// contention workload.
    pub sample_scale: u32,
}

/// The report's comparison groups for `allocators`: stack against heap at each size (the stack
/// array the reference, then the stack reserve and each allocator's `heap_box`, `heap_reused` and
/// `alloc_free`), `Box::new` of a large array against `Box::new_zeroed`, scattered against
/// contiguous nodes per allocator at each locality working set
/// (contiguous the reference), and each contention workload at each of `threads` under every allocator (the
/// first allocator the reference). Runs with more threads than `cores` are groups too (the report
/// compares allocators there, read as time-sharing); their samples are as long as a run that
/// fills the cores, since more threads than cores do not do more work per millisecond. Last, under
/// each allocator, a scaling group ([`scaling_ids`]) at the most threads that fit `cores`.
pub fn comparison_groups(
    allocators: &[AllocatorKind],
    threads: &[usize],
    cores: usize,
) -> Vec<ComparisonGroup> {
    let mut groups = Vec::new();
    for bytes in crate::workload::arrays::SIZES.map(|b| b as u64) {
        let stack = |kind| BenchId::Stack { kind, bytes };
        let mut ids = vec![stack(StackKind::Array), stack(StackKind::Reserve)];
        for &allocator in allocators {
            ids.extend(HeapKind::ALL.iter().map(|&kind| BenchId::Heap {
                kind,
                allocator,
                bytes,
            }));
        }
        groups.push(ComparisonGroup {
            name: format!("{}/{bytes:07}", Family::StackVsHeap.name()),
            ids,
            sample_scale: 1,
        });
    }
    // Box::new of a large array against Box::new_zeroed, in the process's own allocator (glibc's
    // in the plain worker, as in the bench): the findings' large boxes.
    groups.push(ComparisonGroup {
        name: format!(
            "{}/box_new_large/{LARGE_BOX_COMPARED_BYTES:07}",
            Family::StackVsHeap.name()
        ),
        ids: [LargeBox::Array, LargeBox::Zeroed]
            .map(|how| BenchId::BoxNewLarge {
                how,
                allocator: AllocatorKind::System,
                bytes: LARGE_BOX_COMPARED_BYTES,
            })
            .to_vec(),
        sample_scale: 1,
    });
    // Scattered against contiguous nodes, per allocator and working set up to
    // LOCALITY_IN_ROUNDS_MAX: the locality answer's ratios and its crossover.
    let locality_sets = crate::workload::locality::WORKING_SETS
        .into_iter()
        .filter(|&ws| ws <= LOCALITY_IN_ROUNDS_MAX);
    for bytes in locality_sets.map(|b| b as u64) {
        for &allocator in allocators {
            groups.push(ComparisonGroup {
                name: format!("{}/{allocator}/{bytes:07}", Family::Locality.name()),
                ids: [Layout::Contiguous, Layout::Scattered]
                    .map(|layout| BenchId::Locality {
                        layout,
                        owner: Owner::Heap(allocator),
                        bytes,
                    })
                    .to_vec(),
                sample_scale: 1,
            });
        }
    }
    // Allocators are compared with each other: with one there is nothing to compare.
    let contention = if allocators.len() < 2 {
        &[][..]
    } else {
        &Workload::ALL[..]
    };
    for &workload in contention {
        for &threads in threads {
            let os_threads = workload.os_threads(threads);
            groups.push(ComparisonGroup {
                name: format!(
                    "{}/{}/t{threads}",
                    Family::Contention.name(),
                    workload.name()
                ),
                ids: allocators
                    .iter()
                    .map(|&allocator| BenchId::Contention {
                        workload,
                        allocator,
                        threads,
                    })
                    .collect(),
                sample_scale: contention_sample_scale(os_threads, cores),
            });
        }
    }
    // Scaling from 1 thread to the most that fit the cores, under each allocator: the claims and
    // findings state it, and a ratio of runs minutes apart would carry the machine's drift.
    let fitting = threads
        .iter()
        .copied()
        .filter(|&t| t > 1 && SCALING_WORKLOADS.iter().all(|w| w.os_threads(t) <= cores))
        .max();
    if let Some(t) = fitting.filter(|_| threads.contains(&1)) {
        for &allocator in allocators {
            groups.push(ComparisonGroup {
                name: format!("{}/scaling/{allocator}/t{t}", Family::Contention.name()),
                ids: scaling_ids(allocator, t).to_vec(),
                sample_scale: contention_sample_scale(t, cores),
            });
        }
    }
    groups
}

/// A contention member's sample scale: [`CONTENTION_SAMPLES`] per operating-system thread, at most
/// the cores (more threads than cores do not do more work per millisecond).
fn contention_sample_scale(os_threads: usize, cores: usize) -> u32 {
    CONTENTION_SAMPLES * os_threads.min(cores.max(1)) as u32
}

/// The workloads a scaling group runs at 1 and at t threads: local_churn (each thread churns its
/// own blocks in the shared heap) and stack_control (the same loop with no heap).
pub const SCALING_WORKLOADS: [Workload; 2] = [Workload::LocalChurn, Workload::StackControl];

/// A scaling group's members, local_churn at 1 thread (the reference) and at `threads`, then
/// stack_control at 1 and at `threads`: written once, read by the groups and by the statistics
/// that recognise such a group ([`scaling_of`]).
pub fn scaling_ids(allocator: AllocatorKind, threads: usize) -> [BenchId; 4] {
    let [heap, stack] = SCALING_WORKLOADS;
    let id = |workload, threads| BenchId::Contention {
        workload,
        allocator,
        threads,
    };
    [
        id(heap, 1),
        id(heap, threads),
        id(stack, 1),
        id(stack, threads),
    ]
}

/// The allocator and thread count of a scaling group ([`scaling_ids`]); `None` for any other group.
pub fn scaling_of(entry: &GroupEntry) -> Option<(AllocatorKind, usize)> {
    let BenchId::Contention {
        allocator, threads, ..
    } = entry.members.get(1)?.id.parse().ok()?
    else {
        return None;
    };
    let ids = scaling_ids(allocator, threads).map(|id| id.to_string());
    (threads > 1 && entry.members.iter().map(|m| &m.id).eq(ids.iter()))
        .then_some((allocator, threads))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> GroupEntry {
        GroupEntry {
            group: "stack_vs_heap/0000064".into(),
            rounds: 4,
            members: [
                "stack_vs_heap/stack_array/0000064",
                "stack_vs_heap/heap_box/system/0000064",
            ]
            .map(|id| MemberRounds {
                id: id.into(),
                iterations: 1000,
                ns: vec![10.0, 11.0],
            })
            .to_vec(),
            control_ns: vec![10.5, 10.7],
        }
    }

    #[test]
    fn a_sound_entry_has_no_problem_and_each_flaw_is_named() {
        assert_eq!(entry().problem(), None);
        let mut short = entry();
        short.members[1].ns.pop();
        assert!(
            short
                .problem()
                .unwrap()
                .contains("1 sessions, the reference 2")
        );
        let mut short_control = entry();
        short_control.control_ns.pop();
        assert!(
            short_control
                .problem()
                .unwrap()
                .contains("the control has 1 sessions")
        );
        let mut twice = entry();
        twice.members[1].id = twice.members[0].id.clone();
        assert!(twice.problem().unwrap().contains("appears twice"));
        let mut negative = entry();
        negative.control_ns[0] = -1.0;
        assert!(
            negative
                .problem()
                .unwrap()
                .contains("expected finite ns > 0")
        );
        let mut alone = entry();
        alone.members.truncate(1);
        assert!(alone.problem().unwrap().contains("1 members"));
    }

    #[test]
    fn locality_groups_stop_at_the_largest_set_sampled_in_rounds_and_one_large_box_group() {
        let names: Vec<String> = comparison_groups(&[AllocatorKind::System], &[1], 2)
            .into_iter()
            .map(|g| g.name)
            .collect();
        let locality: Vec<&String> = names
            .iter()
            .filter(|n| n.starts_with("locality/"))
            .collect();
        assert_eq!(
            locality,
            [
                "locality/system/0016384",
                "locality/system/0262144",
                "locality/system/2097152"
            ]
        );
        assert!(names.contains(&"stack_vs_heap/box_new_large/1048576".to_string()));
    }

    #[test]
    fn scaling_groups_come_at_the_most_threads_that_fit_the_cores() {
        let allocators = [AllocatorKind::System, AllocatorKind::Jemalloc];
        let scaling: Vec<String> = comparison_groups(&allocators, &[1, 2, 4], 2)
            .into_iter()
            .filter(|g| g.name.contains("/scaling/"))
            .map(|g| {
                assert_eq!(g.ids.len(), 4);
                g.name
            })
            .collect();
        assert_eq!(
            scaling,
            [
                "contention/scaling/system/t2",
                "contention/scaling/jemalloc/t2"
            ]
        );
        let groups = |threads: &[usize], cores| comparison_groups(&allocators, threads, cores);
        let has_scaling =
            |gs: Vec<ComparisonGroup>| gs.iter().any(|g| g.name.contains("/scaling/"));
        assert!(
            !has_scaling(groups(&[1, 2], 1)),
            "two threads do not fit one core"
        );
        assert!(!has_scaling(groups(&[2, 4], 4)), "no run at one thread");
        assert!(has_scaling(groups(&[1, 2, 4], 4)));
    }
}
