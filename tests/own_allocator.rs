//! The allocator chosen per process: this test binary runs on `ChosenAllocator`, starts itself
//! again under each allocator's name, and each child proves by the allocators' own accounts that it
//! ran on the one it names; an unknown name ends the child with one line before anything runs.

use stackheap::own::allocator::{
    ALLOCATOR_ENV, ChosenAllocator, LIBRARY_ENV, child_env, chosen, prove_chosen,
};
use stackheap::workload::allocators::AllocatorKind;
use std::process::Command;

#[global_allocator]
static GLOBAL: ChosenAllocator = ChosenAllocator;

/// In a child (the parent sets the variable), proves the choice and prints the evidence.
#[test]
fn child_entry() {
    if std::env::var_os("STACKHEAP_TEST_CHILD").is_none() {
        return;
    }
    // Ordinary allocations of the user's kind, through the global allocator.
    let map: std::collections::HashMap<u64, Vec<u8>> =
        (0..1000).map(|i| (i, vec![i as u8; 100])).collect();
    assert_eq!(map.len(), 1000);
    match prove_chosen() {
        Ok(evidence) => println!("PROOF {} {evidence}", chosen()),
        Err(e) => println!("CONTRADICTED {e}"),
    }
}

fn child(allocator: &str) -> std::process::Output {
    Command::new(std::env::current_exe().unwrap())
        .args(["child_entry", "--exact", "--nocapture", "--test-threads=1"])
        .env("STACKHEAP_TEST_CHILD", "1")
        .env(ALLOCATOR_ENV, allocator)
        .output()
        .unwrap()
}

#[test]
fn each_process_runs_on_the_allocator_it_names_by_the_allocators_own_accounts() {
    for kind in AllocatorKind::ALL {
        let out = child(kind.name());
        let stdout = String::from_utf8_lossy(&out.stdout);
        // libtest writes the test's name before its output on the same line.
        let line = stdout
            .lines()
            .find_map(|l| {
                let at = l.find("PROOF").or_else(|| l.find("CONTRADICTED"))?;
                Some(&l[at..])
            })
            .unwrap_or_else(|| {
                panic!(
                    "{kind}: no proof line: {stdout} {}",
                    String::from_utf8_lossy(&out.stderr)
                )
            });
        assert!(
            line.starts_with(&format!("PROOF {kind} runs on {kind}")),
            "{kind}: {line}"
        );
        // Every allocator that keeps an account was asked; the chosen one served the block.
        assert!(line.contains(&format!("{kind} ")), "{line}");
        eprintln!("{line}");
    }
}

/// The C library under a second name stands in for a library named at run time (preloading it
/// changes nothing, and its malloc is where the loader says).
fn libc_again() -> AllocatorKind {
    use stackheap::workload::allocators::library;
    let (libc, _) = library::defined_in(c"gnu_get_libc_version").expect("the C library");
    AllocatorKind::Library(library::register("libc-again", Some(libc)).unwrap())
}

/// The proof line a child started with `env` printed.
fn proof_line(env: Vec<(String, String)>) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["child_entry", "--exact", "--nocapture", "--test-threads=1"])
        .env("STACKHEAP_TEST_CHILD", "1")
        .envs(env)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|l| {
            let at = l.find("PROOF").or_else(|| l.find("CONTRADICTED"))?;
            Some(l[at..].to_owned())
        })
        .unwrap_or_else(|| panic!("no proof line: {stdout}"))
}

#[test]
fn a_child_on_a_library_runs_on_system_with_it_preloaded_and_proves_it_by_the_loader() {
    let line = proof_line(child_env(libc_again()));
    assert!(
        line.starts_with("PROOF system runs on libc-again (malloc at 0x")
            && line.contains("libc.so.6"),
        "{line}"
    );
    // A library the allocators list does not name is contradicted, in one line.
    let line = proof_line(vec![
        (ALLOCATOR_ENV.into(), "system".into()),
        (LIBRARY_ENV.into(), "nosuch".into()),
    ]);
    assert!(
        line.starts_with("CONTRADICTED STACKHEAP_CHILD_LIBRARY=nosuch: not a library"),
        "{line}"
    );
}

#[test]
fn an_unknown_allocator_name_is_one_line_and_exit_2() {
    let out = child("tcmalloc");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim(),
        format!(
            "error: STACKHEAP_CHILD_ALLOCATOR=tcmalloc: unknown allocator: expected one of {}",
            AllocatorKind::names()
        )
    );
}

/// The user's own workload: builds and reads a map of owned strings on `threads` threads, through
/// the global allocator.
fn build_maps(threads: usize) {
    std::thread::scope(|scope| {
        for t in 0..threads {
            scope.spawn(move || {
                let map: std::collections::HashMap<String, Vec<u64>> = (0..200)
                    .map(|i| (format!("key-{t}-{i}"), vec![i; 8]))
                    .collect();
                std::hint::black_box(map.values().map(|v| v[0]).sum::<u64>());
            });
        }
    });
}

#[test]
fn workload_worker_entry() {
    stackheap::own::workload::serve_worker("build_maps", &build_maps);
}

#[test]
fn a_workload_is_ranked_from_lock_step_workers_each_proven_on_its_allocator() {
    use stackheap::harness::child::ChildCommand;
    use stackheap::own::workload::{WorkloadPlan, measure};
    let child = ChildCommand {
        exe: std::env::current_exe().unwrap(),
        args: vec![
            "workload_worker_entry".into(),
            "--exact".into(),
            "--test-threads=1".into(),
            // Quiet: libtest writes no "test ... " before the worker's first line.
            "-q".into(),
        ],
    };
    // The built-in allocators and a library named at run time, in a worker it is preloaded in.
    let allocators: Vec<AllocatorKind> = AllocatorKind::ALL
        .into_iter()
        .chain([libc_again()])
        .collect();
    let plan = WorkloadPlan {
        threads: vec![1, 2],
        allocators: allocators.clone(),
        ..WorkloadPlan::default().small()
    };
    let mut heard = Vec::new();
    let results = measure("build_maps", &child, &plan, |line| {
        heard.push(line.to_owned())
    })
    .unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(
        heard.len(),
        2,
        "one progress line per thread count: {heard:?}"
    );
    for r in &results {
        let e = &r.entry;
        assert!(e.calls >= 1);
        assert_eq!(r.ranking.ranking.len(), allocators.len(), "{r:?}");
        for a in &e.allocators {
            assert_eq!(
                a.per_call_ns.len(),
                2,
                "{}: one figure per session",
                a.allocator
            );
            assert!(a.per_call_ns.iter().all(|t| *t > 0.0));
            assert!(
                a.proof.starts_with(&format!("runs on {} ", a.allocator)),
                "{}",
                a.proof
            );
        }
        // The control: the first allocator's second worker, one figure per session.
        assert_eq!(e.control_ns.len(), 2);
        assert!(r.ranking.control.is_some(), "{r:?}");
        // The fastest is the reference: its ratio to itself is exactly 1.
        assert_eq!(r.ranking.ranking[0].to_best.ratio, 1.0);
    }
    let err = measure(
        "build_maps",
        &child,
        &WorkloadPlan {
            allocators: vec![AllocatorKind::System],
            ..plan.clone()
        },
        |_| {},
    )
    .unwrap_err();
    assert!(err.contains("expected at least 2 allocators"), "{err}");
}
