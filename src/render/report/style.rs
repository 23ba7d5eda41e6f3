//! How a chart marks each allocator (and the stack): one colour and one marker per source, the same
//! in every chart.

use crate::render::chart::{Marker, Series, Style};
use crate::workload::allocators::AllocatorKind;
use plotters::style::RGBColor;

/// Where a chart line's memory comes from: an allocator's heap, or the stack.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Source {
    Heap(AllocatorKind),
    Stack,
}

impl From<AllocatorKind> for Source {
    fn from(kind: AllocatorKind) -> Source {
        Source::Heap(kind)
    }
}

pub(super) fn allocator_color(source: impl Into<Source>) -> RGBColor {
    match source.into() {
        Source::Heap(AllocatorKind::System) => RGBColor(214, 39, 40),
        Source::Heap(AllocatorKind::Jemalloc) => RGBColor(31, 119, 180),
        Source::Heap(AllocatorKind::Mimalloc) => RGBColor(44, 160, 44),
        Source::Stack => RGBColor(20, 20, 20),
    }
}

/// The marker that tells an allocator's series apart besides its colour.
pub(super) fn allocator_marker(source: impl Into<Source>) -> Marker {
    match source.into() {
        Source::Heap(AllocatorKind::System) => Marker::Circle,
        Source::Heap(AllocatorKind::Jemalloc) => Marker::Triangle,
        Source::Heap(AllocatorKind::Mimalloc) => Marker::Square,
        Source::Stack => Marker::Diamond,
    }
}

/// A series of one allocator (or the stack), coloured and marked as every chart marks it.
pub(super) fn allocator_series(
    source: impl Into<Source>,
    label: String,
    style: Style,
    points: Vec<(f64, f64)>,
) -> Series {
    let source = source.into();
    Series {
        name: label,
        color: allocator_color(source),
        marker: allocator_marker(source),
        style,
        points,
        intervals: Vec::new(),
    }
}
