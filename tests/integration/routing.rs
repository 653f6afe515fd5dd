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

/// Two CN ingress paths to a US-served model: through hub-sg or through hub-hk.
fn via_policy_scenario(policies: &str, strategy: &str) -> strait::scenario::Scenario {
    crate::common::scenario(&format!(
        r#"
        [run]
        duration = "10m"
        strategy = "{strategy}"
        [[site]]
        id = "shanghai"
        kind = "ingress"
        jurisdiction = "CN"
        [[site]]
        id = "hub-sg"
        kind = "hub"
        jurisdiction = "SG"
        [[site]]
        id = "hub-hk"
        kind = "hub"
        jurisdiction = "HK"
        [[site]]
        id = "us-west"
        kind = "region"
        jurisdiction = "US"
        [[link]]
        id = "sh-sg"
        between = ["shanghai", "hub-sg"]
        latency = "45ms"
        [[link]]
        id = "sh-hk"
        between = ["shanghai", "hub-hk"]
        latency = "30ms"
        [[link]]
        id = "sg-us"
        between = ["hub-sg", "us-west"]
        latency = "81.5ms"
        [[link]]
        id = "hk-us"
        between = ["hub-hk", "us-west"]
        latency = "72ms"
        [[model]]
        id = "gpt"
        origin = "US"
        [[deployment]]
        id = "d"
        model = "gpt"
        site = "us-west"
        replicas = 20
        service = {{ dist = "exponential", mean = "50ms" }}
        [[tenant]]
        id = "strategic-cn"
        jurisdiction = "CN"
        tier = "strategic"
        ingress = {{ shanghai = 1.0 }}
        models = {{ gpt = 1.0 }}
        rate = "20/s"
        [[tenant]]
        id = "standard-cn"
        jurisdiction = "CN"
        tier = "standard"
        ingress = {{ shanghai = 1.0 }}
        models = {{ gpt = 1.0 }}
        rate = "5/s"
        {policies}
        "#
    ))
}

const VIA_SG_FOR_VETTED: &str = r#"
    [[policy]]
    id = "vetted-via-sg"
    action = "allow"
    tenant_jurisdiction = ["CN"]
    model_origin = ["US"]
    tier = ["strategic", "enterprise"]
    require_via = ["hub-sg"]
    [[policy]]
    id = "us-models-vetted-only"
    action = "deny"
    tenant_jurisdiction = ["CN"]
    model_origin = ["US"]
"#;

#[test]
fn require_via_allows_only_paths_through_the_named_hub() {
    // The shortest path goes through Hong Kong (102 ms); policy forces Singapore (126.5 ms)
    // for vetted tenants and refuses the standard tier, with each refusal's reason.
    let output = run(
        via_policy_scenario(VIA_SG_FOR_VETTED, "nearest"),
        &StrategySpec::parse("nearest").unwrap(),
    )
    .unwrap();
    let link = |id: &str| {
        let index = output
            .scenario
            .links
            .iter()
            .position(|l| l.id == id)
            .unwrap();
        output.metrics.link_requests[index]
    };
    let reasons = strait::simulator::reject_reasons(&output.scenario);
    let strategic = &output.metrics.tenants[0];
    let standard = &output.metrics.tenants[1];
    let denied_standard = standard.rejected_by_reason[reasons
        .iter()
        .position(|r| r == "policy:us-models-vetted-only")
        .unwrap()];
    println!(
        "via sg {}, via hk {}; strategic generated {} rejected {}; standard generated {} rejected {denied_standard} by us-models-vetted-only",
        link("sh-sg"),
        link("sh-hk"),
        strategic.generated,
        strategic.rejected(),
        standard.generated
    );
    assert_eq!(link("sh-hk"), 0);
    assert_eq!(link("sh-sg"), strategic.generated);
    assert_eq!(strategic.rejected(), 0);
    assert_eq!(denied_standard, standard.generated);
    // Forcing the other hub leaves vetted requests no allowed path: refused by the rule.
    let forced = run(
        via_policy_scenario(VIA_SG_FOR_VETTED, "hub[via=hub-hk]"),
        &StrategySpec::parse("hub[via=hub-hk]").unwrap(),
    )
    .unwrap();
    let strategic = &forced.metrics.tenants[0];
    assert_eq!(strategic.rejected(), strategic.generated);
    // The order of rules matters: with the deny first, nobody gets through.
    let mut rules: Vec<&str> = VIA_SG_FOR_VETTED
        .split("[[policy]]")
        .filter(|part| !part.trim().is_empty())
        .collect();
    rules.reverse();
    let reordered: String = rules
        .iter()
        .map(|part| format!("[[policy]]{part}"))
        .collect();
    let output = run(
        via_policy_scenario(&reordered, "nearest"),
        &StrategySpec::parse("nearest").unwrap(),
    )
    .unwrap();
    assert_eq!(
        output.metrics.tenants[0].rejected(),
        output.metrics.tenants[0].generated
    );
}

