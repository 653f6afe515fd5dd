//! The provider as a simulation model: demand, routing, network, serving and metrics tied
//! together behind the engine's [`Model`] trait.
//!
//! ```text
//!  Arrival(tenant) ──► attributes ──► filter → strategy ──► ReachDeployment(request)
//!        │                                │ no candidate: rejected(reason)      │
//!        └─ next arrival (lazy)           ▼                                     ▼
//!                                     terminal            DeploymentState::arrive / replica_done
//!                                                                   │ Completed / Dropped / TimedOut
//!                                                                   ▼
//!                                                        metrics (client-side times), freed
//! ```
//!
//! Times a client sees are computed, not simulated as extra events: the first token
//! reaches the client `return_latency` after it is produced, and so does the last.

mod economics;
mod metrics;

use rand::RngExt;

use crate::demand::TenantDemand;
use crate::distribution::TimeDistribution;
use crate::engine::{
    Context, EventOrder, Model, RngStreams, SimDuration, SimTime, Simulation, StreamRng,
};
use crate::request::{Request, RequestId, RequestSlab, Route};
use crate::routing::{Candidate, HubSet, RequestView, Strategy, StrategySpec};
use crate::scenario::{Scenario, SiteIndex};
use crate::serving::{DeploymentState, Outcome};
use crate::topology::{Path, PathCache, Topology};
pub use economics::{Economics, Ledger};

pub use metrics::{RunMetrics, TenantMetrics, TimeseriesRow};

/// Everything that happens, as scheduled in the engine's queue. Small and `Copy`.
#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The tenant's next request leaves its ingress (each tenant's next one is on its own
    /// engine timer, after the replicas').
    Arrival { tenant: u32 },
    /// A request reaches its deployment after crossing the network. (The deployment is in
    /// its route too; carried here so the hint before the event can fetch its state.)
    ReachDeployment { request: RequestId, deployment: u32 },
    /// A replica's service or iteration ends (each replica's is on its own engine timer,
    /// moved earlier when an arrival wakes the replica at a step boundary).
    ReplicaDone { deployment: u32, replica: u32 },
    /// Warm-up is over: statistics start here.
    WarmupEnd,
    /// End of a metrics interval.
    MetricsTick,
    /// Routers receive a fresh snapshot of every deployment's load (with `telemetry_delay`).
    TelemetryTick,
}

/// Events at the same nanosecond run in a fixed order that depends only on what they are,
/// never on when they were scheduled: requests reach deployments first, then tenants send
/// (a request with no network to cross reaches its deployment at once, still before the
/// replicas act), then replicas act (by deployment and replica), then metrics close. So a
/// request that arrives exactly at a replica's step boundary is admitted there, however
/// the replica's event came to be scheduled — which keeps jumping over decode steps exact.
impl EventOrder for Event {
    fn rank(&self) -> u64 {
        match *self {
            Event::ReachDeployment { .. } => 0,
            Event::Arrival { tenant } => (1 << 62) | tenant as u64,
            Event::ReplicaDone {
                deployment,
                replica,
                ..
            } => (2 << 62) | ((deployment as u64) << 32) | replica as u64,
            Event::WarmupEnd => 3 << 62,
            Event::MetricsTick => (3 << 62) | 1,
            Event::TelemetryTick => (3 << 62) | 2,
        }
    }
}

/// A tenant's token buckets: requests and tokens it may still send, refilled continuously
/// at its quota's rates up to their burst sizes.
#[derive(Clone, Debug)]
struct QuotaState {
    requests: f64,
    tokens: f64,
    /// When the buckets were last refilled.
    since: SimTime,
}

impl QuotaState {
    fn new(tenant: &crate::scenario::Tenant) -> Self {
        let (requests, tokens) = tenant.quota.as_ref().map_or((0.0, 0.0), |quota| {
            (quota.burst_requests, quota.burst_tokens)
        });
        QuotaState {
            requests,
            tokens,
            since: SimTime::ZERO,
        }
    }

    /// Takes one request of `tokens` tokens from the buckets, or says why it cannot.
    fn admit(
        &mut self,
        quota: &crate::scenario::Quota,
        now: SimTime,
        tokens: u64,
        in_flight: u32,
    ) -> Option<usize> {
        let elapsed_s = now.saturating_since(self.since).as_secs_f64();
        self.since = now;
        if let Some(rate) = quota.requests_per_s {
            self.requests = (self.requests + rate * elapsed_s).min(quota.burst_requests);
        }
        if let Some(rate) = quota.tokens_per_min {
            self.tokens = (self.tokens + rate / 60.0 * elapsed_s).min(quota.burst_tokens);
        }
        if quota.concurrency.is_some_and(|limit| in_flight >= limit) {
            return Some(REJECT_CONCURRENCY);
        }
        let requests_ok = quota.requests_per_s.is_none() || self.requests >= 1.0;
        let tokens_ok = quota.tokens_per_min.is_none() || self.tokens >= tokens as f64;
        if !(requests_ok && tokens_ok) {
            return Some(REJECT_QUOTA);
        }
        if quota.requests_per_s.is_some() {
            self.requests -= 1.0;
        }
        if quota.tokens_per_min.is_some() {
            self.tokens -= tokens as f64;
        }
        None
    }
}

