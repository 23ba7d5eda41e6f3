//! `target/stackheap/placement.json`: where each `heap_reused` block lay (its offset in a cache line
//! and in a page), by benchmark id.

use crate::workload::arrays::Placement;

/// [`Placement`] of one benchmark's block, by id.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlacementEntry {
    pub id: String,
    #[serde(flatten)]
    pub placement: Placement,
}

impl crate::data::results::SuiteEntry for PlacementEntry {
    fn key(&self) -> String {
        self.id.clone()
    }

    /// Offsets beyond the line or the page they are measured in.
    fn problem(&self) -> Option<String> {
        if let Err(e) = self.id.parse::<crate::data::id::BenchId>() {
            return Some(format!("id: {e}"));
        }
        (self.placement.offset_in_line >= 64 || self.placement.offset_in_page >= 4096)
            .then(|| "offset_in_line must be below 64 and offset_in_page below 4096".into())
    }
}
