//! Scenario files: reading, overriding, validating.
//!
//! A scenario goes through three stages, in the manner of ripgrep's flags:
//!
//! 1. **Document** — the file is parsed as TOML (or JSON, by extension) into a generic
//!    tree, and `--set PATH=VALUE` overrides are applied to that tree.
//! 2. **Raw** — the tree is deserialised into [`raw::RawScenario`], plain serde structs
//!    that deny unknown fields.
//! 3. **Validated** — [`validate::validate`] parses units, resolves ids to indices, applies
//!    defaults and checks consistency, giving a [`Scenario`] the simulator can trust.
//!
//! Any failure is a [`ScenarioError`] naming the file, the line and column where the
//! source knows them, the field path (`tenant.bytedance.rate`) and what would be valid.

mod entities;
mod error;
mod locate;
mod overrides;
pub mod raw;
mod units;
pub mod validate;

use std::path::{Path, PathBuf};

pub use entities::*;
pub use error::{FieldPath, PathError, ScenarioError, Segment};
pub use units::{parse_bandwidth, parse_duration, parse_rate};

/// The formats a scenario can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Toml,
    Json,
}

impl Format {
    /// JSON for `.json` files, TOML for anything else.
    pub fn from_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(extension) if extension.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::Toml,
        }
    }
}

/// Reads, overrides and validates the scenario in `path`.
pub fn load(path: &Path, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        let mut scenario_error = ScenarioError::new(match error.kind() {
            std::io::ErrorKind::NotFound => {
                "no such file; give the path of a scenario file (.toml or .json)".to_string()
            }
            std::io::ErrorKind::InvalidData => {
                "the file is not UTF-8 text; a scenario is a TOML or JSON text file".to_string()
            }
            _ => format!("cannot read the file: {error}"),
        });
        scenario_error.file = Some(path.to_path_buf());
        scenario_error
    })?;
    let name = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or("scenario");
    load_text(
        &text,
        Format::from_path(path),
        Some(path.to_path_buf()),
        name,
        overrides,
    )
}

/// Like [`load`], for text already in memory. `file` is used in messages only.
pub fn load_text(
    text: &str,
    format: Format,
    file: Option<PathBuf>,
    default_name: &str,
    overrides: &[String],
) -> Result<Scenario, ScenarioError> {
    let with_file = |mut error: ScenarioError| {
        error.file = file.clone();
        error
    };
    let mut document = parse_document(text, format).map_err(with_file)?;
    for spec in overrides {
        overrides::apply(&mut document, spec).map_err(|mut error| {
            error.message = format!("in --set {spec:?}: {}", error.message);
            with_file(error)
        })?;
    }
    // Located errors point into the file; overridden fields have no place there, so only
    // paths that still exist in the original text get a line and column.
    let locate = |path_error: PathError| {
        let mut error = ScenarioError::new(path_error.message);
        error.field = Some(locate::display_path(&document, &path_error.path))
            .filter(|field| !field.is_empty());
        if format == Format::Toml && !overrides::touches(overrides, &document, &path_error.path) {
            error.line_column = locate::line_column(text, &path_error.path);
        }
        with_file(error)
    };
    check_table_shapes(&document).map_err(locate)?;
    let raw: raw::RawScenario = deserialize(document.clone()).map_err(locate)?;
    let mut scenario = validate::validate(&raw, default_name).map_err(locate)?;
    let base = file
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    scan_traces(&mut scenario, &base).map_err(with_file)?;
    Ok(scenario)
}

/// Reads every tenant's trace once, from start to end: every row is checked before the
/// run starts (a bad row is reported with its line number, exit code 2), and the sums
/// give the tenant's mean rate and the replay's loop period. Relative paths are resolved
/// against the scenario file's directory.
fn scan_traces(scenario: &mut Scenario, base: &Path) -> Result<(), ScenarioError> {
    for tenant in &mut scenario.tenants {
        let Some(trace) = &mut tenant.trace else {
            continue;
        };
        let field = format!("tenant.{}.trace", tenant.id);
        trace.path = base.join(&trace.file);
        trace.summary = crate::trace::scan(&trace.path, trace.format).map_err(|error| {
            let mut scenario_error = ScenarioError::new(format!("{error}"));
            scenario_error.field = Some(field.clone());
            scenario_error
        })?;
        let summary = trace.summary;
        let options = trace.options;
        if options.offset_ns > summary.span_ns {
            let mut error = ScenarioError::new(format!(
                "offset {} is past the end of the trace ({} long); nothing would be replayed",
                crate::engine::SimDuration::from_nanos(options.offset_ns),
                crate::engine::SimDuration::from_nanos(summary.span_ns)
            ));
            error.field = Some(format!("{field}.offset"));
            return Err(error);
        }
        // Rows per simulated second over one pass: the rows spread over the loop period
        // (the span plus one mean gap; 1 s for a trace whose rows share one instant),
        // faster by the speed-up, more or fewer by the scale.
        let rows = summary.rows as f64;
        let period_s = if summary.rows > 1 && summary.span_ns > 0 {
            summary.span_ns as f64 * rows / (rows - 1.0) / 1e9
        } else {
            1.0
        };
        tenant.rate_per_s = rows * options.scale * options.speedup / period_s;
        // Without looping a trace holds its own number of requests; looped, its rate
        // is sustained for the whole run and must stay sensible.
        if options.looped && tenant.rate_per_s > 1e7 {
            let mut error = ScenarioError::new(format!(
                "replayed at {:.0} requests/s (speed-up × scale × the trace's own rate), beyond 10 million/s per tenant",
                tenant.rate_per_s
            ));
            error.field = Some(field);
            return Err(error);
        }
    }
    Ok(())
}

