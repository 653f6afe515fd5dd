//! The scenario file exactly as written: serde structs with no interpretation yet.
//!
//! Quantities with units stay strings (or numbers) here; [`super::validate`] parses them,
//! resolves ids and applies defaults. Every struct denies unknown fields, so a typo is an
//! error rather than a silently ignored setting. The field reference is
//! `scenarios/README.md`.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub run: RawRun,
    #[serde(default)]
    pub site: Vec<RawSite>,
    #[serde(default)]
    pub link: Vec<RawLink>,
    #[serde(default)]
    pub gpu: Vec<RawGpu>,
    #[serde(default)]
    pub model: Vec<RawModel>,
    #[serde(default)]
    pub profile: Vec<RawProfile>,
    #[serde(default)]
    pub deployment: Vec<RawDeployment>,
    #[serde(default)]
    pub tenant: Vec<RawTenant>,
    #[serde(default)]
    pub policy: Vec<RawPolicy>,
}

/// A number written either bare (`3200`) or with its unit (`"3200/s"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawQuantity {
    Number(f64),
    Text(String),
}

/// A number that should be a whole number, kept as written so that validation can say
/// what is wrong with `1e20` or `"12"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawInteger {
    Integer(i64),
    Float(f64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    pub name: Option<String>,
    pub duration: String,
    pub start: Option<String>,
    pub warmup: Option<String>,
    pub seed: Option<RawInteger>,
    pub metrics_interval: Option<String>,
    pub strategy: Option<String>,
    pub bytes_per_token: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSite {
    pub id: String,
    pub kind: String,
    pub jurisdiction: String,
    pub location: Option<Vec<f64>>,
    pub name: Option<String>,
    /// Abuse screening at a hub: `{ delay = { dist = ... }, refuse = 0.001, usd_per_request = 0.00002 }`.
    pub screening: Option<RawScreening>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScreening {
    pub delay: Option<RawTimeDistribution>,
    pub refuse: Option<f64>,
    pub usd_per_request: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLink {
    pub id: String,
    pub between: Vec<String>,
    pub latency: Option<String>,
    pub route_factor: Option<f64>,
    pub jitter: Option<RawTimeDistribution>,
    pub bandwidth: Option<String>,
    pub usd_per_gb: Option<f64>,
    pub up: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGpu {
    pub id: String,
    pub gpus: Option<u32>,
    pub memory_gb: Option<f64>,
    pub usd_per_gpu_hour: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    pub id: String,
    pub origin: Option<String>,
    pub usd_per_m_input: Option<f64>,
    pub usd_per_m_output: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeployment {
    pub id: String,
    pub model: String,
    pub site: String,
    pub gpu: Option<String>,
    pub replicas: i64,
    pub max_batch: Option<i64>,
    pub max_queue: Option<i64>,
    pub service: Option<RawTimeDistribution>,
    pub llm: Option<RawLlm>,
    /// A performance profile by id: the scenario's `[[profile]]` or the shipped library.
    pub profile: Option<String>,
    /// KV-cache capacity per replica in tokens, overriding the profile's.
    pub kv_cache_tokens: Option<RawInteger>,
    /// `"prefill-first"` (default) or `"chunked"`.
    pub batching: Option<String>,
    /// Token budget per iteration with chunked prefill.
    pub chunk_tokens: Option<i64>,
    /// Share of traffic for the `weighted` strategy (default 1).
    pub route_weight: Option<f64>,
}

/// A performance profile: one model on one GPU configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfile {
    pub id: String,
    pub model: Option<String>,
    pub gpu: Option<String>,
    pub gpus: Option<i64>,
    pub kv_cache_tokens: Option<RawInteger>,
    pub decode: RawDecodeCurve,
    pub prefill: RawPrefillCurve,
}

/// Decode step time: a table (`batch`, `step`) or a formula (`base`, `per_seq`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDecodeCurve {
    pub batch: Option<Vec<f64>>,
    pub step: Option<Vec<String>>,
    pub base: Option<String>,
    pub per_seq: Option<String>,
}

/// Prefill time: a rate, a table (`tokens`, `time`) or DistServe's quadratic form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrefillCurve {
    pub tokens_per_s: Option<f64>,
    pub tokens: Option<Vec<f64>>,
    pub time: Option<Vec<String>>,
    pub base: Option<String>,
    pub per_token: Option<String>,
    pub per_token_squared: Option<String>,
}

/// The first LLM serving model: prefill at a token rate, decode steps of `base + per_seq × batch`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLlm {
    pub prefill_tokens_per_s: f64,
    pub decode_step_base: String,
    pub decode_step_per_seq: String,
}

/// A distribution of time spans (service times, jitter).
#[derive(Debug, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum RawTimeDistribution {
    Exponential { mean: String },
    Deterministic { mean: String },
    Lognormal { median: String, p99: String },
    Uniform { min: String, max: String },
}

