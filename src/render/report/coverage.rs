//! Test: every section of the report shows every allocator and every workload the results hold, so a
//! new allocator or workload that a section forgets fails here instead of missing silently.

use super::*;
use crate::data::id::{BenchId, HeapKind, Layout, Owner, StackKind, TouchKind};
use crate::data::latency::{LatencyEntry, Op};
use crate::data::memory::MemoryEntry;
use crate::data::results::Bench;
use crate::data::suite_file::SuiteFile;
use crate::workload::allocators::AllocatorKind;
use crate::workload::contention::Workload;

const SIZES: [u64; 3] = [64, 4096, 65536];
const THREADS: [usize; 2] = [1, 2];

/// Every benchmark of the families whose sections have a line or a column per allocator, for every
/// allocator and workload the suite knows, each as if measured in three processes.
fn everything() -> Results {
    let mut ids = Vec::new();
    for bytes in SIZES {
        ids.push(BenchId::Stack {
            kind: StackKind::Array,
            bytes,
        });
        ids.push(BenchId::Locality {
            layout: Layout::Contiguous,
            owner: Owner::Stack,
            bytes,
        });
        for allocator in AllocatorKind::all() {
            ids.push(BenchId::Heap {
                kind: HeapKind::Box,
                allocator,
                bytes,
            });
            ids.push(BenchId::Heap {
                kind: HeapKind::AllocFree,
                allocator,
                bytes,
            });
            ids.push(BenchId::Locality {
                layout: Layout::Scattered,
                owner: Owner::Heap(allocator),
                bytes,
            });
            ids.push(BenchId::FirstTouch {
                kind: TouchKind::HeapGrowth,
                allocator: Some(allocator),
                bytes,
            });
        }
    }
    for workload in Workload::ALL {
        for allocator in AllocatorKind::all() {
            for threads in THREADS {
                ids.push(BenchId::Contention {
                    workload,
                    allocator,
                    threads,
                });
            }
        }
    }
    let benches = ids
        .iter()
        .map(|id| {
            let elements = matches!(id, BenchId::Contention { .. }).then_some(1000);
            let bench = Bench {
                processes: 3,
                ..Bench::synthetic(&id.to_string(), 100.0, 1.0, elements)
            };
            (*id, bench)
        })
        .collect();
    let mut memory = Vec::new();
    let mut latency = Vec::new();
    for workload in Workload::ALL {
        for allocator in AllocatorKind::all() {
            for threads in THREADS {
                memory.push(MemoryEntry {
                    workload,
                    allocator,
                    threads,
                    oversubscribed: false,
                    rounds: 10,
                    peak_rss_bytes: 8 << 20,
                    above_idle_bytes: 4 << 20,
                });
                if workload.in_latency() {
                    latency.extend(Op::ALL.map(|op| LatencyEntry {
                        workload,
                        allocator,
                        threads,
                        os_threads: workload.os_threads(threads),
                        oversubscribed: false,
                        op,
                        p50_ns: 40.0,
                        p99_ns: 400.0,
                        p999_ns: 4000.0,
                        max_ns: 40000.0,
                        samples: 1000,
                        sampled_one_in: 4,
                        clock: "rdtsc".into(),
                        timer_overhead_ns: 10.0,
                        clock_resolution_ns: 1.0,
                        meter_cost_ns: 5.0,
                    }));
                }
            }
        }
    }
    Results {
        benches,
        memory: Some(file("memory", memory)),
        latency: Some(file("latency", latency)),
        ..Results::default()
    }
}

fn file<E>(kind: &str, entries: Vec<E>) -> SuiteFile<E> {
    SuiteFile {
        schema: 1,
        kind: kind.into(),
        machine: Default::default(),
        entries,
    }
}

/// What a section shows in each of its kinds of content: the text of its charts (their legends
/// included), of its tables, and of its title and notes. A name must appear in its charts and its
/// tables (where it has them), so that a chart that forgets an allocator fails even when the table
/// beside it lists it.
fn parts(section: &Section) -> Vec<(&'static str, String)> {
    let mut parts = Vec::new();
    if !section.charts.is_empty() {
        parts.push(("charts", section.charts.concat()));
    }
    if !section.tables.is_empty() {
        let tables = section.tables.iter().map(|t| {
            let rows: Vec<&str> = t.rows.iter().flatten().map(String::as_str).collect();
            format!("{} {}", t.caption, rows.join(" "))
        });
        parts.push(("tables", tables.collect()));
    }
    if parts.is_empty() {
        parts.push((
            "words",
            format!(
                "{} {} {}",
                section.title,
                section.lead.join(" "),
                section.notes.join(" ")
            ),
        ));
    }
    parts
}

fn section<'a>(sections: &'a [Section], anchor: &str) -> &'a Section {
    sections
        .iter()
        .find(|s| s.anchor == anchor)
        .unwrap_or_else(|| {
            let anchors: Vec<&str> = sections.iter().map(|s| s.anchor).collect();
            panic!("no section `{anchor}` among {anchors:?}")
        })
}

fn assert_shows(section: &Section, what: &[&str]) {
    for (part, text) in parts(section) {
        let missing: Vec<&&str> = what.iter().filter(|w| !text.contains(**w)).collect();
        assert!(
            missing.is_empty(),
            "the {part} of section `{}` miss {missing:?}",
            section.title
        );
    }
}

#[test]
fn every_section_shows_every_allocator_and_workload_it_was_given() {
    let results = everything();
    let env = Environment {
        machine: crate::data::machine::Machine {
            cores: 2,
            ..Default::default()
        },
        git_commit: None,
        report_unix_time: 0,
    };
    let page = Page::new(&results, &env);
    let labels: Vec<&str> = AllocatorKind::all().iter().map(|a| a.label()).collect();
    for anchor in [
        "stack-vs-heap",
        "first-touch",
        "locality",
        "memory",
        "latency",
    ] {
        assert_shows(section(&page.sections, anchor), &labels);
    }
    let names: Vec<&str> = Workload::ALL.iter().map(|w| w.name()).collect();
    assert_shows(section(&page.sections, "memory"), &names);
    let sampled: Vec<&str> = Workload::ALL
        .iter()
        .filter(|w| w.in_latency())
        .map(|w| w.name())
        .collect();
    assert_shows(section(&page.sections, "latency"), &sampled);
    for workload in Workload::ALL.into_iter().filter(|w| w.allocates()) {
        let own = page
            .sections
            .iter()
            .find(|s| s.title.contains(workload.name()))
            .unwrap_or_else(|| panic!("no section for {workload}"));
        assert_shows(own, &labels);
    }
}
