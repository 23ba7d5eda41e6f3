//! The comparison engine's worker process (`stackheap-worker`): a long-lived process of one build
//! that runs a row for a given number of iterations when the supervisor asks, and answers with the
//! time it took. The rows are the bench binaries' workload functions, called the way the benches
//! call them; the supervisor is `harness::engine` (the gate is its two-build case).
//!
//! The protocol is one line each way, so that the supervisor can wait blocked on a pipe: the
//! worker starts with `ready <PROTOCOL>`; then `sample <id> <iterations>` answers
//! `ok <nanoseconds>` (the time of `iterations` calls, after one untimed call: CPU time for a
//! row on the worker's own thread, wall time for a row of threads of its own),
//! `calibrate <id> <nanoseconds>` answers `ok <iterations>` (how many make a sample at least that
//! long), `touch <id> <iterations>` runs a heap first-touch row (each touch after its untimed
//! set-up) and answers `ok <nanoseconds> <faults> <huge faults> <pages> <iterations>`, and anything
//! it cannot do answers `error <why>`. End of input ends it.

use crate::data::id::{BenchId, HeapKind, LargeBox, Layout, Owner, StackKind};
use crate::harness::touch_meter::{HeapTouchRow, TouchMeter};
use crate::workload::allocators::{AllocatorKind, AllocatorVisitor, HeapAllocator};
use crate::workload::arrays::{
    HeapBlock, alloc_free, at_size, box_from_vec, box_new_array, box_new_zeroed, heap_box,
    heap_reused, page_size, stack_array, stack_reserve,
};
use crate::workload::contention::run_named;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hint::black_box;
use std::io::{BufRead, Write};
use std::time::Duration;

/// The protocol's version: the supervisor refuses a worker that speaks another. 2: a row on the
/// worker's own thread answers its CPU time, not its wall time (a build before that change cannot
/// be compared with one after it).
pub const PROTOCOL: u32 = 2;

/// A row the worker can run: `iterations` calls (or contention rounds), timed as a whole.
pub type Sampler = Box<dyn FnMut(u64) -> Result<Duration, String>>;

/// `iterations` calls of `call`, each result through `black_box`, as Criterion's `iter` does, timed
/// by this thread's CPU clock ([`crate::platform::thread_cpu_time`]): every row timed here runs on
/// the worker's own thread, so its CPU time is its cost, without the stretches another process
/// held the CPU. On a machine kept busy 2 s of every 4 (issue #28's busy program), a
/// control's session ratios (stack_array 4 KiB against itself, bracketed, four rounds) spread 0.68
/// to 2.11 (5th to 95th percentile, 100 sessions) by the wall clock and 0.97 to 1.03 by this one,
/// the same samples (AMD EPYC 2-vCPU VM, 2026-12-03). Rows of threads of their own (contention)
/// keep the wall clock: waiting for one another is part of their cost.
fn time_calls(iterations: u64, mut call: impl FnMut() -> u64) -> Duration {
    let start = crate::platform::thread_cpu_time();
    for _ in 0..iterations {
        black_box(call());
    }
    crate::platform::thread_cpu_time().saturating_sub(start)
}

/// A heap row of one kind and size, for an allocator chosen at run time.
struct HeapRow(HeapKind, u64);

impl AllocatorVisitor for HeapRow {
    type Output = Option<Sampler>;
    fn visit<A: HeapAllocator>(self, _: AllocatorKind, alloc: &'static A) -> Option<Sampler> {
        let HeapRow(kind, bytes) = self;
        at_size!(bytes, N => match kind {
            HeapKind::Box => Box::new(move |iterations| {
                Ok(time_calls(iterations, || heap_box::<A, N>(alloc, black_box(7))))
            }) as Sampler,
            HeapKind::Reused => {
                // Allocated once, when the row is first asked for, and reused by every sample.
                let mut block = HeapBlock::new(alloc, N);
                Box::new(move |iterations| {
                    Ok(time_calls(iterations, || heap_reused::<A, N>(&mut block, black_box(7))))
                })
            }
            HeapKind::AllocFree => {
                let page = page_size();
                Box::new(move |iterations| {
                    Ok(time_calls(iterations, || alloc_free::<A, N>(alloc, page, black_box(7))))
                })
            }
        })
    }
}

