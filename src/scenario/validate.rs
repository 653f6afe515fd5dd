//! Raw scenario → validated [`Scenario`]: parse units, resolve ids to indices, apply
//! defaults, and reject anything inconsistent with a message that says what would be valid.
//!
//! Checks run in document order and stop at the first problem, so the user gets one clear
//! message at a time.

use std::collections::{BTreeMap, HashMap};

use super::entities::*;
use super::error::{FieldPath, PathError};
use super::raw::*;
use super::units::{parse_bandwidth, parse_duration, parse_rate};
use crate::distribution::{MAX_TOKENS, TimeDistribution, TokenDistribution};
use crate::engine::SimDuration;
use crate::topology::great_circle_km;

/// One-way fibre latency per kilometre of cable (light in glass: about 200,000 km/s).
pub const FIBRE_NS_PER_KM: f64 = 5_000.0;
/// Cable length over great-circle distance when a link's latency is derived. Azure's
/// published P50 RTTs (April 2024) imply 1.39 for Singapore–Hong Kong, 1.35 for
/// Singapore–Tokyo and 1.24 for West US 2–Singapore; 1.35 is the middle of that range
/// (worked in scenarios/README.md).
pub const DEFAULT_ROUTE_FACTOR: f64 = 1.35;

const MAX_REPLICAS: i64 = 1_000_000;
const MAX_BATCH: i64 = 100_000;
const MAX_QUEUE: i64 = 1_000_000_000;
const MAX_RATE_PER_S: f64 = 10_000_000.0;

type Result<T> = std::result::Result<T, PathError>;

mod profile;
pub use profile::library_profile;

fn fail<T>(path: FieldPath, message: impl Into<String>) -> Result<T> {
    Err(PathError::new(path, message))
}

/// Ids of one kind of entity, mapped to their index, with duplicates rejected.
struct IdTable {
    kind: &'static str,
    indices: HashMap<String, usize>,
    ordered: Vec<String>,
}

impl IdTable {
    fn build<'a>(kind: &'static str, ids: impl Iterator<Item = &'a str>) -> Result<Self> {
        let mut table = IdTable {
            kind,
            indices: HashMap::new(),
            ordered: Vec::new(),
        };
        for (index, id) in ids.enumerate() {
            let path = FieldPath::entity(kind, index).key("id");
            if id.trim().is_empty() {
                return fail(path, format!("a {kind} id must not be empty"));
            }
            if let Some(first) = table.indices.insert(id.to_string(), index) {
                return fail(
                    path,
                    format!(
                        "duplicate {kind} id {id:?} (first used by {kind}[{first}]); every {kind} needs its own id"
                    ),
                );
            }
            table.ordered.push(id.to_string());
        }
        Ok(table)
    }

    fn resolve(&self, id: &str, path: FieldPath) -> Result<usize> {
        match self.indices.get(id) {
            Some(&index) => Ok(index),
            None if self.ordered.is_empty() => fail(
                path,
                format!(
                    "unknown {} {id:?}: the scenario defines no {}",
                    self.kind, self.kind
                ),
            ),
            None => fail(
                path,
                format!(
                    "unknown {} {id:?}; defined {}s: {}",
                    self.kind,
                    self.kind,
                    self.ordered.join(", ")
                ),
            ),
        }
    }
}

fn parse_field_duration(text: &str, path: &FieldPath) -> Result<SimDuration> {
    parse_duration(text).map_err(|message| PathError::new(path.clone(), message))
}

fn positive_duration(text: &str, path: &FieldPath) -> Result<SimDuration> {
    let value = parse_field_duration(text, path)?;
    if value == SimDuration::ZERO {
        return fail(
            path.clone(),
            format!("{text:?} is zero; this must be longer than zero"),
        );
    }
    Ok(value)
}

fn finite_in(value: f64, low: f64, high: f64, path: &FieldPath, what: &str) -> Result<f64> {
    if !value.is_finite() || value < low || value > high {
        return fail(
            path.clone(),
            format!(
                "{} is not a valid {what}; expected a number from {} to {}",
                show(value),
                show(low),
                show(high)
            ),
        );
    }
    Ok(value)
}

fn integer_in(value: i64, low: i64, high: i64, path: &FieldPath, what: &str) -> Result<u32> {
    if value < low || value > high {
        return fail(
            path.clone(),
            format!("{value} is not a valid {what}; expected a whole number from {low} to {high}"),
        );
    }
    Ok(value as u32)
}

/// Picks a metrics interval that gives at most about 300 rows per entity.
fn default_metrics_interval(duration: SimDuration) -> SimDuration {
    const CHOICES: [u64; 8] = [1, 10, 60, 300, 900, 3600, 21_600, 86_400];
    let seconds = duration.as_secs_f64();
    let chosen = CHOICES
        .iter()
        .copied()
        .find(|&interval| seconds / interval as f64 <= 300.0)
        .unwrap_or(86_400);
    SimDuration::from_secs(chosen)
}

