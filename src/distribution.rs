//! Sampled quantities: time spans (service times, jitter) and token counts.
//!
//! Both are validated values: parameters are finite and positive by construction
//! (see `scenario::validate`), so sampling never fails.

use rand::RngExt;
use rand_distr::{Distribution, Exp1, StandardNormal};

use crate::engine::{SimDuration, StreamRng};

mod exp_rounded;
pub mod presets;

/// The standard normal quantile at 0.99: a lognormal with median `m` and 99th percentile `p`
/// has σ = ln(p / m) / z₀.₉₉.
pub const NORMAL_QUANTILE_99: f64 = 2.326_347_874_040_841;

/// Rounds a non-negative sample to the nearest integer (ties up). Cheaper than `f64::round`,
/// which is a library call on baseline x86-64, and this runs for every sample; negative
/// and NaN inputs give 0, huge ones saturate (`as` casts saturate).
#[inline]
pub fn round_to_u64(value: f64) -> u64 {
    (value + 0.5) as u64
}

/// Exponential samples of a given mean: `rand_distr::Exp`'s draws, bit for bit.
///
/// `Exp` reaches its ziggurat through `Rng::sample`, a call the compiler keeps out of line
/// (its prologue and epilogue were ~1.7% of the bench-day's instructions with the
/// lognormal's); drawing from `Exp1` here lets the ziggurat inline into the caller. The
/// scale is `1 / rate`, computed as `Exp::new` computes it, so every sample is the same.
#[derive(Clone, Copy, Debug)]
pub struct ExponentialSampler {
    lambda_inverse: f64,
}

impl ExponentialSampler {
    /// `rate` must be positive and finite (validated values are).
    pub fn new(rate: f64) -> Self {
        debug_assert!(rate > 0.0 && rate.is_finite(), "rate {rate}");
        ExponentialSampler {
            lambda_inverse: 1.0 / rate,
        }
    }

    #[inline]
    pub fn sample(&self, rng: &mut StreamRng) -> f64 {
        <Exp1 as Distribution<f64>>::sample(&Exp1, rng) * self.lambda_inverse
    }
}

/// Lognormal samples `exp(μ + σ·z)`: `rand_distr::LogNormal`'s draws, bit for bit, with
/// the standard normal's ziggurat inlined (see [`ExponentialSampler`]).
#[derive(Clone, Copy, Debug)]
pub struct LognormalSampler {
    mu: f64,
    sigma: f64,
}

impl LognormalSampler {
    /// `sigma` must be finite and non-negative (validated values are).
    pub fn new(mu: f64, sigma: f64) -> Self {
        debug_assert!(sigma >= 0.0 && sigma.is_finite(), "sigma {sigma}");
        LognormalSampler { mu, sigma }
    }

    #[inline]
    pub fn sample(&self, rng: &mut StreamRng) -> f64 {
        let z: f64 = <StandardNormal as Distribution<f64>>::sample(&StandardNormal, rng);
        (self.mu + self.sigma * z).exp()
    }

    /// `round_to_u64(self.sample(rng))`, bit for bit, mostly without libm's `exp` (see
    /// `exp_rounded`): every use of a lognormal draw rounds it to a whole number.
    #[inline]
    pub fn sample_rounded(&self, rng: &mut StreamRng) -> u64 {
        let z: f64 = <StandardNormal as Distribution<f64>>::sample(&StandardNormal, rng);
        exp_rounded::round_exp_to_u64(self.mu + self.sigma * z)
    }
}

/// A distribution of time spans.
#[derive(Clone, Copy, Debug)]
pub enum TimeDistribution {
    /// Memoryless, with this mean (an M in Kendall's notation).
    Exponential {
        mean: SimDuration,
        sampler: ExponentialSampler,
    },
    /// Always exactly this long (a D).
    Deterministic { value: SimDuration },
    /// Lognormal given by its median and 99th percentile.
    Lognormal {
        median: SimDuration,
        p99: SimDuration,
        sampler: LognormalSampler,
    },
    /// Uniform between two bounds.
    Uniform { min: SimDuration, max: SimDuration },
}

