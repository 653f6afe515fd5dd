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

mod least_loaded;
mod nearest;

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
}

/// A deployment that passed the filters, with what a router knows about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub deployment: DeploymentIndex,
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
}

/// A parsed strategy spec: `least-loaded` or `latency-aware[telemetry_delay=5s]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrategySpec {
    pub name: String,
    pub parameters: BTreeMap<String, String>,
}

/// The strategies [`resolve`] knows, for messages.
pub const STRATEGY_NAMES: [&str; 2] = ["nearest", "least-loaded"];

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
        )?;
        Ok(spec)
    }
}

/// Builds the strategy a spec names. `rng` is the router's own random stream.
pub fn resolve(spec: &StrategySpec, rng: StreamRng) -> Result<Box<dyn Strategy>, String> {
    let _ = rng; // for strategies that draw at random (power-of-two, weighted), later
    let reject_parameters = || -> Result<(), String> {
        match spec.parameters.keys().next() {
            Some(key) => Err(format!(
                "strategy {:?} takes no parameter {key:?}",
                spec.name
            )),
            None => Ok(()),
        }
    };
    match spec.name.as_str() {
        "nearest" => reject_parameters().map(|_| Box::new(nearest::Nearest) as Box<dyn Strategy>),
        "least-loaded" => {
            reject_parameters().map(|_| Box::new(least_loaded::LeastLoaded) as Box<dyn Strategy>)
        }
        other => Err(format!(
            "unknown strategy {other:?}; known strategies: {}",
            STRATEGY_NAMES.join(", ")
        )),
    }
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
            network_latency: SimDuration::from_millis(millis),
            in_transit: 0,
            queued,
            running,
            replicas,
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
}
