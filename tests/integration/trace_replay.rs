//! Demand replayed from trace files: the shipped Azure trace arrives exactly as written,
//! replay options do what they say, bad files stop with their line number (exit 2), and
//! bursty synthetic arrivals have the variability asked for.

use std::path::{Path, PathBuf};

use crate::common::{scenario, simulate, stderr, strait, temp_dir, write_temp};

const AZURE_CONV_ROWS: u64 = 19_366;
const AZURE_CONV_INPUT_TOKENS: u64 = 22_361_870;
const AZURE_CONV_OUTPUT_TOKENS: u64 = 4_088_665;

fn shipped_trace(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("traces")
        .join(name)
}

/// A region with a fast plain station (the trace, not serving, is under test) and one
/// tenant whose demand is `demand` (TOML fields of the tenant).
fn replay_scenario(duration: &str, demand: &str) -> String {
    format!(
        r#"
        [run]
        duration = "{duration}"
        seed = 9
        [[site]]
        id = "dc"
        kind = "region"
        jurisdiction = "US"
        [[model]]
        id = "m"
        [[deployment]]
        id = "d"
        model = "m"
        site = "dc"
        replicas = 50
        service = {{ dist = "deterministic", mean = "1ms" }}
        [[tenant]]
        id = "t"
        jurisdiction = "US"
        ingress = {{ dc = 1.0 }}
        models = {{ m = 1.0 }}
        {demand}
        "#
    )
}

fn trace_field(path: &Path, format: &str, options: &str) -> String {
    format!(
        "trace = {{ file = \"{}\", format = \"{format}\"{options} }}",
        path.display()
    )
}

#[test]
fn the_azure_conversation_trace_replays_exactly() {
    let trace = shipped_trace("azure-conv-2023.csv");
    let output = simulate(scenario(&replay_scenario(
        "2h",
        &trace_field(&trace, "azure", ""),
    )));
    let tenant = &output.metrics.tenants[0];
    println!(
        "requests {} (file {AZURE_CONV_ROWS}), mean input {:.4} (file {:.4}), mean output {:.4} (file {:.4})",
        tenant.generated,
        tenant.input_tokens as f64 / tenant.generated as f64,
        AZURE_CONV_INPUT_TOKENS as f64 / AZURE_CONV_ROWS as f64,
        tenant.output_tokens as f64 / tenant.generated as f64,
        AZURE_CONV_OUTPUT_TOKENS as f64 / AZURE_CONV_ROWS as f64,
    );
    assert_eq!(tenant.generated, AZURE_CONV_ROWS);
    assert_eq!(tenant.input_tokens, AZURE_CONV_INPUT_TOKENS);
    assert_eq!(tenant.output_tokens, AZURE_CONV_OUTPUT_TOKENS);
    assert_eq!(tenant.completed, AZURE_CONV_ROWS);
}

#[test]
fn speed_up_offset_and_scale_reshape_the_replay() {
    let trace = shipped_trace("azure-conv-2023.csv");
    let count = |duration: &str, options: &str| {
        let text = replay_scenario(duration, &trace_field(&trace, "azure", options));
        simulate(scenario(&text)).metrics.tenants[0].generated
    };
    // Twice as fast: the whole hour (3,501.7 s of rows) fits in 30 minutes.
    assert_eq!(count("30m", ", speedup = 2.0"), AZURE_CONV_ROWS);
    assert!(count("30m", "") < AZURE_CONV_ROWS * 6 / 10);
    // Every row twice.
    assert_eq!(count("2h", ", scale = 2.0"), 2 * AZURE_CONV_ROWS);
    // Thinning to a quarter: binomial, four standard deviations.
    let thinned = count("2h", ", scale = 0.25") as f64;
    let (mean, sd) = (
        AZURE_CONV_ROWS as f64 * 0.25,
        (AZURE_CONV_ROWS as f64 * 0.25 * 0.75).sqrt(),
    );
    println!(
        "scale 0.25: {thinned} rows, expected {mean:.0} ± {:.0}",
        4.0 * sd
    );
    assert!((thinned - mean).abs() < 4.0 * sd);
    // Skipping the first 30 minutes leaves the rows after it.
    let after_offset = count("2h", ", offset = \"30m\"");
    let full = count("2h", "");
    println!("offset 30m: {after_offset} of {full} rows");
    assert!(after_offset > full * 4 / 10 && after_offset < full * 6 / 10);
}

