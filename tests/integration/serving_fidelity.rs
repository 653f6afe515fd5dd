//! The LLM serving model against its definition: decode steps follow the loaded profile
//! table, a lone request costs prefill + (n − 1) steps, a saturated replica produces
//! `max_batch / step(max_batch)` tokens per second, and the KV cache bounds admission and
//! preempts exactly as specified, with and without jumps over decode steps.

use std::path::Path;

use crate::common::{TempFile, scenario, simulate, write_temp};
use strait::profile::library;
use strait::report::Summary;
use strait::routing::StrategySpec;
use strait::scenario::validate::library_profile;
use strait::scenario::{FieldPath, ServiceModel};
use strait::simulator::{RunOptions, RunOutput, run_with};

/// A plain trace (`time_s,input_tokens,output_tokens`) in a fresh directory.
fn plain_trace(rows: &[(f64, u32, u32)]) -> TempFile {
    let mut text = String::from("time_s,input_tokens,output_tokens\n");
    for (time, input, output) in rows {
        text.push_str(&format!("{time},{input},{output}\n"));
    }
    write_temp("trace.csv", &text)
}

/// One region, one replica serving `service` (a TOML fragment of the deployment), demand
/// replayed from `trace`; the tenant enters at the region itself (no network).
fn one_replica(service: &str, trace: &Path, duration: &str, extra: &str) -> String {
    format!(
        r#"
        [run]
        duration = "{duration}"
        seed = 5
        [[site]]
        id = "dc"
        kind = "region"
        jurisdiction = "US"
        [[model]]
        id = "llm"
        {extra}
        [[deployment]]
        id = "one"
        model = "llm"
        site = "dc"
        replicas = 1
        {service}
        [[tenant]]
        id = "t"
        jurisdiction = "US"
        ingress = {{ dc = 1.0 }}
        models = {{ llm = 1.0 }}
        trace = {{ file = "{}", format = "plain" }}
        "#,
        trace.display()
    )
}

/// Prefill at 10,000 tokens/s, decode steps of 20 ms whatever the batch: round numbers
/// for hand-worked cases.
const PREFILL_10K_STEPS_20MS: &str = r#"llm = { prefill_tokens_per_s = 10000, decode_step_base = "20ms", decode_step_per_seq = "0ms" }"#;

fn run_both_ways(text: &str) -> (RunOutput, RunOutput) {
    let run = |step_by_step| {
        let scenario = scenario(text);
        let spec = StrategySpec::parse(&scenario.run.strategy).unwrap();
        run_with(scenario, &spec, RunOptions { step_by_step }).expect("run")
    };
    (run(true), run(false))
}

fn summary_text(output: &RunOutput) -> String {
    let mut summary = Summary::new(output);
    summary.engine.events = 0;
    serde_json::to_string_pretty(&summary).unwrap()
}

#[test]
fn every_shipped_profile_loads() {
    for entry in library::ENTRIES {
        let profile = library_profile(entry, &FieldPath::root())
            .unwrap_or_else(|error| panic!("{}: {}: {}", entry.path, error.path, error.message));
        let kv = profile
            .kv_cache_tokens
            .expect("library profiles state their KV capacity");
        println!(
            "{:<30} step(1) {} step(32) {} prefill(1024) {} KV {kv} tokens",
            profile.id,
            profile.decode.step(1),
            profile.decode.step(32),
            profile.prefill.prompt_time(1024)
        );
        assert!(profile.decode.step(64) >= profile.decode.step(1));
        assert!(profile.prefill.prompt_time(8192) > profile.prefill.prompt_time(1024));
    }
}

#[test]
fn decode_steps_follow_the_loaded_profile_table() {
    // Splitwise's Llama-2-70B on H100 × 8 (DESIGN.md): step time at each measured batch.
    let measured_ms = [(1, 29.8), (8, 32.5), (16, 34.2), (32, 38.6), (64, 50.2)];
    for (batch, step_ms) in measured_ms {
        // `batch` requests arrive together: the first is prefilled alone, the others in a
        // second prefill, then all decode together at this batch size to the end. The
        // requests of the second prefill see only full-batch steps: TPOT = step(batch).
        let rows: Vec<(f64, u32, u32)> = (0..batch).map(|_| (0.0, 16, 101)).collect();
        let trace = plain_trace(&rows);
        let text = one_replica(
            "profile = \"llama2-70b-h100x8-splitwise\"\nmax_batch = 64",
            &trace,
            "1h",
            "",
        );
        let output = simulate(scenario(&text));
        let tenant = &output.metrics.tenants[0];
        let expected_ns = (step_ms * 1e6_f64).round() as u64;
        println!(
            "batch {batch}: expected step {expected_ns} ns, TPOT min {:?} ns ({} completed)",
            tenant.tpot.min_ns(),
            tenant.completed
        );
        assert_eq!(tenant.completed, batch as u64);
        assert_eq!(tenant.tpot.min_ns(), Some(expected_ns), "batch {batch}");
    }
}

