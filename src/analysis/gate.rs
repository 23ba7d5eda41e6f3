//! The paired A/B gate's decisions: rounds of one baseline and one candidate process in ABBA order,
//! each benchmark judged on the ratios candidate / baseline paired by round
//! ([`crate::analysis::stats::judge`]). Benchmarks still undecided get more pairs, up to a time
//! budget (the way Chromium's Pinpoint bisects noisy benchmarks); what stays undecided is reported
//! as such. The recorded pairs also feed `scripts/gate-check`'s resampling.

use crate::analysis::stats::{GateVerdict, Interval, judge};
use crate::data::id::exact_filter;
use crate::harness::ab::{Build, Plan, run_build};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;

/// The paired means of one benchmark: `(baseline, candidate)` per round, in ns.
pub type Pairs = Vec<(f64, f64)>;

/// The verdict on one benchmark.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub id: String,
    pub verdict: GateVerdict,
    /// Median of candidate / baseline, with its distribution-free interval.
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
    pub confidence: f64,
    pub pairs: Pairs,
}

/// The result of one paired comparison, `target/stackheap/ab.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Outcome {
    pub schema: u32,
    pub kind: String,
    pub baseline: String,
    pub candidate: String,
    pub threshold: f64,
    pub rounds: usize,
    pub seconds: f64,
    pub rows: Vec<Row>,
}

impl Outcome {
    pub fn regressed(&self) -> impl Iterator<Item = &Row> {
        self.rows
            .iter()
            .filter(|r| r.verdict == GateVerdict::Regressed)
    }
}

/// Judges every benchmark on its pairs.
pub fn judge_pairs(pairs: &BTreeMap<String, Pairs>, threshold: f64) -> Vec<Row> {
    pairs
        .iter()
        .filter_map(|(id, p)| {
            let ratios: Vec<f64> = p.iter().map(|(b, c)| c / b).collect();
            let (verdict, iv): (GateVerdict, Interval) = judge(&ratios, threshold)?;
            Some(Row {
                id: id.clone(),
                verdict,
                ratio: iv.point,
                low: iv.low,
                high: iv.high,
                confidence: iv.confidence,
                pairs: p.clone(),
            })
        })
        .collect()
}

/// Runs the comparison: rounds of one baseline and one candidate process each, in ABBA order, until
/// every benchmark has a verdict, `max_pairs` is reached or the budget is spent. `progress` hears
/// one line per round.
pub fn run(
    baseline: &Build,
    candidate: &Build,
    plan: &Plan,
    mut progress: impl FnMut(&str),
) -> Result<Outcome, String> {
    let start = Instant::now();
    let mut pairs: BTreeMap<String, Pairs> = BTreeMap::new();
    let mut filter = plan.filter.clone();
    // Which executables to start: after the first verdicts, only those holding undecided rows (a
    // process that measures nothing still costs its start-up).
    let mut active = vec![true; baseline.executables.len().max(candidate.executables.len())];
    let mut held_by: Vec<std::collections::BTreeSet<String>> =
        vec![Default::default(); active.len()];
    let mut rounds = 0;
    let mut rows = Vec::new();
    while rounds < plan.max_pairs {
        let round_start = Instant::now();
        let dir = |side: &str| plan.work_dir.join(side);
        // ABBA: the baseline goes first in even rounds, second in odd ones.
        let (base, cand) = if rounds % 2 == 0 {
            let b = run_build(baseline, &filter, &dir("baseline"), &active)?;
            (
                b,
                run_build(candidate, &filter, &dir("candidate"), &active)?,
            )
        } else {
            let c = run_build(candidate, &filter, &dir("candidate"), &active)?;
            (run_build(baseline, &filter, &dir("baseline"), &active)?, c)
        };
        for (held, measured) in held_by.iter_mut().zip(&base) {
            held.extend(measured.keys().cloned());
        }
        let base: BTreeMap<String, f64> = base.into_iter().flatten().collect();
        let cand: BTreeMap<String, f64> = cand.into_iter().flatten().collect();
        // Only what the filter asks for: a build may measure more than was selected.
        let selected = regex::Regex::new(&filter).map_err(|e| e.to_string())?;
        for (id, b) in base.iter().filter(|(id, _)| selected.is_match(id)) {
            if let Some(c) = cand.get(id) {
                pairs.entry(id.clone()).or_default().push((*b, *c));
            }
        }
        if pairs.is_empty() {
            return Err(format!(
                "no benchmark matched the filter '{}' in both builds: expected ids such as stack_vs_heap/heap_box/system/0000064",
                plan.filter
            ));
        }
        rounds += 1;
        rows = judge_pairs(&pairs, plan.threshold);
        let undecided: Vec<&str> = rows
            .iter()
            .filter(|r| r.verdict == GateVerdict::Undecided)
            .map(|r| r.id.as_str())
            .collect();
        progress(&format!(
            "round {rounds}: {} benchmarks, {} undecided ({:.0} s)",
            rows.len(),
            undecided.len(),
            start.elapsed().as_secs_f64()
        ));
        let next_round_fits = start.elapsed() + round_start.elapsed() <= plan.budget;
        if rounds >= plan.min_pairs && (undecided.is_empty() || !next_round_fits) {
            break;
        }
        if rounds >= plan.min_pairs {
            // Only the undecided need more pairs, and only the executables that measure them.
            for (on, held) in active.iter_mut().zip(&held_by) {
                *on = undecided.iter().any(|id| held.contains(*id));
            }
            filter = exact_filter(undecided);
        }
    }
    Ok(Outcome {
        schema: crate::data::suite_file::SCHEMA,
        kind: "ab".into(),
        baseline: baseline.label.clone(),
        candidate: candidate.label.clone(),
        threshold: plan.threshold,
        rounds,
        seconds: start.elapsed().as_secs_f64(),
        rows,
    })
}

