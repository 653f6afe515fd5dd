//! Demand: when each tenant's requests arrive and what they ask for.
//!
//! A tenant's arrivals come from one of three sources, generated lazily: only the next
//! arrival exists at any time.
//!
//! - **Poisson** (the default) — a non-homogeneous Poisson process. With a diurnal shape,
//!   time is cut into one-minute stretches; in each, candidates are drawn at the stretch's
//!   highest rate and each is kept with probability `rate(t) / highest rate` (Lewis–Shedler
//!   thinning), exact for a bounded rate function. A candidate past the stretch's end is
//!   not one: the process starts afresh there, at the next stretch's rate (a Poisson
//!   process has no memory). Against one bound for the whole day (the peak), almost every
//!   candidate is kept — a quiet hour at a third of the peak drew three candidates an
//!   arrival. The same holds for `rate_windows`, a rate by time-of-day windows.
//! - **Renewal** (`arrivals = { process = "gamma" | "weibull", cv = … }`) — gaps of mean 1
//!   and the given coefficient of variation, as ServeGen fits its customers' traffic,
//!   laid out in *operational time*: the n-th arrival is at the `t` where the expected
//!   count `∫₀ᵗ rate` reaches the sum of the first n gaps (time rescaling). With a flat
//!   rate that is simply gaps divided by the rate; with a diurnal shape or rate windows the
//!   integral is in closed form and inverted by safeguarded Newton steps, so bursts keep their shape and
//!   the day keeps its mean.
//! - **Trace** — rows of a trace file, streamed (see [`crate::trace`]): arrival times and
//!   token counts come from the file; ingress and model are drawn from the tenant's weights.
//!
//! Arrival times and request attributes come from two separate random streams per tenant,
//! derived from the run seed and the tenant's position, so a tenant's demand is the same
//! whatever the routing strategy or the other tenants do.

use rand::RngExt;
use rand_distr::{Distribution, Exp1, Gamma, Weibull};

use crate::engine::{RngStreams, SimDuration, SimTime, StreamRng};
use crate::scenario::{ArrivalProcess, ModelIndex, RateShape, SiteIndex, Tenant};
use crate::trace::TraceReplay;

/// What a new request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestAttributes {
    pub ingress: SiteIndex,
    pub model: ModelIndex,
    /// Positions of the ingress and model in the tenant's own lists, for per-tenant tables.
    pub ingress_position: usize,
    pub model_position: usize,
    pub input_tokens: u32,
    pub output_tokens: u32,
}

/// The arrival process and attribute sampler of one tenant.
pub struct TenantDemand {
    arrivals: StreamRng,
    attributes: StreamRng,
    source: Source,
    /// Time of the last arrival or candidate, in (fractional) nanoseconds, kept as f64 so
    /// that very short gaps accumulate without rounding bias.
    clock_ns: f64,
    /// Seconds from 00:00 UTC to simulated time zero (the run's `start`).
    start_s: f64,
    /// (position in the tenant's list, cumulative weight).
    cumulative_ingress: Vec<(usize, f64)>,
    cumulative_models: Vec<(usize, f64)>,
    /// Token counts of the trace arrival being handled, and of the one scheduled next.
    trace_tokens: (u32, u32),
    next_trace_tokens: (u32, u32),
    /// Why the trace stopped early (a file that changed after it was checked).
    error: Option<String>,
}

enum Source {
    Poisson {
        /// Mean arrival rate in requests per nanosecond (a rate shape's mean is 1).
        rate_per_ns: f64,
        /// The stretch of time the clock is in, with its candidates' rate and the bounds
        /// of the rate shape over it (unused for a constant rate).
        band: ThinningBand,
    },
    Renewal {
        gaps: Gaps,
        rate_per_s: f64,
        /// Expected arrivals so far (operational time), in units of mean gaps.
        operational: f64,
    },
    Trace(Box<TraceReplay>),
}

