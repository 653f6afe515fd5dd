//! Request traces read from disk: a tenant's demand replayed from a recorded workload
//! instead of a synthetic rate.
//!
//! Three formats are understood, each a sequence of requests sorted by arrival time:
//!
//! | [`TraceFormat`] | file | time | input tokens | output tokens |
//! |---|---|---|---|---|
//! | `azure` | CSV, header `TIMESTAMP,ContextTokens,GeneratedTokens` | `2023-11-16 18:15:46.6805900` (UTC) | `ContextTokens` | `GeneratedTokens` |
//! | `mooncake` | JSON Lines, one object per line | `timestamp` in milliseconds | `input_length` | `output_length` |
//! | `plain` | CSV, header `time_s,input_tokens,output_tokens` | `time_s` in seconds | `input_tokens` | `output_tokens` |
//!
//! Files may be large, so they are **streamed**: a [`TraceReader`] holds one buffered row
//! at a time and never loads the file whole. [`scan`] streams a file once, validating every
//! row, and returns its [`TraceSummary`] (row count, span, token sums); [`TraceReplay`]
//! then streams it again as arrivals in simulated time, with an offset, a speed-up, a rate
//! scale and optional looping (see [`replay`] for the exact semantics).
//!
//! Rules shared by all formats:
//!
//! - Times become integer nanoseconds since the file's **first row** ([`TraceRow::time_ns`]).
//!   Timestamps are parsed exactly (no float rounding) where the text allows it: Azure
//!   datetimes with up to 9 fractional digits, plain decimal seconds, integer milliseconds.
//! - Rows must be sorted by time (ties allowed); a row earlier than the one before it is an
//!   error naming both lines.
//! - Token counts are whole numbers from 1 to 10,000,000 (`distribution::MAX_TOKENS`). Zero input or zero output tokens
//!   is refused: a request has a prompt and generates at least one token.
//! - A file with no rows is an error.
//! - CSV columns are found by name (ASCII case-insensitive, first match wins); extra
//!   columns are ignored and may come in any order; a row may not have more fields than
//!   the header. Fields are trimmed of surrounding whitespace; LF and CRLF line ends both
//!   work, and blank lines are skipped (but counted). Mooncake lines that are blank are
//!   skipped, keys
//!   other than the three above (such as `hash_ids`; prefix caching is not modelled) are
//!   ignored.
//! - Every error is a [`TraceError`] carrying the path, the 1-based line number of the file
//!   (the CSV header is line 1), the column or key concerned, and a message:
//!   ``traces/x.csv:17: column `GeneratedTokens`: zero output tokens: …``. Only a file that
//!   cannot be opened and an empty trace have no line. No input makes the readers panic.
//!
//! ```no_run
//! use std::path::Path;
//! use strait::trace::{self, ReplayOptions, TraceFormat, TraceReplay};
//! use rand::SeedableRng;
//!
//! let path = Path::new("traces/azure-conv-2023.csv");
//! let summary = trace::scan(path, TraceFormat::Azure)?;
//! println!("{} requests over {:.0} s", summary.rows, summary.span_ns as f64 / 1e9);
//! let options = ReplayOptions { speedup: 2.0, ..ReplayOptions::default() };
//! let mut replay = TraceReplay::new(path, TraceFormat::Azure, options, &summary)?;
//! let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(1);
//! while let Some(arrival) = replay.next(&mut rng)? {
//!     let _ = (arrival.time_ns, arrival.input_tokens, arrival.output_tokens);
//! }
//! # Ok::<(), strait::trace::TraceError>(())
//! ```

mod azure;
mod mooncake;
mod plain;
pub mod replay;

use std::fmt;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

pub use replay::{ReplayArrival, ReplayOptions, TraceReplay};

/// The file formats a trace can come in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TraceFormat {
    /// Azure LLM inference trace CSV (`TIMESTAMP,ContextTokens,GeneratedTokens`).
    Azure,
    /// Mooncake JSON Lines (`timestamp` in ms, `input_length`, `output_length`).
    Mooncake,
    /// Plain CSV (`time_s,input_tokens,output_tokens`).
    Plain,
}

