//! The paired A/B gate's decisions, the comparison engine's two-member case (`harness::engine`).
//! Both sides run as worker processes in lock-step: for each row, the engine asks the baseline's
//! worker for a sample, then the candidate's, then the baseline's again (`B C B C B ...`, each
//! candidate sample against the two baseline samples around it), so the halves of a pair are taken
//! milliseconds apart and a drift of the machine lands in both. A *session* is one
//! pair of fresh workers; sessions are repeated (code and heap layout are averaged over many
//! processes, not frozen into one), and each session gives every row one paired value. A row is
//! judged on the median of its sessions' ratios candidate / baseline
//! ([`crate::analysis::stats::judge`]); a decided row stops, and the rest of the time budget goes
//! to the rows still undecided (the way Chromium's Pinpoint adds repetitions). What stays
//! undecided is reported with the smallest change the run could have detected. The recorded pairs
//! also feed `scripts/gate-check`'s resampling.

use crate::analysis::stats::{CONFIDENCE, GateVerdict, Interval, judge};
use crate::data::groups::GroupEntry;
use crate::data::id::BenchId;
use crate::data::machine::Machine;
use crate::harness::ab::Side;
use crate::harness::engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// One session's value of a row: `(baseline, candidate)` time per iteration, in ns: the baseline's
/// mean over the session, and that times the median of the candidate's bracketed ratios (so that
/// `candidate / baseline` is the session's ratio).
pub type Pairs = Vec<(f64, f64)>;

/// The verdict on one benchmark.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub id: String,
    pub verdict: GateVerdict,
    /// Median of the sessions' candidate / baseline, with its distribution-free interval.
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
    pub confidence: f64,
    /// The smallest slowdown (0.07 = 7%) this row's interval could have called "regressed": the
    /// threshold widened by the interval's lower half. `None` while too few sessions for an interval.
    pub detectable: Option<f64>,
    /// Iterations per sample (the same on both sides).
    pub iterations: u64,
    pub pairs: Pairs,
}

/// The result of one paired comparison, `target/stackheap/ab.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Outcome {
    pub schema: u32,
    pub kind: String,
    pub baseline: String,
    pub candidate: String,
    /// Settings added to each side's environment, `KEY=VALUE`.
    pub baseline_env: Vec<String>,
    pub candidate_env: Vec<String>,
    pub threshold: f64,
    /// Sessions run (pairs of fresh workers); a row decided early has fewer pairs.
    pub sessions: usize,
    pub seconds: f64,
    /// Why the run stopped: "decided", "budget" or "max_sessions".
    pub stopped: String,
    /// The machine the comparison ran on (as the supervisor saw it); unknown in a file written
    /// before it was recorded.
    #[serde(default)]
    pub machine: Machine,
    /// Cores the supervisor saw, and the selected rows left out because they run more threads
    /// than that (they would measure the scheduler's time-sharing, not the change).
    pub cores: usize,
    pub oversubscribed: Vec<String>,
    pub rows: Vec<Row>,
}

impl Outcome {
    pub fn count(&self, verdict: GateVerdict) -> usize {
        self.rows.iter().filter(|r| r.verdict == verdict).count()
    }
}

/// The gate's rows that `selected` matches, split into those judged and those left out because
/// they run more threads than `cores` (unless `include_oversubscribed`).
pub fn rows_for(
    selected: &regex::Regex,
    cores: usize,
    include_oversubscribed: bool,
) -> (Vec<String>, Vec<String>) {
    let mut judged = Vec::new();
    let mut left_out = Vec::new();
    for id in crate::data::id::IdSet::Gate.ids() {
        let text = id.to_string();
        if !selected.is_match(&text) {
            continue;
        }
        let threads = match id {
            BenchId::Contention {
                workload, threads, ..
            } => workload.os_threads(threads),
            _ => 1,
        };
        if threads > cores && !include_oversubscribed {
            left_out.push(text);
        } else {
            judged.push(text);
        }
    }
    (judged, left_out)
}

