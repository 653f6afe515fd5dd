//! The pending-event set: a four-ary min-heap ordered by (time, rank, sequence number).
//!
//! Events at the same instant run in increasing rank (see [`EventOrder`]), and events of
//! equal rank in the order they were scheduled. The sequence number makes every tie
//! deterministic; the rank lets a model make ties independent of scheduling history.
//!
//! Why four children per node and not two: taking the earliest event walks from the root to
//! a leaf, and each level waits for the comparison of the one above it. With four children
//! a level costs three comparisons, made side by side, but the path is half as long: with
//! ~500 requests in transit (the bench-day peak) ~4.5 levels instead of ~9. The rank is not
//! stored: it is the event's own (`EventOrder::rank`), asked again on the rare tie of
//! times, so a node is the time, the sequence number and the event (32 bytes for the
//! simulator's events, 40 with the rank).
//!
//! ```text
//!   index:   0 | 1  2  3  4 | 5 .. 8   9 .. 12  13 .. 16  17 .. 20
//!   node 0's children are 1–4; node i's are 4i+1 .. 4i+4; node i's parent is (i − 1) / 4
//! ```

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

/// Children per node.
const ARITY: usize = 4;

struct Node<E> {
    time: SimTime,
    sequence: u64,
    event: E,
}

impl<E: EventOrder> Node<E> {
    /// Whether this node comes before `other`. Times almost always differ; the rank is
    /// asked only when they do not.
    #[inline(always)]
    fn before(&self, other: &Self) -> bool {
        if self.time != other.time {
            self.time < other.time
        } else {
            (self.event.rank(), self.sequence) < (other.event.rank(), other.sequence)
        }
    }
}

/// Events waiting to happen, popped earliest first, ties by rank, then in scheduling order.
pub struct EventQueue<E> {
    nodes: Vec<Node<E>>,
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
            nodes: Vec::new(),
            next_sequence: 0,
        }
    }

    pub fn push(&mut self, time: SimTime, event: E) {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.nodes.push(Node {
            time,
            sequence,
            event,
        });
        self.sift_up(self.nodes.len() - 1);
    }

    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let last = self.nodes.pop()?;
        if self.nodes.is_empty() {
            return Some((last.time, last.event));
        }
        let earliest = std::mem::replace(&mut self.nodes[0], last);
        // The node moved to the root came from the bottom and most likely belongs near it:
        // walk it down along the earlier children all the way, then up as far as it must
        // go (fewer comparisons than stopping on the way down).
        let leaf = self.sink_to_bottom(0);
        self.sift_up(leaf);
        Some((earliest.time, earliest.event))
    }

    /// Moves the node at `index` up while it comes before its parent.
    #[inline]
    fn sift_up(&mut self, mut index: usize) {
        let nodes = &mut self.nodes[..];
        while index > 0 {
            let parent = (index - 1) / ARITY;
            if !nodes[index].before(&nodes[parent]) {
                break;
            }
            nodes.swap(index, parent);
            index = parent;
        }
    }

    /// Moves the node at `index` down, always into its earliest child's place, until it has
    /// no children; returns where it ends.
    #[inline]
    fn sink_to_bottom(&mut self, mut index: usize) -> usize {
        let nodes = &mut self.nodes[..];
        let len = nodes.len();
        loop {
            let first = ARITY * index + 1;
            let earliest = if first + ARITY <= len {
                // All four children: two pairs, then their winners; the three comparisons
                // become selections, not branches.
                let children = &nodes[first..first + ARITY];
                let left = usize::from(children[1].before(&children[0]));
                let right = 2 + usize::from(children[3].before(&children[2]));
                first
                    + if children[right].before(&children[left]) {
                        right
                    } else {
                        left
                    }
            } else if first < len {
                let mut earliest = first;
                for child in first + 1..len {
                    if nodes[child].before(&nodes[earliest]) {
                        earliest = child;
                    }
                }
                earliest
            } else {
                return index;
            };
            nodes.swap(index, earliest);
            index = earliest;
        }
    }

    pub fn peek_time(&self) -> Option<SimTime> {
        self.nodes.first().map(|node| node.time)
    }

    /// The earliest event.
    pub fn peek_event(&self) -> Option<&E> {
        self.nodes.first().map(|node| &node.event)
    }

    /// The earliest event's (time, rank).
    pub fn peek_key(&self) -> Option<(SimTime, u64)> {
        self.nodes
            .first()
            .map(|node| (node.time, node.event.rank()))
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
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

    /// An event that knows its rank and the order in which it was scheduled.
    #[derive(Debug)]
    struct Tagged {
        rank: u64,
        sequence: u64,
    }
    impl EventOrder for Tagged {
        fn rank(&self) -> u64 {
            self.rank
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

    /// `before` is the full (time, rank, sequence) order, ties included.
    #[test]
    fn before_is_the_full_order() {
        let node = |time, rank, sequence| Node {
            time: SimTime::from_nanos(time),
            sequence,
            event: Ranked(rank, '-'),
        };
        let values = [0, 1, 2];
        for (ta, ra, sa) in triples(&values) {
            for (tb, rb, sb) in triples(&values) {
                let (a, b) = (node(ta, ra, sa), node(tb, rb, sb));
                let expected = (ta, ra, sa) < (tb, rb, sb);
                assert_eq!(
                    a.before(&b),
                    expected,
                    "({ta}, {ra}, {sa}) before ({tb}, {rb}, {sb}): expected {expected}"
                );
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

    /// Pushes and pops interleaved, with many equal times and ranks, at queue sizes that
    /// fill the last level of the heap to every degree: the queue must pop exactly what a
    /// sorted list of (time, rank, sequence) would.
    #[test]
    fn pops_what_a_sorted_list_would() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut queue = EventQueue::new();
        let mut reference: Vec<(u64, u64, u64)> = Vec::new();
        let mut sequence = 0;
        let mut now = 0;
        for round in 0..20_000 {
            // Grow to ~500 events and shrink back to none, in waves.
            let growing = (round / 500) % 2 == 0;
            let pushes = if growing { next() % 4 } else { 0 };
            for _ in 0..pushes {
                let time = now + next() % 40;
                let rank = next() % 3;
                queue.push(SimTime::from_nanos(time), Tagged { rank, sequence });
                reference.push((time, rank, sequence));
                sequence += 1;
            }
            if !growing || next().is_multiple_of(2) {
                reference.sort_unstable_by(|a, b| b.cmp(a));
                let expected = reference.pop();
                let popped = queue.pop();
                assert_eq!(
                    popped.map(|(time, event)| (time.as_nanos(), event.rank, event.sequence)),
                    expected,
                    "round {round}: popped (time, rank, sequence)"
                );
                if let Some((time, _, _)) = expected {
                    now = time;
                }
            }
            assert_eq!(queue.len(), reference.len());
        }
        reference.sort_unstable_by(|a, b| b.cmp(a));
        while let Some(expected) = reference.pop() {
            let popped = queue
                .pop()
                .map(|(time, event)| (time.as_nanos(), event.rank, event.sequence));
            assert_eq!(popped, Some(expected), "final drain");
        }
        assert!(queue.is_empty());
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
