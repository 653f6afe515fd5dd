//! `report.html`: one self-contained page (SVG charts inlined, no network fetches) with the
//! run's headline figures, every chart, and the per-tenant and per-deployment tables.

use std::fmt::Write;
use std::path::Path;

use super::{ChartError, RunData, draw::CHARTS};

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn cell(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Number(number) => number
            .as_f64()
            .map(|n| {
                if n.fract() == 0.0 {
                    format!("{n:.0}")
                } else {
                    format!("{n:.3}")
                }
            })
            .unwrap_or_default(),
        serde_json::Value::String(text) => escape(text),
        serde_json::Value::Null => "—".into(),
        other => escape(&other.to_string()),
    }
}

/// The page's opening, up to and including its `<h1>` title.
pub fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title>\
         <style>body{{font-family:'DejaVu Sans',Verdana,sans-serif;margin:2em;color:#222}}\
         table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #bbb;padding:4px 8px;text-align:right}}\
         th{{background:#eee}}td:first-child,th:first-child{{text-align:left}}figure{{margin:1em 0}}\
         svg{{max-width:100%;height:auto}}</style></head><body>\n<h1>{0}</h1>\n",
        escape(title)
    )
}

/// The chart `name` from `charts` as a `<figure>` with its SVG inline.
pub fn figure(charts: &Path, name: &str) -> Result<String, ChartError> {
    let path = charts.join(format!("{name}.svg"));
    let svg = std::fs::read_to_string(&path).map_err(|error| ChartError::new(&path, error))?;
    // Inline the SVG without its XML declaration.
    let start = svg.find("<svg").unwrap_or(0);
    Ok(format!(
        "<figure id=\"{name}\">{}</figure>\n",
        &svg[start..]
    ))
}

pub fn page(data: &RunData, charts: &Path) -> Result<String, ChartError> {
    let summary = &data.summary;
    let mut html = head(&format!("strait · {} · {}", data.scenario, data.strategy));
    let requests = &summary["requests"];
    let economics = &summary["economics"];
    let _ = write!(
        html,
        "<p>{} simulated seconds (warm-up {} s), seed {}.</p>\n<table><tr><th>generated</th><th>completed</th>\
         <th>rejected</th><th>dropped</th><th>timed out</th><th>in flight</th><th>SLO attainment</th>\
         <th>TTFT p99 (ms)</th><th>revenue ($)</th><th>cost ($)</th><th>margin ($)</th></tr>\
         <tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></table>\n",
        cell(&summary["simulated_s"]),
        cell(&summary["warmup_s"]),
        cell(&summary["seed"]),
        cell(&requests["generated"]),
        cell(&requests["completed"]),
        cell(&requests["rejected"]),
        cell(&requests["dropped"]),
        cell(&requests["timed_out"]),
        cell(&requests["in_flight"]),
        cell(&summary["slo_attainment"]),
        cell(&summary["latency_ms"]["ttft"]["p99"]),
        cell(&economics["revenue_usd"]),
        cell(&economics["cost_usd"]["total"]),
        cell(&economics["margin_usd"]),
    );
    for chart in CHARTS {
        html.push_str(&figure(charts, chart.name)?);
    }
    html.push_str("<h2>Tenants</h2>\n<table><tr><th>tenant</th><th>generated</th><th>completed</th><th>rejected</th>\
        <th>SLO attainment</th><th>TTFT p50 (ms)</th><th>TTFT p99 (ms)</th><th>TPOT p99 (ms)</th><th>E2E p99 (ms)</th>\
        <th>revenue ($)</th><th>margin ($)</th></tr>\n");
    for tenant in &data.tenants {
        let t = &summary["tenants"][tenant];
        let money = &economics["tenants"][tenant];
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(tenant),
            cell(&t["requests"]["generated"]),
            cell(&t["requests"]["completed"]),
            cell(&t["requests"]["rejected"]),
            cell(&t["slo_attainment"]),
            cell(&t["latency_ms"]["ttft"]["p50"]),
            cell(&t["latency_ms"]["ttft"]["p99"]),
            cell(&t["latency_ms"]["tpot"]["p99"]),
            cell(&t["latency_ms"]["e2e"]["p99"]),
            cell(&money["revenue_usd"]),
            cell(&money["margin_usd"]),
        );
    }
    html.push_str("</table>\n<h2>Deployments</h2>\n<table><tr><th>deployment</th><th>site</th><th>replicas</th>\
        <th>completed</th><th>utilisation</th><th>mean batch</th><th>mean queue</th><th>preemptions</th><th>GPU cost ($)</th></tr>\n");
    for deployment in &data.deployments {
        let d = &summary["deployments"][deployment];
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(deployment),
            cell(&d["site"]),
            cell(&d["replicas"]),
            cell(&d["completed"]),
            cell(&d["utilization"]),
            cell(&d["mean_batch"]),
            cell(&d["mean_queue_length"]),
            cell(&d["preemptions"]),
            cell(&economics["deployments_gpu_usd"][deployment]),
        );
    }
    html.push_str(
        "</table>\n<p>Made by strait from summary.json and the CSV files beside it; \
        `strait plot` redraws it.</p>\n</body></html>\n",
    );
    Ok(html)
}
