//! What the `harness = false` tests of `stackheap::main!` share: running this binary again as one
//! case of a user's program, and a closing line that test runners read.

use std::process::Command;

/// Whether this process is a case (started by [`case`]) rather than the driver.
pub fn is_case() -> bool {
    std::env::var_os("STACKHEAP_TEST_CASE").is_some()
}

/// Runs this binary as the case `case` with `args` and `env`: exit code, stdout, stderr. Results go
/// to a target directory of the test's own.
pub fn case(case: &str, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let target = std::env::temp_dir().join(format!("stackheap-entry-{}", std::process::id()));
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

/// The checks' results, one line each, then `N passed, N failed`; exits 1 when one failed.
pub fn finish(checks: &[(&str, bool, String)]) {
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
