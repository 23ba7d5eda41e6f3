//! SVG charts for the report, drawn with plotters: line charts (with interval bars and reference
//! lines) and grouped bar charts. Series are told apart by colour and by marker or dash, and the
//! legend shows both; tick labels fall on round values (powers of two for sizes, 1-2-5 steps on log
//! axes) so that a reader never sees `9.8 KiB` or `31.6 ns` on an axis.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// The shape drawn at each point of a series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    Circle,
    Triangle,
    Square,
    Diamond,
}

impl Marker {
    /// The outline, in pixels around the point.
    fn outline(self) -> Vec<(i32, i32)> {
        match self {
            Marker::Circle => vec![
                (0, -4),
                (3, -3),
                (4, 0),
                (3, 3),
                (0, 4),
                (-3, 3),
                (-4, 0),
                (-3, -3),
            ],
            Marker::Triangle => vec![(0, -5), (5, 4), (-5, 4)],
            Marker::Square => vec![(-4, -4), (4, -4), (4, 4), (-4, 4)],
            Marker::Diamond => vec![(0, -5), (5, 0), (0, 5), (-5, 0)],
        }
    }

    fn shifted(self, dx: i32) -> Vec<(i32, i32)> {
        self.outline()
            .into_iter()
            .map(|(x, y)| (x + dx, y))
            .collect()
    }
}

/// How a series' points are joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Markers only.
    Dots,
    Line,
    Dashed,
}

/// One series of a line chart.
pub struct Series {
    pub name: String,
    pub color: RGBColor,
    pub marker: Marker,
    pub style: Style,
    pub points: Vec<(f64, f64)>,
    /// For each point, its interval (low, high) in y, drawn as a bar; empty when there is none.
    pub intervals: Vec<(f64, f64)>,
}

/// Axis scale and how its tick labels read (the function gets the value in data units).
#[derive(Clone, Copy)]
pub enum Axis {
    Linear(fn(f64) -> String),
    Log10(fn(f64) -> String),
    /// Powers of two: ticks at 2^k, labelled every third power when the range is wide (8 B, 64 B,
    /// 512 B, 4 KiB, ...).
    Log2(fn(f64) -> String),
}

impl Axis {
    fn map(self, v: f64) -> f64 {
        match self {
            Axis::Linear(_) => v,
            Axis::Log10(_) => v.log10(),
            Axis::Log2(_) => v.log2(),
        }
    }

    fn is_log(self) -> bool {
        !matches!(self, Axis::Linear(_))
    }

    /// The label at chart coordinate `v` on an axis spanning `span` chart units; empty between round
    /// values.
    fn label(self, v: f64, span: f64) -> String {
        let whole = (v - v.round()).abs() < 1e-6;
        match self {
            Axis::Linear(f) => f(v),
            Axis::Log2(f) if whole && (span <= 10.0 || v.round() as i64 % 3 == 0) => {
                f(2f64.powf(v.round()))
            }
            Axis::Log2(_) => String::new(),
            Axis::Log10(f) => {
                let value = 10f64.powf(v);
                let magnitude = 10f64.powf(value.log10().floor());
                let leading = (value / magnitude).round();
                let round = [1.0, 2.0, 5.0].contains(&leading)
                    && ((value / (leading * magnitude)) - 1.0).abs() < 0.01;
                if round || span < 1.0 {
                    f(value)
                } else {
                    String::new()
                }
            }
        }
    }
}

/// The points that can be drawn on these axes (finite, and positive on a log axis), in chart
/// coordinates, each with its interval when it has one.
/// A point in chart coordinates and its interval in y, if it has one.
type Plotted = ((f64, f64), Option<(f64, f64)>);

fn plotted(x: Axis, y: Axis, s: &Series) -> Vec<Plotted> {
    let drawable = |axis: Axis, v: f64| v.is_finite() && (!axis.is_log() || v > 0.0);
    s.points
        .iter()
        .enumerate()
        .filter(|&(_, &(a, b))| drawable(x, a) && drawable(y, b))
        .map(|(i, &(a, b))| {
            let interval = s
                .intervals
                .get(i)
                .filter(|&&(lo, hi)| drawable(y, lo) && drawable(y, hi))
                .map(|&(lo, hi)| (y.map(lo), y.map(hi)));
            ((x.map(a), y.map(b)), interval)
        })
        .collect()
}

