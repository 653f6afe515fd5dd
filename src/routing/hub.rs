//! `hub[via=ID]`: route through one hub. Only candidates whose path passes through hub `ID`
//! are considered; among them, the one with the least load per replica (as
//! `least-loaded` counts it), ties to the lower network latency, then to the lower
//! position. Rejects the request when no candidate path passes that hub.
//!
//! Why: a hub models a transit point a policy or contract forces traffic through (an
//! exchange, a sovereign gateway, a cloud interconnect). Pinning every request to it shows
//! what that constraint costs against the unconstrained strategies.
//!
//! Parameters: `via` (required), the `id` of a `kind = "hub"` site; it is resolved to its
//! hub number when the strategy is built, so a misspelt hub fails before the run.
//!
//! Example: `hub[via=hub-sg]` with candidates A direct (idle), B through hub-sg (3 per
//! replica) and C through hub-sg and hub-fra (1 per replica): C. A is never considered.

use super::{Candidate, RequestView, RouteContext, Strategy, StrategySpec, check_parameters};

pub struct Hub {
    hub: usize,
}

impl Hub {
    pub fn from_spec(spec: &StrategySpec, context: &RouteContext) -> Result<Hub, String> {
        check_parameters(spec, &["via"])?;
        let Some(via) = spec.parameters.get("via") else {
            return Err(
                "strategy \"hub\" needs the hub to route through: hub[via=ID], ID a hub site's id"
                    .to_string(),
            );
        };
        let hub = context
            .hub_number(via)
            .map_err(|message| format!("strategy \"hub\": via={via}: {message}"))?;
        Ok(Hub { hub })
    }
}

impl Strategy for Hub {
    fn chooses_paths(&self) -> bool {
        true
    }

    fn pick(&mut self, _request: &RequestView, candidates: &[Candidate]) -> Option<usize> {
        (0..candidates.len())
            .filter(|&i| candidates[i].hubs.contains(self.hub))
            .min_by(|&i, &j| {
                let (a, b) = (&candidates[i], &candidates[j]);
                a.load_per_replica_cmp(b)
                    .then_with(|| a.network_latency.cmp(&b.network_latency))
                    .then_with(|| i.cmp(&j))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::HubSet;
    use crate::routing::test_support::{REQUEST, candidate};

    fn via(c: Candidate, hubs: &[usize]) -> Candidate {
        let mut set = HubSet::default();
        for &hub in hubs {
            set.insert(hub);
        }
        Candidate { hubs: set, ..c }
    }

    #[test]
    fn only_paths_through_the_hub_then_least_loaded() {
        let candidates = [
            via(candidate(0, 5, 0, 0, 1), &[]),      // idle but direct
            via(candidate(1, 40, 3, 0, 1), &[1]),    // 3 per replica
            via(candidate(2, 90, 1, 0, 1), &[0, 1]), // 1 per replica
            via(candidate(3, 10, 0, 0, 1), &[0]),    // other hub only
        ];
        assert_eq!(Hub { hub: 1 }.pick(&REQUEST, &candidates), Some(2));
        assert_eq!(Hub { hub: 0 }.pick(&REQUEST, &candidates), Some(3));
        assert_eq!(Hub { hub: 2 }.pick(&REQUEST, &candidates), None);
    }

    #[test]
    fn ties_lower_latency_then_position() {
        let candidates = [
            via(candidate(0, 50, 2, 0, 1), &[0]),
            via(candidate(1, 30, 4, 0, 2), &[0]),
            via(candidate(2, 30, 2, 0, 1), &[0]),
        ];
        assert_eq!(Hub { hub: 0 }.pick(&REQUEST, &candidates), Some(1));
    }

    #[test]
    fn via_is_resolved_against_the_scenario_hubs() {
        let spec = StrategySpec {
            name: "hub".to_string(),
            parameters: [("via".to_string(), "hub-fra".to_string())].into(),
        };
        let context = RouteContext {
            hubs: Some(vec!["hub-sg".to_string(), "hub-fra".to_string()]),
        };
        assert_eq!(Hub::from_spec(&spec, &context).unwrap().hub, 1);
        let elsewhere = RouteContext {
            hubs: Some(vec!["hub-sg".to_string()]),
        };
        let message = Hub::from_spec(&spec, &elsewhere).err().unwrap();
        println!("{message}");
        assert!(message.contains("no hub \"hub-fra\""));
    }
}
