//! Tests of `recursion`: the fitted line, the bisection against the suite's own depth probe, and
//! the errors a user's function can cause, each named.

use super::*;
use crate::data::depth::ProbeKind;
use crate::harness::depth_probe::{Probe, run_probe};
use std::hint::black_box;

/// The test binary started again at [`recursion_child_entry`].
fn child() -> ChildCommand {
    crate::harness::child::test_child(module_path!(), "recursion_child_entry")
}

/// A recursion whose frame is known: one level keeps a 1 KiB array alive, the very function the
/// suite's depth probe overflows for its 1 KiB frame.
fn frames_1k(levels: u64) {
    black_box(crate::workload::depth::recurse_to(1024, levels));
}

fn panics(input: u64) {
    assert!(input < 3, "the user's function gave up at {input}");
}

fn hangs(_: u64) {
    std::thread::sleep(Duration::from_secs(3600));
}

fn never_deep(_: u64) {}

/// Serves the children the tests below start (does nothing when run as a test itself).
#[test]
fn recursion_child_entry() {
    serve_child("frames_1k", &frames_1k);
    serve_child("panics", &panics);
    serve_child("hangs", &hangs);
    serve_child("never_deep", &never_deep);
}

fn plan(stacks: &[u64]) -> Plan {
    Plan {
        stacks: stacks.to_vec(),
        max_input: 1 << 20,
        timeout: Duration::from_secs(20),
    }
}

#[test]
fn stack_per_level_agrees_with_the_depth_probe_and_predicts_an_unprobed_stack() {
    let fit = measure("frames_1k", &child(), &plan(&[512 << 10, 1 << 20])).unwrap();
    // The suite's own probe of the same frame, in the same kind of thread.
    let depth_child = crate::harness::child::test_child(
        "stackheap::harness::depth_probe::tests",
        "probe_child_entry",
    );
    let probe = run_probe(
        &depth_child,
        &Probe {
            kind: ProbeKind::StdThread,
            stack: Some(1 << 20),
            frame: 1024,
        },
        Duration::from_secs(20),
    );
    let per_level = probe.bytes_per_level.expect("the depth probe measured") as f64;
    let off = (fit.bytes_per_input - per_level).abs() / per_level;
    assert!(
        off < 0.01,
        "stack per level: recursion {:.1} B, depth probe {per_level} B ({:.2}% apart)",
        fit.bytes_per_input,
        off * 100.0
    );
    // 2 MiB was not probed: the line predicts its largest input, then the children measure it.
    let predicted = fit.input_for(2 << 20);
    let measured = measure("frames_1k", &child(), &plan(&[2 << 20])).unwrap();
    let measured = measured.fits[0].largest_input;
    let off = (predicted as f64 - measured as f64).abs() / measured as f64;
    assert!(
        off < 0.01,
        "2 MiB: predicted {predicted} levels, measured {measured} ({:.2}% apart)",
        off * 100.0
    );
    assert!(fit.stack_for(measured) <= (2 << 20) + fit.bytes_per_input as u64 * measured / 100);
}

#[test]
fn a_function_that_panics_hangs_or_never_overflows_is_named() {
    let err = measure("panics", &child(), &plan(&[1 << 20])).unwrap_err();
    assert!(
        err.contains("panics(4) with a 1048576 B stack") && err.contains("exit"),
        "{err}"
    );
    let mut short = plan(&[1 << 20]);
    short.timeout = Duration::from_millis(500);
    let err = measure("hangs", &child(), &short).unwrap_err();
    assert!(err.contains("hangs(1)") && err.contains("hung"), "{err}");
    let mut small = plan(&[1 << 20]);
    small.max_input = 64;
    let err = measure("never_deep", &child(), &small).unwrap_err();
    assert!(err.contains("input 64 still fits"), "{err}");
}

#[test]
fn a_child_that_never_reaches_the_entry_is_named_not_counted_as_a_fit() {
    let err = measure("unserved", &child(), &plan(&[1 << 20])).unwrap_err();
    assert!(
        err.contains("without reaching stackheap's recursion entry"),
        "{err}"
    );
}

#[test]
fn impossible_plans_are_refused_in_one_line() {
    let err = measure("frames_1k", &child(), &plan(&[4096])).unwrap_err();
    assert!(err.contains("expected at least 16 KiB"), "{err}");
    let err = measure("a\tb", &child(), &plan(&[1 << 20])).unwrap_err();
    assert!(err.contains("without tabs"), "{err}");
}

#[test]
fn the_line_through_two_stacks_has_their_slope_and_one_stack_gives_its_ratio() {
    let fit = RecursionFit::new(
        "x",
        vec![
            StackFit {
                stack_bytes: 1000,
                largest_input: 90,
                children: 1,
            },
            StackFit {
                stack_bytes: 2000,
                largest_input: 190,
                children: 1,
            },
        ],
    )
    .unwrap();
    assert_eq!((fit.bytes_per_input, fit.fixed_bytes), (10.0, 100.0));
    assert_eq!(fit.input_for(3000), 290);
    assert_eq!(fit.stack_for(290), 3000);
    let one = RecursionFit::new(
        "x",
        vec![StackFit {
            stack_bytes: 1000,
            largest_input: 100,
            children: 1,
        }],
    )
    .unwrap();
    assert_eq!((one.bytes_per_input, one.fixed_bytes), (10.0, 0.0));
}
