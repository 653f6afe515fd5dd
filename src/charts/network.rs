//! The network of a run: its topology on a latitude/longitude plane, and the traffic that
//! crossed borders as a jurisdiction × jurisdiction matrix.
//!
//! ```text
//!   sites.csv (id, kind, jurisdiction, lat, lon) ─┐
//!   links.csv (from, to, crosses_border, gb)  ────┴─► topology.svg, cross_border.svg
//! ```
//!
//! The map is equirectangular (x = longitude, y = latitude): distances are not true, but
//! every site is where a planner expects it. A site without a location is placed on a ring
//! around the map (and its label says so).

use std::collections::BTreeMap;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::RunData;
use super::draw::{axis, group_label, text, title};

/// Cross-border links.
const BORDER_RED: RGBColor = RGBColor(214, 39, 40);
/// Links within one jurisdiction.
const DOMESTIC_GREY: RGBColor = RGBColor(110, 110, 110);
const REGION_GREEN: RGBColor = RGBColor(44, 160, 44);
const HUB_ORANGE: RGBColor = RGBColor(255, 127, 14);
const INGRESS_BLUE: RGBColor = RGBColor(31, 119, 180);

/// Where each site is drawn, (longitude, latitude), and whether the scenario placed it.
fn positions(data: &RunData) -> Vec<((f64, f64), bool)> {
    let located: Vec<(f64, f64)> = data
        .sites
        .iter()
        .filter_map(|site| site.location.map(|(lat, lon)| (lon, lat)))
        .collect();
    let (centre, radius) = if located.is_empty() {
        ((0.0, 0.0), 60.0)
    } else {
        let (mut low, mut high) = ((f64::MAX, f64::MAX), (f64::MIN, f64::MIN));
        for &(x, y) in &located {
            low = (low.0.min(x), low.1.min(y));
            high = (high.0.max(x), high.1.max(y));
        }
        let centre = ((low.0 + high.0) / 2.0, (low.1 + high.1) / 2.0);
        let radius = ((high.0 - low.0).max(high.1 - low.1) / 2.0 + 10.0).max(20.0);
        (centre, radius)
    };
    let unlocated = data.sites.iter().filter(|s| s.location.is_none()).count();
    let mut ring = 0usize;
    data.sites
        .iter()
        .map(|site| match site.location {
            Some((lat, lon)) => ((lon, lat), true),
            None => {
                let angle = std::f64::consts::TAU * ring as f64 / unlocated.max(1) as f64;
                ring += 1;
                let distance = if located.is_empty() {
                    radius
                } else {
                    radius * 1.1
                };
                (
                    (
                        centre.0 + distance * angle.cos(),
                        centre.1 + distance * angle.sin(),
                    ),
                    false,
                )
            }
        })
        .collect()
}

