//! `latency-aware`: the candidate with the least expected time to first token,
//! [`Candidate::ttft_estimate`] — network both ways, plus the expected wait in the
//! deployment's queue, plus this request's prefill there. Ties go to the one with less load
//! per replica, then to the lower deployment index, then to the lower position.
//!
//! Why: `nearest` ignores queues and `least-loaded` ignores distance; the TTFT estimate
//! prices both in the same unit, so a far, idle deployment wins over a near one only when
//! its extra round trip is shorter than the near one's queue.
//!
//! Parameters: none (besides the common `telemetry_delay`, with which the queue part of the
//! estimate is as stale as the router's telemetry).
//!
//! Example: A is 20 ms away with a 300 ms queue wait (estimate 40 + 300 = 340 ms plus
//! prefill); B is 120 ms away with no queue (240 ms plus the same prefill): B.

use super::{Candidate, RequestView, Strategy, StrategySpec, check_parameters};

pub struct LatencyAware;

impl LatencyAware {
    pub fn from_spec(spec: &StrategySpec) -> Result<LatencyAware, String> {
        check_parameters(spec, &[])?;
        Ok(LatencyAware)
    }
}

impl Strategy for LatencyAware {
    fn reads_estimates(&self) -> bool {
        true
    }

    fn pick(&mut self, _request: &RequestView, candidates: &[Candidate]) -> Option<usize> {
        (0..candidates.len()).min_by(|&i, &j| {
            let (a, b) = (&candidates[i], &candidates[j]);
            a.ttft_estimate()
                .cmp(&b.ttft_estimate())
                .then_with(|| a.load_per_replica_cmp(b))
                .then_with(|| a.deployment.cmp(&b.deployment))
                .then_with(|| i.cmp(&j))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimDuration;
    use crate::routing::test_support::{REQUEST, candidate};

    fn with_wait(c: Candidate, wait_ms: u64, prefill_ms: u64) -> Candidate {
        Candidate {
            queue_wait_estimate: SimDuration::from_millis(wait_ms),
            prefill_estimate: SimDuration::from_millis(prefill_ms),
            ..c
        }
    }

    #[test]
    fn far_idle_beats_near_queued() {
        let candidates = [
            with_wait(candidate(0, 20, 30, 0, 1), 300, 70), // 40 + 300 + 70 = 410 ms
            with_wait(candidate(1, 120, 0, 0, 1), 0, 70),   // 240 + 70 = 310 ms
            with_wait(candidate(2, 60, 5, 0, 1), 150, 90),  // 120 + 150 + 90 = 360 ms
        ];
        let estimates: Vec<f64> = candidates
            .iter()
            .map(|c| c.ttft_estimate().as_millis_f64())
            .collect();
        println!("latency-aware estimates (ms): {estimates:?}; expected pick 1");
        assert_eq!(LatencyAware.pick(&REQUEST, &candidates), Some(1));
        assert_eq!(LatencyAware.pick(&REQUEST, &[]), None);
    }

    #[test]
    fn ties_load_then_deployment_then_position() {
        // Every estimate below is 100 ms (network both ways + queue wait + prefill).
        let less_load = [
            with_wait(candidate(0, 20, 4, 0, 1), 60, 0),
            with_wait(candidate(1, 50, 4, 0, 2), 0, 0),
        ];
        assert_eq!(LatencyAware.pick(&REQUEST, &less_load), Some(1));
        let lower_deployment = [
            with_wait(candidate(7, 20, 2, 0, 1), 60, 0),
            with_wait(candidate(3, 5, 2, 0, 1), 10, 80),
        ];
        assert_eq!(LatencyAware.pick(&REQUEST, &lower_deployment), Some(1));
        // The same deployment on two paths with the same estimate: the first listed.
        let same = [
            Candidate {
                route: 1,
                ..candidate(2, 30, 0, 0, 1)
            },
            Candidate {
                route: 0,
                ..candidate(2, 30, 0, 0, 1)
            },
        ];
        assert_eq!(LatencyAware.pick(&REQUEST, &same), Some(0));
    }
}
