//! What a run measures, per tenant, per deployment, per link and over time.
//!
//! Counters cover the whole run; latency statistics and SLO attainment cover requests
//! created after warm-up; utilisation and mean batch cover the time after warm-up.

use crate::engine::{SimDuration, SimTime};
use crate::metrics::LatencyStats;
use crate::request::{Request, RequestSlab, Route};
use crate::scenario::{Scenario, Slo, Tenant};
use crate::serving::DeploymentState;

/// Measurements of one tenant (or, merged, of all tenants).
#[derive(Clone, Default)]
pub struct TenantMetrics {
    pub generated: u64,
    /// Input and output tokens asked for by the generated requests.
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// A hash of every generated request (creation time, ingress, model, token counts):
    /// equal for two runs exactly when they saw the same demand.
    pub demand_fingerprint: u64,
    pub completed: u64,
    /// Rejections by reason index (see `simulator::reject_reasons`).
    pub rejected_by_reason: Vec<u64>,
    pub dropped: u64,
    pub timed_out: u64,
    pub failed: u64,
    pub in_flight: u64,
    pub ttft: LatencyStats,
    pub tpot: LatencyStats,
    pub e2e: LatencyStats,
    pub queue_wait: LatencyStats,
    pub network: LatencyStats,
    /// Requests created after warm-up that ended (any terminal state) …
    pub slo_judged: u64,
    /// … and those of them that completed within every SLO the tenant has.
    pub slo_met: u64,
    interval_generated: u64,
    interval_completed: u64,
}

impl TenantMetrics {
    pub fn rejected(&self) -> u64 {
        self.rejected_by_reason.iter().sum()
    }

    pub fn terminal(&self) -> u64 {
        self.completed + self.rejected() + self.dropped + self.timed_out + self.failed
    }

    /// Fraction of judged requests that met their SLO; `None` when nothing was judged.
    pub fn slo_attainment(&self) -> Option<f64> {
        (self.slo_judged > 0).then(|| self.slo_met as f64 / self.slo_judged as f64)
    }

    pub fn merge(&mut self, other: &TenantMetrics) {
        self.generated += other.generated;
        self.completed += other.completed;
        if self.rejected_by_reason.len() < other.rejected_by_reason.len() {
            self.rejected_by_reason
                .resize(other.rejected_by_reason.len(), 0);
        }
        for (mine, theirs) in self
            .rejected_by_reason
            .iter_mut()
            .zip(&other.rejected_by_reason)
        {
            *mine += theirs;
        }
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.dropped += other.dropped;
        self.timed_out += other.timed_out;
        self.failed += other.failed;
        self.in_flight += other.in_flight;
        self.ttft.merge(&other.ttft);
        self.tpot.merge(&other.tpot);
        self.e2e.merge(&other.e2e);
        self.queue_wait.merge(&other.queue_wait);
        self.network.merge(&other.network);
        self.slo_judged += other.slo_judged;
        self.slo_met += other.slo_met;
    }
}

/// Per-deployment figures over the measured window (after warm-up).
#[derive(Clone, Debug, Default)]
pub struct DeploymentMetrics {
    pub arrivals: u64,
    pub completed: u64,
    pub dropped: u64,
    pub timed_out: u64,
    /// Output tokens of the requests completed here.
    pub output_tokens: u64,
    /// Requests preempted to free KV cache (a request preempted twice counts twice).
    pub preemptions: u64,
    /// Requests dropped on arrival because they could never fit in a replica's KV cache.
    pub oversized: u64,
    /// KV-cache capacity per replica in tokens (`None`: unlimited) and the most any
    /// replica held.
    pub kv_cache_tokens: Option<u64>,
    pub kv_peak_tokens: u64,
    /// Busy replica-time / (replicas × window).
    pub utilization: f64,
    /// Requests resident per busy replica, time-averaged.
    pub mean_batch: f64,
    /// Time-averaged queue length.
    pub mean_queue_length: f64,
    /// Mean queue wait of requests created after warm-up that completed here, in ns.
    pub queue_wait_mean_ns: f64,
    /// Half-width of a 95% confidence interval for that mean, from batch means over
    /// time (`None` with fewer than five batches holding completions).
    pub queue_wait_ci95_ns: Option<f64>,
}

/// One row of timeseries.csv.
#[derive(Clone, Debug)]
pub struct TimeseriesRow {
    pub time_s: f64,
    pub kind: &'static str,
    pub entity: u32,
    pub arrivals: u64,
    pub completions: u64,
    pub queue_length: Option<u64>,
    pub utilization: Option<f64>,
    pub mean_batch: Option<f64>,
}

