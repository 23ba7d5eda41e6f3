//! The report CLI: `report` renders target/stackheap/report/ from the latest results; `compare
//! <baseline>` gives the regression verdict. Exit codes: 0 fine, 1 regression, 2 bad input.

use clap::{Parser, Subcommand};
use stackheap::analysis::aggregate::Results;
use stackheap::analysis::compare::{
    DEFAULT_ICOUNT_THRESHOLD_PERCENT, DEFAULT_THRESHOLD_PERCENT, compare, compare_icount_files,
    with_icounts,
};
use stackheap::analysis::comparisons::margin;
use stackheap::analysis::unsettled::{Unsettled, unsettled};
use stackheap::data::id::{IdSet, exact_filter};
use stackheap::data::results::criterion_home;
use stackheap::data::suite_file::results_dir;
use stackheap::harness::environment::Environment;
use stackheap::harness::output::{write_atomically, write_new};
use stackheap::render::compare_table::compare_table;
use stackheap::render::report::{render, write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "stackheap-report",
    about = "Reports and regression verdicts from stackheap results"
)]
struct Cli {
    /// Criterion's results directory [default: $CRITERION_HOME, else TARGET/criterion]
    #[arg(long, global = true)]
    criterion_dir: Option<PathBuf>,
    /// The suite's own results directory [default: TARGET/stackheap]
    #[arg(long, global = true)]
    results_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write index.html, report.md, results.json, benchmark-action.json and bencher.json
    Report {
        /// Where to write [default: TARGET/stackheap/report]
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also record the Markdown report as a dated results file in this directory,
        /// `DIR/<date>-<cpu>-<cores>-cores.md` (never replacing one: a second file of the same day
        /// gets `-2`, `-3`, ...)
        #[arg(long, value_name = "DIR")]
        record_in: Option<PathBuf>,
    },
    /// Compare the latest run with a baseline saved by `cargo bench -- --save-baseline <name>`
    Compare {
        baseline: String,
        /// Change of the mean, in percent, beyond which a benchmark with non-overlapping confidence
        /// intervals counts as regressed or improved
        #[arg(long, default_value_t = DEFAULT_THRESHOLD_PERCENT)]
        threshold: f64,
        /// Change of instructions per iteration, in percent, beyond which an instruction count counts
        /// as regressed (used when icount-BASELINE.json exists, from `stackheap-icount measure --save`)
        #[arg(long, default_value_t = DEFAULT_ICOUNT_THRESHOLD_PERCENT)]
        icount_threshold: f64,
        /// Print the table as Markdown
        #[arg(long)]
        markdown: bool,
        /// Compare only benchmarks whose id matches this regular expression
        #[arg(long)]
        filter: Option<String>,
    },
    /// Print one Criterion filter selecting the rows of the latest repeated run that more
    /// processes would settle (comparisons straddling the margin, rows whose processes disagree);
    /// nothing when every row is settled. What `scripts/run` measures again while its budget lasts.
    Unsettled,
    /// Print the JSON Schema of results.json (the file CI tools read); the repository keeps it as
    /// results.schema.json
    Schema,
    /// Print a named set of benchmark ids, one per line, or as one Criterion filter (what the
    /// scripts use instead of spelling ids)
    List {
        /// ci (the saved-baseline CI subset), gate (the paired A/B gate's rows) or injected (the
        /// rows inject-slowdown slows down)
        #[arg(long, value_parser = parse_set)]
        set: IdSet,
        /// Print one regular expression that selects exactly these ids
        #[arg(long)]
        regex: bool,
    },
}

fn parse_set(text: &str) -> Result<IdSet, String> {
    IdSet::from_name(text).ok_or_else(|| {
        let names: Vec<&str> = IdSet::ALL.iter().map(|s| s.name()).collect();
        format!("expected one of {}", names.join(", "))
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let criterion = cli.criterion_dir.unwrap_or_else(criterion_home);
    let suite = cli.results_dir.unwrap_or_else(results_dir);
    match run(cli.command, &criterion, &suite) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

fn run(
    command: Command,
    criterion: &std::path::Path,
    suite: &std::path::Path,
) -> Result<ExitCode, String> {
    match command {
        Command::Schema => {
            let schema = stackheap::render::report::results_schema();
            println!(
                "{}",
                serde_json::to_string_pretty(&schema).map_err(|e| e.to_string())?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::List { set, regex } => {
            if regex {
                println!("{}", set.filter());
            } else {
                set.texts().iter().for_each(|id| println!("{id}"));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Unsettled => {
            let results = Results::load(criterion, suite).map_err(|e| e.to_string())?;
            let rows = unsettled(&results);
            let count = |why| rows.iter().filter(|(_, w)| *w == why).count();
            eprintln!(
                "unsettled: {} rows ({} in a comparison straddling the ±{:.0}% margin, {} whose processes disagree)",
                rows.len(),
                count(Unsettled::Straddles),
                margin(&results) * 100.0,
                count(Unsettled::Disagrees)
            );
            if !rows.is_empty() {
                println!("{}", exact_filter(rows.iter().map(|(id, _)| id.as_str())));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { out, record_in } => {
            let results = Results::load(criterion, suite).map_err(|e| e.to_string())?;
            let env = Environment::new(results.machine());
            let rendered = render(&results, &env)?;
            let out = out.unwrap_or_else(|| suite.join("report"));
            let written = write(&out, &rendered)
                .map_err(|e| format!("{}: cannot write the report ({e})", out.display()))?;
            for path in written {
                println!("wrote {}", path.display());
            }
            if let Some(dir) = record_in {
                let markdown = rendered
                    .files
                    .iter()
                    .find(|(name, _)| *name == "report.md")
                    .map(|(_, bytes)| bytes.as_slice())
                    .ok_or("the report has no report.md")?;
                let path = write_new(&dir, &env.machine.dated_stem(), "md", markdown)?;
                println!("recorded {}", path.display());
            }
            println!("open {} in a browser", out.join("index.html").display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Compare {
            baseline,
            threshold,
            markdown,
            filter,
            icount_threshold,
        } => {
            for (flag, value) in [
                ("--threshold", threshold),
                ("--icount-threshold", icount_threshold),
            ] {
                if !(value.is_finite() && value >= 0.0) {
                    return Err(format!(
                        "{flag} {value}: expected a percentage of 0 or more"
                    ));
                }
            }
            let filter = filter
                .map(|f| stackheap::config::parse_filter("--filter", &f))
                .transpose()?;
            let mut report = compare(criterion, &baseline, threshold, filter.as_ref())
                .map_err(|e| e.to_string())?;
            if let Some(rows) =
                compare_icount_files(suite, &baseline, icount_threshold, filter.as_ref())
                    .map_err(|e| e.to_string())?
            {
                report = with_icounts(report, rows, icount_threshold);
            }
            print!("{}", compare_table(&report, markdown));
            let path = suite.join("compare.json");
            let json = serde_json::to_vec_pretty(&report).map_err(|e| e.to_string())?;
            write_atomically(&path, &json)
                .map_err(|e| format!("{}: cannot write ({e})", path.display()))?;
            Ok(if report.any_regression() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
