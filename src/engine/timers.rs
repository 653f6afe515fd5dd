//! Timers: at most one pending event per timer, rescheduled in place.
//!
//! Some entities always have exactly one next event — a server's next completion, a
//! replica's next iteration boundary — that moves whenever something happens to them. With
//! only the event queue, moving it means scheduling a new event and leaving the old one to
//! be popped and ignored later. A timer instead holds the entity's one event; setting it
//! again moves it (an indexed heap: the entry is sifted up or down where it is), so there
//! are no stale events to pop.
//!
//! ```text
//!   timer 0 ──► (t=12 ms, rank) ┐
//!   timer 1 ──► (t= 7 ms, rank) ├─ min-heap by (time, rank, timer) ─► earliest
//!   timer 2 ──► (none)          ┘
//! ```
//!
//! The heap is 4-ary and moves a hole rather than swapping: each level costs one write of
//! the entry and its timer's position.
//!
//! Ties follow the event queue's rule: same instant → lower rank first; timers of equal
//! rank go by timer number (never by when they were set), so results do not depend on
//! scheduling history.

use super::time::SimTime;

/// A timer's slot in the heap, or `NONE` when it is not set.
const NONE: u32 = u32::MAX;

/// Children per heap node: a 4-ary heap is half as deep as a binary one, and a node's
/// children sit in one or two cache lines.
const ARITY: usize = 4;

/// 24 bytes: a node's four children span one or two cache lines.
#[derive(Clone, Copy)]
struct Entry {
    time_ns: u64,
    rank: u64,
    timer: u32,
}

impl Entry {
    /// Strict order: time, then rank, then timer number. Times almost always differ, so
    /// the first comparison decides.
    #[inline]
    fn before(&self, other: &Entry) -> bool {
        if self.time_ns != other.time_ns {
            self.time_ns < other.time_ns
        } else {
            (self.rank, self.timer) < (other.rank, other.timer)
        }
    }
}

/// A set of numbered timers, each holding at most one pending event.
pub struct Timers<E> {
    heap: Vec<Entry>,
    /// Timer → its index in `heap` (`NONE`: not set).
    position: Vec<u32>,
    /// Timer → its event (meaningful while set).
    events: Vec<Option<E>>,
}

impl<E> Default for Timers<E> {
    fn default() -> Self {
        Timers {
            heap: Vec::new(),
            position: Vec::new(),
            events: Vec::new(),
        }
    }
}

impl<E> Timers<E> {
    /// Sets `timer` to fire `event` at `time` with `rank`, replacing what it held.
    pub fn set(&mut self, timer: u32, time: SimTime, rank: u64, event: E) {
        let index = timer as usize;
        if index >= self.position.len() {
            self.position.resize(index + 1, NONE);
            self.events.resize_with(index + 1, || None);
        }
        self.events[index] = Some(event);
        let entry = Entry {
            time_ns: time.as_nanos(),
            rank,
            timer,
        };
        match self.position[index] {
            NONE => {
                self.heap.push(entry);
                self.sift_up(self.heap.len() - 1, entry);
            }
            slot => {
                let slot = slot as usize;
                if entry.before(&self.heap[slot]) {
                    self.sift_up(slot, entry);
                } else {
                    self.sift_down(slot, entry);
                }
            }
        }
    }

    /// Clears `timer`; nothing happens if it was not set.
    pub fn cancel(&mut self, timer: u32) {
        let Some(&slot) = self.position.get(timer as usize) else {
            return;
        };
        if slot != NONE {
            self.remove_at(slot as usize);
            self.events[timer as usize] = None;
        }
    }

    /// The earliest timer's (time, rank), if any is set.
    pub fn peek(&self) -> Option<(SimTime, u64)> {
        self.heap
            .first()
            .map(|entry| (SimTime::from_nanos(entry.time_ns), entry.rank))
    }

    /// The earliest timer's event.
    pub fn peek_event(&self) -> Option<&E> {
        let first = self.heap.first()?;
        self.events[first.timer as usize].as_ref()
    }

