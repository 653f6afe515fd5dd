//! Performance profiles: `[[profile]]` tables and the shipped library → [`Profile`], and
//! a deployment's choice of profile, KV-cache capacity and batching.

use super::{Result, fail, integer_in, parse_field_duration, show};
use crate::engine::SimDuration;
use crate::profile::{DecodeCurve, PiecewiseLinear, PrefillCurve, Profile, ProfileOrigin, library};
use crate::scenario::entities::{Batching, LlmService};
use crate::scenario::error::{FieldPath, PathError};
use crate::scenario::raw::{RawDeployment, RawInteger, RawLlm, RawPrefillCurve, RawProfile};
use crate::scenario::units::parse_duration_nanos;

/// Most KV-cache tokens a replica may hold: 10¹⁰ is far beyond any GPU server's memory.
const MAX_KV_CACHE_TOKENS: u64 = 10_000_000_000;
/// Largest chunked-prefill token budget per iteration.
const MAX_CHUNK_TOKENS: i64 = 10_000_000;
/// vLLM's default `max_num_batched_tokens` with chunked prefill (v0.6+, online serving).
pub const DEFAULT_CHUNK_TOKENS: u32 = 2048;

/// A whole number written as an integer (or a float with no fraction), within bounds.
pub(super) fn whole_number(
    raw: &RawInteger,
    low: u64,
    high: u64,
    path: &FieldPath,
    what: &str,
) -> Result<u64> {
    let value = match raw {
        RawInteger::Integer(value) if *value >= 0 => Some(*value as u64),
        RawInteger::Float(value) if value.fract() == 0.0 && *value >= 0.0 && *value < 1.8e19 => {
            Some(*value as u64)
        }
        _ => None,
    };
    match value {
        Some(value) if (low..=high).contains(&value) => Ok(value),
        _ => {
            let shown = match raw {
                RawInteger::Integer(value) => value.to_string(),
                RawInteger::Float(value) => show(*value),
                RawInteger::Text(text) => format!("{text:?}"),
            };
            fail(
                path.clone(),
                format!(
                    "{shown} is not a valid {what}; expected a whole number from {low} to {high}"
                ),
            )
        }
    }
}

fn nanos_field(text: &str, path: &FieldPath) -> Result<f64> {
    parse_duration_nanos(text).map_err(|message| PathError::new(path.clone(), message))
}

/// Pairs `sizes` with durations into a table, checking lengths and order.
fn table(
    sizes: &[f64],
    times: &[String],
    path: &FieldPath,
    size_key: &str,
    time_key: &str,
) -> Result<PiecewiseLinear> {
    if sizes.len() != times.len() || sizes.is_empty() {
        return fail(
            path.key(time_key),
            format!(
                "`{size_key}` has {} entries and `{time_key}` {}; a table needs one time per size, at least one",
                sizes.len(),
                times.len()
            ),
        );
    }
    let points = sizes
        .iter()
        .zip(times)
        .enumerate()
        .map(|(index, (&size, time))| {
            Ok((size, nanos_field(time, &path.key(time_key).index(index))?))
        })
        .collect::<Result<Vec<_>>>()?;
    PiecewiseLinear::new(points).map_err(|message| PathError::new(path.key(size_key), message))
}

fn decode_curve(
    raw: &crate::scenario::raw::RawDecodeCurve,
    path: &FieldPath,
) -> Result<DecodeCurve> {
    let curve = match (&raw.batch, &raw.step, &raw.base, &raw.per_seq) {
        (Some(batch), Some(step), None, None) => {
            if let Some(&bad) = batch.iter().find(|&&b| !(b >= 1.0 && b.fract() == 0.0)) {
                return fail(
                    path.key("batch"),
                    format!(
                        "{} is not a batch size; expected whole numbers of 1 or more",
                        show(bad)
                    ),
                );
            }
            DecodeCurve::Table(table(batch, step, path, "batch", "step")?)
        }
        (None, None, Some(base), Some(per_seq)) => DecodeCurve::Linear {
            base: parse_field_duration(base, &path.key("base"))?,
            per_seq: parse_field_duration(per_seq, &path.key("per_seq"))?,
        },
        _ => {
            return fail(
                path.clone(),
                "expected either a measured table `{ batch = [1, 8, …], step = [\"29.8ms\", \"32.5ms\", …] }` or the formula `{ base = \"4ms\", per_seq = \"0.32ms\" }`",
            );
        }
    };
    if curve.step(1) == SimDuration::ZERO {
        return fail(
            path.clone(),
            "decode steps would take no time; a step must be longer than zero",
        );
    }
    Ok(curve)
}