/// Sites at their latitude/longitude; links with width by GB carried and colour by whether
/// they cross a border (dashed when down); hubs, regions and ingress points marked apart.
pub fn topology<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &RunData,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(text)?;
    let placed = positions(data);
    let any_located = placed.iter().any(|&(_, located)| located);
    let index: BTreeMap<&str, usize> = data
        .sites
        .iter()
        .enumerate()
        .map(|(position, site)| (site.id.as_str(), position))
        .collect();
    let (mut low, mut high) = ((f64::MAX, f64::MAX), (f64::MIN, f64::MIN));
    for &((x, y), _) in &placed {
        low = (low.0.min(x), low.1.min(y));
        high = (high.0.max(x), high.1.max(y));
    }
    if placed.is_empty() {
        (low, high) = ((-10.0, -10.0), (10.0, 10.0));
    }
    // Room around the sites for markers and labels.
    let pad_x = ((high.0 - low.0) * 0.12).max(8.0);
    let pad_y = ((high.1 - low.1) * 0.15).max(6.0);
    let busiest = data.links.iter().map(|link| link.gb).fold(0.0f64, f64::max);
    let mut chart = ChartBuilder::on(root)
        .caption(
            title(
                data,
                &format!("Network — link width by traffic (widest {busiest:.3} GB)"),
            ),
            ("sans-serif", 24),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d(
            // More room on the right, where the labels go.
            axis(low.0 - pad_x, high.0 + 2.0 * pad_x, "the map")?,
            axis(low.1 - pad_y, high.1 + pad_y, "the map")?,
        )
        .map_err(text)?;
    chart
        .configure_mesh()
        .x_desc(if !data.has_sites {
            "no sites.csv in this output directory: re-run to draw the map"
        } else if any_located {
            "longitude (°)"
        } else {
            "no site has a location: sites on a ring"
        })
        .y_desc(if any_located { "latitude (°)" } else { "" })
        .x_label_formatter(&|degrees| format!("{degrees:.0}"))
        .y_label_formatter(&|degrees| format!("{degrees:.0}"))
        .light_line_style(WHITE.mix(0.0))
        .label_style(("sans-serif", 16))
        .draw()
        .map_err(text)?;

    // Lines first, so markers sit on top. The two legend entries for links come from the
    // first link of each kind.
    let mut legend_done = (false, false);
    for link in &data.links {
        let (Some(&from), Some(&to)) = (index.get(link.from.as_str()), index.get(link.to.as_str()))
        else {
            continue;
        };
        let width = if busiest > 0.0 {
            1 + (9.0 * link.gb / busiest).round() as u32
        } else {
            2
        };
        let colour = if link.crosses_border {
            BORDER_RED
        } else {
            DOMESTIC_GREY
        };
        let style = colour
            .mix(if link.gb > 0.0 { 0.85 } else { 0.4 })
            .stroke_width(width);
        let ends = [placed[from].0, placed[to].0];
        let annotation = if link.up {
            chart
                .draw_series(LineSeries::new(ends, style))
                .map_err(text)?
        } else {
            chart
                .draw_series(DashedLineSeries::new(ends, 8, 6, style))
                .map_err(text)?
        };
        let first = if link.crosses_border {
            &mut legend_done.0
        } else {
            &mut legend_done.1
        };
        if !*first {
            *first = true;
            annotation
                .label(if link.crosses_border {
                    "cross-border link"
                } else {
                    "domestic link"
                })
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3))
                });
        }
    }

    // Hubs last, so a hub beside its region is drawn on top of it.
    let mut order: Vec<usize> = (0..data.sites.len()).collect();
    order.sort_by_key(|&position| data.sites[position].kind == "hub");
    // Label rows already taken, in pixels: a label that would overprint one moves down.
    let (plot_width, plot_height) = (880.0, 480.0);
    let to_pixels = |(x, y): (f64, f64)| {
        (
            (x - low.0 + pad_x) / (high.0 - low.0 + 3.0 * pad_x) * plot_width,
            (high.1 + pad_y - y) / (high.1 - low.1 + 2.0 * pad_y) * plot_height,
        )
    };
    // Label boxes already drawn, in pixels (left, right, centre y).
    let mut taken: Vec<(f64, f64, f64)> = Vec::new();
    let mut legend_kinds = std::collections::BTreeSet::new();
    for position in order {
        let site = &data.sites[position];
        let ((x, y), located) = placed[position];
        let label = format!(
            "{} ({}){}",
            site.id,
            site.jurisdiction,
            if located { "" } else { " — no location" }
        );
        let (pixel_x, pixel_y) = to_pixels((x, y));
        let (label_at, anchor) = place_label(&mut taken, pixel_x, pixel_y, &label);
        let label_style = TextStyle::from(("sans-serif", 15).into_font())
            .color(&BLACK)
            .pos(Pos::new(anchor, VPos::Center));
        let first_of_kind = legend_kinds.insert(site.kind.clone());
        // One arm per marker shape: each element type is concrete, as plotters wants.
        match site.kind.as_str() {
            "hub" => {
                let annotation = chart
                    .draw_series([EmptyElement::at((x, y))
                        + TriangleMarker::new((0, 0), 11, HUB_ORANGE.filled())
                        + Text::new(label, label_at, label_style)])
                    .map_err(text)?;
                if first_of_kind {
                    annotation
                        .label("hub")
                        .legend(|(x, y)| TriangleMarker::new((x + 10, y), 8, HUB_ORANGE.filled()));
                }
            }
            "region" => {
                let annotation = chart
                    .draw_series([EmptyElement::at((x, y))
                        + Rectangle::new([(-8, -8), (8, 8)], REGION_GREEN.filled())
                        + Text::new(label, label_at, label_style)])
                    .map_err(text)?;
                if first_of_kind {
                    annotation.label("region (GPUs)").legend(|(x, y)| {
                        Rectangle::new([(x + 4, y - 6), (x + 16, y + 6)], REGION_GREEN.filled())
                    });
                }
            }
            _ => {
                let annotation = chart
                    .draw_series([EmptyElement::at((x, y))
                        + Circle::new((0, 0), 7, INGRESS_BLUE.filled())
                        + Text::new(label, label_at, label_style)])
                    .map_err(text)?;
                if first_of_kind {
                    annotation
                        .label("ingress")
                        .legend(|(x, y)| Circle::new((x + 10, y), 6, INGRESS_BLUE.filled()));
                }
            }
        }
    }
    super::draw::legend(&mut chart, SeriesLabelPosition::LowerLeft)
}

