//! `stackheap::main!` end to end, mistakes first: this binary (`harness = false`) is both the test
//! and the program under test. Started without `STACKHEAP_TEST_CASE` it drives; started with it, it
//! is a user's bench binary whose registration that case shapes.

#[global_allocator]
static GLOBAL: stackheap::own::ChosenAllocator = stackheap::own::ChosenAllocator;

fn nest(levels: u64) {
    if levels > 0 {
        nest(std::hint::black_box(levels - 1));
    }
}

fn questions(ask: &mut stackheap::own::Questions) {
    ask.recursion("nest", nest)
        .stacks(&[64 << 10, 128 << 10])
        .needs(&[1000]);
    if std::env::var("STACKHEAP_TEST_CASE").as_deref() == Ok("duplicate") {
        ask.workload("nest", |_| {});
    }
}

mod entry;
use entry::case;

fn main() {
    if entry::is_case() {
        stackheap::own::run(questions, &[]);
    } else {
        drive();
    }
}

fn drive() {
    let mut checks = Vec::new();
    let mut check = |name, ok: bool, why: String| checks.push((name, ok, why));

    let (code, _, err) = case("duplicate", &["--bench"], &[]);
    check(
        "a duplicate name is one line and exit 2",
        code == Some(2)
            && err.trim()
                == "error: question name 'nest' is registered twice (recursion and workload): expected each name once",
        format!("{code:?} {err}"),
    );

    let (code, _, err) = case(
        "plain",
        &["--bench"],
        &[("STACKHEAP_RECURSION_CHILD", "nesting\t65536\t10")],
    );
    check(
        "a child for a name no question registers is one line and exit 2",
        code == Some(2)
            && err.lines().count() == 1
            && err.starts_with(
                "error: this process was started as a child for the recursion question 'nesting'",
            )
            && err.contains("expected one of [nest]"),
        format!("{code:?} {err}"),
    );

    let (code, out, err) = case(
        "plain",
        &[],
        &[("STACKHEAP_RECURSION_CHILD", "nest\t1048576\t10")],
    );
    check(
        "a child for a registered name answers it and nothing else",
        code == Some(0) && out.trim() == "stackheap-recursion fitted\tnest\t10",
        format!("{code:?} {out} {err}"),
    );

    // A library named at run time (the C library under a second name stands in for one).
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let libc = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| p.contains("/libc.so.6"))
        .expect("the C library is mapped");
    let allocators = format!("system,libc-again={libc}");
    let (code, _, err) = case(
        "plain",
        &["--bench"],
        &[("STACKHEAP_ALLOCATORS", allocators.as_str())],
    );
    check(
        "a library named at run time is taken by the questions",
        code == Some(0) && !err.contains("error"),
        format!("{code:?} {err}"),
    );
    let (code, _, err) = case(
        "plain",
        &["--bench"],
        &[("STACKHEAP_ALLOCATORS", "system,jemalloc=/no/such.so")],
    );
    check(
        "a bad library item is one line and exit 2",
        code == Some(2) && err.lines().count() == 1,
        format!("{code:?} {err}"),
    );

    let (code, out, _) = case("plain", &["--list"], &[]);
    check(
        "--list names the questions",
        code == Some(0) && out.trim() == "nest: bench",
        out.clone(),
    );

    let (code, out, err) = case("plain", &["--bench", "no_such_question"], &[]);
    check(
        "a filter that selects no question measures nothing",
        code == Some(0) && out.is_empty() && !err.contains("asking"),
        format!("{code:?} {out} {err}"),
    );

    let (code, out, err) = case("plain", &[], &[]);
    check(
        "without --bench (cargo test --benches) a small plan runs and answers",
        code == Some(0)
            && err.contains("(a small plan: test mode)")
            && out.contains("nest: largest input")
            && out.contains("1000 needs"),
        format!("{code:?} {out} {err}"),
    );

    entry::finish(&checks);
}