fn parse_document(text: &str, format: Format) -> Result<toml::Table, ScenarioError> {
    match format {
        Format::Toml => text.parse::<toml::Table>().map_err(|error| {
            let mut scenario_error =
                ScenarioError::new(format!("TOML syntax error: {}", error.message().trim()));
            scenario_error.line_column = error
                .span()
                .map(|span| locate::offset_to_line_column(text, span.start));
            scenario_error
        }),
        Format::Json => {
            let value: serde_json::Value = serde_json::from_str(text).map_err(|error| {
                let mut scenario_error = ScenarioError::new(format!("JSON syntax error: {error}"));
                scenario_error.line_column = Some((error.line(), error.column()));
                scenario_error
            })?;
            match json_to_toml(value, &FieldPath::root())? {
                toml::Value::Table(table) => Ok(table),
                _ => Err(ScenarioError::new(
                    "a JSON scenario must be an object at the top level",
                )),
            }
        }
    }
}

fn json_to_toml(value: serde_json::Value, path: &FieldPath) -> Result<toml::Value, ScenarioError> {
    use serde_json::Value as Json;
    Ok(match value {
        Json::Null => {
            let mut error =
                ScenarioError::new("null is not allowed; leave the field out to use its default");
            error.field = Some(path.to_string());
            return Err(error);
        }
        Json::Bool(flag) => toml::Value::Boolean(flag),
        Json::Number(number) => match number.as_i64() {
            Some(integer) => toml::Value::Integer(integer),
            None => toml::Value::Float(number.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(text) => toml::Value::String(text),
        Json::Array(items) => toml::Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(index, item)| json_to_toml(item, &path.index(index)))
                .collect::<Result<_, _>>()?,
        ),
        Json::Object(entries) => toml::Value::Table(
            entries
                .into_iter()
                .map(|(key, item)| {
                    let item_path = path.key(&key);
                    json_to_toml(item, &item_path).map(|value| (key, value))
                })
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// Entity kinds, and the fields of each that hold a table of named fields.
const TABLE_FIELDS: [(&str, &[&str]); 8] = [
    ("site", &["screening"]),
    ("profile", &["decode", "prefill"]),
    ("link", &["jitter"]),
    ("gpu", &[]),
    ("model", &[]),
    ("deployment", &["service", "llm"]),
    (
        "tenant",
        &[
            "diurnal",
            "slo",
            "input_tokens",
            "output_tokens",
            "arrivals",
            "trace",
            "rate_windows",
            "quota",
            "ingress",
            "models",
        ],
    ),
    ("policy", &[]),
];

/// Rejects arrays where a table of named fields belongs. Serde reads a struct from an array
/// by position, so `slo = ["1ms", "2s"]` would otherwise pass as ttft and tpot unnoticed.
fn check_table_shapes(document: &toml::Table) -> Result<(), PathError> {
    let expect_table = |value: &toml::Value, path: FieldPath| match value {
        toml::Value::Table(_) => Ok(()),
        other => Err(PathError::new(
            path,
            format!(
                "expected a table of named fields ({{ key = value, ... }}), found {}",
                other.type_str()
            ),
        )),
    };
    if let Some(run) = document.get("run") {
        expect_table(run, FieldPath::root().key("run"))?;
    }
    for (kind, fields) in TABLE_FIELDS {
        let Some(toml::Value::Array(entities)) = document.get(kind) else {
            continue;
        };
        for (index, entity) in entities.iter().enumerate() {
            let path = FieldPath::entity(kind, index);
            expect_table(entity, path.clone())?;
            for field in fields {
                if let Some(value) = entity.get(field) {
                    expect_table(value, path.key(field))?;
                }
            }
        }
    }
    Ok(())
}

/// Deserialises the document into raw structs, keeping the path of any failure.
fn deserialize(document: toml::Table) -> Result<raw::RawScenario, PathError> {
    serde_path_to_error::deserialize(toml::Value::Table(document)).map_err(|error| {
        let mut path = FieldPath::root();
        for segment in error.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => path = path.index(*index),
                serde_path_to_error::Segment::Map { key } => path = path.key(key),
                serde_path_to_error::Segment::Enum { .. }
                | serde_path_to_error::Segment::Unknown => {}
            }
        }
        // The first line only: toml appends "in `table.field`", which the path already says.
        let message = error.into_inner().to_string();
        let message = message.lines().next().unwrap_or("").trim().to_string();
        PathError::new(path, message)
    })
}
