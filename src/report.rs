//! Output files: `summary.json`, `tenants.csv`, `deployments.csv`, `links.csv`,
//! `timeseries.csv`, and `timing.json`; plus the short summary printed on stdout.
//!
//! Everything but `timing.json` is a pure function of the scenario and seed: maps are
//! ordered (BTreeMap), floats are rounded to six decimals and printed by Rust's shortest
//! round-trip formatting, so the same run gives byte-identical files. Wall-clock figures
//! differ between runs by nature, so they live in `timing.json` (and on stdout) rather
//! than in the summary.
//!
//! Every file is written to a temporary name in the output directory and renamed into
//! place, so a killed run never leaves a half-written file.

mod files;
mod text;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::metrics::{LatencySummary, round6};
use crate::simulator::{RunOutput, TenantMetrics};

pub use files::{is_run_label, write_atomic, write_run};
pub use text::{grouped, print_run};

#[derive(Serialize)]
pub struct RequestCounts {
    pub generated: u64,
    /// Tokens the generated requests asked for: prompt (input) and generation (output).
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub completed: u64,
    pub rejected: u64,
    pub dropped: u64,
    pub timed_out: u64,
    pub failed: u64,
    pub in_flight: u64,
}

#[derive(Serialize)]
pub struct LatencyBlock {
    pub ttft: LatencySummary,
    pub tpot: LatencySummary,
    pub e2e: LatencySummary,
    pub queue_wait: LatencySummary,
    pub network: LatencySummary,
}

#[derive(Serialize)]
pub struct TenantSummary {
    pub requests: RequestCounts,
    /// A hash of every request the tenant generated: equal across runs with identical
    /// demand (see `strait compare`).
    #[serde(serialize_with = "hex")]
    pub demand_fingerprint: u64,
    pub rejected_by_reason: BTreeMap<String, u64>,
    pub latency_ms: LatencyBlock,
    /// Null when no request was judged (none ended after warm-up).
    pub slo_attainment: Option<f64>,
    /// The tenant's targets, ms (null: none).
    pub slo_ms: SloTargets,
}

#[derive(Serialize)]
pub struct SloTargets {
    pub ttft: Option<f64>,
    pub tpot: Option<f64>,
    pub e2e: Option<f64>,
}

#[derive(Serialize)]
pub struct DeploymentSummary {
    pub model: String,
    pub site: String,
    pub replicas: u32,
    pub max_batch: u32,
    pub arrivals: u64,
    pub completed: u64,
    pub dropped: u64,
    pub timed_out: u64,
    /// Output tokens of the requests completed here.
    pub output_tokens: u64,
    pub preemptions: u64,
    /// Dropped on arrival: input + output tokens exceed a replica's KV cache.
    pub oversized: u64,
    /// KV-cache capacity per replica (null: unlimited) and the most one replica held.
    pub kv_cache_tokens: Option<u64>,
    pub kv_peak_tokens: u64,
    pub utilization: f64,
    pub mean_batch: f64,
    pub mean_queue_length: f64,
    /// Mean queue wait of requests served here (after warm-up), ms.
    pub queue_wait_mean_ms: f64,
    /// Half-width of its 95% confidence interval (batch means), ms; null if too few batches.
    pub queue_wait_ci95_ms: Option<f64>,
    /// The closed-form prediction, where queueing theory covers this deployment exactly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theory: Option<TheorySummary>,
}

#[derive(Serialize)]
pub struct TheorySummary {
    pub model: String,
    pub arrival_rate_per_s: f64,
    pub utilization: f64,
    /// Null when the station is unstable (utilisation ≥ 1).
    pub mean_queue_wait_ms: Option<f64>,
}

/// The deterministic part of the engine's figures.
#[derive(Serialize)]
pub struct EngineSummary {
    pub events: u64,
    pub peak_live_requests: usize,
}

#[derive(Serialize)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    pub strategy: String,
    pub simulated_s: f64,
    pub warmup_s: f64,
    pub requests: RequestCounts,
    pub rejected_by_reason: BTreeMap<String, u64>,
    pub latency_ms: LatencyBlock,
    /// Null when no request was judged (none ended after warm-up).
    pub slo_attainment: Option<f64>,
    pub tenants: BTreeMap<String, TenantSummary>,
    pub deployments: BTreeMap<String, DeploymentSummary>,
    /// Costs, revenue, margin and cross-border traffic (see `simulator::economics`).
    pub economics: crate::simulator::Economics,
    pub engine: EngineSummary,
}

/// Wall-clock measurements of one run on this machine.
#[derive(Serialize)]
pub struct Timing {
    pub wall_s: f64,
    pub events: u64,
    pub events_per_s: f64,
    pub requests_per_s: f64,
    /// The process's peak resident memory (Linux VmHWM), MiB; null where unknown.
    pub peak_rss_mib: Option<f64>,
}

/// Peak resident set size of this process in MiB, from /proc/self/status (Linux).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kib / 1024.0 * 10.0).round() / 10.0)
}

