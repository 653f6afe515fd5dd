//! Per-tenant quotas: token buckets for requests per second and tokens per minute, and a
//! concurrency cap; refused requests are `rejected` with reason `quota` or `concurrency`.

use crate::common::{scenario, simulate};
use strait::simulator::{REJECT_CONCURRENCY, REJECT_QUOTA};

fn quota_scenario(quota: &str, service: &str) -> String {
    format!(
        r#"
        [run]
        duration = "10m"
        seed = 4
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
        replicas = 100
        service = {service}
        [[tenant]]
        id = "t"
        jurisdiction = "US"
        ingress = {{ dc = 1.0 }}
        models = {{ m = 1.0 }}
        rate = "20/s"
        input_tokens = {{ dist = "fixed", value = 50 }}
        output_tokens = {{ dist = "fixed", value = 50 }}
        quota = {quota}
        "#
    )
}

const FAST: &str = r#"{ dist = "deterministic", mean = "1ms" }"#;

#[test]
fn request_rate_quota_admits_its_rate_plus_its_burst() {
    // 20/s offered, 5/s allowed with a burst of 5: at most 5 + 5 × 600 = 3,005 admitted,
    // and the bucket is almost never full, so nearly that many.
    let output = simulate(scenario(&quota_scenario(
        "{ requests_per_s = 5, burst = 5 }",
        FAST,
    )));
    let tenant = &output.metrics.tenants[0];
    let admitted = tenant.generated - tenant.rejected();
    println!(
        "generated {}, admitted {admitted} (at most 3005), rejected for quota {}",
        tenant.generated, tenant.rejected_by_reason[REJECT_QUOTA]
    );
    assert!((2990..=3005).contains(&admitted));
    assert_eq!(tenant.rejected(), tenant.rejected_by_reason[REJECT_QUOTA]);
}

#[test]
fn token_quota_counts_input_and_output_tokens() {
    // 60,000 tokens a minute = 1,000/s; requests of 100 tokens: 10/s, plus a minute's
    // burst of 600 requests: at most 6,600 admitted.
    let output = simulate(scenario(&quota_scenario(
        "{ tokens_per_min = 60000 }",
        FAST,
    )));
    let tenant = &output.metrics.tenants[0];
    let admitted = tenant.generated - tenant.rejected();
    println!(
        "generated {}, admitted {admitted} (at most 6600)",
        tenant.generated
    );
    assert!((6580..=6600).contains(&admitted));
    assert_eq!(tenant.rejected(), tenant.rejected_by_reason[REJECT_QUOTA]);
}

#[test]
fn concurrency_caps_requests_in_flight() {
    // Each request is served for exactly 1 s: with at most 3 in flight, at most 3 start in
    // any second, so at most 3 × 600 + 3 complete; most of the 12,000 are refused.
    let output = simulate(scenario(&quota_scenario(
        "{ concurrency = 3 }",
        r#"{ dist = "deterministic", mean = "1s" }"#,
    )));
    let tenant = &output.metrics.tenants[0];
    println!(
        "generated {}, completed {}, refused for concurrency {}",
        tenant.generated, tenant.completed, tenant.rejected_by_reason[REJECT_CONCURRENCY]
    );
    assert!(tenant.completed <= 1803);
    assert!(tenant.completed >= 1500);
    assert_eq!(
        tenant.rejected(),
        tenant.rejected_by_reason[REJECT_CONCURRENCY]
    );
    assert_eq!(
        tenant.generated,
        tenant.completed + tenant.rejected() + tenant.in_flight
    );
}

#[test]
fn quotas_are_checked() {
    for (quota, expected) in [
        ("{ }", "an empty quota"),
        ("{ requests_per_s = -1 }", "requests per second"),
        ("{ concurrency = 0 }", "concurrency limit"),
        ("{ rps = 3 }", "unknown field"),
    ] {
        let text = quota_scenario(quota, FAST);
        let error =
            strait::scenario::load_text(&text, strait::scenario::Format::Toml, None, "q", &[])
                .expect_err(expected);
        println!("{error}");
        assert!(error.to_string().contains(expected), "{error}");
    }
}
