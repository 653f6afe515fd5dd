//! The event loop: pop the earliest event, advance the clock, hand the event to the model.

use super::queue::{EventOrder, EventQueue};
use super::time::{SimDuration, SimTime};

/// A simulated system. It owns all its state; the engine owns only time and pending events.
pub trait Model {
    /// The model's events. Keep them small and `Copy`-like: they sit in the heap.
    type Event: EventOrder;

    /// React to `event`, which happens at `context.now()`.
    fn handle(&mut self, event: Self::Event, context: &mut Context<Self::Event>);
}

/// What a model may do while handling an event: read the clock and schedule events.
pub struct Context<E> {
    now: SimTime,
    queue: EventQueue<E>,
}

impl<E: EventOrder> Context<E> {
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedule `event` after `delay` from now.
    pub fn schedule_in(&mut self, delay: SimDuration, event: E) {
        self.queue.push(self.now + delay, event);
    }

    /// Schedule `event` at `time`, which must not be in the past.
    pub fn schedule_at(&mut self, time: SimTime, event: E) {
        debug_assert!(time >= self.now, "scheduling into the past");
        self.queue.push(time.max(self.now), event);
    }

    /// Number of events waiting.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }
}

/// A model plus its clock and pending events.
pub struct Simulation<M: Model> {
    model: M,
    context: Context<M::Event>,
    events_processed: u64,
}

impl<M: Model> Simulation<M> {
    pub fn new(model: M) -> Self {
        Simulation {
            model,
            context: Context {
                now: SimTime::ZERO,
                queue: EventQueue::new(),
            },
            events_processed: 0,
        }
    }

    pub fn schedule_at(&mut self, time: SimTime, event: M::Event) {
        self.context.schedule_at(time, event);
    }

    /// Process the next event, if there is one; returns whether there was.
    pub fn step(&mut self) -> bool {
        let Some((time, event)) = self.context.queue.pop() else {
            return false;
        };
        self.context.now = time;
        self.events_processed += 1;
        self.model.handle(event, &mut self.context);
        true
    }

    /// Process every event at or before `end`, then leave the clock at `end`.
    /// Events after `end` stay pending.
    pub fn run_until(&mut self, end: SimTime) {
        while self
            .context
            .queue
            .peek_time()
            .is_some_and(|time| time <= end)
        {
            self.step();
        }
        self.context.now = self.context.now.max(end);
    }

    pub fn now(&self) -> SimTime {
        self.context.now
    }

    pub fn events_processed(&self) -> u64 {
        self.events_processed
    }

    pub fn pending_events(&self) -> usize {
        self.context.queue.len()
    }

    pub fn model(&self) -> &M {
        &self.model
    }

    pub fn model_mut(&mut self) -> &mut M {
        &mut self.model
    }

    pub fn into_model(self) -> M {
        self.model
    }
}