/// One stretch of a Poisson tenant's varying rate: the rate its candidates are drawn at,
/// and thinning decisions settled without the rate shape.
///
/// Candidates come at the stretch's highest rate and each is kept with probability
/// `shape(t) / highest`: a uniform draw below that ratio. Over one minute a daily shape
/// barely moves, so a draw below the stretch's smallest ratio is a keep and one at or above
/// its largest a discard, whatever the exact value; only the rare draws in between evaluate
/// the shape (a cosine for a diurnal tenant). The highest shape is widened by a relative
/// 10⁻⁹ and the bounds too, far beyond rounding, so the candidates' rate is never below the
/// shape's and every decision is the one the evaluation would make.
///
/// Worked example: a tenant of mean 1,100/s whose shape goes from 0.500 to 0.502 over a
/// minute draws candidates at 1,100 × 0.502 = 552.2/s (a mean gap of 1.811 ms), keeps a
/// draw below 0.500 / 0.502 = 0.996 at once, and evaluates the shape for the 0.4% of draws
/// between 0.996 and 1.
#[derive(Clone, Copy, Debug)]
struct ThinningBand {
    /// The end of the stretch, in nanoseconds of simulated time; it began
    /// [`Self::STRETCH_S`] before.
    to_ns: f64,
    /// Mean gap between candidates: one over the mean rate times `top_shape`.
    candidate_gap_ns: f64,
    /// The shape's highest value over the stretch, widened: the candidates' rate over the
    /// mean rate.
    top_shape: f64,
    /// A draw below this keeps the candidate.
    accept_below: f64,
    /// A draw at or above this discards it.
    reject_from: f64,
}

impl ThinningBand {
    /// No stretch: the first arrival computes one, from time zero.
    const EMPTY: ThinningBand = ThinningBand {
        to_ns: 0.0,
        candidate_gap_ns: 0.0,
        top_shape: 1.0,
        accept_below: 0.0,
        reject_from: 1.0,
    };

    /// Length of a stretch: long enough that the bounds are rarely recomputed, short enough
    /// that a daily shape hardly changes (a diurnal shape moves at most 0.3% in a minute).
    const STRETCH_S: f64 = 60.0;

    /// The stretch that starts at `from_ns`, for a tenant of mean rate `rate_per_ns`.
    fn starting_at(shape: &dyn RateShape, start_s: f64, from_ns: f64, rate_per_ns: f64) -> Self {
        let from_s = start_s + from_ns / 1e9;
        let (low, high) = shape.bounds(from_s, from_s + Self::STRETCH_S);
        let top_shape = high * (1.0 + 1e-9);
        ThinningBand {
            to_ns: from_ns + Self::STRETCH_S * 1e9,
            candidate_gap_ns: 1.0 / (rate_per_ns * top_shape),
            top_shape,
            accept_below: low / top_shape * (1.0 - 1e-9),
            reject_from: high / top_shape * (1.0 + 1e-9),
        }
    }

    /// Whether the candidate at `clock_ns`, inside the stretch, is kept, given its uniform
    /// `draw`: the draw is below `shape(t) / top_shape`.
    #[inline]
    fn keeps(&self, shape: &dyn RateShape, start_s: f64, clock_ns: f64, draw: f64) -> bool {
        debug_assert!(self.to_ns - Self::STRETCH_S * 1e9 <= clock_ns && clock_ns < self.to_ns);
        if draw < self.accept_below {
            true
        } else if draw >= self.reject_from {
            false
        } else {
            draw < shape.shape(start_s + clock_ns / 1e9) / self.top_shape
        }
    }
}

/// Gaps of mean 1 with a given coefficient of variation.
enum Gaps {
    Gamma(Gamma<f64>),
    Weibull(Weibull<f64>),
}

impl Gaps {
    fn new(process: ArrivalProcess) -> Option<Self> {
        match process {
            ArrivalProcess::Poisson => None,
            ArrivalProcess::Gamma { cv } => {
                let shape = 1.0 / (cv * cv);
                Some(Gaps::Gamma(
                    Gamma::new(shape, 1.0 / shape).expect("validated coefficient of variation"),
                ))
            }
            ArrivalProcess::Weibull { cv } => {
                let shape = weibull_shape_for_cv(cv);
                let scale = 1.0 / gamma_function(1.0 + 1.0 / shape);
                Some(Gaps::Weibull(
                    Weibull::new(scale, shape).expect("validated coefficient of variation"),
                ))
            }
        }
    }

    fn sample(&self, rng: &mut StreamRng) -> f64 {
        match self {
            Gaps::Gamma(gamma) => gamma.sample(rng),
            Gaps::Weibull(weibull) => weibull.sample(rng),
        }
    }
}

/// Γ(x) for x > 0 (Lanczos approximation, g = 7, about 15 significant digits).
pub fn gamma_function(x: f64) -> f64 {
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma_function(1.0 - x));
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (index, &coefficient) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += coefficient / (x + index as f64);
    }
    let t = x + 7.5;
    (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * sum
}

/// The coefficient of variation of a Weibull distribution with shape `k`.
pub fn weibull_cv(shape: f64) -> f64 {
    let first = gamma_function(1.0 + 1.0 / shape);
    (gamma_function(1.0 + 2.0 / shape) / (first * first) - 1.0).sqrt()
}

