//! LLM performance profiles: how long a replica's iteration takes.
//!
//! A profile describes one model on one GPU configuration (e.g. Llama-2-70B on 8 × H100)
//! with two curves and one capacity:
//!
//! - **decode step time** as a function of the number of requests in the batch: either a
//!   measured table, interpolated piecewise-linearly, or the formula `base + per_seq × n`;
//! - **prefill time** of the prompt tokens processed in one iteration: a token rate, a
//!   measured table (tokens → time), or DistServe's `a + b·Σlen + c·Σlen²`, where the
//!   quadratic term is attention over each prompt (for a chunk of a longer prompt from
//!   position s to e, e² − s², so that the chunks of a prompt add up to len²);
//! - **KV-cache capacity** in tokens per replica, the memory left for keys and values
//!   once the weights are loaded (see `profiles/README.md` for each derivation).
//!
//! Tables are flat below their first point (an iteration never costs less than the
//! smallest measured one) and continue the last segment's slope beyond their last point.
//!
//! Worked example, the Splitwise H100 × 8 table `batch [1, 8, 16, 32, 64]`, `step [29.8,
//! 32.5, 34.2, 38.6, 50.2] ms`: a batch of 24 lies halfway between 16 and 32, so a step
//! takes 34.2 + (38.6 − 34.2) / 2 = 36.4 ms; a batch of 96 continues the last slope
//! ((50.2 − 38.6) / 32 ms per request): 50.2 + 32 × 0.3625 = 61.8 ms.
//!
//! Profiles come from the scenario (`[[profile]]`), from the library shipped in
//! `profiles/` (compiled into the binary, see [`library`]), or from a deployment's inline
//! `llm = { … }` (rate prefill, formula decode, no KV limit).

pub mod library;

use crate::engine::SimDuration;

/// Where a profile was defined, for `strait check` and error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProfileOrigin {
    /// A `[[profile]]` in the scenario file.
    Scenario,
    /// The shipped library: the file it was read from (`profiles/<id>.toml`).
    Library(&'static str),
    /// A deployment's inline `llm = { … }`.
    Inline,
}

/// One model on one GPU configuration.
#[derive(Clone, Debug)]
pub struct Profile {
    pub id: String,
    /// The model served, as free text (`"Llama-2-70B FP16"`).
    pub model: Option<String>,
    /// GPU type and GPUs per replica, as documented by the profile.
    pub gpu: Option<String>,
    pub gpus: Option<u32>,
    /// KV-cache capacity per replica, in tokens. `None`: unlimited.
    pub kv_cache_tokens: Option<u64>,
    pub decode: DecodeCurve,
    pub prefill: PrefillCurve,
    pub origin: ProfileOrigin,
}

impl Profile {
    /// `profile llama2-70b-h100x8-splitwise (profiles/…toml)`, or `inline`.
    pub fn describe_origin(&self) -> String {
        match &self.origin {
            ProfileOrigin::Scenario => format!("profile {} (scenario)", self.id),
            ProfileOrigin::Library(path) => format!("profile {} ({path})", self.id),
            ProfileOrigin::Inline => "inline profile".into(),
        }
    }

    /// Decode step times at a few batch sizes up to `max_batch`.
    pub fn describe_decode(&self, max_batch: u32) -> String {
        let mut sizes = vec![1, 8, 32, max_batch];
        sizes.retain(|&size| size <= max_batch);
        sizes.dedup();
        let steps: Vec<String> = sizes
            .iter()
            .map(|&size| format!("{} at {size}", self.decode.step(size)))
            .collect();
        format!("step {}", steps.join(", "))
    }

    /// Prefill times of a few prompt lengths.
    pub fn describe_prefill(&self) -> String {
        let times: Vec<String> = [128, 1024, 8192]
            .iter()
            .map(|&tokens| format!("{} for {tokens}", self.prefill.prompt_time(tokens)))
            .collect();
        times.join(", ")
    }
}

