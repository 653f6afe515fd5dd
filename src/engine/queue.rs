//! The pending-event set: a binary heap ordered by (time, rank, sequence number).
//!
//! Events at the same instant run in increasing rank (see [`EventOrder`]), and events of
//! equal rank in the order they were scheduled. The sequence number makes every tie
//! deterministic; the rank lets a model make ties independent of scheduling history.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::time::SimTime;

/// How a model orders its events that fall on the same instant.
pub trait EventOrder {
    /// Lower ranks run first among events at the same time. Models whose results must not
    /// depend on when an event was scheduled (only on what and when it is) rank by kind
    /// and entity; the default puts every event at rank 0, leaving scheduling order.
    fn rank(&self) -> u64 {
        0
    }
}

impl EventOrder for () {}
impl EventOrder for char {}
impl EventOrder for u32 {}

struct Entry<E> {
    time: SimTime,
    rank: u64,
    sequence: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.rank == other.rank && self.sequence == other.sequence
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }

    // The heap's sifts ask `<=`; times almost always differ, so compare them first and
    // leave the chain of `Ordering`s to ties.
    #[inline]
    fn le(&self, other: &Self) -> bool {
        if self.time != other.time {
            self.time > other.time // reversed: later is "less"
        } else {
            self.cmp(other) != Ordering::Greater
        }
    }

    #[inline]
    fn lt(&self, other: &Self) -> bool {
        if self.time != other.time {
            self.time > other.time
        } else {
            self.cmp(other) == Ordering::Less
        }
    }

    #[inline]
    fn ge(&self, other: &Self) -> bool {
        other.le(self)
    }

    #[inline]
    fn gt(&self, other: &Self) -> bool {
        other.lt(self)
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest entry first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .time
            .cmp(&self.time)
            .then_with(|| other.rank.cmp(&self.rank))
            .then_with(|| other.sequence.cmp(&self.sequence))
    }
}

/// Events waiting to happen, popped earliest first, ties in scheduling order.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_sequence: u64,
}

impl<E: EventOrder> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: EventOrder> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_sequence: 0,
        }
    }

    pub fn push(&mut self, time: SimTime, event: E) {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        let rank = event.rank();
        self.heap.push(Entry {
            time,
            rank,
            sequence,
            event,
        });
    }

    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap.pop().map(|entry| (entry.time, entry.event))
    }

    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|entry| entry.time)
    }

    /// The earliest event.
    pub fn peek_event(&self) -> Option<&E> {
        self.heap.peek().map(|entry| &entry.event)
    }

    /// The earliest event's (time, rank).
    pub fn peek_key(&self) -> Option<(SimTime, u64)> {
        self.heap.peek().map(|entry| (entry.time, entry.rank))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Ranked(u64, char);
    impl EventOrder for Ranked {
        fn rank(&self) -> u64 {
            self.0
        }
    }

    #[test]
    fn ties_go_by_rank_then_scheduling_order() {
        let mut queue = EventQueue::new();
        queue.push(SimTime::from_nanos(10), Ranked(2, 'c'));
        queue.push(SimTime::from_nanos(10), Ranked(1, 'a'));
        queue.push(SimTime::from_nanos(5), Ranked(9, 'z'));
        queue.push(SimTime::from_nanos(10), Ranked(1, 'b'));
        let order: Vec<char> = std::iter::from_fn(|| queue.pop().map(|(_, e)| e.1)).collect();
        assert_eq!(order, vec!['z', 'a', 'b', 'c']);
    }

    /// The shortcut comparisons the heap uses agree with the full order, ties included.
    #[test]
    fn comparisons_agree_with_the_full_order() {
        let entry = |time, rank, sequence| Entry {
            time: SimTime::from_nanos(time),
            rank,
            sequence,
            event: (),
        };
        let values = [0, 1, 2];
        for (ta, ra, sa) in triples(&values) {
            for (tb, rb, sb) in triples(&values) {
                let (a, b) = (entry(ta, ra, sa), entry(tb, rb, sb));
                let order = a.cmp(&b);
                assert_eq!(
                    a.le(&b),
                    order != Ordering::Greater,
                    "{ta} {ra} {sa} vs {tb} {rb} {sb}"
                );
                assert_eq!(a.lt(&b), order == Ordering::Less);
                assert_eq!(a.ge(&b), order != Ordering::Less);
                assert_eq!(a.gt(&b), order == Ordering::Greater);
            }
        }
    }

    fn triples(values: &[u64]) -> Vec<(u64, u64, u64)> {
        let mut all = Vec::new();
        for &x in values {
            for &y in values {
                for &z in values {
                    all.push((x, y, z));
                }
            }
        }
        all
    }

    #[test]
    fn pops_in_time_order_and_ties_in_scheduling_order() {
        let mut queue = EventQueue::new();
        queue.push(SimTime::from_nanos(30), 'c');
        queue.push(SimTime::from_nanos(10), 'a');
        queue.push(SimTime::from_nanos(20), 'b');
        queue.push(SimTime::from_nanos(10), 'x');
        queue.push(SimTime::from_nanos(10), 'y');
        let order: Vec<char> = std::iter::from_fn(|| queue.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['a', 'x', 'y', 'b', 'c']);
    }
}
