//! stackheap's three questions asked of serde_json, a crate nobody here wrote: should the 256-byte
//! reading it deserialises into be kept on the stack or boxed, under each allocator; how deep a
//! nesting it parses in a thread of each stack size, and the stack 10,000 levels need; and which
//! allocator a multi-threaded parse-and-index workload wants. Every process is proven on its
//! allocator. Writes `target/stackheap/own.json` and a report whose first section is "Your code".
//!
//! Run: `cargo bench` (about a minute on 2 cores after the build); `cargo bench -- --test` runs
//! a small plan.

use stackheap::harness::child::ChildCommand;
use stackheap::own::allocator::ChosenAllocator;
use stackheap::own::{Measured, ProcessPlan, recursion, save, stack_or_box, workload};
use std::sync::LazyLock;
use std::time::Duration;
use your_code::{parse_and_index, parse_nested, parse_reading, reading_json, reading_total};

// Every process of this program runs on the allocator STACKHEAP_ALLOCATOR names.
#[global_allocator]
static GLOBAL: ChosenAllocator = ChosenAllocator;

const READING: &str = "reading_from_json";
const NESTING: &str = "serde_json_nesting";
const INDEX: &str = "parse_and_index";

/// The JSON every call deserialises: built once per process.
static READING_JSON: LazyLock<String> = LazyLock::new(reading_json);

fn fail(message: String) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}

fn main() {
    let build_reading = || parse_reading(&READING_JSON);
    // A child started by the measurements below runs its one question and ends here.
    stack_or_box::serve_child(READING, &build_reading, &reading_total);
    recursion::serve_child(NESTING, &parse_nested);
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
    let processes = ProcessPlan {
        rounds: if test { 2 } else { 5 },
        target: Duration::from_millis(if test { 20 } else { 300 }),
        ..ProcessPlan::default()
    };

    let reading =
        stack_or_box::measure(READING, &build_reading, &reading_total, &child, &processes)
            .unwrap_or_else(|e| fail(e));
    for a in &reading.allocators {
        println!(
            "{READING} under {}: boxed / stack {}",
            a.allocator,
            a.ratio.map_or("-".into(), |r| r.text())
        );
    }

    let depth_plan = recursion::Plan {
        stacks: if test {
            vec![256 << 10, 512 << 10]
        } else {
            vec![256 << 10, 1 << 20, 2 << 20, 8 << 20]
        },
        max_input: 1 << 26,
        timeout: Duration::from_secs(60),
    };
    let nesting =
        recursion::measure(NESTING, &parse_nested, &child, &depth_plan).unwrap_or_else(|e| fail(e));
    println!(
        "{NESTING}: {:.1} B of stack per level; 10,000 levels need {} B",
        nesting.bytes_per_input,
        nesting.stack_for(10_000)
    );

    let workload_plan = workload::WorkloadPlan {
        threads: vec![1, 2],
        processes,
    };
    let index = workload::measure(INDEX, &parse_and_index, &child, &workload_plan)
        .unwrap_or_else(|e| fail(e));

    let measured = Measured {
        types: vec![reading],
        recursions: vec![(nesting, vec![10_000])],
        workloads: index,
    };
    let saved = save(&measured).unwrap_or_else(|e| fail(format!("cannot write own.json: {e}")));
    println!("wrote {}", saved.display());
    let report = stackheap::own::write_report().unwrap_or_else(|e| fail(e));
    println!("open {} in a browser", report.join("index.html").display());
}
