//! Streaming measurements: latency histograms, exact time integrals, counters.
//!
//! Nothing here grows with the number of requests: latencies go into HDR histograms
//! (three significant digits) beside exact sums for means, and levels such as queue
//! length are integrated over time as they change.
//!
//! A latency is recorded five times per completed request, so recording is a few
//! instructions: an increment in a counts array laid out exactly as the `hdrhistogram`
//! crate lays out its own (1 ns to 2⁵⁰ ns, 2,048 sub-buckets per power of two). The crate's
//! histogram is built from those counts when a quantile is asked for, at the end of a run:
//! same counts, so the same quantiles as recording into it directly.
//!
//! The counts are 32-bit, with the rare wrap past 2³² carried into a second, 64-bit array
//! made on first need: a run's twenty histograms then take 3.4 MB instead of 6.9 MB, and
//! the buckets a run actually hits (a few thousand per histogram) take half the cache
//! lines. Recording reaches a line that is seldom still cached — requests complete seconds
//! apart in different buckets — so this cut the misses beyond a 1 MiB cache that recording
//! causes by a third (612 k → 405 k on a 2-minute bench-day peak, cachegrind).
//!
//! Those misses still cost time: on a 20-minute bench-day peak, recording nothing at all
//! ran 6.5% faster. So a value's count is incremented eight records of its histogram later,
//! its cache line asked for when the value is recorded (`LatencyStats::record`); readers
//! count the values still pending. That won the 6.5% back in the release build (side by
//! side, median user-time ratio 0.934 over eight pairs). The profile-guided build for
//! this processor never had that stall: recording nothing is no faster there (1.027).

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::engine::{SimDuration, SimTime};

/// Distribution of a latency: HDR histogram counts in nanoseconds plus an exact sum.
#[derive(Clone)]
pub struct LatencyStats {
    /// `counts[hdr_index(value)]`: values recorded per HDR bucket, modulo 2³², but for
    /// those still `pending`.
    counts: Vec<u32>,
    /// Indices of the last values recorded, not yet counted: their count's cache line was
    /// asked for when they were recorded, and is counted into when `PENDING` more have
    /// been (see `record`). Every reader counts them in.
    pending: [u32; PENDING],
    pending_len: u32,
    /// Per bucket, how many times its count wrapped past 2³² (empty until one does).
    carries: Vec<u64>,
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

/// The histograms' range and precision: 1 ns to 2⁵⁰ ns (13 days), three significant
/// digits (0.1% resolution).
const HIGHEST_NS: u64 = 1 << 50;
const SIGNIFICANT_DIGITS: u8 = 3;
/// What three significant digits mean in the crate's layout: 2¹¹ sub-buckets (the least
/// power of two above 2 × 10³) in bucket 0, the upper half of them in every later bucket.
const SUB_BUCKET_BITS: u32 = 11;
const SUB_BUCKET_HALF: usize = 1 << (SUB_BUCKET_BITS - 1);
/// Length of the counts array: 41 buckets (values of up to 11 bits, then one more bit
/// each up to 51 bits, which holds 2⁵⁰), as half-buckets plus bucket 0's lower half.
const COUNTS_LENGTH: usize = (51 - SUB_BUCKET_BITS as usize + 1 + 1) * SUB_BUCKET_HALF;
/// Values recorded before their count is incremented (see `LatencyStats::record`).
const PENDING: usize = 8;

fn empty_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_NS, SIGNIFICANT_DIGITS).expect("valid histogram bounds")
}

/// The position of `value` in the counts array, as `hdrhistogram` computes it (lowest
/// discernible value 1, so no unit shift): bucket `b` holds values of `b + 11` bits,
/// `value >> b` picks the sub-bucket.
#[inline]
fn hdr_index(value: u64) -> usize {
    let sub_bucket_mask = (1u64 << SUB_BUCKET_BITS) - 1;
    let bucket = (64 - SUB_BUCKET_BITS) - (value | sub_bucket_mask).leading_zeros();
    let sub_bucket = (value >> bucket) as usize;
    ((bucket as usize + 1) * SUB_BUCKET_HALF) + sub_bucket - SUB_BUCKET_HALF
}

/// The smallest value that `hdr_index` puts at `index`.
fn hdr_value(index: usize) -> u64 {
    if index < 2 * SUB_BUCKET_HALF {
        return index as u64; // bucket 0: one value per sub-bucket
    }
    let bucket = index / SUB_BUCKET_HALF - 1;
    let sub_bucket = index % SUB_BUCKET_HALF + SUB_BUCKET_HALF;
    (sub_bucket as u64) << bucket
}

