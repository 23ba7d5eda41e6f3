//! A check made without stackheap's questions: `parse_and_index` in a plain program whose global
//! allocator is fixed when it is built (feature `jemalloc` or `mimalloc`; neither: glibc's malloc;
//! `chosen`: stackheap's `ChosenAllocator`, which in a process stackheap did not start serves from
//! glibc), timed as a whole process. `results/*-your-code-separate-builds.md` has the commands that
//! compare it with the workload question's ranking, and with what the wrapper costs.
//!
//! `separate_builds index <threads> <calls>`: ns per call of `parse_and_index(threads)`.
//! `separate_builds alloc <calls>`: ns per allocation and free of a 64-byte box.

use std::hint::black_box;
use std::time::Instant;

#[cfg(any(
    all(feature = "jemalloc", feature = "mimalloc"),
    all(feature = "jemalloc", feature = "chosen"),
    all(feature = "mimalloc", feature = "chosen")
))]
compile_error!(
    "separate_builds: one build, one allocator: at most one of jemalloc, mimalloc, chosen"
);

#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "chosen")]
#[global_allocator]
static GLOBAL: stackheap::own::ChosenAllocator = stackheap::own::ChosenAllocator;

fn number<T: std::str::FromStr>(arg: Option<String>, what: &str) -> T {
    arg.and_then(|a| a.parse().ok()).unwrap_or_else(|| {
        eprintln!(
            "error: expected {what}: separate_builds index <threads> <calls> | alloc <calls>"
        );
        std::process::exit(2)
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next();
    let per_call_ns = match mode.as_deref() {
        Some("index") => {
            let threads: usize = number(args.next(), "a thread count");
            let calls: u32 = number(args.next(), "a number of calls");
            your_code::parse_and_index(threads);
            let start = Instant::now();
            for _ in 0..calls {
                your_code::parse_and_index(black_box(threads));
            }
            start.elapsed().as_nanos() as f64 / f64::from(calls)
        }
        Some("alloc") => {
            let calls: u32 = number(args.next(), "a number of calls");
            let start = Instant::now();
            // Not zeros: Box::new([0; 64]) may become one calloc, which glibc serves without its
            // thread cache, and the two builds would then time different glibc entry points.
            let fill = black_box(1u8);
            for i in 0..calls {
                let mut block = black_box(Box::new([fill; 64]));
                block[i as usize % 64] = 1;
                black_box(&block);
            }
            start.elapsed().as_nanos() as f64 / f64::from(calls)
        }
        _ => number::<u8>(None, "index or alloc") as f64,
    };
    println!("{per_call_ns:.1}");
}
