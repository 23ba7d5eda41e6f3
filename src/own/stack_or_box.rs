//! Your type: on the stack or boxed? The user's value, built and used by their own closures, timed
//! with the value on the stack and in a `Box` in the same child process (in alternating batches),
//! one process per allocator per round, the rounds interleaved; boxed / stack is paired by process
//! and decided by the suite's one rule.
//!
//! Before its time counts, each process proves what it measures, in the optimised build that is
//! measured: the allocator it runs on (by the allocators' own accounts); that the boxed path
//! allocates exactly one block of `size_of::<T>()` bytes more than the stack path (counted by
//! [`ChosenAllocator`](crate::own::allocator::ChosenAllocator)); and whether `Box::new` built the
//! value on the stack first: a copy of the value's bytes in the stack frame that called
//! `Box::new`, looked for in memory painted beforehand, the same look finding the value in the
//! stack path's frame as a control.

use crate::analysis::own::{TypeAnswer, type_answer};
use crate::analysis::stats::Verdict;
use crate::data::own::{Allocated, TypeEntry, TypeRounds};
use crate::harness::child::ChildCommand;
use crate::own::allocator::count_allocations;
use crate::own::{
    Ask, ChildAnswer, ProcessPlan, answer_parent, ask_child, calls_for_target, check_name,
    child_request, prove_or_exit, say_error, time_calls,
};
use crate::workload::allocators::AllocatorKind;
use std::hint::black_box;
use std::time::Duration;

/// The environment variable that turns this program into a type child:
/// `<name>\t<calls per batch>\t<target ns>` (0 calls: find how many fill the target time).
pub const CHILD_ENV: &str = "STACKHEAP_TYPE_CHILD";
/// The child's last line starts with this, then what [`ChildLine`] holds.
const TIMED: &str = "stackheap-type";
/// Each path is timed in this many batches, alternating with the other path's, the first path
/// swapped batch by batch: a drift within the process (frequency, a neighbour) falls on both.
const BATCHES: u64 = 8;
/// The bytes the stack is painted with before the look for a copy of the value: it looks twice,
/// once over each, so that no value matches the paint itself (a fresh stack's zeros would match a
/// zeroed value; a value made of one paint's bytes cannot match the other's).
const PAINTS: [u8; 2] = [0xA5, 0x5A];
/// Painted beyond the value's own size: the frames of the build and of the look.
const PAINT_BEYOND: usize = 64 << 10;

/// In a child started for type `name`, measures it as asked and ends the process; otherwise
/// returns at once. [`crate::main!`] calls it before anything else runs.
pub fn serve_child<T, R>(
    name: &str,
    build: &(impl Fn() -> T + Sync),
    use_value: &(impl Fn(&T) -> R + Sync),
) {
    let Some([calls, target_ns]) = child_request(CHILD_ENV, name, "<name>\\t<calls>\\t<target ns>")
    else {
        return;
    };
    let fail = |msg: String| -> ! {
        say_error(format_args!("error: type child: {name}: {msg}"));
        std::process::exit(3)
    };
    // The value, its copies and the painted look all live on one thread's stack: room for them
    // whatever the size of T and whatever stack the program's main thread has.
    let stack = 4 * size_of::<T>() + PAINT_BEYOND + (8 << 20);
    let measured = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("stackheap-type".into())
            .stack_size(stack)
            .spawn_scoped(scope, || child_measures(build, use_value, calls, target_ns))
            .map(|h| h.join())
    });
    match measured {
        Ok(Ok(Ok(line))) => answer_parent(TIMED, &line.fields(name)),
        Ok(Ok(Err(msg))) => fail(msg),
        Ok(Err(_)) => fail("the build or the use panicked".into()),
        Err(e) => fail(format!("cannot start a thread with a {stack} B stack: {e}")),
    }
}

/// What one child measured and proved.
#[derive(Clone, Debug, PartialEq)]
struct ChildLine {
    /// Calls per batch; each path ran `BATCHES` batches.
    calls: u64,
    stack_ns: f64,
    boxed_ns: f64,
    control_ns: f64,
    size_bytes: u64,
    type_name: String,
    built_on_stack: bool,
    stack_allocated: Allocated,
    boxed_allocated: Allocated,
    proof: String,
}

impl ChildLine {
    /// Fields of the child's line, the name first and the proof last.
    const FIELDS: usize = 13;

    fn fields(&self, name: &str) -> Vec<String> {
        vec![
            name.to_owned(),
            self.calls.to_string(),
            self.stack_ns.to_string(),
            self.boxed_ns.to_string(),
            self.control_ns.to_string(),
            self.size_bytes.to_string(),
            self.type_name.clone(),
            u8::from(self.built_on_stack).to_string(),
            self.stack_allocated.blocks.to_string(),
            self.stack_allocated.bytes.to_string(),
            self.boxed_allocated.blocks.to_string(),
            self.boxed_allocated.bytes.to_string(),
            self.proof.clone(),
        ]
    }