#[test]
fn looping_repeats_the_trace_one_period_apart() {
    // Rows at 0, 1 and 2 s: the loop period is the span plus one mean gap, 3 s, so arrivals
    // fall on every whole second; 9.5 s hold 10 of them.
    let path = write_temp(
        "three.csv",
        "time_s,input_tokens,output_tokens\n0,5,1\n1,6,2\n2,7,3\n",
    );
    let text = replay_scenario("9.5s", &trace_field(&path, "plain", ", loop = true"));
    let tenant = &simulate(scenario(&text)).metrics.tenants[0];
    println!(
        "looped: {} requests, {} input tokens",
        tenant.generated, tenant.input_tokens
    );
    assert_eq!(tenant.generated, 10);
    // Three full passes (18 tokens each) and the first row again.
    assert_eq!(tenant.input_tokens, 3 * 18 + 5);
}

#[test]
fn mooncake_traces_replay_with_their_lengths() {
    let path = write_temp(
        "trace.jsonl",
        concat!(
            "{\"timestamp\": 0, \"input_length\": 6758, \"output_length\": 500, \"hash_ids\": [0, 1, 2]}\n",
            "{\"timestamp\": 1500, \"input_length\": 100, \"output_length\": 20, \"hash_ids\": [3]}\n",
            "{\"timestamp\": 1500, \"input_length\": 42, \"output_length\": 7, \"hash_ids\": []}\n",
        ),
    );
    let text = replay_scenario("10s", &trace_field(&path, "mooncake", ""));
    let tenant = &simulate(scenario(&text)).metrics.tenants[0];
    assert_eq!(
        (tenant.generated, tenant.input_tokens, tenant.output_tokens),
        (3, 6900, 527)
    );
}

/// Writes a scenario replaying `trace_text` (as `trace.<extension>`), runs `strait run`,
/// and returns the exit code and stderr.
fn run_with_trace(trace_text: &str, format: &str, extension: &str) -> (i32, String) {
    let directory = temp_dir("bad-trace");
    let trace = directory.join(format!("trace.{extension}"));
    std::fs::write(&trace, trace_text).unwrap();
    let scenario_path = directory.join("scenario.toml");
    // A relative path: resolved against the scenario's directory.
    let text = replay_scenario(
        "1h",
        &format!("trace = {{ file = \"trace.{extension}\", format = \"{format}\" }}"),
    );
    std::fs::write(&scenario_path, text).unwrap();
    let output = strait(&[
        "run",
        scenario_path.to_str().unwrap(),
        "--out",
        directory.join("out").to_str().unwrap(),
        "--quiet",
    ]);
    (output.status.code().unwrap_or(-1), stderr(&output))
}

#[test]
fn bad_trace_files_exit_2_with_their_line_number() {
    let header = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
    let ok_row = "2023-11-16 18:15:46.6805900,374,44\n";
    let cases: Vec<(String, &str, &str, &str)> = vec![
        (
            format!("{header}{ok_row}{ok_row}2023-11-16 18:15:47.0,abc,44\n"),
            "azure",
            "trace.csv:4",
            "ContextTokens",
        ),
        (
            format!("{header}{ok_row}2023-11-16 18:15:50.0,374,44\n2023-11-16 18:15:49.0,374,44\n"),
            "azure",
            "trace.csv:4",
            "line 3",
        ),
        (
            format!("{header}{ok_row}{ok_row}2023-11-16 18:15:47.0,374\n"),
            "azure",
            "trace.csv:4",
            "GeneratedTokens",
        ),
        (
            format!("TIMESTAMP,ContextTokens\n{ok_row}"),
            "azure",
            "trace.csv:1",
            "GeneratedTokens",
        ),
        (
            format!("{header}{ok_row}2023-13-16 18:15:47.0,374,44\n"),
            "azure",
            "trace.csv:3",
            "TIMESTAMP",
        ),
        (
            "time_s,input_tokens,output_tokens\n0.5,10,10\n1.0,-3,10\n".to_string(),
            "plain",
            "trace.csv:3",
            "input_tokens",
        ),
        (
            "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 5}\n{\"timestamp\": 10, \"input_length\": 5\n"
                .to_string(),
            "mooncake",
            "trace.jsonl:2",
            "",
        ),
    ];
    for (text, format, location, names) in cases {
        let extension = if format == "mooncake" { "jsonl" } else { "csv" };
        let (code, message) = run_with_trace(&text, format, extension);
        println!("{format} → exit {code}: {}", message.trim());
        assert_eq!(code, 2, "{message}");
        assert!(
            message.contains(location),
            "expected {location} in: {message}"
        );
        assert!(message.contains(names), "expected {names} in: {message}");
        assert!(!message.contains("panicked"), "{message}");
    }
}

