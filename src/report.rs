//! Turning results into reports: an HTML page with SVG charts a person reads, Markdown for a CI step
//! summary, and JSON files CI tools read (the suite's `results.json`, github-action-benchmark's
//! `customSmallerIsBetter` array, and Bencher's metric format). Every finding is computed from the
//! data and left out when the data is missing.

use crate::allocators::AllocatorKind;
use crate::chart::{Axis, BarGroup, Marker, Series, Style, bar_chart, line_chart};
use crate::contention::Workload;
use crate::depth::{DepthEntry, ProbeKind};
use crate::findings::*;
use crate::id::{BenchId, HeapKind, Layout, Owner, StackKind, TouchKind};
use crate::latency::Op;
use crate::results::{Bench, LatencyRow, MemoryRow, Results};
use crate::units::*;
use plotters::style::RGBColor;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Where a chart line's memory comes from: an allocator's heap, or the stack.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Source {
    Heap(AllocatorKind),
    Stack,
}

impl From<AllocatorKind> for Source {
    fn from(kind: AllocatorKind) -> Source {
        Source::Heap(kind)
    }
}

fn allocator_color(source: impl Into<Source>) -> RGBColor {
    match source.into() {
        Source::Heap(AllocatorKind::System) => RGBColor(214, 39, 40),
        Source::Heap(AllocatorKind::Jemalloc) => RGBColor(31, 119, 180),
        Source::Heap(AllocatorKind::Mimalloc) => RGBColor(44, 160, 44),
        Source::Stack => RGBColor(20, 20, 20),
    }
}

/// The environment a report describes.
#[derive(Clone, Debug, Serialize)]
pub struct Environment {
    /// The machine the results were measured on (from the suite's result files), or this one.
    pub machine: serde_json::Value,
    pub git_commit: Option<String>,
    pub report_unix_time: u64,
}