impl Default for LatencyStats {
    fn default() -> Self {
        LatencyStats {
            counts: vec![0; COUNTS_LENGTH],
            pending: [0; PENDING],
            pending_len: 0,
            carries: Vec::new(),
            sum_ns: 0,
            count: 0,
            min_ns: u64::MAX,
            max_ns: 0,
        }
    }
}

impl LatencyStats {
    /// Records `value`. Its count is incremented `PENDING` records later: the count's
    /// cache line is seldom still cached (requests complete seconds apart in different
    /// buckets), so it is asked for now and written when it has come, instead of the
    /// processor waiting for it here (see the module doc for what that gained).
    pub fn record(&mut self, value: SimDuration) {
        // Beyond the range: counted at its top, as the crate's `saturating_record` does.
        let index = match hdr_index(value.as_nanos()) {
            index if index < self.counts.len() => index,
            _ => hdr_index(HIGHEST_NS),
        };
        crate::hint::prefetch(self.counts.as_ptr().wrapping_add(index));
        if self.pending_len as usize == PENDING {
            self.count_pending();
        }
        self.pending[self.pending_len as usize] = index as u32;
        self.pending_len += 1;
        self.sum_ns += value.as_nanos() as u128;
        self.count += 1;
        self.min_ns = self.min_ns.min(value.as_nanos());
        self.max_ns = self.max_ns.max(value.as_nanos());
    }

    /// Counts the pending values into `counts`.
    fn count_pending(&mut self) {
        for position in 0..self.pending_len as usize {
            self.count_one(self.pending[position] as usize);
        }
        self.pending_len = 0;
    }

    #[inline]
    fn count_one(&mut self, index: usize) {
        let count = &mut self.counts[index];
        *count = count.wrapping_add(1);
        if *count == 0 {
            self.carry(index, 1);
        }
    }

    /// The pending values' indices.
    fn pending(&self) -> &[u32] {
        &self.pending[..self.pending_len as usize]
    }

    /// Adds `wraps` × 2³² to the count at `index`.
    #[cold]
    fn carry(&mut self, index: usize, wraps: u64) {
        if self.carries.is_empty() {
            self.carries = vec![0; COUNTS_LENGTH];
        }
        self.carries[index] += wraps;
    }

    /// How many times the count at `index` wrapped past 2³².
    #[inline]
    fn wraps_at(&self, index: usize) -> u64 {
        self.carries.get(index).copied().unwrap_or(0)
    }

    /// The number of values recorded at `index`.
    #[cfg(test)]
    fn count_at(&self, index: usize) -> u64 {
        let pending = self
            .pending()
            .iter()
            .filter(|&&at| at as usize == index)
            .count();
        (self.wraps_at(index) << 32) + self.counts[index] as u64 + pending as u64
    }