impl TraceFormat {
    /// Every format's name, as accepted by [`TraceFormat::parse`].
    pub const NAMES: [&'static str; 3] = ["azure", "mooncake", "plain"];

    /// The format called `name` (exactly one of [`TraceFormat::NAMES`]).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "azure" => Some(TraceFormat::Azure),
            "mooncake" => Some(TraceFormat::Mooncake),
            "plain" => Some(TraceFormat::Plain),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TraceFormat::Azure => "azure",
            TraceFormat::Mooncake => "mooncake",
            TraceFormat::Plain => "plain",
        }
    }

    /// Names of the time, input-token and output-token columns (JSON keys for Mooncake).
    pub fn columns(self) -> [&'static str; 3] {
        match self {
            TraceFormat::Azure => azure::COLUMNS,
            TraceFormat::Mooncake => mooncake::KEYS,
            TraceFormat::Plain => plain::COLUMNS,
        }
    }
}

impl fmt::Display for TraceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One request of a trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceRow {
    /// 1-based line of the file the row starts on (the CSV header is line 1).
    pub line: u64,
    /// Nanoseconds since the file's first row.
    pub time_ns: u64,
    pub input_tokens: u32,
    pub output_tokens: u32,
}

/// Why a trace could not be read: where, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    pub path: PathBuf,
    /// 1-based line of the file; `None` when the file cannot be opened or has no rows.
    pub line: Option<u64>,
    /// The column (CSV) or key (JSON) concerned, as the format names it.
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for TraceError {
    /// `path:line: column `name`: message`, leaving out the parts that are unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ": column `{column}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for TraceError {}

/// What one pass over a whole trace found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraceSummary {
    pub rows: u64,
    /// Time of the last row minus time of the first, in nanoseconds.
    pub span_ns: u64,
    /// Sum of input tokens over all rows.
    pub input_tokens: u64,
    /// Sum of output tokens over all rows.
    pub output_tokens: u64,
}

/// Streams `path` once, validating every row, and sums it up.
pub fn scan(path: &Path, format: TraceFormat) -> Result<TraceSummary, TraceError> {
    let mut reader = TraceReader::open(path, format)?;
    let mut summary = TraceSummary::default();
    while let Some(row) = reader.next_row()? {
        summary.rows += 1;
        summary.span_ns = row.time_ns;
        summary.input_tokens += u64::from(row.input_tokens);
        summary.output_tokens += u64::from(row.output_tokens);
    }
    Ok(summary)
}

/// A streaming reader of one trace file: one buffered row at a time.
///
/// Rows come out validated and sorted, with times relative to the first row. Reaching
/// the end of a file that had no rows is an error; after the end, [`TraceReader::next_row`]
/// keeps returning `Ok(None)`.
#[derive(Debug)]
pub struct TraceReader {
    path: PathBuf,
    format: TraceFormat,
    source: Source,
    /// Absolute time of the first row, in the file's own clock (ns).
    first_time: Option<i128>,
    /// Line and absolute time of the previous row, for the sortedness check.
    previous: Option<(u64, i128)>,
    rows: u64,
}

#[derive(Debug)]
enum Source {
    Csv(CsvRows),
    Jsonl(mooncake::JsonlRows),
}

/// A row as a format reads it, before times are made relative and checked for order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RawRow {
    line: u64,
    /// Nanoseconds in the file's own clock (Unix epoch for Azure; the trace's zero otherwise).
    time: i128,
    input_tokens: u32,
    output_tokens: u32,
}

/// An error found by a format reader, before the path is attached.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RowError {
    line: Option<u64>,
    column: Option<String>,
    message: String,
}

impl RowError {
    fn at(line: u64, column: Option<&str>, message: impl Into<String>) -> Self {
        RowError {
            line: Some(line),
            column: column.map(str::to_owned),
            message: message.into(),
        }
    }
}