impl Environment {
    pub fn for_results(results: &Results) -> Environment {
        let machine = results.machine().cloned().unwrap_or_else(|| {
            serde_json::to_value(crate::machine::Machine::current()).unwrap_or_default()
        });
        let git_commit = std::process::Command::new("git")
            .args(["rev-parse", "HEAD"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
        Environment {
            machine,
            git_commit,
            report_unix_time: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }

    fn field(&self, name: &str) -> String {
        match &self.machine[name] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => "unknown".into(),
            other => other.to_string(),
        }
    }

    /// One line naming the machine, for the top of every table.
    pub fn summary(&self) -> String {
        format!(
            "{}, {} cores, Linux {}, glibc {}, {}",
            self.field("cpu_model"),
            self.field("cores"),
            self.field("kernel"),
            self.field("glibc"),
            self.field("rustc")
        )
    }

    fn cores(&self) -> Option<usize> {
        self.machine["cores"].as_u64().map(|c| c as usize)
    }
}

/// The marker that tells an allocator's series apart besides its colour.
fn allocator_marker(source: impl Into<Source>) -> Marker {
    match source.into() {
        Source::Heap(AllocatorKind::System) => Marker::Circle,
        Source::Heap(AllocatorKind::Jemalloc) => Marker::Triangle,
        Source::Heap(AllocatorKind::Mimalloc) => Marker::Square,
        Source::Stack => Marker::Diamond,
    }
}

/// A series of one allocator (or the stack), coloured and marked as every chart marks it.
fn allocator_series(
    source: impl Into<Source>,
    label: String,
    style: Style,
    points: Vec<(f64, f64)>,
) -> Series {
    let source = source.into();
    Series {
        name: label,
        color: allocator_color(source),
        marker: allocator_marker(source),
        style,
        points,
        intervals: Vec::new(),
    }
}

/// A table with its caption (what the numbers are, in which unit); long ones are shown collapsed.
struct Table {
    caption: String,
    rows: Vec<Vec<String>>,
}

/// Tables with more data rows than this are collapsed in the page (`<details>`).
const COLLAPSE_ROWS: usize = 12;

/// A section of the report: a heading with an anchor, charts, tables, and notes.
struct Section {
    title: String,
    /// The id the table of contents links to (with `nav`, its text there); empty for no entry.
    anchor: &'static str,
    nav: &'static str,
    charts: Vec<String>,
    tables: Vec<Table>,
    notes: Vec<String>,
}

fn stack_vs_heap_section(results: &Results) -> Option<Section> {
    let sizes = sizes(results);
    if sizes.is_empty() {
        return None;
    }
    // Heap cost relative to the stack: heap_box / stack_array with its interval, one line per allocator.
    let ratio_series: Vec<Series> = ALLOCATORS
        .into_iter()
        .map(|a| {
            let ratios: Vec<(u64, Ratio)> = sizes
                .iter()
                .filter_map(|&s| Some((s, heap_over_stack(results, a, s)?)))
                .collect();
            Series {
                intervals: ratios.iter().map(|(_, r)| (r.low, r.high)).collect(),
                ..allocator_series(
                    a,
                    format!("heap_box {} / stack_array", allocator_label(a)),
                    Style::Line,
                    ratios.iter().map(|(s, r)| (*s as f64, r.ratio)).collect(),
                )
            }
        })
        .collect();
    let ratio_chart = line_chart(
        "Heap cost relative to the stack, by size (allocate, fill, read, free)",
        "size (bytes, powers of two)",
        "heap_box time / stack_array time",
        (
            Axis::Log2(format_bytes),
            Axis::Linear(|v| format!("{v:.1}")),
        ),
        &ratio_series,
        Some((1.0, "1.0 = the stack's cost")),
    );
    let series_for = |id: &dyn Fn(u64) -> String| -> Vec<(f64, f64)> {
        sizes
            .iter()
            .filter_map(|&s| median(results, &id(s)).map(|ns| (s as f64, ns)))
            .collect()
    };
    let mut series = vec![allocator_series(
        Source::Stack,
        "stack_array".into(),
        Style::Line,
        series_for(&|s| stack_id(StackKind::Array, s)),
    )];
    for a in ALLOCATORS {
        series.push(allocator_series(
            a,
            format!("heap_box {} (solid)", allocator_label(a)),
            Style::Line,
            series_for(&|s| heap_id(HeapKind::Box, a, s)),
        ));
        series.push(allocator_series(
            a,
            format!("heap_reused {} (dashed)", allocator_label(a)),
            Style::Dashed,
            series_for(&|s| heap_id(HeapKind::Reused, a, s)),
        ));
    }
    let time_chart = line_chart(
        "Fill and read N bytes: stack array vs heap block (median time, log-log)",
        "size (bytes, powers of two)",
        "time per iteration (log)",
        (Axis::Log2(format_bytes), Axis::Log10(format_ns)),
        &series,
        None,
    );
    let mut rows = vec![vec!["size".to_string(), "stack_array".into()]];
    for kind in [HeapKind::Box, HeapKind::Reused] {
        for alloc in ALLOCATORS {
            rows[0].push(format!("{} {}", kind.name(), allocator_label(alloc)));
        }
    }
    for &s in &sizes {
        let cell = |id: String| median(results, &id).map_or("-".into(), format_ns);
        let mut row = vec![format_bytes(s as f64), cell(stack_id(StackKind::Array, s))];
        for kind in [HeapKind::Box, HeapKind::Reused] {
            for alloc in ALLOCATORS {
                row.push(cell(heap_id(kind, alloc, s)));
            }
        }
        rows.push(row);
    }
    let mut tables = vec![Table {
        caption: "median time per iteration, one thread".into(),
        rows,
    }];
    // The direct cost of getting and giving back N bytes (one byte touched per page).
    if sizes.iter().any(|&s| {
        ALLOCATORS
            .into_iter()
            .any(|a| median(results, &heap_id(HeapKind::AllocFree, a, s)).is_some())
    }) {
        let mut rows = vec![vec!["size".to_string(), "stack_reserve".into()]];
        rows[0].extend(
            ALLOCATORS
                .iter()
                .map(|a| format!("alloc_free {}", allocator_label(a))),
        );
        for &s in &sizes {
            let cell = |id: String| median(results, &id).map_or("-".into(), format_ns);
            let mut row = vec![
                format_bytes(s as f64),
                cell(stack_id(StackKind::Reserve, s)),
            ];
            row.extend(
                ALLOCATORS
                    .into_iter()
                    .map(|a| cell(heap_id(HeapKind::AllocFree, a, s))),
            );
            rows.push(row);
        }
        tables.push(Table {
            caption: "allocation cost alone: get N bytes, touch one byte per page, give them back; median time".into(),
            rows,
        });
    }
    // Where each heap_reused block lay: a block that is slower than its peers may be placed worse.
    let placements: Vec<_> = results.placement.iter().flat_map(|f| &f.entries).collect();
    if !placements.is_empty() {
        let mut rows = vec![vec![
            "benchmark".to_string(),
            "median".into(),
            "address mod 64".into(),
            "address mod 4096".into(),
        ]];
        rows.extend(placements.iter().map(|p| {
            vec![
                p.id.clone(),
                median(results, &p.id).map_or("-".into(), format_ns),
                p.placement.offset_in_line.to_string(),
                p.placement.offset_in_page.to_string(),
            ]
        }));
        tables.push(Table {
            caption: "where each heap_reused block lay in the latest process (placement.json): its address modulo a cache line and a page".into(),
            rows,
        });
    }
    // The alignment sweep: the same loop at byte offsets past a cache line, against offset 0.
    let aligned: Vec<&Bench> = results
        .benches
        .iter()
        .filter(|b| matches!(b.key, BenchId::Alignment { .. }))
        .collect();
    let align_sizes = distinct(aligned.iter().filter_map(|b| b.size_bytes()));
    if !align_sizes.is_empty() {
        let at = |offset: usize, size: u64| {
            results.bench(
                &BenchId::Alignment {
                    offset: offset as u8,
                    bytes: size,
                }
                .to_string(),
            )
        };
        let mut rows = vec![vec!["offset past a cache line".to_string()]];
        rows[0].extend(align_sizes.iter().map(|&s| format_bytes(s as f64)));
        for offset in crate::arrays::ALIGNMENT_OFFSETS {
            let mut row = vec![format!("{offset} B")];
            row.extend(
                align_sizes
                    .iter()
                    .map(|&s| match (at(offset, s), at(0, s)) {
                        (Some(b), Some(zero)) => {
                            let r = Ratio::of(Timed::of(b), Timed::of(zero));
                            let verdict = if r.decided() {
                                format!("{:.2}x", r.ratio)
                            } else {
                                "≈ offset 0".into()
                            };
                            format!("{} ({verdict})", format_ns(b.median.point_estimate))
                        }
                        _ => "-".into(),
                    }),
            );
            rows.push(row);
        }
        tables.push(Table {
            caption: "alignment: fill and read N bytes at an offset past a cache line, median time (ratio to offset 0)".into(),
            rows,
        });
    }
    Some(Section {
        title: "Stack vs heap".into(),
        anchor: "stack-vs-heap",
        nav: "Stack vs heap",
        charts: ratio_chart.into_iter().chain(time_chart).collect(),
        tables,
        notes: vec![
            "heap_box allocates, fills, reads and frees every iteration; heap_reused fills and reads a block allocated once. The bars on the ratio chart are the ratio's interval: across processes, paired by process, after a repeated run (scripts/run); else the conservative ratio of Criterion's 95% intervals, which do not see the spread between processes.".into(),
        ],
    })
}

fn first_touch_section(results: &Results) -> Option<Section> {
    let faults = results.faults_by_id();
    let benches: Vec<&Bench> = results
        .benches
        .iter()
        .filter(|b| {
            matches!(
                b.key,
                BenchId::FirstTouch { .. } | BenchId::BoxNewLarge { .. }
            )
        })
        .collect();
    if benches.is_empty() {
        return None;
    }
    let mut rows = vec![vec![
        "benchmark".to_string(),
        "memory from".into(),
        "size".into(),
        "median".into(),
        "per page".into(),
        "minor faults / iteration".into(),
        "faults / page".into(),
        "huge page faults / iteration".into(),
    ]];
    for b in benches {
        let fault = faults.get(b.id.as_str());
        let per_page = fault
            .and_then(|f| f.pages_per_iter)
            .filter(|p| *p > 0.0)
            .map_or("-".into(), |p| format_ns(b.median.point_estimate / p));
        rows.push(vec![
            b.variant().to_owned(),
            match (b.allocator(), b.key) {
                (Some(a), _) => allocator_label(a).to_owned(),
                (
                    None,
                    BenchId::FirstTouch {
                        kind: TouchKind::StackFreshThread,
                        ..
                    },
                ) => "stack".to_owned(),
                _ => "-".to_owned(),
            },
            b.size_bytes()
                .map_or("-".into(), |s| format_bytes(s as f64)),
            format_ns(b.median.point_estimate),
            per_page,
            fault.map_or("-".into(), |f| format!("{:.1}", f.minor_faults_per_iter)),
            fault
                .and_then(|f| f.faults_per_page())
                .map_or("-".into(), |f| format!("{f:.2}")),
            fault
                .and_then(|f| f.huge_faults_per_iter)
                .map_or("-".into(), |f| format!("{f:.1}")),
        ]);
    }
    Some(Section {
        title: "First touch and large boxes".into(),
        anchor: "first-touch",
        nav: "First touch",
        charts: Vec::new(),
        tables: vec![Table {
            caption: "median time per iteration (the touch alone: thread start and giving memory back are not timed); minor page faults (getrusage) per iteration and per touched page".into(),
            rows,
        }],
        notes: vec![
            "mmap: pages straight from the kernel, every page faults. stack_fresh_thread: a new thread touches its own, never used stack. heap_fresh_thread and heap_growth: the allocator was first asked to give its free memory back (glibc malloc_trim, jemalloc arena purge, mimalloc mi_collect); heap_regrowth grows again without that. Faults per page near 1.00 mean fresh pages; below 1, the allocator served memory it had kept (glibc reuses a thread arena and, after large frees, raises its mmap threshold) or fresh memory in 2 MiB transparent huge pages, one fault per 512 pages (mimalloc madvises its arenas MADV_HUGEPAGE; the huge page column, counted system-wide, shows it).".into(),
        ],
    })
}

/// What a reader must know to read a workload's numbers, where its id does not say it.
fn workload_note(workload: Workload) -> Option<&'static str> {
    match workload {
        Workload::ProducerConsumer | Workload::ProducerConsumerMixed => Some(
            "t<P> is P producer threads that only allocate and P consumer threads that only free (2P threads in all); objects travel in batches of 256 over a bounded channel.",
        ),
        Workload::ThreadChurn => Some(
            "Each round is a generation of short-lived threads; the time includes spawning and joining them. Half of each thread's objects are freed by the next generation, after their allocating thread has exited.",
        ),
        _ => None,
    }
}

fn contention_sections(results: &Results, env: &Environment) -> Vec<Section> {
    let threads = contention_threads(results);
    let cores = env.cores();
    let mut sections = Vec::new();
    for (i, workload) in contention_workloads(results)
        .into_iter()
        .filter(|&w| w != Workload::StackControl)
        .enumerate()
    {
        let os_threads = |t: usize| workload.os_threads(t);
        let oversubscribed = |t: usize| cores.is_some_and(|c| os_threads(t) > c);
        let thread_label = |t: usize| thread_label(t, os_threads(t), oversubscribed(t));
        let stack_control_line = workload.has_stack_control_line();
        let mops =
            |a: AllocatorKind, t: usize| ops_per_second(results, workload, a, t).map(|v| v / 1e6);
        let mut series: Vec<Series> = ALLOCATORS
            .into_iter()
            .map(|a| {
                allocator_series(
                    a,
                    allocator_label(a).into(),
                    Style::Line,
                    threads
                        .iter()
                        .filter_map(|&t| mops(a, t).map(|v| (t as f64, v)))
                        .collect(),
                )
            })
            .collect();
        if stack_control_line {
            series.push(allocator_series(
                Source::Stack,
                "stack_control, no heap (dashed)".into(),
                Style::Dashed,
                threads
                    .iter()
                    .filter_map(|&t| stack_control_ops(results, t).map(|v| (t as f64, v / 1e6)))
                    .collect(),
            ));
        }
        // The ideal: the fastest allocator at t1, times the threads that can run at once.
        if let Some(best_t1) = ALLOCATORS
            .into_iter()
            .filter_map(|a| mops(a, 1))
            .reduce(f64::max)
        {
            let parallel = |t: usize| cores.map_or(t, |c| t.min(c)) as f64;
            series.push(Series {
                name: "ideal: fastest t1 x threads that fit the cores (grey)".into(),
                color: RGBColor(120, 120, 120),
                marker: Marker::Diamond,
                style: Style::Dashed,
                points: threads
                    .iter()
                    .map(|&t| {
                        (
                            t as f64,
                            best_t1 * parallel(os_threads(t)) / parallel(os_threads(1)),
                        )
                    })
                    .collect(),
                intervals: Vec::new(),
            });
        }
        let chart = line_chart(
            &format!("{workload}: allocator operations per second by threads"),
            "threads",
            "million operations / s",
            (
                Axis::Linear(|v| {
                    if (v - v.round()).abs() < 0.01 {
                        format!("{}", v.round())
                    } else {
                        String::new()
                    }
                }),
                Axis::Linear(|v| format!("{v:.0}")),
            ),
            &series,
            None,
        );
        let mut rows = vec![vec!["threads".to_string()]];
        rows[0].extend(
            ALLOCATORS
                .iter()
                .map(|a| format!("{} Mops/s", allocator_label(a))),
        );
        if stack_control_line {
            rows[0].push("stack_control Mops/s".into());
        }
        for &t in &threads {
            let mut row = vec![thread_label(t)];
            for a in ALLOCATORS {
                row.push(mops(a, t).map_or("-".into(), |v| format!("{v:.1}")));
            }
            if stack_control_line {
                row.push(
                    stack_control_ops(results, t).map_or("-".into(), |v| format!("{:.1}", v / 1e6)),
                );
            }
            rows.push(row);
        }
        let mut notes = vec!["Operations are allocations plus frees.".to_string()];
        if stack_control_line {
            notes.push("stack_control does the same per-operation work on a stack buffer, with no heap: the ideal scaling line.".into());
        }
        if let Some(about) = workload_note(workload) {
            notes.push(about.into());
        }
        if threads.iter().any(|&t| oversubscribed(t)) {
            notes.push(format!(
                "Runs with more threads than the {} cores are oversubscribed: they show time-sharing, not parallel scaling.",
                cores.unwrap_or(0)
            ));
        }
        sections.push(Section {
            title: format!("Contention: {workload}"),
            // The first contention section is where the allocator answer links.
            anchor: if i == 0 { "contention" } else { "" },
            nav: "Contention",
            charts: chart.into_iter().collect(),
            tables: vec![Table {
                caption: "million allocator operations (allocations + frees) per second, median"
                    .into(),
                rows,
            }],
            notes,
        });
    }
    sections
}

fn depth_section(results: &Results) -> Option<Section> {
    let depth = results.depth.as_ref()?;
    let rows: Vec<&DepthEntry> = depth
        .entries
        .iter()
        .filter(|e| e.kind == ProbeKind::StdThread && e.requested_stack_bytes.is_some())
        .collect();
    let frames = distinct(rows.iter().map(|e| e.frame_bytes));
    let stacks = distinct(rows.iter().filter_map(|e| e.requested_stack_bytes));
    // The stack x frame matrix: measured depth and how far the prediction was off.
    let mut matrix = vec![vec!["stack requested (granted)".to_string()]];
    matrix[0].extend(frames.iter().map(|&f| {
        let per = rows
            .iter()
            .find_map(|e| e.bytes_per_level.filter(|_| e.frame_bytes == f))
            .map_or(String::new(), |p| format!(" ({p} B/level)"));
        format!("frame {}{per}", format_bytes(f as f64))
    }));
    for &s in &stacks {
        let granted = rows
            .iter()
            .find(|e| e.requested_stack_bytes == Some(s))
            .and_then(|e| e.granted_stack_bytes)
            .map_or(String::new(), |g| format!(" ({})", format_bytes(g as f64)));
        let mut row = vec![format!("{}{granted}", format_bytes(s as f64))];
        row.extend(frames.iter().map(|&f| {
            rows.iter()
                .find(|e| e.requested_stack_bytes == Some(s) && e.frame_bytes == f)
                .map_or("-".into(), |e| {
                    match (e.measured_depth, e.difference_percent) {
                        (Some(d), Some(p)) => format!("{d} ({p:+.1}%)"),
                        (Some(d), None) => d.to_string(),
                        _ => e.outcome.clone(),
                    }
                })
        }));
        matrix.push(row);
    }
    let palette = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    let markers = [
        Marker::Circle,
        Marker::Triangle,
        Marker::Square,
        Marker::Diamond,
    ];
    let mut series = Vec::new();
    for (i, &f) in frames.iter().enumerate() {
        let of_frame: Vec<_> = rows
            .iter()
            .filter(|e| e.frame_bytes == f && e.is_overflow())
            .collect();
        // Measured depths as markers, the prediction as a dashed line of the same colour.
        type Depth = fn(&DepthEntry) -> Option<u64>;
        let figures: [(&str, Depth, Style); 2] = [
            ("measured", |e| e.measured_depth, Style::Dots),
            ("predicted", |e| e.predicted_depth, Style::Dashed),
        ];
        for (what, depth, style) in figures {
            series.push(Series {
                // One legend entry per frame: markers are measured, the dashed line predicted.
                name: if what == "measured" {
                    format!("{} frame (dashes: predicted)", format_bytes(f as f64))
                } else {
                    String::new()
                },
                color: palette[i % palette.len()],
                marker: markers[i % markers.len()],
                style,
                points: of_frame
                    .iter()
                    .filter_map(|e| Some((e.granted_stack_bytes? as f64, depth(e)? as f64)))
                    .collect(),
                intervals: Vec::new(),
            });
        }
    }
    let chart = line_chart(
        "Recursion depth until overflow by stack size (std::thread, log-log)",
        "granted stack (bytes, powers of two)",
        "levels (log)",
        (Axis::Log2(format_bytes), Axis::Log10(|v| format!("{v:.0}"))),
        &series,
        None,
    );
    let mut all = vec![
        [
            "kind",
            "requested",
            "granted",
            "frame",
            "bytes/level",
            "measured",
            "predicted",
            "outcome",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for e in &depth.entries {
        let opt = |v: Option<u64>| v.map_or("-".into(), |v| v.to_string());
        all.push(vec![
            e.kind.to_string(),
            e.requested_stack_bytes
                .map_or("default".into(), |b| format_bytes(b as f64)),
            e.granted_stack_bytes
                .map_or("-".into(), |b| format_bytes(b as f64)),
            format_bytes(e.frame_bytes as f64),
            opt(e.bytes_per_level),
            opt(e.measured_depth.or(e.largest_local_array_bytes)),
            opt(e.predicted_depth.or(e.predicted_local_array_bytes)),
            e.outcome.clone(),
        ]);
    }
    let arrays: Vec<&DepthEntry> = depth
        .entries
        .iter()
        .filter(|e| e.kind == ProbeKind::LocalArray)
        .collect();
    let mut tables = vec![
        Table {
            caption: "levels until overflow, std::thread with the requested stack; in brackets, measured minus predicted in percent".into(),
            rows: matrix,
        },
    ];
    if !arrays.is_empty() {
        let mut rows = vec![
            [
                "stack requested (granted)",
                "largest local array",
                "predicted",
                "difference",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for e in arrays {
            let bytes = |v: Option<u64>| {
                v.map_or("-".into(), |b| {
                    format!("{b} B ({})", format_bytes(b as f64))
                })
            };
            rows.push(vec![
                format!(
                    "{} ({})",
                    e.requested_stack_bytes
                        .map_or("default".into(), |s| format_bytes(s as f64)),
                    e.granted_stack_bytes
                        .map_or("-".into(), |g| format_bytes(g as f64))
                ),
                if e.largest_local_array_bytes.is_some() {
                    bytes(e.largest_local_array_bytes)
                } else {
                    e.outcome.clone()
                },
                bytes(e.predicted_local_array_bytes),
                match (e.largest_local_array_bytes, e.predicted_local_array_bytes) {
                    (Some(l), Some(p)) => format!("{:+} B", l as i64 - p as i64),
                    _ => "-".into(),
                },
            ]);
        }
        tables.push(Table {
            caption: "the largest single local array a spawned thread holds (alloca, every page written; bisected in child processes to a page), against the stack left below the call".into(),
            rows,
        });
    }
    tables.push(Table {
        caption: "every probe (all kinds), levels".into(),
        rows: all,
    });
    Some(Section {
        title: "Stack depth".into(),
        anchor: "depth",
        nav: "Stack depth",
        charts: chart.into_iter().collect(),
        tables,
        notes: vec!["Each stack probe overflowed a real thread in a child process; predicted = usable stack below the first level / bytes per level. heap_loop keeps the levels in a Vec on the heap and stops at a cap.".into()],
    })
}

fn locality_section(results: &Results) -> Option<Section> {
    let sets = locality_sets(results);
    if sets.is_empty() {
        return None;
    }
    // Nanoseconds per node visited: the walk's time over the nodes in the working set.
    let per_node = |layout: Layout, owner: Owner, ws: u64| {
        median(results, &locality_id(layout, owner, ws))
            .map(|ns| ns / (ws / crate::locality::NODE_BYTES as u64) as f64)
    };
    let points = |layout: Layout, owner: Owner| -> Vec<(f64, f64)> {
        sets.iter()
            .filter_map(|&ws| per_node(layout, owner, ws).map(|v| (ws as f64, v)))
            .collect()
    };
    let mut series = vec![allocator_series(
        Source::Stack,
        "contiguous on the stack".into(),
        Style::Dashed,
        points(Layout::Contiguous, Owner::Stack),
    )];
    for a in ALLOCATORS {
        series.push(allocator_series(
            a,
            format!("contiguous, one {} block (dashed)", allocator_label(a)),
            Style::Dashed,
            points(Layout::Contiguous, Owner::Heap(a)),
        ));
        series.push(allocator_series(
            a,
            format!("scattered {} nodes (solid)", allocator_label(a)),
            Style::Line,
            points(Layout::Scattered, Owner::Heap(a)),
        ));
    }
    let chart = line_chart(
        "Locality: one list walk, contiguous vs scattered nodes, by working set",
        "working set (bytes, powers of two)",
        "time per node visited (log)",
        (Axis::Log2(format_bytes), Axis::Log10(format_ns)),
        &series,
        None,
    );
    let mut rows = vec![vec!["working set".to_string(), "contiguous stack".into()]];
    for layout in ["contiguous", "scattered"] {
        rows[0].extend(
            ALLOCATORS
                .iter()
                .map(|a| format!("{layout} {}", allocator_label(a))),
        );
    }
    for &ws in &sets {
        let cell = |layout: Layout, owner: Owner| {
            per_node(layout, owner, ws).map_or("-".into(), format_ns)
        };
        let mut row = vec![
            format_bytes(ws as f64),
            cell(Layout::Contiguous, Owner::Stack),
        ];
        for &layout in Layout::ALL {
            row.extend(ALLOCATORS.into_iter().map(|a| cell(layout, Owner::Heap(a))));
        }
        rows.push(row);
    }
    let mut notes = vec!["Every variant walks the same linked list of 64-byte nodes; contiguous nodes lie in address order in one stack array or one heap block, scattered nodes are one allocation each, made amid churn (twice as many allocated, a random half freed) and linked in random order.".to_string()];
    notes.push(match locality_crossover(results) {
        Some(ws) => format!(
            "Crossover: from a {} working set up, scattered nodes are decidedly slower than contiguous ones for every allocator ({}).",
            format_bytes(ws as f64),
            within_noise()
        ),
        None => "No working set measured here made scattered nodes decidedly slower for every allocator.".into(),
    });
    Some(Section {
        title: "Locality".into(),
        anchor: "locality",
        nav: "Locality",
        charts: chart.into_iter().collect(),
        tables: vec![Table {
            caption: "time per node visited, median of one walk over the working set".into(),
            rows,
        }],
        notes,
    })
}

/// Peak memory as a table: one row per workload and thread count (in the suite's workload order),
/// one column per allocator present.
pub fn memory_table(memory: &[MemoryRow]) -> Vec<Vec<String>> {
    let allocators: Vec<AllocatorKind> = AllocatorKind::ALL
        .into_iter()
        .filter(|&a| memory.iter().any(|e| e.allocator == a))
        .collect();
    let mut header = vec!["workload".to_string(), "threads".into()];
    header.extend(allocators.iter().map(|&a| allocator_label(a).to_string()));
    let mut keys: Vec<(Workload, usize)> = memory.iter().map(|e| (e.workload, e.threads)).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut table = vec![header];
    for (workload, threads) in keys {
        let mut row = vec![workload.to_string(), format!("t{threads}")];
        row.extend(allocators.iter().map(|&a| {
            memory_entry(memory, workload, a, threads).map_or("-".into(), |e| mib(e.peak_rss_bytes))
        }));
        table.push(row);
    }
    table
}

fn memory_section(results: &Results) -> Option<Section> {
    let memory = &results.memory.as_ref()?.entries;
    // One thread count for the chart: the largest that is not oversubscribed.
    let t_chart = memory_threads_within_cores(memory)?;
    let series: Vec<(String, RGBColor, Marker)> = ALLOCATORS
        .into_iter()
        .map(|a| {
            (
                allocator_label(a).to_string(),
                allocator_color(a),
                allocator_marker(a),
            )
        })
        .collect();
    let groups: Vec<BarGroup> = Workload::ALL
        .iter()
        .filter(|&&w| memory.iter().any(|e| e.workload == w))
        .map(|&w| BarGroup {
            category: w.name().into(),
            values: ALLOCATORS
                .into_iter()
                .map(|a| {
                    memory_entry(memory, w, a, t_chart).map(|e| e.peak_rss_bytes as f64 / 1048576.0)
                })
                .collect(),
        })
        .collect();
    let chart = bar_chart(
        &format!("Peak resident memory per workload at t{t_chart} (fresh process each)"),
        "MiB",
        &series,
        &groups,
    );
    Some(Section {
        title: "Peak memory".into(),
        anchor: "memory",
        nav: "Peak memory",
        charts: chart.into_iter().collect(),
        tables: vec![Table {
            caption: "peak resident memory (VmHWM) of a fresh process, MiB".into(),
            rows: memory_table(memory),
        }],
        notes: vec![
            "Peak RSS (VmHWM) of a fresh child process that ran only that workload.".into(),
        ],
    })
}

/// Latency as a table: one row per workload, thread count and allocator; for allocation and for free,
/// p50, p99, p99.9 and max in ns.
pub fn latency_table(latency: &[LatencyRow]) -> Vec<Vec<String>> {
    let mut header = vec!["workload".to_string(), "threads".into(), "allocator".into()];
    for op in Op::ALL {
        header.extend(PERCENTILE_LABELS.map(|p| format!("{} {p} ns", op.name())));
    }
    header.push("samples (alloc/free)".into());
    // Workload's order is the suite's workload order.
    let mut keys: Vec<(Workload, usize, AllocatorKind)> = latency
        .iter()
        .map(|e| (e.workload, e.threads, e.allocator))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let mut table = vec![header];
    for (workload, threads, allocator) in keys {
        let entries = Op::ALL.map(|op| latency_entry(latency, workload, threads, allocator, op));
        let Some(any) = entries.iter().flatten().next() else {
            continue;
        };
        let mut row = vec![
            workload.name().to_string(),
            thread_label(threads, any.os_threads, any.oversubscribed),
            allocator_label(allocator).to_string(),
        ];
        for entry in entries {
            row.extend(match entry {
                Some(e) => latency_percentiles(e).map(|v| format!("{v:.0}")),
                None => ["-"; 4].map(String::from),
            });
        }
        row.push(
            entries
                .map(|e| e.map_or("-".into(), |e| e.samples.to_string()))
                .join("/"),
        );
        table.push(row);
    }
    table
}

fn latency_section(results: &Results) -> Option<Section> {
    let latency = &results.latency.as_ref()?.entries;
    let first = latency.first()?;
    let mut charts = Vec::new();
    for workload in latency_workloads(latency) {
        let Some(t) = latency_threads(latency, workload) else {
            continue;
        };
        let mut series = Vec::new();
        for allocator in AllocatorKind::ALL {
            for op in Op::ALL {
                let Some(e) = latency_entry(latency, workload, t, allocator, op) else {
                    continue;
                };
                let (style, how) = match op {
                    Op::Alloc => (Style::Line, "solid"),
                    Op::Free => (Style::Dashed, "dashed"),
                };
                series.push(allocator_series(
                    allocator,
                    format!("{} {} ({how})", allocator_label(allocator), op.name()),
                    style,
                    latency_percentiles(e)
                        .iter()
                        .enumerate()
                        .map(|(i, &v)| (i as f64 + 1.0, v))
                        .collect(),
                ));
            }
        }
        fn percentile_tick(v: f64) -> String {
            let index = v.round() as usize;
            if (v - v.round()).abs() < 0.01 && (1..=PERCENTILE_LABELS.len()).contains(&index) {
                PERCENTILE_LABELS[index - 1].to_string()
            } else {
                String::new()
            }
        }
        charts.extend(line_chart(
            &format!(
                "{}: latency of one operation at {}",
                workload.name(),
                thread_label(t, workload.os_threads(t), false)
            ),
            "percentile",
            "ns (log scale)",
            (Axis::Linear(percentile_tick), Axis::Log10(format_ns)),
            &series,
            None,
        ));
    }
    Some(Section {
        title: "Latency of single allocator operations".into(),
        anchor: "latency",
        nav: "Latency",
        charts,
        tables: vec![Table {
            caption: "sampled latency of one allocation or free, ns".into(),
            rows: latency_table(latency),
        }],
        notes: vec![
            format!(
                "One operation in {} was timed, at random, with {}; two back-to-back clock reads cost {:.0} ns, which every sample includes (not subtracted).",
                first.sampled_one_in, first.clock, first.timer_overhead_ns
            ),
            "A sample covers the allocator call alone: its fast path, refills, locks, system calls and page faults on its own metadata, and any preemption by the OS (which dominates the max of oversubscribed runs). It excludes the workload's first write to the block, where a fault on fresh memory lands.".into(),
            "Each run follows an untimed warm-up run of the same workload; allocators are interleaved within each workload and thread count.".into(),
        ],
    })
}

/// How the figures were aggregated: across the processes of a repeated run, or within one process.
fn process_note(results: &Results) -> String {
    let n = results.processes.len();
    if n < 2 {
        return "These figures come from one process: Criterion's interval, computed inside it, does not see the spread between processes (20% on a typical row on a shared machine). `scripts/run` repeats the timed benches in several processes.".into();
    }
    let spreads: Vec<f64> = results
        .benches
        .iter()
        .filter_map(|b| results.process_spread(&b.id))
        .collect();
    let spread = match (
        crate::stats::median(&spreads),
        spreads.iter().copied().reduce(f64::max),
    ) {
        (Some(m), Some(max)) => format!(
            " Between processes, a row's range is {:.0}% of its median on a typical row and {:.0}% at most.",
            m * 100.0,
            max * 100.0
        ),
        _ => String::new(),
    };
    format!(
        "Each time is the median of {n} processes run one after the other in an interleaved order, with the interval between order statistics across processes (its coverage is given by the number of processes: {:.0}% for {n}); ratios are paired by process (the median of the per-process ratios).{spread}",
        crate::stats::order_statistic_coverage(n, 1) * 100.0
    )
}

/// One benchmark in `results.json`.
#[derive(Serialize)]
struct ResultRow<'a> {
    id: &'a str,
    group: &'a str,
    variant: &'a str,
    allocator: Option<&'a str>,
    threads: Option<usize>,
    size_bytes: Option<u64>,
    unit: &'static str,
    mean: f64,
    mean_lower: f64,
    mean_upper: f64,
    median: f64,
    median_lower: f64,
    median_upper: f64,
    confidence_level: f64,
    /// Processes the mean aggregates: after a repeated run, the median across them, with an
    /// interval across processes at `confidence_level`; 1: Criterion's mean and interval.
    processes: usize,
    /// (max - min) / median of the processes' means; absent for one process.
    process_spread: Option<f64>,
    throughput: Option<crate::results::Throughput>,
    throughput_per_second: Option<f64>,
    throughput_unit: Option<String>,
}

/// Every file of a report, rendered in memory before anything is written.
pub struct Rendered {
    pub files: Vec<(&'static str, Vec<u8>)>,
}

/// A table as Markdown; the first row is the header. A `|` or a line break in a cell would break the
/// table, so they are escaped.
pub fn markdown_table(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .map(|c| c.replace('|', "\\|").replace(['\n', '\r'], " "))
            .collect();
        out += &format!("| {} |\n", cells.join(" | "));
        if i == 0 {
            out += &format!("|{}\n", "---|".repeat(row.len()));
        }
    }
    out
}

/// A table as HTML, with a caption; `collapsed` puts it in a closed `<details>`.
fn html_table(rows: &[Vec<String>], caption: &str, collapsed: bool) -> String {
    let mut out = format!("<table><caption>{}</caption>", escape(caption));
    for (i, row) in rows.iter().enumerate() {
        let tag = if i == 0 { "th" } else { "td" };
        out += "<tr>";
        for cell in row {
            let _ = write!(out, "<{tag}>{}</{tag}>", escape(cell));
        }
        out += "</tr>";
    }
    out += "</table>";
    if collapsed {
        format!(
            "<details><summary>{} ({} rows)</summary>{out}</details>",
            escape(caption),
            rows.len().saturating_sub(1)
        )
    } else {
        out
    }
}

/// Unix seconds as an ISO 8601 date and time in UTC: `2026-11-22T04:58:24Z`.
fn iso_date(unix_seconds: u64) -> String {
    humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix_seconds),
    )
    .to_string()
}

const STYLE: &str = "body{font-family:sans-serif;max-width:1320px;margin:1em auto;padding:0 1em;color:#222;line-height:1.35}\
h1{margin:.2em 0;font-size:26px}h2{margin-top:1.6em;border-bottom:1px solid #ddd}.meta{color:#555;margin:.2em 0;font-size:14px}\
nav{font-size:14px;margin:.4em 0}nav a{margin-right:.9em}\
.answers{display:grid;grid-template-columns:repeat(3,1fr);gap:14px}\
.answer{border:1px solid #ccd;border-radius:6px;padding:8px 12px;background:#f8f9fc;font-size:14px}\
.answer h3{margin:.2em 0 .3em;font-size:17px}.answer p{margin:.3em 0}.answer table{font-size:12px}\
table{border-collapse:collapse;margin:.6em 0;font-size:14px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}caption{caption-side:top;text-align:left;color:#555;font-size:13px;padding:2px 0}\
.claims td,.claims th{text-align:left;vertical-align:top}.verdict{font-weight:bold;white-space:nowrap}\
.v-holds{color:#1a7f37}.v-part{color:#9a6700}.v-not{color:#cf222e}.v-none{color:#666}\
figure{margin:1em 0}svg{max-width:100%;height:auto}.note{color:#555}summary{cursor:pointer;color:#333}\
@media (max-width:1000px){.answers{grid-template-columns:1fr}}\
@media print{nav{display:none}body{max-width:none}h2{break-after:avoid}figure,table{break-inside:avoid}}";

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Holds => "v-holds",
        Verdict::HoldsInPart => "v-part",
        Verdict::DoesNotHold => "v-not",
        Verdict::NotMeasured => "v-none",
    }
}

