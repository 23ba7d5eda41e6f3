//! Turning results into reports: an HTML page with SVG charts a person reads, Markdown for a CI step
//! summary, and JSON files CI tools read (the suite's `results.json`, github-action-benchmark's
//! `customSmallerIsBetter` array, and Bencher's metric format). Every finding is computed from the
//! data and left out when the data is missing.

use crate::allocators::AllocatorKind;
use crate::arrays::size_label;
use crate::contention::Workload;
use crate::depth::{DepthEntry, ProbeKind};
use crate::latency::Op;
use crate::results::{Bench, LatencyRow, MemoryRow, Results};
use plotters::prelude::*;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A time for people: `37.8 ns`, `1.20 µs`, `3.41 ms`.
pub fn format_ns(ns: f64) -> String {
    match ns {
        n if n >= 1e6 => format!("{:.2} ms", n / 1e6),
        n if n >= 1e3 => format!("{:.2} µs", n / 1e3),
        n => format!("{n:.1} ns"),
    }
}

fn format_bytes(bytes: f64) -> String {
    match bytes {
        b if b >= 1048576.0 => format!("{} MiB", trim(b / 1048576.0)),
        b if b >= 1024.0 => format!("{} KiB", trim(b / 1024.0)),
        b => format!("{} B", trim(b)),
    }
}

