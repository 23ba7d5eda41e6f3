//! The report's JSON files: the suite's `results.json`, github-action-benchmark's array and
//! Bencher's metric format.

use crate::analysis::aggregate::Results;
use crate::analysis::comparisons::margin;
use crate::harness::environment::Environment;
use crate::render::report::Page;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// `results.json`, what CI tools read: every benchmark with its figures, the rankings, and the
/// answers, claims and findings. Its JSON Schema (`stackheap-report schema`) is generated from this
/// type and checked in as `results.schema.json`.
#[derive(Serialize, JsonSchema)]
#[schemars(title = "stackheap results.json")]
pub struct ResultsFile<'a> {
    /// The version of the suite's file formats.
    schema: u32,
    /// Always `results`.
    kind: &'static str,
    /// The machine the results were measured on, the commit and when the report was written.
    environment: &'a Environment,
    benchmarks: Vec<ResultRow<'a>>,
    /// The three questions, answered.
    answers: Vec<AnswerJson<'a>>,
    /// The same questions asked of the user's own types, recursions and workloads
    /// (`target/stackheap/own.json`); empty when none were measured.
    your_code: Vec<crate::render::report::own::OwnAnswerWords>,
    /// The folklore claims with their verdicts.
    claims: Vec<ClaimJson>,
    /// The margin a ratio's whole interval must clear to be decided (0.2 = ±20%).
    noise_margin: f64,
    /// How noisy the run measured itself to be; absent with too few processes.
    noise: Option<crate::analysis::comparisons::Noise>,
    /// Processes of the repeated run (1: one `cargo bench`).
    processes: usize,
    /// Every pairwise comparison the suite makes, with its interval and verdict.
    rankings: Vec<crate::analysis::comparisons::RankingEntry>,
    /// The findings, in words.
    findings: &'a [String],
}

/// One answer in `results.json`.
#[derive(Serialize, JsonSchema)]
struct AnswerJson<'a> {
    question: &'static str,
    answer: &'a str,
    /// Header row first; empty when the part was not measured.
    table: &'a [Vec<String>],
}

/// One claim in `results.json`.
#[derive(Serialize, JsonSchema)]
struct ClaimJson {
    claim: &'static str,
    /// `holds`, `holds in part`, `does not hold here` or `not measured in this run`.
    verdict: &'static str,
    evidence: String,
}

/// One benchmark in `results.json`.
#[derive(Serialize, JsonSchema)]
struct ResultRow<'a> {
    /// The benchmark id, as in Criterion's directory (`stack_vs_heap/heap_box/system/0000064`).
    id: String,
    group: &'a str,
    variant: &'a str,
    allocator: Option<&'a str>,
    threads: Option<usize>,
    size_bytes: Option<u64>,
    unit: &'static str,
    /// The suite's figure ([`crate::data::results::Bench::time`]) and its interval.
    time: f64,
    time_lower: f64,
    time_upper: f64,
    /// Criterion's mean and median, aggregated across processes like the figure.
    mean: f64,
    mean_lower: f64,
    mean_upper: f64,
    median: f64,
    median_lower: f64,
    median_upper: f64,
    /// The coverage of the figure's interval.
    confidence_level: f64,
    /// Processes the figure aggregates: after a repeated run, the median of their first quartiles,
    /// with an interval across processes at `confidence_level`; 1: Criterion's median and interval.
    processes: usize,
    /// (max - min) / median of the processes' figures; absent for one process.
    process_spread: Option<f64>,
    throughput: Option<crate::data::results::Throughput>,
    throughput_per_second: Option<f64>,
    throughput_unit: Option<String>,
}

/// `results.json` of `results`.
pub(super) fn results_json<'a>(
    results: &'a Results,
    env: &'a Environment,
    page: &'a Page,
) -> ResultsFile<'a> {
    let Page {
        answers,
        claims,
        findings,
        ..
    } = page;
    let rows: Vec<ResultRow> = results
        .benches
        .values()
        .map(|b| {
            let per_second = b.per_second();
            ResultRow {
                id: b.id(),
                group: b.family().name(),
                variant: b.variant(),
                allocator: b.allocator().map(|a| a.name()),
                threads: b.threads(),
                size_bytes: b.size_bytes(),
                unit: "ns",
                mean: b.mean.point_estimate,
                mean_lower: b.mean.confidence_interval.lower_bound,
                mean_upper: b.mean.confidence_interval.upper_bound,
                time: b.time.point_estimate,
                time_lower: b.time.confidence_interval.lower_bound,
                time_upper: b.time.confidence_interval.upper_bound,
                median: b.median.point_estimate,
                median_lower: b.median.confidence_interval.lower_bound,
                median_upper: b.median.confidence_interval.upper_bound,
                confidence_level: b.time.confidence_interval.confidence_level,
                processes: b.processes,
                process_spread: results.process_spread(&b.key),
                throughput: b.throughput,
                throughput_per_second: per_second.map(|p| p.0),
                throughput_unit: per_second.map(|p| format!("{}/s", p.1)),
            }
        })
        .collect();
    ResultsFile {
        schema: crate::data::suite_file::SCHEMA,
        kind: "results",
        environment: env,
        benchmarks: rows,
        answers: answers
            .iter()
            .map(|a| AnswerJson {
                question: a.question,
                answer: &a.text,
                table: &a.table,
            })
            .collect(),
        your_code: crate::render::report::own::own_answer_words(results),
        claims: crate::render::claims::claim_words(claims)
            .into_iter()
            .map(|c| ClaimJson {
                claim: c.quote,
                verdict: c.verdict,
                evidence: c.evidence,
            })
            .collect(),
        noise_margin: margin(results),
        noise: results.noise,
        processes: results.processes.len().max(1),
        rankings: crate::analysis::comparisons::rankings(results),
        findings,
    }
}

/// The JSON Schema of `results.json`, as `stackheap-report schema` prints it.
pub fn results_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(ResultsFile)).expect("a schema is JSON")
}

/// github-action-benchmark's `customSmallerIsBetter` array.
pub(super) fn action_json(results: &Results, env: &Environment) -> Vec<serde_json::Value> {
    let machine = env.summary();
    results
        .benches
        .values()
        .map(|b| {
            let ci = b.time.confidence_interval;
            json!({
                "name": b.id(),
                "unit": "ns",
                "value": b.time.point_estimate,
                "range": format!("± {:.3}", (ci.upper_bound - ci.lower_bound) / 2.0),
                "extra": format!("95% CI [{:.3}, {:.3}] ns; machine: {machine}", ci.lower_bound, ci.upper_bound),
            })
        })
        .collect()
}

/// Bencher Metric Format: `latency` with bounds, by benchmark id.
pub(super) fn bencher_json(results: &Results) -> BTreeMap<String, serde_json::Value> {
    results
        .benches
        .values()
        .map(|b| {
            let ci = b.time.confidence_interval;
            (
                b.id(),
                json!({"latency": {"value": b.time.point_estimate, "lower_value": ci.lower_bound, "upper_value": ci.upper_bound}}),
            )
        })
        .collect()
}
