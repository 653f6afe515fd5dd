//! `strait compare SCENARIO --strategies a,b,c [--variant 'LABEL: PATH=VALUE; ...']...`
//!
//! Runs one scenario several ways — each routing strategy, each variant (a bundle of
//! `--set` overrides, e.g. one transit hub against another), or every combination of the
//! two — on identical demand, in parallel across cores, and puts the results side by side.
//!
//! ```text
//!               ┌─ least-loaded ──► OUT/least-loaded/   summary.json, CSVs
//!  SCENARIO ────┼─ latency-aware ─► OUT/latency-aware/
//!  (+ --set)    └─ cost-aware ────► OUT/cost-aware/
//!                                   OUT/compare.csv, OUT/compare.json, a table on stdout,
//!                                   OUT/charts/, OUT/report.html (and each run's own)
//! ```
//!
//! **Identical demand.** Every random draw in strait comes from a stream derived from the
//! seed and its purpose (`engine::RngStreams`): a tenant's arrival times and request
//! attributes come from that tenant's own streams, which routing never touches. So every
//! run sees the same requests, with the same sizes, at the same instants (common random
//! numbers); each tenant's `demand_fingerprint` in `summary.json` — a hash of every request
//! it generated — shows it, and a test checks that it is equal across strategies.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;

use super::{CliError, ScenarioArgs, print_to_stdout};
use crate::report::{Summary, Timing, write_atomic, write_run};
use crate::routing::StrategySpec;
use crate::simulator;

#[derive(clap::Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Routing strategies to compare, comma-separated outside brackets:
    /// least-loaded,latency-aware[telemetry_delay=1s],cost-aware.
    #[arg(long, value_name = "SPECS")]
    pub strategies: Option<String>,
    /// A named bundle of overrides, `LABEL: PATH=VALUE; PATH=VALUE` (repeatable), e.g.
    /// --variant 'hk: run.strategy=hub[via=hub-hk]' --variant 'sg: run.strategy=hub[via=hub-sg]'.
    #[arg(long = "variant", value_name = "LABEL: SETS")]
    pub variants: Vec<String>,
    /// Output directory [default: output/<run name>-compare].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Runs at once [default: the number of cores].
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Print nothing on success.
    #[arg(long)]
    pub quiet: bool,
    /// Skip the charts and report.html (the comparison's and each run's).
    #[arg(long)]
    pub no_charts: bool,
}

/// One run of the comparison: its label and the overrides that make it.
#[derive(Clone, Debug)]
struct Plan {
    label: String,
    variant: Option<String>,
    overrides: Vec<String>,
}

/// One row of compare.csv / compare.json: a run's headline figures.
#[derive(Clone, Debug, Serialize)]
pub struct CompareRow {
    pub label: String,
    pub variant: Option<String>,
    pub strategy: String,
    pub generated: u64,
    pub completed: u64,
    pub rejected: u64,
    pub dropped: u64,
    pub timed_out: u64,
    pub in_flight: u64,
    pub slo_attainment: Option<f64>,
    pub ttft_p50_ms: f64,
    pub ttft_p99_ms: f64,
    pub tpot_p99_ms: f64,
    pub e2e_p99_ms: f64,
    pub queue_wait_mean_ms: f64,
    pub cost_usd: f64,
    pub revenue_usd: f64,
    pub margin_usd: f64,
    pub cross_border_gb: f64,
    /// Hash of every tenant's demand fingerprint: equal across runs of equal demand.
    pub demand_fingerprint: String,
    pub wall_s: f64,
}

/// Splits `a,b[x=1,y=2],c` at commas outside brackets.
pub fn split_specs(text: &str) -> Vec<String> {
    let mut specs = Vec::new();
    let (mut depth, mut current) = (0i32, String::new());
    for character in text.chars() {
        match character {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                specs.push(std::mem::take(&mut current).trim().to_string());
                continue;
            }
            _ => {}
        }
        current.push(character);
    }
    specs.push(current.trim().to_string());
    specs.retain(|spec| !spec.is_empty());
    specs
}

/// `LABEL: PATH=VALUE; PATH=VALUE` → (label, overrides).
fn parse_variant(text: &str) -> Result<(String, Vec<String>), CliError> {
    let Some((label, sets)) = text.split_once(':') else {
        return Err(CliError::Input(format!(
            "--variant {text:?}: expected `LABEL: PATH=VALUE; PATH=VALUE`, e.g. 'hk: run.strategy=hub[via=hub-hk]'"
        )));
    };
    let label = label.trim();
    if !crate::report::is_run_label(label)
        || !label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(CliError::Input(format!(
            "--variant {text:?}: the label {label:?} must be letters, digits, '-', '_' or '.', not starting with '.' (it names a directory)"
        )));
    }
    let sets: Vec<String> = sets
        .split(';')
        .map(str::trim)
        .filter(|set| !set.is_empty())
        .map(str::to_string)
        .collect();
    if sets.is_empty() {
        return Err(CliError::Input(format!(
            "--variant {text:?}: no PATH=VALUE after the label"
        )));
    }
    Ok((label.to_string(), sets))
}

