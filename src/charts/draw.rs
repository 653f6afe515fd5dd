//! One function per chart, generic over the drawing backend (SVG or PNG).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::RunData;

/// Pixels of every chart.
pub const SIZE: (u32, u32) = (1000, 600);

/// A chart: its file name (without extension) and how to draw it from `Data` (one run's
/// files, or a comparison's).
pub struct Chart<Data> {
    pub name: &'static str,
    pub draw: fn(&Data, &Path, bool) -> Result<(), String>,
}

/// Draws the generic chart function `$chart(root, $data, ...)` on an SVG or a PNG.
macro_rules! on_backend {
    ($path:expr, $svg:expr, $chart:path [ $($arg:expr),* ]) => {{
        use plotters::prelude::{BitMapBackend, IntoDrawingArea, SVGBackend};
        if $svg {
            let root = SVGBackend::new($path, $crate::charts::draw::SIZE).into_drawing_area();
            $chart(&root, $($arg),*)?;
            root.present().map_err(|error| error.to_string())
        } else {
            let root = BitMapBackend::new($path, $crate::charts::draw::SIZE).into_drawing_area();
            $chart(&root, $($arg),*)?;
            root.present().map_err(|error| error.to_string())
        }
    }};
}
pub(crate) use on_backend;

/// The charts of one run, in the order report.html shows them.
pub const CHARTS: [Chart<RunData>; 11] = [
    Chart {
        name: "ttft_cdf",
        draw: |data, path, svg| on_backend!(path, svg, cdf[data, "ttft", "TTFT"]),
    },
    Chart {
        name: "e2e_cdf",
        draw: |data, path, svg| on_backend!(path, svg, cdf[data, "e2e", "E2E"]),
    },
    Chart {
        name: "slo_attainment",
        draw: |data, path, svg| on_backend!(path, svg, tenant_bars[data, slo_bars(data)]),
    },
    Chart {
        name: "ttft_p99",
        draw: |data, path, svg| on_backend!(path, svg, tenant_bars[data, ttft_p99_bars(data)]),
    },
    Chart {
        name: "utilization",
        draw: |data, path, svg| on_backend!(path, svg, time_lines[data, deployment_lines(data, Series::Utilization)]),
    },
    Chart {
        name: "queue_length",
        draw: |data, path, svg| on_backend!(path, svg, time_lines[data, deployment_lines(data, Series::QueueLength)]),
    },
    Chart {
        name: "mean_batch",
        draw: |data, path, svg| on_backend!(path, svg, time_lines[data, deployment_lines(data, Series::MeanBatch)]),
    },
    Chart {
        name: "arrivals",
        draw: |data, path, svg| on_backend!(path, svg, time_lines[data, arrival_lines(data)]),
    },
    Chart {
        name: "topology",
        draw: |data, path, svg| on_backend!(path, svg, super::network::topology[data]),
    },
    Chart {
        name: "cross_border",
        draw: |data, path, svg| on_backend!(path, svg, super::network::cross_border[data]),
    },
    Chart {
        name: "costs",
        draw: |data, path, svg| on_backend!(path, svg, super::money::costs[data]),
    },
];

/// Colours by position (tenant or deployment order), the same on every chart.
pub fn colour(index: usize) -> RGBColor {
    // Tableau's 20 colours: the 10 strong ones, then their light partners.
    const PALETTE: [RGBColor; 20] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
        RGBColor(174, 199, 232),
        RGBColor(255, 187, 120),
        RGBColor(152, 223, 138),
        RGBColor(255, 152, 150),
        RGBColor(197, 176, 213),
        RGBColor(196, 156, 148),
        RGBColor(247, 182, 210),
        RGBColor(199, 199, 199),
        RGBColor(219, 219, 141),
        RGBColor(158, 218, 229),
    ];
    PALETTE[index % PALETTE.len()]
}

/// `low..high` for an axis, or an error when a value in the files is too large to draw
/// (an infinite or inverted range would make plotters loop or panic).
pub fn axis(low: f64, high: f64, what: &str) -> Result<std::ops::Range<f64>, String> {
    if low.is_finite() && high.is_finite() && low < high {
        Ok(low..high)
    } else {
        Err(format!(
            "cannot draw {what}: its values span {low}..{high}; check the numbers in the output files"
        ))
    }
}

pub fn text<E: std::fmt::Debug>(error: E) -> String {
    format!("{error:?}")
}

pub fn title(data: &RunData, what: &str) -> String {
    format!("{what} — {} ({})", data.scenario, data.strategy)
}

/// One line of a CDF chart: its label, colour index, (quantile, ms) points, and the SLO
/// target to mark (dashed, same colour), if any.
pub struct CdfLine<'a> {
    pub label: &'a str,
    pub colour: usize,
    pub points: &'a [(f64, f64)],
    pub target_ms: Option<f64>,
}