    fn parse(answer: &ChildAnswer) -> Result<ChildLine, String> {
        let allocated = |i| -> Result<Allocated, String> {
            Ok(Allocated {
                blocks: answer.number(i)?,
                bytes: answer.number(i + 1)?,
            })
        };
        Ok(ChildLine {
            calls: answer.number(1)?,
            stack_ns: answer.number(2)?,
            boxed_ns: answer.number(3)?,
            control_ns: answer.number(4)?,
            size_bytes: answer.number(5)?,
            type_name: answer.text(6),
            built_on_stack: answer.number::<u8>(7)? == 1,
            stack_allocated: allocated(8)?,
            boxed_allocated: allocated(10)?,
            proof: answer.text(12),
        })
    }
}

/// Build and use with the value on this frame's stack. With `look` (the address of a local of a
/// caller), also says whether a copy of the value's bytes lies between here and there: the
/// control of [`boxed`]'s look, as the value is on this stack by construction.
#[inline(never)]
fn on_stack<T, R>(
    build: &impl Fn() -> T,
    use_value: &impl Fn(&T) -> R,
    look: Option<usize>,
) -> bool {
    let value = build();
    let found = look.is_some_and(|top| copy_in_frames_up_to(top, &value));
    black_box(use_value(black_box(&value)));
    found
}

/// Build and use with the value in a `Box`, the same shape as [`on_stack`]: with `look`, says
/// whether a copy of the value's bytes is in the frames up to the caller, that is whether
/// `Box::new` took the value from this frame's stack.
#[inline(never)]
fn boxed<T, R>(build: &impl Fn() -> T, use_value: &impl Fn(&T) -> R, look: Option<usize>) -> bool {
    let value = Box::new(build());
    let found = look.is_some_and(|top| copy_in_frames_up_to(top, &*value));
    black_box(use_value(black_box(&*value)));
    found
}

/// Whether a copy of `value`'s bytes, at its alignment, lies in this thread's stack between this
/// frame and `top`.
#[inline(never)]
fn copy_in_frames_up_to<T>(top: usize, value: &T) -> bool {
    let here = 0u8;
    let bottom = black_box(&here) as *const u8 as usize;
    let Some(len) = top.checked_sub(bottom) else {
        return false;
    };
    let mut frames = vec![0u8; len];
    // SAFETY: [bottom, top) is this thread's stack between a local of this frame and a local of a
    // caller: mapped, and nothing writes it while it is copied (the copy's own frames are below).
    unsafe { std::ptr::copy_nonoverlapping(bottom as *const u8, frames.as_mut_ptr(), len) };
    // SAFETY: `value` is a live T of size_of::<T>() bytes.
    let bytes =
        unsafe { std::slice::from_raw_parts((value as *const T).cast::<u8>(), size_of::<T>()) };
    let align = align_of::<T>();
    (0..=len.saturating_sub(bytes.len()))
        .filter(|offset| (bottom + offset).is_multiple_of(align))
        .any(|offset| frames[offset..].starts_with(bytes))
}

/// Paints `bytes` of the stack below the caller's frame with `with`, so that a copy of the value
/// found there was written there.
#[inline(never)]
fn paint(bytes: usize, with: u8) {
    let mut chunk = [with; 4096];
    black_box(&mut chunk);
    if bytes > chunk.len() {
        paint(bytes - chunk.len(), with);
    }
    black_box(&chunk);
}

/// Whether `path` finds a copy of the value over a stack painted with each of [`PAINTS`]; `path`
/// gets the look's top, in this frame.
fn look(size: usize, mut path: impl FnMut(usize) -> bool) -> bool {
    PAINTS.iter().all(|&with| look_over(size, with, &mut path))
}

#[inline(never)]
fn look_over(size: usize, with: u8, path: &mut dyn FnMut(usize) -> bool) -> bool {
    let top_of_look = 0u8;
    let top = black_box(&top_of_look) as *const u8 as usize;
    paint(size + PAINT_BEYOND, with);
    path(top)
}

/// Whether `Box::new` built the value on the stack first, or why that cannot be told.
fn box_built_on_stack<T, R>(
    build: &impl Fn() -> T,
    use_value: &impl Fn(&T) -> R,
) -> Result<bool, String> {
    let size = size_of::<T>();
    if !look(size, |top| on_stack(build, use_value, Some(top))) {
        return Err(
            "the look for copies of the value did not find it in the stack path's frame, where it is: cannot tell whether Box::new built it on the stack"
            .into());
    }
    Ok(look(size, |top| boxed(build, use_value, Some(top))))
}