/// Integrals captured at some instant, to take differences over a window.
#[derive(Clone, Copy, Default)]
struct IntegralMark {
    time: SimTime,
    busy: u128,
    resident: u128,
    queue: u128,
    arrivals: u64,
    completed: u64,
}

impl IntegralMark {
    fn take(deployment: &DeploymentState, now: SimTime) -> Self {
        IntegralMark {
            time: now,
            busy: deployment.busy_replicas.area_at(now),
            resident: deployment.resident_requests.area_at(now),
            queue: deployment.queue_length.area_at(now),
            arrivals: deployment.arrivals,
            completed: deployment.completed,
        }
    }
}

pub struct RunMetrics {
    pub tenants: Vec<TenantMetrics>,
    pub deployments: Vec<DeploymentMetrics>,
    /// Requests routed over each link (counted once per request, both directions).
    pub link_requests: Vec<u64>,
    /// Total time prompts waited for a busy link (one with a bandwidth), ns.
    pub link_queue_ns: Vec<u64>,
    pub reject_reasons: Vec<String>,
    pub timeseries: Vec<TimeseriesRow>,
    pub peak_live_requests: usize,
    replicas: Vec<u32>,
    /// Queue-wait (sum ns, count) per deployment in the current metrics interval …
    interval_waits: Vec<(u128, u64)>,
    /// … and per closed interval, for batch means.
    wait_batches: Vec<Vec<(u128, u64)>>,
    warmup_marks: Vec<IntegralMark>,
    interval_marks: Vec<IntegralMark>,
}

/// Whether a request still in flight had produced its first token by `end`. (Serving may
/// settle a prefill's end ahead of the clock, stamping a first token later than `end`.)
fn first_token_by(request: &Request, end: SimTime) -> bool {
    request.tokens_done > 0 && request.first_token_at <= end
}

/// Whether a request still in flight at `end` has already missed one of its targets.
fn missed_already(request: &Request, slo: &Slo, end: SimTime) -> bool {
    let elapsed = end.saturating_since(request.created);
    let past =
        |limit: Option<SimDuration>, value: SimDuration| limit.is_some_and(|limit| value > limit);
    let ttft_missed = if !first_token_by(request, end) {
        past(slo.ttft, elapsed)
    } else {
        past(
            slo.ttft,
            (request.first_token_at + request.return_latency).saturating_since(request.created),
        )
    };
    ttft_missed || past(slo.e2e, elapsed)
}

/// Student's t at 97.5% for 4 to 19 degrees of freedom.
const T_975: [f64; 16] = [
    2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
    2.110, 2.101, 2.093,
];
const BATCHES: usize = 20;

/// Half-width of a 95% confidence interval for a mean from consecutive per-interval
/// (sum, count) pairs, grouped into at most 20 batches of consecutive intervals. Batch
/// means are nearly independent when batches are long compared with the queue's memory;
/// with too few batches there is no honest interval, so `None`.
fn batch_means_ci95(intervals: &[(u128, u64)]) -> Option<f64> {
    let batches = intervals.len().min(BATCHES);
    if batches < 5 {
        return None;
    }
    let means: Vec<f64> = (0..batches)
        .map(|b| {
            let group =
                &intervals[b * intervals.len() / batches..(b + 1) * intervals.len() / batches];
            let (sum, count) = group
                .iter()
                .fold((0u128, 0u64), |(s, c), &(gs, gc)| (s + gs, c + gc));
            sum as f64 / count as f64
        })
        .collect();
    let mean = means.iter().sum::<f64>() / batches as f64;
    let variance = means.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (batches - 1) as f64;
    Some(T_975[batches - 5] * (variance / batches as f64).sqrt())
}

fn ratio(numerator: u128, denominator: u128) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

impl RunMetrics {
    pub fn new(scenario: &Scenario) -> Self {
        let reasons = super::reject_reasons(scenario);
        let tenant = TenantMetrics {
            rejected_by_reason: vec![0; reasons.len()],
            ..TenantMetrics::default()
        };
        RunMetrics {
            tenants: vec![tenant; scenario.tenants.len()],
            deployments: vec![DeploymentMetrics::default(); scenario.deployments.len()],
            link_requests: vec![0; scenario.links.len()],
            link_queue_ns: vec![0; scenario.links.len()],
            reject_reasons: reasons,
            timeseries: Vec::new(),
            peak_live_requests: 0,
            replicas: scenario.deployments.iter().map(|d| d.replicas).collect(),
            interval_waits: vec![(0, 0); scenario.deployments.len()],
            wait_batches: vec![Vec::new(); scenario.deployments.len()],
            warmup_marks: vec![IntegralMark::default(); scenario.deployments.len()],
            interval_marks: vec![IntegralMark::default(); scenario.deployments.len()],
        }
    }

