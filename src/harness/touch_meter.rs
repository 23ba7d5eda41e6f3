//! Sums the first touches of a first-touch benchmark over its timed iterations (time, minor faults,
//! huge-page faults, pages) and turns them into its `first_touch.json` row; and the heap rows of
//! first touch ([`HeapTouchRow`]), one definition for a bench process and a library's worker.

use crate::data::faults::{FaultEntry, MemorySource, TouchState};
use crate::data::id::TouchKind;
use crate::workload::allocators::{AllocatorKind, AllocatorVisitor, HeapAllocator};
use crate::workload::arrays::{HeapBlock, first_touch_pretouched, page_size};
use crate::workload::first_touch::{Touched, heap_fresh_thread, heap_growth};
use std::hint::black_box;
use std::time::Duration;

/// Sums first touches over a benchmark's timed iterations.
#[derive(Clone, Copy, Debug, Default)]
pub struct TouchMeter {
    pub faults: u64,
    pub huge_faults: u64,
    pub pages: u64,
    pub iterations: u64,
}

impl TouchMeter {
    /// Runs `touch` `iters` times, with `setup` (untimed) before each; returns the time of the
    /// touches alone.
    pub fn time(
        &mut self,
        iters: u64,
        setup: impl FnMut(),
        mut touch: impl FnMut() -> Touched,
    ) -> Duration {
        let never = self.try_time(iters, setup, || Ok::<_, std::convert::Infallible>(touch()));
        never.unwrap_or_else(|never| match never {})
    }

    /// [`TouchMeter::time`] of a touch that can fail (a thread that cannot start): the first failure
    /// ends it.
    pub fn try_time<E>(
        &mut self,
        iters: u64,
        mut setup: impl FnMut(),
        mut touch: impl FnMut() -> Result<Touched, E>,
    ) -> Result<Duration, E> {
        let mut elapsed = Duration::ZERO;
        for _ in 0..iters {
            setup();
            let touched = touch()?;
            elapsed += touched.elapsed;
            self.add(&TouchMeter {
                faults: touched.faults,
                huge_faults: touched.huge_faults,
                pages: touched.pages,
                iterations: 1,
            });
        }
        Ok(elapsed)
    }

    /// Counts `other`'s touches too (a library's worker measured them).
    pub fn add(&mut self, other: &TouchMeter) {
        self.faults += other.faults;
        self.huge_faults += other.huge_faults;
        self.pages += other.pages;
        self.iterations += other.iterations;
    }

    /// The row of the benchmark this meter measured; `None` when it never ran (filtered out).
    pub fn entry(
        &self,
        id: String,
        allocator: MemorySource,
        mode: TouchState,
        size_bytes: usize,
    ) -> Option<FaultEntry> {
        let per_iteration = |count: u64| count as f64 / self.iterations as f64;
        (self.iterations > 0).then(|| FaultEntry {
            id,
            allocator,
            mode,
            size_bytes,
            minor_faults_per_iter: per_iteration(self.faults),
            pages_per_iter: Some(per_iteration(self.pages)),
            huge_faults_per_iter: Some(per_iteration(self.huge_faults)),
        })
    }
}

/// Runs a row's touches (each after its set-up), counting them into a meter.
type Touches = Box<dyn FnMut(&mut TouchMeter, u64) -> Result<Duration, String>>;

/// A heap first-touch row of one allocator (`first_touch/<kind>/<allocator>/<bytes>`): its touches,
/// each after its untimed set-up (the state its memory is in is its kind's, [`HeapTouchRow::state_of`]).
pub struct HeapTouchRow {
    touches: Touches,
}