/// How a comparison runs.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The rows, as ids the worker runs.
    pub ids: Vec<String>,
    /// Rows selected but left out as oversubscribed (see [`rows_for`]), for the record.
    pub oversubscribed: Vec<String>,
    pub cores: usize,
    /// Relative change that counts (0.05 = 5%).
    pub threshold: f64,
    /// Sessions before the first verdict (6 is the fewest whose median interval covers 95%).
    pub min_sessions: usize,
    pub max_sessions: usize,
    /// No new session starts when it would end after this.
    pub budget: Duration,
    /// Length of one sample of a single-threaded row; a contention row's samples are as many
    /// times longer as it runs threads (their spread grows with the scheduling of each thread).
    pub sample_time: Duration,
    /// Blocks per row per session: each is two candidate samples, each between two baseline
    /// samples.
    pub blocks: usize,
    /// Where the workers' stderr goes.
    pub work_dir: PathBuf,
}

/// The smallest slowdown an interval `[low, high]` around `point` could have called regressed at
/// `threshold`: a candidate that much slower moves the point there, and its interval (of the same
/// relative width) then starts above `1 + threshold`.
pub fn detectable(interval: &Interval, threshold: f64) -> Option<f64> {
    (interval.confidence >= CONFIDENCE && interval.low > 0.0)
        .then(|| crate::analysis::stats::detectable(interval.point, interval.low, threshold))
}

/// Judges every benchmark on its sessions' ratios.
pub fn judge_pairs(
    pairs: &BTreeMap<String, Pairs>,
    iterations: &BTreeMap<String, u64>,
    threshold: f64,
) -> Vec<Row> {
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
                detectable: detectable(&iv, threshold),
                iterations: iterations.get(id).copied().unwrap_or(0),
                pairs: p.clone(),
            })
        })
        .collect()
}

/// The threads row `id` runs at once (one for an id that does not parse: the worker refuses it).
fn os_threads(id: &str) -> usize {
    id.parse::<BenchId>().map_or(1, |id| id.os_threads())
}

/// The comparison as the comparison engine runs it: one group per row, its two members the row on
/// the baseline's worker (the reference) and on the candidate's, no control (the gate's margin is
/// its threshold, and its false alarms are measured by `scripts/gate-check`); `blocks` blocks
/// are `2 x blocks` rounds, each a candidate sample between two baseline samples.
fn engine_plan(baseline: &Side, candidate: &Side, plan: &Plan) -> engine::Plan {
    let groups = plan
        .ids
        .iter()
        .map(|id| {
            let threads = os_threads(id);
            engine::Group {
                name: id.clone(),
                members: [0, 1]
                    .map(|side| engine::Member {
                        id: id.clone(),
                        side,
                    })
                    .to_vec(),
                control_side: None,
                // A sample as many times longer as the row runs threads (see [`Plan::sample_time`]).
                sample: plan.sample_time * threads as u32,
                threads,
            }
        })
        .collect();
    engine::Plan {
        sides: vec![baseline.clone(), candidate.clone()],
        groups,
        rounds: 2 * plan.blocks,
        min_sessions: plan.min_sessions,
        max_sessions: plan.max_sessions,
        budget: plan.budget,
        log: plan.work_dir.join("workers.log"),
        seed: 42,
        // One pair of workers per session for every row, as the gate always ran: both sides meet
        // the same rows before each row.
        process_per_group: false,
    }
}

