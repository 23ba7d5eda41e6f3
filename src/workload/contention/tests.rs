//! Tests of the contention workloads together: each frees what it allocates, through the allocator
//! it is given, on the threads its description names.

use super::blocks::SLOTS;
use super::cross_thread_free::{BATCH, cross_thread_free, fixed_object_size};
use super::larson::larson;
use super::local_churn::local_churn;
use super::producer_consumer::{PC_BATCH, PC_OBJECTS_PER_ROUND, producer_consumer};
use super::producer_consumer_foreign::producer_consumer_foreign;
use super::runner::run_workers_with_stacks;
use super::stack_control::stack_control;
use super::thread_churn::{CHURN_OBJECTS, thread_churn};
use super::*;
use crate::workload::allocators::{Counting, Jemalloc, MiMalloc, System};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::thread::ThreadId;
use std::time::Duration;

#[test]
fn the_derived_order_is_the_order_reports_list() {
    assert!(Workload::ALL.is_sorted());
}

#[test]
fn names_are_unique_and_read_back() {
    let names: HashSet<&str> = Workload::ALL.iter().map(|w| w.name()).collect();
    assert_eq!(names.len(), Workload::ALL.len());
    for w in Workload::ALL {
        assert_eq!(Workload::from_name(w.name()), Some(w));
        let json = serde_json::to_string(&w).unwrap();
        assert_eq!(json, format!("\"{}\"", w.name()));
        assert_eq!(serde_json::from_str::<Workload>(&json).unwrap(), w);
    }
    let err = serde_json::from_str::<Workload>("\"nope\"").unwrap_err();
    assert!(
        err.to_string().contains("expected one of local_churn"),
        "{err}"
    );
}

#[test]
fn every_workload_frees_everything_it_allocates_through_the_named_allocator() {
    for workload in Workload::ALL {
        for threads in [1, 3] {
            let counting = Counting::new(MiMalloc);
            let (elapsed, sum) = workload.run(&counting, threads, 2).unwrap();
            let c = counting.counts();
            assert!(c.balanced(), "{} t{threads}: {c:?}", workload.name());
            assert!(sum > 0 && elapsed > Duration::ZERO, "{}", workload.name());
            if workload == Workload::StackControl {
                assert_eq!(c.allocs, 0, "stack_control must not touch the heap");
            } else {
                // Each round really allocates: at least one block per replacement / object / item.
                let per_round = workload.ops_per_round(threads) / 2;
                assert!(
                    c.allocs >= 2 * per_round,
                    "{} t{threads}: {c:?}",
                    workload.name()
                );
            }
        }
    }
}

#[test]
fn ops_per_round_counts_allocations_and_frees() {
    let counting = Counting::new(Jemalloc);
    local_churn(&counting, 2, 3).unwrap();
    let c = counting.counts();
    // 3 rounds of replacements (one alloc + one free each), plus setup: SLOTS blocks + the table.
    let setup = 2 * (SLOTS as u64 + 1);
    assert_eq!(
        c.allocs + c.frees,
        3 * Workload::LocalChurn.ops_per_round(2) + 2 * setup
    );
}

/// Records which thread allocated each block, counts frees made by another thread, and the sets of
/// threads that allocated and that freed.
struct ThreadTracking<A> {
    inner: A,
    owners: Mutex<HashMap<usize, ThreadId>>,
    allocating_threads: Mutex<HashSet<ThreadId>>,
    freeing_threads: Mutex<HashSet<ThreadId>>,
    remote_frees: std::sync::atomic::AtomicU64,
    local_frees: std::sync::atomic::AtomicU64,
}

