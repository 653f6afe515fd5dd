//! `power-of-two`: the power of two random choices. Draw two distinct candidate positions
//! uniformly at random from the router's own random stream, and take the one with less
//! load per replica (in transit, queued and running, as [`Candidate::load`] counts it).
//! Ties go to the lower network latency, then to the lower position. With one candidate,
//! that candidate; with none, reject.
//!
//! Why: sampling two and keeping the better avoids both the herding of a global
//! `least-loaded` (every router sending to the same momentarily-emptiest deployment) and
//! the long queues of a purely random choice — the maximum load drops from
//! Θ(log n / log log n) to Θ(log log n) (Mitzenmacher). It also only needs the load of
//! two deployments per decision, which is what a real, distributed router can afford.
//!
//! Parameters: none (besides the common `telemetry_delay`).
//!
//! Example: loads per replica 1, 5 and 9 at positions 0, 1 and 2. The three pairs are
//! equally likely; position 0 wins both pairs it is in (probability 2/3), position 1 wins
//! only against position 2 (1/3), and position 2 is never picked.

use rand::RngExt;

use super::{Candidate, RequestView, Strategy, StrategySpec, check_parameters};
use crate::engine::StreamRng;

pub struct PowerOfTwo {
    rng: StreamRng,
}

impl PowerOfTwo {
    pub fn from_spec(spec: &StrategySpec, rng: StreamRng) -> Result<PowerOfTwo, String> {
        check_parameters(spec, &[])?;
        Ok(PowerOfTwo { rng })
    }
}

impl Strategy for PowerOfTwo {
    fn pick(&mut self, _request: &RequestView, candidates: &[Candidate]) -> Option<usize> {
        let n = candidates.len();
        if n < 2 {
            return (n == 1).then_some(0);
        }
        // Two distinct positions, each pair equally likely: draw the second among the
        // n - 1 others by skipping over the first.
        let first = self.rng.random_range(0..n);
        let mut second = self.rng.random_range(0..n - 1);
        if second >= first {
            second += 1;
        }
        let (low, high) = (first.min(second), first.max(second));
        let (a, b) = (&candidates[low], &candidates[high]);
        let order = a
            .load_per_replica_cmp(b)
            .then_with(|| a.network_latency.cmp(&b.network_latency));
        Some(if order.is_le() { low } else { high })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStreams;
    use crate::routing::test_support::{REQUEST, candidate};

    fn strategy(seed: u64) -> PowerOfTwo {
        PowerOfTwo {
            rng: RngStreams::new(seed).stream("routing", 0),
        }
    }

    #[test]
    fn zero_and_one_candidate() {
        let mut p = strategy(1);
        assert_eq!(p.pick(&REQUEST, &[]), None);
        assert_eq!(p.pick(&REQUEST, &[candidate(3, 10, 99, 0, 1)]), Some(0));
    }

    #[test]
    fn of_two_the_lighter_always_wins() {
        let mut p = strategy(2);
        // 50 per replica against 2 per replica (8 over 4 replicas).
        let candidates = [candidate(0, 5, 50, 0, 1), candidate(1, 90, 4, 4, 4)];
        for _ in 0..1_000 {
            assert_eq!(p.pick(&REQUEST, &candidates), Some(1));
        }
    }

    #[test]
    fn equal_load_goes_to_lower_latency_then_position() {
        let mut p = strategy(3);
        let nearer_second = [candidate(0, 40, 2, 0, 1), candidate(1, 20, 4, 0, 2)];
        let same = [candidate(0, 20, 2, 0, 1), candidate(1, 20, 2, 0, 1)];
        for _ in 0..100 {
            assert_eq!(p.pick(&REQUEST, &nearer_second), Some(1));
            assert_eq!(p.pick(&REQUEST, &same), Some(0));
        }
    }

    #[test]
    fn of_three_the_heaviest_is_never_picked() {
        let mut p = strategy(4);
        // 1, 5 and 9 per replica.
        let candidates = [
            candidate(0, 30, 1, 0, 1),
            candidate(1, 30, 10, 0, 2),
            candidate(2, 30, 9, 0, 1),
        ];
        let decisions = 1_000;
        let mut counts = [0u32; 3];
        for _ in 0..decisions {
            counts[p.pick(&REQUEST, &candidates).unwrap()] += 1;
        }
        // Each pair has probability 1/3: the lightest wins two pairs, the middle one.
        let n = decisions as f64;
        let expected = [n * 2.0 / 3.0, n / 3.0, 0.0];
        let sd = (n * (2.0 / 3.0) * (1.0 / 3.0)).sqrt();
        println!(
            "power-of-two over {decisions}: expected {expected:.0?}, actual {counts:?}, sd {sd:.1}"
        );
        assert_eq!(counts[2], 0);
        for position in 0..2 {
            assert!(
                (counts[position] as f64 - expected[position]).abs() <= 4.0 * sd,
                "position {position}: {} vs {:.0}",
                counts[position],
                expected[position]
            );
        }
    }

    #[test]
    fn draws_cover_every_pair() {
        // Equal loads: the lower position of the drawn pair wins, so with four candidates
        // positions 0..=2 are picked with probability 3/6, 2/6, 1/6 and position 3 never.
        let mut p = strategy(5);
        let candidates = [candidate(0, 30, 1, 0, 1); 4];
        let decisions = 6_000;
        let mut counts = [0u32; 4];
        for _ in 0..decisions {
            counts[p.pick(&REQUEST, &candidates).unwrap()] += 1;
        }
        println!("power-of-two, equal loads: expected [3000, 2000, 1000, 0], actual {counts:?}");
        assert_eq!(counts[3], 0);
        for (position, share) in [(0, 3.0), (1, 2.0), (2, 1.0)] {
            let p = share / 6.0;
            let sd = (decisions as f64 * p * (1.0 - p)).sqrt();
            assert!((counts[position] as f64 - decisions as f64 * p).abs() <= 4.0 * sd);
        }
    }
}