    /// Takes the earliest timer's event; the timer is then clear.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let first = *self.heap.first()?;
        self.remove_at(0);
        let event = self.events[first.timer as usize]
            .take()
            .expect("a timer in the heap holds an event");
        Some((SimTime::from_nanos(first.time_ns), event))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    fn remove_at(&mut self, slot: usize) {
        let removed = self.heap[slot].timer;
        self.position[removed as usize] = NONE;
        let last = self.heap.pop().expect("slot is in the heap");
        if slot < self.heap.len() {
            // The last entry fills the hole; it may belong above or below.
            if slot > 0 && last.before(&self.heap[(slot - 1) / ARITY]) {
                self.sift_up(slot, last);
            } else {
                self.sift_down(slot, last);
            }
        }
    }

    /// Places `entry` at or above `slot` (a hole): parents later than it move down.
    fn sift_up(&mut self, mut slot: usize, entry: Entry) {
        while slot > 0 {
            let parent = (slot - 1) / ARITY;
            let above = self.heap[parent];
            if !entry.before(&above) {
                break;
            }
            self.place(slot, above);
            slot = parent;
        }
        self.place(slot, entry);
    }

    /// Places `entry` at or below `slot` (a hole): the earliest child moves up while it
    /// is earlier than `entry`.
    fn sift_down(&mut self, mut slot: usize, entry: Entry) {
        let length = self.heap.len();
        loop {
            let first_child = ARITY * slot + 1;
            if first_child >= length {
                break;
            }
            let mut child = first_child;
            for candidate in first_child + 1..(first_child + ARITY).min(length) {
                if self.heap[candidate].before(&self.heap[child]) {
                    child = candidate;
                }
            }
            let below = self.heap[child];
            if !below.before(&entry) {
                break;
            }
            self.place(slot, below);
            slot = child;
        }
        self.place(slot, entry);
    }

    fn place(&mut self, slot: usize, entry: Entry) {
        self.heap[slot] = entry;
        self.position[entry.timer as usize] = slot as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(nanos: u64) -> SimTime {
        SimTime::from_nanos(nanos)
    }

    #[test]
    fn timers_fire_in_time_then_rank_then_number_order_and_move_in_place() {
        let mut timers = Timers::default();
        timers.set(3, at(30), 0, 'c');
        timers.set(1, at(10), 5, 'b');
        timers.set(0, at(10), 5, 'a');
        timers.set(2, at(10), 1, 'x');
        // Moving a timer replaces its event: no stale copy fires later.
        timers.set(3, at(5), 0, 'd');
        timers.set(2, at(40), 1, 'y');
        assert_eq!(timers.len(), 4);
        let order: Vec<(u64, char)> =
            std::iter::from_fn(|| timers.pop().map(|(time, e)| (time.as_nanos(), e))).collect();
        println!("{order:?}");
        assert_eq!(order, vec![(5, 'd'), (10, 'a'), (10, 'b'), (40, 'y')]);
        assert!(timers.is_empty());
    }

    #[test]
    fn a_cancelled_timer_never_fires_and_can_be_set_again() {
        let mut timers = Timers::default();
        for timer in 0..6u32 {
            timers.set(timer, at(100 - timer as u64 * 10), 0, timer);
        }
        timers.cancel(5);
        timers.cancel(2);
        timers.cancel(9); // never set: nothing happens
        timers.set(2, at(1), 0, 20);
        let order: Vec<u32> = std::iter::from_fn(|| timers.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec![20, 4, 3, 1, 0]);
    }

    /// Against a sorted list, over many random sets, moves and cancels.
    #[test]
    fn random_operations_agree_with_a_sorted_list() {
        let mut timers = Timers::default();
        let mut reference: Vec<Option<(u64, u64)>> = vec![None; 64];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let timer = (next() % 64) as u32;
            match next() % 4 {
                0 => {
                    timers.cancel(timer);
                    reference[timer as usize] = None;
                }
                1 => {
                    let expected = reference
                        .iter()
                        .enumerate()
                        .filter_map(|(t, slot)| slot.map(|(time, rank)| (time, rank, t)))
                        .min();
                    let got = timers.pop().map(|(time, e)| (time.as_nanos(), e));
                    assert_eq!(got.map(|g| g.1), expected.map(|e| e.2 as u32));
                    if let Some((_, _, t)) = expected {
                        reference[t] = None;
                    }
                }
                _ => {
                    let (time, rank) = (next() % 1000, next() % 3);
                    timers.set(timer, at(time), rank, timer);
                    reference[timer as usize] = Some((time, rank));
                }
            }
            assert_eq!(timers.len(), reference.iter().flatten().count());
        }
    }
}
