//! `strait run SCENARIO [--out DIR] [--seed N] [--strategy SPEC] [--set PATH=VALUE]... [--quiet]`

use std::path::PathBuf;
use std::time::Instant;

use super::{CliError, ScenarioArgs, print_to_stdout};
use crate::report::{Summary, Timing, print_run, write_run};
use crate::routing::StrategySpec;
use crate::simulator;

#[derive(clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Output directory [default: output/<run name>[-<strategy>]].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seed for every random stream (overrides run.seed), 0 to 2^63 − 1.
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=i64::MAX as u64))]
    pub seed: Option<u64>,
    /// Routing strategy spec (overrides run.strategy), e.g. least-loaded.
    #[arg(long)]
    pub strategy: Option<String>,
    /// Print nothing on success.
    #[arg(long)]
    pub quiet: bool,
    /// Skip the charts and report.html.
    #[arg(long)]
    pub no_charts: bool,
}

pub fn execute(args: RunArgs) -> Result<(), CliError> {
    let mut overrides = args.scenario.overrides.clone();
    if let Some(seed) = args.seed {
        overrides.push(format!("run.seed={seed}"));
    }
    if let Some(strategy) = &args.strategy {
        // Quoted so that specs with brackets stay strings.
        overrides.push(format!("run.strategy={}", toml_string(strategy)));
    }
    let scenario = crate::scenario::load(&args.scenario.scenario, &overrides)?;
    let spec = StrategySpec::parse(&scenario.run.strategy).map_err(CliError::Input)?;
    let directory = args.out.clone().unwrap_or_else(|| {
        let mut name = scenario.run.name.clone();
        if args.strategy.is_some() {
            name.push('-');
            name.push_str(&sanitize(&scenario.run.strategy));
        }
        PathBuf::from("output").join(name)
    });
    std::fs::create_dir_all(&directory).map_err(|error| {
        CliError::Input(format!(
            "{}: cannot create the output directory: {error}; choose another with --out",
            directory.display()
        ))
    })?;
    probe_writable(&directory)?;

    let started = Instant::now();
    let mut bar = ProgressDisplay::new(args.quiet);
    let output = simulator::run_with_progress(
        scenario,
        &spec,
        simulator::RunOptions::default(),
        &mut |progress| bar.update(progress, started),
    )
    .map_err(CliError::Internal)?;
    bar.finish();
    let wall_s = started.elapsed().as_secs_f64();

    let summary = Summary::new(&output);
    let timing = Timing::new(&output, wall_s);
    write_run(&directory, &output, &summary, &timing).map_err(|error| {
        CliError::Input(format!(
            "{}: cannot write the output: {error}; choose another directory with --out",
            directory.display()
        ))
    })?;
    super::plot::charts_unless(args.no_charts, &directory)?;
    if !args.quiet {
        print_to_stdout(|out| print_run(out, &summary, &timing, &directory.display().to_string()))?;
    }
    Ok(())
}

/// A progress bar on stderr for runs that last more than a couple of seconds: simulated
/// time, requests and events per second. Never shown with `--quiet` or when stderr is not a
/// terminal (a pipe, a file, CI).
struct ProgressDisplay {
    enabled: bool,
    bar: Option<indicatif::ProgressBar>,
}

impl ProgressDisplay {
    fn new(quiet: bool) -> Self {
        use std::io::IsTerminal;
        ProgressDisplay {
            enabled: !quiet && std::io::stderr().is_terminal(),
            bar: None,
        }
    }

    fn update(&mut self, progress: simulator::Progress, started: Instant) {
        if !self.enabled {
            return;
        }
        let elapsed = started.elapsed().as_secs_f64();
        if self.bar.is_none() {
            if elapsed < 2.0 {
                return;
            }
            let bar = indicatif::ProgressBar::new(progress.end.as_nanos().max(1));
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {percent:>3}% simulated · {msg} · eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            self.bar = Some(bar);
        }
        if let Some(bar) = &self.bar {
            bar.set_position(progress.simulated.as_nanos());
            bar.set_message(format!(
                "{} of {} · {} requests · {:.1} M events/s",
                crate::engine::SimDuration::from_nanos(progress.simulated.as_nanos()),
                crate::engine::SimDuration::from_nanos(progress.end.as_nanos()),
                crate::report::grouped(progress.requests),
                progress.events as f64 / elapsed.max(1e-9) / 1e6
            ));
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// Fails early, before simulating, if the directory cannot take files.
fn probe_writable(directory: &std::path::Path) -> Result<(), CliError> {
    let probe = directory.join(format!(".strait-write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|error| {
        CliError::Input(format!(
            "{}: the output directory is not writable: {error}; choose another with --out",
            directory.display()
        ))
    })?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

pub(super) fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A strategy spec as a directory-name suffix: `latency-aware[telemetry_delay=5s]` →
/// `latency-aware_telemetry_delay=5s`.
pub(super) fn sanitize(spec: &str) -> String {
    spec.chars()
        .filter(|&c| c != ']')
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '=') {
                c
            } else {
                '_'
            }
        })
        .collect()
}