impl TraceReader {
    /// Opens `path` and, for the CSV formats, reads and checks the header.
    pub fn open(path: &Path, format: TraceFormat) -> Result<Self, TraceError> {
        let file = File::open(path).map_err(|error| TraceError {
            path: path.to_owned(),
            line: None,
            column: None,
            message: format!("cannot open {} trace: {error}", format.name()),
        })?;
        let source = match format {
            TraceFormat::Azure => {
                CsvRows::open(file, azure::COLUMNS, azure::parse_timestamp).map(Source::Csv)
            }
            TraceFormat::Plain => {
                CsvRows::open(file, plain::COLUMNS, plain::parse_seconds).map(Source::Csv)
            }
            TraceFormat::Mooncake => Ok(Source::Jsonl(mooncake::JsonlRows::new(BufReader::new(
                file,
            )))),
        }
        .map_err(|error| with_path(path, error))?;
        Ok(TraceReader {
            path: path.to_owned(),
            format,
            source,
            first_time: None,
            previous: None,
            rows: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn format(&self) -> TraceFormat {
        self.format
    }

    /// The next row, `Ok(None)` at the end of the file.
    pub fn next_row(&mut self) -> Result<Option<TraceRow>, TraceError> {
        let raw = match &mut self.source {
            Source::Csv(rows) => rows.next_row(),
            Source::Jsonl(rows) => rows.next_row(),
        }
        .map_err(|error| with_path(&self.path, error))?;
        let Some(raw) = raw else {
            if self.rows == 0 {
                return Err(TraceError {
                    path: self.path.clone(),
                    line: None,
                    column: None,
                    message: format!("empty trace: the {} file has no rows", self.format),
                });
            }
            return Ok(None);
        };
        let time_column = self.format.columns()[0];
        let error = |message: String| TraceError {
            path: self.path.clone(),
            line: Some(raw.line),
            column: Some(time_column.to_owned()),
            message,
        };
        if let Some((previous_line, previous_time)) = self.previous
            && raw.time < previous_time
        {
            let first = self.first_time.unwrap_or(previous_time);
            return Err(error(format!(
                "time goes backwards: {} is before {} on line {previous_line} \
                 (times since the first row; rows must be sorted by time)",
                seconds(raw.time - first),
                seconds(previous_time - first),
            )));
        }
        let first = *self.first_time.get_or_insert(raw.time);
        let time_ns = u64::try_from(raw.time - first).map_err(|_| {
            error(format!(
                "time {} after the first row is too far from it (at most {} fits)",
                seconds(raw.time - first),
                seconds(i128::from(u64::MAX)),
            ))
        })?;
        self.previous = Some((raw.line, raw.time));
        self.rows += 1;
        Ok(Some(TraceRow {
            line: raw.line,
            time_ns,
            input_tokens: raw.input_tokens,
            output_tokens: raw.output_tokens,
        }))
    }

    /// Starts again at the first row (the file is reopened), e.g. to loop a trace.
    pub fn rewind(&mut self) -> Result<(), TraceError> {
        *self = TraceReader::open(&self.path, self.format)?;
        Ok(())
    }
}

fn with_path(path: &Path, error: RowError) -> TraceError {
    TraceError {
        path: path.to_owned(),
        line: error.line,
        column: error.column,
        message: error.message,
    }
}

/// Signed nanoseconds as seconds for messages: `12.5 s`, `-0.000001 s`, `3 s`.
fn seconds(nanos: i128) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let magnitude = nanos.unsigned_abs();
    let whole = magnitude / 1_000_000_000;
    let fraction = magnitude % 1_000_000_000;
    if fraction == 0 {
        format!("{sign}{whole} s")
    } else {
        let digits = format!("{fraction:09}");
        format!("{sign}{whole}.{} s", digits.trim_end_matches('0'))
    }
}

/// Which token count a value is, for messages and the zero check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TokenKind {
    Input,
    Output,
}

/// A token count from text: a whole number from 1 to `MAX_TOKENS` (`"12"`, also `"12.0"`).
fn token_count_from_text(text: &str, kind: TokenKind) -> Result<u32, String> {
    if text.is_empty() {
        return Err("empty value (expected a whole number of tokens)".to_owned());
    }
    if let Ok(value) = text.parse::<u64>() {
        return token_count_checked(value, kind);
    }
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => token_count_from_f64(value, text, kind),
        _ => Err(format!(
            "`{text}` is not a number (expected a whole number of tokens)"
        )),
    }
}

