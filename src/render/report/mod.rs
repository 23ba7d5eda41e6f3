//! Turning results into reports: an HTML page with SVG charts a person reads, Markdown for a CI step
//! summary, and JSON files CI tools read (the suite's `results.json`, github-action-benchmark's
//! `customSmallerIsBetter` array, and Bencher's metric format). Every finding is computed from the
//! data and left out when the data is missing. One file per section and per format.

mod contention;
#[cfg(test)]
mod coverage;
mod depth;
mod first_touch;
mod groups;
mod html;
mod json;
mod locality;
mod markdown;
mod memory;
mod own;
mod section;
mod stack_vs_heap;
mod style;

pub use json::results_schema;
pub use memory::{latency_table, memory_table};
pub use own::own_answer_sentences;

use crate::analysis::aggregate::Results;
use crate::analysis::claims::Claim;
use crate::analysis::comparisons::*;
use crate::analysis::engine::EngineSummary;
use crate::data::machine::{iso_date, known};
use crate::harness::environment::Environment;
use crate::render::answers::{Answer, answer_words};
use crate::render::claims::claim_words;
use crate::render::findings::finding_sentences;
use section::Section;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// How the figures were aggregated: across the processes of a repeated run, or within one process.
fn process_note(results: &Results) -> String {
    let n = results.processes.len();
    if n < 2 {
        return "These figures come from one process: each time is Criterion's median, and Criterion's interval, computed inside the process, does not see the spread between processes (20% on a typical row on a shared machine). `scripts/run` repeats the timed benches in several processes.".into();
    }
    let spreads: Vec<f64> = results
        .benches
        .values()
        .filter_map(|b| results.process_spread(&b.key))
        .collect();
    let spread = match (
        crate::analysis::stats::median(&spreads),
        spreads.iter().copied().reduce(f64::max),
    ) {
        (Some(m), Some(max)) => format!(
            " Between processes, a row's range is {:.0}% of its median on a typical row and {:.0}% at most.",
            m * 100.0,
            max * 100.0
        ),
        _ => String::new(),
    };
    format!(
        "Each time is the median over {n} processes, run one after the other in an interleaved order, of each process's first quartile of its samples (interference only adds time: the lower quartile is the undisturbed time), with the interval between order statistics across processes (its coverage is given by the number of processes: {:.0}% for {n}); ratios are paired by process (the median of the per-process ratios).{spread}",
        crate::analysis::stats::order_statistic_coverage(n, 1) * 100.0
    )
}

/// Every file of a report, rendered in memory before anything is written.
pub struct Rendered {
    pub files: Vec<(&'static str, Vec<u8>)>,
}

/// Builds a part of the page from the results: none, one or several sections.
type SectionFn = fn(&Results, &Environment) -> Vec<Section>;

/// The report's sections in the order of the page. A section is one file of this folder (its data,
/// lookups, words, tables and charts) and one line here.
const SECTIONS: [SectionFn; 9] = [
    // The user's own code first: the answers they came for.
    |r, _| own::own_section(r).into_iter().collect(),
    |r, _| {
        stack_vs_heap::stack_vs_heap_section(r)
            .into_iter()
            .collect()
    },
    |r, _| first_touch::first_touch_section(r).into_iter().collect(),
    |r, _| locality::locality_section(r).into_iter().collect(),
    contention::contention_sections,
    |r, _| depth::depth_section(r).into_iter().collect(),
    |r, _| groups::groups_section(r).into_iter().collect(),
    |r, _| memory::memory_section(r).into_iter().collect(),
    |r, _| memory::latency_section(r).into_iter().collect(),
];

/// What every format shows, computed once from the results.
struct Page {
    sections: Vec<Section>,
    answers: [Answer; 3],
    claims: Vec<Claim>,
    findings: Vec<String>,
    /// When the results were measured and the report written.
    dates: String,
    /// The machine in one line.
    summary: String,
    /// The machine briefly, for the small tables of the answers.
    short_machine: String,
    env_rows: Vec<Vec<String>>,
    claim_rows: Vec<Vec<String>>,
    /// How to read a decision, and how many processes the figures aggregate.
    margin_note: String,
    /// Whether the suite's own benchmarks ran: without them (a report of the user's code only) the
    /// suite's answers, claims and findings, all "not measured", are left out.
    suite_measured: bool,
}

impl Page {
    /// `caption`, with the machine it was measured on.
    fn machine_caption(&self, caption: &str) -> String {
        format!("{caption} · {}", self.summary)
    }

