//! `target/stackheap/groups.json`: the comparison engine's record (`harness::engine`), one entry
//! per comparison group: each member's time per iteration in each session (one set of fresh worker
//! processes), a session's value being the mean of its rounds, and the control: the group's
//! reference sampled again as a member of its own, whose ratio to the reference is the run's noise.

use crate::data::results::SuiteEntry;
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
    /// The reference sampled again under another name: ns per iteration, one figure per session.
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
        self.control_ns.len()
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
        let mut seen = std::collections::BTreeSet::new();
        for m in &self.members {
            if !seen.insert(m.id.as_str()) {
                return Some(format!("member {} appears twice: expected each once", m.id));
            }
            if m.ns.len() != sessions {
                return Some(format!(
                    "member {}: {} sessions, the control {sessions}: expected one figure per session for each",
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
                .contains("1 sessions, the control 2")
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
}