/// A heap list walk at one working set of `workload::locality::WORKING_SETS`, for an allocator
/// chosen at run time: the nodes are built once, when the row is first asked for, and walked by
/// every sample (as the Criterion bench builds them once and times the walks).
struct LocalityRow(Layout, usize);

impl AllocatorVisitor for LocalityRow {
    type Output = Option<Sampler>;
    fn visit<A: HeapAllocator>(self, _: AllocatorKind, alloc: &'static A) -> Option<Sampler> {
        use crate::workload::locality::*;
        let LocalityRow(layout, working_set) = self;
        if !WORKING_SETS.contains(&working_set) {
            return None;
        }
        // The nodes belong to the sampler for as long as the row lives.
        let (nodes, head): (Box<dyn std::any::Any>, usize) = match layout {
            Layout::Contiguous => {
                let nodes = ContiguousHeap::new(alloc, working_set);
                let head = nodes.head;
                (Box::new(nodes), head)
            }
            Layout::Scattered => {
                let nodes = Scattered::new(alloc, working_set, 42);
                let head = nodes.head;
                (Box::new(nodes), head)
            }
        };
        let expected = expected_walk(working_set / NODE_BYTES);
        let mut checked = false;
        Some(Box::new(move |iterations| {
            let _owned = &nodes;
            // Once, untimed: the walk reads what was linked (a sampler that had let its nodes go
            // walked freed memory in nanoseconds before this check existed).
            if !checked {
                let sum = walk(black_box(head));
                if sum != expected {
                    return Err(format!("the walk summed {sum}, expected {expected}"));
                }
                checked = true;
            }
            Ok(time_calls(iterations, || walk(black_box(head))))
        }))
    }
}

/// The sampler of `id`, or `None` for a row the worker does not run. It runs the rows the gate
/// and the comparison groups sample: every stack and heap row of the stack-vs-heap sizes
/// (`stack_array`, `stack_reserve`, `heap_box`, `heap_reused`, `alloc_free`) and every
/// contention row.
fn sampler(id: &BenchId) -> Option<Sampler> {
    match *id {
        BenchId::Stack { kind, bytes } => at_size!(bytes, N => match kind {
            StackKind::Array => Box::new(|iterations| {
                Ok(time_calls(iterations, || stack_array::<N>(black_box(7))))
            }) as Sampler,
            StackKind::Reserve => {
                let page = page_size();
                Box::new(move |iterations| {
                    Ok(time_calls(iterations, || stack_reserve::<N>(page, black_box(7))))
                })
            }
        }),
        BenchId::Heap {
            kind,
            allocator,
            bytes,
        } => allocator.visit(HeapRow(kind, bytes)),
        BenchId::Locality {
            layout,
            owner: Owner::Heap(allocator),
            bytes,
        } => allocator.visit(LocalityRow(layout, bytes as usize)),
        // The process's own allocator: glibc's malloc in the plain worker, as in the bench.
        BenchId::BoxNewLarge {
            how,
            allocator: AllocatorKind::System,
            bytes,
        } => at_size!(bytes, N => {
            let call: fn(u8) -> u64 = match how {
                LargeBox::Array => box_new_array::<N>,
                LargeBox::Zeroed => box_new_zeroed::<N>,
                LargeBox::Vec => box_from_vec::<N>,
            };
            Box::new(move |iterations| Ok(time_calls(iterations, || call(black_box(7))))) as Sampler
        }),
        BenchId::Contention {
            workload,
            allocator,
            threads,
        } => Some(Box::new(move |rounds| {
            run_named(allocator, workload, threads, rounds)
                .map(|(elapsed, _)| elapsed)
                .map_err(|e| e.to_string())
        })),
        _ => None,
    }
}

/// Whether the worker runs `id`.
pub fn runs(id: &BenchId) -> bool {
    sampler(id).is_some()
}

