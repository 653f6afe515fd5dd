//! Demand: when each tenant's requests arrive and what they ask for.
//!
//! Each tenant is a non-homogeneous Poisson process, generated lazily: only the next
//! arrival exists at any time. With a diurnal shape, arrivals are drawn at the tenant's
//! peak rate and each is kept with probability `rate(t) / peak rate` (Lewis–Shedler
//! thinning), which is exact for a bounded rate function.
//!
//! Arrival times and request attributes come from two separate random streams per tenant,
//! derived from the run seed and the tenant's position, so a tenant's demand is the same
//! whatever the routing strategy or the other tenants do.

use rand::RngExt;
use rand_distr::{Distribution, Exp1};

use crate::engine::{RngStreams, SimDuration, SimTime, StreamRng};
use crate::scenario::{ModelIndex, SiteIndex, Tenant};

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
    /// Peak arrival rate in requests per nanosecond: the rate candidates are drawn at.
    peak_rate_per_ns: f64,
    /// Time of the last candidate, in (fractional) nanoseconds, kept as f64 so that very
    /// short gaps accumulate without rounding bias.
    clock_ns: f64,
    /// Seconds from 00:00 UTC to simulated time zero (the run's `start`).
    start_s: f64,
    /// (position in the tenant's list, cumulative weight).
    cumulative_ingress: Vec<(usize, f64)>,
    cumulative_models: Vec<(usize, f64)>,
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
    ) -> Self {
        let peak_shape = tenant.diurnal.map(|d| d.peak_shape()).unwrap_or(1.0);
        TenantDemand {
            arrivals: streams.stream("tenant-arrivals", tenant_index as u64),
            attributes: streams.stream("tenant-attributes", tenant_index as u64),
            peak_rate_per_ns: tenant.rate_per_s * peak_shape / 1e9,
            clock_ns: 0.0,
            start_s: start.as_secs_f64(),
            cumulative_ingress: cumulative(&tenant.ingress),
            cumulative_models: cumulative(&tenant.models),
        }
    }

    /// The next arrival at or before `end`, or `None` if the next one would fall after it.
    pub fn next_arrival(&mut self, tenant: &Tenant, end: SimTime) -> Option<SimTime> {
        let end_ns = end.as_nanos() as f64;
        loop {
            let gap: f64 = Exp1.sample(&mut self.arrivals);
            self.clock_ns += gap / self.peak_rate_per_ns;
            if self.clock_ns > end_ns {
                return None;
            }
            let accept = match &tenant.diurnal {
                None => true,
                Some(diurnal) => {
                    let ratio =
                        diurnal.shape(self.start_s + self.clock_ns / 1e9) / diurnal.peak_shape();
                    self.arrivals.random::<f64>() < ratio
                }
            };
            if accept {
                return Some(SimTime::from_nanos(crate::distribution::round_to_u64(
                    self.clock_ns,
                )));
            }
        }
    }

    /// Draws ingress, model and token counts for a new request.
    pub fn attributes(&mut self, tenant: &Tenant) -> RequestAttributes {
        let ingress_position = pick(&self.cumulative_ingress, self.attributes.random::<f64>());
        let model_position = pick(&self.cumulative_models, self.attributes.random::<f64>());
        let input_tokens = tenant.input_tokens.sample(&mut self.attributes);
        let output_tokens = tenant.output_tokens.sample(&mut self.attributes);
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
    fn picks_follow_cumulative_weights() {
        // Picks return positions in the weighted list, not the items.
        let table = cumulative(&[(7usize, 0.25), (8, 0.75)]);
        assert_eq!(pick(&table, 0.0), 0);
        assert_eq!(pick(&table, 0.2499), 0);
        assert_eq!(pick(&table, 0.25), 1);
        assert_eq!(pick(&table, 0.999_999_999), 1);
    }
}
