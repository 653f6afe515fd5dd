//! Simulated time as integer nanoseconds.
//!
//! Floating-point clocks drift and tie unpredictably; a `u64` of nanoseconds covers
//! 584 years exactly and compares without surprises.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Exactly `value.round() as u64` (nearest integer, ties away from zero; negative and NaN
/// give 0, values beyond `u64::MAX` saturate), without `f64::round`, which baseline x86-64
/// reaches through a library call. (`distribution::round_to_u64`, for samples, is cheaper
/// still but rounds `x + 0.5` down, which differs just below one half.)
///
/// Truncation is exact below 2⁶⁴, and so is the fraction `value − trunc(value)` below 2⁵³;
/// from 2⁵³ on every `f64` is an integer and the fraction is 0.
#[inline]
pub fn round_half_away_u64(value: f64) -> u64 {
    let whole = value as u64;
    if value - whole as f64 >= 0.5 {
        whole.saturating_add(1)
    } else {
        whole
    }
}

/// An instant of simulated time, in nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(u64);

/// A span of simulated time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(u64);

const NANOS_PER_SECOND: u64 = 1_000_000_000;

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub const fn from_nanos(nanos: u64) -> Self {
        SimTime(nanos)
    }
    pub const fn from_secs(seconds: u64) -> Self {
        SimTime(seconds * NANOS_PER_SECOND)
    }
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SECOND as f64
    }
    /// Time elapsed since `earlier`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_nanos(nanos: u64) -> Self {
        SimDuration(nanos)
    }
    pub const fn from_micros(micros: u64) -> Self {
        SimDuration(micros * 1_000)
    }
    pub const fn from_millis(millis: u64) -> Self {
        SimDuration(millis * 1_000_000)
    }
    pub const fn from_secs(seconds: u64) -> Self {
        SimDuration(seconds * NANOS_PER_SECOND)
    }
    /// Rounds to the nearest nanosecond (ties away from zero); negative and NaN inputs give
    /// zero, huge ones saturate.
    #[inline]
    pub fn from_secs_f64(seconds: f64) -> Self {
        SimDuration(round_half_away_u64(seconds * NANOS_PER_SECOND as f64))
    }
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SECOND as f64
    }
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    pub const fn saturating_mul(self, factor: u64) -> Self {
        SimDuration(self.0.saturating_mul(factor))
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, rhs: SimDuration) {
        self.0 = self.0.saturating_add(rhs.0);
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    /// Panics in debug builds if `rhs` is later than `self`: that would be time travel.
    fn sub(self, rhs: SimTime) -> SimDuration {
        debug_assert!(rhs.0 <= self.0, "time travel: {} - {}", self.0, rhs.0);
        SimDuration(self.0 - rhs.0)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, rhs: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for SimDuration {
    fn add_assign(&mut self, rhs: SimDuration) {
        self.0 = self.0.saturating_add(rhs.0);
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}s", self.as_secs_f64())
    }
}

/// Human units, as a scenario would write them: `250ms`, `1.5s`, `10m`, `24h`.
impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = self.0 as f64;
        let (value, unit) = match self.0 {
            0..1_000 => (nanos, "ns"),
            1_000..1_000_000 => (nanos / 1e3, "us"),
            1_000_000..1_000_000_000 => (nanos / 1e6, "ms"),
            1_000_000_000..60_000_000_000 => (nanos / 1e9, "s"),
            60_000_000_000..3_600_000_000_000 => (nanos / 6e10, "m"),
            _ => (nanos / 3.6e12, "h"),
        };
        let text = format!("{value:.3}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        write!(f, "{text}{unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_half_away_is_exactly_f64_round() {
        use crate::engine::RngStreams;
        use rand::RngExt;
        let edges = [
            0.0,
            -0.0,
            0.49999999999999994,
            0.5,
            1.5,
            2.5,
            -0.4,
            -0.5,
            -1.5,
            4_503_599_627_370_495.5, // 2⁵² − 0.5
            4_503_599_627_370_496.0,
            9_007_199_254_740_993.0,      // 2⁵³ + 1 (not representable: 2⁵³)
            18_446_744_073_709_549_568.0, // 2⁶⁴ − 2048, the last below 2⁶⁴
            18_446_744_073_709_551_616.0, // 2⁶⁴
            1e30,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
        ];
        let mut rng = RngStreams::new(3).stream("rounding-test", 0);
        let random = (0..200_000).map(|_| {
            let magnitude = 2f64.powi(rng.random_range(-4..66));
            let value = rng.random::<f64>() * magnitude;
            // Half of them exactly halfway between two integers, where ties matter.
            if rng.random::<bool>() {
                value.trunc() + 0.5
            } else {
                value
            }
        });
        for value in edges.into_iter().chain(random) {
            assert_eq!(
                round_half_away_u64(value),
                value.round() as u64,
                "value {value:e} ({:#x})",
                value.to_bits()
            );
        }
    }

    #[test]
    fn seconds_round_trip_to_the_nanosecond() {
        assert_eq!(SimDuration::from_secs_f64(0.1).as_nanos(), 100_000_000);
        assert_eq!(SimDuration::from_secs_f64(1e-9).as_nanos(), 1);
        assert_eq!(SimDuration::from_secs_f64(-3.0).as_nanos(), 0);
        assert_eq!(SimDuration::from_secs_f64(f64::NAN).as_nanos(), 0);
        assert_eq!(SimDuration::from_secs_f64(1e30).as_nanos(), u64::MAX);
    }

    #[test]
    fn durations_display_in_human_units() {
        let shown: Vec<String> = [
            0,
            999,
            1_500,
            250_000_000,
            1_500_000_000,
            600_000_000_000,
            86_400_000_000_000,
        ]
        .map(|nanos| SimDuration::from_nanos(nanos).to_string())
        .to_vec();
        assert_eq!(
            shown,
            ["0ns", "999ns", "1.5us", "250ms", "1.5s", "10m", "24h"]
        );
    }

    #[test]
    fn time_arithmetic_saturates_instead_of_wrapping() {
        assert_eq!(SimTime::MAX + SimDuration::from_secs(1), SimTime::MAX);
        let later = SimTime::from_secs(3);
        assert_eq!(later - SimTime::from_secs(1), SimDuration::from_secs(2));
        assert_eq!(
            SimTime::from_secs(1).saturating_since(later),
            SimDuration::ZERO
        );
    }
}
