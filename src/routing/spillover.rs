//! `spillover[threshold=N]`: stay local until the local deployment is backed up. The
//! primary is the nearest candidate (lowest network latency; ties to the lower position).
//! It is used unless its waiting requests per replica — `(queued + in_transit) / replicas`
//! — are at least `N`; then the request spills to the nearest candidate below the
//! threshold (the next-nearest that is not backed up). When every candidate is at or above
//! the threshold, the one with the least load per replica (as `least-loaded` counts it;
//! ties to the lower latency, then the lower position).
//!
//! Waiting counts requests that cannot start yet (queued, or in transit to it), not those
//! running, so a deployment that is merely busy keeps its local traffic. The comparison is
//! exact: `queued + in_transit ≥ N × replicas`, so a deployment with no replicas is always
//! backed up.
//!
//! Why: data-residency and latency preferences favour the home region; spilling over only
//! under backlog is how operators typically add overflow capacity elsewhere.
//!
//! Parameters: `threshold`, a whole number ≥ 1, default 4.
//!
//! Example, threshold 4: local A (10 ms, 2 replicas, 9 queued: 4.5 waiting each), B (40 ms,
//! 1 replica, 4 queued: 4), C (80 ms, 1 replica, 1 queued: 1): A and B are backed up, so C.
//! With 7 queued at A (3.5 each), A.

use std::cmp::Ordering;

use super::{Candidate, RequestView, Strategy, StrategySpec, check_parameters};

/// The default `threshold`: waiting requests per replica.
const DEFAULT_THRESHOLD: u64 = 4;

pub struct Spillover {
    /// Waiting requests per replica at which a candidate counts as backed up (≥ 1).
    threshold: u64,
}

impl Spillover {
    pub fn from_spec(spec: &StrategySpec) -> Result<Spillover, String> {
        check_parameters(spec, &["threshold"])?;
        let threshold = match spec.parameters.get("threshold") {
            None => DEFAULT_THRESHOLD,
            Some(text) => match text.parse::<u32>() {
                Ok(value) if value >= 1 => value as u64,
                _ => {
                    return Err(format!(
                        "strategy \"spillover\": threshold={text:?} is not a whole number of \
                         waiting requests per replica ≥ 1, such as 4"
                    ));
                }
            },
        };
        Ok(Spillover { threshold })
    }

    fn backed_up(&self, candidate: &Candidate) -> bool {
        let waiting = candidate.queued as u64 + candidate.in_transit as u64;
        waiting >= self.threshold * candidate.replicas as u64
    }
}

impl Strategy for Spillover {
    fn pick(&mut self, _request: &RequestView, candidates: &[Candidate]) -> Option<usize> {
        let nearer = |i: &usize, j: &usize| -> Ordering {
            candidates[*i]
                .network_latency
                .cmp(&candidates[*j].network_latency)
                .then_with(|| i.cmp(j))
        };
        // The primary, if not backed up, is the nearest candidate below the threshold;
        // otherwise that is the next-nearest below it.
        (0..candidates.len())
            .filter(|&i| !self.backed_up(&candidates[i]))
            .min_by(nearer)
            .or_else(|| {
                (0..candidates.len()).min_by(|i, j| {
                    candidates[*i]
                        .load_per_replica_cmp(&candidates[*j])
                        .then_with(|| nearer(i, j))
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::test_support::{REQUEST, candidate};

    #[test]
    fn the_worked_example() {
        let mut s = Spillover { threshold: 4 };
        let mut candidates = [
            candidate(0, 10, 9, 0, 2),
            candidate(1, 40, 4, 0, 1),
            candidate(2, 80, 1, 0, 1),
        ];
        assert_eq!(s.pick(&REQUEST, &candidates), Some(2));
        candidates[0].queued = 7;
        assert_eq!(s.pick(&REQUEST, &candidates), Some(0));
        assert_eq!(s.pick(&REQUEST, &[]), None);
    }

    #[test]
    fn in_transit_counts_running_does_not() {
        let mut s = Spillover { threshold: 2 };
        let busy_local = [candidate(0, 10, 0, 500, 1), candidate(1, 50, 0, 0, 1)];
        assert_eq!(s.pick(&REQUEST, &busy_local), Some(0));
        let in_flight = [
            Candidate {
                in_transit: 1,
                ..candidate(0, 10, 1, 0, 1)
            },
            candidate(1, 50, 0, 0, 1),
        ];
        assert_eq!(s.pick(&REQUEST, &in_flight), Some(1));
    }

    #[test]
    fn spills_in_order_of_distance_then_to_the_least_loaded() {
        let mut s = Spillover { threshold: 3 };
        // Listed out of distance order: 30 ms, 10 ms (primary), 20 ms, 20 ms.
        let candidates = [
            candidate(0, 30, 0, 0, 1),
            candidate(1, 10, 3, 0, 1),
            candidate(2, 20, 2, 0, 1),
            candidate(3, 20, 0, 0, 1),
        ];
        // Primary backed up; 2 and 3 tie at 20 ms: the lower position.
        assert_eq!(s.pick(&REQUEST, &candidates), Some(2));
        // All backed up: least load per replica (9 queued over 3 replicas = 3, against 4
        // and 5).
        let all = [
            candidate(0, 10, 4, 0, 1),
            candidate(1, 20, 9, 0, 3),
            candidate(2, 30, 5, 0, 1),
        ];
        assert_eq!(s.pick(&REQUEST, &all), Some(1));
        // A deployment with no replicas is always backed up.
        let none = [candidate(0, 10, 0, 0, 0), candidate(1, 90, 0, 0, 1)];
        assert_eq!(s.pick(&REQUEST, &none), Some(1));
    }

    #[test]
    fn threshold_is_checked() {
        let spec = |value: &str| StrategySpec {
            name: "spillover".to_string(),
            parameters: [("threshold".to_string(), value.to_string())].into(),
        };
        assert_eq!(Spillover::from_spec(&spec("1")).unwrap().threshold, 1);
        for bad in ["0", "2.5", "-1", "many"] {
            let message = Spillover::from_spec(&spec(bad)).err().unwrap();
            assert!(message.contains("whole number"), "{bad}: {message}");
        }
    }
}
