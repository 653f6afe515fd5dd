//! The engine against queueing theory: a deployment of plain servers fed by one Poisson
//! tenant over a zero-latency network is an M/M/c (or M/D/1) station.

use crate::common::{scenario, simulate};

/// Erlang C: mean wait in queue of an M/M/c station, in seconds.
fn erlang_c_wait(lambda: f64, mu: f64, c: u32) -> f64 {
    let offered = lambda / mu;
    let rho = offered / c as f64;
    assert!(rho < 1.0, "unstable station");
    let mut term = 1.0; // offered^k / k!
    let mut below_c = 0.0;
    for k in 0..c {
        if k > 0 {
            term *= offered / k as f64;
        }
        below_c += term;
    }
    let at_c = term * offered / c as f64 / (1.0 - rho);
    let probability_of_waiting = at_c / (below_c + at_c);
    probability_of_waiting / (c as f64 * mu - lambda)
}

/// Pollaczek–Khinchine for M/D/1: Wq = ρ / (2μ(1 − ρ)).
fn md1_wait(lambda: f64, mu: f64) -> f64 {
    let rho = lambda / mu;
    rho / (2.0 * mu * (1.0 - rho))
}

fn station(lambda_per_s: f64, service: &str, servers: u32, duration: &str, seed: u64) -> String {
    format!(
        r#"
        [run]
        duration = "{duration}"
        warmup = "30m"
        seed = {seed}
        [[site]]
        id = "here"
        kind = "region"
        jurisdiction = "XX"
        [[model]]
        id = "job"
        [[deployment]]
        id = "station"
        model = "job"
        site = "here"
        replicas = {servers}
        service = {service}
        [[tenant]]
        id = "clients"
        jurisdiction = "XX"
        ingress = {{ here = 1.0 }}
        rate = "{lambda_per_s}/s"
        models = {{ job = 1.0 }}
        input_tokens = {{ dist = "fixed", value = 1 }}
        output_tokens = {{ dist = "fixed", value = 1 }}
        "#
    )
}

struct Measured {
    wait_s: f64,
    utilization: f64,
    mean_queue_length: f64,
    arrival_rate_after_warmup: f64,
    requests: u64,
}

fn measure(text: &str) -> Measured {
    let output = simulate(scenario(text));
    let tenant = &output.metrics.tenants[0];
    let deployment = &output.metrics.deployments[0];
    let window_s =
        (output.scenario.run.duration.as_secs_f64()) - output.scenario.run.warmup.as_secs_f64();
    Measured {
        wait_s: tenant.queue_wait.mean_ns() / 1e9,
        utilization: deployment.utilization,
        mean_queue_length: deployment.mean_queue_length,
        arrival_rate_after_warmup: tenant.queue_wait.count() as f64 / window_s,
        requests: tenant.generated,
    }
}