/// Where a site's label goes, relative to its marker at (`x`, `y`) pixels: the first of
/// right, left, then further above or below, that overprints no label in `taken` (to
/// which it is added). Widths are estimated at 8.5 px a character (15 px DejaVu Sans).
fn place_label(
    taken: &mut Vec<(f64, f64, f64)>,
    x: f64,
    y: f64,
    label: &str,
) -> ((i32, i32), HPos) {
    let width = label.chars().count() as f64 * 8.5;
    let clear = |left: f64, right: f64, centre: f64, taken: &[(f64, f64, f64)]| {
        taken
            .iter()
            .all(|&(l, r, c)| right < l || left > r || (centre - c).abs() >= 17.0)
    };
    for rows in 0..12 {
        // 0, then −1, +1, −2, +2, … rows of 18 px.
        let shift = if rows % 2 == 1 {
            -(rows + 1) / 2
        } else {
            rows / 2
        } * 18;
        let centre = y + shift as f64;
        if clear(x + 14.0, x + 14.0 + width, centre, taken) {
            taken.push((x + 14.0, x + 14.0 + width, centre));
            return ((14, shift), HPos::Left);
        }
        if clear(x - 14.0 - width, x - 14.0, centre, taken) {
            taken.push((x - 14.0 - width, x - 14.0, centre));
            return ((-14, shift), HPos::Right);
        }
    }
    taken.push((x + 14.0, x + 14.0 + width, y));
    ((14, 0), HPos::Left)
}

