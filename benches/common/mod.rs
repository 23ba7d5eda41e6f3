//! What the bench binaries share: ending a run on bad input or a failure with one line.

/// Prints `error: <msg>` and ends the bench with exit code 2 (bad input, or a part that could not
/// run): one line, never a panic's backtrace.
pub fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(2)
}

/// Writes `entries` as `target/stackheap/<name>.json` and says where; a failure ends the bench with
/// one line.
pub fn write_or_exit<E: serde::Serialize + Clone>(name: &str, entries: &[E]) {
    match stackheap::harness::output::write_results(name, entries) {
        Ok(path) => println!("wrote {}", path.display()),
        Err(e) => fail(&format!(
            "could not write target/stackheap/{name}.json: {e}"
        )),
    }
}

/// The last lines of a lone bench run (plain `cargo bench`): where its results are and the one
/// command that turns them into the report, so that a run does not end on a file name. Processes of
/// a repeated `scripts/run` stay quiet: the script writes the report itself.
pub fn say_where_results_are(
    mode: stackheap::harness::output::BenchMode,
    process: stackheap::harness::settings::Process,
) {
    if mode != stackheap::harness::output::BenchMode::Bench
        || process.count > 1
        || process.remeasure
    {
        return;
    }
    let results = stackheap::data::suite_file::results_dir();
    println!(
        "\nresults: Criterion's estimates under target/criterion and the suite's files in {}; `scripts/report` turns them into {} (one process: figures without the spread between processes, which `scripts/run` measures)",
        results.display(),
        results.join("report/index.html").display()
    );
}
