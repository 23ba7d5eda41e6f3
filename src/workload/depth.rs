//! The recursion whose depth the stack-depth probes measure: one call per level with a local array
//! of a chosen size, the same recursion with its levels kept on the heap, and one large local array.
//! Each records into a [`ProbeRecord`] how deep it got; the probe that runs them in child processes
//! is `harness::depth_probe`.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Levels one timed recursion goes deep (`stack_depth/recursion_level/<frame>`, wall clock and
/// instruction counts alike): deep enough to amortise the call, shallow enough for 16 KiB frames
/// (1 MiB) to fit the bench's main-thread stack.
pub const TIMED_LEVELS: u64 = 64;

/// Frame array sizes probed by default: 0 is the minimal frame, 16 KiB spans several pages.
pub const DEFAULT_FRAME_SIZES: [usize; 5] = [0, 256, 1024, 4096, 16384];
/// The frame sizes compiled into the probe (each is a separate instance of [`recurse`]).
pub const SUPPORTED_FRAME_SIZES: [usize; 10] =
    [0, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384];

/// What the recursion records as it goes, in a form a probe child shares with its parent (one page of
/// shared memory): the values survive the abort a stack overflow ends the child with.
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
    pub fn record_stack_bounds(&self) {
        if let Some((low, size)) = crate::platform::current_stack_bounds() {
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

    /// Marks that the thread could not be created (the platform refused the stack size).
    pub fn mark_spawn_failed(&self) {
        self.spawn_failed.store(1, Relaxed);
    }

    pub fn spawn_failed(&self) -> bool {
        self.spawn_failed.load(Relaxed) != 0
    }

    /// Whether [`local_array`] reserved its array and wrote every page of it.
    pub fn array_fitted(&self) -> bool {
        self.array_fitted.load(Relaxed) == 1
    }

    /// The largest local array [`local_array`] should fit: the stack left below the call that
    /// reserves it, less [`LOCAL_ARRAY_OVERHEAD`]; `None` before a call recorded where it began.
    pub fn predicted_local_array_bytes(&self) -> Option<u64> {
        let low = self.stack_low.load(Relaxed);
        let call = self.array_call_addr.load(Relaxed);
        (call > low).then(|| (call - low).saturating_sub(LOCAL_ARRAY_OVERHEAD as u64))
    }
}

// The record must fit the one page a probe child shares with its parent.
const _: () = assert!(std::mem::size_of::<ProbeRecord>() <= 4096);

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

/// Calls `$body` with `F` bound to the const matching a runtime frame size (one arm per supported
/// size: the same list as [`SUPPORTED_FRAME_SIZES`], checked by a test), or evaluates `$none`.
macro_rules! with_frame_size {
    ($frame:expr, |$f:ident| $body:expr, $none:expr) => {
        with_frame_size!(@arms $frame, $f, $body, $none; 0, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)
    };
    (@arms $frame:expr, $f:ident, $body:expr, $none:expr; $($size:literal),*) => {
        match $frame {
            $($size => {
                const $f: usize = $size;
                $body
            })*
            _ => $none,
        }
    };
}

/// Recurses without limit with frame size `frame` (one of [`SUPPORTED_FRAME_SIZES`]); never returns
/// normally: the stack overflows.
pub fn recurse_forever(frame: usize, probe: &ProbeRecord) -> u64 {
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

/// Starts a thread with a `stack`-byte stack that returns at once, and joins it: what creating a
/// thread with that stack costs.
pub fn spawn_join(stack: usize) -> std::io::Result<u64> {
    std::thread::Builder::new()
        .stack_size(stack)
        .spawn(|| black_box(1u64))?
        .join()
        .map_err(|_| std::io::Error::other("the spawned thread panicked"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn spawn_join_starts_and_joins_a_thread_and_refuses_an_impossible_stack() {
        assert_eq!(spawn_join(64 << 10).unwrap(), 1);
        assert!(spawn_join(1 << 46).is_err());
    }

    #[test]
    fn every_supported_frame_size_is_compiled_in_and_the_defaults_are_supported() {
        for frame in SUPPORTED_FRAME_SIZES {
            assert!(recurse_to(frame, 3).is_some(), "frame {frame}");
            assert!(heap_loop_for(frame, 3).is_some(), "frame {frame}");
        }
        assert!(
            DEFAULT_FRAME_SIZES
                .iter()
                .all(|f| SUPPORTED_FRAME_SIZES.contains(f))
        );
    }
}