/// Runs the comparison on the comparison engine: sessions of two fresh workers, every undecided
/// row sampled in lock-step in each, until every row has a verdict, `max_sessions` is reached or
/// the next session would end after the budget. `progress` hears a line per session that decides
/// rows, and every tenth.
pub fn run(
    baseline: &Side,
    candidate: &Side,
    plan: &Plan,
    progress: impl FnMut(&str),
) -> Result<Outcome, String> {
    std::fs::create_dir_all(&plan.work_dir)
        .map_err(|e| format!("{}: cannot create ({e})", plan.work_dir.display()))?;
    let pairs_of = |group: &GroupEntry| -> Pairs {
        group.members[0]
            .ns
            .iter()
            .copied()
            .zip(group.members[1].ns.iter().copied())
            .collect()
    };
    let decided = |group: &GroupEntry| {
        let ratios: Vec<f64> = pairs_of(group).iter().map(|(b, c)| c / b).collect();
        judge(&ratios, plan.threshold).is_some_and(|(v, _)| v != GateVerdict::Undecided)
    };
    let engine_plan = engine_plan(baseline, candidate, plan);
    let outcome = engine::run(&engine_plan, |_, _| Ok(()), |g, _| decided(g), progress)?;
    let pairs: BTreeMap<String, Pairs> = outcome
        .entries
        .iter()
        .filter(|g| g.sessions() > 0)
        .map(|g| (g.group.clone(), pairs_of(g)))
        .collect();
    let iterations: BTreeMap<String, u64> = outcome
        .entries
        .iter()
        .map(|g| (g.group.clone(), g.members[0].iterations))
        .collect();
    Ok(Outcome {
        schema: crate::data::suite_file::SCHEMA,
        kind: "ab".into(),
        baseline: baseline.label.clone(),
        candidate: candidate.label.clone(),
        baseline_env: env_texts(baseline),
        candidate_env: env_texts(candidate),
        threshold: plan.threshold,
        sessions: outcome.sessions,
        seconds: outcome.seconds,
        // The gate's rows are done when decided.
        stopped: match outcome.stopped {
            "done" => "decided",
            other => other,
        }
        .into(),
        machine: Machine::current(),
        cores: plan.cores,
        oversubscribed: plan.oversubscribed.clone(),
        rows: judge_pairs(&pairs, &iterations, plan.threshold),
    })
}

fn env_texts(side: &Side) -> Vec<String> {
    side.env.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

/// Rates of the gate's rule estimated by resampling recorded sessions: for each row, the chance
/// that a comparison drawn from its A/A session ratios ends "regressed" (a false alarm) and, for
/// each shift, that it ends "regressed" when the candidate is that much slower.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rates {
    pub id: String,
    pub false_alarm: f64,
    /// Share of unshifted comparisons left undecided after the most sessions.
    pub undecided: f64,
    /// (shift, detection rate), e.g. (0.10, 0.93).
    pub detection: Vec<(f64, f64)>,
    /// A/A session ratios the estimate was drawn from.
    pub pool: usize,
}

/// The verdict the gate reaches on a stream of session ratios: judged after every session from
/// `min_sessions` on, stopping at the first decision or after `max_sessions`, as [`run`] does.
fn sequential_verdict(
    mut draw: impl FnMut() -> f64,
    min_sessions: usize,
    max_sessions: usize,
    threshold: f64,
) -> GateVerdict {
    let mut ratios = Vec::with_capacity(max_sessions);
    let mut verdict = GateVerdict::Undecided;
    for n in 1..=max_sessions {
        ratios.push(draw());
        if n >= min_sessions {
            verdict = judge(&ratios, threshold).map_or(GateVerdict::Undecided, |(v, _)| v);
            if verdict != GateVerdict::Undecided {
                break;
            }
        }
    }
    verdict
}

