//! Your own code: the suite's three questions asked of a user's own type, recursive function and
//! multi-threaded workload, from their own crate. It sits on top of the layers, beside the benches
//! and the binaries, and uses the same child protocol, statistics and words.
//!
//! A user learns four names: [`crate::main!`], [`Questions`] (with its three questions and their
//! [`Options`]), [`ChosenAllocator`], and [`Error`]; [`Answers`] is what a run found. The module is
//! called `own` because the report's section, `own.json` and the guide all speak of "your own
//! code"; in a bench file it appears only in `use` lines. The modules below are the building
//! blocks the entry point drives, public for tests and for programs that want the parts.

pub mod allocator;
mod args;
pub mod questions;
pub mod recursion;
pub mod stack_or_box;
pub mod workload;

pub use allocator::ChosenAllocator;
pub use questions::{Answers, Error, Options, Questions, run};

use crate::harness::child::ChildCommand;
use crate::workload::allocators::AllocatorKind;
use std::process::Command;
use std::time::{Duration, Instant};

/// How a question asked under each allocator runs its child processes: one process per allocator
/// per round, the rounds interleaved (each runs every allocator once, in an order rotated round by
/// round), so that a change of the machine's state falls on every allocator alike. After `rounds`,
/// rounds go on while the answer is undecided or its margin above `target_margin`, up to
/// `max_rounds` and within `budget`.
#[derive(Clone, Debug)]
pub struct ProcessPlan {
    pub allocators: Vec<AllocatorKind>,
    /// Processes per allocator before the first decision.
    pub rounds: usize,
    pub max_rounds: usize,
    /// The margin the rounds aim for: a goal the run states whether it reaches it or not.
    pub target_margin: f64,
    /// No new round starts when it would end after this.
    pub budget: Duration,
    /// How long one process's timed calls should take (calibrated once, in a first process).
    pub target: Duration,
    /// How long one child may take.
    pub timeout: Duration,
}

impl Default for ProcessPlan {
    fn default() -> ProcessPlan {
        ProcessPlan {
            allocators: AllocatorKind::default_run(),
            // Six: the fewest processes whose median interval covers 95%.
            rounds: 6,
            max_rounds: 20,
            target_margin: TARGET_MARGIN,
            budget: Duration::from_secs(60),
            target: Duration::from_millis(300),
            timeout: Duration::from_secs(120),
        }
    }
}

/// The margin the questions' adaptive rounds aim for (5%): a goal, stated beside the margin each
/// run reached, not a figure of any machine.
pub const TARGET_MARGIN: f64 = crate::analysis::stats::TIE_MARGIN;

impl ProcessPlan {
    /// A small plan for a test run (two rounds of short processes): structure, not figures.
    pub fn small(self) -> ProcessPlan {
        ProcessPlan {
            rounds: 2,
            max_rounds: 2,
            target: Duration::from_millis(20),
            ..self
        }
    }

    /// Why this plan cannot pair anything, if it cannot.
    fn check(&self, name: &str) -> Result<(), String> {
        if self.allocators.is_empty() || self.rounds < 2 || self.max_rounds < self.rounds {
            return Err(format!(
                "{name}: {} allocators, {} to {} rounds: expected at least 1 allocator and 2 rounds",
                self.allocators.len(),
                self.rounds,
                self.max_rounds
            ));
        }
        Ok(())
    }

    /// Runs `child(allocator)` for every allocator, round after round, in an order rotated round
    /// by round, until `enough` (given each allocator's results so far, in the plan's order) says
    /// so after `rounds`, or `max_rounds` or the budget ends it.
    fn interleave<X>(
        &self,
        mut child: impl FnMut(AllocatorKind) -> Result<X, String>,
        mut enough: impl FnMut(&[(AllocatorKind, Vec<X>)]) -> bool,
    ) -> Result<Vec<(AllocatorKind, Vec<X>)>, String> {
        let start = Instant::now();
        let mut longest = Duration::ZERO;
        let mut per_allocator: Vec<(AllocatorKind, Vec<X>)> =
            self.allocators.iter().map(|&a| (a, Vec::new())).collect();
        for round in 0..self.max_rounds {
            let began = Instant::now();
            for k in 0..self.allocators.len() {
                let i = (k + round) % self.allocators.len();
                let x = child(self.allocators[i])?;
                per_allocator[i].1.push(x);
            }
            longest = longest.max(began.elapsed());
            let done = round + 1 >= self.rounds
                && (start.elapsed() + longest > self.budget || enough(&per_allocator));
            if done {
                break;
            }
        }
        Ok(per_allocator)
    }
}