const SIZE: (u32, u32) = (760, 420);

/// A white drawing area on an SVG string.
fn canvas(svg: &mut String) -> Option<DrawingArea<SVGBackend<'_>, Shift>> {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE).ok()?;
    Some(root)
}

/// The plotting area of a chart with `title`, its axes spanning `x` and `y`.
fn cartesian<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    title: &str,
    y_label_area: u32,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
) -> Option<Plot<'a, 'b>> {
    ChartBuilder::on(root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(y_label_area)
        .build_cartesian_2d(x, y)
        .ok()
}

type Plot<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws the legend at `position` and writes the chart out.
fn finish<'a, 'b: 'a>(
    chart: &mut Plot<'a, 'b>,
    root: &DrawingArea<SVGBackend<'b>, Shift>,
    position: SeriesLabelPosition,
) -> Option<()> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .position(position)
        .draw()
        .ok()?;
    root.present().ok()
}

/// The legend entry: the line as drawn (solid, dashed or none) with the series' marker on it.
fn legend_entry<'a, DB: DrawingBackend + 'a>(
    (lx, ly): (i32, i32),
    style: Style,
    line: ShapeStyle,
    marker: Marker,
    fill: ShapeStyle,
) -> impl IntoDynElement<'a, DB, (i32, i32)> {
    let (first, second) = match style {
        Style::Line => ((0, 9), (9, 18)),
        Style::Dashed => ((0, 5), (13, 18)),
        Style::Dots => ((9, 9), (9, 9)),
    };
    EmptyElement::at((lx, ly))
        + PathElement::new(vec![(first.0, 0), (first.1, 0)], line)
        + PathElement::new(vec![(second.0, 0), (second.1, 0)], line)
        + Polygon::new(marker.shifted(9), fill)
}

