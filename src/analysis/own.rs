//! What the user's own code's measurements say: a type's boxed / stack ratio per allocator
//! (paired by process), the stack a recursion takes per unit of input (a line through its fits)
//! and the ranking of a workload's allocators (ratios paired by session); every ratio given one of
//! four verdicts (slower, faster, equal within the margin, undecided) at the margin its control
//! measured: the same thing timed twice under two names. `render` words them.

use crate::analysis::comparisons::{NOISE_MARGIN, Noise, Ranking, Ratio, rank_rounds};
pub use crate::analysis::engine::Control;
use crate::analysis::stats::{self, Verdict};
use crate::data::own::{OwnEntry, RecursionEntry, StackFit, TypeEntry, TypeRounds, WorkloadEntry};
use crate::workload::allocators::AllocatorKind;

/// What a recursion's fits say together: stack = `fixed_bytes` + `bytes_per_input` x input, fitted
/// by least squares through every (largest input, stack size) measured. With one stack size there
/// is no line to fit: the whole stack is taken as the input's (`fixed_bytes` 0).
#[derive(Clone, Debug, PartialEq)]
pub struct RecursionFit {
    pub name: String,
    pub fits: Vec<StackFit>,
    pub bytes_per_input: f64,
    pub fixed_bytes: f64,
}

impl RecursionFit {
    /// The line through `fits`, or why there is none.
    pub fn new(name: &str, fits: Vec<StackFit>) -> Result<RecursionFit, String> {
        let points: Vec<(f64, f64)> = fits
            .iter()
            .map(|f| (f.largest_input as f64, f.stack_bytes as f64))
            .collect();
        let (bytes_per_input, fixed_bytes) = match points.as_slice() {
            [] => return Err(format!("{name}: no stack size measured: expected at least one")),
            [(n, s)] if *n > 0.0 => (s / n, 0.0),
            [_] => {
                return Err(format!(
                    "{name}: input 1 already overflows the only stack size asked for: expected a larger stack"
                ));
            }
            _ => least_squares(&points).ok_or_else(|| {
                format!("{name}: every stack size gave the same largest input: expected inputs that grow with the stack")
            })?,
        };
        Ok(RecursionFit {
            name: name.to_owned(),
            fits,
            bytes_per_input,
            fixed_bytes,
        })
    }

    /// The stack an input of `input` needs, from the fitted line.
    pub fn stack_for(&self, input: u64) -> u64 {
        (self.fixed_bytes + self.bytes_per_input * input as f64).ceil() as u64
    }

    /// The largest input a `stack_bytes` stack takes, from the fitted line.
    pub fn input_for(&self, stack_bytes: u64) -> u64 {
        ((stack_bytes as f64 - self.fixed_bytes) / self.bytes_per_input)
            .floor()
            .max(0.0) as u64
    }
}

/// Slope and intercept of y = a + b x through `points` (x, y); `None` when every x is the same.
fn least_squares(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    (sxx > 0.0).then(|| {
        let slope = sxy / sxx;
        (slope, mean_y - slope * mean_x)
    })
}

/// The margin of a comparison: its control's, or, for files measured before controls, the spread
/// between processes of `rows` (the suite's noise rule).
fn margin_of(control: Option<Control>, rows: &[&[f64]]) -> f64 {
    control.map_or_else(
        || Noise::of_rows(rows).map_or(NOISE_MARGIN, |n| n.margin),
        |c| c.margin,
    )
}

/// A type on the stack or boxed, under each allocator.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeAnswer {
    /// What was measured, as `own.json` keeps it.
    pub entry: TypeEntry,
    pub rounds: usize,
    /// The stack path timed twice, every allocator's processes pooled; `None` in older files.
    pub control: Option<Control>,
    pub margin: f64,
    pub allocators: Vec<TypeVerdict>,
}

/// One allocator's boxed / stack comparison of a type.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeVerdict {
    pub allocator: AllocatorKind,
    /// The medians of the processes' ns per call.
    pub stack_ns: f64,
    pub boxed_ns: f64,
    /// boxed / stack, paired by process; `None` with fewer than two processes.
    pub ratio: Option<Ratio>,
    /// `Slower`: boxing costs more than the margin; `Faster`: the boxed value is faster; `Equal`:
    /// within the margin; `Undecided`: the run could not tell (or one process only).
    pub verdict: Verdict,
}

