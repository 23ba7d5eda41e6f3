//! How deep a thread can recurse before its stack overflows, for a configured stack size and frame
//! size, measured by really overflowing it in a child process, next to the depth that
//! `usable stack / bytes per level` predicts.
//!
//! A stack overflow aborts the whole process, so each probe re-executes the current binary as a child.
//! The child maps a memfd shared with the parent and stores the depth it reached at every level (one
//! relaxed store), plus the stack bounds and the addresses of its first two frames; the values survive
//! the abort. The parent accepts only the expected death (SIGABRT with Rust's "has overflowed its stack"
//! message) as a measurement; any other exit, signal or a hang is an error for that configuration.

use serde::Serialize;
use std::fmt;
use std::hint::black_box;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Stack sizes probed by default: 16 KiB is below glibc's minimum (the granted size is reported).
pub const DEFAULT_STACK_SIZES: [usize; 6] =
    [16 << 10, 64 << 10, 256 << 10, 1 << 20, 2 << 20, 8 << 20];
/// Frame array sizes probed by default: 0 is the minimal frame, 16 KiB spans several pages.
pub const DEFAULT_FRAME_SIZES: [usize; 5] = [0, 256, 1024, 4096, 16384];
/// The frame sizes compiled into the probe (each is a separate instance of [`recurse`]).
pub const SUPPORTED_FRAME_SIZES: [usize; 10] =
    [0, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384];
/// Stack size given to `RUST_MIN_STACK` for the `rust_min_stack` probe.
pub const RUST_MIN_STACK_PROBE: usize = 4 << 20;
/// The environment variable that turns a process into a probe child.
const CHILD_ENV: &str = "STACKHEAP_DEPTH_CHILD";
const CHILD_FD_ENV: &str = "STACKHEAP_DEPTH_FD";
const CHILD_THREAD_NAME: &str = "stackheap-probe";

/// What the child writes and the parent reads: one page shared through a memfd.
#[repr(C)]
#[derive(Default)]
pub struct ProbeRecord {
    /// The deepest level entered so far (1 = first call).
    depth: AtomicU64,
    /// Address of a local variable in level 1 and level 2: their difference is bytes per level.
    level1_addr: AtomicU64,
    level2_addr: AtomicU64,
    /// Lowest usable address of the thread's stack and its size, from `pthread_getattr_np`.
    stack_low: AtomicU64,
    stack_size: AtomicU64,
    /// Set by the child when the thread could not be created (the platform refused the size).
    spawn_failed: AtomicU64,
    /// `local_array` probes: the address of a local at the call that reserves the array, and 1 once
    /// the array was reserved and every page of it written (the array fitted).
    array_call_addr: AtomicU64,
    array_fitted: AtomicU64,
}

impl ProbeRecord {
    #[inline(always)]
    fn enter(&self, depth: u64, local_addr: u64) {
        self.depth.store(depth, Relaxed);
        match depth {
            1 => self.level1_addr.store(local_addr, Relaxed),
            2 => self.level2_addr.store(local_addr, Relaxed),
            _ => {}
        }
    }

    /// Records the calling thread's stack bounds.
    fn record_stack_bounds(&self) {
        if let Some((low, size)) = current_stack_bounds() {
            self.stack_low.store(low as u64, Relaxed);
            self.stack_size.store(size as u64, Relaxed);
        }
    }

    /// Deepest level reached.
    pub fn depth(&self) -> u64 {
        self.depth.load(Relaxed)
    }

    /// Bytes of stack each level takes, from the address delta between level 1 and level 2.
    pub fn bytes_per_level(&self) -> Option<u64> {
        let (a1, a2) = (
            self.level1_addr.load(Relaxed),
            self.level2_addr.load(Relaxed),
        );
        (a2 != 0 && a1 > a2).then(|| a1 - a2)
    }

    /// The depth `usable stack below level 1 / bytes per level` predicts.
    pub fn predicted_depth(&self) -> Option<u64> {
        let bytes_per_level = self.bytes_per_level()?;
        let low = self.stack_low.load(Relaxed);
        let usable = self.level1_addr.load(Relaxed).checked_sub(low)?;
        (low != 0).then(|| 1 + usable / bytes_per_level)
    }

    pub fn granted_stack_bytes(&self) -> Option<u64> {
        Some(self.stack_size.load(Relaxed)).filter(|&s| s != 0)
    }
}