/// Why a request was rejected before reaching any deployment.
pub const REJECT_NO_ROUTE: usize = 0;
/// The tenant's request or token rate quota was used up.
pub const REJECT_QUOTA: usize = 1;
/// The tenant already had its concurrency limit of requests in flight.
pub const REJECT_CONCURRENCY: usize = 2;
/// A hub's abuse screening refused the request.
pub const REJECT_SCREENING: usize = 3;
/// Reason `POLICY_REASONS_FROM + rule` is `policy:<rule id>`.
pub const POLICY_REASONS_FROM: usize = 4;

/// What an arrival reads of the route it takes, in one table by route number: the path
/// (a copy of `PathCache`'s, which is reached through three vectors, each a likely cache
/// miss per request) and the positions of the hubs on it that screen.
struct RouteWay {
    path: Path,
    screening_positions: Box<[usize]>,
}

/// What a request crossing a link reads and draws, one record of two aligned cache lines
/// per link: the scenario's `Link` (120 bytes) holds these among fields the run never
/// reads, and the jitter streams were an array of their own.
#[repr(align(64))]
struct LinkCrossing {
    latency: SimDuration,
    bandwidth_bits_per_s: Option<f64>,
    /// `Link::ends.0`: a crossing from it goes in direction 0.
    first_end: SiteIndex,
    jitter: Option<TimeDistribution>,
    /// The link's own random stream for its jitter.
    jitter_rng: StreamRng,
}

/// One (deployment, path) a request may take.
#[derive(Clone, Copy, Debug)]
struct RouteOption {
    deployment: u32,
    /// One-way latency of the path, without jitter.
    latency: SimDuration,
    hubs: HubSet,
    /// Σ transit price of the path's links, USD per GB.
    usd_per_gb: f64,
    /// Its number among every route (`Request::route`, `Provider::route_ways`).
    route: u32,
}

/// What a router estimates from a deployment's configuration (see [`Candidate`]).
#[derive(Clone, Copy, Debug)]
struct DeploymentEstimate {
    /// Batch slots of all replicas.
    slots: u64,
    /// Mean time a request holds a slot, in ns, for the mean request of the tenants that
    /// use the model: prefill + (output − 1) decode steps at a full batch (LLM), or the
    /// mean service time (plain).
    slot_ns_per_request: f64,
    /// GPU price of one replica, USD per second (zero without a `gpu`).
    usd_per_replica_s: f64,
    /// Decode step at a full batch, ns (LLM; zero for plain).
    full_step_ns: f64,
    max_batch: f64,
    /// Mean service time, ns (plain; zero for LLM).
    service_ns: f64,
}

impl DeploymentEstimate {
    fn new(scenario: &Scenario, index: usize) -> Self {
        let deployment = &scenario.deployments[index];
        // The mean request of the tenants using this model, weighted by their rates.
        let (mut weight, mut input, mut output) = (0.0, 0.0, 0.0);
        for tenant in &scenario.tenants {
            let Some(&(_, share)) = tenant.models.iter().find(|(m, _)| *m == deployment.model)
            else {
                continue;
            };
            let (tenant_input, tenant_output) = match &tenant.trace {
                Some(trace) => {
                    let rows = trace.summary.rows.max(1) as f64;
                    (
                        trace.summary.input_tokens as f64 / rows,
                        trace.summary.output_tokens as f64 / rows,
                    )
                }
                None => (tenant.input_tokens.mean(), tenant.output_tokens.mean()),
            };
            let w = tenant.rate_per_s * share;
            weight += w;
            input += w * tenant_input;
            output += w * tenant_output;
        }
        let (input, output) = if weight > 0.0 {
            (input / weight, output / weight)
        } else {
            (1.0, 1.0)
        };
        let usd_per_replica_s = deployment.gpu.map_or(0.0, |gpu| {
            let gpu = &scenario.gpus[gpu];
            gpu.usd_per_gpu_hour * gpu.gpus as f64 / 3600.0
        });
        match &deployment.service {
            crate::scenario::ServiceModel::Llm(llm) => {
                let full_step_ns = llm.profile.decode.step(deployment.max_batch).as_nanos() as f64;
                let prefill_ns = llm
                    .profile
                    .prefill
                    .prompt_time(crate::distribution::round_to_u64(input).max(1) as u32)
                    .as_nanos() as f64;
                DeploymentEstimate {
                    slots: deployment.replicas as u64 * deployment.max_batch as u64,
                    slot_ns_per_request: prefill_ns + (output - 1.0).max(0.0) * full_step_ns,
                    usd_per_replica_s,
                    full_step_ns,
                    max_batch: deployment.max_batch as f64,
                    service_ns: 0.0,
                }
            }
            crate::scenario::ServiceModel::Plain(service) => {
                let service_ns = service.mean().as_nanos() as f64;
                DeploymentEstimate {
                    slots: deployment.replicas as u64,
                    slot_ns_per_request: service_ns,
                    usd_per_replica_s,
                    full_step_ns: 0.0,
                    max_batch: 1.0,
                    service_ns,
                }
            }
        }
    }