#[test]
fn trace_settings_are_checked() {
    let trace = shipped_trace("azure-conv-2023.csv");
    let cases = [
        (
            format!("rate = \"5/s\"\n{}", trace_field(&trace, "azure", "")),
            "cannot be combined with `trace`",
        ),
        (trace_field(&trace, "csv", ""), "unknown trace format"),
        (trace_field(&trace, "azure", ", speedup = 0.0"), "speed-up"),
        (
            trace_field(&trace, "azure", ", offset = \"2h\""),
            "past the end of the trace",
        ),
        (
            trace_field(Path::new("no/such/trace.csv"), "azure", ""),
            "no/such/trace.csv",
        ),
    ];
    for (demand, expected) in cases {
        let text = replay_scenario("1h", &demand);
        let error =
            strait::scenario::load_text(&text, strait::scenario::Format::Toml, None, "t", &[])
                .expect_err(expected);
        println!("{error}");
        assert!(error.to_string().contains(expected), "{error}");
    }
}

#[test]
fn gamma_and_weibull_arrivals_have_the_variability_asked_for() {
    // Gaps between consecutive arrivals of one tenant, from the demand generator itself.
    for (process, cv) in [("gamma", 3.0), ("weibull", 2.0), ("gamma", 0.5)] {
        let text = replay_scenario(
            "1h",
            &format!("rate = \"100/s\"\narrivals = {{ process = \"{process}\", cv = {cv} }}"),
        );
        let scenario = scenario(&text);
        let tenant = &scenario.tenants[0];
        let streams = strait::engine::RngStreams::new(scenario.run.seed);
        let mut demand =
            strait::demand::TenantDemand::new(tenant, 0, &streams, scenario.run.start).unwrap();
        let end = strait::engine::SimTime::from_secs(100_000);
        let mut previous = 0u64;
        let mut gaps = Vec::with_capacity(400_000);
        while let Some(time) = demand.next_arrival(tenant, end) {
            gaps.push((time.as_nanos() - previous) as f64 / 1e9);
            previous = time.as_nanos();
            if gaps.len() == 400_000 {
                break;
            }
        }
        let n = gaps.len() as f64;
        let mean = gaps.iter().sum::<f64>() / n;
        let variance = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let measured_cv = variance.sqrt() / mean;
        println!(
            "{process} cv {cv}: mean gap {:.5} s (expected 0.01), cv {measured_cv:.3}",
            mean
        );
        assert!((mean / 0.01 - 1.0).abs() < 0.02);
        assert!((measured_cv / cv - 1.0).abs() < 0.05);
    }
}

#[test]
fn rate_windows_set_the_rate_of_each_time_of_day() {
    // 5/s from 00:00 UTC, 20/s from 01:00, repeating daily. An hour in each window, with
    // Poisson and with bursty Gamma gaps (whose counts vary cv² times as much).
    for arrivals in ["", "arrivals = { process = \"gamma\", cv = 2.0 }"] {
        for (start, rate) in [("0h", 5.0), ("1h", 20.0), ("23h", 20.0)] {
            let mut text = replay_scenario(
                "1h",
                &format!(
                    "rate_windows = {{ from = [\"0h\", \"1h\"], rate = [\"5/s\", \"20/s\"] }}\n{arrivals}"
                ),
            );
            text = text.replacen("seed = 9", &format!("seed = 9\nstart = \"{start}\""), 1);
            let scenario = scenario(&text);
            let expected = scenario.expected_requests();
            let generated = simulate(scenario).metrics.tenants[0].generated as f64;
            let cv = if arrivals.is_empty() { 1.0 } else { 2.0 };
            let tolerance = 4.0 * cv * expected.sqrt();
            println!(
                "start {start} {arrivals}: expected {expected:.0} ± {tolerance:.0}, generated {generated}"
            );
            assert!((expected - rate * 3600.0).abs() < 1e-6);
            assert!((generated - expected).abs() < tolerance);
        }
    }
}