/// Decode step time as a function of the batch size.
#[derive(Clone, Debug, PartialEq)]
pub enum DecodeCurve {
    /// `base + per_seq × batch`, in whole nanoseconds (so results are exact).
    Linear {
        base: SimDuration,
        per_seq: SimDuration,
    },
    /// Measured steps by batch size.
    Table(PiecewiseLinear),
}

impl DecodeCurve {
    /// Time of one decode step with `batch` requests in the batch.
    pub fn step(&self, batch: u32) -> SimDuration {
        match self {
            DecodeCurve::Linear { base, per_seq } => *base + per_seq.saturating_mul(batch as u64),
            DecodeCurve::Table(table) => nanos(table.at(batch as f64)),
        }
    }
}

/// Prefill time as a function of the prompt tokens one iteration processes.
#[derive(Clone, Debug, PartialEq)]
pub enum PrefillCurve {
    /// `Σ tokens / tokens_per_s`.
    Rate { tokens_per_s: f64 },
    /// DistServe's `base + per_token × Σlen + per_token_squared × Σ(len × context)`, in
    /// (fractional) nanoseconds.
    Quadratic {
        base_ns: f64,
        per_token_ns: f64,
        per_token_squared_ns: f64,
    },
    /// Measured prefill times by total prompt tokens.
    Table(PiecewiseLinear),
}

/// The prompt work of one iteration, accumulated chunk by chunk without allocating.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PrefillWork {
    /// Prompt tokens processed.
    pub tokens: u64,
    /// Σ chunk length × context length at the chunk's end: the attention term.
    pub attention: f64,
}

impl PrefillWork {
    /// Adds `tokens` prompt tokens of one request whose context (tokens before them plus
    /// themselves) reaches `context_end`. Their attention term is end² − start² (each new
    /// token attends to the context before it, to first order), so the chunks of one
    /// prompt add up to len², whatever the chunking.
    pub fn add(&mut self, tokens: u32, context_end: u32) {
        let (tokens, end) = (tokens as f64, context_end as f64);
        self.tokens += tokens as u64;
        self.attention += tokens * (2.0 * end - tokens);
    }
}

impl PrefillCurve {
    pub fn time(&self, work: PrefillWork) -> SimDuration {
        if work.tokens == 0 {
            return SimDuration::ZERO;
        }
        match self {
            PrefillCurve::Rate { tokens_per_s } => {
                SimDuration::from_secs_f64(work.tokens as f64 / tokens_per_s)
            }
            PrefillCurve::Quadratic {
                base_ns,
                per_token_ns,
                per_token_squared_ns,
            } => nanos(
                base_ns + per_token_ns * work.tokens as f64 + per_token_squared_ns * work.attention,
            ),
            PrefillCurve::Table(table) => nanos(table.at(work.tokens as f64)),
        }
    }

    /// The part of an iteration's prefill time that does not depend on its tokens (the
    /// quadratic form's base; zero for a rate or a table). A mixed chunked-prefill
    /// iteration pays it once, not once for prefill and again for decode.
    pub fn fixed_part(&self) -> SimDuration {
        match self {
            PrefillCurve::Quadratic { base_ns, .. } => nanos(*base_ns),
            PrefillCurve::Rate { .. } | PrefillCurve::Table(_) => SimDuration::ZERO,
        }
    }

    /// Prefill time of one whole prompt of `tokens` tokens.
    pub fn prompt_time(&self, tokens: u32) -> SimDuration {
        let mut work = PrefillWork::default();
        work.add(tokens, tokens);
        self.time(work)
    }
}

fn nanos(value: f64) -> SimDuration {
    SimDuration::from_nanos(crate::distribution::round_to_u64(value.max(0.0)))
}

/// Points `(x, y)` with strictly increasing `x` and non-decreasing `y ≥ 0` (y in ns).
#[derive(Clone, Debug, PartialEq)]
pub struct PiecewiseLinear {
    points: Vec<(f64, f64)>,
}

