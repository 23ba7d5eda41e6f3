//! Instruction counts of the single-threaded workloads (stack arrays, heap boxes per allocator,
//! recursion per frame), from callgrind on fixed iteration counts: deterministic where wall-clock
//! time is not, so a CI gate on them can use a tight threshold.
//!
//! The `stackheap-icount` binary runs one workload a fixed number of times inside
//! [`icount_measured_region`]; callgrind collects only inside that function
//! (`--collect-atstart=no --toggle-collect=*icount_measured_region*`), so process start-up, allocator
//! initialisation and argument parsing are not counted.

use crate::data::icount::IcountEntry;
use crate::data::id::{BenchId, CI_SIZES, DepthBench, HeapKind, StackKind};
use crate::workload::allocators::AllocatorKind;
use crate::workload::arrays::{heap_box, stack_array};
use crate::workload::depth::{DEFAULT_FRAME_SIZES, TIMED_LEVELS, recurse_to};
use std::hint::black_box;
use std::path::Path;

/// Iterations per counted run of a workload: enough to amortise one-time effects (first use of a
/// size class), few enough that callgrind (about 50x slower than native) stays quick. Counts are
/// deterministic whatever the number; it only has to be the same for baseline and candidate.
pub fn iterations(id: &BenchId) -> u64 {
    let heavy = match *id {
        BenchId::Depth { bytes, .. } => bytes >= 4096,
        _ => id.bytes().is_some_and(|b| b >= 65536),
    };
    if heavy { 50 } else { 1000 }
}

/// The workloads counted: stack arrays and heap boxes at the CI sizes, recursion at every default
/// frame size, named like the Criterion benchmarks they mirror.
pub fn workload_ids() -> Vec<BenchId> {
    let mut ids = Vec::new();
    for bytes in CI_SIZES {
        ids.push(BenchId::Stack {
            kind: StackKind::Array,
            bytes,
        });
        ids.extend(AllocatorKind::ALL.map(|allocator| BenchId::Heap {
            kind: HeapKind::Box,
            allocator,
            bytes,
        }));
    }
    ids.extend(DEFAULT_FRAME_SIZES.map(|frame| BenchId::Depth {
        kind: DepthBench::RecursionLevel,
        bytes: frame as u64,
    }));
    ids
}

/// A workload iteration, resolved from its id before counting starts (so that parsing the id is not
/// counted).
pub type Workload = fn(u8) -> u64;

fn recurse_frame<const F: usize>(_seed: u8) -> u64 {
    recurse_to(F, TIMED_LEVELS).unwrap_or(0)
}

/// The `heap_box` workload of an allocator chosen at run time, at one of the CI sizes: a function
/// pointer cannot carry the allocator, so each is reached by its type (a library through `System`,
/// in a process whose `malloc` it is).
fn heap_box_row(kind: AllocatorKind, bytes: u64) -> Option<Workload> {
    use crate::workload::allocators::{Jemalloc, MiMalloc, NamedAllocator, SnMalloc, System};
    fn row<A: NamedAllocator, const N: usize>(seed: u8) -> u64 {
        heap_box::<A, N>(A::get(), seed)
    }
    crate::workload::arrays::at_size!(bytes, N => match kind {
        AllocatorKind::System | AllocatorKind::Library(_) => row::<System, N> as Workload,
        AllocatorKind::Jemalloc => row::<Jemalloc, N>,
        AllocatorKind::Mimalloc => row::<MiMalloc, N>,
        AllocatorKind::Snmalloc => row::<SnMalloc, N>,
    })
}

/// The workload of `id`; `None` for an id that is not counted.
pub fn resolve(id: &BenchId) -> Option<Workload> {
    Some(match *id {
        BenchId::Stack {
            kind: StackKind::Array,
            bytes,
        } => crate::workload::arrays::at_size!(bytes, N => stack_array::<N> as Workload)?,
        BenchId::Heap {
            kind: HeapKind::Box,
            allocator,
            bytes,
        } => heap_box_row(allocator, bytes)?,
        BenchId::Depth {
            kind: DepthBench::RecursionLevel,
            bytes,
        } => match bytes {
            0 => recurse_frame::<0>,
            256 => recurse_frame::<256>,
            1024 => recurse_frame::<1024>,
            4096 => recurse_frame::<4096>,
            16384 => recurse_frame::<16384>,
            _ => return None,
        },
        _ => return None,
    })
}

/// Runs `workload` `iterations` times; callgrind counts only what happens inside this function.
#[inline(never)]
pub fn icount_measured_region(workload: Workload, iterations: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..iterations {
        sum = sum.wrapping_add(black_box(workload)(i as u8));
    }
    sum
}

/// Reads the total instruction count (`Ir`) from a callgrind output file.
pub fn parse_callgrind_total(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// One counted run takes seconds under callgrind here; one still running after this is stuck.
const CALLGRIND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// Counts the instructions of `id` by running `exe run <id> <iterations>` under callgrind.
pub fn count(exe: &Path, id: &str, iterations: u64, scratch: &Path) -> Result<IcountEntry, String> {
    let out_file = scratch.join(format!("callgrind.{}.out", id.replace('/', "_")));
    let mut command = std::process::Command::new("valgrind");
    command
        .arg("--tool=callgrind")
        .arg("--collect-atstart=no")
        .arg("--toggle-collect=*icount_measured_region*")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(exe)
        .args(["run", id, &iterations.to_string()]);
    let ended = crate::harness::child::run(command, CALLGRIND_TIMEOUT).map_err(|e| {
        format!("cannot run valgrind ({e}): expected valgrind on PATH (apt-get install valgrind)")
    })?;
    if let Some(failure) = ended.failure() {
        return Err(format!("callgrind run of {id} {failure}"));
    }
    let text =
        std::fs::read_to_string(&out_file).map_err(|e| format!("{}: {e}", out_file.display()))?;
    let _ = std::fs::remove_file(&out_file);
    let instructions = parse_callgrind_total(&text)
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            format!(
                "{}: no instruction total: expected a callgrind output with collection toggled on",
                out_file.display()
            )
        })?;
    Ok(IcountEntry {
        id: id.to_owned(),
        iterations,
        instructions,
        instructions_per_iter: instructions as f64 / iterations as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_runs_and_unknown_ids_do_not() {
        for id in workload_ids() {
            let workload = resolve(&id).unwrap_or_else(|| panic!("{id} resolves"));
            assert!(icount_measured_region(workload, 2) > 0, "{id}");
        }
        let uncounted: BenchId = "stack_vs_heap/stack_array/0000100".parse().unwrap();
        assert!(resolve(&uncounted).is_none());
        let uncounted: BenchId = "contention/larson/system/t1".parse().unwrap();
        assert!(resolve(&uncounted).is_none());
    }

    #[test]
    fn callgrind_totals_are_parsed() {
        let text = "events: Ir\nfn=(1) main\n1 5\nsummary: 123456\ntotals: 123456\n";
        assert_eq!(parse_callgrind_total(text), Some(123456));
        assert_eq!(parse_callgrind_total("events: Ir\n"), None);
    }
}
