//! Reading results back: Criterion's `benchmark.json`/`estimates.json` (a private, unstable format,
//! so parsed into strict types and rejected by path when the shape differs) and the suite's own
//! versioned `target/stackheap/*.json`.

use crate::data::id::{BenchId, Family};
use crate::data::suite_file::{SCHEMA, SuiteFile};
use crate::workload::allocators::AllocatorKind;
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub use crate::error::InputError;

fn input_error(msg: impl Into<String>) -> InputError {
    InputError(msg.into())
}

/// Where Criterion writes: `CRITERION_HOME`, else `<target dir>/criterion`.
pub fn criterion_home() -> PathBuf {
    std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::data::suite_file::target_dir().join("criterion"))
}

/// Criterion's `benchmark.json`, as written by Criterion 0.8.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchmarkJson {
    pub group_id: String,
    pub function_id: Option<String>,
    pub value_str: Option<String>,
    pub throughput: Option<Throughput>,
    pub full_id: String,
    pub directory_name: String,
    pub title: String,
}

/// Criterion's throughput annotation.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, serde::Serialize, schemars::JsonSchema)]
pub enum Throughput {
    Bits(u64),
    Bytes(u64),
    BytesDecimal(u64),
    Elements(u64),
    ElementsAndBytes { elements: u64, bytes: u64 },
}

impl Throughput {
    /// (amount per iteration, unit): `bytes` or `elements`.
    pub fn per_iteration(self) -> (u64, &'static str) {
        match self {
            Self::Bits(b) => (b, "bits"),
            Self::Bytes(b) | Self::BytesDecimal(b) => (b, "bytes"),
            Self::Elements(e) | Self::ElementsAndBytes { elements: e, .. } => (e, "elements"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConfidenceInterval {
    pub confidence_level: f64,
    pub lower_bound: f64,
    pub upper_bound: f64,
}

/// One statistic in ns: point estimate and bootstrap confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Estimate {
    pub confidence_interval: ConfidenceInterval,
    pub point_estimate: f64,
    pub standard_error: f64,
}

/// Criterion's `estimates.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Estimates {
    pub mean: Estimate,
    pub median: Estimate,
    pub median_abs_dev: Estimate,
    pub slope: Option<Estimate>,
    pub std_dev: Estimate,
}

/// One benchmark's result in one run (`new`) or baseline.
#[derive(Debug, Clone)]
pub struct Bench {
    /// The id, typed: the key of every lookup (written as text by its `Display`).
    pub key: BenchId,
    /// Which run wrote this result: a digest of its `estimates.json` bytes. Criterion copies a run's
    /// `new` result byte for byte into the baseline it saves, so equal digests are the same run.
    pub run: u64,
    pub throughput: Option<Throughput>,
    /// The suite's figure, in ns per iteration. For one Criterion run, Criterion's median with its
    /// interval. After a repeated run, each process contributes the first quartile of its
    /// [`Bench::samples`] and the figure is their median with an interval across processes
    /// (`analysis::aggregate`, which says why).
    pub time: Estimate,
    /// Criterion's median, aggregated across processes like the figure; in `results.json`.
    pub median: Estimate,
    /// Criterion's mean, aggregated the same way; in `results.json`.
    pub mean: Estimate,
    /// This run's per-iteration sample times in ns (`sample.json`: each sample's time over its
    /// iterations), when Criterion wrote them.
    pub samples: Option<Vec<f64>>,
    /// How many processes the figure aggregates (1: one Criterion run).
    pub processes: usize,
}

impl Bench {
    fn new(
        key: BenchId,
        meta: BenchmarkJson,
        estimates: Estimates,
        samples: Option<Vec<f64>>,
        run: u64,
    ) -> Bench {
        Bench {
            key,
            run,
            throughput: meta.throughput,
            time: estimates.median,
            mean: estimates.mean,
            median: estimates.median,
            samples,
            processes: 1,
        }
    }

    /// `stack_vs_heap`, `contention`, ...
    pub fn family(&self) -> Family {
        self.key.family()
    }

    /// `stack_vs_heap/heap_box/...` -> `heap_box`; `contention/larson/...` -> `larson`.
    pub fn variant(&self) -> &'static str {
        self.key.variant()
    }

    pub fn allocator(&self) -> Option<AllocatorKind> {
        self.key.allocator()
    }

    pub fn threads(&self) -> Option<usize> {
        self.key.threads()
    }

    pub fn size_bytes(&self) -> Option<u64> {
        self.key.bytes()
    }

    /// A benchmark with the given mean, a confidence interval of +-`half_width` ns and, for
    /// throughput benchmarks, the elements per iteration: hand-made input for the analysis's tests.
    #[cfg(test)]
    pub fn synthetic(id: &str, mean_ns: f64, half_width: f64, elements: Option<u64>) -> Bench {
        let estimate = Estimate {
            confidence_interval: ConfidenceInterval {
                confidence_level: 0.95,
                lower_bound: mean_ns - half_width,
                upper_bound: mean_ns + half_width,
            },
            point_estimate: mean_ns,
            standard_error: half_width / 2.0,
        };
        let parts: Vec<&str> = id.split('/').collect();
        Bench::new(
            id.parse().expect("a synthetic bench needs a real id"),
            BenchmarkJson {
                group_id: parts[..parts.len() - 1].join("/"),
                function_id: None,
                value_str: parts.last().map(|p| p.to_string()),
                throughput: elements.map(Throughput::Elements),
                full_id: id.into(),
                directory_name: id.into(),
                title: id.into(),
            },
            Estimates {
                mean: estimate,
                median: estimate,
                median_abs_dev: estimate,
                slope: None,
                std_dev: estimate,
            },
            None,
            0,
        )
    }

    /// The id as text (`stack_vs_heap/heap_box/system/0000064`).
    pub fn id(&self) -> String {
        self.key.to_string()
    }

    /// Throughput per second at the figure's time, with its unit (`elements/s`, `bytes/s`).
    pub fn per_second(&self) -> Option<(f64, &'static str)> {
        let (amount, unit) = self.throughput?.per_iteration();
        Some((amount as f64 / (self.time.point_estimate * 1e-9), unit))
    }
}

/// A digest of `path`'s bytes: tells runs apart without comparing their figures.
fn digest(path: &Path) -> Result<u64, InputError> {
    use std::hash::{Hash, Hasher};
    let bytes = std::fs::read(path)
        .map_err(|e| input_error(format!("{}: cannot read: {e}", path.display())))?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    Ok(hasher.finish())
}

/// What to add when a Criterion file does not parse.
const CRITERION_HINT: &str =
    "; was it written by another Criterion version? stackheap reads Criterion 0.8";

/// Reads `path` as a `T`; on failure one line naming the path, what was `expected`, the parser's
/// complaint and `hint`.
fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    expected: &str,
    hint: &str,
) -> Result<T, InputError> {
    // A FIFO or a device in place of a result file would block the read or never end.
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => {
            return Err(input_error(format!(
                "{}: not a regular file: expected {expected}",
                path.display()
            )));
        }
        _ => {}
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        input_error(format!(
            "{}: cannot read ({e}): expected {expected}",
            path.display()
        ))
    })?;
    serde_json::from_str(&text)
        .map_err(|e| input_error(format!("{}: not {expected} ({e}){hint}", path.display())))
}

