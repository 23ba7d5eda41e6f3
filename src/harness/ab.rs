//! The paired A/B gate's processes: two builds of the suite (a baseline commit and a candidate),
//! each bench executable started as one short process that measures the selected rows and reports
//! each row's mean. The rounds and verdicts are `analysis::gate`.

use crate::data::id::IdSet;
use crate::data::results::{InputError, load_benches};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

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

/// Runs the executables of `build` that `active` marks, each once with `filter`, its results in
/// `dir/<index>`; returns, per executable, the mean of every benchmark it measured, by id (empty for
/// one not run or one that measured nothing).
pub fn run_build(
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
        let ended = crate::harness::child::run(command, PROCESS_TIMEOUT)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::id::exact_filter;

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
}
