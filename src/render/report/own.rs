//! The report's "Your code" section and its answers in `results.json`: the user's types (boxed /
//! stack per allocator, whether `Box::new` built the value on the stack first), recursions (largest
//! input per stack size, stack per unit of input, the stack the inputs they named need) and
//! workloads (allocators ranked).

use crate::analysis::aggregate::Results;
use crate::analysis::own::{TypeAnswer, WorkloadRanking, own_answers};
use crate::analysis::stats::Decision;
use crate::data::own::Allocated;
use crate::render::report::section::{Section, Table};
use crate::render::units::{allocator_label, format_bytes, format_ns, thread_label};
use crate::render::words::{ranking_text, ratio_words, within_noise};

/// One answer about the user's own code, as the report shows it and `results.json` carries it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct OwnAnswerWords {
    /// `type`, `recursion` or `workload`.
    pub question: &'static str,
    /// The name the user gave it.
    pub name: String,
    /// The answer in one or two sentences, every ratio with its interval and verdict.
    pub answer: String,
    /// What the table holds.
    pub caption: String,
    /// Header row first; empty when there is nothing to tabulate.
    pub table: Vec<Vec<String>>,
}

/// The "Your code" answers of `results` in words, types first, then recursions, then workloads;
/// empty without `own.json`.
pub(super) fn own_answer_words(results: &Results) -> Vec<OwnAnswerWords> {
    let Some(own) = results.own.as_ref() else {
        return Vec::new();
    };
    let answers = own_answers(&own.entries);
    let cores = (own.machine.cores > 0).then_some(own.machine.cores);
    let mut words: Vec<OwnAnswerWords> = answers.types.iter().map(type_words).collect();
    for recursion in &answers.recursions {
        words.push(match recursion {
            Ok((fit, needs)) => recursion_words(fit, needs),
            Err(why) => OwnAnswerWords {
                question: "recursion",
                name: why.split(':').next().unwrap_or_default().to_owned(),
                answer: format!("No line through the measured stacks: {why}."),
                caption: String::new(),
                table: Vec::new(),
            },
        });
    }
    words.extend(answers.workloads.iter().map(|w| workload_words(w, cores)));
    words
}

/// "1 block, 256 B".
fn allocated_words(a: Allocated) -> String {
    format!(
        "{} block{}, {}",
        a.blocks,
        if a.blocks == 1 { "" } else { "s" },
        format_bytes(a.bytes as f64)
    )
}

fn type_words(t: &TypeAnswer) -> OwnAnswerWords {
    let e = &t.entry;
    let mut rows = vec![vec![
        "allocator".to_string(),
        "on the stack (median of processes)".into(),
        "boxed".into(),
        "boxed / stack, paired by process".into(),
        "allocated per call: stack, boxed".into(),
        "proof".into(),
    ]];
    for (v, rounds) in t.allocators.iter().zip(&e.allocators) {
        rows.push(vec![
            allocator_label(v.allocator).to_string(),
            format_ns(v.stack_ns),
            format_ns(v.boxed_ns),
            v.ratio.map_or("-".into(), |r| ratio_words(&r)),
            format!(
                "{}; {}",
                allocated_words(rounds.stack_allocated),
                allocated_words(rounds.boxed_allocated)
            ),
            rounds.proof.clone(),
        ]);
    }
    let verdicts: Vec<String> = t
        .allocators
        .iter()
        .map(|v| {
            let label = allocator_label(v.allocator);
            let Some(r) = v.ratio else {
                return format!("{label}: one process, no ratio");
            };
            match v.decision {
                Decision::Slower => format!("{label}: boxing costs {}", r.text()),
                Decision::Faster => format!("{label}: the boxed value is faster, {}", r.text()),
                Decision::Tie => format!("{label}: {}", ratio_words(&r)),
            }
        })
        .collect();
    let size = format_bytes(e.size_bytes as f64);
    let built = if e.built_on_stack {
        format!(
            "Box::new built it on the stack first (a copy of its {size} was in the frame that called Box::new), so boxing did not keep it off the stack"
        )
    } else {
        format!(
            "Box::new built it in place (no copy of its {size} in the frame that called Box::new)"
        )
    };
    OwnAnswerWords {
        question: "type",
        name: e.name.clone(),
        answer: format!(
            "{} ({}, size_of {size}), boxed against on the stack: {}. {built}.",
            e.name,
            e.type_name,
            verdicts.join("; ")
        ),
        caption: format!(
            "{}: build and use per call, on the stack and boxed, {} calls of each per process, {} rounds of one process per allocator; ≈ {}",
            e.name,
            e.calls,
            t.rounds,
            within_noise(t.margin)
        ),
        table: rows,
    }
}