/// (lowest usable address, size) of the calling thread's stack, as glibc reports it: the guard page
/// lies below `low`; TLS and the thread control block sit inside the size, at the top.
pub fn current_stack_bounds() -> Option<(usize, usize)> {
    // SAFETY: a zeroed attr is filled by pthread_getattr_np and destroyed after use.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let rc = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        (rc == 0).then_some((addr as usize, size))
    }
}

/// One recursion level with a local array of `F` bytes. Not inlined, with the array written (so every
/// page of the frame is touched) and kept alive through `black_box`, and its value used after the
/// recursive call, so that the compiler can neither merge levels nor turn the call into a loop.
#[inline(never)]
pub fn recurse<const F: usize>(depth: u64, limit: u64, probe: &ProbeRecord) -> u64 {
    let mut frame = [depth as u8; F];
    let marker = depth;
    probe.enter(depth, black_box(&marker) as *const u64 as u64);
    black_box(&mut frame);
    let below = if depth < limit {
        recurse::<F>(depth + 1, limit, probe)
    } else {
        0
    };
    below + u64::from(frame.first().copied().unwrap_or(1)) + black_box(marker)
}

/// The same recursion with its levels kept in a `Vec` on the heap instead of on the stack: goes to
/// `cap` levels (the heap, not the thread's stack, is the limit) and returns the depth reached and the
/// checksum the unwinding computes.
pub fn heap_loop<const F: usize>(cap: u64) -> (u64, u64) {
    struct Level<const F: usize> {
        depth: u64,
        frame: [u8; F],
    }
    let mut levels: Vec<Level<F>> = Vec::with_capacity(cap as usize);
    for depth in 1..=cap {
        levels.push(Level {
            depth,
            frame: [depth as u8; F],
        });
    }
    let reached = black_box(levels.len() as u64);
    let mut sum = 0;
    while let Some(level) = levels.pop() {
        sum += u64::from(level.frame.first().copied().unwrap_or(1)) + level.depth;
    }
    (reached, sum)
}

/// Bytes one heap level of [`heap_loop`] takes for frame size `frame`.
pub fn heap_level_bytes(frame: usize) -> usize {
    (8 + frame).next_multiple_of(8)
}

/// Calls `$body` with `F` bound to the const matching a runtime frame size, or evaluates `$none`.
macro_rules! with_frame_size {
    ($frame:expr, |$f:ident| $body:expr, $none:expr) => {
        match $frame {
            0 => {
                const $f: usize = 0;
                $body
            }
            64 => {
                const $f: usize = 64;
                $body
            }
            128 => {
                const $f: usize = 128;
                $body
            }
            256 => {
                const $f: usize = 256;
                $body
            }
            512 => {
                const $f: usize = 512;
                $body
            }
            1024 => {
                const $f: usize = 1024;
                $body
            }
            2048 => {
                const $f: usize = 2048;
                $body
            }
            4096 => {
                const $f: usize = 4096;
                $body
            }
            8192 => {
                const $f: usize = 8192;
                $body
            }
            16384 => {
                const $f: usize = 16384;
                $body
            }
            _ => $none,
        }
    };
}

/// Recurses without limit with frame size `frame` (one of [`SUPPORTED_FRAME_SIZES`]).
fn recurse_forever(frame: usize, probe: &ProbeRecord) -> u64 {
    with_frame_size!(
        frame,
        |F| recurse::<F>(1, u64::MAX, probe),
        unreachable!("frame size checked by the parser")
    )
}

/// Recurses `levels` deep with frame size `frame`; `None` for an unsupported frame size.
pub fn recurse_to(frame: usize, levels: u64) -> Option<u64> {
    let probe = ProbeRecord::default();
    with_frame_size!(frame, |F| Some(recurse::<F>(1, levels, &probe)), None)
}

/// Runs [`heap_loop`] with frame size `frame`; `None` for an unsupported frame size.
pub fn heap_loop_for(frame: usize, cap: u64) -> Option<(u64, u64)> {
    with_frame_size!(frame, |F| Some(heap_loop::<F>(cap)), None)
}

