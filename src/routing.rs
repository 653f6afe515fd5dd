//! Routing: choosing a deployment for each request, in three steps.
//!
//! 1. **Filter** — the simulator keeps only deployments that serve the request's model,
//!    that policy allows for this tenant, and that are reachable from its ingress.
//! 2. **Weigh** and 3. **pick** — a [`Strategy`] looks at the surviving [`Candidate`]s, a
//!    read-only snapshot of network latency and load, and returns one.
//!
//! Strategies are pure functions of that view (plus their own seeded random stream, for
//! those that need one); they never touch the simulation. They are named by a spec string,
//! `name` or `name[key=value,...]`, so scenarios, the command line and sweeps list them as
//! plain values. A new strategy is one file in `routing/` and one line in [`resolve`].
//!
//! The strategies (each file's documentation gives the rule, ties and an example):
//!
//! - `nearest` — lowest network latency from the ingress.
//! - `least-loaded` — fewest requests (in transit, queued, running) per replica.
//! - `power-of-two` — two candidates at random, the less loaded per replica of the two.
//! - `latency-aware` — least expected TTFT: network both ways + queue wait + prefill.
//! - `cost-aware[headroom=F]` — cheapest expected to meet the TTFT target (× `F`), else
//!   the fastest.
//! - `weighted` — a static random split by deployment `route_weight`, like weighted DNS.
//! - `hub[via=ID]` — only paths through hub `ID`, the least loaded per replica among them.
//! - `spillover[threshold=N]` — the nearest, unless `N` or more requests per replica wait
//!   there; then the nearest that is below that.
//!
//! Every strategy also accepts `telemetry_delay=DURATION` (see [`telemetry_delay`]): the
//! load it sees is that old.

mod cost_aware;
mod hub;
mod latency_aware;
mod least_loaded;
mod nearest;
mod power_of_two;
mod spillover;
mod weighted;

use std::collections::BTreeMap;

use crate::engine::{SimDuration, StreamRng};
use crate::scenario::{DeploymentIndex, ModelIndex, SiteIndex, TenantIndex};

/// The request being routed, as strategies see it.
#[derive(Clone, Copy, Debug)]
pub struct RequestView {
    pub tenant: TenantIndex,
    pub model: ModelIndex,
    pub ingress: SiteIndex,
    pub input_tokens: u32,
    pub output_tokens: u32,
    /// The tenant's TTFT target, if it has one.
    pub ttft_slo: Option<SimDuration>,
}

/// The hubs a path passes through, as a set of hub numbers (the position of each
/// `kind = "hub"` site among the scenario's hubs, in file order; at most 64 hubs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HubSet(pub u64);

