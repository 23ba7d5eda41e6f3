//! Instruction counts of the single-threaded workloads (stack arrays, heap boxes per allocator,
//! recursion per frame), from callgrind on fixed iteration counts: deterministic where wall-clock
//! time is not, so a CI gate on them can use a tight threshold.
//!
//! The `stackheap-icount` binary runs one workload a fixed number of times inside
//! [`icount_measured_region`]; callgrind collects only inside that function
//! (`--collect-atstart=no --toggle-collect=*icount_measured_region*`), so process start-up, allocator
//! initialisation and argument parsing are not counted.

use crate::allocators::{AllocatorKind, Jemalloc, MiMalloc, NamedAllocator, System};
use crate::arrays::{heap_box, size_label, stack_array};
use crate::depth::recurse_to;
use serde::{Deserialize, Serialize};
use std::hint::black_box;
use std::path::Path;

/// Iterations per counted run of a workload: enough to amortise one-time effects (first use of a
/// size class), few enough that callgrind (about 50x slower than native) stays quick. Counts are
/// deterministic whatever the number; it only has to be the same for baseline and candidate.
pub fn iterations(id: &str) -> u64 {
    let heavy = [
        "0065536",
        "recursion_level/0004096",
        "recursion_level/0016384",
    ];
    if heavy.iter().any(|h| id.ends_with(h)) {
        50
    } else {
        1000
    }
}
/// Levels per recursion iteration (as the Criterion bench times).
pub const RECURSION_LEVELS: u64 = 64;
/// Sizes counted for stack arrays and heap boxes.
pub const SIZES: [usize; 3] = [64, 4096, 65536];
/// Frame sizes counted for recursion.
pub const FRAMES: [usize; 5] = [0, 256, 1024, 4096, 16384];

/// The workload ids, named like the Criterion benchmarks they mirror.
pub fn workload_ids() -> Vec<String> {
    let mut ids = Vec::new();
    for size in SIZES {
        ids.push(format!("stack_vs_heap/stack_array/{}", size_label(size)));
        for alloc in AllocatorKind::ALL {
            ids.push(format!(
                "stack_vs_heap/heap_box/{alloc}/{}",
                size_label(size)
            ));
        }
    }
    for frame in FRAMES {
        ids.push(format!("stack_depth/recursion_level/{}", size_label(frame)));
    }
    ids
}

/// A workload iteration, resolved from its id before counting starts (so that parsing the id is not
/// counted).
pub type Workload = fn(u8) -> u64;

fn recurse_frame<const F: usize>(_seed: u8) -> u64 {
    recurse_to(F, RECURSION_LEVELS).unwrap_or(0)
}

/// The workload named `id`; `None` for an unknown id.
pub fn resolve(id: &str) -> Option<Workload> {
    macro_rules! sized {
        ($size:expr, |$n:ident| $f:expr) => {
            match $size {
                "0000064" => {
                    const $n: usize = 64;
                    $f
                }
                "0004096" => {
                    const $n: usize = 4096;
                    $f
                }
                "0065536" => {
                    const $n: usize = 65536;
                    $f
                }
                _ => return None,
            }
        };
    }
    let parts: Vec<&str> = id.split('/').collect();
    Some(match parts.as_slice() {
        ["stack_vs_heap", "stack_array", s] => sized!(*s, |N| stack_array::<N> as Workload),
        ["stack_vs_heap", "heap_box", "system", s] => {
            sized!(*s, |N| |seed| heap_box::<System, N>(System::get(), seed))
        }
        ["stack_vs_heap", "heap_box", "jemalloc", s] => {
            sized!(*s, |N| |seed| heap_box::<Jemalloc, N>(
                Jemalloc::get(),
                seed
            ))
        }
        ["stack_vs_heap", "heap_box", "mimalloc", s] => {
            sized!(*s, |N| |seed| heap_box::<MiMalloc, N>(
                MiMalloc::get(),
                seed
            ))
        }
        ["stack_depth", "recursion_level", "0000000"] => recurse_frame::<0>,
        ["stack_depth", "recursion_level", "0000256"] => recurse_frame::<256>,
        ["stack_depth", "recursion_level", "0001024"] => recurse_frame::<1024>,
        ["stack_depth", "recursion_level", "0004096"] => recurse_frame::<4096>,
        ["stack_depth", "recursion_level", "0016384"] => recurse_frame::<16384>,
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

/// One counted workload.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IcountEntry {
    pub id: String,
    pub iterations: u64,
    pub instructions: u64,
    pub instructions_per_iter: f64,
}

impl crate::results::SuiteEntry for IcountEntry {
    fn key(&self) -> String {
        self.id.clone()
    }

    /// Counts of zero, or a per-iteration figure that is not positive and finite (a verdict
    /// computed from it would read "+inf%").
    fn problem(&self) -> Option<String> {
        (self.iterations == 0
            || self.instructions == 0
            || !(self.instructions_per_iter.is_finite() && self.instructions_per_iter > 0.0))
            .then(|| {
                "iterations, instructions and instructions_per_iter must be positive and finite"
                    .into()
            })
    }
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

/// Counts the instructions of `id` by running `exe run <id> <iterations>` under callgrind.
pub fn count(exe: &Path, id: &str, iterations: u64, scratch: &Path) -> Result<IcountEntry, String> {
    let out_file = scratch.join(format!("callgrind.{}.out", id.replace('/', "_")));
    let output = std::process::Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg("--collect-atstart=no")
        .arg("--toggle-collect=*icount_measured_region*")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(exe)
        .args(["run", id, &iterations.to_string()])
        .output()
        .map_err(|e| {
            format!(
                "cannot run valgrind ({e}): expected valgrind on PATH (apt-get install valgrind)"
            )
        })?;
    if !output.status.success() {
        return Err(format!(
            "callgrind run of {id} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ));
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
        assert!(resolve("stack_vs_heap/heap_box/tcmalloc/0000064").is_none());
        assert!(resolve("stack_vs_heap/stack_array/0000100").is_none());
    }

    #[test]
    fn callgrind_totals_are_parsed() {
        let text = "events: Ir\nfn=(1) main\n1 5\nsummary: 123456\ntotals: 123456\n";
        assert_eq!(parse_callgrind_total(text), Some(123456));
        assert_eq!(parse_callgrind_total("events: Ir\n"), None);
    }
}
