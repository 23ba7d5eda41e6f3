//! The report's contention sections: one per workload, allocators side by side across thread
//! counts, with the rankings and the stack-only control line.

use crate::analysis::aggregate::Results;
use crate::analysis::comparisons::*;
use crate::analysis::lookup::*;
use crate::harness::environment::Environment;
use crate::render::chart::{Axis, Marker, Series, Style, line_chart};
use crate::render::report::section::{Section, Table};
use crate::render::report::style::{Source, allocator_series};
use crate::render::units::*;
use crate::workload::allocators::AllocatorKind;
use plotters::style::RGBColor;

pub(super) fn contention_sections(results: &Results, env: &Environment) -> Vec<Section> {
    let allocators = results.allocators();
    let threads = contention_threads(results);
    let cores = env.cores();
    let mut sections = Vec::new();
    for (i, workload) in contention_workloads(results)
        .into_iter()
        .filter(|w| w.allocates())
        .enumerate()
    {
        let os_threads = |t: usize| workload.os_threads(t);
        let oversubscribed = |t: usize| cores.is_some_and(|c| os_threads(t) > c);
        let thread_label = |t: usize| thread_label(t, os_threads(t), oversubscribed(t));
        let stack_control_line = workload.has_stack_control_line();
        let mops =
            |a: AllocatorKind, t: usize| ops_per_second(results, workload, a, t).map(|v| v / 1e6);
        let mut series: Vec<Series> = allocators
            .iter()
            .copied()
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
        if let Some(best_t1) = allocators
            .iter()
            .copied()
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
            allocators
                .iter()
                .map(|a| format!("{} Mops/s", allocator_label(a))),
        );
        if stack_control_line {
            rows[0].push("stack_control Mops/s".into());
        }
        for &t in &threads {
            let mut row = vec![thread_label(t)];
            for &a in &allocators {
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
        if let Some(about) = workload.note() {
            notes.push(about.into());
        }
        if threads.iter().any(|&t| oversubscribed(t)) {
            notes.push(format!(
                "Runs with more threads than the {} cores are oversubscribed: they show time-sharing, not parallel scaling.",
                cores.unwrap_or(0)
            ));
        }
        sections.push(Section {
            lead: Vec::new(),
            title: format!("Contention: {workload}"),
            // The first contention section is where the allocator answer links.
            anchor: if i == 0 { "contention" } else { "" },
            nav: "Contention",
            charts: chart.into_iter().collect(),
            tables: vec![Table {
                caption: "million allocator operations (allocations + frees) per second".into(),
                rows,
                figure: None,
            }],
            notes,
        });
    }
    sections
}