/// Latency CDF per tenant, time on a log axis, each tenant's SLO target dashed.
fn cdf<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &RunData,
    metric: &str,
    label: &str,
) -> Result<(), String> {
    let lines = data
        .tenants
        .iter()
        .enumerate()
        .filter_map(|(index, tenant)| {
            let points = data.cdf.get(&(tenant.clone(), metric.to_string()))?;
            Some(CdfLine {
                label: tenant,
                colour: index,
                points,
                target_ms: data.summary["tenants"][tenant]["slo_ms"][metric].as_f64(),
            })
        })
        .collect();
    cdf_lines(
        root,
        title(data, &format!("{label} distribution by tenant")),
        label,
        lines,
    )
}

/// A CDF chart: fraction of requests against latency on a log axis, one line each.
pub fn cdf_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    caption: String,
    label: &str,
    lines: Vec<CdfLine<'_>>,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(text)?;
    // The axis spans every point and every target, so a target is drawn where it is.
    let values = lines
        .iter()
        .flat_map(|line| line.points.iter().map(|&(_, ms)| ms).chain(line.target_ms));
    let (low, high) = values.fold((f64::MAX, 0.0f64), |(lo, hi), ms| (lo.min(ms), hi.max(ms)));
    let (low, high) = if high > 0.0 {
        ((low.max(0.001)) * 0.8, high * 1.25)
    } else {
        (1.0, 10.0)
    };
    let range = axis(low, high, &format!("the {label} distribution"))?;
    // Enough decimals to tell the ticks apart below a millisecond.
    let decimals = if low < 1.0 { 3 } else { 0 };
    let mut chart = ChartBuilder::on(root)
        .caption(caption, ("sans-serif", 24))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(60)
        .build_cartesian_2d(range.log_scale(), 0.0..1.0)
        .map_err(text)?;
    chart
        .configure_mesh()
        .x_desc(format!("{label} (ms, log scale)"))
        .x_labels(8)
        .x_label_formatter(&|ms| format!("{ms:.decimals$}"))
        .y_desc("fraction of requests")
        .label_style(("sans-serif", 16))
        .draw()
        .map_err(text)?;
    for line in lines {
        let style = colour(line.colour);
        chart
            .draw_series(LineSeries::new(
                line.points.iter().map(|&(q, ms)| (ms.max(low), q)),
                style.stroke_width(2),
            ))
            .map_err(text)?
            .label(line.label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], style.stroke_width(2))
            });
        if let Some(target) = line.target_ms {
            chart
                .draw_series(DashedLineSeries::new(
                    [(target, 0.0), (target, 1.0)],
                    6,
                    4,
                    style.stroke_width(1),
                ))
                .map_err(text)?;
        }
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)
}

/// One bar per tenant, in its colour, with an optional dashed target mark on each.
struct Bars {
    what: &'static str,
    axis: &'static str,
    /// (value, target) per tenant, in tenant order.
    values: Vec<(f64, Option<f64>)>,
    /// The axis' top when fixed (percentages), else from the values.
    top: Option<f64>,
}

/// SLO attainment per tenant (percent of judged requests).
fn slo_bars(data: &RunData) -> Bars {
    Bars {
        what: "SLO attainment by tenant",
        axis: "SLO attainment (%)",
        values: data
            .tenants
            .iter()
            .map(|tenant| {
                let attainment = data.summary["tenants"][tenant]["slo_attainment"].as_f64();
                (attainment.unwrap_or(0.0) * 100.0, None)
            })
            .collect(),
        top: Some(100.0),
    }
}

/// p99 TTFT per tenant, its TTFT target (if any) marked.
fn ttft_p99_bars(data: &RunData) -> Bars {
    Bars {
        what: "p99 time to first token by tenant",
        axis: "TTFT p99 (ms)",
        values: data
            .tenants
            .iter()
            .map(|tenant| {
                let figures = &data.summary["tenants"][tenant];
                (
                    figures["latency_ms"]["ttft"]["p99"].as_f64().unwrap_or(0.0),
                    figures["slo_ms"]["ttft"].as_f64(),
                )
            })
            .collect(),
        top: None,
    }
}