fn trim(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 {
        format!("{}", v.round())
    } else {
        format!("{v:.1}")
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1048576.0)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The allocators' stable names, in the registry's order.
const ALLOCATORS: [&str; 3] = [
    AllocatorKind::ALL[0].name(),
    AllocatorKind::ALL[1].name(),
    AllocatorKind::ALL[2].name(),
];

fn allocator_label(name: &str) -> &str {
    match name {
        "system" => "glibc",
        other => other,
    }
}

fn allocator_color(name: &str) -> RGBColor {
    match name {
        "system" => RGBColor(214, 39, 40),
        "jemalloc" => RGBColor(31, 119, 180),
        "mimalloc" => RGBColor(44, 160, 44),
        "mmap" => RGBColor(148, 103, 189),
        _ => RGBColor(20, 20, 20),
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

/// How a series is drawn: dots only, or dots joined by a solid or a dashed line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Dots,
    Line,
    Dashed,
}

/// A series of a line chart.
struct Series {
    name: String,
    color: RGBColor,
    points: Vec<(f64, f64)>,
    style: Style,
}

/// Axis scale and how its tick labels read.
#[derive(Clone, Copy)]
enum Axis {
    Linear(fn(f64) -> String),
    Log10(fn(f64) -> String),
}

impl Axis {
    fn map(self, v: f64) -> f64 {
        match self {
            Axis::Linear(_) => v,
            Axis::Log10(_) => v.log10(),
        }
    }

    fn label(self, v: f64) -> String {
        match self {
            Axis::Linear(f) => f(v),
            Axis::Log10(f) => f(10f64.powf(v)),
        }
    }
}

/// The points that can be drawn on these axes (finite, and positive on a log axis), in chart
/// coordinates.
fn plotted(x: Axis, y: Axis, points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let drawable =
        |axis: Axis, v: f64| v.is_finite() && (matches!(axis, Axis::Linear(_)) || v > 0.0);
    points
        .iter()
        .filter(|&&(a, b)| drawable(x, a) && drawable(y, b))
        .map(|&(a, b)| (x.map(a), y.map(b)))
        .collect()
}

/// Draws a chart as an SVG string (plotters' SVG backend). `None` when no series has points.
fn line_chart(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    x: Axis,
    y: Axis,
    series: &[Series],
) -> Option<String> {
    let points: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| plotted(x, y, &s.points))
        .collect();
    if points.is_empty() {
        return None;
    }
    let range = |vals: Vec<f64>, from_zero: bool| {
        let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lo = if from_zero { lo.min(0.0) } else { lo };
        let pad = ((hi - lo) * 0.08).max(0.05);
        (lo - if from_zero && lo == 0.0 { 0.0 } else { pad })..(hi + pad)
    };
    let xr = range(points.iter().map(|p| p.0).collect(), false);
    let yr = range(
        points.iter().map(|p| p.1).collect(),
        matches!(y, Axis::Linear(_)),
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 420)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(78)
            .build_cartesian_2d(xr, yr)
            .ok()?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .x_label_formatter(&|v| x.label(*v))
            .y_label_formatter(&|v| y.label(*v))
            .light_line_style(RGBColor(238, 238, 238))
            .draw()
            .ok()?;
        for s in series {
            let pts = plotted(x, y, &s.points);
            if pts.is_empty() {
                continue;
            }
            let color = s.color;
            let style = ShapeStyle::from(&color).stroke_width(2);
            let line = match s.style {
                Style::Dots => None,
                Style::Line => Some(chart.draw_series(LineSeries::new(pts.clone(), style))),
                Style::Dashed => {
                    Some(chart.draw_series(DashedLineSeries::new(pts.clone(), 6, 4, style)))
                }
            };
            if let Some(line) = line {
                let line = line.ok()?.label(s.name.clone());
                // The legend shows the line as drawn: solid, or two dashes.
                if s.style == Style::Dashed {
                    line.legend(move |(lx, ly)| {
                        EmptyElement::at((lx, ly))
                            + PathElement::new(vec![(0, 0), (7, 0)], style)
                            + PathElement::new(vec![(11, 0), (18, 0)], style)
                    });
                } else {
                    line.legend(move |(lx, ly)| {
                        PathElement::new(vec![(lx, ly), (lx + 18, ly)], style)
                    });
                }
            }
            let dots = chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .ok()?;
            if s.style == Style::Dots {
                dots.label(s.name.clone())
                    .legend(move |(lx, ly)| Circle::new((lx + 9, ly), 3, color.filled()));
            }
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

/// A section of the report: a heading, an optional chart, a table, and notes.
struct Section {
    title: String,
    chart: Option<String>,
    table: Vec<Vec<String>>,
    notes: Vec<String>,
}

fn mean(results: &Results, id: &str) -> Option<f64> {
    results.bench(id).map(|b| b.mean.point_estimate)
}

/// Sizes present for the `stack_vs_heap` group, sorted.
fn sizes(results: &Results) -> Vec<u64> {
    let mut sizes: Vec<u64> = results
        .benches
        .iter()
        .filter(|b| b.group == "stack_vs_heap" && b.variant == "stack_array")
        .filter_map(|b| b.size_bytes)
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

/// A size as it appears in benchmark ids (the benches' own label).
fn size_id(size: u64) -> String {
    size_label(size as usize)
}

fn stack_vs_heap_section(results: &Results) -> Option<Section> {
    let sizes = sizes(results);
    if sizes.is_empty() {
        return None;
    }
    let series_for = |variant: &str, alloc: Option<&str>| -> Vec<(f64, f64)> {
        sizes
            .iter()
            .filter_map(|&s| {
                let id = match alloc {
                    Some(a) => format!("stack_vs_heap/{variant}/{a}/{}", size_id(s)),
                    None => format!("stack_vs_heap/{variant}/{}", size_id(s)),
                };
                mean(results, &id).map(|ns| (s as f64, ns))
            })
            .collect()
    };
    let mut series = vec![Series {
        name: "stack_array".into(),
        color: allocator_color("stack"),
        points: series_for("stack_array", None),
        style: Style::Line,
    }];
    for alloc in ALLOCATORS {
        series.push(Series {
            name: format!("heap_box {}", allocator_label(alloc)),
            color: allocator_color(alloc),
            points: series_for("heap_box", Some(alloc)),
            style: Style::Line,
        });
        series.push(Series {
            name: format!("heap_reused {}", allocator_label(alloc)),
            color: allocator_color(alloc),
            points: series_for("heap_reused", Some(alloc)),
            style: Style::Dashed,
        });
    }
    let chart = line_chart(
        "Fill and read N bytes: stack array vs heap block (mean time, log-log)",
        "size",
        "time per iteration",
        Axis::Log10(format_bytes),
        Axis::Log10(format_ns),
        &series,
    );
    let mut table = vec![vec!["size".to_string(), "stack_array".into()]];
    for alloc in ALLOCATORS {
        table[0].push(format!("heap_box {}", allocator_label(alloc)));
    }
    for alloc in ALLOCATORS {
        table[0].push(format!("heap_reused {}", allocator_label(alloc)));
    }
    for &s in &sizes {
        let cell = |id: String| mean(results, &id).map_or("-".into(), format_ns);
        let mut row = vec![
            format_bytes(s as f64),
            cell(format!("stack_vs_heap/stack_array/{}", size_id(s))),
        ];
        for variant in ["heap_box", "heap_reused"] {
            for alloc in ALLOCATORS {
                row.push(cell(format!(
                    "stack_vs_heap/{variant}/{alloc}/{}",
                    size_id(s)
                )));
            }
        }
        table.push(row);
    }
    Some(Section {
        title: "Stack vs heap".into(),
        chart,
        table,
        notes: vec![
            "heap_box allocates, fills, reads and frees every iteration; heap_reused fills and reads a block allocated once; their difference is the allocator's cost. Times are Criterion means, single thread.".into(),
        ],
    })
}

fn first_touch_section(results: &Results) -> Option<Section> {
    let faults = results.faults_by_id();
    let benches: Vec<&Bench> = results
        .benches
        .iter()
        .filter(|b| {
            b.group == "stack_vs_heap"
                && (b.variant.starts_with("first_touch") || b.variant.starts_with("box_new_large"))
        })
        .collect();
    if benches.is_empty() {
        return None;
    }
    let mut table = vec![vec![
        "benchmark".to_string(),
        "mean".into(),
        "minor faults / iteration".into(),
    ]];
    for b in benches {
        table.push(vec![
            b.id.clone(),
            format_ns(b.mean.point_estimate),
            faults
                .get(b.id.as_str())
                .map_or("-".into(), |f| format!("{f:.2}")),
        ]);
    }
    Some(Section {
        title: "First touch and large boxes".into(),
        chart: None,
        table,
        notes: vec!["first_touch_fresh/mmap maps fresh pages from the kernel every iteration; the allocators' fresh blocks are only fresh if the allocator does not recycle freed memory, which the fault count shows.".into()],
    })
}

fn contention_workloads(results: &Results) -> Vec<String> {
    let mut workloads: Vec<String> = Vec::new();
    for b in results.benches.iter().filter(|b| b.group == "contention") {
        if !workloads.contains(&b.variant) {
            workloads.push(b.variant.clone());
        }
    }
    workloads.sort_by_key(|w| workload_rank(w));
    workloads
}

fn contention_threads(results: &Results) -> Vec<usize> {
    let mut threads: Vec<usize> = results
        .benches
        .iter()
        .filter(|b| b.group == "contention")
        .filter_map(|b| b.threads)
        .collect();
    threads.sort_unstable();
    threads.dedup();
    threads
}

/// Operations per second of `contention/<workload>/<alloc>/t<threads>`.
fn ops_per_second(results: &Results, workload: &str, alloc: &str, threads: usize) -> Option<f64> {
    results
        .bench(&format!("contention/{workload}/{alloc}/t{threads}"))?
        .per_second()
        .map(|(v, _)| v)
}

/// `stack_control` does not allocate: its line is the best of its runs under each allocator.
fn stack_control_ops(results: &Results, threads: usize) -> Option<f64> {
    ALLOCATORS
        .iter()
        .filter_map(|a| ops_per_second(results, "stack_control", a, threads))
        .reduce(f64::max)
}

/// A thread count as a table shows it: `t2`, `t2 (4 threads)`, `t4 (oversubscribed)`.
fn thread_label(threads: usize, os_threads: usize, oversubscribed: bool) -> String {
    match (os_threads != threads, oversubscribed) {
        (false, false) => format!("t{threads}"),
        (false, true) => format!("t{threads} (oversubscribed)"),
        (true, false) => format!("t{threads} ({os_threads} threads)"),
        (true, true) => format!("t{threads} ({os_threads} threads, oversubscribed)"),
    }
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
    for workload in contention_workloads(results)
        .iter()
        .filter(|w| *w != "stack_control")
    {
        let os_threads = |t: usize| Workload::from_name(workload).map_or(t, |w| w.os_threads(t));
        let oversubscribed = |t: usize| cores.is_some_and(|c| os_threads(t) > c);
        let thread_label = |t: usize| thread_label(t, os_threads(t), oversubscribed(t));
        let stack_control_line =
            Workload::from_name(workload).is_some_and(Workload::has_stack_control_line);
        let mut series: Vec<Series> = ALLOCATORS
            .iter()
            .map(|a| Series {
                name: allocator_label(a).into(),
                color: allocator_color(a),
                points: threads
                    .iter()
                    .filter_map(|&t| {
                        ops_per_second(results, workload, a, t).map(|v| (t as f64, v / 1e6))
                    })
                    .collect(),
                style: Style::Line,
            })
            .collect();
        if stack_control_line {
            series.push(Series {
                name: "stack_control (no heap)".into(),
                color: allocator_color("stack"),
                points: threads
                    .iter()
                    .filter_map(|&t| stack_control_ops(results, t).map(|v| (t as f64, v / 1e6)))
                    .collect(),
                style: Style::Dashed,
            });
        }
        let chart = line_chart(
            &format!("contention/{workload}: allocator operations per second by threads"),
            "threads",
            "million operations / s",
            Axis::Linear(|v| {
                if (v - v.round()).abs() < 0.01 {
                    format!("{}", v.round())
                } else {
                    String::new()
                }
            }),
            Axis::Linear(|v| format!("{v:.0}")),
            &series,
        );
        let mut table = vec![vec!["threads".to_string()]];
        table[0].extend(
            ALLOCATORS
                .iter()
                .map(|a| format!("{} Mops/s", allocator_label(a))),
        );
        if stack_control_line {
            table[0].push("stack_control Mops/s".into());
        }
        for &t in &threads {
            let mut row = vec![thread_label(t)];
            for a in ALLOCATORS {
                row.push(
                    ops_per_second(results, workload, a, t)
                        .map_or("-".into(), |v| format!("{:.1}", v / 1e6)),
                );
            }
            if stack_control_line {
                row.push(
                    stack_control_ops(results, t).map_or("-".into(), |v| format!("{:.1}", v / 1e6)),
                );
            }
            table.push(row);
        }
        let mut notes = vec!["Operations are allocations plus frees.".to_string()];
        if stack_control_line {
            notes.push("stack_control does the same per-operation work on a stack buffer, with no heap: the ideal scaling line.".into());
        }
        if let Some(about) = Workload::from_name(workload).and_then(workload_note) {
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
            chart,
            table,
            notes,
        });
    }
    sections
}

fn depth_section(results: &Results) -> Option<Section> {
    let depth = results.depth.as_ref()?;
    let rows: Vec<_> = depth
        .entries
        .iter()
        .filter(|e| e.kind == ProbeKind::StdThread && e.requested_stack_bytes.is_some())
        .collect();
    let mut frames: Vec<u64> = rows.iter().map(|e| e.frame_bytes).collect();
    frames.sort_unstable();
    frames.dedup();
    let palette = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    let mut series = Vec::new();
    for (i, &f) in frames.iter().enumerate() {
        let of_frame: Vec<_> = rows
            .iter()
            .filter(|e| e.frame_bytes == f && e.outcome == "overflow")
            .collect();
        let color = palette[i % palette.len()];
        // Measured depths as dots, the prediction as a dashed line of the same colour.
        type Depth = fn(&DepthEntry) -> Option<u64>;
        let figures: [(&str, Depth, Style); 2] = [
            ("measured", |e| e.measured_depth, Style::Dots),
            ("predicted", |e| e.predicted_depth, Style::Dashed),
        ];
        for (what, depth, style) in figures {
            series.push(Series {
                name: format!("{} frame: {what}", format_bytes(f as f64)),
                color,
                points: of_frame
                    .iter()
                    .filter_map(|e| Some((e.granted_stack_bytes? as f64, depth(e)? as f64)))
                    .collect(),
                style,
            });
        }
    }
    let chart = line_chart(
        "Recursion depth until overflow by stack size (std::thread, log-log)",
        "granted stack",
        "levels",
        Axis::Log10(format_bytes),
        Axis::Log10(|v| format!("{v:.0}")),
        &series,
    );
    let mut table = vec![
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
        table.push(vec![
            e.kind.to_string(),
            e.requested_stack_bytes
                .map_or("default".into(), |b| format_bytes(b as f64)),
            e.granted_stack_bytes
                .map_or("-".into(), |b| format_bytes(b as f64)),
            format_bytes(e.frame_bytes as f64),
            opt(e.bytes_per_level),
            opt(e.measured_depth),
            opt(e.predicted_depth),
            e.outcome.clone(),
        ]);
    }
    Some(Section {
        title: "Stack depth".into(),
        chart,
        table,
        notes: vec!["Each stack probe overflowed a real thread in a child process; predicted = usable stack below the first level / bytes per level. heap_loop keeps the levels in a Vec on the heap and stops at a cap.".into()],
    })
}

/// The entry of `memory` for one workload, allocator and thread count.
fn memory_entry<'a>(
    memory: &'a [MemoryRow],
    workload: &str,
    allocator: &str,
    threads: usize,
) -> Option<&'a MemoryRow> {
    memory
        .iter()
        .find(|e| e.workload == workload && e.allocator == allocator && e.threads == threads)
}

/// The largest thread count of `memory` that is not oversubscribed.
fn memory_threads_within_cores(memory: &[MemoryRow]) -> Option<usize> {
    memory
        .iter()
        .filter(|e| !e.oversubscribed)
        .map(|e| e.threads)
        .max()
}

/// Peak memory as a table: one row per workload and thread count (in the suite's workload order),
/// one column per allocator present.
pub fn memory_table(memory: &[MemoryRow]) -> Vec<Vec<String>> {
    let allocators: Vec<&str> = AllocatorKind::ALL
        .iter()
        .map(|k| k.name())
        .filter(|a| memory.iter().any(|e| e.allocator == *a))
        .collect();
    let mut header = vec!["workload".to_string(), "threads".into()];
    header.extend(allocators.iter().map(|a| allocator_label(a).to_string()));
    let mut keys: Vec<(usize, &str, usize)> = memory
        .iter()
        .map(|e| (workload_rank(&e.workload), e.workload.as_str(), e.threads))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let mut table = vec![header];
    for (_, workload, threads) in keys {
        let mut row = vec![workload.to_string(), format!("t{threads}")];
        row.extend(allocators.iter().map(|a| {
            memory_entry(memory, workload, a, threads).map_or("-".into(), |e| mib(e.peak_rss_bytes))
        }));
        table.push(row);
    }
    table
}

/// Position of a workload in the suite's order (unknown names last).
fn workload_rank(name: &str) -> usize {
    Workload::ALL
        .iter()
        .position(|w| w.name() == name)
        .unwrap_or(Workload::ALL.len())
}

fn memory_section(results: &Results) -> Option<Section> {
    let memory = &results.memory.as_ref()?.entries;
    // One thread count for the chart: the largest that is not oversubscribed.
    let t_chart = memory_threads_within_cores(memory)?;
    // Each workload sits at x = its position in the suite's order + 1, which is what the ticks name.
    let series: Vec<Series> = ALLOCATORS
        .iter()
        .map(|a| Series {
            name: allocator_label(a).into(),
            color: allocator_color(a),
            points: Workload::ALL
                .iter()
                .enumerate()
                .filter_map(|(i, w)| {
                    memory_entry(memory, w.name(), a, t_chart)
                        .map(|e| (i as f64 + 1.0, e.peak_rss_bytes as f64 / 1048576.0))
                })
                .collect(),
            style: Style::Dots,
        })
        .collect();
    fn workload_tick(v: f64) -> String {
        let index = v.round() as usize;
        if (v - v.round()).abs() < 0.01 && index >= 1 {
            Workload::ALL
                .get(index - 1)
                .map_or(String::new(), |w| w.name().to_string())
        } else {
            String::new()
        }
    }
    let chart = line_chart(
        &format!("Peak resident memory per workload at t{t_chart} (fresh process each)"),
        "workload",
        "MiB",
        Axis::Linear(workload_tick),
        Axis::Linear(|v| format!("{v:.0}")),
        &series,
    );
    Some(Section {
        title: "Peak memory".into(),
        chart,
        table: memory_table(memory),
        notes: vec![
            "Peak RSS (VmHWM) of a fresh child process that ran only that workload.".into(),
        ],
    })
}

/// The percentiles a latency table and chart show, in order.
const PERCENTILE_LABELS: [&str; 4] = ["p50", "p99", "p99.9", "max"];

/// The values of [`PERCENTILE_LABELS`] for one entry, in ns.
fn latency_percentiles(e: &LatencyRow) -> [f64; 4] {
    [e.p50_ns, e.p99_ns, e.p999_ns, e.max_ns]
}

/// The entry of `latency` for one cell and operation.
fn latency_entry(
    latency: &[LatencyRow],
    workload: Workload,
    threads: usize,
    allocator: AllocatorKind,
    op: Op,
) -> Option<&LatencyRow> {
    latency.iter().find(|e| {
        e.workload == workload && e.threads == threads && e.allocator == allocator && e.op == op
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
    let mut keys: Vec<(usize, Workload, usize, AllocatorKind)> = latency
        .iter()
        .map(|e| {
            (
                workload_rank(e.workload.name()),
                e.workload,
                e.threads,
                e.allocator,
            )
        })
        .collect();
    keys.sort_unstable_by_key(|&(rank, _, threads, allocator)| (rank, threads, allocator));
    keys.dedup();
    let mut table = vec![header];
    for (_, workload, threads, allocator) in keys {
        let entries = Op::ALL.map(|op| latency_entry(latency, workload, threads, allocator, op));
        let Some(any) = entries.iter().flatten().next() else {
            continue;
        };
        let mut row = vec![
            workload.name().to_string(),
            thread_label(threads, any.os_threads, any.oversubscribed),
            allocator_label(allocator.name()).to_string(),
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

/// The thread count a latency chart or finding shows for `workload`: the largest whose threads all fit
/// the cores.
fn latency_threads(latency: &[LatencyRow], workload: Workload) -> Option<usize> {
    latency
        .iter()
        .filter(|e| e.workload == workload && !e.oversubscribed)
        .map(|e| e.threads)
        .max()
}

/// The workloads present in `latency`, in the suite's order.
fn latency_workloads(latency: &[LatencyRow]) -> Vec<Workload> {
    Workload::ALL
        .into_iter()
        .filter(|w| latency.iter().any(|e| e.workload == *w))
        .collect()
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
                series.push(Series {
                    name: format!("{} {}", allocator_label(allocator.name()), op.name()),
                    color: allocator_color(allocator.name()),
                    points: latency_percentiles(e)
                        .iter()
                        .enumerate()
                        .map(|(i, &v)| (i as f64 + 1.0, v))
                        .collect(),
                    style: match op {
                        Op::Alloc => Style::Line,
                        Op::Free => Style::Dashed,
                    },
                });
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
            Axis::Linear(percentile_tick),
            Axis::Log10(format_ns),
            &series,
        ));
    }
    Some(Section {
        title: "Latency of single allocator operations".into(),
        chart: (!charts.is_empty()).then(|| charts.join("\n")),
        table: latency_table(latency),
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

/// For each latency workload, at its largest thread count within the cores, the p99 of an allocation
/// and of a free for each allocator.
fn latency_findings(latency: &[LatencyRow]) -> Vec<String> {
    let mut out = Vec::new();
    for workload in latency_workloads(latency) {
        let Some(t) = latency_threads(latency, workload) else {
            continue;
        };
        for op in Op::ALL {
            let figures: Vec<String> = AllocatorKind::ALL
                .into_iter()
                .filter_map(|a| {
                    let e = latency_entry(latency, workload, t, a, op)?;
                    Some(format!(
                        "{} {} (p50 {}, max {})",
                        allocator_label(a.name()),
                        format_ns(e.p99_ns),
                        format_ns(e.p50_ns),
                        format_ns(e.max_ns)
                    ))
                })
                .collect();
            if !figures.is_empty() {
                out.push(format!(
                    "p99 of one {} in {} at {}: {}.",
                    match op {
                        Op::Alloc => "allocation",
                        Op::Free => "free",
                    },
                    workload.name(),
                    thread_label(t, workload.os_threads(t), false),
                    figures.join(", ")
                ));
            }
        }
    }
    out
}

/// Plain sentences computed from the data; a sentence whose numbers are missing is left out.
pub fn findings(results: &Results, env: &Environment) -> Vec<String> {
    let mut out = Vec::new();
    let size = 64u64;
    if let Some(stack) = mean(
        results,
        &format!("stack_vs_heap/stack_array/{}", size_id(size)),
    ) {
        for a in ALLOCATORS {
            if let Some(heap) = mean(
                results,
                &format!("stack_vs_heap/heap_box/{a}/{}", size_id(size)),
            ) {
                let alloc_only = mean(
                    results,
                    &format!("stack_vs_heap/heap_reused/{a}/{}", size_id(size)),
                )
                .map(|r| {
                    format!(
                        ", of which {} is the allocation and free",
                        format_ns((heap - r).max(0.0))
                    )
                })
                .unwrap_or_default();
                out.push(format!(
                    "A {size} B heap allocation with {} costs {} here (allocate, fill, read, free), {:.1}x a stack array of the same size ({}){alloc_only}.",
                    allocator_label(a),
                    format_ns(heap),
                    heap / stack,
                    format_ns(stack)
                ));
            }
        }
    }
    // Where the heap stops mattering: the smallest size at which heap_box is within 10% of the stack.
    let sizes = sizes(results);
    for a in ALLOCATORS {
        let close = sizes.iter().find(|&&s| {
            match (
                mean(
                    results,
                    &format!("stack_vs_heap/stack_array/{}", size_id(s)),
                ),
                mean(
                    results,
                    &format!("stack_vs_heap/heap_box/{a}/{}", size_id(s)),
                ),
            ) {
                (Some(st), Some(h)) => h <= st * 1.1,
                _ => false,
            }
        });
        if let Some(&s) = close {
            out.push(format!(
                "From {} up, a heap block from {} costs no more than 1.1x the stack array: filling the memory, not allocating it, dominates.",
                format_bytes(s as f64),
                allocator_label(a)
            ));
        }
    }
    let faults = results.faults_by_id();
    let mmap_id = "stack_vs_heap/first_touch_fresh/mmap/1048576";
    if let (Some(t), Some(f)) = (mean(results, mmap_id), faults.get(mmap_id)) {
        let sys_id = "stack_vs_heap/first_touch_fresh/system/1048576";
        let recycled = match (mean(results, sys_id), faults.get(sys_id)) {
            (Some(st), Some(sf)) => format!(
                "; a fresh 1 MiB block from glibc costs {} with {sf:.2} faults per iteration, because freed memory is recycled",
                format_ns(st)
            ),
            _ => String::new(),
        };
        out.push(format!(
            "Touching 1 MiB of fresh pages from the kernel costs {} ({f:.0} minor faults, {} per fault){recycled}.",
            format_ns(t),
            format_ns(t / f.max(1.0))
        ));
    }
    if let (Some(array), Some(zeroed)) = (
        mean(results, "stack_vs_heap/box_new_large_array/system/1048576"),
        mean(results, "stack_vs_heap/box_new_large_zeroed/system/1048576"),
    ) {
        out.push(format!(
            "Box::new([0u8; 1 MiB]) takes {} and Box::new_zeroed {} ({:.2}x).",
            format_ns(array),
            format_ns(zeroed),
            array / zeroed
        ));
    }
    let threads = contention_threads(results);
    let cores = env.cores().unwrap_or(usize::MAX);
    for workload in contention_workloads(results)
        .iter()
        .filter(|w| *w != "stack_control")
    {
        // The largest thread count whose threads all fit the cores.
        let os_threads = |t: usize| Workload::from_name(workload).map_or(t, |w| w.os_threads(t));
        let Some(t) = threads
            .iter()
            .copied()
            .filter(|&t| os_threads(t) <= cores)
            .max()
        else {
            continue;
        };
        let ops: Vec<(&str, f64)> = ALLOCATORS
            .iter()
            .filter_map(|a| ops_per_second(results, workload, a, t).map(|v| (*a, v)))
            .collect();
        if ops.len() < 2 {
            continue;
        }
        let by_ops = |a: &&(&str, f64), b: &&(&str, f64)| a.1.total_cmp(&b.1);
        let (Some(&(best, best_ops)), Some(&(worst, worst_ops))) =
            (ops.iter().max_by(by_ops), ops.iter().min_by(by_ops))
        else {
            continue;
        };
        out.push(format!(
            "With {workload} at {t} threads, {} does {:.1}x the operations of {} ({:.1} vs {:.1} million/s).",
            allocator_label(best),
            best_ops / worst_ops,
            allocator_label(worst),
            best_ops / 1e6,
            worst_ops / 1e6
        ));
        if workload == "local_churn" && t > 1 {
            for a in ALLOCATORS {
                if let (Some(one), Some(many), Some(c1), Some(cn)) = (
                    ops_per_second(results, workload, a, 1),
                    ops_per_second(results, workload, a, t),
                    stack_control_ops(results, 1),
                    stack_control_ops(results, t),
                ) {
                    out.push(format!(
                        "local_churn with {} scales {:.2}x from 1 to {t} threads (stack_control, with no heap: {:.2}x).",
                        allocator_label(a),
                        many / one,
                        cn / c1
                    ));
                }
            }
        }
    }
    if let Some(depth) = &results.depth {
        let two_mib: Vec<_> = depth
            .entries
            .iter()
            .filter(|e| {
                e.kind == ProbeKind::StdThread
                    && e.requested_stack_bytes == Some(2 << 20)
                    && e.outcome == "overflow"
            })
            .collect();
        for e in two_mib
            .iter()
            .filter(|e| e.frame_bytes == 0 || e.frame_bytes == 4096)
        {
            if let (Some(d), Some(per), Some(g)) =
                (e.measured_depth, e.bytes_per_level, e.granted_stack_bytes)
            {
                out.push(format!(
                    "A 2 MiB thread stack holds {d} levels with a {} local array ({per} B per level); size / level would say {}, the difference being TLS, the thread control block and start-up frames.",
                    format_bytes(e.frame_bytes as f64),
                    g / per
                ));
            }
        }
        let within: Vec<f64> = depth
            .entries
            .iter()
            .filter_map(|e| {
                Some(
                    ((e.measured_depth? as f64) - e.predicted_depth? as f64).abs()
                        / e.predicted_depth? as f64
                        * 100.0,
                )
            })
            .collect();
        if !within.is_empty() {
            out.push(format!(
                "Across {} overflow probes, measured depth is within {:.2}% of the depth predicted from the real stack bounds.",
                within.len(),
                within.iter().copied().fold(0.0, f64::max)
            ));
        }
        let heap = depth
            .entries
            .iter()
            .filter(|e| e.kind == ProbeKind::HeapLoop && e.frame_bytes == 0)
            .find_map(|e| e.measured_depth);
        let stack = two_mib
            .iter()
            .find(|e| e.frame_bytes == 0)
            .and_then(|e| e.measured_depth);
        if let (Some(h), Some(s)) = (heap, stack) {
            out.push(format!(
                "The same recursion as a loop over a heap Vec went {h} levels deep in a thread with a 2 MiB stack, {:.0}x the stack's {s} (it stopped at its cap, not at a limit).",
                h as f64 / s as f64
            ));
        }
    }
    if let Some(memory) = &results.memory
        && let Some(t) = memory_threads_within_cores(&memory.entries)
    {
        for workload in ["larson", "producer_consumer", "thread_churn"] {
            let row: Vec<String> = ALLOCATORS
                .iter()
                .filter_map(|a| {
                    memory_entry(&memory.entries, workload, a, t)
                        .map(|e| format!("{} {}", allocator_label(a), mib(e.peak_rss_bytes)))
                })
                .collect();
            if !row.is_empty() {
                out.push(format!(
                    "Peak memory of {workload} at t{t}: {}.",
                    row.join(", ")
                ));
            }
        }
    }
    if let Some(latency) = &results.latency {
        out.extend(latency_findings(&latency.entries));
    }
    out
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
    throughput: Option<crate::results::Throughput>,
    throughput_per_second: Option<f64>,
    throughput_unit: Option<String>,
}

/// Every file of a report, rendered in memory before anything is written.
pub struct Rendered {
    pub files: Vec<(&'static str, Vec<u8>)>,
}

/// A table as Markdown; the first row is the header.
pub fn markdown_table(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        out += &format!("| {} |\n", row.join(" | "));
        if i == 0 {
            out += &format!("|{}\n", "---|".repeat(row.len()));
        }
    }
    out
}

fn html_table(rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table>");
    for (i, row) in rows.iter().enumerate() {
        let tag = if i == 0 { "th" } else { "td" };
        out += "<tr>";
        for cell in row {
            let _ = write!(out, "<{tag}>{}</{tag}>", escape(cell));
        }
        out += "</tr>";
    }
    out + "</table>"
}

/// Renders every report file from `results`.
pub fn render(results: &Results, env: &Environment) -> Result<Rendered, String> {
    let mut sections: Vec<Section> = Vec::new();
    sections.extend(stack_vs_heap_section(results));
    sections.extend(first_touch_section(results));
    sections.extend(contention_sections(results, env));
    sections.extend(depth_section(results));
    sections.extend(memory_section(results));
    sections.extend(latency_section(results));
    let findings = findings(results, env);
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
            "measured at (unix time)".into(),
            env.field("unix_time"),
        ]);
        rows.push(vec![
            "report written at (unix time)".into(),
            env.report_unix_time.to_string(),
        ]);
        rows
    };

    // Markdown.
    let mut md = format!(
        "# stackheap report\n\nMachine: {}\n\n## Findings\n\n",
        env.summary()
    );
    for f in &findings {
        md += &format!("- {f}\n");
    }
    for s in &sections {
        md += &format!("\n## {}\n\n{}", s.title, markdown_table(&s.table));
        for n in &s.notes {
            md += &format!("\n{n}\n");
        }
    }
    md += &format!("\n## Environment\n\n{}", markdown_table(&env_rows));

    // HTML: one self-contained page, charts inline, no script.
    let mut html = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>stackheap report</title>\
         <style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\
         table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\
         th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}figure{margin:1em 0}.note{color:#555}</style></head><body>\n",
    );
    let _ = write!(
        html,
        "<h1>stackheap report</h1><p>Machine: {}</p><h2>Findings</h2><ul>",
        escape(&env.summary())
    );
    for f in &findings {
        let _ = write!(html, "<li>{}</li>", escape(f));
    }
    html += "</ul>\n";
    for s in &sections {
        let _ = writeln!(html, "<h2>{}</h2>", escape(&s.title));
        if let Some(svg) = &s.chart {
            let _ = writeln!(html, "<figure>{svg}</figure>");
        }
        html += &html_table(&s.table);
        for n in &s.notes {
            let _ = write!(html, "<p class=\"note\">{}</p>", escape(n));
        }
        html += "\n";
    }
    let _ = writeln!(
        html,
        "<h2>Environment</h2>{}</body></html>",
        html_table(&env_rows)
    );

    // results.json
    let rows: Vec<ResultRow> = results
        .benches
        .iter()
        .map(|b| {
            let per_second = b.per_second();
            ResultRow {
                id: &b.id,
                group: &b.group,
                variant: &b.variant,
                allocator: b.allocator.as_deref(),
                threads: b.threads,
                size_bytes: b.size_bytes,
                unit: "ns",
                mean: b.mean.point_estimate,
                mean_lower: b.mean.confidence_interval.lower_bound,
                mean_upper: b.mean.confidence_interval.upper_bound,
                median: b.median.point_estimate,
                median_lower: b.median.confidence_interval.lower_bound,
                median_upper: b.median.confidence_interval.upper_bound,
                confidence_level: b.mean.confidence_interval.confidence_level,
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
        "findings": findings,
    });

    // github-action-benchmark: customSmallerIsBetter.
    let machine = env.summary();
    let action: Vec<serde_json::Value> = results
        .benches
        .iter()
        .map(|b| {
            let ci = b.mean.confidence_interval;
            json!({
                "name": b.id,
                "unit": "ns",
                "value": b.mean.point_estimate,
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
            let ci = b.mean.confidence_interval;
            (
                b.id.as_str(),
                json!({"latency": {"value": b.mean.point_estimate, "lower_value": ci.lower_bound, "upper_value": ci.upper_bound}}),
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

/// Writes every rendered file into `dir`, each through a temporary file and a rename: a failure
/// leaves the previous report in place, never half a file.
pub fn write(dir: &Path, rendered: &Rendered) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (name, bytes) in &rendered.files {
        let path = dir.join(name);
        crate::output::write_atomically(&path, bytes)?;
        written.push(path);
    }
    Ok(written)
}
