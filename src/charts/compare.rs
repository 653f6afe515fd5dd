//! Charts of a `strait compare`: every run on one chart, a colour per run (its position in
//! compare.json, the same on every chart), and the comparison's `report.html`.
//!
//! ```text
//!   OUT/compare.json ─────────┐
//!   OUT/<run>/summary.json ───┼─► compare_ttft_cdf, compare_e2e_cdf   (all tenants, a line per run)
//!   OUT/<run>/latency_cdf.csv ┘   cost_vs_ttft  (a point per run, Pareto front joined)
//!                                 compare_slo   (SLO per tenant, a bar per run)
//! ```
//!
//! The Pareto front is the runs no other run beats on both cost and p99 TTFT: a planner
//! picks among those, the rest are dominated.

use std::fmt::Write;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::draw::{CdfLine, Chart, axis, cdf_lines, colour, group_label, legend, on_backend, text};
use super::html::{cell, escape, figure, head};
use super::{ChartError, RunData};

/// A comparison, read back from its output directory.
pub struct CompareData {
    pub scenario: String,
    /// The runs' labels, in compare.json order (colours follow it).
    pub labels: Vec<String>,
    /// compare.json's rows.
    pub rows: Vec<serde_json::Value>,
    /// Each run's (cost USD, p99 TTFT ms), and whether it completed any request (a run
    /// that served nothing has no latency to speak of and stays off the Pareto front).
    pub points: Vec<((f64, f64), bool)>,
    /// Each run's own files.
    pub runs: Vec<RunData>,
}

impl CompareData {
    pub fn read(directory: &Path) -> Result<Self, ChartError> {
        let path = directory.join("compare.json");
        let text = std::fs::read_to_string(&path).map_err(|error| {
            ChartError::new(
                &path,
                format!("{error}; is this the output directory of a `strait compare`?"),
            )
        })?;
        let rows: Vec<serde_json::Value> =
            serde_json::from_str(&text).map_err(|error| ChartError::new(&path, error))?;
        let mut labels = Vec::new();
        let mut points = Vec::new();
        for (index, row) in rows.iter().enumerate() {
            let Some(label) = row["label"].as_str() else {
                return Err(ChartError::new(
                    &path,
                    format!("row {}: no `label` naming the run's directory", index + 1),
                ));
            };
            // A label names a directory below this one, nothing else.
            if !crate::report::is_run_label(label) {
                return Err(ChartError::new(
                    &path,
                    format!(
                        "row {}: label {label:?} is not a run directory name",
                        index + 1
                    ),
                ));
            }
            labels.push(label.to_string());
            let number = |field: &str| match row[field].as_f64() {
                Some(value) if value.is_finite() => Ok(value),
                _ => Err(ChartError::new(
                    &path,
                    format!(
                        "row {} ({label}): `{field}` is not a finite number",
                        index + 1
                    ),
                )),
            };
            points.push((
                (number("cost_usd")?, number("ttft_p99_ms")?),
                number("completed")? > 0.0,
            ));
        }
        let runs = labels
            .iter()
            .map(|label| RunData::read(&directory.join(label)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CompareData {
            scenario: runs
                .first()
                .map(|run| run.scenario.clone())
                .unwrap_or_default(),
            labels,
            rows,
            points,
            runs,
        })
    }

    fn title(&self, what: &str) -> String {
        format!("{what} — {} (compare)", self.scenario)
    }

    /// The runs on the Pareto front, by cost (runs that served nothing left out).
    pub fn front(&self) -> Vec<usize> {
        let served: Vec<usize> = (0..self.points.len())
            .filter(|&index| self.points[index].1)
            .collect();
        let points: Vec<(f64, f64)> = served.iter().map(|&index| self.points[index].0).collect();
        pareto_front(&points)
            .into_iter()
            .map(|position| served[position])
            .collect()
    }
}

pub const CHARTS: [Chart<CompareData>; 4] = [
    Chart {
        name: "compare_ttft_cdf",
        draw: |data, path, svg| on_backend!(path, svg, all_runs_cdf[data, "ttft", "TTFT"]),
    },
    Chart {
        name: "compare_e2e_cdf",
        draw: |data, path, svg| on_backend!(path, svg, all_runs_cdf[data, "e2e", "E2E"]),
    },
    Chart {
        name: "cost_vs_ttft",
        draw: |data, path, svg| on_backend!(path, svg, cost_vs_ttft[data]),
    },
    Chart {
        name: "compare_slo",
        draw: |data, path, svg| on_backend!(path, svg, slo_by_tenant[data]),
    },
];

/// Every tenant's requests together (latency_cdf.csv's `*` rows), a line per run.
fn all_runs_cdf<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &CompareData,
    metric: &str,
    label: &str,
) -> Result<(), String> {
    let key = ("*".to_string(), metric.to_string());
    let lines = data
        .labels
        .iter()
        .zip(&data.runs)
        .enumerate()
        .filter_map(|(index, (run_label, run))| {
            Some(CdfLine {
                label: run_label,
                colour: index,
                points: run.cdf.get(&key)?,
                target_ms: None,
            })
        })
        .collect();
    cdf_lines(
        root,
        data.title(&format!("{label} distribution, all tenants, by run")),
        label,
        lines,
    )
}

