//! Routing in whole runs: stale telemetry makes `least-loaded` herd, `hub[via]` sends
//! every request through its hub, and every strategy runs on the shipped quickstart.

use crate::common::scenarios_dir;
use strait::routing::{STRATEGY_EXAMPLES, StrategySpec};
use strait::simulator::{RunOutput, run};

fn quickstart(strategy: &str, overrides: &[&str]) -> RunOutput {
    let mut all: Vec<String> = vec!["run.duration=20m".into(), "run.warmup=2m".into()];
    all.extend(overrides.iter().map(|s| s.to_string()));
    let scenario =
        strait::scenario::load(&scenarios_dir().join("quickstart.toml"), &all).expect("valid");
    run(scenario, &StrategySpec::parse(strategy).expect("spec")).expect("run")
}

#[test]
fn stale_telemetry_makes_least_loaded_herd() {
    // Fresh load, then snapshots every 2 s: between snapshots every request goes to the
    // deployment that looked least loaded, which fills up (BLIS saw +354% p99 TTFT at
    // 100 ms of staleness on its own setup).
    let fresh = quickstart("least-loaded", &[]);
    let stale = quickstart("least-loaded[telemetry_delay=2s]", &[]);
    let p99 = |output: &RunOutput| {
        let mut all = output.metrics.tenants[0].clone();
        for tenant in &output.metrics.tenants[1..] {
            all.merge(tenant);
        }
        all.ttft.quantile_ns(0.99) as f64 / 1e6
    };
    let queue = |output: &RunOutput| {
        output
            .metrics
            .deployments
            .iter()
            .map(|d| d.mean_queue_length)
            .sum::<f64>()
    };
    println!(
        "p99 TTFT fresh {:.1} ms, stale {:.1} ms; mean queued fresh {:.1}, stale {:.1}",
        p99(&fresh),
        p99(&stale),
        queue(&fresh),
        queue(&stale)
    );
    assert!(p99(&stale) > 1.5 * p99(&fresh));
    assert!(queue(&stale) > 2.0 * queue(&fresh));
}

#[test]
fn hub_strategy_sends_every_request_through_its_hub() {
    let output = quickstart("hub[via=hub-hk]", &[]);
    let links = &output.scenario.links;
    let carried = |id: &str| {
        let index = links.iter().position(|link| link.id == id).expect("link");
        output.metrics.link_requests[index]
    };
    let through_sg_hub = carried("shanghai-sg") + carried("beijing-sg");
    let through_hk_hub = carried("shanghai-hk") + carried("beijing-hk");
    let generated: u64 = output.metrics.tenants.iter().map(|t| t.generated).sum();
    println!(
        "via hub-hk: {through_hk_hub} requests, via hub-sg: {through_sg_hub}, generated {generated}"
    );
    assert_eq!(through_sg_hub, 0);
    assert_eq!(through_hk_hub, generated);
    let error = strait::routing::resolve(
        &StrategySpec::parse("hub[via=hub-tokyo]").unwrap(),
        strait::engine::RngStreams::new(1).stream("router", 0),
        &strait::routing::RouteContext {
            hubs: Some(vec!["hub-hk".into(), "hub-sg".into()]),
        },
    )
    .err()
    .expect("an unknown hub is refused");
    assert!(error.contains("hub-hk, hub-sg"), "{error}");
}

#[test]
fn every_strategy_runs_the_quickstart_and_conserves_requests() {
    for spec in STRATEGY_EXAMPLES {
        let spec = spec.replace("hub-sg", "hub-hk");
        let output = quickstart(&spec, &["run.duration=5m", "run.warmup=1m"]);
        for tenant in &output.metrics.tenants {
            let accounted = tenant.completed
                + tenant.rejected()
                + tenant.dropped
                + tenant.timed_out
                + tenant.failed
                + tenant.in_flight;
            assert_eq!(tenant.generated, accounted, "{spec}");
        }
        println!(
            "{spec}: {} completed",
            output
                .metrics
                .tenants
                .iter()
                .map(|t| t.completed)
                .sum::<u64>()
        );
    }
}
