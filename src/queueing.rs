//! Closed-form queueing results, for checking the simulator against theory.
//!
//! When a deployment is a plain station that theory describes exactly — Poisson arrivals
//! (every tenant sending it traffic has a constant rate), no other deployment serving its
//! model (so routing cannot divert traffic), no queue limit and no client timeout — strait
//! reports the predicted mean queue wait next to the measured one:
//!
//! - **M/M/c** (exponential service): Erlang C, `Wq = C(c, a) / (cμ − λ)` with `a = λ/μ`.
//! - **M/G/1** (any other service distribution, one server): Pollaczek–Khinchine,
//!   `Wq = λ E[S²] / (2(1 − ρ)) = ρ (1 + cv²) / (2μ(1 − ρ))`; M/D/1 is the case cv² = 0.
//!
//! Worked example (the default `scenarios/mmc.toml`): λ = 90/s, mean service 100 ms
//! (μ = 10/s), c = 10. Then a = 9, ρ = 0.9, C(10, 9) = 0.6687 and Wq = 0.6687 / (100 − 90)
//! = 66.87 ms.

use crate::distribution::TimeDistribution;
use crate::engine::SimDuration;
use crate::scenario::{Scenario, ServiceModel};

/// Probability that an arrival is blocked in an M/M/c/c loss system (Erlang's B formula),
/// by the recurrence `B₀ = 1, Bₖ = a·Bₖ₋₁ / (k + a·Bₖ₋₁)`, which stays within [0, 1] for any
/// number of servers (the textbook sum of aᵏ/k! overflows past a ≈ 700).
pub fn erlang_b(servers: u32, offered_load: f64) -> f64 {
    (1..=servers).fold(1.0, |blocking, k| {
        offered_load * blocking / (k as f64 + offered_load * blocking)
    })
}

/// Probability that an arrival waits in an M/M/c queue (Erlang's C formula), from Erlang B:
/// `C = B / (1 − ρ(1 − B))`. `offered_load` is a = λ/μ; requires a < c.
pub fn erlang_c(servers: u32, offered_load: f64) -> f64 {
    let blocking = erlang_b(servers, offered_load);
    let utilization = offered_load / servers as f64;
    blocking / (1.0 - utilization * (1.0 - blocking))
}

/// What theory predicts for one deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// Kendall notation, e.g. `M/M/10` or `M/D/1`.
    pub kendall: String,
    pub arrival_rate_per_s: f64,
    pub utilization: f64,
    /// `None` when the station is unstable (ρ ≥ 1): the queue grows without bound.
    pub mean_queue_wait: Option<SimDuration>,
}

/// The closed-form prediction for deployment `index`, if theory covers it exactly.
pub fn predict(scenario: &Scenario, index: usize) -> Option<Prediction> {
    let deployment = &scenario.deployments[index];
    let ServiceModel::Plain(service) = &deployment.service else {
        return None;
    };
    if deployment.max_queue.is_some() {
        return None;
    }
    let serves_same_model = scenario
        .deployments
        .iter()
        .filter(|other| other.model == deployment.model)
        .count();
    if serves_same_model != 1 {
        return None;
    }
    let topology = crate::topology::Topology::new(&scenario.sites, &scenario.links);
    let mut arrival_rate_per_s = 0.0;
    for (tenant_index, tenant) in scenario.tenants.iter().enumerate() {
        let Some(&(_, model_weight)) = tenant
            .models
            .iter()
            .find(|(model, _)| *model == deployment.model)
        else {
            continue;
        };
        // The closed forms assume Poisson arrivals at a constant rate and patient clients.
        if tenant.rate_shape().is_some()
            || tenant.timeout.is_some()
            || tenant.trace.is_some()
            || tenant.arrivals != crate::scenario::ArrivalProcess::Poisson
        {
            return None;
        }
        for &(ingress, ingress_weight) in &tenant.ingress {
            let Some(path) = topology.shortest_path(ingress, deployment.site) else {
                continue;
            };
            if crate::policy::denying_rule(
                scenario,
                tenant_index,
                deployment.model,
                deployment.site,
                &path.sites,
            )
            .is_none()
            {
                arrival_rate_per_s += tenant.rate_per_s * model_weight * ingress_weight;
            }
        }
    }
    if arrival_rate_per_s == 0.0 {
        return None;
    }
    let mean_service_s = service.mean().as_secs_f64();
    let servers = deployment.replicas;
    let utilization = arrival_rate_per_s * mean_service_s / servers as f64;
    let (kendall, wait_s) = match service {
        TimeDistribution::Exponential { .. } => {
            let offered_load = arrival_rate_per_s * mean_service_s;
            let wait = (utilization < 1.0).then(|| {
                erlang_c(servers, offered_load)
                    / (servers as f64 / mean_service_s - arrival_rate_per_s)
            });
            (format!("M/M/{servers}"), wait)
        }
        _ if servers == 1 => {
            let letter = if matches!(service, TimeDistribution::Deterministic { .. }) {
                "D"
            } else {
                "G"
            };
            let wait = (utilization < 1.0).then(|| {
                utilization * (1.0 + service.squared_cv()) * mean_service_s
                    / (2.0 * (1.0 - utilization))
            });
            (format!("M/{letter}/1"), wait)
        }
        _ => return None,
    };
    Some(Prediction {
        kendall,
        arrival_rate_per_s,
        utilization,
        mean_queue_wait: wait_s.map(SimDuration::from_secs_f64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_matches_tables_and_the_single_server_case() {
        // M/M/1: the probability of waiting is ρ.
        assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12);
        // Standard table value: C(12, 10) = 0.4494.
        println!("C(12, 10) expected 0.4494 actual {:.4}", erlang_c(12, 10.0));
        assert!((erlang_c(12, 10.0) - 0.449_388).abs() < 1e-5);
        // Large stations: 800 servers at a = 750 (the sum of aᵏ/k! would overflow f64).
        let large = erlang_c(800, 750.0);
        println!("C(800, 750) expected 0.043835 actual {large:.6}");
        assert!((large - 0.043_835).abs() < 1e-6);
        // M/M/c/c: B(10, 9) = 0.16796 (tables: 0.1680).
        assert!((erlang_b(10, 9.0) - 0.167_963).abs() < 1e-5);
        // The mmc.toml worked example.
        println!("C(10, 9) expected 0.6687 actual {:.4}", erlang_c(10, 9.0));
        assert!((erlang_c(10, 9.0) - 0.668_732).abs() < 1e-5);
    }
}
