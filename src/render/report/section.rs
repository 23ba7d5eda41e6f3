//! A section of the report (heading, charts, tables, notes) and a table with its caption.

/// A table with its caption (what the numbers are, in which unit); long ones are shown collapsed.
pub(super) struct Table {
    pub(super) caption: String,
    pub(super) rows: Vec<Vec<String>>,
    /// A chart of the same answer, shown beside the table in the page (SVG).
    pub(super) figure: Option<String>,
}

/// Tables with more data rows than this are collapsed in the page (`<details>`).
pub(super) const COLLAPSE_ROWS: usize = 12;

/// A section of the report: a heading with an anchor, charts, tables, and notes.
pub(super) struct Section {
    /// Sentences shown first, under the heading: the section's answers, when it leads with them.
    pub(super) lead: Vec<String>,
    pub(super) title: String,
    /// The id the table of contents links to (with `nav`, its text there); empty for no entry.
    pub(super) anchor: &'static str,
    pub(super) nav: &'static str,
    pub(super) charts: Vec<String>,
    pub(super) tables: Vec<Table>,
    pub(super) notes: Vec<String>,
}
