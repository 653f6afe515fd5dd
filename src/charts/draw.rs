//! One function per chart, generic over the drawing backend (SVG or PNG).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::RunData;

/// Pixels of every chart.
pub const SIZE: (u32, u32) = (1000, 600);

/// A chart: its file name (without extension) and how to draw it.
pub struct Chart {
    pub name: &'static str,
    pub draw: fn(&RunData, &Path, bool) -> Result<(), String>,
}

/// Draws the generic chart function `$chart(root, $data, ...)` on an SVG or a PNG.
macro_rules! on_backend {
    ($path:expr, $svg:expr, $chart:ident ( $($arg:expr),* )) => {{
        if $svg {
            let root = SVGBackend::new($path, SIZE).into_drawing_area();
            $chart(&root, $($arg),*)?;
            root.present().map_err(|error| error.to_string())
        } else {
            let root = BitMapBackend::new($path, SIZE).into_drawing_area();
            $chart(&root, $($arg),*)?;
            root.present().map_err(|error| error.to_string())
        }
    }};
}

pub const CHARTS: [Chart; 6] = [
    Chart {
        name: "ttft_cdf",
        draw: |data, path, svg| on_backend!(path, svg, cdf(data, "ttft", "TTFT")),
    },
    Chart {
        name: "e2e_cdf",
        draw: |data, path, svg| on_backend!(path, svg, cdf(data, "e2e", "E2E")),
    },
    Chart {
        name: "slo_attainment",
        draw: |data, path, svg| on_backend!(path, svg, slo_bars(data)),
    },
    Chart {
        name: "utilization",
        draw: |data, path, svg| {
            on_backend!(path, svg, time_lines(data, deployment_lines(data, true)))
        },
    },
    Chart {
        name: "mean_batch",
        draw: |data, path, svg| {
            on_backend!(path, svg, time_lines(data, deployment_lines(data, false)))
        },
    },
    Chart {
        name: "arrivals",
        draw: |data, path, svg| on_backend!(path, svg, time_lines(data, arrival_lines(data))),
    },
];

/// Colours by position (tenant or deployment order), the same on every chart.
pub fn colour(index: usize) -> RGBColor {
    const PALETTE: [RGBColor; 10] = [
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
    ];
    PALETTE[index % PALETTE.len()]
}

fn text<E: std::fmt::Debug>(error: E) -> String {
    format!("{error:?}")
}

fn title(data: &RunData, what: &str) -> String {
    format!("{what} — {} ({})", data.scenario, data.strategy)
}

/// Latency CDF per tenant, time on a log axis, each tenant's SLO target dashed.
fn cdf<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &RunData,
    metric: &str,
    label: &str,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(text)?;
    let points: Vec<(usize, &Vec<(f64, f64)>)> = data
        .tenants
        .iter()
        .enumerate()
        .filter_map(|(index, tenant)| {
            data.cdf
                .get(&(tenant.clone(), metric.to_string()))
                .map(|points| (index, points))
        })
        .collect();
    let values = points.iter().flat_map(|(_, p)| p.iter().map(|&(_, ms)| ms));
    let (low, high) = values.fold((f64::MAX, 0.0f64), |(lo, hi), ms| (lo.min(ms), hi.max(ms)));
    let (low, high) = if high > 0.0 {
        ((low.max(0.01)) * 0.8, high * 1.25)
    } else {
        (1.0, 10.0)
    };
    let mut chart = ChartBuilder::on(root)
        .caption(
            title(data, &format!("{label} distribution by tenant")),
            ("sans-serif", 24),
        )
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(60)
        .build_cartesian_2d((low..high).log_scale(), 0.0..1.0)
        .map_err(text)?;
    chart
        .configure_mesh()
        .x_desc(format!("{label} (ms, log scale)"))
        .x_labels(8)
        .x_label_formatter(&|ms| format!("{ms:.0}"))
        .y_desc("fraction of requests")
        .label_style(("sans-serif", 16))
        .draw()
        .map_err(text)?;
    for (index, tenant_points) in points {
        let tenant = &data.tenants[index];
        let style = colour(index);
        chart
            .draw_series(LineSeries::new(
                tenant_points.iter().map(|&(q, ms)| (ms.max(low), q)),
                style.stroke_width(2),
            ))
            .map_err(text)?
            .label(tenant.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], style.stroke_width(2))
            });
        if let Some(target) = data.summary["tenants"][tenant]["slo_ms"][metric].as_f64() {
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

/// SLO attainment per tenant, as bars (percent of judged requests).
fn slo_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &RunData,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(text)?;
    let count = data.tenants.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .caption(title(data, "SLO attainment by tenant"), ("sans-serif", 24))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(60)
        .build_cartesian_2d((0..count).into_segmented(), 0.0..100.0)
        .map_err(text)?;
    let tenants = data.tenants.clone();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(count)
        .x_label_formatter(&|segment| match segment {
            SegmentValue::CenterOf(index) | SegmentValue::Exact(index) => {
                tenants.get(*index).cloned().unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        })
        .x_desc("tenant")
        .y_desc("SLO attainment (%)")
        .label_style(("sans-serif", 16))
        .draw()
        .map_err(text)?;
    for (index, tenant) in data.tenants.iter().enumerate() {
        let percent = data.summary["tenants"][tenant]["slo_attainment"]
            .as_f64()
            .unwrap_or(0.0)
            * 100.0;
        let mut bar = Rectangle::new(
            [
                (SegmentValue::Exact(index), 0.0),
                (SegmentValue::Exact(index + 1), percent),
            ],
            colour(index).filled(),
        );
        bar.set_margin(0, 0, 20, 20);
        chart.draw_series([bar]).map_err(text)?;
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

/// The deployments' utilisation (percent of replicas busy) or mean batch over time.
fn deployment_lines(data: &RunData, utilization: bool) -> Lines<'_> {
    Lines {
        what: if utilization {
            "Replica utilisation by deployment"
        } else {
            "Mean batch by deployment"
        },
        axis: if utilization {
            "busy replicas (%)"
        } else {
            "requests per busy replica"
        },
        series: data
            .deployments
            .iter()
            .enumerate()
            .filter_map(|(index, deployment)| {
                let points = data.deployment_series.get(deployment)?;
                let values = points
                    .iter()
                    .map(|p| (p.0, if utilization { p.1 * 100.0 } else { p.3 }))
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
        .build_cartesian_2d(0.0..end / 3600.0, 0.0..top)
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

/// The legend box every line chart uses.
fn legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
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
