//! The validated scenario: units parsed, ids resolved to indices, defaults applied.
//!
//! Everything downstream (topology, demand, serving, routing) reads these types and
//! never the raw file. Indices refer to positions in the `Scenario`'s vectors.

use crate::distribution::{TimeDistribution, TokenDistribution};
use crate::engine::SimDuration;
use crate::profile::Profile;

pub type SiteIndex = usize;
pub type LinkIndex = usize;
pub type GpuIndex = usize;
pub type ModelIndex = usize;
pub type DeploymentIndex = usize;
pub type TenantIndex = usize;

#[derive(Clone, Debug)]
pub struct Scenario {
    pub run: RunConfig,
    pub sites: Vec<Site>,
    pub links: Vec<Link>,
    pub gpus: Vec<GpuType>,
    pub models: Vec<Model>,
    pub deployments: Vec<Deployment>,
    pub tenants: Vec<Tenant>,
    pub policies: Vec<PolicyRule>,
}

#[derive(Clone, Debug)]
pub struct RunConfig {
    pub name: String,
    pub duration: SimDuration,
    /// Time of day (UTC) at which simulated time 0 falls: diurnal shapes are read at
    /// `start + t`. `"12h"` starts the run at noon UTC.
    pub start: SimDuration,
    pub warmup: SimDuration,
    pub seed: u64,
    pub metrics_interval: SimDuration,
    /// The routing strategy spec, e.g. `"nearest"` or `"least-loaded"`.
    pub strategy: String,
    /// Bytes on the wire per prompt or output token (transit volumes and costs).
    pub bytes_per_token: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SiteKind {
    /// Has GPUs: deployments live here.
    Region,
    /// A transit point.
    Hub,
    /// Where a tenant's traffic enters the network.
    Ingress,
}

impl SiteKind {
    pub fn name(self) -> &'static str {
        match self {
            SiteKind::Region => "region",
            SiteKind::Hub => "hub",
            SiteKind::Ingress => "ingress",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Site {
    pub id: String,
    pub kind: SiteKind,
    pub jurisdiction: String,
    /// (latitude, longitude) in degrees.
    pub location: Option<(f64, f64)>,
    /// Abuse screening of the requests passing this hub.
    pub screening: Option<Screening>,
}

/// What a hub's screening does to each request passing through it on its way in.
#[derive(Clone, Debug)]
pub struct Screening {
    /// Time added to the request's forward trip.
    pub delay: Option<TimeDistribution>,
    /// Chance that the request is refused there (rejected `screening`).
    pub refuse_probability: f64,
    /// Cost of screening one request, USD.
    pub usd_per_request: f64,
}

#[derive(Clone, Debug)]
pub struct Link {
    pub id: String,
    pub ends: (SiteIndex, SiteIndex),
    /// One-way latency, the same both ways.
    pub latency: SimDuration,
    /// Whether `latency` was derived from the sites' great-circle distance.
    pub latency_derived: bool,
    /// Extra one-way delay added to each traversal.
    pub jitter: Option<TimeDistribution>,
    pub bandwidth_bits_per_s: Option<f64>,
    pub usd_per_gb: f64,
    pub up: bool,
}

impl Link {
    /// A border crossing joins sites in different jurisdictions.
    pub fn crosses_border(&self, sites: &[Site]) -> bool {
        sites[self.ends.0].jurisdiction != sites[self.ends.1].jurisdiction
    }
}

#[derive(Clone, Debug)]
pub struct GpuType {
    pub id: String,
    /// GPUs per replica of this configuration (e.g. 8 for `h100x8`).
    pub gpus: u32,
    /// Memory of one GPU, in GB (e.g. 80 for an H100 SXM). Recorded for KV-cache sizing.
    pub memory_gb: Option<f64>,
    pub usd_per_gpu_hour: f64,
}

#[derive(Clone, Debug)]
pub struct Model {
    pub id: String,
    /// Jurisdiction the model comes from (policy may restrict where it is served and to whom).
    pub origin: Option<String>,
    pub usd_per_m_input: f64,
    pub usd_per_m_output: f64,
}

#[derive(Clone, Debug)]
pub struct Deployment {
    pub id: String,
    pub model: ModelIndex,
    pub site: SiteIndex,
    pub gpu: Option<GpuIndex>,
    pub replicas: u32,
    /// Requests a replica serves at once (1 for a plain station).
    pub max_batch: u32,
    /// Requests allowed to wait; arrivals beyond it are dropped. `None`: unbounded.
    pub max_queue: Option<u32>,
    pub service: ServiceModel,
    /// Share of traffic for the `weighted` strategy (relative to the other deployments of
    /// the same model a request may reach).
    pub route_weight: f64,
}

#[derive(Clone, Debug)]
pub enum ServiceModel {
    /// One request per replica, for a sampled time: a queueing-theory station.
    Plain(TimeDistribution),
    /// Continuous batching of prefill and decode iterations, timed by a profile.
    Llm(LlmService),
}

/// How a deployment serves an LLM: its performance profile, KV-cache capacity and
/// iteration scheduler.
#[derive(Clone, Debug)]
pub struct LlmService {
    pub profile: Profile,
    /// KV-cache capacity per replica in tokens (the deployment's override, else the
    /// profile's). `None`: unlimited.
    pub kv_cache_tokens: Option<u64>,
    pub batching: Batching,
}

/// What an iteration contains when requests are waiting to be prefilled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Batching {
    /// Admitted prompts are prefilled whole in an iteration of their own, decodes paused
    /// (vLLM's original scheduler): the lowest TTFT, at the cost of decode stalls.
    PrefillFirst,
    /// Every iteration carries the running batch's decode tokens plus prompt chunks up to
    /// `token_budget` tokens in all (Sarathi-Serve, vLLM's chunked prefill): steadier
    /// TPOT, prompts take several iterations.
    Chunked { token_budget: u32 },
}

impl Batching {
    pub fn describe(&self) -> String {
        match self {
            Batching::PrefillFirst => "prefill-first".into(),
            Batching::Chunked { token_budget } => {
                format!("chunked ({token_budget} tokens/iteration)")
            }
        }
    }
}

/// Inter-arrival times of a synthetic tenant, scaled so that the mean rate is the tenant's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ArrivalProcess {
    /// Exponential gaps (coefficient of variation 1).
    Poisson,
    /// Gamma-distributed gaps with this coefficient of variation (shape 1/cv²).
    Gamma { cv: f64 },
    /// Weibull-distributed gaps with this coefficient of variation.
    Weibull { cv: f64 },
}

impl ArrivalProcess {
    pub fn describe(&self) -> String {
        match self {
            ArrivalProcess::Poisson => "Poisson".into(),
            ArrivalProcess::Gamma { cv } => format!("Gamma gaps, CV {cv}"),
            ArrivalProcess::Weibull { cv } => format!("Weibull gaps, CV {cv}"),
        }
    }
}

/// A trace a tenant replays: where it is, how to read it, how to replay it, and what a
/// full pass over it holds (from the scan made when the scenario was loaded).
#[derive(Clone, Debug)]
pub struct TenantTrace {
    /// As written in the scenario.
    pub file: String,
    /// Resolved against the scenario file's directory.
    pub path: std::path::PathBuf,
    pub format: crate::trace::TraceFormat,
    pub options: crate::trace::ReplayOptions,
    pub summary: crate::trace::TraceSummary,
}

#[derive(Clone, Debug)]
pub struct Tenant {
    pub id: String,
    pub jurisdiction: String,
    pub tier: String,
    /// (site, weight) with weights normalised to sum to 1.
    pub ingress: Vec<(SiteIndex, f64)>,
    /// Mean arrival rate over a day, requests per second (for a trace: its mean rate
    /// after speed-up and scaling).
    pub rate_per_s: f64,
    pub diurnal: Option<Diurnal>,
    /// A rate by time-of-day windows (instead of `diurnal`).
    pub windows: Option<RateWindows>,
    /// How gaps between a synthetic rate's arrivals vary.
    pub arrivals: ArrivalProcess,
    /// Replayed demand; when set, the rate, diurnal shape and token distributions above
    /// are not used for generation.
    pub trace: Option<TenantTrace>,
    /// (model, weight) with weights normalised to sum to 1.
    pub models: Vec<(ModelIndex, f64)>,
    pub input_tokens: TokenDistribution,
    pub output_tokens: TokenDistribution,
    pub slo: Slo,
    /// A client abandons a request whose first token has not reached it this long after
    /// it was sent. Checked when a replica takes the request from the queue (an abandoned
    /// request is skipped without service) and when its first token is produced (if that
    /// token would arrive too late, the request ends `timed_out`).
    pub timeout: Option<SimDuration>,
    /// Fraction off the models' list prices this tenant pays (0 to 1).
    pub discount: f64,
    /// Rate and concurrency limits; requests beyond them are rejected.
    pub quota: Option<Quota>,
}

/// A tenant's limits: token buckets for requests per second and tokens (input + output)
/// per minute, each starting full at its burst size, and a cap on requests in flight.
#[derive(Clone, Debug, PartialEq)]
pub struct Quota {
    pub requests_per_s: Option<f64>,
    pub burst_requests: f64,
    pub tokens_per_min: Option<f64>,
    pub burst_tokens: f64,
    pub concurrency: Option<u32>,
}

/// A daily cycle of demand, a raised cosine between a trough and a peak.
///
/// The shape multiplies the tenant's mean rate and averages to 1 over a day:
/// `shape(h) = (r + (1 − r)(1 + cos(2π(h − peak)/24))/2) / ((1 + r)/2)`
/// with `r` the trough-to-peak ratio and `h` the local hour. With r = 0.3 the peak is
/// 1.54× and the trough 0.46× the mean rate.
#[derive(Clone, Copy, Debug)]
pub struct Diurnal {
    pub peak_hour: f64,
    pub trough_ratio: f64,
    pub utc_offset_hours: f64,
}

/// How a tenant's rate varies over the day, as a factor on its daily mean rate.
pub trait RateShape {
    /// The factor applied to the mean rate at `seconds` after 00:00 UTC of the first day.
    fn shape(&self, seconds: f64) -> f64;
    /// ∫ shape(t) dt over [0, seconds] (t from 00:00 UTC), in seconds: the expected count
    /// is this times the mean rate.
    fn integral(&self, seconds: f64) -> f64;
    /// The smallest and largest values `shape` takes over [`from`, `to`] seconds (exact up
    /// to rounding; callers that need a strict bound widen it). Demand uses it to decide
    /// most thinning draws without evaluating the shape.
    fn bounds(&self, from: f64, to: f64) -> (f64, f64);
}

impl Tenant {
    /// The tenant's daily rate shape, if its rate is not constant.
    pub fn rate_shape(&self) -> Option<&dyn RateShape> {
        match (&self.diurnal, &self.windows) {
            (Some(diurnal), _) => Some(diurnal),
            (None, Some(windows)) => Some(windows),
            (None, None) => None,
        }
    }
}

/// A rate that changes at given times of day (UTC) and repeats every day: each rate holds
/// from its start until the next start, the last one across midnight until the first.
///
/// Worked example: starts 0 h, 8 h, 20 h with rates 100, 300, 800/s: the daily mean is
/// (8 × 100 + 12 × 300 + 4 × 800) / 24 = 316.7/s, and the 10 minutes from 07:55 expect
/// 300 × 100 + 300 × 300 = 120,000 requests.
#[derive(Clone, Debug, PartialEq)]
pub struct RateWindows {
    /// Seconds after 00:00 UTC, increasing, below 86,400.
    starts_s: Vec<f64>,
    /// Requests per second from each start.
    rates: Vec<f64>,
    mean_per_s: f64,
    /// Requests expected from 00:00 to each start.
    count_at_start: Vec<f64>,
}

const DAY_S: f64 = 86_400.0;

impl RateWindows {
    /// `starts_s` increasing within a day, one non-negative rate each, not all zero
    /// (checked by the scenario validation).
    pub fn new(starts_s: Vec<f64>, rates: Vec<f64>) -> Self {
        assert!(
            !starts_s.is_empty()
                && starts_s.len() == rates.len()
                && rates.iter().any(|&rate| rate > 0.0),
            "rate windows need one rate per start, at least one positive (validated)"
        );
        // Before the first start, the last window's rate holds (it wraps over midnight).
        let last_rate = rates[rates.len() - 1];
        let mut count_at_start = Vec::with_capacity(starts_s.len());
        let mut count = last_rate * starts_s[0];
        for (index, &start) in starts_s.iter().enumerate() {
            if index > 0 {
                count += rates[index - 1] * (start - starts_s[index - 1]);
            }
            count_at_start.push(count);
        }
        count += last_rate * (DAY_S - starts_s[starts_s.len() - 1]);
        RateWindows {
            mean_per_s: count / DAY_S,
            starts_s,
            rates,
            count_at_start,
        }
    }

