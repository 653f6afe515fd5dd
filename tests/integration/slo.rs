//! SLO attainment and the latency figures behind it, in the cases that are easy to get
//! wrong: overload (requests never finish), plain stations (no token stream), timeouts.

use crate::common::{scenario, simulate};

fn overloaded(extra: &str) -> String {
    format!(
        r#"
        [run]
        duration = "10m"
        warmup = "1m"
        [[site]]
        id = "here"
        kind = "region"
        jurisdiction = "XX"
        [[model]]
        id = "m"
        [[deployment]]
        id = "d"
        model = "m"
        site = "here"
        replicas = 1
        service = {{ dist = "exponential", mean = "1s" }}
        [[tenant]]
        id = "t"
        jurisdiction = "XX"
        ingress = {{ here = 1.0 }}
        rate = "100/s"
        models = {{ m = 1.0 }}
        slo = {{ ttft = "2s", tpot = "1ns" }}
        {extra}
        "#
    )
}

#[test]
fn an_overloaded_station_does_not_report_its_slo_met() {
    // 100 requests/s into one server doing 1/s: almost nothing finishes in time.
    let output = simulate(scenario(&overloaded("")));
    let tenant = &output.metrics.tenants[0];
    let attainment = tenant.slo_attainment().expect("requests were judged");
    println!(
        "generated {} completed {} in flight {} judged {} met {} attainment {attainment:.4}",
        tenant.generated, tenant.completed, tenant.in_flight, tenant.slo_judged, tenant.slo_met
    );
    assert!(attainment < 0.01, "overload must show as missed SLOs");
    assert!(
        tenant.slo_judged > tenant.completed,
        "overdue in-flight requests are judged too"
    );
}

#[test]
fn a_plain_station_has_no_time_per_output_token() {
    // output_tokens defaults to a lognormal, but a plain station answers at once: TPOT must
    // not be recorded (as 0) and a TPOT target of 1 ns cannot be met by accident or missed.
    let text = overloaded("").replace("rate = \"100/s\"", "rate = \"0.1/s\"");
    let output = simulate(scenario(&text));
    let tenant = &output.metrics.tenants[0];
    println!(
        "completed {} tpot samples {}",
        tenant.completed,
        tenant.tpot.count()
    );
    assert!(tenant.completed > 20);
    assert_eq!(tenant.tpot.count(), 0);
}

#[test]
fn clients_that_gave_up_are_timed_out_not_in_flight() {
    let output = simulate(scenario(&overloaded("timeout = \"5s\"")));
    let tenant = &output.metrics.tenants[0];
    println!(
        "generated {} completed {} timed out {} in flight {}",
        tenant.generated, tenant.completed, tenant.timed_out, tenant.in_flight
    );
    assert_eq!(tenant.generated, tenant.terminal() + tenant.in_flight);
    // Only requests created in the last 5 s (about 500) can still be waiting for a client.
    assert!(tenant.in_flight <= 600, "{} in flight", tenant.in_flight);
    assert!(
        tenant.ttft.max_ns().unwrap_or(0) <= 5_000_000_000,
        "a completed TTFT exceeds the timeout"
    );
}
