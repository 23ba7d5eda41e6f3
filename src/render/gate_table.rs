//! The paired A/B gate's verdicts as a table for people (plain or Markdown).

use crate::analysis::gate::Outcome;
use crate::analysis::stats::GateVerdict;

/// The verdicts as a table (Markdown when `markdown`).
pub fn gate_table(outcome: &Outcome, markdown: bool) -> String {
    let mut rows = vec![vec![
        "benchmark".to_string(),
        "verdict".into(),
        "candidate / baseline".into(),
        "interval".into(),
        "pairs".into(),
    ]];
    for r in &outcome.rows {
        rows.push(vec![
            r.id.clone(),
            format!("{:?}", r.verdict).to_lowercase(),
            format!("{:.3}", r.ratio),
            format!(
                "[{:.3}, {:.3}] ({:.0}%)",
                r.low,
                r.high,
                r.confidence * 100.0
            ),
            r.pairs.len().to_string(),
        ]);
    }
    let table = if markdown {
        crate::render::tables::markdown_table(&rows)
    } else {
        rows.iter()
            .map(|r| {
                format!(
                    "{:<48} {:<10} {:>20} {:>26} {:>5}\n",
                    r[0], r[1], r[2], r[3], r[4]
                )
            })
            .collect()
    };
    let count = |v: GateVerdict| outcome.rows.iter().filter(|r| r.verdict == v).count();
    format!(
        "{table}\n{} regressed, {} improved, {} unchanged, {} undecided (the median of per-pair ratios of each process's Criterion mean, threshold {:.0}%, {} rounds, {:.0} s; {} vs {})\n",
        count(GateVerdict::Regressed),
        count(GateVerdict::Improved),
        count(GateVerdict::Unchanged),
        count(GateVerdict::Undecided),
        outcome.threshold * 100.0,
        outcome.rounds,
        outcome.seconds,
        outcome.candidate,
        outcome.baseline,
    )
}
