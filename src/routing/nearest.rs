//! `nearest`: the candidate with the lowest network latency from the request's ingress.
//! Ties (deployments at the same site) go to the one with less load per replica, then to
//! the one listed first in the scenario.

use super::{Candidate, RequestView, Strategy};

pub struct Nearest;

impl Strategy for Nearest {
    fn pick(&mut self, _request: &RequestView, candidates: &[Candidate]) -> Option<usize> {
        (0..candidates.len()).min_by(|&a, &b| {
            let (a, b) = (&candidates[a], &candidates[b]);
            a.network_latency
                .cmp(&b.network_latency)
                .then_with(|| a.load_per_replica_cmp(b))
                .then_with(|| a.deployment.cmp(&b.deployment))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::test_support::{REQUEST, candidate};

    #[test]
    fn lowest_latency_wins_whatever_the_load() {
        let candidates = [
            candidate(0, 80, 0, 0, 1),
            candidate(1, 20, 500, 0, 1),
            candidate(2, 20, 3, 0, 1),
        ];
        assert_eq!(Nearest.pick(&REQUEST, &candidates), Some(2));
        assert_eq!(Nearest.pick(&REQUEST, &[]), None);
    }
}