/// The Weibull shape whose coefficient of variation is `cv` (CV falls as the shape grows;
/// bisection on the logarithm of the shape).
fn weibull_shape_for_cv(cv: f64) -> f64 {
    let (mut low, mut high) = (0.02f64.ln(), 100f64.ln());
    for _ in 0..100 {
        let middle = (low + high) / 2.0;
        if weibull_cv(middle.exp()) > cv {
            low = middle;
        } else {
            high = middle;
        }
    }
    ((low + high) / 2.0).exp()
}

/// The `t ≥ from` (seconds after time zero) where the expected count since time zero,
/// in seconds at the mean rate, reaches `target`: ∫₀ᵗ shape = target.
fn invert_shape(shape: &dyn RateShape, start_s: f64, from: f64, target: f64) -> f64 {
    let integral = |t: f64| shape.integral(start_s + t) - shape.integral(start_s);
    let (mut low, mut high) = (from, from);
    // The shape averages 1 over any whole day: a day per unit of missing count brackets it.
    let missing = (target - integral(from)).max(0.0);
    high += (missing.ceil() + 1.0) * 86_400.0;
    let mut t = from + missing;
    for _ in 0..200 {
        let value = integral(t) - target;
        if value.abs() < 1e-9 {
            break;
        }
        if value > 0.0 {
            high = t;
        } else {
            low = t;
        }
        let slope = shape.shape(start_s + t);
        let newton = t - value / slope;
        t = if slope > 0.0 && newton > low && newton < high {
            newton
        } else {
            (low + high) / 2.0
        };
        if high - low < 1e-9 {
            break;
        }
    }
    t
}

/// Cumulative weights by position: `[(0, w₀), (1, w₀ + w₁), …]`.
fn cumulative<T>(weights: &[(T, f64)]) -> Vec<(usize, f64)> {
    let mut total = 0.0;
    let mut out: Vec<(usize, f64)> = weights
        .iter()
        .enumerate()
        .map(|(position, &(_, weight))| {
            total += weight;
            (position, total)
        })
        .collect();
    // Guard the last bucket against rounding: a draw just below 1.0 must land somewhere.
    if let Some(last) = out.last_mut() {
        last.1 = f64::INFINITY;
    }
    out
}

fn pick<T: Copy>(cumulative: &[(T, f64)], draw: f64) -> T {
    cumulative
        .iter()
        .find(|&&(_, bound)| draw < bound)
        .map(|&(item, _)| item)
        .unwrap_or(cumulative[cumulative.len() - 1].0)
}

impl TenantDemand {
    pub fn new(
        tenant: &Tenant,
        tenant_index: usize,
        streams: &RngStreams,
        start: SimDuration,
    ) -> Result<Self, String> {
        let source = if let Some(trace) = &tenant.trace {
            let replay = TraceReplay::new(&trace.path, trace.format, trace.options, &trace.summary)
                .map_err(|error| format!("tenant {}: {error}", tenant.id))?;
            Source::Trace(Box::new(replay))
        } else if let Some(gaps) = Gaps::new(tenant.arrivals) {
            Source::Renewal {
                gaps,
                rate_per_s: tenant.rate_per_s,
                operational: 0.0,
            }
        } else {
            Source::Poisson {
                rate_per_ns: tenant.rate_per_s / 1e9,
                band: ThinningBand::EMPTY,
            }
        };
        Ok(TenantDemand {
            arrivals: streams.stream("tenant-arrivals", tenant_index as u64),
            attributes: streams.stream("tenant-attributes", tenant_index as u64),
            source,
            clock_ns: 0.0,
            start_s: start.as_secs_f64(),
            cumulative_ingress: cumulative(&tenant.ingress),
            cumulative_models: cumulative(&tenant.models),
            trace_tokens: (0, 0),
            next_trace_tokens: (0, 0),
            error: None,
        })
    }