impl TimeDistribution {
    pub fn exponential(mean: SimDuration) -> Self {
        let rate_per_ns = 1.0 / mean.as_nanos().max(1) as f64;
        TimeDistribution::Exponential {
            mean,
            sampler: ExponentialSampler::new(rate_per_ns),
        }
    }

    /// `p99` must be at least `median`; equal values give a deterministic span.
    pub fn lognormal(median: SimDuration, p99: SimDuration) -> Self {
        let mu = (median.as_nanos().max(1) as f64).ln();
        let sigma = ((p99.as_nanos().max(1) as f64).ln() - mu).max(0.0) / NORMAL_QUANTILE_99;
        TimeDistribution::Lognormal {
            median,
            p99,
            sampler: LognormalSampler::new(mu, sigma),
        }
    }

    pub fn sample(&self, rng: &mut StreamRng) -> SimDuration {
        match self {
            TimeDistribution::Exponential { sampler, .. } => {
                SimDuration::from_nanos(round_to_u64(sampler.sample(rng)))
            }
            TimeDistribution::Deterministic { value } => *value,
            TimeDistribution::Lognormal { sampler, .. } => {
                SimDuration::from_nanos(sampler.sample_rounded(rng))
            }
            TimeDistribution::Uniform { min, max } => {
                SimDuration::from_nanos(rng.random_range(min.as_nanos()..=max.as_nanos()))
            }
        }
    }

    /// The distribution's mean.
    pub fn mean(&self) -> SimDuration {
        match self {
            TimeDistribution::Exponential { mean, .. } => *mean,
            TimeDistribution::Deterministic { value } => *value,
            TimeDistribution::Lognormal { median, p99, .. } => {
                let sigma = (p99.as_nanos().max(1) as f64 / median.as_nanos().max(1) as f64).ln()
                    / NORMAL_QUANTILE_99;
                SimDuration::from_nanos(
                    (median.as_nanos() as f64 * (sigma * sigma / 2.0).exp()).round() as u64,
                )
            }
            TimeDistribution::Uniform { min, max } => {
                SimDuration::from_nanos(min.as_nanos() / 2 + max.as_nanos() / 2)
            }
        }
    }

    /// Squared coefficient of variation (variance / mean²), as queueing formulas use it.
    pub fn squared_cv(&self) -> f64 {
        match self {
            TimeDistribution::Exponential { .. } => 1.0,
            TimeDistribution::Deterministic { .. } => 0.0,
            TimeDistribution::Lognormal { median, p99, .. } => {
                let sigma = (p99.as_nanos().max(1) as f64 / median.as_nanos().max(1) as f64).ln()
                    / NORMAL_QUANTILE_99;
                (sigma * sigma).exp() - 1.0
            }
            TimeDistribution::Uniform { min, max } => {
                let (a, b) = (min.as_nanos() as f64, max.as_nanos() as f64);
                let mean = (a + b) / 2.0;
                if mean == 0.0 {
                    0.0
                } else {
                    (b - a).powi(2) / 12.0 / (mean * mean)
                }
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            TimeDistribution::Exponential { mean, .. } => format!("exponential(mean {mean})"),
            TimeDistribution::Deterministic { value } => format!("deterministic({value})"),
            TimeDistribution::Lognormal { median, p99, .. } => {
                format!("lognormal(median {median}, p99 {p99})")
            }
            TimeDistribution::Uniform { min, max } => format!("uniform({min}..{max})"),
        }
    }
}

/// A distribution of token counts; every sample is at least 1.
#[derive(Clone, Debug)]
pub enum TokenDistribution {
    Fixed {
        value: u32,
    },
    Uniform {
        min: u32,
        max: u32,
    },
    Lognormal {
        median: f64,
        p99: f64,
        sampler: LognormalSampler,
    },
    /// Uniform choice among listed values (e.g. lengths taken from a trace).
    Empirical {
        values: Vec<u32>,
    },
    /// A named preset: 201 quantiles (0, 0.5, …, 100 %) of a trace's column, sampled by
    /// inverse transform with linear interpolation between neighbouring quantiles.
    Quantiles {
        name: &'static str,
        table: &'static [u32; 201],
    },
}

/// Token-length presets by name: (name, input quantiles, output quantiles).
pub const TOKEN_PRESETS: [(&str, &[u32; 201], &[u32; 201]); 2] = [
    (
        "azure-conv",
        &presets::AZURE_CONV_INPUT_QUANTILES,
        &presets::AZURE_CONV_OUTPUT_QUANTILES,
    ),
    (
        "azure-code",
        &presets::AZURE_CODE_INPUT_QUANTILES,
        &presets::AZURE_CODE_OUTPUT_QUANTILES,
    ),
];

/// Token counts are capped here: no model has a context near a billion tokens.
pub const MAX_TOKENS: u32 = 10_000_000;

impl TokenDistribution {
    pub fn lognormal(median: f64, p99: f64) -> Self {
        let mu = median.ln();
        let sigma = (p99.ln() - mu).max(0.0) / NORMAL_QUANTILE_99;
        TokenDistribution::Lognormal {
            median,
            p99,
            sampler: LognormalSampler::new(mu, sigma),
        }
    }