    pub fn mean_per_s(&self) -> f64 {
        self.mean_per_s
    }

    /// (start in seconds after midnight UTC, rate per second) of each window.
    pub fn windows(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.starts_s
            .iter()
            .copied()
            .zip(self.rates.iter().copied())
    }

    /// The window holding `day_s` seconds after midnight (the last one before the first start).
    fn window(&self, day_s: f64) -> usize {
        self.starts_s
            .iter()
            .rposition(|&start| start <= day_s)
            .unwrap_or(self.starts_s.len() - 1)
    }

    /// Requests expected from 00:00 to `day_s` within one day.
    fn count_within_day(&self, day_s: f64) -> f64 {
        if day_s < self.starts_s[0] {
            return self.rates[self.rates.len() - 1] * day_s;
        }
        let index = self.window(day_s);
        self.count_at_start[index] + self.rates[index] * (day_s - self.starts_s[index])
    }
}

impl RateShape for RateWindows {
    fn shape(&self, seconds: f64) -> f64 {
        self.rates[self.window(seconds.rem_euclid(DAY_S))] / self.mean_per_s
    }

    fn integral(&self, seconds: f64) -> f64 {
        let days = (seconds / DAY_S).floor();
        (days * DAY_S * self.mean_per_s + self.count_within_day(seconds - days * DAY_S))
            / self.mean_per_s
    }

