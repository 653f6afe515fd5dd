//! Charts of a run, drawn from its output files alone (so `strait plot DIR` can redraw
//! them after the fact), as SVG and PNG, and one self-contained `report.html`.
//!
//! ```text
//!  summary.json ─┐
//!  latency_cdf.csv ─┼─► charts::render ─► charts/*.svg, charts/*.png, report.html
//!  timeseries.csv ─┘
//! ```
//!
//! Text is drawn with DejaVu Sans, bundled in the binary (`assets/DejaVuSans.ttf`) and
//! registered with plotters' `ab_glyph` backend, so PNGs render the same on a machine
//! without any system font. Colours are fixed per tenant and per deployment (their order
//! in the output), so the same tenant has the same colour on every chart.

mod data;
mod draw;
mod html;

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
    let charts_directory = directory.join("charts");
    std::fs::create_dir_all(&charts_directory)
        .map_err(|error| ChartError::new(&charts_directory, error))?;
    let mut written = Vec::new();
    for chart in draw::CHARTS {
        for extension in ["svg", "png"] {
            let path = charts_directory.join(format!("{}.{extension}", chart.name));
            // Draw to a temporary name, then rename: no half-written chart is left.
            let temporary = charts_directory.join(format!(".{}.tmp.{extension}", chart.name));
            (chart.draw)(&data, &temporary, extension == "svg")
                .map_err(|message| ChartError::new(&path, message))?;
            std::fs::rename(&temporary, &path).map_err(|error| ChartError::new(&path, error))?;
            written.push(path);
        }
    }
    let report = directory.join("report.html");
    let page = html::page(&data, &charts_directory)?;
    crate::report::write_atomic(&report, page.as_bytes())
        .map_err(|error| ChartError::new(&report, error))?;
    written.push(report);
    Ok(written)
}