pub fn render(results: &Results, env: &Environment) -> Result<Rendered, String> {
    let mut sections: Vec<Section> = Vec::new();
    sections.extend(stack_vs_heap_section(results));
    sections.extend(first_touch_section(results));
    sections.extend(locality_section(results));
    sections.extend(contention_sections(results, env));
    sections.extend(depth_section(results));
    sections.extend(memory_section(results));
    sections.extend(latency_section(results));
    let answers = answers(results, env.cores());
    let claims = claims(results, env.cores());
    let findings = findings(results, env.cores());
    let measured_at = env.machine["unix_time"].as_u64().map(iso_date);
    let dates = format!(
        "measured {} · report written {}",
        measured_at.as_deref().unwrap_or("at an unknown time"),
        iso_date(env.report_unix_time)
    );
    let machine_caption = |caption: &str| format!("{caption} · {}", env.summary());
    // The answer cards are small: their tables name the machine briefly (the page header has it all).
    let short_machine = format!("{}, {} cores", env.field("cpu_model"), env.field("cores"));
    let env_rows: Vec<Vec<String>> = {
        let mut rows = vec![vec!["what".to_string(), "value".into()]];
        for key in ["cpu_model", "cores", "kernel", "glibc", "rustc"] {
            rows.push(vec![key.into(), env.field(key)]);
        }
        if let Some(versions) = env.machine["allocator_versions"].as_object() {
            for (k, v) in versions {
                rows.push(vec![
                    format!("allocator {k}"),
                    v.as_str().unwrap_or("").into(),
                ]);
            }
        }
        let settings = env.machine["allocator_settings"]
            .as_object()
            .filter(|s| !s.is_empty());
        rows.push(vec![
            "allocator settings".into(),
            settings.map_or("none set (defaults)".into(), |s| {
                s.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
        ]);
        rows.push(vec![
            "git commit".into(),
            env.git_commit
                .clone()
                .unwrap_or_else(|| "not a git checkout".into()),
        ]);
        rows.push(vec![
            "measured at".into(),
            measured_at.clone().unwrap_or_else(|| "unknown".into()),
        ]);
        rows.push(vec![
            "report written at".into(),
            iso_date(env.report_unix_time),
        ]);
        rows
    };
    let claim_rows: Vec<Vec<String>> = std::iter::once(
        ["claim", "verdict", "what this run measured"]
            .map(String::from)
            .to_vec(),
    )
    .chain(claims.iter().map(|c| {
        vec![
            c.quote.to_string(),
            c.verdict.text().to_string(),
            c.evidence.clone(),
        ]
    }))
    .collect();
    let margin_note = format!(
        "A comparison is decided only when its interval clears ±{:.0}%; otherwise it reads \"within noise\" (≈). {}",
        NOISE_MARGIN * 100.0,
        process_note(results)
    );

    // Markdown.
    let mut md = format!(
        "# stackheap report\n\nMachine: {}  \n{dates}\n\n## Answers\n\n",
        env.summary()
    );
    for a in &answers {
        md += &format!("### {}\n\n{}\n\n", a.question, a.text);
        if !a.table.is_empty() {
            md += &format!("{}\n\n", machine_caption(a.caption));
            md += &markdown_table(&a.table);
            md += "\n";
        }
    }
    md += &format!(
        "{margin_note}\n\n## Claims, tested\n\n{}",
        markdown_table(&claim_rows)
    );
    md += "\n## Findings\n\n";
    for f in &findings {
        md += &format!("- {f}\n");
    }
    for s in &sections {
        md += &format!("\n## {}\n", s.title);
        for t in &s.tables {
            md += &format!(
                "\n{}\n\n{}",
                machine_caption(&t.caption),
                markdown_table(&t.rows)
            );
        }
        for n in &s.notes {
            md += &format!("\n{n}\n");
        }
    }
    md += &format!("\n## Environment\n\n{}", markdown_table(&env_rows));

    // HTML: one self-contained page, charts inline, no script.
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>stackheap report</title><style>{STYLE}</style></head><body>\n"
    );
    let _ = write!(
        html,
        "<h1>stackheap report</h1><p class=\"meta\">{} · {}</p><nav><b>Contents:</b> <a href=\"#answers\">Answers</a><a href=\"#claims\">Claims</a><a href=\"#findings\">Findings</a>",
        escape(&env.summary()),
        escape(&dates)
    );
    for s in sections.iter().filter(|s| !s.anchor.is_empty()) {
        let _ = write!(html, "<a href=\"#{}\">{}</a>", s.anchor, s.nav);
    }
    html += "<a href=\"#environment\">Environment</a></nav>\n<section id=\"answers\"><h2>Answers</h2><div class=\"answers\">";
    for a in &answers {
        let _ = write!(
            html,
            "<div class=\"answer\"><h3>{}</h3><p>{} <a href=\"#{}\">Details</a></p>",
            escape(a.question),
            escape(&a.text),
            a.anchor
        );
        if !a.table.is_empty() {
            html += &html_table(
                &a.table,
                &format!("{} · {}", a.caption, short_machine),
                false,
            );
        }
        html += "</div>";
    }
    let _ = write!(
        html,
        "</div><p class=\"note\">{}</p></section>\n<section id=\"claims\"><h2>Claims, tested</h2><table class=\"claims\"><caption>{}</caption>",
        escape(&margin_note),
        escape(&machine_caption(
            "the folklore this project started from, each with a verdict computed from this run"
        ))
    );
    for (i, row) in claim_rows.iter().enumerate() {
        if i == 0 {
            let _ = write!(
                html,
                "<tr><th>{}</th><th>{}</th><th>{}</th></tr>",
                row[0], row[1], row[2]
            );
        } else {
            let class = verdict_class(claims[i - 1].verdict);
            let _ = write!(
                html,
                "<tr><td>{}</td><td class=\"verdict {class}\">{}</td><td>{}</td></tr>",
                escape(&row[0]),
                escape(&row[1]),
                escape(&row[2])
            );
        }
    }
    let _ = write!(
        html,
        "</table></section>\n<section id=\"findings\"><h2>Findings</h2><details><summary>{} sentences computed from the data</summary><ul>",
        findings.len()
    );
    for f in &findings {
        let _ = write!(html, "<li>{}</li>", escape(f));
    }
    html += "</ul></details></section>\n";
    for s in &sections {
        if s.anchor.is_empty() {
            let _ = writeln!(html, "<section><h2>{}</h2>", escape(&s.title));
        } else {
            let _ = writeln!(
                html,
                "<section id=\"{}\"><h2>{}</h2>",
                s.anchor,
                escape(&s.title)
            );
        }
        for svg in &s.charts {
            let _ = writeln!(html, "<figure>{svg}</figure>");
        }
        for t in &s.tables {
            html += &html_table(
                &t.rows,
                &machine_caption(&t.caption),
                t.rows.len() > COLLAPSE_ROWS + 1,
            );
        }
        for n in &s.notes {
            let _ = write!(html, "<p class=\"note\">{}</p>", escape(n));
        }
        html += "</section>\n";
    }
    let _ = writeln!(
        html,
        "<section id=\"environment\"><h2>Environment</h2>{}</section></body></html>",
        html_table(
            &env_rows,
            "where and when these results were measured",
            false
        )
    );

    // results.json
    let rows: Vec<ResultRow> = results
        .benches
        .iter()
        .map(|b| {
            let per_second = b.per_second();
            ResultRow {
                id: &b.id,
                group: b.family().name(),
                variant: b.variant(),
                allocator: b.allocator().map(|a| a.name()),
                threads: b.threads(),
                size_bytes: b.size_bytes(),
                unit: "ns",
                mean: b.mean.point_estimate,
                mean_lower: b.mean.confidence_interval.lower_bound,
                mean_upper: b.mean.confidence_interval.upper_bound,
                median: b.median.point_estimate,
                median_lower: b.median.confidence_interval.lower_bound,
                median_upper: b.median.confidence_interval.upper_bound,
                confidence_level: b.median.confidence_interval.confidence_level,
                processes: b.processes,
                process_spread: results.process_spread(&b.id),
                throughput: b.throughput,
                throughput_per_second: per_second.map(|p| p.0),
                throughput_unit: per_second.map(|p| format!("{}/s", p.1)),
            }
        })
        .collect();
    let results_json = json!({
        "schema": crate::output::SCHEMA,
        "kind": "results",
        "environment": env,
        "benchmarks": rows,
        "answers": answers.iter().map(|a| json!({"question": a.question, "answer": a.text, "table": a.table})).collect::<Vec<_>>(),
        "claims": claims.iter().map(|c| json!({"claim": c.quote, "verdict": c.verdict.text(), "evidence": c.evidence})).collect::<Vec<_>>(),
        "noise_margin": NOISE_MARGIN,
        "processes": results.processes.len().max(1),
        "rankings": crate::findings::rankings(results),
        "findings": findings,
    });

    // github-action-benchmark: customSmallerIsBetter.
    let machine = env.summary();
    let action: Vec<serde_json::Value> = results
        .benches
        .iter()
        .map(|b| {
            let ci = b.median.confidence_interval;
            json!({
                "name": b.id,
                "unit": "ns",
                "value": b.median.point_estimate,
                "range": format!("± {:.3}", (ci.upper_bound - ci.lower_bound) / 2.0),
                "extra": format!("95% CI [{:.3}, {:.3}] ns; machine: {machine}", ci.lower_bound, ci.upper_bound),
            })
        })
        .collect();
    // Bencher Metric Format.
    let bmf: BTreeMap<&str, serde_json::Value> = results
        .benches
        .iter()
        .map(|b| {
            let ci = b.median.confidence_interval;
            (
                b.id.as_str(),
                json!({"latency": {"value": b.median.point_estimate, "lower_value": ci.lower_bound, "upper_value": ci.upper_bound}}),
            )
        })
        .collect();
    Ok(Rendered {
        files: vec![
            ("index.html", html.into_bytes()),
            ("report.md", md.into_bytes()),
            ("results.json", pretty(&results_json)?),
            ("benchmark-action.json", pretty(&action)?),
            ("bencher.json", pretty(&bmf)?),
        ],
    })
}

fn pretty<T: Serialize>(value: &T) -> Result<Vec<u8>, String> {
    serde_json::to_vec_pretty(value).map_err(|e| e.to_string())
}

/// Publishes the rendered files as the report directory `dir`, as one set: a failure at any point
/// leaves the previous report whole, never old and new files mixed (see
/// [`crate::output::publish_dir`]).
pub fn write(dir: &Path, rendered: &Rendered) -> std::io::Result<Vec<PathBuf>> {
    crate::output::publish_dir(dir, &rendered.files)
}
