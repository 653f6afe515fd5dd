//! Criterion benchmarks: the event queue under a steady "hold" load at several sizes, and
//! whole runs of the shipped scenarios (shortened).
//!
//! ```text
//! cargo bench --bench engine
//! ```

use std::hint::black_box;
use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::{RngExt, SeedableRng};
use strait::engine::{EventQueue, SimTime, StreamRng, Timers};
use strait::routing::StrategySpec;

/// The classic hold model: the queue stays at `size` events; each operation pops the
/// earliest and pushes one a random time later.
fn event_queue(c: &mut Criterion) {
    let mut group = c.benchmark_group("event_queue_hold");
    for size in [16usize, 1_024, 65_536] {
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, &size| {
            let mut rng = StreamRng::seed_from_u64(1);
            let mut queue = EventQueue::new();
            for i in 0..size {
                queue.push(
                    SimTime::from_nanos(rng.random_range(0..1_000_000)),
                    i as u32,
                );
            }
            b.iter(|| {
                let (time, event) = queue.pop().expect("queue is never empty");
                queue.push(
                    SimTime::from_nanos(time.as_nanos() + rng.random_range(0..1_000_000)),
                    event,
                );
                black_box(event)
            });
        });
    }
    group.finish();
}

/// The hold model on timers: `size` timers always set; each operation takes the earliest
/// and sets its timer again later (a replica's next iteration), and moves one other timer
/// earlier (an arrival waking a coasting replica).
fn timers(c: &mut Criterion) {
    let mut group = c.benchmark_group("timers_hold");
    for size in [16u32, 1_024, 65_536] {
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, &size| {
            let mut rng = StreamRng::seed_from_u64(1);
            let mut timers = Timers::default();
            for timer in 0..size {
                let time = SimTime::from_nanos(rng.random_range(0..1_000_000));
                timers.set(timer, time, timer as u64, timer);
            }
            b.iter(|| {
                let (time, timer) = timers.pop().expect("timers are never all clear");
                let now = time.as_nanos();
                timers.set(
                    timer,
                    SimTime::from_nanos(now + rng.random_range(0..1_000_000)),
                    timer as u64,
                    timer,
                );
                let other = rng.random_range(0..size);
                if other != timer {
                    timers.set(
                        other,
                        SimTime::from_nanos(now + rng.random_range(0..1_000)),
                        other as u64,
                        other,
                    );
                }
                black_box(timer)
            });
        });
    }
    group.finish();
}

fn load(name: &str, overrides: &[&str]) -> strait::scenario::Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    strait::scenario::load(&path, &overrides).expect("shipped scenario is valid")
}

fn whole_runs(c: &mut Criterion) {
    let mut group = c.benchmark_group("whole_run");
    group.sample_size(10);
    let cases = [
        (
            "quickstart_10min",
            "quickstart.toml",
            vec!["run.duration=10m", "run.warmup=1m"],
        ),
        (
            "mmc_10min",
            "mmc.toml",
            vec!["run.duration=10m", "run.warmup=1m"],
        ),
    ];
    for (label, file, overrides) in cases {
        let scenario = load(file, &overrides);
        let spec = StrategySpec::parse(&scenario.run.strategy).expect("valid strategy");
        // Throughput in simulated requests: measured once, the count is deterministic.
        let requests: u64 = strait::simulator::run(scenario.clone(), &spec)
            .expect("run")
            .metrics
            .tenants
            .iter()
            .map(|t| t.generated)
            .sum();
        group.throughput(Throughput::Elements(requests));
        group.bench_function(label, |b| {
            b.iter(|| {
                black_box(
                    strait::simulator::run(scenario.clone(), &spec)
                        .expect("run")
                        .events,
                )
            })
        });
    }
    group.finish();
}

/// One routing decision among 16 candidates, for each strategy.
fn routing_decision(c: &mut Criterion) {
    use strait::routing::{Candidate, RequestView};
    let candidates: Vec<Candidate> = (0..16)
        .map(|deployment| Candidate {
            deployment,
            network_latency: strait::engine::SimDuration::from_micros(
                40_000 + 7_919 * deployment as u64 % 50_000,
            ),
            in_transit: (deployment as u32 * 17) % 5,
            queued: (deployment as u32 * 37) % 11,
            running: (deployment as u32 * 53) % 64,
            replicas: 1 + deployment as u32 % 8,
            max_batch: 64,
            route: 0,
            hubs: strait::routing::HubSet::default(),
            queue_wait_estimate: strait::engine::SimDuration::from_micros(
                (deployment as u64 * 131) % 997,
            ),
            prefill_estimate: strait::engine::SimDuration::from_millis(70),
            cost_usd: 0.001 + (deployment as f64 * 7.0) % 3.0 * 1e-4,
            weight: 1.0 + deployment as f64 % 3.0,
        })
        .collect();
    let request = RequestView {
        tenant: 0,
        model: 0,
        ingress: 0,
        input_tokens: 1_000,
        output_tokens: 100,
        ttft_slo: Some(strait::engine::SimDuration::from_secs(2)),
    };
    let mut group = c.benchmark_group("routing_decision_16_candidates");
    // One typical spec per strategy; `hub[via=hub-sg]` finds no path through that hub
    // here and rejects, which still measures its filter.
    for name in strait::routing::STRATEGY_EXAMPLES {
        let spec = StrategySpec::parse(name).expect("valid example");
        let mut strategy = strait::routing::resolve(
            &spec,
            StreamRng::seed_from_u64(1),
            &strait::routing::RouteContext::default(),
        )
        .expect("strategy");
        group.bench_function(name, |b| {
            b.iter(|| black_box(strategy.pick(black_box(&request), black_box(&candidates))))
        });
    }
    group.finish();
}

/// One event of a saturated LLM deployment (mostly batch iterations: a serving step with
/// its admissions, completions and metrics), stepped in a long quickstart run.
fn serving_step(c: &mut Criterion) {
    // Thirty simulated days: far more events than criterion steps through, so every
    // measured step does real work.
    let scenario = load("quickstart.toml", &["run.duration=30d"]);
    let spec = StrategySpec::parse(&scenario.run.strategy).expect("valid strategy");
    let mut simulation =
        strait::simulator::build(scenario, &spec, Default::default()).expect("build");
    // Past the first hour, so queues and batches are in steady state.
    for _ in 0..2_000_000 {
        simulation.step();
    }
    c.bench_function("serving_step_quickstart_event", |b| {
        b.iter(|| black_box(simulation.step()))
    });
}

criterion_group!(
    benches,
    event_queue,
    timers,
    routing_decision,
    serving_step,
    whole_runs
);
criterion_main!(benches);
