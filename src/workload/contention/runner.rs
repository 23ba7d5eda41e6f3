//! The start line of a contention run: workers set up, wait for each other, and are timed from the
//! earliest start to the latest end, so thread start-up is not timed; a thread that cannot start ends
//! the run with an error instead of a hang.

use std::time::{Duration, Instant};

/// A thread that could not be started (a process or memory limit): the run ends with this error
/// instead of a panic, and the threads already started are released, never left waiting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpawnError(pub String);

impl std::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: expected to start every thread of the run: lower STACKHEAP_THREADS or raise the process limit (ulimit -u)",
            self.0
        )
    }
}

impl std::error::Error for SpawnError {}

/// The start line of a run's workers. Unlike [`std::sync::Barrier`] it can be called off: when a later thread
/// cannot be started, the ones already waiting are released and do no work.
struct StartGate {
    parties: usize,
    /// (threads arrived, called off)
    state: std::sync::Mutex<(usize, bool)>,
    opened: std::sync::Condvar,
}

impl StartGate {
    fn new(parties: usize) -> StartGate {
        StartGate {
            parties,
            state: std::sync::Mutex::new((0, false)),
            opened: std::sync::Condvar::new(),
        }
    }

    /// Waits until every party has arrived (true) or the run was called off (false).
    fn wait(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 += 1;
        if state.0 == self.parties {
            self.opened.notify_all();
        }
        while state.0 < self.parties && !state.1 {
            state = self.opened.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        !state.1
    }

    fn call_off(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1 = true;
        self.opened.notify_all();
    }
}

/// The CPU each of `threads` workers runs on, one each, when they fit the CPUs this process may use;
/// none (the scheduler places them) when they do not, so that more threads than cores time-share
/// as they would in a service. Left to the scheduler, two threads started together on an idle
/// 2-vCPU VM shared one CPU for whole samples of 8 ms about one sample in three when another row
/// had run just before (stack_control t2: 10.3-11.5 µs per round, twice its 5.1-5.6 µs; AMD EPYC
/// 2-vCPU VM, 2026-12-03): a placement delay, not the workload, and the row read as two modes.
pub(super) fn one_cpu_each(threads: usize) -> Vec<usize> {
    let cpus = crate::platform::allowed_cpus();
    if threads <= cpus.len() {
        cpus
    } else {
        Vec::new()
    }
}

/// Starts `threads` workers, each on a CPU of its own where they fit (`one_cpu_each`), each with
/// state made by `setup(i)` before a common start line; after it
/// each worker records its own start, runs `work`, and records its own end. Returns the latest end
/// minus the earliest start (thread start-up and setup are not timed; a late-woken main thread cannot
/// distort it) and the sum of the workers' results. State is dropped after the end is recorded.
pub fn run_workers<S>(
    threads: usize,
    setup: impl Fn(usize) -> S + Sync,
    work: impl Fn(usize, &mut S) -> u64 + Sync,
) -> Result<(Duration, u64), SpawnError> {
    run_workers_with_stacks(threads, |_| None, setup, work)
}

/// [`run_workers`] with a stack size per worker (`None`: Rust's default), so that tests can make one
/// spawn fail the way a process limit does.
pub(super) fn run_workers_with_stacks<S, Setup, Work>(
    threads: usize,
    stack_bytes: impl Fn(usize) -> Option<usize>,
    setup: Setup,
    work: Work,
) -> Result<(Duration, u64), SpawnError>
where
    Setup: Fn(usize) -> S + Sync,
    Work: Fn(usize, &mut S) -> u64 + Sync,
{
    let gate = StartGate::new(threads);
    let pin_to = one_cpu_each(threads);
    let spans: Result<Vec<(Instant, Instant, u64)>, SpawnError> = std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(threads);
        for i in 0..threads {
            let (gate, setup, work) = (&gate, &setup, &work);
            let mut builder = std::thread::Builder::new();
            if let Some(bytes) = stack_bytes(i) {
                builder = builder.stack_size(bytes);
            }
            let pin = pin_to.get(i).copied();
            let spawned = builder.spawn_scoped(scope, move || {
                if let Some(cpu) = pin {
                    // Best effort: a thread the system will not pin runs where it is placed.
                    let _ = crate::platform::set_cpus(0, &[cpu]);
                }
                let mut state = setup(i);
                if !gate.wait() {
                    return None;
                }
                let start = Instant::now();
                let result = work(i, &mut state);
                let end = Instant::now();
                drop(state);
                Some((start, end, result))
            });
            match spawned {
                Ok(handle) => handles.push(handle),
                Err(e) => {
                    gate.call_off();
                    return Err(SpawnError(format!(
                        "cannot start thread {} of {threads}: {e}",
                        i + 1
                    )));
                }
            }
        }
        Ok(handles
            .into_iter()
            .map(|h| {
                h.join()
                    .expect("contention worker panicked")
                    .expect("the start line was not called off")
            })
            .collect())
    });
    let spans = spans?;
    let start = spans
        .iter()
        .map(|s| s.0)
        .min()
        .expect("at least one thread");
    let end = spans
        .iter()
        .map(|s| s.1)
        .max()
        .expect("at least one thread");
    Ok((end - start, spans.iter().map(|s| s.2).sum()))
}

/// One slot per value, each to be taken by exactly one worker with [`take_once`].
pub(super) fn handed_out<T>(
    values: impl IntoIterator<Item = T>,
) -> Vec<std::sync::Mutex<Option<T>>> {
    values
        .into_iter()
        .map(|v| std::sync::Mutex::new(Some(v)))
        .collect()
}

/// Takes the value a setup hands to exactly one worker (a channel end, a working set).
pub(super) fn take_once<T>(slot: &std::sync::Mutex<Option<T>>) -> T {
    slot.lock()
        .expect("not poisoned")
        .take()
        .expect("each worker takes its own, once")
}