#[test]
fn lone_request_costs_prefill_plus_its_decode_steps() {
    // Requests 100 s apart never meet. 2,048 prompt tokens (Splitwise's measured point:
    // 137 ms) and 11 output tokens: the prefill gives the first, 10 steps the rest.
    let rows: Vec<(f64, u32, u32)> = (0..20).map(|i| (i as f64 * 100.0, 2048, 11)).collect();
    let trace = plain_trace(&rows);
    let text = one_replica(
        "profile = \"llama2-70b-h100x8-splitwise\"",
        &trace,
        "1h",
        "",
    );
    let scenario = scenario(&text);
    let ServiceModel::Llm(llm) = &scenario.deployments[0].service else {
        panic!("an LLM deployment");
    };
    let prefill = llm.profile.prefill.prompt_time(2048).as_nanos();
    let step = llm.profile.decode.step(1).as_nanos();
    let expected_e2e = prefill + 10 * step;
    let output = simulate(scenario);
    let tenant = &output.metrics.tenants[0];
    println!(
        "prefill(2048) {prefill} ns (Splitwise measured 137 ms), step(1) {step} ns; E2E expected {expected_e2e} ns, min {:?} max {:?}; TTFT min {:?} max {:?}",
        tenant.e2e.min_ns(),
        tenant.e2e.max_ns(),
        tenant.ttft.min_ns(),
        tenant.ttft.max_ns()
    );
    assert_eq!(tenant.completed, 20);
    assert!(
        (prefill as f64 - 137e6).abs() < 0.01e6,
        "the fit passes the measured point"
    );
    assert_eq!(tenant.ttft.min_ns(), Some(prefill));
    assert_eq!(tenant.ttft.max_ns(), Some(prefill));
    assert_eq!(tenant.e2e.min_ns(), Some(expected_e2e));
    assert_eq!(tenant.e2e.max_ns(), Some(expected_e2e));
    assert_eq!(tenant.tpot.max_ns(), Some(step));
}

#[test]
fn saturated_replica_produces_max_batch_over_step_tokens_per_second() {
    // The Splitwise H100 decode table with an almost free prefill (1-token prompts at 10⁹
    // tokens/s), far more demand than capacity: the batch stays full.
    let profile = r#"
        [[profile]]
        id = "table-fast-prefill"
        decode = { batch = [1, 8, 16, 32, 64], step = ["29.8ms", "32.5ms", "34.2ms", "38.6ms", "50.2ms"] }
        prefill = { tokens_per_s = 1e9 }
    "#;
    for max_batch in [32u32, 64] {
        // 20 requests/s of 500 tokens for two hours (a replica manages 2 to 2.5); the
        // excess is dropped at a queue of 100 so memory stays small.
        let text = format!(
            r#"
            [run]
            duration = "2h"
            [[site]]
            id = "dc"
            kind = "region"
            jurisdiction = "US"
            [[model]]
            id = "llm"
            {profile}
            [[deployment]]
            id = "one"
            model = "llm"
            site = "dc"
            replicas = 1
            profile = "table-fast-prefill"
            max_batch = {max_batch}
            max_queue = 100
            [[tenant]]
            id = "t"
            jurisdiction = "US"
            ingress = {{ dc = 1.0 }}
            models = {{ llm = 1.0 }}
            rate = "20/s"
            input_tokens = {{ dist = "fixed", value = 1 }}
            output_tokens = {{ dist = "fixed", value = 500 }}
            "#
        );
        let output = simulate(scenario(&text));
        let deployment = &output.metrics.deployments[0];
        let step_s = match max_batch {
            32 => 0.0386,
            _ => 0.0502,
        };
        let expected = max_batch as f64 / step_s;
        let measured = deployment.output_tokens as f64 / 7200.0;
        println!(
            "max_batch {max_batch}: expected {expected:.1} tokens/s, measured {measured:.1} ({:+.2}%), mean batch {:.3}",
            100.0 * (measured / expected - 1.0),
            deployment.mean_batch
        );
        assert!((measured / expected - 1.0).abs() < 0.02);
    }
}

