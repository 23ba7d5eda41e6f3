//! The regression verdict: the latest run against a saved Criterion baseline. A benchmark regressed
//! only when its median moved beyond a threshold **and** the two confidence intervals do not overlap;
//! Criterion itself never fails a run, so this is what a CI job exits on.

use crate::data::icount::IcountEntry;
use crate::data::results::{Bench, CriterionTree, InputError, load_suite_file};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Default wall-clock threshold, in percent of the baseline median, chosen from measured noise: in 10
/// A/A runs of `scripts/ci-bench` on the 2-core machine the suite is developed on (a shared VM),
/// identical single-threaded benchmarks moved by up to 179% between processes with non-overlapping
/// 95% intervals, and a threshold of 150% was the lowest that raised at most one false alarm in 10
/// (CHANGELOG.md, "The unpaired wall-clock gate"). On a quieter machine, measure with
/// `scripts/gate-check` and pass `--threshold`.
pub const DEFAULT_THRESHOLD_PERCENT: f64 = 150.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Regressed,
    Improved,
    Unchanged,
}

/// Default threshold for instruction counts, in percent. In 11 callgrind runs here the counts of
/// `system` and `mimalloc` workloads were identical and `jemalloc`'s moved by at most 0.28% (its
/// clock-driven cache cleanup), so 1% raises no false alarm and still flags a 2% change.
pub const DEFAULT_ICOUNT_THRESHOLD_PERCENT: f64 = 1.0;

/// One benchmark's comparison.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub id: String,
    /// `ns` (Criterion's median time) or `instructions` (per iteration, callgrind).
    pub unit: &'static str,
    pub baseline: f64,
    pub current: f64,
    /// (current - baseline) / baseline, in percent.
    pub change_percent: f64,
    /// Bounds of the change, from the two 95% intervals: the most and least favourable pairings.
    pub change_low_percent: f64,
    pub change_high_percent: f64,
    /// Whether the two 95% intervals overlap; none for instruction counts, which are exact.
    pub intervals_overlap: Option<bool>,
    pub verdict: Verdict,
    /// Which figure decided the verdict.
    pub decided_by: &'static str,
}

/// The whole comparison, as written to `target/stackheap/compare.json`.
#[derive(Clone, Debug, Serialize)]
pub struct CompareReport {
    pub schema: u32,
    pub baseline: String,
    pub threshold_percent: f64,
    /// Threshold of the instruction-count rows, when there are any.
    pub icount_threshold_percent: Option<f64>,
    pub regressed: usize,
    pub improved: usize,
    pub unchanged: usize,
    pub comparisons: Vec<Comparison>,
}

impl CompareReport {
    pub fn any_regression(&self) -> bool {
        self.regressed > 0
    }

    /// Sets the three totals from the rows.
    fn recount(&mut self) {
        let count = |v: Verdict| self.comparisons.iter().filter(|c| c.verdict == v).count();
        (self.regressed, self.improved, self.unchanged) = (
            count(Verdict::Regressed),
            count(Verdict::Improved),
            count(Verdict::Unchanged),
        );
    }
}

