//! How a chart marks each allocator (and the stack): one colour and one marker per source, the same
//! in every chart.

use crate::render::chart::{Axis, Marker, Series, Style, line_chart};
use crate::render::units::{format_bytes, format_ns};
use crate::workload::allocators::{AllocatorKind, MarkerShape};
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
        Source::Heap(kind) => {
            let (r, g, b) = kind.colour();
            RGBColor(r, g, b)
        }
        Source::Stack => RGBColor(20, 20, 20),
    }
}

/// The marker that tells an allocator's series apart besides its colour.
pub(super) fn allocator_marker(source: impl Into<Source>) -> Marker {
    match source.into() {
        Source::Heap(kind) => match kind.marker() {
            MarkerShape::Circle => Marker::Circle,
            MarkerShape::Triangle => Marker::Triangle,
            MarkerShape::Square => Marker::Square,
            MarkerShape::Diamond => Marker::Diamond,
        },
        // The stack's own marker: an allocator with the same shape still differs in colour.
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

/// A log-log chart of times (ns) against sizes in bytes (powers of two), the shape the stack-vs-heap
/// and locality sections share; `texts` are its title and the descriptions of its x and y axes.
pub(super) fn bytes_time_chart(texts: [&str; 3], series: &[Series]) -> Option<String> {
    let [title, x_desc, y_desc] = texts;
    line_chart(
        title,
        x_desc,
        y_desc,
        (Axis::Log2(format_bytes), Axis::Log10(format_ns)),
        series,
        None,
    )
}