fn prefill_curve(raw: &RawPrefillCurve, path: &FieldPath) -> Result<PrefillCurve> {
    let curve = match raw {
        RawPrefillCurve {
            tokens_per_s: Some(rate),
            tokens: None,
            time: None,
            base: None,
            per_token: None,
            per_token_squared: None,
        } => {
            if !rate.is_finite() || *rate <= 0.0 || *rate > 1e12 {
                return fail(
                    path.key("tokens_per_s"),
                    format!(
                        "{} is not a valid prefill rate; expected tokens per second, more than 0",
                        show(*rate)
                    ),
                );
            }
            PrefillCurve::Rate {
                tokens_per_s: *rate,
            }
        }
        RawPrefillCurve {
            tokens_per_s: None,
            tokens: Some(tokens),
            time: Some(time),
            base: None,
            per_token: None,
            per_token_squared: None,
        } => {
            if let Some(&bad) = tokens.iter().find(|&&t| !(t >= 1.0 && t.fract() == 0.0)) {
                return fail(
                    path.key("tokens"),
                    format!(
                        "{} is not a token count; expected whole numbers of 1 or more",
                        show(bad)
                    ),
                );
            }
            PrefillCurve::Table(table(tokens, time, path, "tokens", "time")?)
        }
        RawPrefillCurve {
            tokens_per_s: None,
            tokens: None,
            time: None,
            base,
            per_token: Some(per_token),
            per_token_squared,
        } => {
            let read = |text: &Option<String>, key: &str| match text {
                Some(text) => nanos_field(text, &path.key(key)),
                None => Ok(0.0),
            };
            let curve = PrefillCurve::Quadratic {
                base_ns: read(base, "base")?,
                per_token_ns: nanos_field(per_token, &path.key("per_token"))?,
                per_token_squared_ns: read(per_token_squared, "per_token_squared")?,
            };
            if curve.prompt_time(1) == SimDuration::ZERO
                && curve.prompt_time(1000) == SimDuration::ZERO
            {
                return fail(
                    path.key("per_token"),
                    "prefill would take no time; per_token must be longer than zero",
                );
            }
            curve
        }
        _ => {
            return fail(
                path.clone(),
                "expected one form: a rate `{ tokens_per_s = 15000 }`, a measured table `{ tokens = [2048, 8192], time = [\"137ms\", \"845ms\"] }`, or DistServe's `{ base = \"30ms\", per_token = \"36us\", per_token_squared = \"7.7ns\" }`",
            );
        }
    };
    Ok(curve)
}

pub(super) fn validate_profile(
    raw: &RawProfile,
    path: &FieldPath,
    origin: ProfileOrigin,
) -> Result<Profile> {
    let gpus = raw
        .gpus
        .map(|gpus| integer_in(gpus, 1, 1024, &path.key("gpus"), "GPU count"))
        .transpose()?;
    let kv_cache_tokens = raw
        .kv_cache_tokens
        .as_ref()
        .map(|tokens| {
            whole_number(
                tokens,
                1,
                MAX_KV_CACHE_TOKENS,
                &path.key("kv_cache_tokens"),
                "KV-cache capacity in tokens",
            )
        })
        .transpose()?;
    Ok(Profile {
        id: raw.id.clone(),
        model: raw.model.clone(),
        gpu: raw.gpu.clone(),
        gpus,
        kv_cache_tokens,
        decode: decode_curve(&raw.decode, &path.key("decode"))?,
        prefill: prefill_curve(&raw.prefill, &path.key("prefill"))?,
        origin,
    })
}

/// Reads a shipped profile. A broken library file is a bug in this build, reported as
/// an error on the field that named it rather than a panic.
pub fn library_profile(entry: &library::LibraryEntry, named_at: &FieldPath) -> Result<Profile> {
    let broken = |message: String| {
        PathError::new(
            named_at.clone(),
            format!(
                "the shipped profile {} is invalid (a bug in this build of strait): {message}",
                entry.path
            ),
        )
    };
    let raw: RawProfile = toml::from_str(entry.text).map_err(|error| broken(error.to_string()))?;
    if raw.id != entry.id {
        return Err(broken(format!("its id is {:?}", raw.id)));
    }
    validate_profile(
        &raw,
        &FieldPath::root().key("profile").key(entry.id),
        ProfileOrigin::Library(entry.path),
    )
    .map_err(|error| broken(format!("{}: {}", error.path, error.message)))
}

