//! The report's locality section: contiguous and scattered list walks by working set.

use crate::analysis::aggregate::Results;
use crate::analysis::comparisons::*;
use crate::analysis::lookup::*;
use crate::data::id::{Layout, Owner};
use crate::render::chart::Style;
use crate::render::report::section::{Section, Table};
use crate::render::report::style::bytes_time_chart;
use crate::render::report::style::{Source, allocator_series};
use crate::render::units::*;
use crate::render::words::{labelled_ratios, ratio_cell};
use crate::workload::allocators::AllocatorKind;
use crate::workload::locality::NODE_BYTES;

/// One figure per allocator.
type PerAllocator<T> = Vec<(AllocatorKind, T)>;

pub(super) fn locality_section(results: &Results) -> Option<Section> {
    let allocators = results.allocators();
    let sets = locality_sets(results);
    if sets.is_empty() {
        return None;
    }
    // Nanoseconds per node visited: the walk's time over the nodes in the working set.
    let per_node = |layout: Layout, owner: Owner, ws: u64| {
        time(results, &locality_id(layout, owner, ws))
            .map(|ns| ns / (ws / NODE_BYTES as u64) as f64)
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
    for &a in &allocators {
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
    let title = format!(
        "Locality: one walk over {NODE_BYTES}-byte nodes, contiguous vs scattered, by working set"
    );
    let axes = [
        "working set (bytes, powers of two)",
        "time per node visited (log)",
    ];
    let chart = bytes_time_chart([&title, axes[0], axes[1]], &series);
    let mut rows = vec![vec!["working set".to_string(), "contiguous stack".into()]];
    // The same order as each row's cells below.
    for &layout in Layout::ALL {
        rows[0].extend(
            allocators
                .iter()
                .map(|a| format!("{} {}", layout.name(), allocator_label(a))),
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
            row.extend(
                allocators
                    .iter()
                    .copied()
                    .map(|a| cell(layout, Owner::Heap(a))),
            );
        }
        rows.push(row);
    }
    let mut notes = vec!["Every variant walks the same linked list of 64-byte nodes; contiguous nodes lie in address order in one stack array or one heap block, scattered nodes are one allocation each, made amid churn (twice as many allocated, a random half freed) and linked in random order.".to_string()];
    // Every scattered / contiguous ratio once, per working set and allocator: the table and the
    // crossover's note read them.
    let scatter: Vec<(u64, PerAllocator<Option<Ratio>>)> = sets
        .iter()
        .map(|&ws| {
            let per = allocators
                .iter()
                .map(|&a| (a, scatter_ratio(results, a, ws)))
                .collect();
            (ws, per)
        })
        .collect();
    let measured = |per: &[(AllocatorKind, Option<Ratio>)]| -> PerAllocator<Ratio> {
        per.iter().filter_map(|&(a, r)| Some((a, r?))).collect()
    };
    let mut ratio_rows = vec![
        std::iter::once("working set".to_string())
            .chain(allocators.iter().map(|&a| allocator_label(a).to_string()))
            .collect::<Vec<_>>(),
    ];
    for (ws, per) in &scatter {
        let cells = per
            .iter()
            .map(|(_, r)| r.as_ref().map_or("-".into(), ratio_cell));
        ratio_rows.push(
            std::iter::once(format_bytes(*ws as f64))
                .chain(cells)
                .collect(),
        );
    }
    notes.push(match locality_crossover(results) {
        Some(ws) => {
            let from_here: Vec<(u64, PerAllocator<Ratio>)> = scatter
                .iter()
                .filter(|(set, _)| *set >= ws)
                .map(|(set, per)| (*set, measured(per)))
                .collect();
            let in_rounds = |(_, ratios): &&(u64, PerAllocator<Ratio>)| {
                ratios.iter().all(|(_, r)| r.enough_pairs())
            };
            let by_process = format!(
                "paired by process, clearing the run's ±{:.0}% noise",
                margin(results) * 100.0
            );
            // Where the engine's groups end is read from the ratios, not assumed.
            let how = match from_here.iter().take_while(in_rounds).count() {
                0 => format!("each ratio's interval {by_process}"),
                n if n == from_here.len() => {
                    "each ratio's interval clears its group's margin, in the engine's paired rounds"
                        .to_string()
                }
                n => format!(
                    "each ratio's interval clears its group's margin in the engine's paired rounds up to {}, and beyond it is {by_process}",
                    format_bytes(from_here[n - 1].0 as f64)
                ),
            };
            let at = format_bytes(ws as f64);
            format!(
                "Crossover: from a {at} working set up, scattered nodes are decidedly slower than contiguous ones for every allocator ({how}); at {at}: {}.",
                from_here
                    .first()
                    .map_or(String::new(), |(_, ratios)| labelled_ratios(ratios))
            )
        }
        None => "No working set measured here made scattered nodes decidedly slower for every allocator (a comparison measured in one process is never decided).".into(),
    });
    Some(Section {
        lead: Vec::new(),
        title: "Locality".into(),
        anchor: "locality",
        nav: "Locality",
        charts: chart.into_iter().collect(),
        tables: vec![
            Table {
                caption: "time per node visited, in one walk over the working set".into(),
                rows,
                figure: None,
            },
            Table {
                caption:
                    "scattered / contiguous, per allocator: the cost of scattering the same reads"
                        .into(),
                rows: ratio_rows,
                figure: None,
            },
        ],
        notes,
    })
}
