//! The discrete-event core: a clock in integer nanoseconds, an event queue ordered by
//! (time, rank, sequence), timers (one reschedulable event each), and seeded random-number
//! streams.
//!
//! This module is domain-free: it imports nothing from the rest of the crate and knows
//! nothing of regions, GPUs or tenants. A model is any type implementing [`Model`]; it
//! receives its own events one at a time, in time order, together with a [`Context`]
//! through which it reads the clock and schedules further events.
//!
//! ```
//! use strait::engine::{Context, Model, Simulation, SimDuration, SimTime};
//!
//! /// A ticker that schedules itself every second and counts its ticks.
//! struct Ticker { ticks: u32 }
//!
//! impl Model for Ticker {
//!     type Event = ();
//!     fn handle(&mut self, _event: (), context: &mut Context<()>) {
//!         self.ticks += 1;
//!         context.schedule_in(SimDuration::from_secs(1), ());
//!     }
//! }
//!
//! let mut simulation = Simulation::new(Ticker { ticks: 0 });
//! simulation.schedule_at(SimTime::ZERO, ());
//! simulation.run_until(SimTime::from_secs(10));
//! // Ticks at 0, 1, ..., 10 s: events at the end time itself still run.
//! assert_eq!(simulation.model().ticks, 11);
//! ```

mod queue;
mod rng;
mod simulation;
mod time;
mod timers;

pub use queue::{EventOrder, EventQueue};
pub use rng::{RngStreams, StreamRng};
pub use simulation::{Context, Model, Simulation};
pub use time::{SimDuration, SimTime, round_half_away_u64};
pub use timers::Timers;
