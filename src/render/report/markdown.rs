//! The report as Markdown.

use crate::render::report::Page;
use crate::render::tables::markdown_table;

/// The report as Markdown: for a CI step summary or a pull-request comment.
pub(super) fn markdown(page: &Page) -> String {
    let Page {
        sections,
        answers,
        findings,
        dates,
        summary,
        env_rows,
        claim_rows,
        margin_note,
        ..
    } = page;
    let machine_caption = |caption: &str| page.machine_caption(caption);
    let mut md = format!(
        "# stackheap report\n\nMachine: {}  \n{dates}\n\n## Answers\n\n",
        summary
    );
    for a in answers.iter() {
        md += &format!("### {}\n\n{}\n\n", a.question, a.text);
        if !a.table.is_empty() {
            md += &format!("{}\n\n", machine_caption(a.caption));
            md += &markdown_table(&a.table);
            md += "\n";
        }
    }
    md += &format!(
        "{margin_note}\n\n## Claims, tested\n\n{}",
        markdown_table(claim_rows)
    );
    md += "\n## Findings\n\n";
    for f in findings.iter() {
        md += &format!("- {f}\n");
    }
    for s in sections.iter() {
        md += &format!("\n## {}\n", s.title);
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
    md += &format!("\n## Environment\n\n{}", markdown_table(env_rows));
    md
}