    pub fn sample(&self, rng: &mut StreamRng) -> u32 {
        match self {
            TokenDistribution::Fixed { value } => *value,
            TokenDistribution::Uniform { min, max } => rng.random_range(*min..=*max),
            TokenDistribution::Lognormal { sampler, .. } => {
                (sampler.sample_rounded(rng).min(MAX_TOKENS as u64) as u32).max(1)
            }
            TokenDistribution::Empirical { values } => values[rng.random_range(0..values.len())],
            TokenDistribution::Quantiles { table, .. } => {
                let position = rng.random::<f64>() * 200.0;
                let segment = (position as usize).min(199);
                let (low, high) = (table[segment] as f64, table[segment + 1] as f64);
                let value = low + (high - low) * (position - segment as f64);
                (round_to_u64(value).min(MAX_TOKENS as u64) as u32).max(1)
            }
        }
    }

    pub fn mean(&self) -> f64 {
        match self {
            TokenDistribution::Fixed { value } => *value as f64,
            TokenDistribution::Uniform { min, max } => (*min as f64 + *max as f64) / 2.0,
            TokenDistribution::Lognormal { median, p99, .. } => {
                let sigma = (p99 / median).ln() / NORMAL_QUANTILE_99;
                median * (sigma * sigma / 2.0).exp()
            }
            TokenDistribution::Empirical { values } => {
                values.iter().map(|&v| v as f64).sum::<f64>() / values.len() as f64
            }
            TokenDistribution::Quantiles { table, .. } => {
                table
                    .windows(2)
                    .map(|pair| (pair[0] as f64 + pair[1] as f64) / 2.0)
                    .sum::<f64>()
                    / 200.0
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            TokenDistribution::Fixed { value } => format!("fixed {value}"),
            TokenDistribution::Uniform { min, max } => format!("uniform {min}..{max}"),
            TokenDistribution::Lognormal { median, p99, .. } => {
                format!("lognormal median {median} p99 {p99}")
            }
            TokenDistribution::Empirical { values } => {
                format!("empirical ({} values)", values.len())
            }
            TokenDistribution::Quantiles { name, .. } => format!("preset {name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStreams;

    /// The inlined samplers draw exactly what rand_distr's `Exp` and `LogNormal` draw from
    /// the same stream, so results do not depend on which one a build uses.
    #[test]
    fn samplers_draw_what_rand_distr_draws() {
        use rand_distr::{Exp, LogNormal};
        let rate_per_ns = 1.0 / 3_700_000.0;
        let (mu, sigma) = (1020f64.ln(), (4142f64 / 1020.0).ln() / NORMAL_QUANTILE_99);
        let theirs_exp = Exp::new(rate_per_ns).expect("valid rate");
        let theirs_lognormal = LogNormal::new(mu, sigma).expect("valid sigma");
        let (ours_exp, ours_lognormal) = (
            ExponentialSampler::new(rate_per_ns),
            LognormalSampler::new(mu, sigma),
        );
        let mut theirs_rng = RngStreams::new(3).stream("samplers", 0);
        let mut ours_rng = RngStreams::new(3).stream("samplers", 0);
        let mut differ = 0;
        for _ in 0..200_000 {
            let theirs = (
                theirs_exp.sample(&mut theirs_rng),
                theirs_lognormal.sample(&mut theirs_rng),
            );
            let ours = (
                ours_exp.sample(&mut ours_rng),
                ours_lognormal.sample(&mut ours_rng),
            );
            if theirs.0.to_bits() != ours.0.to_bits() || theirs.1.to_bits() != ours.1.to_bits() {
                differ += 1;
            }
        }
        println!("pairs of samples that differ: expected 0, actual {differ}");
        assert_eq!(differ, 0);
    }

    #[test]
    fn presets_sample_their_quantile_tables() {
        // The conversation trace's output column: mean 211.13, median 129, p99 601.
        let distribution = TokenDistribution::Quantiles {
            name: "azure-conv",
            table: &presets::AZURE_CONV_OUTPUT_QUANTILES,
        };
        let mut rng = RngStreams::new(11).stream("presets", 0);
        let mut samples: Vec<u32> = (0..200_000)
            .map(|_| distribution.sample(&mut rng))
            .collect();
        samples.sort_unstable();
        let mean = samples.iter().map(|&s| s as f64).sum::<f64>() / samples.len() as f64;
        let median = samples[samples.len() / 2];
        let p99 = samples[samples.len() * 99 / 100];
        println!(
            "mean {mean:.1} (table {:.1}, trace 211.1), median {median} (129), p99 {p99} (601)",
            distribution.mean()
        );
        assert!((mean - distribution.mean()).abs() < 0.01 * distribution.mean());
        assert!((distribution.mean() - 211.13).abs() < 0.5);
        assert!((127..=131).contains(&median));
        assert!((590..=612).contains(&p99));
    }

    #[test]
    fn lognormal_tokens_hit_their_median_and_p99() {
        let distribution = TokenDistribution::lognormal(1020.0, 4142.0);
        let mut rng = RngStreams::new(7).stream("test", 0);
        let mut samples: Vec<u32> = (0..200_000)
            .map(|_| distribution.sample(&mut rng))
            .collect();
        samples.sort_unstable();
        let median = samples[samples.len() / 2] as f64;
        let p99 = samples[samples.len() * 99 / 100] as f64;
        println!("median expected 1020 actual {median}; p99 expected 4142 actual {p99}");
        assert!((median - 1020.0).abs() / 1020.0 < 0.02);
        assert!((p99 - 4142.0).abs() / 4142.0 < 0.03);
    }

    #[test]
    fn exponential_time_has_its_mean() {
        let distribution = TimeDistribution::exponential(SimDuration::from_millis(200));
        let mut rng = RngStreams::new(7).stream("test", 1);
        let n = 400_000;
        let total: u64 = (0..n)
            .map(|_| distribution.sample(&mut rng).as_nanos())
            .sum();
        let mean_ms = total as f64 / n as f64 / 1e6;
        println!("mean expected 200 ms actual {mean_ms:.3} ms");
        // Standard error is 200/sqrt(n) = 0.32 ms; 1% is three standard errors.
        assert!((mean_ms - 200.0).abs() < 2.0);
    }
}