unsafe impl<A: GlobalAlloc> GlobalAlloc for ThreadTracking<A> {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let ptr = unsafe { self.inner.alloc(layout) };
        let me = std::thread::current().id();
        self.owners.lock().unwrap().insert(ptr as usize, me);
        self.allocating_threads.lock().unwrap().insert(me);
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        self.freeing_threads
            .lock()
            .unwrap()
            .insert(std::thread::current().id());
        let owner = self.owners.lock().unwrap().remove(&(ptr as usize));
        let counter = if owner == Some(std::thread::current().id()) {
            &self.local_frees
        } else {
            &self.remote_frees
        };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        unsafe { self.inner.dealloc(ptr, layout) }
    }
}

fn tracking() -> ThreadTracking<System> {
    ThreadTracking {
        inner: System,
        owners: Mutex::new(HashMap::new()),
        allocating_threads: Mutex::new(HashSet::new()),
        freeing_threads: Mutex::new(HashSet::new()),
        remote_frees: 0.into(),
        local_frees: 0.into(),
    }
}

#[test]
fn cross_thread_free_frees_every_object_on_another_thread() {
    for threads in [2, 4] {
        let alloc = tracking();
        cross_thread_free(&alloc, threads, 3).unwrap();
        let remote = alloc.remote_frees.into_inner();
        assert_eq!(alloc.local_frees.into_inner(), 0, "t{threads}");
        // Objects plus the batch vectors that carry them.
        assert_eq!(remote, (threads * 3 * (BATCH + 1)) as u64, "t{threads}");
    }
}

#[test]
fn producer_consumer_foreign_frees_on_threads_that_never_allocate() {
    for pairs in [1, 2] {
        let alloc = tracking();
        let (_, sum) = producer_consumer_foreign(&alloc, pairs, 2).unwrap();
        assert!(sum > 0);
        let allocating = alloc.allocating_threads.into_inner().unwrap();
        let freeing = alloc.freeing_threads.into_inner().unwrap();
        assert_eq!(
            allocating.len(),
            pairs,
            "one allocating thread per producer"
        );
        assert_eq!(freeing.len(), pairs, "one freeing thread per consumer");
        assert!(
            allocating.is_disjoint(&freeing),
            "a consumer never allocates"
        );
        assert!(
            alloc.owners.into_inner().unwrap().is_empty(),
            "everything is freed"
        );
        let batches = pairs * 2 * PC_OBJECTS_PER_ROUND / PC_BATCH;
        assert_eq!(alloc.local_frees.into_inner(), 0);
        assert_eq!(
            alloc.remote_frees.into_inner(),
            (pairs * 2 * PC_OBJECTS_PER_ROUND + batches) as u64
        );
    }
}

#[test]
fn producer_consumer_allocates_on_producers_and_frees_on_consumers_that_allocated_once() {
    for (pairs, size) in [
        (1, fixed_object_size as fn(&mut Rng) -> usize),
        (3, Rng::small_size),
    ] {
        let alloc = tracking();
        producer_consumer(&alloc, pairs, 2, size).unwrap();
        let allocating = alloc.allocating_threads.into_inner().unwrap();
        let freeing = alloc.freeing_threads.into_inner().unwrap();
        // Every thread allocates: the producers their objects, each consumer one block first.
        assert_eq!(allocating.len(), 2 * pairs);
        assert_eq!(freeing.len(), pairs, "one freeing thread per consumer");
        assert!(freeing.is_subset(&allocating));
        assert!(
            alloc.owners.into_inner().unwrap().is_empty(),
            "everything is freed"
        );
        // Objects plus the batch vectors that carry them, every one freed remotely; each
        // consumer's first block locally.
        let batches = pairs * 2 * PC_OBJECTS_PER_ROUND / PC_BATCH;
        assert_eq!(alloc.local_frees.into_inner(), pairs as u64);
        assert_eq!(
            alloc.remote_frees.into_inner(),
            (pairs * 2 * PC_OBJECTS_PER_ROUND + batches) as u64
        );
    }
}

