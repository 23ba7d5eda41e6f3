//! Where the suite writes its own results (`target/stackheap/`), how it writes them (versioned JSON,
//! written to a temporary file and renamed so that a failure never leaves half a file), and in which
//! mode a bench binary was started.

use crate::data::machine::Machine;
use crate::data::suite_file::{SCHEMA, SuiteFile, results_dir};
use crate::error::InputError;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `entries` as `target/stackheap/<name>.json` and returns the path.
pub fn write_results<E: Serialize + Clone>(name: &str, entries: &[E]) -> std::io::Result<PathBuf> {
    write_suite_file(&SuiteFile {
        schema: SCHEMA,
        kind: name.to_owned(),
        machine: Machine::current(),
        entries: entries.to_vec(),
    })
}

/// Writes `file` as `target/stackheap/<kind>.json`, atomically; returns the path.
pub fn write_suite_file<E: Serialize>(file: &SuiteFile<E>) -> std::io::Result<PathBuf> {
    let path = results_dir().join(format!("{}.json", file.kind));
    let json = serde_json::to_vec_pretty(file).map_err(std::io::Error::other)?;
    write_atomically(&path, &json)?;
    Ok(path)
}

/// Writes `bytes` as `dir/<stem>.<ext>`, or `<stem>-2.<ext>`, `<stem>-3.<ext>`, ... when that name is
/// taken: a recorded file is never replaced. Returns the path, or one line naming what failed.
pub fn write_new(dir: &Path, stem: &str, ext: &str, bytes: &[u8]) -> Result<PathBuf, String> {
    // Written whole beside the target first, then linked in under a name no file has: a reader
    // never sees half a file, and no earlier file is replaced (a link fails on an existing name).
    let staged = dir.join(format!(".{stem}.{}.tmp", std::process::id()));
    write_atomically(&staged, bytes)
        .map_err(|e| format!("{}: cannot write ({e})", staged.display()))?;
    let linked = (1..1000)
        .map(|n| match n {
            1 => dir.join(format!("{stem}.{ext}")),
            n => dir.join(format!("{stem}-{n}.{ext}")),
        })
        .find_map(|path| match std::fs::hard_link(&staged, &path) {
            Ok(()) => Some(Ok(path)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => None,
            Err(e) => Some(Err(format!("{}: cannot create ({e})", path.display()))),
        });
    let _ = std::fs::remove_file(&staged);
    linked.unwrap_or_else(|| {
        Err(format!(
            "{}: 999 files named {stem} already: expected fewer",
            dir.display()
        ))
    })
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`: readers see the old
/// file or the new one, never a half-written one, and a failure leaves the old file in place.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let file_name = path
        .file_name()
        .map_or("out".into(), |n| n.to_string_lossy());
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    remove_stale_temporaries(dir, "tmp");
    result
}

/// Removes `.<name>.<pid>.<suffix>` entries in `dir` left by processes that no longer run (a
/// killed run's temporary files and staging directories); those of live processes are theirs.
pub fn remove_stale_temporaries(dir: &Path, suffix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.flatten().map(|e| e.path()) {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let pid = name
            .strip_prefix('.')
            .and_then(|n| n.strip_suffix(suffix))
            .and_then(|n| n.strip_suffix('.'))
            .and_then(|n| n.rsplit_once('.'))
            .and_then(|(_, pid)| pid.parse::<u32>().ok());
        if let Some(pid) = pid
            && pid != std::process::id()
            && !crate::platform::process_is_alive(pid)
        {
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}

/// Publishes `files` (name, bytes) as the whole content of directory `dir`: written into a fresh
/// staging directory beside it, then swapped in with one atomic exchange (`renameat2`
/// `RENAME_EXCHANGE`), so a reader sees the old set or the new set, never a mix, and a failure at
/// any point leaves the old set as it was. Refuses a `dir` holding anything but files of these
/// names (the swap would throw the rest away).
pub fn publish_dir(dir: &Path, files: &[(&str, Vec<u8>)]) -> std::io::Result<Vec<PathBuf>> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| std::io::Error::other("expected a directory name"))?;
    if dir.exists() {
        if !dir.is_dir() {
            return Err(std::io::Error::other("not a directory"));
        }
        for entry in std::fs::read_dir(dir)? {
            let entry_name = entry?.file_name();
            if !files.iter().any(|(f, _)| entry_name == *f) {
                return Err(std::io::Error::other(format!(
                    "holds '{}', which is not part of a report: expected a directory that holds only a report",
                    entry_name.to_string_lossy()
                )));
            }
        }
    }
    std::fs::create_dir_all(parent)?;
    remove_stale_temporaries(parent, "new");
    let staging = parent.join(format!(".{name}.{}.new", std::process::id()));
    let result = (|| {
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir(&staging)?;
        for (file, bytes) in files {
            let mut f = std::fs::File::create(staging.join(file))?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        if dir.exists() {
            crate::platform::exchange_paths(&staging, dir)
        } else {
            std::fs::rename(&staging, dir)
        }
    })();
    // After an exchange the staging name holds the old set; after a failure, the partial new one.
    let _ = std::fs::remove_dir_all(&staging);
    result?;
    Ok(files.iter().map(|(f, _)| dir.join(f)).collect())
}

/// How a Criterion bench binary was started, decided from its arguments the way Criterion decides:
/// `cargo bench` passes `--bench`; `cargo test` does not (or passes `--test`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BenchMode {
    /// Full measurement (`cargo bench`).
    Bench,
    /// Each benchmark runs once to check it works (`cargo test`, `cargo bench -- --test`).
    Test,
    /// Only names are printed (`--list`).
    List,
}

impl BenchMode {
    pub fn from_args<S: AsRef<str>>(args: &[S]) -> BenchMode {
        let has = |flag: &str| args.iter().any(|a| a.as_ref() == flag);
        if has("--list") {
            BenchMode::List
        } else if !has("--bench") || has("--test") {
            BenchMode::Test
        } else {
            BenchMode::Bench
        }
    }

    pub fn current() -> BenchMode {
        Self::from_args(&std::env::args().collect::<Vec<_>>())
    }
}

/// Criterion flags that take a value (the value is not a benchmark filter).
const VALUE_FLAGS: [&str; 19] = [
    "--color",
    "-c",
    "--save-baseline",
    "-s",
    "--baseline",
    "-b",
    "--baseline-lenient",
    "--format",
    "--profile-time",
    "--load-baseline",
    "--sample-size",
    "--warm-up-time",
    "--measurement-time",
    "--nresamples",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--plotting-backend",
    "--output-format",
];

/// The benchmark filter a bench binary was given, read the way Criterion reads it, so that work done
/// outside Criterion (overflow probes, memory runs) follows the same filter as the timed benchmarks.
#[derive(Clone, Debug)]
pub enum BenchFilter {
    All,
    Regex(regex::Regex),
    Exact(String),
    Nothing,
}

impl BenchFilter {
    pub fn from_args<S: AsRef<str>>(args: &[S]) -> Result<BenchFilter, String> {
        let mut positional = None;
        let mut exact = false;
        let mut ignored = false;
        let mut skip_value = false;
        for arg in args.iter().skip(1).map(AsRef::as_ref) {
            if skip_value {
                skip_value = false;
            } else if arg == "--exact" {
                exact = true;
            } else if arg == "--ignored" {
                ignored = true;
            } else if VALUE_FLAGS.contains(&arg) {
                skip_value = true;
            } else if !arg.starts_with('-') && positional.is_none() {
                positional = Some(arg.to_owned());
            }
        }
        Ok(match positional {
            _ if ignored => BenchFilter::Nothing,
            None => BenchFilter::All,
            Some(text) if exact => BenchFilter::Exact(text),
            Some(text) => BenchFilter::Regex(crate::config::parse_filter("filter", &text)?),
        })
    }

    /// The filter of the running binary; a bad regex is one line naming it.
    pub fn from_env() -> Result<BenchFilter, InputError> {
        Self::from_args(&std::env::args().collect::<Vec<_>>()).map_err(InputError)
    }

    pub fn selects(&self, id: &str) -> bool {
        match self {
            BenchFilter::All => true,
            BenchFilter::Regex(re) => re.is_match(id),
            BenchFilter::Exact(exact) => exact == id,
            BenchFilter::Nothing => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("stackheap-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        root
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_report_set_is_published_whole_or_not_at_all() {
        let root = scratch("publish");
        let out = root.join("report");
        publish_dir(&out, &[("a", b"old a".to_vec()), ("b", b"old b".to_vec())]).unwrap();
        publish_dir(&out, &[("a", b"new a".to_vec()), ("b", b"new b".to_vec())]).unwrap();
        assert_eq!(std::fs::read(out.join("b")).unwrap(), b"new b");
        // The second file cannot be written: the old set stays as it was, nothing is left over.
        let err = publish_dir(
            &out,
            &[("a", b"newer a".to_vec()), ("no-such-dir/b", b"x".to_vec())],
        );
        assert!(err.is_err());
        assert_eq!(std::fs::read(out.join("a")).unwrap(), b"new a");
        assert_eq!(names_in(&root), ["report"]);
        // A directory holding something else is not swapped away.
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        let err = publish_dir(&out, &[("a", vec![]), ("b", vec![])]).unwrap_err();
        assert!(err.to_string().contains("holds 'notes.txt'"), "{err}");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn temporaries_of_dead_processes_are_cleaned_and_live_ones_kept() {
        let root = scratch("stale");
        let dead = format!(".results.json.{}.tmp", u32::MAX - 1);
        let live = format!(".depth.json.{}.tmp", std::process::id());
        std::fs::write(root.join(&dead), "").unwrap();
        std::fs::write(root.join(&live), "").unwrap();
        std::fs::create_dir(root.join(format!(".report.{}.new", u32::MAX - 1))).unwrap();
        write_atomically(&root.join("x.json"), b"{}").unwrap();
        assert_eq!(
            names_in(&root),
            [
                live.clone(),
                format!(".report.{}.new", u32::MAX - 1),
                "x.json".into()
            ]
        );
        publish_dir(&root.join("report"), &[("a", vec![])]).unwrap();
        assert_eq!(names_in(&root), [live, "report".into(), "x.json".into()]);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn bench_mode_follows_criterion_rules() {
        assert_eq!(BenchMode::from_args(&["x", "--bench"]), BenchMode::Bench);
        assert_eq!(
            BenchMode::from_args(&["x", "--bench", "--quick"]),
            BenchMode::Bench
        );
        assert_eq!(BenchMode::from_args(&["x"]), BenchMode::Test);
        assert_eq!(
            BenchMode::from_args(&["x", "--bench", "--test"]),
            BenchMode::Test
        );
        assert_eq!(
            BenchMode::from_args(&["x", "--bench", "--list"]),
            BenchMode::List
        );
    }

    #[test]
    fn filter_is_the_first_positional_argument_that_is_not_a_flag_value() {
        let f =
            BenchFilter::from_args(&["x", "--bench", "--save-baseline", "main", "depth"]).unwrap();
        assert!(f.selects("stack_depth/overflow") && !f.selects("contention/larson"));
        let f = BenchFilter::from_args(&["x", "--bench", "--quick", "--noplot"]).unwrap();
        assert!(f.selects("anything"));
        let f = BenchFilter::from_args(&["x", "--exact", "a/b"]).unwrap();
        assert!(f.selects("a/b") && !f.selects("a/bc"));
        assert!(
            !BenchFilter::from_args(&["x", "--ignored"])
                .unwrap()
                .selects("a")
        );
        let err = BenchFilter::from_args(&["x", "("]).unwrap_err();
        assert!(err.starts_with("filter '(' is not a regular expression"));
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("stackheap-out-{}", std::process::id()));
        let path = dir.join("x.json");
        write_atomically(&path, b"old").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