#[test]
fn kv_cache_blocks_admission_and_preempts_the_newest_exactly() {
    // Capacity 30 tokens; two requests of 10 prompt + 10 output tokens arrive together.
    // Prefill 1,000 tokens/s; step 10 ms + 1 ms × batch. Worked by hand:
    //   t=0    r1 admitted (holds 11 after prefill), prefill 10 ms
    //   t=10   r1's first token; r2 admitted (11 more: 22), prefill 10 ms
    //   t=20   r2's first token; the cache has room for 4 steps of 2 → t=68, 30 held
    //   t=68   the next step needs 2 more: r2 (newest, 10 + 5 held) is preempted
    //   t=68…123  r1 alone, 5 steps of 11 ms; r2 cannot come back (needs 16, has < 15)
    //   t=123  r1 done (E2E 123 ms); r2 re-admitted: recompute 15 tokens, 15 ms
    //   t=138  r2's sixth token; 4 steps of 11 ms → done at t=182 (E2E 182 ms)
    let trace = plain_trace(&[(0.0, 10, 10), (0.0, 10, 10)]);
    let text = one_replica(
        r#"llm = { prefill_tokens_per_s = 1000, decode_step_base = "10ms", decode_step_per_seq = "1ms" }
        max_batch = 8
        kv_cache_tokens = 30"#,
        &trace,
        "10s",
        "",
    );
    let (stepped, jumped) = run_both_ways(&text);
    for (label, output) in [("step by step", &stepped), ("jumps", &jumped)] {
        let tenant = &output.metrics.tenants[0];
        let deployment = &output.metrics.deployments[0];
        println!(
            "{label}: TTFT {:?}..{:?} (expected 10 ms..20 ms), E2E {:?}..{:?} (expected 123 ms..182 ms), preemptions {} (1), KV peak {} (30)",
            tenant.ttft.min_ns(),
            tenant.ttft.max_ns(),
            tenant.e2e.min_ns(),
            tenant.e2e.max_ns(),
            deployment.preemptions,
            deployment.kv_peak_tokens
        );
        assert_eq!(tenant.completed, 2);
        assert_eq!(tenant.ttft.min_ns(), Some(10_000_000));
        assert_eq!(tenant.ttft.max_ns(), Some(20_000_000));
        assert_eq!(tenant.e2e.min_ns(), Some(123_000_000));
        assert_eq!(tenant.e2e.max_ns(), Some(182_000_000));
        assert_eq!(deployment.preemptions, 1);
        assert_eq!(deployment.kv_peak_tokens, 30);
    }
    assert_eq!(summary_text(&stepped), summary_text(&jumped));
}

#[test]
fn requests_that_can_never_fit_are_dropped_on_arrival() {
    // 25 + 10 tokens exceed a 30-token cache even alone.
    let trace = plain_trace(&[(0.0, 25, 10), (1.0, 10, 10)]);
    let text = one_replica(
        r#"llm = { prefill_tokens_per_s = 1000, decode_step_base = "10ms", decode_step_per_seq = "1ms" }
        kv_cache_tokens = 30"#,
        &trace,
        "10s",
        "",
    );
    let output = simulate(scenario(&text));
    let (tenant, deployment) = (&output.metrics.tenants[0], &output.metrics.deployments[0]);
    assert_eq!((tenant.dropped, tenant.completed), (1, 1));
    assert_eq!(deployment.oversized, 1);
}

/// Quickstart at its peak with a tight KV cache (or chunked prefill): the same summary with
/// and without jumps; returns the jumped run for further checks.
fn quickstart_same_both_ways(overrides: &[&str]) -> RunOutput {
    let path = crate::common::scenarios_dir().join("quickstart.toml");
    let run = |step_by_step| {
        let overrides: Vec<String> = ["run.duration=10m", "run.warmup=1m"]
            .iter()
            .chain(overrides)
            .map(|s| s.to_string())
            .collect();
        let scenario = strait::scenario::load(&path, &overrides).expect("valid");
        let spec = StrategySpec::parse(&scenario.run.strategy).unwrap();
        run_with(scenario, &spec, RunOptions { step_by_step }).expect("run")
    };
    let (stepped, jumped) = (run(true), run(false));
    println!(
        "{overrides:?}: {} events step by step, {} with jumps",
        stepped.events, jumped.events
    );
    let (a, b) = (summary_text(&stepped), summary_text(&jumped));
    for (line, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        assert_eq!(x, y, "{overrides:?}: summaries differ at line {line}");
    }
    assert_eq!(a, b);
    // No claim on the event counts: with a full cache and clients that may give up, a
    // waiting head wakes every replica's step boundary in turn (see `serving::wake_one`),
    // and each cut-short stretch leaves a stale event behind.
    jumped
}

