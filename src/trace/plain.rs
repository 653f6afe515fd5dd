//! The plain trace: CSV with header `time_s,input_tokens,output_tokens`, the time in
//! seconds from any origin as a non-negative decimal number (`12`, `0.25`, `3.000000001`).
//!
//! Decimals are converted exactly to nanoseconds (digits beyond the ninth are rounded
//! half up); other spellings a float parser accepts (`1e-3`) are converted through `f64`
//! and rounded to the nearest nanosecond.

/// Time, input-token and output-token columns.
pub(super) const COLUMNS: [&str; 3] = ["time_s", "input_tokens", "output_tokens"];

/// Non-negative seconds as nanoseconds.
pub(super) fn parse_seconds(text: &str) -> Result<i128, String> {
    if let Some(nanos) = exact_decimal(text) {
        return Ok(nanos);
    }
    match text.parse::<f64>() {
        Ok(seconds) if seconds < 0.0 => Err(format!("negative time `{text}` s")),
        // 1e12 s is some 30,000 years: far beyond any trace, and the cast below stays exact.
        Ok(seconds) if seconds.is_finite() && seconds <= 1e12 => {
            Ok((seconds * 1e9).round() as i128)
        }
        Ok(_) => Err(format!("time `{text}` s is out of range")),
        Err(_) => Err(format!(
            "`{text}` is not a number (expected seconds, such as `12.5`)"
        )),
    }
}

/// `digits[.digits]` (or `.digits`) as exact nanoseconds; `None` for any other spelling
/// or a value too large for the arithmetic.
fn exact_decimal(text: &str) -> Option<i128> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    if whole.len() > 20 {
        return None;
    }
    let whole: i128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut nanos: i128 = 0;
    for position in 0..9 {
        let digit = fraction
            .as_bytes()
            .get(position)
            .map_or(0, |byte| byte - b'0');
        nanos = nanos * 10 + i128::from(digit);
    }
    if fraction.as_bytes().get(9).is_some_and(|&byte| byte >= b'5') {
        nanos += 1;
    }
    Some(whole * 1_000_000_000 + nanos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::test_support::TempTrace;
    use crate::trace::{TraceFormat, TraceReader, TraceRow, scan};

    #[test]
    fn decimals_are_exact() {
        assert_eq!(parse_seconds("0"), Ok(0));
        assert_eq!(parse_seconds("0.1"), Ok(100_000_000));
        assert_eq!(parse_seconds(".5"), Ok(500_000_000));
        assert_eq!(parse_seconds("7."), Ok(7_000_000_000));
        assert_eq!(parse_seconds("3.000000001"), Ok(3_000_000_001));
        assert_eq!(parse_seconds("3.0000000014"), Ok(3_000_000_001));
        assert_eq!(parse_seconds("3.0000000015"), Ok(3_000_000_002));
        assert_eq!(parse_seconds("0.9999999999"), Ok(1_000_000_000));
        assert_eq!(parse_seconds("86400.123456789"), Ok(86_400_123_456_789));
        assert_eq!(parse_seconds("1e-3"), Ok(1_000_000));
        assert_eq!(parse_seconds("+2.5"), Ok(2_500_000_000));
    }

    #[test]
    fn bad_times_say_why() {
        let cases = [
            ("-1", "negative time"),
            ("-0.001", "negative time"),
            ("abc", "not a number"),
            (".", "not a number"),
            ("1.2.3", "not a number"),
            ("inf", "out of range"),
            ("NaN", "out of range"),
            ("1e300", "out of range"),
            ("123456789012345678901234567890", "out of range"),
        ];
        for (text, words) in cases {
            let error = parse_seconds(text).expect_err(text);
            assert!(error.contains(words), "`{words}` not in: {error}");
        }
    }

    #[test]
    fn reads_plain_rows_and_reports_bad_time_line() {
        let file = TempTrace::new(
            "plain.csv",
            "time_s,input_tokens,output_tokens\n100.5,512,128\n100.75,1024,1\n",
        );
        let mut reader = TraceReader::open(file.path(), TraceFormat::Plain).unwrap();
        assert_eq!(
            reader.next_row().unwrap(),
            Some(TraceRow {
                line: 2,
                time_ns: 0,
                input_tokens: 512,
                output_tokens: 128
            })
        );
        assert_eq!(
            reader.next_row().unwrap(),
            Some(TraceRow {
                line: 3,
                time_ns: 250_000_000,
                input_tokens: 1024,
                output_tokens: 1
            })
        );
        assert_eq!(reader.next_row().unwrap(), None);

        let file = TempTrace::new(
            "plain.csv",
            "time_s,input_tokens,output_tokens\n1,1,1\n2,1,1\n-3,1,1\n",
        );
        let error = scan(file.path(), TraceFormat::Plain).unwrap_err();
        assert_eq!(error.line, Some(4));
        assert_eq!(error.column.as_deref(), Some("time_s"));
        assert!(error.message.contains("negative time"), "{error}");
    }

    #[test]
    fn quoted_fields_spanning_lines_keep_line_numbers() {
        // A quoted field with a newline: the next row starts two lines further down.
        let file = TempTrace::new(
            "plain.csv",
            "time_s,input_tokens,output_tokens,note\n1,1,1,\"two\nlines\"\n2,1,1,x\n3,0,1,y\n",
        );
        let error = scan(file.path(), TraceFormat::Plain).unwrap_err();
        assert_eq!(error.line, Some(5), "{error}");
    }
}