impl PiecewiseLinear {
    /// Checks the points; the message says what is wrong.
    pub fn new(points: Vec<(f64, f64)>) -> Result<Self, String> {
        if points.is_empty() {
            return Err("a table needs at least one point".into());
        }
        for pair in points.windows(2) {
            let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
            if x1 <= x0 {
                return Err(format!(
                    "the table's sizes must increase; {x1} follows {x0}"
                ));
            }
            if y1 < y0 {
                return Err(format!(
                    "times must not decrease as the size grows; {} ns at {x1} follows {} ns at {x0}",
                    y1, y0
                ));
            }
        }
        if points
            .iter()
            .any(|&(x, y)| !x.is_finite() || !y.is_finite() || x < 0.0 || y < 0.0)
        {
            return Err("sizes and times must be finite and not negative".into());
        }
        Ok(PiecewiseLinear { points })
    }

    pub fn points(&self) -> &[(f64, f64)] {
        &self.points
    }

    /// The interpolated value at `x`.
    pub fn at(&self, x: f64) -> f64 {
        let points = &self.points;
        let (first_x, first_y) = points[0];
        if x <= first_x || points.len() == 1 {
            return first_y;
        }
        // The segment whose right end is the first point at or beyond x, or the last one.
        let right = points
            .iter()
            .position(|&(point_x, _)| point_x >= x)
            .unwrap_or(points.len() - 1);
        let (x0, y0) = points[right - 1];
        let (x1, y1) = points[right];
        y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn splitwise_h100() -> PiecewiseLinear {
        let steps = [29.8, 32.5, 34.2, 38.6, 50.2];
        let batches = [1.0, 8.0, 16.0, 32.0, 64.0];
        PiecewiseLinear::new(
            batches
                .iter()
                .zip(steps)
                .map(|(&b, ms)| (b, ms * 1e6))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn table_interpolates_and_extrapolates_as_documented() {
        let curve = DecodeCurve::Table(splitwise_h100());
        let cases = [
            (1, 29_800_000),
            (0, 29_800_000),
            (16, 34_200_000),
            (24, 36_400_000),
            (64, 50_200_000),
            (96, 61_800_000),
        ];
        for (batch, expected) in cases {
            let actual = curve.step(batch).as_nanos();
            println!("batch {batch}: expected {expected} ns, actual {actual} ns");
            assert_eq!(actual, expected, "batch {batch}");
        }
    }

    #[test]
    fn tables_refuse_disorder() {
        assert!(PiecewiseLinear::new(vec![]).is_err());
        assert!(PiecewiseLinear::new(vec![(2.0, 1.0), (1.0, 2.0)]).is_err());
        assert!(PiecewiseLinear::new(vec![(1.0, 2.0), (2.0, 1.0)]).is_err());
        assert!(PiecewiseLinear::new(vec![(1.0, f64::NAN)]).is_err());
    }

    #[test]
    fn prefill_forms() {
        let rate = PrefillCurve::Rate {
            tokens_per_s: 10_000.0,
        };
        assert_eq!(rate.prompt_time(1000), SimDuration::from_millis(100));
        // DistServe: 10 ms + 20 µs × 1000 + 5 ns × 1000² = 10 + 20 + 5 ms.
        let quadratic = PrefillCurve::Quadratic {
            base_ns: 10e6,
            per_token_ns: 20e3,
            per_token_squared_ns: 5.0,
        };
        assert_eq!(quadratic.prompt_time(1000), SimDuration::from_millis(35));
        // Two prompts of 500: 10 + 20 + 5 × (2 × 500²) ns = 32.5 ms.
        let mut work = PrefillWork::default();
        work.add(500, 500);
        work.add(500, 500);
        assert_eq!(quadratic.time(work), SimDuration::from_micros(32_500));
        assert_eq!(quadratic.time(PrefillWork::default()), SimDuration::ZERO);
        // A 5,000-token prompt in chunks of 2,048, 2,048 and 904 costs what it costs whole.
        let mut chunks = PrefillWork::default();
        chunks.add(2048, 2048);
        chunks.add(2048, 4096);
        chunks.add(904, 5000);
        let mut whole = PrefillWork::default();
        whole.add(5000, 5000);
        assert_eq!(chunks, whole);
    }
}
