//! The paired A/B gate: two builds of the suite (a baseline commit and a candidate) run alternately,
//! many short processes in ABBA order, and each benchmark is judged on the ratios candidate /
//! baseline paired by round ([`crate::stats::judge`]). Benchmarks still undecided get more pairs, up
//! to a time budget (the way Chromium's Pinpoint bisects noisy benchmarks); what stays undecided is
//! reported as such. The recorded pairs also feed `scripts/gate-check`'s resampling.

use crate::id::{IdSet, exact_filter};
use crate::results::{InputError, load_benches};
use crate::stats::{GateVerdict, Interval, judge};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The benchmarks the gate covers, as a Criterion filter: the single-threaded stack and heap rows
/// at three sizes, and the contention workloads whose allocator traffic a pull request is most
/// likely to change, at 1 and 2 threads ([`IdSet::Gate`]).
pub fn default_filter() -> String {
    IdSet::Gate.filter()
}

/// Criterion settings of one short process: the spread lives between processes, so many short
/// processes beat a few long ones.
pub const PROCESS_ARGS: [&str; 8] = [
    "--warm-up-time",
    "0.1",
    "--measurement-time",
    "0.3",
    "--sample-size",
    "20",
    "--nresamples",
    "1000",
];

/// One short process measures a few rows for well under a minute; one still running after this is
/// stuck (it is killed, with whatever it started, and the comparison ends as bad input).
const PROCESS_TIMEOUT: Duration = Duration::from_secs(600);

/// One build under test: a name and its bench executables.
#[derive(Clone, Debug)]
pub struct Build {
    pub label: String,
    pub executables: Vec<PathBuf>,
}

/// How a comparison runs.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Benchmark ids to compare (a regular expression, as Criterion filters).
    pub filter: String,
    /// Relative change that counts (0.10 = 10%).
    pub threshold: f64,
    /// Pairs before the first verdict; 6 is the fewest whose [min, max] covers 95%.
    pub min_pairs: usize,
    pub max_pairs: usize,
    /// No new round starts once this much time has passed.
    pub budget: Duration,
    /// Where each process writes its Criterion results.
    pub work_dir: PathBuf,
}

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

/// Runs the executables of `build` that `active` marks, each once with `filter`, its results in
/// `dir/<index>`; returns, per executable, the mean of every benchmark it measured, by id (empty for
/// one not run or one that measured nothing).
fn run_build(
    build: &Build,
    filter: &str,
    dir: &Path,
    active: &[bool],
) -> Result<Vec<BTreeMap<String, f64>>, String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: cannot create ({e})", dir.display()))?;
    let log_path = dir.join("bench.log");
    let log = std::fs::File::create(&log_path)
        .map_err(|e| format!("{}: cannot create ({e})", log_path.display()))?;
    let mut measured = Vec::new();
    for (i, exe) in build.executables.iter().enumerate() {
        let home = dir.join(i.to_string());
        if !active.get(i).copied().unwrap_or(true) {
            measured.push(BTreeMap::new());
            continue;
        }
        let mut command = Command::new(exe);
        command
            .arg("--bench")
            .args(PROCESS_ARGS)
            .arg(filter)
            .env("CRITERION_HOME", &home);
        let ended = crate::child::run(command, PROCESS_TIMEOUT)
            .map_err(|e| format!("{}: cannot start ({e})", exe.display()))?;
        let mut log = &log;
        let _ = log
            .write_all(ended.stdout.as_bytes())
            .and_then(|()| log.write_all(ended.stderr.as_bytes()));
        if let Some(failure) = ended.failure() {
            return Err(format!(
                "{} ({}) {failure}: see {}",
                exe.display(),
                build.label,
                log_path.display()
            ));
        }
        measured.push(if home.is_dir() {
            load_benches(&home, "new")
                .map_err(|InputError(e)| e)?
                .into_iter()
                .map(|b| (b.id, b.mean.point_estimate))
                .collect()
        } else {
            BTreeMap::new()
        });
    }
    Ok(measured)
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
        schema: crate::output::SCHEMA,
        kind: "ab".into(),
        baseline: baseline.label.clone(),
        candidate: candidate.label.clone(),
        threshold: plan.threshold,
        rounds,
        seconds: start.elapsed().as_secs_f64(),
        rows,
    })
}

/// The verdicts as a table (Markdown when `markdown`).
pub fn format_outcome(outcome: &Outcome, markdown: bool) -> String {
    let mut rows = vec![vec![
        "benchmark".to_string(),
        "verdict".into(),
        "candidate / baseline".into(),
        "interval".into(),
        "pairs".into(),
    ]];
    for r in &outcome.rows {
        rows.push(vec![
            r.id.clone(),
            format!("{:?}", r.verdict).to_lowercase(),
            format!("{:.3}", r.ratio),
            format!(
                "[{:.3}, {:.3}] ({:.0}%)",
                r.low,
                r.high,
                r.confidence * 100.0
            ),
            r.pairs.len().to_string(),
        ]);
    }
    let table = if markdown {
        crate::report::markdown_table(&rows)
    } else {
        rows.iter()
            .map(|r| {
                format!(
                    "{:<48} {:<10} {:>20} {:>26} {:>5}\n",
                    r[0], r[1], r[2], r[3], r[4]
                )
            })
            .collect()
    };
    let count = |v: GateVerdict| outcome.rows.iter().filter(|r| r.verdict == v).count();
    format!(
        "{table}\n{} regressed, {} improved, {} unchanged, {} undecided (threshold {:.0}%, {} rounds, {:.0} s; {} vs {})\n",
        count(GateVerdict::Regressed),
        count(GateVerdict::Improved),
        count(GateVerdict::Unchanged),
        count(GateVerdict::Undecided),
        outcome.threshold * 100.0,
        outcome.rounds,
        outcome.seconds,
        outcome.candidate,
        outcome.baseline,
    )
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
    fn the_exact_filter_selects_the_ids_and_nothing_else() {
        let filter = exact_filter(["contention/larson/system/t1", "stack_vs_heap/a.b/0000064"]);
        let re = regex::Regex::new(&filter).unwrap();
        assert!(re.is_match("contention/larson/system/t1"));
        assert!(re.is_match("stack_vs_heap/a.b/0000064"));
        assert!(!re.is_match("stack_vs_heap/aXb/0000064"));
        assert!(!re.is_match("contention/larson/system/t12"));
    }

    #[test]
    fn the_default_filter_covers_single_threaded_and_two_thread_rows() {
        let re = regex::Regex::new(&default_filter()).unwrap();
        assert!(re.is_match("stack_vs_heap/heap_box/system/0000064"));
        assert!(re.is_match("stack_vs_heap/stack_array/0065536"));
        assert!(re.is_match("contention/local_churn/mimalloc/t2"));
        assert!(!re.is_match("contention/local_churn/mimalloc/t4"));
        assert!(!re.is_match("stack_vs_heap/heap_reused/system/0000064"));
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