/// The result directories of one Criterion results tree, found in one walk: a caller that reads
/// several runs or baselines (the latest run and a baseline; every process of a repeated run) walks
/// the tree once.
pub struct CriterionTree {
    dirs: Vec<PathBuf>,
}

impl CriterionTree {
    /// Walks `home`; an error when it is not a directory.
    pub fn open(home: &Path) -> Result<CriterionTree, InputError> {
        if !home.is_dir() {
            return Err(input_error(format!(
                "{}: no Criterion results directory: expected a run first (scripts/run or cargo bench)",
                home.display()
            )));
        }
        Ok(CriterionTree {
            dirs: result_dirs(home)?,
        })
    }

    /// Every benchmark of the suite that has a `<which>/` result (`new` for the latest run, or a
    /// baseline name), sorted by id; other benches' groups are skipped. Errors on a file of another
    /// shape.
    pub fn benches(&self, which: &str) -> Result<Vec<Bench>, InputError> {
        let mut benches = Vec::new();
        for dir in self.dirs.iter().filter(|d| d.ends_with(which)) {
            let meta: BenchmarkJson = read_json(
                &dir.join("benchmark.json"),
                "a Criterion benchmark.json (group_id, function_id, value_str, throughput, full_id, directory_name, title)",
                CRITERION_HINT,
            )?;
            // Criterion's directory is shared by every bench of a crate (a user's own Criterion
            // groups beside the questions `stackheap::main!` asks): a group none of the suite's
            // families names is not the suite's, and is left alone. A group that is, but holds an
            // id the suite does not know, is refused below.
            let family = meta.group_id.split('/').next().unwrap_or_default();
            if crate::data::id::Family::from_name(family).is_none() {
                continue;
            }
            let estimates: Estimates = read_json(
                &dir.join("estimates.json"),
                "a Criterion estimates.json (mean, median, median_abs_dev, slope, std_dev, each with point_estimate and confidence_interval)",
                CRITERION_HINT,
            )?;
            check_estimates(&dir.join("estimates.json"), &estimates)?;
            let samples = read_samples(&dir.join("sample.json"))?;
            let key = meta.full_id.parse::<BenchId>().map_err(|e| {
                // The likeliest cause: a row of an earlier run with an allocator this run's files
                // do not record (a library named then), left in the same Criterion directory.
                input_error(format!(
                    "{}: {e}; if it is an earlier run's row (an allocator this run did not name), remove that run's results or run scripts/run, which starts from a clean tree",
                    dir.join("benchmark.json").display()
                ))
            })?;
            let run = digest(&dir.join("estimates.json"))?;
            benches.push((dir, Bench::new(key, meta, estimates, samples, run)));
        }
        benches.sort_by_key(|(_, b)| b.key);
        // Two directories claiming one id: whichever were read would silently hide the other.
        if let Some(pair) = benches.windows(2).find(|w| w[0].1.key == w[1].1.key) {
            return Err(input_error(format!(
                "{} and {}: both hold benchmark '{}': expected each benchmark id once",
                pair[0].0.display(),
                pair[1].0.display(),
                pair[0].1.key
            )));
        }
        Ok(benches.into_iter().map(|(_, b)| b).collect())
    }