    fn new(results: &Results, env: &Environment) -> Page {
        let sections: Vec<Section> = SECTIONS
            .iter()
            .flat_map(|section| section(results, env))
            .collect();
        let answers = answer_words(&crate::analysis::answers::answers(results, env.cores()));
        let claims = crate::analysis::claims::claims(results, env.cores());
        let findings = finding_sentences(
            &crate::analysis::findings::findings(results, env.cores()),
            env.cores(),
        );
        let measured_at = (env.machine.unix_time > 0).then(|| iso_date(env.machine.unix_time));
        let dates = format!(
            "measured {} · report written {}",
            measured_at.as_deref().unwrap_or("at an unknown time"),
            iso_date(env.report_unix_time)
        );
        // The answer cards are small: their tables name the machine briefly (the page header has it all).
        let short_machine = format!(
            "{}, {} cores",
            known(&env.machine.cpu_model),
            env.machine.cores
        );
        let env_rows: Vec<Vec<String>> = {
            let mut rows = vec![vec!["what".to_string(), "value".into()]];
            let m = &env.machine;
            for (key, value) in [
                ("cpu_model", known(&m.cpu_model).to_owned()),
                ("cores", m.cores.to_string()),
                ("kernel", known(&m.kernel).to_owned()),
                ("glibc", known(&m.glibc).to_owned()),
                ("rustc", known(&m.rustc).to_owned()),
            ] {
                rows.push(vec![key.into(), value]);
            }
            for (k, v) in &m.allocator_versions {
                rows.push(vec![format!("allocator {k}"), v.clone()]);
            }
            // A library named at run time: the proof that it served the processes that measured it.
            for kind in m
                .allocator_versions
                .keys()
                .filter(|k| crate::workload::allocators::AllocatorKind::built_in(k).is_none())
            {
                let proof = m.allocator_proofs.get(kind).map_or_else(
                    || "none recorded (the comparison engine records it; rows measured by cargo bench alone print it to stderr)".to_owned(),
                    |p| format!("its malloc in the processes that measured it: {p}"),
                );
                rows.push(vec![format!("allocator {kind}: proof"), proof]);
            }
            rows.push(vec![
                "allocator settings".into(),
                if m.allocator_settings.is_empty() {
                    "none set (defaults)".into()
                } else {
                    m.allocator_settings
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                },
            ]);
            rows.push(vec![
                "git commit".into(),
                env.git_commit
                    .clone()
                    .unwrap_or_else(|| "not a git checkout".into()),
            ]);
            rows.push(vec![
                "measured at".into(),
                measured_at.clone().unwrap_or_else(|| "unknown".into()),
            ]);
            rows.push(vec![
                "report written at".into(),
                iso_date(env.report_unix_time),
            ]);
            rows
        };
        let claim_rows: Vec<Vec<String>> = std::iter::once(
            ["claim", "verdict", "what this run measured"]
                .map(String::from)
                .to_vec(),
        )
        .chain(
            claim_words(&claims)
                .into_iter()
                .map(|c| vec![c.quote.to_string(), c.verdict.to_string(), c.evidence]),
        )
        .collect();
        let noise = match results.noise {
            Some(n) => format!(
                "How noisy this run was: identical processes differed by a median {:.1}% per row (90th percentile {:.1}%, {} rows measured in {} or more processes), so ",
                n.median_spread * 100.0,
                n.p90_spread * 100.0,
                n.rows,
                crate::analysis::comparisons::NOISE_MIN_PROCESSES
            ),
            None => "This run had too few processes to measure its own noise, so ".into(),
        };
        let engine = results.groups.as_ref().map_or(String::new(), |f| {
            format!(
                "The comparison engine (members sampled in rounds, milliseconds apart, in fresh processes): {}. Where both sides of a comparison are members of one of its groups, the verdict is the engine's, at that group's margin (see Compared in rounds). ",
                crate::render::engine::summary_sentence(&EngineSummary::of(&f.entries))
            )
        });
        let margin_note = format!(
            "{engine}{noise}a comparison of rows measured one after another is decided only when its interval clears ±{:.0}%; otherwise it reads \"within noise\" (≈); a comparison measured in one process is never decided. {}",
            margin(results) * 100.0,
            process_note(results)
        );
        Page {
            sections,
            answers,
            claims,
            findings,
            dates,
            summary: env.summary(),
            short_machine,
            env_rows,
            claim_rows,
            margin_note,
            suite_measured: results.suite_measured(),
        }
    }
}

/// Renders every report file from `results`.
pub fn render(results: &Results, env: &Environment) -> Result<Rendered, String> {
    let page = Page::new(results, env);
    Ok(Rendered {
        files: vec![
            ("index.html", html::html(&page).into_bytes()),
            ("report.md", markdown::markdown(&page).into_bytes()),
            (
                "results.json",
                pretty(&json::results_json(results, env, &page))?,
            ),
            (
                "benchmark-action.json",
                pretty(&json::action_json(results, env))?,
            ),
            ("bencher.json", pretty(&json::bencher_json(results))?),
        ],
    })
}

fn pretty<T: Serialize>(value: &T) -> Result<Vec<u8>, String> {
    serde_json::to_vec_pretty(value).map_err(|e| e.to_string())
}

/// Publishes the rendered files as the report directory `dir`, as one set: a failure at any point
/// leaves the previous report whole, never old and new files mixed (see
/// [`crate::harness::output::publish_dir`]).
pub fn write(dir: &Path, rendered: &Rendered) -> std::io::Result<Vec<PathBuf>> {
    crate::harness::output::publish_dir(dir, &rendered.files)
}
