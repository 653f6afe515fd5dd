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
    /// Tenant ids in output order (colours follow it).
    pub tenants: Vec<String>,
    pub deployments: Vec<String>,
    /// `(tenant, metric)` → (quantile, ms) points, `metric` = ttft, e2e or tpot.
    pub cdf: BTreeMap<(String, String), Vec<(f64, f64)>>,
    /// Deployment → (time s, utilisation, queue length, mean batch).
    pub deployment_series: BTreeMap<String, Vec<(f64, f64, f64, f64)>>,
    /// Tenant → (time s, arrivals in the interval).
    pub tenant_arrivals: BTreeMap<String, Vec<(f64, f64)>>,
    /// The sites, from sites.csv (empty for an output directory written before it existed).
    pub sites: Vec<SiteRow>,
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

/// The rows of a CSV file as column → value, after checking that every `required` column
/// is there (so indexing a row by one of them cannot fail).
fn read_csv(path: &Path, required: &[&str]) -> Result<Vec<BTreeMap<String, String>>, ChartError> {
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
            Ok(headers
                .iter()
                .zip(record.iter())
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect())
        })
        .collect()
}

/// Like `read_csv`, but a missing file is no rows.
fn read_optional_csv(
    path: &Path,
    required: &[&str],
) -> Result<Vec<BTreeMap<String, String>>, ChartError> {
    if path.exists() {
        read_csv(path, required)
    } else {
        Ok(Vec::new())
    }
}

fn number(row: &BTreeMap<String, String>, key: &str) -> f64 {
    row.get(key)
        .and_then(|value| value.parse().ok())
        .unwrap_or(0.0)
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
        for row in read_csv(
            &directory.join("latency_cdf.csv"),
            &["tenant", "metric", "quantile", "ms"],
        )? {
            cdf.entry((row["tenant"].clone(), row["metric"].clone()))
                .or_default()
                .push((number(&row, "quantile"), number(&row, "ms")));
        }
        let mut deployment_series: BTreeMap<String, Vec<_>> = BTreeMap::new();
        let mut tenant_arrivals: BTreeMap<String, Vec<_>> = BTreeMap::new();
        for row in read_csv(&directory.join("timeseries.csv"), &["time_s", "kind", "id"])? {
            let time = number(&row, "time_s");
            match row["kind"].as_str() {
                "deployment" => deployment_series
                    .entry(row["id"].clone())
                    .or_default()
                    .push((
                        time,
                        number(&row, "utilization"),
                        number(&row, "queue_length"),
                        number(&row, "mean_batch"),
                    )),
                _ => tenant_arrivals
                    .entry(row["id"].clone())
                    .or_default()
                    .push((time, number(&row, "arrivals"))),
            }
        }
        let sites = read_optional_csv(
            &directory.join("sites.csv"),
            &["site", "kind", "jurisdiction"],
        )?
        .into_iter()
        .map(|row| SiteRow {
            location: match (row.get("latitude"), row.get("longitude")) {
                (Some(latitude), Some(longitude)) => {
                    latitude.parse().ok().zip(longitude.parse().ok())
                }
                _ => None,
            },
            id: row["site"].clone(),
            kind: row["kind"].clone(),
            jurisdiction: row["jurisdiction"].clone(),
        })
        .collect();
        let links = read_csv(
            &directory.join("links.csv"),
            &["from", "to", "crosses_border", "up"],
        )?
        .into_iter()
        .map(|row| LinkRow {
            crosses_border: row["crosses_border"] == "true",
            up: row["up"] == "true",
            gb: number(&row, "gb"),
            from: row["from"].clone(),
            to: row["to"].clone(),
        })
        .collect();
        Ok(RunData {
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
