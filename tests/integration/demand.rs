//! Demand against its specification: arrival counts, diurnal shape, ingress and model
//! weights, and JSON scenarios equivalent to TOML ones.

use crate::common::{scenario, simulate};

const DIURNAL: &str = r#"
[run]
duration = "24h"
seed = 21
metrics_interval = "1h"
[[site]]
id = "here"
kind = "region"
jurisdiction = "CN"
[[site]]
id = "also-here"
kind = "ingress"
jurisdiction = "CN"
[[link]]
id = "l"
between = ["here", "also-here"]
latency = "1ms"
[[model]]
id = "a"
[[model]]
id = "b"
[[deployment]]
id = "da"
model = "a"
site = "here"
replicas = 100
service = { dist = "deterministic", mean = "1ms" }
[[deployment]]
id = "db"
model = "b"
site = "here"
replicas = 100
service = { dist = "deterministic", mean = "1ms" }
[[tenant]]
id = "t"
jurisdiction = "CN"
ingress = { here = 3.0, also-here = 1.0 }
rate = "20/s"
diurnal = { peak_hour = 21, trough_ratio = 0.25, utc_offset = 8 }
models = { a = 0.9, b = 0.1 }
"#;

#[test]
fn diurnal_arrivals_follow_their_shape_and_mean() {
    let scenario = scenario(DIURNAL);
    let expected_total = scenario.expected_requests();
    let diurnal = scenario.tenants[0].diurnal.expect("diurnal");
    let output = simulate(scenario);
    let tenant = &output.metrics.tenants[0];
    let generated = tenant.generated as f64;
    // Poisson: the count's standard deviation is √N; allow four of them.
    let tolerance = 4.0 * expected_total.sqrt();
    println!(
        "requests over a day: expected {expected_total:.0} ± {tolerance:.0}, generated {generated}"
    );
    assert!((generated - expected_total).abs() < tolerance);

    // Hour by hour (rows for the tenant in timeseries.csv terms).
    let hourly: Vec<u64> = output
        .metrics
        .timeseries
        .iter()
        .filter(|row| row.kind == "tenant")
        .map(|row| row.arrivals)
        .collect();
    assert_eq!(hourly.len(), 24);
    for (hour, &count) in hourly.iter().enumerate() {
        let expected = 20.0
            * (diurnal.integral((hour + 1) as f64 * 3600.0)
                - diurnal.integral(hour as f64 * 3600.0));
        let tolerance = 4.5 * expected.sqrt();
        println!("hour {hour:2} UTC: expected {expected:8.0} ± {tolerance:4.0}, generated {count}");
        assert!((count as f64 - expected).abs() < tolerance, "hour {hour}");
    }
    // Peak at 21:00 local = 13:00 UTC, trough at 01:00 UTC.
    let (peak_hour, _) = hourly.iter().enumerate().max_by_key(|&(_, &c)| c).unwrap();
    let (trough_hour, _) = hourly.iter().enumerate().min_by_key(|&(_, &c)| c).unwrap();
    println!("busiest hour {peak_hour}:00 UTC, quietest {trough_hour}:00 UTC");
    assert!((12..=13).contains(&peak_hour));
    assert!(trough_hour == 0 || trough_hour == 1);
}

#[test]
fn model_and_ingress_weights_split_demand() {
    let output = simulate(scenario(DIURNAL));
    let to_a = output.metrics.deployments[0].arrivals as f64;
    let to_b = output.metrics.deployments[1].arrivals as f64;
    let share_b = to_b / (to_a + to_b);
    let n = to_a + to_b;
    let tolerance = 4.0 * (0.1 * 0.9 / n).sqrt();
    println!("model b share expected 0.1 ± {tolerance:.4}, actual {share_b:.4}");
    assert!((share_b - 0.1).abs() < tolerance);
    // Ingress also-here (weight 1 of 4) is the only one crossing link "l".
    let via_link = output.metrics.link_requests[0] as f64;
    let share = via_link / n;
    let tolerance = 4.0 * (0.25 * 0.75 / n).sqrt();
    println!("ingress also-here share expected 0.25 ± {tolerance:.4}, actual {share:.4}");
    assert!((share - 0.25).abs() < tolerance);
}

