//! The stack-depth probe: how deep a thread can recurse before its stack overflows, for a configured
//! stack size and frame size, measured by really overflowing it in a child process, next to the
//! depth that `usable stack / bytes per level` predicts.
//!
//! A stack overflow aborts the whole process, so each probe re-executes the current binary as a child.
//! The child maps a memfd shared with the parent and stores the depth it reached at every level (one
//! relaxed store), plus the stack bounds and the addresses of its first two frames; the values survive
//! the abort. The parent accepts only the expected death (SIGABRT with Rust's "has overflowed its stack"
//! message) as a measurement; any other exit, signal or a hang is an error for that configuration.

use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::time::{Duration, Instant};

pub use crate::harness::child::ChildCommand;

use crate::data::depth::{DepthEntry, ProbeKind, ProbeOutcome};
use crate::platform::SharedPage;
use crate::workload::depth::{
    ProbeRecord, heap_level_bytes, heap_loop_for, local_array, recurse_forever,
};

/// Stack size given to `RUST_MIN_STACK` for the `rust_min_stack` probe.
pub const RUST_MIN_STACK_PROBE: usize = 4 << 20;
/// The environment variable that turns a process into a probe child.
const CHILD_ENV: &str = "STACKHEAP_DEPTH_CHILD";
const CHILD_FD_ENV: &str = "STACKHEAP_DEPTH_FD";
const CHILD_THREAD_NAME: &str = "stackheap-probe";

/// One overflow probe: which thread, with which stack size, recursing with which frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    pub kind: ProbeKind,
    /// The stack size asked for: `Builder::stack_size`, `ThreadPoolBuilder::stack_size` or
    /// `RUST_MIN_STACK`; `None` for Rust's default.
    pub stack: Option<usize>,
    pub frame: usize,
}

impl Probe {
    fn encode(&self) -> String {
        let stack = self.stack.map_or("default".into(), |s| s.to_string());
        format!("{}:{}:{}", self.kind, stack, self.frame)
    }

    fn decode(text: &str) -> Option<Probe> {
        let mut parts = text.split(':');
        let kind = ProbeKind::from_name(parts.next()?)?;
        let stack = match parts.next()? {
            "default" => None,
            s => Some(s.parse().ok()?),
        };
        let frame = parts.next()?.parse().ok()?;
        Some(Probe { kind, stack, frame })
    }
}

/// The entry of `probe`, with only what was asked for and how it ended.
fn entry(probe: &Probe, outcome: ProbeOutcome, started: Instant) -> DepthEntry {
    DepthEntry::new(probe.kind, probe.stack, probe.frame, outcome, started)
}

/// The probe record in a page shared with a child.
fn record(page: &SharedPage) -> &ProbeRecord {
    // SAFETY: a zero-filled page is a valid ProbeRecord (all atomics zero; it fits the page, checked
    // where it is defined); it lives as long as `page`.
    unsafe { &*page.as_ptr().cast::<ProbeRecord>() }
}

/// Runs one probe in a child process and reports what it measured, or why it could not.
pub fn run_probe(child: &ChildCommand, probe: &Probe, timeout: Duration) -> DepthEntry {
    let started = Instant::now();
    match run_child(child, probe, timeout) {
        Ok((outcome, page)) => {
            let record = record(&page);
            let mut entry = entry(probe, outcome, started);
            entry.granted_stack_bytes = record.granted_stack_bytes();
            if entry.is_overflow() {
                entry.bytes_per_level = record.bytes_per_level();
                entry.measured_depth = Some(record.depth());
                entry.predicted_depth = record.predicted_depth();
                entry.naive_depth = entry
                    .granted_stack_bytes
                    .zip(entry.bytes_per_level)
                    .map(|(size, per_level)| size / per_level);
                entry.difference_percent = entry
                    .predicted_depth
                    .map(|p| (record.depth() as f64 - p as f64) / p as f64 * 100.0);
            }
            entry
        }
        Err(e) => entry(
            probe,
            ProbeOutcome::Error(format!("could not run the probe child: {e}")),
            started,
        ),
    }
}

