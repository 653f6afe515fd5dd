//! Compliance rules as data: ordered allow/deny rules evaluated per request and path.
//!
//! The first rule whose matchers all match decides; a request no rule matches is allowed.
//! A matcher left out of a rule matches anything. An `allow` rule with `require_via`
//! allows only paths through one of its hubs: on any other path it denies. Rules are pure
//! functions of the scenario, the tenant, the model, where it would be served and the
//! path it would take there.
//!
//! Example: `{ id = "us-models-via-sg", action = "allow", tenant_jurisdiction = ["CN"],
//! model_origin = ["US"], require_via = ["hub-sg"] }` lets CN tenants reach US-origin
//! models only through Singapore; the same request on a path through Hong Kong is refused
//! with reason `policy:us-models-via-sg`.

use crate::scenario::{ModelIndex, PolicyAction, PolicyRule, Scenario, SiteIndex, TenantIndex};

fn matches_text(list: &Option<Vec<String>>, value: &str) -> bool {
    list.as_ref()
        .is_none_or(|list| list.iter().any(|item| item == value))
}

fn matches_index(list: &Option<Vec<usize>>, value: usize) -> bool {
    list.as_ref().is_none_or(|list| list.contains(&value))
}

/// Whether `rule` applies to `tenant` asking for `model` served at `site`, reached over a
/// path visiting `path_sites` (ingress first, the serving site last).
pub fn rule_matches(
    rule: &PolicyRule,
    scenario: &Scenario,
    tenant: TenantIndex,
    model: ModelIndex,
    site: SiteIndex,
    path_sites: &[SiteIndex],
) -> bool {
    let tenant_entity = &scenario.tenants[tenant];
    let model_origin = scenario.models[model].origin.as_deref().unwrap_or("");
    matches_index(&rule.tenants, tenant)
        && matches_text(&rule.tenant_jurisdictions, &tenant_entity.jurisdiction)
        && matches_text(&rule.tiers, &tenant_entity.tier)
        && matches_index(&rule.models, model)
        && matches_text(&rule.model_origins, model_origin)
        && matches_text(
            &rule.serving_jurisdictions,
            &scenario.sites[site].jurisdiction,
        )
        && rule.transit_jurisdictions.as_ref().is_none_or(|list| {
            transit(path_sites)
                .iter()
                .any(|&site| list.contains(&scenario.sites[site].jurisdiction))
        })
}

/// The sites a path passes through, without its two ends.
fn transit(path_sites: &[SiteIndex]) -> &[SiteIndex] {
    match path_sites.len() {
        0..=2 => &[],
        n => &path_sites[1..n - 1],
    }
}

/// The index of the rule that denies this combination on this path, or `None` if it is
/// allowed.
pub fn denying_rule(
    scenario: &Scenario,
    tenant: TenantIndex,
    model: ModelIndex,
    site: SiteIndex,
    path_sites: &[SiteIndex],
) -> Option<usize> {
    let (index, rule) = scenario
        .policies
        .iter()
        .enumerate()
        .find(|(_, rule)| rule_matches(rule, scenario, tenant, model, site, path_sites))?;
    let refused = match (rule.action, &rule.require_via) {
        (PolicyAction::Deny, _) => true,
        (PolicyAction::Allow, None) => false,
        (PolicyAction::Allow, Some(hubs)) => {
            !transit(path_sites).iter().any(|site| hubs.contains(site))
        }
    };
    refused.then_some(index)
}
