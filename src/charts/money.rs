//! What a run cost and earned, per tenant: a stacked cost bar (GPU, transit, screening)
//! beside a revenue bar, from summary.json's `economics`.
//!
//! ```text
//!   USD │ ▆▆ ░░            ▆ GPU   ▒ transit   ▓ screening   ░ revenue
//!       │ ▆▆ ░░   ▆▆ ░░
//!       └──────────────────
//!         tenant-a  tenant-b  (unattributed GPU)
//! ```
//!
//! GPU capacity is paid for the whole run and shared among tenants by the tokens each had
//! served on it; a deployment that served nobody is "unattributed" and gets its own bar.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::RunData;
use super::draw::{axis, group_label, legend, text, title};

/// The parts of a cost bar, bottom up, with their colours.
const PARTS: [(&str, &str, RGBColor); 3] = [
    ("gpu_usd", "GPU", RGBColor(31, 119, 180)),
    ("transit_usd", "transit", RGBColor(214, 39, 40)),
    ("screening_usd", "screening", RGBColor(148, 103, 189)),
];
const REVENUE_GREEN: RGBColor = RGBColor(44, 160, 44);

/// One group of bars: its label, its cost parts (as in `PARTS`) and its revenue.
pub struct Group {
    pub label: String,
    pub costs: [f64; 3],
    pub revenue: f64,
}

/// Each tenant's costs and revenue, then the GPU cost nobody's tokens paid for (if any).
pub fn groups(data: &RunData) -> Vec<Group> {
    let economics = &data.summary["economics"];
    let mut groups: Vec<Group> = data
        .tenants
        .iter()
        .map(|tenant| {
            let figures = &economics["tenants"][tenant];
            Group {
                label: tenant.clone(),
                costs: PARTS.map(|(field, _, _)| figures[field].as_f64().unwrap_or(0.0)),
                revenue: figures["revenue_usd"].as_f64().unwrap_or(0.0),
            }
        })
        .collect();
    let unattributed = economics["unattributed_gpu_usd"].as_f64().unwrap_or(0.0);
    if unattributed > 0.0 {
        groups.push(Group {
            label: "(unattributed GPU)".into(),
            costs: [unattributed, 0.0, 0.0],
            revenue: 0.0,
        });
    }
    groups
}

/// `-299.28` → `−$299.28`, `12.5` → `$12.50`.
fn usd(value: f64) -> String {
    if value < 0.0 {
        format!("−${:.2}", -value)
    } else {
        format!("${value:.2}")
    }
}

pub fn costs<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &RunData,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(text)?;
    let groups = groups(data);
    let count = groups.len().max(1);
    let top = groups
        .iter()
        .map(|group| group.costs.iter().sum::<f64>().max(group.revenue))
        .fold(0.0f64, f64::max);
    let top = if top > 0.0 { top * 1.15 } else { 1.0 };
    let economics = &data.summary["economics"];
    let margin = economics["margin_usd"].as_f64().unwrap_or(0.0);
    let mut chart = ChartBuilder::on(root)
        .caption(
            title(
                data,
                &format!("Cost and revenue by tenant (margin {})", usd(margin)),
            ),
            ("sans-serif", 24),
        )
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(90)
        // Each group spans one unit: the cost bar on its left half, revenue on its right.
        .build_cartesian_2d(0.0..count as f64, axis(0.0, top, "the costs")?)
        .map_err(text)?;
    let labels: Vec<String> = groups.iter().map(|group| group.label.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(count * 2 + 1)
        .x_label_formatter(&|x| group_label(&labels, *x))
        .x_desc("tenant")
        .y_desc("USD over the run")
        .max_light_lines(2)
        .y_label_formatter(&|usd| {
            if top >= 10.0 {
                format!("{usd:.0}")
            } else {
                format!("{usd:.2}")
            }
        })
        .label_style(("sans-serif", 16))
        .draw()
        .map_err(text)?;
    for (index, (_, name, colour)) in PARTS.iter().enumerate() {
        let bars: Vec<Rectangle<(f64, f64)>> = groups
            .iter()
            .enumerate()
            .map(|(position, group)| {
                let below: f64 = group.costs[..index].iter().sum();
                let x = position as f64;
                Rectangle::new(
                    [(x + 0.12, below), (x + 0.48, below + group.costs[index])],
                    colour.filled(),
                )
            })
            .collect();
        let colour = *colour;
        chart
            .draw_series(bars)
            .map_err(text)?
            .label(format!("cost: {name}"))
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], colour.filled()));
    }
    chart
        .draw_series(groups.iter().enumerate().map(|(position, group)| {
            let x = position as f64;
            Rectangle::new(
                [(x + 0.52, 0.0), (x + 0.88, group.revenue)],
                REVENUE_GREEN.filled(),
            )
        }))
        .map_err(text)?
        .label("revenue")
        .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], REVENUE_GREEN.filled()));
    // Totals above the bars: transit and screening are often too thin to see.
    let total_style =
        TextStyle::from(("sans-serif", 14).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
    for (position, group) in groups.iter().enumerate() {
        let x = position as f64;
        let cost: f64 = group.costs.iter().sum();
        chart
            .draw_series([
                Text::new(usd(cost), (x + 0.30, cost), total_style.clone()),
                Text::new(
                    usd(group.revenue),
                    (x + 0.70, group.revenue),
                    total_style.clone(),
                ),
            ])
            .map_err(text)?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_the_tenants_then_unattributed_gpu() {
        let summary = serde_json::json!({
            "economics": {
                "margin_usd": -1.0,
                "unattributed_gpu_usd": 7.5,
                "tenants": {
                    "a": {"gpu_usd": 10.0, "transit_usd": 0.5, "screening_usd": 0.25, "revenue_usd": 12.0},
                    "b": {"gpu_usd": 3.0, "transit_usd": 0.0, "screening_usd": 0.0, "revenue_usd": 1.0}
                }
            }
        });
        let data = RunData {
            tenants: vec!["a".into(), "b".into()],
            summary,
            ..RunData::default()
        };
        let groups = groups(&data);
        let got: Vec<(&str, [f64; 3], f64)> = groups
            .iter()
            .map(|g| (g.label.as_str(), g.costs, g.revenue))
            .collect();
        let expected = vec![
            ("a", [10.0, 0.5, 0.25], 12.0),
            ("b", [3.0, 0.0, 0.0], 1.0),
            ("(unattributed GPU)", [7.5, 0.0, 0.0], 0.0),
        ];
        println!("expected {expected:?}\n     got {got:?}");
        assert_eq!(got, expected);
    }
}