/// Which thread a probe recurses in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeKind {
    /// `std::thread::Builder`, with `stack_size` when a size is given, else Rust's default (2 MiB) with
    /// `RUST_MIN_STACK` removed from the child's environment.
    StdThread,
    /// `std::thread::Builder` without `stack_size`, the child started with `RUST_MIN_STACK` set.
    RustMinStack,
    /// The one thread of a rayon pool built with `ThreadPoolBuilder::stack_size`.
    Rayon,
    /// The recursion as a loop over a heap `Vec` in a thread with the given stack: no overflow.
    HeapLoop,
    /// One local array of `frame` bytes (reserved with `alloca`, every page written) in a thread with
    /// the given stack: it fits, or it overflows the stack. Bisected for the largest that fits.
    LocalArray,
    /// Self-test children that end wrongly: exit normally, die of SIGSEGV, or hang.
    #[serde(skip)]
    MisbehaveExit,
    #[serde(skip)]
    MisbehaveSignal,
    #[serde(skip)]
    MisbehaveHang,
}

impl ProbeKind {
    fn name(self) -> &'static str {
        match self {
            Self::StdThread => "std_thread",
            Self::RustMinStack => "rust_min_stack",
            Self::Rayon => "rayon",
            Self::HeapLoop => "heap_loop",
            Self::LocalArray => "local_array",
            Self::MisbehaveExit => "misbehave_exit",
            Self::MisbehaveSignal => "misbehave_signal",
            Self::MisbehaveHang => "misbehave_hang",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [
            Self::StdThread,
            Self::RustMinStack,
            Self::Rayon,
            Self::HeapLoop,
            Self::LocalArray,
            Self::MisbehaveExit,
            Self::MisbehaveSignal,
            Self::MisbehaveHang,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}

impl fmt::Display for ProbeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

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

/// How the child is started: the current executable, with the arguments that make it reach
/// [`run_child_if_requested`] (none for a bench binary; the test name for a libtest binary).
#[derive(Clone, Debug)]
pub struct ChildCommand {
    pub exe: PathBuf,
    pub args: Vec<String>,
}

impl ChildCommand {
    /// This binary, started with no arguments (bench binaries check for the probe first thing).
    pub fn current_exe() -> std::io::Result<ChildCommand> {
        Ok(ChildCommand {
            exe: std::env::current_exe()?,
            args: Vec::new(),
        })
    }
}

/// One row of `target/stackheap/depth.json`.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct DepthEntry {
    pub kind: ProbeKind,
    pub requested_stack_bytes: Option<u64>,
    pub granted_stack_bytes: Option<u64>,
    pub frame_bytes: u64,
    pub bytes_per_level: Option<u64>,
    pub measured_depth: Option<u64>,
    /// `usable stack below the first level / bytes_per_level`, from the thread's real stack bounds.
    pub predicted_depth: Option<u64>,
    /// `granted_stack_bytes / bytes_per_level`: what the naive rule of thumb predicts.
    pub naive_depth: Option<u64>,
    /// (measured - predicted) / predicted, in percent.
    pub difference_percent: Option<f64>,
    /// `overflow` for a real overflow, `cap_reached` for the heap loop, else `error: <what happened>`.
    pub outcome: String,
    /// Wall time of the probe, child start-up included, in milliseconds.
    pub probe_ms: f64,
    /// `local_array`: the largest local array that fitted (bisected to a page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub largest_local_array_bytes: Option<u64>,
    /// `local_array`: the stack left below the call that reserves the array (from the thread's real
    /// stack bounds), less the frames the reservation itself needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_local_array_bytes: Option<u64>,
}

impl DepthEntry {
    fn new(probe: &Probe, outcome: String, started: Instant) -> DepthEntry {
        DepthEntry {
            kind: probe.kind,
            requested_stack_bytes: probe.stack.map(|s| s as u64),
            granted_stack_bytes: None,
            frame_bytes: probe.frame as u64,
            bytes_per_level: None,
            measured_depth: None,
            predicted_depth: None,
            naive_depth: None,
            difference_percent: None,
            outcome,
            probe_ms: started.elapsed().as_secs_f64() * 1e3,
            largest_local_array_bytes: None,
            predicted_local_array_bytes: None,
        }
    }

    pub fn is_overflow(&self) -> bool {
        self.outcome == "overflow"
    }
}

impl crate::results::SuiteEntry for DepthEntry {
    fn key(&self) -> String {
        let stack = self
            .requested_stack_bytes
            .map_or("default".to_owned(), |b| b.to_string());
        format!(
            "{} stack {stack} frame {}",
            self.kind.name(),
            self.frame_bytes
        )
    }