/// Pairs each baseline entry with the current entry of the same id, in baseline order. An entry on
/// one side only is bad input, described by `only_in_baseline` / `only_in_current`.
fn pair_by_id<'a, T, K: Ord + std::fmt::Display>(
    base: &'a [T],
    current: &'a [T],
    id: impl Fn(&'a T) -> K,
    only_in_baseline: impl Fn(&K) -> String,
    only_in_current: impl Fn(&K) -> String,
) -> Result<Vec<(&'a T, &'a T)>, InputError> {
    let current_by_id: BTreeMap<K, &T> = current.iter().map(|c| (id(c), c)).collect();
    let pairs = base
        .iter()
        .map(|b| {
            let key = id(b);
            current_by_id
                .get(&key)
                .map(|c| (b, *c))
                .ok_or_else(|| InputError(only_in_baseline(&key)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let base_ids: std::collections::BTreeSet<K> = base.iter().map(&id).collect();
    match current_by_id.keys().find(|c| !base_ids.contains(*c)) {
        Some(only) => Err(InputError(only_in_current(only))),
        None => Ok(pairs),
    }
}

/// Compares one benchmark's baseline and current estimates.
pub fn compare_one(base: &Bench, current: &Bench, threshold_percent: f64) -> Comparison {
    let (b, c) = (&base.median, &current.median);
    let pct = |x: f64| x * 100.0;
    let change = c.point_estimate / b.point_estimate - 1.0;
    let low = c.confidence_interval.lower_bound / b.confidence_interval.upper_bound - 1.0;
    let high = c.confidence_interval.upper_bound / b.confidence_interval.lower_bound - 1.0;
    let overlap = c.confidence_interval.lower_bound <= b.confidence_interval.upper_bound
        && b.confidence_interval.lower_bound <= c.confidence_interval.upper_bound;
    let beyond = pct(change).abs() > threshold_percent;
    let verdict = match (beyond, overlap) {
        (true, false) if change > 0.0 => Verdict::Regressed,
        (true, false) => Verdict::Improved,
        _ => Verdict::Unchanged,
    };
    Comparison {
        id: current.id(),
        unit: "ns",
        baseline: b.point_estimate,
        current: c.point_estimate,
        change_percent: pct(change),
        change_low_percent: pct(low),
        change_high_percent: pct(high),
        intervals_overlap: Some(overlap),
        verdict,
        decided_by: "wall-clock median",
    }
}

/// Compares every benchmark of the latest run (`new`) with `baseline` under `home`; with `filter`,
/// only the benchmarks whose id it matches, on both sides.
pub fn compare(
    home: &Path,
    baseline: &str,
    threshold_percent: f64,
    filter: Option<&regex::Regex>,
) -> Result<CompareReport, InputError> {
    if baseline.is_empty() || baseline.contains('/') || baseline == "new" || baseline == "change" {
        return Err(InputError(format!(
            "'{baseline}' is not a baseline name: expected a name given to --save-baseline"
        )));
    }
    let selected = |b: &Bench| filter.is_none_or(|f| f.is_match(&b.id()));
    let tree = CriterionTree::open(home)?;
    let base: Vec<Bench> = tree
        .benches(baseline)?
        .into_iter()
        .filter(selected)
        .collect();
    if base.is_empty() && filter.is_some() {
        return Err(InputError(format!(
            "no benchmark of baseline '{baseline}' matches the filter '{}': expected at least one",
            filter.map_or("", |f| f.as_str())
        )));
    }
    if base.is_empty() {
        let known = tree
            .names()
            .into_iter()
            .filter(|n| n != "new" && n != "change")
            .collect::<Vec<_>>();
        return Err(InputError(format!(
            "unknown baseline '{baseline}' under {}: expected one saved with `cargo bench -- --save-baseline {baseline}` (found: {})",
            home.display(),
            if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            }
        )));
    }
    let current: Vec<Bench> = tree.benches("new")?.into_iter().filter(selected).collect();
    let comparisons: Vec<Comparison> = pair_by_id(
        &base,
        &current,
        |b| b.key,
        |only| format!("benchmark '{only}' is in baseline '{baseline}' but not in the latest run: expected both (run it, or compare with a filter-free baseline)"),
        |only| format!("benchmark '{only}' is in the latest run but not in baseline '{baseline}': expected both (save the baseline from the same benchmarks, or select with --filter)"),
    )?
    .into_iter()
    .map(|(b, c)| compare_one(b, c, threshold_percent))
    .collect();
    let mut report = CompareReport {
        schema: crate::data::suite_file::SCHEMA,
        baseline: baseline.to_owned(),
        threshold_percent,
        icount_threshold_percent: None,
        regressed: 0,
        improved: 0,
        unchanged: 0,
        comparisons,
    };
    report.recount();
    Ok(report)
}

/// Compares instruction counts: exact figures, so the threshold alone decides. Every baseline entry
/// must have a current one and the reverse.
pub fn compare_icounts(
    base: &[IcountEntry],
    current: &[IcountEntry],
    threshold_percent: f64,
    baseline: &str,
) -> Result<Vec<Comparison>, InputError> {
    let pairs = pair_by_id(
        base,
        current,
        |e| e.id.as_str(),
        |only| {
            format!(
                "instruction count '{only}' is in icount-{baseline}.json but not in the latest icount.json: expected both"
            )
        },
        |only| {
            format!(
                "instruction count '{only}' is in the latest icount.json but not in icount-{baseline}.json: expected both (measure both with the same filter)"
            )
        },
    )?;
    Ok(pairs
        .into_iter()
        .map(|(b, c)| {
            let change = (c.instructions_per_iter / b.instructions_per_iter - 1.0) * 100.0;
            let verdict = match change {
                x if x > threshold_percent => Verdict::Regressed,
                x if x < -threshold_percent => Verdict::Improved,
                _ => Verdict::Unchanged,
            };
            Comparison {
                id: b.id.clone(),
                unit: "instructions",
                baseline: b.instructions_per_iter,
                current: c.instructions_per_iter,
                change_percent: change,
                change_low_percent: change,
                change_high_percent: change,
                intervals_overlap: None,
                verdict,
                decided_by: "instructions (callgrind)",
            }
        })
        .collect())
}

/// Compares `icount.json` with `icount-<baseline>.json` in `suite`, restricted to `filter`: `None`
/// when no instruction counts were saved for that baseline; bad input when they were but the
/// current counts are missing or differ in which workloads they hold.
pub fn compare_icount_files(
    suite: &Path,
    baseline: &str,
    threshold_percent: f64,
    filter: Option<&regex::Regex>,
) -> Result<Option<Vec<Comparison>>, InputError> {
    let base_name = format!("icount-{baseline}");
    let Some(base) = load_suite_file::<IcountEntry>(suite, &base_name)? else {
        return Ok(None);
    };
    let current = load_suite_file::<IcountEntry>(suite, "icount")?.ok_or_else(|| {
        InputError(format!(
            "{}: missing: expected current instruction counts to compare with {base_name}.json (run stackheap-icount measure)",
            suite.join("icount.json").display()
        ))
    })?;
    if base.entries.is_empty() {
        return Err(InputError(format!(
            "{}: holds no instruction counts: expected at least one (measure again without a --filter that matches nothing)",
            suite.join(format!("{base_name}.json")).display()
        )));
    }
    let selected = |e: &IcountEntry| filter.is_none_or(|f| f.is_match(&e.id));
    let base: Vec<_> = base.entries.into_iter().filter(selected).collect();
    let current: Vec<_> = current.entries.into_iter().filter(selected).collect();
    compare_icounts(&base, &current, threshold_percent, baseline).map(Some)
}

/// Adds instruction-count rows to a wall-clock report and recounts the verdicts.
pub fn with_icounts(
    mut report: CompareReport,
    rows: Vec<Comparison>,
    icount_threshold: f64,
) -> CompareReport {
    report.comparisons.extend(rows);
    report.icount_threshold_percent = Some(icount_threshold);
    report.recount();
    report
}
