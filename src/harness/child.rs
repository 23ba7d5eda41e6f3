//! One protocol for every child process the suite starts (stack-depth probes, peak-memory
//! children, callgrind): no stdin, both outputs captured, a timeout after which the child is
//! killed, no core files, and death with the parent ([`crate::platform::harden_child`]);
//! [`Ended::failure`] says how a child failed (the depth probe, for which a deliberate abort is the
//! point, judges its own end). The A/B gate's workers, which talk over stdin and stdout, share the
//! hardening ([`harden`]) and their own timeout per answer (`harness::ab`).

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use wait_timeout::ChildExt;

/// How a child ended, with everything it wrote.
#[derive(Debug)]
pub struct Ended {
    /// `None` when it ran past the timeout and was killed.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// The timeout it ran under.
    pub timeout: Duration,
}

impl Ended {
    /// The last line the child wrote to stderr that is not blank, for an error message.
    pub fn last_stderr_line(&self) -> &str {
        self.stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
    }

    /// How the child failed, in words, when it did not exit with status 0: `failed (<status>):
    /// <its last stderr line>`, or `ran past <timeout> s and was killed`.
    pub fn failure(&self) -> Option<String> {
        match self.status {
            Some(status) if status.success() => None,
            Some(status) => Some(match self.last_stderr_line() {
                "" => format!("failed ({status})"),
                line => format!("failed ({status}): {line}"),
            }),
            None => Some(format!(
                "ran past {} s and was killed",
                self.timeout.as_secs()
            )),
        }
    }
}

/// Makes `command` start in its own process group, so that killing the group kills whatever the
/// child started too (a grandchild holding the pipes open would keep a reader waiting), with no
/// core files and death with the parent.
pub fn harden(command: &mut Command) {
    command.process_group(0);
    // SAFETY: harden_child makes only async-signal-safe system calls (setrlimit, prctl, getppid).
    unsafe {
        command.pre_exec(crate::platform::harden_child);
    }
}

/// How a child is started: the current executable, with the arguments that make it reach the code
/// that serves it (none for a bench binary, which checks first thing in `main`; `--exact <test>` for a
/// libtest binary).
#[derive(Clone, Debug)]
pub struct ChildCommand {
    pub exe: std::path::PathBuf,
    pub args: Vec<String>,
}

impl ChildCommand {
    /// This binary, started with no arguments.
    pub fn current_exe() -> std::io::Result<ChildCommand> {
        Ok(ChildCommand {
            exe: std::env::current_exe()?,
            args: Vec::new(),
        })
    }
}

/// Runs `command` under the protocol and waits for it, at most `timeout`. Errors only when the
/// child cannot be started (or waited for); how it ended is the caller's to judge.
pub fn run(mut command: Command, timeout: Duration) -> std::io::Result<Ended> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    harden(&mut command);
    let started = Instant::now();
    let mut child = command.spawn()?;
    // Read both pipes while the child runs: a child that fills a pipe would otherwise block.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut text);
            }
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    // A blocking wait with a deadline (wait-timeout: woken by SIGCHLD, not by polling), so the
    // supervisor takes no CPU time from the child it times.
    let status = match child.wait_timeout(timeout)? {
        Some(status) => Some(status),
        None => {
            crate::platform::kill_process_group(child.id());
            let _ = child.wait();
            None
        }
    };
    Ok(Ended {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        elapsed: started.elapsed(),
        timeout,
    })
}

/// The libtest name of test `name` in module `module` (its `module_path!()`), for starting the test
/// binary again as a child with `--exact`: it stays right when the module moves.
#[cfg(test)]
pub(crate) fn test_path(module: &str, name: &str) -> String {
    let within_crate = module.split_once("::").map_or(module, |(_, rest)| rest);
    format!("{within_crate}::{name}")
}

/// This test binary started again with only test `name` of `module` (its `module_path!()`)
/// selected, one test thread: how a module's tests start their own children.
#[cfg(test)]
pub(crate) fn test_child(module: &str, name: &str) -> ChildCommand {
    ChildCommand {
        exe: std::env::current_exe().expect("the test binary's path"),
        args: vec![
            test_path(module, name),
            "--exact".into(),
            "--test-threads=1".into(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }

    #[test]
    fn output_and_status_are_captured() {
        let ended = run(
            sh("echo out; echo err >&2; exit 3"),
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(ended.status.and_then(|s| s.code()), Some(3));
        assert_eq!(
            (ended.stdout.as_str(), ended.last_stderr_line()),
            ("out\n", "err")
        );
    }

    #[test]
    fn failure_says_how_a_child_ended() {
        let ten = Duration::from_secs(10);
        assert_eq!(run(sh("exit 0"), ten).unwrap().failure(), None);
        assert_eq!(
            run(sh("echo why >&2; exit 3"), ten)
                .unwrap()
                .failure()
                .as_deref(),
            Some("failed (exit status: 3): why")
        );
        assert_eq!(
            run(sh("exit 4"), ten).unwrap().failure().as_deref(),
            Some("failed (exit status: 4)")
        );
        assert_eq!(
            run(sh("sleep 30"), Duration::from_secs(1))
                .unwrap()
                .failure()
                .as_deref(),
            Some("ran past 1 s and was killed")
        );
    }

    #[test]
    fn a_child_past_its_timeout_is_killed() {
        let ended = run(sh("sleep 30"), Duration::from_millis(200)).unwrap();
        assert!(ended.status.is_none(), "timed out");
        assert!(ended.elapsed < Duration::from_secs(10));
    }

    #[test]
    fn a_child_may_not_dump_core() {
        let ended = run(sh("ulimit -c; kill -SEGV $$"), Duration::from_secs(10)).unwrap();
        assert_eq!(ended.stdout.trim(), "0", "core file size limit");
        let status = ended.status.unwrap();
        assert_eq!(status.signal(), Some(libc::SIGSEGV));
        assert!(!status.core_dumped());
    }

    #[test]
    fn a_child_dies_with_its_parent() {
        // Re-run this test binary as the parent: it starts a long child under the protocol, which
        // writes its pid to a file; the parent is then killed and the child must go too.
        if let Some(pid_file) = std::env::var_os("STACKHEAP_TEST_PARENT_OF") {
            let script = format!("echo $$ > {}; exec sleep 60", pid_file.to_string_lossy());
            let _ = run(sh(&script), Duration::from_secs(120));
            return;
        }
        let pid_file =
            std::env::temp_dir().join(format!("stackheap-orphan-{}", std::process::id()));
        let _ = std::fs::remove_file(&pid_file);
        let mut parent = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact".into(),
                test_path(module_path!(), "a_child_dies_with_its_parent"),
            ])
            .env("STACKHEAP_TEST_PARENT_OF", &pid_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let pid = loop {
            let text = std::fs::read_to_string(&pid_file).unwrap_or_default();
            if let Ok(pid) = text.trim().parse::<u32>() {
                break pid;
            }
            assert!(Instant::now() < deadline, "the child never started");
            std::thread::sleep(Duration::from_millis(10));
        };
        parent.kill().unwrap();
        parent.wait().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while crate::platform::process_is_alive(pid) {
            assert!(Instant::now() < deadline, "child {pid} outlived its parent");
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = std::fs::remove_file(&pid_file);
    }

    #[test]
    fn a_large_output_does_not_block_the_child() {
        let ended = run(sh("head -c 1000000 /dev/zero"), Duration::from_secs(20)).unwrap();
        assert_eq!(ended.stdout.len(), 1_000_000);
        assert!(ended.status.unwrap().success());
    }
}