    /// Names of the runs and baselines in the tree (`new`, `base`, saved names, ...).
    pub fn names(&self) -> Vec<String> {
        let names: std::collections::BTreeSet<String> = self
            .dirs
            .iter()
            .filter_map(|d| Some(d.file_name()?.to_string_lossy().into_owned()))
            .collect();
        names.into_iter().collect()
    }

    /// The process baselines of a repeated run (`p1`, `p2`, ...), in process order.
    pub fn process_names(&self) -> Vec<String> {
        let mut numbered: Vec<(u32, String)> = self
            .names()
            .into_iter()
            .filter_map(|name| {
                let k = name.strip_prefix(PROCESS_BASELINE_PREFIX)?.parse().ok()?;
                Some((k, name))
            })
            .collect();
        numbered.sort();
        numbered.into_iter().map(|(_, name)| name).collect()
    }
}

/// Every benchmark under `home` that has a `<which>/` result (`new` for the latest run, or a baseline
/// name), sorted by id. Errors on a missing directory, a file of another shape, or no result at all.
pub fn load_benches(home: &Path, which: &str) -> Result<Vec<Bench>, InputError> {
    CriterionTree::open(home)?.benches(which)
}

/// The prefix of the Criterion baselines a repeated run saves, one per process: `p1`, `p2`, ...
pub const PROCESS_BASELINE_PREFIX: &str = "p";

/// Criterion's `sample.json`: the iterations and the total time of each sample.
#[derive(Debug, Clone, Deserialize)]
pub struct SampleJson {
    pub sampling_mode: String,
    pub iters: Vec<f64>,
    pub times: Vec<f64>,
}

/// The per-iteration times in `path` (a Criterion `sample.json`); `None` when the file is absent
/// (results trimmed of their samples). Samples that make no sense (none, lengths that differ,
/// non-positive iterations, negative or non-finite times) are an error naming the file.
fn read_samples(path: &Path) -> Result<Option<Vec<f64>>, InputError> {
    if !path.exists() {
        return Ok(None);
    }
    let sample: SampleJson = read_json(
        path,
        "a Criterion sample.json (sampling_mode, iters, times)",
        CRITERION_HINT,
    )?;
    let valid = !sample.iters.is_empty()
        && sample.iters.len() == sample.times.len()
        && sample.iters.iter().all(|i| i.is_finite() && *i > 0.0)
        && sample.times.iter().all(|t| t.is_finite() && *t >= 0.0)
        && sample
            .times
            .iter()
            .zip(&sample.iters)
            .all(|(t, i)| t / i <= MAX_TIME_NS);
    if !valid {
        return Err(input_error(format!(
            "{}: expected as many times as iteration counts, at least one, positive counts and finite, non-negative times of at most 1e12 ns per iteration",
            path.display()
        )));
    }
    Ok(Some(
        sample
            .times
            .iter()
            .zip(&sample.iters)
            .map(|(t, i)| t / i)
            .collect(),
    ))
}

/// The longest time per iteration a result may report, in ns: 1,000 s, longer than a whole default
/// run of the suite, where its slowest benchmark (a walk over 64 MiB of scattered nodes) takes tens
/// of milliseconds per iteration. A larger figure is a damaged file, not a measurement.
pub const MAX_TIME_NS: f64 = 1e12;

