//! stackheap's questions asked of serde_json, a crate nobody here wrote: how deep a nesting it
//! parses in a thread of each stack size, and the stack 10,000 levels need; and which allocator a
//! multi-threaded parse-and-index workload wants, each process proven on its allocator. Writes
//! `target/stackheap/own.json` and a report whose first section is "Your code".
//!
//! Run: `cargo run --release` (about two minutes on 2 cores); `-- --test` runs a small plan.

use serde::{Deserialize, Serialize};
use stackheap::harness::child::ChildCommand;
use stackheap::own::allocator::ChosenAllocator;
use stackheap::own::{recursion, save, workload};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

// Every process of this program runs on the allocator STACKHEAP_ALLOCATOR names.
#[global_allocator]
static GLOBAL: ChosenAllocator = ChosenAllocator;

const NESTING: &str = "serde_json_nesting";
const INDEX: &str = "parse_and_index";

/// serde_json parsing `depth` nested arrays into a `Value` with its recursion limit off (and
/// dropping it, which recurses too): the user's recursion, unchanged.
fn nested(depth: u64) {
    let text = "[".repeat(depth as usize) + &"]".repeat(depth as usize);
    let mut de = serde_json::Deserializer::from_str(&text);
    de.disable_recursion_limit();
    let value = serde_json::Value::deserialize(&mut de).expect("valid JSON");
    black_box(&value);
}

#[derive(Serialize, Deserialize, Clone)]
struct Record {
    id: u64,
    name: String,
    tags: Vec<String>,
    score: f64,
}

/// The document every thread parses: 300 records.
fn document() -> String {
    let records: Vec<Record> = (0..300)
        .map(|id| Record {
            id,
            name: format!("user-{id}"),
            tags: vec!["a".into(), format!("group-{}", id % 7)],
            score: id as f64 / 3.0,
        })
        .collect();
    serde_json::to_string(&records).expect("serialisable")
}

/// The user's workload: `threads` threads each parse the document and index it by name.
fn parse_and_index(threads: usize) {
    let text = document();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let records: Vec<Record> = serde_json::from_str(&text).expect("valid JSON");
                let index: HashMap<String, Record> =
                    records.into_iter().map(|r| (r.name.clone(), r)).collect();
                black_box(index.len());
            });
        }
    });
}

fn fail(message: String) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}

fn main() {
    // A child started by the measurements below runs its one input or workload and ends here.
    recursion::serve_child(NESTING, &nested);
    workload::serve_child(INDEX, &parse_and_index);

    let test = std::env::args().any(|a| a == "--test");
    let child = ChildCommand {
        args: if test {
            vec!["--test".into()]
        } else {
            Vec::new()
        },
        ..ChildCommand::current_exe().unwrap_or_else(|e| fail(e.to_string()))
    };
    let stacks = if test {
        vec![256 << 10, 512 << 10]
    } else {
        vec![256 << 10, 1 << 20, 2 << 20, 8 << 20]
    };
    let depth_plan = recursion::Plan {
        stacks,
        max_input: 1 << 26,
        timeout: Duration::from_secs(60),
    };
    let fit = recursion::measure(NESTING, &nested, &child, &depth_plan).unwrap_or_else(|e| fail(e));
    println!(
        "{NESTING}: {:.1} B of stack per level; 10,000 levels need {} B",
        fit.bytes_per_input,
        fit.stack_for(10_000)
    );
    let workload_plan = workload::WorkloadPlan {
        rounds: if test { 2 } else { 5 },
        target: Duration::from_millis(if test { 20 } else { 300 }),
        ..workload::WorkloadPlan::default()
    };
    let ranked = workload::measure(INDEX, &parse_and_index, &child, &workload_plan)
        .unwrap_or_else(|e| fail(e));
    let saved = save(&[fit], &[(NESTING, &[10_000])], &ranked)
        .unwrap_or_else(|e| fail(format!("cannot write own.json: {e}")));
    println!("wrote {}", saved.display());
    let report = stackheap::own::write_report().unwrap_or_else(|e| fail(e));
    println!("open {} in a browser", report.join("index.html").display());
}
