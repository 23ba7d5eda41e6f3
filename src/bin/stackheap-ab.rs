//! The paired A/B gate CLI: `run` compares two sides (two builds, two toolchains' builds, or one
//! build under two environments) by running their `stackheap-worker`s in lock-step (used by
//! `scripts/ci-bench --compare-ref/--compare-toolchains/--compare-env`); `resample` estimates the
//! gate's false-alarm and detection rates from recorded A/A comparisons (used by
//! `scripts/gate-check`).
//! Exit codes: 0 nothing regressed and every row decided, 1 a regression, 2 bad input, 3 nothing
//! regressed but some rows undecided (0 with `--accept-undecided`).

use clap::Parser;
use stackheap::analysis::engine::{report_group_done, report_group_settled};
use stackheap::analysis::gate::{Outcome, Plan, resample, rows_for, run};
use stackheap::analysis::stats::GateVerdict;
use stackheap::data::groups::GroupEntry;
use stackheap::data::machine::Machine;
use stackheap::data::suite_file::SuiteFile;
use stackheap::data::suite_file::results_dir;
use stackheap::harness::ab::{Side, default_filter, parse_env};
use stackheap::harness::engine::{self, Plan as EnginePlan, report_groups};
use stackheap::harness::machine::available_cores;
use stackheap::harness::output::write_atomically;
use stackheap::harness::output::write_suite_file;
use stackheap::render::engine::engine_summary;
use stackheap::render::gate_table::gate_table;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The exit code of a comparison in which nothing regressed but some rows stayed undecided.
const UNDECIDED: u8 = 3;