    /// Expected wait for a request that finds `load` requests there (in transit, queued
    /// and running): those beyond the slots, each holding a slot for the mean time, shared
    /// by all slots.
    fn queue_wait(&self, load: u64) -> SimDuration {
        let excess = load.saturating_sub(self.slots) as f64;
        SimDuration::from_nanos(crate::distribution::round_to_u64(
            excess * self.slot_ns_per_request / self.slots.max(1) as f64,
        ))
    }

    /// Replica time this request costs, in seconds: its prefill, plus its share of the
    /// full-batch decode steps (LLM); the mean service (plain).
    fn replica_seconds(&self, prefill: SimDuration, output_tokens: u32) -> f64 {
        if self.service_ns > 0.0 {
            return self.service_ns / 1e9;
        }
        (prefill.as_nanos() as f64
            + (output_tokens.saturating_sub(1)) as f64 * self.full_step_ns / self.max_batch)
            / 1e9
    }
}

/// The candidates for one (tenant, ingress, model), precomputed: policy and reachability
/// do not change during a run.
struct RouteChoices {
    /// Every allowed (deployment, path), for strategies that choose paths.
    every_path: RouteSet,
    /// Each deployment's shortest path that policy allows: what strategies that do not
    /// choose paths see. Kept apart so that routing does not skip the other paths one by
    /// one on every request.
    shortest_paths: RouteSet,
    /// The reason to reject if there is no option.
    reject_reason: usize,
}

/// Route options and the candidates routers see for them, position by position. A
/// candidate's fixed fields (deployment, path, latency, replicas, ...) are filled once;
/// routing a request refreshes only its load and estimates, in place.
struct RouteSet {
    options: Vec<RouteOption>,
    candidates: Vec<Candidate>,
}

impl RouteSet {
    fn new(scenario: &Scenario, options: Vec<RouteOption>) -> Self {
        let candidates = options
            .iter()
            .map(|option| {
                let spec = &scenario.deployments[option.deployment as usize];
                Candidate {
                    deployment: option.deployment as usize,
                    route: option.route,
                    hubs: option.hubs,
                    network_latency: option.latency,
                    in_transit: 0,
                    queued: 0,
                    running: 0,
                    replicas: spec.replicas,
                    max_batch: spec.max_batch,
                    queue_wait_estimate: SimDuration::ZERO,
                    prefill_estimate: SimDuration::ZERO,
                    cost_usd: 0.0,
                    weight: spec.route_weight,
                }
            })
            .collect();
        RouteSet {
            options,
            candidates,
        }
    }
}

pub struct Provider {
    scenario: Scenario,
    end: SimTime,
    warmup: SimTime,
    demand: Vec<TenantDemand>,
    /// The engine timer of tenant 0's next arrival; tenant `t` uses `first_arrival_timer + t`.
    first_arrival_timer: u32,
    deployments: Vec<DeploymentState>,
    /// `route_choices[tenant][ingress position × tenant's model count + model position]`:
    /// sized by what each tenant uses, not by every site and model in the scenario.
    route_choices: Vec<Vec<RouteChoices>>,
    strategy: Box<dyn Strategy>,
    /// The strategy's `chooses_paths` and `reads_estimates`, asked once: they do not
    /// change, and each is a call through the strategy's vtable.
    strategy_chooses_paths: bool,
    strategy_reads_estimates: bool,
    link_crossings: Vec<LinkCrossing>,
    requests: RequestSlab,
    outcomes: Vec<Outcome>,
    estimates: Vec<DeploymentEstimate>,
    /// Per tenant: its quota buckets and its requests in flight (sent, not yet ended).
    quotas: Vec<QuotaState>,
    /// When each link's direction (from `ends.0`, from `ends.1`) is next free to send.
    link_free_at: Vec<[SimTime; 2]>,
    /// Random streams of each site's screening (used at hubs that screen).
    screening_rngs: Vec<StreamRng>,
    tenant_in_flight: Vec<u32>,
    /// The way of every route a request may take (`RouteOption::route`).
    route_ways: Vec<RouteWay>,
    ledger: Ledger,
    /// With a telemetry delay: how often routers get a snapshot, and the last snapshot of
    /// each deployment's (in transit, queued, running).
    telemetry_period: Option<SimDuration>,
    /// Whether a request that crosses no network reaches its deployment in the same event
    /// as its departure (always, but in the step-by-step reference mode).
    reach_at_once: bool,
    telemetry: Vec<(u32, u32, u32)>,
    /// Each deployment's live (in transit, queued, running), updated whenever it changes:
    /// side by side, a few cache lines that routing reads for every request, where reading
    /// each deployment's own state missed the L1 cache ~6 times per request (cachegrind).
    /// The count in transit is kept here only: what routers have sent that has not arrived
    /// is theirs to know, and a departure then touches no deployment's state.
    loads: Vec<(u32, u32, u32)>,
    pub metrics: RunMetrics,
}