fn run_child(
    child: &ChildCommand,
    probe: &Probe,
    timeout: Duration,
) -> std::io::Result<(ProbeOutcome, SharedPage)> {
    let page = SharedPage::create(c"stackheap-depth")?;
    let mut command = Command::new(&child.exe);
    command
        .args(&child.args)
        .env(CHILD_ENV, probe.encode())
        .env(CHILD_FD_ENV, page.fd().as_raw_fd().to_string());
    match (probe.kind, probe.stack) {
        (ProbeKind::RustMinStack, Some(size)) => command.env("RUST_MIN_STACK", size.to_string()),
        // Rust's default must not silently become the caller's RUST_MIN_STACK.
        _ => command.env_remove("RUST_MIN_STACK"),
    };
    let ended = crate::harness::child::run(command, timeout)?;
    let outcome = match ended.status {
        Some(status) => judge(status, &ended, record(&page)),
        None => ProbeOutcome::Error(format!("hung: killed after {:.1} s", timeout.as_secs_f64())),
    };
    Ok((outcome, page))
}

/// Decides what the child's end means: only SIGABRT with Rust's overflow message is an overflow.
fn judge(
    status: std::process::ExitStatus,
    ended: &crate::harness::child::Ended,
    record: &ProbeRecord,
) -> ProbeOutcome {
    let overflow_message = ended.stderr.contains("has overflowed its stack");
    let last_line = ended.last_stderr_line();
    let error = match (status.signal(), status.code()) {
        (Some(libc::SIGABRT), _) if overflow_message => return ProbeOutcome::Overflow,
        (Some(libc::SIGABRT), _) => format!("aborted without an overflow message: {last_line}"),
        (Some(sig), _) => format!("killed by signal {sig} ({})", signal_name(sig)),
        (None, Some(_)) if record.spawn_failed() => {
            format!("the platform refused the thread: {last_line}")
        }
        (None, Some(code)) => {
            format!("exited with status {code} instead of overflowing: {last_line}")
        }
        (None, None) => "ended without status".into(),
    };
    ProbeOutcome::Error(error)
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGILL => "SIGILL",
        _ => "other",
    }
}

/// In a probe child (started by [`run_probe`]), runs the probe and never returns; otherwise does
/// nothing. Call it first thing in `main` of any binary used as a probe child.
pub fn run_child_if_requested() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let fail = |msg: String| -> ! {
        // Straight to the stderr handle: eprintln! would be captured when the child is a libtest binary.
        let _ = writeln!(std::io::stderr(), "error: probe child: {msg}");
        std::process::exit(3)
    };
    let probe = Probe::decode(&spec).unwrap_or_else(|| fail(format!("bad {CHILD_ENV} '{spec}'")));
    let fd: i32 = std::env::var(CHILD_FD_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fail(format!("missing {CHILD_FD_ENV}")));
    // SAFETY: the parent passed us the descriptor of its memfd; we map it and never close it.
    let page = SharedPage::map(unsafe { OwnedFd::from_raw_fd(fd) })
        .unwrap_or_else(|e| fail(format!("cannot map the shared page: {e}")));
    // SAFETY: the page stays mapped for the rest of this process (forgotten below).
    let record: &'static ProbeRecord = unsafe { &*page.as_ptr().cast::<ProbeRecord>() };
    std::mem::forget(page);
    // The library's own tests start children that end wrongly, to see each judged an error.
    #[cfg(test)]
    match probe.kind {
        ProbeKind::MisbehaveExit => std::process::exit(0),
        ProbeKind::MisbehaveSignal => {
            // SAFETY: restoring the default action and raising a signal on ourselves is the point of
            // this self-test (Rust's own SIGSEGV handler would ignore a fault outside the guard page).
            unsafe {
                libc::signal(libc::SIGSEGV, libc::SIG_DFL);
                libc::raise(libc::SIGSEGV);
            }
            std::process::exit(0)
        }
        ProbeKind::MisbehaveHang => loop {
            std::thread::sleep(Duration::from_secs(3600));
        },
        _ => {}
    }
    let work = move || {
        record.record_stack_bounds();
        if probe.kind == ProbeKind::LocalArray {
            local_array(probe.frame, record);
            // Fitted: report it and end the child here, without the "returned" complaint below.
            std::process::exit(0)
        }
        recurse_forever(probe.frame, record)
    };
    let spawned = match (probe.kind, probe.stack) {
        (ProbeKind::Rayon, size) => {
            let mut builder = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .thread_name(|_| CHILD_THREAD_NAME.into());
            if let Some(size) = size {
                builder = builder.stack_size(size);
            }
            builder
                .build()
                .map(|pool| pool.install(work))
                .map_err(|e| e.to_string())
        }
        (ProbeKind::StdThread | ProbeKind::LocalArray, Some(size)) => std::thread::Builder::new()
            .name(CHILD_THREAD_NAME.into())
            .stack_size(size)
            .spawn(work)
            .map(|h| h.join().unwrap_or(0))
            .map_err(|e| e.to_string()),
        _ => std::thread::Builder::new()
            .name(CHILD_THREAD_NAME.into())
            .spawn(work)
            .map(|h| h.join().unwrap_or(0))
            .map_err(|e| e.to_string()),
    };
    match spawned {
        Ok(_) => fail("the recursion returned instead of overflowing".into()),
        Err(e) => {
            record.mark_spawn_failed();
            let size = probe.stack.map_or("default".into(), |s| format!("{s} B"));
            fail(format!("cannot start a thread with a {size} stack: {e}"))
        }
    }
}

