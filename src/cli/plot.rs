//! `strait plot OUTPUT_DIR`: redraws the charts and report.html of a run (from summary.json
//! and its CSV files) or of a comparison (from compare.json and every run's files), without
//! simulating again.

use std::path::{Path, PathBuf};

use super::CliError;

#[derive(clap::Args)]
pub struct PlotArgs {
    /// The output directory of a `strait run` or a `strait compare`.
    pub directory: PathBuf,
}

/// Draws the charts of the run in `directory`, unless told not to or built without them.
pub fn charts_unless(skip: bool, directory: &Path) -> Result<(), CliError> {
    if skip {
        return Ok(());
    }
    #[cfg(feature = "charts")]
    crate::charts::render_any(directory).map_err(|error| {
        CliError::Input(format!(
            "cannot draw the charts: {error}; --no-charts skips them"
        ))
    })?;
    #[cfg(not(feature = "charts"))]
    let _ = directory;
    Ok(())
}

pub fn execute(args: PlotArgs) -> Result<(), CliError> {
    #[cfg(feature = "charts")]
    {
        let written = crate::charts::render_any(&args.directory)
            .map_err(|error| CliError::Input(error.to_string()))?;
        super::print_to_stdout(|out| {
            use std::io::Write;
            for path in &written {
                writeln!(out, "{}", path.display())?;
            }
            Ok(())
        })
    }
    #[cfg(not(feature = "charts"))]
    {
        let _ = args;
        Err(CliError::Input(
            "this strait was built without charts (cargo feature `charts`)".into(),
        ))
    }
}