/// The result of a run.
pub struct RunOutput {
    pub scenario: Scenario,
    pub strategy: String,
    pub metrics: RunMetrics,
    pub ledger: Ledger,
    pub events: u64,
}

/// Reasons a request can be rejected: `no-route`, `quota`, `concurrency`, `screening`, then
/// `policy:<rule id>` per rule.
pub fn reject_reasons(scenario: &Scenario) -> Vec<String> {
    ["no-route", "quota", "concurrency", "screening"]
        .into_iter()
        .map(str::to_string)
        .chain(
            scenario
                .policies
                .iter()
                .map(|rule| format!("policy:{}", rule.id)),
        )
        .collect()
}

impl Provider {
    /// The end of the simulated run.
    pub fn end(&self) -> SimTime {
        self.end
    }

    /// Requests generated so far, all tenants.
    pub fn generated(&self) -> u64 {
        self.metrics
            .tenants
            .iter()
            .map(|tenant| tenant.generated)
            .sum()
    }

    pub fn new(
        scenario: Scenario,
        strategy: &StrategySpec,
        options: RunOptions,
    ) -> Result<Self, String> {
        let streams = RngStreams::new(scenario.run.seed);

        let topology = Topology::new(&scenario.sites, &scenario.links);
        let ingress_sites = scenario.ingress_sites();
        let deployment_sites: Vec<SiteIndex> =
            scenario.deployments.iter().map(|d| d.site).collect();
        let hubs: Vec<SiteIndex> = (0..scenario.sites.len())
            .filter(|&site| scenario.sites[site].kind == crate::scenario::SiteKind::Hub)
            .collect();
        let route_context = crate::routing::RouteContext {
            hubs: Some(
                hubs.iter()
                    .map(|&hub| scenario.sites[hub].id.clone())
                    .collect(),
            ),
        };
        let strategy_box =
            crate::routing::resolve(strategy, streams.stream("router", 0), &route_context)?;
        let telemetry_period =
            crate::routing::telemetry_delay(strategy)?.filter(|delay| *delay > SimDuration::ZERO);
        let paths = PathCache::new(
            &topology,
            scenario.sites.len(),
            &ingress_sites,
            &deployment_sites,
            &hubs,
        );

        // Every route a request may take, with its way, numbered in this order.
        let mut numbered_routes = Vec::new();
        let route_choices = scenario
            .tenants
            .iter()
            .enumerate()
            .map(|(tenant_index, tenant)| {
                tenant
                    .ingress
                    .iter()
                    .flat_map(|&(ingress, _)| {
                        tenant
                            .models
                            .iter()
                            .map(move |&(model, _)| (ingress, model))
                    })
                    .map(|(ingress, model)| {
                        route_choices_for(
                            &scenario,
                            &paths,
                            &hubs,
                            &mut numbered_routes,
                            tenant_index,
                            ingress,
                            model,
                        )
                    })
                    .collect()
            })
            .collect();

        let (routes, route_ways): (Vec<Route>, Vec<RouteWay>) = numbered_routes.into_iter().unzip();
        let ledger = Ledger::new(&scenario, route_ways.len());
        let demand = scenario
            .tenants
            .iter()
            .enumerate()
            .map(|(index, tenant)| TenantDemand::new(tenant, index, &streams, scenario.run.start))
            .collect::<Result<Vec<_>, String>>()?;
        let mut next_timer = 0u32;
        let deployments = scenario
            .deployments
            .iter()
            .enumerate()
            .map(|(index, deployment)| {
                // One engine timer per replica, numbered across deployments.
                let first_timer = next_timer;
                next_timer += deployment.replicas;
                DeploymentState::new(
                    index,
                    first_timer,
                    deployment,
                    streams.stream("service", index as u64),
                    options.step_by_step,
                )
            })
            .collect();
        let link_crossings = scenario
            .links
            .iter()
            .enumerate()
            .map(|(index, link)| LinkCrossing {
                latency: link.latency,
                bandwidth_bits_per_s: link.bandwidth_bits_per_s,
                first_end: link.ends.0,
                jitter: link.jitter,
                jitter_rng: streams.stream("link-jitter", index as u64),
            })
            .collect();
        let metrics = RunMetrics::new(&scenario);
        Ok(Provider {
            end: SimTime::ZERO + scenario.run.duration,
            warmup: SimTime::ZERO + scenario.run.warmup,
            demand,
            first_arrival_timer: next_timer,
            deployments,
            route_choices,
            strategy_chooses_paths: strategy_box.chooses_paths(),
            strategy_reads_estimates: strategy_box.reads_estimates(),
            strategy: strategy_box,
            link_crossings,
            requests: RequestSlab::new(routes),
            estimates: (0..scenario.deployments.len())
                .map(|index| DeploymentEstimate::new(&scenario, index))
                .collect(),
            telemetry_period,
            reach_at_once: !options.step_by_step,
            telemetry: vec![(0, 0, 0); scenario.deployments.len()],
            loads: vec![(0, 0, 0); scenario.deployments.len()],
            route_ways,
            ledger,
            quotas: scenario.tenants.iter().map(QuotaState::new).collect(),
            link_free_at: vec![[SimTime::ZERO; 2]; scenario.links.len()],
            screening_rngs: (0..scenario.sites.len())
                .map(|site| streams.stream("screening", site as u64))
                .collect(),
            tenant_in_flight: vec![0; scenario.tenants.len()],
            outcomes: Vec::new(),
            metrics,
            scenario,
        })
    }

