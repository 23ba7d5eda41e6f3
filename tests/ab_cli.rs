//! End-to-end tests of the paired A/B gate CLI (`stackheap-ab`): comparisons of fake workers that
//! speak the worker protocol with known times (a 30% slowdown must be regressed, an identical side
//! unchanged, the same worker under two environments told apart, a noisy one undecided with its own
//! exit code), one short run of the real `stackheap-worker`, the resampling of recorded sessions,
//! one short run of the comparison engine's groups (`stackheap-ab groups`), and one clear line with
//! exit code 2 for bad input.

use stackheap::harness::worker::PROTOCOL;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_stackheap-ab");
const WORKER: &str = env!("CARGO_BIN_EXE_stackheap-worker");

fn sandbox(name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("stackheap-ab-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    root
}

/// A fake worker: answers every sample of `n` iterations with `n * ns` nanoseconds, where `ns` is
/// `$FAKE_NS` when set; with `noisy`, each answer is that times a random 0.5..1.5 (bash's RANDOM).
fn fake_worker(root: &Path, name: &str, ns: u64, noisy: bool) -> PathBuf {
    let time = if noisy {
        "$(( n * ns * (50 + RANDOM % 100) / 100 ))"
    } else {
        "$(( n * ns ))"
    };
    let exe = root.join(name);
    std::fs::write(
        &exe,
        format!(
            "#!/bin/bash\nns=${{FAKE_NS:-{ns}}}\necho 'ready {PROTOCOL}'\nwhile read -r cmd id n; do\n  case $cmd in\n    calibrate) echo 'ok 4' ;;\n    sample) echo \"ok {time}\" ;;\n    *) echo 'error unknown' ;;\n  esac\ndone\n"
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    exe
}

/// The one row the fake workers are asked for (any gated row: the fake answers them all alike).
const ROW: &str = "^stack_vs_heap/heap_box/system/0000064$";

fn run_ab(root: &Path, base: &Path, cand: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args([
            "run",
            "--baseline-label",
            "base",
            "--candidate-label",
            "cand",
            "--budget-secs",
            "20",
        ])
        .arg("--baseline-worker")
        .arg(base)
        .arg("--candidate-worker")
        .arg(cand)
        .arg("--out")
        .arg(root.join("ab.json"))
        .args(extra)
        .args(if extra.contains(&"--filter") {
            vec![]
        } else {
            vec!["--filter", ROW]
        })
        .env("CARGO_TARGET_DIR", root.join("target"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn outcome(root: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(root.join("ab.json")).unwrap()).unwrap()
}

fn assert_one_line_error((code, _, stderr): (i32, String, String), needle: &str) {
    assert_eq!(code, 2, "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains(needle),
        "{stderr}"
    );
}

#[test]
fn a_slower_candidate_is_regressed_and_an_identical_one_unchanged() {
    let root = sandbox("verdicts");
    let base = fake_worker(&root, "base", 100, false);
    let slow = fake_worker(&root, "slow", 130, false);
    let same = fake_worker(&root, "same", 100, false);

    let (code, stdout, stderr) = run_ab(&root, &base, &slow, &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("stack_vs_heap/heap_box/system/0000064"),
        "{stdout}"
    );
    assert!(stdout.contains("regressed"), "{stdout}");
    let o = outcome(&root);
    assert_eq!(o["sessions"], 8, "8 sessions decide a steady slowdown");
    assert_eq!(o["stopped"], "decided");
    assert_eq!(o["rows"][0]["pairs"].as_array().unwrap().len(), 8);
    assert!((o["rows"][0]["ratio"].as_f64().unwrap() - 1.3).abs() < 1e-9);

    let (code, stdout, _) = run_ab(&root, &base, &same, &[]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("unchanged"), "{stdout}");

    // Resampling the identical sessions: no false alarms, every 10% shift detected.
    let out = Command::new(BIN)
        .args(["resample", "--threshold", "3"])
        .arg(root.join("ab.json"))
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{table}");
    assert!(
        table.contains(
            "| stack_vs_heap/heap_box/system/0000064 | 8 | 0.0% | 0.0% | 0.0% | 100.0% | 100.0% |"
        ),
        "{table}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn one_worker_under_two_environments_is_compared_like_two_builds() {
    let root = sandbox("env");
    let worker = fake_worker(&root, "worker", 100, false);
    let (code, stdout, stderr) =
        run_ab(&root, &worker, &worker, &["--candidate-env", "FAKE_NS=80"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("improved"), "{stdout}");
    assert!(stdout.contains("cand with FAKE_NS=80 vs base"), "{stdout}");
    assert_eq!(outcome(&root)["candidate_env"][0], "FAKE_NS=80");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_comparison_that_cannot_decide_says_so_with_exit_code_3() {
    let root = sandbox("undecided");
    let base = fake_worker(&root, "base", 100, true);
    let cand = fake_worker(&root, "cand", 100, true);
    // Eight sessions of +-50% noise cannot place the median within 1%.
    let limits = ["--threshold", "1", "--max-sessions", "8"];
    let (code, stdout, stderr) = run_ab(&root, &base, &cand, &limits);
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(stdout.contains("1 undecided"), "{stdout}");
    assert!(
        stdout.contains("rows undecided: this run could not tell"),
        "{stdout}"
    );
    assert_eq!(outcome(&root)["stopped"], "max_sessions");
    let accepted = [&limits[..], &["--accept-undecided"]].concat();
    let (code, stdout, _) = run_ab(&root, &base, &cand, &accepted);
    assert_eq!(code, 0, "{stdout}");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn the_real_worker_runs_a_short_comparison_end_to_end() {
    let root = sandbox("real");
    let worker = Path::new(WORKER);
    let (code, stdout, stderr) = run_ab(
        &root,
        worker,
        worker,
        &[
            "--max-sessions",
            "6",
            "--min-sessions",
            "6",
            "--sample-ms",
            "1",
        ],
    );
    // Structure only: any verdict is fine on a shared machine, bad input is not.
    assert!([0, 1, 3].contains(&code), "{code}: {stdout}{stderr}");
    let o = outcome(&root);
    assert_eq!(o["sessions"], 6);
    assert_eq!(o["rows"][0]["id"], "stack_vs_heap/heap_box/system/0000064");
    assert!(o["rows"][0]["iterations"].as_u64().unwrap() > 1);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn bad_input_is_one_line_and_exit_code_2() {
    let root = sandbox("bad");
    let base = fake_worker(&root, "base", 100, false);
    assert_one_line_error(
        run_ab(&root, &base, &root.join("missing"), &[]),
        "no such stackheap-worker executable",
    );
    assert_one_line_error(
        run_ab(&root, &base, &base, &["--filter", "("]),
        "not a regular expression",
    );
    assert_one_line_error(
        run_ab(&root, &base, &base, &["--filter", "^nothing$"]),
        "no gated row matched",
    );
    assert_one_line_error(
        run_ab(&root, &base, &base, &["--threshold", "0"]),
        "--threshold",
    );
    assert_one_line_error(
        run_ab(&root, &base, &base, &["--candidate-env", "NOEQUALS"]),
        "expected KEY=VALUE",
    );
    let mute = root.join("mute");
    std::fs::write(&mute, "#!/bin/sh\necho hello\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&mute, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_one_line_error(
        run_ab(&root, &base, &mute, &[]),
        &format!("said 'hello', expected 'ready {PROTOCOL}'"),
    );
    std::fs::write(
        root.join("foreign.json"),
        r#"{"schema": 1, "kind": "results"}"#,
    )
    .unwrap();
    let out = Command::new(BIN)
        .arg("resample")
        .arg(root.join("foreign.json"))
        .output()
        .unwrap();
    assert_one_line_error(
        (
            out.status.code().unwrap_or(-1),
            String::new(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ),
        "not an ab.json",
    );
    std::fs::remove_dir_all(&root).unwrap();
}

/// The `groups.json` a `stackheap-ab groups` run wrote under `root`.
fn groups_json(root: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(root.join("stackheap/groups.json")).unwrap())
        .unwrap()
}

/// `stackheap-ab groups` with `args`, its results under `root`.
fn run_groups(root: &Path, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .arg("groups")
        .args(args)
        .env("CARGO_TARGET_DIR", root)
        .env_remove("STACKHEAP_ALLOCATORS")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_engine_samples_one_group_in_rounds_and_records_every_session() {
    let root = sandbox("groups");
    let (code, stdout, stderr) = run_groups(
        &root,
        &[],
        &[
            "--filter",
            "^stack_vs_heap/0000064$",
            "--worker",
            WORKER,
            "--min-sessions",
            "6",
            "--max-sessions",
            "6",
            "--sample-ms",
            "1",
            "--seed",
            "7",
        ],
    );
    // Structure only: any verdicts are fine on a shared machine.
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("stack_vs_heap/0000064 (6 sessions, margin"),
        "{stdout}"
    );
    let file = groups_json(&root);
    assert_eq!(file["kind"], "groups");
    let group = &file["entries"][0];
    assert_eq!(group["group"], "stack_vs_heap/0000064");
    assert_eq!(
        group["members"][0]["id"],
        "stack_vs_heap/stack_array/0000064"
    );
    // The stack array, the reserve, and three kinds for each of the default three allocators.
    assert_eq!(group["members"].as_array().unwrap().len(), 11);
    assert_eq!(group["control_ns"].as_array().unwrap().len(), 6);
    for member in group["members"].as_array().unwrap() {
        assert_eq!(member["ns"].as_array().unwrap().len(), 6, "{member}");
    }
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn the_engine_refuses_bad_input_with_one_line() {
    let root = sandbox("groups-bad");
    assert_one_line_error(
        run_groups(&root, &[], &["--filter", "^no-such-group$"]),
        "--filter '^no-such-group$': no comparison group matched",
    );
    assert_one_line_error(
        run_groups(&root, &[], &["--worker", "/nonexistent/stackheap-worker"]),
        "/nonexistent/stackheap-worker: no such stackheap-worker executable",
    );
    assert_one_line_error(
        run_groups(&root, &[("STACKHEAP_ALLOCATORS", "system,tcmalloc")], &[]),
        "tcmalloc",
    );
    assert_one_line_error(
        run_groups(&root, &[], &["--min-sessions", "3"]),
        "expected 6 <= min <= max",
    );
    // A library named at run time (name=path): every bad kind, one line and exit 2.
    let libm = c_library().with_file_name("libm.so.6");
    for (value, needle) in [
        (
            "system,tc=/nonexistent/libtcmalloc.so".to_owned(),
            "/nonexistent/libtcmalloc.so: No such file or directory",
        ),
        ("system,tc=/etc/hostname".to_owned(), "not an ELF file"),
        (
            format!("system,m={}", libm.display()),
            "exports no malloc, free",
        ),
        (
            format!("system,jemalloc={}", c_library().display()),
            "names a built-in allocator",
        ),
    ] {
        assert_one_line_error(
            run_groups(&root, &[("STACKHEAP_ALLOCATORS", &value)], &[]),
            needle,
        );
    }
    assert!(!root.join("stackheap/groups.json").exists());
    std::fs::remove_dir_all(&root).unwrap();
}

/// The C library this test runs on (its path from the process's own mappings): a shared library
/// that serves malloc, present on every machine, to stand in for a library named at run time.
fn c_library() -> std::path::PathBuf {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let path = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| p.contains("/libc.so.6") || p.contains("/libc-2."))
        .expect("the C library is mapped");
    path.into()
}

#[test]
fn a_library_allocator_is_measured_in_workers_of_its_own_and_proved() {
    let root = sandbox("groups-library");
    let libc = c_library();
    let allocators = format!("system,libc-again={}", libc.display());
    let (code, stdout, stderr) = run_groups(
        &root,
        &[
            ("STACKHEAP_ALLOCATORS", &allocators),
            ("STACKHEAP_THREADS", "1"),
        ],
        &[
            "--filter",
            "^(stack_vs_heap/0000064|contention/larson/t1)$",
            "--worker",
            WORKER,
            "--min-sessions",
            "6",
            "--max-sessions",
            "6",
            "--sample-ms",
            "1",
        ],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("stack_vs_heap/heap_box/libc-again/0000064 / stack_vs_heap/stack_array"),
        "{stdout}"
    );
    assert!(
        stdout.contains("contention/larson/libc-again/t1 / contention/larson/system/t1"),
        "{stdout}"
    );
    let file = groups_json(&root);
    let proof = file["machine"]["allocator_proofs"]["libc-again"]
        .as_str()
        .unwrap();
    assert!(
        proof.starts_with("malloc at 0x") && proof.contains(&*libc.to_string_lossy()),
        "{proof}"
    );
    let version = file["machine"]["allocator_versions"]["libc-again"]
        .as_str()
        .unwrap();
    assert!(version.contains("soname libc.so.6"), "{version}");
    std::fs::remove_dir_all(&root).unwrap();
}
