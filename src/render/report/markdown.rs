//! The report as Markdown.

use crate::render::report::Page;
use crate::render::tables::markdown_table;

/// The report as Markdown: for a CI step summary or a pull-request comment.
pub(super) fn markdown(page: &Page) -> String {
    let machine_caption = |caption: &str| page.machine_caption(caption);
    let mut md = format!(
        "# stackheap report\n\nMachine: {}  \n{}\n",
        page.summary, page.dates
    );
    if page.suite_measured {
        md += &suite_answers(page);
    }
    for s in &page.sections {
        md += &format!("\n## {}\n", s.title);
        for l in &s.lead {
            md += &format!("\n{l}\n");
        }
        for t in &s.tables {
            md += &format!(
                "\n{}\n\n{}",
                machine_caption(&t.caption),
                markdown_table(&t.rows)
            );
        }
        for n in &s.notes {
            md += &format!("\n{n}\n");
        }
    }
    md += &format!("\n## Environment\n\n{}", markdown_table(&page.env_rows));
    md
}

/// The suite's answers, the claims tested and the findings.
fn suite_answers(page: &Page) -> String {
    let machine_caption = |caption: &str| page.machine_caption(caption);
    let mut md = "\n## Answers\n\n".to_string();
    for a in &page.answers {
        md += &format!("### {}\n\n{}\n\n", a.question, a.text);
        if !a.table.is_empty() {
            md += &format!("{}\n\n", machine_caption(a.caption));
            md += &markdown_table(&a.table);
            md += "\n";
        }
    }
    md += &format!(
        "{}\n\n## Claims, tested\n\n{}",
        page.margin_note,
        markdown_table(&page.claim_rows)
    );
    md += "\n## Findings\n\n";
    for f in &page.findings {
        md += &format!("- {f}\n");
    }
    md
}
