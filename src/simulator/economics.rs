//! Bytes and money: what each tenant, deployment and link carried, cost and earned.
//!
//! The ledger records, during the run:
//!
//! - **bytes per link**: a request's prompt (input tokens × `run.bytes_per_token`) on every
//!   link of its path when it is sent, and its answer (output tokens × bytes per token) on
//!   the same links when it completes (answers that were never delivered carry nothing);
//! - **revenue per tenant**: for each completed request, its tokens at the model's prices
//!   (`usd_per_m_input`, `usd_per_m_output`), less the tenant's `discount`;
//! - **tokens served per (tenant, deployment)**, to share GPU cost among tenants.
//!
//! At the end, [`Economics::new`] prices it:
//!
//! - **GPU cost** of a deployment = replicas × GPUs per replica × `usd_per_gpu_hour` × the
//!   simulated hours (capacity is paid for whether it is busy or not);
//! - **transit cost** of a link = GB carried × its `usd_per_gb`;
//! - **screening cost** of a hub = requests it screened × its `usd_per_request` (a request
//!   refused there was screened too);
//! - **cross-border GB** by jurisdiction pair: bytes on links whose ends lie in different
//!   jurisdictions, the pair named in alphabetical order (`CN-SG`);
//! - per tenant: revenue; transit cost of its own bytes; GPU cost shared by tokens served
//!   (a deployment's cost split among tenants in proportion to the input + output tokens it
//!   completed for each; a deployment that completed nothing leaves its cost unattributed);
//!   its screening; margin = revenue − its GPU share − its transit − its screening.
//!
//! Identities (a test checks them): total cost = GPU + transit + screening; GPU = Σ deployments =
//! Σ tenants' shares + unattributed; transit = Σ links = Σ tenants; cross-border GB = Σ over
//! the crossing links.
//!
//! Worked example: one H100×8 replica at $12.29 per GPU-hour for 1 hour costs $98.32; a
//! request of 1,000 input and 200 output tokens at $2.50 and $10 per million tokens earns
//! $0.0045, and at 4 bytes per token sends 4,000 bytes and receives 800 over each link.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::metrics::round6;
use crate::request::{Request, Route};
use crate::scenario::Scenario;

/// What the run recorded; priced at the end.
#[derive(Clone, Debug)]
pub struct Ledger {
    bytes_per_token: f64,
    /// `bytes_per_token` when it is a whole number (4 by default), for exact integer
    /// products (see `carry`).
    whole_bytes_per_token: Option<u64>,
    /// Bytes each tenant's requests carried on each link (both directions),
    /// `[tenant × links + link]`: whole numbers, summed exactly; priced at the end.
    tenant_link_bytes: Vec<u64>,
    links: usize,
    /// Bytes carried along each route's whole path (`[route]`), not yet added to its
    /// tenant's links: one addition per crossing instead of one per link, and no read of
    /// the path at a completion. `settle_routes` spreads them over the links; sums of
    /// whole numbers, so the totals are the same as adding link by link.
    route_bytes: Vec<u64>,
    pub tenant_revenue_usd: Vec<f64>,
    /// Screening cost of each tenant's requests, USD, and requests screened per site.
    pub tenant_screening_usd: Vec<f64>,
    pub site_screened: Vec<u64>,
    /// Input + output tokens completed, `[tenant × deployments + deployment]`.
    served_tokens: Vec<u64>,
    deployments: usize,
    /// Each deployment's model's list prices (USD per million input, output tokens) and
    /// each tenant's share of list price paid (1 − discount): read per completion, so
    /// kept side by side rather than read from the scenario's larger records.
    deployment_prices: Vec<(f64, f64)>,
    tenant_pays: Vec<f64>,
}

/// `bytes_per_token` as an integer if it is a whole number no larger than 2²¹ (validation
/// caps it at 10⁶; checked here too, since `Ledger::carry`'s exactness needs it).
fn whole_bytes_per_token(bytes_per_token: f64) -> Option<u64> {
    (bytes_per_token.fract() == 0.0 && (0.0..=2f64.powi(21)).contains(&bytes_per_token))
        .then_some(bytes_per_token as u64)
}

impl Ledger {
    /// A ledger for `scenario`, whose routes are numbered `0..routes` (see `carry_route`).
    pub fn new(scenario: &Scenario, routes: usize) -> Self {
        let bytes_per_token = scenario.run.bytes_per_token;
        Ledger {
            bytes_per_token,
            whole_bytes_per_token: whole_bytes_per_token(bytes_per_token),
            tenant_link_bytes: vec![0; scenario.tenants.len() * scenario.links.len()],
            links: scenario.links.len(),
            route_bytes: vec![0; routes],
            tenant_revenue_usd: vec![0.0; scenario.tenants.len()],
            tenant_screening_usd: vec![0.0; scenario.tenants.len()],
            site_screened: vec![0; scenario.sites.len()],
            served_tokens: vec![0; scenario.tenants.len() * scenario.deployments.len()],
            deployments: scenario.deployments.len(),
            deployment_prices: scenario
                .deployments
                .iter()
                .map(|deployment| {
                    let model = &scenario.models[deployment.model];
                    (model.usd_per_m_input, model.usd_per_m_output)
                })
                .collect(),
            tenant_pays: scenario
                .tenants
                .iter()
                .map(|tenant| 1.0 - tenant.discount)
                .collect(),
        }
    }

