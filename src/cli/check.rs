//! `strait check SCENARIO [--set PATH=VALUE]...`: validate and print a one-screen summary
//! of what would run, without running it.

use std::io::Write;

use super::{CliError, ScenarioArgs, print_to_stdout};
use crate::report::grouped;
use crate::scenario::{Scenario, ServiceModel};
use crate::topology::Topology;

#[derive(clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

pub fn execute(args: CheckArgs) -> Result<(), CliError> {
    let scenario = crate::scenario::load(&args.scenario.scenario, &args.scenario.overrides)?;
    print_to_stdout(|out| print_check(out, &scenario))
}

fn print_check(out: &mut impl Write, scenario: &Scenario) -> std::io::Result<()> {
    let run = &scenario.run;
    writeln!(
        out,
        "scenario {} · ok · {} s (warm-up {} s) · seed {} · strategy {} · metrics every {} s",
        run.name,
        run.duration.as_secs_f64(),
        run.warmup.as_secs_f64(),
        run.seed,
        run.strategy,
        run.metrics_interval.as_secs_f64()
    )?;
    writeln!(out, "\nsites ({}):", scenario.sites.len())?;
    for site in &scenario.sites {
        let location = site
            .location
            .map(|(lat, lon)| format!("({lat:.2}, {lon:.2})"))
            .unwrap_or_default();
        writeln!(
            out,
            "  {:<16} {:<8} {:<4} {location}",
            site.id,
            site.kind.name(),
            site.jurisdiction
        )?;
    }
    writeln!(out, "\nlinks ({}):", scenario.links.len())?;
    for link in &scenario.links {
        let (a, b) = (&scenario.sites[link.ends.0], &scenario.sites[link.ends.1]);
        writeln!(
            out,
            "  {:<16} {} ↔ {}  {:.1} ms one way{}{}{}",
            link.id,
            a.id,
            b.id,
            link.latency.as_millis_f64(),
            if link.latency_derived {
                " (from distance)"
            } else {
                ""
            },
            if link.crosses_border(&scenario.sites) {
                format!("  border {}–{}", a.jurisdiction, b.jurisdiction)
            } else {
                String::new()
            },
            if link.up { "" } else { "  DOWN" },
        )?;
    }
    writeln!(out, "\ndeployments ({}):", scenario.deployments.len())?;
    for deployment in &scenario.deployments {
        let service = match &deployment.service {
            ServiceModel::Plain(distribution) => format!("plain {}", distribution.describe()),
            ServiceModel::Llm(llm) => format!(
                "llm {}, max_batch {}, {}, KV cache {}\n{:<18}decode {}; prefill {}",
                llm.profile.describe_origin(),
                deployment.max_batch,
                llm.batching.describe(),
                match llm.kv_cache_tokens {
                    Some(tokens) => format!("{tokens} tokens per replica"),
                    None => "unlimited".into(),
                },
                "",
                llm.profile.describe_decode(deployment.max_batch),
                llm.profile.describe_prefill(),
            ),
        };
        writeln!(
            out,
            "  {:<16} {} at {} × {} replicas: {service}",
            deployment.id,
            scenario.models[deployment.model].id,
            scenario.sites[deployment.site].id,
            deployment.replicas
        )?;
    }
    for index in 0..scenario.deployments.len() {
        let Some(prediction) = crate::queueing::predict(scenario, index) else {
            continue;
        };
        let wait = match prediction.mean_queue_wait {
            Some(wait) => format!("mean queue wait {:.3} ms", wait.as_millis_f64()),
            None => "unstable: the queue grows without bound".to_string(),
        };
        writeln!(
            out,
            "  theory for {}: {} with λ = {}/s, utilisation {:.4}, {wait}",
            scenario.deployments[index].id,
            prediction.kendall,
            prediction.arrival_rate_per_s,
            prediction.utilization
        )?;
    }
    writeln!(out, "\ntenants ({}):", scenario.tenants.len())?;
    for tenant in &scenario.tenants {
        let ingress: Vec<String> = tenant
            .ingress
            .iter()
            .map(|&(site, weight)| format!("{} {:.0}%", scenario.sites[site].id, weight * 100.0))
            .collect();
        let models: Vec<String> = tenant
            .models
            .iter()
            .map(|&(model, weight)| format!("{} {:.0}%", scenario.models[model].id, weight * 100.0))
            .collect();
        let demand = match &tenant.trace {
            Some(trace) => {
                let summary = &trace.summary;
                let rows = summary.rows.max(1) as f64;
                format!(
                    "trace {} ({}, {} rows over {}, tokens in {:.0} / out {:.0} mean; offset {}, speed-up {}, scale {}{}): {:.3}/s mean",
                    trace.file,
                    trace.format.name(),
                    summary.rows,
                    crate::engine::SimDuration::from_nanos(summary.span_ns),
                    summary.input_tokens as f64 / rows,
                    summary.output_tokens as f64 / rows,
                    crate::engine::SimDuration::from_nanos(trace.options.offset_ns),
                    trace.options.speedup,
                    trace.options.scale,
                    if trace.options.looped { ", looped" } else { "" },
                    tenant.rate_per_s
                )
            }
            None => format!(
                "{}/s mean{}, {} arrivals; tokens in {:.0} / out {:.0} mean",
                tenant.rate_per_s,
                match (&tenant.diurnal, &tenant.windows) {
                    (Some(_), _) => " (diurnal)",
                    (None, Some(_)) => " (by time-of-day windows)",
                    (None, None) => "",
                },
                tenant.arrivals.describe(),
                tenant.input_tokens.mean(),
                tenant.output_tokens.mean()
            ),
        };
        writeln!(
            out,
            "  {:<16} {} {:<10} {demand}; from {}; models {}",
            tenant.id,
            tenant.jurisdiction,
            tenant.tier,
            ingress.join(", "),
            models.join(", "),
        )?;
    }
    print_routes(out, scenario)?;
    if !scenario.policies.is_empty() {
        writeln!(
            out,
            "\npolicy rules ({}), first match decides, default allow:",
            scenario.policies.len()
        )?;
        for rule in &scenario.policies {
            let mut matchers = Vec::new();
            let mut add = |name: &str, values: Option<Vec<String>>| {
                if let Some(values) = values {
                    matchers.push(format!("{name} in [{}]", values.join(", ")));
                }
            };
            let names = |indices: &Option<Vec<usize>>, ids: &dyn Fn(usize) -> String| {
                indices
                    .as_ref()
                    .map(|list| list.iter().map(|&i| ids(i)).collect::<Vec<_>>())
            };
            add(
                "tenant",
                names(&rule.tenants, &|i| scenario.tenants[i].id.clone()),
            );
            add("tenant_jurisdiction", rule.tenant_jurisdictions.clone());
            add("tier", rule.tiers.clone());
            add(
                "model",
                names(&rule.models, &|i| scenario.models[i].id.clone()),
            );
            add("model_origin", rule.model_origins.clone());
            add("serving_jurisdiction", rule.serving_jurisdictions.clone());
            let action = match rule.action {
                crate::scenario::PolicyAction::Allow => "allow",
                crate::scenario::PolicyAction::Deny => "deny",
            };
            let condition = if matchers.is_empty() {
                "every request".to_string()
            } else {
                matchers.join(" and ")
            };
            writeln!(out, "  {:<24} {action} where {condition}", rule.id)?;
        }
    }
    writeln!(
        out,
        "\nexpected requests: {}",
        grouped(scenario.expected_requests().round() as u64)
    )
}