    fn handle_arrival(&mut self, tenant_index: usize, context: &mut Context<Event>) {
        let now = context.now();
        let tenant = &self.scenario.tenants[tenant_index];
        if let Some(next) = self.demand[tenant_index].next_arrival(tenant, self.end) {
            // A timer, not a queued event: a tenant has one next arrival, and a timer is set
            // and taken in constant time where the queue sifts through every request in
            // transit.
            context.set_timer(
                self.first_arrival_timer + tenant_index as u32,
                next,
                Event::Arrival {
                    tenant: tenant_index as u32,
                },
            );
        }
        let attributes = self.demand[tenant_index].attributes(tenant);
        self.metrics.generated(tenant_index, now, &attributes);
        if let Some(quota) = &tenant.quota {
            let refusal = self.quotas[tenant_index].admit(
                quota,
                now,
                attributes.input_tokens as u64 + attributes.output_tokens as u64,
                self.tenant_in_flight[tenant_index],
            );
            if let Some(reason) = refusal {
                self.metrics
                    .rejected(tenant_index, reason, now >= self.warmup);
                return;
            }
        }

        let slot = attributes.ingress_position * tenant.models.len() + attributes.model_position;
        let choices = &mut self.route_choices[tenant_index][slot];
        let route_set = if self.strategy_chooses_paths {
            &mut choices.every_path
        } else {
            &mut choices.shortest_paths
        };
        // What routers see: the live load, or the last snapshot with a telemetry delay.
        match self.telemetry_period {
            None => {
                // Only the candidates are read (not the options beside them): the route
                // set is met again after many other requests, and is out of cache by then.
                for candidate in &mut route_set.candidates {
                    (candidate.in_transit, candidate.queued, candidate.running) =
                        self.loads[candidate.deployment];
                }
            }
            Some(_) => {
                for (option, candidate) in route_set.options.iter().zip(&mut route_set.candidates) {
                    (candidate.in_transit, candidate.queued, candidate.running) =
                        self.telemetry[option.deployment as usize];
                }
            }
        }
        if self.strategy_reads_estimates {
            for (option, candidate) in route_set.options.iter().zip(&mut route_set.candidates) {
                let index = option.deployment as usize;
                let spec = &self.scenario.deployments[index];
                let estimate = &self.estimates[index];
                let prefill = match &spec.service {
                    crate::scenario::ServiceModel::Llm(llm) => {
                        llm.profile.prefill.prompt_time(attributes.input_tokens)
                    }
                    crate::scenario::ServiceModel::Plain(_) => SimDuration::ZERO,
                };
                let bytes = (attributes.input_tokens as f64 + attributes.output_tokens as f64)
                    * self.scenario.run.bytes_per_token;
                candidate.cost_usd = estimate.usd_per_replica_s
                    * estimate.replica_seconds(prefill, attributes.output_tokens)
                    + option.usd_per_gb * bytes / 1e9;
                let load = candidate.in_transit as u64
                    + candidate.queued as u64
                    + candidate.running as u64;
                candidate.queue_wait_estimate = estimate.queue_wait(load);
                candidate.prefill_estimate = prefill;
            }
        }
        let view = RequestView {
            tenant: tenant_index,
            model: attributes.model,
            ingress: attributes.ingress,
            input_tokens: attributes.input_tokens,
            output_tokens: attributes.output_tokens,
            ttft_slo: tenant.slo.ttft,
        };
        let Some(position) = self.strategy.pick(&view, &route_set.candidates) else {
            let reason = choices.reject_reason;
            self.metrics
                .rejected(tenant_index, reason, now >= self.warmup);
            return;
        };
        let chosen = route_set.candidates[position];
        // From the candidate, not its option: the options are out of cache by now.
        let route = chosen.route;
        let way = &self.route_ways[route as usize];
        let path = &way.path;
        // Hubs on the way screen the request: time, cost, and perhaps a refusal there.
        let mut screening_delay = SimDuration::ZERO;
        for &position in &way.screening_positions {
            let site = path.sites[position];
            let Some(screening) = &self.scenario.sites[site].screening else {
                continue;
            };
            self.ledger
                .screened(tenant_index, site, screening.usd_per_request);
            if screening.refuse_probability > 0.0
                && self.screening_rngs[site].random::<f64>() < screening.refuse_probability
            {
                // Refused at the hub: the prompt crossed the links up to it.
                let crossed = &path.links[..position];
                for &link in crossed {
                    self.metrics.link_requests[link] += 1;
                }
                self.ledger
                    .carry(tenant_index, crossed, attributes.input_tokens);
                self.metrics
                    .rejected(tenant_index, REJECT_SCREENING, now >= self.warmup);
                return;
            }
            if let Some(delay) = &screening.delay {
                screening_delay += delay.sample(&mut self.screening_rngs[site]);
            }
        }
        // The prompt crosses the links in order. A link with a bandwidth sends it at that
        // rate, one message at a time per direction (FIFO, in the order requests reach it);
        // then it travels the link's latency (with jitter). Screening happens first.
        let prompt_bits = attributes.input_tokens as f64 * self.scenario.run.bytes_per_token * 8.0;
        let mut cursor = now + screening_delay;
        let mut backward = path.latency;
        for (position, &link) in path.links.iter().enumerate() {
            let crossing = &mut self.link_crossings[link];
            if let Some(bandwidth) = crossing.bandwidth_bits_per_s {
                let direction = usize::from(crossing.first_end != path.sites[position]);
                let free_at = &mut self.link_free_at[link][direction];
                let start = cursor.max(*free_at);
                let sending = SimDuration::from_secs_f64(prompt_bits / bandwidth);
                self.metrics.link_queue_ns[link] += start.saturating_since(cursor).as_nanos();
                *free_at = start + sending;
                cursor = start + sending;
            }
            cursor += crossing.latency;
            if let Some(jitter) = &crossing.jitter {
                cursor += jitter.sample(&mut crossing.jitter_rng);
                backward += jitter.sample(&mut crossing.jitter_rng);
            }
            self.metrics.link_requests[link] += 1;
        }
        let forward = cursor.saturating_since(now);
        self.ledger.carry_route(route, attributes.input_tokens);
        let id = self.requests.insert(Request {
            route,
            input_tokens: attributes.input_tokens,
            output_tokens: attributes.output_tokens,
            created: now,
            forward_latency: forward,
            return_latency: backward,
            ..Request::default()
        });
        self.loads[chosen.deployment].0 += 1;
        self.tenant_in_flight[tenant_index] += 1;
        if forward == SimDuration::ZERO && self.reach_at_once {
            // No network to cross (an M/M/c station, a deployment at the ingress): the
            // request reaches its deployment now, and its event would be the very next one
            // — rank 0 comes first at an instant, and no other event of rank 0 at this
            // instant is left, as they all ran before this arrival. Handled here, it is the
            // same step without a trip through the queue (on the M/M/c scenario, one event
            // in three; the step-by-step reference mode keeps the event, and the fidelity
            // tests, whose tenants enter at the deployment's region, compare both).
            self.reach_deployment(id, chosen.deployment, context);
        } else {
            context.schedule_in(
                forward,
                Event::ReachDeployment {
                    request: id,
                    deployment: chosen.deployment as u32,
                },
            );
        }
    }