impl HubSet {
    pub fn contains(self, hub: usize) -> bool {
        hub < 64 && self.0 & (1 << hub) != 0
    }
    pub fn insert(&mut self, hub: usize) {
        if hub < 64 {
            self.0 |= 1 << hub;
        }
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// A (deployment, path) pair that passed the filters, with what a router knows about it.
/// A deployment may appear several times, once per distinct path to it (direct, or
/// through each hub).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate {
    pub deployment: DeploymentIndex,
    /// The route's number: the way (deployment and path) the simulator sends the request
    /// on when this candidate is picked.
    pub route: u32,
    /// Hubs the path passes through.
    pub hubs: HubSet,
    /// One-way latency of the path from the request's ingress, without jitter.
    pub network_latency: SimDuration,
    /// Requests routed to the deployment that are still crossing the network: a router
    /// knows what it has dispatched, even before the deployment sees it.
    pub in_transit: u32,
    /// Requests waiting in the deployment's admission queue.
    pub queued: u32,
    /// Requests being served.
    pub running: u32,
    pub replicas: u32,
    /// Requests one replica serves at once.
    pub max_batch: u32,
    /// Expected wait in the deployment's queue for a request sent now: the requests ahead of
    /// it beyond the free batch slots, times the mean time a slot takes per request, shared
    /// by all slots (see `simulator::estimates`).
    pub queue_wait_estimate: SimDuration,
    /// This request's prefill time on the deployment's profile (zero for a plain station).
    pub prefill_estimate: SimDuration,
    /// Expected cost of serving this request there, in US dollars: its share of replica
    /// GPU time at the region's price, plus transit of its bytes over the path's links.
    pub cost_usd: f64,
    /// Static share for `weighted` (the deployment's `route_weight`, default 1).
    pub weight: f64,
}

impl Candidate {
    /// Network both ways + expected queue wait + prefill: the TTFT a router expects.
    pub fn ttft_estimate(&self) -> SimDuration {
        self.network_latency.saturating_mul(2) + self.queue_wait_estimate + self.prefill_estimate
    }
}

/// What strategies may refer to by name, resolved when the strategy is built.
#[derive(Clone, Debug, Default)]
pub struct RouteContext {
    /// Hub site ids, in hub-number order; `None` accepts any name (for checking a spec's
    /// syntax before a scenario is known).
    pub hubs: Option<Vec<String>>,
}

impl RouteContext {
    /// The number of the hub called `id`.
    pub fn hub_number(&self, id: &str) -> Result<usize, String> {
        match &self.hubs {
            None => Ok(0),
            Some(hubs) => hubs.iter().position(|hub| hub == id).ok_or_else(|| {
                format!(
                    "no hub {id:?} in this scenario; its hubs are: {}",
                    if hubs.is_empty() {
                        "(none)".to_string()
                    } else {
                        hubs.join(", ")
                    }
                )
            }),
        }
    }
}

impl Candidate {
    /// In-transit, queued and running requests: the load `least-loaded` balances.
    pub fn load(&self) -> u64 {
        self.in_transit as u64 + self.queued as u64 + self.running as u64
    }

    /// Compares load per replica exactly (cross-multiplied, no division).
    pub fn load_per_replica_cmp(&self, other: &Candidate) -> std::cmp::Ordering {
        (self.load() * other.replicas as u64).cmp(&(other.load() * self.replicas as u64))
    }
}

/// A routing strategy: picks one of the candidates (by position), or none to reject.
pub trait Strategy: Send {
    fn pick(&mut self, request: &RequestView, candidates: &[Candidate]) -> Option<usize>;

    /// Whether the strategy chooses among a deployment's paths (through each hub). If not,
    /// it sees one candidate per deployment: its shortest path that policy allows.
    fn chooses_paths(&self) -> bool {
        false
    }

    /// Whether the strategy reads `queue_wait_estimate`, `prefill_estimate` or `cost_usd`;
    /// if not, the simulator leaves them at zero and saves their computation.
    fn reads_estimates(&self) -> bool {
        false
    }
}

/// A parsed strategy spec: `least-loaded` or `latency-aware[telemetry_delay=5s]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrategySpec {
    pub name: String,
    pub parameters: BTreeMap<String, String>,
}

/// The strategies [`resolve`] knows, for messages.
pub const STRATEGY_NAMES: [&str; 8] = [
    "nearest",
    "least-loaded",
    "power-of-two",
    "latency-aware",
    "cost-aware",
    "weighted",
    "hub",
    "spillover",
];

/// One valid spec per strategy, in [`STRATEGY_NAMES`] order, with typical parameters (for
/// documentation, benchmarks and tests).
pub const STRATEGY_EXAMPLES: [&str; 8] = [
    "nearest",
    "least-loaded",
    "power-of-two",
    "latency-aware[telemetry_delay=5s]",
    "cost-aware[headroom=0.8]",
    "weighted",
    "hub[via=hub-sg]",
    "spillover[threshold=4]",
];

/// The parameter every strategy accepts: how old the load telemetry a router sees is.
const TELEMETRY_DELAY: &str = "telemetry_delay";

