//! The event loop: pop the earliest event, advance the clock, hand the event to the model.

use super::queue::{EventOrder, EventQueue};
use super::time::{SimDuration, SimTime};
use super::timers::Timers;

/// A simulated system. It owns all its state; the engine owns only time and pending events.
pub trait Model {
    /// The model's events. Keep them small and `Copy`-like: they sit in the heap.
    type Event: EventOrder;

    /// React to `event`, which happens at `context.now()`.
    fn handle(&mut self, event: Self::Event, context: &mut Context<Self::Event>);

    /// A hint, given before `handle`: `next` is the event that comes after the one about to
    /// be handled (as things stand; handling may schedule an earlier one). A model may ask
    /// the CPU to fetch the memory `next` will touch, so that it is in cache by then. The
    /// default does nothing.
    fn prefetch(&self, _next: &Self::Event) {}
}

/// What a model may do while handling an event: read the clock, schedule events, and set
/// or cancel timers.
pub struct Context<E> {
    now: SimTime,
    queue: EventQueue<E>,
    timers: Timers<E>,
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

    /// Set timer number `timer` to deliver `event` at `time` (not in the past), replacing
    /// whatever it held: a timer holds at most one pending event. Timers are numbered by
    /// the model (small, dense numbers: the engine keeps a slot for every number up to the
    /// largest used). At the same instant, timers and queued events run by rank.
    ///
    /// Inlined, so that the event's rank is worked out where the event is made (usually a
    /// constant there) rather than through a jump over every kind of event (on the
    /// bench-day peak: −0.8% instructions); so is the wheel's common case, a timer moved
    /// into a bucket (`Timers::set`, its list operations included: −2.2% more).
    #[inline(always)]
    pub fn set_timer(&mut self, timer: u32, time: SimTime, event: E) {
        debug_assert!(time >= self.now, "setting a timer in the past");
        let rank = event.rank();
        self.timers.set(timer, time.max(self.now), rank, event);
    }

    /// Clear timer number `timer` (nothing happens if it is not set).
    pub fn cancel_timer(&mut self, timer: u32) {
        self.timers.cancel(timer);
    }

    /// Number of events waiting, in the queue and on timers.
    pub fn pending(&self) -> usize {
        self.queue.len() + self.timers.len()
    }

    /// The event that `pop_until` would take next.
    fn peek_event(&self) -> Option<&E> {
        match (self.queue.peek_event(), self.timers.peek_event()) {
            // Which comes first is as likely one as the other on a busy model: selected,
            // not branched on (only a hint depends on it).
            (Some(queued), Some(timed)) => Some(std::hint::select_unpredictable(
                self.timers.peek() < self.queue.peek_key(),
                timed,
                queued,
            )),
            (queued, timed) => queued.or(timed),
        }
    }

    /// Takes the next event if it is at or before `end`: the earlier of the queue's and
    /// the timers' by (time, rank); on a tie in both, the queue's.
    fn pop_until(&mut self, end: SimTime) -> Option<(SimTime, E)> {
        let queued = self.queue.peek_key();
        let timed = self.timers.peek();
        let (time, from_timers) = match (queued, timed) {
            (Some(queued), Some(timed)) if timed < queued => (timed.0, true),
            (None, Some(timed)) => (timed.0, true),
            (queued, _) => (queued?.0, false),
        };
        if time > end {
            return None;
        }
        if from_timers {
            self.timers.pop()
        } else {
            self.queue.pop()
        }
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
                timers: Timers::default(),
            },
            events_processed: 0,
        }
    }

    pub fn schedule_at(&mut self, time: SimTime, event: M::Event) {
        self.context.schedule_at(time, event);
    }

    /// Sets a timer before the run (see [`Context::set_timer`]).
    pub fn set_timer(&mut self, timer: u32, time: SimTime, event: M::Event) {
        self.context.set_timer(timer, time, event);
    }

    /// Process the next event, if there is one; returns whether there was.
    pub fn step(&mut self) -> bool {
        self.step_until(SimTime::MAX)
    }

    /// Process the next event if it is at or before `end`; returns whether there was one.
    fn step_until(&mut self, end: SimTime) -> bool {
        let Some((time, event)) = self.context.pop_until(end) else {
            return false;
        };
        self.context.now = time;
        self.events_processed += 1;
        if let Some(next) = self.context.peek_event() {
            self.model.prefetch(next);
        }
        self.model.handle(event, &mut self.context);
        true
    }

    /// Process every event at or before `end`, then leave the clock at `end`.
    /// Events after `end` stay pending.
    pub fn run_until(&mut self, end: SimTime) {
        while self.step_until(end) {}
        self.context.now = self.context.now.max(end);
    }

    pub fn now(&self) -> SimTime {
        self.context.now
    }

    pub fn events_processed(&self) -> u64 {
        self.events_processed
    }

    pub fn pending_events(&self) -> usize {
        self.context.pending()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Records every event handled and every prefetch hint. 'a' and 'c' are queued; 't' is
    /// on timer 0, which handling 'a' moves earlier (as 'T').
    #[derive(Default)]
    struct Recorder {
        handled: Vec<char>,
        hints: std::cell::RefCell<Vec<char>>,
    }

    impl Model for Recorder {
        type Event = char;
        fn handle(&mut self, event: char, context: &mut Context<char>) {
            self.handled.push(event);
            if event == 'a' {
                // Moves timer 0 from 50 ns to 15 ns: it now comes before 'c'.
                context.set_timer(0, SimTime::from_nanos(15), 'T');
            }
        }
        fn prefetch(&self, next: &char) {
            self.hints.borrow_mut().push(*next);
        }
    }

    #[test]
    fn timers_and_queued_events_interleave_by_time_and_hints_name_the_next_event() {
        let mut simulation = Simulation::new(Recorder::default());
        simulation.schedule_at(SimTime::from_nanos(10), 'a');
        simulation.schedule_at(SimTime::from_nanos(20), 'c');
        simulation
            .context
            .set_timer(0, SimTime::from_nanos(50), 't');
        simulation.run_until(SimTime::from_nanos(100));
        let model = simulation.model();
        println!(
            "handled {:?}, hints {:?}",
            model.handled,
            model.hints.borrow()
        );
        // 't' at 50 ns was moved to 15 ns as 'T': it fires once, before 'c'.
        assert_eq!(model.handled, vec!['a', 'T', 'c']);
        // Each hint is the next event as things stood before handling: 'c' before 'a'
        // moved the timer, then the timer, then nothing after 'c'.
        assert_eq!(*model.hints.borrow(), vec!['c', 'c']);
        assert_eq!(simulation.pending_events(), 0);
    }
}