/// The compliance view: for each tenant, ingress and model, every path to every deployment
/// of the model — the shortest, and the shortest through each hub — with its one-way
/// latency, the sites it passes and whether policy allows it (and which rule refuses it).
fn print_routes(out: &mut impl Write, scenario: &Scenario) -> std::io::Result<()> {
    let topology = Topology::new(&scenario.sites, &scenario.links);
    let hubs: Vec<usize> = (0..scenario.sites.len())
        .filter(|&site| scenario.sites[site].kind == crate::scenario::SiteKind::Hub)
        .collect();
    writeln!(
        out,
        "\nroutes (tenant, ingress, model → deployment: one-way latency, sites passed; policy):"
    )?;
    for (tenant_index, tenant) in scenario.tenants.iter().enumerate() {
        for &(ingress, _) in &tenant.ingress {
            for &(model, _) in &tenant.models {
                writeln!(
                    out,
                    "  {} ({}, {}) @ {} · {}",
                    tenant.id,
                    tenant.jurisdiction,
                    tenant.tier,
                    scenario.sites[ingress].id,
                    scenario.models[model].id,
                )?;
                let mut allowed = 0;
                for deployment in scenario.deployments.iter().filter(|d| d.model == model) {
                    for path in topology.paths_via(ingress, deployment.site, &hubs) {
                        let transit = match path.sites.len() {
                            0..=2 => &[][..],
                            n => &path.sites[1..n - 1],
                        };
                        let passed: Vec<&str> = transit
                            .iter()
                            .map(|&site| scenario.sites[site].id.as_str())
                            .collect();
                        let via = if passed.is_empty() {
                            "direct".to_string()
                        } else {
                            format!("via {}", passed.join(", "))
                        };
                        let verdict = match crate::policy::denying_rule(
                            scenario,
                            tenant_index,
                            model,
                            deployment.site,
                            &path.sites,
                        ) {
                            Some(rule) => format!("denied by {}", scenario.policies[rule].id),
                            None => {
                                allowed += 1;
                                "allowed".to_string()
                            }
                        };
                        writeln!(
                            out,
                            "      → {} ({}) {:.1} ms {via}: {verdict}",
                            deployment.id,
                            scenario.sites[deployment.site].jurisdiction,
                            path.latency.as_millis_f64(),
                        )?;
                    }
                }
                if allowed == 0 {
                    writeln!(
                        out,
                        "      no allowed path: these requests will be rejected"
                    )?;
                }
            }
        }
    }
    Ok(())
}
