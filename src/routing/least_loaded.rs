//! `least-loaded`: join the shortest queue. The candidate with the fewest requests per
//! replica — in transit to it, queued and running — with load seen as it is at this
//! instant. Ties go to the lower network latency, then to the one listed first.
//!
//! Load is per replica so that a 40-replica deployment is not starved in favour of a
//! 2-replica one merely because it holds more requests in absolute terms. Requests in
//! transit count because the router dispatched them itself: leaving them out makes every
//! request for 20–130 ms of network latency go to the same deployment (herding).

use super::{Candidate, RequestView, Strategy};

pub struct LeastLoaded;

impl Strategy for LeastLoaded {
    fn pick(&mut self, _request: &RequestView, candidates: &[Candidate]) -> Option<usize> {
        let (first, rest) = candidates.split_first()?;
        // One pass keeping the best so far (the first of equals), its load read once.
        let (mut best, mut best_load, mut best_replicas) = (0, first.load(), first.replicas);
        for (offset, candidate) in rest.iter().enumerate() {
            let load = candidate.load();
            // Load per replica, cross-multiplied: exact, no division.
            let (this, that) = (
                load * best_replicas as u64,
                best_load * candidate.replicas as u64,
            );
            let better = this < that
                || (this == that && {
                    let chosen = &candidates[best];
                    (candidate.network_latency, candidate.deployment)
                        < (chosen.network_latency, chosen.deployment)
                });
            if better {
                (best, best_load, best_replicas) = (offset + 1, load, candidate.replicas);
            }
        }
        Some(best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::test_support::{REQUEST, candidate};

    #[test]
    fn load_per_replica_decides_then_latency() {
        // 10 per replica, 5 per replica, 5 per replica but farther.
        let candidates = [
            candidate(0, 1, 10, 0, 1),
            candidate(1, 50, 30, 10, 8),
            candidate(2, 90, 5, 0, 1),
        ];
        assert_eq!(LeastLoaded.pick(&REQUEST, &candidates), Some(1));
    }

    /// The one-pass pick agrees with the rule as a sort states it (load per replica, then
    /// latency, then deployment; the first of equals) on many small random sets, ties
    /// included; none is picked from no candidates.
    #[test]
    fn picks_what_sorting_by_the_rule_puts_first() {
        use crate::engine::RngStreams;
        use rand::RngExt;
        let mut rng = RngStreams::new(7).stream("least-loaded-test", 0);
        assert_eq!(LeastLoaded.pick(&REQUEST, &[]), None);
        for round in 0..5_000 {
            let count = rng.random_range(1..8usize);
            let candidates: Vec<Candidate> = (0..count)
                .map(|_| {
                    let mut c = candidate(
                        rng.random_range(0..4usize),
                        rng.random_range(1..4u64),
                        rng.random_range(0..6u32),
                        rng.random_range(0..6u32),
                        rng.random_range(1..4u32),
                    );
                    c.in_transit = rng.random_range(0..3u32);
                    c
                })
                .collect();
            let mut order: Vec<usize> = (0..count).collect();
            order.sort_by(|&a, &b| {
                let (a, b) = (&candidates[a], &candidates[b]);
                a.load_per_replica_cmp(b)
                    .then_with(|| a.network_latency.cmp(&b.network_latency))
                    .then_with(|| a.deployment.cmp(&b.deployment))
            }); // stable: the first of equals stays first
            let picked = LeastLoaded.pick(&REQUEST, &candidates);
            assert_eq!(
                picked,
                Some(order[0]),
                "round {round}: expected {}, picked {picked:?} among {candidates:?}",
                order[0]
            );
        }
    }
}
