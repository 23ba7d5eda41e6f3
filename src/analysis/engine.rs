//! What the comparison engine's sessions say (`data::groups`, `harness::engine`): in each group,
//! every member's ratio to the reference, paired by session, with its interval and one of the four
//! verdicts at the margin the group's control measured. See METHODOLOGY.md, "The comparison engine".

use crate::analysis::comparisons::Ratio;
use crate::analysis::stats::{self, Interval, Verdict};
use crate::data::groups::{GroupEntry, scaling_ids, scaling_of};
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

/// Every comparison of a report group (`data::groups::comparison_groups`) the report states,
/// each once: each member against the reference (from `answer`, the group's), and every two other
/// members that `results.json`'s rankings compare (the same [`ranking_group`], both [`ranked`];
/// ids that are no benchmark id have no such pairs), at the margin the group's control measured;
/// `None` where a side has fewer than two sessions. A scaling group states its three
/// ([`scaling_comparisons`]) instead: its members against local_churn t1 say nothing the report
/// states.
fn report_comparisons(entry: &GroupEntry, answer: &GroupAnswer) -> Vec<Option<Ratio>> {
    if let Some(stated) = scaling_comparisons(entry) {
        return stated.into_iter().map(|(_, r)| r).collect();
    }
    let against_reference = answer.members.iter().map(|m| m.ratio);
    let ids: Vec<(&str, BenchId)> = entry.members[1..]
        .iter()
        .filter_map(|m| Some((m.id.as_str(), m.id.parse().ok()?)))
        .filter(|(_, id)| ranked(id))
        .collect();
    let ranked_pairs = ids.iter().enumerate().flat_map(|(i, (a, a_id))| {
        ids[i + 1..]
            .iter()
            .filter(move |(_, b_id)| ranking_group(a_id) == ranking_group(b_id))
            .map(move |(b, _)| member_ratio(entry, a, b))
    });
    against_reference.chain(ranked_pairs).collect()
}

/// What the report states of a scaling group ([`scaling_of`]), each with what it is: how
/// local_churn and stack_control each scale from 1 to t threads (operations per second,
/// `t x time(t1) / time(t)`), and stack_control's scaling over local_churn's, the share the shared
/// heap holds back; `None` for any other group.
pub fn scaling_comparisons(entry: &GroupEntry) -> Option<Vec<(ScalingComparison, Option<Ratio>)>> {
    let (allocator, threads) = scaling_of(entry)?;
    let ids = scaling_ids(allocator, threads).map(|id| id.to_string());
    let [heap_1, heap_t, stack_1, stack_t] = ids.each_ref().map(String::as_str);
    let scaling = |one, many| member_ratio(entry, one, many).map(|r| r.scaled(threads as f64));
    Some(vec![
        (ScalingComparison::Heap, scaling(heap_1, heap_t)),
        (ScalingComparison::Stack, scaling(stack_1, stack_t)),
        (
            ScalingComparison::StackOverHeap,
            ratio_of_ratios(entry, [stack_1, stack_t, heap_1, heap_t]),
        ),
    ])
}

/// One of the three comparisons of a scaling group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalingComparison {
    /// local_churn's scaling.
    Heap,
    /// stack_control's scaling.
    Stack,
    /// stack_control's scaling over local_churn's.
    StackOverHeap,
}

fn undecided(ratio: &Option<Ratio>) -> bool {
    ratio.is_none_or(|r| r.verdict() == Verdict::Undecided)
}

/// Every comparison decided, and with `target` the group's margin at most `target`.
fn settled(answer: &GroupAnswer, comparisons: &[Option<Ratio>], target: Option<f64>) -> bool {
    !target.is_some_and(|t| answer.margin > t) && !comparisons.iter().any(undecided)
}

/// Whether a report group needs no more sessions: every comparison the report states of it
/// decided (each member against the reference, and the pairs the rankings compare), with `target`
/// at a margin of at most `target` too. A group whose every comparison is decided gains nothing
/// the report states from more sessions, and its time goes to the groups still undecided.
pub fn report_group_settled(entry: &GroupEntry, target: Option<f64>) -> bool {
    let answer = GroupAnswer::of(entry);
    settled(&answer, &report_comparisons(entry, &answer), target)
}

/// The fewest sessions from which a group may be judged out of reach: the first whose 95% interval
/// of the median leaves out the two farthest sessions on each side, so that one disturbed session
/// cannot make a group look hopeless. Judged from six sessions (whose interval spans them all),
/// a one-thread group whose members agreed within 2% was given up for one session 28% off.
pub const OUT_OF_REACH_SESSIONS: usize = 12;

