//! Writing the output directory, atomically file by file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Summary, Timing};
use crate::metrics::round6;
use crate::simulator::RunOutput;

/// Whether `label` can name a run's directory inside a comparison's: not empty, no path
/// separator, and not starting with '.' (no hidden directories, no `.` or `..`).
pub fn is_run_label(label: &str) -> bool {
    !label.is_empty() && !label.starts_with('.') && !label.contains(['/', '\\'])
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let directory = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("output");
    let temporary: PathBuf = directory.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result
}

fn csv_bytes(
    write: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>,
) -> std::io::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    write(&mut writer).map_err(std::io::Error::other)?;
    writer
        .into_inner()
        .map_err(|error| std::io::Error::other(error.to_string()))
}

fn number(value: f64) -> String {
    round6(value).to_string()
}

fn optional<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// Writes every output file of a run into `directory` (which must exist).
pub fn write_run(
    directory: &Path,
    output: &RunOutput,
    summary: &Summary,
    timing: &Timing,
) -> std::io::Result<()> {
    let scenario = &output.scenario;
    let metrics = &output.metrics;
    let economics = &summary.economics;

    let mut json = serde_json::to_vec_pretty(summary).map_err(std::io::Error::other)?;
    json.push(b'\n');
    write_atomic(&directory.join("summary.json"), &json)?;

    let mut timing_json = serde_json::to_vec_pretty(timing).map_err(std::io::Error::other)?;
    timing_json.push(b'\n');
    write_atomic(&directory.join("timing.json"), &timing_json)?;

    let tenants = csv_bytes(|w| {
        w.write_record([
            "tenant",
            "jurisdiction",
            "tier",
            "generated",
            "input_tokens",
            "output_tokens",
            "completed",
            "rejected",
            "rejected_no_route",
            "rejected_quota",
            "rejected_concurrency",
            "rejected_screening",
            "rejected_policy",
            "dropped",
            "timed_out",
            "failed",
            "in_flight",
            "slo_attainment",
            "ttft_mean_ms",
            "ttft_p50_ms",
            "ttft_p99_ms",
            "tpot_mean_ms",
            "tpot_p99_ms",
            "e2e_mean_ms",
            "e2e_p99_ms",
            "queue_wait_mean_ms",
            "queue_wait_p99_ms",
            "network_mean_ms",
            "revenue_usd",
            "gpu_usd",
            "transit_usd",
            "screening_usd",
            "margin_usd",
        ])?;
        for (tenant, m) in scenario.tenants.iter().zip(&metrics.tenants) {
            let (ttft, tpot, e2e, wait, network) = (
                m.ttft.summary(),
                m.tpot.summary(),
                m.e2e.summary(),
                m.queue_wait.summary(),
                m.network.summary(),
            );
            w.write_record([
                tenant.id.clone(),
                tenant.jurisdiction.clone(),
                tenant.tier.clone(),
                m.generated.to_string(),
                m.input_tokens.to_string(),
                m.output_tokens.to_string(),
                m.completed.to_string(),
                m.rejected().to_string(),
                m.rejected_by_reason[crate::simulator::REJECT_NO_ROUTE].to_string(),
                m.rejected_by_reason[crate::simulator::REJECT_QUOTA].to_string(),
                m.rejected_by_reason[crate::simulator::REJECT_CONCURRENCY].to_string(),
                m.rejected_by_reason[crate::simulator::REJECT_SCREENING].to_string(),
                m.rejected_by_reason[crate::simulator::POLICY_REASONS_FROM..]
                    .iter()
                    .sum::<u64>()
                    .to_string(),
                m.dropped.to_string(),
                m.timed_out.to_string(),
                m.failed.to_string(),
                m.in_flight.to_string(),
                optional(m.slo_attainment().map(round6)),
                number(ttft.mean),
                number(ttft.p50),
                number(ttft.p99),
                number(tpot.mean),
                number(tpot.p99),
                number(e2e.mean),
                number(e2e.p99),
                number(wait.mean),
                number(wait.p99),
                number(network.mean),
                number(economics.tenants[&tenant.id].revenue_usd),
                number(economics.tenants[&tenant.id].gpu_usd),
                number(economics.tenants[&tenant.id].transit_usd),
                number(economics.tenants[&tenant.id].screening_usd),
                number(economics.tenants[&tenant.id].margin_usd),
            ])?;
        }
        Ok(())
    })?;
    write_atomic(&directory.join("tenants.csv"), &tenants)?;

    let deployments = csv_bytes(|w| {
        w.write_record([
            "deployment",
            "model",
            "site",
            "jurisdiction",
            "replicas",
            "max_batch",
            "arrivals",
            "completed",
            "dropped",
            "timed_out",
            "output_tokens",
            "preemptions",
            "oversized",
            "kv_cache_tokens",
            "kv_peak_tokens",
            "utilization",
            "mean_batch",
            "mean_queue_length",
            "gpu_usd",
        ])?;
        for (deployment, m) in scenario.deployments.iter().zip(&metrics.deployments) {
            let site = &scenario.sites[deployment.site];
            w.write_record([
                deployment.id.clone(),
                scenario.models[deployment.model].id.clone(),
                site.id.clone(),
                site.jurisdiction.clone(),
                deployment.replicas.to_string(),
                deployment.max_batch.to_string(),
                m.arrivals.to_string(),
                m.completed.to_string(),
                m.dropped.to_string(),
                m.timed_out.to_string(),
                m.output_tokens.to_string(),
                m.preemptions.to_string(),
                m.oversized.to_string(),
                m.kv_cache_tokens.map(|t| t.to_string()).unwrap_or_default(),
                m.kv_peak_tokens.to_string(),
                number(m.utilization),
                number(m.mean_batch),
                number(m.mean_queue_length),
                number(economics.deployments_gpu_usd[&deployment.id]),
            ])?;
        }
        Ok(())
    })?;
    write_atomic(&directory.join("deployments.csv"), &deployments)?;

    let links = csv_bytes(|w| {
        w.write_record([
            "link",
            "from",
            "to",
            "latency_ms",
            "latency_derived",
            "crosses_border",
            "up",
            "requests",
            "gb",
            "cost_usd",
            "utilization",
            "queue_wait_mean_ms",
        ])?;
        for (index, (link, requests)) in scenario
            .links
            .iter()
            .zip(&metrics.link_requests)
            .enumerate()
        {
            let money = &economics.links[&link.id];
            w.write_record([
                link.id.clone(),
                scenario.sites[link.ends.0].id.clone(),
                scenario.sites[link.ends.1].id.clone(),
                number(link.latency.as_millis_f64()),
                link.latency_derived.to_string(),
                link.crosses_border(&scenario.sites).to_string(),
                link.up.to_string(),
                requests.to_string(),
                number(money.gb),
                number(money.cost_usd),
                optional(money.utilization),
                number(if *requests > 0 {
                    metrics.link_queue_ns[index] as f64 / *requests as f64 / 1e6
                } else {
                    0.0
                }),
            ])?;
        }
        Ok(())
    })?;
    write_atomic(&directory.join("links.csv"), &links)?;

    let sites = csv_bytes(|w| {
        w.write_record(["site", "kind", "jurisdiction", "latitude", "longitude"])?;
        for site in &scenario.sites {
            let (latitude, longitude) = site.location.unzip();
            w.write_record([
                site.id.clone(),
                site.kind.name().to_string(),
                site.jurisdiction.clone(),
                optional(latitude),
                optional(longitude),
            ])?;
        }
        Ok(())
    })?;
    write_atomic(&directory.join("sites.csv"), &sites)?;

    let cdf = csv_bytes(|w| {
        w.write_record(["tenant", "metric", "quantile", "ms"])?;
        // `*` (never a tenant id) is every tenant together: compare charts draw it.
        let overall = metrics.overall();
        let rows = scenario
            .tenants
            .iter()
            .map(|tenant| tenant.id.as_str())
            .zip(&metrics.tenants)
            .chain([("*", &overall)]);
        for (tenant, m) in rows {
            for (metric, stats) in [("ttft", &m.ttft), ("e2e", &m.e2e), ("tpot", &m.tpot)] {
                for (quantile, ms) in stats.cdf_points() {
                    w.write_record([
                        tenant.to_string(),
                        metric.to_string(),
                        number(quantile),
                        number(ms),
                    ])?;
                }
            }
        }
        Ok(())
    })?;
    write_atomic(&directory.join("latency_cdf.csv"), &cdf)?;

    let timeseries = csv_bytes(|w| {
        w.write_record([
            "time_s",
            "kind",
            "id",
            "arrivals",
            "completions",
            "queue_length",
            "utilization",
            "mean_batch",
        ])?;
        for row in &metrics.timeseries {
            let id = match row.kind {
                "deployment" => &scenario.deployments[row.entity as usize].id,
                _ => &scenario.tenants[row.entity as usize].id,
            };
            w.write_record([
                number(row.time_s),
                row.kind.to_string(),
                id.clone(),
                row.arrivals.to_string(),
                row.completions.to_string(),
                optional(row.queue_length),
                optional(row.utilization.map(round6)),
                optional(row.mean_batch.map(round6)),
            ])?;
        }
        Ok(())
    })?;
    write_atomic(&directory.join("timeseries.csv"), &timeseries)?;
    Ok(())
}