fn check_mmc(lambda: f64, mean_service_ms: f64, servers: u32, duration: &str) {
    let mu = 1000.0 / mean_service_ms;
    let service = format!(r#"{{ dist = "exponential", mean = "{mean_service_ms}ms" }}"#);
    let measured = measure(&station(lambda, &service, servers, duration, 7));
    let expected_wait = erlang_c_wait(lambda, mu, servers);
    let expected_utilization = lambda / (servers as f64 * mu);
    let wait_error = (measured.wait_s - expected_wait).abs() / expected_wait;
    println!(
        "M/M/{servers} λ={lambda}/s μ={mu}/s ρ={expected_utilization:.3} over {} requests: \
         Wq expected {:.4} ms actual {:.4} ms (error {:.2}%); utilisation expected {expected_utilization:.4} actual {:.4}",
        measured.requests,
        expected_wait * 1e3,
        measured.wait_s * 1e3,
        wait_error * 100.0,
        measured.utilization
    );
    assert!(
        wait_error < 0.03,
        "mean queue wait off by {:.2}%",
        wait_error * 100.0
    );
    assert!(
        (measured.utilization - expected_utilization).abs() / expected_utilization < 0.01,
        "utilisation off"
    );
    // Little's law on the same sample path: Lq = λ Wq.
    let little = measured.arrival_rate_after_warmup * measured.wait_s;
    println!(
        "  Little: Lq measured {:.4}, λ·Wq {:.4}",
        measured.mean_queue_length, little
    );
    assert!(
        (measured.mean_queue_length - little).abs() / little < 0.01,
        "Little's law off"
    );
}

#[test]
fn mm1_at_half_load_matches_erlang_c() {
    // ρ = 0.5: Wq = 100 ms.
    check_mmc(5.0, 100.0, 1, "100h");
}

#[test]
fn mm4_at_three_quarters_load_matches_erlang_c() {
    // ρ = 0.75: Wq = 50.94 ms.
    check_mmc(30.0, 100.0, 4, "30h");
}

#[test]
fn mm16_at_ninety_percent_load_matches_erlang_c() {
    // ρ = 0.9: Wq = 36.96 ms.
    check_mmc(144.0, 100.0, 16, "6h");
}

#[test]
fn mm1_at_ninety_five_percent_load_matches_erlang_c() {
    // ρ = 0.95 with one server is the hardest case here: long busy periods make the
    // estimate converge slowly, so it runs for 1,000 simulated hours (≈ 34 M requests).
    check_mmc(9.5, 100.0, 1, "1000h");
}

#[test]
fn md1_matches_pollaczek_khinchine() {
    let (lambda, mu) = (7.0, 10.0);
    let text = station(
        lambda,
        r#"{ dist = "deterministic", mean = "100ms" }"#,
        1,
        "40h",
        11,
    );
    let measured = measure(&text);
    let expected = md1_wait(lambda, mu);
    let error = (measured.wait_s - expected).abs() / expected;
    println!(
        "M/D/1 ρ=0.7 over {} requests: Wq expected {:.4} ms actual {:.4} ms (error {:.2}%)",
        measured.requests,
        expected * 1e3,
        measured.wait_s * 1e3,
        error * 100.0
    );
    assert!(error < 0.03);
}

#[test]
fn mg1_with_lognormal_service_matches_pollaczek_khinchine() {
    // Lognormal service with median 80 ms and p99 300 ms: σ = ln(300/80)/z₀.₉₉,
    // E[S] = 80·exp(σ²/2) ms, cv² = exp(σ²) − 1.
    let sigma = (300.0f64 / 80.0).ln() / 2.326_347_874_040_841;
    let mean_s = 0.080 * (sigma * sigma / 2.0).exp();
    let squared_cv = (sigma * sigma).exp() - 1.0;
    let lambda = 0.6 / mean_s; // ρ = 0.6
    let expected = 0.6 * (1.0 + squared_cv) * mean_s / (2.0 * 0.4);
    let text = station(
        lambda,
        r#"{ dist = "lognormal", median = "80ms", p99 = "300ms" }"#,
        1,
        "200h",
        13,
    );
    let measured = measure(&text);
    let error = (measured.wait_s - expected).abs() / expected;
    println!(
        "M/G/1 lognormal ρ=0.6 cv²={squared_cv:.3} over {} requests: Wq expected {:.4} ms actual {:.4} ms (error {:.2}%)",
        measured.requests,
        expected * 1e3,
        measured.wait_s * 1e3,
        error * 100.0
    );
    assert!(error < 0.03);
}

#[test]
fn the_reported_prediction_agrees_with_this_tests_oracle_and_covers_the_measurement() {
    let text = station(
        144.0,
        r#"{ dist = "exponential", mean = "100ms" }"#,
        16,
        "12h",
        17,
    );
    let scenario = scenario(&text);
    let prediction = strait::queueing::predict(&scenario, 0).expect("an M/M/c station");
    let oracle = erlang_c_wait(144.0, 10.0, 16);
    let predicted = prediction.mean_queue_wait.expect("stable").as_secs_f64();
    println!(
        "{}: predicted {predicted:.6} s, oracle {oracle:.6} s",
        prediction.kendall
    );
    assert_eq!(prediction.kendall, "M/M/16");
    assert!((predicted - oracle).abs() < 1e-9);
    let output = simulate(scenario);
    let deployment = &output.metrics.deployments[0];
    let half_width = deployment.queue_wait_ci95_ns.expect("enough batches");
    let measured = deployment.queue_wait_mean_ns;
    println!(
        "measured {:.4} ms ± {:.4} ms, predicted {:.4} ms",
        measured / 1e6,
        half_width / 1e6,
        predicted * 1e3
    );
    // The interval is informative (well under 10% of the mean) and, with this seed, covers
    // the truth; 1.5 half-widths leaves room for the 5% of seeds a 95% interval misses.
    assert!(half_width < 0.1 * measured);
    assert!((measured - predicted * 1e9).abs() < 1.5 * half_width);
}

#[test]
fn theory_is_withheld_where_it_does_not_apply() {
    // Two servers with deterministic service: M/D/2 has no exact closed form here.
    let text = station(
        10.0,
        r#"{ dist = "deterministic", mean = "100ms" }"#,
        2,
        "1h",
        1,
    );
    assert_eq!(strait::queueing::predict(&scenario(&text), 0), None);
    // A diurnal tenant is not a Poisson process with constant rate.
    let diurnal = station(
        10.0,
        r#"{ dist = "exponential", mean = "100ms" }"#,
        2,
        "1h",
        1,
    )
    .replace(
        "models = { job = 1.0 }",
        "models = { job = 1.0 }\ndiurnal = { peak_hour = 12, trough_ratio = 0.5 }",
    );
    assert_eq!(strait::queueing::predict(&scenario(&diurnal), 0), None);
}

/// Erlang B: blocking probability of an M/M/c/c loss system, by the stable recursion.
fn erlang_b(servers: u32, offered_load: f64) -> f64 {
    (1..=servers).fold(1.0, |blocking, k| {
        offered_load * blocking / (k as f64 + offered_load * blocking)
    })
}

#[test]
fn a_station_without_a_queue_drops_as_erlang_b_says() {
    // max_queue = 0 makes an M/M/c/c loss system: arrivals finding every server busy are
    // dropped. Erlang B with c = 10, a = 9: B = 0.1680.
    let text = station(
        90.0,
        r#"{ dist = "exponential", mean = "100ms" }"#,
        10,
        "12h",
        19,
    )
    .replace("replicas = 10", "replicas = 10\nmax_queue = 0");
    let output = simulate(scenario(&text));
    let deployment = &output.metrics.deployments[0];
    let blocked = deployment.dropped as f64 / deployment.arrivals as f64;
    let expected = erlang_b(10, 9.0);
    println!(
        "M/M/10/10 a=9 over {} arrivals: blocking expected {expected:.4} actual {blocked:.4}",
        deployment.arrivals
    );
    assert!((blocked - expected).abs() / expected < 0.02);
    assert_eq!(
        output.metrics.tenants[0].queue_wait.max_ns(),
        Some(0),
        "nobody may wait"
    );
}
