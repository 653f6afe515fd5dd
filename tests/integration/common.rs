//! Helpers shared by the test modules.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};

use strait::routing::StrategySpec;
use strait::scenario::{Format, Scenario, load_text};
use strait::simulator::{RunOutput, run};

/// Loads a scenario from TOML text, panicking with the error message if it is invalid.
pub fn scenario(text: &str) -> Scenario {
    load_text(text, Format::Toml, None, "test", &[])
        .unwrap_or_else(|error| panic!("invalid test scenario: {error}"))
}

/// Runs a scenario with the strategy it names.
pub fn simulate(scenario: Scenario) -> RunOutput {
    let spec = StrategySpec::parse(&scenario.run.strategy).expect("valid strategy");
    run(scenario, &spec).unwrap_or_else(|error| panic!("run failed: {error}"))
}

/// A fresh, empty directory under the system temp dir, unique per call. It is removed
/// when dropped, unless the test is failing (then it stays, to be looked at).
pub struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

pub fn temp_dir(label: &str) -> TempDir {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("strait-test-{}-{label}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    TempDir(dir)
}

/// A file in a fresh temp dir of its own, removed with it.
pub struct TempFile {
    path: PathBuf,
    _dir: TempDir,
}

impl std::ops::Deref for TempFile {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for TempFile {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

/// Writes `text` to `name` inside a fresh temp dir and returns the file.
pub fn write_temp(name: &str, text: &str) -> TempFile {
    let dir = temp_dir("scenario");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write temp scenario");
    TempFile { path, _dir: dir }
}

/// Runs the `strait` binary with `args`.
pub fn strait(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strait"))
        .args(args)
        .output()
        .expect("run strait binary")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The shipped scenarios directory.
pub fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Reads and parses a summary.json.
pub fn read_summary(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary.json exists");
    serde_json::from_str(&text).expect("summary.json is JSON")
}
