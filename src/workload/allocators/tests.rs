//! Tests of `allocators`.

use super::*;
use std::alloc::Layout;

#[test]
fn each_allocator_is_one_consistent_definition() {
    use std::collections::HashSet;
    for kind in AllocatorKind::ALL {
        // The serde spelling (results files) is the stable name (ids, the command line).
        assert_eq!(
            serde_json::to_string(&kind).unwrap(),
            format!("\"{}\"", kind.name())
        );
        assert_eq!(kind.name().parse::<AllocatorKind>().unwrap(), kind);
        assert!(!kind.version().is_empty());
        // A tunable is a name or a prefix ending in `_`, never empty (an allocator that reads
        // no environment variable has none).
        assert!(kind.tunables().iter().all(|t| !t.is_empty()), "{kind}");
    }
    let distinct = |values: Vec<String>| values.iter().collect::<HashSet<_>>().len();
    let n = AllocatorKind::ALL.len();
    assert_eq!(
        distinct(AllocatorKind::ALL.map(|k| k.name().into()).into()),
        n
    );
    assert_eq!(
        distinct(AllocatorKind::ALL.map(|k| k.label().into()).into()),
        n
    );
    // Charts tell allocators apart by colour and marker together.
    let looks = AllocatorKind::ALL.map(|k| format!("{:?} {:?}", k.colour(), k.marker()));
    assert_eq!(distinct(looks.into()), n);
    assert_eq!(
        "tcmalloc".parse::<AllocatorKind>().unwrap_err().0,
        format!(
            "unknown allocator 'tcmalloc': expected one of {}",
            AllocatorKind::names()
        )
    );
}

#[test]
fn versions_are_read_from_the_linked_libraries() {
    assert!(AllocatorKind::Jemalloc.version().starts_with("jemalloc 5."));
    assert!(AllocatorKind::Mimalloc.version().starts_with("mimalloc "));
    assert!(AllocatorKind::System.version().starts_with("glibc 2."));
}

#[test]
fn counting_records_allocs_frees_and_bytes() {
    let counting = Counting::new(Jemalloc);
    let layout = Layout::from_size_align(100, 8).unwrap();
    unsafe {
        let p = counting.alloc(layout);
        assert!(!p.is_null());
        let p = counting.realloc(p, layout, 200);
        counting.dealloc(p, Layout::from_size_align(200, 8).unwrap());
    }
    let c = counting.counts();
    assert_eq!((c.allocs, c.frees), (2, 2));
    assert_eq!((c.bytes_allocated, c.bytes_freed), (300, 300));
    assert!(c.balanced());
}

#[test]
fn api2_vec_allocates_through_the_named_allocator_only() {
    let counting = Counting::new(MiMalloc);
    let (global_before, _) = ThreadCountingGlobal::<System>::thread_counts();
    {
        let mut v = allocator_api2::vec::Vec::<u64, _>::with_capacity_in(16, Api2(&counting));
        v.extend(0..16);
        assert_eq!(v.iter().sum::<u64>(), 120);
    }
    let (global_after, _) = ThreadCountingGlobal::<System>::thread_counts();
    let c = counting.counts();
    assert_eq!((c.allocs, c.bytes_allocated), (1, 128));
    assert!(c.balanced());
    assert_eq!(
        global_after, global_before,
        "nothing went through the global allocator"
    );
}
