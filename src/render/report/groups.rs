//! The report's section of the comparison engine: every group it sampled in rounds, each member
//! against the group's reference with its interval and verdict, and the control that set the
//! group's margin.

use crate::analysis::aggregate::Results;
use crate::analysis::engine::{EngineSummary, OUT_OF_REACH_SESSIONS};
use crate::analysis::stats::{MIN_DIFFERENCE, TIE_MARGIN};
use crate::render::engine::{margin_text, scaling_lines, summary_sentence};
use crate::render::report::section::{Section, Table};
use crate::render::units::format_ns;
use crate::render::words::verdict_words;

pub(super) fn groups_section(results: &Results) -> Option<Section> {
    let file = results.groups.as_ref()?;
    let summary = EngineSummary::of(&file.entries);
    let tables = summary
        .groups
        .iter()
        .zip(&file.entries)
        .map(|(group, entry)| {
            let reference = &entry.members[0].id;
            let control = group
                .control
                .map_or("no control (one session)".into(), |c| {
                    format!(
                        "control {:.3}x [{:.3}, {:.3}]",
                        c.interval.point, c.interval.low, c.interval.high
                    )
                });
            let mut rows = vec![
                [
                    "member",
                    "time per iteration (median of sessions; the worker thread's CPU time for a stack or heap row, wall time for a contention row)",
                    "/ reference, paired by session (in a scaling group, then what the report states of it)",
                ]
                .map(String::from)
                .to_vec(),
            ];
            rows.extend(group.members.iter().map(|m| {
                vec![
                    m.id.clone(),
                    format!(
                        "{} [{}, {}]",
                        format_ns(m.ns.point),
                        format_ns(m.ns.low),
                        format_ns(m.ns.high)
                    ),
                    m.ratio.as_ref().map_or("no ratio".into(), verdict_words),
                ]
            }));
            rows.extend(
                scaling_lines(entry)
                    .into_iter()
                    .map(|(what, words)| vec![what, String::new(), words]),
            );
            Table {
                caption: format!(
                    "{}: against {reference}; {} sessions of {} rounds; margin {} ({control})",
                    group.group,
                    group.sessions,
                    entry.rounds,
                    margin_text(group.margin),
                ),
                rows,
                figure: None,
            }
        })
        .collect();
    Some(Section {
        lead: vec![format!("{}.", summary_sentence(&summary))],
        title: "Compared in rounds".into(),
        anchor: "rounds",
        nav: "Compared in rounds",
        charts: Vec::new(),
        tables,
        notes: vec![format!(
            "Each group's members were sampled in rounds, one sample of each (a few milliseconds, after an untimed call; a stack or heap row timed by its thread's CPU clock, so that a stretch in which another process held the CPU is not its cost, a contention row by the wall clock) in a fresh random order, the next round in the reverse order, every sample between two samples of the reference and taken as its ratio to them, in several sessions of fresh worker processes; a ratio is the median of the sessions' ratios with its distribution-free interval. The control is the reference sampled again under another name: the farthest its interval strays from 1 is the group's margin, what the run resolves. Verdicts: equal when the whole interval lies within ±{tie:.0}% and the group's margin is ±{tie:.0}% or finer; slower or faster when the whole interval clears the group's margin, and at least ±{floor:.1}%; undecided otherwise, with the smallest difference the run could have seen. A group stops once its comparisons are decided (in a default run, and its margin is ±{tie:.0}% or finer), or, from its {reach}th session on, once neither is in reach of the time left (its interval narrowing as the square root of the sessions): its time goes to the groups that can still be decided. Every comparison elsewhere in this report between two members of one group is this one.",
            tie = TIE_MARGIN * 100.0,
            floor = MIN_DIFFERENCE * 100.0,
            reach = OUT_OF_REACH_SESSIONS,
        )],
    })
}
