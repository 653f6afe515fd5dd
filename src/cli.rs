//! The command line: one file per subcommand, and the mapping of failures to exit codes.
//!
//! Exit codes: 0 success; 2 bad input (scenario, flags, files) with a message naming the
//! file, line and column where known, the field and what would be valid; 1 an internal
//! error (a bug, or a broken invariant such as conservation).

mod check;
mod compare;
mod plot;
mod run;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// What went wrong, and whose fault it is.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input: exit code 2.
    #[error("error: {0}")]
    Input(String),
    /// A bug or broken invariant: exit code 1.
    #[error("internal error: {0}")]
    Internal(String),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Input(_) => 2,
            CliError::Internal(_) => 1,
        }
    }
}

impl From<crate::scenario::ScenarioError> for CliError {
    fn from(error: crate::scenario::ScenarioError) -> Self {
        CliError::Input(error.to_string())
    }
}

#[derive(Parser)]
#[command(
    name = "strait",
    version,
    about = "Discrete-event simulator for cross-border LLM inference routing"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Flags shared by commands that load a scenario.
#[derive(clap::Args, Clone, Debug)]
pub struct ScenarioArgs {
    /// The scenario file (TOML, or JSON by its .json extension).
    pub scenario: PathBuf,
    /// Override a field before validation: run.FIELD or KIND.ID.FIELD (repeatable),
    /// e.g. --set tenant.t1.rate=120/s --set deployment.d1.replicas=12.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub overrides: Vec<String>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Simulate a scenario and write summary.json, CSVs and timing.json.
    Run(run::RunArgs),
    /// Validate a scenario and print what would run, without running it.
    Check(check::CheckArgs),
    /// Run a scenario with several strategies or variants on identical demand, in parallel,
    /// and compare them side by side (compare.csv, compare.json, a table).
    Compare(compare::CompareArgs),
    /// Redraw the charts and report.html of a run from its output files.
    Plot(plot::PlotArgs),
}

/// Runs the parsed command line.
pub fn execute(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Run(args) => run::execute(args),
        Command::Check(args) => check::execute(args),
        Command::Compare(args) => compare::execute(args),
        Command::Plot(args) => plot::execute(args),
    }
}

/// Writes to stdout, treating a closed pipe (`strait ... | head`) as a normal end.
pub fn print_to_stdout(
    write: impl FnOnce(&mut std::io::StdoutLock<'_>) -> std::io::Result<()>,
) -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    match write(&mut lock).and_then(|_| std::io::Write::flush(&mut lock)) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(CliError::Internal(format!(
            "cannot write to stdout: {error}"
        ))),
    }
}