/// Why `name` cannot name a `question` (it travels in a tab-separated request), if it cannot.
fn check_name(question: &str, name: &str) -> Result<(), String> {
    if name.is_empty() || name.contains(['\t', '\n']) {
        return Err(format!(
            "{question} name {name:?}: expected a non-empty name without tabs or newlines"
        ));
    }
    Ok(())
}

/// How many calls fill `target_ns`, and the time they took: `calls` when it is not 0 (the
/// calibrated count every process of a question times), else doubled from 1 until `time(calls)`
/// takes the target.
fn calls_for_target(
    calls: u64,
    target_ns: u64,
    mut time: impl FnMut(u64) -> Duration,
) -> (u64, Duration) {
    if calls > 0 {
        return (calls, time(calls));
    }
    let mut calls = 1;
    loop {
        let elapsed = time(calls);
        if elapsed >= Duration::from_nanos(target_ns) || calls >= 1 << 30 {
            return (calls, elapsed);
        }
        calls *= 2;
    }
}

/// How long `calls` calls of `f` take.
fn time_calls(calls: u64, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..calls {
        f();
    }
    start.elapsed()
}

/// Ends a child: its one line (`fields` joined by tabs after `marker`) to stdout, straight to the
/// handle (println! is captured when the child is a libtest binary), and exit status 0.
fn answer_parent(marker: &str, fields: &[String]) -> ! {
    use std::io::Write;
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{marker}\t{}", fields.join("\t"));
    let _ = out.flush();
    std::process::exit(0)
}

/// One request to a child of a question asked under each allocator.
struct Ask<'a> {
    /// The environment variable the request travels in, and the marker its answer starts with.
    var: &'a str,
    marker: &'a str,
    name: &'a str,
    /// The numbers after the name; the plan's target time in ns follows them.
    numbers: &'a [u64],
    /// What the request is, for errors (the allocator is added).
    what: String,
    /// How many fields the answer has, the name first and the proof last.
    fields: usize,
}

/// What a child answered: the fields of its line after the marker (the name first, the proof of
/// its allocator last), with what it was asked, for errors.
struct ChildAnswer {
    what: String,
    fields: Vec<String>,
}

impl ChildAnswer {
    /// The answer in `line` (after the marker) to `ask`, checked: as many fields as asked, the
    /// name first, and last the proof of a child that ran on `allocator`.
    fn read(
        line: &str,
        ask: &Ask,
        allocator: AllocatorKind,
        what: String,
    ) -> Result<ChildAnswer, String> {
        let answer = ChildAnswer {
            fields: line
                .strip_prefix('\t')
                .unwrap_or(line)
                .split('\t')
                .map(str::to_owned)
                .collect(),
            what,
        };
        if answer.fields.len() != ask.fields || answer.fields[0] != ask.name {
            return Err(answer.bad_line());
        }
        let proof = &answer.fields[ask.fields - 1];
        if !proof.starts_with(&format!("runs on {allocator} ")) {
            return Err(format!("{}: the child {proof}", answer.what));
        }
        Ok(answer)
    }

    /// Field `i` parsed, or one line naming the request and the line.
    fn number<X: std::str::FromStr>(&self, i: usize) -> Result<X, String> {
        self.fields[i].parse().map_err(|_| self.bad_line())
    }

    fn text(&self, i: usize) -> String {
        self.fields[i].clone()
    }

    fn bad_line(&self) -> String {
        format!("{}: bad child line {:?}", self.what, self.fields.join("\t"))
    }
}

/// Starts `child` on `allocator` with `ask`'s request and returns its answer: a line that starts
/// with the marker, holds `ask.fields` fields, names the request and ends with the proof that the
/// child ran on `allocator`; anything else is one line naming the request.
fn ask_child(
    child: &ChildCommand,
    plan: &ProcessPlan,
    allocator: AllocatorKind,
    ask: &Ask,
) -> Result<ChildAnswer, String> {
    let what = format!("{} under {allocator}", ask.what);
    let mut request = ask.name.to_owned();
    for n in ask
        .numbers
        .iter()
        .copied()
        .chain([plan.target.as_nanos() as u64])
    {
        request += &format!("\t{n}");
    }
    let mut command = Command::new(&child.exe);
    command
        .args(&child.args)
        .env(ask.var, request)
        .envs(allocator::child_env(allocator));
    let ended = crate::harness::child::run(command, plan.timeout)
        .map_err(|e| format!("{what}: cannot start {}: {e}", child.exe.display()))?;
    if let Some(failure) = ended.failure() {
        return Err(format!("{what}: {failure}: {}", ended.last_stderr_line()));
    }
    let line = ended
        .stdout
        .lines()
        .find_map(|l| l.find(ask.marker).map(|at| &l[at + ask.marker.len()..]))
        .ok_or_else(|| {
            format!(
                "{what}: the child ended without reaching stackheap's entry: expected the program's main to be stackheap::main! (or to serve its children first thing)"
            )
        })?;
    ChildAnswer::read(line, ask, allocator, what)
}