fn recursion_words(
    fit: &crate::analysis::own::RecursionFit,
    needs: &[(u64, u64)],
) -> OwnAnswerWords {
    let mut rows = vec![vec![
        "stack size".to_string(),
        "largest input that returned".into(),
        "child processes".into(),
    ]];
    rows.extend(fit.fits.iter().map(|f| {
        vec![
            format_bytes(f.stack_bytes as f64),
            f.largest_input.to_string(),
            f.children.to_string(),
        ]
    }));
    rows.extend(needs.iter().map(|(input, stack)| {
        vec![
            format!("{} (from the line)", format_bytes(*stack as f64)),
            format!("{input} (asked for)"),
            "-".into(),
        ]
    }));
    let largest: Vec<String> = fit
        .fits
        .iter()
        .map(|f| {
            format!(
                "{} in {}",
                f.largest_input,
                format_bytes(f.stack_bytes as f64)
            )
        })
        .collect();
    let asked: Vec<String> = needs
        .iter()
        .map(|(input, stack)| format!("{input} needs {}", format_bytes(*stack as f64)))
        .collect();
    OwnAnswerWords {
        question: "recursion",
        name: fit.name.clone(),
        answer: format!(
            "{}: largest input {}; {:.1} B of stack per unit of input, plus {} fixed (the line through the measured stack sizes){}.",
            fit.name,
            largest.join(", "),
            fit.bytes_per_input,
            format_bytes(fit.fixed_bytes.max(0.0)),
            if asked.is_empty() {
                String::new()
            } else {
                format!("; {}", asked.join(", "))
            }
        ),
        caption: format!(
            "{}: the largest input per stack size (exact: one child per input), then the stack the inputs you named need",
            fit.name
        ),
        table: rows,
    }
}

fn workload_words(w: &WorkloadRanking, cores: Option<usize>) -> OwnAnswerWords {
    let threads = thread_label(w.threads, w.threads, cores.is_some_and(|c| w.threads > c));
    let mut rows = vec![vec![
        "allocator".to_string(),
        "time per call (median of rounds)".into(),
        "to the fastest, paired by round".into(),
        "proof".into(),
    ]];
    for r in &w.ranking {
        let proof = w
            .proofs
            .iter()
            .find(|(a, _)| *a == r.allocator)
            .map_or("", |(_, p)| p.as_str());
        rows.push(vec![
            allocator_label(r.allocator).to_string(),
            format_ns(r.timed.point),
            if r.to_best.decided() || r.to_best.ratio == 1.0 {
                r.to_best.text()
            } else {
                format!("≈ ({})", r.to_best.text())
            },
            proof.to_string(),
        ]);
    }
    OwnAnswerWords {
        question: "workload",
        name: w.name.clone(),
        answer: format!(
            "{} at {threads}, fastest first: {}.",
            w.name,
            ranking_text(&w.ranking)
        ),
        caption: format!(
            "{} at {threads}: {} calls per process, {} rounds of one process per allocator; ≈ {}",
            w.name,
            w.calls,
            w.rounds,
            within_noise(w.margin)
        ),
        table: rows,
    }
}

