//! Memory follows what is in flight, not how long the run is: a simulated day needs no
//! more than twice the memory of a simulated hour at the same load.

use crate::common::{read_summary, scenarios_dir, stderr, strait, temp_dir};

fn run_mmc(duration: &str) -> (f64, u64, u64) {
    let out = temp_dir("memory");
    let scenario = scenarios_dir().join("mmc.toml");
    let output = strait(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--set",
        &format!("run.duration={duration}"),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let timing: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("timing.json")).unwrap()).unwrap();
    let summary = read_summary(&out);
    (
        timing["peak_rss_mib"]
            .as_f64()
            .expect("peak RSS measured on Linux"),
        summary["engine"]["peak_live_requests"].as_u64().unwrap(),
        summary["requests"]["generated"].as_u64().unwrap(),
    )
}

#[test]
fn a_day_needs_no_more_than_twice_the_memory_of_an_hour() {
    let (hour_rss, hour_live, hour_requests) = run_mmc("1h");
    let (day_rss, day_live, day_requests) = run_mmc("24h");
    println!(
        "1 h: {hour_requests} requests, peak RSS {hour_rss} MiB, peak live requests {hour_live}; \
         24 h: {day_requests} requests, peak RSS {day_rss} MiB, peak live requests {day_live}"
    );
    assert!(day_requests > 20 * hour_requests);
    assert!(day_rss < 2.0 * hour_rss, "peak RSS grew with duration");
    assert!(
        day_live < 2 * hour_live,
        "request records grew with duration"
    );
}
