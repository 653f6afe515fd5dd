//! What the charts need, read back from a run's output files.

use std::collections::BTreeMap;
use std::path::Path;

use super::ChartError;

/// One run's figures, as written to its output directory.
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
}

fn read_csv(path: &Path) -> Result<Vec<BTreeMap<String, String>>, ChartError> {
    let mut reader = csv::Reader::from_path(path).map_err(|error| ChartError::new(path, error))?;
    let headers = reader
        .headers()
        .map_err(|error| ChartError::new(path, error))?
        .clone();
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
        for row in read_csv(&directory.join("latency_cdf.csv"))? {
            cdf.entry((row["tenant"].clone(), row["metric"].clone()))
                .or_default()
                .push((number(&row, "quantile"), number(&row, "ms")));
        }
        let mut deployment_series: BTreeMap<String, Vec<_>> = BTreeMap::new();
        let mut tenant_arrivals: BTreeMap<String, Vec<_>> = BTreeMap::new();
        for row in read_csv(&directory.join("timeseries.csv"))? {
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
        Ok(RunData {
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
