//! The Azure LLM inference trace (Azure Public Dataset, 2023): CSV with header
//! `TIMESTAMP,ContextTokens,GeneratedTokens` and timestamps like
//! `2023-11-16 18:15:46.6805900`.
//!
//! Timestamps are UTC (the files carry no zone). They are parsed here, without a date
//! library, into integer nanoseconds since the Unix epoch: `YYYY-MM-DD`, a space or `T`,
//! `HH:MM:SS`, optionally `.` and 1 to 9 fractional digits, optionally a final `Z`.

/// Time, input-token and output-token columns.
pub(super) const COLUMNS: [&str; 3] = ["TIMESTAMP", "ContextTokens", "GeneratedTokens"];

const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// Nanoseconds since 1970-01-01 00:00:00 UTC for `YYYY-MM-DD HH:MM:SS[.fffffffff]`.
pub(super) fn parse_timestamp(text: &str) -> Result<i128, String> {
    let bad = |why: &str| {
        format!("bad timestamp `{text}`: {why} (expected `YYYY-MM-DD HH:MM:SS[.fffffffff]`, UTC)")
    };
    let bytes = text.strip_suffix('Z').unwrap_or(text).as_bytes();
    if bytes.len() < 19 {
        return Err(bad("too short"));
    }
    let (date, rest) = bytes.split_at(10);
    let (clock, fraction) = rest.split_at(9);
    if date[4] != b'-' || date[7] != b'-' {
        return Err(bad("the date is not `YYYY-MM-DD`"));
    }
    if clock[0] != b' ' && clock[0] != b'T' {
        return Err(bad("date and time must be separated by a space or `T`"));
    }
    if clock[3] != b':' || clock[6] != b':' {
        return Err(bad("the time of day is not `HH:MM:SS`"));
    }
    let number = |digits: &[u8], what: &str| -> Result<u32, String> {
        digits.iter().try_fold(0u32, |value, &byte| {
            if byte.is_ascii_digit() {
                Ok(value * 10 + u32::from(byte - b'0'))
            } else {
                Err(bad(&format!("the {what} is not a number")))
            }
        })
    };
    let year = number(&date[0..4], "year")?;
    let month = number(&date[5..7], "month")?;
    let day = number(&date[8..10], "day")?;
    let hour = number(&clock[1..3], "hour")?;
    let minute = number(&clock[4..6], "minute")?;
    let second = number(&clock[7..9], "second")?;
    let nanos = match fraction {
        [] => 0,
        [b'.', digits @ ..] if !digits.is_empty() && digits.len() <= 9 => {
            number(digits, "fraction of a second")? * 10u32.pow(9 - digits.len() as u32)
        }
        [b'.', digits @ ..] if digits.len() > 9 => {
            return Err(bad("more than 9 fractional digits"));
        }
        _ => return Err(bad("unexpected text after the seconds")),
    };
    if !(1..=12).contains(&month) {
        return Err(bad(&format!("month {month} is not 1 to 12")));
    }
    let month_days = days_in_month(year, month);
    if !(1..=month_days).contains(&day) {
        return Err(bad(&format!("day {day} is not 1 to {month_days}")));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(bad(&format!(
            "{hour:02}:{minute:02}:{second:02} is not a time of day"
        )));
    }
    let days = days_from_civil(i64::from(year), month, day);
    let seconds = i128::from(days) * 86_400
        + i128::from(hour) * 3_600
        + i128::from(minute) * 60
        + i128::from(second);
    Ok(seconds * NANOS_PER_SECOND + i128::from(nanos))
}