    pub fn merge(&mut self, other: &LatencyStats) {
        self.count_pending();
        for &index in other.pending() {
            self.count_one(index as usize);
        }
        let mut wrapped = false;
        for (count, &more) in self.counts.iter_mut().zip(&other.counts) {
            let (sum, wraps) = count.overflowing_add(more);
            *count = sum;
            wrapped |= wraps;
        }
        if wrapped || !other.carries.is_empty() {
            for index in 0..COUNTS_LENGTH {
                // A sum modulo 2³² below what was added wrapped.
                let wraps =
                    u64::from(self.counts[index] < other.counts[index]) + other.wraps_at(index);
                if wraps > 0 {
                    self.carry(index, wraps);
                }
            }
        }
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

    /// The counts as the crate's histogram (built anew: for reports, not per event).
    fn histogram(&self) -> Histogram<u64> {
        let mut histogram = empty_histogram();
        for (index, &low) in self.counts.iter().enumerate() {
            let wraps = self.wraps_at(index);
            if low == 0 && wraps == 0 {
                continue;
            }
            let count = (wraps << 32) + low as u64;
            histogram
                .record_n(hdr_value(index), count)
                .expect("every index's value is within the histogram's range");
        }
        for &index in self.pending() {
            histogram
                .record(hdr_value(index as usize))
                .expect("every index's value is within the histogram's range");
        }
        histogram
    }

    /// The value at `quantile` (0..=1) in nanoseconds, to the histogram's resolution.
    pub fn quantile_ns(&self, quantile: f64) -> u64 {
        self.histogram().value_at_quantile(quantile)
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
        let histogram = self.histogram();
        let values = histogram.value_at_quantiles(quantiles.iter().copied());
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
        let histogram = self.histogram();
        LatencySummary {
            count: self.count,
            mean: round6(self.mean_ns() / 1e6),
            p50: millis(histogram.value_at_quantile(0.50)),
            p90: millis(histogram.value_at_quantile(0.90)),
            p99: millis(histogram.value_at_quantile(0.99)),
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

    /// A histogram's (value, count) pairs, in value order.
    fn recorded_pairs(histogram: &Histogram<u64>) -> Vec<(u64, u64)> {
        histogram
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect()
    }

    /// Recording into our counts and building the crate's histogram from them must give
    /// the histogram that recording into the crate directly gives: every index maps back
    /// to itself, and values across the whole range (bucket edges, zero, beyond the top)
    /// land where the crate puts them.
    #[test]
    fn counts_are_laid_out_as_the_crate_lays_out_its_own() {
        let length = empty_histogram().distinct_values();
        assert_eq!(COUNTS_LENGTH, length);
        for index in 0..length {
            assert_eq!(hdr_index(hdr_value(index)), index, "index {index}");
        }
        let mut values = vec![0, 1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 4097];
        values.extend([
            HIGHEST_NS - 1,
            HIGHEST_NS,
            HIGHEST_NS + 1,
            1 << 52,
            u64::MAX,
        ]);
        // Powers of two and their neighbours, and a spread of pseudo-random values.
        for bits in 1..64 {
            values.extend([(1u64 << bits) - 1, 1 << bits, (1 << bits) + 1]);
        }
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..100_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            values.push(state >> (state % 64));
        }
        let mut direct = empty_histogram();
        let mut ours = LatencyStats::default();
        for &value in &values {
            direct.saturating_record(value);
            ours.record(SimDuration::from_nanos(value));
        }
        let built = ours.histogram();
        assert_eq!(built.len(), direct.len());
        let direct_counts = recorded_pairs(&direct);
        let built_counts = recorded_pairs(&built);
        println!(
            "{} values, {} distinct buckets (direct {})",
            values.len(),
            built_counts.len(),
            direct_counts.len()
        );
        assert_eq!(built_counts, direct_counts);
        for quantile in [0.0, 0.001, 0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(
                built.value_at_quantile(quantile),
                direct.value_at_quantile(quantile),
                "quantile {quantile}"
            );
        }
    }

    /// A bucket's count goes on past 2³² (carried into the second array), in recording
    /// and in merging, and the crate's histogram gets the whole count.
    #[test]
    fn counts_carry_past_32_bits() {
        let value = SimDuration::from_millis(150);
        let index = hdr_index(value.as_nanos());
        let mut stats = LatencyStats::default();
        stats.counts[index] = u32::MAX - 1;
        for _ in 0..3 {
            stats.record(value);
        }
        let expected = u32::MAX as u64 - 1 + 3;
        println!(
            "after recording: expected {expected}, got {}",
            stats.count_at(index)
        );
        assert_eq!(stats.count_at(index), expected);
        assert_eq!(stats.histogram().count_at(value.as_nanos()), expected);

        let mut other = LatencyStats::default();
        other.counts[index] = u32::MAX;
        other.carry(index, 2);
        other.record(SimDuration::from_millis(1));
        stats.merge(&other);
        let expected = expected + u32::MAX as u64 + (2 << 32);
        println!(
            "after merging: expected {expected}, got {}",
            stats.count_at(index)
        );
        assert_eq!(stats.count_at(index), expected);
        assert_eq!(stats.histogram().count_at(value.as_nanos()), expected);
        let one_ms = hdr_index(1_000_000);
        assert_eq!(stats.count_at(one_ms), 1);
    }

    /// Values not yet counted into the array (up to `PENDING` of them) are counted by
    /// every reader: the crate's histogram and a merge, at every fill level.
    #[test]
    fn pending_values_are_counted_by_readers_and_merges() {
        let value_ns = |position: u64| 1_000_000 + position * 7_919_000;
        for recorded in 0..3 * PENDING as u64 {
            let mut ours = LatencyStats::default();
            let mut other = LatencyStats::default();
            let mut direct = empty_histogram();
            for position in 0..recorded {
                ours.record(SimDuration::from_nanos(value_ns(position)));
                direct.saturating_record(value_ns(position));
            }
            // The other side holds some of its own pending too.
            for position in 0..recorded % 5 {
                other.record(SimDuration::from_nanos(value_ns(position + 100)));
            }
            let built = ours.histogram();
            assert_eq!(built.len(), recorded, "{recorded} recorded");
            assert_eq!(
                built.value_at_quantile(0.5),
                direct.value_at_quantile(0.5),
                "{recorded} recorded"
            );
            for position in 0..recorded % 5 {
                direct.saturating_record(value_ns(position + 100));
            }
            ours.merge(&other);
            let merged = ours.histogram();
            let expected = recorded_pairs(&direct);
            let got = recorded_pairs(&merged);
            assert_eq!(got, expected, "{recorded} recorded, then merged");
        }
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
