//! # strait
//!
//! A discrete-event simulator for **cross-border LLM inference routing**: regions, transit
//! hubs and links with their latency as a graph; large tenants whose demand enters at
//! ingress sites; deployments of models on GPU replicas with batching; routing strategies
//! and compliance rules choosing where each request is served. It answers the questions
//! of a provider reselling inference across borders: which hub, how many GPUs where,
//! which strategy, and what the latency and SLO attainment are per tenant.
//!
//! ```text
//!  scenario.toml ──► scenario::load ──► Scenario ──► simulator::run ──► RunOutput ──► report
//!                    (raw → validated)               (engine + model)               (json, csv)
//! ```
//!
//! ## Module map
//!
//! | module | what it is for |
//! |---|---|
//! | [`engine`] | domain-free discrete-event core: integer-ns clock, event queue, timers, seeded streams |
//! | [`scenario`] | scenario files: raw serde structs → validated [`scenario::Scenario`]; `--set` |
//! | [`topology`] | sites and links as a petgraph graph; shortest-latency paths, cached |
//! | [`demand`] | per-tenant arrival processes (Poisson, diurnal thinning) and request attributes |
//! | [`trace`] | request traces (Azure CSV, Mooncake JSONL, plain CSV) streamed from disk and replayed |
//! | [`serving`] | deployments: shared FIFO queue, plain stations and continuous LLM batching |
//! | [`routing`] | the `Strategy` trait and one file per strategy |
//! | [`profile`] | LLM performance profiles (decode step and prefill curves, KV capacity) and the shipped library |
//! | [`policy`] | allow/deny rules evaluated per tenant, model and serving jurisdiction |
//! | [`metrics`] | HDR latency histograms, exact time integrals |
//! | [`queueing`] | closed forms (Erlang C, Pollaczek–Khinchine) reported beside measurements |
//! | [`simulator`] | the provider model tying the above together on the engine |
//! | [`report`] | summary.json, CSV files, the stdout summary |
//! | `charts` | SVG/PNG charts and report.html from the output files of a run or a comparison (feature `charts`) |
//! | [`cli`] | the `strait` command line |
//!
//! ## Running a scenario from code
//!
//! ```
//! let text = r#"
//!     [run]
//!     duration = "10s"
//!     [[site]]
//!     id = "sg"
//!     kind = "region"
//!     jurisdiction = "SG"
//!     [[model]]
//!     id = "m"
//!     [[deployment]]
//!     id = "d"
//!     model = "m"
//!     site = "sg"
//!     replicas = 2
//!     service = { dist = "exponential", mean = "100ms" }
//!     [[tenant]]
//!     id = "t"
//!     jurisdiction = "SG"
//!     ingress = { sg = 1.0 }
//!     rate = "10/s"
//!     models = { m = 1.0 }
//! "#;
//! let scenario = strait::scenario::load_text(text, strait::scenario::Format::Toml, None, "doc", &[]).unwrap();
//! let spec = strait::routing::StrategySpec::parse("nearest").unwrap();
//! let output = strait::simulator::run(scenario, &spec).unwrap();
//! let tenant = &output.metrics.tenants[0];
//! assert_eq!(tenant.generated, tenant.completed + tenant.in_flight);
//! ```

#[cfg(feature = "charts")]
pub mod charts;
pub mod cli;
pub mod demand;
pub mod distribution;
pub mod engine;
mod hint;
pub mod metrics;
pub mod policy;
pub mod profile;
pub mod queueing;
pub mod report;
pub mod request;
pub mod routing;
pub mod scenario;
pub mod serving;
pub mod simulator;
pub mod topology;
pub mod trace;
