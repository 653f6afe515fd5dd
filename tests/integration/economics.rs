//! The books: costs add up to their parts, shares add up to the whole, cross-border GB
//! to the crossing links, every rejection has a reason, and a tiny case priced by hand.

use crate::common::{scenario, scenarios_dir, simulate};
use strait::report::Summary;

fn close(a: f64, b: f64) -> bool {
    // Each figure is rounded to 6 decimals: sums of n of them differ by < n × 1e-6.
    (a - b).abs() < 1e-4
}

#[test]
fn the_books_balance_on_the_quickstart() {
    let scenario = strait::scenario::load(
        &scenarios_dir().join("quickstart.toml"),
        &[
            "run.duration=30m".into(),
            "run.warmup=2m".into(),
            "run.strategy=nearest".into(),
            "tenant.cn-large.discount=0.2".into(),
            "site.hub-hk.screening.refuse=0.01".into(),
            "site.hub-hk.screening.usd_per_request=0.0001".into(),
        ],
    )
    .expect("valid");
    let output = simulate(scenario);
    let summary = Summary::new(&output);
    let money = &summary.economics;
    let sum = |values: Vec<f64>| values.into_iter().sum::<f64>();
    let gpu_deployments = sum(money.deployments_gpu_usd.values().copied().collect());
    let gpu_tenants = sum(money.tenants.values().map(|t| t.gpu_usd).collect());
    let transit_links = sum(money.links.values().map(|l| l.cost_usd).collect());
    let transit_tenants = sum(money.tenants.values().map(|t| t.transit_usd).collect());
    let revenue_tenants = sum(money.tenants.values().map(|t| t.revenue_usd).collect());
    let crossing_gb: f64 = output
        .scenario
        .links
        .iter()
        .filter(|link| link.crosses_border(&output.scenario.sites))
        .map(|link| money.links[&link.id].gb)
        .sum();
    let cross_border = sum(money.cross_border_gb.values().copied().collect());
    println!(
        "cost {} = GPU {} + transit {}; GPU by deployment {gpu_deployments}, by tenant {gpu_tenants} + unattributed {}; transit by link {transit_links}, by tenant {transit_tenants}; revenue {} (tenants {revenue_tenants}); cross-border GB {cross_border} (crossing links {crossing_gb})",
        money.cost_usd.total,
        money.cost_usd.gpu,
        money.cost_usd.transit,
        money.unattributed_gpu_usd,
        money.revenue_usd
    );
    assert!(close(
        money.cost_usd.total,
        money.cost_usd.gpu + money.cost_usd.transit
    ));
    assert!(close(money.cost_usd.gpu, gpu_deployments));
    assert!(close(
        money.cost_usd.gpu,
        gpu_tenants + money.unattributed_gpu_usd
    ));
    assert!(close(money.cost_usd.transit, transit_links));
    assert!(close(money.cost_usd.transit, transit_tenants));
    assert!(close(money.revenue_usd, revenue_tenants));
    assert!(close(
        money.margin_usd,
        money.revenue_usd - money.cost_usd.total
    ));
    assert!(close(cross_border, crossing_gb));
    assert!(cross_border > 0.0);
    // Every rejected request has a reason, overall and per tenant.
    let reasons: u64 = summary.rejected_by_reason.values().sum();
    assert_eq!(reasons, summary.requests.rejected);
    for tenant in summary.tenants.values() {
        assert_eq!(
            tenant.rejected_by_reason.values().sum::<u64>(),
            tenant.requests.rejected
        );
    }
}