/// Whether a report group is done: settled ([`report_group_settled`]), or out of reach: with
/// `reachable` sessions in all (what its budget still allows), none of its undecided comparisons
/// would be expected to be decided ([`Ratio::projected`]), nor its margin to reach `target`. Its
/// time then goes to the groups that can still be decided: a group of four threads on two cores
/// whose control measured ±29% cannot call a 4% difference, however long it runs.
pub fn report_group_done(entry: &GroupEntry, target: Option<f64>, reachable: usize) -> bool {
    let answer = GroupAnswer::of(entry);
    let comparisons = report_comparisons(entry, &answer);
    if settled(&answer, &comparisons, target) {
        return true;
    }
    if answer.sessions < OUT_OF_REACH_SESSIONS {
        return false;
    }
    let margin_in_reach = target.is_some_and(|t| {
        answer.margin > t && answer.margin * stats::narrowing(answer.sessions, reachable) <= t
    });
    let in_reach = comparisons
        .iter()
        .filter(|r| undecided(r))
        .any(|r| r.is_none_or(|r| r.projected(reachable).verdict() != Verdict::Undecided));
    !margin_in_reach && !in_reach
}

/// `a / b` of two members of one group, paired by session, at the group's margin; `None` when
/// the group lacks either or has fewer than two sessions.
pub fn member_ratio(entry: &GroupEntry, a: &str, b: &str) -> Option<Ratio> {
    let (a, b) = (entry.member(a)?, entry.member(b)?);
    let margin = control_of(entry)?.margin;
    Ratio::paired(&stats::paired_ratios(&a.ns, &b.ns), margin)
}

/// `(a / b) / (c / d)` of four members of one group, each session's ratios taken in that session,
/// at the group's margin; `None` when the group lacks one of them or has fewer than two sessions.
pub fn ratio_of_ratios(entry: &GroupEntry, [a, b, c, d]: [&str; 4]) -> Option<Ratio> {
    let ns = |id| entry.member(id).map(|m| m.ns.as_slice());
    let margin = control_of(entry)?.margin;
    let (first, second) = (
        stats::paired_ratios(ns(a)?, ns(b)?),
        stats::paired_ratios(ns(c)?, ns(d)?),
    );
    Ratio::paired(&stats::paired_ratios(&first, &second), margin)
}

/// What a whole engine run says, for the report's first note and the CLI's summary.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineSummary {
    pub groups: Vec<GroupAnswer>,
    /// The median of the groups' margins (infinite when a group has no control).
    pub median_margin: f64,
    /// The comparisons the report states from the engine (each member against its reference, and
    /// the pairs the rankings compare, as `report_comparisons` lists them) and how many were
    /// decided: faster, slower or equal within the margin. Counting the members against their
    /// reference alone, a run said "154 of 154 decided" above rankings of which 11 were undecided.
    pub comparisons: usize,
    pub decided: usize,
}

