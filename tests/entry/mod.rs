//! What the `harness = false` tests of `stackheap::main!` share: running this binary again as one
//! case of a user's program, and a closing line that test runners read.

use std::process::Command;

/// Whether this process is a case (started by [`case`]) rather than the driver.
pub fn is_case() -> bool {
    std::env::var_os("STACKHEAP_TEST_CASE").is_some()
}

/// The target directory of this test's own that its cases write their results to, removed by
/// [`finish`].
fn case_target() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("stackheap-entry-{}", std::process::id()))
}

/// Runs this binary as the case `case` with `args` and `env`: exit code, stdout, stderr. Results go
/// to a target directory of the test's own ([`case_target`]).
pub fn case(case: &str, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let target = case_target();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(args)
        .env("STACKHEAP_TEST_CASE", case)
        .env("CARGO_TARGET_DIR", &target)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The checks' results, one line each, then `N passed, N failed`; exits 1 when one failed. The
/// cases' target directory goes first: a test run leaves nothing in the temporary directory.
pub fn finish(checks: &[(&str, bool, String)]) {
    let _ = std::fs::remove_dir_all(case_target());
    let mut failed = 0;
    for (name, ok, why) in checks {
        if *ok {
            println!("test {name} ... ok");
        } else {
            failed += 1;
            println!("test {name} ... FAILED: {why}");
        }
    }
    println!("{} passed, {failed} failed", checks.len() - failed);
    if failed > 0 {
        std::process::exit(1);
    }
}
