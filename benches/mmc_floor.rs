//! The floor: a minimal hand-written M/M/c simulation on a binary heap, with nothing but
//! what the model needs. strait's whole-process throughput on `scenarios/mmc.toml` is
//! measured against it (issue 6 asks for within 3×).
//!
//! ```text
//! cargo bench --bench mmc_floor -- --rate 90 --mean-service-ms 100 --servers 10 --requests 10000000
//! ```
//!
//! Prints one JSON line: requests, wall_s, requests_per_s, mean_queue_wait_ms.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, Exp};

fn argument(args: &[String], name: &str, default: f64) -> f64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rate_per_s = argument(&args, "--rate", 90.0);
    let mean_service_ms = argument(&args, "--mean-service-ms", 100.0);
    let servers = argument(&args, "--servers", 10.0) as u32;
    let requests = argument(&args, "--requests", 10_000_000.0) as u64;

    let started = Instant::now();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let interarrival = Exp::new(rate_per_s / 1e9).expect("positive rate");
    let service = Exp::new(1.0 / (mean_service_ms * 1e6)).expect("positive service time");

    // Events: (time in ns, sequence) → true for an arrival, false for a departure.
    let mut heap: BinaryHeap<Reverse<(u64, u64, bool)>> = BinaryHeap::new();
    let mut sequence = 0u64;
    let mut waiting: VecDeque<u64> = VecDeque::new();
    let mut idle = servers;
    let mut generated = 0u64;
    let mut served = 0u64;
    let mut total_wait_ns = 0u128;

    heap.push(Reverse((
        interarrival.sample(&mut rng) as u64,
        sequence,
        true,
    )));
    while let Some(Reverse((now, _, is_arrival))) = heap.pop() {
        sequence += 1;
        if is_arrival {
            generated += 1;
            if generated < requests {
                heap.push(Reverse((
                    now + interarrival.sample(&mut rng) as u64,
                    sequence,
                    true,
                )));
            }
            if idle > 0 {
                idle -= 1;
                served += 1;
                heap.push(Reverse((
                    now + service.sample(&mut rng) as u64,
                    sequence,
                    false,
                )));
            } else {
                waiting.push_back(now);
            }
        } else if let Some(arrived) = waiting.pop_front() {
            total_wait_ns += (now - arrived) as u128;
            served += 1;
            heap.push(Reverse((
                now + service.sample(&mut rng) as u64,
                sequence,
                false,
            )));
        } else {
            idle += 1;
        }
    }
    let wall_s = started.elapsed().as_secs_f64();
    println!(
        "{{\"requests\": {generated}, \"wall_s\": {wall_s:.6}, \"requests_per_s\": {:.0}, \"mean_queue_wait_ms\": {:.6}}}",
        generated as f64 / wall_s,
        total_wait_ns as f64 / served as f64 / 1e6
    );
}
