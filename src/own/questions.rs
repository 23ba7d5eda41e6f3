//! One registration for the three questions: each is declared once (its kind, name, closures and
//! options) in a function the user hands to [`crate::main!`]; the one entry point serves a child
//! before anything else runs, so a child can only ever answer the question it was started for, and
//! measures in the parent, beside the user's Criterion groups in the same binary.

use crate::analysis::own::{RecursionFit, TypeAnswer};
use crate::harness::child::ChildCommand;
use crate::own::args::Args;
use crate::own::workload::{WorkloadPlan, WorkloadResult};
use crate::own::{ProcessPlan, allocator, recursion, stack_or_box, workload};
use crate::workload::allocators::AllocatorKind;
use std::path::PathBuf;

/// The three kinds of question, as names, request variables and messages spell them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Type,
    Recursion,
    Workload,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Type, Kind::Recursion, Kind::Workload];

    fn name(self) -> &'static str {
        match self {
            Kind::Type => "stack_or_box",
            Kind::Recursion => "recursion",
            Kind::Workload => "workload",
        }
    }

    /// The environment variable that starts a child (or worker) of this kind, its value starting
    /// with the question's name.
    fn child_env(self) -> &'static str {
        match self {
            Kind::Type => stack_or_box::CHILD_ENV,
            Kind::Recursion => recursion::CHILD_ENV,
            Kind::Workload => workload::WORKER_ENV,
        }
    }

    /// Whether its children run on the allocator they are started for.
    fn needs_chosen_allocator(self) -> bool {
        self != Kind::Recursion
    }
}

/// What a question found, before it joins the [`Answers`].
enum Found {
    Type(TypeAnswer),
    Recursion(RecursionFit),
    Workload(Vec<WorkloadResult>),
}

/// How the parent runs a question: the allocators, and whether this is a test run (a small plan).
struct Run<'a> {
    child: &'a ChildCommand,
    allocators: &'a [AllocatorKind],
    small: bool,
}

/// Each gets the question's name, kept once in [`Question`].
type Serve = Box<dyn Fn(&str)>;
type Ask = Box<dyn Fn(&str, &Run, &Options) -> Result<Found, String>>;

/// One registered question.
struct Question {
    kind: Kind,
    name: String,
    options: Options,
    /// In a child started for this question: answers it and ends the process.
    serve: Serve,
    /// In the parent: measures it.
    ask: Ask,
}

/// A question's options, set with the methods that [`Questions`] returns; an option that does not
/// belong to the question's kind is refused with one line when the program starts.
#[derive(Clone, Debug, Default)]
pub struct Options {
    stacks: Option<Vec<u64>>,
    needs: Vec<u64>,
    max_input: Option<u64>,
    threads: Option<Vec<usize>>,
    /// The options set, in order, for the check against the kind.
    set: Vec<&'static str>,
}

impl Options {
    /// Recursion: the thread stack sizes to find the largest input for, in bytes (default 256 KiB,
    /// 1 MiB, 2 MiB, 8 MiB; a test run takes the two smallest).
    pub fn stacks(&mut self, bytes: &[u64]) -> &mut Options {
        self.set.push("stacks");
        self.stacks = Some(bytes.to_vec());
        self
    }

    /// Recursion: inputs whose stack the answer should give (the stack 10,000 levels need).
    pub fn needs(&mut self, inputs: &[u64]) -> &mut Options {
        self.set.push("needs");
        self.needs = inputs.to_vec();
        self
    }

    /// Recursion: the largest input to try (default 2^32): a function that still fits there is
    /// reported as an error, not probed further.
    pub fn max_input(&mut self, input: u64) -> &mut Options {
        self.set.push("max_input");
        self.max_input = Some(input);
        self
    }

    /// Workload: the thread counts handed to the workload (default 1 and 2).
    pub fn threads(&mut self, counts: &[usize]) -> &mut Options {
        self.set.push("threads");
        self.threads = Some(counts.to_vec());
        self
    }

