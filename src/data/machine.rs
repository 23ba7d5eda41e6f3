//! The machine and settings a result came from, as every result file records it (captured by
//! `harness::machine`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where and how a result was measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
// Files written before a field existed still read; a missing text reads as empty ("unknown").
#[serde(default)]
pub struct Machine {
    pub cpu_model: String,
    pub cores: usize,
    pub kernel: String,
    pub glibc: String,
    pub rustc: String,
    /// Allocator name -> version of the library linked into the measuring binary.
    pub allocator_versions: BTreeMap<String, String>,
    /// Allocator name -> the evidence, taken in a process that measured it, that a library named
    /// at run time served that process's `malloc` (empty where no library was named).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub allocator_proofs: BTreeMap<String, String>,
    /// Environment variables that change allocator behaviour (`_RJEM_MALLOC_CONF`, `MIMALLOC_*`,
    /// `MALLOC_*`, `GLIBC_TUNABLES`), as they were set for this run; empty when none were.
    pub allocator_settings: BTreeMap<String, String>,
    /// Seconds since the Unix epoch when this description was taken.
    pub unix_time: u64,
}

impl Machine {
    /// One line for the top of a printed table.
    pub fn summary(&self) -> String {
        format!(
            "{}, {} cores, Linux {}, glibc {}, {}",
            known(&self.cpu_model),
            self.cores,
            known(&self.kernel),
            known(&self.glibc),
            known(&self.rustc)
        )
    }
}

impl Machine {
    /// A file-name stem naming when and where results were measured, for a dated results file:
    /// `2026-11-22-intel-xeon-platinum-8370c-2-cores` (the measurement's UTC date, the CPU model's
    /// words without trademark marks, the cores).
    pub fn dated_stem(&self) -> String {
        let date = iso_date(self.unix_time);
        // The model without its clock (`@ 2.80GHz`) and trademark marks.
        let lowered = self.cpu_model.to_ascii_lowercase();
        let model = lowered.split('@').next().unwrap_or_default();
        let words: Vec<&str> = model
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty() && !["r", "tm", "cpu", "processor"].contains(w))
            .take(5)
            .collect();
        let model = if words.is_empty() {
            "unknown-cpu".to_owned()
        } else {
            words.join("-")
        };
        format!("{}-{model}-{}-cores", &date[..10], self.cores)
    }
}

/// Unix seconds as an ISO 8601 date and time in UTC: `2026-11-22T04:58:24Z`.
pub fn iso_date(unix_seconds: u64) -> String {
    humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix_seconds),
    )
    .to_string()
}

/// Seconds since the Unix epoch now (0 if the clock is before it).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `text`, or `unknown` when a file did not record it.
pub fn known(text: &str) -> &str {
    if text.is_empty() { "unknown" } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dated_stem_names_the_day_the_cpu_and_the_cores() {
        let machine = Machine {
            cpu_model: "Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz".into(),
            cores: 2,
            unix_time: 1_795_305_600, // 2026-11-22T00:00:00Z
            ..Machine::default()
        };
        assert_eq!(
            machine.dated_stem(),
            "2026-11-22-intel-xeon-platinum-8370c-2-cores"
        );
        assert_eq!(
            Machine::default().dated_stem(),
            "1970-01-01-unknown-cpu-0-cores"
        );
    }
}