/// Gigabytes that crossed between each pair of jurisdictions (both directions, every
/// link whose ends are in different jurisdictions), from the links' traffic.
pub fn border_matrix(data: &RunData) -> (Vec<String>, BTreeMap<(usize, usize), f64>) {
    let jurisdiction: BTreeMap<&str, &str> = data
        .sites
        .iter()
        .map(|site| (site.id.as_str(), site.jurisdiction.as_str()))
        .collect();
    let names: Vec<String> = data
        .sites
        .iter()
        .map(|site| site.jurisdiction.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut matrix = BTreeMap::new();
    for link in &data.links {
        let (Some(a), Some(b)) = (
            jurisdiction.get(link.from.as_str()),
            jurisdiction.get(link.to.as_str()),
        ) else {
            continue;
        };
        if a == b {
            continue;
        }
        let position = |name: &str| names.iter().position(|n| n == name).unwrap_or(0);
        let (i, j) = (position(a), position(b));
        let pair = (i.min(j), i.max(j));
        *matrix.entry(pair).or_insert(0.0) += link.gb;
    }
    (names, matrix)
}

/// The cross-border matrix as a heatmap, GB written in the cell of every pair of
/// jurisdictions a link joins (pairs no link joins stay blank).
pub fn cross_border<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &RunData,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(text)?;
    let (names, matrix) = border_matrix(data);
    let count = names.len().max(1);
    let most = matrix.values().copied().fold(0.0f64, f64::max);
    let mut chart = ChartBuilder::on(root)
        .caption(
            title(data, "Cross-border traffic (GB, both directions)"),
            ("sans-serif", 24),
        )
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(70)
        // Jurisdiction i spans [i, i + 1) on both axes.
        .build_cartesian_2d(0.0..count as f64, 0.0..count as f64)
        .map_err(text)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(count * 2 + 1)
        .y_labels(count * 2 + 1)
        .x_label_formatter(&|x| group_label(&names, *x))
        .y_label_formatter(&|y| group_label(&names, *y))
        .x_desc("jurisdiction")
        .y_desc("jurisdiction")
        .label_style(("sans-serif", 16))
        .draw()
        .map_err(text)?;
    let cell_text =
        TextStyle::from(("sans-serif", 16).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
    if matrix.is_empty() {
        let note = if data.has_sites {
            "no link crosses a border"
        } else {
            "no sites.csv in this output directory: re-run to draw this chart"
        };
        let middle = count as f64 / 2.0;
        chart
            .draw_series([Text::new(note, (middle, middle), cell_text.clone())])
            .map_err(text)?;
        return Ok(());
    }
    for i in 0..names.len() {
        for j in 0..names.len() {
            let (x, y) = (i as f64, j as f64);
            let corners = [(x, y), (x + 1.0, y + 1.0)];
            let centre = (x + 0.5, y + 0.5);
            if i == j {
                chart
                    .draw_series([Rectangle::new(corners, RGBColor(235, 235, 235).filled())])
                    .map_err(text)?;
                chart
                    .draw_series([Text::new("—".to_string(), centre, cell_text.clone())])
                    .map_err(text)?;
                continue;
            }
            // No link joins the pair: an empty cell, not a zero.
            let Some(&gb) = matrix.get(&(i.min(j), i.max(j))) else {
                continue;
            };
            let share = if most > 0.0 { gb / most } else { 0.0 };
            // White for nothing, dark blue for the busiest pair.
            let shade = |full: u8| (255.0 - (255.0 - full as f64) * share).round() as u8;
            let fill = RGBColor(shade(8), shade(48), shade(107));
            let mut cell = Rectangle::new(corners, fill.filled());
            cell.set_margin(1, 1, 1, 1);
            chart.draw_series([cell]).map_err(text)?;
            let ink = if share > 0.5 { WHITE } else { BLACK };
            chart
                .draw_series([Text::new(
                    format!("{gb:.3}"),
                    centre,
                    cell_text.clone().color(&ink),
                )])
                .map_err(text)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::data::{LinkRow, SiteRow};
    use super::*;

    fn site(id: &str, jurisdiction: &str, location: Option<(f64, f64)>) -> SiteRow {
        SiteRow {
            id: id.into(),
            kind: "region".into(),
            jurisdiction: jurisdiction.into(),
            location,
        }
    }

    fn link(from: &str, to: &str, gb: f64) -> LinkRow {
        LinkRow {
            from: from.into(),
            to: to.into(),
            crosses_border: true,
            up: true,
            gb,
        }
    }

    #[test]
    fn the_border_matrix_adds_both_directions_and_skips_domestic_links() {
        let data = RunData {
            sites: vec![
                site("shanghai", "CN", None),
                site("beijing", "CN", None),
                site("hub", "SG", None),
                site("us", "US", None),
            ],
            links: vec![
                link("shanghai", "hub", 1.5),
                link("hub", "beijing", 0.25),
                link("shanghai", "beijing", 9.0),
                link("us", "hub", 2.0),
            ],
            ..RunData::default()
        };
        let (names, matrix) = border_matrix(&data);
        assert_eq!(names, ["CN", "SG", "US"]);
        let expected: BTreeMap<(usize, usize), f64> = [((0, 1), 1.75), ((1, 2), 2.0)].into();
        println!("expected {expected:?}, got {matrix:?}");
        assert_eq!(matrix, expected);
    }

    #[test]
    fn sites_without_a_location_go_on_a_ring_the_rest_where_they_are() {
        let data = RunData {
            sites: vec![
                site("a", "X", Some((1.0, 100.0))),
                site("b", "X", None),
                site("c", "X", None),
            ],
            ..RunData::default()
        };
        let placed = positions(&data);
        assert_eq!(placed[0], ((100.0, 1.0), true));
        // Centre (100, 1), radius max(0 + 10, 20) = 20, ring at 1.1 × 20 = 22.
        assert_eq!(placed[1], ((122.0, 1.0), false));
        let (x, y) = placed[2].0;
        assert!(
            (x - 78.0).abs() < 1e-9 && (y - 1.0).abs() < 1e-9,
            "{x}, {y}"
        );
    }
}