    /// A level of zero bytes (every depth figure divides by it), or a difference or probe time
    /// that is not a finite number.
    fn problem(&self) -> Option<String> {
        if self.bytes_per_level == Some(0) {
            Some("bytes_per_level must be at least 1".into())
        } else if self.difference_percent.is_some_and(|d| !d.is_finite()) {
            Some("difference_percent must be a finite number".into())
        } else if !self.probe_ms.is_finite() || self.probe_ms < 0.0 {
            Some("probe_ms must be a finite, non-negative number".into())
        } else {
            None
        }
    }
}

/// A memfd of one page, mapped shared: the child inherits the descriptor (no CLOEXEC) and maps it too.
/// Nothing is created on disk, so nothing can be left behind.
struct SharedPage {
    fd: OwnedFd,
    ptr: *mut ProbeRecord,
}

impl SharedPage {
    fn create() -> std::io::Result<SharedPage> {
        // SAFETY: memfd_create returns a new descriptor or -1; we own it from here on.
        let raw = unsafe { libc::memfd_create(c"stackheap-depth".as_ptr(), 0) };
        if raw < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: fd is ours.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), 4096) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Self::map(fd)
    }

    fn map(fd: OwnedFd) -> std::io::Result<SharedPage> {
        // SAFETY: maps one page of a memfd that is at least one page long.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(SharedPage {
            fd,
            ptr: ptr.cast(),
        })
    }

    fn record(&self) -> &ProbeRecord {
        // SAFETY: a zero-filled page is a valid ProbeRecord (all atomics zero); it lives as long as self.
        unsafe { &*self.ptr }
    }
}

impl Drop for SharedPage {
    fn drop(&mut self) {
        // SAFETY: unmaps the page mapped in `map`.
        unsafe { libc::munmap(self.ptr.cast(), 4096) };
    }
}

/// Runs one probe in a child process and reports what it measured, or why it could not.
pub fn run_probe(child: &ChildCommand, probe: &Probe, timeout: Duration) -> DepthEntry {
    let started = Instant::now();
    match run_child(child, probe, timeout) {
        Ok((outcome, page)) => {
            let record = page.record();
            let mut entry = DepthEntry::new(probe, outcome, started);
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
        Err(e) => DepthEntry::new(
            probe,
            format!("error: could not run the probe child: {e}"),
            started,
        ),
    }
}

fn run_child(
    child: &ChildCommand,
    probe: &Probe,
    timeout: Duration,
) -> std::io::Result<(String, SharedPage)> {
    let page = SharedPage::create()?;
    let mut command = Command::new(&child.exe);
    command
        .args(&child.args)
        .env(CHILD_ENV, probe.encode())
        .env(CHILD_FD_ENV, page.fd.as_raw_fd().to_string());
    match (probe.kind, probe.stack) {
        (ProbeKind::RustMinStack, Some(size)) => command.env("RUST_MIN_STACK", size.to_string()),
        // Rust's default must not silently become the caller's RUST_MIN_STACK.
        _ => command.env_remove("RUST_MIN_STACK"),
    };
    let ended = crate::child::run(command, timeout)?;
    let outcome = match ended.status {
        Some(status) => judge(status, &ended, page.record()),
        None => format!("error: hung: killed after {:.1} s", timeout.as_secs_f64()),
    };
    Ok((outcome, page))
}

/// Decides what the child's end means: only SIGABRT with Rust's overflow message is an overflow.
fn judge(
    status: std::process::ExitStatus,
    ended: &crate::child::Ended,
    record: &ProbeRecord,
) -> String {
    let overflow_message = ended.stderr.contains("has overflowed its stack");
    let last_line = ended.last_stderr_line();
    match (status.signal(), status.code()) {
        (Some(libc::SIGABRT), _) if overflow_message => "overflow".into(),
        (Some(libc::SIGABRT), _) => {
            format!("error: aborted without an overflow message: {last_line}")
        }
        (Some(sig), _) => format!("error: killed by signal {sig} ({})", signal_name(sig)),
        (None, Some(_)) if record.spawn_failed.load(Relaxed) != 0 => {
            format!("error: the platform refused the thread: {last_line}")
        }
        (None, Some(code)) => {
            format!("error: exited with status {code} instead of overflowing: {last_line}")
        }
        (None, None) => "error: ended without status".into(),
    }
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
    let record: &'static ProbeRecord = unsafe { &*page.ptr };
    std::mem::forget(page);
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
            record.spawn_failed.store(1, Relaxed);
            let size = probe.stack.map_or("default".into(), |s| format!("{s} B"));
            fail(format!("cannot start a thread with a {size} stack: {e}"))
        }
    }
}

