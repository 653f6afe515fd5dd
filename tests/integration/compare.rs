//! `strait compare`: every strategy sees identical demand (common random numbers), runs
//! land in their own directories, and the side-by-side files hold one row per run.

use crate::common::{read_summary, scenarios_dir, stderr, stdout, strait, temp_dir};

fn quickstart() -> String {
    scenarios_dir()
        .join("quickstart.toml")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn strategies_are_compared_on_identical_demand() {
    let out = temp_dir("compare");
    let strategies = [
        "least-loaded",
        "power-of-two",
        "latency-aware",
        "cost-aware",
        "spillover[threshold=2]",
    ];
    let output = strait(&[
        "compare",
        &quickstart(),
        "--strategies",
        &strategies.join(","),
        "--set",
        "run.duration=10m",
        "--set",
        "run.warmup=1m",
        "--out",
        out.to_str().unwrap(),
    ]);
    println!("{}", stdout(&output));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("every run saw identical demand"));
    // Per tenant: the same requests (fingerprint of every arrival instant, ingress, model
    // and size), whatever the strategy did with them.
    let summaries: Vec<serde_json::Value> = [
        "least-loaded",
        "power-of-two",
        "latency-aware",
        "cost-aware",
        "spillover_threshold=2",
    ]
    .iter()
    .map(|label| read_summary(&out.join(label)))
    .collect();
    for tenant in ["cn-large", "cn-medium"] {
        let demand: Vec<(String, u64, u64, u64)> = summaries
            .iter()
            .map(|summary| {
                let t = &summary["tenants"][tenant];
                (
                    t["demand_fingerprint"].as_str().unwrap().to_string(),
                    t["requests"]["generated"].as_u64().unwrap(),
                    t["requests"]["input_tokens"].as_u64().unwrap(),
                    t["requests"]["output_tokens"].as_u64().unwrap(),
                )
            })
            .collect();
        println!("{tenant}: {:?}", demand[0]);
        assert!(
            demand.iter().all(|d| *d == demand[0]),
            "{tenant}: {demand:?}"
        );
    }
    // The strategies did differ.
    let ttft_p99: Vec<f64> = summaries
        .iter()
        .map(|s| s["latency_ms"]["ttft"]["p99"].as_f64().unwrap())
        .collect();
    assert!(ttft_p99.iter().any(|&p| p != ttft_p99[0]), "{ttft_p99:?}");
    let csv = std::fs::read_to_string(out.join("compare.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + strategies.len());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).unwrap()).unwrap();
    assert_eq!(json.as_array().unwrap().len(), strategies.len());
}

#[test]
fn variants_change_what_they_set_and_the_fingerprint_notices() {
    let out = temp_dir("variants");
    let output = strait(&[
        "compare",
        &quickstart(),
        "--variant",
        "seed-1: run.seed=1",
        "--variant",
        "seed-2: run.seed=2",
        "--strategies",
        "nearest,least-loaded",
        "--set",
        "run.duration=5m",
        "--set",
        "run.warmup=1m",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let fingerprint = |label: &str| {
        read_summary(&out.join(label))["tenants"]["cn-large"]["demand_fingerprint"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        fingerprint("seed-1-nearest"),
        fingerprint("seed-1-least-loaded")
    );
    assert_ne!(fingerprint("seed-1-nearest"), fingerprint("seed-2-nearest"));
}

#[test]
fn bad_comparisons_exit_2() {
    for args in [
        vec!["--strategies", "least-loaded"],
        vec!["--strategies", "least-loaded,fastest"],
        vec!["--strategies", "least-loaded,least-loaded"],
        vec![
            "--variant",
            "no colon here",
            "--strategies",
            "nearest,least-loaded",
        ],
    ] {
        let scenario = quickstart();
        let mut all = vec!["compare", scenario.as_str()];
        all.extend(args.iter().copied());
        let output = strait(&all);
        println!("{args:?} → {}", stderr(&output).trim());
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
}
