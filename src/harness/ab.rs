//! The paired A/B gate's processes: each side of a comparison (a build, a toolchain's build, or one
//! build under an environment) runs as a long-lived `stackheap-worker` process that the supervisor
//! asks for one sample at a time, so that the two halves of a pair are taken milliseconds apart.
//! The order, the rounds and the verdicts are `analysis::gate`; the worker is `harness::worker`.

use crate::data::id::IdSet;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

/// The benchmarks the gate covers, as a filter: the single-threaded stack and heap rows at three
/// sizes, and four contention workloads at 1 and 2 threads ([`IdSet::Gate`]).
pub fn default_filter() -> String {
    IdSet::Gate.filter()
}

/// A sample takes milliseconds and a calibration well under a second; a worker silent for this
/// long is stuck (it is killed, with whatever it started, and the comparison ends as bad input).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// One side of a comparison: a name, its worker executable, its arguments and the environment it
/// runs under (added to the supervisor's own; a variable with an empty name is removed instead).
#[derive(Clone, Debug)]
pub struct Side {
    pub label: String,
    pub worker: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// A running worker. Dropping it ends the process (and whatever it started).
pub struct Worker {
    child: Child,
    stdin: ChildStdin,
    /// The worker's stdout, one line per message, read by a thread that blocks on the pipe: the
    /// supervisor waits on this channel, blocked, never polling, while the worker measures.
    lines: Receiver<std::io::Result<String>>,
    label: String,
    log: PathBuf,
}

impl Worker {
    /// Starts `side`'s worker, its stderr appended to `log`, and waits for its `ready` line.
    pub fn start(side: &Side, log: PathBuf) -> Result<Worker, String> {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| format!("{}: cannot open ({e})", log.display()))?;
        let mut command = Command::new(&side.worker);
        command
            .args(&side.args)
            .envs(side.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr);
        crate::harness::child::harden(&mut command);
        let mut child = command.spawn().map_err(|e| {
            format!(
                "{} ({}): cannot start ({e})",
                side.worker.display(),
                side.label
            )
        })?;
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        let mut worker = Worker {
            child,
            stdin,
            lines,
            label: side.label.clone(),
            log,
        };
        // A libtest binary serving as a worker (the tests of `own`) writes "running 1 test" and a
        // blank line first.
        let mut hello = worker.next_line("start")?;
        while hello.is_empty() || hello.starts_with("running ") {
            hello = worker.next_line("start")?;
        }
        let expected = format!("ready {}", crate::harness::worker::PROTOCOL);
        if hello != expected {
            return Err(format!(
                "{} ({}): said '{hello}', expected '{expected}' (a stackheap-worker of the same protocol)",
                side.worker.display(),
                side.label
            ));
        }
        Ok(worker)
    }

    /// The next line the worker writes, waiting at most [`ANSWER_TIMEOUT`].
    fn next_line(&mut self, waiting_for: &str) -> Result<String, String> {
        match self.lines.recv_timeout(ANSWER_TIMEOUT) {
            Ok(Ok(line)) => Ok(line),
            Ok(Err(e)) => Err(format!("worker {}: cannot read ({e})", self.label)),
            Err(RecvTimeoutError::Timeout) => Err(format!(
                "worker {} gave no answer to '{waiting_for}' within {} s and was killed (see {})",
                self.label,
                ANSWER_TIMEOUT.as_secs(),
                self.log.display()
            )),
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.child.wait().map(|s| s.to_string());
                Err(format!(
                    "worker {} ended during '{waiting_for}' ({}): see {}",
                    self.label,
                    status.unwrap_or_else(|e| e.to_string()),
                    self.log.display()
                ))
            }
        }
    }

    /// The evidence, from a `stackheap-worker`, that its `malloc` is `kind`'s (its `prove` request;
    /// for a library named at run time, the loader's account), or why not.
    pub fn prove_allocator(
        &mut self,
        kind: crate::workload::allocators::AllocatorKind,
    ) -> Result<String, String> {
        self.ask(&format!("prove {kind} 1"))
    }

    /// Sends one request and returns what its `ok` answer says.
    pub fn ask(&mut self, line: &str) -> Result<String, String> {
        writeln!(self.stdin, "{line}")
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("worker {}: cannot write ({e})", self.label))?;
        let answer = self.next_line(line)?;
        if let Some(why) = answer.strip_prefix("error ") {
            return Err(format!("worker {} refused '{line}': {why}", self.label));
        }
        answer
            .strip_prefix("ok ")
            .map(str::to_owned)
            .ok_or_else(|| {
                format!(
                    "worker {} answered '{answer}' to '{line}', expected 'ok ...'",
                    self.label
                )
            })
    }

    /// Sends one request and returns the number its `ok` answer holds.
    fn request(&mut self, line: &str) -> Result<u64, String> {
        let answer = self.ask(line)?;
        answer.parse().map_err(|_| {
            format!(
                "worker {} answered 'ok {answer}' to '{line}', expected 'ok <number>'",
                self.label
            )
        })
    }

    /// The time `iterations` of row `id` took, in ns.
    pub fn sample(&mut self, id: &str, iterations: u64) -> Result<f64, String> {
        self.request(&format!("sample {id} {iterations}"))
            .map(|ns| ns as f64)
    }

    /// Lets the worker run only on `cpus` (and the threads it starts from now on).
    pub fn run_on(&self, cpus: &[usize]) -> Result<(), String> {
        crate::platform::set_cpus(self.child.id(), cpus).map_err(|e| {
            format!(
                "worker {}: cannot set its CPUs to {cpus:?} ({e})",
                self.label
            )
        })
    }

    /// How many iterations of row `id` take at least `target`.
    pub fn calibrate(&mut self, id: &str, target: Duration) -> Result<u64, String> {
        self.request(&format!("calibrate {id} {}", target.as_nanos()))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        crate::platform::kill_process_group(self.child.id());
        let _ = self.child.wait();
    }
}

/// Parses `KEY=VALUE` (an environment setting for one side).
pub fn parse_env(setting: &str) -> Result<(String, String), String> {
    match setting.split_once('=') {
        Some((key, value)) if !key.is_empty() && !key.contains(char::is_whitespace) => {
            Ok((key.to_owned(), value.to_owned()))
        }
        _ => Err(format!(
            "'{setting}': expected KEY=VALUE (e.g. MALLOC_ARENA_MAX=1)"
        )),
    }
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
        assert!(re.is_match("contention/producer_consumer/jemalloc/t2"));
        assert!(re.is_match("contention/cross_thread_free/system/t1"));
        assert!(!re.is_match("contention/local_churn/mimalloc/t4"));
        assert!(!re.is_match("stack_vs_heap/heap_reused/system/0000064"));
    }

    #[test]
    fn environment_settings_parse_or_name_what_was_expected() {
        assert_eq!(
            parse_env("MALLOC_ARENA_MAX=1"),
            Ok(("MALLOC_ARENA_MAX".into(), "1".into()))
        );
        assert_eq!(
            parse_env("_RJEM_MALLOC_CONF=narenas:1,tcache:false"),
            Ok(("_RJEM_MALLOC_CONF".into(), "narenas:1,tcache:false".into()))
        );
        assert!(parse_env("=1").unwrap_err().contains("expected KEY=VALUE"));
        assert!(parse_env("NOVALUE").is_err());
    }
}
