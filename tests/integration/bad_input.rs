//! Bad input: every case exits with code 2 and one message naming the file, the line and
//! column where the parser knows them, the field, and what would be valid. Never a panic.

use crate::common::{scenarios_dir, stderr, strait, temp_dir, write_temp};

const VALID: &str = r#"[run]
duration = "10m"
seed = 1

[[site]]
id = "city"
kind = "ingress"
jurisdiction = "CN"

[[site]]
id = "dc"
kind = "region"
jurisdiction = "SG"

[[link]]
id = "city-dc"
between = ["city", "dc"]
latency = "30ms"

[[model]]
id = "m"

[[deployment]]
id = "d1"
model = "m"
site = "dc"
replicas = 2
service = { dist = "exponential", mean = "100ms" }

[[tenant]]
id = "t1"
jurisdiction = "CN"
ingress = { city = 1.0 }
rate = "10/s"
models = { m = 1.0 }
"#;

/// Runs `strait check` on `text` (written to `name`) plus `extra` arguments and checks
/// the exit code is 2 and stderr names every one of `expected`.
fn rejects(label: &str, name: &str, text: &str, extra: &[&str], expected: &[&str]) {
    let path = write_temp(name, text);
    let mut args = vec!["check", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let output = strait(&args);
    let message = stderr(&output);
    println!(
        "{label}: exit {:?}: {}",
        output.status.code(),
        message.trim()
    );
    assert_eq!(output.status.code(), Some(2), "{label}: expected exit 2");
    assert!(!message.contains("panicked"), "{label}: panic");
    assert_eq!(
        message.trim().lines().count(),
        1,
        "{label}: expected one line, got {message}"
    );
    assert!(
        message.contains(name),
        "{label}: message does not name the file"
    );
    for fragment in expected {
        assert!(
            message.contains(fragment),
            "{label}: message lacks {fragment:?}"
        );
    }
}

fn replaced(from: &str, to: &str) -> String {
    assert!(
        VALID.contains(from),
        "test bug: {from:?} not in the base scenario"
    );
    VALID.replacen(from, to, 1)
}

#[test]
fn the_base_scenario_is_valid() {
    let path = write_temp("valid.toml", VALID);
    let output = strait(&["check", path.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn toml_syntax_error_points_at_line_and_column() {
    rejects(
        "syntax",
        "syntax.toml",
        &replaced("rate = \"10/s\"", "rate = \"10/s"),
        &[],
        &["syntax.toml:34:", "TOML syntax error"],
    );
}

#[test]
fn json_syntax_error_points_at_line_and_column() {
    rejects(
        "json",
        "broken.json",
        "{\n  \"run\": {\"duration\": \"1h\",}\n}",
        &[],
        &["broken.json:2:", "JSON syntax error"],
    );
}

#[test]
fn unknown_field_is_named_with_its_line() {
    rejects(
        "unknown field",
        "typo.toml",
        &replaced("rate = \"10/s\"", "rat = \"10/s\""),
        &[],
        &[
            "typo.toml:34:",
            "tenant.t1.rat",
            "unknown field `rat`",
            "expected one of",
        ],
    );
}

#[test]
fn unknown_id_lists_the_known_ones() {
    rejects(
        "unknown id",
        "unknown-id.toml",
        &replaced("model = \"m\"", "model = \"gpt-5\""),
        &[],
        &[
            "unknown-id.toml:25:",
            "deployment.d1.model",
            "unknown model \"gpt-5\"",
            "defined models: m",
        ],
    );
}

#[test]
fn negative_and_zero_rates_are_refused() {
    rejects(
        "negative rate",
        "negative.toml",
        &replaced("rate = \"10/s\"", "rate = \"-5/s\""),
        &[],
        &["negative.toml:34:8", "tenant.t1.rate", "negative"],
    );
    rejects(
        "zero rate",
        "zero.toml",
        &replaced("rate = \"10/s\"", "rate = 0"),
        &[],
        &["zero.toml:34:8", "tenant.t1.rate", "must be positive"],
    );
}

#[test]
fn weights_must_sum_to_a_positive_number() {
    rejects(
        "zero weights",
        "weights.toml",
        &replaced("ingress = { city = 1.0 }", "ingress = { city = 0.0 }"),
        &[],
        &["tenant.t1.ingress", "sum to 0", "positive"],
    );
    rejects(
        "negative weight",
        "negweight.toml",
        &replaced("models = { m = 1.0 }", "models = { m = -1.0 }"),
        &[],
        &["tenant.t1.models.m", "weights are finite numbers ≥ 0"],
    );
}

#[test]
fn unreachable_deployment_is_refused() {
    let text = replaced(
        "between = [\"city\", \"dc\"]",
        "between = [\"city\", \"dc\"]\nup = false",
    );
    rejects(
        "unreachable",
        "unreachable.toml",
        &text,
        &[],
        &["deployment.d1.site", "unreachable", "city"],
    );
}

#[test]
fn empty_topology_is_refused() {
    let text = "[run]\nduration = \"1h\"\n";
    rejects(
        "empty",
        "empty.toml",
        text,
        &[],
        &["site", "topology is empty"],
    );
}

#[test]
fn unparsable_units_say_what_is_valid() {
    rejects(
        "duration unit",
        "unit.toml",
        &replaced("duration = \"10m\"", "duration = \"10 parsecs\""),
        &[],
        &["unit.toml:2:12", "run.duration", "\"250ms\""],
    );
    rejects(
        "missing unit",
        "nounit.toml",
        &replaced("latency = \"30ms\"", "latency = \"30\""),
        &[],
        &["link.city-dc.latency", "no unit"],
    );
    rejects(
        "rate unit",
        "rateunit.toml",
        &replaced("rate = \"10/s\"", "rate = \"10/fortnight\""),
        &[],
        &["tenant.t1.rate", "\"3200/s\""],
    );
}

#[test]
fn nan_and_infinity_are_refused() {
    rejects(
        "nan rate",
        "nan.toml",
        &replaced("rate = \"10/s\"", "rate = nan"),
        &[],
        &["tenant.t1.rate", "NaN"],
    );
    rejects(
        "inf weight",
        "inf.toml",
        &replaced("ingress = { city = 1.0 }", "ingress = { city = inf }"),
        &[],
        &["tenant.t1.ingress.city", "inf"],
    );
}

#[test]
fn absurd_sizes_are_refused() {
    rejects(
        "replicas",
        "replicas.toml",
        &replaced("replicas = 2", "replicas = 1000000000"),
        &[],
        &["deployment.d1.replicas", "1 to 1000000"],
    );
    rejects(
        "replicas zero",
        "replicas0.toml",
        &replaced("replicas = 2", "replicas = 0"),
        &[],
        &["deployment.d1.replicas"],
    );
    rejects(
        "duration",
        "duration.toml",
        &replaced("duration = \"10m\"", "duration = \"1e9d\""),
        &[],
        &["run.duration", "100 years"],
    );
    rejects(
        "rate",
        "hugerate.toml",
        &replaced("rate = \"10/s\"", "rate = \"1e12/s\""),
        &[],
        &["tenant.t1.rate", "split it"],
    );
}

#[test]
fn wrong_types_and_missing_fields_are_named() {
    rejects(
        "type",
        "type.toml",
        &replaced("replicas = 2", "replicas = \"two\""),
        &[],
        &["deployment.d1.replicas", "invalid type"],
    );
    rejects(
        "missing",
        "missing.toml",
        &replaced("duration = \"10m\"\n", ""),
        &[],
        &["run", "missing field `duration`"],
    );
}

#[test]
fn inconsistent_entities_are_refused() {
    rejects(
        "duplicate id",
        "dup.toml",
        &replaced("id = \"dc\"", "id = \"city\""),
        &[],
        &["site", "duplicate site id \"city\""],
    );
    rejects(
        "warm-up",
        "warmup.toml",
        &replaced("seed = 1", "seed = 1\nwarmup = \"1h\""),
        &[],
        &["run.warmup", "shorter than the run"],
    );
    let at_ingress = replaced("site = \"dc\"", "site = \"city\"");
    rejects(
        "deployment at ingress",
        "athub.toml",
        &at_ingress,
        &[],
        &["deployment.d1.site", "kind \"region\""],
    );
    rejects(
        "unserved model",
        "unserved.toml",
        &replaced("[[tenant]]", "[[model]]\nid = \"other\"\n\n[[tenant]]")
            .replace("models = { m = 1.0 }", "models = { other = 1.0 }"),
        &[],
        &["tenant.t1.models.other", "no deployment serves"],
    );
    rejects(
        "bad strategy",
        "strategy.toml",
        &replaced("seed = 1", "seed = 1\nstrategy = \"fastest\""),
        &[],
        &["run.strategy", "known strategies: nearest, least-loaded"],
    );
}

#[test]
fn bad_set_overrides_are_refused() {
    rejects(
        "set unknown id",
        "set-id.toml",
        VALID,
        &["--set", "tenant.t9.rate=5/s"],
        &["--set", "no tenant with id \"t9\"", "t1"],
    );
    rejects(
        "set bad value",
        "set-value.toml",
        VALID,
        &["--set", "tenant.t1.rate=-3/s"],
        &["tenant.t1.rate", "negative"],
    );
    rejects(
        "set unknown field",
        "set-field.toml",
        VALID,
        &["--set", "deployment.d1.replica=3"],
        &["deployment.d1.replica", "unknown field"],
    );
    rejects(
        "set no value",
        "set-novalue.toml",
        VALID,
        &["--set", "run.duration"],
        &["PATH=VALUE"],
    );
}

#[test]
fn missing_file_is_an_input_error() {
    let output = strait(&["run", "/nonexistent/strait/scenario.toml"]);
    let message = stderr(&output);
    println!("missing file: {}", message.trim());
    assert_eq!(output.status.code(), Some(2));
    assert!(
        message.contains("/nonexistent/strait/scenario.toml") && message.contains("no such file")
    );
}

#[test]
fn unwritable_output_directory_is_an_input_error() {
    // A regular file where the output directory should be.
    let directory = temp_dir("unwritable");
    let blocker = directory.join("a-file");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let scenario = scenarios_dir().join("mmc.toml");
    let target = blocker.join("out");
    let output = strait(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        target.to_str().unwrap(),
        "--set",
        "run.duration=20m",
    ]);
    let message = stderr(&output);
    println!("unwritable: {}", message.trim());
    assert_eq!(output.status.code(), Some(2));
    assert!(message.contains("cannot create the output directory") && message.contains("--out"));
}

#[test]
fn bad_strategy_on_the_command_line_is_refused() {
    let scenario = scenarios_dir().join("mmc.toml");
    let out = temp_dir("strategy");
    let output = strait(&[
        "run",
        scenario.to_str().unwrap(),
        "--strategy",
        "teleport",
        "--out",
        out.to_str().unwrap(),
    ]);
    let message = stderr(&output);
    println!("strategy: {}", message.trim());
    assert_eq!(output.status.code(), Some(2));
    assert!(message.contains("run.strategy") && message.contains("unknown strategy \"teleport\""));
}

#[test]
fn arrays_where_tables_belong_are_refused() {
    // Serde would read a struct from an array by position; strait must not.
    rejects(
        "slo array",
        "slo-array.toml",
        VALID,
        &["--set", "tenant.t1.slo=[\"1ms\", \"2s\"]"],
        &["tenant.t1.slo", "expected a table"],
    );
    rejects(
        "run array",
        "run-array.toml",
        &replaced(
            "[run]\nduration = \"10m\"\nseed = 1\n",
            "run = [\"x\", \"10m\"]\n",
        ),
        &[],
        &["run", "expected a table"],
    );
}

#[test]
fn seeds_outside_the_whole_numbers_are_refused() {
    rejects(
        "float seed",
        "seed-float.toml",
        &replaced("seed = 1", "seed = 1e20"),
        &[],
        &["run.seed", "from 0 to 9223372036854775807"],
    );
    rejects(
        "negative seed",
        "seed-negative.toml",
        &replaced("seed = 1", "seed = -1"),
        &[],
        &["run.seed", "from 0 to"],
    );
}

#[test]
fn runs_too_big_to_finish_are_refused_up_front() {
    rejects(
        "timeseries rows",
        "rows.toml",
        &replaced("seed = 1", "seed = 1\nmetrics_interval = \"1ms\"")
            .replace("duration = \"10m\"", "duration = \"2h\""),
        &[],
        &["run.metrics_interval", "longer interval"],
    );
    rejects(
        "request count",
        "requests.toml",
        &replaced("duration = \"10m\"", "duration = \"36000d\"")
            .replace("rate = \"10/s\"", "rate = \"1e6/s\""),
        &[],
        &["run.duration", "requests, more than 1e11"],
    );
    rejects("batch slots", "slots.toml", &replaced("service = { dist = \"exponential\", mean = \"100ms\" }", "llm = { prefill_tokens_per_s = 1000, decode_step_base = \"10ms\", decode_step_per_seq = \"1ms\" }\nmax_batch = 100000").replace("replicas = 2", "replicas = 1000000"), &[], &["deployment.d1.max_batch", "100 million"]);
    rejects(
        "link latency",
        "slow-link.toml",
        &replaced("latency = \"30ms\"", "latency = \"36000d\""),
        &[],
        &["link.city-dc.latency", "longer than a day"],
    );
}

#[test]
fn a_set_path_must_name_a_field() {
    rejects(
        "entity path",
        "entity-path.toml",
        VALID,
        &["--set", "deployment.d1=3"],
        &["names an entity, not a field"],
    );
}

#[test]
fn the_all_tenants_id_is_reserved() {
    rejects(
        "reserved id",
        "star.toml",
        &replaced("id = \"t1\"", "id = \"*\""),
        &[],
        &["star.toml:31:", "tenant.*.id", "reserved"],
    );
}
