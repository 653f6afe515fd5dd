//! Conservation: every generated request ends in exactly one terminal state or is
//! counted in flight — in every shipped scenario, and in one built to reach every state.

use crate::common::{read_summary, scenario, scenarios_dir, simulate, stderr, strait, temp_dir};

fn check_books(label: &str, requests: &serde_json::Value) {
    let count = |key: &str| {
        requests[key]
            .as_u64()
            .unwrap_or_else(|| panic!("{label}: missing {key}"))
    };
    let generated = count("generated");
    let accounted = count("completed")
        + count("rejected")
        + count("dropped")
        + count("timed_out")
        + count("failed")
        + count("in_flight");
    println!("{label}: generated {generated}, accounted {accounted} ({requests})");
    assert_eq!(generated, accounted, "{label}: books do not balance");
    assert!(generated > 0, "{label}: nothing generated");
}

#[test]
fn every_shipped_scenario_balances_its_books() {
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(scenarios_dir())
        .expect("scenarios dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
    {
        let out = temp_dir("conservation");
        // Shortened so that full-scale benchmark scenarios stay quick; every shipped
        // scenario's warm-up is shorter than this.
        let output = strait(&[
            "run",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--set",
            "run.duration=30m",
        ]);
        assert!(
            output.status.success(),
            "{}: {}",
            path.display(),
            stderr(&output)
        );
        let summary = read_summary(&out);
        check_books(&path.display().to_string(), &summary["requests"]);
        for (tenant, figures) in summary["tenants"].as_object().expect("tenants") {
            check_books(
                &format!("{} tenant {tenant}", path.display()),
                &figures["requests"],
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 2,
        "expected the shipped scenarios, found {checked}"
    );
}

/// Reaches completed, rejected (policy and no-route), dropped, timed out and in flight.
const EVERY_STATE: &str = r#"
[run]
duration = "10m"
warmup = "1m"
seed = 5
[[site]]
id = "city"
kind = "ingress"
jurisdiction = "CN"
[[site]]
id = "island"
kind = "ingress"
jurisdiction = "CN"
[[site]]
id = "dc"
kind = "region"
jurisdiction = "SG"
[[link]]
id = "city-dc"
between = ["city", "dc"]
latency = "30ms"
[[model]]
id = "m"
[[deployment]]
id = "small"
model = "m"
site = "dc"
replicas = 2
max_queue = 20
service = { dist = "exponential", mean = "1s" }
[[tenant]]
id = "busy"
jurisdiction = "CN"
ingress = { city = 0.8, island = 0.2 }
rate = "5/s"
models = { m = 1.0 }
timeout = "5s"
[[tenant]]
id = "banned"
jurisdiction = "CN"
tier = "trial"
ingress = { city = 1.0 }
rate = "1/s"
models = { m = 1.0 }
[[policy]]
id = "no-trials"
action = "deny"
tier = ["trial"]
"#;

#[test]
fn a_scenario_reaching_every_terminal_state_balances() {
    let output = simulate(scenario(EVERY_STATE));
    let busy = &output.metrics.tenants[0];
    let banned = &output.metrics.tenants[1];
    println!(
        "busy: generated {} completed {} rejected {:?} dropped {} timed_out {} in_flight {}",
        busy.generated,
        busy.completed,
        busy.rejected_by_reason,
        busy.dropped,
        busy.timed_out,
        busy.in_flight
    );
    println!(
        "banned: generated {} rejected {:?}",
        banned.generated, banned.rejected_by_reason
    );
    for tenant in [busy, banned] {
        assert_eq!(tenant.generated, tenant.terminal() + tenant.in_flight);
    }
    assert!(busy.completed > 0 && busy.dropped > 0 && busy.timed_out > 0 && busy.in_flight > 0);
    assert!(
        busy.rejected_by_reason[0] > 0,
        "no-route rejections from the island ingress"
    );
    let policy = strait::simulator::POLICY_REASONS_FROM;
    assert_eq!(
        banned.rejected_by_reason[policy], banned.generated,
        "every trial request denied by policy"
    );
    assert_eq!(
        output.metrics.reject_reasons,
        [
            "no-route",
            "quota",
            "concurrency",
            "screening",
            "policy:no-trials"
        ]
        .map(str::to_string)
        .to_vec()
    );
}
