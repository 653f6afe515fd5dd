//! The Mooncake trace (FAST '25): JSON Lines, one object per request, such as
//! `{"timestamp": 27482, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47]}`.
//!
//! `timestamp` is in milliseconds from the trace's start; an integer is converted
//! exactly, a non-negative fractional number is rounded to the nearest nanosecond.
//! `hash_ids` (prefix-cache block hashes) and any other keys are ignored. Lines are read
//! one at a time and parsed with serde_json; blank lines are skipped.

use std::fs::File;
use std::io::{BufRead, BufReader};

use serde::Deserialize;
use serde_json::Value;

use super::{RawRow, RowError, TokenKind, token_count_from_json};

/// Time, input-token and output-token keys.
pub(super) const KEYS: [&str; 3] = ["timestamp", "input_length", "output_length"];

const NANOS_PER_MILLI: i128 = 1_000_000;

/// The keys read from one line; serde skips the others (including the long `hash_ids`)
/// without building them.
#[derive(Deserialize)]
struct Line {
    timestamp: Option<Value>,
    input_length: Option<Value>,
    output_length: Option<Value>,
}

/// Rows of a JSON Lines trace, read one line at a time.
#[derive(Debug)]
pub(super) struct JsonlRows {
    input: BufReader<File>,
    buffer: Vec<u8>,
    /// Number of the last line read (1-based).
    line: u64,
}

impl JsonlRows {
    pub(super) fn new(input: BufReader<File>) -> Self {
        JsonlRows {
            input,
            buffer: Vec::new(),
            line: 0,
        }
    }

    pub(super) fn next_row(&mut self) -> Result<Option<RawRow>, RowError> {
        loop {
            self.buffer.clear();
            let read = self
                .input
                .read_until(b'\n', &mut self.buffer)
                .map_err(|error| RowError {
                    line: Some(self.line + 1),
                    column: None,
                    message: format!("read error: {error}"),
                })?;
            if read == 0 {
                return Ok(None);
            }
            self.line += 1;
            let text = self.buffer.trim_ascii();
            if text.is_empty() {
                continue;
            }
            return parse_line(text, self.line).map(Some);
        }
    }
}

fn parse_line(text: &[u8], line: u64) -> Result<RawRow, RowError> {
    if text.first() != Some(&b'{') {
        return Err(RowError::at(
            line,
            None,
            "expected a JSON object `{\"timestamp\": …, \"input_length\": …, \"output_length\": …}`",
        ));
    }
    let parsed: Line = serde_json::from_slice(text)
        .map_err(|error| RowError::at(line, None, format!("invalid JSON: {error}")))?;
    let [time_key, input_key, output_key] = KEYS;
    let field = |value: Option<Value>, key: &str| {
        value.ok_or_else(|| RowError::at(line, Some(key), "missing key (or null)"))
    };
    let timestamp = field(parsed.timestamp, time_key)?;
    let input = field(parsed.input_length, input_key)?;
    let output = field(parsed.output_length, output_key)?;
    let time = milliseconds(&timestamp).map_err(|e| RowError::at(line, Some(time_key), e))?;
    let input_tokens = token_count_from_json(&input, TokenKind::Input)
        .map_err(|e| RowError::at(line, Some(input_key), e))?;
    let output_tokens = token_count_from_json(&output, TokenKind::Output)
        .map_err(|e| RowError::at(line, Some(output_key), e))?;
    Ok(RawRow {
        line,
        time,
        input_tokens,
        output_tokens,
    })
}