/// The numbers after the name in a child request `<name>\t<n>\t<n>...` read from `var`, when this
/// process is a child started for `name`: `None` when it is not (no request, or one for another
/// name); a malformed request ends the process with one line naming `var` and `expected`.
pub(crate) fn child_request<const N: usize>(
    var: &str,
    name: &str,
    expected: &str,
) -> Option<[u64; N]> {
    let spec = std::env::var(var).ok()?;
    let mut parts = spec.split('\t');
    if parts.next() != Some(name) {
        return None;
    }
    let numbers: Option<Vec<u64>> = parts.map(|p| p.parse().ok()).collect();
    match numbers.and_then(|n| <[u64; N]>::try_from(n).ok()) {
        Some(numbers) => Some(numbers),
        None => {
            say_error(format_args!(
                "error: child: bad {var} '{spec}': expected {expected}"
            ));
            std::process::exit(3)
        }
    }
}

/// Writes one line to this process's stderr handle: a child's last words must reach its parent
/// even when the child is a libtest binary, which captures `eprintln!`.
pub(crate) fn say_error(line: std::fmt::Arguments) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// What `answers` hold, as `own.json` keeps them.
fn entries(answers: &Answers) -> Vec<crate::data::own::OwnEntry> {
    use crate::data::own::{OwnEntry, RecursionEntry};
    let types = answers
        .types
        .iter()
        .map(|t| OwnEntry::Type(t.entry.clone()));
    let recursions = answers.recursions.iter().map(|(r, asked)| {
        OwnEntry::Recursion(RecursionEntry {
            name: r.name.clone(),
            fits: r.fits.clone(),
            asked_inputs: asked.clone(),
        })
    });
    let workloads = answers
        .workloads
        .iter()
        .map(|w| OwnEntry::Workload(w.entry.clone()));
    types.chain(recursions).chain(workloads).collect()
}

/// What `answers` hold as the `own.json` file of this machine.
fn own_file(answers: &Answers) -> crate::data::suite_file::SuiteFile<crate::data::own::OwnEntry> {
    crate::data::suite_file::SuiteFile {
        schema: crate::data::suite_file::SCHEMA,
        kind: "own".into(),
        machine: crate::data::machine::Machine::current(),
        entries: entries(answers),
    }
}

/// The answers in the report's own sentences, one per question (and thread count).
fn answer_lines(answers: &Answers) -> Vec<String> {
    crate::render::report::own_answer_sentences(&own_file(answers))
}

/// Writes what `answers` hold as `target/stackheap/own.json`, where the suite's report can read it
/// into its "Your code" section, and renders the same file into `target/stackheap/your-code/`: the
/// page opens with "Your code"; the suite's own sections are left out, as this program did not run
/// its benches. Returns the report's directory.
fn save(answers: &Answers) -> Result<std::path::PathBuf, String> {
    let own = own_file(answers);
    crate::harness::output::write_suite_file(&own)
        .map_err(|e| format!("cannot write own.json: {e}"))?;
    let env = crate::harness::environment::Environment::new(Some(own.machine.clone()));
    let results = crate::analysis::aggregate::Results {
        own: Some(own),
        ..Default::default()
    };
    let rendered = crate::render::report::render(&results, &env)?;
    let out = crate::data::suite_file::results_dir().join("your-code");
    crate::render::report::write(&out, &rendered)
        .map_err(|e| format!("{}: cannot write the report: {e}", out.display()))?;
    Ok(out)
}

/// In a child: the proof that this process runs on the allocator it was started for, before any
/// time counts; a process that cannot prove it ends with one line.
fn prove_or_exit(question: &str) -> String {
    allocator::prove_chosen().unwrap_or_else(|e| {
        say_error(format_args!(
            "error: {question} child: {e} (is the program's #[global_allocator] stackheap::own::ChosenAllocator?)"
        ));
        std::process::exit(3)
    })
}