/// Stack the reservation of a local array needs besides the array: the `alloca` wrapper's C frame and
/// the closure it calls. Probed together with the array, so that a fitting array really fits.
pub const LOCAL_ARRAY_OVERHEAD: usize = 512;

/// Writes one byte in every page from `top` down to `top - len`, highest first, as the stack probes a
/// compiler emits for a large frame do: an array that does not fit hits the guard page, which Rust
/// reports as a stack overflow, before anything is written beyond it.
#[inline(never)]
fn probe_down(top: usize, len: usize) {
    let page = 4096;
    let mut offset = page.min(len);
    while offset <= len {
        // SAFETY: addresses below the current frame in this thread's own stack mapping; the guard page
        // below it faults, which is the overflow this probe exists to find.
        unsafe { std::ptr::write_volatile((top - offset) as *mut u8, 1) };
        if offset == len {
            break;
        }
        offset = (offset + page).min(len);
    }
}

/// `local_array`: reserves a local array of `bytes` on this thread's stack (C `alloca`, the runtime
/// equivalent of `char test[bytes]`) and writes every page of it. Records where the call began and,
/// if the array fitted, that it did. Overflows the stack (aborting the process) when it does not fit.
pub fn local_array(bytes: usize, record: &ProbeRecord) {
    let marker = 0u8;
    let top = black_box(&marker) as *const u8 as usize;
    record.array_call_addr.store(top as u64, Relaxed);
    probe_down(top, bytes + LOCAL_ARRAY_OVERHEAD);
    alloca::with_alloca(bytes, |array| {
        for byte in array.iter_mut().step_by(4096) {
            byte.write(7);
        }
        black_box(array);
    });
    record.array_fitted.store(1, Relaxed);
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
    let mut entry = DepthEntry::new(&probe(0), "largest_found".into(), started);
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
                let record = page.record();
                if first {
                    entry.granted_stack_bytes = record.granted_stack_bytes();
                    let low_addr = record.stack_low.load(Relaxed);
                    let call = record.array_call_addr.load(Relaxed);
                    entry.predicted_local_array_bytes = (call > low_addr)
                        .then(|| (call - low_addr).saturating_sub(LOCAL_ARRAY_OVERHEAD as u64));
                }
                // The child sets the flag only after the array was reserved and every page written.
                let fitted = record.array_fitted.load(Relaxed) == 1;
                match (fitted, outcome.as_str()) {
                    (true, _) => low = bytes,
                    (false, "overflow") if !first => high = bytes,
                    (false, other) => {
                        entry.outcome = format!("error: an array of {bytes} B: {other}");
                        entry.probe_ms = started.elapsed().as_secs_f64() * 1e3;
                        return entry;
                    }
                }
            }
            Err(e) => {
                entry.outcome = format!("error: could not run the probe child: {e}");
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
        .spawn(move || (current_stack_bounds(), heap_loop_for(frame, cap)))
        .map_err(|e| e.to_string())
        .and_then(|h| h.join().map_err(|_| "the heap loop panicked".to_string()));
    match result {
        Ok((bounds, Some((reached, _)))) => {
            let mut entry = DepthEntry::new(&probe, "cap_reached".into(), started);
            entry.granted_stack_bytes = bounds.map(|(_, size)| size as u64);
            entry.bytes_per_level = Some(heap_level_bytes(frame) as u64);
            entry.measured_depth = Some(reached);
            entry
        }
        Ok((_, None)) => DepthEntry::new(
            &probe,
            format!("error: unsupported frame size {frame}"),
            started,
        ),
        Err(e) => DepthEntry::new(&probe, format!("error: {e}"), started),
    }
}

/// A configuration error in `STACKHEAP_STACK_SIZES` / `STACKHEAP_FRAME_SIZES`: one line naming the
/// variable and what was expected.
pub use crate::results::InputError as ConfigError;