    fn bounds(&self, from: f64, to: f64) -> (f64, f64) {
        let mut low = f64::INFINITY;
        let mut high = f64::NEG_INFINITY;
        if to - from >= DAY_S {
            for &rate in &self.rates {
                low = low.min(rate);
                high = high.max(rate);
            }
        } else {
            // Walk the windows met from `from` to `to`, on a time of day that may pass
            // midnight once.
            let mut day_s = from.rem_euclid(DAY_S);
            let end_s = day_s + (to - from);
            loop {
                let index = self.window(day_s.rem_euclid(DAY_S));
                low = low.min(self.rates[index]);
                high = high.max(self.rates[index]);
                // The next start after `day_s`, on the same unwrapped axis.
                let within = day_s.rem_euclid(DAY_S);
                let day_base = day_s - within;
                let next = match self.starts_s.iter().find(|&&start| start > within) {
                    Some(&start) => day_base + start,
                    None => day_base + DAY_S + self.starts_s[0],
                };
                if next > end_s {
                    break;
                }
                day_s = next;
            }
        }
        (low / self.mean_per_s, high / self.mean_per_s)
    }
}

impl RateShape for Diurnal {
    fn shape(&self, seconds: f64) -> f64 {
        Diurnal::shape(self, seconds)
    }
    fn integral(&self, seconds: f64) -> f64 {
        Diurnal::integral(self, seconds)
    }
    fn bounds(&self, from: f64, to: f64) -> (f64, f64) {
        Diurnal::bounds(self, from, to)
    }
}

impl Diurnal {
    /// The factor applied to the mean rate at `seconds` after 00:00 UTC of the first day.
    pub fn shape(&self, seconds: f64) -> f64 {
        let local_hour = seconds / 3600.0 + self.utc_offset_hours;
        let phase = 2.0 * std::f64::consts::PI * (local_hour - self.peak_hour) / 24.0;
        let r = self.trough_ratio;
        (r + (1.0 - r) * (1.0 + phase.cos()) / 2.0) / ((1.0 + r) / 2.0)
    }

