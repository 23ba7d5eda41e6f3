//! Your recursion: the largest input your own recursive function takes in a thread of each stack
//! size, found by really overflowing it in child processes, the stack it takes per unit of input,
//! and the stack an input you name needs.
//!
//! The function is not changed: it is given an input size (a nesting depth, a tree height, a list
//! length) and run in a spawned thread with the stack size asked for, in a child process that is
//! this program started again. Input n fits when the child says so on its last line; the child
//! overflowed when it died of SIGABRT with Rust's "has overflowed its stack" message; any other end
//! (a panic, another signal, a hang past the timeout) is an error of your function, named as such.
//! The largest input is bisected between an input that fits and one that overflows. Stack use is
//! deterministic in one binary, so one child per input decides it.

pub use crate::analysis::own::RecursionFit;
pub use crate::data::own::StackFit;

use crate::harness::child::{ChildCommand, Ended, run};
use crate::own::{child_request, say_error};
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::time::Duration;

/// The environment variable that turns this program into a recursion child:
/// `<name>\t<stack bytes>\t<input>`.
pub const CHILD_ENV: &str = "STACKHEAP_RECURSION_CHILD";
/// What a child prints after the function returned, followed by the name and the input.
const FITTED: &str = "stackheap-recursion fitted";

/// In a child started for recursion `name`, runs the function on the input asked for in a thread
/// of the stack size asked for, says so if it returned, and ends the process; otherwise (not a
/// child, or a child for another recursion) returns at once. [`crate::main!`] calls it before
/// anything else runs.
pub fn serve_child(name: &str, f: &(dyn Fn(u64) + Sync)) {
    let Some([stack, input]) = child_request(CHILD_ENV, name, "<name>\\t<stack>\\t<input>") else {
        return;
    };
    let ran = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("stackheap-recursion".into())
            .stack_size(stack as usize)
            .spawn_scoped(scope, || f(input))
            .map(|h| h.join().is_ok())
    });
    match ran {
        Ok(true) => crate::own::answer_parent(FITTED, &[name.to_owned(), input.to_string()]),
        Ok(false) => {
            say_error(format_args!(
                "error: recursion child: {name}({input}) panicked"
            ));
            std::process::exit(4)
        }
        Err(e) => {
            say_error(format_args!(
                "error: recursion child: cannot start a thread with a {stack} B stack: {e}"
            ));
            std::process::exit(5)
        }
    }
}

/// How one child ended: the input fitted, or the stack overflowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Fitted,
    Overflowed,
}

/// Judges a child's end; anything but a fit or Rust's overflow abort is the function's error.
fn judge(name: &str, stack: u64, input: u64, ended: &Ended) -> Result<Outcome, String> {
    let what = format!("{name}({input}) with a {stack} B stack");
    match ended.status {
        None => Err(format!(
            "{what}: hung, killed after {:.1} s: expected it to return or overflow",
            ended.timeout.as_secs_f64()
        )),
        Some(status) if status.success() => {
            if ended.stdout.contains(&format!("{FITTED}\t{name}\t{input}")) {
                Ok(Outcome::Fitted)
            } else {
                Err(format!(
                    "{what}: the child ended without reaching stackheap's recursion entry: expected the program's main to be stackheap::main! with a recursion named `{name}`"
                ))
            }
        }
        Some(status)
            if status.signal() == Some(libc::SIGABRT)
                && ended.stderr.contains("has overflowed its stack") =>
        {
            Ok(Outcome::Overflowed)
        }
        Some(_) => Err(format!(
            "{what}: {}: expected it to return or overflow its stack",
            ended
                .failure()
                .unwrap_or_else(|| ended.last_stderr_line().to_owned())
        )),
    }
}

/// Runs `name` on `input` in a child with a `stack`-byte thread.
fn try_input(
    relaunch: &ChildCommand,
    name: &str,
    stack: u64,
    input: u64,
    timeout: Duration,
) -> Result<Outcome, String> {
    let mut command = Command::new(&relaunch.exe);
    // The allocator a type or workload child runs on is chosen by stackheap alone, never inherited.
    command
        .args(&relaunch.args)
        .env(CHILD_ENV, format!("{name}\t{stack}\t{input}"))
        .env_remove(crate::own::allocator::ALLOCATOR_ENV)
        .env_remove(crate::own::allocator::LIBRARY_ENV);
    let ended = run(command, timeout).map_err(|e| {
        format!(
            "{name}: cannot start {} as a child: {e}",
            relaunch.exe.display()
        )
    })?;
    judge(name, stack, input, &ended)
}

/// The largest input of `name` a `stack`-byte thread takes, up to `max_input`.
fn largest_input(
    relaunch: &ChildCommand,
    name: &str,
    stack: u64,
    max_input: u64,
    timeout: Duration,
) -> Result<StackFit, String> {
    let mut children = 0;
    let mut probe = |input: u64| {
        children += 1;
        try_input(relaunch, name, stack, input, timeout)
    };
    // Double until an input overflows: `fits` always fitted, `over` always overflowed.
    let mut fits = 0u64;
    let mut over = 1u64;
    while probe(over)? == Outcome::Fitted {
        fits = over;
        if over >= max_input {
            return Err(format!(
                "{name}: input {max_input} still fits a {stack} B stack: expected it to overflow below the largest input to try (raise it)"
            ));
        }
        over = (over * 2).min(max_input);
    }
    while over - fits > 1 {
        let mid = fits + (over - fits) / 2;
        match probe(mid)? {
            Outcome::Fitted => fits = mid,
            Outcome::Overflowed => over = mid,
        }
    }
    Ok(StackFit {
        stack_bytes: stack,
        largest_input: fits,
        children,
    })
}

/// What [`measure`] tries.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Stack sizes to spawn the thread with, in bytes.
    pub stacks: Vec<u64>,
    /// The largest input to try: a function that still fits there is reported, not probed further.
    pub max_input: u64,
    /// How long one child may take.
    pub timeout: Duration,
}

impl Default for Plan {
    fn default() -> Plan {
        Plan {
            stacks: vec![256 << 10, 1 << 20, 2 << 20, 8 << 20],
            max_input: 1 << 32,
            timeout: Duration::from_secs(30),
        }
    }
}

/// Measures recursion `name`: for each stack size of `plan`, the largest input `f` takes, in child
/// processes started as `relaunch` says, each of which must serve the request with
/// [`serve_child`]; then the stack per unit of input. [`crate::own::Questions::recursion`] is the
/// way to ask it from a bench file.
pub fn measure(name: &str, relaunch: &ChildCommand, plan: &Plan) -> Result<RecursionFit, String> {
    crate::own::check_name("recursion", name)?;
    if let Some(&stack) = plan.stacks.iter().find(|&&s| s < 16 << 10) {
        return Err(format!(
            "{name}: stack size {stack} B: expected at least 16 KiB (the platform's minimum thread stack)"
        ));
    }
    let fits = plan
        .stacks
        .iter()
        .map(|&stack| largest_input(relaunch, name, stack, plan.max_input, plan.timeout))
        .collect::<Result<Vec<_>, _>>()?;
    RecursionFit::new(name, fits)
}

#[cfg(test)]
mod tests;
