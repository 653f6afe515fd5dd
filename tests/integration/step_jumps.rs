//! Jumping over decode steps is exact: a run that schedules every decode step as its own
//! event and a run that jumps to the next completion (cutting the jump short when a
//! request arrives) give the same results, only with fewer events.

use crate::common::scenarios_dir;
use strait::report::Summary;
use strait::routing::StrategySpec;
use strait::simulator::{RunOptions, run_with};

fn results(path: &str, overrides: &[&str], step_by_step: bool) -> (String, u64) {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let scenario =
        strait::scenario::load(&scenarios_dir().join(path), &overrides).expect("valid scenario");
    let spec = StrategySpec::parse(&scenario.run.strategy).expect("strategy");
    let output = run_with(scenario, &spec, RunOptions { step_by_step }).expect("run");
    let events = output.events;
    let mut summary = Summary::new(&output);
    summary.engine.events = 0;
    (serde_json::to_string_pretty(&summary).unwrap(), events)
}

fn check_same(label: &str, path: &str, overrides: &[&str]) {
    let (stepped, stepped_events) = results(path, overrides, true);
    let (jumped, jumped_events) = results(path, overrides, false);
    println!("{label}: {stepped_events} events step by step, {jumped_events} with jumps");
    assert!(
        jumped_events < stepped_events,
        "{label}: jumping saved no events"
    );
    if stepped != jumped {
        for (line, (a, b)) in stepped.lines().zip(jumped.lines()).enumerate() {
            if a != b {
                panic!(
                    "{label}: results differ at summary line {line}:\n  step by step: {a}\n  jumps:        {b}"
                );
            }
        }
        panic!("{label}: summaries differ in length");
    }
}

#[test]
fn quickstart_at_peak_is_the_same_with_and_without_jumps() {
    check_same(
        "quickstart",
        "quickstart.toml",
        &["run.duration=20m", "run.warmup=2m"],
    );
}

#[test]
fn quickstart_off_peak_is_the_same_with_and_without_jumps() {
    // Light load: small batches, long stretches between arrivals, many cut-short jumps.
    check_same(
        "quickstart off-peak",
        "quickstart.toml",
        &["run.start=2h", "run.duration=20m", "run.warmup=2m"],
    );
}

#[test]
fn overloaded_with_timeouts_and_queue_limits_is_the_same_with_and_without_jumps() {
    check_same(
        "quickstart overloaded",
        "quickstart.toml",
        &[
            "run.duration=15m",
            "run.warmup=1m",
            "run.strategy=nearest",
            "deployment.gpt4o-sg.max_queue=50",
            "tenant.cn-large.timeout=3s",
        ],
    );
}

#[test]
fn bench_day_at_peak_is_the_same_with_and_without_jumps() {
    check_same(
        "bench-day",
        "bench-day.toml",
        &["run.start=12.5h", "run.duration=4m", "run.warmup=1m"],
    );
}