/// Rates of a decision rule estimated by resampling recorded pairs: for each benchmark, the chance
/// that a comparison of `pairs` pairs drawn from the A/A ratios says "regressed" (a false alarm) and,
/// for each shift, that it says "regressed" when the candidate is that much slower.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rates {
    pub id: String,
    pub false_alarm: f64,
    /// (shift, detection rate), e.g. (0.10, 0.93).
    pub detection: Vec<(f64, f64)>,
    /// A/A ratios the estimate was drawn from.
    pub pool: usize,
}

/// Draws `trials` comparisons of `pairs` ratios (with replacement) from the pooled A/A `ratios` of
/// each benchmark, judges them at `threshold`, and counts "regressed" unshifted and with each shift
/// applied to the candidate. Deterministic for a given `seed`.
pub fn resample(
    ratios: &BTreeMap<String, Vec<f64>>,
    pairs: usize,
    threshold: f64,
    shifts: &[f64],
    trials: usize,
    seed: u64,
) -> Vec<Rates> {
    let mut state = seed | 1;
    let mut next = move |n: usize| {
        // xorshift64*: enough for drawing indices.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545F4914F6CDD1D) >> 33) as usize % n
    };
    ratios
        .iter()
        .filter(|(_, pool)| !pool.is_empty())
        .map(|(id, pool)| {
            let mut regressed = vec![0usize; shifts.len() + 1];
            for _ in 0..trials {
                let draw: Vec<f64> = (0..pairs).map(|_| pool[next(pool.len())]).collect();
                for (slot, shift) in std::iter::once(0.0)
                    .chain(shifts.iter().copied())
                    .enumerate()
                {
                    let shifted: Vec<f64> = draw.iter().map(|r| r * (1.0 + shift)).collect();
                    if matches!(
                        judge(&shifted, threshold),
                        Some((GateVerdict::Regressed, _))
                    ) {
                        regressed[slot] += 1;
                    }
                }
            }
            let rate = |n: usize| n as f64 / trials as f64;
            Rates {
                id: id.clone(),
                false_alarm: rate(regressed[0]),
                detection: shifts
                    .iter()
                    .zip(&regressed[1..])
                    .map(|(s, n)| (*s, rate(*n)))
                    .collect(),
                pool: pool.len(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs_of(ratios: &[f64]) -> Pairs {
        ratios.iter().map(|r| (100.0, 100.0 * r)).collect()
    }

    #[test]
    fn rows_are_judged_on_candidate_over_baseline() {
        let mut pairs = BTreeMap::new();
        pairs.insert(
            "a".to_owned(),
            pairs_of(&[1.3, 1.25, 1.28, 1.31, 1.27, 1.29]),
        );
        pairs.insert(
            "b".to_owned(),
            pairs_of(&[1.0, 1.01, 0.99, 1.02, 0.98, 1.0]),
        );
        pairs.insert("c".to_owned(), pairs_of(&[1.0, 1.3, 0.99, 1.02, 0.98, 1.0]));
        let rows = judge_pairs(&pairs, 0.10);
        let verdicts: Vec<(&str, GateVerdict)> =
            rows.iter().map(|r| (r.id.as_str(), r.verdict)).collect();
        assert_eq!(
            verdicts,
            [
                ("a", GateVerdict::Regressed),
                ("b", GateVerdict::Unchanged),
                ("c", GateVerdict::Undecided)
            ]
        );
        assert!((rows[0].ratio - 1.285).abs() < 1e-9);
    }

    #[test]
    fn resampling_finds_no_alarms_in_a_tight_pool_and_catches_a_large_shift() {
        let mut ratios = BTreeMap::new();
        let pool: Vec<f64> = (0..40).map(|i| 0.98 + 0.001 * f64::from(i)).collect();
        ratios.insert("row".to_owned(), pool);
        let rates = resample(&ratios, 10, 0.05, &[0.02, 0.20], 500, 7);
        assert_eq!(rates.len(), 1);
        assert_eq!(rates[0].false_alarm, 0.0);
        assert_eq!(
            rates[0].detection[0],
            (0.02, 0.0),
            "2% is below the 5% threshold"
        );
        assert_eq!(rates[0].detection[1], (0.20, 1.0));
        assert_eq!(rates[0].pool, 40);
    }
}