/// Parses a size such as `65536`, `64K`, `64KiB`, `8M` or `1G` (binary units).
pub fn parse_size(text: &str) -> Option<usize> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: usize = digits.parse().ok()?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return None,
    };
    number.checked_mul(1 << shift)
}

/// The largest stack size the suite probes: beyond it a request is a typo (`100000G`), not a stack,
/// and the thread spawn would fail.
pub const MAX_STACK_BYTES: usize = 4 << 30;

/// The stack sizes to probe: `STACKHEAP_STACK_SIZES` (comma-separated sizes) or the defaults.
pub fn stack_sizes_from(value: Option<&str>) -> Result<Vec<usize>, ConfigError> {
    let Some(value) = value else {
        return Ok(DEFAULT_STACK_SIZES.to_vec());
    };
    crate::config::parse_list("STACKHEAP_STACK_SIZES", value, |item| {
        match parse_size(item) {
            Some(size) if (1..=MAX_STACK_BYTES).contains(&size) => Ok(size),
            Some(_) => Err("is not a stack size this suite probes: expected 1 byte to 4G".into()),
            None => Err("is not a stack size: expected positive sizes such as 65536,64K,8M".into()),
        }
    })
    .map_err(ConfigError)
}

/// The frame sizes to probe: `STACKHEAP_FRAME_SIZES` (comma-separated) or the defaults.
pub fn frame_sizes_from(value: Option<&str>) -> Result<Vec<usize>, ConfigError> {
    let Some(value) = value else {
        return Ok(DEFAULT_FRAME_SIZES.to_vec());
    };
    crate::config::parse_list("STACKHEAP_FRAME_SIZES", value, |item| {
        parse_size(item)
            .filter(|size| SUPPORTED_FRAME_SIZES.contains(size))
            .ok_or_else(|| {
                format!(
                    "is not a supported frame size: expected some of {SUPPORTED_FRAME_SIZES:?} (bytes)"
                )
            })
    })
    .map_err(ConfigError)
}

