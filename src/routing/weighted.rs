//! `weighted`: a static split, like weighted DNS records or a cloud traffic manager.
//! Choose a deployment at random with probability proportional to its `weight` (the
//! deployment's `route_weight`), then that deployment's lowest-latency path (ties to the
//! lower position). Load and queues are ignored.
//!
//! Each deployment counts once, however many paths to it are candidates (its weight is
//! read from its first candidate). A weight that is zero, negative or not finite is never
//! chosen; when no deployment has a positive weight, the request is rejected.
//!
//! Why: it is what most production setups do without a load-aware router, and the baseline
//! that shows what load- and latency-awareness buy.
//!
//! Parameters: none (besides the common `telemetry_delay`, which a static split ignores).
//!
//! Example: deployment A (weight 1) and deployment B (weight 3) reached both directly
//! (100 ms) and through a hub (60 ms): A gets 1/4 of the requests, B 3/4, always through
//! the hub.

use rand::RngExt;

use super::{Candidate, RequestView, Strategy, StrategySpec, check_parameters};
use crate::engine::StreamRng;
use crate::scenario::DeploymentIndex;

pub struct Weighted {
    rng: StreamRng,
    /// Scratch: each eligible deployment once, with its weight, in order of first
    /// appearance among the candidates (reused between decisions).
    deployments: Vec<(DeploymentIndex, f64)>,
}

impl Weighted {
    pub fn from_spec(spec: &StrategySpec, rng: StreamRng) -> Result<Weighted, String> {
        check_parameters(spec, &[])?;
        Ok(Weighted::new(rng))
    }

    fn new(rng: StreamRng) -> Weighted {
        Weighted {
            rng,
            deployments: Vec::new(),
        }
    }
}

impl Strategy for Weighted {
    fn pick(&mut self, _request: &RequestView, candidates: &[Candidate]) -> Option<usize> {
        self.deployments.clear();
        let mut total = 0.0;
        for (i, candidate) in candidates.iter().enumerate() {
            let first = !candidates[..i]
                .iter()
                .any(|c| c.deployment == candidate.deployment);
            if first && candidate.weight.is_finite() && candidate.weight > 0.0 {
                self.deployments
                    .push((candidate.deployment, candidate.weight));
                total += candidate.weight;
            }
        }
        if self.deployments.is_empty() || !total.is_finite() {
            return None;
        }
        // Walk the cumulative weights; rounding can leave the draw past the last sum, in
        // which case the last deployment is the one it fell in.
        let mut draw = self.rng.random_range(0.0..total);
        let mut chosen = self.deployments[self.deployments.len() - 1].0;
        for &(deployment, weight) in &self.deployments {
            if draw < weight {
                chosen = deployment;
                break;
            }
            draw -= weight;
        }
        (0..candidates.len())
            .filter(|&i| candidates[i].deployment == chosen)
            .min_by(|&i, &j| {
                candidates[i]
                    .network_latency
                    .cmp(&candidates[j].network_latency)
                    .then_with(|| i.cmp(&j))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStreams;
    use crate::routing::test_support::{REQUEST, candidate};

    fn strategy(seed: u64) -> Weighted {
        Weighted::new(RngStreams::new(seed).stream("routing", 0))
    }

    fn weighing(c: Candidate, weight: f64, route: u32) -> Candidate {
        Candidate { weight, route, ..c }
    }

    #[test]
    fn splits_one_to_three_and_takes_the_fastest_path() {
        let mut w = strategy(7);
        let candidates = [
            weighing(candidate(0, 20, 0, 0, 1), 1.0, 0),
            weighing(candidate(1, 100, 0, 0, 1), 3.0, 0), // B direct
            weighing(candidate(1, 60, 0, 0, 1), 3.0, 1),  // B through a hub: faster
            weighing(candidate(2, 5, 0, 0, 1), 0.0, 0),   // weight 0: never
            weighing(candidate(3, 5, 0, 0, 1), f64::NAN, 0),
            weighing(candidate(4, 5, 0, 0, 1), -2.0, 0),
        ];
        let draws = 20_000;
        let mut counts = [0u32; 6];
        for _ in 0..draws {
            counts[w.pick(&REQUEST, &candidates).unwrap()] += 1;
        }
        // Deployment 0 is a Bernoulli(1/4) count over the draws.
        let (n, p) = (draws as f64, 0.25);
        let (expected, sd) = (n * p, (n * p * (1.0 - p)).sqrt());
        println!(
            "weighted 1:3 over {draws}: expected {expected:.0} / {:.0} (sd {sd:.1}), actual by position {counts:?}",
            n - expected
        );
        assert!((counts[0] as f64 - expected).abs() <= 4.0 * sd);
        assert_eq!(counts[0] + counts[2], draws);
        assert_eq!(counts[1], 0, "B's slower path is never taken");
        assert_eq!(
            &counts[3..],
            &[0, 0, 0],
            "weights 0, NaN, -2 are never chosen"
        );
    }

    #[test]
    fn a_deployment_on_many_paths_counts_once() {
        // A (weight 1) on one path, B (weight 1) on three: still 1:1, not 1:3.
        let mut w = strategy(8);
        let candidates = [
            weighing(candidate(0, 20, 0, 0, 1), 1.0, 0),
            weighing(candidate(1, 30, 0, 0, 1), 1.0, 0),
            weighing(candidate(1, 40, 0, 0, 1), 1.0, 1),
            weighing(candidate(1, 50, 0, 0, 1), 1.0, 2),
        ];
        let draws = 20_000;
        let a = (0..draws)
            .filter(|_| w.pick(&REQUEST, &candidates) == Some(0))
            .count();
        let sd = (draws as f64 * 0.25).sqrt();
        println!(
            "weighted 1:1 with B on three paths: expected {}, actual {a}",
            draws / 2
        );
        assert!((a as f64 - draws as f64 / 2.0).abs() <= 4.0 * sd);
    }

    #[test]
    fn no_positive_weight_rejects() {
        let mut w = strategy(9);
        let zeros = [
            weighing(candidate(0, 20, 0, 0, 1), 0.0, 0),
            weighing(candidate(1, 30, 0, 0, 1), 0.0, 0),
        ];
        assert_eq!(w.pick(&REQUEST, &zeros), None);
        assert_eq!(w.pick(&REQUEST, &[]), None);
        let one = [weighing(candidate(5, 20, 0, 0, 1), 0.1, 0)];
        assert_eq!(w.pick(&REQUEST, &one), Some(0));
    }
}