/// How many iterations of `sample` take about `target`: doubled from one until a sample takes at
/// least a quarter of it, then scaled by the median of three samples of that count; all after one
/// call that is not counted: the first call in a fresh process pays for the allocator's set-up
/// (mimalloc's first segment takes longer than thousands of later calls), and calibrating on it
/// would make samples far too short.
///
/// The first power of two whose one sample reaches the target made samples one to two targets
/// long, and on a row whose samples spread ±50% (a contention row of threads that wait for one
/// another) that one sample chose anywhere from an eighth to twice the count: in two runs of the
/// same 18 contention groups, `producer_consumer_foreign` t2 sampled 1 iteration (0.5 ms against
/// a target of 8 ms) in one run and 32 in the other, and a session of `larson` t2 took 0.70 s
/// where its 29 samples of 16 ms come to 0.46 s (the AMD EPYC 2-vCPU VM, 2026-12-03). The three
/// samples, each a quarter to a half of the target, cost about one target once a run, and their
/// median is steadier than one sample.
pub fn calibrate(
    sample: &mut dyn FnMut(u64) -> Result<Duration, String>,
    target: Duration,
) -> Result<u64, String> {
    const MOST: u64 = 1 << 40;
    sample(1)?;
    let mut iterations = 1u64;
    while sample(iterations)? < target / 4 && iterations < MOST {
        iterations *= 2;
    }
    let mut times = [
        sample(iterations)?,
        sample(iterations)?,
        sample(iterations)?,
    ];
    times.sort_unstable();
    // A clock that read nothing for all three (a row far faster than its resolution) keeps the
    // count that reached a quarter of the target, times four.
    let per_iteration = times[1].as_secs_f64() / iterations as f64;
    let scaled = if per_iteration > 0.0 {
        (target.as_secs_f64() / per_iteration).round()
    } else {
        4.0 * iterations as f64
    };
    Ok((scaled as u64).clamp(1, MOST))
}

/// The rows a worker was asked for, each built on its first request, so that a later request
/// parses nothing and builds nothing before it times the row.
#[derive(Default)]
struct Rows {
    samplers: HashMap<String, Sampler>,
    touches: HashMap<String, HeapTouchRow>,
}

/// The row `id`, parsed; a library's row only where the library is this process's malloc, proved.
fn proved_row(id: &str) -> Result<BenchId, String> {
    let bench: BenchId = id.parse().map_err(|e: crate::error::InputError| e.0)?;
    if let Some(kind) = bench.allocator() {
        crate::harness::settings::proof_of(kind)?;
    }
    Ok(bench)
}

/// The heap first-touch row `id` (`first_touch/<kind>/<allocator>/<bytes>`).
fn touch_row(id: &str) -> Result<HeapTouchRow, String> {
    match proved_row(id)? {
        BenchId::FirstTouch {
            kind,
            allocator: Some(allocator),
            bytes,
        } => HeapTouchRow::new(kind, allocator, bytes as usize),
        _ => None,
    }
    .ok_or_else(|| {
        format!(
            "{id}: not a heap first-touch row (expected first_touch/<kind>/<allocator>/<bytes>)"
        )
    })
}

/// The answer to `touch`: the touches' time and what they counted.
fn format_touches(elapsed: Duration, meter: &TouchMeter) -> String {
    format!(
        "{} {} {} {} {}",
        elapsed.as_nanos(),
        meter.faults,
        meter.huge_faults,
        meter.pages,
        meter.iterations
    )
}

/// Reads the worker's answer to `touch` back: `<ns> <faults> <huge faults> <pages> <iterations>`.
pub fn parse_touches(answer: &str) -> Option<(Duration, TouchMeter)> {
    let numbers: Vec<u64> = answer
        .split_whitespace()
        .map(|w| w.parse().ok())
        .collect::<Option<_>>()?;
    let [ns, faults, huge_faults, pages, iterations] = numbers[..] else {
        return None;
    };
    let meter = TouchMeter {
        faults,
        huge_faults,
        pages,
        iterations,
    };
    Some((Duration::from_nanos(ns), meter))
}