/// Bisects, in child processes, the largest local array a thread with a `stack`-byte stack holds, to
/// one page; returns the `local_array` entry for that stack.
pub fn run_local_array_probe(child: &ChildCommand, stack: usize, timeout: Duration) -> DepthEntry {
    let started = Instant::now();
    let probe = |bytes: usize| Probe {
        kind: ProbeKind::LocalArray,
        stack: Some(stack),
        frame: bytes,
    };
    let mut entry = entry(&probe(0), ProbeOutcome::LargestFound, started);
    // `fits` is known true at `low` and false at `high`; the first probe (no array) must fit.
    let (mut low, mut high) = (0usize, stack.max(1 << 16) * 2);
    let mut first = true;
    while high - low > 4096 || first {
        let bytes = if first {
            0
        } else {
            (low + high) / 2 / 4096 * 4096
        };
        match run_child(child, &probe(bytes), timeout) {
            Ok((outcome, page)) => {
                let record = record(&page);
                if first {
                    entry.granted_stack_bytes = record.granted_stack_bytes();
                    entry.predicted_local_array_bytes = record.predicted_local_array_bytes();
                }
                // The child sets the flag only after the array was reserved and every page written.
                let fitted = record.array_fitted();
                match (fitted, outcome) {
                    (true, _) => low = bytes,
                    (false, ProbeOutcome::Overflow) if !first => high = bytes,
                    (false, other) => {
                        entry.outcome =
                            ProbeOutcome::Error(format!("an array of {bytes} B: {other}"));
                        entry.probe_ms = started.elapsed().as_secs_f64() * 1e3;
                        return entry;
                    }
                }
            }
            Err(e) => {
                entry.outcome = ProbeOutcome::Error(format!("could not run the probe child: {e}"));
                return entry;
            }
        }
        first = false;
    }
    entry.largest_local_array_bytes = Some(low as u64);
    entry.probe_ms = started.elapsed().as_secs_f64() * 1e3;
    entry
}

/// Runs the heap-loop alternative in a thread with a `stack`-byte stack, to `cap` levels.
pub fn run_heap_loop(stack: usize, frame: usize, cap: u64) -> DepthEntry {
    let started = Instant::now();
    let probe = Probe {
        kind: ProbeKind::HeapLoop,
        stack: Some(stack),
        frame,
    };
    let result = std::thread::Builder::new()
        .stack_size(stack)
        .spawn(move || {
            (
                crate::platform::current_stack_bounds(),
                heap_loop_for(frame, cap),
            )
        })
        .map_err(|e| e.to_string())
        .and_then(|h| h.join().map_err(|_| "the heap loop panicked".to_string()));
    match result {
        Ok((bounds, Some((reached, _)))) => {
            let mut entry = entry(&probe, ProbeOutcome::CapReached, started);
            entry.granted_stack_bytes = bounds.map(|(_, size)| size as u64);
            entry.bytes_per_level = Some(heap_level_bytes(frame) as u64);
            entry.measured_depth = Some(reached);
            entry
        }
        Ok((_, None)) => entry(
            &probe,
            ProbeOutcome::Error(format!("unsupported frame size {frame}")),
            started,
        ),
        Err(e) => entry(&probe, ProbeOutcome::Error(e), started),
    }
}