/// Differences smaller than these are ties: a cent of cost, a hundredth of a millisecond
/// of p99 TTFT (runs with the same GPUs differ in cost by fractions of a cent of transit).
const COST_TOLERANCE_USD: f64 = 0.01;
const TTFT_TOLERANCE_MS: f64 = 0.01;

/// Indices of the runs on the Pareto front of (cost, p99 TTFT), both lower-is-better,
/// sorted by cost: no other run is at least as good on both and better on one by more than
/// the tolerance.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<usize> {
    let dominated = |index: usize| {
        let (cost, ttft) = points[index];
        points.iter().any(|&(other_cost, other_ttft)| {
            let no_worse =
                other_cost <= cost + COST_TOLERANCE_USD && other_ttft <= ttft + TTFT_TOLERANCE_MS;
            let better =
                other_cost < cost - COST_TOLERANCE_USD || other_ttft < ttft - TTFT_TOLERANCE_MS;
            no_worse && better
        })
    };
    let mut front: Vec<usize> = (0..points.len()).filter(|&i| !dominated(i)).collect();
    front.sort_by(|&a, &b| points[a].0.total_cmp(&points[b].0).then(a.cmp(&b)));
    front
}

/// A point per run at (cost, p99 TTFT), labelled; the Pareto front joined and ringed.
fn cost_vs_ttft<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &CompareData,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(text)?;
    let points: Vec<(f64, f64)> = data.points.iter().map(|&(point, _)| point).collect();
    let front = data.front();
    let span = |values: &mut dyn Iterator<Item = f64>| {
        let (low, high) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if points.is_empty() {
            (0.0, 1.0)
        } else {
            // Padded by the spread, so runs a few cents apart are told apart; equal values
            // still get a visible axis.
            let pad = ((high - low) * 0.15).max(high.abs() * 1e-6).max(0.01);
            (low - pad, high + pad)
        }
    };
    let (cost_low, cost_high) = span(&mut points.iter().map(|p| p.0));
    let (ttft_low, ttft_high) = span(&mut points.iter().map(|p| p.1));
    let cost_decimals = if cost_high - cost_low < 10.0 { 2 } else { 0 };
    let mut chart = ChartBuilder::on(root)
        .caption(
            data.title("Cost against p99 TTFT (Pareto front joined)"),
            ("sans-serif", 24),
        )
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(
            axis(cost_low, cost_high, "the runs' costs")?,
            axis(ttft_low.max(0.0), ttft_high, "the runs' p99 TTFT")?,
        )
        .map_err(text)?;
    chart
        .configure_mesh()
        .x_desc("cost over the run (USD)")
        .max_light_lines(2)
        .y_desc("TTFT p99 (ms)")
        .x_label_formatter(&|usd| format!("{usd:.cost_decimals$}"))
        .y_label_formatter(&|ms| format!("{ms:.0}"))
        .label_style(("sans-serif", 16))
        .draw()
        .map_err(text)?;
    chart
        .draw_series(LineSeries::new(
            front.iter().map(|&index| points[index]),
            BLACK.stroke_width(2),
        ))
        .map_err(text)?
        .label("Pareto front")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2)));
    chart
        .draw_series(
            front
                .iter()
                .map(|&index| Circle::new(points[index], 12, BLACK.stroke_width(2))),
        )
        .map_err(text)?;

    for (index, (&(point, served), label)) in data.points.iter().zip(&data.labels).enumerate() {
        let style = colour(index);
        // Runs at (nearly) the same point get their labels stacked, not overprinted.
        let near = |other: &(f64, f64)| {
            (other.0 - point.0).abs() <= (cost_high - cost_low) * 0.01
                && (other.1 - point.1).abs() <= (ttft_high - ttft_low) * 0.02
        };
        let earlier_here = points[..index].iter().filter(|other| near(other)).count() as i32;
        // Labels of points near the right edge go on their left, inside the plot.
        let on_left = (point.0 - cost_low) / (cost_high - cost_low) > 0.7;
        let label_style = TextStyle::from(("sans-serif", 15).into_font())
            .color(&style)
            .pos(Pos::new(
                if on_left { HPos::Right } else { HPos::Left },
                VPos::Bottom,
            ));
        chart
            .draw_series([EmptyElement::at(point)
                + Circle::new((0, 0), 7, style.filled())
                + Text::new(
                    if served {
                        label.clone()
                    } else {
                        format!("{label} (served nothing)")
                    },
                    (if on_left { -14 } else { 14 }, -6 - 18 * earlier_here),
                    label_style,
                )])
            .map_err(text)?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

/// SLO attainment per tenant, a bar per run side by side (colour = run).
fn slo_by_tenant<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &CompareData,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(text)?;
    // The tenants of the first run; variants may not add or drop tenants in practice,
    // and a tenant a run lacks draws no bar for that run.
    let tenants: Vec<String> = data
        .runs
        .first()
        .map(|run| run.tenants.clone())
        .unwrap_or_default();
    let count = tenants.len().max(1);
    let runs = data.runs.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .caption(
            data.title("SLO attainment by tenant and run"),
            ("sans-serif", 24),
        )
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(60)
        // Headroom above 100% for the legend.
        .build_cartesian_2d(0.0..count as f64, 0.0..100.0 + 8.0 * runs.min(8) as f64)
        .map_err(text)?;
    let names = tenants.clone();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(count * 2 + 1)
        .x_label_formatter(&|x| group_label(&names, *x))
        .x_desc("tenant")
        .y_desc("SLO attainment (%)")
        .y_label_formatter(&|percent| {
            if *percent <= 100.0 {
                format!("{percent:.0}")
            } else {
                String::new()
            }
        })
        .max_light_lines(2)
        .label_style(("sans-serif", 16))
        .draw()
        .map_err(text)?;
    let width = 0.8 / runs as f64;
    for (index, (label, run)) in data.labels.iter().zip(&data.runs).enumerate() {
        let style = colour(index);
        let bars: Vec<Rectangle<(f64, f64)>> = tenants
            .iter()
            .enumerate()
            .filter_map(|(position, tenant)| {
                let attainment = run.summary["tenants"][tenant]["slo_attainment"].as_f64()?;
                let left = position as f64 + 0.1 + index as f64 * width;
                Some(Rectangle::new(
                    [(left, 0.0), (left + width * 0.9, attainment * 100.0)],
                    style.filled(),
                ))
            })
            .collect();
        chart
            .draw_series(bars)
            .map_err(text)?
            .label(label.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], style.filled()));
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