/// Answers one request line.
fn answer(line: &str, rows: &mut Rows) -> Result<String, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let (command, id, number) = match words[..] {
        [command, id, number] => (command, id, number),
        _ => {
            return Err(format!(
                "'{line}': expected 'sample <id> <iterations>', 'calibrate <id> <nanoseconds>', 'touch <id> <iterations>' or 'prove <allocator> 1'"
            ));
        }
    };
    if command == "prove" {
        // `prove <allocator> 1`: the evidence that this process's malloc is that allocator's.
        let kind: AllocatorKind = id.parse().map_err(|e: crate::error::InputError| e.0)?;
        return crate::harness::settings::proof_of(kind);
    }
    let number: u64 = number
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("'{number}': expected a whole number > 0"))?;
    if command == "touch" {
        let row = match rows.touches.entry(id.to_owned()) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(new) => new.insert(touch_row(id)?),
        };
        let mut meter = TouchMeter::default();
        let elapsed = row.time(&mut meter, number)?;
        return Ok(format_touches(elapsed, &meter));
    }
    let sample = match rows.samplers.entry(id.to_owned()) {
        Entry::Occupied(known) => known.into_mut(),
        Entry::Vacant(new) => {
            let bench = proved_row(id)?;
            new.insert(sampler(&bench).ok_or_else(|| {
                format!("{id}: not a row this worker runs (expected a row of `stackheap-report list --set gate`)")
            })?)
        }
    };
    match command {
        "sample" => {
            // One untimed call first, so that the sample does not pay for the caches, heap state
            // or sleeping threads that the row sampled before it (another member) left behind.
            sample(1)?;
            Ok(sample(number)?.as_nanos().to_string())
        }
        "calibrate" => calibrate(sample, Duration::from_nanos(number)).map(|n| n.to_string()),
        other => Err(format!(
            "'{other}': unknown request, expected sample, calibrate, touch or prove"
        )),
    }
}

/// The worker's loop: `ready`, then one answer per request line until the input ends.
pub fn serve(input: impl BufRead, output: impl Write) -> std::io::Result<()> {
    // The libraries named at run time, so that their rows' ids parse (a bad list ends the worker
    // with its one line before `ready`).
    crate::harness::settings::allocators_from_env().map_err(std::io::Error::other)?;
    let mut rows = Rows::default();
    serve_with(input, output, |line| answer(line, &mut rows))
}