/// The stack Rust gives a spawned thread by default; the rayon probe asks for the same.
pub const RUST_DEFAULT_STACK: usize = 2 << 20;
/// How many times deeper than the stack's overflow depth the heap loop goes (to show it is not
/// bounded by the thread's stack).
pub const HEAP_LOOP_FACTOR: u64 = 101;

/// The overflow probes for `stacks` x `frames`: each stack size in a std thread, and per frame Rust's
/// default stack, `RUST_MIN_STACK` and a rayon pool thread.
pub fn probe_matrix(stacks: &[usize], frames: &[usize]) -> Vec<Probe> {
    let mut probes = Vec::new();
    for &frame in frames {
        for &stack in stacks {
            probes.push(Probe {
                kind: ProbeKind::StdThread,
                stack: Some(stack),
                frame,
            });
        }
        for (kind, stack) in [
            (ProbeKind::StdThread, None),
            (ProbeKind::RustMinStack, Some(RUST_MIN_STACK_PROBE)),
            (ProbeKind::Rayon, Some(RUST_DEFAULT_STACK)),
        ] {
            probes.push(Probe { kind, stack, frame });
        }
    }
    probes
}

/// What the stack-depth part measured, with how long its two slow parts took.
pub struct DepthRun {
    pub entries: Vec<DepthEntry>,
    pub probe_time: Duration,
    pub arrays_time: Duration,
}

