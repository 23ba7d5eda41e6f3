//! Your type on the stack or boxed: this test binary runs on `ChosenAllocator` and measures a
//! 256-byte value in child processes of itself under every allocator; each child proves its
//! allocator, counts one more block of exactly 256 B on the boxed path, and looks for the copy
//! `Box::new` made on the stack. A build that allocates differently call by call and a zero-sized
//! type are refused with one line.

use stackheap::harness::child::ChildCommand;
use stackheap::own::ProcessPlan;
use stackheap::own::allocator::ChosenAllocator;
use stackheap::own::stack_or_box::measure;
use stackheap::workload::allocators::AllocatorKind;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[global_allocator]
static GLOBAL: ChosenAllocator = ChosenAllocator;

/// 256 bytes with a name on the heap: building it allocates, as a user's type may.
struct Account {
    name: String,
    history: [u64; 29],
}

/// Returned through a call the optimiser may not inline, so `Box::new` takes it from the stack.
#[inline(never)]
fn open_account() -> Account {
    let seed = black_box(41u64);
    Account {
        name: format!("account-{seed}"),
        history: std::array::from_fn(|i| seed * i as u64 + 1),
    }
}

fn balance(a: &Account) -> u64 {
    a.history.iter().sum::<u64>() + a.name.len() as u64
}

static CALLS: AtomicUsize = AtomicUsize::new(0);

/// Allocates one more byte every call: the boxed path cannot be told from the stack path's by one
/// block of the type's size.
fn uneven() -> Vec<u8> {
    vec![1; CALLS.fetch_add(1, Ordering::Relaxed) + 1]
}

#[test]
fn type_child_entry() {
    stackheap::own::stack_or_box::serve_child("account", &open_account, &balance);
    stackheap::own::stack_or_box::serve_child("uneven", &uneven, &|v: &Vec<u8>| v.len());
    stackheap::own::stack_or_box::serve_child("unit", &|| (), &|_: &()| 0);
}

fn child() -> ChildCommand {
    ChildCommand {
        exe: std::env::current_exe().unwrap(),
        args: vec![
            "type_child_entry".into(),
            "--exact".into(),
            "--test-threads=1".into(),
        ],
    }
}

fn plan() -> ProcessPlan {
    ProcessPlan {
        allocators: AllocatorKind::ALL.to_vec(),
        rounds: 3,
        max_rounds: 3,
        target: Duration::from_millis(20),
        ..ProcessPlan::default()
    }
}

#[test]
fn a_type_is_timed_on_the_stack_and_boxed_in_interleaved_processes_each_proven() {
    let answer = measure("account", &child(), &plan()).unwrap();
    let entry = &answer.entry;
    assert_eq!(entry.size_bytes, 256);
    assert!(entry.type_name.ends_with("Account"), "{}", entry.type_name);
    assert!(
        entry.built_on_stack,
        "returned by a call: moved from the stack"
    );
    assert_eq!(answer.allocators.len(), AllocatorKind::ALL.len());
    for (rounds, verdict) in entry.allocators.iter().zip(&answer.allocators) {
        let kind = rounds.allocator;
        assert_eq!(rounds.stack_ns.len(), 3, "{kind}: one process per round");
        assert_eq!(
            rounds.control_ns.len(),
            3,
            "{kind}: the control from the same processes"
        );
        assert!(
            rounds.proof.starts_with(&format!("runs on {kind} ")),
            "{}",
            rounds.proof
        );
        // The name's String on both paths, and the box on one: one block of 256 B more.
        assert!(rounds.stack_allocated.blocks >= 1, "{kind}: {rounds:?}");
        assert_eq!(
            rounds.boxed_allocated.blocks,
            rounds.stack_allocated.blocks + 1
        );
        assert_eq!(
            rounds.boxed_allocated.bytes,
            rounds.stack_allocated.bytes + 256
        );
        let ratio = verdict.ratio.expect("three processes pair");
        assert_eq!(ratio.processes, 3);
        eprintln!(
            "{kind}: stack {:.1} ns, boxed {:.1} ns, boxed / stack {}",
            verdict.stack_ns,
            verdict.boxed_ns,
            ratio.text()
        );
    }
}

#[test]
fn a_build_that_allocates_differently_each_call_is_refused_with_one_line() {
    let err = measure("uneven", &child(), &plan()).unwrap_err();
    assert!(err.starts_with("uneven under "), "{err}");
    assert!(
        err.contains("expected exactly one block of size_of::<alloc::vec::Vec<u8>>() = 24 B more"),
        "{err}"
    );
}

#[test]
fn a_zero_sized_type_is_refused_with_one_line() {
    let err = measure("unit", &child(), &plan()).unwrap_err();
    assert!(err.contains("size_of::<()>() is 0"), "{err}");
    assert!(!err.contains('\n'), "{err}");
}
