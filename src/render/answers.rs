//! The three answers a reader comes for, in words: a sentence or two and a small table each, worded
//! from `analysis::answers`, or, when the part was not run, what to run.

use crate::analysis::answers::*;
use crate::analysis::comparisons::paired_in_rounds;
use crate::render::units::{allocator_label, format_bytes, format_ns, thread_label};
use crate::render::words::{
    crossover_tie_words, paired_tie_words, per_allocator_times, probe_set_words, ranking_text,
    ratio_cell, ratio_words, within_noise,
};

/// One of the three questions, answered: a sentence or two and a small table, or, when the part was
/// not run, what to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub question: &'static str,
    /// The report section that holds the details.
    pub anchor: &'static str,
    pub text: String,
    /// What the table's numbers are, in which unit.
    pub caption: &'static str,
    /// Header row first; empty when the part was not measured.
    pub table: Vec<Vec<String>>,
}

impl Answer {
    /// An answer not measured in this run: what to run for it.
    fn not_measured(
        question: &'static str,
        anchor: &'static str,
        caption: &'static str,
        part: &str,
    ) -> Answer {
        Answer {
            question,
            anchor,
            text: format!(
                "Not measured in this run: run `scripts/run {part}` (or `cargo bench --bench {part}`)."
            ),
            caption,
            table: Vec::new(),
        }
    }
}

const STACK_QUESTION: &str = "Should this be on the stack?";
const STACK_CAPTION: &str = "time per iteration; (Nx [interval]) heap / stack, with its verdict where paired in rounds; ≈ within noise";
const ALLOCATOR_QUESTION: &str = "Which allocator should my threaded code use?";
const ALLOCATOR_CAPTION: &str = "time per allocator operation, relative to the fastest";
const DEPTH_QUESTION: &str = "How deep can my recursion go?";
const DEPTH_CAPTION: &str = "recursion levels until overflow, spawned thread";

fn stack_words(a: &StackAnswer) -> Answer {
    let mut sentences = Vec::new();
    if let Some((small, ratios)) = &a.small {
        let costs: Vec<String> = ratios
            .iter()
            .map(|(alloc, r)| format!("{} {}", allocator_label(*alloc), ratio_words(r)))
            .collect();
        sentences.push(format!(
            "A {} heap block (allocate, fill, read, free) costs, relative to a stack array of the same size: {}.",
            format_bytes(*small as f64),
            costs.join(", ")
        ));
    }
    if !a.alloc_free_64.is_empty() {
        let stack = a
            .reserve_64
            .map_or(String::new(), |t| format!(" (the stack: {})", format_ns(t)));
        sentences.push(format!(
            "Allocating and freeing 64 B alone: {}{stack}.",
            per_allocator_times(&a.alloc_free_64)
        ));
    }
    let crossovers: Vec<String> = a
        .crossovers
        .iter()
        .map(|(alloc, size)| match size {
            Some(s) => format!("{} {}", allocator_label(*alloc), format_bytes(*s as f64)),
            None => format!("{} none measured", allocator_label(*alloc)),
        })
        .collect();
    let paired = a
        .rows
        .iter()
        .flat_map(|row| row.heap.iter().flatten())
        .all(|(_, r)| r.enough_pairs());
    let tie = crossover_tie_words(paired, a.margin);
    sentences.push(format!(
        "From these sizes up, a heap block is never decidedly slower than the stack array ({tie}): {}. Below them the allocation is a real cost; above them, filling the memory dominates.",
        crossovers.join(", ")
    ));
    let mut header = vec!["size".to_string(), "stack_array".into()];
    header.extend(
        a.allocators
            .iter()
            .map(|&alloc| format!("heap_box {} (x stack)", allocator_label(alloc))),
    );
    let mut table = vec![header];
    for row in &a.rows {
        let mut cells = vec![
            format_bytes(row.size as f64),
            row.stack.map_or("-".into(), format_ns),
        ];
        cells.extend(row.heap.iter().map(|cell| match cell {
            Some((t, r)) if r.enough_pairs() || r.decided() => {
                format!("{} ({})", format_ns(*t), ratio_cell(r))
            }
            Some((t, _)) => format!("{} (≈ stack)", format_ns(*t)),
            None => "-".into(),
        }));
        table.push(cells);
    }
    Answer {
        question: STACK_QUESTION,
        anchor: "stack-vs-heap",
        text: sentences.join(" "),
        caption: STACK_CAPTION,
        table,
    }
}