    /// Request `request` reaches `deployment` now.
    #[inline]
    fn reach_deployment(
        &mut self,
        request: RequestId,
        deployment: usize,
        context: &mut Context<Event>,
    ) {
        self.loads[deployment].0 -= 1;
        self.deployments[deployment].arrive(
            request,
            context,
            &mut self.requests,
            &mut self.outcomes,
        );
        self.note_load(deployment);
        if !self.outcomes.is_empty() {
            self.finish_outcomes(context.now());
        }
    }

    /// Copies `deployment`'s queued and running counts into `loads` after they may have
    /// changed.
    #[inline]
    fn note_load(&mut self, deployment: usize) {
        let state = &self.deployments[deployment];
        let load = &mut self.loads[deployment];
        (load.1, load.2) = (state.queued(), state.running());
    }

    /// Books the requests that ended now: completed (their last token was produced now),
    /// dropped or timed out.
    fn finish_outcomes(&mut self, now: SimTime) {
        for outcome in self.outcomes.drain(..) {
            let id = match outcome {
                Outcome::Completed(id) | Outcome::Dropped(id) | Outcome::TimedOut(id) => id,
            };
            // Read in place: a copy per outcome showed when records were 104 bytes.
            let record = self.requests.get(id);
            let route = *self.requests.route_of(record);
            let tenant_index = route.tenant as usize;
            self.tenant_in_flight[tenant_index] -= 1;
            match outcome {
                Outcome::Completed(_) => {
                    let tenant = &self.scenario.tenants[tenant_index];
                    self.metrics
                        .completed(record, &route, tenant, now, self.warmup);
                    self.ledger.completed(record, &route);
                    self.ledger.carry_route(record.route, record.output_tokens);
                }
                Outcome::Dropped(_) => self.metrics.dropped(record, tenant_index, self.warmup),
                Outcome::TimedOut(_) => self.metrics.timed_out(record, tenant_index, self.warmup),
            }
            self.requests.remove(id);
        }
    }