#[derive(Parser)]
#[command(
    name = "stackheap-ab",
    about = "Paired A/B comparison of two builds (or two environments) of stackheap's gated rows"
)]
enum Command {
    /// Run two sides in lock-step and judge every row on paired ratios
    Run {
        /// Name of the baseline (e.g. the git ref)
        #[arg(long)]
        baseline_label: String,
        /// The baseline's stackheap-worker executable
        #[arg(long)]
        baseline_worker: PathBuf,
        /// KEY=VALUE added to the baseline's environment (repeat for each)
        #[arg(long = "baseline-env")]
        baseline_env: Vec<String>,
        #[arg(long)]
        candidate_label: String,
        /// The candidate's stackheap-worker executable [default: the baseline's]
        #[arg(long)]
        candidate_worker: Option<PathBuf>,
        /// KEY=VALUE added to the candidate's environment (repeat for each)
        #[arg(long = "candidate-env")]
        candidate_env: Vec<String>,
        /// Change, in percent, that counts: regressed when the whole interval lies above it
        #[arg(long, default_value_t = 3.0)]
        threshold: f64,
        /// Rows to compare (a regular expression over the gate's rows, `stackheap-report list
        /// --set gate`) [default: all of them]
        #[arg(long)]
        filter: Option<String>,
        /// Sessions (pairs of fresh workers) before the first verdict
        #[arg(long, default_value_t = 8)]
        min_sessions: usize,
        /// Sessions at most (the budget usually ends a run first)
        #[arg(long, default_value_t = 10_000)]
        max_sessions: usize,
        /// Seconds of measurement: no session starts that would end later
        #[arg(long, default_value_t = 240)]
        budget_secs: u64,
        /// Milliseconds per sample
        #[arg(long, default_value_t = 3.0)]
        sample_ms: f64,
        /// Blocks per row per session (each two candidate samples, each between two baseline samples)
        #[arg(long, default_value_t = 2)]
        blocks: usize,
        /// Judge rows that run more threads than this machine has cores too (left out by default:
        /// time-sharing, not the change, decides their times)
        #[arg(long)]
        include_oversubscribed: bool,
        /// Exit 0 instead of 3 when nothing regressed but some rows stayed undecided
        #[arg(long)]
        accept_undecided: bool,
        /// Where to write the outcome [default: TARGET/stackheap/ab.json]
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print the table as Markdown
        #[arg(long)]
        markdown: bool,
    },
    /// Sample the report's comparison groups in rounds, in fresh worker processes, and write
    /// target/stackheap/groups.json (`scripts/run` does this after the Criterion processes)
    Groups {
        /// Groups to sample (a regular expression over their names, e.g. `stack_vs_heap/0004096`
        /// or `contention/larson`) [default: all of them]
        #[arg(long, default_value = "")]
        filter: String,
        /// The stackheap-worker executable [default: the one beside this program]
        #[arg(long)]
        worker: Option<PathBuf>,
        /// Rounds of every group per session
        #[arg(long, default_value_t = 4)]
        rounds: usize,
        /// Milliseconds per sample of a single-threaded member
        #[arg(long, default_value_t = 2.0)]
        sample_ms: f64,
        /// Sessions (sets of fresh workers) before a group may stop
        #[arg(long, default_value_t = 6)]
        min_sessions: usize,
        /// Sessions at most: the budget, or each group's decisions, usually end a run first
        #[arg(long, default_value_t = 100)]
        max_sessions: usize,
        /// Seconds of measurement: no group's session starts that is expected to end later
        #[arg(long, default_value_t = 120)]
        budget_secs: u64,
        /// A margin, in percent, a group must reach before it stops, besides every comparison of
        /// the report in it decided [default: none: decided is enough]
        #[arg(long)]
        target_margin: Option<f64>,
        /// Seeds the rounds' random orders [default: from the clock]
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Estimate false-alarm and detection rates by resampling the pairs of A/A outcomes
    Resample {
        /// ab.json files of A/A comparisons (two builds of the same code)
        #[arg(required = true)]
        aa: Vec<PathBuf>,
        /// Sessions before the first verdict, as the gate's --min-sessions
        #[arg(long, default_value_t = 8)]
        min_sessions: usize,
        /// Sessions at most per simulated comparison [default: the most sessions of the inputs]
        #[arg(long)]
        sessions: Option<usize>,
        #[arg(long, default_value_t = 3.0)]
        threshold: f64,
        /// Synthetic slowdowns to detect, in percent
        #[arg(long, value_delimiter = ',', default_value = "2,5,10")]
        shifts: Vec<f64>,
        #[arg(long, default_value_t = 500)]
        trials: usize,
    },
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

/// `--min-sessions` and `--max-sessions`: at least 6 (fewer give no 95% interval), min <= max.
fn check_sessions(min: usize, max: usize) -> Result<(), String> {
    if min < 6 || max < min {
        return Err(format!(
            "--min-sessions {min} --max-sessions {max}: expected 6 <= min <= max (fewer than 6 give no 95% interval)"
        ));
    }
    Ok(())
}

/// A sample's length from `--sample-ms`: more than 0, at most 10 s.
fn sample_time(ms: f64) -> Result<Duration, String> {
    if !(ms > 0.0 && ms <= 10_000.0) {
        return Err(format!("--sample-ms {ms}: expected 0 < ms <= 10000"));
    }
    Ok(Duration::from_secs_f64(ms / 1000.0))
}

/// A percentage given as `flag`, as a fraction (3 -> 0.03): more than 0 and finite.
fn fraction(flag: &str, percent: f64) -> Result<f64, String> {
    if !(percent > 0.0 && percent.is_finite()) {
        return Err(format!("{flag} {percent}: expected a percentage > 0"));
    }
    Ok(percent / 100.0)
}

/// A count given as `flag` that must be at least 1.
fn at_least_one(flag: &str, n: usize) -> Result<(), String> {
    if n == 0 {
        return Err(format!("{flag} 0: expected at least 1"));
    }
    Ok(())
}

/// The `stackheap-worker` beside this program (both are built into one target directory).
fn sibling_worker() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program ({e})"))?;
    Ok(exe.with_file_name("stackheap-worker"))
}

/// A seed from the clock, for a run that names none.
fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}