/// A non-negative number of milliseconds as nanoseconds.
fn milliseconds(value: &Value) -> Result<i128, String> {
    let Value::Number(number) = value else {
        return Err(format!(
            "{value} is not a number (expected milliseconds since the trace's start)"
        ));
    };
    if let Some(whole) = number.as_u64() {
        return Ok(i128::from(whole) * NANOS_PER_MILLI);
    }
    match number.as_f64() {
        Some(millis) if millis < 0.0 => Err(format!("negative timestamp {number} ms")),
        // Beyond 1e20 ms the trace would span billions of years; refusing keeps the cast exact.
        Some(millis) if millis.is_finite() && millis <= 1e20 => {
            Ok((millis * NANOS_PER_MILLI as f64).round() as i128)
        }
        _ => Err(format!("timestamp {number} ms is out of range")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::test_support::TempTrace;
    use crate::trace::{TraceError, TraceFormat, TraceReader, TraceRow, scan};

    fn error_of(contents: &str) -> TraceError {
        let file = TempTrace::new("mooncake.jsonl", contents);
        let error = scan(file.path(), TraceFormat::Mooncake).unwrap_err();
        println!("{error}");
        error
    }

    const GOOD: &str = "{\"timestamp\": 0, \"input_length\": 10, \"output_length\": 2}\n";

    #[test]
    fn reads_rows_ignoring_hash_ids_and_extra_keys() {
        let file = TempTrace::new(
            "mooncake.jsonl",
            "{\"timestamp\": 1000, \"input_length\": 6758, \"output_length\": 500, \"hash_ids\": [0, 1, 2]}\n\
             \n\
             {\"hash_ids\": [], \"extra\": {\"a\": [1]}, \"output_length\": 3, \"input_length\": 7, \"timestamp\": 1000}\r\n\
             {\"timestamp\": 1500.25, \"input_length\": 8.0, \"output_length\": 4}",
        );
        let mut reader = TraceReader::open(file.path(), TraceFormat::Mooncake).unwrap();
        let expected = [(1, 0, 6758, 500), (3, 0, 7, 3), (4, 500_250_000, 8, 4)];
        for (line, time_ns, input_tokens, output_tokens) in expected {
            let row = TraceRow {
                line,
                time_ns,
                input_tokens,
                output_tokens,
            };
            assert_eq!(reader.next_row().unwrap(), Some(row));
        }
        assert_eq!(reader.next_row().unwrap(), None);
    }

    #[test]
    fn invalid_json_gives_serde_message_and_line() {
        let error = error_of(&format!(
            "{GOOD}{GOOD}{{\"timestamp\": 5, \"input_length\": \n"
        ));
        assert_eq!(error.line, Some(3));
        assert!(error.message.starts_with("invalid JSON: "), "{error}");
        assert!(error.message.contains("EOF while parsing"), "{error}");
        let error = error_of(&format!("{GOOD}[1, 2, 3]\n"));
        assert_eq!(error.line, Some(2));
        assert!(error.message.contains("expected a JSON object"), "{error}");
    }

    #[test]
    fn missing_and_bad_values_name_their_key() {
        let cases = [
            (
                "{\"timestamp\": 5, \"input_length\": 10}",
                "output_length",
                "missing key",
            ),
            (
                "{\"timestamp\": null, \"input_length\": 10, \"output_length\": 2}",
                "timestamp",
                "missing key",
            ),
            (
                "{\"timestamp\": \"5\", \"input_length\": 10, \"output_length\": 2}",
                "timestamp",
                "not a number",
            ),
            (
                "{\"timestamp\": -5, \"input_length\": 10, \"output_length\": 2}",
                "timestamp",
                "negative timestamp",
            ),
            (
                "{\"timestamp\": 1e300, \"input_length\": 10, \"output_length\": 2}",
                "timestamp",
                "out of range",
            ),
            (
                "{\"timestamp\": 5, \"input_length\": \"10\", \"output_length\": 2}",
                "input_length",
                "not a number",
            ),
            (
                "{\"timestamp\": 5, \"input_length\": -10, \"output_length\": 2}",
                "input_length",
                "negative",
            ),
            (
                "{\"timestamp\": 5, \"input_length\": 10.5, \"output_length\": 2}",
                "input_length",
                "fractional",
            ),
            (
                "{\"timestamp\": 5, \"input_length\": 0, \"output_length\": 2}",
                "input_length",
                "zero input tokens",
            ),
            (
                "{\"timestamp\": 5, \"input_length\": 10, \"output_length\": 0}",
                "output_length",
                "at least 1 token",
            ),
            (
                "{\"timestamp\": 5, \"input_length\": 10, \"output_length\": 4294967296}",
                "output_length",
                "above the maximum",
            ),
        ];
        for (line, key, words) in cases {
            let error = error_of(&format!("{GOOD}\n{line}\n"));
            assert_eq!(error.line, Some(3), "{error}");
            assert_eq!(error.column.as_deref(), Some(key), "{error}");
            assert!(error.message.contains(words), "`{words}` not in: {error}");
        }
    }

    #[test]
    fn unsorted_and_empty_traces_are_refused() {
        let later = "{\"timestamp\": 2000, \"input_length\": 10, \"output_length\": 2}\n";
        let error = error_of(&format!("{later}{GOOD}"));
        assert_eq!(error.line, Some(2));
        assert!(
            error.message.contains("-2 s is before 0 s on line 1"),
            "{error}"
        );
        let error = error_of("\n  \n");
        assert_eq!(error.line, None);
        assert!(error.message.contains("empty trace"), "{error}");
    }

    #[test]
    fn milliseconds_convert_exactly() {
        assert_eq!(milliseconds(&Value::from(0u64)), Ok(0));
        assert_eq!(
            milliseconds(&Value::from(u64::MAX)),
            Ok(i128::from(u64::MAX) * 1_000_000)
        );
        assert_eq!(milliseconds(&Value::from(0.5)), Ok(500_000));
    }
}