/// The spec's `telemetry_delay` (a duration such as `5s` or `100ms`), if it has one. The
/// simulator implements the staleness; strategies just see older load.
pub fn telemetry_delay(spec: &StrategySpec) -> Result<Option<SimDuration>, String> {
    spec.parameters
        .get(TELEMETRY_DELAY)
        .map(|text| {
            crate::scenario::parse_duration(text).map_err(|message| {
                format!("strategy {:?}: {TELEMETRY_DELAY}: {message}", spec.name)
            })
        })
        .transpose()
}

/// Rejects any parameter of `spec` other than `allowed` and the common `telemetry_delay`,
/// naming the valid ones.
fn check_parameters(spec: &StrategySpec, allowed: &[&str]) -> Result<(), String> {
    match spec
        .parameters
        .keys()
        .find(|key| key.as_str() != TELEMETRY_DELAY && !allowed.contains(&key.as_str()))
    {
        None => Ok(()),
        Some(key) => {
            let valid: Vec<&str> = allowed.iter().copied().chain([TELEMETRY_DELAY]).collect();
            Err(format!(
                "strategy {:?} takes no parameter {key:?}; its parameters are: {}",
                spec.name,
                valid.join(", ")
            ))
        }
    }
}

impl StrategySpec {
    pub fn parse(text: &str) -> Result<StrategySpec, String> {
        let text = text.trim();
        let (name, parameters_text) = match text.split_once('[') {
            None => (text, None),
            Some((name, rest)) => {
                let Some(inner) = rest.strip_suffix(']') else {
                    return Err(format!(
                        "strategy {text:?} opens '[' without closing it; expected name[key=value,...]"
                    ));
                };
                (name, Some(inner))
            }
        };
        if !STRATEGY_NAMES.contains(&name) {
            return Err(format!(
                "unknown strategy {name:?}; known strategies: {}",
                STRATEGY_NAMES.join(", ")
            ));
        }
        let mut parameters = BTreeMap::new();
        for pair in parameters_text
            .into_iter()
            .flat_map(|inner| inner.split(','))
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let Some((key, value)) = pair.split_once('=') else {
                return Err(format!("strategy parameter {pair:?} is not key=value"));
            };
            parameters.insert(key.trim().to_string(), value.trim().to_string());
        }
        let spec = StrategySpec {
            name: name.to_string(),
            parameters,
        };
        // Building it checks the parameters, so that bad specs fail at validation time.
        resolve(
            &spec,
            crate::engine::RngStreams::new(0).stream("routing", 0),
            &RouteContext::default(),
        )?;
        Ok(spec)
    }
}

/// Builds the strategy a spec names. `rng` is the router's own random stream; `context`
/// resolves names (hubs) the spec mentions.
pub fn resolve(
    spec: &StrategySpec,
    rng: StreamRng,
    context: &RouteContext,
) -> Result<Box<dyn Strategy>, String> {
    let strategy: Box<dyn Strategy> = match spec.name.as_str() {
        "nearest" => check_parameters(spec, &[]).map(|_| Box::new(nearest::Nearest) as _)?,
        "least-loaded" => {
            check_parameters(spec, &[]).map(|_| Box::new(least_loaded::LeastLoaded) as _)?
        }
        "power-of-two" => Box::new(power_of_two::PowerOfTwo::from_spec(spec, rng)?),
        "latency-aware" => Box::new(latency_aware::LatencyAware::from_spec(spec)?),
        "cost-aware" => Box::new(cost_aware::CostAware::from_spec(spec)?),
        "weighted" => Box::new(weighted::Weighted::from_spec(spec, rng)?),
        "hub" => Box::new(hub::Hub::from_spec(spec, context)?),
        "spillover" => Box::new(spillover::Spillover::from_spec(spec)?),
        other => {
            return Err(format!(
                "unknown strategy {other:?}; known strategies: {}",
                STRATEGY_NAMES.join(", ")
            ));
        }
    };
    telemetry_delay(spec)?;
    Ok(strategy)
}