impl EngineSummary {
    pub fn of(entries: &[GroupEntry]) -> EngineSummary {
        let groups: Vec<GroupAnswer> = entries.iter().map(GroupAnswer::of).collect();
        let margins: Vec<f64> = groups.iter().map(|g| g.margin).collect();
        let comparisons: Vec<Option<Ratio>> = entries
            .iter()
            .zip(&groups)
            .flat_map(|(entry, answer)| report_comparisons(entry, answer))
            .collect();
        EngineSummary {
            median_margin: stats::median(&margins).unwrap_or(f64::INFINITY),
            comparisons: comparisons.len(),
            decided: comparisons.iter().filter(|r| !undecided(r)).count(),
            groups,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::groups::MemberRounds;
    use crate::workload::allocators::AllocatorKind;

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
        // The run's count has the two boxes against each other, once, beside each against the
        // stack array: three comparisons, the undecided pair among them.
        let summary = EngineSummary::of(&[entry, other]);
        assert_eq!((summary.comparisons, summary.decided), (3 + 2, 2 + 2));
    }
    /// Twelve sessions alternating between two speeds, `k` the member's factor in each.
    fn sessions_of(factors: &[f64]) -> Vec<f64> {
        factors
            .iter()
            .enumerate()
            .map(|(i, k)| if i % 2 == 0 { 10.0 * k } else { 20.0 * k })
            .collect()
    }

    #[test]
    fn a_group_is_given_up_only_when_no_comparison_is_in_reach_of_the_time_left() {
        let ones = [1.0; 12];
        let spread = [
            0.92, 1.08, 0.95, 1.05, 0.93, 1.07, 0.96, 1.04, 0.92, 1.08, 0.94, 1.06,
        ];
        let reference = sessions_of(&ones);
        // A control within 1% and a member 8% slower whose sessions spread ±8%: undecided after
        // twelve sessions, but a hundred would narrow the interval past 3%.
        let quiet: Vec<f64> = [1.01, 0.99].iter().cycle().take(12).copied().collect();
        let member: Vec<f64> = spread.iter().map(|k| k * 1.08).collect();
        let entry = group(
            &reference,
            &sessions_of(&quiet),
            &[("m", &sessions_of(&member))],
        );
        assert_eq!(
            GroupAnswer::of(&entry).members[0].verdict,
            Verdict::Undecided
        );
        assert!(!report_group_done(&entry, None, 100));
        // With no time for more sessions, it is out of reach.
        assert!(report_group_done(&entry, None, 12));
        // A control that strays ±30%: no 4% difference is in reach, however long it runs ...
        let noisy: Vec<f64> = [1.3, 0.75].iter().cycle().take(12).copied().collect();
        let member: Vec<f64> = spread.iter().map(|k| k * 1.04).collect();
        let hopeless = group(
            &reference,
            &sessions_of(&noisy),
            &[("m", &sessions_of(&member))],
        );
        assert!(report_group_done(&hopeless, None, 100));
        // ... but a group is judged from twelve sessions on: one disturbed session among six
        // must not give it up.
        let mut young = hopeless.clone();
        for m in young.members.iter_mut() {
            m.ns.truncate(11);
        }
        young.control_ns.truncate(11);
        assert!(!report_group_done(&young, None, 100));
        // A group decided but short of a target margin goes on while the target is in reach.
        let settled = group(
            &reference,
            &sessions_of(&noisy),
            &[("m", &sessions_of(&[3.0; 12]))],
        );
        assert!(report_group_settled(&settled, None));
        assert!(!report_group_done(&settled, Some(0.05), 10_000));
        assert!(report_group_done(&settled, Some(0.05), 13));
    }

    #[test]
    fn a_projected_ratio_keeps_its_point_and_narrows_by_the_square_root_of_the_pairs() {
        let r = Ratio {
            ratio: 1.04,
            low: 0.9,
            high: 1.2,
            processes: 6,
            margin: 0.2,
        };
        let p = r.projected(24);
        assert_eq!(p.ratio, 1.04);
        assert!((p.low - 1.04 * (0.9f64 / 1.04).sqrt()).abs() < 1e-12);
        assert!((p.high - 1.04 * (1.2f64 / 1.04).sqrt()).abs() < 1e-12);
        assert!((p.margin - 0.1).abs() < 1e-12);
        assert_eq!(p.processes, 24);
        assert_eq!(r.projected(6), r);
    }

    #[test]
    fn a_scaling_group_states_both_scalings_and_the_stacks_over_the_heaps() {
        use crate::data::groups::scaling_ids;
        let ids = scaling_ids(AllocatorKind::System, 2).map(|id| id.to_string());
        // local_churn takes 1.25x as long per round at 2 threads (scales 1.6x), stack_control
        // 1.0x (scales 2x), whatever each session's speed.
        let speed = [1.0, 1.3, 0.9, 1.1, 1.0, 1.2, 0.95, 1.05];
        let times = |base: f64| speed.iter().map(|s| s * base).collect::<Vec<_>>();
        let mut entry = group(
            &times(10.0),
            &times(10.0),
            &[
                (&ids[1], &times(12.5)),
                (&ids[2], &times(4.0)),
                (&ids[3], &times(4.0)),
            ],
        );
        assert_eq!(
            scaling_of(&entry),
            None,
            "the reference is not local_churn t1"
        );
        entry.members[0].id = ids[0].clone();
        assert_eq!(scaling_of(&entry), Some((AllocatorKind::System, 2)));
        let stated = report_comparisons(&entry, &GroupAnswer::of(&entry));
        let points: Vec<f64> = stated.iter().map(|r| r.unwrap().ratio).collect();
        assert_eq!(points.len(), 3);
        for (point, expected) in points.iter().zip([1.6, 2.0, 1.25]) {
            assert!((point - expected).abs() < 1e-9, "{points:?}");
        }
        assert_eq!(stated[2].unwrap().verdict(), Verdict::Slower);
        assert!(report_group_settled(&entry, None));
    }
}