    /// Closes the books at the end of the run and checks conservation.
    pub fn finish(&mut self) -> Result<(), String> {
        if let Some(error) = self.demand.iter().find_map(TenantDemand::error) {
            return Err(format!("the run stopped reading a trace: {error}"));
        }
        for deployment in &mut self.deployments {
            deployment.settle(self.end);
        }
        let route_paths = self.requests.routes().iter().zip(&self.route_ways);
        self.ledger.settle_routes(
            route_paths.map(|(route, way)| (route.tenant as usize, &way.path.links[..])),
        );
        self.metrics.finish(
            &self.deployments,
            &self.requests,
            self.end,
            self.warmup,
            &self.scenario.tenants,
        )
    }
}

/// Filter step for one (tenant, ingress, model): deployments that serve the model, that
/// policy allows, and that are reachable.
fn route_choices_for(
    scenario: &Scenario,
    paths: &PathCache,
    hubs: &[SiteIndex],
    numbered_routes: &mut Vec<(Route, RouteWay)>,
    tenant: usize,
    ingress: SiteIndex,
    model: usize,
) -> RouteChoices {
    let mut every_path = Vec::new();
    let mut shortest_paths = Vec::new();
    let mut reject_reason = REJECT_NO_ROUTE;
    for (index, deployment) in scenario.deployments.iter().enumerate() {
        if deployment.model != model {
            continue;
        }
        let options = paths.options(ingress, index);
        if options.is_empty() {
            continue;
        }
        let mut first_allowed = true;
        for path in options {
            // Policy decides per path: `require_via` allows some paths and not others.
            if let Some(rule) =
                crate::policy::denying_rule(scenario, tenant, model, deployment.site, &path.sites)
            {
                if reject_reason == REJECT_NO_ROUTE {
                    reject_reason = POLICY_REASONS_FROM + rule;
                }
                continue;
            }
            let mut passed = HubSet::default();
            for (number, hub) in hubs.iter().enumerate() {
                if path.sites.contains(hub) {
                    passed.insert(number);
                }
            }
            let option = RouteOption {
                deployment: index as u32,
                latency: path.latency,
                hubs: passed,
                usd_per_gb: path
                    .links
                    .iter()
                    .map(|&link| scenario.links[link].usd_per_gb)
                    .sum(),
                route: numbered_routes.len() as u32,
            };
            every_path.push(option);
            if first_allowed {
                shortest_paths.push(option);
            }
            first_allowed = false;
            let route = Route {
                tenant: tenant as u32,
                deployment: index as u32,
                timeout: scenario.tenants[tenant].timeout,
            };
            let way = RouteWay {
                path: path.clone(),
                screening_positions: (1..path.sites.len().saturating_sub(1))
                    .filter(|&position| scenario.sites[path.sites[position]].screening.is_some())
                    .collect(),
            };
            numbered_routes.push((route, way));
        }
    }
    RouteChoices {
        every_path: RouteSet::new(scenario, every_path),
        shortest_paths: RouteSet::new(scenario, shortest_paths),
        reject_reason,
    }
}

impl Model for Provider {
    type Event = Event;

    fn prefetch(&self, next: &Event) {
        match *next {
            Event::ReachDeployment {
                request,
                deployment,
            } => {
                self.requests.prefetch(request);
                if let Some(state) = self.deployments.get(deployment as usize) {
                    crate::hint::prefetch_all(state);
                }
            }
            Event::ReplicaDone {
                deployment,
                replica,
            } => {
                if let Some(state) = self.deployments.get(deployment as usize) {
                    state.prefetch(replica, &self.requests);
                }
            }
            _ => {}
        }
    }

