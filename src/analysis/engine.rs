//! What the comparison engine's sessions say (`data::groups`, `harness::engine`): in each group,
//! every member's ratio to the reference, paired by session, with its interval and one of the four
//! verdicts at the margin the group's control measured. See METHODOLOGY.md, "The comparison engine".

use crate::analysis::comparisons::Ratio;
use crate::analysis::stats::{self, Interval, Verdict};
use crate::data::groups::GroupEntry;
use crate::data::id::{BenchId, ranked, ranking_group};

/// The smallest margin a control may set: a run whose control agrees within this still does not
/// claim finer differences (a stated floor, not a figure of any machine).
pub const MIN_CONTROL_MARGIN: f64 = 0.01;

/// What a control says: the same thing measured twice under two names, its ratio paired as the
/// comparisons are. Any difference it shows is the run's own noise, so the farthest its interval
/// strays from 1 is the margin below which this run cannot tell two things apart.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Control {
    /// control / reference, the median of the pairs with its interval.
    pub interval: Interval,
    /// `max(high, 1 / low) - 1`, at least [`MIN_CONTROL_MARGIN`].
    pub margin: f64,
}

impl Control {
    /// The control of `control` against `reference`, paired by index; `None` with fewer than two
    /// pairs.
    pub fn of(control: &[f64], reference: &[f64]) -> Option<Control> {
        let ratios = stats::paired_ratios(control, reference);
        if ratios.len() < 2 {
            return None;
        }
        let interval = stats::median_interval(&ratios)?;
        Some(Control {
            margin: (interval.high.max(1.0 / interval.low) - 1.0).max(MIN_CONTROL_MARGIN),
            interval,
        })
    }
}

/// One group's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupAnswer {
    pub group: String,
    pub sessions: usize,
    /// The control against the reference; `None` with fewer than two sessions.
    pub control: Option<Control>,
    /// The margin every verdict of the group uses: the control's ([`MIN_CONTROL_MARGIN`] at
    /// least), or infinite without a control (nothing is then decided).
    pub margin: f64,
    /// Every member but the reference, against it.
    pub members: Vec<MemberAnswer>,
}

/// One member against its group's reference.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberAnswer {
    pub id: String,
    /// ns per iteration: the median of the sessions, with its interval.
    pub ns: Interval,
    /// member / reference, paired by session; `None` with fewer than two sessions.
    pub ratio: Option<Ratio>,
    pub verdict: Verdict,
}

/// A group's control against its reference; `None` without a control or with fewer than two
/// sessions.
fn control_of(entry: &GroupEntry) -> Option<Control> {
    Control::of(&entry.control_ns, &entry.members[0].ns)
}

impl GroupAnswer {
    pub fn of(entry: &GroupEntry) -> GroupAnswer {
        let reference = &entry.members[0].ns;
        let control = control_of(entry);
        let margin = control.map_or(f64::INFINITY, |c| c.margin);
        let members = entry.members[1..]
            .iter()
            .filter_map(|m| {
                let ratio = Ratio::paired(&stats::paired_ratios(&m.ns, reference), margin);
                Some(MemberAnswer {
                    id: m.id.clone(),
                    ns: stats::median_interval(&m.ns)?,
                    verdict: ratio.map_or(Verdict::Undecided, |r| r.verdict()),
                    ratio,
                })
            })
            .collect();
        GroupAnswer {
            group: entry.group.clone(),
            sessions: entry.sessions(),
            control,
            margin,
            members,
        }
    }
}

/// Whether a report group (`data::groups::comparison_groups`) needs no more sessions: every member
/// decided against the reference, and every two members that `results.json`'s rankings compare
/// (the same [`ranking_group`], both [`ranked`]; ids that are no benchmark id have no such pairs)
/// decided against each other, at the margin the group's control measured; with `target`, that
/// margin at most `target` too. A group whose every comparison is decided gains nothing the report
/// states from more sessions, and its time goes to the groups still undecided.
pub fn report_group_settled(entry: &GroupEntry, target: Option<f64>) -> bool {
    let answer = GroupAnswer::of(entry);
    if target.is_some_and(|t| answer.margin > t)
        || answer
            .members
            .iter()
            .any(|m| m.verdict == Verdict::Undecided)
    {
        return false;
    }
    let ids: Vec<(&str, BenchId)> = entry
        .members
        .iter()
        .filter_map(|m| Some((m.id.as_str(), m.id.parse().ok()?)))
        .filter(|(_, id)| ranked(id))
        .collect();
    ids.iter().enumerate().all(|(i, (a, a_id))| {
        ids[i + 1..].iter().all(|(b, b_id)| {
            ranking_group(a_id) != ranking_group(b_id)
                || member_ratio(entry, a, b).is_some_and(|r| r.verdict() != Verdict::Undecided)
        })
    })
}

/// `a / b` of two members of one group, paired by session, at the group's margin; `None` when
/// the group lacks either or has fewer than two sessions.
pub fn member_ratio(entry: &GroupEntry, a: &str, b: &str) -> Option<Ratio> {
    let (a, b) = (entry.member(a)?, entry.member(b)?);
    let margin = control_of(entry)?.margin;
    Ratio::paired(&stats::paired_ratios(&a.ns, &b.ns), margin)
}

/// What a whole engine run says, for the report's first note and the CLI's summary.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineSummary {
    pub groups: Vec<GroupAnswer>,
    /// The median of the groups' margins (infinite when a group has no control).
    pub median_margin: f64,
    /// Comparisons (members against their reference) and how many were decided: faster, slower
    /// or equal within the margin.
    pub comparisons: usize,
    pub decided: usize,
}

