//! What the charts need, read back from a run's output files.

use std::collections::BTreeMap;
use std::path::Path;

use super::ChartError;

/// One run's figures, as written to its output directory.
#[derive(Default)]
pub struct RunData {
    pub scenario: String,
    pub strategy: String,
    pub summary: serde_json::Value,
    /// Tenant ids in summary.json's order, which is alphabetical (colours follow it).
    pub tenants: Vec<String>,
    pub deployments: Vec<String>,
    /// `(tenant, metric)` → (quantile, ms) points, `metric` = ttft, e2e or tpot.
    pub cdf: BTreeMap<(String, String), Vec<(f64, f64)>>,
    /// Deployment → (time s, utilisation, queue length, mean batch).
    pub deployment_series: BTreeMap<String, Vec<(f64, f64, f64, f64)>>,
    /// Tenant → (time s, arrivals in the interval).
    pub tenant_arrivals: BTreeMap<String, Vec<(f64, f64)>>,
    /// The sites, from sites.csv.
    pub sites: Vec<SiteRow>,
    /// Whether sites.csv exists (output directories written before it have none; their
    /// network charts say so).
    pub has_sites: bool,
    /// The links and the traffic they carried, from links.csv.
    pub links: Vec<LinkRow>,
}

/// One row of sites.csv.
pub struct SiteRow {
    pub id: String,
    pub kind: String,
    pub jurisdiction: String,
    /// (latitude, longitude) in degrees, when the scenario gave one.
    pub location: Option<(f64, f64)>,
}

/// One row of links.csv, the fields the topology chart draws.
pub struct LinkRow {
    pub from: String,
    pub to: String,
    pub crosses_border: bool,
    pub up: bool,
    pub gb: f64,
}

/// One CSV row: its line in the file and its values by column.
struct Row<'a> {
    path: &'a Path,
    line: u64,
    values: BTreeMap<String, String>,
}

impl Row<'_> {
    /// The text in `column` (checked present by `read_csv`).
    fn text(&self, column: &str) -> String {
        self.values.get(column).cloned().unwrap_or_default()
    }

    /// The finite number in `column`; anything else is an error naming the file, line and
    /// column (a chart cannot be drawn from "inf", "NaN" or an empty cell).
    fn number(&self, column: &str) -> Result<f64, ChartError> {
        let text = self.values.get(column).map(String::as_str).unwrap_or("");
        match text.parse::<f64>() {
            Ok(value) if value.is_finite() => Ok(value),
            _ => Err(ChartError::new(
                self.path,
                format!(
                    "line {}: column `{column}`: {text:?} is not a finite number",
                    self.line
                ),
            )),
        }
    }
}

/// The rows of a CSV file, after checking that every `required` column is there.
fn read_csv<'a>(path: &'a Path, required: &[&str]) -> Result<Vec<Row<'a>>, ChartError> {
    let mut reader = csv::Reader::from_path(path).map_err(|error| ChartError::new(path, error))?;
    let headers = reader
        .headers()
        .map_err(|error| ChartError::new(path, error))?
        .clone();
    if let Some(missing) = required
        .iter()
        .find(|column| !headers.iter().any(|header| header == **column))
    {
        return Err(ChartError::new(
            path,
            format!(
                "no column `{missing}`; expected the columns {} as strait writes them",
                required.join(", ")
            ),
        ));
    }
    reader
        .records()
        .map(|record| {
            let record = record.map_err(|error| ChartError::new(path, error))?;
            Ok(Row {
                path,
                line: record.position().map_or(0, |position| position.line()),
                values: headers
                    .iter()
                    .zip(record.iter())
                    .map(|(key, value)| (key.to_string(), value.to_string()))
                    .collect(),
            })
        })
        .collect()
}

/// Like `read_csv`, but a missing file is no rows.
fn read_optional_csv<'a>(path: &'a Path, required: &[&str]) -> Result<Vec<Row<'a>>, ChartError> {
    if path.exists() {
        read_csv(path, required)
    } else {
        Ok(Vec::new())
    }
}

impl RunData {
    pub fn read(directory: &Path) -> Result<Self, ChartError> {
        let summary_path = directory.join("summary.json");
        let text = std::fs::read_to_string(&summary_path).map_err(|error| {
            ChartError::new(
                &summary_path,
                format!("{error}; is this the output directory of a `strait run`?"),
            )
        })?;
        let summary: serde_json::Value =
            serde_json::from_str(&text).map_err(|error| ChartError::new(&summary_path, error))?;
        let keys = |field: &str| -> Vec<String> {
            summary[field]
                .as_object()
                .map(|map| map.keys().cloned().collect())
                .unwrap_or_default()
        };
        let mut cdf: BTreeMap<(String, String), Vec<(f64, f64)>> = BTreeMap::new();
        let cdf_path = directory.join("latency_cdf.csv");
        for row in read_csv(&cdf_path, &["tenant", "metric", "quantile", "ms"])? {
            cdf.entry((row.text("tenant"), row.text("metric")))
                .or_default()
                .push((row.number("quantile")?, row.number("ms")?));
        }
        let mut deployment_series: BTreeMap<String, Vec<_>> = BTreeMap::new();
        let mut tenant_arrivals: BTreeMap<String, Vec<_>> = BTreeMap::new();
        let series_path = directory.join("timeseries.csv");
        let series_columns = [
            "time_s",
            "kind",
            "id",
            "arrivals",
            "utilization",
            "queue_length",
            "mean_batch",
        ];
        for row in read_csv(&series_path, &series_columns)? {
            let time = row.number("time_s")?;
            if row.text("kind") == "deployment" {
                deployment_series.entry(row.text("id")).or_default().push((
                    time,
                    row.number("utilization")?,
                    row.number("queue_length")?,
                    row.number("mean_batch")?,
                ));
            } else {
                tenant_arrivals
                    .entry(row.text("id"))
                    .or_default()
                    .push((time, row.number("arrivals")?));
            }
        }
        let sites_path = directory.join("sites.csv");
        let sites = read_optional_csv(&sites_path, &["site", "kind", "jurisdiction"])?
            .into_iter()
            .map(|row| {
                // Both coordinates, or none: an empty pair is a site without a location.
                let location = match (
                    row.text("latitude").is_empty(),
                    row.text("longitude").is_empty(),
                ) {
                    (true, true) => None,
                    _ => Some((row.number("latitude")?, row.number("longitude")?)),
                };
                Ok(SiteRow {
                    location,
                    id: row.text("site"),
                    kind: row.text("kind"),
                    jurisdiction: row.text("jurisdiction"),
                })
            })
            .collect::<Result<Vec<_>, ChartError>>()?;
        let has_sites = sites_path.exists();
        let links_path = directory.join("links.csv");
        let links = read_csv(&links_path, &["from", "to", "crosses_border", "up", "gb"])?
            .into_iter()
            .map(|row| {
                Ok(LinkRow {
                    crosses_border: row.text("crosses_border") == "true",
                    up: row.text("up") == "true",
                    gb: row.number("gb")?,
                    from: row.text("from"),
                    to: row.text("to"),
                })
            })
            .collect::<Result<Vec<_>, ChartError>>()?;
        Ok(RunData {
            has_sites,
            sites,
            links,
            scenario: summary["scenario"].as_str().unwrap_or("").to_string(),
            strategy: summary["strategy"].as_str().unwrap_or("").to_string(),
            tenants: keys("tenants"),
            deployments: keys("deployments"),
            summary,
            cdf,
            deployment_series,
            tenant_arrivals,
        })
    }
}