/// The figures of `estimates.json` the suite uses (mean and median) must be positive, finite times
/// no longer than [`MAX_TIME_NS`], with intervals whose low end is not above their high end: anything
/// else is a damaged file, and a verdict computed from it ("+inf%") would be nonsense.
fn check_estimates(path: &Path, estimates: &Estimates) -> Result<(), InputError> {
    for (name, e) in [("mean", &estimates.mean), ("median", &estimates.median)] {
        let ci = &e.confidence_interval;
        let problem = if !(e.point_estimate.is_finite() && e.point_estimate > 0.0) {
            "point_estimate must be a positive, finite time"
        } else if !(ci.lower_bound.is_finite() && ci.upper_bound.is_finite()) {
            "confidence_interval bounds must be finite"
        } else if e.point_estimate > MAX_TIME_NS || ci.upper_bound > MAX_TIME_NS {
            "times must be at most 1e12 ns (1,000 s) per iteration"
        } else if ci.lower_bound > ci.upper_bound {
            "confidence_interval lower_bound is above upper_bound"
        } else {
            continue;
        };
        return Err(input_error(format!(
            "{}: {name}: {problem} (got {}, [{}, {}])",
            path.display(),
            e.point_estimate,
            ci.lower_bound,
            ci.upper_bound
        )));
    }
    Ok(())
}

/// Every directory under `home` that holds one benchmark's result (a `benchmark.json` or an
/// `estimates.json`: a result missing one of them is then reported by path), outside Criterion's
/// `report/`. A directory that cannot be read is an error (skipping it would drop its results
/// without a word), and so is a directory reached twice through symbolic links (a loop would
/// multiply every row under it).
fn result_dirs(home: &Path) -> Result<Vec<PathBuf>, InputError> {
    let mut found = Vec::new();
    let mut visited = std::collections::BTreeSet::new();
    let mut stack = vec![home.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let real = std::fs::canonicalize(&dir).map_err(|e| {
            input_error(format!(
                "{}: cannot resolve ({e}): expected a readable Criterion results directory",
                dir.display()
            ))
        })?;
        if !visited.insert(real.clone()) {
            return Err(input_error(format!(
                "{}: leads to {} a second time (a symbolic link loop or a second link): expected each results directory once",
                dir.display(),
                real.display()
            )));
        }
        let entries = std::fs::read_dir(&dir).map_err(|e| {
            input_error(format!(
                "{}: cannot read ({e}): expected a readable Criterion results directory",
                dir.display()
            ))
        })?;
        for entry in entries {
            let path = entry
                .map_err(|e| input_error(format!("{}: cannot list ({e})", dir.display())))?
                .path();
            if !path.is_dir() || path.file_name().is_some_and(|n| n == "report") {
                continue;
            }
            if path.join("benchmark.json").exists() || path.join("estimates.json").exists() {
                found.push(path);
            } else {
                stack.push(path);
            }
        }
    }
    Ok(found)
}

/// A row of one of the suite's result files, as the reader checks it.
pub trait SuiteEntry {
    /// The entry's name in an error line; two entries of one file never share it.
    fn key(&self) -> String;
    /// What makes no sense in this entry (a zero divisor, a negative or infinite figure), if
    /// anything.
    fn problem(&self) -> Option<String>;
}

/// The first entry that makes no sense, or the first key that appears twice (one copy would
/// silently win), as one line naming the file and the entry.
pub fn check_entries<E: SuiteEntry>(path: &Path, entries: &[E]) -> Result<(), InputError> {
    let mut seen = std::collections::BTreeSet::new();
    for entry in entries {
        let key = entry.key();
        if let Some(problem) = entry.problem() {
            return Err(input_error(format!(
                "{}: entry {key}: {problem}",
                path.display()
            )));
        }
        if !seen.insert(key.clone()) {
            return Err(input_error(format!(
                "{}: entry {key} appears twice: expected each entry once",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Reads `<dir>/<name>.json` if it exists: `Ok(None)` when absent, an error when present but not a
/// schema-1 stackheap file of that kind, or when an entry makes no sense or appears twice.
pub fn load_suite_file<E: serde::de::DeserializeOwned + SuiteEntry>(
    dir: &Path,
    name: &str,
) -> Result<Option<SuiteFile<E>>, InputError> {
    let path = dir.join(format!("{name}.json"));
    if !path.exists() {
        return Ok(None);
    }
    let file: SuiteFile<E> = read_json(
        &path,
        &format!("a stackheap {name} file (schema, kind, machine, entries)"),
        "",
    )?;
    if file.schema != SCHEMA || file.kind != name {
        return Err(input_error(format!(
            "{}: schema {} kind '{}', expected schema {} kind '{name}'",
            path.display(),
            file.schema,
            file.kind,
            SCHEMA
        )));
    }
    check_entries(&path, &file.entries)?;
    Ok(Some(file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_baselines_are_found_in_numeric_order() {
        let dir = std::env::temp_dir().join(format!("stackheap-proc-{}", std::process::id()));
        for name in ["new", "p10", "p2", "p1", "base", "px"] {
            let d = dir.join("g/a").join(name);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("benchmark.json"), "{}").unwrap();
        }
        assert_eq!(
            CriterionTree::open(&dir).unwrap().process_names(),
            ["p1", "p2", "p10"]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