/// The "Your code" section: the answers first, then a table per answer.
pub(super) fn own_section(results: &Results) -> Option<Section> {
    results.own.as_ref()?;
    let words = own_answer_words(results);
    Some(Section {
        lead: words.iter().map(|w| w.answer.clone()).collect(),
        title: "Your code".into(),
        anchor: "your-code",
        nav: "Your code",
        charts: Vec::new(),
        tables: words
            .iter()
            .filter(|w| !w.table.is_empty())
            .map(|w| Table {
                caption: w.caption.clone(),
                rows: w.table.clone(),
            })
            .collect(),
        notes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::own::{
        AllocatorRounds, OwnEntry, RecursionEntry, StackFit, TypeEntry, TypeRounds, WorkloadEntry,
    };
    use crate::data::suite_file::SuiteFile;
    use crate::workload::allocators::AllocatorKind;

    fn results(entries: Vec<OwnEntry>) -> Results {
        Results {
            own: Some(SuiteFile {
                schema: 1,
                kind: "own".into(),
                machine: Default::default(),
                entries,
            }),
            ..Results::default()
        }
    }

    #[test]
    fn your_code_answers_each_question_first_then_tabulates_it_with_proofs() {
        let fit = |stack_bytes, largest_input| StackFit {
            stack_bytes,
            largest_input,
            children: 20,
        };
        let rounds = |allocator, base: f64| AllocatorRounds {
            allocator,
            per_call_ns: vec![base, base * 1.02, base * 0.99, base * 1.01],
            proof: format!("runs on {allocator} (...)"),
        };
        let type_rounds = |allocator, boxed_factor: f64| TypeRounds {
            allocator,
            stack_ns: vec![100.0, 102.0, 99.0, 101.0],
            boxed_ns: [100.0, 102.0, 99.0, 101.0]
                .map(|ns| ns * boxed_factor)
                .to_vec(),
            stack_allocated: Allocated::default(),
            boxed_allocated: Allocated {
                blocks: 1,
                bytes: 256,
            },
            proof: format!("runs on {allocator} (...)"),
        };
        let r = results(vec![
            OwnEntry::Type(TypeEntry {
                name: "reading".into(),
                type_name: "your_code::Reading".into(),
                size_bytes: 256,
                built_on_stack: true,
                calls: 8192,
                allocators: vec![
                    type_rounds(AllocatorKind::System, 1.5),
                    type_rounds(AllocatorKind::Mimalloc, 1.01),
                ],
            }),
            OwnEntry::Recursion(RecursionEntry {
                name: "parse_nested".into(),
                fits: vec![fit(1000, 90), fit(2000, 190)],
                asked_inputs: vec![10_000],
            }),
            OwnEntry::Workload(WorkloadEntry {
                name: "index".into(),
                threads: 2,
                calls: 64,
                allocators: vec![
                    rounds(AllocatorKind::System, 150.0),
                    rounds(AllocatorKind::Jemalloc, 100.0),
                ],
            }),
        ]);
        let section = own_section(&r).expect("own.json present");
        assert_eq!(section.anchor, "your-code");
        // The answers lead, in the order of the questions: type, recursion, workload.
        assert_eq!(section.lead.len(), 3, "{:?}", section.lead);
        let reading = &section.lead[0];
        assert!(
            reading.contains("size_of 256 B")
                && reading.contains("glibc: boxing costs 1.50x")
                && reading.contains("mimalloc: within noise")
                && reading.contains("Box::new built it on the stack first"),
            "{reading}"
        );
        let types = &section.tables[0].rows;
        assert_eq!(types[1][4], "0 blocks, 0 B; 1 block, 256 B");
        let recursion = &section.tables[1].rows;
        assert_eq!(recursion[1], ["1000 B", "90", "20"]);
        // 100 B fixed + 10 B per input: 10,000 inputs need 100,100 B.
        assert!(
            recursion[3][0].contains("97.8 KiB") && recursion[3][1].contains("10000"),
            "{recursion:?}"
        );
        let workload = &section.tables[2].rows;
        assert_eq!(workload[1][0], "jemalloc");
        assert_eq!(workload[2][0], "glibc");
        assert!(workload[2][2].starts_with("1.50x"), "{workload:?}");
        assert!(workload[2][3].starts_with("runs on system"));
        assert!(section.lead[1].contains("10.0 B of stack per unit of input"));
        assert!(section.lead[2].starts_with("index at t2, fastest first: jemalloc"));
        let json = own_answer_words(&r);
        assert_eq!(
            json.iter().map(|w| w.question).collect::<Vec<_>>(),
            ["type", "recursion", "workload"]
        );
        assert!(own_section(&Results::default()).is_none());
    }

    #[test]
    fn a_report_of_your_code_alone_leaves_out_the_suites_unmeasured_answers() {
        let r = results(vec![OwnEntry::Recursion(RecursionEntry {
            name: "parse_nested".into(),
            fits: vec![StackFit {
                stack_bytes: 1000,
                largest_input: 90,
                children: 20,
            }],
            asked_inputs: Vec::new(),
        })]);
        let env = crate::harness::environment::Environment::new(None);
        let rendered = crate::render::report::render(&r, &env).unwrap();
        for (name, bytes) in &rendered.files {
            let text = String::from_utf8_lossy(bytes);
            if *name == "report.md" || *name == "index.html" {
                assert!(text.contains("Your code"), "{name}");
                assert!(!text.contains("Claims, tested"), "{name}");
                assert!(!text.contains("Should this be on the stack?"), "{name}");
            }
        }
    }
}
