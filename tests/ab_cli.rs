//! End-to-end tests of the paired A/B gate CLI (`stackheap-ab`): a comparison of two fake builds whose
//! "bench executables" are scripts writing Criterion results of known times (a 30% slowdown must be
//! regressed, an identical build unchanged), the resampling of recorded pairs, and one clear line with
//! exit code 2 for bad input.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_stackheap-ab");

fn sandbox(name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("stackheap-ab-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    root
}

/// A fake bench executable: writes one benchmark, `stack_vs_heap/heap_box/system/0000064`, whose
/// mean time is `ns`, into `$CRITERION_HOME`, as Criterion 0.8 would.
fn fake_build(root: &Path, name: &str, ns: f64) -> PathBuf {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/criterion/stack_vs_heap/heap_box_system/0000064/new");
    let estimates = std::fs::read_to_string(fixture.join("estimates.json")).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&estimates).unwrap();
    for stat in ["mean", "median"] {
        value[stat]["point_estimate"] = ns.into();
        value[stat]["confidence_interval"]["lower_bound"] = (ns * 0.99).into();
        value[stat]["confidence_interval"]["upper_bound"] = (ns * 1.01).into();
    }
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("estimates.json"), value.to_string()).unwrap();
    std::fs::copy(fixture.join("benchmark.json"), dir.join("benchmark.json")).unwrap();
    let exe = dir.join("bench");
    std::fs::write(
        &exe,
        format!(
            "#!/bin/sh\nout=\"$CRITERION_HOME/stack_vs_heap/heap_box_system/0000064/new\"\nmkdir -p \"$out\"\ncp '{0}/estimates.json' '{0}/benchmark.json' \"$out/\"\n",
            dir.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    exe
}

fn run_ab(root: &Path, base: &Path, cand: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args([
            "run",
            "--baseline-label",
            "base",
            "--candidate-label",
            "cand",
        ])
        .arg("--baseline-exe")
        .arg(base)
        .arg("--candidate-exe")
        .arg(cand)
        .arg("--out")
        .arg(root.join("ab.json"))
        .args(extra)
        .env("CARGO_TARGET_DIR", root.join("target"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
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
    let base = fake_build(&root, "base", 100.0);
    let slow = fake_build(&root, "slow", 130.0);
    let same = fake_build(&root, "same", 100.0);

    let (code, stdout, stderr) = run_ab(&root, &base, &slow, &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("stack_vs_heap/heap_box/system/0000064"),
        "{stdout}"
    );
    assert!(stdout.contains("regressed"), "{stdout}");
    let outcome: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("ab.json")).unwrap()).unwrap();
    assert_eq!(outcome["rounds"], 6, "6 pairs decide a steady slowdown");
    assert_eq!(outcome["rows"][0]["pairs"].as_array().unwrap().len(), 6);
    assert!((outcome["rows"][0]["ratio"].as_f64().unwrap() - 1.3).abs() < 1e-9);

    let (code, stdout, _) = run_ab(&root, &base, &same, &[]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("unchanged"), "{stdout}");

    // Resampling the identical pairs: no false alarms, every 20% shift detected.
    let out = Command::new(BIN)
        .args(["resample", "--threshold", "10"])
        .arg(root.join("ab.json"))
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{table}");
    assert!(
        table.contains(
            "| stack_vs_heap/heap_box/system/0000064 | 6 | 0.0% | 0.0% | 0.0% | 100.0% |"
        ),
        "{table}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn bad_input_is_one_line_and_exit_code_2() {
    let root = sandbox("bad");
    let base = fake_build(&root, "base", 100.0);
    assert_one_line_error(
        run_ab(&root, &base, &root.join("missing"), &[]),
        "no such bench executable",
    );
    assert_one_line_error(
        run_ab(&root, &base, &base, &["--filter", "("]),
        "not a regular expression",
    );
    assert_one_line_error(
        run_ab(&root, &base, &base, &["--filter", "^nothing$"]),
        "no benchmark matched",
    );
    assert_one_line_error(
        run_ab(&root, &base, &base, &["--threshold", "0"]),
        "--threshold",
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
