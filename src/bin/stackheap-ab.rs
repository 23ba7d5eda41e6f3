//! The paired A/B gate CLI: `run` compares two builds by running them alternately in short
//! processes (used by `scripts/ci-bench --compare-ref`); `resample` estimates the gate's false-alarm
//! and detection rates from recorded A/A comparisons (used by `scripts/gate-check`).
//! Exit codes: 0 nothing regressed, 1 a regression, 2 bad input.

use clap::Parser;
use stackheap::analysis::gate::{Outcome, resample, run};
use stackheap::data::suite_file::results_dir;
use stackheap::harness::ab::{Build, Plan, default_filter};
use stackheap::harness::output::write_atomically;
use stackheap::render::gate_table::gate_table;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "stackheap-ab",
    about = "Paired A/B comparison of two builds of stackheap's benches"
)]
enum Command {
    /// Run two builds alternately and judge every benchmark on paired ratios
    Run {
        /// Name of the baseline build (e.g. the git ref)
        #[arg(long)]
        baseline_label: String,
        /// A bench executable of the baseline build (repeat for each)
        #[arg(long = "baseline-exe", required = true)]
        baseline_exes: Vec<PathBuf>,
        #[arg(long)]
        candidate_label: String,
        /// A bench executable of the candidate build (repeat for each)
        #[arg(long = "candidate-exe", required = true)]
        candidate_exes: Vec<PathBuf>,
        /// Change, in percent, that counts as a regression
        #[arg(long, default_value_t = 5.0)]
        threshold: f64,
        /// Benchmark ids to compare (a regular expression) [default: the gate's set,
        /// `stackheap-report list --set gate`]
        #[arg(long)]
        filter: Option<String>,
        /// Pairs before the first verdict
        #[arg(long, default_value_t = 6)]
        min_pairs: usize,
        /// Pairs at most
        #[arg(long, default_value_t = 48)]
        max_pairs: usize,
        /// Seconds after which no new round starts
        #[arg(long, default_value_t = 260)]
        budget_secs: u64,
        /// Where to write the outcome [default: TARGET/stackheap/ab.json]
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print the table as Markdown
        #[arg(long)]
        markdown: bool,
    },
    /// Estimate false-alarm and detection rates by resampling the pairs of A/A outcomes
    Resample {
        /// ab.json files of A/A comparisons (two builds of the same code)
        #[arg(required = true)]
        aa: Vec<PathBuf>,
        /// Pairs per simulated comparison [default: the median rounds of the inputs]
        #[arg(long)]
        pairs: Option<usize>,
        #[arg(long, default_value_t = 5.0)]
        threshold: f64,
        /// Synthetic slowdowns to detect, in percent
        #[arg(long, value_delimiter = ',', default_value = "5,10,20")]
        shifts: Vec<f64>,
        #[arg(long, default_value_t = 2000)]
        trials: usize,
    },
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    match Command::parse() {
        Command::Run {
            baseline_label,
            baseline_exes,
            candidate_label,
            candidate_exes,
            threshold,
            filter,
            min_pairs,
            max_pairs,
            budget_secs,
            out,
            markdown,
        } => {
            if !(threshold > 0.0 && threshold.is_finite()) {
                return fail(format!(
                    "--threshold {threshold}: expected a percentage > 0"
                ));
            }
            if min_pairs < 2 || max_pairs < min_pairs {
                return fail(format!(
                    "--min-pairs {min_pairs} --max-pairs {max_pairs}: expected 2 <= min <= max"
                ));
            }
            let filter = filter.unwrap_or_else(default_filter);
            if let Err(e) = stackheap::config::parse_filter("--filter", &filter) {
                return fail(e);
            }
            for exe in baseline_exes.iter().chain(&candidate_exes) {
                if !exe.is_file() {
                    return fail(format!("{}: no such bench executable", exe.display()));
                }
            }
            let plan = Plan {
                filter,
                threshold: threshold / 100.0,
                min_pairs,
                max_pairs,
                budget: Duration::from_secs(budget_secs),
                work_dir: results_dir().join("ab"),
            };
            let baseline = Build {
                label: baseline_label,
                executables: baseline_exes,
            };
            let candidate = Build {
                label: candidate_label,
                executables: candidate_exes,
            };
            let outcome = match run(&baseline, &candidate, &plan, |line| eprintln!("{line}")) {
                Ok(o) => o,
                Err(e) => return fail(e),
            };
            let path = out.unwrap_or_else(|| results_dir().join("ab.json"));
            let json = match serde_json::to_vec_pretty(&outcome) {
                Ok(j) => j,
                Err(e) => return fail(e),
            };
            if let Err(e) = write_atomically(&path, &json) {
                return fail(format!("{}: cannot write ({e})", path.display()));
            }
            print!("{}", gate_table(&outcome, markdown));
            if outcome.regressed().next().is_some() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Resample {
            aa,
            pairs,
            threshold,
            shifts,
            trials,
        } => {
            let mut outcomes = Vec::new();
            for path in &aa {
                let text = match std::fs::read_to_string(path) {
                    Ok(t) => t,
                    Err(e) => return fail(format!("{}: cannot read ({e})", path.display())),
                };
                match serde_json::from_str::<Outcome>(&text) {
                    Ok(o) if o.kind == "ab" => outcomes.push(o),
                    Ok(o) => {
                        return fail(format!(
                            "{}: kind '{}', expected an ab.json of stackheap-ab run",
                            path.display(),
                            o.kind
                        ));
                    }
                    Err(e) => {
                        return fail(format!(
                            "{}: not an ab.json of stackheap-ab run ({e})",
                            path.display()
                        ));
                    }
                }
            }
            let mut ratios: BTreeMap<String, Vec<f64>> = BTreeMap::new();
            for row in outcomes.iter().flat_map(|o| &o.rows) {
                let pool = ratios.entry(row.id.clone()).or_default();
                pool.extend(row.pairs.iter().map(|(b, c)| c / b));
            }
            let mut rounds: Vec<usize> = outcomes.iter().map(|o| o.rounds).collect();
            rounds.sort();
            let pairs = pairs.unwrap_or(rounds[rounds.len() / 2]);
            let shifts: Vec<f64> = shifts.iter().map(|s| s / 100.0).collect();
            let rates = resample(&ratios, pairs, threshold / 100.0, &shifts, trials, 42);
            let mut header = format!(
                "| benchmark | A/A ratios | false alarms ({pairs} pairs, {threshold:.0}% threshold) |"
            );
            for s in &shifts {
                header += &format!(" detects +{:.0}% |", s * 100.0);
            }
            println!("{header}");
            println!("|---|---|---|{}", "---|".repeat(shifts.len()));
            for r in rates {
                let mut line = format!("| {} | {} | {:.1}% |", r.id, r.pool, r.false_alarm * 100.0);
                for (_, d) in &r.detection {
                    line += &format!(" {:.1}% |", d * 100.0);
                }
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
    }
}