fn main() -> ExitCode {
    match Command::parse() {
        Command::Run {
            baseline_label,
            baseline_worker,
            baseline_env,
            candidate_label,
            candidate_worker,
            candidate_env,
            threshold,
            filter,
            min_sessions,
            max_sessions,
            budget_secs,
            sample_ms,
            blocks,
            include_oversubscribed,
            accept_undecided,
            out,
            markdown,
        } => {
            let checked = (|| {
                let threshold = fraction("--threshold", threshold)?;
                check_sessions(min_sessions, max_sessions)?;
                at_least_one("--blocks", blocks)?;
                Ok::<_, String>((threshold, sample_time(sample_ms)?))
            })();
            let (threshold, sample_time) = match checked {
                Ok(checked) => checked,
                Err(e) => return fail(e),
            };
            let filter = filter.unwrap_or_else(default_filter);
            let selected = match stackheap::config::parse_filter("--filter", &filter) {
                Ok(re) => re,
                Err(e) => return fail(e),
            };
            let cores = available_cores();
            let (ids, oversubscribed) = rows_for(&selected, cores, include_oversubscribed);
            if ids.is_empty() && !oversubscribed.is_empty() {
                return fail(format!(
                    "--filter '{filter}': every matching row runs more threads than the {cores} cores here (expected --include-oversubscribed to judge them anyway)"
                ));
            }
            if ids.is_empty() {
                return fail(format!(
                    "--filter '{filter}': no gated row matched (expected ids of `stackheap-report list --set gate`, such as stack_vs_heap/heap_box/system/0000064)"
                ));
            }
            let candidate_worker = candidate_worker.unwrap_or_else(|| baseline_worker.clone());
            for exe in [&baseline_worker, &candidate_worker] {
                if !exe.is_file() {
                    return fail(format!(
                        "{}: no such stackheap-worker executable",
                        exe.display()
                    ));
                }
            }
            let parse_all = |settings: &[String]| settings.iter().map(|s| parse_env(s)).collect();
            let (baseline_env, candidate_env) =
                match (parse_all(&baseline_env), parse_all(&candidate_env)) {
                    (Ok(b), Ok(c)) => (b, c),
                    (Err(e), _) | (_, Err(e)) => return fail(format!("--*-env {e}")),
                };
            if !oversubscribed.is_empty() {
                eprintln!(
                    "note: {} rows left out: they run more threads than the {cores} cores here (--include-oversubscribed judges them): {}",
                    oversubscribed.len(),
                    oversubscribed.join(", ")
                );
            }
            let plan = Plan {
                ids,
                oversubscribed,
                cores,
                threshold,
                min_sessions,
                max_sessions,
                budget: Duration::from_secs(budget_secs),
                sample_time,
                blocks,
                work_dir: results_dir().join("ab"),
            };
            let baseline = Side {
                label: baseline_label,
                worker: baseline_worker,
                args: Vec::new(),
                env: baseline_env,
            };
            let candidate = Side {
                label: candidate_label,
                worker: candidate_worker,
                args: Vec::new(),
                env: candidate_env,
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
            if outcome.count(GateVerdict::Regressed) > 0 {
                ExitCode::from(1)
            } else if outcome.count(GateVerdict::Undecided) > 0 && !accept_undecided {
                ExitCode::from(UNDECIDED)
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Groups {
            filter,
            worker,
            rounds,
            sample_ms,
            min_sessions,
            max_sessions,
            budget_secs,
            target_margin,
            seed,
        } => {
            let checked = (|| {
                check_sessions(min_sessions, max_sessions)?;
                at_least_one("--rounds", rounds)?;
                Ok::<_, String>((
                    sample_time(sample_ms)?,
                    target_margin
                        .map(|t| fraction("--target-margin", t))
                        .transpose()?,
                ))
            })();
            let (sample, target) = match checked {
                Ok(checked) => checked,
                Err(e) => return fail(e),
            };
            let selected = match stackheap::config::parse_filter("--filter", &filter) {
                Ok(re) => re,
                Err(e) => return fail(e),
            };
            let allocators = match stackheap::harness::settings::allocators_from_env() {
                Ok(a) => a,
                Err(e) => return fail(e),
            };
            let cores = available_cores();
            let threads = match stackheap::harness::settings::thread_counts_from_env(cores) {
                Ok(t) => t,
                Err(e) => return fail(e),
            };
            let groups = report_groups(&allocators, &threads, cores, &selected, sample);
            if groups.is_empty() {
                return fail(format!(
                    "--filter '{filter}': no comparison group matched (expected names such as stack_vs_heap/0004096 or contention/larson/t2)"
                ));
            }
            let worker = match worker.map_or_else(sibling_worker, Ok) {
                Ok(w) if w.is_file() => w,
                Ok(w) => {
                    return fail(format!(
                        "{}: no such stackheap-worker executable",
                        w.display()
                    ));
                }
                Err(e) => return fail(e),
            };
            let dir = results_dir();
            if let Err(e) = std::fs::create_dir_all(&dir) {
                return fail(format!("{}: cannot create ({e})", dir.display()));
            }
            let plan = EnginePlan {
                sides: engine::report_sides(&worker, &allocators),
                groups,
                rounds,
                min_sessions,
                max_sessions,
                budget: Duration::from_secs(budget_secs),
                log: dir.join("groups-workers.log"),
                seed: seed.unwrap_or_else(clock_seed),
                process_per_group: true,
            };
            let done =
                |entry: &GroupEntry, reachable: usize| report_group_done(entry, target, reachable);
            // Every worker of a library proves, as it starts, that its malloc is the library's;
            // the last proof of each is recorded.
            let libraries: Vec<_> = allocators.iter().filter(|a| a.is_library()).collect();
            let mut proofs = std::collections::BTreeMap::new();
            let prove = |side: usize, worker: &mut stackheap::harness::ab::Worker| {
                if let Some(kind) = side.checked_sub(1).and_then(|k| libraries.get(k)) {
                    let evidence = worker.prove_allocator(**kind)?;
                    proofs.insert(kind.name().to_owned(), evidence);
                }
                Ok(())
            };
            let outcome = match engine::run(&plan, prove, done, |line| eprintln!("{line}")) {
                Ok(o) => o,
                Err(e) => return fail(e),
            };
            let mut machine = Machine::current();
            machine.allocator_proofs = proofs;
            let file = SuiteFile {
                schema: stackheap::data::suite_file::SCHEMA,
                kind: "groups".into(),
                machine,
                entries: outcome.entries,
            };
            if let Err(e) = write_suite_file(&file) {
                return fail(format!(
                    "{}: cannot write ({e})",
                    dir.join("groups.json").display()
                ));
            }
            // Groups stop settled, out of reach or out of time: say how many settled.
            let settled = file
                .entries
                .iter()
                .filter(|e| report_group_settled(e, target))
                .count();
            let stopped = format!(
                "{}; {settled} of {} groups settled, the others out of reach or out of time",
                outcome.stopped,
                file.entries.len()
            );
            print!(
                "{}",
                engine_summary(&file.entries, outcome.sessions, outcome.seconds, &stopped)
            );
            ExitCode::SUCCESS
        }
        Command::Resample {
            aa,
            min_sessions,
            sessions,
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
            let most = outcomes.iter().map(|o| o.sessions).max().unwrap_or(0);
            let sessions = sessions.unwrap_or(most).max(min_sessions);
            let shifts: Vec<f64> = shifts.iter().map(|s| s / 100.0).collect();
            let rules = (min_sessions, sessions);
            let rates = resample(&ratios, rules, threshold / 100.0, &shifts, trials, 42);
            let mut header = format!(
                "| benchmark | A/A sessions | false alarms | undecided after {sessions} sessions |"
            );
            for s in &shifts {
                header += &format!(" detects +{:.0}% |", s * 100.0);
            }
            println!(
                "The gate's rule (threshold {threshold}%, a verdict after every session from the {min_sessions}th, at most {sessions}) on {trials} comparisons drawn per row and shift.\n"
            );
            println!("{header}");
            println!("|---|---|---|---|{}", "---|".repeat(shifts.len()));
            for r in rates {
                let mut line = format!(
                    "| {} | {} | {:.1}% | {:.1}% |",
                    r.id,
                    r.pool,
                    r.false_alarm * 100.0,
                    r.undecided * 100.0
                );
                for (_, d) in &r.detection {
                    line += &format!(" {:.1}% |", d * 100.0);
                }
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
    }
}