/// Draws a line chart as an SVG string. `reference` draws a horizontal line at that y with a label
/// (e.g. `1.0 = stack`). `None` when no series has points.
pub fn line_chart(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    (x, y): (Axis, Axis),
    series: &[Series],
    reference: Option<(f64, &str)>,
) -> Option<String> {
    let mut all: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| plotted(x, y, s))
        .flat_map(|(p, interval)| {
            let (lo, hi) = interval.unwrap_or((p.1, p.1));
            [p, (p.0, lo), (p.0, hi)]
        })
        .collect();
    if all.is_empty() {
        return None;
    }
    if let Some((r, _)) = reference {
        all.push((all[0].0, y.map(r)));
    }
    let range = |vals: Vec<f64>, from_zero: bool| {
        let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lo = if from_zero { lo.min(0.0) } else { lo };
        let pad = ((hi - lo) * 0.08).max(0.05);
        (lo - if from_zero && lo == 0.0 { 0.0 } else { pad })..(hi + pad)
    };
    let xr = range(all.iter().map(|p| p.0).collect(), false);
    let mut yr = range(all.iter().map(|p| p.1).collect(), !y.is_log());
    // Headroom above the data for the legend in the upper left, so it never hides a line: about 13
    // px per entry of a plot area about 320 px high.
    let entries =
        series.iter().filter(|s| !s.name.is_empty()).count() + usize::from(reference.is_some());
    let legend = ((13 * entries + 16) as f64 / 320.0).min(0.6);
    yr.end += (yr.end - yr.start) * legend / (1.0 - legend);
    let (x_span, y_span) = (xr.end - xr.start, yr.end - yr.start);
    let mut svg = String::new();
    {
        let root = canvas(&mut svg)?;
        let mut chart = cartesian(&root, title, 78, xr.clone(), yr)?;
        // On log axes, one candidate tick per unit (power) at least, so round values are among them.
        let ticks = |axis: Axis, span: f64| {
            if axis.is_log() {
                (span.ceil() as usize * 4).clamp(8, 40)
            } else {
                10
            }
        };
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .x_labels(ticks(x, x_span))
            .y_labels(ticks(y, y_span))
            .x_label_formatter(&|v| x.label(*v, x_span))
            .y_label_formatter(&|v| y.label(*v, y_span))
            .light_line_style(RGBColor(238, 238, 238))
            .draw()
            .ok()?;
        if let Some((r, label)) = reference {
            let grey = ShapeStyle::from(&RGBColor(90, 90, 90)).stroke_width(1);
            chart
                .draw_series(DashedLineSeries::new(
                    [(xr.start, y.map(r)), (xr.end, y.map(r))],
                    3,
                    3,
                    grey,
                ))
                .ok()?
                .label(label)
                .legend(move |(lx, ly)| PathElement::new(vec![(lx, ly), (lx + 18, ly)], grey));
        }
        for s in series {
            let pts = plotted(x, y, s);
            if pts.is_empty() {
                continue;
            }
            let line = ShapeStyle::from(&s.color).stroke_width(2);
            let fill = s.color.filled();
            let xy: Vec<(f64, f64)> = pts.iter().map(|(p, _)| *p).collect();
            match s.style {
                Style::Dots => {}
                Style::Line => {
                    chart.draw_series(LineSeries::new(xy.clone(), line)).ok()?;
                }
                Style::Dashed => {
                    chart
                        .draw_series(DashedLineSeries::new(xy.clone(), 6, 4, line))
                        .ok()?;
                }
            }
            chart
                .draw_series(pts.iter().filter_map(|&((px, py), interval)| {
                    let (lo, hi) = interval?;
                    Some(ErrorBar::new_vertical(
                        px,
                        lo,
                        py,
                        hi,
                        ShapeStyle::from(&s.color).stroke_width(1),
                        8,
                    ))
                }))
                .ok()?;
            let (marker, style) = (s.marker, s.style);
            let drawn = chart
                .draw_series(
                    xy.iter()
                        .map(|&p| EmptyElement::at(p) + Polygon::new(marker.outline(), fill)),
                )
                .ok()?;
            // A series without a name draws without a legend entry (its twin's entry explains it).
            if !s.name.is_empty() {
                drawn
                    .label(s.name.clone())
                    .legend(move |at| legend_entry(at, style, line, marker, fill));
            }
        }
        finish(&mut chart, &root, SeriesLabelPosition::UpperLeft)?;
    }
    Some(svg)
}

/// One group of bars: a category on the x axis and one value per series (`None`: not measured).
pub struct BarGroup {
    pub category: String,
    pub values: Vec<Option<f64>>,
}

