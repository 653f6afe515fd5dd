//! A single LLM replica at batch 1 with fixed token counts reproduces the closed form
//! to the nanosecond: TTFT = forward + prefill + return, E2E = forward + prefill +
//! (n − 1) × step(1) + return.

use crate::common::{scenario, simulate};

fn single_replica(rate: &str, duration: &str, max_batch: u32) -> String {
    format!(
        r#"
        [run]
        duration = "{duration}"
        seed = 3
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
        jurisdiction = "SG"
        [[link]]
        id = "client-hub"
        between = ["client", "hub"]
        latency = "35ms"
        [[link]]
        id = "hub-dc"
        between = ["hub", "dc"]
        latency = "1.5ms"
        [[model]]
        id = "llm"
        [[deployment]]
        id = "one"
        model = "llm"
        site = "dc"
        replicas = 1
        max_batch = {max_batch}
        llm = {{ prefill_tokens_per_s = 10000, decode_step_base = "20ms", decode_step_per_seq = "0.5ms" }}
        [[tenant]]
        id = "t"
        jurisdiction = "CN"
        ingress = {{ client = 1.0 }}
        rate = "{rate}"
        models = {{ llm = 1.0 }}
        input_tokens = {{ dist = "fixed", value = 1000 }}
        output_tokens = {{ dist = "fixed", value = 11 }}
        "#
    )
}

#[test]
fn lone_requests_match_the_closed_form_to_the_nanosecond() {
    // One request an hour on a replica busy for 0.3 s: requests never meet.
    let output = simulate(scenario(&single_replica("1/h", "48h", 1)));
    let tenant = &output.metrics.tenants[0];
    let network_ns: u64 = 2 * (35_000_000 + 1_500_000);
    let prefill_ns: u64 = 100_000_000; // 1,000 tokens at 10,000 tokens/s
    let step_ns: u64 = 20_500_000; // 20 ms + 0.5 ms × 1
    let expected_ttft = network_ns + prefill_ns;
    let expected_e2e = network_ns + prefill_ns + 10 * step_ns;
    println!(
        "{} requests; TTFT expected {expected_ttft} ns, min {:?} max {:?}; E2E expected {expected_e2e} ns, min {:?} max {:?}; TPOT expected {step_ns} ns, mean {}",
        tenant.completed,
        tenant.ttft.min_ns(),
        tenant.ttft.max_ns(),
        tenant.e2e.min_ns(),
        tenant.e2e.max_ns(),
        tenant.tpot.mean_ns()
    );
    assert!(tenant.completed >= 30, "too few requests to mean anything");
    assert_eq!(
        tenant.queue_wait.max_ns(),
        Some(0),
        "a request waited: the test's premise broke"
    );
    assert_eq!(tenant.ttft.min_ns(), Some(expected_ttft));
    assert_eq!(tenant.ttft.max_ns(), Some(expected_ttft));
    assert_eq!(tenant.e2e.min_ns(), Some(expected_e2e));
    assert_eq!(tenant.e2e.max_ns(), Some(expected_e2e));
    assert_eq!(tenant.tpot.min_ns(), Some(step_ns));
    assert_eq!(tenant.tpot.max_ns(), Some(step_ns));
    assert_eq!(tenant.network.min_ns(), Some(network_ns));
}

#[test]
fn batching_serves_concurrent_requests_together() {
    // At 20 requests/s a batch-1 replica (0.305 s per request, capacity 3.3/s) is swamped;
    // with max_batch 64 the same replica keeps up, and its mean batch exceeds 1.
    let batched = simulate(scenario(&single_replica("20/s", "10m", 64)));
    let unbatched = simulate(scenario(&single_replica("20/s", "10m", 1)));
    let (batched_deployment, unbatched_deployment) = (
        &batched.metrics.deployments[0],
        &unbatched.metrics.deployments[0],
    );
    println!(
        "mean batch: batched {:.2}, unbatched {:.2}; completed: batched {}, unbatched {}",
        batched_deployment.mean_batch,
        unbatched_deployment.mean_batch,
        batched_deployment.completed,
        unbatched_deployment.completed
    );
    assert!((unbatched_deployment.mean_batch - 1.0).abs() < 1e-9);
    assert!(batched_deployment.mean_batch > 2.0);
    assert!(batched_deployment.completed > 2 * unbatched_deployment.completed);
    // Unbatched: at most one request per 0.305 s can finish.
    assert!(unbatched_deployment.completed <= (600.0 / 0.305) as u64 + 1);
}
