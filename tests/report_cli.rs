//! End-to-end tests of the report CLI on real Criterion output recorded from this suite (trimmed to a
//! few benchmarks in tests/fixtures): the reports it writes, the regression verdict, and one clear
//! line with exit code 2 for every kind of bad input.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_stackheap-report");

/// A private copy of the fixtures: `criterion/` (runs `new` and baseline `main`) and `stackheap/`.
struct Sandbox {
    root: PathBuf,
}

impl Sandbox {
    fn new(name: &str) -> Sandbox {
        let root =
            std::env::temp_dir().join(format!("stackheap-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        copy_dir(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .as_path(),
            &root,
        );
        Sandbox { root }
    }

    fn criterion(&self) -> PathBuf {
        self.root.join("criterion")
    }

    fn suite(&self) -> PathBuf {
        self.root.join("stackheap")
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(BIN)
            .arg("--criterion-dir")
            .arg(self.criterion())
            .arg("--results-dir")
            .arg(self.suite())
            .args(args)
            .output()
            .expect("run stackheap-report");
        outcome(out)
    }

    /// Writes the report of the recorded full run (`tests/fixtures/full-run`) into `<name>/` and
    /// returns that directory.
    fn report_of_full_run(&self, name: &str) -> PathBuf {
        let full = self.root.join("full-run");
        let out_dir = self.root.join(name);
        let out = Command::new(BIN)
            .arg("--criterion-dir")
            .arg(full.join("criterion"))
            .arg("--results-dir")
            .arg(full.join("stackheap"))
            .args(["report", "--out"])
            .arg(&out_dir)
            .output()
            .expect("run stackheap-report");
        let (code, _, stderr) = outcome(out);
        assert_eq!(code, 0, "{stderr}");
        out_dir
    }

    /// Every `<which>/` directory of the fixture run.
    fn result_dirs(&self, which: &str) -> Vec<PathBuf> {
        let mut found = Vec::new();
        walk(&self.criterion(), &mut |p| {
            if p.file_name().is_some_and(|n| n == which) {
                found.push(p.to_path_buf());
            }
        });
        found
    }

    /// Saves the current run as baseline `name`, as `--save-baseline` would.
    fn save_current_as(&self, name: &str) {
        for dir in self.result_dirs("new") {
            copy_dir(&dir, &dir.with_file_name(name));
        }
    }

    /// Scales the current mean and median (and their intervals) of the benchmark in `rel_dir` by
    /// `factor`, as a run that is `factor` times slower throughout would.
    fn scale_current(&self, rel_dir: &str, factor: f64) {
        let path = self.criterion().join(rel_dir).join("new/estimates.json");
        let mut est: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for figure in ["mean", "median"] {
            for key in ["point_estimate", "standard_error"] {
                est[figure][key] = (est[figure][key].as_f64().unwrap() * factor).into();
            }
            for key in ["lower_bound", "upper_bound"] {
                let v = est[figure]["confidence_interval"][key].as_f64().unwrap() * factor;
                est[figure]["confidence_interval"][key] = v.into();
            }
        }
        std::fs::write(&path, serde_json::to_vec(&est).unwrap()).unwrap();
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// A finished CLI run as (exit code, stdout, stderr).
fn outcome(out: std::process::Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            f(&path);
            walk(&path, f);
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

/// Bad input: exit code 2, exactly one line on stderr that starts with `error:` and contains `needle`.
fn assert_bad_input((code, _, stderr): (i32, String, String), needle: &str) {
    assert_eq!(code, 2, "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line, got: {stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(needle),
        "'{needle}' not in: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn report_writes_the_five_outputs_from_real_results() {
    let sb = Sandbox::new("report");
    let (code, stdout, stderr) = sb.run(&["report"]);
    assert_eq!(code, 0, "{stderr}");
    let out = sb.suite().join("report");
    for name in [
        "index.html",
        "report.md",
        "results.json",
        "benchmark-action.json",
        "bencher.json",
    ] {
        assert!(out.join(name).is_file(), "{name} missing; stdout: {stdout}");
    }
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        html.contains("<svg") && !html.contains("<script"),
        "inline SVG, no script"
    );
    assert!(
        html.contains("A 64 B heap allocation with glibc costs"),
        "finding computed from the data"
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## Findings") && md.contains("| 64 B |"));
    // These Criterion results hold glibc and mimalloc only (memory.json, a separate file, has all
    // three): no column or chart line for jemalloc in the timed sections.
    for line in md.lines().filter(|l| l.starts_with("| size")) {
        assert!(
            !line.contains("jemalloc"),
            "a column for an allocator not measured: {line}"
        );
    }
    assert!(
        !html.contains("heap_box jemalloc"),
        "a chart line for jemalloc"
    );

    let action: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("benchmark-action.json")).unwrap()).unwrap();
    let entries = action.as_array().expect("an array");
    assert_eq!(entries.len(), 5, "one entry per benchmark");
    for e in entries {
        assert!(e["name"].is_string() && e["unit"] == "ns" && e["value"].as_f64().unwrap() > 0.0);
        assert!(e["range"].is_string() && e["extra"].is_string());
    }
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["schema"], 1);
    let churn = results["benchmarks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == "contention/local_churn/mimalloc/t2")
        .unwrap();
    assert_eq!(
        (churn["allocator"].as_str(), churn["threads"].as_u64()),
        (Some("mimalloc"), Some(2))
    );
    assert!(churn["mean_lower"].as_f64() <= churn["mean"].as_f64());
    let bmf: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("bencher.json")).unwrap()).unwrap();
    assert!(
        bmf["stack_vs_heap/stack_array/0000064"]["latency"]["value"]
            .as_f64()
            .is_some()
    );
}

#[test]
fn a_run_is_recorded_as_a_dated_results_file_that_is_never_replaced() {
    let sb = Sandbox::new("record");
    let dir = sb.root.join("results");
    let out = sb.root.join("report");
    let record = || {
        let (code, stdout, stderr) = sb.run(&[
            "report",
            "--out",
            out.to_str().unwrap(),
            "--record-in",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{stderr}");
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("recorded "))
            .expect("names the recorded file")
            .to_owned();
        PathBuf::from(line)
    };
    let first = record();
    let second = record();
    let name = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
    // <date>-<cpu words>-<n>-cores.md, then the same with -2.
    let first_name = name(&first);
    assert!(
        first_name.len() > 11
            && first_name.as_bytes()[4] == b'-'
            && first_name.ends_with("-cores.md"),
        "{first_name}"
    );
    assert_eq!(
        name(&second),
        first_name.replace("-cores.md", "-cores-2.md")
    );
    let text = std::fs::read_to_string(&first).unwrap();
    assert!(
        text.starts_with("# stackheap report") && text.contains("Machine:"),
        "{text}"
    );
    // The same report again (only the time it was written may differ: in the heading and in the
    // environment table, which two runs a second apart write differently).
    let written_at = |t: &str| {
        t.lines()
            .filter(|l| !l.starts_with("| report written at |"))
            .map(|l| l.split(" · report written").next().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        written_at(&std::fs::read_to_string(&second).unwrap()),
        written_at(&text)
    );
    // Nothing else is left in the directory (no staging file).
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
}

#[test]
fn findings_are_left_out_when_their_numbers_are_missing() {
    let sb = Sandbox::new("partial");
    std::fs::remove_dir_all(sb.criterion().join("stack_vs_heap/stack_array")).unwrap();
    std::fs::remove_file(sb.suite().join("depth.json")).unwrap();
    assert_eq!(sb.run(&["report"]).0, 0);
    let md = std::fs::read_to_string(sb.suite().join("report/report.md")).unwrap();
    assert!(
        !md.contains("a stack array of the same size"),
        "no stack numbers, no stack sentence"
    );
    assert!(
        !md.contains("thread stack holds"),
        "no depth file, no depth sentence"
    );
    assert!(md.contains("With local_churn at t2"));
}

#[test]
fn compare_exits_0_when_unchanged_and_1_naming_the_slower_benchmark() {
    let sb = Sandbox::new("compare");
    sb.save_current_as("same");
    let (code, stdout, _) = sb.run(&["compare", "same"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("0 regressed"));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sb.suite().join("compare.json")).unwrap()).unwrap();
    assert_eq!(json["comparisons"].as_array().unwrap().len(), 5);

    sb.scale_current("stack_vs_heap/heap_box_system/0000064", 1.5);
    let (code, stdout, _) = sb.run(&["compare", "same", "--markdown", "--threshold", "10"]);
    assert_eq!(code, 1, "{stdout}");
    let row = stdout
        .lines()
        .find(|l| l.contains("stack_vs_heap/heap_box/system/0000064"))
        .unwrap();
    assert!(
        row.starts_with("| ") && row.contains("+50.0%") && row.contains("regressed"),
        "{row}"
    );
    // The default threshold (150%, from this machine's measured noise) lets +50% pass ...
    let (code, stdout, _) = sb.run(&["compare", "same"]);
    assert_eq!(code, 0, "{stdout}");
    // ... and fails a benchmark made 3x slower.
    sb.scale_current("stack_vs_heap/heap_box_system/0000064", 2.0);
    let (code, stdout, _) = sb.run(&["compare", "same"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("1 regressed") && stdout.contains("+200.0%"),
        "{stdout}"
    );
}

#[test]
fn a_faster_run_is_improved_not_regressed() {
    let sb = Sandbox::new("improved");
    sb.save_current_as("same");
    sb.scale_current("contention_local_churn/system/t2", 0.5);
    let (code, stdout, _) = sb.run(&["compare", "same", "--threshold", "10"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("1 improved"), "{stdout}");
}

#[test]
fn unknown_baseline_is_bad_input() {
    let sb = Sandbox::new("unknown");
    assert_bad_input(sb.run(&["compare", "nope"]), "unknown baseline 'nope'");
    assert_bad_input(sb.run(&["compare", "nope"]), "found: main");
}

#[test]
fn missing_results_directory_is_bad_input() {
    let sb = Sandbox::new("missing");
    std::fs::remove_dir_all(sb.criterion()).unwrap();
    assert_bad_input(sb.run(&["report"]), "no Criterion results directory");
    assert_bad_input(
        sb.run(&["compare", "main"]),
        "no Criterion results directory",
    );
}

#[test]
fn an_empty_run_is_bad_input() {
    let sb = Sandbox::new("empty");
    std::fs::remove_dir_all(sb.criterion()).unwrap();
    std::fs::create_dir_all(sb.criterion()).unwrap();
    assert_bad_input(sb.run(&["report"]), "no benchmark results");
}

#[test]
fn samples_that_make_no_sense_are_named() {
    let sb = Sandbox::new("samples");
    let dir = sb.criterion().join("stack_vs_heap/stack_array/0000064/new");
    let write = |json: &str| std::fs::write(dir.join("sample.json"), json).unwrap();
    write(r#"{"sampling_mode":"Linear","iters":[1.0,2.0],"times":[7.0,14.0]}"#);
    assert_eq!(sb.run(&["report"]).0, 0, "good samples are read");
    for bad in [
        r#"{"sampling_mode":"Linear","iters":[1.0,2.0],"times":[7.0]}"#,
        r#"{"sampling_mode":"Linear","iters":[],"times":[]}"#,
        r#"{"sampling_mode":"Linear","iters":[0.0],"times":[7.0]}"#,
        r#"{"sampling_mode":"Linear","iters":[1.0],"times":[-7.0]}"#,
    ] {
        write(bad);
        assert_bad_input(
            sb.run(&["report"]),
            "stack_array/0000064/new/sample.json: expected as many times as iteration counts",
        );
    }
    write("{");
    assert_bad_input(
        sb.run(&["report"]),
        "stack_array/0000064/new/sample.json: not a Criterion sample.json",
    );
}

#[test]
fn a_truncated_json_file_is_named_and_the_previous_report_survives() {
    let sb = Sandbox::new("truncated");
    assert_eq!(sb.run(&["report"]).0, 0);
    let index = sb.suite().join("report/index.html");
    let before = std::fs::read(&index).unwrap();
    let path = sb
        .criterion()
        .join("stack_vs_heap/stack_array/0000064/new/estimates.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    assert_bad_input(
        sb.run(&["report"]),
        "stack_array/0000064/new/estimates.json: not a Criterion estimates.json",
    );
    assert_eq!(
        std::fs::read(&index).unwrap(),
        before,
        "the previous report is untouched"
    );
    let leftovers: Vec<_> = std::fs::read_dir(sb.suite().join("report"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn a_file_from_another_criterion_version_is_named_with_what_was_expected() {
    let sb = Sandbox::new("foreign");
    let path = sb
        .criterion()
        .join("stack_vs_heap/heap_box_system/0000064/new/benchmark.json");
    std::fs::write(
        &path,
        r#"{"group":"stack_vs_heap","id":"heap_box/system/0000064","unit":"ns"}"#,
    )
    .unwrap();
    assert_bad_input(
        sb.run(&["report"]),
        "heap_box_system/0000064/new/benchmark.json: not a Criterion benchmark.json",
    );
    assert_bad_input(sb.run(&["report"]), "Criterion 0.8");
}

#[test]
fn a_foreign_suite_file_is_named() {
    let sb = Sandbox::new("suite");
    std::fs::write(
        sb.suite().join("depth.json"),
        r#"{"schema":7,"kind":"depth","machine":{},"entries":[]}"#,
    )
    .unwrap();
    assert_bad_input(
        sb.run(&["report"]),
        "depth.json: schema 7 kind 'depth', expected schema 1 kind 'depth'",
    );
}

#[test]
fn a_benchmark_in_only_one_side_is_bad_input() {
    let sb = Sandbox::new("oneside");
    sb.save_current_as("same");
    std::fs::remove_dir_all(
        sb.criterion()
            .join("contention_local_churn/mimalloc/t2/new"),
    )
    .unwrap();
    assert_bad_input(
        sb.run(&["compare", "same"]),
        "'contention/local_churn/mimalloc/t2' is in baseline 'same' but not in the latest run",
    );
    let sb = Sandbox::new("oneside2");
    sb.save_current_as("same");
    std::fs::remove_dir_all(
        sb.criterion()
            .join("contention_local_churn/mimalloc/t2/same"),
    )
    .unwrap();
    assert_bad_input(
        sb.run(&["compare", "same"]),
        "is in the latest run but not in baseline 'same'",
    );
}

fn write_icounts(sb: &Sandbox, name: &str, per_iter: f64) {
    let entries = serde_json::json!([
        {"id": "stack_vs_heap/stack_array/0000064", "iterations": 1000, "instructions": 37023, "instructions_per_iter": 37.023},
        {"id": "stack_vs_heap/heap_box/system/0000064", "iterations": 1000, "instructions": 186023, "instructions_per_iter": per_iter},
    ]);
    let file = serde_json::json!({"schema": 1, "kind": name, "machine": {}, "entries": entries});
    std::fs::write(
        sb.suite().join(format!("{name}.json")),
        serde_json::to_vec(&file).unwrap(),
    )
    .unwrap();
}

#[test]
fn instruction_counts_are_gated_in_the_same_table() {
    let sb = Sandbox::new("icount");
    sb.save_current_as("same");
    write_icounts(&sb, "icount-same", 186.023);
    write_icounts(&sb, "icount", 186.023);
    let (code, stdout, _) = sb.run(&["compare", "same"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("instructions (callgrind)") && stdout.contains("wall-clock median"),
        "{stdout}"
    );
    // +2% instructions: caught by the instruction gate, invisible to a 10% wall-clock threshold.
    write_icounts(&sb, "icount", 186.023 * 1.02);
    let (code, stdout, _) = sb.run(&["compare", "same"]);
    assert_eq!(code, 1, "{stdout}");
    let row = stdout
        .lines()
        .find(|l| l.contains("heap_box/system/0000064") && l.contains("instructions"))
        .unwrap();
    assert!(row.contains("+2.0%") && row.contains("regressed"), "{row}");
    std::fs::remove_file(sb.suite().join("icount.json")).unwrap();
    assert_bad_input(sb.run(&["compare", "same"]), "icount.json: missing");
}

#[test]
fn the_memory_table_has_one_row_per_workload_and_thread_count() {
    let sb = Sandbox::new("memory");
    assert_eq!(sb.run(&["report"]).0, 0);
    let md = std::fs::read_to_string(sb.suite().join("report/report.md")).unwrap();
    let section = md
        .split("## Peak memory")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    let rows: Vec<&str> = section
        .lines()
        .filter(|l| {
            let threads = l.split(" | ").nth(1).unwrap_or("");
            threads.len() > 1 && threads.starts_with('t') && threads[1..].parse::<u32>().is_ok()
        })
        .collect();
    let mut unique = rows.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(rows.len(), unique.len(), "duplicate rows: {rows:?}");
    assert_eq!(rows.len(), 8 * 3, "8 workloads x 3 thread counts");
    assert!(rows[0].starts_with("| local_churn | t1 |"), "{rows:?}");
}

#[test]
fn latency_has_a_chart_per_workload_a_table_and_findings() {
    let sb = Sandbox::new("latency");
    let (code, _, stderr) = sb.run(&["report"]);
    assert_eq!(code, 0, "{stderr}");
    let html = std::fs::read_to_string(sb.suite().join("report/index.html")).unwrap();
    assert!(html.contains("Latency of single allocator operations"));
    for workload in ["local_churn", "producer_consumer", "thread_churn"] {
        assert!(
            html.contains(&format!("{workload}: latency of one operation")),
            "no latency chart for {workload}"
        );
    }
    let md = std::fs::read_to_string(sb.suite().join("report/report.md")).unwrap();
    assert!(
        md.contains("| producer_consumer | t1 (2 threads) | glibc |"),
        "{md}"
    );
    assert!(md.contains("| producer_consumer | t2 (4 threads, oversubscribed) | mimalloc |"));
    assert!(md.contains("alloc p99.9 ns"));
    assert!(md.contains("p99 of one allocation in local_churn at t2: glibc"));
    // The producer/consumer finding uses the largest count whose threads fit the 2 cores: t1.
    assert!(md.contains("p99 of one free in producer_consumer at t1 (2 threads)"));
}

/// Rewrites the first entry of the fixture's latency.json with `edit`.
fn edit_first_latency_entry(sb: &Sandbox, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = sb.suite().join("latency.json");
    let mut file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut file["entries"][0]);
    std::fs::write(&path, serde_json::to_string(&file).unwrap()).unwrap();
}

#[test]
fn a_latency_file_with_impossible_values_or_unknown_names_is_named() {
    let sb = Sandbox::new("latency-bad");
    edit_first_latency_entry(&sb, |e| e["p99_ns"] = (-5.0).into());
    assert_bad_input(
        sb.run(&["report"]),
        "latency.json: entry local_churn system t1 alloc: percentiles must be finite and non-negative",
    );
    let sb = Sandbox::new("latency-op");
    edit_first_latency_entry(&sb, |e| e["op"] = "realloc".into());
    assert_bad_input(sb.run(&["report"]), "latency.json");
    let sb = Sandbox::new("latency-dup");
    let path = sb.suite().join("latency.json");
    let mut file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let first = file["entries"][0].clone();
    file["entries"].as_array_mut().unwrap().push(first);
    std::fs::write(&path, serde_json::to_string(&file).unwrap()).unwrap();
    assert_bad_input(sb.run(&["report"]), "appears twice");
}

#[test]
fn a_depth_entry_with_zero_bytes_per_level_is_named_not_a_panic() {
    // Regression: the report divided by bytes_per_level and panicked on 0.
    let sb = Sandbox::new("depth-zero");
    let path = sb.suite().join("depth.json");
    let mut file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // Entry 4 is the 2 MiB, frame-0 overflow probe that the findings divide by.
    file["entries"][4]["bytes_per_level"] = 0.into();
    std::fs::write(&path, serde_json::to_string(&file).unwrap()).unwrap();
    assert_bad_input(
        sb.run(&["report"]),
        "depth.json: entry std_thread stack 2097152 frame 0: bytes_per_level must be at least 1",
    );
}

/// Rewrites the current `estimates.json` of the benchmark in `rel_dir` with `edit`.
fn edit_current_estimates(sb: &Sandbox, rel_dir: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = sb.criterion().join(rel_dir).join("new/estimates.json");
    let mut est: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut est);
    std::fs::write(&path, serde_json::to_vec(&est).unwrap()).unwrap();
}

#[test]
fn times_that_make_no_sense_are_refused_naming_the_file() {
    // Regression: negative, zero and infinite means and inverted intervals were reported as they
    // were, and compare turned them into verdicts such as "+inf%"; a mean of 1.7e308 ns was accepted.
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 5] = [
        ("negative", |e| e["mean"]["point_estimate"] = (-5.0).into()),
        ("zero", |e| e["mean"]["point_estimate"] = 0.0.into()),
        ("median", |e| e["median"]["point_estimate"] = (-1.0).into()),
        ("absurd", |e| e["mean"]["point_estimate"] = 1.7e308.into()),
        ("inverted", |e| {
            let ci = &mut e["mean"]["confidence_interval"];
            let (low, high) = (ci["lower_bound"].clone(), ci["upper_bound"].clone());
            ci["lower_bound"] = high;
            ci["upper_bound"] = low;
        }),
    ];
    for (name, edit) in edits {
        let sb = Sandbox::new(&format!("times-{name}"));
        edit_current_estimates(&sb, "stack_vs_heap/heap_box_system/0000064", edit);
        let expected = if name == "inverted" {
            "lower_bound is above upper_bound"
        } else if name == "absurd" {
            "times must be at most 1e12 ns (1,000 s) per iteration"
        } else {
            "point_estimate must be a positive, finite time"
        };
        let out = sb.run(&["report"]);
        assert_bad_input(out.clone(), expected);
        assert!(
            out.2.contains("heap_box_system/0000064/new/estimates.json"),
            "{}",
            out.2
        );
    }
}

#[test]
fn two_directories_with_one_benchmark_id_are_refused() {
    // Regression: one copy silently won, which could hide a regression.
    let sb = Sandbox::new("dup-id");
    let dir = sb.criterion().join("stack_vs_heap/heap_box_system");
    copy_dir(&dir.join("0000064"), &dir.join("copy-of-64"));
    assert_bad_input(
        sb.run(&["report"]),
        "both hold benchmark 'stack_vs_heap/heap_box/system/0000064'",
    );
}

#[test]
fn a_symlink_loop_in_the_results_tree_is_refused() {
    // Regression: a link back up the tree multiplied every row under it (41x).
    let sb = Sandbox::new("symlink-loop");
    std::os::unix::fs::symlink("..", sb.criterion().join("stack_vs_heap/loop")).unwrap();
    assert_bad_input(sb.run(&["report"]), "a second time");
}

#[test]
fn an_unreadable_results_directory_is_refused_not_skipped() {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // root reads a mode-000 directory anyway: nothing to provoke.
        eprintln!("skipped: running as root");
        return;
    }
    let sb = Sandbox::new("unreadable");
    let dir = sb.criterion().join("contention_local_churn");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = sb.run(&["report"]);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_bad_input(out, "contention_local_churn: cannot read");
}

#[test]
fn a_results_dir_that_is_a_file_is_refused() {
    let sb = Sandbox::new("results-file");
    let file = sb.root.join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let out = Command::new(BIN)
        .arg("--criterion-dir")
        .arg(sb.criterion())
        .arg("--results-dir")
        .arg(&file)
        .args(["report", "--out"])
        .arg(sb.root.join("out"))
        .output()
        .unwrap();
    assert_bad_input(outcome(out), "not-a-dir: not a directory");
    assert!(!sb.root.join("out").exists(), "no report from bad input");
}

#[test]
fn a_fifo_in_place_of_a_result_file_is_named_not_waited_on() {
    // Regression: reading a FIFO blocked the report forever.
    let sb = Sandbox::new("fifo");
    let path = sb.suite().join("depth.json");
    std::fs::remove_file(&path).unwrap();
    let status = Command::new("mkfifo").arg(&path).status().unwrap();
    assert!(status.success());
    let mut child = Command::new(BIN)
        .arg("--criterion-dir")
        .arg(sb.criterion())
        .arg("--results-dir")
        .arg(sb.suite())
        .arg("report")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the report waited on a FIFO");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert_bad_input(outcome(out), "depth.json: not a regular file");
}

#[test]
fn instruction_counts_of_zero_or_an_empty_baseline_are_refused() {
    // Regression: zero counts gave verdicts of "+inf%"; an empty baseline switched the gate off.
    let sb = Sandbox::new("icount-zero");
    sb.save_current_as("same");
    write_icounts(&sb, "icount-same", 186.023);
    write_icounts(&sb, "icount", 0.0);
    assert_bad_input(
        sb.run(&["compare", "same"]),
        "icount.json: entry stack_vs_heap/heap_box/system/0000064: iterations, instructions and instructions_per_iter must be positive and finite",
    );
    let empty =
        serde_json::json!({"schema": 1, "kind": "icount-same", "machine": {}, "entries": []});
    std::fs::write(sb.suite().join("icount-same.json"), empty.to_string()).unwrap();
    write_icounts(&sb, "icount", 186.023);
    assert_bad_input(
        sb.run(&["compare", "same"]),
        "icount-same.json: holds no instruction counts",
    );
}

#[test]
fn a_bad_filter_is_one_line() {
    let sb = Sandbox::new("bad-filter");
    sb.save_current_as("same");
    assert_bad_input(
        sb.run(&["compare", "same", "--filter", "("]),
        "--filter '(' is not a regular expression: unclosed group",
    );
}

#[test]
fn an_icount_filter_matching_nothing_never_overwrites_a_saved_baseline() {
    // Regression: `measure --filter <nothing> --save NAME` wrote an empty baseline, and the next
    // compare passed with the instruction gate silently off.
    let sb = Sandbox::new("icount-empty-filter");
    let target = sb.root.join("target");
    std::fs::create_dir_all(target.join("stackheap")).unwrap();
    let saved = target.join("stackheap/icount-main.json");
    std::fs::write(&saved, "saved counts").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stackheap-icount"))
        .args(["measure", "--filter", "^matches-nothing$", "--save", "main"])
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    assert_bad_input(
        outcome(out),
        "--filter '^matches-nothing$' matches no workload",
    );
    assert_eq!(std::fs::read_to_string(&saved).unwrap(), "saved counts");
    assert!(!target.join("stackheap/icount.json").exists());
}

#[test]
fn a_benchmark_id_the_suite_does_not_know_is_named_not_guessed() {
    // Regression: ids were parsed by guesswork ("any part that parses as an allocator").
    let sb = Sandbox::new("foreign-id");
    let path = sb
        .criterion()
        .join("stack_vs_heap/heap_box_system/0000064/new/benchmark.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    meta["full_id"] = "stack_vs_heap/heap_box/tcmalloc/0000064".into();
    std::fs::write(&path, serde_json::to_vec(&meta).unwrap()).unwrap();
    assert_bad_input(
        sb.run(&["report"]),
        "'stack_vs_heap/heap_box/tcmalloc/0000064' is not a stackheap benchmark id",
    );
}

#[test]
fn a_users_own_criterion_group_beside_the_suites_is_left_alone() {
    // Regression: `scripts/run` stopped at the report after the example's Criterion group
    // (`parse_reading`, in the same target/criterion) had run.
    let sb = Sandbox::new("users-group");
    let theirs = sb.criterion().join("parse_reading");
    let ours = sb.criterion().join("stack_vs_heap/heap_box_system/0000064");
    copy_dir(&ours, &theirs);
    let path = theirs.join("new/benchmark.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    meta["group_id"] = "parse_reading".into();
    meta["full_id"] = "parse_reading".into();
    std::fs::write(&path, serde_json::to_vec(&meta).unwrap()).unwrap();
    let (code, _, stderr) = sb.run(&["report"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn every_ratio_the_report_states_carries_its_interval_or_its_verdict() {
    // Regression: "scales 1.87x from 1 to 2 threads", "does 1.8x the operations of" and "(1.38x)"
    // stated ratios with no interval and no verdict.
    let sb = Sandbox::new("ratios");
    let out_dir = sb.report_of_full_run("report-full");
    let markdown = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    let ratio = regex::Regex::new(r"\d+(\.\d+)?x\b").unwrap();
    let mut bare = Vec::new();
    for cell in markdown.lines().flat_map(|line| line.split('|')) {
        for sentence in cell.split(". ") {
            // A verdict, or a ratio of counts (exact, nothing to decide).
            let verdict = [
                "within noise",
                "not decided",
                "exact",
                "equal within",
                "undecided",
                "slower",
                "faster",
            ]
            .iter()
            .any(|w| sentence.contains(w));
            let interval_after = |end: usize| sentence[end..].trim_start().starts_with('[');
            if ratio
                .find_iter(sentence)
                .any(|m| !interval_after(m.end()) && !verdict)
            {
                bare.push(sentence.trim().to_string());
            }
        }
    }
    assert!(
        bare.is_empty(),
        "ratios without an interval or a verdict: {bare:#?}"
    );
}

/// The report of the recorded full run, as text, against its reviewed snapshot
/// (`tests/snapshots/`): any change to a figure, a verdict, a sentence or a table shows as a diff
/// to accept (`INSTA_UPDATE=always cargo test --test report_cli`, or `cargo insta review`) or fix.
/// The lines that name when and from which commit the report was written are left out.
#[test]
fn the_report_of_a_recorded_run_matches_its_snapshot() {
    let sb = Sandbox::new("snapshot");
    let out_dir = sb.report_of_full_run("report-snapshot");
    let markdown = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    let stable: Vec<&str> = markdown
        .lines()
        .filter(|l| !l.contains("report written") && !l.contains("| git commit |"))
        .collect();
    insta::assert_snapshot!(stable.join("\n"));
}

/// `results.schema.json`, what CI consumers validate `results.json` against, is the schema of the
/// type that writes `results.json` (regenerate with `stackheap-report schema > results.schema.json`),
/// and a recorded run's `results.json` uses exactly the properties it declares.
#[test]
fn the_checked_in_schema_is_the_one_results_json_is_written_with() {
    let sb = Sandbox::new("schema");
    let (code, printed, stderr) = sb.run(&["schema"]);
    assert_eq!(code, 0, "{stderr}");
    let generated: serde_json::Value = serde_json::from_str(&printed).unwrap();
    let checked_in: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("results.schema.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        generated, checked_in,
        "results.schema.json is stale: run `stackheap-report schema > results.schema.json`"
    );
    let out_dir = sb.report_of_full_run("report-schema");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("results.json")).unwrap())
            .unwrap();
    let keys = |schema: &serde_json::Value| -> Vec<String> {
        let mut keys: Vec<String> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    };
    let object_keys = |v: &serde_json::Value| -> Vec<String> {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(object_keys(&written), keys(&checked_in));
    let row = &checked_in["$defs"]["ResultRow"];
    for benchmark in written["benchmarks"].as_array().unwrap() {
        assert_eq!(object_keys(benchmark), keys(row));
    }
}