#[test]
fn kv_pressure_is_the_same_with_and_without_jumps() {
    let output = quickstart_same_both_ways(&[
        "deployment.gpt4o-sg.kv_cache_tokens=40000",
        "deployment.gpt4o-uswest.kv_cache_tokens=40000",
    ]);
    for (deployment, metrics) in output
        .scenario
        .deployments
        .iter()
        .zip(&output.metrics.deployments)
    {
        println!(
            "{}: preemptions {}, KV peak {} of 40000, mean batch {:.2}",
            deployment.id, metrics.preemptions, metrics.kv_peak_tokens, metrics.mean_batch
        );
        assert!(metrics.kv_peak_tokens <= 40_000);
    }
    let preemptions: u64 = output
        .metrics
        .deployments
        .iter()
        .map(|d| d.preemptions)
        .sum();
    assert!(
        preemptions > 0,
        "the cache was never tight: the test's premise broke"
    );
}

#[test]
fn chunked_prefill_is_the_same_with_and_without_jumps() {
    let output = quickstart_same_both_ways(&[
        "deployment.gpt4o-sg.batching=chunked",
        "deployment.gpt4o-uswest.batching=chunked",
        "deployment.gpt4o-uswest.chunk_tokens=512",
        "deployment.gpt4o-sg.kv_cache_tokens=60000",
    ]);
    let sg = &output.metrics.deployments[0];
    println!(
        "chunked, 60k cache: KV peak {}, preemptions {}",
        sg.kv_peak_tokens, sg.preemptions
    );
    assert!(sg.kv_peak_tokens <= 60_000);
}

#[test]
fn chunked_prefill_spreads_a_long_prompt_over_iterations() {
    // A lone 5,000-token prompt with a 2,048-token budget takes three iterations of
    // 2,048, 2,048 and 904 tokens; with a rate prefill that totals exactly the whole
    // prompt's time, so TTFT equals prefill-first's; then the decode steps follow.
    let trace = plain_trace(&[(0.0, 5000, 3)]);
    let service = |batching: &str| {
        format!(
            r#"llm = {{ prefill_tokens_per_s = 10000, decode_step_base = "20ms", decode_step_per_seq = "0.5ms" }}
            {batching}"#
        )
    };
    let chunked = simulate(scenario(&one_replica(
        &service("batching = \"chunked\""),
        &trace,
        "10s",
        "",
    )));
    let whole = simulate(scenario(&one_replica(&service(""), &trace, "10s", "")));
    let (chunked, whole) = (&chunked.metrics.tenants[0], &whole.metrics.tenants[0]);
    println!(
        "TTFT chunked {:?}, prefill-first {:?} (expected 500 ms); E2E {:?} / {:?} (expected 541 ms)",
        chunked.ttft.min_ns(),
        whole.ttft.min_ns(),
        chunked.e2e.min_ns(),
        whole.e2e.min_ns()
    );
    assert_eq!(chunked.ttft.min_ns(), Some(500_000_000));
    assert_eq!(whole.ttft.min_ns(), Some(500_000_000));
    assert_eq!(chunked.e2e.min_ns(), Some(541_000_000));
}

#[test]
fn an_arrival_exactly_on_a_step_boundary_is_admitted_there_both_ways() {
    // r1 at 0 s: 1,000 tokens at 10,000 tokens/s (100 ms), then steps of 20.5 ms until
    // its 200th token; r2 reaches the replica at exactly 1 s = 100 ms + 900 ms, a step
    // boundary (900 / 20.5 is not whole, so use 20 ms + 0 per sequence: steps of 20 ms).
    let trace = plain_trace(&[(0.0, 1000, 200), (1.0, 10, 5)]);
    let text = one_replica(PREFILL_10K_STEPS_20MS, &trace, "20s", "");
    let (stepped, jumped) = run_both_ways(&text);
    let tenant = &jumped.metrics.tenants[0];
    println!(
        "TTFT min {:?} (r2 admitted at 1 s: prefill of 10 tokens = 1 ms)",
        tenant.ttft.min_ns()
    );
    assert_eq!(tenant.ttft.min_ns(), Some(1_000_000));
    assert_eq!(summary_text(&stepped), summary_text(&jumped));
}