#[test]
fn a_json_scenario_runs_exactly_like_its_toml_twin() {
    let table: toml::Table = DIURNAL.parse().unwrap();
    let json = serde_json::to_string_pretty(&table).unwrap();
    let from_json =
        strait::scenario::load_text(&json, strait::scenario::Format::Json, None, "test", &[])
            .expect("valid JSON scenario");
    let toml_run = simulate(scenario(DIURNAL));
    let json_run = simulate(from_json);
    let summary = |run: &strait::simulator::RunOutput| {
        let mut summary = strait::report::Summary::new(run);
        summary.scenario.clear();
        serde_json::to_string(&summary).unwrap()
    };
    assert_eq!(summary(&toml_run), summary(&json_run));
}

#[test]
fn run_start_moves_the_window_across_the_day() {
    // One hour starting at 13:00 UTC (the peak) carries more than one starting at 01:00.
    let at = |start: &str| {
        let text = DIURNAL.replace(
            "duration = \"24h\"",
            &format!("duration = \"1h\"\nstart = \"{start}\""),
        );
        let scenario = scenario(&text);
        let expected = scenario.expected_requests();
        (expected, simulate(scenario).metrics.tenants[0].generated)
    };
    let (peak_expected, peak) = at("12.5h");
    let (trough_expected, trough) = at("0.5h");
    println!(
        "peak hour expected {peak_expected:.0} got {peak}; trough hour expected {trough_expected:.0} got {trough}"
    );
    assert!((peak as f64 - peak_expected).abs() < 4.0 * peak_expected.sqrt());
    assert!((trough as f64 - trough_expected).abs() < 4.0 * trough_expected.sqrt());
    assert!(peak_expected > 3.0 * trough_expected);
}

/// Thinning across steep steps: rate windows alternating between 10/s and 1,000/s every
/// 90 s, so that every other step falls inside one of the demand's one-minute stretches
/// (which start at whole minutes). Arrivals are drawn by the demand itself over two hours
/// and counted per window against the window's rate (Pearson's chi-square, 80 windows).
/// Candidates drawn at the stretch's lowest rate instead of its highest put the
/// statistic in the millions (tried: 3.4 M).
#[test]
fn arrivals_follow_rate_steps_inside_a_stretch() {
    const WINDOWS: usize = 80;
    let from: Vec<String> = (0..WINDOWS).map(|w| format!("\"{}s\"", 90 * w)).collect();
    let rate: Vec<&str> = (0..WINDOWS)
        .map(|w| if w % 2 == 0 { "\"10/s\"" } else { "\"1000/s\"" })
        .collect();
    let text = DIURNAL
        .replace("duration = \"24h\"", "duration = \"2h\"")
        .replace(
            "rate = \"20/s\"\ndiurnal = { peak_hour = 21, trough_ratio = 0.25, utc_offset = 8 }",
            &format!(
                "rate_windows = {{ from = [{}], rate = [{}] }}",
                from.join(", "),
                rate.join(", ")
            ),
        );
    let scenario = scenario(&text);
    let tenant = &scenario.tenants[0];
    assert!(
        tenant.windows.is_some(),
        "the test scenario has rate windows"
    );
    let streams = strait::engine::RngStreams::new(2026);
    let start = strait::engine::SimDuration::ZERO;
    let mut demand = strait::demand::TenantDemand::new(tenant, 0, &streams, start).expect("demand");
    let window_ns = 90 * 1_000_000_000u64;
    let end = strait::engine::SimTime::from_nanos(WINDOWS as u64 * window_ns - 1);
    let mut counts = [0u64; WINDOWS];
    while let Some(arrival) = demand.next_arrival(tenant, end) {
        counts[(arrival.as_nanos() / window_ns) as usize] += 1;
    }
    let mut chi_square = 0.0;
    for (window, &count) in counts.iter().enumerate() {
        let expected = if window % 2 == 0 { 900.0 } else { 90_000.0 };
        let deviation = (count as f64 - expected) / f64::sqrt(expected);
        chi_square += deviation * deviation;
        if deviation.abs() > 3.0 {
            println!("window {window}: expected {expected}, counted {count} ({deviation:+.1} sd)");
        }
    }
    // The 99.99th percentile of chi-square with 80 degrees of freedom is about 133.
    println!(
        "{} arrivals in {WINDOWS} windows: chi-square {chi_square:.1} (expected 80, fails above 133)",
        counts.iter().sum::<u64>()
    );
    assert!(chi_square < 133.0, "chi-square {chi_square:.1}");
}
