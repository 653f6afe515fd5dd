//! Replaying a trace as arrivals in simulated time.
//!
//! A [`TraceReplay`] streams a trace file (after [`scan`](super::scan) has validated it
//! and produced its [`TraceSummary`]) and turns each row into zero or more
//! [`ReplayArrival`]s, in non-decreasing time order, one at a time.
//!
//! ## Semantics
//!
//! Let `t` be a row's trace time (nanoseconds since the file's first row), `k` the pass
//! over the file (0 for the first), `P` the loop period and the [`ReplayOptions`] be
//! `offset`, `speedup`, `scale`, `looped`. Then:
//!
//! - **Offset and speed-up.** The row arrives at simulated time
//!   `round((k·P + t − offset) / speedup)` nanoseconds: trace time `offset` maps to
//!   simulated time 0, and `speedup` 2 replays the trace twice as fast (twice the rate).
//!   In the first pass, rows with `t < offset` are skipped. The offset must lie within the
//!   trace (`offset ≤ span`).
//! - **Scale.** `scale` multiplies the rate without changing the time pattern: each row
//!   is emitted `floor(scale)` times, plus once more with probability `frac(scale)`, all
//!   copies at the row's time. So `scale` 0.5 keeps each row with probability ½
//!   (thinning), 2 doubles every row exactly, and 1.5 emits each row once or twice with
//!   equal chance. One uniform draw is taken per row only when `scale` is not a whole
//!   number; a whole `scale` uses no randomness at all. `scale` must be positive.
//! - **Looping.** Without `looped`, the replay ends with the file ([`TraceReplay::next`]
//!   returns `Ok(None)`). With it, the file starts again from its first row, shifted by
//!   one period `P = span + span / (rows − 1)`: the span plus one mean gap between rows,
//!   so that the last row of a pass and the first of the next do not stack up (the mean
//!   gap is at least 1 ns). A trace of a single row, or whose rows all share one time
//!   (span 0), has no mean gap; it repeats every `P` = 1 s of trace time. The offset
//!   applies only to the first pass: later passes replay the whole file.
//!
//! Times are integers computed afresh for each row from `k`, `P`, `t` and `offset` in
//! 128-bit arithmetic (only the division by `speedup` goes through `f64`, and with
//! `speedup` 1 not even that), so long loops do not accumulate drift; results beyond
//! `u64::MAX` ns saturate.
//!
//! ## Worked example
//!
//! A trace of 5 rows at 0, 10, 20, 30 and 40 s has span 40 s and mean gap 40 s / 4 =
//! 10 s, so `P` = 50 s. Replayed with `offset` = 15 s, `speedup` = 2, `scale` = 1 and
//! `looped`:
//!
//! | pass `k` | trace times `t` (s) | `(k·50 + t − 15) / 2` = simulated times (s) |
//! |---|---|---|
//! | 0 | 20, 30, 40 (0 and 10 are before the offset) | 2.5, 7.5, 12.5 |
//! | 1 | 0, 10, 20, 30, 40 | 17.5, 22.5, 27.5, 32.5, 37.5 |
//! | 2 | 0, 10, … | 42.5, 47.5, … |
//!
//! The wrap from 12.5 s to 17.5 s keeps the 5 s spacing (10 s of trace time at double
//! speed). With `scale` = 2 every one of these times would appear twice.

use std::path::Path;

use rand::RngExt;

use super::{TraceError, TraceFormat, TraceReader, TraceSummary};

const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// How to map a trace onto simulated time; see the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReplayOptions {
    /// Trace time (ns since the first row) that becomes simulated time 0.
    pub offset_ns: u64,
    /// Trace seconds per simulated second; 2 replays twice as fast.
    pub speedup: f64,
    /// Rate multiplier: thinning below 1, copies at and above 1.
    pub scale: f64,
    /// Start the file again at its end, instead of ending the replay.
    pub looped: bool,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            offset_ns: 0,
            speedup: 1.0,
            scale: 1.0,
            looped: false,
        }
    }
}

/// One replayed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayArrival {
    /// Simulated time, in nanoseconds since the start of the run.
    pub time_ns: u64,
    pub input_tokens: u32,
    pub output_tokens: u32,
}

