//! `--set PATH=VALUE`: changing any field of the document before it is validated.
//!
//! PATH is `run.FIELD` or `KIND.ID.FIELD[.SUBFIELD…]`, where KIND is one of the entity
//! kinds (`site`, `link`, `gpu`, `model`, `deployment`, `tenant`, `policy`) and ID is the
//! entity's `id`. VALUE is read as a TOML value (`12`, `true`, `[1, 2]`,
//! `{ dist = "fixed", value = 5 }`); anything that is not valid TOML is taken as a string,
//! so `--set tenant.t1.rate=120/s` needs no quotes. Ids may contain dots
//! (`model.llama-3.1.origin`): the longest id that exists wins.

use super::error::{FieldPath, ScenarioError, Segment};

pub const ENTITY_KINDS: [&str; 8] = [
    "site",
    "link",
    "gpu",
    "model",
    "profile",
    "deployment",
    "tenant",
    "policy",
];

fn error(message: impl Into<String>) -> ScenarioError {
    ScenarioError::new(message)
}

/// Resolves the text of a `--set` path to a structural path into the document.
fn resolve(document: &toml::Table, path_text: &str) -> Result<FieldPath, ScenarioError> {
    let parts: Vec<&str> = path_text.split('.').collect();
    if parts.iter().any(|part| part.is_empty()) {
        return Err(error(format!(
            "{path_text:?} is not a valid path; expected run.FIELD or KIND.ID.FIELD"
        )));
    }
    let kind = parts[0];
    if kind == "run" {
        if parts.len() < 2 {
            return Err(error("expected run.FIELD, e.g. run.duration=2h"));
        }
        let mut path = FieldPath::root().key("run");
        for part in &parts[1..] {
            path = path.key(part);
        }
        return Ok(path);
    }
    if !ENTITY_KINDS.contains(&kind) {
        return Err(error(format!(
            "unknown kind {kind:?}; a path starts with run or one of {}",
            ENTITY_KINDS.join(", ")
        )));
    }
    let entities: &[toml::Value] = document
        .get(kind)
        .and_then(|value| value.as_array())
        .map(|array| array.as_slice())
        .unwrap_or(&[]);
    let id_of = |entity: &toml::Value| {
        entity
            .get("id")
            .and_then(|id| id.as_str())
            .map(str::to_string)
    };
    // Longest id first, leaving at least one part for the field.
    for id_end in (2..parts.len()).rev() {
        let id = parts[1..id_end].join(".");
        if let Some(index) = entities
            .iter()
            .position(|entity| id_of(entity).as_deref() == Some(&id))
        {
            let mut path = FieldPath::entity(kind, index);
            for part in &parts[id_end..] {
                path = path.key(part);
            }
            return Ok(path);
        }
    }
    let whole_id = parts[1..].join(".");
    if parts.len() < 3
        || entities
            .iter()
            .any(|entity| id_of(entity).as_deref() == Some(&whole_id))
    {
        return Err(error(format!(
            "{path_text:?} names an entity, not a field; expected {kind}.ID.FIELD, e.g. {kind}.<id>.<field>=VALUE"
        )));
    }
    let known: Vec<String> = entities.iter().filter_map(id_of).collect();
    Err(error(if known.is_empty() {
        format!("the scenario has no {kind} entities")
    } else {
        format!(
            "no {kind} with id {:?}; {kind} ids: {}",
            parts[1],
            known.join(", ")
        )
    }))
}

/// Reads VALUE as TOML, or as a plain string if it is not TOML.
fn parse_value(text: &str) -> toml::Value {
    let wrapped = format!("value = {text}");
    match wrapped.parse::<toml::Table>() {
        Ok(mut table) => table
            .remove("value")
            .unwrap_or_else(|| toml::Value::String(text.to_string())),
        Err(_) => toml::Value::String(text.to_string()),
    }
}

