//! The report's "Your code" section and its answers in `results.json`: the user's types (boxed /
//! stack per allocator, whether `Box::new` built the value on the stack first), recursions (largest
//! input per stack size, stack per unit of input, the stack the inputs they named need) and
//! workloads (allocators ranked).

use crate::analysis::aggregate::Results;
use crate::analysis::comparisons::Ratio;
use crate::analysis::own::{Control, TypeAnswer, WorkloadRanking, own_answers};
use crate::data::own::Allocated;
use crate::render::chart::{Axis, Marker, Series, Style, line_chart};
use crate::render::report::section::{Section, Table};
use crate::render::report::style::allocator_series;
use crate::render::units::{allocator_label, format_bytes, format_ns, thread_label};
use crate::render::words::{verdict_words, within_noise};
use crate::workload::allocators::AllocatorKind;

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
    /// The answer's chart (SVG), shown beside its table in the page.
    #[serde(skip)]
    pub chart: Option<String>,
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
                chart: None,
            },
        });
    }
    words.extend(answers.workloads.iter().map(|w| workload_words(w, cores)));
    words
}

/// The answers `entries` give, one sentence each, as the report leads with them: what a program
/// asking questions of its own code prints when it is done.
pub fn own_answer_sentences(
    own: &crate::data::suite_file::SuiteFile<crate::data::own::OwnEntry>,
) -> Vec<String> {
    let results = Results {
        own: Some(own.clone()),
        ..Results::default()
    };
    own_answer_words(&results)
        .into_iter()
        .map(|w| w.answer)
        .collect()
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

/// Where a comparison's margin came from, for its caption.
fn margin_words(margin: f64, control: Option<Control>, what: &str) -> String {
    match control {
        Some(c) => format!(
            "margin ±{:.1}%, measured by the control ({what} timed twice under two names: {:.3}x [{:.3}, {:.3}] over {} pairs)",
            margin * 100.0,
            c.interval.point,
            c.interval.low,
            c.interval.high,
            c.interval.samples
        ),
        None => format!("no control in this file; ≈ {}", within_noise(margin)),
    }
}

/// A chart of ratios with their intervals, one point per allocator (`x` its place, so each is
/// marked and coloured as every chart marks it), and a reference line at 1.
fn ratio_chart(
    title: &str,
    y_desc: &str,
    ratios: &[(AllocatorKind, Ratio)],
    one: &str,
) -> Option<String> {
    let series: Vec<Series> = ratios
        .iter()
        .enumerate()
        .map(|(i, (a, r))| Series {
            intervals: vec![(r.low, r.high)],
            ..allocator_series(
                *a,
                format!("{} {}", allocator_label(*a), r.text()),
                Style::Dots,
                vec![(i as f64, r.ratio)],
            )
        })
        .collect();
    line_chart(
        title,
        "allocator (see the legend)",
        y_desc,
        // A log scale: 1.25x and 0.8x stand equally far from 1, and the axis need not start at 0.
        (
            Axis::Linear(|_| String::new()),
            Axis::Log10(|v| format!("{v:.2}x")),
        ),
        &series,
        Some((1.0, one)),
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
            v.ratio.map_or("-".into(), |r| verdict_words(&r)),
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
            match v.ratio {
                None => format!("{label}: one process, no ratio"),
                Some(r) => format!("{label}: {}", verdict_words(&r)),
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
    let ratios: Vec<(AllocatorKind, Ratio)> = t
        .allocators
        .iter()
        .filter_map(|v| Some((v.allocator, v.ratio?)))
        .collect();
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
            "{}: build and use per call, on the stack and boxed, {} calls of each per process, {} rounds of one process per allocator; {}",
            e.name,
            e.calls,
            t.rounds,
            margin_words(t.margin, t.control, "the stack path")
        ),
        table: rows,
        chart: ratio_chart(
            &format!("{}: boxed / on the stack, per allocator", e.name),
            "boxed / stack (median of processes, interval)",
            &ratios,
            "1.0 = on the stack",
        ),
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
        chart: recursion_chart(fit, needs),
    }
}

/// The largest input per stack size as measured, the fitted line through them, and the inputs the
/// user named at the stack the line gives them.
fn recursion_chart(
    fit: &crate::analysis::own::RecursionFit,
    needs: &[(u64, u64)],
) -> Option<String> {
    let stacks = fit
        .fits
        .iter()
        .map(|f| f.stack_bytes)
        .chain(needs.iter().map(|n| n.1));
    let (lo, hi) = stacks.fold((u64::MAX, 0), |(lo, hi), s| (lo.min(s), hi.max(s)));
    let line: Vec<(f64, f64)> = (0..=8)
        .map(|i| lo as f64 * (hi as f64 / lo as f64).powf(f64::from(i) / 8.0))
        .map(|stack| (stack, fit.input_for(stack as u64) as f64))
        .filter(|p| p.1 > 0.0)
        .collect();
    let dark = plotters::style::RGBColor(20, 20, 20);
    let series = [
        Series {
            name: "largest input that returned (measured)".into(),
            color: dark,
            marker: Marker::Circle,
            style: Style::Dots,
            points: fit
                .fits
                .iter()
                .map(|f| (f.stack_bytes as f64, f.largest_input as f64))
                .collect(),
            intervals: Vec::new(),
        },
        Series {
            name: format!(
                "the line: {:.1} B per unit of input + {}",
                fit.bytes_per_input,
                format_bytes(fit.fixed_bytes.max(0.0))
            ),
            color: plotters::style::RGBColor(90, 90, 200),
            marker: Marker::Square,
            style: Style::Dashed,
            points: line,
            intervals: Vec::new(),
        },
        Series {
            name: "inputs you named, at the stack they need".into(),
            color: plotters::style::RGBColor(200, 80, 20),
            marker: Marker::Diamond,
            style: Style::Dots,
            points: needs.iter().map(|&(n, s)| (s as f64, n as f64)).collect(),
            intervals: Vec::new(),
        },
    ];
    line_chart(
        &format!("{}: largest input per thread stack size", fit.name),
        "thread stack size",
        "input",
        (Axis::Log2(format_bytes), Axis::Log10(|v| format!("{v:.0}"))),
        &series,
        None,
    )
}

fn workload_words(w: &WorkloadRanking, cores: Option<usize>) -> OwnAnswerWords {
    let threads = thread_label(w.threads, w.threads, cores.is_some_and(|c| w.threads > c));
    let mut rows = vec![vec![
        "allocator".to_string(),
        "time per call (median of sessions)".into(),
        "to the fastest, paired by session".into(),
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
            if r.allocator == w.ranking[0].allocator {
                "the fastest".into()
            } else {
                verdict_words(&r.to_best)
            },
            proof.to_string(),
        ]);
    }
    let others: Vec<String> = w
        .ranking
        .iter()
        .skip(1)
        .map(|r| {
            format!(
                "{} {}",
                allocator_label(r.allocator),
                verdict_words(&r.to_best)
            )
        })
        .collect();
    let ratios: Vec<(AllocatorKind, Ratio)> =
        w.ranking.iter().map(|r| (r.allocator, r.to_best)).collect();
    OwnAnswerWords {
        question: "workload",
        name: w.name.clone(),
        answer: format!(
            "{} at {threads}: fastest {}{}.",
            w.name,
            w.ranking
                .first()
                .map_or("-", |r| allocator_label(r.allocator)),
            if others.is_empty() {
                String::new()
            } else {
                format!("; to it, {}", others.join("; "))
            }
        ),
        caption: format!(
            "{} at {threads}: {} calls per sample, {} sessions of lock-step workers (one per allocator); {}",
            w.name,
            w.calls,
            w.rounds,
            margin_words(
                w.margin,
                w.control,
                w.proofs.first().map_or("-", |(a, _)| allocator_label(*a))
            )
        ),
        table: rows,
        chart: ratio_chart(
            &format!("{} at {threads}: time per call to the fastest", w.name),
            "to the fastest (median of sessions, interval)",
            &ratios,
            "1.0 = the fastest",
        ),
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
                figure: w.chart.clone(),
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
            per_call_ns: vec![
                base,
                base * 1.02,
                base * 0.99,
                base * 1.01,
                base,
                base * 1.005,
            ],
            proof: format!("runs on {allocator} (...)"),
        };
        let type_rounds = |allocator, boxed_factor: f64| TypeRounds {
            allocator,
            stack_ns: vec![100.0, 102.0, 99.0, 101.0, 100.0, 100.5],
            boxed_ns: [100.0, 102.0, 99.0, 101.0, 100.0, 100.5]
                .map(|ns| ns * boxed_factor)
                .to_vec(),
            control_ns: vec![100.5, 101.0, 99.5, 101.0, 100.0, 100.0],
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
                control_ns: [150.0, 153.0, 148.0, 151.0, 150.5, 150.0].to_vec(),
            }),
        ]);
        let section = own_section(&r).expect("own.json present");
        assert_eq!(section.anchor, "your-code");
        // The answers lead, in the order of the questions: type, recursion, workload.
        assert_eq!(section.lead.len(), 3, "{:?}", section.lead);
        let reading = &section.lead[0];
        assert!(
            reading.contains("size_of 256 B")
                && reading.contains("glibc: 1.50x [1.50, 1.50], slower")
                && reading.contains("mimalloc: equal within ±5% (1.01x")
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
        assert!(
            workload[2][2].starts_with("1.50x [1.50, 1.50], slower"),
            "{workload:?}"
        );
        // One chart per answer, beside its table.
        assert!(section.tables.iter().all(|t| t.figure.is_some()));
        assert!(workload[2][3].starts_with("runs on system"));
        assert!(section.lead[1].contains("10.0 B of stack per unit of input"));
        assert!(
            section.lead[2].starts_with("index at t2: fastest jemalloc; to it, glibc 1.50x"),
            "{}",
            section.lead[2]
        );
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