    /// Why an option set does not belong to `kind`, if one does not.
    fn check(&self, kind: Kind, name: &str) -> Result<(), String> {
        let allowed: &[&str] = match kind {
            Kind::Type => &[],
            Kind::Recursion => &["stacks", "needs", "max_input"],
            Kind::Workload => &["threads"],
        };
        match self.set.iter().find(|o| !allowed.contains(o)) {
            Some(option) => Err(format!(
                "{} '{name}': .{option}() is not an option of this kind of question (its options: {})",
                kind.name(),
                if allowed.is_empty() {
                    "none".to_owned()
                } else {
                    allowed
                        .iter()
                        .map(|o| format!(".{o}()"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )),
            None => Ok(()),
        }
    }
}

/// The questions a program asks of its own code, each registered once with its name and closures.
/// Closures are `'static` (functions, or closures that own what they use) because the entry point
/// keeps them to serve children and to measure.
///
/// ```no_run
/// use stackheap::own::Questions;
///
/// #[global_allocator]
/// static GLOBAL: stackheap::own::ChosenAllocator = stackheap::own::ChosenAllocator;
///
/// fn depth(levels: u64) -> u64 {
///     if levels == 0 { 0 } else { 1 + depth(std::hint::black_box(levels - 1)) }
/// }
///
/// fn questions(ask: &mut Questions) {
///     ask.stack_or_box("account", || [7u64; 32], |a| a.iter().sum::<u64>());
///     ask.recursion("depth", |n| { std::hint::black_box(depth(n)); }).needs(&[100_000]);
///     ask.workload("maps", |threads| {
///         std::thread::scope(|s| {
///             for t in 0..threads {
///                 s.spawn(move || {
///                     let m: std::collections::HashMap<u64, String> =
///                         (0..1000).map(|i| (i, format!("{t}-{i}"))).collect();
///                     std::hint::black_box(m.len());
///                 });
///             }
///         });
///     });
/// }
///
/// stackheap::main!(questions);
/// ```
#[derive(Default)]
pub struct Questions {
    list: Vec<Question>,
}

impl Questions {
    fn add(
        &mut self,
        kind: Kind,
        name: &str,
        serve: impl Fn(&str) + 'static,
        ask: impl Fn(&str, &Run, &Options) -> Result<Found, String> + 'static,
    ) -> &mut Options {
        self.list.push(Question {
            kind,
            name: name.to_owned(),
            options: Options::default(),
            serve: Box::new(serve),
            ask: Box::new(ask),
        });
        &mut self.list.last_mut().expect("just pushed").options
    }

    /// Your type: should it be kept on the stack or boxed? `build` makes a value, `use_value` uses
    /// it (its result is kept from the optimiser); both run with the value on the stack and in a
    /// `Box`, under each allocator of `STACKHEAP_ALLOCATORS`, in processes of their own.
    pub fn stack_or_box<T: 'static, R: 'static>(
        &mut self,
        name: &str,
        build: impl Fn() -> T + Sync + 'static,
        use_value: impl Fn(&T) -> R + Sync + 'static,
    ) -> &mut Options {
        let serve = move |name: &str| stack_or_box::serve_child(name, &build, &use_value);
        let ask = |name: &str, run: &Run, _: &Options| {
            let plan = ProcessPlan {
                allocators: run.allocators.to_vec(),
                ..ProcessPlan::default()
            };
            let plan = if run.small { plan.small() } else { plan };
            stack_or_box::measure(name, run.child, &plan).map(Found::Type)
        };
        self.add(Kind::Type, name, serve, ask)
    }

    /// Your recursion: how deep can it go? `f` runs on an input size (a nesting depth, a tree
    /// height) in a thread of each stack size, overflowing for real in child processes; the answer
    /// is the largest input per stack size and the stack per unit of input.
    pub fn recursion(&mut self, name: &str, f: impl Fn(u64) + Sync + 'static) -> &mut Options {
        let serve = move |name: &str| recursion::serve_child(name, &f);
        let ask = |name: &str, run: &Run, options: &Options| {
            let default = recursion::Plan::default();
            let mut stacks = options.stacks.clone().unwrap_or(default.stacks);
            if run.small {
                stacks.sort_unstable();
                stacks.truncate(2);
            }
            let plan = recursion::Plan {
                stacks,
                max_input: options.max_input.unwrap_or(default.max_input),
                ..default
            };
            recursion::measure(name, run.child, &plan).map(Found::Recursion)
        };
        self.add(Kind::Recursion, name, serve, ask)
    }

    /// Your multi-threaded workload: which allocator does it want? `f` runs the workload on the
    /// number of threads it is given; each allocator runs it in a worker process of its own, the
    /// workers sampled in lock-step.
    pub fn workload(&mut self, name: &str, f: impl Fn(usize) + Sync + 'static) -> &mut Options {
        let serve = move |name: &str| workload::serve_worker(name, &f);
        let ask = |name: &str, run: &Run, options: &Options| {
            let default = WorkloadPlan::default();
            let plan = WorkloadPlan {
                threads: options.threads.clone().unwrap_or(default.threads.clone()),
                allocators: run.allocators.to_vec(),
                ..default
            };
            let plan = if run.small { plan.small() } else { plan };
            workload::measure(name, run.child, &plan, |line| {
                eprintln!("stackheap: {line}")
            })
            .map(Found::Workload)
        };
        self.add(Kind::Workload, name, serve, ask)
    }

    /// Why the registration cannot run, if it cannot: a bad or duplicate name, an option of
    /// another kind.
    fn check(&self) -> Result<(), Error> {
        for (i, q) in self.list.iter().enumerate() {
            crate::own::check_name(q.kind.name(), &q.name).map_err(Error::Input)?;
            q.options.check(q.kind, &q.name).map_err(Error::Input)?;
            if let Some(first) = self.list[..i].iter().find(|p| p.name == q.name) {
                return Err(Error::Input(format!(
                    "question name '{}' is registered twice ({} and {}): expected each name once",
                    q.name,
                    first.kind.name(),
                    q.kind.name()
                )));
            }
        }
        Ok(())
    }

    /// In a child or worker started for one of these questions: serves it and ends the process. A
    /// child started for a name no question of its kind registers is an error, returned.
    fn serve_if_child(&self) -> Result<(), Error> {
        for kind in Kind::ALL {
            let Some(request) = std::env::var_os(kind.child_env()) else {
                continue;
            };
            let request = request.to_string_lossy();
            let name = request.split('\t').next().unwrap_or_default();
            let Some(question) = self.list.iter().find(|q| q.kind == kind && q.name == name) else {
                let registered: Vec<&str> = self
                    .list
                    .iter()
                    .filter(|q| q.kind == kind)
                    .map(|q| q.name.as_str())
                    .collect();
                return Err(Error::Input(format!(
                    "this process was started as a child for the {} question '{name}' ({}), which this program does not register: expected one of [{}]",
                    kind.name(),
                    kind.child_env(),
                    registered.join(", ")
                )));
            };
            (question.serve)(&question.name);
            return Err(Error::Input(format!(
                "{}: the child for '{name}' did not end where it is served",
                kind.child_env()
            )));
        }
        Ok(())
    }

    /// Measures the questions `args` selects and returns what they found.
    fn ask(&self, args: &Args) -> Result<Answers, Error> {
        let selected: Vec<&Question> = self.list.iter().filter(|q| args.selects(&q.name)).collect();
        let mut answers = Answers::default();
        if selected.is_empty() {
            return Ok(answers);
        }
        if selected.iter().any(|q| q.kind.needs_chosen_allocator()) && !allocator::installed() {
            return Err(Error::Input(
                "the program's global allocator is not stackheap's: expected `#[global_allocator] static GLOBAL: stackheap::own::ChosenAllocator = stackheap::own::ChosenAllocator;` in the bench file (the stack_or_box and workload questions run each process on the allocator they compare)".into(),
            ));
        }
        let allocators =
            crate::harness::settings::allocators_from_env().map_err(|e| Error::Input(e.0))?;
        let child = ChildCommand {
            exe: std::env::current_exe()
                .map_err(|e| Error::Input(format!("cannot find this program's path: {e}")))?,
            args: std::env::args().skip(1).collect(),
        };
        let run = Run {
            child: &child,
            allocators: &allocators,
            small: args.small(),
        };
        for q in selected {
            eprintln!(
                "stackheap: asking {} '{}'{}",
                q.kind.name(),
                q.name,
                if run.small {
                    " (a small plan: test mode)"
                } else {
                    ""
                }
            );
            match (q.ask)(&q.name, &run, &q.options).map_err(Error::Measure)? {
                Found::Type(t) => answers.types.push(t),
                Found::Recursion(r) => answers.recursions.push((r, q.options.needs.clone())),
                Found::Workload(w) => answers.workloads.extend(w),
            }
        }
        Ok(answers)
    }
}

/// What the questions found: printed as a summary, saved as `target/stackheap/own.json` with a
/// report that opens with "Your code".
#[derive(Clone, Debug, Default)]
pub struct Answers {
    /// Each type, on the stack or boxed, under each allocator.
    pub types: Vec<TypeAnswer>,
    /// Each recursion, with the inputs whose stack the report gives.
    pub recursions: Vec<(RecursionFit, Vec<u64>)>,
    /// Each workload at each thread count.
    pub workloads: Vec<WorkloadResult>,
}

impl Answers {
    /// Whether no question was measured.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty() && self.recursions.is_empty() && self.workloads.is_empty()
    }

    /// Writes `target/stackheap/own.json` and the report of it into
    /// `target/stackheap/your-code/` (`index.html`, `report.md`, `results.json`); returns the
    /// report's directory.
    pub fn save(&self) -> Result<PathBuf, Error> {
        crate::own::save(self).map_err(Error::Write)
    }
}

impl std::fmt::Display for Answers {
    /// One line per answer, the report's own sentences.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for line in crate::own::answer_lines(self) {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

/// What went wrong, in one line; [`Error::exit_code`] says how the program ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The program or its environment is not as expected (a duplicate or unknown name, a missing
    /// global allocator, a bad setting): nothing was measured. Exit status 2.
    Input(String),
    /// A measurement failed: a function panicked, hung or did not overflow, a child died. Exit 1.
    Measure(String),
    /// The results could not be written. Exit 1.
    Write(String),
}

impl Error {
    /// How the program ends: 2 for bad input (nothing was measured), 1 for a failed measurement
    /// or write.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) => 2,
            Error::Measure(_) | Error::Write(_) => 1,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Input(m) | Error::Measure(m) | Error::Write(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

/// The entry point [`crate::main!`] expands to: registers the questions, serves a child before
/// anything else, then measures the questions the command line selects (a small plan in test
/// mode), prints and saves their answers, and runs the Criterion groups. Every failure is one line
/// on stderr and a non-zero exit.
pub fn run(register: fn(&mut Questions), criterion_groups: &[fn()]) {
    if let Err(e) = run_questions(register) {
        crate::own::say_error(format_args!("error: {e}"));
        std::process::exit(e.exit_code());
    }
    for group in criterion_groups {
        group();
    }
    if !criterion_groups.is_empty() {
        criterion::Criterion::default()
            .configure_from_args()
            .final_summary();
    }
}

fn run_questions(register: fn(&mut Questions)) -> Result<(), Error> {
    let mut questions = Questions::default();
    register(&mut questions);
    questions.check()?;
    questions.serve_if_child()?;
    let args = Args::parse(&std::env::args().collect::<Vec<_>>())?;
    if args.list {
        for q in questions.list.iter().filter(|q| args.selects(&q.name)) {
            println!("{}: bench", q.name);
        }
        return Ok(());
    }
    let answers = questions.ask(&args)?;
    if answers.is_empty() {
        return Ok(());
    }
    print!("{answers}");
    let report = answers.save()?;
    println!(
        "stackheap: wrote {} and the report: open {}",
        crate::data::suite_file::results_dir()
            .join("own.json")
            .display(),
        report.join("index.html").display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplicate_name_and_an_option_of_another_kind_are_refused_in_one_line() {
        let mut q = Questions::default();
        q.recursion("nest", |_| {});
        q.workload("nest", |_| {});
        let e = q.check().unwrap_err();
        assert_eq!(
            e,
            Error::Input(
                "question name 'nest' is registered twice (recursion and workload): expected each name once".into()
            )
        );
        let mut q = Questions::default();
        q.workload("index", |_| {}).stacks(&[1 << 20]);
        let e = q.check().unwrap_err().to_string();
        assert_eq!(
            e,
            "workload 'index': .stacks() is not an option of this kind of question (its options: .threads())"
        );
        let mut q = Questions::default();
        q.stack_or_box("bad\tname", || 1u8, |v| *v);
        assert!(q.check().unwrap_err().to_string().contains("without tabs"));
    }
}
