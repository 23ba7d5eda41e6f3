//! The report's stack-depth section: measured against predicted depth, the heap loop and the largest
//! local array.

use crate::analysis::aggregate::Results;
use crate::analysis::lookup::*;
use crate::data::depth::{DepthEntry, ProbeKind};
use crate::render::chart::{Axis, Marker, Series, Style, line_chart};
use crate::render::report::section::{Section, Table};
use crate::render::units::*;
use plotters::style::RGBColor;

pub(super) fn depth_section(results: &Results) -> Option<Section> {
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
                        _ => e.outcome.to_string(),
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
            e.outcome.to_string(),
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
            figure: None,
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
                    e.outcome.to_string()
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
            figure: None,
        });
    }
    tables.push(Table {
        caption: "every probe (all kinds), levels".into(),
        rows: all,
        figure: None,
    });
    Some(Section {
        lead: Vec::new(),
        title: "Stack depth".into(),
        anchor: "depth",
        nav: "Stack depth",
        charts: chart.into_iter().collect(),
        tables,
        notes: vec!["Each stack probe overflowed a real thread in a child process; predicted = usable stack below the first level / bytes per level. heap_loop keeps the levels in a Vec on the heap and stops at a cap.".into()],
    })
}