/// A token count from a JSON value: a number that is a whole number from 1 to `MAX_TOKENS`.
fn token_count_from_json(value: &serde_json::Value, kind: TokenKind) -> Result<u32, String> {
    match value {
        serde_json::Value::Number(number) => {
            if let Some(whole) = number.as_u64() {
                token_count_checked(whole, kind)
            } else {
                let text = number.to_string();
                match number.as_f64() {
                    Some(float) if float.is_finite() => token_count_from_f64(float, &text, kind),
                    _ => Err(format!("`{text}` is not a usable number of tokens")),
                }
            }
        }
        other => Err(format!(
            "{other} is not a number (expected a whole number of tokens)"
        )),
    }
}

fn token_count_from_f64(value: f64, text: &str, kind: TokenKind) -> Result<u32, String> {
    if value < 0.0 {
        Err(format!("negative token count `{text}`"))
    } else if value.fract() != 0.0 {
        Err(format!(
            "fractional token count `{text}` (expected a whole number)"
        ))
    } else if value > u32::MAX as f64 {
        Err(format!(
            "token count `{text}` is above the maximum {}",
            u32::MAX
        ))
    } else {
        token_count_checked(value as u64, kind)
    }
}

fn token_count_checked(value: u64, kind: TokenKind) -> Result<u32, String> {
    match (value, kind) {
        (0, TokenKind::Input) => {
            Err("zero input tokens: a request must have at least 1 input token".to_owned())
        }
        (0, TokenKind::Output) => {
            Err("zero output tokens: a request must generate at least 1 token".to_owned())
        }
        // The same ceiling as synthetic token counts: no model has a context near it, and
        // prompt + produced tokens stay far from u32 overflow.
        _ if value > crate::distribution::MAX_TOKENS as u64 => Err(format!(
            "token count {value} is above the maximum {}",
            crate::distribution::MAX_TOKENS
        )),
        _ => Ok(value as u32),
    }
}

/// What a CSV reader reads: the file, then one more `\n` (see [`CsvRows::read`]).
type CsvInput = std::io::Chain<File, &'static [u8]>;

/// Rows of a CSV trace (Azure or plain): columns found by name in the header.
///
/// The csv crate reads through its own buffer, one record at a time.
struct CsvRows {
    reader: csv::Reader<CsvInput>,
    record: csv::ByteRecord,
    /// Names of the time, input and output columns, as the format spells them.
    names: [&'static str; 3],
    /// Their positions in the header.
    positions: [usize; 3],
    header_len: usize,
    parse_time: fn(&str) -> Result<i128, String>,
}

impl fmt::Debug for CsvRows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsvRows")
            .field("names", &self.names)
            .field("positions", &self.positions)
            .finish_non_exhaustive()
    }
}

impl CsvRows {
    /// Reads the header and finds the three columns in it.
    fn open(
        file: File,
        names: [&'static str; 3],
        parse_time: fn(&str) -> Result<i128, String>,
    ) -> Result<Self, RowError> {
        use std::io::Read;
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(file.chain(&b"\n"[..]));
        let mut rows = CsvRows {
            reader,
            record: csv::ByteRecord::new(),
            names,
            positions: [0; 3],
            header_len: 0,
            parse_time,
        };
        let Some(header_line) = rows.read()? else {
            return Err(RowError::at(
                1,
                None,
                format!(
                    "no header: expected a first line naming the columns `{}`",
                    names.join(",")
                ),
            ));
        };
        let found: Vec<String> = rows
            .record
            .iter()
            .enumerate()
            .map(|(index, name)| {
                let name = if index == 0 {
                    name.strip_prefix(b"\xef\xbb\xbf").unwrap_or(name)
                } else {
                    name
                };
                String::from_utf8_lossy(name.trim_ascii()).into_owned()
            })
            .collect();
        for (position, name) in rows.positions.iter_mut().zip(names) {
            *position = found
                .iter()
                .position(|candidate| candidate.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    let listed: Vec<String> =
                        found.iter().map(|name| format!("`{name}`")).collect();
                    RowError::at(
                        header_line,
                        Some(name),
                        format!("missing column; the header has {}", listed.join(", ")),
                    )
                })?;
        }
        rows.header_len = found.len();
        Ok(rows)
    }