impl HeapTouchRow {
    /// The row of `kind` (one of the kinds that name an allocator) for `allocator` and `bytes`, or
    /// `None` for a kind without one. `pretouched` touches its block here, untimed.
    ///
    /// - `heap_fresh_thread`: a fresh thread allocates and touches the block, after the allocator
    ///   gave its free memory back;
    /// - `pretouched`: a block touched before, touched again (no fault expected);
    /// - `heap_growth`: the heap grows by `bytes` in blocks, after the allocator gave back;
    /// - `heap_regrowth`: the same growth again, the allocator keeping what it has.
    pub fn new(kind: TouchKind, allocator: AllocatorKind, bytes: usize) -> Option<HeapTouchRow> {
        struct Row(TouchKind, usize);
        impl AllocatorVisitor for Row {
            type Output = Option<HeapTouchRow>;
            fn visit<A: HeapAllocator>(
                self,
                allocator: AllocatorKind,
                alloc: &'static A,
            ) -> Self::Output {
                let Row(kind, bytes) = self;
                let give_back = move || allocator.give_back();
                let row = |touches: Touches| Some(HeapTouchRow { touches });
                let spawned = |e: std::io::Error| {
                    format!("cannot start a thread for a first-touch benchmark: {e}")
                };
                match kind {
                    TouchKind::HeapFreshThread => row(Box::new(move |meter, iters| {
                        meter.try_time(iters, give_back, || {
                            heap_fresh_thread(alloc, bytes).map_err(spawned)
                        })
                    })),
                    TouchKind::Pretouched => {
                        let page = page_size();
                        let mut block = HeapBlock::new(alloc, bytes);
                        block.touch_pages(page, 0);
                        row(Box::new(move |meter, iters| {
                            Ok(meter.time(
                                iters,
                                || {},
                                || {
                                    Touched::measure(bytes / page, || {
                                        black_box(first_touch_pretouched(
                                            &mut block,
                                            page,
                                            black_box(7),
                                        ));
                                    })
                                },
                            ))
                        }))
                    }
                    TouchKind::HeapGrowth => row(Box::new(move |meter, iters| {
                        Ok(meter.time(iters, give_back, || heap_growth(alloc, bytes)))
                    })),
                    TouchKind::HeapRegrowth => row(Box::new(move |meter, iters| {
                        Ok(meter.time(iters, || {}, || heap_growth(alloc, bytes)))
                    })),
                    TouchKind::Mmap | TouchKind::StackFreshThread => None,
                }
            }
        }
        allocator.visit(Row(kind, bytes))
    }

    /// The state a row of `kind` touches memory in, or `None` for a kind without an allocator.
    pub const fn state_of(kind: TouchKind) -> Option<TouchState> {
        match kind {
            TouchKind::HeapFreshThread | TouchKind::HeapGrowth => Some(TouchState::GivenBack),
            TouchKind::Pretouched => Some(TouchState::Pretouched),
            TouchKind::HeapRegrowth => Some(TouchState::Kept),
            TouchKind::Mmap | TouchKind::StackFreshThread => None,
        }
    }

    /// `iters` touches (each after its set-up), counted into `meter`: the touches' own time.
    pub fn time(&mut self, meter: &mut TouchMeter, iters: u64) -> Result<Duration, String> {
        (self.touches)(meter, iters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_meter_times_touches_only_and_counts_faults_per_page() {
        let mut meter = TouchMeter::default();
        let mut setups = 0;
        let elapsed = meter.time(
            3,
            || setups += 1,
            || Touched {
                elapsed: Duration::from_micros(5),
                faults: 4,
                pages: 8,
                huge_faults: 1,
            },
        );
        assert_eq!((elapsed, setups), (Duration::from_micros(15), 3));
        let entry = meter
            .entry(
                "first_touch/x/0000004".into(),
                MemorySource::Stack,
                TouchState::Fresh,
                4,
            )
            .unwrap();
        assert_eq!(entry.minor_faults_per_iter, 4.0);
        assert_eq!(entry.faults_per_page(), Some(0.5));
        assert_eq!(entry.huge_faults_per_iter, Some(1.0));
        assert_eq!(
            TouchMeter::default().entry("x".into(), MemorySource::Stack, TouchState::Fresh, 4),
            None
        );
    }
}