/// Draws `trials` comparisons from the pooled A/A session `ratios` of each row (with replacement),
/// runs the gate's sequential rule on them unshifted and with each shift applied to the
/// candidate, and counts the verdicts. Deterministic for a given `seed`.
pub fn resample(
    ratios: &BTreeMap<String, Vec<f64>>,
    (min_sessions, max_sessions): (usize, usize),
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
            let mut undecided = 0;
            for (slot, shift) in std::iter::once(0.0)
                .chain(shifts.iter().copied())
                .enumerate()
            {
                for _ in 0..trials {
                    let draw = || pool[next(pool.len())] * (1.0 + shift);
                    match sequential_verdict(draw, min_sessions, max_sessions, threshold) {
                        GateVerdict::Regressed => regressed[slot] += 1,
                        GateVerdict::Undecided if slot == 0 => undecided += 1,
                        _ => {}
                    }
                }
            }
            let rate = |n: usize| n as f64 / trials as f64;
            Rates {
                id: id.clone(),
                false_alarm: rate(regressed[0]),
                undecided: rate(undecided),
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
        let rows = judge_pairs(&pairs, &BTreeMap::new(), 0.10);
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
        let rates = resample(&ratios, (8, 40), 0.05, &[0.02, 0.20], 500, 7);
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

    /// Session ratios candidate / baseline where each side's session mean carries its own noise
    /// of +-`noise` (uniform), the candidate `shift` slower: what two builds of known difference give.
    fn sessions(shift: f64, noise: f64, seed: u64) -> impl FnMut() -> f64 {
        let mut state = seed;
        let mut unit = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        move || {
            let baseline = 1.0 + noise * (2.0 * unit() - 1.0);
            let candidate = (1.0 + shift) * (1.0 + noise * (2.0 * unit() - 1.0));
            candidate / baseline
        }
    }

    #[test]
    fn the_rule_gives_the_known_answer_on_synthetic_sessions() {
        let rule = |draw, min, max| sequential_verdict(draw, min, max, 0.03);
        for seed in 1..=20 {
            // The same distribution on both sides: unchanged, never regressed.
            assert_eq!(
                rule(
                    Box::new(sessions(0.0, 0.02, seed)) as Box<dyn FnMut() -> f64>,
                    8,
                    200
                ),
                GateVerdict::Unchanged,
                "seed {seed}"
            );
            // A 5% slowdown under the same noise: regressed.
            assert_eq!(
                rule(Box::new(sessions(0.05, 0.02, seed)), 8, 200),
                GateVerdict::Regressed,
                "seed {seed}"
            );
        }
    }

    #[test]
    fn a_burst_of_interference_in_a_few_sessions_is_not_a_regression() {
        for seed in 1..=20 {
            // Three of the first eight sessions (and one in ten after) run beside a burst that
            // makes the candidate's samples 60% slower.
            let mut quiet = sessions(0.0, 0.02, seed);
            let mut n = 0;
            let burst = move || {
                n += 1;
                let disturbed = [2, 4, 7].contains(&n) || n % 10 == 0;
                quiet() * if disturbed { 1.6 } else { 1.0 }
            };
            let verdict = sequential_verdict(burst, 8, 200, 0.03);
            assert_eq!(verdict, GateVerdict::Unchanged, "seed {seed}");
        }
    }

    #[test]
    fn rows_that_run_more_threads_than_cores_are_left_out_and_named() {
        let all = regex::Regex::new("").unwrap();
        let (judged, left_out) = rows_for(&all, 2, false);
        // producer_consumer at t2 runs two producers and two consumers, for every allocator.
        let allocators = crate::workload::allocators::AllocatorKind::ALL.len();
        assert_eq!(left_out.len(), allocators, "{left_out:?}");
        assert!(
            left_out
                .iter()
                .all(|id| id.contains("producer_consumer") && id.ends_with("/t2"))
        );
        assert!(judged.contains(&"contention/producer_consumer/system/t1".to_owned()));
        let (everything, none) = rows_for(&all, 2, true);
        assert_eq!(
            (everything.len(), none.len()),
            (judged.len() + allocators, 0)
        );
        assert_eq!(rows_for(&all, 4, false).1.len(), 0);
    }

    #[test]
    fn the_detectable_change_widens_the_threshold_by_the_lower_half_of_the_interval() {
        let interval = Interval {
            point: 1.0,
            low: 0.98,
            high: 1.02,
            confidence: 0.96,
            samples: 40,
        };
        let d = detectable(&interval, 0.03).unwrap();
        assert!((d - (1.03 / 0.98 - 1.0)).abs() < 1e-12, "{d}");
        let few = Interval {
            confidence: 0.5,
            ..interval
        };
        assert_eq!(detectable(&few, 0.03), None);
    }
}