fn plans(args: &CompareArgs) -> Result<Vec<Plan>, CliError> {
    let strategies = match &args.strategies {
        Some(text) => {
            let specs = split_specs(text);
            for spec in &specs {
                StrategySpec::parse(spec)
                    .map_err(|error| CliError::Input(format!("--strategies: {error}")))?;
            }
            specs
        }
        None => Vec::new(),
    };
    let variants = args
        .variants
        .iter()
        .map(|text| parse_variant(text))
        .collect::<Result<Vec<_>, _>>()?;
    if strategies.len() + variants.len() < 2 && (strategies.is_empty() || variants.is_empty()) {
        return Err(CliError::Input(
            "nothing to compare: give --strategies with two or more specs, or two or more --variant bundles, or both"
                .into(),
        ));
    }
    let strategy_override = |spec: &str| format!("run.strategy={}", super::run::toml_string(spec));
    let mut plans = Vec::new();
    match (variants.is_empty(), strategies.is_empty()) {
        (true, _) => {
            for spec in &strategies {
                plans.push(Plan {
                    label: super::run::sanitize(spec),
                    variant: None,
                    overrides: vec![strategy_override(spec)],
                });
            }
        }
        (false, true) => {
            for (label, sets) in &variants {
                plans.push(Plan {
                    label: label.clone(),
                    variant: Some(label.clone()),
                    overrides: sets.clone(),
                });
            }
        }
        (false, false) => {
            for (label, sets) in &variants {
                for spec in &strategies {
                    let mut overrides = sets.clone();
                    overrides.push(strategy_override(spec));
                    plans.push(Plan {
                        label: format!("{label}-{}", super::run::sanitize(spec)),
                        variant: Some(label.clone()),
                        overrides,
                    });
                }
            }
        }
    }
    let mut labels: Vec<&str> = plans.iter().map(|plan| plan.label.as_str()).collect();
    labels.sort_unstable();
    if let Some(pair) = labels.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(CliError::Input(format!(
            "two runs would both be called {:?}; give each strategy or variant once",
            pair[0]
        )));
    }
    Ok(plans)
}

/// The outcome of one planned run.
type RunResult = Result<CompareRow, CliError>;

fn run_one(args: &CompareArgs, plan: &Plan, directory: &Path) -> RunResult {
    let mut overrides = args.scenario.overrides.clone();
    overrides.extend(plan.overrides.iter().cloned());
    let scenario = crate::scenario::load(&args.scenario.scenario, &overrides)
        .map_err(|error| CliError::Input(format!("{}: {error}", plan.label)))?;
    let spec = StrategySpec::parse(&scenario.run.strategy)
        .map_err(|error| CliError::Input(format!("{}: {error}", plan.label)))?;
    let run_directory = directory.join(&plan.label);
    std::fs::create_dir_all(&run_directory).map_err(|error| {
        CliError::Input(format!(
            "{}: cannot create the output directory: {error}",
            run_directory.display()
        ))
    })?;
    let started = Instant::now();
    let output = simulator::run(scenario, &spec)
        .map_err(|error| CliError::Internal(format!("{}: {error}", plan.label)))?;
    let wall_s = started.elapsed().as_secs_f64();
    let summary = Summary::new(&output);
    let timing = Timing::new(&output, wall_s);
    write_run(&run_directory, &output, &summary, &timing).map_err(|error| {
        CliError::Input(format!(
            "{}: cannot write the output: {error}",
            run_directory.display()
        ))
    })?;
    let fingerprint = summary
        .tenants
        .values()
        .fold(0xcbf2_9ce4_8422_2325u64, |hash, tenant| {
            (hash ^ tenant.demand_fingerprint).wrapping_mul(0x0100_0000_01b3)
        });
    let requests = &summary.requests;
    Ok(CompareRow {
        label: plan.label.clone(),
        variant: plan.variant.clone(),
        strategy: summary.strategy.clone(),
        generated: requests.generated,
        completed: requests.completed,
        rejected: requests.rejected,
        dropped: requests.dropped,
        timed_out: requests.timed_out,
        in_flight: requests.in_flight,
        slo_attainment: summary.slo_attainment,
        ttft_p50_ms: summary.latency_ms.ttft.p50,
        ttft_p99_ms: summary.latency_ms.ttft.p99,
        tpot_p99_ms: summary.latency_ms.tpot.p99,
        e2e_p99_ms: summary.latency_ms.e2e.p99,
        queue_wait_mean_ms: summary.latency_ms.queue_wait.mean,
        cost_usd: summary.economics.cost_usd.total,
        revenue_usd: summary.economics.revenue_usd,
        margin_usd: summary.economics.margin_usd,
        cross_border_gb: crate::metrics::round6(
            summary
                .economics
                .cross_border_gb
                .values()
                .fold(0.0, |a, b| a + b),
        ),
        demand_fingerprint: format!("{fingerprint:016x}"),
        wall_s: (wall_s * 1000.0).round() / 1000.0,
    })
}