    /// The smallest and largest values `shape` takes over [`from`, `to`] seconds after
    /// 00:00 UTC: at the ends, or at a peak or trough between them.
    pub fn bounds(&self, from: f64, to: f64) -> (f64, f64) {
        use std::f64::consts::{PI, TAU};
        let phase =
            |seconds: f64| TAU * (seconds / 3600.0 + self.utc_offset_hours - self.peak_hour) / 24.0;
        let (start, end) = (phase(from), phase(to));
        // Peaks are where the phase is a multiple of 2π, troughs an odd multiple of π.
        let has_peak = TAU * (start / TAU).ceil() <= end;
        let has_trough = PI + TAU * ((start - PI) / TAU).ceil() <= end;
        let (cos_start, cos_end) = (start.cos(), end.cos());
        let high = if has_peak {
            1.0
        } else {
            cos_start.max(cos_end)
        };
        let low = if has_trough {
            -1.0
        } else {
            cos_start.min(cos_end)
        };
        let r = self.trough_ratio;
        let at = |cosine: f64| (r + (1.0 - r) * (1.0 + cosine) / 2.0) / ((1.0 + r) / 2.0);
        (at(low), at(high))
    }

    /// The largest value `shape` takes (at the peak hour).
    pub fn peak_shape(&self) -> f64 {
        2.0 / (1.0 + self.trough_ratio)
    }

