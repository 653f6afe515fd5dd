//! `cost-aware`: the cheapest candidate that is expected to meet the tenant's TTFT target.
//! Among candidates whose [`Candidate::ttft_estimate`] is at most `headroom` × the
//! request's `ttft_slo` (all candidates when the tenant has no TTFT target), the least
//! `cost_usd`; ties go to the lower TTFT estimate, then to the lower position. When no
//! candidate is expected to meet the target, the fastest one (least TTFT estimate; ties to
//! the cheaper, then to the lower position): a late answer beats a rejected request.
//!
//! Why: price differences between regions and transit are large, and a tenant's latency
//! target is usually loose enough that several deployments meet it; this spends exactly as
//! much latency as the target allows to save money. `headroom` below 1 keeps a margin for
//! what the estimate does not see (network jitter, stale telemetry, decode).
//!
//! Parameters: `headroom`, a fraction in (0, 1], default 1.
//!
//! Example: SLO 500 ms, `cost-aware[headroom=0.8]` (limit 400 ms). A: 350 ms, $0.004;
//! B: 420 ms, $0.001; C: 300 ms, $0.006. B misses the limit, so A (cheaper than C). With
//! the default headroom the limit is 500 ms and B wins; with an SLO of 250 ms none meets
//! it, so C, the fastest.

use super::{Candidate, RequestView, Strategy, StrategySpec, check_parameters};

pub struct CostAware {
    /// The fraction of the TTFT target an estimate may use, in (0, 1].
    headroom: f64,
}

impl CostAware {
    pub fn from_spec(spec: &StrategySpec) -> Result<CostAware, String> {
        check_parameters(spec, &["headroom"])?;
        let headroom = match spec.parameters.get("headroom") {
            None => 1.0,
            Some(text) => {
                let value = text.parse::<f64>().map_err(|_| {
                    format!(
                        "strategy \"cost-aware\": headroom={text:?} is not a number; \
                         expected a fraction in (0, 1], such as 0.8"
                    )
                })?;
                if !(value > 0.0 && value <= 1.0) {
                    return Err(format!(
                        "strategy \"cost-aware\": headroom={text} is out of range; \
                         expected a fraction in (0, 1], such as 0.8"
                    ));
                }
                value
            }
        };
        Ok(CostAware { headroom })
    }

    /// Whether `candidate` is expected to meet `request`'s target, with the headroom.
    fn meets_slo(&self, request: &RequestView, candidate: &Candidate) -> bool {
        match request.ttft_slo {
            None => true,
            // In f64 nanoseconds: exact for whole nanoseconds below 2^53 (104 days).
            Some(slo) => {
                candidate.ttft_estimate().as_nanos() as f64 <= self.headroom * slo.as_nanos() as f64
            }
        }
    }
}

impl Strategy for CostAware {
    fn chooses_paths(&self) -> bool {
        true
    }

    fn reads_estimates(&self) -> bool {
        true
    }

    fn pick(&mut self, request: &RequestView, candidates: &[Candidate]) -> Option<usize> {
        // Costs compare with `total_cmp`, so that a NaN cost (never expected) sorts last
        // rather than breaking the order.
        let cheapest = (0..candidates.len())
            .filter(|&i| self.meets_slo(request, &candidates[i]))
            .min_by(|&i, &j| {
                let (a, b) = (&candidates[i], &candidates[j]);
                a.cost_usd
                    .total_cmp(&b.cost_usd)
                    .then_with(|| a.ttft_estimate().cmp(&b.ttft_estimate()))
                    .then_with(|| i.cmp(&j))
            });
        cheapest.or_else(|| {
            (0..candidates.len()).min_by(|&i, &j| {
                let (a, b) = (&candidates[i], &candidates[j]);
                a.ttft_estimate()
                    .cmp(&b.ttft_estimate())
                    .then_with(|| a.cost_usd.total_cmp(&b.cost_usd))
                    .then_with(|| i.cmp(&j))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimDuration;
    use crate::routing::test_support::{REQUEST, candidate};

    /// A candidate whose TTFT estimate is `ttft_ms` (all of it queue wait) at `cost`.
    fn priced(deployment: usize, ttft_ms: u64, cost: f64) -> Candidate {
        Candidate {
            queue_wait_estimate: SimDuration::from_millis(ttft_ms),
            cost_usd: cost,
            ..candidate(deployment, 0, 0, 0, 1)
        }
    }

    fn with_slo(millis: Option<u64>) -> RequestView {
        RequestView {
            ttft_slo: millis.map(SimDuration::from_millis),
            ..REQUEST
        }
    }

    #[test]
    fn the_worked_example() {
        let candidates = [
            priced(0, 350, 0.004),
            priced(1, 420, 0.001),
            priced(2, 300, 0.006),
        ];
        let cases = [
            (0.8, Some(500), Some(0)),
            (1.0, Some(500), Some(1)),
            (1.0, Some(250), Some(2)),
            (0.8, None, Some(1)),
        ];
        for (headroom, slo, expected) in cases {
            let actual = CostAware { headroom }.pick(&with_slo(slo), &candidates);
            println!(
                "headroom {headroom}, SLO {slo:?} ms: expected {expected:?}, actual {actual:?}"
            );
            assert_eq!(actual, expected);
        }
        assert_eq!(CostAware { headroom: 1.0 }.pick(&REQUEST, &[]), None);
    }

    #[test]
    fn the_limit_is_inclusive_and_ties_go_faster_then_first() {
        let request = with_slo(Some(400));
        let candidates = [
            priced(0, 400, 0.002), // exactly at the SLO: meets it
            priced(1, 390, 0.002), // same cost, faster
            priced(2, 390, 0.002), // same again, listed later
            priced(3, 401, 0.001), // cheapest, but late
        ];
        assert_eq!(
            CostAware { headroom: 1.0 }.pick(&request, &candidates),
            Some(1)
        );
        // None meets 100 ms: the fastest, and of equally fast ones the cheaper.
        let late = [
            priced(0, 300, 0.003),
            priced(1, 300, 0.002),
            priced(2, 500, 0.0),
        ];
        assert_eq!(
            CostAware { headroom: 1.0 }.pick(&with_slo(Some(100)), &late),
            Some(1)
        );
    }

    #[test]
    fn headroom_is_checked() {
        let spec = |value: &str| StrategySpec {
            name: "cost-aware".to_string(),
            parameters: [("headroom".to_string(), value.to_string())].into(),
        };
        assert_eq!(CostAware::from_spec(&spec("0.5")).unwrap().headroom, 0.5);
        assert_eq!(CostAware::from_spec(&spec("1")).unwrap().headroom, 1.0);
        for bad in ["0", "1.5", "-0.2", "NaN", "inf"] {
            let message = CostAware::from_spec(&spec(bad)).err().unwrap();
            assert!(message.contains("out of range"), "{bad}: {message}");
        }
        let message = CostAware::from_spec(&spec("80%")).err().unwrap();
        println!("{message}");
        assert!(message.contains("not a number"));
    }
}
