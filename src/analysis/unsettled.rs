//! Where a repeated run spends its remaining time (Chromium Pinpoint's rule: keep measuring what is
//! still undecided): the rows whose comparisons straddle the margin and the rows whose processes
//! disagree, which `scripts/run` measures again in further processes while its budget lasts
//! (comparisons the comparison engine made are its own: more Criterion processes do not change them).

use crate::analysis::aggregate::Results;
use crate::analysis::comparisons::{margin, rankings};
use std::collections::BTreeMap;

/// Why a row is measured again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsettled {
    /// A comparison it is part of reaches past the margin without clearing it: more processes
    /// narrow the interval, which then decides or settles within noise.
    Straddles,
    /// Its processes differ by more than twice the run's margin: one of them may have been disturbed
    /// (a burst of interference read as a tight but wrong interval), and a further measurement
    /// outvotes it.
    Disagrees,
}

/// The rows of `results` to measure again, with why, in id order. Only rows already measured in at
/// least two processes count: a row measured once is one of the parts a repeated run measures once
/// (the depth probes), not a row that more processes would settle.
pub fn unsettled(results: &Results) -> Vec<(String, Unsettled)> {
    let margin = margin(results);
    // Id -> why; a row that both straddles and disagrees keeps the first reason found.
    let mut rows = BTreeMap::new();
    for r in rankings(results) {
        // A comparison the engine made is not helped by more Criterion processes.
        let from_engine = match (r.faster_id.parse(), r.slower_id.parse()) {
            (Ok(a), Ok(b)) => results.engine_ratio(&a, &b).is_some(),
            _ => false,
        };
        let straddles =
            !from_engine && r.processes >= 2 && r.low <= 1.0 + margin && r.high > 1.0 + margin;
        if straddles {
            rows.entry(r.faster_id).or_insert(Unsettled::Straddles);
            rows.entry(r.slower_id).or_insert(Unsettled::Straddles);
        }
    }
    for b in results.benches.values() {
        if results
            .process_spread(&b.key)
            .is_some_and(|spread| spread > 2.0 * margin)
        {
            rows.entry(b.id()).or_insert(Unsettled::Disagrees);
        }
    }
    rows.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::id::BenchId;
    use crate::data::results::Bench;

    /// Results of three processes, each a map of `(id, ns)`.
    fn repeated(processes: &[&[(&str, f64)]]) -> Results {
        let mut benches: Vec<Bench> = processes[0]
            .iter()
            .map(|&(id, ns)| Bench::synthetic(id, ns, ns * 0.01, None))
            .collect();
        for b in &mut benches {
            b.processes = processes.len();
        }
        Results {
            benches: benches.into_iter().map(|b| (b.key, b)).collect(),
            processes: processes
                .iter()
                .map(|p| {
                    p.iter()
                        .map(|&(id, ns)| (id.parse().unwrap(), ns))
                        .collect()
                })
                .collect::<Vec<BTreeMap<BenchId, f64>>>(),
            ..Results::default()
        }
    }

    #[test]
    fn a_straddling_comparison_and_a_disagreeing_row_are_measured_again() {
        let (sys, je, mi) = (
            "contention/larson/system/t2",
            "contention/larson/jemalloc/t2",
            "contention/larson/mimalloc/t2",
        );
        // system / jemalloc: 1.10, 1.30, 1.25 per process: reaches past 1.2 without clearing it.
        // mimalloc: steady and far from both, except that its third process read 3x.
        let r = repeated(&[
            &[(sys, 110.0), (je, 100.0), (mi, 300.0)],
            &[(sys, 130.0), (je, 100.0), (mi, 300.0)],
            &[(sys, 125.0), (je, 100.0), (mi, 900.0)],
        ]);
        let got = unsettled(&r);
        assert_eq!(
            got,
            vec![
                (je.to_string(), Unsettled::Straddles),
                (mi.to_string(), Unsettled::Disagrees),
                (sys.to_string(), Unsettled::Straddles),
            ]
        );
    }

    #[test]
    fn decided_and_clearly_tied_rows_are_settled() {
        let (a, b) = (
            "contention/local_churn/system/t1",
            "contention/local_churn/jemalloc/t1",
        );
        // 2x in every process: decided. Then 1.01x in every process: within noise, settled.
        let decided = repeated(&[
            &[(a, 200.0), (b, 100.0)],
            &[(a, 204.0), (b, 101.0)],
            &[(a, 198.0), (b, 99.0)],
        ]);
        assert_eq!(unsettled(&decided), vec![]);
        let tied = repeated(&[
            &[(a, 101.0), (b, 100.0)],
            &[(a, 102.0), (b, 101.0)],
            &[(a, 100.0), (b, 99.0)],
        ]);
        assert_eq!(unsettled(&tied), vec![]);
    }
}
