//! The report's stack-vs-heap section: time by size (chart and tables), the allocation cost alone,
//! large boxes and alignment.

use crate::analysis::aggregate::Results;
use crate::analysis::comparisons::*;
use crate::analysis::lookup::*;
use crate::data::id::{BenchId, HeapKind, StackKind};
use crate::data::results::Bench;
use crate::render::chart::{Axis, Series, Style, line_chart};
use crate::render::report::section::{Section, Table};
use crate::render::report::style::bytes_time_chart;
use crate::render::report::style::{Source, allocator_series};
use crate::render::units::*;

/// The chart's title and the descriptions of its x and y axes.
const TIME_CHART: [&str; 3] = [
    "Fill and read N bytes: stack array vs heap block (time per iteration, log-log)",
    "size (bytes, powers of two)",
    "time per iteration (log)",
];

pub(super) fn stack_vs_heap_section(results: &Results) -> Option<Section> {
    let allocators = results.allocators();
    let sizes = sizes(results);
    if sizes.is_empty() {
        return None;
    }
    // Heap cost relative to the stack: heap_box / stack_array with its interval, one line per allocator.
    let ratio_series: Vec<Series> = allocators
        .iter()
        .copied()
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
    let series_for = |id: &dyn Fn(u64) -> BenchId| -> Vec<(f64, f64)> {
        sizes
            .iter()
            .filter_map(|&s| time(results, &id(s)).map(|ns| (s as f64, ns)))
            .collect()
    };
    let mut series = vec![allocator_series(
        Source::Stack,
        "stack_array".into(),
        Style::Line,
        series_for(&|s| stack_id(StackKind::Array, s)),
    )];
    for &a in &allocators {
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
    let time_chart = bytes_time_chart(TIME_CHART, &series);
    let mut rows = vec![vec!["size".to_string(), "stack_array".into()]];
    for kind in [HeapKind::Box, HeapKind::Reused] {
        for &alloc in &allocators {
            rows[0].push(format!("{} {}", kind.name(), allocator_label(alloc)));
        }
    }
    for &s in &sizes {
        let cell = |id: BenchId| time(results, &id).map_or("-".into(), format_ns);
        let mut row = vec![format_bytes(s as f64), cell(stack_id(StackKind::Array, s))];
        for kind in [HeapKind::Box, HeapKind::Reused] {
            for &alloc in &allocators {
                row.push(cell(heap_id(kind, alloc, s)));
            }
        }
        rows.push(row);
    }
    let mut tables = vec![Table {
        caption: "time per iteration, one thread".into(),
        rows,
        figure: None,
    }];
    // The direct cost of getting and giving back N bytes (one byte touched per page).
    if sizes.iter().any(|&s| {
        allocators
            .iter()
            .copied()
            .any(|a| time(results, &heap_id(HeapKind::AllocFree, a, s)).is_some())
    }) {
        let mut rows = vec![vec!["size".to_string(), "stack_reserve".into()]];
        rows[0].extend(
            allocators
                .iter()
                .map(|a| format!("alloc_free {}", allocator_label(a))),
        );
        for &s in &sizes {
            let cell = |id: BenchId| time(results, &id).map_or("-".into(), format_ns);
            let mut row = vec![
                format_bytes(s as f64),
                cell(stack_id(StackKind::Reserve, s)),
            ];
            row.extend(
                allocators
                    .iter()
                    .copied()
                    .map(|a| cell(heap_id(HeapKind::AllocFree, a, s))),
            );
            rows.push(row);
        }
        tables.push(Table {
            caption: "allocation cost alone: get N bytes, touch one byte per page, give them back; time per iteration".into(),
            rows,
            figure: None,
        });
    }
    // Where each heap_reused block lay: a block that is slower than its peers may be placed worse.
    let placements: Vec<_> = results.placement.iter().flat_map(|f| &f.entries).collect();
    if !placements.is_empty() {
        let mut rows = vec![vec![
            "benchmark".to_string(),
            "time".into(),
            "address mod 64".into(),
            "address mod 4096".into(),
        ]];
        rows.extend(placements.iter().map(|p| {
            vec![
                p.id.clone(),
                p.id.parse()
                    .ok()
                    .and_then(|id| time(results, &id))
                    .map_or("-".into(), format_ns),
                p.placement.offset_in_line.to_string(),
                p.placement.offset_in_page.to_string(),
            ]
        }));
        tables.push(Table {
            caption: "where each heap_reused block lay in the latest process (placement.json): its address modulo a cache line and a page".into(),
            rows,
            figure: None,
        });
    }
    // The alignment sweep: the same loop at byte offsets past a cache line, against offset 0.
    let aligned: Vec<&Bench> = results
        .benches
        .values()
        .filter(|b| matches!(b.key, BenchId::Alignment { .. }))
        .collect();
    let align_sizes = distinct(aligned.iter().filter_map(|b| b.size_bytes()));
    if !align_sizes.is_empty() {
        let id = |offset: usize, size: u64| BenchId::Alignment {
            offset: offset as u8,
            bytes: size,
        };
        let mut rows = vec![vec!["offset past a cache line".to_string()]];
        rows[0].extend(align_sizes.iter().map(|&s| format_bytes(s as f64)));
        for offset in crate::workload::arrays::ALIGNMENT_OFFSETS {
            let mut row = vec![format!("{offset} B")];
            row.extend(align_sizes.iter().map(|&s| {
                // Paired by process after a repeated run, like every ratio of the report.
                match (
                    time(results, &id(offset, s)),
                    compare(results, &id(offset, s), &id(0, s)),
                ) {
                    (Some(t), Some(r)) => {
                        let verdict = if r.decided() {
                            r.text()
                        } else if r.repeated() {
                            "≈ offset 0".into()
                        } else {
                            format!("{}, one process: not decided", r.text())
                        };
                        format!("{} ({verdict})", format_ns(t))
                    }
                    _ => "-".into(),
                }
            }));
            rows.push(row);
        }
        tables.push(Table {
            caption: "alignment: fill and read N bytes at an offset past a cache line, time per iteration (ratio to offset 0)".into(),
            rows,
            figure: None,
        });
    }
    Some(Section {
        lead: Vec::new(),
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