/// The comparison's report.html: the table of runs, links to each run's own report, and
/// the comparison charts inline.
pub fn page(data: &CompareData, charts: &Path) -> Result<String, ChartError> {
    let mut html = head(&format!("strait · {} · compare", data.scenario));
    let columns = [
        ("strategy", "strategy"),
        ("generated", "generated"),
        ("completed", "completed"),
        ("rejected", "rejected"),
        ("slo_attainment", "SLO attainment"),
        ("ttft_p50_ms", "TTFT p50 (ms)"),
        ("ttft_p99_ms", "TTFT p99 (ms)"),
        ("e2e_p99_ms", "E2E p99 (ms)"),
        ("cost_usd", "cost ($)"),
        ("revenue_usd", "revenue ($)"),
        ("margin_usd", "margin ($)"),
        ("cross_border_gb", "cross-border GB"),
    ];
    html.push_str("<table><tr><th>run</th>");
    for (_, heading) in columns {
        let _ = write!(html, "<th>{heading}</th>");
    }
    html.push_str("</tr>\n");
    for (label, row) in data.labels.iter().zip(&data.rows) {
        // Each run's own report sits in its directory beside this page.
        let _ = write!(
            html,
            "<tr><td><a href=\"{0}/report.html\">{0}</a></td>",
            escape(label)
        );
        for (field, _) in columns {
            let _ = write!(html, "<td>{}</td>", cell(&row[field]));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n");
    let front = data.front();
    let _ = writeln!(
        html,
        "<p>On the Pareto front of cost and p99 TTFT: {}.</p>",
        front
            .iter()
            .map(|&index| escape(&data.labels[index]))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for chart in CHARTS {
        html.push_str(&figure(charts, chart.name)?);
    }
    html.push_str(
        "<p>Made by strait from compare.json and each run's files; `strait plot` redraws it.</p>\n\
         </body></html>\n",
    );
    Ok(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pareto_front_keeps_only_undominated_runs_by_cost() {
        // b is cheaper and faster than a; c is dearer but fastest; d equals b (neither
        // dominates the other, both stay); e is beaten by b on both.
        let points = [
            (100.0, 500.0),
            (90.0, 400.0),
            (120.0, 200.0),
            (90.0, 400.0),
            (95.0, 450.0),
        ];
        let front = pareto_front(&points);
        println!("expected [1, 3, 2], got {front:?}");
        assert_eq!(front, vec![1, 3, 2]);
        assert_eq!(pareto_front(&[]), Vec::<usize>::new());
        // A fraction of a cent is a tie: the run cheaper by a hair but slower is dominated,
        // and two runs equal within the tolerances both stay.
        assert_eq!(
            pareto_front(&[
                (100.000001, 500.0),
                (100.000004, 400.0),
                (100.000002, 400.000001)
            ]),
            vec![2, 1]
        );
        assert_eq!(pareto_front(&[(1.0, 1.0)]), vec![0]);
    }
}
