//! The command line as a user meets it: run, check, --set, output locations, pipes.

use crate::common::{read_summary, scenarios_dir, stderr, stdout, strait, temp_dir};

fn mmc() -> String {
    scenarios_dir()
        .join("mmc.toml")
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn set_overrides_reach_the_simulation() {
    let out = temp_dir("set");
    let output = strait(&[
        "run",
        &mmc(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--set",
        "tenant.clients.rate=45/s",
        "--set",
        "deployment.station.service.mean=50ms",
        "--set",
        "deployment.station.replicas=3",
        "--set",
        "run.duration=1h",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).is_empty(),
        "--quiet printed: {}",
        stdout(&output)
    );
    let summary = read_summary(&out);
    let utilization = summary["deployments"]["station"]["utilization"]
        .as_f64()
        .unwrap();
    let replicas = summary["deployments"]["station"]["replicas"]
        .as_u64()
        .unwrap();
    println!(
        "utilisation expected 0.75 (45/s × 50 ms / 3) actual {utilization}; replicas {replicas}"
    );
    assert_eq!(replicas, 3);
    assert!((utilization - 0.75).abs() < 0.02);
    assert_eq!(summary["simulated_s"].as_f64(), Some(3600.0));
}

#[test]
fn run_prints_a_readable_summary_and_writes_every_file() {
    let out = temp_dir("files");
    let quickstart = scenarios_dir().join("quickstart.toml");
    let output = strait(&[
        "run",
        quickstart.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--set",
        "run.duration=10m",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    println!("{text}");
    for expected in [
        "strait run quickstart",
        "TTFT",
        "SLO attainment",
        "cn-large",
        "gpt4o-sg",
        "events",
    ] {
        assert!(text.contains(expected), "stdout lacks {expected:?}");
    }
    for file in [
        "summary.json",
        "tenants.csv",
        "deployments.csv",
        "links.csv",
        "timeseries.csv",
        "timing.json",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    // No temporary files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let summary = read_summary(&out);
    for key in [
        "scenario",
        "seed",
        "strategy",
        "simulated_s",
        "warmup_s",
        "requests",
        "latency_ms",
        "slo_attainment",
        "tenants",
        "deployments",
        "engine",
    ] {
        assert!(summary.get(key).is_some(), "summary.json lacks {key}");
    }
    for key in ["ttft", "tpot", "e2e", "queue_wait", "network"] {
        for stat in ["mean", "p50", "p90", "p99", "max"] {
            assert!(
                summary["latency_ms"][key][stat].is_number(),
                "latency_ms.{key}.{stat}"
            );
        }
    }
    let timing: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("timing.json")).unwrap()).unwrap();
    for key in [
        "wall_s",
        "events",
        "events_per_s",
        "requests_per_s",
        "peak_rss_mib",
    ] {
        assert!(timing[key].is_number(), "timing.json lacks {key}");
    }
    // The timeseries has a row per interval for each deployment and tenant.
    let rows = std::fs::read_to_string(out.join("timeseries.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    println!("timeseries rows: {rows}");
    assert_eq!(rows, 10 * (2 + 2));
}

#[test]
fn default_output_directory_is_named_after_run_and_strategy() {
    let work = temp_dir("cwd");
    let scenario = scenarios_dir().join("mmc.toml");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_strait"))
        .current_dir(&work)
        .args([
            "run",
            scenario.to_str().unwrap(),
            "--quiet",
            "--set",
            "run.duration=15m",
            "--strategy",
            "least-loaded",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(work.join("output/mmc-least-loaded/summary.json").is_file());
}

#[test]
fn check_summarises_without_running() {
    let quickstart = scenarios_dir().join("quickstart.toml");
    let output = strait(&["check", quickstart.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    println!("{text}");
    for expected in [
        "sites (6)",
        "links (8)",
        "deployments (2)",
        "tenants (2)",
        "expected requests",
        "denied by cn-standard-not-in-us",
        "border CN–HK",
    ] {
        assert!(text.contains(expected), "check output lacks {expected:?}");
    }
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    use std::process::{Command, Stdio};
    let quickstart = scenarios_dir().join("quickstart.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_strait"))
        .args(["check", quickstart.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away, as with `| head -0`
    let output = child.wait_with_output().unwrap();
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(!message.contains("panicked"), "{message}");
    assert!(
        output.status.code() == Some(0),
        "exit {:?}: {message}",
        output.status.code()
    );
}

#[test]
fn help_and_version_exit_zero() {
    assert!(strait(&["--help"]).status.success());
    assert!(strait(&["--version"]).status.success());
    assert_eq!(strait(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn check_accepts_every_shipped_scenario() {
    let mut checked = 0;
    for entry in std::fs::read_dir(crate::common::scenarios_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let output = strait(&["check", path.to_str().unwrap()]);
        assert!(
            output.status.success(),
            "{}: {}",
            path.display(),
            stderr(&output)
        );
        assert!(stdout(&output).contains("routes"), "{}", path.display());
        checked += 1;
    }
    println!("{checked} shipped scenarios checked");
    assert!(checked >= 7);
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    // The tests capture stderr through a pipe: a successful run prints nothing there.
    let out = temp_dir("no-progress");
    let output = strait(&[
        "run",
        scenarios_dir().join("quickstart.toml").to_str().unwrap(),
        "--set",
        "run.duration=5m",
        "--set",
        "run.warmup=1m",
        "--out",
        out.to_str().unwrap(),
        "--no-charts",
    ]);
    assert!(output.status.success());
    assert_eq!(
        stderr(&output),
        "",
        "stderr should stay empty off a terminal"
    );
}
