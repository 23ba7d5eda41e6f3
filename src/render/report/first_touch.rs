//! The report's first-touch section: the time and page faults of memory new to the process.

use crate::analysis::aggregate::Results;
use crate::data::id::{BenchId, TouchKind};
use crate::data::results::Bench;
use crate::render::report::section::{Section, Table};
use crate::render::units::*;

pub(super) fn first_touch_section(results: &Results) -> Option<Section> {
    let faults = results.faults_by_id();
    let benches: Vec<&Bench> = results
        .benches
        .values()
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
        "time".into(),
        "per page".into(),
        "minor faults / iteration".into(),
        "faults / page".into(),
        "huge page faults / iteration".into(),
    ]];
    for b in benches {
        let fault = faults.get(&b.key);
        let per_page = fault
            .and_then(|f| f.pages_per_iter)
            .filter(|p| *p > 0.0)
            .map_or("-".into(), |p| format_ns(b.time.point_estimate / p));
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
            format_ns(b.time.point_estimate),
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
        lead: Vec::new(),
        title: "First touch and large boxes".into(),
        anchor: "first-touch",
        nav: "First touch",
        charts: Vec::new(),
        tables: vec![Table {
            caption: "time per iteration (the touch alone: thread start and giving memory back are not timed); minor page faults (getrusage) per iteration and per touched page".into(),
            rows,
            figure: None,
        }],
        notes: vec![
            "mmap: pages straight from the kernel, every page faults. stack_fresh_thread: a new thread touches its own, never used stack. heap_fresh_thread and heap_growth: the allocator was first asked to give its free memory back (glibc malloc_trim, jemalloc arena purge, mimalloc mi_collect; a library named at run time through its own entry point, named in the environment table); heap_regrowth grows again without that. Faults per page near 1.00 mean fresh pages; below 1, the allocator served memory it had kept (glibc reuses a thread arena and, after large frees, raises its mmap threshold) or fresh memory in 2 MiB transparent huge pages, one fault per 512 pages (mimalloc madvises its arenas MADV_HUGEPAGE; the huge page column, counted system-wide, shows it).".into(),
        ],
    })
}