/// A trace streamed as arrivals: only the current row is in memory.
#[derive(Debug)]
pub struct TraceReplay {
    reader: TraceReader,
    options: ReplayOptions,
    /// `floor(scale)` and `frac(scale)`.
    whole_copies: u64,
    extra_copy_probability: f64,
    /// Span the summary recorded: a longer file has changed since it was scanned.
    span_ns: u64,
    period_ns: u64,
    /// Pass over the file, 0 for the first.
    pass: u64,
    /// The arrival being repeated, and how many more times it is due.
    current: ReplayArrival,
    copies_left: u64,
    /// Time of the last arrival returned, to keep times non-decreasing whatever happens.
    last_time_ns: u64,
    finished: bool,
}

impl TraceReplay {
    /// Opens `path` for replay. `summary` is what [`scan`](super::scan) returned for it.
    pub fn new(
        path: &Path,
        format: TraceFormat,
        options: ReplayOptions,
        summary: &TraceSummary,
    ) -> Result<Self, TraceError> {
        let refuse = |message: String| TraceError {
            path: path.to_owned(),
            line: None,
            column: None,
            message,
        };
        if !(options.speedup.is_finite() && options.speedup > 0.0) {
            return Err(refuse(format!(
                "replay speedup must be a positive number, not {}",
                options.speedup
            )));
        }
        if !(options.scale.is_finite() && options.scale > 0.0) {
            return Err(refuse(format!(
                "replay scale must be a positive number, not {}",
                options.scale
            )));
        }
        if summary.rows == 0 {
            return Err(refuse("empty trace: the summary has no rows".to_owned()));
        }
        if options.offset_ns > summary.span_ns {
            return Err(refuse(format!(
                "replay offset {} s is beyond the end of the trace, which spans {} s",
                options.offset_ns as f64 / 1e9,
                summary.span_ns as f64 / 1e9
            )));
        }
        let reader = TraceReader::open(path, format)?;
        let whole = options.scale.floor();
        Ok(TraceReplay {
            reader,
            options,
            // A float-to-int cast saturates; absurd scales are the caller's business.
            whole_copies: whole as u64,
            extra_copy_probability: options.scale - whole,
            span_ns: summary.span_ns,
            period_ns: loop_period(summary),
            pass: 0,
            current: ReplayArrival {
                time_ns: 0,
                input_tokens: 0,
                output_tokens: 0,
            },
            copies_left: 0,
            last_time_ns: 0,
            finished: false,
        })
    }

    /// Trace time between the starts of two passes when looping.
    pub fn period_ns(&self) -> u64 {
        self.period_ns
    }

    /// The next arrival, `Ok(None)` once a replay without looping has used up the file.
    /// `rng` is drawn from only when `scale` is not a whole number, once per row.
    pub fn next<R: rand::Rng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<Option<ReplayArrival>, TraceError> {
        loop {
            if self.copies_left > 0 {
                self.copies_left -= 1;
                return Ok(Some(self.current));
            }
            if self.finished {
                return Ok(None);
            }
            let Some(row) = self.reader.next_row()? else {
                if self.options.looped {
                    self.reader.rewind()?;
                    self.pass += 1;
                    continue;
                }
                self.finished = true;
                return Ok(None);
            };
            if row.time_ns > self.span_ns {
                return Err(TraceError {
                    path: self.reader.path().to_owned(),
                    line: Some(row.line),
                    column: None,
                    message: format!(
                        "the row is {} s after the first, beyond the {} s span found when \
                         the trace was scanned (has the file changed?)",
                        row.time_ns as f64 / 1e9,
                        self.span_ns as f64 / 1e9
                    ),
                });
            }
            if self.pass == 0 && row.time_ns < self.options.offset_ns {
                continue;
            }
            let extra = self.extra_copy_probability > 0.0
                && rng.random::<f64>() < self.extra_copy_probability;
            let copies = self.whole_copies.saturating_add(u64::from(extra));
            if copies == 0 {
                continue;
            }
            let time_ns = self.simulated_time(row.time_ns).max(self.last_time_ns);
            self.last_time_ns = time_ns;
            self.current = ReplayArrival {
                time_ns,
                input_tokens: row.input_tokens,
                output_tokens: row.output_tokens,
            };
            self.copies_left = copies;
        }
    }

