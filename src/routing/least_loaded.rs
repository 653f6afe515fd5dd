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
        (0..candidates.len()).min_by(|&a, &b| {
            let (a, b) = (&candidates[a], &candidates[b]);
            a.load_per_replica_cmp(b)
                .then_with(|| a.network_latency.cmp(&b.network_latency))
                .then_with(|| a.deployment.cmp(&b.deployment))
        })
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
}