    pub fn generated(
        &mut self,
        tenant: usize,
        now: SimTime,
        attributes: &crate::demand::RequestAttributes,
    ) {
        let (input_tokens, output_tokens) = (attributes.input_tokens, attributes.output_tokens);
        let metrics = &mut self.tenants[tenant];
        // FNV-1a style mixing of the request's identity, one word at a time.
        for word in [
            now.as_nanos(),
            attributes.ingress as u64,
            attributes.model as u64,
            ((input_tokens as u64) << 32) | output_tokens as u64,
        ] {
            metrics.demand_fingerprint =
                (metrics.demand_fingerprint ^ word).wrapping_mul(0x0100_0000_01b3);
        }
        metrics.generated += 1;
        metrics.input_tokens += input_tokens as u64;
        metrics.output_tokens += output_tokens as u64;
        metrics.interval_generated += 1;
    }

    /// A rejected request after warm-up counts against SLO attainment: it got no answer.
    pub fn rejected(&mut self, tenant: usize, reason: usize, after_warmup: bool) {
        let metrics = &mut self.tenants[tenant];
        metrics.rejected_by_reason[reason] += 1;
        if after_warmup {
            metrics.slo_judged += 1;
        }
    }

    pub fn dropped(&mut self, request: &Request, tenant: usize, warmup: SimTime) {
        let metrics = &mut self.tenants[tenant];
        metrics.dropped += 1;
        if request.created >= warmup {
            metrics.slo_judged += 1;
        }
    }

    pub fn timed_out(&mut self, request: &Request, tenant: usize, warmup: SimTime) {
        let metrics = &mut self.tenants[tenant];
        metrics.timed_out += 1;
        if request.created >= warmup {
            metrics.slo_judged += 1;
        }
    }

    /// `request`, taking `route` for `tenant`, completed at `now` (its last token).
    pub fn completed(
        &mut self,
        request: &Request,
        route: &Route,
        tenant: &Tenant,
        now: SimTime,
        warmup: SimTime,
    ) {
        let metrics = &mut self.tenants[route.tenant as usize];
        metrics.completed += 1;
        metrics.interval_completed += 1;
        if request.created < warmup {
            return;
        }
        let ttft = (request.first_token_at + request.return_latency) - request.created;
        let e2e = (now + request.return_latency) - request.created;
        let queue_wait = request.service_start - request.arrived_at_deployment();
        let network = request.forward_latency + request.return_latency;
        metrics.ttft.record(ttft);
        metrics.e2e.record(e2e);
        metrics.queue_wait.record(queue_wait);
        let interval_wait = &mut self.interval_waits[route.deployment as usize];
        interval_wait.0 += queue_wait.as_nanos() as u128;
        interval_wait.1 += 1;
        metrics.network.record(network);
        // Only streamed answers have a time per output token: a plain station delivers its
        // answer at once (one "token"), whatever output_tokens says.
        let tpot = (request.tokens_done > 1).then(|| {
            let decode = now - request.first_token_at;
            SimDuration::from_nanos(decode.as_nanos() / (request.tokens_done as u64 - 1))
        });
        if let Some(tpot) = tpot {
            metrics.tpot.record(tpot);
        }
        let within = |value: Option<SimDuration>, limit: Option<SimDuration>| match (value, limit) {
            (Some(value), Some(limit)) => value <= limit,
            _ => true,
        };
        metrics.slo_judged += 1;
        if within(Some(ttft), tenant.slo.ttft)
            && within(tpot, tenant.slo.tpot)
            && within(Some(e2e), tenant.slo.e2e)
        {
            metrics.slo_met += 1;
        }
    }

    pub fn warmup_end(&mut self, deployments: &[DeploymentState], now: SimTime) {
        for (index, deployment) in deployments.iter().enumerate() {
            self.warmup_marks[index] = IntegralMark::take(deployment, now);
        }
    }

