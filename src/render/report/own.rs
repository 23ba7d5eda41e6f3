//! The report's "Your code" section: the user's recursions (largest input per stack size, stack
//! per unit of input, the stack the inputs they named need) and their workload's allocators, ranked.

use crate::analysis::aggregate::Results;
use crate::analysis::own::own_answers;
use crate::render::report::section::{Section, Table};
use crate::render::units::{allocator_label, format_bytes, format_ns};
use crate::render::words::{ranking_text, within_noise};

pub(super) fn own_section(results: &Results) -> Option<Section> {
    let entries = &results.own.as_ref()?.entries;
    let answers = own_answers(entries);
    let mut tables = Vec::new();
    let mut notes = Vec::new();
    for recursion in &answers.recursions {
        let (fit, needs) = match recursion {
            Ok(r) => r,
            Err(why) => {
                notes.push(format!("No line through the measured stacks: {why}."));
                continue;
            }
        };
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
        tables.push(Table {
            caption: format!(
                "{}: the largest input per stack size (exact: one child per input), then the stack the inputs you named need",
                fit.name
            ),
            rows,
        });
        notes.push(format!(
            "{}: {:.1} B of stack per unit of input, plus {} fixed (the line through the measured stack sizes).",
            fit.name,
            fit.bytes_per_input,
            format_bytes(fit.fixed_bytes.max(0.0))
        ));
    }
    for w in &answers.workloads {
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
        tables.push(Table {
            caption: format!(
                "{} at {} threads: {} calls per process, {} rounds of one process per allocator; ≈ {}",
                w.name,
                w.threads,
                w.calls,
                w.rounds,
                within_noise(w.margin)
            ),
            rows,
        });
        notes.push(format!(
            "{} at {} threads, fastest first: {}.",
            w.name,
            w.threads,
            ranking_text(&w.ranking)
        ));
    }
    Some(Section {
        title: "Your code".into(),
        anchor: "your-code",
        nav: "Your code",
        charts: Vec::new(),
        tables,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::own::{AllocatorRounds, OwnEntry, RecursionEntry, StackFit, WorkloadEntry};
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
    fn your_code_shows_the_fits_the_asked_stack_and_the_ranking_with_proofs() {
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
        let r = results(vec![
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
        let recursion = &section.tables[0].rows;
        assert_eq!(recursion[1], ["1000 B", "90", "20"]);
        // 100 B fixed + 10 B per input: 10,000 inputs need 100,100 B.
        assert!(
            recursion[3][0].contains("97.8 KiB") && recursion[3][1].contains("10000"),
            "{recursion:?}"
        );
        let workload = &section.tables[1].rows;
        assert_eq!(workload[1][0], "jemalloc");
        assert_eq!(workload[2][0], "glibc");
        assert!(workload[2][2].starts_with("1.50x"), "{workload:?}");
        assert!(workload[2][3].starts_with("runs on system"));
        assert!(
            section
                .notes
                .iter()
                .any(|n| n.contains("10.0 B of stack per unit of input"))
        );
        assert!(own_section(&Results::default()).is_none());
    }
}