/// The protocol's loop around `answer`, which turns one request line into the value of its `ok`
/// line or the reason of its `error` line: the gate's rows here, a user's workload in `own`.
pub fn serve_with(
    input: impl BufRead,
    mut output: impl Write,
    mut answer: impl FnMut(&str) -> Result<String, String>,
) -> std::io::Result<()> {
    writeln!(output, "ready {PROTOCOL}")?;
    output.flush()?;
    for line in input.lines() {
        let line = line?;
        match answer(&line) {
            Ok(value) => writeln!(output, "ok {value}")?,
            Err(why) => writeln!(output, "error {}", why.replace('\n', " "))?,
        }
        output.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::id::IdSet;

    #[test]
    fn the_worker_runs_every_row_the_gate_judges() {
        for id in IdSet::Gate.ids() {
            assert!(runs(&id), "{id}");
        }
    }

    #[test]
    fn the_worker_runs_every_member_of_every_report_group() {
        let allocators = AllocatorKind::all();
        for group in crate::data::groups::comparison_groups(&allocators, &[1, 2, 4], 2) {
            for id in group
                .ids
                .iter()
                .filter(|id| !id.allocator().is_some_and(|a| a.is_library()))
            {
                assert!(runs(id), "{}: {id}", group.name);
            }
        }
        let large = "stack_vs_heap/box_new_large_zeroed/system/1048576 4";
        let mut out = Vec::new();
        serve(format!("sample {large}\n").as_bytes(), &mut out).unwrap();
        assert!(
            String::from_utf8(out)
                .unwrap()
                .lines()
                .nth(1)
                .unwrap()
                .starts_with("ok ")
        );
    }

    #[test]
    fn a_heap_first_touch_row_answers_its_time_faults_and_pages() {
        let input = "touch first_touch/heap_growth/system/1048576 2\n\
                     touch first_touch/pretouched/jemalloc/0065536 3\n\
                     touch first_touch/mmap/0065536 1\n";
        let mut out = Vec::new();
        serve(input.as_bytes(), &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[2].starts_with("ok "), "{out}");
        let (elapsed, growth) = parse_touches(lines[1].strip_prefix("ok ").unwrap()).unwrap();
        assert!(elapsed > Duration::ZERO);
        assert_eq!((growth.iterations, growth.pages), (2, 2 * 256), "{out}");
        let (_, pretouched) = parse_touches(lines[2].strip_prefix("ok ").unwrap()).unwrap();
        assert_eq!(
            (pretouched.iterations, pretouched.pages),
            (3, 3 * 16),
            "{out}"
        );
        assert!(lines[3].contains("not a heap first-touch row"), "{out}");
    }

    #[test]
    fn requests_are_answered_one_line_each() {
        let input = "sample stack_vs_heap/heap_box/system/0000064 3\n\
                     calibrate contention/local_churn/mimalloc/t2 1000000\n\
                     sample stack_depth/spawn_join/0065536 3\n\
                     sample nonsense 3\n\
                     sample stack_vs_heap/stack_array/0000064 0\n\
                     jump\n";
        let mut out = Vec::new();
        serve(input.as_bytes(), &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 7, "{out}");
        assert_eq!(lines[0], format!("ready {PROTOCOL}"));
        for answer in &lines[1..3] {
            let value: u64 = answer.strip_prefix("ok ").unwrap().parse().unwrap();
            assert!(value > 0, "{answer}");
        }
        assert!(lines[3].starts_with("error stack_depth/spawn_join/0065536: not a row"));
        assert!(lines[4].starts_with("error "), "{}", lines[4]);
        assert!(lines[5].contains("expected a whole number > 0"));
        assert!(lines[6].contains("expected 'sample <id> <iterations>'"));
    }

    #[test]
    fn a_heap_walk_row_keeps_its_nodes_and_walks_all_of_them() {
        for id in [
            "locality/contiguous/system/0016384",
            "locality/scattered/jemalloc/0016384",
        ] {
            let mut sample = sampler(&id.parse().unwrap()).unwrap();
            // The first sample checks the walk's sum; a second walks the same nodes again.
            assert!(sample(3).is_ok(), "{id}");
            assert!(sample(3).is_ok(), "{id}");
        }
        assert!(sampler(&"locality/contiguous/system/0001000".parse().unwrap()).is_none());
    }

    #[test]
    fn calibration_reaches_the_target() {
        let mut sample = sampler(&"stack_vs_heap/stack_array/0004096".parse().unwrap()).unwrap();
        let iterations = calibrate(&mut sample, Duration::from_millis(2)).unwrap();
        // Structure only (the machine is shared): a 4 KiB fill takes well under 2 ms.
        assert!(iterations > 1, "{iterations}");
    }

    /// A row of a known cost: the count comes out at the target, not at the next power of two,
    /// and the uncounted first call (here a hundred times slower) does not shorten it.
    #[test]
    fn calibration_scales_to_the_target_from_the_median_of_three() {
        let mut calls = 0;
        let mut sample = |iterations: u64| {
            calls += 1;
            let per = if calls == 1 { 30_000 } else { 300 };
            Ok(Duration::from_nanos(per * iterations))
        };
        let iterations = calibrate(&mut sample, Duration::from_millis(2)).unwrap();
        assert_eq!(iterations, 6667);
        // One slow sample of the three (the fifteenth call: the first, twelve doublings to 2048,
        // then the three) does not move the count.
        let mut calls = 0;
        let mut sample = |iterations: u64| {
            calls += 1;
            let per = if calls == 15 { 3_000 } else { 300 };
            Ok(Duration::from_nanos(per * iterations))
        };
        assert_eq!(
            calibrate(&mut sample, Duration::from_millis(2)).unwrap(),
            6667
        );
        // A clock that reads nothing still ends.
        let iterations = calibrate(&mut |_| Ok(Duration::ZERO), Duration::from_millis(2)).unwrap();
        assert_eq!(iterations, 1 << 40);
    }
}
