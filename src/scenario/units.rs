//! Parsing of quantities written with their units: `"250ms"`, `"24h"`, `"3200/s"`, `"400Gbps"`.
//!
//! Each parser returns a message that says what would be valid, for the caller to attach
//! to the field's path and location.

use crate::engine::SimDuration;

const DURATION_HINT: &str = "a duration such as \"250ms\", \"1.5s\", \"10m\", \"24h\", \"2d\" (units: ns, us, ms, s, m, h, d)";
const RATE_HINT: &str =
    "a rate such as \"3200/s\", \"90/min\", \"500/h\" (a bare number means per second)";
const BANDWIDTH_HINT: &str =
    "a bandwidth such as \"400Gbps\", \"10Gbps\", \"100Mbps\" (units: bps, Kbps, Mbps, Gbps, Tbps)";

/// Splits `"12.5ms"` into `(12.5, "ms")`: the longest leading part that reads as a
/// number, then the rest. Underscores between digits are allowed (`"1_000ms"`).
fn split_number(text: &str) -> Option<(f64, String)> {
    let text: String = text.trim().chars().filter(|&c| c != '_').collect();
    (1..=text.len())
        .rev()
        .filter(|&end| text.is_char_boundary(end))
        .find_map(|end| {
            let value: f64 = text[..end].parse().ok()?;
            Some((value, text[end..].trim().to_string()))
        })
}

/// A non-negative duration. Zero is allowed (the caller rejects it where it makes no sense).
pub fn parse_duration(text: &str) -> Result<SimDuration, String> {
    parse_duration_seconds(text).map(SimDuration::from_secs_f64)
}

/// A non-negative duration in (fractional) nanoseconds, for coefficients finer than a
/// nanosecond such as a prefill cost per token squared (`"7.68ns"`, `"0.5ns"`).
pub fn parse_duration_nanos(text: &str) -> Result<f64, String> {
    parse_duration_seconds(text).map(|seconds| seconds * 1e9)
}

fn parse_duration_seconds(text: &str) -> Result<f64, String> {
    let invalid = || format!("cannot read {text:?} as a duration; expected {DURATION_HINT}");
    let (value, unit) = split_number(text).ok_or_else(invalid)?;
    let seconds_per_unit = match unit.as_str() {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        "" => {
            return Err(format!("{text:?} has no unit; expected {DURATION_HINT}"));
        }
        _ => return Err(invalid()),
    };
    if !value.is_finite() {
        return Err(format!("{text:?} is not a finite duration"));
    }
    if value < 0.0 {
        return Err(format!(
            "{text:?} is negative; a duration must be zero or more"
        ));
    }
    let seconds = value * seconds_per_unit;
    // 100 years: far beyond any sensible run, far below u64 nanoseconds' 584-year limit.
    if seconds > 100.0 * 365.0 * 86400.0 {
        return Err(format!("{text:?} is longer than 100 years"));
    }
    Ok(seconds)
}

/// A rate in events per second. Must be finite and non-negative.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let invalid = || format!("cannot read {text:?} as a rate; expected {RATE_HINT}");
    let (value, unit) = split_number(text).ok_or_else(invalid)?;
    let per_second = match unit.as_str() {
        "" | "/s" | "/sec" => 1.0,
        "/ms" => 1e3,
        "/m" | "/min" => 1.0 / 60.0,
        "/h" => 1.0 / 3600.0,
        "/d" => 1.0 / 86400.0,
        _ => return Err(invalid()),
    };
    check_finite_non_negative(text, value * per_second)
}

/// A bandwidth in bits per second.
pub fn parse_bandwidth(text: &str) -> Result<f64, String> {
    let invalid = || format!("cannot read {text:?} as a bandwidth; expected {BANDWIDTH_HINT}");
    let (value, unit) = split_number(text).ok_or_else(invalid)?;
    let bits_per_second = match unit.as_str() {
        "bps" => 1.0,
        "Kbps" | "kbps" => 1e3,
        "Mbps" => 1e6,
        "Gbps" => 1e9,
        "Tbps" => 1e12,
        _ => return Err(invalid()),
    };
    check_finite_non_negative(text, value * bits_per_second)
}

fn check_finite_non_negative(text: &str, value: f64) -> Result<f64, String> {
    if !value.is_finite() {
        Err(format!("{text:?} is not a finite number"))
    } else if value < 0.0 {
        Err(format!("{text:?} is negative"))
    } else {
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_with_every_unit() {
        let cases = [
            ("250ms", 250_000_000),
            ("1.5s", 1_500_000_000),
            ("10m", 600_000_000_000),
            ("24h", 86_400_000_000_000),
            ("2d", 172_800_000_000_000),
            ("100us", 100_000),
            ("7ns", 7),
            ("0s", 0),
            ("1_000ms", 1_000_000_000),
            ("1e3ms", 1_000_000_000),
        ];
        for (text, nanos) in cases {
            assert_eq!(
                parse_duration(text).map(|d| d.as_nanos()),
                Ok(nanos),
                "{text}"
            );
        }
    }

    #[test]
    fn bad_durations_say_what_is_valid() {
        for text in [
            "",
            "ms",
            "10",
            "10 parsecs",
            "-5s",
            "NaNs",
            "infs",
            "1e300s",
        ] {
            let error = parse_duration(text).expect_err(text);
            assert!(error.contains(text), "{error}");
        }
        assert!(parse_duration("10").unwrap_err().contains("no unit"));
    }

    #[test]
    fn rates_and_bandwidths() {
        assert_eq!(parse_rate("3200/s"), Ok(3200.0));
        assert_eq!(parse_rate("90/min"), Ok(1.5));
        assert_eq!(parse_rate("7200/h"), Ok(2.0));
        assert_eq!(parse_rate("12"), Ok(12.0));
        assert!(parse_rate("-1/s").is_err());
        assert!(parse_rate("5/fortnight").is_err());
        assert_eq!(parse_bandwidth("400Gbps"), Ok(400e9));
        assert_eq!(parse_bandwidth("10Mbps"), Ok(10e6));
        assert!(parse_bandwidth("10GB").is_err());
    }
}
