//! Compliance rules as data: ordered allow/deny rules evaluated per request.
//!
//! The first rule whose matchers all match decides; a request no rule matches is allowed.
//! A matcher left out of a rule matches anything. Rules are pure functions of the
//! scenario, the tenant, the model and where it would be served.

use crate::scenario::{ModelIndex, PolicyAction, PolicyRule, Scenario, SiteIndex, TenantIndex};

fn matches_text(list: &Option<Vec<String>>, value: &str) -> bool {
    list.as_ref()
        .is_none_or(|list| list.iter().any(|item| item == value))
}

fn matches_index(list: &Option<Vec<usize>>, value: usize) -> bool {
    list.as_ref().is_none_or(|list| list.contains(&value))
}

/// Whether `rule` applies to `tenant` asking for `model` served at `site`.
pub fn rule_matches(
    rule: &PolicyRule,
    scenario: &Scenario,
    tenant: TenantIndex,
    model: ModelIndex,
    site: SiteIndex,
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
}

/// The index of the rule that denies this combination, or `None` if it is allowed.
pub fn denying_rule(
    scenario: &Scenario,
    tenant: TenantIndex,
    model: ModelIndex,
    site: SiteIndex,
) -> Option<usize> {
    let (index, rule) = scenario
        .policies
        .iter()
        .enumerate()
        .find(|(_, rule)| rule_matches(rule, scenario, tenant, model, site))?;
    (rule.action == PolicyAction::Deny).then_some(index)
}