fn allocator_words(a: &AllocatorAnswer) -> Answer {
    let counts: Vec<String> = a
        .counts
        .iter()
        .map(|(alloc, n)| format!("{} in {n}", allocator_label(*alloc)))
        .collect();
    let paired = a.rows.iter().all(|(_, _, r)| paired_in_rounds(r));
    let (tie, legend) = if paired {
        (
            paired_tie_words(),
            "fastest first (Nx [interval], verdict: time ratio to the fastest, paired in rounds)",
        )
    } else {
        (
            within_noise(a.margin),
            "fastest first (≈ within noise; Nx: time ratio to the fastest)",
        )
    };
    let mut table = vec![vec!["workload".into(), "threads".into(), legend.into()]];
    for (w, t, ranking) in &a.rows {
        table.push(vec![
            w.name().to_owned(),
            thread_label(*t, w.os_threads(*t), false),
            ranking_text(ranking),
        ]);
    }
    Answer {
        question: ALLOCATOR_QUESTION,
        anchor: "contention",
        text: format!(
            "Fastest or not decidedly slower than the fastest ({}), per workload at the most threads that fit the cores: {}, of {} workloads. The table ranks each workload; the pattern of your own code decides.",
            tie,
            counts.join(", "),
            a.rows.len()
        ),
        caption: ALLOCATOR_CAPTION,
        table,
    }
}

fn depth_words(a: &DepthAnswer) -> Answer {
    let mut sentences = Vec::new();
    if let Some((d, per, naive)) = a.smallest {
        sentences.push(format!(
            "A spawned thread with a {} stack holds {d} levels of the smallest frame measured ({per} B per level). The rule of thumb stack size / bytes per level says {naive}: it misses {} that glibc takes from the top of the stack (TLS, the thread control block) and the frames below the first level.",
            format_bytes(a.shown_stack as f64),
            format_bytes(naive.saturating_sub(d) as f64 * per as f64)
        ));
    }
    let total: usize = a.probes.iter().map(|(_, n)| n).sum();
    sentences.push(format!(
        "Depth scales with the stack size you request; usable stack / bytes per level, from the thread's real stack bounds, predicted all {} within {:.2}%.",
        probe_set_words(
            &format!(
                "overflow probes of spawned threads with a requested stack ({} stack sizes x {} frame sizes)",
                a.stacks.len(),
                a.frames.len()
            ),
            total,
            &a.probes
        ),
        a.worst_percent
    ));
    if let Some((stack, largest)) = a.local_array {
        sentences.push(format!(
            "One local array can be at most {largest} B in a {} thread; a 1,000,000-byte one fits {}.",
            format_bytes(stack as f64),
            a.folklore_fits_from
                .map_or("none of the measured stacks".into(), |s| format!(
                    "from a {} stack up",
                    format_bytes(s as f64)
                ))
        ));
    }
    let mut header = vec!["frame (bytes per level)".to_string()];
    header.extend(
        a.table_stacks
            .iter()
            .map(|&s| format!("{} stack", format_bytes(s as f64))),
    );
    let mut table = vec![header];
    for row in &a.rows {
        let mut cells = vec![format!(
            "{} ({})",
            format_bytes(row.frame as f64),
            row.per_level.map_or("-".into(), |p| format!("{p} B"))
        )];
        cells.extend(
            row.depths
                .iter()
                .map(|d| d.map_or("-".into(), |d| format!("{d} levels"))),
        );
        table.push(cells);
    }
    Answer {
        question: DEPTH_QUESTION,
        anchor: "depth",
        text: sentences.join(" "),
        caption: DEPTH_CAPTION,
        table,
    }
}

/// The three answers in words, in the order the report shows them.
pub fn answer_words(answers: &Answers) -> [Answer; 3] {
    [
        answers.stack.as_ref().map_or_else(
            || {
                Answer::not_measured(
                    STACK_QUESTION,
                    "stack-vs-heap",
                    STACK_CAPTION,
                    "stack_vs_heap",
                )
            },
            stack_words,
        ),
        answers.allocator.as_ref().map_or_else(
            || {
                Answer::not_measured(
                    ALLOCATOR_QUESTION,
                    "contention",
                    ALLOCATOR_CAPTION,
                    "contention",
                )
            },
            allocator_words,
        ),
        answers.depth.as_ref().map_or_else(
            || Answer::not_measured(DEPTH_QUESTION, "depth", DEPTH_CAPTION, "stack_depth"),
            depth_words,
        ),
    ]
}