/// A distribution of token counts.
#[derive(Debug, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum RawTokenDistribution {
    Fixed {
        value: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    Lognormal {
        median: f64,
        p99: f64,
    },
    Empirical {
        values: Vec<f64>,
    },
    /// A named preset fitted from a trace: `{ dist = "preset", name = "azure-conv" }`.
    Preset {
        name: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTenant {
    pub id: String,
    pub jurisdiction: String,
    pub tier: Option<String>,
    pub ingress: BTreeMap<String, f64>,
    pub rate: Option<RawQuantity>,
    pub diurnal: Option<RawDiurnal>,
    /// A rate by time-of-day windows: `{ from = ["0h", "8h"], rate = ["100/s", "300/s"] }`.
    pub rate_windows: Option<RawRateWindows>,
    /// Inter-arrival process of a synthetic rate (default Poisson).
    pub arrivals: Option<RawArrivals>,
    /// Replay a trace file instead of a synthetic rate.
    pub trace: Option<RawTrace>,
    pub models: BTreeMap<String, f64>,
    pub input_tokens: Option<RawTokenDistribution>,
    pub output_tokens: Option<RawTokenDistribution>,
    pub slo: Option<RawSlo>,
    pub timeout: Option<String>,
    pub discount: Option<f64>,
    pub quota: Option<RawQuota>,
}

/// `{ requests_per_s = 500, burst = 1000, tokens_per_min = 3e6, token_burst = 3e6, concurrency = 2000 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuota {
    pub requests_per_s: Option<f64>,
    pub burst: Option<f64>,
    pub tokens_per_min: Option<f64>,
    pub token_burst: Option<f64>,
    pub concurrency: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRateWindows {
    pub from: Vec<String>,
    pub rate: Vec<RawQuantity>,
}

/// `{ process = "gamma", cv = 4 }`: renewal arrivals with this coefficient of variation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawArrivals {
    pub process: String,
    pub cv: Option<f64>,
}

/// `{ file = "traces/azure-conv-2023.csv", format = "azure", offset = "10m", speedup = 2, scale = 0.5, loop = true }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrace {
    pub file: String,
    pub format: String,
    pub offset: Option<String>,
    pub speedup: Option<f64>,
    pub scale: Option<f64>,
    #[serde(rename = "loop")]
    pub looped: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDiurnal {
    pub peak_hour: f64,
    pub trough_ratio: f64,
    #[serde(default)]
    pub utc_offset: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlo {
    pub ttft: Option<String>,
    pub tpot: Option<String>,
    pub e2e: Option<String>,
}

/// One allow/deny rule. Every matcher present must match; absent matchers match anything.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub id: String,
    pub action: String,
    pub tenant: Option<Vec<String>>,
    pub tenant_jurisdiction: Option<Vec<String>>,
    pub tier: Option<Vec<String>>,
    pub model: Option<Vec<String>>,
    pub model_origin: Option<Vec<String>>,
    pub serving_jurisdiction: Option<Vec<String>>,
    pub transit_jurisdiction: Option<Vec<String>>,
    pub require_via: Option<Vec<String>>,
}