/// Applies one `PATH=VALUE` override to `document`.
pub fn apply(document: &mut toml::Table, spec: &str) -> Result<(), ScenarioError> {
    let Some((path_text, value_text)) = spec.split_once('=') else {
        return Err(error(
            "expected PATH=VALUE, e.g. --set tenant.t1.rate=120/s",
        ));
    };
    let path = resolve(document, path_text.trim())?;
    let value = parse_value(value_text.trim());
    let mut segments = path.0.iter().peekable();
    let mut current: &mut toml::Value = match segments.next() {
        Some(Segment::Key(first)) => {
            if !document.contains_key(first) {
                document.insert(first.clone(), toml::Value::Table(toml::Table::new()));
            }
            document.get_mut(first).expect("just inserted")
        }
        _ => return Err(error("empty path")),
    };
    let mut walked = String::new();
    while let Some(segment) = segments.next() {
        let is_last = segments.peek().is_none();
        match segment {
            Segment::Index(index) => {
                current = current
                    .as_array_mut()
                    .and_then(|array| array.get_mut(*index))
                    .ok_or_else(|| error("entity vanished while applying overrides"))?;
            }
            Segment::Key(key) => {
                walked.push('.');
                walked.push_str(key);
                let Some(table) = current.as_table_mut() else {
                    return Err(error(format!(
                        "cannot set a field inside {:?}, which is not a table",
                        walked.trim_start_matches('.')
                    )));
                };
                if is_last {
                    table.insert(key.clone(), value);
                    return Ok(());
                }
                current = table
                    .entry(key.clone())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            }
        }
    }
    Err(error(
        "the path names an entity, not a field; add the field name",
    ))
}

/// Whether `path` lies inside (or contains) something one of `overrides` set. Such fields
/// have no position in the file.
pub fn touches(overrides: &[String], document: &toml::Table, path: &FieldPath) -> bool {
    overrides.iter().any(|spec| {
        let Some((path_text, _)) = spec.split_once('=') else {
            return false;
        };
        let Ok(set_path) = resolve(document, path_text.trim()) else {
            return false;
        };
        let shared = set_path.0.len().min(path.0.len());
        set_path.0[..shared] == path.0[..shared]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> toml::Table {
        r#"
            [run]
            duration = "1h"
            [[tenant]]
            id = "t1"
            rate = "10/s"
            [[model]]
            id = "llama-3.1"
        "#
        .parse()
        .unwrap()
    }

    #[test]
    fn sets_run_entity_and_nested_fields() {
        let mut doc = document();
        apply(&mut doc, "run.duration=2h").unwrap();
        apply(&mut doc, "tenant.t1.rate=120/s").unwrap();
        apply(&mut doc, "tenant.t1.slo.ttft=2s").unwrap();
        apply(&mut doc, "model.llama-3.1.usd_per_m_input=0.5").unwrap();
        assert_eq!(doc["run"]["duration"].as_str(), Some("2h"));
        let tenant = &doc["tenant"].as_array().unwrap()[0];
        assert_eq!(tenant["rate"].as_str(), Some("120/s"));
        assert_eq!(tenant["slo"]["ttft"].as_str(), Some("2s"));
        assert_eq!(
            doc["model"].as_array().unwrap()[0]["usd_per_m_input"].as_float(),
            Some(0.5)
        );
    }

    #[test]
    fn unknown_ids_and_kinds_are_named() {
        let mut doc = document();
        let message = apply(&mut doc, "tenant.t9.rate=1/s").unwrap_err().message;
        assert!(
            message.contains("t9") && message.contains("t1"),
            "{message}"
        );
        let message = apply(&mut doc, "tenants.t1.rate=1/s").unwrap_err().message;
        assert!(message.contains("unknown kind"), "{message}");
        let message = apply(&mut doc, "run.duration").unwrap_err().message;
        assert!(message.contains("PATH=VALUE"), "{message}");
    }
}
