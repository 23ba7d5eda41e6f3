//! `target/stackheap/depth.json`: one row per stack-depth probe (which thread, stack and frame, what
//! was measured and predicted, and how the probe ended), and the kinds of probe.

use serde::Serialize;
use std::fmt;
use std::time::Instant;

/// Which thread a probe recurses in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeKind {
    /// `std::thread::Builder`, with `stack_size` when a size is given, else Rust's default (2 MiB) with
    /// `RUST_MIN_STACK` removed from the child's environment.
    StdThread,
    /// `std::thread::Builder` without `stack_size`, the child started with `RUST_MIN_STACK` set.
    RustMinStack,
    /// The one thread of a rayon pool built with `ThreadPoolBuilder::stack_size`.
    Rayon,
    /// The recursion as a loop over a heap `Vec` in a thread with the given stack: no overflow.
    HeapLoop,
    /// One local array of `frame` bytes (reserved with `alloca`, every page written) in a thread with
    /// the given stack: it fits, or it overflows the stack. Bisected for the largest that fits.
    LocalArray,
    /// Self-test children that end wrongly: exit normally, die of SIGSEGV, or hang. Only in the
    /// library's own test binary, which is also the probe child of its tests.
    #[cfg(test)]
    #[serde(skip)]
    MisbehaveExit,
    #[cfg(test)]
    #[serde(skip)]
    MisbehaveSignal,
    #[cfg(test)]
    #[serde(skip)]
    MisbehaveHang,
}

impl ProbeKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::StdThread => "std_thread",
            Self::RustMinStack => "rust_min_stack",
            Self::Rayon => "rayon",
            Self::HeapLoop => "heap_loop",
            Self::LocalArray => "local_array",
            #[cfg(test)]
            Self::MisbehaveExit => "misbehave_exit",
            #[cfg(test)]
            Self::MisbehaveSignal => "misbehave_signal",
            #[cfg(test)]
            Self::MisbehaveHang => "misbehave_hang",
        }
    }

    /// The kinds a run measures.
    pub const ALL: [ProbeKind; 5] = [
        Self::StdThread,
        Self::RustMinStack,
        Self::Rayon,
        Self::HeapLoop,
        Self::LocalArray,
    ];

    pub fn from_name(name: &str) -> Option<Self> {
        #[cfg(test)]
        let test_kinds = [
            Self::MisbehaveExit,
            Self::MisbehaveSignal,
            Self::MisbehaveHang,
        ];
        #[cfg(not(test))]
        let test_kinds: [Self; 0] = [];
        Self::ALL
            .into_iter()
            .chain(test_kinds)
            .find(|k| k.name() == name)
    }
}

impl fmt::Display for ProbeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a probe ended; written in `depth.json` as `overflow`, `cap_reached`, `largest_found` or
/// `error: <what happened>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum ProbeOutcome {
    /// The stack overflowed (SIGABRT with Rust's message): the depth is a measurement.
    Overflow,
    /// The heap loop reached its cap without running out of anything.
    CapReached,
    /// The largest local array that fits was bisected.
    LargestFound,
    /// Anything else: the child ended another way, hung, or could not start.
    Error(String),
}

impl fmt::Display for ProbeOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Overflow => f.write_str("overflow"),
            Self::CapReached => f.write_str("cap_reached"),
            Self::LargestFound => f.write_str("largest_found"),
            Self::Error(what) => write!(f, "error: {what}"),
        }
    }
}

impl From<ProbeOutcome> for String {
    fn from(outcome: ProbeOutcome) -> String {
        outcome.to_string()
    }
}

impl TryFrom<String> for ProbeOutcome {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        match text.as_str() {
            "overflow" => Ok(Self::Overflow),
            "cap_reached" => Ok(Self::CapReached),
            "largest_found" => Ok(Self::LargestFound),
            _ => match text.strip_prefix("error: ") {
                Some(what) => Ok(Self::Error(what.to_owned())),
                None => Err(format!(
                    "outcome '{text}': expected overflow, cap_reached, largest_found or error: <what happened>"
                )),
            },
        }
    }
}

/// One row of `target/stackheap/depth.json`.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct DepthEntry {
    pub kind: ProbeKind,
    pub requested_stack_bytes: Option<u64>,
    pub granted_stack_bytes: Option<u64>,
    pub frame_bytes: u64,
    pub bytes_per_level: Option<u64>,
    pub measured_depth: Option<u64>,
    /// `usable stack below the first level / bytes_per_level`, from the thread's real stack bounds.
    pub predicted_depth: Option<u64>,
    /// `granted_stack_bytes / bytes_per_level`: what the naive rule of thumb predicts.
    pub naive_depth: Option<u64>,
    /// (measured - predicted) / predicted, in percent.
    pub difference_percent: Option<f64>,
    /// How the probe ended.
    pub outcome: ProbeOutcome,
    /// Wall time of the probe, child start-up included, in milliseconds.
    pub probe_ms: f64,
    /// `local_array`: the largest local array that fitted (bisected to a page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub largest_local_array_bytes: Option<u64>,
    /// `local_array`: the stack left below the call that reserves the array (from the thread's real
    /// stack bounds), less the frames the reservation itself needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_local_array_bytes: Option<u64>,
}

impl DepthEntry {
    /// An entry with only what was asked for and how the probe ended; the probe fills in the rest.
    pub fn new(
        kind: ProbeKind,
        stack: Option<usize>,
        frame: usize,
        outcome: ProbeOutcome,
        started: Instant,
    ) -> DepthEntry {
        DepthEntry {
            kind,
            requested_stack_bytes: stack.map(|s| s as u64),
            granted_stack_bytes: None,
            frame_bytes: frame as u64,
            bytes_per_level: None,
            measured_depth: None,
            predicted_depth: None,
            naive_depth: None,
            difference_percent: None,
            outcome,
            probe_ms: started.elapsed().as_secs_f64() * 1e3,
            largest_local_array_bytes: None,
            predicted_local_array_bytes: None,
        }
    }

    pub fn is_overflow(&self) -> bool {
        self.outcome == ProbeOutcome::Overflow
    }
}

impl crate::data::results::SuiteEntry for DepthEntry {
    fn key(&self) -> String {
        let stack = self
            .requested_stack_bytes
            .map_or("default".to_owned(), |b| b.to_string());
        format!(
            "{} stack {stack} frame {}",
            self.kind.name(),
            self.frame_bytes
        )
    }

    /// A level of zero bytes (every depth figure divides by it), or a difference or probe time
    /// that is not a finite number.
    fn problem(&self) -> Option<String> {
        if self.bytes_per_level == Some(0) {
            Some("bytes_per_level must be at least 1".into())
        } else if self.difference_percent.is_some_and(|d| !d.is_finite()) {
            Some("difference_percent must be a finite number".into())
        } else if !self.probe_ms.is_finite() || self.probe_ms < 0.0 {
            Some("probe_ms must be a finite, non-negative number".into())
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_round_trip_through_their_text_and_a_foreign_one_is_refused() {
        for outcome in [
            ProbeOutcome::Overflow,
            ProbeOutcome::CapReached,
            ProbeOutcome::LargestFound,
            ProbeOutcome::Error("hung: killed after 0.3 s".into()),
        ] {
            let text = String::from(outcome.clone());
            assert_eq!(ProbeOutcome::try_from(text), Ok(outcome));
        }
        assert!(
            ProbeOutcome::try_from("exploded".to_string())
                .unwrap_err()
                .contains("'exploded'")
        );
    }
}
