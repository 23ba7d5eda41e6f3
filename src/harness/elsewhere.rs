//! Criterion rows of the allocators a bench process cannot measure itself (a library named at run
//! time is the `malloc` only of a process started with it preloaded): each such row is timed by a
//! `stackheap-worker` of that library, asked for one sample of `iterations` calls at a time, so that
//! `cargo bench` shows every allocator's rows under one id scheme, with Criterion's statistics.
//! The worker times the calls itself (after one untimed call), so the pipe is not in the figure.

use crate::harness::ab::{Side, Worker};
use crate::harness::touch_meter::TouchMeter;
use crate::workload::allocators::AllocatorKind;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// The workers of the libraries, started on first use, each proving its library as it starts.
pub struct Elsewhere {
    worker: PathBuf,
    running: HashMap<AllocatorKind, Worker>,
}

impl Elsewhere {
    /// Workers will be `worker` (a `stackheap-worker` executable of this build).
    pub fn new(worker: impl Into<PathBuf>) -> Elsewhere {
        Elsewhere {
            worker: worker.into(),
            running: HashMap::new(),
        }
    }

    /// The time of `iterations` calls of the row `id` in the worker of `kind`.
    pub fn time(
        &mut self,
        kind: AllocatorKind,
        id: &str,
        iterations: u64,
    ) -> Result<Duration, String> {
        let ns: u64 = self
            .worker(kind)?
            .ask(&format!("sample {id} {}", iterations.max(1)))?
            .parse()
            .map_err(|e| format!("worker of {kind}: a sample that is not a number of ns ({e})"))?;
        Ok(Duration::from_nanos(ns))
    }

    /// `iterations` first touches of the row `id` (`first_touch/<kind>/<library>/<bytes>`) in the
    /// worker of `kind`: their time, and their faults and pages.
    pub fn touch(
        &mut self,
        kind: AllocatorKind,
        id: &str,
        iterations: u64,
    ) -> Result<(Duration, TouchMeter), String> {
        let answer = self
            .worker(kind)?
            .ask(&format!("touch {id} {}", iterations.max(1)))?;
        crate::harness::worker::parse_touches(&answer).ok_or_else(|| {
            format!(
                "worker of {kind}: '{answer}': expected 'ns faults huge_faults pages iterations'"
            )
        })
    }

    /// The worker of `kind`, started and proved on first use.
    fn worker(&mut self, kind: AllocatorKind) -> Result<&mut Worker, String> {
        Ok(match self.running.entry(kind) {
            std::collections::hash_map::Entry::Occupied(w) => w.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let side = Side {
                    label: format!("stackheap-worker ({kind})"),
                    worker: self.worker.clone(),
                    args: Vec::new(),
                    env: crate::harness::settings::preload_env(kind),
                };
                let log = crate::data::suite_file::results_dir().join("bench-workers.log");
                let _ = std::fs::create_dir_all(log.parent().expect("a directory"));
                let mut worker = Worker::start(&side, log)?;
                let evidence = worker.prove_allocator(kind)?;
                eprintln!("{kind}: measured in a process of its own: {evidence}");
                slot.insert(worker)
            }
        })
    }
}

impl Elsewhere {
    /// The Criterion row `id` of `allocator` (a library named at run time) in `group`, each sample
    /// timed by [`Elsewhere::time`]; a worker that fails ends the bench through `fail` (one line).
    pub fn bench(
        &mut self,
        group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        allocator: AllocatorKind,
        id: &crate::data::id::BenchId,
        fail: fn(&str) -> !,
    ) {
        let row = id.to_string();
        group.bench_function(id.criterion_id(), |b| {
            b.iter_custom(|iters| {
                self.time(allocator, &row, iters)
                    .unwrap_or_else(|e| fail(&e))
            })
        });
    }
}