    /// Why the tenant's trace could not be read to the end, if it could not.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The next arrival at or before `end`, or `None` if the next one would fall after it.
    pub fn next_arrival(&mut self, tenant: &Tenant, end: SimTime) -> Option<SimTime> {
        let end_ns = end.as_nanos() as f64;
        match &mut self.source {
            Source::Poisson { rate_per_ns, band } => match tenant.rate_shape() {
                None => {
                    let gap: f64 = Exp1.sample(&mut self.arrivals);
                    self.clock_ns += gap / *rate_per_ns;
                    (self.clock_ns <= end_ns).then(|| {
                        SimTime::from_nanos(crate::distribution::round_to_u64(self.clock_ns))
                    })
                }
                Some(shape) => loop {
                    if self.clock_ns >= band.to_ns {
                        *band = ThinningBand::starting_at(
                            shape,
                            self.start_s,
                            self.clock_ns,
                            *rate_per_ns,
                        );
                    }
                    // A stretch of no demand (a rate window at zero) draws nothing.
                    let candidate = if band.top_shape > 0.0 {
                        let gap: f64 = Exp1.sample(&mut self.arrivals);
                        self.clock_ns + gap * band.candidate_gap_ns
                    } else {
                        f64::INFINITY
                    };
                    if candidate >= band.to_ns {
                        // Past the stretch: no candidate in the rest of it. The next
                        // stretch starts afresh at its beginning (no memory to carry).
                        self.clock_ns = band.to_ns;
                        if self.clock_ns > end_ns {
                            return None;
                        }
                        continue;
                    }
                    self.clock_ns = candidate;
                    if self.clock_ns > end_ns {
                        return None;
                    }
                    let draw = self.arrivals.random::<f64>();
                    if band.keeps(shape, self.start_s, self.clock_ns, draw) {
                        return Some(SimTime::from_nanos(crate::distribution::round_to_u64(
                            self.clock_ns,
                        )));
                    }
                },
            },
            Source::Renewal {
                gaps,
                rate_per_s,
                operational,
            } => {
                *operational += gaps.sample(&mut self.arrivals);
                self.clock_ns = match tenant.rate_shape() {
                    None => *operational / *rate_per_s * 1e9,
                    Some(shape) => {
                        let from = self.clock_ns / 1e9;
                        invert_shape(shape, self.start_s, from, *operational / *rate_per_s) * 1e9
                    }
                };
                (self.clock_ns <= end_ns)
                    .then(|| SimTime::from_nanos(crate::distribution::round_to_u64(self.clock_ns)))
            }
            // The simulator asks for the next arrival while handling the current one, and
            // draws the current one's attributes after that.
            Source::Trace(replay) => match replay.next(&mut self.arrivals) {
                Ok(Some(arrival)) if arrival.time_ns <= end.as_nanos() => {
                    self.trace_tokens = self.next_trace_tokens;
                    self.next_trace_tokens = (arrival.input_tokens, arrival.output_tokens);
                    Some(SimTime::from_nanos(arrival.time_ns))
                }
                Ok(_) => {
                    self.trace_tokens = self.next_trace_tokens;
                    None
                }
                Err(error) => {
                    self.trace_tokens = self.next_trace_tokens;
                    self.error = Some(format!("tenant {}: {error}", tenant.id));
                    None
                }
            },
        }
    }