    /// Reads the next record that is not blank into `self.record`; returns the line it
    /// starts on, or `None` at the end of the file.
    ///
    /// csv-core counts every `\n` it consumes, but a record's recorded position is where
    /// reading began, before any blank lines it skipped. So the line is worked out from
    /// the end instead: only `\n` ends a record (a `\r` before it stays in the last field
    /// and is trimmed), and the input ends with an extra `\n`, so every record is followed
    /// by exactly one consumed `\n`. Its first line is then the count after reading it,
    /// minus the newlines inside its (quoted) fields, minus that one.
    fn read(&mut self) -> Result<Option<u64>, RowError> {
        loop {
            let before = self.reader.position().line();
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|error| csv_error(error, before))?;
            if !more {
                return Ok(None);
            }
            let after = self.reader.position().line();
            let inside: usize = self
                .record
                .iter()
                .map(|field| field.iter().filter(|&&byte| byte == b'\n').count())
                .sum();
            let line = after.saturating_sub(inside as u64 + 1).max(1);
            // A line of only whitespace (such as the `\r` of an empty CRLF line) is blank.
            if self.record.len() == 1 && self.record[0].trim_ascii().is_empty() {
                continue;
            }
            return Ok(Some(line));
        }
    }

    fn next_row(&mut self) -> Result<Option<RawRow>, RowError> {
        let Some(line) = self.read()? else {
            return Ok(None);
        };
        let fields = self.record.len();
        if fields > self.header_len {
            return Err(RowError::at(
                line,
                None,
                format!(
                    "the row has {fields} fields but the header has {}",
                    self.header_len
                ),
            ));
        }
        let mut values = [""; 3];
        for ((value, &position), name) in values.iter_mut().zip(&self.positions).zip(self.names) {
            let bytes = self.record.get(position).ok_or_else(|| {
                RowError::at(
                    line,
                    Some(name),
                    format!(
                        "missing field: the row has {fields} fields but the header has {}",
                        self.header_len
                    ),
                )
            })?;
            *value = std::str::from_utf8(bytes.trim_ascii())
                .map_err(|_| RowError::at(line, Some(name), "invalid UTF-8"))?;
        }
        let [time, input, output] = values;
        let [time_name, input_name, output_name] = self.names;
        if time.is_empty() {
            return Err(RowError::at(
                line,
                Some(time_name),
                "empty value (expected a time)",
            ));
        }
        let time = (self.parse_time)(time).map_err(|e| RowError::at(line, Some(time_name), e))?;
        let input_tokens = token_count_from_text(input, TokenKind::Input)
            .map_err(|e| RowError::at(line, Some(input_name), e))?;
        let output_tokens = token_count_from_text(output, TokenKind::Output)
            .map_err(|e| RowError::at(line, Some(output_name), e))?;
        Ok(Some(RawRow {
            line,
            time,
            input_tokens,
            output_tokens,
        }))
    }
}

