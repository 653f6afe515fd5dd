//! Charts of a run, drawn from its output files alone (so `strait plot DIR` can redraw
//! them after the fact), as SVG and PNG, and one self-contained `report.html`.
//!
//! ```text
//!  summary.json ────┐
//!  latency_cdf.csv ─┤
//!  timeseries.csv ──┼─► charts::render ─► charts/*.svg, charts/*.png, report.html
//!  links.csv ───────┤
//!  sites.csv ───────┘
//!
//!  compare.json + every run's directory ─► charts::render_compare ─► the same, for
//!                                           the comparison (and each run's own)
//! ```
//!
//! Text is drawn with DejaVu Sans, bundled in the binary (`assets/DejaVuSans.ttf`) and
//! registered with plotters' `ab_glyph` backend, so PNGs render the same on a machine
//! without any system font. Colours are fixed per tenant and per deployment (their order
//! in the output), so the same tenant has the same colour on every chart.

mod compare;
mod data;
mod draw;
mod html;
mod money;
mod network;

use std::path::{Path, PathBuf};

pub use data::RunData;

/// A chart could not be drawn or written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ChartError {
    pub path: PathBuf,
    pub message: String,
}

impl ChartError {
    fn new(path: &Path, message: impl ToString) -> Self {
        ChartError {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }
}

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Registers the bundled font (once per process).
fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The bundled file is a valid TrueType font; a failure would only leave PNG text
        // undrawn, never stop a run.
        let _ =
            plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, FONT);
    });
}

/// Draws every chart of the run in `directory` into `directory/charts/` and writes
/// `directory/report.html`; returns the files written.
pub fn render(directory: &Path) -> Result<Vec<PathBuf>, ChartError> {
    register_font();
    let data = RunData::read(directory)?;
    charts_and_report(&draw::CHARTS, &data, directory, html::page)
}

/// Draws the charts of a `strait compare` output directory — each run's own, in its
/// directory, then the comparison's in `directory/charts/` — and its `report.html`.
pub fn render_compare(directory: &Path) -> Result<Vec<PathBuf>, ChartError> {
    register_font();
    let data = compare::CompareData::read(directory)?;
    let mut written = Vec::new();
    for (label, run) in data.labels.iter().zip(&data.runs) {
        written.extend(charts_and_report(
            &draw::CHARTS,
            run,
            &directory.join(label),
            html::page,
        )?);
    }
    written.extend(charts_and_report(
        &compare::CHARTS,
        &data,
        directory,
        compare::page,
    )?);
    Ok(written)
}

/// `charts` into `directory/charts/`, then the page `report` makes of them into
/// `directory/report.html`.
fn charts_and_report<Data>(
    charts: &[draw::Chart<Data>],
    data: &Data,
    directory: &Path,
    report: fn(&Data, &Path) -> Result<String, ChartError>,
) -> Result<Vec<PathBuf>, ChartError> {
    let charts_directory = directory.join("charts");
    let mut written = draw_charts(charts, data, &charts_directory)?;
    let path = directory.join("report.html");
    let page = report(data, &charts_directory)?;
    crate::report::write_atomic(&path, page.as_bytes())
        .map_err(|error| ChartError::new(&path, error))?;
    written.push(path);
    Ok(written)
}

/// Draws whatever `directory` holds: a comparison (it has compare.json) or one run.
pub fn render_any(directory: &Path) -> Result<Vec<PathBuf>, ChartError> {
    if directory.join("compare.json").is_file() {
        render_compare(directory)
    } else {
        render(directory)
    }
}

/// Draws `charts` from `data` into `directory` as SVG and PNG, each through a temporary
/// file and a rename so that no half-written chart is left.
fn draw_charts<Data>(
    charts: &[draw::Chart<Data>],
    data: &Data,
    directory: &Path,
) -> Result<Vec<PathBuf>, ChartError> {
    std::fs::create_dir_all(directory).map_err(|error| ChartError::new(directory, error))?;
    let mut written = Vec::new();
    for chart in charts {
        for extension in ["svg", "png"] {
            let path = directory.join(format!("{}.{extension}", chart.name));
            let temporary = directory.join(format!(".{}.tmp.{extension}", chart.name));
            (chart.draw)(data, &temporary, extension == "svg")
                .map_err(|message| ChartError::new(&path, message))?;
            std::fs::rename(&temporary, &path).map_err(|error| ChartError::new(&path, error))?;
            written.push(path);
        }
    }
    Ok(written)
}