/// The whole stack-depth part: the overflow probes of [`probe_matrix`], the heap loop per frame (to
/// `heap_loop_cap` levels, or [`HEAP_LOOP_FACTOR`] times the depth a default thread reached), and the
/// largest local array per stack size.
pub fn run_depth_part(
    child: &ChildCommand,
    stacks: &[usize],
    frames: &[usize],
    timeout: Duration,
    heap_loop_cap: Option<u64>,
) -> DepthRun {
    let started = Instant::now();
    let mut entries: Vec<DepthEntry> = probe_matrix(stacks, frames)
        .iter()
        .map(|probe| run_probe(child, probe, timeout))
        .collect();
    let probe_time = started.elapsed();
    for &frame in frames {
        let stack_depth = entries
            .iter()
            .find(|e| {
                e.kind == ProbeKind::StdThread
                    && e.requested_stack_bytes.is_none()
                    && e.frame_bytes == frame as u64
            })
            .and_then(|e| e.measured_depth)
            .unwrap_or((RUST_DEFAULT_STACK / (frame + 64)) as u64);
        let cap = heap_loop_cap.unwrap_or(stack_depth * HEAP_LOOP_FACTOR);
        entries.push(run_heap_loop(RUST_DEFAULT_STACK, frame, cap));
    }
    let arrays_started = Instant::now();
    entries.extend(
        stacks
            .iter()
            .map(|&stack| run_local_array_probe(child, stack, timeout)),
    );
    DepthRun {
        entries,
        probe_time,
        arrays_time: arrays_started.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The probe child of these tests: libtest re-runs this binary with only this test selected.
    #[test]
    fn probe_child_entry() {
        run_child_if_requested();
    }

    fn test_child() -> ChildCommand {
        crate::harness::child::test_child(module_path!(), "probe_child_entry")
    }

    /// Probes run one at a time: timings stay clean and the descriptor check below sees only its own.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn probe(kind: ProbeKind, stack: Option<usize>, frame: usize) -> DepthEntry {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        run_probe(
            &test_child(),
            &Probe { kind, stack, frame },
            Duration::from_secs(20),
        )
    }

    #[test]
    fn the_largest_local_array_is_found_within_a_page_of_the_prediction() {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let mut largest = Vec::new();
        for stack in [256 << 10, 1 << 20] {
            let e = run_local_array_probe(&test_child(), stack, Duration::from_secs(20));
            assert_eq!(e.outcome, ProbeOutcome::LargestFound, "{e:?}");
            assert_eq!(e.kind, ProbeKind::LocalArray);
            let (found, predicted) = (
                e.largest_local_array_bytes.unwrap(),
                e.predicted_local_array_bytes.unwrap(),
            );
            assert!(found.abs_diff(predicted) <= 4096, "{e:?}");
            // Most of the stack, not all: TLS, the thread control block and the frames above take some.
            let granted = e.granted_stack_bytes.unwrap();
            assert!(found < granted && found > granted - (64 << 10), "{e:?}");
            largest.push(found);
        }
        // The folklore's char test[1000000] does not fit 256 KiB but fits 1 MiB.
        assert!(
            largest[0] < 1_000_000 && largest[1] > 1_000_000,
            "{largest:?}"
        );
    }

    #[test]
    fn overflow_depth_matches_the_prediction_and_scales_with_the_stack() {
        let one = probe(ProbeKind::StdThread, Some(1 << 20), 1024);
        let two = probe(ProbeKind::StdThread, Some(2 << 20), 1024);
        for e in [&one, &two] {
            assert_eq!(e.outcome, ProbeOutcome::Overflow, "{e:?}");
            assert!(e.difference_percent.unwrap().abs() <= 1.0, "{e:?}");
            assert!(e.bytes_per_level.unwrap() >= 1024);
        }
        let ratio = two.measured_depth.unwrap() as f64 / one.measured_depth.unwrap() as f64;
        assert!((ratio - 2.0).abs() <= 0.04, "1 MiB -> 2 MiB gave x{ratio}");
    }

    #[test]
    fn rayon_and_rust_min_stack_threads_get_the_stack_asked_for() {
        let rayon = probe(ProbeKind::Rayon, Some(512 << 10), 256);
        assert_eq!(rayon.outcome, ProbeOutcome::Overflow, "{rayon:?}");
        assert_eq!(rayon.granted_stack_bytes, Some(512 << 10));
        let min_stack = probe(ProbeKind::RustMinStack, Some(RUST_MIN_STACK_PROBE), 4096);
        assert_eq!(min_stack.outcome, ProbeOutcome::Overflow, "{min_stack:?}");
        assert_eq!(
            min_stack.granted_stack_bytes,
            Some(RUST_MIN_STACK_PROBE as u64)
        );
        let default = probe(ProbeKind::StdThread, None, 4096);
        assert_eq!(default.granted_stack_bytes, Some(2 << 20), "{default:?}");
    }

    #[test]
    fn a_child_that_ends_any_other_way_is_an_error_not_a_depth() {
        let exit = probe(ProbeKind::MisbehaveExit, None, 0);
        assert!(
            exit.outcome
                .to_string()
                .starts_with("error: exited with status 0"),
            "{exit:?}"
        );
        let segv = probe(ProbeKind::MisbehaveSignal, None, 0);
        assert_eq!(
            segv.outcome.to_string(),
            "error: killed by signal 11 (SIGSEGV)"
        );
        for e in [&exit, &segv] {
            assert_eq!(e.measured_depth, None);
        }
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let hang = run_probe(
            &test_child(),
            &Probe {
                kind: ProbeKind::MisbehaveHang,
                stack: None,
                frame: 0,
            },
            Duration::from_millis(300),
        );
        assert_eq!(hang.outcome.to_string(), "error: hung: killed after 0.3 s");
        assert_eq!(hang.measured_depth, None);
    }

    #[test]
    fn a_stack_size_the_platform_rejects_is_a_clear_error() {
        let huge = probe(ProbeKind::StdThread, Some(1 << 46), 0);
        assert!(
            huge.outcome.to_string().starts_with("error: the platform refused the thread: error: probe child: cannot start a thread with a 70368744177664 B stack"),
            "{huge:?}"
        );
        assert_eq!(huge.measured_depth, None);
    }

    #[test]
    fn heap_loop_goes_far_deeper_than_the_stack() {
        let entry = run_heap_loop(2 << 20, 0, 1_000_000);
        assert_eq!(entry.outcome, ProbeOutcome::CapReached);
        assert_eq!(entry.measured_depth, Some(1_000_000));
    }

    #[test]
    fn probes_leave_no_file_behind() {
        let before = std::fs::read_dir(std::env::temp_dir()).unwrap().count();
        let e = probe(ProbeKind::StdThread, Some(64 << 10), 256);
        assert_eq!(e.outcome, ProbeOutcome::Overflow);
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        // The shared page is a memfd: nothing on disk, and our descriptor is closed after the probe.
        let open_memfds = std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
            .filter(|target| target.to_string_lossy().contains("stackheap-depth"))
            .count();
        assert_eq!(open_memfds, 0);
        assert!(std::fs::read_dir(std::env::temp_dir()).unwrap().count() <= before);
    }
}