/// A csv-crate error (reading byte records, only I/O can fail) as a [`RowError`].
fn csv_error(error: csv::Error, line: u64) -> RowError {
    let message = match error.kind() {
        csv::ErrorKind::Io(io) => format!("read error: {io}"),
        _ => error.to_string(),
    };
    RowError {
        line: Some(line),
        column: None,
        message,
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Small trace files in the temporary directory, removed when dropped.

    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU64, Ordering};

    pub(crate) struct TempTrace {
        path: PathBuf,
    }

    impl TempTrace {
        /// Writes `contents` to a fresh file whose name ends with `suffix`.
        pub(crate) fn new(suffix: &str, contents: impl AsRef<[u8]>) -> Self {
            static COUNTER: AtomicU64 = AtomicU64::new(0);
            let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!(
                "strait-trace-test-{}-{unique}-{suffix}",
                std::process::id()
            ));
            std::fs::write(&path, contents).expect("write temporary trace");
            TempTrace { path }
        }

        pub(crate) fn path(&self) -> &Path {
            &self.path
        }
    }

    impl Drop for TempTrace {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::TempTrace;
    use super::*;

    fn rows(path: &Path, format: TraceFormat) -> Vec<TraceRow> {
        let mut reader = TraceReader::open(path, format).unwrap();
        let mut out = Vec::new();
        while let Some(row) = reader.next_row().unwrap() {
            out.push(row);
        }
        out
    }

    /// The first error met while reading the whole file.
    fn first_error(contents: &str, format: TraceFormat) -> TraceError {
        let file = TempTrace::new("error", contents);
        let error = scan(file.path(), format).expect_err("the trace should be refused");
        println!("{error}");
        error
    }

    fn assert_error(error: &TraceError, line: Option<u64>, column: Option<&str>, words: &str) {
        assert_eq!(error.line, line, "{error}");
        assert_eq!(error.column.as_deref(), column, "{error}");
        assert!(error.message.contains(words), "`{words}` not in: {error}");
    }

    #[test]
    fn format_names_round_trip() {
        for name in TraceFormat::NAMES {
            let format = TraceFormat::parse(name).unwrap();
            assert_eq!(format.name(), name);
            assert_eq!(format.to_string(), name);
        }
        assert_eq!(TraceFormat::parse("csv"), None);
        assert_eq!(TraceFormat::parse(""), None);
    }

    #[test]
    fn error_display_has_path_line_column_message() {
        let mut error = TraceError {
            path: PathBuf::from("t.csv"),
            line: Some(4),
            column: Some("ContextTokens".to_owned()),
            message: "negative token count `-1`".to_owned(),
        };
        assert_eq!(
            error.to_string(),
            "t.csv:4: column `ContextTokens`: negative token count `-1`"
        );
        error.column = None;
        assert_eq!(error.to_string(), "t.csv:4: negative token count `-1`");
        error.line = None;
        assert_eq!(error.to_string(), "t.csv: negative token count `-1`");
        let boxed: Box<dyn std::error::Error> = Box::new(error);
        assert!(boxed.to_string().starts_with("t.csv"));
    }

    #[test]
    fn seconds_for_messages() {
        assert_eq!(seconds(0), "0 s");
        assert_eq!(seconds(12_500_000_000), "12.5 s");
        assert_eq!(seconds(-1_000), "-0.000001 s");
    }

    #[test]
    fn missing_file_has_no_line() {
        let path = std::env::temp_dir().join("strait-trace-test-does-not-exist.csv");
        let error = TraceReader::open(&path, TraceFormat::Plain).unwrap_err();
        assert_error(&error, None, None, "cannot open");
        let error = scan(&path, TraceFormat::Mooncake).unwrap_err();
        assert_error(&error, None, None, "cannot open");
    }

    #[test]
    fn columns_found_by_name_in_any_order_with_extras() {
        let file = TempTrace::new(
            "plain.csv",
            "note,Output_Tokens,time_s,input_tokens\nx,5,0.5,10\n\ny,6,1.5,20\n",
        );
        let rows = rows(file.path(), TraceFormat::Plain);
        assert_eq!(
            rows,
            vec![
                TraceRow {
                    line: 2,
                    time_ns: 0,
                    input_tokens: 10,
                    output_tokens: 5
                },
                TraceRow {
                    line: 4,
                    time_ns: 1_000_000_000,
                    input_tokens: 20,
                    output_tokens: 6
                },
            ]
        );
    }

    #[test]
    fn missing_column_is_named_and_found_columns_listed() {
        let error = first_error("TIMESTAMP,Context,GeneratedTokens\n", TraceFormat::Azure);
        assert_error(&error, Some(1), Some("ContextTokens"), "missing column");
        assert!(
            error
                .message
                .contains("`TIMESTAMP`, `Context`, `GeneratedTokens`"),
            "{error}"
        );
        let error = first_error("", TraceFormat::Plain);
        assert_error(&error, Some(1), None, "no header");
    }

    #[test]
    fn header_only_is_an_empty_trace() {
        let error = first_error("time_s,input_tokens,output_tokens\n", TraceFormat::Plain);
        assert_error(&error, None, None, "empty trace");
        let error = first_error(
            "TIMESTAMP,ContextTokens,GeneratedTokens\r\n",
            TraceFormat::Azure,
        );
        assert_error(&error, None, None, "empty trace");
    }

    #[test]
    fn line_numbers_count_blank_lines_and_crlf() {
        let contents =
            "\r\ntime_s,input_tokens,output_tokens\r\n\r\n0,1,1\r\n  \r\n\n1,1,1\r\n2,0,1";
        let file = TempTrace::new("plain.csv", contents);
        let mut reader = TraceReader::open(file.path(), TraceFormat::Plain).unwrap();
        assert_eq!(reader.next_row().unwrap().unwrap().line, 4);
        assert_eq!(reader.next_row().unwrap().unwrap().line, 7);
        let error = reader.next_row().unwrap_err();
        assert_error(&error, Some(8), Some("input_tokens"), "zero input tokens");
        let error = first_error("\n\nTIMESTAMP,GeneratedTokens\n", TraceFormat::Azure);
        assert_error(&error, Some(3), Some("ContextTokens"), "missing column");
    }

    #[test]
    fn short_and_long_rows_give_their_line() {
        let header = "time_s,input_tokens,output_tokens\n";
        let error = first_error(&format!("{header}0,1,1\n1,2\n"), TraceFormat::Plain);
        assert_error(&error, Some(3), Some("output_tokens"), "missing field");
        let error = first_error(&format!("{header}0,1,1\n1,2,3,4\n"), TraceFormat::Plain);
        assert_error(&error, Some(3), None, "4 fields but the header has 3");
        let error = first_error(&format!("{header}0,1,1\n1,,3\n"), TraceFormat::Plain);
        assert_error(&error, Some(3), Some("input_tokens"), "empty value");
        let error = first_error(&format!("{header}0,1,1\n,1,3\n"), TraceFormat::Plain);
        assert_error(&error, Some(3), Some("time_s"), "empty value");
    }

    #[test]
    fn bad_token_counts_give_their_line_and_problem() {
        let header = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
        let good = "2023-11-16 18:15:46.6805900,374,44\n";
        let cases = [
            ("abc", "44", "ContextTokens", "not a number"),
            ("-3", "44", "ContextTokens", "negative"),
            ("2.5", "44", "ContextTokens", "fractional"),
            ("374", "4294967296", "GeneratedTokens", "above the maximum"),
            ("374", "1e20", "GeneratedTokens", "above the maximum"),
            (
                "374",
                "10000001",
                "GeneratedTokens",
                "above the maximum 10000000",
            ),
            ("0", "44", "ContextTokens", "zero input tokens"),
            ("374", "0", "GeneratedTokens", "at least 1 token"),
        ];
        for (input, output, column, words) in cases {
            let contents = format!("{header}{good}{good}2023-11-16 18:15:47,{input},{output}\n");
            let error = first_error(&contents, TraceFormat::Azure);
            assert_error(&error, Some(4), Some(column), words);
        }
        // Whole numbers written as decimals and the maximum itself are fine.
        let file = TempTrace::new(
            "azure.csv",
            format!("{header}2023-11-16 18:15:47,7.0,10000000\n"),
        );
        let rows = rows(file.path(), TraceFormat::Azure);
        assert_eq!(
            (rows[0].input_tokens, rows[0].output_tokens),
            (7, 10_000_000)
        );
        // One above the maximum is refused.
        let error = first_error(
            &format!("{header}{good}{good}2023-11-16 18:15:47,7,10000001\n"),
            TraceFormat::Azure,
        );
        assert_error(
            &error,
            Some(4),
            Some("GeneratedTokens"),
            "above the maximum",
        );
    }

    #[test]
    fn unsorted_rows_name_the_previous_line_and_time() {
        let contents = "time_s,input_tokens,output_tokens\n0,1,1\n2.5,1,1\n2.5,1,1\n1.25,1,1\n";
        let error = first_error(contents, TraceFormat::Plain);
        assert_error(&error, Some(5), Some("time_s"), "time goes backwards");
        assert!(
            error.message.contains("1.25 s is before 2.5 s on line 4"),
            "{error}"
        );
    }

    #[test]
    fn scan_sums_rows_span_and_tokens() {
        let file = TempTrace::new(
            "plain.csv",
            "time_s,input_tokens,output_tokens\n10,100,1\n10.5,200,2\n12.25,300,3\n",
        );
        let summary = scan(file.path(), TraceFormat::Plain).unwrap();
        assert_eq!(
            summary,
            TraceSummary {
                rows: 3,
                span_ns: 2_250_000_000,
                input_tokens: 600,
                output_tokens: 6,
            }
        );
    }

    #[test]
    fn rewind_starts_again_at_the_first_row() {
        let file = TempTrace::new(
            "plain.csv",
            "time_s,input_tokens,output_tokens\n3,100,1\n4,200,2\n",
        );
        let mut reader = TraceReader::open(file.path(), TraceFormat::Plain).unwrap();
        let first = reader.next_row().unwrap().unwrap();
        reader.next_row().unwrap().unwrap();
        assert_eq!(reader.next_row().unwrap(), None);
        assert_eq!(reader.next_row().unwrap(), None);
        reader.rewind().unwrap();
        assert_eq!(reader.next_row().unwrap(), Some(first));
        assert_eq!(first.time_ns, 0);
        assert_eq!(first.line, 2);
    }

    #[test]
    fn invalid_utf8_is_an_error_with_a_line() {
        let mut contents = b"time_s,input_tokens,output_tokens\n0,1,1\n1,".to_vec();
        contents.extend_from_slice(&[0xff, 0xfe, b'\n']);
        let file = TempTrace::new("plain.csv", contents);
        let error = scan(file.path(), TraceFormat::Plain).unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
        assert!(error.message.contains("UTF-8"), "{error}");
    }

    /// Random bytes and near-miss rows: every format reports an error or a summary, and
    /// never panics.
    #[test]
    fn garbage_never_panics() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(7);
        let pieces: [&[u8]; 16] = [
            b"TIMESTAMP,ContextTokens,GeneratedTokens\n",
            b"time_s,input_tokens,output_tokens\n",
            b"{\"timestamp\": 5, \"input_length\": 3, \"output_length\": 2}\n",
            b"2023-11-16 18:15:46.6805900",
            b"9999-12-31 23:59:59.999999999",
            b"0000-01-01 00:00:00",
            b",",
            b"\n",
            b"\"",
            b"-",
            b"1e308",
            b"18446744073709551616",
            b"{",
            b"0.5",
            &[0xff, 0x00],
            b"  ",
        ];
        for case in 0..150 {
            let mut contents = Vec::new();
            for _ in 0..rng.random_range(0..12) {
                contents.extend_from_slice(pieces[rng.random_range(0..pieces.len())]);
            }
            let file = TempTrace::new(&format!("garbage-{case}"), &contents);
            for format in [
                TraceFormat::Azure,
                TraceFormat::Mooncake,
                TraceFormat::Plain,
            ] {
                let _ = scan(file.path(), format);
            }
        }
    }
}
