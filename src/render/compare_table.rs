//! The regression verdict against a saved baseline as a table for people: plain text for a
//! terminal, or Markdown for a pull-request comment.

use crate::analysis::compare::CompareReport;
use crate::render::units::format_ns;

/// The comparison as a table: plain text for a terminal, or Markdown.
pub fn compare_table(report: &CompareReport, markdown: bool) -> String {
    let mut out = String::new();
    let header = [
        "benchmark",
        "baseline",
        "current",
        "change",
        "interval of change",
        "verdict",
        "decided by",
    ];
    if markdown {
        out += &format!(
            "| {} |\n|{}\n",
            header.join(" | "),
            "---|".repeat(header.len())
        );
    } else {
        out += &format!(
            "{:<55} {:>11} {:>11} {:>9} {:>20}  {:<10} {}\n",
            header[0], header[1], header[2], header[3], header[4], header[5], header[6]
        );
    }
    for c in &report.comparisons {
        let cells = [
            c.id.clone(),
            format_figure(c.unit, c.baseline),
            format_figure(c.unit, c.current),
            format!("{:+.1}%", c.change_percent),
            format!(
                "[{:+.1}%, {:+.1}%]",
                c.change_low_percent, c.change_high_percent
            ),
            format!("{:?}", c.verdict).to_lowercase(),
            c.decided_by.to_owned(),
        ];
        if markdown {
            out += &format!("| {} |\n", cells.join(" | "));
        } else {
            out += &format!(
                "{:<55} {:>11} {:>11} {:>9} {:>20}  {:<10} {}\n",
                cells[0], cells[1], cells[2], cells[3], cells[4], cells[5], cells[6]
            );
        }
    }
    out += &format!(
        "\n{} regressed, {} improved, {} unchanged against baseline '{}' (wall clock: Criterion's median of each run, threshold {}% and non-overlapping 95% intervals{}; see METHODOLOGY.md, one statistic per purpose)\n",
        report.regressed,
        report.improved,
        report.unchanged,
        report.baseline,
        report.threshold_percent,
        report
            .icount_threshold_percent
            .map_or(String::new(), |t| format!("; instructions: threshold {t}%"))
    );
    out
}

fn format_figure(unit: &str, value: f64) -> String {
    match unit {
        "ns" => format_ns(value),
        _ => format!("{value:.0} instr"),
    }
}