/// With jumps a prefill's end is settled when the prefill starts (`fold_prefill`); a
/// request arriving during the prefill must still be admitted at its end, and one arriving
/// exactly then too. r1 at 0 s: 1,000 tokens at 10,000 tokens/s (100 ms), then steps of
/// 20 ms; r2 reaches the replica at 50 ms, during that prefill: admitted at 100 ms, its 10
/// tokens take 1 ms, TTFT 51 ms; r3 at 101 ms, exactly the end of r2's prefill: TTFT 1 ms.
#[test]
fn arrivals_during_a_prefill_are_admitted_at_its_end_both_ways() {
    let trace = plain_trace(&[(0.0, 1000, 200), (0.05, 10, 5), (0.101, 10, 5)]);
    let text = one_replica(PREFILL_10K_STEPS_20MS, &trace, "20s", "");
    let (stepped, jumped) = run_both_ways(&text);
    let tenant = &jumped.metrics.tenants[0];
    println!(
        "TTFT min {:?} max {:?} (expected 1 ms and 100 ms); events: {} step by step, {} with jumps",
        tenant.ttft.min_ns(),
        tenant.ttft.max_ns(),
        stepped.events,
        jumped.events
    );
    assert_eq!(tenant.completed, 3);
    assert_eq!(tenant.ttft.min_ns(), Some(1_000_000));
    assert_eq!(tenant.ttft.max_ns(), Some(100_000_000));
    // r2's TTFT of 51 ms: the three sum to 152 ms.
    assert_eq!((tenant.ttft.mean_ns() * 3.0).round() as u64, 152_000_000);
    assert_eq!(summary_text(&stepped), summary_text(&jumped));
}

/// A run that ends during a prefill: the first token the jump has already stamped (after
/// the end) must not count. r1's prefill takes 100 ms, the run stops at 50 ms, the TTFT
/// target is 80 ms: not missed yet, so not judged, as step by step.
#[test]
fn a_first_token_after_the_end_of_the_run_does_not_count() {
    let trace = plain_trace(&[(0.0, 1000, 200)]);
    let text =
        one_replica(PREFILL_10K_STEPS_20MS, &trace, "50ms", "") + "slo = { ttft = \"80ms\" }\n";
    let (stepped, jumped) = run_both_ways(&text);
    let tenant = &jumped.metrics.tenants[0];
    println!(
        "in flight {}, judged {} (expected 1 and 0)",
        tenant.in_flight, tenant.slo_judged
    );
    assert_eq!((tenant.in_flight, tenant.slo_judged), (1, 0));
    assert_eq!(summary_text(&stepped), summary_text(&jumped));
}

#[test]
fn chunked_prefill_keeps_room_for_the_decoding_batch() {
    // Capacity 100: r1 (40 + 30 tokens) decodes holding 41; r2 (58 prompt) would fit
    // alone (41 + 59 = 100) but not beside r1's next token in the same mixed iteration,
    // so it waits; the cache never overflows and no prefill is wasted.
    let trace = plain_trace(&[(0.0, 40, 30), (0.05, 58, 2)]);
    let text = one_replica(
        r#"llm = { prefill_tokens_per_s = 1000, decode_step_base = "10ms", decode_step_per_seq = "0ms" }
        batching = "chunked"
        kv_cache_tokens = 100"#,
        &trace,
        "10s",
        "",
    );
    let (stepped, jumped) = run_both_ways(&text);
    for output in [&stepped, &jumped] {
        let deployment = &output.metrics.deployments[0];
        println!(
            "KV peak {} of 100, preemptions {}",
            deployment.kv_peak_tokens, deployment.preemptions
        );
        assert!(deployment.kv_peak_tokens <= 100);
        assert_eq!(deployment.preemptions, 0);
        assert_eq!(output.metrics.tenants[0].completed, 2);
    }
    assert_eq!(summary_text(&stepped), summary_text(&jumped));
}