#[test]
fn thread_churn_balances_and_frees_half_of_each_generation_on_another_thread() {
    let (threads, rounds) = (3, 4);
    let counting = Counting::new(Jemalloc);
    thread_churn(&counting, threads, rounds).unwrap();
    let c = counting.counts();
    assert!(c.balanced(), "{c:?}");
    // Objects plus two vectors (kept, handed on) per thread and generation.
    assert_eq!(
        c.allocs,
        rounds * threads as u64 * (CHURN_OBJECTS as u64 + 2)
    );
    let alloc = tracking();
    thread_churn(&alloc, threads, rounds).unwrap();
    let half = rounds * threads as u64 * (CHURN_OBJECTS as u64 / 2 + 1);
    assert_eq!(alloc.local_frees.into_inner(), half, "the kept half");
    assert_eq!(alloc.remote_frees.into_inner(), half, "the half handed on");
    // Every generation is a new set of threads.
    assert_eq!(
        alloc.allocating_threads.into_inner().unwrap().len(),
        rounds as usize * threads
    );
}

#[test]
fn a_thread_that_cannot_start_ends_the_run_with_an_error_not_a_hang() {
    // A stack larger than the address space makes the third spawn fail, as a process limit would;
    // the two workers already waiting at the start line must be released.
    let started = std::sync::atomic::AtomicUsize::new(0);
    let result = run_workers_with_stacks(
        3,
        |i| (i == 2).then_some(1 << 50),
        |_| {
            started.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        },
        |_, _| 1,
    );
    let err = result.unwrap_err();
    assert!(err.0.starts_with("cannot start thread 3 of 3"), "{err}");
    assert!(err.to_string().contains("STACKHEAP_THREADS"));
    assert_eq!(started.into_inner(), 2);
}

#[test]
fn larson_first_frees_are_remote_and_local_churn_never_crosses_threads() {
    let alloc = tracking();
    larson(&alloc, 2, 1).unwrap();
    // Every slot was filled by another thread; most are replaced (remote free), the rest are
    // freed at the end by their new owner (still remote).
    assert!(alloc.remote_frees.into_inner() >= SLOTS as u64);
    let alloc = tracking();
    local_churn(&alloc, 2, 1).unwrap();
    assert_eq!(alloc.remote_frees.into_inner(), 0);
}

#[test]
fn workers_run_with_more_threads_than_cores() {
    let cores = crate::harness::machine::available_cores();
    let (_, sum) = stack_control(2 * cores + 1, 1).unwrap();
    assert!(sum > 0);
    let counting = Counting::new(System);
    cross_thread_free(&counting, 2 * cores + 1, 1).unwrap();
    assert!(counting.counts().balanced());
}

#[test]
fn sizes_stay_in_range_and_skew_small() {
    let mut rng = Rng::new(1);
    let sizes: Vec<usize> = (0..10_000).map(|_| rng.small_size()).collect();
    assert!(sizes.iter().all(|&s| (16..=1024).contains(&s)));
    assert!(sizes.iter().filter(|&&s| s < 32).count() > 4000);
    assert!(
        (0..10_000)
            .map(|_| rng.larson_size())
            .all(|s| (8..=1000).contains(&s))
    );
}

#[test]
fn workers_that_fit_the_cpus_get_one_each_and_more_get_none() {
    let cpus = crate::platform::allowed_cpus();
    assert_eq!(super::runner::one_cpu_each(cpus.len()), cpus);
    assert_eq!(super::runner::one_cpu_each(1), cpus);
    assert!(super::runner::one_cpu_each(cpus.len() + 1).is_empty());
    // Each worker runs where it was put.
    let (_, on) = run_workers_with_stacks(
        cpus.len(),
        |_| None,
        |_| (),
        |_, _| {
            crate::platform::allowed_cpus()
                .iter()
                .map(|&c| 1u64 << c.min(63))
                .sum()
        },
    )
    .unwrap();
    let expected: u64 = cpus.iter().map(|&c| 1u64 << c.min(63)).sum();
    assert_eq!(
        on, expected,
        "each worker allowed exactly one CPU, all of them covered"
    );
}