/// Builders shared by the strategies' unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    use super::{Candidate, RequestView};
    use crate::engine::SimDuration;

    pub const REQUEST: RequestView = RequestView {
        tenant: 0,
        model: 0,
        ingress: 0,
        input_tokens: 1,
        output_tokens: 1,
        ttft_slo: None,
    };

    pub fn candidate(
        deployment: usize,
        millis: u64,
        queued: u32,
        running: u32,
        replicas: u32,
    ) -> Candidate {
        Candidate {
            deployment,
            route: 0,
            hubs: super::HubSet::default(),
            network_latency: SimDuration::from_millis(millis),
            in_transit: 0,
            queued,
            running,
            replicas,
            max_batch: 1,
            queue_wait_estimate: SimDuration::ZERO,
            prefill_estimate: SimDuration::ZERO,
            cost_usd: 0.0,
            weight: 1.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_with_and_without_parameters() {
        assert_eq!(StrategySpec::parse("nearest").unwrap().name, "nearest");
        assert!(
            StrategySpec::parse("nearest[")
                .unwrap_err()
                .contains("closing")
        );
        assert!(
            StrategySpec::parse("fastest")
                .unwrap_err()
                .contains("known strategies")
        );
        assert!(
            StrategySpec::parse("nearest[x=1]")
                .unwrap_err()
                .contains("no parameter")
        );
    }

    #[test]
    fn every_example_parses_and_names_its_strategy() {
        for (example, name) in STRATEGY_EXAMPLES.iter().zip(STRATEGY_NAMES) {
            let spec = StrategySpec::parse(example).unwrap_or_else(|e| panic!("{example}: {e}"));
            assert_eq!(spec.name, name);
        }
        for name in STRATEGY_NAMES.iter().filter(|&&name| name != "hub") {
            StrategySpec::parse(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn parameter_errors_are_clear() {
        let error = |text: &str| {
            let message = StrategySpec::parse(text).unwrap_err();
            println!("{text} -> {message}");
            message
        };
        let cases = [
            ("hub", "needs the hub"),
            (
                "hub[hub=hub-sg]",
                "its parameters are: via, telemetry_delay",
            ),
            ("cost-aware[headroom=0]", "(0, 1]"),
            ("cost-aware[headroom=high]", "not a number"),
            (
                "cost-aware[slo=1s]",
                "its parameters are: headroom, telemetry_delay",
            ),
            ("spillover[threshold=0]", "whole number"),
            ("spillover[threshold=1.5]", "whole number"),
            (
                "power-of-two[choices=3]",
                "its parameters are: telemetry_delay",
            ),
            ("least-loaded[telemetry_delay=5]", "no unit"),
            ("latency-aware[telemetry_delay=-1s]", "negative"),
        ];
        for (text, expected) in cases {
            let message = error(text);
            assert!(message.contains(expected), "{text}: {message}");
        }
    }

    #[test]
    fn telemetry_delay_is_optional_and_common() {
        for text in [
            "nearest[telemetry_delay=100ms]",
            "weighted[telemetry_delay=0.1s]",
            "spillover[threshold=2,telemetry_delay=100ms]",
        ] {
            let spec = StrategySpec::parse(text).unwrap();
            assert_eq!(
                telemetry_delay(&spec).unwrap(),
                Some(SimDuration::from_millis(100)),
                "{text}"
            );
        }
        let plain = StrategySpec::parse("latency-aware").unwrap();
        assert_eq!(telemetry_delay(&plain).unwrap(), None);
    }

    #[test]
    fn hub_resolves_against_the_scenario() {
        let spec = StrategySpec::parse("hub[via=hub-fra]").unwrap();
        let rng = || crate::engine::RngStreams::new(0).stream("routing", 0);
        let sg_only = RouteContext {
            hubs: Some(vec!["hub-sg".to_string()]),
        };
        assert!(resolve(&spec, rng(), &sg_only).is_err());
        let both = RouteContext {
            hubs: Some(vec!["hub-sg".to_string(), "hub-fra".to_string()]),
        };
        assert!(resolve(&spec, rng(), &both).is_ok());
    }
}