    /// ∫ shape(t) dt over [0, seconds] (t from 00:00 UTC), in seconds: the expected count
    /// is this times the rate.
    pub fn integral(&self, seconds: f64) -> f64 {
        let r = self.trough_ratio;
        let omega = 2.0 * std::f64::consts::PI / 86400.0;
        let phase0 = 2.0 * std::f64::consts::PI * (self.utc_offset_hours - self.peak_hour) / 24.0;
        let cos_part = ((omega * seconds + phase0).sin() - phase0.sin()) / omega;
        ((r + (1.0 - r) / 2.0) * seconds + (1.0 - r) / 2.0 * cos_part) / ((1.0 + r) / 2.0)
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Slo {
    pub ttft: Option<SimDuration>,
    pub tpot: Option<SimDuration>,
    pub e2e: Option<SimDuration>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyAction {
    Allow,
    Deny,
}

/// An allow/deny rule. Rules are checked in order; the first whose matchers all match
/// decides. A request no rule matches is allowed.
#[derive(Clone, Debug)]
pub struct PolicyRule {
    pub id: String,
    pub action: PolicyAction,
    pub tenants: Option<Vec<TenantIndex>>,
    pub tenant_jurisdictions: Option<Vec<String>>,
    pub tiers: Option<Vec<String>>,
    pub models: Option<Vec<ModelIndex>>,
    pub model_origins: Option<Vec<String>>,
    pub serving_jurisdictions: Option<Vec<String>>,
    /// Matches a path that passes through a site (other than its ends) in one of these.
    pub transit_jurisdictions: Option<Vec<String>>,
    /// With `allow`: the request may take only paths through one of these hub sites.
    pub require_via: Option<Vec<SiteIndex>>,
}

impl Scenario {
    /// Every site some tenant enters at, sorted, each once.
    pub fn ingress_sites(&self) -> Vec<SiteIndex> {
        let mut sites: Vec<SiteIndex> = self
            .tenants
            .iter()
            .flat_map(|tenant| tenant.ingress.iter().map(|&(site, _)| site))
            .collect();
        sites.sort_unstable();
        sites.dedup();
        sites
    }

    /// Expected number of requests generated over the run, from rates and diurnal shapes.
    pub fn expected_requests(&self) -> f64 {
        let start = self.run.start.as_secs_f64();
        let seconds = self.run.duration.as_secs_f64();
        self.tenants
            .iter()
            .map(|tenant| match (&tenant.trace, tenant.rate_shape()) {
                // One pass holds the trace's rows (times the scale), however long the run.
                (Some(trace), _) if !trace.options.looped => (tenant.rate_per_s * seconds)
                    .min(trace.summary.rows as f64 * trace.options.scale),
                (_, Some(shape)) => {
                    tenant.rate_per_s * (shape.integral(start + seconds) - shape.integral(start))
                }
                (_, None) => tenant.rate_per_s * seconds,
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_windows_match_the_worked_example() {
        let windows = RateWindows::new(
            vec![0.0, 8.0 * 3600.0, 20.0 * 3600.0],
            vec![100.0, 300.0, 800.0],
        );
        let mean = windows.mean_per_s();
        assert!((mean - (8.0 * 100.0 + 12.0 * 300.0 + 4.0 * 800.0) / 24.0).abs() < 1e-9);
        let from = 7.0 * 3600.0 + 55.0 * 60.0;
        let count = mean * (windows.integral(from + 600.0) - windows.integral(from));
        assert!((count - 120_000.0).abs() < 1e-6, "{count}");
        // A whole day, and the next day the same.
        assert!((windows.integral(DAY_S) - DAY_S).abs() < 1e-6);
        assert!((windows.integral(DAY_S + from) - DAY_S - windows.integral(from)).abs() < 1e-6);
        assert!((windows.shape(21.0 * 3600.0) * mean - 800.0).abs() < 1e-9);
        assert!((windows.bounds(0.0, DAY_S).1 * mean - 800.0).abs() < 1e-9);
        // Starts after midnight: the last window wraps over it.
        let wrapped = RateWindows::new(vec![6.0 * 3600.0, 18.0 * 3600.0], vec![10.0, 2.0]);
        assert!((wrapped.shape(3600.0) * wrapped.mean_per_s() - 2.0).abs() < 1e-9);
        assert!((wrapped.mean_per_s() - 6.0).abs() < 1e-9);
    }

    /// Bounds over an interval against the shape sampled densely inside it: never looser
    /// than a sample (a bound that misses one would let thinning decide wrongly), and tight
    /// (the extremes are reached).
    #[test]
    fn bounds_hold_every_sample_and_are_reached() {
        let diurnal = Diurnal {
            peak_hour: 21.0,
            trough_ratio: 0.3,
            utc_offset_hours: 8.0,
        };
        // Starts 0 h, 8 h, 20 h at 100, 300, 800/s (the worked example's windows).
        let windows = RateWindows::new(
            vec![0.0, 8.0 * 3600.0, 20.0 * 3600.0],
            vec![100.0, 300.0, 800.0],
        );
        let shapes: [(&str, &dyn RateShape); 2] = [("diurnal", &diurnal), ("windows", &windows)];
        // Across a peak (13:00 UTC), a trough (01:00 UTC), window changes at 08:00 and
        // 20:00, midnight, a later day, a whole day and more, and one second.
        let intervals = [
            (12.5 * 3600.0, 13.5 * 3600.0),
            (0.5 * 3600.0, 1.5 * 3600.0),
            (7.9 * 3600.0, 8.1 * 3600.0),
            (23.0 * 3600.0, 25.0 * 3600.0),
            (19.99 * 3600.0 + 86_400.0, 20.01 * 3600.0 + 86_400.0),
            (3.0 * 3600.0, 3.0 * 3600.0 + 60.0),
            (5_000.0, 5_000.0 + 100_000.0),
            (40_000.0, 40_001.0),
        ];
        for (name, shape) in shapes {
            for (from, to) in intervals {
                let (low, high) = shape.bounds(from, to);
                let samples: Vec<f64> = (0..=10_000)
                    .map(|i| shape.shape(from + (to - from) * i as f64 / 10_000.0))
                    .collect();
                let sampled_low = samples.iter().copied().fold(f64::INFINITY, f64::min);
                let sampled_high = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                println!(
                    "{name} [{from}, {to}]: bounds {low:.9}..{high:.9}, samples {sampled_low:.9}..{sampled_high:.9}"
                );
                assert!(low <= sampled_low + 1e-12 && sampled_high <= high + 1e-12);
                assert!((sampled_low - low).abs() < 1e-6 && (sampled_high - high).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn diurnal_shape_averages_to_one_and_peaks_where_told() {
        let diurnal = Diurnal {
            peak_hour: 21.0,
            trough_ratio: 0.3,
            utc_offset_hours: 8.0,
        };
        // Peak at 21:00 local = 13:00 UTC.
        let at_peak = diurnal.shape(13.0 * 3600.0);
        let at_trough = diurnal.shape(1.0 * 3600.0);
        println!(
            "peak expected {:.4} actual {at_peak:.4}",
            diurnal.peak_shape()
        );
        assert!((at_peak - diurnal.peak_shape()).abs() < 1e-12);
        assert!((at_trough / at_peak - 0.3).abs() < 1e-12);
        let day = diurnal.integral(86400.0);
        println!("integral over a day expected 86400 actual {day}");
        assert!((day - 86400.0).abs() < 1e-6);
        // The closed-form integral agrees with a Riemann sum over a partial day.
        let numeric: f64 = (0..50_000)
            .map(|i| diurnal.shape((i as f64 + 0.5) * 1.0))
            .sum();
        assert!(
            (numeric - diurnal.integral(50_000.0)).abs() < 1e-3,
            "{numeric}"
        );
    }
}
