//! strait's integration tests, one binary with a module per concern.
//!
//! Heavy statistical tests simulate millions of requests; run them with
//! `cargo test --release` (the README's test command).

mod common;

mod bad_input;
#[cfg(feature = "charts")]
mod charts;
mod cli;
mod compare;
mod conservation;
mod demand;
mod determinism;
mod economics;
mod llm_closed_form;
mod memory;
mod queueing;
mod quota;
mod routing;
mod serving_fidelity;
mod slo;
mod step_jumps;
mod trace_replay;