fn tenant_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &RunData,
    bars: Bars,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(text)?;
    let count = data.tenants.len().max(1);
    let top = bars.top.unwrap_or_else(|| {
        bars.values
            .iter()
            .map(|&(value, target)| value.max(target.unwrap_or(0.0)))
            .fold(1.0, f64::max)
            * 1.15
    });
    let mut chart = ChartBuilder::on(root)
        .caption(title(data, bars.what), ("sans-serif", 24))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(70)
        // Tenant i spans [i, i + 1).
        .build_cartesian_2d(0.0..count as f64, axis(0.0, top, bars.what)?)
        .map_err(text)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(count * 2 + 1)
        .x_label_formatter(&|x| group_label(&data.tenants, *x))
        .x_desc("tenant")
        .y_desc(bars.axis)
        .max_light_lines(2)
        .label_style(("sans-serif", 16))
        .draw()
        .map_err(text)?;
    for (index, &(value, target)) in bars.values.iter().enumerate() {
        let x = index as f64;
        chart
            .draw_series([Rectangle::new(
                [(x + 0.15, 0.0), (x + 0.85, value)],
                colour(index).filled(),
            )])
            .map_err(text)?;
        if let Some(target) = target {
            chart
                .draw_series(DashedLineSeries::new(
                    [(x + 0.05, target), (x + 0.95, target)],
                    8,
                    4,
                    BLACK.stroke_width(2),
                ))
                .map_err(text)?;
        }
    }
    Ok(())
}

/// One line per entity over simulated time (hours), coloured by its position.
struct Lines<'a> {
    what: &'a str,
    axis: &'a str,
    series: Vec<Line<'a>>,
}

/// One line: its label, its colour index and its (time s, value) points.
type Line<'a> = (&'a str, usize, Vec<(f64, f64)>);

/// Which per-deployment series of timeseries.csv a chart draws.
#[derive(Clone, Copy)]
enum Series {
    Utilization,
    QueueLength,
    MeanBatch,
}

/// One per-deployment series over time, a line per deployment.
fn deployment_lines(data: &RunData, series: Series) -> Lines<'_> {
    let (what, axis) = match series {
        Series::Utilization => ("Replica utilisation by deployment", "busy replicas (%)"),
        Series::QueueLength => ("Queue length by deployment", "requests waiting"),
        Series::MeanBatch => ("Mean batch by deployment", "requests per busy replica"),
    };
    Lines {
        what,
        axis,
        series: data
            .deployments
            .iter()
            .enumerate()
            .filter_map(|(index, deployment)| {
                let points = data.deployment_series.get(deployment)?;
                let values = points
                    .iter()
                    .map(|&(time, utilization, queue_length, mean_batch)| {
                        let value = match series {
                            Series::Utilization => utilization * 100.0,
                            Series::QueueLength => queue_length,
                            Series::MeanBatch => mean_batch,
                        };
                        (time, value)
                    })
                    .collect();
                Some((deployment.as_str(), index, values))
            })
            .collect(),
    }
}

/// Arrivals per tenant per metrics interval: the diurnal shape.
fn arrival_lines(data: &RunData) -> Lines<'_> {
    Lines {
        what: "Arrivals by tenant",
        axis: "requests per interval",
        series: data
            .tenants
            .iter()
            .enumerate()
            .filter_map(|(index, tenant)| {
                Some((
                    tenant.as_str(),
                    index,
                    data.tenant_arrivals.get(tenant)?.clone(),
                ))
            })
            .collect(),
    }
}

fn time_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &RunData,
    lines: Lines<'_>,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(text)?;
    let points = || lines.series.iter().flat_map(|(_, _, points)| points.iter());
    let end = points().map(|p| p.0).fold(1.0f64, f64::max);
    let top = points().map(|p| p.1).fold(1.0f64, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(root)
        .caption(title(data, lines.what), ("sans-serif", 24))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(
            axis(0.0, end / 3600.0, lines.what)?,
            axis(0.0, top, lines.what)?,
        )
        .map_err(text)?;
    chart
        .configure_mesh()
        .x_desc("simulated time (h)")
        .y_desc(lines.axis)
        .y_label_formatter(&|value| {
            if top > 100.0 {
                format!("{value:.0}")
            } else {
                format!("{value:.1}")
            }
        })
        .label_style(("sans-serif", 16))
        .draw()
        .map_err(text)?;
    for (label, index, points) in &lines.series {
        let style = colour(*index);
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|p| (p.0 / 3600.0, p.1)),
                style.stroke_width(2),
            ))
            .map_err(text)?
            .label(*label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], style.stroke_width(2))
            });
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

/// The label under a numeric axis whose groups each span one unit: `labels[i]` at the
/// centre of group `i` (x = i + 0.5), nothing elsewhere.
pub fn group_label(labels: &[String], x: f64) -> String {
    let group = x - 0.5;
    if (group - group.round()).abs() < 1e-6 && group >= 0.0 {
        labels
            .get(group.round() as usize)
            .cloned()
            .unwrap_or_default()
    } else {
        String::new()
    }
}

/// The legend box every line chart uses.
pub fn legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font(("sans-serif", 16))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(text)
}