    fn handle(&mut self, event: Event, context: &mut Context<Event>) {
        match event {
            Event::Arrival { tenant } => self.handle_arrival(tenant as usize, context),
            Event::ReachDeployment {
                request,
                deployment,
            } => self.reach_deployment(request, deployment as usize, context),
            Event::ReplicaDone {
                deployment,
                replica,
            } => {
                self.deployments[deployment as usize].replica_done(
                    replica,
                    context,
                    &mut self.requests,
                    &mut self.outcomes,
                );
                self.note_load(deployment as usize);
                if !self.outcomes.is_empty() {
                    self.finish_outcomes(context.now());
                }
            }
            Event::WarmupEnd => self.metrics.warmup_end(&self.deployments, context.now()),
            Event::TelemetryTick => {
                self.telemetry.copy_from_slice(&self.loads);
                if let Some(period) = self.telemetry_period {
                    let next = context.now() + period;
                    if next <= self.end {
                        context.schedule_at(next, Event::TelemetryTick);
                    }
                }
            }
            Event::MetricsTick => {
                let now = context.now();
                self.metrics.tick(&self.deployments, now);
                let next = now + self.scenario.run.metrics_interval;
                if next <= self.end {
                    context.schedule_at(next, Event::MetricsTick);
                } else if now < self.end {
                    // A last, shorter interval up to the end of the run.
                    context.schedule_at(self.end, Event::MetricsTick);
                }
            }
        }
    }
}

/// Runs a validated scenario with the given strategy spec and returns what it measured.
/// Fails (an internal error) if conservation does not hold.
pub fn run(scenario: Scenario, strategy: &StrategySpec) -> Result<RunOutput, String> {
    run_with(scenario, strategy, RunOptions::default())
}

/// How the simulation is carried out; results do not depend on it.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// The reference mode: every LLM decode step is an event, instead of jumping over
    /// steps while a batch's membership is unchanged, and so is every request's arrival at
    /// its deployment, instead of handling one that crosses no network with its
    /// departure. Slower; the results are the same (tests compare both, figure for figure).
    pub step_by_step: bool,
}

/// [`run`] with options.
pub fn run_with(
    scenario: Scenario,
    strategy: &StrategySpec,
    options: RunOptions,
) -> Result<RunOutput, String> {
    run_with_progress(scenario, strategy, options, &mut |_| {})
}

/// How far a run has come, for a progress display.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub simulated: SimTime,
    pub end: SimTime,
    pub events: u64,
    pub requests: u64,
}

/// [`run_with`], calling `progress` after each thousandth of the simulated duration.
pub fn run_with_progress(
    scenario: Scenario,
    strategy: &StrategySpec,
    options: RunOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<RunOutput, String> {
    let strategy_text = strategy_text(strategy);
    let mut simulation = build(scenario, strategy, options)?;
    let end = simulation.model().end();
    const SLICES: u64 = 1000;
    for slice in 1..=SLICES {
        let until =
            SimTime::from_nanos((end.as_nanos() as u128 * slice as u128 / SLICES as u128) as u64);
        simulation.run_until(until);
        progress(Progress {
            simulated: until,
            end,
            events: simulation.events_processed(),
            requests: simulation.model().generated(),
        });
    }
    simulation.run_until(end);
    let events = simulation.events_processed();
    let mut provider = simulation.into_model();
    provider.finish()?;
    Ok(RunOutput {
        strategy: strategy_text,
        metrics: provider.metrics,
        ledger: provider.ledger,
        scenario: provider.scenario,
        events,
    })
}

/// The simulation of a scenario, ready to run: capacity in place, the first arrival of
/// each tenant, the warm-up mark and the first metrics tick scheduled. [`run`] runs it to
/// the end; benchmarks and tools may step it event by event.
pub fn build(
    scenario: Scenario,
    strategy: &StrategySpec,
    options: RunOptions,
) -> Result<Simulation<Provider>, String> {
    let mut provider = Provider::new(scenario, strategy, options)?;
    let end = provider.end;
    let warmup = provider.warmup;
    let first_arrival_timer = provider.first_arrival_timer;
    let mut first_arrivals = Vec::with_capacity(provider.demand.len());
    for (index, demand) in provider.demand.iter_mut().enumerate() {
        if let Some(first) = demand.next_arrival(&provider.scenario.tenants[index], end) {
            first_arrivals.push((first, index));
        }
    }
    let interval = provider.scenario.run.metrics_interval;
    let telemetry_period = provider.telemetry_period;
    let mut simulation = Simulation::new(provider);
    // Capacity exists from t = 0 (DeploymentState::new); arrivals are scheduled after it.
    simulation.schedule_at(warmup, Event::WarmupEnd);
    simulation.schedule_at((SimTime::ZERO + interval).min(end), Event::MetricsTick);
    if let Some(period) = telemetry_period {
        simulation.schedule_at(SimTime::ZERO + period, Event::TelemetryTick);
    }
    for (time, tenant) in first_arrivals {
        simulation.set_timer(
            first_arrival_timer + tenant as u32,
            time,
            Event::Arrival {
                tenant: tenant as u32,
            },
        );
    }
    Ok(simulation)
}

/// The spec as text, as it was written (`name` or `name[k=v,...]`).
pub fn strategy_text(spec: &StrategySpec) -> String {
    if spec.parameters.is_empty() {
        spec.name.clone()
    } else {
        let parameters: Vec<String> = spec
            .parameters
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!("{}[{}]", spec.name, parameters.join(","))
    }
}