    /// `tokens` cross every link of `path` for `tenant`.
    ///
    /// Bytes are `tokens × bytes_per_token` rounded to the nearest whole byte. With whole
    /// bytes per token (at most 2²¹) the product of integers is the same number: below
    /// 2³² × 2²¹ = 2⁵³ every integer is an `f64`, so the float product is exact and its
    /// rounding changes nothing; the integer one skips two conversions and the rounding.
    pub fn carry(&mut self, tenant: usize, path: &[usize], tokens: u32) {
        self.add_to_links(tenant, path, self.bytes(tokens));
    }

    /// `tokens` cross every link of route `route`'s path: `carry` for the route's tenant
    /// and path, booked once `settle_routes` has run.
    #[inline]
    pub fn carry_route(&mut self, route: u32, tokens: u32) {
        self.route_bytes[route as usize] += self.bytes(tokens);
    }

    /// Adds the bytes carried along each route to its tenant's links; `routes` gives each
    /// route's (tenant, links) in route order. Call before reading the links' bytes.
    pub fn settle_routes<'a>(&mut self, routes: impl IntoIterator<Item = (usize, &'a [usize])>) {
        for (route, (tenant, path)) in routes.into_iter().enumerate() {
            let bytes = std::mem::take(&mut self.route_bytes[route]);
            self.add_to_links(tenant, path, bytes);
        }
    }

    fn add_to_links(&mut self, tenant: usize, path: &[usize], bytes: u64) {
        let tenant_links = &mut self.tenant_link_bytes[tenant * self.links..][..self.links];
        for &link in path {
            tenant_links[link] += bytes;
        }
    }

    /// `tokens × bytes_per_token`, rounded to a whole byte (see `carry`).
    #[inline]
    fn bytes(&self, tokens: u32) -> u64 {
        match self.whole_bytes_per_token {
            Some(whole) => tokens as u64 * whole,
            None => crate::engine::round_half_away_u64(tokens as f64 * self.bytes_per_token),
        }
    }

    /// Bytes carried on each link, all tenants.
    pub fn link_bytes(&self) -> Vec<u64> {
        let mut total = vec![0; self.links];
        for tenant_links in self.tenant_link_bytes.chunks(self.links.max(1)) {
            for (sum, bytes) in total.iter_mut().zip(tenant_links) {
                *sum += bytes;
            }
        }
        total
    }

    /// What `tenant`'s bytes cost at the links' prices, USD.
    pub fn tenant_transit_usd(&self, scenario: &Scenario, tenant: usize) -> f64 {
        let tenant_links = &self.tenant_link_bytes[tenant * self.links..][..self.links];
        scenario
            .links
            .iter()
            .zip(tenant_links)
            .map(|(link, &bytes)| bytes as f64 / 1e9 * link.usd_per_gb)
            .fold(0.0, |a, b| a + b)
    }

    /// A hub screened one of `tenant`'s requests at `usd` per request.
    pub fn screened(&mut self, tenant: usize, site: usize, usd: f64) {
        self.site_screened[site] += 1;
        self.tenant_screening_usd[tenant] += usd;
    }

    /// A request completed: it pays for its tokens, and its deployment served them.
    pub fn completed(&mut self, request: &Request, route: &Route) {
        let tenant = route.tenant as usize;
        let deployment = route.deployment as usize;
        let (usd_per_m_input, usd_per_m_output) = self.deployment_prices[deployment];
        let list_price = request.input_tokens as f64 * usd_per_m_input / 1e6
            + request.output_tokens as f64 * usd_per_m_output / 1e6;
        self.tenant_revenue_usd[tenant] += list_price * self.tenant_pays[tenant];
        self.served_tokens[tenant * self.deployments + deployment] +=
            request.input_tokens as u64 + request.output_tokens as u64;
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct CostBreakdown {
    pub gpu: f64,
    pub transit: f64,
    pub screening: f64,
    pub total: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct HubEconomics {
    pub screened: u64,
    pub cost_usd: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct TenantEconomics {
    pub revenue_usd: f64,
    pub gpu_usd: f64,
    pub transit_usd: f64,
    pub screening_usd: f64,
    pub margin_usd: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct LinkEconomics {
    pub gb: f64,
    pub cost_usd: f64,
    /// Mean use of the link's bandwidth over the run (bytes × 8 ÷ bandwidth ÷ duration);
    /// null for a link without a bandwidth.
    pub utilization: Option<f64>,
}

/// The priced ledger, as written to summary.json (`economics`) and the CSVs.
#[derive(Clone, Debug, Serialize)]
pub struct Economics {
    pub cost_usd: CostBreakdown,
    pub revenue_usd: f64,
    pub margin_usd: f64,
    /// GB on border-crossing links, by jurisdiction pair (alphabetical, `CN-SG`).
    pub cross_border_gb: BTreeMap<String, f64>,
    /// GPU cost of deployments that completed no request, so shared with no tenant.
    pub unattributed_gpu_usd: f64,
    pub deployments_gpu_usd: BTreeMap<String, f64>,
    pub tenants: BTreeMap<String, TenantEconomics>,
    pub links: BTreeMap<String, LinkEconomics>,
    /// Hubs that screen: requests screened and what it cost.
    pub hubs: BTreeMap<String, HubEconomics>,
}

impl Economics {
    pub fn new(scenario: &Scenario, ledger: &Ledger) -> Self {
        let hours = scenario.run.duration.as_secs_f64() / 3600.0;
        let gpu_cost: Vec<f64> = scenario
            .deployments
            .iter()
            .map(|deployment| {
                deployment.gpu.map_or(0.0, |gpu| {
                    let gpu = &scenario.gpus[gpu];
                    deployment.replicas as f64 * gpu.gpus as f64 * gpu.usd_per_gpu_hour * hours
                })
            })
            .collect();
        let link_bytes = ledger.link_bytes();
        let link_cost: Vec<f64> = scenario
            .links
            .iter()
            .zip(&link_bytes)
            .map(|(link, &bytes)| bytes as f64 / 1e9 * link.usd_per_gb)
            .collect();
        // Each deployment's cost shared by the tokens it served for each tenant.
        let deployments = scenario.deployments.len();
        let mut tenant_gpu = vec![0.0; scenario.tenants.len()];
        let mut unattributed = 0.0;
        for (deployment, &cost) in gpu_cost.iter().enumerate() {
            let served: u64 = (0..scenario.tenants.len())
                .map(|tenant| ledger.served_tokens[tenant * deployments + deployment])
                .sum();
            if served == 0 {
                unattributed += cost;
                continue;
            }
            for (tenant, share) in tenant_gpu.iter_mut().enumerate() {
                *share += cost * ledger.served_tokens[tenant * deployments + deployment] as f64
                    / served as f64;
            }
        }
        let mut cross_border_gb = BTreeMap::new();
        for (link, &bytes) in scenario.links.iter().zip(&link_bytes) {
            let (a, b) = (
                &scenario.sites[link.ends.0].jurisdiction,
                &scenario.sites[link.ends.1].jurisdiction,
            );
            if a != b {
                let pair = if a < b {
                    format!("{a}-{b}")
                } else {
                    format!("{b}-{a}")
                };
                *cross_border_gb.entry(pair).or_insert(0.0) += bytes as f64 / 1e9;
            }
        }
        let gpu: f64 = gpu_cost.iter().fold(0.0, |a, b| a + b);
        let transit: f64 = link_cost.iter().fold(0.0, |a, b| a + b);
        let revenue: f64 = ledger.tenant_revenue_usd.iter().fold(0.0, |a, b| a + b);
        let hubs: BTreeMap<String, HubEconomics> = scenario
            .sites
            .iter()
            .enumerate()
            .filter_map(|(index, site)| {
                let screening = site.screening.as_ref()?;
                let screened = ledger.site_screened[index];
                Some((
                    site.id.clone(),
                    HubEconomics {
                        screened,
                        cost_usd: screened as f64 * screening.usd_per_request,
                    },
                ))
            })
            .collect();
        let screening: f64 = hubs
            .values()
            .map(|hub| hub.cost_usd)
            .fold(0.0, |a, b| a + b);
        let seconds = scenario.run.duration.as_secs_f64();
        Economics {
            cost_usd: CostBreakdown {
                gpu: round6(gpu),
                transit: round6(transit),
                screening: round6(screening),
                total: round6(gpu + transit + screening),
            },
            revenue_usd: round6(revenue),
            margin_usd: round6(revenue - gpu - transit - screening),
            cross_border_gb: cross_border_gb
                .into_iter()
                .map(|(pair, gb)| (pair, round6(gb)))
                .collect(),
            unattributed_gpu_usd: round6(unattributed),
            deployments_gpu_usd: scenario
                .deployments
                .iter()
                .zip(&gpu_cost)
                .map(|(deployment, &cost)| (deployment.id.clone(), round6(cost)))
                .collect(),
            tenants: scenario
                .tenants
                .iter()
                .enumerate()
                .map(|(index, tenant)| {
                    let revenue = ledger.tenant_revenue_usd[index];
                    let transit = ledger.tenant_transit_usd(scenario, index);
                    let gpu = tenant_gpu[index];
                    let screening = ledger.tenant_screening_usd[index];
                    (
                        tenant.id.clone(),
                        TenantEconomics {
                            revenue_usd: round6(revenue),
                            gpu_usd: round6(gpu),
                            transit_usd: round6(transit),
                            screening_usd: round6(screening),
                            margin_usd: round6(revenue - gpu - transit - screening),
                        },
                    )
                })
                .collect(),
            links: scenario
                .links
                .iter()
                .enumerate()
                .map(|(index, link)| {
                    let bytes = link_bytes[index] as f64;
                    (
                        link.id.clone(),
                        LinkEconomics {
                            gb: round6(bytes / 1e9),
                            cost_usd: round6(link_cost[index]),
                            utilization: link.bandwidth_bits_per_s.map(|bandwidth| {
                                round6(bytes * 8.0 / bandwidth / seconds.max(1e-9))
                            }),
                        },
                    )
                })
                .collect(),
            hubs: hubs
                .into_iter()
                .map(|(id, hub)| {
                    (
                        id,
                        HubEconomics {
                            screened: hub.screened,
                            cost_usd: round6(hub.cost_usd),
                        },
                    )
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::round_half_away_u64;

    /// The integer product `carry` uses with whole bytes per token is the rounded float
    /// product, at the extremes of both factors and in between.
    #[test]
    fn whole_bytes_per_token_multiply_exactly() {
        for bytes_per_token in [0.0, 1.0, 4.0, 7.0, 1e6, 2f64.powi(21)] {
            let whole = whole_bytes_per_token(bytes_per_token)
                .unwrap_or_else(|| panic!("{bytes_per_token} is whole"));
            let mut tokens = 0xFFFF_FFFFu32;
            let mut checked = 0;
            loop {
                let expected = round_half_away_u64(tokens as f64 * bytes_per_token);
                let actual = tokens as u64 * whole;
                assert_eq!(
                    actual, expected,
                    "{tokens} tokens × {bytes_per_token} bytes: integer vs rounded float"
                );
                checked += 1;
                if tokens == 0 {
                    break;
                }
                // Down through every scale to 0 (by 0.1%, then by one below 1,000).
                tokens = (tokens as u64 * 999 / 1000) as u32;
            }
            assert!(checked > 15_000, "{checked} token counts checked");
        }
        for not_whole in [0.5, 3.7, 2f64.powi(21) + 1.0, -4.0, f64::NAN] {
            assert_eq!(whole_bytes_per_token(not_whole), None, "{not_whole}");
        }
    }

    /// Bytes booked by route and spread over the links at the end come to what booking
    /// each crossing link by link gives, tenant by tenant and link by link, with whole and
    /// fractional bytes per token.
    #[test]
    fn bytes_by_route_settle_to_the_bytes_by_link() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.toml");
        for bytes_per_token in ["4", "2.7"] {
            let overrides = [format!("run.bytes_per_token={bytes_per_token}")];
            let scenario = crate::scenario::load(&path, &overrides).expect("the quickstart loads");
            let (tenants, links) = (scenario.tenants.len(), scenario.links.len());
            assert!(
                tenants >= 2 && links >= 3,
                "{tenants} tenants, {links} links"
            );
            // Three routes: (tenant, links of its path), one sharing a link with another.
            let routes: Vec<(usize, Vec<usize>)> =
                vec![(0, vec![0, 1]), (1, vec![1, 2]), (0, vec![2])];
            let crossings = [(0u32, 1_000u32), (1, 333), (0, 7), (2, 12_345), (1, 1)];
            let mut by_link = Ledger::new(&scenario, routes.len());
            let mut by_route = Ledger::new(&scenario, routes.len());
            for &(route, tokens) in &crossings {
                let (tenant, path) = &routes[route as usize];
                by_link.carry(*tenant, path, tokens);
                by_route.carry_route(route, tokens);
            }
            assert!(by_route.tenant_link_bytes.iter().all(|&bytes| bytes == 0));
            by_route.settle_routes(routes.iter().map(|(tenant, path)| (*tenant, &path[..])));
            assert_eq!(
                by_route.tenant_link_bytes, by_link.tenant_link_bytes,
                "bytes per token {bytes_per_token}: by route (left), by link (right)"
            );
            assert!(by_link.link_bytes()[1] > 0, "a link both routes cross");
            assert!(
                by_route.route_bytes.iter().all(|&bytes| bytes == 0),
                "settled once"
            );
        }
    }
}
