//! Streaming measurements: latency histograms, exact time integrals, counters.
//!
//! Nothing here grows with the number of requests: latencies go into HDR histograms
//! (three significant digits) beside exact sums for means, and levels such as queue
//! length are integrated over time as they change.

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::engine::{SimDuration, SimTime};

/// Distribution of a latency: an HDR histogram in nanoseconds plus an exact sum.
#[derive(Clone)]
pub struct LatencyStats {
    histogram: Histogram<u64>,
    sum_ns: u128,
    count: u64,
    min_ns: u64,
    max_ns: u64,
}

/// Summary statistics in milliseconds, as written to summary.json.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct LatencySummary {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Default for LatencyStats {
    fn default() -> Self {
        LatencyStats {
            // 1 ns to 2^50 ns (13 days), three significant digits: 0.1% resolution.
            histogram: Histogram::new_with_bounds(1, 1 << 50, 3).expect("valid histogram bounds"),
            sum_ns: 0,
            count: 0,
            min_ns: u64::MAX,
            max_ns: 0,
        }
    }
}

impl LatencyStats {
    pub fn record(&mut self, value: SimDuration) {
        self.histogram.saturating_record(value.as_nanos());
        self.sum_ns += value.as_nanos() as u128;
        self.count += 1;
        self.min_ns = self.min_ns.min(value.as_nanos());
        self.max_ns = self.max_ns.max(value.as_nanos());
    }

    pub fn merge(&mut self, other: &LatencyStats) {
        // Same bounds on both sides, so adding cannot fail; saturate rather than panic.
        let _ = self.histogram.add(&other.histogram);
        self.sum_ns += other.sum_ns;
        self.count += other.count;
        self.min_ns = self.min_ns.min(other.min_ns);
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// Exact smallest value recorded, in nanoseconds (`None` if nothing was recorded).
    pub fn min_ns(&self) -> Option<u64> {
        (self.count > 0).then_some(self.min_ns)
    }

    /// Exact largest value recorded, in nanoseconds.
    pub fn max_ns(&self) -> Option<u64> {
        (self.count > 0).then_some(self.max_ns)
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Exact mean (not from histogram buckets), in nanoseconds.
    pub fn mean_ns(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum_ns as f64 / self.count as f64
        }
    }

    /// The value at `quantile` (0..=1) in nanoseconds, to the histogram's resolution.
    pub fn quantile_ns(&self, quantile: f64) -> u64 {
        self.histogram.value_at_quantile(quantile)
    }

    /// (quantile, ms) points of the distribution for plotting a CDF: every percent, the
    /// tail at 99.5% and 99.9%, and the exact minimum and maximum. Empty without samples.
    pub fn cdf_points(&self) -> Vec<(f64, f64)> {
        let (Some(min), Some(max)) = (self.min_ns(), self.max_ns()) else {
            return Vec::new();
        };
        let mut points = vec![(0.0, min as f64 / 1e6)];
        let quantiles: Vec<f64> = (1..100)
            .map(|p| p as f64 / 100.0)
            .chain([0.995, 0.999])
            .collect();
        // One pass over the histogram for all of them (ascending), each exactly what
        // `quantile_ns` gives: the counts array has tens of thousands of buckets.
        let values = self.histogram.value_at_quantiles(quantiles.iter().copied());
        for (&quantile, value) in quantiles.iter().zip(values) {
            let value = value.clamp(min, max);
            points.push((quantile, round6(value as f64 / 1e6)));
        }
        points.push((1.0, max as f64 / 1e6));
        points
    }

    pub fn summary(&self) -> LatencySummary {
        if self.count == 0 {
            return LatencySummary::default();
        }
        // A histogram bucket reports its upper edge, which may exceed the exact maximum.
        let millis = |nanos: u64| round6(nanos.min(self.max_ns) as f64 / 1e6);
        LatencySummary {
            count: self.count,
            mean: round6(self.mean_ns() / 1e6),
            p50: millis(self.histogram.value_at_quantile(0.50)),
            p90: millis(self.histogram.value_at_quantile(0.90)),
            p99: millis(self.histogram.value_at_quantile(0.99)),
            max: millis(self.max_ns),
        }
    }
}

/// Rounds to six decimals so that output is short and stable.
pub fn round6(value: f64) -> f64 {
    // + 0.0 turns a negative zero into zero, so that "-0.0" never reaches an output file.
    (value * 1e6).round() / 1e6 + 0.0
}

/// The exact integral over time of a level that changes in steps (queue length, busy
/// replicas), in level × nanoseconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct TimeIntegral {
    level: u64,
    last_change: SimTime,
    area: u128,
}

impl TimeIntegral {
    pub fn set(&mut self, now: SimTime, level: u64) {
        self.area += self.level as u128 * now.saturating_since(self.last_change).as_nanos() as u128;
        self.last_change = now;
        self.level = level;
    }

    pub fn level(&self) -> u64 {
        self.level
    }

    /// The integral from time zero up to `now`.
    pub fn area_at(&self, now: SimTime) -> u128 {
        self.area + self.level as u128 * now.saturating_since(self.last_change).as_nanos() as u128
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_of_a_step_function() {
        let mut integral = TimeIntegral::default();
        integral.set(SimTime::from_nanos(10), 2); // 0 until 10
        integral.set(SimTime::from_nanos(15), 5); // 2 × 5 = 10
        assert_eq!(integral.area_at(SimTime::from_nanos(20)), 10 + 25);
    }

    #[test]
    fn summary_is_in_milliseconds_with_exact_mean() {
        let mut stats = LatencyStats::default();
        for millis in [1, 2, 3, 4] {
            stats.record(SimDuration::from_millis(millis));
        }
        let summary = stats.summary();
        assert_eq!(summary.mean, 2.5);
        assert_eq!(summary.count, 4);
        assert_eq!(summary.max, 4.0);
        assert_eq!(stats.min_ns(), Some(1_000_000));
    }
}
