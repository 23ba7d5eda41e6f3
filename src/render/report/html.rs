//! The report as one self-contained HTML page (inline SVG and CSS, no script, no network, printable).

use crate::analysis::claims::Verdict;
use crate::render::report::Page;
use crate::render::report::section::COLLAPSE_ROWS;
use crate::render::tables::{escape, html_table};
use std::fmt::Write as _;

const STYLE: &str = "body{font-family:sans-serif;max-width:1320px;margin:1em auto;padding:0 1em;color:#222;line-height:1.35}\
h1{margin:.2em 0;font-size:26px}h2{margin-top:1.6em;border-bottom:1px solid #ddd}.meta{color:#555;margin:.2em 0;font-size:14px}\
nav{font-size:14px;margin:.4em 0}nav a{margin-right:.9em}\
.answers{display:grid;grid-template-columns:repeat(3,1fr);gap:14px}\
.answer{border:1px solid #ccd;border-radius:6px;padding:8px 12px;background:#f8f9fc;font-size:14px}\
.answer h3{margin:.2em 0 .3em;font-size:17px}.answer p{margin:.3em 0}.answer table{font-size:12px}\
table{border-collapse:collapse;margin:.6em 0;font-size:14px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}caption{caption-side:top;text-align:left;color:#555;font-size:13px;padding:2px 0}\
.claims td,.claims th{text-align:left;vertical-align:top}.verdict{font-weight:bold;white-space:nowrap}\
.v-holds{color:#1a7f37}.v-part{color:#9a6700}.v-not{color:#cf222e}.v-none{color:#666}\
figure{margin:1em 0}.beside{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}.beside figure{flex:0 1 560px;margin:.6em 0}svg{max-width:100%;height:auto}.note{color:#555}summary{cursor:pointer;color:#333}\
@media (max-width:1000px){.answers{grid-template-columns:1fr}}\
@media print{nav{display:none}body{max-width:none}h2{break-after:avoid}figure,table{break-inside:avoid}}";

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Holds => "v-holds",
        Verdict::HoldsInPart => "v-part",
        Verdict::DoesNotHold => "v-not",
        Verdict::NotMeasured => "v-none",
    }
}

/// The report as one self-contained HTML page: charts inline, no script.
pub(super) fn html(page: &Page) -> String {
    let Page {
        sections,
        dates,
        summary,
        env_rows,
        suite_measured,
        ..
    } = page;
    let machine_caption = |caption: &str| page.machine_caption(caption);
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>stackheap report</title><style>{STYLE}</style></head><body>\n"
    );
    let _ = write!(
        html,
        "<h1>stackheap report</h1><p class=\"meta\">{} · {}</p><nav><b>Contents:</b> ",
        escape(summary),
        escape(dates)
    );
    if *suite_measured {
        html += "<a href=\"#answers\">Answers</a><a href=\"#claims\">Claims</a><a href=\"#findings\">Findings</a>";
    }
    for s in sections.iter().filter(|s| !s.anchor.is_empty()) {
        let _ = write!(html, "<a href=\"#{}\">{}</a>", s.anchor, s.nav);
    }
    html += "<a href=\"#environment\">Environment</a></nav>\n";
    if *suite_measured {
        suite_answers(&mut html, page);
    }
    for s in sections.iter() {
        if s.anchor.is_empty() {
            let _ = writeln!(html, "<section><h2>{}</h2>", escape(&s.title));
        } else {
            let _ = writeln!(
                html,
                "<section id=\"{}\"><h2>{}</h2>",
                s.anchor,
                escape(&s.title)
            );
        }
        for l in &s.lead {
            let _ = write!(html, "<p class=\"lead\">{}</p>", escape(l));
        }
        for svg in &s.charts {
            let _ = writeln!(html, "<figure>{svg}</figure>");
        }
        for t in &s.tables {
            let table = html_table(
                &t.rows,
                &machine_caption(&t.caption),
                t.rows.len() > COLLAPSE_ROWS + 1,
            );
            match &t.figure {
                Some(svg) => {
                    let _ = writeln!(
                        html,
                        "<div class=\"beside\"><figure>{svg}</figure>{table}</div>"
                    );
                }
                None => html += &table,
            }
        }
        for n in &s.notes {
            let _ = write!(html, "<p class=\"note\">{}</p>", escape(n));
        }
        html += "</section>\n";
    }
    let _ = writeln!(
        html,
        "<section id=\"environment\"><h2>Environment</h2>{}</section></body></html>",
        html_table(
            env_rows,
            "where and when these results were measured",
            false
        )
    );
    html
}

/// The suite's answers, the claims tested and the findings.
fn suite_answers(html: &mut String, page: &Page) {
    let Page {
        answers,
        claims,
        findings,
        short_machine,
        claim_rows,
        margin_note,
        ..
    } = page;
    let machine_caption = |caption: &str| page.machine_caption(caption);
    *html += "<section id=\"answers\"><h2>Answers</h2><div class=\"answers\">";
    for a in answers.iter() {
        let _ = write!(
            html,
            "<div class=\"answer\"><h3>{}</h3><p>{} <a href=\"#{}\">Details</a></p>",
            escape(a.question),
            escape(&a.text),
            a.anchor
        );
        if !a.table.is_empty() {
            *html += &html_table(
                &a.table,
                &format!("{} · {}", a.caption, short_machine),
                false,
            );
        }
        *html += "</div>";
    }
    let _ = write!(
        *html,
        "</div><p class=\"note\">{}</p></section>\n<section id=\"claims\"><h2>Claims, tested</h2><table class=\"claims\"><caption>{}</caption>",
        escape(margin_note),
        escape(&machine_caption(
            "the folklore this project started from, each with a verdict computed from this run"
        ))
    );
    for (i, row) in claim_rows.iter().enumerate() {
        if i == 0 {
            let _ = write!(
                html,
                "<tr><th>{}</th><th>{}</th><th>{}</th></tr>",
                row[0], row[1], row[2]
            );
        } else {
            let class = verdict_class(claims[i - 1].verdict);
            let _ = write!(
                html,
                "<tr><td>{}</td><td class=\"verdict {class}\">{}</td><td>{}</td></tr>",
                escape(&row[0]),
                escape(&row[1]),
                escape(&row[2])
            );
        }
    }
    let _ = write!(
        *html,
        "</table></section>\n<section id=\"findings\"><h2>Findings</h2><details><summary>{} sentences computed from the data</summary><ul>",
        findings.len()
    );
    for f in findings.iter() {
        let _ = write!(html, "<li>{}</li>", escape(f));
    }
    *html += "</ul></details></section>\n";
}
