//! The report's memory and latency sections: peak resident memory per workload and allocator, and
//! percentiles of single allocator operations (also printed by the contention bench).

use crate::analysis::aggregate::Results;
use crate::analysis::lookup::*;
use crate::data::latency::LatencyEntry;
use crate::data::latency::Op;
use crate::data::memory::MemoryEntry;
use crate::render::chart::{Axis, BarGroup, Marker, Style, bar_chart, line_chart};
use crate::render::findings::*;
use crate::render::report::section::{Section, Table};
use crate::render::report::style::{allocator_color, allocator_marker, allocator_series};
use crate::render::units::*;
use crate::workload::allocators::AllocatorKind;
use crate::workload::contention::Workload;
use plotters::style::RGBColor;

/// Peak memory as a table: one row per workload and thread count (in the suite's workload order),
/// one column per allocator present.
pub fn memory_table(memory: &[MemoryEntry]) -> Vec<Vec<String>> {
    let allocators: Vec<AllocatorKind> = AllocatorKind::all()
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

pub(super) fn memory_section(results: &Results) -> Option<Section> {
    let allocators = results.allocators();
    let memory = &results.memory.as_ref()?.entries;
    // One thread count for the chart: the largest that is not oversubscribed.
    let t_chart = memory_threads_within_cores(memory)?;
    let series: Vec<(String, RGBColor, Marker)> = allocators
        .iter()
        .copied()
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
            values: allocators
                .iter()
                .copied()
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
        lead: Vec::new(),
        title: "Peak memory".into(),
        anchor: "memory",
        nav: "Peak memory",
        charts: chart.into_iter().collect(),
        tables: vec![Table {
            caption: "peak resident memory (VmHWM) of a fresh process, MiB".into(),
            rows: memory_table(memory),
            figure: None,
        }],
        notes: vec![
            "Peak RSS (VmHWM) of a fresh child process that ran only that workload.".into(),
        ],
    })
}

/// Latency as a table: one row per workload, thread count and allocator; for allocation and for free,
/// p50, p99, p99.9 and max in ns.
pub fn latency_table(latency: &[LatencyEntry]) -> Vec<Vec<String>> {
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
                Some(e) => latency_percentiles(e).map(|v| latency_cell(e, v)),
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

/// A percentile as a table shows it: its value, or `< floor` where the clock cannot resolve it.
fn latency_cell(e: &LatencyEntry, ns: f64) -> String {
    if e.below_resolution(ns) {
        format!("<{:.0}*", e.resolution_floor_ns())
    } else {
        format!("{ns:.0}")
    }
}

/// "1 thread 21 ns, 2 threads 22 ns": the meter's own cost per sample at each thread count.
fn meter_costs(latency: &[LatencyEntry]) -> String {
    let mut costs: Vec<(usize, f64)> = latency
        .iter()
        .map(|e| (e.os_threads, e.meter_cost_ns))
        .collect();
    costs.sort_by_key(|c| c.0);
    costs.dedup_by_key(|c| c.0);
    costs
        .iter()
        .map(|(t, ns)| format!("{t} thread{} {ns:.0} ns", if *t == 1 { "" } else { "s" }))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn latency_section(results: &Results) -> Option<Section> {
    let latency = &results.latency.as_ref()?.entries;
    let first = latency.first()?;
    let mut charts = Vec::new();
    for workload in latency_workloads(latency) {
        let Some(t) = latency_threads(latency, workload) else {
            continue;
        };
        let mut series = Vec::new();
        for allocator in AllocatorKind::all() {
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
        lead: Vec::new(),
        title: "Latency of single allocator operations".into(),
        anchor: "latency",
        nav: "Latency",
        charts,
        tables: vec![Table {
            caption: "sampled latency of one allocation or free, ns".into(),
            rows: latency_table(latency),
            figure: None,
        }],
        notes: vec![
            format!(
                "One operation in {} was timed, at random, with {}; two back-to-back clock reads cost {:.0} ns, and the meter's own cost per sample (a no-op timed the same way, all threads sampling at once) was {}: every sample includes it (not subtracted).",
                first.sampled_one_in, first.clock, first.timer_overhead_ns, meter_costs(latency)
            ),
            format!(
                "The clock advances in steps of {:.1} ns (measured at the start of the run). A percentile under {} steps ({:.0} ns) measures the clock more than the operation: it is shown as <{:.0}* and never compared.",
                first.clock_resolution_ns,
                crate::data::latency::RESOLVED_STEPS,
                first.resolution_floor_ns(),
                first.resolution_floor_ns()
            ),
            "A sample covers the allocator call alone: its fast path, refills, locks, system calls and page faults on its own metadata, and any preemption by the OS (which dominates the max of oversubscribed runs). It excludes the workload's first write to the block, where a fault on fresh memory lands.".into(),
            "Each run follows an untimed warm-up run of the same workload; allocators are interleaved within each workload and thread count.".into(),
        ],
    })
}