/// Validates `raw`. `default_name` names the run when the file does not (its file stem).
pub fn validate(raw: &RawScenario, default_name: &str) -> Result<Scenario> {
    let run = validate_run(&raw.run, default_name)?;

    if raw.site.is_empty() {
        return fail(
            FieldPath::root().key("site"),
            "the topology is empty; add at least one [[site]] (a region for deployments, and the sites where tenants' traffic enters)",
        );
    }
    let site_ids = IdTable::build("site", raw.site.iter().map(|s| s.id.as_str()))?;
    // Built for their duplicate checks: links and deployments are not referenced by id.
    IdTable::build("link", raw.link.iter().map(|l| l.id.as_str()))?;
    let gpu_ids = IdTable::build("gpu", raw.gpu.iter().map(|g| g.id.as_str()))?;
    let model_ids = IdTable::build("model", raw.model.iter().map(|m| m.id.as_str()))?;
    IdTable::build("deployment", raw.deployment.iter().map(|d| d.id.as_str()))?;
    let tenant_ids = IdTable::build("tenant", raw.tenant.iter().map(|t| t.id.as_str()))?;
    IdTable::build("policy", raw.policy.iter().map(|p| p.id.as_str()))?;

    let sites = raw
        .site
        .iter()
        .enumerate()
        .map(|(index, site)| validate_site(site, &FieldPath::entity("site", index)))
        .collect::<Result<Vec<_>>>()?;
    let links = raw
        .link
        .iter()
        .enumerate()
        .map(|(index, link)| {
            validate_link(link, &FieldPath::entity("link", index), &site_ids, &sites)
        })
        .collect::<Result<Vec<_>>>()?;
    let gpus = raw
        .gpu
        .iter()
        .enumerate()
        .map(|(index, gpu)| validate_gpu(gpu, &FieldPath::entity("gpu", index)))
        .collect::<Result<Vec<_>>>()?;
    let models = raw
        .model
        .iter()
        .enumerate()
        .map(|(index, model)| validate_model(model, &FieldPath::entity("model", index)))
        .collect::<Result<Vec<_>>>()?;
    let profile_ids = IdTable::build("profile", raw.profile.iter().map(|p| p.id.as_str()))?;
    let profiles = raw
        .profile
        .iter()
        .enumerate()
        .map(|(index, raw_profile)| {
            profile::validate_profile(
                raw_profile,
                &FieldPath::entity("profile", index),
                crate::profile::ProfileOrigin::Scenario,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    drop(profile_ids);
    if raw.deployment.is_empty() {
        return fail(
            FieldPath::root().key("deployment"),
            "no deployments: add at least one [[deployment]] so requests have somewhere to go",
        );
    }
    let deployments = raw
        .deployment
        .iter()
        .enumerate()
        .map(|(index, deployment)| {
            validate_deployment(
                deployment,
                &profiles,
                &FieldPath::entity("deployment", index),
                &site_ids,
                &sites,
                &gpu_ids,
                &model_ids,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    if raw.tenant.is_empty() {
        return fail(
            FieldPath::root().key("tenant"),
            "no tenants: add at least one [[tenant]] to generate demand",
        );
    }
    let tenants = raw
        .tenant
        .iter()
        .enumerate()
        .map(|(index, tenant)| {
            validate_tenant(
                tenant,
                &FieldPath::entity("tenant", index),
                &site_ids,
                &model_ids,
                &deployments,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let policies = raw
        .policy
        .iter()
        .enumerate()
        .map(|(index, policy)| {
            validate_policy(
                policy,
                &FieldPath::entity("policy", index),
                &tenant_ids,
                &model_ids,
                &site_ids,
                &sites,
            )
        })
        .collect::<Result<Vec<_>>>()?;

    let scenario = Scenario {
        run,
        sites,
        links,
        gpus,
        models,
        deployments,
        tenants,
        policies,
    };
    check_reachability(&scenario)?;
    check_run_size(&scenario)?;
    Ok(scenario)
}

/// Most metrics rows a run may hold (intervals × (deployments + tenants)): about 300 MB.
const MAX_TIMESERIES_ROWS: f64 = 5e6;
/// Most requests a run may be expected to generate: at a few million simulated requests per
/// second, 10¹¹ is already a day of wall time.
const MAX_EXPECTED_REQUESTS: f64 = 1e11;

/// Refuses runs whose size is absurd before they exhaust memory or time.
fn check_run_size(scenario: &Scenario) -> Result<()> {
    let run_path = FieldPath::root().key("run");
    let intervals = (scenario.run.duration.as_nanos() as f64
        / scenario.run.metrics_interval.as_nanos() as f64)
        .ceil();
    let rows = intervals * (scenario.deployments.len() + scenario.tenants.len()) as f64;
    if rows > MAX_TIMESERIES_ROWS {
        return fail(
            run_path.key("metrics_interval"),
            format!(
                "{} intervals × {} deployments and tenants = {} timeseries rows, more than {}; choose a longer metrics_interval",
                show(intervals),
                scenario.deployments.len() + scenario.tenants.len(),
                show(rows),
                show(MAX_TIMESERIES_ROWS)
            ),
        );
    }
    let expected = scenario.expected_requests();
    if expected > MAX_EXPECTED_REQUESTS {
        return fail(
            run_path.key("duration"),
            format!(
                "the tenants' rates over {} give about {} requests, more than {}; shorten the run or lower the rates",
                scenario.run.duration,
                show(expected),
                show(MAX_EXPECTED_REQUESTS)
            ),
        );
    }
    Ok(())
}

/// A number for a message: plain when readable, in exponent form when huge or tiny.
pub fn show(value: f64) -> String {
    if value == 0.0 || (1e-4..1e9).contains(&value.abs()) {
        format!("{}", (value * 1e6).round() / 1e6)
    } else {
        format!("{value:e}")
    }
}

fn validate_run(raw: &RawRun, default_name: &str) -> Result<RunConfig> {
    let path = FieldPath::root().key("run");
    let name = raw.name.clone().unwrap_or_else(|| default_name.to_string());
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || name.starts_with('.')
    {
        return fail(
            path.key("name"),
            format!(
                "{name:?} is not a valid run name; it names the output directory, so use letters, digits, '-', '_' and '.' (not first)"
            ),
        );
    }
    let duration = positive_duration(&raw.duration, &path.key("duration"))?;
    let start = match &raw.start {
        Some(text) => parse_field_duration(text, &path.key("start"))?,
        None => SimDuration::ZERO,
    };
    if start > SimDuration::from_secs(86_400) {
        return fail(
            path.key("start"),
            format!(
                "{start} is past the end of a day; give a time of day from \"0h\" to \"24h\" (UTC)"
            ),
        );
    }
    let warmup = match &raw.warmup {
        Some(text) => parse_field_duration(text, &path.key("warmup"))?,
        None => SimDuration::ZERO,
    };
    if warmup >= duration {
        return fail(
            path.key("warmup"),
            format!(
                "warm-up ({warmup}) must be shorter than the run's duration ({duration}); statistics cover only what follows it"
            ),
        );
    }
    let seed = match &raw.seed {
        None => 1,
        Some(RawInteger::Integer(seed)) if *seed >= 0 => *seed as u64,
        Some(other) => {
            let shown = match other {
                RawInteger::Integer(value) => value.to_string(),
                RawInteger::Float(value) => show(*value),
                RawInteger::Text(text) => format!("{text:?}"),
            };
            return fail(
                path.key("seed"),
                format!(
                    "{shown} is not a valid seed; expected a whole number from 0 to {}",
                    i64::MAX
                ),
            );
        }
    };
    let metrics_interval = match &raw.metrics_interval {
        Some(text) => positive_duration(text, &path.key("metrics_interval"))?,
        None => default_metrics_interval(duration),
    };
    if duration.as_nanos() / metrics_interval.as_nanos() > 1_000_000 {
        return fail(
            path.key("metrics_interval"),
            format!(
                "{metrics_interval} gives more than a million metrics rows per entity over {duration}; choose a longer interval"
            ),
        );
    }
    let strategy = raw
        .strategy
        .clone()
        .unwrap_or_else(|| "nearest".to_string());
    if let Err(message) = crate::routing::StrategySpec::parse(&strategy) {
        return fail(path.key("strategy"), message);
    }
    Ok(RunConfig {
        name,
        duration,
        start,
        warmup,
        seed,
        metrics_interval,
        strategy,
        bytes_per_token: finite_in(
            raw.bytes_per_token.unwrap_or(DEFAULT_BYTES_PER_TOKEN),
            0.0,
            1e6,
            &path.key("bytes_per_token"),
            "number of bytes per token",
        )?,
    })
}

/// About 4 characters of English text per token (OpenAI's rule of thumb), one byte each.
pub const DEFAULT_BYTES_PER_TOKEN: f64 = 4.0;

fn validate_site(raw: &RawSite, path: &FieldPath) -> Result<Site> {
    let kind = match raw.kind.as_str() {
        "region" => SiteKind::Region,
        "hub" => SiteKind::Hub,
        "ingress" => SiteKind::Ingress,
        other => {
            return fail(
                path.key("kind"),
                format!(
                    "unknown site kind {other:?}; expected \"region\" (has GPUs), \"hub\" (transit) or \"ingress\" (where tenants' traffic enters)"
                ),
            );
        }
    };
    if raw.jurisdiction.trim().is_empty() {
        return fail(
            path.key("jurisdiction"),
            "empty jurisdiction; expected a code such as \"CN\", \"US\", \"SG\"",
        );
    }
    let location = match &raw.location {
        None => None,
        Some(values) => {
            let location_path = path.key("location");
            if values.len() != 2 {
                return fail(
                    location_path,
                    format!(
                        "expected [latitude, longitude] in degrees, got {} numbers",
                        values.len()
                    ),
                );
            }
            let latitude = finite_in(values[0], -90.0, 90.0, &location_path.index(0), "latitude")?;
            let longitude = finite_in(
                values[1],
                -180.0,
                180.0,
                &location_path.index(1),
                "longitude",
            )?;
            Some((latitude, longitude))
        }
    };
    let screening = match &raw.screening {
        None => None,
        Some(_) if kind != SiteKind::Hub => {
            return fail(
                path.key("screening"),
                format!(
                    "site {:?} is a {}; screening happens at hubs (kind = \"hub\")",
                    raw.id,
                    kind.name()
                ),
            );
        }
        Some(screening) => {
            let screening_path = path.key("screening");
            Some(Screening {
                delay: screening
                    .delay
                    .as_ref()
                    .map(|delay| {
                        validate_time_distribution(delay, &screening_path.key("delay"), true)
                    })
                    .transpose()?,
                refuse_probability: finite_in(
                    screening.refuse.unwrap_or(0.0),
                    0.0,
                    1.0,
                    &screening_path.key("refuse"),
                    "refusal probability",
                )?,
                usd_per_request: finite_in(
                    screening.usd_per_request.unwrap_or(0.0),
                    0.0,
                    1e6,
                    &screening_path.key("usd_per_request"),
                    "price per request in USD",
                )?,
            })
        }
    };
    Ok(Site {
        id: raw.id.clone(),
        kind,
        jurisdiction: raw.jurisdiction.clone(),
        location,
        screening,
    })
}

fn validate_link(
    raw: &RawLink,
    path: &FieldPath,
    site_ids: &IdTable,
    sites: &[Site],
) -> Result<Link> {
    let between_path = path.key("between");
    if raw.between.len() != 2 {
        return fail(
            between_path,
            format!(
                "a link joins exactly two sites, got {}; expected [\"site-a\", \"site-b\"]",
                raw.between.len()
            ),
        );
    }
    let a = site_ids.resolve(&raw.between[0], between_path.index(0))?;
    let b = site_ids.resolve(&raw.between[1], between_path.index(1))?;
    if a == b {
        return fail(
            between_path,
            format!(
                "a link must join two different sites, got {:?} twice",
                raw.between[0]
            ),
        );
    }
    let route_factor = match raw.route_factor {
        Some(factor) => finite_in(factor, 1.0, 10.0, &path.key("route_factor"), "route factor")?,
        None => DEFAULT_ROUTE_FACTOR,
    };
    let (latency, latency_derived) = match (&raw.latency, sites[a].location, sites[b].location) {
        (Some(text), _, _) => {
            let latency = parse_field_duration(text, &path.key("latency"))?;
            if latency > SimDuration::from_secs(86_400) {
                return fail(
                    path.key("latency"),
                    format!(
                        "{text:?} is longer than a day; a one-way link latency is milliseconds to seconds"
                    ),
                );
            }
            (latency, false)
        }
        (None, Some(from), Some(to)) => {
            let nanos = great_circle_km(from, to) * FIBRE_NS_PER_KM * route_factor;
            (SimDuration::from_nanos(nanos.round() as u64), true)
        }
        (None, _, _) => {
            return fail(
                path.key("latency"),
                format!(
                    "no latency given and sites {:?} and {:?} do not both have a location; give latency = \"35ms\" (one way) or a location = [lat, lon] on both sites",
                    raw.between[0], raw.between[1]
                ),
            );
        }
    };
    let jitter = raw
        .jitter
        .as_ref()
        .map(|jitter| validate_time_distribution(jitter, &path.key("jitter"), true))
        .transpose()?;
    let bandwidth_bits_per_s = match &raw.bandwidth {
        Some(text) => {
            let bandwidth =
                parse_bandwidth(text).map_err(|m| PathError::new(path.key("bandwidth"), m))?;
            if bandwidth <= 0.0 {
                return fail(path.key("bandwidth"), "bandwidth must be positive");
            }
            Some(bandwidth)
        }
        None => None,
    };
    let usd_per_gb = match raw.usd_per_gb {
        Some(price) => finite_in(price, 0.0, 1e6, &path.key("usd_per_gb"), "price per GB")?,
        None => 0.0,
    };
    Ok(Link {
        id: raw.id.clone(),
        ends: (a, b),
        latency,
        latency_derived,
        jitter,
        bandwidth_bits_per_s,
        usd_per_gb,
        up: raw.up.unwrap_or(true),
    })
}

fn validate_gpu(raw: &RawGpu, path: &FieldPath) -> Result<GpuType> {
    let gpus = raw.gpus.unwrap_or(1);
    if gpus == 0 || gpus > 1024 {
        return fail(
            path.key("gpus"),
            format!("{gpus} GPUs per replica; expected 1 to 1024"),
        );
    }
    let memory_gb = raw
        .memory_gb
        .map(|memory| {
            finite_in(
                memory,
                1.0,
                1e6,
                &path.key("memory_gb"),
                "memory size in GB",
            )
        })
        .transpose()?;
    let usd_per_gpu_hour = match raw.usd_per_gpu_hour {
        Some(price) => finite_in(
            price,
            0.0,
            1e4,
            &path.key("usd_per_gpu_hour"),
            "price per GPU-hour",
        )?,
        None => 0.0,
    };
    Ok(GpuType {
        id: raw.id.clone(),
        gpus,
        memory_gb,
        usd_per_gpu_hour,
    })
}

fn validate_model(raw: &RawModel, path: &FieldPath) -> Result<Model> {
    let price = |value: Option<f64>, field: &str| -> Result<f64> {
        match value {
            Some(price) => finite_in(
                price,
                0.0,
                1e6,
                &path.key(field),
                "price per million tokens",
            ),
            None => Ok(0.0),
        }
    };
    Ok(Model {
        id: raw.id.clone(),
        origin: raw.origin.clone(),
        usd_per_m_input: price(raw.usd_per_m_input, "usd_per_m_input")?,
        usd_per_m_output: price(raw.usd_per_m_output, "usd_per_m_output")?,
    })
}

fn validate_deployment(
    raw: &RawDeployment,
    profiles: &[crate::profile::Profile],
    path: &FieldPath,
    site_ids: &IdTable,
    sites: &[Site],
    gpu_ids: &IdTable,
    model_ids: &IdTable,
) -> Result<Deployment> {
    let model = model_ids.resolve(&raw.model, path.key("model"))?;
    let site = site_ids.resolve(&raw.site, path.key("site"))?;
    if sites[site].kind != SiteKind::Region {
        return fail(
            path.key("site"),
            format!(
                "site {:?} is a {}; deployments run in sites of kind \"region\"",
                raw.site,
                sites[site].kind.name()
            ),
        );
    }
    let gpu = raw
        .gpu
        .as_ref()
        .map(|gpu| gpu_ids.resolve(gpu, path.key("gpu")))
        .transpose()?;
    let replicas = integer_in(
        raw.replicas,
        1,
        MAX_REPLICAS,
        &path.key("replicas"),
        "replica count",
    )?;
    let max_queue = raw
        .max_queue
        .map(|limit| integer_in(limit, 0, MAX_QUEUE, &path.key("max_queue"), "queue limit"))
        .transpose()?;
    let llm = profile::llm_service(raw, path, profiles)?;
    let (service, max_batch) = match (&raw.service, llm) {
        (Some(_), Some(_)) => {
            return fail(
                path.clone(),
                "both `service` and an LLM serving model are set; a deployment has one: `service` (a plain station) or `profile`/`llm` (batched prefill and decode)",
            );
        }
        (None, None) => {
            return fail(
                path.clone(),
                "no service model; add `profile = \"llama2-70b-h100x8-splitwise\"` (a shipped or [[profile]] performance profile), `llm = { prefill_tokens_per_s = ..., decode_step_base = ..., decode_step_per_seq = ... }`, or `service = { dist = \"exponential\", mean = \"200ms\" }` (a plain station)",
            );
        }
        (Some(service), None) => {
            if let Some(batch) = raw.max_batch
                && batch != 1
            {
                return fail(
                    path.key("max_batch"),
                    format!(
                        "{batch}: a plain `service` station serves one request per replica at a time; max_batch must be 1 (batching needs `profile` or `llm`)"
                    ),
                );
            }
            let distribution = validate_time_distribution(service, &path.key("service"), false)?;
            (ServiceModel::Plain(distribution), 1)
        }
        (None, Some(llm)) => {
            let max_batch = match raw.max_batch {
                Some(batch) => {
                    integer_in(batch, 1, MAX_BATCH, &path.key("max_batch"), "batch size")?
                }
                None => 64,
            };
            if replicas as u64 * max_batch as u64 > 100_000_000 {
                return fail(
                    path.key("max_batch"),
                    format!(
                        "{replicas} replicas × {max_batch} batch slots is more than 100 million request slots; no provider has that many"
                    ),
                );
            }
            if let Batching::Chunked { token_budget } = llm.batching
                && token_budget <= max_batch
            {
                return fail(
                    path.key("chunk_tokens"),
                    format!(
                        "a budget of {token_budget} tokens per iteration leaves no room for prompts beside {max_batch} decoding requests; chunk_tokens must exceed max_batch"
                    ),
                );
            }
            (ServiceModel::Llm(llm), max_batch)
        }
    };
    Ok(Deployment {
        id: raw.id.clone(),
        model,
        site,
        gpu,
        replicas,
        max_batch,
        max_queue,
        service,
        route_weight: finite_in(
            raw.route_weight.unwrap_or(1.0),
            0.0,
            1e12,
            &path.key("route_weight"),
            "route weight",
        )?,
    })
}

fn validate_time_distribution(
    raw: &RawTimeDistribution,
    path: &FieldPath,
    zero_allowed: bool,
) -> Result<TimeDistribution> {
    let read = |text: &str, field: &str| -> Result<SimDuration> {
        let field_path = path.key(field);
        if zero_allowed {
            parse_field_duration(text, &field_path)
        } else {
            positive_duration(text, &field_path)
        }
    };
    Ok(match raw {
        RawTimeDistribution::Exponential { mean } => {
            TimeDistribution::exponential(positive_duration(mean, &path.key("mean"))?)
        }
        RawTimeDistribution::Deterministic { mean } => TimeDistribution::Deterministic {
            value: read(mean, "mean")?,
        },
        RawTimeDistribution::Lognormal { median, p99 } => {
            let median_value = positive_duration(median, &path.key("median"))?;
            let p99_value = positive_duration(p99, &path.key("p99"))?;
            if p99_value < median_value {
                return fail(
                    path.key("p99"),
                    format!("p99 ({p99}) must be at least the median ({median})"),
                );
            }
            TimeDistribution::lognormal(median_value, p99_value)
        }
        RawTimeDistribution::Uniform { min, max } => {
            let min_value = read(min, "min")?;
            let max_value = read(max, "max")?;
            if max_value < min_value || max_value == SimDuration::ZERO {
                return fail(
                    path.key("max"),
                    format!("max ({max}) must be positive and at least min ({min})"),
                );
            }
            TimeDistribution::Uniform {
                min: min_value,
                max: max_value,
            }
        }
    })
}

fn token_count(value: f64, path: &FieldPath) -> Result<u32> {
    if !value.is_finite() || value < 1.0 || value > MAX_TOKENS as f64 || value.fract() != 0.0 {
        return fail(
            path.clone(),
            format!(
                "{} is not a valid token count; expected a whole number from 1 to {MAX_TOKENS}",
                show(value)
            ),
        );
    }
    Ok(value as u32)
}

/// Which column of a preset a token distribution draws from.
#[derive(Clone, Copy)]
enum TokenSide {
    Input,
    Output,
}

fn validate_token_distribution(
    raw: &RawTokenDistribution,
    path: &FieldPath,
    side: TokenSide,
) -> Result<TokenDistribution> {
    Ok(match raw {
        RawTokenDistribution::Preset { name } => {
            let Some(&(name, input, output)) = crate::distribution::TOKEN_PRESETS
                .iter()
                .find(|(preset, _, _)| preset == name)
            else {
                let names: Vec<&str> = crate::distribution::TOKEN_PRESETS
                    .iter()
                    .map(|(preset, _, _)| *preset)
                    .collect();
                return fail(
                    path.key("name"),
                    format!(
                        "unknown token preset {name:?}; expected one of {}",
                        names.join(", ")
                    ),
                );
            };
            let table = match side {
                TokenSide::Input => input,
                TokenSide::Output => output,
            };
            TokenDistribution::Quantiles { name, table }
        }
        RawTokenDistribution::Fixed { value } => TokenDistribution::Fixed {
            value: token_count(*value, &path.key("value"))?,
        },
        RawTokenDistribution::Uniform { min, max } => {
            let min_value = token_count(*min, &path.key("min"))?;
            let max_value = token_count(*max, &path.key("max"))?;
            if max_value < min_value {
                return fail(
                    path.key("max"),
                    format!("max ({max}) must be at least min ({min})"),
                );
            }
            TokenDistribution::Uniform {
                min: min_value,
                max: max_value,
            }
        }
        RawTokenDistribution::Lognormal { median, p99 } => {
            let median = finite_in(
                *median,
                1.0,
                MAX_TOKENS as f64,
                &path.key("median"),
                "median token count",
            )?;
            let p99 = finite_in(
                *p99,
                1.0,
                MAX_TOKENS as f64,
                &path.key("p99"),
                "p99 token count",
            )?;
            if p99 < median {
                return fail(
                    path.key("p99"),
                    format!("p99 ({p99}) must be at least the median ({median})"),
                );
            }
            TokenDistribution::lognormal(median, p99)
        }
        RawTokenDistribution::Empirical { values } => {
            if values.is_empty() {
                return fail(
                    path.key("values"),
                    "an empirical distribution needs at least one value",
                );
            }
            let values = values
                .iter()
                .enumerate()
                .map(|(index, &value)| token_count(value, &path.key("values").index(index)))
                .collect::<Result<Vec<_>>>()?;
            TokenDistribution::Empirical { values }
        }
    })
}

/// Resolves `{ id = weight }` tables to (index, weight) with weights normalised to sum to 1.
fn weights(
    raw: &BTreeMap<String, f64>,
    path: &FieldPath,
    ids: &IdTable,
    what: &str,
) -> Result<Vec<(usize, f64)>> {
    if raw.is_empty() {
        return fail(
            path.clone(),
            format!("empty; give at least one {what} with a positive weight, e.g. {{ x = 1.0 }}"),
        );
    }
    let mut resolved = Vec::with_capacity(raw.len());
    for (id, &weight) in raw {
        let index = ids.resolve(id, path.key(id))?;
        if !weight.is_finite() || weight < 0.0 {
            return fail(
                path.key(id),
                format!("weight {weight} is not valid; weights are finite numbers ≥ 0"),
            );
        }
        resolved.push((index, weight));
    }
    let total: f64 = resolved.iter().map(|(_, weight)| weight).sum();
    if total <= 0.0 || !total.is_finite() {
        return fail(
            path.clone(),
            format!("the {what} weights sum to {total}; they must sum to a positive number"),
        );
    }
    // Document order by index so that sampling does not depend on how ids sort.
    resolved.sort_by_key(|&(index, _)| index);
    Ok(resolved
        .into_iter()
        .map(|(index, weight)| (index, weight / total))
        .collect())
}

/// Azure LLM inference trace 2023, conversation: input median 1,020 / p99 4,142 tokens,
/// output median 129 / p99 601 (DESIGN.md "Reference numbers").
fn default_input_tokens() -> TokenDistribution {
    TokenDistribution::lognormal(1020.0, 4142.0)
}
fn default_output_tokens() -> TokenDistribution {
    TokenDistribution::lognormal(129.0, 601.0)
}

fn validate_tenant(
    raw: &RawTenant,
    path: &FieldPath,
    site_ids: &IdTable,
    model_ids: &IdTable,
    deployments: &[Deployment],
) -> Result<Tenant> {
    if raw.id == "*" {
        // latency_cdf.csv's rows for every tenant together use `*`.
        return fail(
            path.key("id"),
            "\"*\" is reserved (it stands for every tenant together in the outputs); choose another id",
        );
    }
    if raw.jurisdiction.trim().is_empty() {
        return fail(
            path.key("jurisdiction"),
            "empty jurisdiction; expected a code such as \"CN\", \"US\", \"SG\"",
        );
    }
    let ingress = weights(&raw.ingress, &path.key("ingress"), site_ids, "ingress site")?;
    let rate_path = path.key("rate");
    let trace = match &raw.trace {
        Some(trace) => {
            for (key, set) in [
                ("rate", raw.rate.is_some()),
                ("diurnal", raw.diurnal.is_some()),
                ("arrivals", raw.arrivals.is_some()),
                ("rate_windows", raw.rate_windows.is_some()),
                ("input_tokens", raw.input_tokens.is_some()),
                ("output_tokens", raw.output_tokens.is_some()),
            ] {
                if set {
                    return fail(
                        path.key(key),
                        format!(
                            "`{key}` cannot be combined with `trace`: a replayed tenant's arrival times and token counts come from its trace file (use the trace's `speedup` and `scale` to change its rate)"
                        ),
                    );
                }
            }
            Some(validate_trace(trace, &path.key("trace"))?)
        }
        None => None,
    };
    let windows = match &raw.rate_windows {
        None => None,
        Some(windows) => {
            for (key, set) in [
                ("rate", raw.rate.is_some()),
                ("diurnal", raw.diurnal.is_some()),
            ] {
                if set {
                    return fail(
                        path.key(key),
                        format!(
                            "`{key}` cannot be combined with `rate_windows`, which gives the rate for every time of day"
                        ),
                    );
                }
            }
            Some(validate_rate_windows(windows, &path.key("rate_windows"))?)
        }
    };
    let rate_per_s = match (&raw.rate, &trace) {
        // A placeholder until the trace is scanned (see `scenario::load_text`).
        (_, Some(_)) => 1.0,
        (None, None) if windows.is_some() => windows.as_ref().map_or(0.0, RateWindows::mean_per_s),
        (Some(RawQuantity::Number(value)), None) => *value,
        (Some(RawQuantity::Text(text)), None) => {
            parse_rate(text).map_err(|m| PathError::new(rate_path.clone(), m))?
        }
        (None, None) => {
            return fail(
                rate_path,
                "no demand: give a `rate` (e.g. \"120/s\"), `rate_windows = { from = [...], rate = [...] }`, or a `trace = { file = ..., format = ... }` to replay",
            );
        }
    };
    let arrivals = match &raw.arrivals {
        None => ArrivalProcess::Poisson,
        Some(arrivals) => {
            let arrivals_path = path.key("arrivals");
            let cv = |process: &str| -> Result<f64> {
                let Some(cv) = arrivals.cv else {
                    return fail(
                        arrivals_path.key("cv"),
                        format!(
                            "a {process} arrival process needs `cv`, the coefficient of variation of the gaps between arrivals (1 is as variable as Poisson; ServeGen's large customers show 2 to 10)"
                        ),
                    );
                };
                finite_in(
                    cv,
                    0.05,
                    50.0,
                    &arrivals_path.key("cv"),
                    "coefficient of variation",
                )
            };
            match arrivals.process.as_str() {
                "poisson" => {
                    if arrivals.cv.is_some_and(|cv| cv != 1.0) {
                        return fail(
                            arrivals_path.key("cv"),
                            "Poisson arrivals have a coefficient of variation of 1; for burstier arrivals use process = \"gamma\" or \"weibull\"",
                        );
                    }
                    ArrivalProcess::Poisson
                }
                "gamma" => ArrivalProcess::Gamma { cv: cv("gamma")? },
                "weibull" => ArrivalProcess::Weibull { cv: cv("weibull")? },
                other => {
                    return fail(
                        arrivals_path.key("process"),
                        format!(
                            "unknown arrival process {other:?}; expected \"poisson\", \"gamma\" or \"weibull\""
                        ),
                    );
                }
            }
        }
    };
    if !rate_per_s.is_finite() || rate_per_s <= 0.0 {
        return fail(
            rate_path,
            format!(
                "rate {}/s: a tenant's rate must be positive, e.g. \"120/s\"",
                show(rate_per_s)
            ),
        );
    }
    if rate_per_s > MAX_RATE_PER_S {
        return fail(
            rate_path,
            format!(
                "rate {}/s is beyond {}/s per tenant; split it into several tenants if you mean it",
                show(rate_per_s),
                show(MAX_RATE_PER_S)
            ),
        );
    }
    let diurnal = match &raw.diurnal {
        None => None,
        Some(diurnal) => {
            let diurnal_path = path.key("diurnal");
            let peak_hour = finite_in(
                diurnal.peak_hour,
                0.0,
                24.0,
                &diurnal_path.key("peak_hour"),
                "hour of the day",
            )?;
            let trough_ratio = finite_in(
                diurnal.trough_ratio,
                0.0,
                1.0,
                &diurnal_path.key("trough_ratio"),
                "trough-to-peak ratio",
            )?;
            let utc_offset_hours = finite_in(
                diurnal.utc_offset,
                -12.0,
                14.0,
                &diurnal_path.key("utc_offset"),
                "UTC offset in hours",
            )?;
            Some(Diurnal {
                peak_hour,
                trough_ratio,
                utc_offset_hours,
            })
        }
    };
    let models = weights(&raw.models, &path.key("models"), model_ids, "model")?;
    for &(model, _) in &models {
        if !deployments
            .iter()
            .any(|deployment| deployment.model == model)
        {
            return fail(
                path.key("models").key(&model_ids.ordered[model]),
                format!(
                    "no deployment serves model {:?}; add a [[deployment]] with model = {:?}",
                    model_ids.ordered[model], model_ids.ordered[model]
                ),
            );
        }
    }
    let input_tokens = match &raw.input_tokens {
        Some(distribution) => {
            validate_token_distribution(distribution, &path.key("input_tokens"), TokenSide::Input)?
        }
        None => default_input_tokens(),
    };
    let output_tokens = match &raw.output_tokens {
        Some(distribution) => validate_token_distribution(
            distribution,
            &path.key("output_tokens"),
            TokenSide::Output,
        )?,
        None => default_output_tokens(),
    };
    let slo = match &raw.slo {
        None => Slo::default(),
        Some(slo) => {
            let slo_path = path.key("slo");
            let read = |value: &Option<String>, field: &str| {
                value
                    .as_ref()
                    .map(|text| positive_duration(text, &slo_path.key(field)))
                    .transpose()
            };
            Slo {
                ttft: read(&slo.ttft, "ttft")?,
                tpot: read(&slo.tpot, "tpot")?,
                e2e: read(&slo.e2e, "e2e")?,
            }
        }
    };
    let timeout = raw
        .timeout
        .as_ref()
        .map(|text| positive_duration(text, &path.key("timeout")))
        .transpose()?;
    Ok(Tenant {
        id: raw.id.clone(),
        jurisdiction: raw.jurisdiction.clone(),
        tier: raw.tier.clone().unwrap_or_else(|| "standard".to_string()),
        ingress,
        rate_per_s,
        diurnal,
        windows,
        arrivals,
        trace,
        models,
        input_tokens,
        output_tokens,
        slo,
        timeout,
        discount: finite_in(
            raw.discount.unwrap_or(0.0),
            0.0,
            1.0,
            &path.key("discount"),
            "discount (a fraction of the list price)",
        )?,
        quota: raw
            .quota
            .as_ref()
            .map(|quota| validate_quota(quota, &path.key("quota")))
            .transpose()?,
    })
}

/// A tenant's `quota`: bursts default to one second of requests and one minute of tokens.
fn validate_quota(raw: &RawQuota, path: &FieldPath) -> Result<Quota> {
    let positive = |value: Option<f64>, key: &str, what: &str| -> Result<Option<f64>> {
        value
            .map(|value| finite_in(value, 1e-9, 1e15, &path.key(key), what))
            .transpose()
    };
    let requests_per_s = positive(raw.requests_per_s, "requests_per_s", "requests per second")?;
    let tokens_per_min = positive(raw.tokens_per_min, "tokens_per_min", "tokens per minute")?;
    let burst_requests = match raw.burst {
        Some(burst) => finite_in(burst, 1.0, 1e15, &path.key("burst"), "burst in requests")?,
        None => requests_per_s.unwrap_or(0.0).max(1.0),
    };
    let burst_tokens = match raw.token_burst {
        Some(burst) => finite_in(
            burst,
            1.0,
            1e15,
            &path.key("token_burst"),
            "burst in tokens",
        )?,
        None => tokens_per_min.unwrap_or(0.0),
    };
    let concurrency = raw
        .concurrency
        .map(|limit| {
            integer_in(
                limit,
                1,
                1_000_000_000,
                &path.key("concurrency"),
                "concurrency limit",
            )
        })
        .transpose()?;
    if requests_per_s.is_none() && tokens_per_min.is_none() && concurrency.is_none() {
        return fail(
            path.clone(),
            "an empty quota; give requests_per_s, tokens_per_min or concurrency",
        );
    }
    Ok(Quota {
        requests_per_s,
        burst_requests,
        tokens_per_min,
        burst_tokens,
        concurrency,
    })
}

/// `rate_windows = { from = ["0h", "8h", "20h"], rate = ["100/s", "300/s", "800/s"] }`.
fn validate_rate_windows(raw: &RawRateWindows, path: &FieldPath) -> Result<RateWindows> {
    if raw.from.is_empty() || raw.from.len() != raw.rate.len() {
        return fail(
            path.key("rate"),
            format!(
                "`from` has {} times of day and `rate` {} rates; give one rate per start, at least one",
                raw.from.len(),
                raw.rate.len()
            ),
        );
    }
    let mut starts_s = Vec::with_capacity(raw.from.len());
    for (index, text) in raw.from.iter().enumerate() {
        let field = path.key("from").index(index);
        let start = parse_field_duration(text, &field)?.as_secs_f64();
        if start >= 86_400.0 {
            return fail(
                field,
                format!("{text:?} is not a time of day; expected 0h to below 24h (UTC)"),
            );
        }
        if let Some(&previous) = starts_s.last()
            && start <= previous
        {
            return fail(
                field,
                format!(
                    "{text:?} must come after the previous start; list the windows in time order"
                ),
            );
        }
        starts_s.push(start);
    }
    let mut rates = Vec::with_capacity(raw.rate.len());
    for (index, quantity) in raw.rate.iter().enumerate() {
        let field = path.key("rate").index(index);
        let rate = match quantity {
            RawQuantity::Number(value) => *value,
            RawQuantity::Text(text) => {
                parse_rate(text).map_err(|m| PathError::new(field.clone(), m))?
            }
        };
        finite_in(rate, 0.0, MAX_RATE_PER_S, &field, "rate per second")?;
        rates.push(rate);
    }
    if rates.iter().all(|&rate| rate == 0.0) {
        return fail(
            path.key("rate"),
            "every window's rate is zero; at least one must be positive",
        );
    }
    Ok(RateWindows::new(starts_s, rates))
}

/// A tenant's `trace` table; the file itself is read when the scenario is loaded.
fn validate_trace(raw: &RawTrace, path: &FieldPath) -> Result<TenantTrace> {
    if raw.file.trim().is_empty() {
        return fail(path.key("file"), "empty trace file name");
    }
    let Some(format) = crate::trace::TraceFormat::parse(&raw.format) else {
        return fail(
            path.key("format"),
            format!(
                "unknown trace format {:?}; expected one of {}",
                raw.format,
                crate::trace::TraceFormat::NAMES.join(", ")
            ),
        );
    };
    let offset = raw
        .offset
        .as_ref()
        .map(|text| parse_field_duration(text, &path.key("offset")))
        .transpose()?
        .unwrap_or(SimDuration::ZERO);
    let speedup = finite_in(
        raw.speedup.unwrap_or(1.0),
        1e-6,
        1e6,
        &path.key("speedup"),
        "speed-up factor",
    )?;
    if speedup <= 0.0 {
        return fail(path.key("speedup"), "the speed-up must be more than 0");
    }
    let scale = finite_in(
        raw.scale.unwrap_or(1.0),
        0.0,
        1e4,
        &path.key("scale"),
        "rate scale",
    )?;
    if scale == 0.0 {
        return fail(
            path.key("scale"),
            "a scale of 0 replays nothing; expected more than 0 (below 1 thins the trace, above 1 copies rows)",
        );
    }
    Ok(TenantTrace {
        file: raw.file.clone(),
        path: std::path::PathBuf::from(&raw.file),
        format,
        options: crate::trace::ReplayOptions {
            offset_ns: offset.as_nanos(),
            speedup,
            scale,
            looped: raw.looped.unwrap_or(false),
        },
        summary: crate::trace::TraceSummary::default(),
    })
}

fn validate_policy(
    raw: &RawPolicy,
    path: &FieldPath,
    tenant_ids: &IdTable,
    model_ids: &IdTable,
    site_ids: &IdTable,
    sites: &[Site],
) -> Result<PolicyRule> {
    let action = match raw.action.as_str() {
        "allow" => PolicyAction::Allow,
        "deny" => PolicyAction::Deny,
        other => {
            return fail(
                path.key("action"),
                format!("unknown action {other:?}; expected \"allow\" or \"deny\""),
            );
        }
    };
    let resolve_all =
        |ids: &Option<Vec<String>>, table: &IdTable, field: &str| -> Result<Option<Vec<usize>>> {
            ids.as_ref()
                .map(|ids| {
                    ids.iter()
                        .enumerate()
                        .map(|(index, id)| table.resolve(id, path.key(field).index(index)))
                        .collect::<Result<Vec<_>>>()
                })
                .transpose()
        };
    Ok(PolicyRule {
        id: raw.id.clone(),
        action,
        tenants: resolve_all(&raw.tenant, tenant_ids, "tenant")?,
        tenant_jurisdictions: raw.tenant_jurisdiction.clone(),
        tiers: raw.tier.clone(),
        models: resolve_all(&raw.model, model_ids, "model")?,
        model_origins: raw.model_origin.clone(),
        serving_jurisdictions: raw.serving_jurisdiction.clone(),
        transit_jurisdictions: raw.transit_jurisdiction.clone(),
        require_via: match &raw.require_via {
            None => None,
            Some(_) if action == PolicyAction::Deny => {
                return fail(
                    path.key("require_via"),
                    "`require_via` belongs to an `allow` rule (allow only through these hubs); a `deny` rule refuses outright",
                );
            }
            Some(hubs) => Some(
                hubs.iter()
                    .enumerate()
                    .map(|(index, id)| {
                        let field = path.key("require_via").index(index);
                        let site = site_ids.resolve(id, field.clone())?;
                        if sites[site].kind != SiteKind::Hub {
                            return fail(
                                field,
                                format!("site {id:?} is a {}; `require_via` names hubs (sites of kind \"hub\")", sites[site].kind.name()),
                            );
                        }
                        Ok(site)
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
        },
    })
}

/// Every deployment must be reachable over links that are up from at least one ingress
/// site of a tenant: otherwise it is dead capacity, almost always a typo in a link.
fn check_reachability(scenario: &Scenario) -> Result<()> {
    let topology = crate::topology::Topology::new(&scenario.sites, &scenario.links);
    let ingress_sites = scenario.ingress_sites();
    for (index, deployment) in scenario.deployments.iter().enumerate() {
        let reachable = ingress_sites
            .iter()
            .any(|&ingress| topology.shortest_path(ingress, deployment.site).is_some());
        if !reachable {
            let ingress_names: Vec<&str> = ingress_sites
                .iter()
                .map(|&s| scenario.sites[s].id.as_str())
                .collect();
            return fail(
                FieldPath::entity("deployment", index).key("site"),
                format!(
                    "deployment {:?} at site {:?} is unreachable: no path of links that are up leads there from any tenant ingress ({}); add a [[link]] or fix its `between`",
                    deployment.id,
                    scenario.sites[deployment.site].id,
                    ingress_names.join(", ")
                ),
            );
        }
    }
    Ok(())
}