    /// `round((pass · period + trace_time − offset) / speedup)`, saturating at `u64::MAX`.
    fn simulated_time(&self, trace_time_ns: u64) -> u64 {
        let trace = u128::from(self.pass) * u128::from(self.period_ns) + u128::from(trace_time_ns);
        let since_offset = trace.saturating_sub(u128::from(self.options.offset_ns));
        if self.options.speedup == 1.0 {
            u64::try_from(since_offset).unwrap_or(u64::MAX)
        } else {
            // Float-to-int casts saturate, so huge values become u64::MAX.
            crate::engine::round_half_away_u64(since_offset as f64 / self.options.speedup)
        }
    }
}

/// `span + span / (rows − 1)`, with a mean gap of at least 1 ns; 1 s when the trace has
/// one row or all its rows share one time.
fn loop_period(summary: &TraceSummary) -> u64 {
    if summary.rows <= 1 || summary.span_ns == 0 {
        return NANOS_PER_SECOND;
    }
    let mean_gap = (summary.span_ns / (summary.rows - 1)).max(1);
    summary.span_ns.saturating_add(mean_gap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::scan;
    use crate::trace::test_support::TempTrace;
    use rand::{Rng, SeedableRng};

    type TestRng = rand::rngs::Xoshiro256PlusPlus;

    /// A plain trace with rows at `times` seconds; row `i` has `i + 1` input tokens.
    fn plain_trace(times: &[f64]) -> TempTrace {
        let mut contents = String::from("time_s,input_tokens,output_tokens\n");
        for (index, time) in times.iter().enumerate() {
            contents.push_str(&format!("{time},{},7\n", index + 1));
        }
        TempTrace::new("replay.csv", contents)
    }

    fn replay(file: &TempTrace, options: ReplayOptions) -> TraceReplay {
        let summary = scan(file.path(), TraceFormat::Plain).unwrap();
        TraceReplay::new(file.path(), TraceFormat::Plain, options, &summary).unwrap()
    }

    /// Up to `limit` arrivals, checking that times never decrease.
    fn arrivals(replay: &mut TraceReplay, rng: &mut TestRng, limit: usize) -> Vec<ReplayArrival> {
        let mut out: Vec<ReplayArrival> = Vec::new();
        while out.len() < limit {
            let Some(arrival) = replay.next(rng).unwrap() else {
                break;
            };
            if let Some(last) = out.last() {
                assert!(arrival.time_ns >= last.time_ns, "{last:?} then {arrival:?}");
            }
            out.push(arrival);
        }
        out
    }

    fn times_s(arrivals: &[ReplayArrival]) -> Vec<f64> {
        arrivals.iter().map(|a| a.time_ns as f64 / 1e9).collect()
    }

    #[test]
    fn default_replays_the_file_as_is() {
        let file = plain_trace(&[100.0, 100.5, 103.0]);
        let mut replay = replay(&file, ReplayOptions::default());
        let mut rng = TestRng::seed_from_u64(1);
        let got = arrivals(&mut replay, &mut rng, 100);
        assert_eq!(times_s(&got), [0.0, 0.5, 3.0]);
        assert_eq!(got[1].input_tokens, 2);
        assert_eq!(got[1].output_tokens, 7);
        assert_eq!(replay.next(&mut rng).unwrap(), None);
        assert_eq!(replay.next(&mut rng).unwrap(), None);
    }

    #[test]
    fn offset_skips_earlier_rows_and_speedup_compresses_time() {
        let file = plain_trace(&[0.0, 10.0, 20.0, 30.0, 40.0]);
        let options = ReplayOptions {
            offset_ns: 15 * NANOS_PER_SECOND,
            speedup: 2.0,
            ..ReplayOptions::default()
        };
        let mut rng = TestRng::seed_from_u64(1);
        let got = arrivals(&mut replay(&file, options), &mut rng, 100);
        assert_eq!(times_s(&got), [2.5, 7.5, 12.5]);
        assert_eq!(got[0].input_tokens, 3);
        // An offset exactly at a row keeps that row, at time 0.
        let options = ReplayOptions {
            offset_ns: 40 * NANOS_PER_SECOND,
            ..ReplayOptions::default()
        };
        let got = arrivals(&mut replay(&file, options), &mut rng, 100);
        assert_eq!(times_s(&got), [0.0]);
    }

    /// The worked example of the module docs.
    #[test]
    fn looping_continues_past_the_end_with_one_period_per_pass() {
        let file = plain_trace(&[0.0, 10.0, 20.0, 30.0, 40.0]);
        let options = ReplayOptions {
            offset_ns: 15 * NANOS_PER_SECOND,
            speedup: 2.0,
            scale: 1.0,
            looped: true,
        };
        let mut replay = replay(&file, options);
        assert_eq!(replay.period_ns(), 50 * NANOS_PER_SECOND);
        let mut rng = TestRng::seed_from_u64(1);
        let got = arrivals(&mut replay, &mut rng, 10);
        assert_eq!(
            times_s(&got),
            [2.5, 7.5, 12.5, 17.5, 22.5, 27.5, 32.5, 37.5, 42.5, 47.5]
        );
        let tokens: Vec<u32> = got.iter().map(|a| a.input_tokens).collect();
        assert_eq!(tokens, [3, 4, 5, 1, 2, 3, 4, 5, 1, 2]);
    }

    #[test]
    fn many_loops_stay_exact() {
        // Period 3 s + 3 s / 2 = 4.5 s; after 1,000 passes the times are still exact.
        let file = plain_trace(&[0.0, 1.0, 3.0]);
        let options = ReplayOptions {
            looped: true,
            ..ReplayOptions::default()
        };
        let mut replay = replay(&file, options);
        assert_eq!(replay.period_ns(), 4_500_000_000);
        let mut rng = TestRng::seed_from_u64(1);
        let got = arrivals(&mut replay, &mut rng, 3_001);
        assert_eq!(got[3_000].time_ns, 1_000 * 4_500_000_000);
        assert_eq!(got[2_999].time_ns, 999 * 4_500_000_000 + 3_000_000_000);
    }

    #[test]
    fn single_row_and_zero_span_traces_loop_every_second() {
        let file = plain_trace(&[42.0]);
        let options = ReplayOptions {
            looped: true,
            ..ReplayOptions::default()
        };
        let mut replay = replay(&file, options);
        assert_eq!(replay.period_ns(), NANOS_PER_SECOND);
        let mut rng = TestRng::seed_from_u64(1);
        assert_eq!(
            times_s(&arrivals(&mut replay, &mut rng, 3)),
            [0.0, 1.0, 2.0]
        );

        let file = plain_trace(&[5.0, 5.0]);
        let mut replay = self::replay(&file, options);
        assert_eq!(replay.period_ns(), NANOS_PER_SECOND);
        assert_eq!(
            times_s(&arrivals(&mut replay, &mut rng, 4)),
            [0.0, 0.0, 1.0, 1.0]
        );
    }

    #[test]
    fn scale_two_doubles_every_row_exactly_without_randomness() {
        let file = plain_trace(&[0.0, 1.0, 2.5]);
        let options = ReplayOptions {
            scale: 2.0,
            ..ReplayOptions::default()
        };
        let mut rng = TestRng::seed_from_u64(9);
        let got = arrivals(&mut replay(&file, options), &mut rng, 100);
        assert_eq!(times_s(&got), [0.0, 0.0, 1.0, 1.0, 2.5, 2.5]);
        let tokens: Vec<u32> = got.iter().map(|a| a.input_tokens).collect();
        assert_eq!(tokens, [1, 1, 2, 2, 3, 3]);
        // No draw was taken: the generator is where a fresh one starts.
        assert_eq!(rng.next_u64(), TestRng::seed_from_u64(9).next_u64());
    }

    fn many_rows(count: usize) -> TempTrace {
        let times: Vec<f64> = (0..count).map(|index| index as f64 * 0.01).collect();
        plain_trace(&times)
    }

    #[test]
    fn scale_half_keeps_about_half_with_one_draw_per_row() {
        let rows = 10_000;
        let file = many_rows(rows);
        let options = ReplayOptions {
            scale: 0.5,
            ..ReplayOptions::default()
        };
        let mut rng = TestRng::seed_from_u64(3);
        let kept = arrivals(&mut replay(&file, options), &mut rng, usize::MAX).len();
        let expected = rows as f64 * 0.5;
        let deviation = (rows as f64 * 0.5 * 0.5).sqrt();
        println!(
            "scale 0.5: kept {kept} of {rows} rows, expected {expected} ± {:.0} (3 sd)",
            3.0 * deviation
        );
        assert!((kept as f64 - expected).abs() <= 3.0 * deviation);
        // Exactly one uniform draw per row.
        let mut fresh = TestRng::seed_from_u64(3);
        for _ in 0..rows {
            fresh.next_u64();
        }
        assert_eq!(rng.next_u64(), fresh.next_u64());
    }

    #[test]
    fn scale_one_and_a_half_gives_one_or_two_copies_per_row() {
        let rows = 10_000;
        let file = many_rows(rows);
        let options = ReplayOptions {
            scale: 1.5,
            ..ReplayOptions::default()
        };
        let mut rng = TestRng::seed_from_u64(4);
        let got = arrivals(&mut replay(&file, options), &mut rng, usize::MAX);
        // Copies share their row's time and tokens; every row appears once or twice.
        let mut per_row = vec![0u32; rows];
        for arrival in &got {
            let row = arrival.input_tokens as usize - 1;
            assert_eq!(arrival.time_ns, row as u64 * 10_000_000);
            per_row[row] += 1;
        }
        assert!(per_row.iter().all(|&copies| copies == 1 || copies == 2));
        let doubled = per_row.iter().filter(|&&copies| copies == 2).count();
        let expected = rows as f64 * 1.5;
        let deviation = (rows as f64 * 0.5 * 0.5).sqrt();
        println!(
            "scale 1.5: {} arrivals from {rows} rows ({doubled} doubled), expected {expected} ± {:.0} (3 sd)",
            got.len(),
            3.0 * deviation
        );
        assert_eq!(got.len(), rows + doubled);
        assert!((got.len() as f64 - expected).abs() <= 3.0 * deviation);
    }

    #[test]
    fn looped_thinning_still_moves_forward() {
        let file = plain_trace(&[0.0, 1.0]);
        let options = ReplayOptions {
            scale: 0.01,
            looped: true,
            ..ReplayOptions::default()
        };
        let mut rng = TestRng::seed_from_u64(5);
        let got = arrivals(&mut replay(&file, options), &mut rng, 20);
        assert_eq!(got.len(), 20);
        assert!(got[19].time_ns > 10 * 2 * NANOS_PER_SECOND);
    }

    #[test]
    fn bad_options_are_refused() {
        let file = plain_trace(&[0.0, 10.0]);
        let summary = scan(file.path(), TraceFormat::Plain).unwrap();
        let cases = [
            (
                ReplayOptions {
                    speedup: 0.0,
                    ..ReplayOptions::default()
                },
                "speedup",
            ),
            (
                ReplayOptions {
                    speedup: f64::NAN,
                    ..ReplayOptions::default()
                },
                "speedup",
            ),
            (
                ReplayOptions {
                    scale: 0.0,
                    ..ReplayOptions::default()
                },
                "scale",
            ),
            (
                ReplayOptions {
                    scale: f64::INFINITY,
                    ..ReplayOptions::default()
                },
                "scale",
            ),
            (
                ReplayOptions {
                    offset_ns: 11 * NANOS_PER_SECOND,
                    ..ReplayOptions::default()
                },
                "beyond the end",
            ),
        ];
        for (options, words) in cases {
            let error = TraceReplay::new(file.path(), TraceFormat::Plain, options, &summary)
                .expect_err(words);
            assert!(error.message.contains(words), "`{words}` not in: {error}");
        }
        let empty = TraceSummary::default();
        let error = TraceReplay::new(
            file.path(),
            TraceFormat::Plain,
            ReplayOptions::default(),
            &empty,
        )
        .unwrap_err();
        assert!(error.message.contains("empty"), "{error}");
    }

    #[test]
    fn a_file_longer_than_its_summary_is_refused() {
        let file = plain_trace(&[0.0, 10.0, 20.0]);
        let summary = TraceSummary {
            rows: 2,
            span_ns: 10 * NANOS_PER_SECOND,
            input_tokens: 3,
            output_tokens: 14,
        };
        let mut replay = TraceReplay::new(
            file.path(),
            TraceFormat::Plain,
            ReplayOptions::default(),
            &summary,
        )
        .unwrap();
        let mut rng = TestRng::seed_from_u64(1);
        replay.next(&mut rng).unwrap();
        replay.next(&mut rng).unwrap();
        let error = replay.next(&mut rng).unwrap_err();
        assert_eq!(error.line, Some(4));
        assert!(error.message.contains("has the file changed"), "{error}");
    }
}