/// A child's whole measurement, on a thread of its own.
fn child_measures<T, R>(
    build: &impl Fn() -> T,
    use_value: &impl Fn(&T) -> R,
    calls: u64,
    target_ns: u64,
) -> Result<ChildLine, String> {
    let size_bytes = size_of::<T>() as u64;
    let type_name = std::any::type_name::<T>();
    if size_bytes == 0 {
        return Err(format!(
            "size_of::<{type_name}>() is 0: a zero-sized value takes no stack and Box::new allocates nothing for it"
        ));
    }
    // A warm-up call of each path, which also fixes the allocator; then the proofs.
    on_stack(build, use_value, None);
    boxed(build, use_value, None);
    let proof = prove_or_exit("type");
    let (_, stack_allocated) = count_allocations(|| on_stack(build, use_value, None));
    let (_, boxed_allocated) = count_allocations(|| boxed(build, use_value, None));
    let claimed = Allocated {
        blocks: stack_allocated.blocks + 1,
        bytes: stack_allocated.bytes + size_bytes,
    };
    if boxed_allocated != claimed {
        return Err(format!(
            "the boxed path allocated {} blocks, {} B and the stack path {} blocks, {} B: expected exactly one block of size_of::<{type_name}>() = {size_bytes} B more (an allocation the optimiser removed, or a build that allocates differently call by call?)",
            boxed_allocated.blocks,
            boxed_allocated.bytes,
            stack_allocated.blocks,
            stack_allocated.bytes
        ));
    }
    let built_on_stack = box_built_on_stack(build, use_value)?;
    let batch_target = target_ns / (2 * BATCHES);
    let (calls, _) = calls_for_target(calls, batch_target, |calls| {
        time_calls(calls, || {
            on_stack(build, use_value, None);
        })
    });
    // Three paths in turn, the order rotated batch by batch: the stack path, the boxed path and
    // the stack path again under another name, the control whose ratio to the first is this
    // process's own noise.
    let mut times = [Duration::ZERO; 3];
    for batch in 0..BATCHES {
        for k in 0..3 {
            let path = (k + batch as usize) % 3;
            times[path] += time_calls(calls, || {
                if path == 1 {
                    boxed(build, use_value, None);
                } else {
                    on_stack(build, use_value, None);
                }
            });
        }
    }
    let per_call = |d: Duration| d.as_nanos() as f64 / (calls * BATCHES) as f64;
    Ok(ChildLine {
        calls,
        stack_ns: per_call(times[0]),
        boxed_ns: per_call(times[1]),
        control_ns: per_call(times[2]),
        size_bytes,
        type_name: type_name.to_owned(),
        built_on_stack,
        stack_allocated,
        boxed_allocated,
        proof,
    })
}

/// What one child measured.
fn run_child(
    child: &ChildCommand,
    name: &str,
    allocator: AllocatorKind,
    calls: u64,
    plan: &ProcessPlan,
) -> Result<ChildLine, String> {
    let ask = Ask {
        var: CHILD_ENV,
        marker: TIMED,
        name,
        numbers: &[calls],
        what: name.to_owned(),
        fields: ChildLine::FIELDS,
    };
    ChildLine::parse(&ask_child(child, plan, allocator, &ask)?)
}

/// Measures type `name` (its value built and used on the stack and in a `Box`, by the closures
/// its children were given) under each allocator of `plan`, in child processes started as `child`
/// says, each of which must serve the request with [`serve_child`]. [`crate::own::Questions::stack_or_box`] is the way to ask it from a bench file.
pub fn measure(name: &str, child: &ChildCommand, plan: &ProcessPlan) -> Result<TypeAnswer, String> {
    check_name("type", name)?;
    plan.check(name)?;
    // The same calls in every process: calibrated once, under the first allocator.
    let first = run_child(child, name, plan.allocators[0], 0, plan)?;
    let entry = |measured: &[(AllocatorKind, Vec<ChildLine>)]| TypeEntry {
        name: name.to_owned(),
        type_name: first.type_name.clone(),
        size_bytes: first.size_bytes,
        built_on_stack: first.built_on_stack,
        calls: first.calls * BATCHES,
        allocators: measured
            .iter()
            .map(|(allocator, lines)| TypeRounds {
                allocator: *allocator,
                stack_ns: lines.iter().map(|l| l.stack_ns).collect(),
                boxed_ns: lines.iter().map(|l| l.boxed_ns).collect(),
                control_ns: lines.iter().map(|l| l.control_ns).collect(),
                stack_allocated: lines[0].stack_allocated,
                boxed_allocated: lines[0].boxed_allocated,
                proof: lines[0].proof.clone(),
            })
            .collect(),
    };
    let measured = plan.interleave(
        |allocator| run_child(child, name, allocator, first.calls, plan),
        |so_far| {
            let answer = type_answer(&entry(so_far));
            answer.margin <= plan.target_margin
                && answer
                    .allocators
                    .iter()
                    .all(|a| a.verdict != Verdict::Undecided)
        },
    )?;
    if let Some(other) = measured
        .iter()
        .flat_map(|(_, lines)| lines)
        .find(|l| l.built_on_stack != first.built_on_stack || l.size_bytes != first.size_bytes)
    {
        return Err(format!(
            "{name}: processes of one binary disagree: built on the stack {} and {}, size {} B and {} B: expected one answer",
            first.built_on_stack, other.built_on_stack, first.size_bytes, other.size_bytes
        ));
    }
    Ok(type_answer(&entry(&measured)))
}

#[cfg(test)]
mod tests;