pub fn execute(args: CompareArgs) -> Result<(), CliError> {
    let plans = plans(&args)?;
    // Validate the base scenario once, up front, for a clear error before any work.
    let base = crate::scenario::load(&args.scenario.scenario, &args.scenario.overrides)?;
    let directory = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(format!("{}-compare", base.run.name)));
    drop(base);
    std::fs::create_dir_all(&directory).map_err(|error| {
        CliError::Input(format!(
            "{}: cannot create the output directory: {error}; choose another with --out",
            directory.display()
        ))
    })?;
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .clamp(1, plans.len());

    // Workers take the next plan from a shared counter; results land in plan order.
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<RunResult>>> =
        Mutex::new((0..plans.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next = next.lock().expect("no worker panics holding it");
                        let index = *next;
                        *next += 1;
                        index
                    };
                    let Some(plan) = plans.get(index) else {
                        break;
                    };
                    let result = run_one(&args, plan, &directory);
                    results.lock().expect("no worker panics holding it")[index] = Some(result);
                }
            });
        }
    });
    let rows = results
        .into_inner()
        .expect("workers finished")
        .into_iter()
        .map(|result| result.expect("every plan ran"))
        .collect::<Result<Vec<_>, _>>()?;

    write_compare(&directory, &rows).map_err(|error| {
        CliError::Input(format!(
            "{}: cannot write the comparison: {error}",
            directory.display()
        ))
    })?;
    super::plot::charts_unless(args.no_charts, &directory)?;
    if !args.quiet {
        print_to_stdout(|out| print_table(out, &rows, &directory))?;
    }
    Ok(())
}

fn write_compare(directory: &Path, rows: &[CompareRow]) -> std::io::Result<()> {
    let mut json = serde_json::to_vec_pretty(rows).map_err(std::io::Error::other)?;
    json.push(b'\n');
    write_atomic(&directory.join("compare.json"), &json)?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.serialize(row).map_err(std::io::Error::other)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|error| std::io::Error::other(error.to_string()))?;
    write_atomic(&directory.join("compare.csv"), &bytes)
}

fn print_table(
    out: &mut impl std::io::Write,
    rows: &[CompareRow],
    directory: &Path,
) -> std::io::Result<()> {
    let width = rows
        .iter()
        .map(|row| row.label.len())
        .max()
        .unwrap_or(5)
        .max(5);
    writeln!(
        out,
        "{:<width$}  {:>11} {:>11} {:>9} {:>9} {:>8} {:>10} {:>10} {:>10} {:>10} {:>11} {:>11}",
        "run",
        "generated",
        "completed",
        "rejected",
        "timed out",
        "SLO %",
        "TTFT p50",
        "TTFT p99",
        "TPOT p99",
        "E2E p99",
        "cost $",
        "margin $",
    )?;
    for row in rows {
        writeln!(
            out,
            "{:<width$}  {:>11} {:>11} {:>9} {:>9} {:>8} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>11.2} {:>11.2}",
            row.label,
            crate::report::grouped(row.generated),
            crate::report::grouped(row.completed),
            crate::report::grouped(row.rejected),
            crate::report::grouped(row.timed_out),
            row.slo_attainment
                .map_or("—".to_string(), |slo| format!("{:.2}", slo * 100.0)),
            row.ttft_p50_ms,
            row.ttft_p99_ms,
            row.tpot_p99_ms,
            row.e2e_p99_ms,
            row.cost_usd,
            row.margin_usd,
        )?;
    }
    let same_demand = rows
        .windows(2)
        .all(|pair| pair[0].demand_fingerprint == pair[1].demand_fingerprint);
    writeln!(
        out,
        "(latencies in ms; {}; each run's files in {}/<run>/, the table in compare.csv and compare.json)",
        if same_demand {
            "every run saw identical demand"
        } else {
            "the runs saw different demand (their variants change it)"
        },
        directory.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_split_outside_brackets() {
        assert_eq!(
            split_specs("least-loaded, cost-aware[headroom=0.8],spillover[threshold=2]"),
            vec![
                "least-loaded",
                "cost-aware[headroom=0.8]",
                "spillover[threshold=2]"
            ]
        );
        assert_eq!(
            split_specs("a[x=1,y=2],b"),
            vec!["a[x=1,y=2]".to_string(), "b".to_string()]
        );
    }

    #[test]
    fn variants_need_a_label_and_sets() {
        let (label, sets) = parse_variant("hk: run.strategy=hub[via=hub-hk]; run.seed=3").unwrap();
        assert_eq!(label, "hk");
        assert_eq!(sets, vec!["run.strategy=hub[via=hub-hk]", "run.seed=3"]);
        assert!(parse_variant("no colon").is_err());
        assert!(parse_variant("bad label!: run.seed=3").is_err());
        assert!(parse_variant("x:").is_err());
        // A label names a directory inside --out: never `..`, `.` or a hidden one.
        assert!(parse_variant("..: run.seed=3").is_err());
        assert!(parse_variant(".: run.seed=3").is_err());
        assert!(parse_variant(".v: run.seed=3").is_err());
        assert!(parse_variant("v.2: run.seed=3").is_ok());
    }
}
