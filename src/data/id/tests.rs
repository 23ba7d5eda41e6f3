//! Tests of `id`.

use super::*;

#[test]
fn every_size_reaches_its_const_generic_workloads() {
    for bytes in crate::workload::arrays::SIZES {
        let reached = crate::workload::arrays::at_size!(bytes, N => N);
        assert_eq!(reached, Some(bytes));
    }
    assert_eq!(crate::workload::arrays::at_size!(100, N => N), None);
}

/// One id of every shape, with sizes from 1 byte to 1 GiB (7, 8 and 10 digits).
fn examples() -> Vec<BenchId> {
    let mut ids = Vec::new();
    for bytes in [1, 64, 4096, 1 << 20, 16 << 20, 64 << 20, 1 << 30] {
        ids.extend(
            StackKind::ALL
                .iter()
                .map(|&kind| BenchId::Stack { kind, bytes }),
        );
        for &allocator in &AllocatorKind::ALL {
            ids.extend(HeapKind::ALL.iter().map(|&kind| BenchId::Heap {
                kind,
                allocator,
                bytes,
            }));
            ids.extend(LargeBox::ALL.iter().map(|&how| BenchId::BoxNewLarge {
                how,
                allocator,
                bytes,
            }));
            ids.extend(Layout::ALL.iter().map(|&layout| BenchId::Locality {
                layout,
                owner: Owner::Heap(allocator),
                bytes,
            }));
        }
        for &kind in TouchKind::ALL {
            let allocators: Vec<Option<AllocatorKind>> = if kind.has_allocator() {
                AllocatorKind::ALL.iter().copied().map(Some).collect()
            } else {
                vec![None]
            };
            ids.extend(allocators.into_iter().map(|allocator| BenchId::FirstTouch {
                kind,
                allocator,
                bytes,
            }));
        }
        ids.extend([0, 1, 8, 32].map(|offset| BenchId::Alignment { offset, bytes }));
        ids.push(BenchId::Locality {
            layout: Layout::Contiguous,
            owner: Owner::Stack,
            bytes,
        });
        ids.extend(
            DepthBench::ALL
                .iter()
                .map(|&kind| BenchId::Depth { kind, bytes }),
        );
    }
    for workload in Workload::ALL {
        for allocator in AllocatorKind::ALL {
            for threads in [1, 2, 4, 16, 128] {
                ids.push(BenchId::Contention {
                    workload,
                    allocator,
                    threads,
                });
            }
        }
    }
    ids
}

#[test]
fn every_id_round_trips_through_its_text() {
    for id in examples() {
        let text = id.to_string();
        assert_eq!(text.parse::<BenchId>(), Ok(id), "{text}");
        assert_eq!(
            format!(
                "{}/{}/{}",
                id.criterion_group(),
                id.criterion_function(),
                id.criterion_parameter()
            ),
            text
        );
    }
}

#[test]
fn sizes_of_eight_digits_keep_their_size() {
    // Regression: the old reader took only 7-digit sizes, so 16 MiB spawn_join lost its size.
    let id: BenchId = "stack_depth/spawn_join/16777216".parse().unwrap();
    assert_eq!(id.bytes(), Some(16 << 20));
    assert_eq!(id.variant(), "spawn_join");
}

#[test]
fn the_parts_are_typed() {
    let id: BenchId = "contention/larson/jemalloc/t2".parse().unwrap();
    assert_eq!(id.family(), Family::Contention);
    assert_eq!(id.allocator(), Some(AllocatorKind::Jemalloc));
    assert_eq!((id.threads(), id.bytes()), (Some(2), None));
    assert_eq!(id.criterion_group(), "contention/larson");
    let id: BenchId = "first_touch/mmap/1048576".parse().unwrap();
    assert_eq!((id.allocator(), id.bytes()), (None, Some(1 << 20)));
    assert_eq!(
        ranking_group(&"stack_vs_heap/heap_box/system/0000064".parse().unwrap()),
        Some("stack_vs_heap/0000064".to_owned())
    );
}

#[test]
fn the_sets_hold_what_their_users_need() {
    let text = IdSet::texts;
    let gate = text(IdSet::Gate);
    // Single-threaded rows at each size, and four contention workloads at 1 and 2 threads.
    let allocators = AllocatorKind::ALL.len();
    assert_eq!(
        gate.len(),
        CI_SIZES.len() * (1 + allocators) + 4 * allocators * 2
    );
    assert!(gate.contains(&"contention/larson/mimalloc/t2".to_owned()));
    // What the gate-check injects must be judged by the gate.
    assert!(text(IdSet::Injected).iter().all(|id| gate.contains(id)));
    let ci = text(IdSet::Ci);
    assert!(ci.contains(&"stack_depth/recursion_level/0016384".to_owned()));
    assert!(!ci.iter().any(|id| id.ends_with("/t2")));
    let filter = regex::Regex::new(&exact_filter(gate.iter().map(String::as_str))).unwrap();
    assert!(gate.iter().all(|id| filter.is_match(id)));
    assert!(!filter.is_match("contention/larson/mimalloc/t4"));
}

#[test]
fn anything_else_is_refused() {
    for text in [
        "",
        "stack_vs_heap/stack_array/64",
        "stack_vs_heap/stack_array/00000064",
        "stack_vs_heap/heap_box/tcmalloc/0000064",
        "stack_vs_heap/heap_box/0000064",
        "first_touch/mmap/system/1048576",
        "first_touch/heap_growth/1048576",
        "contention/larson/system/t0",
        "contention/larson/system/t02",
        "contention/larson/system/2",
        "locality/contiguous/heap/0001024",
        "stack_vs_heap/alignment/8/0000064",
        "other/thing/0000064",
        "stack_vs_heap/stack_array/0000064/extra",
    ] {
        let err = text.parse::<BenchId>().unwrap_err();
        assert!(
            err.to_string().contains("is not a stackheap benchmark id"),
            "{text}"
        );
    }
}