    /// Draws ingress, model and token counts for a new request.
    pub fn attributes(&mut self, tenant: &Tenant) -> RequestAttributes {
        let ingress_position = pick(&self.cumulative_ingress, self.attributes.random::<f64>());
        let model_position = pick(&self.cumulative_models, self.attributes.random::<f64>());
        let (input_tokens, output_tokens) = match self.source {
            Source::Trace(_) => self.trace_tokens,
            _ => (
                tenant.input_tokens.sample(&mut self.attributes),
                tenant.output_tokens.sample(&mut self.attributes),
            ),
        };
        RequestAttributes {
            ingress: tenant.ingress[ingress_position].0,
            model: tenant.models[model_position].0,
            ingress_position,
            model_position,
            input_tokens,
            output_tokens,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weibull_shape_matches_the_coefficient_of_variation() {
        // Shape 1 is the exponential (CV 1); Γ(1/2)² = π checks the Lanczos Γ.
        assert!((gamma_function(0.5).powi(2) - std::f64::consts::PI).abs() < 1e-12);
        assert!((gamma_function(5.0) - 24.0).abs() < 1e-10);
        assert!((weibull_cv(1.0) - 1.0).abs() < 1e-12);
        for cv in [0.5, 1.0, 2.0, 4.0, 8.6] {
            let shape = weibull_shape_for_cv(cv);
            println!("cv {cv}: shape {shape:.6}, back {:.9}", weibull_cv(shape));
            assert!((weibull_cv(shape) - cv).abs() < 1e-9);
        }
    }

    /// The band settles most thinning draws without the shape; every decision must be the
    /// one plain thinning (evaluate the shape for every candidate, at each stretch's rate)
    /// makes, so arrivals are the same to the nanosecond. Over two days of a diurnal
    /// tenant every peak, trough and stretch edge is crossed. The real `next_arrival`
    /// stands for the banded side.
    #[test]
    fn banded_thinning_keeps_exactly_the_arrivals_of_plain_thinning() {
        let text = r#"
[run]
duration = "48h"
start = "5000s"
[[site]]
id = "here"
kind = "region"
jurisdiction = "CN"
[[model]]
id = "m"
[[deployment]]
id = "d"
model = "m"
site = "here"
replicas = 1
service = { dist = "exponential", mean = "1ms" }
[[tenant]]
id = "t"
jurisdiction = "CN"
ingress = { here = 1.0 }
rate = "2/s"
diurnal = { peak_hour = 21, trough_ratio = 0.1, utc_offset = 8 }
models = { m = 1.0 }
"#;
        let scenario =
            crate::scenario::load_text(text, crate::scenario::Format::Toml, None, "test", &[])
                .expect("valid scenario");
        let tenant = &scenario.tenants[0];
        let diurnal = tenant.diurnal.expect("diurnal");
        let streams = RngStreams::new(7);
        let start = SimDuration::from_secs_f64(5_000.0);
        let mut demand = TenantDemand::new(tenant, 0, &streams, start).expect("demand");
        let end = SimTime::from_nanos(48 * 3_600 * 1_000_000_000);
        let mut plain_rng = streams.stream("tenant-arrivals", 0);
        let (mut plain_clock, mut stretch_end) = (0.0f64, 0.0f64);
        let (mut top_shape, mut accept_below, mut reject_from) = (0.0, 0.0, 1.0);
        let (mut kept, mut stretches, mut in_band) = (0u64, 0u64, 0u64);
        loop {
            // Plain thinning: a stretch's highest shape, then the shape for every candidate.
            let plain = loop {
                if plain_clock >= stretch_end {
                    let from_s = 5_000.0 + plain_clock / 1e9;
                    let (low, high) = diurnal.bounds(from_s, from_s + 60.0);
                    top_shape = high * (1.0 + 1e-9);
                    accept_below = low / top_shape * (1.0 - 1e-9);
                    reject_from = high / top_shape * (1.0 + 1e-9);
                    stretch_end = plain_clock + 60e9;
                    stretches += 1;
                }
                let gap: f64 = Exp1.sample(&mut plain_rng);
                let candidate = plain_clock + gap * (1.0 / (2.0 / 1e9 * top_shape));
                if candidate >= stretch_end {
                    plain_clock = stretch_end;
                    continue;
                }
                plain_clock = candidate;
                let ratio = diurnal.shape(5_000.0 + plain_clock / 1e9) / top_shape;
                let draw = plain_rng.random::<f64>();
                // A draw the band cannot settle without the shape.
                if accept_below <= draw && draw < reject_from {
                    in_band += 1;
                }
                if draw < ratio {
                    break plain_clock;
                }
            };
            let banded = demand.next_arrival(tenant, end);
            if plain > end.as_nanos() as f64 {
                assert_eq!(banded, None, "after arrival {kept}");
                break;
            }
            let plain = SimTime::from_nanos(crate::distribution::round_to_u64(plain));
            assert_eq!(banded, Some(plain), "arrival {kept}");
            kept += 1;
        }
        println!(
            "{kept} arrivals identical over {stretches} one-minute stretches; the shape \
             needed for {in_band} draws"
        );
        assert!(kept > 300_000);
        assert!(in_band * 100 < kept, "the band should settle most draws");
        assert_eq!(stretches, 48 * 60 + 1);
    }

    #[test]
    fn diurnal_inversion_lands_on_the_target_count() {
        let diurnal = crate::scenario::Diurnal {
            peak_hour: 21.0,
            trough_ratio: 0.2,
            utc_offset_hours: 8.0,
        };
        for (from, target) in [(0.0, 10.0), (100.0, 50_000.0), (3_000.0, 3_000.5)] {
            let t = invert_shape(&diurnal, 3_600.0, from, target);
            let reached =
                RateShape::integral(&diurnal, 3_600.0 + t) - RateShape::integral(&diurnal, 3_600.0);
            assert!(t >= from);
            assert!((reached - target).abs() < 1e-6, "{reached} vs {target}");
        }
    }

    #[test]
    fn picks_follow_cumulative_weights() {
        // Picks return positions in the weighted list, not the items.
        let table = cumulative(&[(7usize, 0.25), (8, 0.75)]);
        assert_eq!(pick(&table, 0.0), 0);
        assert_eq!(pick(&table, 0.2499), 0);
        assert_eq!(pick(&table, 0.25), 1);
        assert_eq!(pick(&table, 0.999_999_999), 1);
    }
}
