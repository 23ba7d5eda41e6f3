//! The comparison engine's results in words: a run's summary (margins, how much was decided) and
//! one line per group, each ratio with its interval and verdict.

use crate::analysis::comparisons::Ratio;
use crate::analysis::engine::{EngineSummary, GroupAnswer, ScalingComparison, scaling_comparisons};
use crate::analysis::stats::{MIN_DIFFERENCE, TIE_MARGIN};
use crate::data::groups::GroupEntry;
use crate::render::words::{behind_words, scaling_words, verdict_words};

/// `±3.1%`, or `none (fewer than 2 sessions)` for a group without a control.
pub fn margin_text(margin: f64) -> String {
    if margin.is_finite() {
        format!("±{:.1}%", margin * 100.0)
    } else {
        "none (fewer than 2 sessions)".into()
    }
}

/// The run's summary in one sentence: how much it decided, by which rule, and the margin the run
/// resolved, naming the groups too noisy for ±5% and by how much.
pub fn summary_sentence(summary: &EngineSummary) -> String {
    let mut wider: Vec<&GroupAnswer> = summary
        .groups
        .iter()
        .filter(|g| g.margin > TIE_MARGIN)
        .collect();
    wider.sort_by(|a, b| b.margin.total_cmp(&a.margin));
    let within = summary.groups.len() - wider.len();
    let noisy = match wider.len() {
        0 => String::new(),
        n => {
            let named: Vec<String> = wider
                .iter()
                .take(3)
                .map(|g| format!("{} {}", g.group, margin_text(g.margin)))
                .collect();
            let more = if n > 3 { ", ..." } else { "" };
            format!(
                "; too noisy for ±{:.0}% in {n}, which call no tie and decide slower or faster at their own margin ({}{more})",
                TIE_MARGIN * 100.0,
                named.join(", ")
            )
        }
    };
    format!(
        "{} of {} comparisons decided in {} groups: equal when the interval lies within ±{:.0}%, slower or faster when it clears ±{:.1}% or the group's margin where wider; the margin this run resolves, measured by each group's control (median {}): ±{:.0}% or finer in {within} of {} groups{noisy}",
        summary.decided,
        summary.comparisons,
        summary.groups.len(),
        TIE_MARGIN * 100.0,
        MIN_DIFFERENCE * 100.0,
        margin_text(summary.median_margin),
        TIE_MARGIN * 100.0,
        summary.groups.len(),
    )
}

/// One group's line: its margin and sessions, then each member against the reference, then what a
/// scaling group states.
pub fn group_line(group: &GroupAnswer, entry: &GroupEntry) -> String {
    let reference = &entry.members[0].id;
    let mut members: Vec<String> = group
        .members
        .iter()
        .map(|m| {
            let words = m.ratio.as_ref().map_or("no ratio".into(), verdict_words);
            format!("  {} / {reference}: {words}", m.id)
        })
        .collect();
    members.extend(
        scaling_lines(entry)
            .into_iter()
            .map(|(what, words)| format!("  {what}: {words}")),
    );
    format!(
        "{} ({} sessions, margin {}):\n{}",
        group.group,
        group.sessions,
        margin_text(group.margin),
        members.join("\n")
    )
}

/// The CLI's summary of a run: the sentence, then every group.
pub fn engine_summary(
    entries: &[GroupEntry],
    sessions: usize,
    seconds: f64,
    stopped: &str,
) -> String {
    let summary = EngineSummary::of(entries);
    let mut out = format!(
        "{sessions} sessions in {seconds:.0} s (stopped: {stopped}). {}.\n",
        summary_sentence(&summary)
    );
    for (group, entry) in summary.groups.iter().zip(entries) {
        out += &group_line(group, entry);
        out.push('\n');
    }
    out
}

/// What a scaling group states ([`scaling_comparisons`]), each as (what it is, its ratio in
/// words); empty for any other group.
pub fn scaling_lines(entry: &GroupEntry) -> Vec<(String, String)> {
    let Some((_, threads)) = crate::data::groups::scaling_of(entry) else {
        return Vec::new();
    };
    let stated = scaling_comparisons(entry).unwrap_or_default();
    stated
        .into_iter()
        .map(|(what, ratio)| {
            let (label, words): (String, fn(&Ratio) -> String) = match what {
                ScalingComparison::Heap => (
                    format!("local_churn's scaling from 1 to {threads} threads"),
                    scaling_words,
                ),
                ScalingComparison::Stack => (
                    format!("stack_control's scaling from 1 to {threads} threads"),
                    scaling_words,
                ),
                ScalingComparison::StackOverHeap => (
                    "stack_control's scaling over local_churn's".into(),
                    behind_words,
                ),
            };
            (label, ratio.as_ref().map_or("no ratio".into(), words))
        })
        .collect()
}