/// A size for people: `64 KiB`, `2 MiB`, `300 B`.
pub fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b if b >= 1 << 20 => format!("{:.2} MiB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// The printed table of probe results.
pub fn format_table(entries: &[DepthEntry]) -> String {
    let opt = |v: Option<u64>| v.map_or("-".into(), |v| v.to_string());
    let mut out = format!(
        "{:<15} {:>10} {:>10} {:>9} {:>11} {:>11} {:>8} {:>11} {:>11} {:>9}  outcome\n",
        "kind",
        "requested",
        "granted",
        "frame",
        "measured",
        "predicted",
        "diff %",
        "size/level",
        "bytes/level",
        "probe ms"
    );
    for e in entries {
        out += &format!(
            "{:<15} {:>10} {:>10} {:>9} {:>11} {:>11} {:>8} {:>11} {:>11} {:>9.1}  {}\n",
            e.kind.to_string(),
            e.requested_stack_bytes
                .map_or("default".into(), human_bytes),
            e.granted_stack_bytes.map_or("-".into(), human_bytes),
            human_bytes(e.frame_bytes),
            // A local_array probe's measurement is the largest array, in bytes.
            opt(e.measured_depth.or(e.largest_local_array_bytes)),
            opt(e.predicted_depth.or(e.predicted_local_array_bytes)),
            e.difference_percent
                .map_or("-".into(), |d| format!("{d:+.2}")),
            opt(e.naive_depth),
            opt(e.bytes_per_level),
            e.probe_ms,
            e.outcome
        );
    }
    out
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
        ChildCommand {
            exe: std::env::current_exe().unwrap(),
            args: [
                "depth::tests::probe_child_entry",
                "--exact",
                "--test-threads=1",
            ]
            .map(String::from)
            .to_vec(),
        }
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
    fn recursion_and_heap_loop_compute_the_same_checksum() {
        // Levels 1..=n: each adds depth + (depth as u8) on the way back.
        let n = 300u64;
        let expected: u64 = (1..=n).map(|d| d + u64::from(d as u8)).sum();
        assert_eq!(recurse_to(256, n), Some(expected));
        assert_eq!(heap_loop_for(256, n), Some((n, expected)));
        assert_eq!(recurse_to(100, n), None);
    }

    #[test]
    fn the_largest_local_array_is_found_within_a_page_of_the_prediction() {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let mut largest = Vec::new();
        for stack in [256 << 10, 1 << 20] {
            let e = run_local_array_probe(&test_child(), stack, Duration::from_secs(20));
            assert_eq!(e.outcome, "largest_found", "{e:?}");
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
            assert_eq!(e.outcome, "overflow", "{e:?}");
            assert!(e.difference_percent.unwrap().abs() <= 1.0, "{e:?}");
            assert!(e.bytes_per_level.unwrap() >= 1024);
        }
        let ratio = two.measured_depth.unwrap() as f64 / one.measured_depth.unwrap() as f64;
        assert!((ratio - 2.0).abs() <= 0.04, "1 MiB -> 2 MiB gave x{ratio}");
    }

    #[test]
    fn rayon_and_rust_min_stack_threads_get_the_stack_asked_for() {
        let rayon = probe(ProbeKind::Rayon, Some(512 << 10), 256);
        assert_eq!(rayon.outcome, "overflow", "{rayon:?}");
        assert_eq!(rayon.granted_stack_bytes, Some(512 << 10));
        let min_stack = probe(ProbeKind::RustMinStack, Some(RUST_MIN_STACK_PROBE), 4096);
        assert_eq!(min_stack.outcome, "overflow", "{min_stack:?}");
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
            exit.outcome.starts_with("error: exited with status 0"),
            "{exit:?}"
        );
        let segv = probe(ProbeKind::MisbehaveSignal, None, 0);
        assert_eq!(segv.outcome, "error: killed by signal 11 (SIGSEGV)");
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
        assert_eq!(hang.outcome, "error: hung: killed after 0.3 s");
        assert_eq!(hang.measured_depth, None);
    }

    #[test]
    fn a_stack_size_the_platform_rejects_is_a_clear_error() {
        let huge = probe(ProbeKind::StdThread, Some(1 << 46), 0);
        assert!(
            huge.outcome.starts_with("error: the platform refused the thread: error: probe child: cannot start a thread with a 70368744177664 B stack"),
            "{huge:?}"
        );
        assert_eq!(huge.measured_depth, None);
    }

    #[test]
    fn heap_loop_goes_far_deeper_than_the_stack() {
        let entry = run_heap_loop(2 << 20, 0, 1_000_000);
        assert_eq!(entry.outcome, "cap_reached");
        assert_eq!(entry.measured_depth, Some(1_000_000));
    }

    #[test]
    fn sizes_parse_with_binary_units_and_bad_values_name_the_variable() {
        assert_eq!(parse_size("64K"), Some(65536));
        assert_eq!(parse_size("8MiB"), Some(8 << 20));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(stack_sizes_from(Some("16K, 1M")), Ok(vec![16384, 1 << 20]));
        assert_eq!(stack_sizes_from(None).unwrap().len(), 6);
        let err = stack_sizes_from(Some("64K,lots")).unwrap_err();
        assert!(
            err.0
                .starts_with("STACKHEAP_STACK_SIZES: 'lots' is not a stack size"),
            "{err}"
        );
        assert!(stack_sizes_from(Some("0")).is_err());
        let err = frame_sizes_from(Some("300")).unwrap_err();
        assert!(
            err.0
                .starts_with("STACKHEAP_FRAME_SIZES: '300' is not a supported frame size")
        );
        assert_eq!(frame_sizes_from(Some("0,16K")), Ok(vec![0, 16384]));
        // Regressions: a size beyond any stack passed the parser and panicked at spawn; duplicates
        // (also spelled differently) reached Criterion's duplicate-id assertion.
        let err = stack_sizes_from(Some("100000G")).unwrap_err();
        assert!(
            err.0
                .contains("'100000G' is not a stack size this suite probes"),
            "{err}"
        );
        assert!(
            stack_sizes_from(Some("64K,65536"))
                .unwrap_err()
                .0
                .contains("repeats '64K'")
        );
        assert!(
            frame_sizes_from(Some("0,0"))
                .unwrap_err()
                .0
                .contains("repeats '0'")
        );
    }

    #[test]
    fn probes_leave_no_file_behind() {
        let before = std::fs::read_dir(std::env::temp_dir()).unwrap().count();
        let e = probe(ProbeKind::StdThread, Some(64 << 10), 256);
        assert_eq!(e.outcome, "overflow");
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