#[test]
fn requests_priced_by_hand() {
    // One H100×8 replica at $12.29 per GPU-hour for an hour: $98.32. Requests of 1,000,000
    // input and 1,000 output tokens at $2.50 / $10 per million tokens, 20% off: $2.008
    // each. 4 bytes per token: 4,000,000 bytes out when sent and 4,000 back when done, over
    // two links at $0.09 and $0.02 per GB, each crossing a border.
    let text = r#"
        [run]
        duration = "1h"
        [[site]]
        id = "client"
        kind = "ingress"
        jurisdiction = "CN"
        [[site]]
        id = "hub"
        kind = "hub"
        jurisdiction = "SG"
        [[site]]
        id = "dc"
        kind = "region"
        jurisdiction = "US"
        [[link]]
        id = "client-hub"
        between = ["client", "hub"]
        latency = "30ms"
        usd_per_gb = 0.09
        [[link]]
        id = "hub-dc"
        between = ["hub", "dc"]
        latency = "80ms"
        usd_per_gb = 0.02
        [[gpu]]
        id = "h100x8"
        gpus = 8
        usd_per_gpu_hour = 12.29
        [[model]]
        id = "m"
        usd_per_m_input = 2.5
        usd_per_m_output = 10.0
        [[deployment]]
        id = "d"
        model = "m"
        site = "dc"
        gpu = "h100x8"
        replicas = 1
        llm = { prefill_tokens_per_s = 10000, decode_step_base = "20ms", decode_step_per_seq = "0.5ms" }
        [[tenant]]
        id = "t"
        jurisdiction = "CN"
        ingress = { client = 1.0 }
        models = { m = 1.0 }
        rate = "3/h"
        input_tokens = { dist = "fixed", value = 1000000 }
        output_tokens = { dist = "fixed", value = 1000 }
        discount = 0.2
    "#;
    let output = simulate(scenario(text));
    let summary = Summary::new(&output);
    let money = &summary.economics;
    let completed = summary.requests.completed as f64;
    let generated = summary.requests.generated as f64;
    let gb = (generated * 4e6 + completed * 4e3) / 1e9;
    println!(
        "{generated} generated, {completed} completed; GPU {} (98.32), revenue {} ({}), transit {} ({}), GB CN-SG {:?}, SG-US {:?} ({gb})",
        money.cost_usd.gpu,
        money.revenue_usd,
        completed * 2.008,
        money.cost_usd.transit,
        gb * 0.11,
        money.cross_border_gb.get("CN-SG"),
        money.cross_border_gb.get("SG-US"),
    );
    assert!(completed >= 1.0, "the test needs a completed request");
    assert!(close(money.cost_usd.gpu, 98.32));
    assert!((money.revenue_usd - completed * 2.008).abs() < 1e-6);
    assert!((money.cost_usd.transit - gb * 0.11).abs() < 1e-6);
    assert!((money.cross_border_gb["CN-SG"] - gb).abs() < 1e-6);
    assert!((money.cross_border_gb["SG-US"] - gb).abs() < 1e-6);
}

#[test]
fn hub_screening_delays_refuses_and_costs() {
    // Every request passes hub-hk, which adds exactly 20 ms, refuses 10% and costs $0.001
    // per request screened (refused ones included).
    let text = r#"
        [run]
        duration = "10m"
        seed = 8
        [[site]]
        id = "client"
        kind = "ingress"
        jurisdiction = "CN"
        [[site]]
        id = "hub-hk"
        kind = "hub"
        jurisdiction = "HK"
        screening = { delay = { dist = "deterministic", mean = "20ms" }, refuse = 0.1, usd_per_request = 0.001 }
        [[site]]
        id = "dc"
        kind = "region"
        jurisdiction = "SG"
        [[link]]
        id = "a"
        between = ["client", "hub-hk"]
        latency = "30ms"
        [[link]]
        id = "b"
        between = ["hub-hk", "dc"]
        latency = "18ms"
        [[model]]
        id = "m"
        [[deployment]]
        id = "d"
        model = "m"
        site = "dc"
        replicas = 50
        service = { dist = "deterministic", mean = "100ms" }
        [[tenant]]
        id = "t"
        jurisdiction = "CN"
        ingress = { client = 1.0 }
        models = { m = 1.0 }
        rate = "20/s"
    "#;
    let output = simulate(scenario(text));
    let tenant = &output.metrics.tenants[0];
    let summary = Summary::new(&output);
    let refused = tenant.rejected_by_reason[strait::simulator::REJECT_SCREENING];
    let n = tenant.generated as f64;
    let sd = (n * 0.1 * 0.9).sqrt();
    println!(
        "generated {}, refused at the hub {refused} (expected {:.0} ± {:.0}), TTFT min {:?} max {:?} (2 × 48 ms + 20 ms + 100 ms = 216 ms), screening cost {} ({})",
        tenant.generated,
        n * 0.1,
        4.0 * sd,
        tenant.ttft.min_ns(),
        tenant.ttft.max_ns(),
        summary.economics.cost_usd.screening,
        n * 0.001
    );
    assert!((refused as f64 - n * 0.1).abs() < 4.0 * sd);
    assert_eq!(tenant.ttft.min_ns(), Some(216_000_000));
    assert_eq!(tenant.ttft.max_ns(), Some(216_000_000));
    assert!(close(summary.economics.cost_usd.screening, n * 0.001));
    assert_eq!(summary.economics.hubs["hub-hk"].screened, tenant.generated);
}