#[test]
fn require_via_must_name_hubs_in_allow_rules() {
    for (policy, expected) in [
        (
            "[[policy]]\nid = \"x\"\naction = \"deny\"\nrequire_via = [\"hub-sg\"]",
            "belongs to an `allow` rule",
        ),
        (
            "[[policy]]\nid = \"x\"\naction = \"allow\"\nrequire_via = [\"us-west\"]",
            "names hubs",
        ),
        (
            "[[policy]]\nid = \"x\"\naction = \"allow\"\nrequire_via = [\"hub-tokyo\"]",
            "unknown site",
        ),
    ] {
        let text = format!(
            "[run]\nduration = \"1m\"\n[[site]]\nid = \"hub-sg\"\nkind = \"hub\"\njurisdiction = \"SG\"\n[[site]]\nid = \"us-west\"\nkind = \"region\"\njurisdiction = \"US\"\n[[link]]\nid = \"l\"\nbetween = [\"hub-sg\", \"us-west\"]\nlatency = \"1ms\"\n[[model]]\nid = \"m\"\n[[deployment]]\nid = \"d\"\nmodel = \"m\"\nsite = \"us-west\"\nreplicas = 1\nservice = {{ dist = \"exponential\", mean = \"1ms\" }}\n[[tenant]]\nid = \"t\"\njurisdiction = \"CN\"\ningress = {{ hub-sg = 1.0 }}\nmodels = {{ m = 1.0 }}\nrate = \"1/s\"\n{policy}\n"
        );
        let error =
            strait::scenario::load_text(&text, strait::scenario::Format::Toml, None, "t", &[])
                .expect_err(expected);
        println!("{error}");
        assert!(error.to_string().contains(expected), "{error}");
    }
}

#[test]
fn a_saturated_link_queues_prompts_in_order() {
    // 1 Mbps: a 1,000-token prompt (4,000 bytes, 32,000 bits) takes 32 ms to send. Two
    // prompts sent together: the second waits 32 ms for the first. Service 100 ms, link
    // 10 ms each way: TTFT 32 + 10 + 100 + 10 = 152 ms, then 184 ms.
    let directory = crate::common::temp_dir("bandwidth");
    let trace = directory.join("two.csv");
    std::fs::write(
        &trace,
        "time_s,input_tokens,output_tokens\n0,1000,1\n0,1000,1\n",
    )
    .unwrap();
    let text = format!(
        r#"
        [run]
        duration = "10s"
        [[site]]
        id = "client"
        kind = "ingress"
        jurisdiction = "US"
        [[site]]
        id = "dc"
        kind = "region"
        jurisdiction = "US"
        [[link]]
        id = "thin"
        between = ["client", "dc"]
        latency = "10ms"
        bandwidth = "1Mbps"
        [[model]]
        id = "m"
        [[deployment]]
        id = "d"
        model = "m"
        site = "dc"
        replicas = 4
        service = {{ dist = "deterministic", mean = "100ms" }}
        [[tenant]]
        id = "t"
        jurisdiction = "US"
        ingress = {{ client = 1.0 }}
        models = {{ m = 1.0 }}
        trace = {{ file = "{}", format = "plain" }}
        "#,
        trace.display()
    );
    let scenario = crate::common::scenario(&text);
    let output = run(scenario, &StrategySpec::parse("nearest").unwrap()).unwrap();
    let tenant = &output.metrics.tenants[0];
    println!(
        "TTFT min {:?} (152 ms), max {:?} (184 ms); link queue {} ns (32 ms)",
        tenant.ttft.min_ns(),
        tenant.ttft.max_ns(),
        output.metrics.link_queue_ns[0]
    );
    assert_eq!(tenant.ttft.min_ns(), Some(152_000_000));
    assert_eq!(tenant.ttft.max_ns(), Some(184_000_000));
    assert_eq!(output.metrics.link_queue_ns[0], 32_000_000);
}
