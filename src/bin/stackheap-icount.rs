//! Instruction counts of the single-threaded workloads under callgrind, and the file CI compares.
//! `stackheap-icount measure [--save NAME]` writes target/stackheap/icount.json (and, with --save,
//! icount-NAME.json); `stackheap-icount run ID N` is what callgrind runs.

use clap::Parser;
use stackheap::data::id::BenchId;
use stackheap::data::suite_file::results_dir;
use stackheap::harness::icount::{
    count, icount_measured_region, iterations, resolve, workload_ids,
};
use stackheap::harness::output::write_results;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "stackheap-icount",
    about = "Instruction counts of stackheap's single-threaded workloads (callgrind)"
)]
enum Command {
    /// Count every workload under callgrind and write target/stackheap/icount.json
    Measure {
        /// Also save the counts as baseline NAME (target/stackheap/icount-NAME.json)
        #[arg(long)]
        save: Option<String>,
        /// Only workloads whose id matches this regular expression
        #[arg(long)]
        filter: Option<String>,
    },
    /// Run workload ID N times (what callgrind is pointed at)
    Run { id: String, iterations: u64 },
    /// List the workload ids
    List,
}

fn main() -> ExitCode {
    match Command::parse() {
        Command::Run { id, iterations } => {
            match id.parse::<BenchId>().ok().as_ref().and_then(resolve) {
                Some(workload) => {
                    std::hint::black_box(icount_measured_region(workload, iterations));
                    ExitCode::SUCCESS
                }
                None => fail(&format!(
                    "unknown workload '{id}': expected one of `stackheap-icount list`"
                )),
            }
        }
        Command::List => {
            workload_ids().iter().for_each(|id| println!("{id}"));
            ExitCode::SUCCESS
        }
        Command::Measure { save, filter } => measure(save, filter),
    }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

fn measure(save: Option<String>, filter: Option<String>) -> ExitCode {
    let filter = match filter
        .map(|f| stackheap::config::parse_filter("--filter", &f))
        .transpose()
    {
        Ok(f) => f,
        Err(e) => return fail(&e),
    };
    if let Some(name) = &save
        && (name.is_empty() || name.contains('/'))
    {
        return fail(&format!(
            "--save '{name}': expected a baseline name without '/'"
        ));
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return fail(&format!("cannot find this binary: {e}")),
    };
    let scratch = results_dir().join("callgrind");
    if let Err(e) = std::fs::create_dir_all(&scratch) {
        return fail(&format!("{}: {e}", scratch.display()));
    }
    let ids: Vec<BenchId> = workload_ids()
        .into_iter()
        .filter(|id| filter.as_ref().is_none_or(|f| f.is_match(&id.to_string())))
        .collect();
    if ids.is_empty() {
        // Writing an empty file would overwrite the current counts (and, with --save, a baseline)
        // and switch the instruction gate off without a word.
        return fail(&format!(
            "--filter '{}' matches no workload: expected one of `stackheap-icount list`; nothing written",
            filter.as_ref().map_or("", |f| f.as_str())
        ));
    }
    let mut entries = Vec::new();
    for id in ids {
        match count(&exe, &id.to_string(), iterations(&id), &scratch) {
            Ok(entry) => {
                println!(
                    "{:<45} {:>14.1} instructions/iteration",
                    entry.id, entry.instructions_per_iter
                );
                entries.push(entry);
            }
            Err(e) => return fail(&e),
        }
    }
    let _ = std::fs::remove_dir(&scratch);
    let mut names = vec!["icount".to_owned()];
    names.extend(save.map(|n| format!("icount-{n}")));
    for name in names {
        match write_results(&name, &entries) {
            Ok(path) => println!("wrote {}", path.display()),
            Err(e) => {
                return fail(&format!(
                    "could not write target/stackheap/{name}.json: {e}"
                ));
            }
        }
    }
    ExitCode::SUCCESS
}
