//! `stackheap::main!` in a program that forgot `#[global_allocator]`: a question that compares
//! allocators is refused with one line naming the missing line, before anything is measured.
//! This binary (`harness = false`) is both the test and the program under test.

mod entry;

fn questions(ask: &mut stackheap::own::Questions) {
    ask.workload("maps", |threads| {
        std::hint::black_box(vec![0u8; threads]);
    });
}

fn main() {
    if entry::is_case() {
        stackheap::own::run(questions, &[]);
        return;
    }
    let mut checks = Vec::new();
    for args in [&["--bench"][..], &[]] {
        let (code, out, err) = entry::case("plain", args, &[]);
        checks.push((
            if args.is_empty() {
                "a missing global allocator is one line and exit 2 in test mode"
            } else {
                "a missing global allocator is one line and exit 2"
            },
            code == Some(2)
                && out.is_empty()
                && err.lines().count() == 1
                && err.starts_with("error: the program's global allocator is not stackheap's: expected `#[global_allocator] static GLOBAL: stackheap::own::ChosenAllocator"),
            format!("{code:?} {out} {err}"),
        ));
    }
    entry::finish(&checks);
}