/// The profile an inline `llm = { … }` describes: rate prefill, formula decode.
fn inline_profile(raw: &RawLlm, deployment_id: &str, path: &FieldPath) -> Result<Profile> {
    let rate = raw.prefill_tokens_per_s;
    if !rate.is_finite() || rate <= 0.0 || rate > 1e12 {
        return fail(
            path.key("prefill_tokens_per_s"),
            format!(
                "{} is not a valid prefill rate; expected tokens per second, more than 0",
                show(rate)
            ),
        );
    }
    let base = parse_field_duration(&raw.decode_step_base, &path.key("decode_step_base"))?;
    let per_seq = parse_field_duration(&raw.decode_step_per_seq, &path.key("decode_step_per_seq"))?;
    if base + per_seq == SimDuration::ZERO {
        return fail(
            path.key("decode_step_base"),
            "decode steps would take no time; decode_step_base or decode_step_per_seq must be positive",
        );
    }
    Ok(Profile {
        id: format!("{deployment_id} (inline)"),
        model: None,
        gpu: None,
        gpus: None,
        kv_cache_tokens: None,
        decode: DecodeCurve::Linear { base, per_seq },
        prefill: PrefillCurve::Rate { tokens_per_s: rate },
        origin: ProfileOrigin::Inline,
    })
}

/// The LLM service of a deployment that has `llm` or `profile`, or `None` for a plain one.
pub(super) fn llm_service(
    raw: &RawDeployment,
    path: &FieldPath,
    scenario_profiles: &[Profile],
) -> Result<Option<LlmService>> {
    let profile = match (&raw.llm, &raw.profile) {
        (Some(_), Some(_)) => {
            return fail(
                path.key("profile"),
                "both `llm` and `profile` are set; give the serving model once: a profile by id, or inline `llm = { … }`",
            );
        }
        (Some(llm), None) => inline_profile(llm, &raw.id, &path.key("llm"))?,
        (None, Some(id)) => {
            let named_at = path.key("profile");
            match scenario_profiles.iter().find(|profile| &profile.id == id) {
                Some(profile) => profile.clone(),
                None => match library::find(id) {
                    Some(entry) => library_profile(entry, &named_at)?,
                    None => {
                        let defined: Vec<&str> =
                            scenario_profiles.iter().map(|p| p.id.as_str()).collect();
                        let shipped: Vec<&str> = library::ids().collect();
                        return fail(
                            named_at,
                            format!(
                                "unknown profile {id:?}; the scenario defines [{}] and strait ships [{}]",
                                defined.join(", "),
                                shipped.join(", ")
                            ),
                        );
                    }
                },
            }
        }
        (None, None) => {
            for (key, set) in [
                ("kv_cache_tokens", raw.kv_cache_tokens.is_some()),
                ("batching", raw.batching.is_some()),
                ("chunk_tokens", raw.chunk_tokens.is_some()),
            ] {
                if set {
                    return fail(
                        path.key(key),
                        format!(
                            "`{key}` applies to LLM serving; add `profile = \"…\"` or `llm = {{ … }}`"
                        ),
                    );
                }
            }
            return Ok(None);
        }
    };
    let kv_cache_tokens = match &raw.kv_cache_tokens {
        Some(tokens) => Some(whole_number(
            tokens,
            1,
            MAX_KV_CACHE_TOKENS,
            &path.key("kv_cache_tokens"),
            "KV-cache capacity in tokens",
        )?),
        None => profile.kv_cache_tokens,
    };
    let batching = match raw.batching.as_deref() {
        None | Some("prefill-first") => {
            if raw.chunk_tokens.is_some() {
                return fail(
                    path.key("chunk_tokens"),
                    "`chunk_tokens` is the token budget of chunked prefill; add `batching = \"chunked\"`",
                );
            }
            Batching::PrefillFirst
        }
        Some("chunked") => {
            let token_budget = match raw.chunk_tokens {
                Some(tokens) => integer_in(
                    tokens,
                    2,
                    MAX_CHUNK_TOKENS,
                    &path.key("chunk_tokens"),
                    "token budget per iteration",
                )?,
                None => DEFAULT_CHUNK_TOKENS,
            };
            Batching::Chunked { token_budget }
        }
        Some(other) => {
            return fail(
                path.key("batching"),
                format!("unknown batching {other:?}; expected \"prefill-first\" or \"chunked\""),
            );
        }
    };
    Ok(Some(LlmService {
        profile,
        kv_cache_tokens,
        batching,
    }))
}
