//! stackheap's three questions asked of serde_json, a crate nobody here wrote, beside a Criterion
//! group in the same binary: should the 256-byte reading it deserialises into be kept on the stack
//! or boxed, under each allocator; how deep a nesting it parses per thread stack size, and the
//! stack 10,000 levels need; and which allocator a multi-threaded parse-and-index workload wants.
//!
//! Run: `cargo bench` (questions and Criterion group), `cargo bench -- parse_and_index` (one
//! question), `cargo test --benches` (a small plan of everything).

use criterion::{Criterion, criterion_group};
use std::hint::black_box;
use std::sync::LazyLock;
use your_code::{parse_and_index, parse_nested, parse_reading, reading_json, reading_total};

// Each child process runs on the allocator it compares; this process and Criterion's on glibc.
#[global_allocator]
static GLOBAL: stackheap::own::ChosenAllocator = stackheap::own::ChosenAllocator;

/// The JSON every call deserialises: built once per process.
static READING: LazyLock<String> = LazyLock::new(reading_json);

fn questions(ask: &mut stackheap::own::Questions) {
    ask.stack_or_box(
        "reading_from_json",
        || parse_reading(&READING),
        reading_total,
    );
    // Thread stacks of 256 KiB, 1, 2 and 8 MiB (the default; .stacks(&[...]) to choose).
    ask.recursion("serde_json_nesting", parse_nested)
        .needs(&[10_000]);
    ask.workload("parse_and_index", parse_and_index)
        .threads(&[1, 2]);
}

fn parse(c: &mut Criterion) {
    c.bench_function("parse_reading", |b| {
        b.iter(|| parse_reading(black_box(&READING)))
    });
}

criterion_group!(benches, parse);
stackheap::main!(questions, benches);