impl Timing {
    pub fn new(output: &RunOutput, wall_s: f64) -> Self {
        let wall = wall_s.max(1e-9);
        let generated: u64 = output.metrics.tenants.iter().map(|t| t.generated).sum();
        Timing {
            wall_s: round6(wall_s),
            events: output.events,
            events_per_s: (output.events as f64 / wall).round(),
            requests_per_s: (generated as f64 / wall).round(),
            peak_rss_mib: peak_rss_mib(),
        }
    }
}

fn hex<S: serde::Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format!("{value:016x}"))
}

fn counts(metrics: &TenantMetrics) -> RequestCounts {
    RequestCounts {
        generated: metrics.generated,
        input_tokens: metrics.input_tokens,
        output_tokens: metrics.output_tokens,
        completed: metrics.completed,
        rejected: metrics.rejected(),
        dropped: metrics.dropped,
        timed_out: metrics.timed_out,
        failed: metrics.failed,
        in_flight: metrics.in_flight,
    }
}

fn latency(metrics: &TenantMetrics) -> LatencyBlock {
    LatencyBlock {
        ttft: metrics.ttft.summary(),
        tpot: metrics.tpot.summary(),
        e2e: metrics.e2e.summary(),
        queue_wait: metrics.queue_wait.summary(),
        network: metrics.network.summary(),
    }
}

fn reasons(metrics: &TenantMetrics, names: &[String]) -> BTreeMap<String, u64> {
    names
        .iter()
        .zip(&metrics.rejected_by_reason)
        .filter(|(_, count)| **count > 0)
        .map(|(name, count)| (name.clone(), *count))
        .collect()
}

impl Summary {
    pub fn new(output: &RunOutput) -> Self {
        let scenario = &output.scenario;
        let metrics = &output.metrics;
        let overall = metrics.overall();
        let tenants = scenario
            .tenants
            .iter()
            .zip(&metrics.tenants)
            .map(|(tenant, tenant_metrics)| {
                (
                    tenant.id.clone(),
                    TenantSummary {
                        requests: counts(tenant_metrics),
                        demand_fingerprint: tenant_metrics.demand_fingerprint,
                        rejected_by_reason: reasons(tenant_metrics, &metrics.reject_reasons),
                        latency_ms: latency(tenant_metrics),
                        slo_attainment: tenant_metrics.slo_attainment().map(round6),
                        slo_ms: SloTargets {
                            ttft: tenant.slo.ttft.map(|d| round6(d.as_millis_f64())),
                            tpot: tenant.slo.tpot.map(|d| round6(d.as_millis_f64())),
                            e2e: tenant.slo.e2e.map(|d| round6(d.as_millis_f64())),
                        },
                    },
                )
            })
            .collect();
        let deployments = scenario
            .deployments
            .iter()
            .zip(&metrics.deployments)
            .enumerate()
            .map(|(index, (deployment, figures))| {
                let theory =
                    crate::queueing::predict(scenario, index).map(|prediction| TheorySummary {
                        model: prediction.kendall,
                        arrival_rate_per_s: round6(prediction.arrival_rate_per_s),
                        utilization: round6(prediction.utilization),
                        mean_queue_wait_ms: prediction
                            .mean_queue_wait
                            .map(|wait| round6(wait.as_millis_f64())),
                    });
                (
                    deployment.id.clone(),
                    DeploymentSummary {
                        model: scenario.models[deployment.model].id.clone(),
                        site: scenario.sites[deployment.site].id.clone(),
                        replicas: deployment.replicas,
                        max_batch: deployment.max_batch,
                        arrivals: figures.arrivals,
                        completed: figures.completed,
                        dropped: figures.dropped,
                        timed_out: figures.timed_out,
                        output_tokens: figures.output_tokens,
                        preemptions: figures.preemptions,
                        oversized: figures.oversized,
                        kv_cache_tokens: figures.kv_cache_tokens,
                        kv_peak_tokens: figures.kv_peak_tokens,
                        utilization: round6(figures.utilization),
                        mean_batch: round6(figures.mean_batch),
                        mean_queue_length: round6(figures.mean_queue_length),
                        queue_wait_mean_ms: round6(figures.queue_wait_mean_ns / 1e6),
                        queue_wait_ci95_ms: figures.queue_wait_ci95_ns.map(|ci| round6(ci / 1e6)),
                        theory,
                    },
                )
            })
            .collect();
        Summary {
            scenario: scenario.run.name.clone(),
            seed: scenario.run.seed,
            strategy: output.strategy.clone(),
            simulated_s: round6(scenario.run.duration.as_secs_f64()),
            warmup_s: round6(scenario.run.warmup.as_secs_f64()),
            requests: counts(&overall),
            rejected_by_reason: reasons(&overall, &metrics.reject_reasons),
            latency_ms: latency(&overall),
            slo_attainment: overall.slo_attainment().map(round6),
            tenants,
            deployments,
            economics: crate::simulator::Economics::new(scenario, &output.ledger),
            engine: EngineSummary {
                events: output.events,
                peak_live_requests: metrics.peak_live_requests,
            },
        }
    }
}