impl EngineSummary {
    pub fn of(entries: &[GroupEntry]) -> EngineSummary {
        let groups: Vec<GroupAnswer> = entries.iter().map(GroupAnswer::of).collect();
        let margins: Vec<f64> = groups.iter().map(|g| g.margin).collect();
        let verdicts = groups.iter().flat_map(|g| &g.members).map(|m| m.verdict);
        EngineSummary {
            median_margin: stats::median(&margins).unwrap_or(f64::INFINITY),
            comparisons: verdicts.clone().count(),
            decided: verdicts.filter(|v| *v != Verdict::Undecided).count(),
            groups,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::groups::MemberRounds;

    fn group(reference: &[f64], control: &[f64], others: &[(&str, &[f64])]) -> GroupEntry {
        let member = |id: &str, ns: &[f64]| MemberRounds {
            id: id.into(),
            iterations: 100,
            ns: ns.to_vec(),
        };
        GroupEntry {
            group: "g".into(),
            rounds: 4,
            members: std::iter::once(member("ref", reference))
                .chain(others.iter().map(|(id, ns)| member(id, ns)))
                .collect(),
            control_ns: control.to_vec(),
        }
    }

    #[test]
    fn the_control_sets_the_margin_and_each_member_gets_a_verdict() {
        let reference = [10.0, 20.0, 10.0, 20.0, 10.0, 20.0, 10.0];
        // The control within 2% of the reference in every session, though the sessions' own
        // speeds differ twofold: the drift falls on both.
        let control: Vec<f64> = reference
            .iter()
            .zip([1.01, 0.99, 1.02, 1.0, 0.98, 1.01, 1.0])
            .map(|(r, k)| r * k)
            .collect();
        let slower: Vec<f64> = reference.iter().map(|r| r * 1.3).collect();
        let same: Vec<f64> = reference.iter().map(|r| r * 1.001).collect();
        let answer = GroupAnswer::of(&group(
            &reference,
            &control,
            &[("slower", &slower), ("same", &same)],
        ));
        // Seven pairs: the interval spans them all, and 0.98 strays farthest (1 / 0.98 = 1.0204).
        assert!(
            (answer.margin - (1.0 / 0.98 - 1.0)).abs() < 1e-9,
            "{}",
            answer.margin
        );
        assert_eq!(answer.members[0].verdict, Verdict::Slower);
        assert_eq!(answer.members[1].verdict, Verdict::Equal);
        let entry = group(
            &reference,
            &control,
            &[("slower", &slower), ("same", &same)],
        );
        assert!(report_group_settled(&entry, Some(0.05)));
        assert!(!report_group_settled(&entry, Some(0.01)));
        let r = member_ratio(
            &group(
                &reference,
                &control,
                &[("slower", &slower), ("same", &same)],
            ),
            "same",
            "slower",
        )
        .unwrap();
        assert!((r.ratio - 1.001 / 1.3).abs() < 1e-9);
    }

    #[test]
    fn one_session_decides_nothing() {
        let answer = GroupAnswer::of(&group(&[10.0], &[10.0], &[("slower", &[20.0])]));
        assert_eq!(answer.control, None);
        assert_eq!(answer.members[0].verdict, Verdict::Undecided);
        assert!(!report_group_settled(
            &group(&[10.0], &[10.0], &[("slower", &[20.0])]),
            Some(0.05)
        ));
    }

    #[test]
    fn a_report_group_settles_once_the_pairs_the_rankings_compare_are_decided_too() {
        let member = |id: &str, ns: Vec<f64>| MemberRounds {
            id: id.into(),
            iterations: 100,
            ns,
        };
        let reference = vec![10.0, 20.0, 10.0, 20.0, 10.0, 20.0, 10.0, 20.0];
        let control: Vec<f64> = reference.iter().map(|r| r * 1.001).collect();
        // Both boxes decidedly slower than the stack array; against each other they differ by a
        // few percent with a spread of the same size: undecided.
        let a: Vec<f64> = reference.iter().map(|r| r * 3.0).collect();
        let b: Vec<f64> = a
            .iter()
            .zip([1.0, 1.08, 0.99, 1.07, 1.0, 1.09, 0.98, 1.06])
            .map(|(x, k)| x * k)
            .collect();
        let entry = GroupEntry {
            group: "stack_vs_heap/0000064".into(),
            rounds: 4,
            members: vec![
                member("stack_vs_heap/stack_array/0000064", reference.clone()),
                member("stack_vs_heap/heap_box/system/0000064", a.clone()),
                member("stack_vs_heap/heap_box/jemalloc/0000064", b),
            ],
            control_ns: control,
        };
        // Every member decided against the reference at a margin within 5%, but not the two boxes.
        assert!(
            GroupAnswer::of(&entry)
                .members
                .iter()
                .all(|m| m.verdict != Verdict::Undecided)
        );
        assert!(!report_group_settled(&entry, None));
        // The same spread between two rows the rankings do not compare with each other
        // (heap_reused against heap_box) leaves the group settled.
        let mut other = entry.clone();
        other.members[2].id = "stack_vs_heap/heap_reused/jemalloc/0000064".into();
        assert!(report_group_settled(&other, None));
        assert!(!report_group_settled(&other, Some(0.001)));
        // And two boxes equal within the margin settle it too.
        let mut equal = entry.clone();
        equal.members[2].ns = a.iter().map(|x| x * 1.002).collect();
        assert!(report_group_settled(&equal, None));
    }
}