    /// Closes a metrics interval: one row per deployment and per tenant.
    pub fn tick(&mut self, deployments: &[DeploymentState], now: SimTime) {
        let time_s = now.as_secs_f64();
        for (index, deployment) in deployments.iter().enumerate() {
            let waits = std::mem::take(&mut self.interval_waits[index]);
            if waits.1 > 0 {
                self.wait_batches[index].push(waits);
            }
            let mark = IntegralMark::take(deployment, now);
            let previous = std::mem::replace(&mut self.interval_marks[index], mark);
            let window = now.saturating_since(previous.time).as_nanos() as u128;
            let busy = mark.busy - previous.busy;
            self.timeseries.push(TimeseriesRow {
                time_s,
                kind: "deployment",
                entity: index as u32,
                arrivals: mark.arrivals - previous.arrivals,
                completions: mark.completed - previous.completed,
                queue_length: Some(deployment.queue_length.level()),
                utilization: Some(ratio(busy, window * self.replicas[index] as u128)),
                mean_batch: Some(ratio(mark.resident - previous.resident, busy)),
            });
        }
        for (index, tenant) in self.tenants.iter_mut().enumerate() {
            self.timeseries.push(TimeseriesRow {
                time_s,
                kind: "tenant",
                entity: index as u32,
                arrivals: std::mem::take(&mut tenant.interval_generated),
                completions: std::mem::take(&mut tenant.interval_completed),
                queue_length: None,
                utilization: None,
                mean_batch: None,
            });
        }
    }

    /// Final figures, in-flight counts, and the conservation check.
    pub fn finish(
        &mut self,
        deployments: &[DeploymentState],
        requests: &RequestSlab,
        end: SimTime,
        warmup: SimTime,
        tenants: &[Tenant],
    ) -> Result<(), String> {
        for (index, deployment) in deployments.iter().enumerate() {
            let start = self.warmup_marks[index];
            let finish = IntegralMark::take(deployment, end);
            let window = end.saturating_since(start.time).as_nanos() as u128;
            let busy = finish.busy - start.busy;
            let replicas = self.replicas[index] as u128;
            let utilization = ratio(busy, window * replicas);
            if utilization > 1.0 + 1e-12 {
                return Err(format!(
                    "deployment {index}: utilisation {utilization} exceeds 1"
                ));
            }
            self.deployments[index] = DeploymentMetrics {
                arrivals: deployment.arrivals,
                completed: deployment.completed,
                dropped: deployment.dropped,
                timed_out: deployment.timed_out,
                output_tokens: deployment.output_tokens,
                preemptions: deployment.preemptions,
                oversized: deployment.oversized,
                kv_cache_tokens: deployment.kv_capacity(),
                kv_peak_tokens: deployment.kv_peak_tokens,
                utilization,
                mean_batch: ratio(finish.resident - start.resident, busy),
                mean_queue_length: ratio(finish.queue - start.queue, window),
                queue_wait_mean_ns: {
                    let (sum, count) = self.wait_batches[index]
                        .iter()
                        .fold((0u128, 0u64), |(s, c), &(bs, bc)| (s + bs, c + bc));
                    ratio(sum, count as u128)
                },
                queue_wait_ci95_ns: batch_means_ci95(&self.wait_batches[index]),
            };
        }
        for (id, request) in requests.live_requests() {
            let tenant = requests.route_of(request).tenant as usize;
            let metrics = &mut self.tenants[tenant];
            let judged = request.created >= warmup;
            if !first_token_by(request, end) && requests.gave_up_by(id, end) {
                // Its client gave up before the end (it still waits in a queue or crosses
                // the network): it timed out, whatever the servers still think.
                metrics.timed_out += 1;
                metrics.slo_judged += judged as u64;
                continue;
            }
            metrics.in_flight += 1;
            // An unfinished request has already missed its SLO if it has run past a target
            // it can no longer meet; otherwise it is not judged.
            if judged && missed_already(request, &tenants[tenant].slo, end) {
                metrics.slo_judged += 1;
            }
        }
        self.peak_live_requests = requests.capacity_used();
        // Conservation: every generated request ended exactly once or is still in flight.
        for (index, tenant) in self.tenants.iter().enumerate() {
            let accounted = tenant.terminal() + tenant.in_flight;
            if accounted != tenant.generated {
                return Err(format!(
                    "conservation violated for tenant {index}: generated {} but completed {} + rejected {} + dropped {} + timed_out {} + failed {} + in_flight {} = {accounted}",
                    tenant.generated,
                    tenant.completed,
                    tenant.rejected(),
                    tenant.dropped,
                    tenant.timed_out,
                    tenant.failed,
                    tenant.in_flight
                ));
            }
        }
        Ok(())
    }

    /// All tenants merged.
    pub fn overall(&self) -> TenantMetrics {
        let mut total = TenantMetrics {
            rejected_by_reason: vec![0; self.reject_reasons.len()],
            ..TenantMetrics::default()
        };
        for tenant in &self.tenants {
            total.merge(tenant);
        }
        total
    }
}
