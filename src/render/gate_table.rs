//! The paired A/B gate's verdicts as a table for people (plain or Markdown): undecided rows first,
//! each with the smallest change the run could have detected, then regressions, then the rest.

use crate::analysis::gate::{Outcome, Row};
use crate::analysis::stats::GateVerdict;

/// Where a verdict sorts: what needs a reader's attention first.
fn rank(verdict: GateVerdict) -> u8 {
    match verdict {
        GateVerdict::Undecided => 0,
        GateVerdict::Regressed => 1,
        GateVerdict::Improved => 2,
        GateVerdict::Unchanged => 3,
    }
}

fn verdict_word(verdict: GateVerdict) -> &'static str {
    match verdict {
        GateVerdict::Undecided => "undecided",
        GateVerdict::Regressed => "regressed",
        GateVerdict::Improved => "improved",
        GateVerdict::Unchanged => "unchanged",
    }
}

/// What the row's interval could detect, in words.
fn detectable(row: &Row) -> String {
    match row.detectable {
        Some(d) => format!("+{:.1}%", d * 100.0),
        None => "too few sessions".into(),
    }
}

/// The verdicts as a table (Markdown when `markdown`).
pub fn gate_table(outcome: &Outcome, markdown: bool) -> String {
    let mut sorted: Vec<&Row> = outcome.rows.iter().collect();
    sorted.sort_by_key(|r| rank(r.verdict));
    let mut rows = vec![vec![
        "benchmark".to_string(),
        "verdict".into(),
        "candidate / baseline".into(),
        "interval".into(),
        "detects".into(),
        "sessions".into(),
    ]];
    for r in sorted {
        rows.push(vec![
            r.id.clone(),
            verdict_word(r.verdict).into(),
            format!("{:.3}", r.ratio),
            format!(
                "[{:.3}, {:.3}] ({:.0}%)",
                r.low,
                r.high,
                r.confidence * 100.0
            ),
            detectable(r),
            r.pairs.len().to_string(),
        ]);
    }
    let table = if markdown {
        crate::render::tables::markdown_table(&rows)
    } else {
        rows.iter()
            .map(|r| {
                format!(
                    "{:<44} {:<10} {:>20} {:>26} {:>17} {:>8}\n",
                    r[0], r[1], r[2], r[3], r[4], r[5]
                )
            })
            .collect()
    };
    let env = |settings: &[String]| match settings {
        [] => String::new(),
        s => format!(" with {}", s.join(" ")),
    };
    let undecided = outcome.count(GateVerdict::Undecided);
    let warning = if undecided > 0 {
        format!(
            "\n{undecided} rows undecided: this run could not tell whether they changed by {:.0}% (\"detects\" is the smallest slowdown each could have caught); a longer budget (--budget-secs) or a quieter machine decides more.\n",
            outcome.threshold * 100.0
        )
    } else {
        String::new()
    };
    let left_out = match outcome.oversubscribed.len() {
        0 => String::new(),
        n => format!(
            "\n{n} selected rows left out: they run more threads than the {} cores here, so time-sharing, not the change, would decide them: {}\n",
            outcome.cores,
            outcome.oversubscribed.join(", ")
        ),
    };
    format!(
        "Machine: {} · {}\n\n{table}\n{} regressed, {} improved, {} unchanged, {undecided} undecided (the median over sessions of candidate / baseline, each session two fresh workers sampled in lock-step, every candidate sample between two baseline samples; threshold {:.0}%; {} sessions, {:.0} s, stopped: {}; {}{} vs {}{})\n{warning}{left_out}",
        outcome.machine.summary(),
        crate::data::machine::iso_date(outcome.machine.unix_time),
        outcome.count(GateVerdict::Regressed),
        outcome.count(GateVerdict::Improved),
        outcome.count(GateVerdict::Unchanged),
        outcome.threshold * 100.0,
        outcome.sessions,
        outcome.seconds,
        outcome.stopped,
        outcome.candidate,
        env(&outcome.candidate_env),
        outcome.baseline,
        env(&outcome.baseline_env),
    )
}
