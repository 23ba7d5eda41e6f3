//! Tables for people: Markdown (cells escaped so that `|` or a newline cannot break a row) and HTML
//! with a caption, collapsed when long.

use std::fmt::Write as _;

/// `text` safe inside HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A table as Markdown; the first row is the header. A `|` or a line break in a cell would break the
/// table, so they are escaped.
pub fn markdown_table(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .map(|c| c.replace('|', "\\|").replace(['\n', '\r'], " "))
            .collect();
        out += &format!("| {} |\n", cells.join(" | "));
        if i == 0 {
            out += &format!("|{}\n", "---|".repeat(row.len()));
        }
    }
    out
}

/// A table as HTML, with a caption; `collapsed` puts it in a closed `<details>`.
pub fn html_table(rows: &[Vec<String>], caption: &str, collapsed: bool) -> String {
    let mut out = format!("<table><caption>{}</caption>", escape(caption));
    for (i, row) in rows.iter().enumerate() {
        let tag = if i == 0 { "th" } else { "td" };
        out += "<tr>";
        for cell in row {
            let _ = write!(out, "<{tag}>{}</{tag}>", escape(cell));
        }
        out += "</tr>";
    }
    out += "</table>";
    if collapsed {
        format!(
            "<details><summary>{} ({} rows)</summary>{out}</details>",
            escape(caption),
            rows.len().saturating_sub(1)
        )
    } else {
        out
    }
}