/// Draws grouped horizontal bars as an SVG string: one group per category (a row, named on the left,
/// so long names fit), one bar per series in each, told apart by colour and by a marker at the bar's
/// end. `None` when there is no value.
pub fn bar_chart(
    title: &str,
    x_desc: &str,
    series: &[(String, RGBColor, Marker)],
    groups: &[BarGroup],
) -> Option<String> {
    let top = groups
        .iter()
        .flat_map(|g| g.values.iter().flatten())
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    if !top.is_finite() {
        return None;
    }
    let n = series.len().max(1) as f64;
    let rows = groups.len() as f64;
    let mut svg = String::new();
    {
        let root = canvas(&mut svg)?;
        // Room on the right of the longest bar for the legend.
        let mut chart = cartesian(&root, title, 180, 0.0..top * 1.45, 0.0..rows)?;
        let categories: Vec<String> = groups.iter().map(|g| g.category.clone()).collect();
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_labels(groups.len() * 2 + 1)
            .y_label_formatter(&|v| {
                // The first group is drawn at the top; labels sit at the middle of each row.
                let k = rows - 0.5 - v;
                if (k - k.round()).abs() < 1e-6 && k >= 0.0 {
                    categories
                        .get(k.round() as usize)
                        .cloned()
                        .unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .disable_y_mesh()
            .light_line_style(RGBColor(238, 238, 238))
            .draw()
            .ok()?;
        for (i, (name, color, marker)) in series.iter().enumerate() {
            let (color, marker) = (*color, *marker);
            let bar = |k: usize| {
                let top_edge = rows - k as f64 - 0.1 - 0.8 * i as f64 / n;
                (top_edge - 0.8 / n, top_edge)
            };
            let values: Vec<(usize, f64)> = groups
                .iter()
                .enumerate()
                .filter_map(|(k, g)| Some((k, (*g.values.get(i)?)?)))
                .collect();
            chart
                .draw_series(values.iter().map(|&(k, v)| {
                    let (b, t) = bar(k);
                    Rectangle::new([(0.0, b), (v, t)], color.filled())
                }))
                .ok()?;
            let fill = color.filled();
            chart
                .draw_series(values.iter().map(|&(k, v)| {
                    let (b, t) = bar(k);
                    EmptyElement::at((v, (b + t) / 2.0)) + Polygon::new(marker.shifted(6), fill)
                }))
                .ok()?
                .label(name.clone())
                .legend(move |at| {
                    legend_entry(at, Style::Dots, ShapeStyle::from(&color), marker, fill)
                });
        }
        finish(&mut chart, &root, SeriesLabelPosition::UpperRight)?;
    }
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axes_label_only_round_values() {
        let bytes = Axis::Log2(|v| format!("{v}"));
        assert_eq!(bytes.label(6.0, 17.0), "64");
        assert_eq!(
            bytes.label(5.0, 17.0),
            "",
            "every third power on a wide axis"
        );
        assert_eq!(bytes.label(5.0, 6.0), "32", "every power on a narrow one");
        assert_eq!(bytes.label(5.5, 6.0), "");
        let ns = Axis::Log10(|v| format!("{v:.0}"));
        assert_eq!(ns.label(2.0, 4.0), "100");
        assert_eq!(ns.label(2f64.log10() + 1.0, 4.0), "20");
        assert_eq!(ns.label(1.5, 4.0), "", "31.6 is not a round value");
    }

    fn series(style: Style) -> Series {
        Series {
            name: "glibc".into(),
            color: RGBColor(200, 0, 0),
            marker: Marker::Triangle,
            style,
            points: vec![(8.0, 2.0), (64.0, 1.5), (1024.0, -1.0)],
            intervals: vec![(1.8, 2.2), (1.2, 1.9), (0.0, 0.0)],
        }
    }

    #[test]
    fn a_line_chart_draws_markers_interval_bars_and_the_reference_line() {
        let svg = line_chart(
            "ratio",
            "size",
            "x stack",
            (
                Axis::Log2(|v| v.to_string()),
                Axis::Linear(|v| v.to_string()),
            ),
            &[series(Style::Dashed)],
            Some((1.0, "1.0 = stack")),
        )
        .unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("1.0 = stack") && svg.contains("glibc"));
        assert!(svg.contains("<polygon"), "markers are drawn");
        let none = line_chart(
            "empty",
            "x",
            "y",
            (
                Axis::Log10(|v| v.to_string()),
                Axis::Log10(|v| v.to_string()),
            ),
            &[Series {
                points: vec![(0.0, 1.0)],
                ..series(Style::Line)
            }],
            None,
        );
        assert!(none.is_none(), "no drawable point, no chart");
    }

    #[test]
    fn a_bar_chart_has_a_bar_per_measured_value() {
        let svg = bar_chart(
            "peak",
            "MiB",
            &[
                ("glibc".into(), RGBColor(200, 0, 0), Marker::Circle),
                ("mimalloc".into(), RGBColor(0, 150, 0), Marker::Square),
            ],
            &[
                BarGroup {
                    category: "larson".into(),
                    values: vec![Some(5.0), Some(10.0)],
                },
                BarGroup {
                    category: "thread_churn".into(),
                    values: vec![Some(4.0), None],
                },
            ],
        )
        .unwrap();
        assert!(svg.contains("larson") && svg.contains("thread_churn"));
        let bars = |fill: &str| {
            svg.lines()
                .filter(|l| l.starts_with("<rect") && l.contains(&format!("fill=\"{fill}\"")))
                .count()
        };
        assert_eq!((bars("#C80000"), bars("#009600")), (2, 1), "{svg}");
    }
}