/// Decides what a type's rounds say.
pub fn type_answer(t: &TypeEntry) -> TypeAnswer {
    let rows: Vec<&[f64]> = t
        .allocators
        .iter()
        .flat_map(|a| [a.stack_ns.as_slice(), a.boxed_ns.as_slice()])
        .collect();
    let pooled = |f: fn(&TypeRounds) -> &Vec<f64>| -> Vec<f64> {
        t.allocators
            .iter()
            .filter(|a| a.control_ns.len() == a.stack_ns.len())
            .flat_map(|a| f(a).iter().copied())
            .collect()
    };
    let control = Control::of(&pooled(|a| &a.control_ns), &pooled(|a| &a.stack_ns));
    let margin = margin_of(control, &rows);
    let allocators = t
        .allocators
        .iter()
        .map(|a| {
            let ratio = Ratio::paired(&stats::paired_ratios(&a.boxed_ns, &a.stack_ns), margin);
            TypeVerdict {
                allocator: a.allocator,
                stack_ns: stats::median(&a.stack_ns).unwrap_or(f64::NAN),
                boxed_ns: stats::median(&a.boxed_ns).unwrap_or(f64::NAN),
                verdict: ratio.map_or(Verdict::Undecided, |r| r.verdict()),
                ratio,
            }
        })
        .collect();
    TypeAnswer {
        entry: t.clone(),
        rounds: t
            .allocators
            .iter()
            .map(|a| a.stack_ns.len())
            .min()
            .unwrap_or(0),
        control,
        margin,
        allocators,
    }
}

/// A workload's allocators ranked at one thread count.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadRanking {
    pub name: String,
    pub threads: usize,
    pub calls: u64,
    /// Sessions of lock-step workers (rounds of processes in older files).
    pub rounds: usize,
    /// The first allocator measured twice; `None` in older files.
    pub control: Option<Control>,
    pub margin: f64,
    /// Fastest first, each ratio to the fastest paired by session.
    pub ranking: Ranking,
    /// Each allocator's proof of the allocator its processes ran on.
    pub proofs: Vec<(AllocatorKind, String)>,
}

/// Ranks a workload's allocators from its rounds.
pub fn rank_workload(w: &WorkloadEntry) -> WorkloadRanking {
    let rows: Vec<(AllocatorKind, Vec<f64>)> = w
        .allocators
        .iter()
        .map(|a| (a.allocator, a.per_call_ns.clone()))
        .collect();
    let control = rows
        .first()
        .and_then(|(_, reference)| Control::of(&w.control_ns, reference));
    let margin = margin_of(
        control,
        &rows.iter().map(|(_, v)| v.as_slice()).collect::<Vec<_>>(),
    );
    WorkloadRanking {
        name: w.name.clone(),
        threads: w.threads,
        calls: w.calls,
        rounds: rows.iter().map(|(_, v)| v.len()).min().unwrap_or(0),
        control,
        margin,
        ranking: rank_rounds(&rows, margin),
        proofs: w
            .allocators
            .iter()
            .map(|a| (a.allocator, a.proof.clone()))
            .collect(),
    }
}

impl WorkloadRanking {
    /// Whether every allocator's ratio to the fastest has a verdict other than undecided.
    pub fn all_decided(&self) -> bool {
        self.ranking
            .iter()
            .skip(1)
            .all(|r| r.to_best.verdict() != Verdict::Undecided)
    }
}

/// A recursion's line and the stack each input the user asked about needs: (input, stack bytes).
pub type RecursionAnswer = (RecursionFit, Vec<(u64, u64)>);

/// The "Your code" answers: each type's ratios, each recursion's line (or why there is none) and
/// each workload's ranking.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnAnswers {
    pub types: Vec<TypeAnswer>,
    /// Each recursion's line with the stack each asked input needs, or why there is no line.
    pub recursions: Vec<Result<RecursionAnswer, String>>,
    pub workloads: Vec<WorkloadRanking>,
}

/// Decides what `entries` say.
pub fn own_answers(entries: &[OwnEntry]) -> OwnAnswers {
    let mut answers = OwnAnswers {
        types: Vec::new(),
        recursions: Vec::new(),
        workloads: Vec::new(),
    };
    for entry in entries {
        match entry {
            OwnEntry::Type(t) => answers.types.push(type_answer(t)),
            OwnEntry::Recursion(RecursionEntry {
                name,
                fits,
                asked_inputs,
            }) => answers
                .recursions
                .push(RecursionFit::new(name, fits.clone()).map(|fit| {
                    let needs = asked_inputs
                        .iter()
                        .map(|&n| (n, fit.stack_for(n)))
                        .collect();
                    (fit, needs)
                })),
            OwnEntry::Workload(w) => answers.workloads.push(rank_workload(w)),
        }
    }
    answers
}