fn is_leap_year(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to `year-month-day` in the proleptic Gregorian calendar
/// (Howard Hinnant's `days_from_civil`): years are counted from March so that the leap
/// day comes last, in 400-year eras of 146,097 days.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::test_support::TempTrace;
    use crate::trace::{TraceFormat, TraceReader, TraceRow, scan};

    #[test]
    fn days_from_civil_matches_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2023, 11, 16), 19_677);
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        assert_eq!(days_from_civil(0, 1, 1), -719_528);
    }

    #[test]
    fn timestamps_parse_to_exact_nanoseconds() {
        // 2023-11-16 18:15:46 UTC is Unix time 1,700,158,546 s.
        let whole = 1_700_158_546 * NANOS_PER_SECOND;
        assert_eq!(parse_timestamp("2023-11-16 18:15:46"), Ok(whole));
        assert_eq!(parse_timestamp("2023-11-16T18:15:46Z"), Ok(whole));
        assert_eq!(
            parse_timestamp("2023-11-16 18:15:46.6805900"),
            Ok(whole + 680_590_000)
        );
        assert_eq!(
            parse_timestamp("2023-11-16 18:15:46.5"),
            Ok(whole + 500_000_000)
        );
        assert_eq!(
            parse_timestamp("2023-11-16 18:15:46.000000001"),
            Ok(whole + 1)
        );
        assert_eq!(parse_timestamp("1970-01-01 00:00:00"), Ok(0));
        assert_eq!(parse_timestamp("1969-12-31 23:59:59.9"), Ok(-100_000_000));
        assert!(parse_timestamp("2024-02-29 00:00:00").is_ok());
        assert!(parse_timestamp("2000-02-29 00:00:00").is_ok());
    }

    #[test]
    fn bad_timestamps_say_why() {
        let cases = [
            ("2023-11-16", "too short"),
            ("2023/11/16 18:15:46", "not `YYYY-MM-DD`"),
            ("2023-11-16_18:15:46", "space or `T`"),
            ("2023-11-16 18-15-46", "not `HH:MM:SS`"),
            ("2023-1x-16 18:15:46", "month is not a number"),
            ("2023-13-16 18:15:46", "month 13"),
            ("2023-02-29 18:15:46", "day 29 is not 1 to 28"),
            ("1900-02-29 18:15:46", "day 29 is not 1 to 28"),
            ("2023-11-00 18:15:46", "day 0"),
            ("2023-11-16 24:00:00", "not a time of day"),
            ("2023-11-16 18:60:00", "not a time of day"),
            ("2023-11-16 18:15:46.", "unexpected text"),
            (
                "2023-11-16 18:15:46.1234567890",
                "more than 9 fractional digits",
            ),
            (
                "2023-11-16 18:15:46.12a",
                "fraction of a second is not a number",
            ),
            ("2023-11-16 18:15:46 UTC", "unexpected text"),
            ("2023-11-16 18:15:4é", "second is not a number"),
        ];
        for (text, words) in cases {
            let error = parse_timestamp(text).expect_err(text);
            assert!(error.contains(words), "`{words}` not in: {error}");
        }
    }

    #[test]
    fn reads_azure_rows_relative_to_the_first() {
        let file = TempTrace::new(
            "azure.csv",
            "TIMESTAMP,ContextTokens,GeneratedTokens\r\n\
             2023-11-16 18:15:46.6805900,374,44\r\n\
             2023-11-16 18:15:50.9951690,396,109\r\n\
             2023-11-16 18:15:50.9951690,879,55\r\n\
             2023-11-17 00:00:00,1,1",
        );
        let mut reader = TraceReader::open(file.path(), TraceFormat::Azure).unwrap();
        let expected = [
            (2, 0, 374, 44),
            (3, 4_314_579_000, 396, 109),
            (4, 4_314_579_000, 879, 55),
            (5, 20_653_319_410_000, 1, 1),
        ];
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
    fn bad_timestamp_gives_its_line_and_column() {
        let file = TempTrace::new(
            "azure.csv",
            "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,1,1\n2023-11-31 00:00:00,1,1\n",
        );
        let error = scan(file.path(), TraceFormat::Azure).unwrap_err();
        assert_eq!(error.line, Some(3));
        assert_eq!(error.column.as_deref(), Some("TIMESTAMP"));
        assert!(error.message.contains("day 31 is not 1 to 30"), "{error}");
    }

    #[test]
    fn rows_too_far_apart_are_refused() {
        let file = TempTrace::new(
            "azure.csv",
            "TIMESTAMP,ContextTokens,GeneratedTokens\n1000-01-01 00:00:00,1,1\n9000-01-01 00:00:00,1,1\n",
        );
        let error = scan(file.path(), TraceFormat::Azure).unwrap_err();
        assert_eq!(error.line, Some(3));
        assert!(error.message.contains("too far"), "{error}");
    }

    /// The shipped files scan cleanly and match the figures in traces/README.md.
    #[test]
    fn shipped_traces_scan() {
        let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("traces");
        let conv = scan(&directory.join("azure-conv-2023.csv"), TraceFormat::Azure).unwrap();
        assert_eq!(conv.rows, 19_366);
        assert_eq!(conv.span_ns, 3_501_721_937_000);
        let code = scan(
            &directory.join("azure-code-2023-sample.csv"),
            TraceFormat::Azure,
        )
        .unwrap();
        assert_eq!(
            (conv.input_tokens, conv.output_tokens),
            (22_361_870, 4_088_665)
        );
        assert_eq!(code.rows, 2_000);
        assert_eq!(code.span_ns, 853_079_347_000);
        assert_eq!((code.input_tokens, code.output_tokens), (3_973_157, 59_024));
        println!("conv {conv:?}\ncode {code:?}");
    }
}
