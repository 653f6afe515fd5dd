//! The short human-readable summary of a run, printed on stdout.

use std::io::{self, Write};

use super::{Summary, Timing};
use crate::metrics::LatencySummary;

/// Thousands separators: 1234567 → "1,234,567".
pub fn grouped(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `99.99%`, or `-` when nothing was judged.
fn percent(fraction: Option<f64>) -> String {
    fraction
        .map(|f| format!("{:.2}%", f * 100.0))
        .unwrap_or_else(|| "-".to_string())
}

fn latency_row(out: &mut impl Write, name: &str, summary: &LatencySummary) -> io::Result<()> {
    if summary.count == 0 {
        return writeln!(out, "  {name:<11} {:>10}", "-");
    }
    writeln!(
        out,
        "  {name:<11} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
        summary.mean, summary.p50, summary.p90, summary.p99, summary.max
    )
}

/// Prints the summary. Errors (a closed pipe) are returned for the caller to ignore.
pub fn print_run(
    out: &mut impl Write,
    summary: &Summary,
    timing: &Timing,
    directory: &str,
) -> io::Result<()> {
    writeln!(
        out,
        "strait run {} · strategy {} · seed {} · {} s simulated (warm-up {} s)",
        summary.scenario, summary.strategy, summary.seed, summary.simulated_s, summary.warmup_s
    )?;
    let r = &summary.requests;
    writeln!(
        out,
        "requests: {} generated, {} completed, {} rejected, {} dropped, {} timed out, {} failed, {} in flight",
        grouped(r.generated),
        grouped(r.completed),
        grouped(r.rejected),
        grouped(r.dropped),
        grouped(r.timed_out),
        grouped(r.failed),
        grouped(r.in_flight)
    )?;
    for (reason, count) in &summary.rejected_by_reason {
        writeln!(out, "  rejected {reason}: {}", grouped(*count))?;
    }
    writeln!(
        out,
        "latency (ms, after warm-up) {:>6} {:>10} {:>10} {:>10} {:>10}",
        "mean", "p50", "p90", "p99", "max"
    )?;
    let l = &summary.latency_ms;
    latency_row(out, "TTFT", &l.ttft)?;
    latency_row(out, "TPOT", &l.tpot)?;
    latency_row(out, "E2E", &l.e2e)?;
    latency_row(out, "queue wait", &l.queue_wait)?;
    latency_row(out, "network", &l.network)?;
    writeln!(out, "SLO attainment: {}", percent(summary.slo_attainment))?;
    let money = &summary.economics;
    writeln!(
        out,
        "economics: revenue ${:.2}, cost ${:.2} (GPU ${:.2}, transit ${:.2}, screening ${:.2}), margin ${:.2}",
        money.revenue_usd,
        money.cost_usd.total,
        money.cost_usd.gpu,
        money.cost_usd.transit,
        money.cost_usd.screening,
        money.margin_usd
    )?;
    let crossings: Vec<String> = money
        .cross_border_gb
        .iter()
        .filter(|(_, gb)| **gb > 0.0)
        .map(|(pair, gb)| format!("{pair} {gb:.3}"))
        .collect();
    if !crossings.is_empty() {
        writeln!(out, "cross-border GB: {}", crossings.join(", "))?;
    }

    writeln!(
        out,
        "\n{:<20} {:>12} {:>12} {:>10} {:>12} {:>8}",
        "tenant", "generated", "completed", "rejected", "p99 TTFT ms", "SLO %"
    )?;
    for (id, tenant) in &summary.tenants {
        writeln!(
            out,
            "{:<20} {:>12} {:>12} {:>10} {:>12} {:>8}",
            id,
            grouped(tenant.requests.generated),
            grouped(tenant.requests.completed),
            grouped(tenant.requests.rejected),
            if tenant.latency_ms.ttft.count == 0 {
                "-".to_string()
            } else {
                format!("{:.1}", tenant.latency_ms.ttft.p99)
            },
            percent(tenant.slo_attainment).trim_end_matches('%')
        )?;
    }
    writeln!(
        out,
        "\n{:<20} {:<12} {:>8} {:>12} {:>8} {:>10} {:>10}",
        "deployment", "site", "replicas", "completed", "util %", "mean batch", "mean queue"
    )?;
    for (id, deployment) in &summary.deployments {
        writeln!(
            out,
            "{:<20} {:<12} {:>8} {:>12} {:>8.1} {:>10.2} {:>10.2}",
            id,
            deployment.site,
            deployment.replicas,
            grouped(deployment.completed),
            deployment.utilization * 100.0,
            deployment.mean_batch,
            deployment.mean_queue_length
        )?;
    }
    for (id, deployment) in &summary.deployments {
        let Some(theory) = &deployment.theory else {
            continue;
        };
        let predicted = match theory.mean_queue_wait_ms {
            Some(wait) => format!("queue wait {wait:.3} ms"),
            None => "unstable (utilisation ≥ 1): the queue grows without bound".to_string(),
        };
        let interval = deployment
            .queue_wait_ci95_ms
            .map(|ci| format!(" ± {ci:.3} ms (95% CI)"))
            .unwrap_or_default();
        writeln!(
            out,
            "theory for {id}: {} with λ = {}/s, utilisation {:.4}: {predicted}; measured {:.3} ms{interval}, utilisation {:.4}",
            theory.model,
            theory.arrival_rate_per_s,
            theory.utilization,
            deployment.queue_wait_mean_ms,
            deployment.utilization
        )?;
    }
    writeln!(
        out,
        "\nengine: {} events in {:.3} s wall ({:.2} M events/s, {} simulated requests/s{})",
        grouped(summary.engine.events),
        timing.wall_s,
        timing.events_per_s / 1e6,
        grouped(timing.requests_per_s as u64),
        timing
            .peak_rss_mib
            .map(|mib| format!(", peak RSS {mib} MiB"))
            .unwrap_or_default()
    )?;
    writeln!(out, "output: {directory}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_grouped() {
        assert_eq!(super::grouped(0), "0");
        assert_eq!(super::grouped(999), "999");
        assert_eq!(super::grouped(1000), "1,000");
        assert_eq!(super::grouped(1234567), "1,234,567");
    }
}
