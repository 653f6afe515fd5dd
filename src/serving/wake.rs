//! Wake-up candidates: the decoding replicas with a free slot, found by their next step
//! boundary.
//!
//! A request that waits is taken at the earliest step boundary, at or after now, of any
//! replica that can admit it (`DeploymentState::wake_one`). A replica's boundaries repeat
//! every step from its first one, so a stored boundary goes stale as time passes: at a
//! quiet hour, when arrivals are further apart than a step, each arrival finds most of a
//! deployment's candidates past their stored boundary and must move every one of them to
//! its next. In a heap each move is a sift (a few hundred instructions); here it is a push
//! onto a bucket.
//!
//! Candidates sit in buckets of width `bucket_ns` over a ring ahead of the last query (two to four
//! of the deployment's longest steps: the width is a power of two, so finding a bucket is a
//! shift, not a division), those further ahead in a heap. A query first moves
//! the candidates of the buckets it has passed, then looks at the buckets from now on: the
//! first bucket holding a live candidate holds the earliest boundary.
//!
//! ```text
//!   now ─┐  bucket_ns
//!   ┌────┼───┬───┬───┬───┬───┐       ┌──────────────┐
//!   │ ·  │ b │   │ c │   │ a │  ...  │ far: heap    │
//!   └────┴───┴───┴───┴───┴───┘       └──────────────┘
//!   passed buckets are emptied and their candidates moved to their next boundary
//! ```
//!
//! Entries are `wake_key`s: boundary in the high 64 bits, then replica, then the stamp of
//! the replica's [`WakeStamp`] when the entry was made; an entry whose stamp is no longer
//! the replica's is stale and dropped where it is met. The order — boundary, then replica —
//! is exactly that of one heap over all entries, so the choice never depends on buckets.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::engine::{SimDuration, SimTime};

/// Buckets in the ring.
const RING: usize = 64;

/// A replica as a wake-up candidate: entries carry the stamp they were made with and are
/// live while it is unchanged; the step and the stretch's planned end let an entry move to
/// a later boundary without a look at the replica.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct WakeStamp {
    pub stamp: u32,
    pub step: SimDuration,
    pub end: SimTime,
}

impl WakeStamp {
    /// Makes every entry of this replica stale (its stretch ended or it was woken).
    pub fn retire(&mut self) {
        self.stamp = self.stamp.wrapping_add(1);
    }

    /// The first step boundary at or after `now`, given one before `now`, but no later
    /// than the stretch's planned end (whose own event is then due).
    #[inline]
    pub fn next_boundary(&self, boundary: SimTime, now: SimTime) -> SimTime {
        let step = self.step.as_nanos();
        if step == 0 {
            return self.end;
        }
        // Usually a step or two behind: a few additions are cheaper than a division.
        let mut next = boundary.as_nanos();
        for _ in 0..4 {
            next += step;
            if next >= now.as_nanos() {
                return SimTime::from_nanos(next).min(self.end);
            }
        }
        let behind = now.as_nanos() - next;
        SimTime::from_nanos(next + behind.div_ceil(step) * step).min(self.end)
    }
}

/// A candidate's key: boundary in the high 64 bits, then replica, then stamp, so one
/// comparison orders by boundary, then replica.
#[inline]
pub(super) fn wake_key(boundary: SimTime, replica: u32, stamp: u32) -> u128 {
    ((boundary.as_nanos() as u128) << 64) | ((replica as u128) << 32) | stamp as u128
}

/// (boundary in ns, replica, stamp) of a `wake_key`.
#[inline]
fn unpack(key: u128) -> (u64, u32, u32) {
    ((key >> 64) as u64, (key >> 32) as u32, key as u32)
}

/// The candidates of one deployment, by step boundary.
pub(super) struct WakeCalendar {
    /// Buckets are 2^`bucket_shift` ns wide.
    bucket_shift: u32,
    buckets: [Vec<u128>; RING],
    /// Start of the bucket at `head`: a multiple of the bucket width, at most the last query.
    origin_ns: u64,
    head: usize,
    /// Candidates at or beyond the ring's end.
    far: BinaryHeap<Reverse<u128>>,
    /// Passed candidates being moved, and those a query passed over (kept to reuse the
    /// allocations).
    moving: Vec<u128>,
    set_aside: Vec<u128>,
    /// Entries held, live or stale.
    len: usize,
}

impl WakeCalendar {
    /// `longest_step`: the deployment's longest decode step; the ring spans two to four.
    pub fn new(longest_step: SimDuration) -> Self {
        // Capped at 2^40 ns (18 minutes) so that rounding up to a power of two cannot
        // overflow (steps that long would only make the ring slower, never wrong).
        let bucket_ns = longest_step
            .as_nanos()
            .saturating_mul(2)
            .div_ceil(RING as u64)
            .clamp(1, 1 << 40)
            .next_power_of_two();
        WakeCalendar {
            bucket_shift: bucket_ns.trailing_zeros(),
            buckets: std::array::from_fn(|_| Vec::new()),
            origin_ns: 0,
            head: 0,
            far: BinaryHeap::new(),
            moving: Vec::new(),
            set_aside: Vec::new(),
            len: 0,
        }
    }

    /// Adds a candidate; its boundary must not be before the last query.
    #[inline]
    pub fn push(&mut self, key: u128) {
        self.len += 1;
        self.file(key);
    }

    /// Puts an entry in its bucket, or with the far ones (`len` is the caller's).
    #[inline(always)]
    fn file(&mut self, key: u128) {
        let (boundary, _, _) = unpack(key);
        let offset = boundary.saturating_sub(self.origin_ns) >> self.bucket_shift;
        if offset < RING as u64 {
            self.buckets[(self.head + offset as usize) % RING].push(key);
        } else {
            self.far.push(Reverse(key));
        }
    }

    /// Removes and returns the live candidate with the earliest (boundary at or after
    /// `now`, replica) that `accepts` (given boundary and replica); candidates it refuses
    /// stay. Stale entries met on the way are dropped, passed ones moved.
    pub fn take_earliest(
        &mut self,
        now: SimTime,
        stamps: &[WakeStamp],
        mut accepts: impl FnMut(SimTime, u32) -> bool,
    ) -> Option<(SimTime, u32)> {
        self.advance(now, stamps);
        let mut found = None;
        'buckets: for offset in 0..RING {
            let bucket = &mut self.buckets[(self.head + offset) % RING];
            loop {
                // The bucket's earliest live entry; stale ones are dropped.
                let mut best: Option<(usize, u128)> = None;
                let mut position = 0;
                while position < bucket.len() {
                    let key = bucket[position];
                    let (_, replica, stamp) = unpack(key);
                    if stamps[replica as usize].stamp != stamp {
                        bucket.swap_remove(position);
                        self.len -= 1;
                        continue;
                    }
                    if best.is_none_or(|(_, best_key)| key < best_key) {
                        best = Some((position, key));
                    }
                    position += 1;
                }
                let Some((position, key)) = best else {
                    break;
                };
                bucket.swap_remove(position);
                self.len -= 1;
                let (boundary, replica, _) = unpack(key);
                if accepts(SimTime::from_nanos(boundary), replica) {
                    found = Some((SimTime::from_nanos(boundary), replica));
                    break 'buckets;
                }
                self.set_aside.push(key);
            }
        }
        if found.is_none() {
            while let Some(Reverse(key)) = self.far.pop() {
                self.len -= 1;
                let (boundary, replica, stamp) = unpack(key);
                if stamps[replica as usize].stamp != stamp {
                    continue;
                }
                if accepts(SimTime::from_nanos(boundary), replica) {
                    found = Some((SimTime::from_nanos(boundary), replica));
                    break;
                }
                self.set_aside.push(key);
            }
        }
        let mut set_aside = std::mem::take(&mut self.set_aside);
        for key in set_aside.drain(..) {
            self.push(key);
        }
        self.set_aside = set_aside;
        found
    }

    /// Entries held, live or stale (stale ones go when a query meets them, or in
    /// `compact`).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Drops every stale entry. Queries drop those they meet; a deployment whose requests
    /// never wait makes none, while each new decode stretch adds an entry.
    pub fn compact(&mut self, stamps: &[WakeStamp]) {
        let live = |key: &u128| {
            let (_, replica, stamp) = unpack(*key);
            stamps[replica as usize].stamp == stamp
        };
        for bucket in &mut self.buckets {
            bucket.retain(live);
        }
        self.far.retain(|Reverse(key)| live(key));
        self.len = self.buckets.iter().map(Vec::len).sum::<usize>() + self.far.len();
    }

    /// Moves the ring to `now`: candidates of passed buckets, and of the current one with
    /// a boundary before `now`, go to their next boundary; far ones that the ring now
    /// reaches come into it.
    fn advance(&mut self, now: SimTime, stamps: &[WakeStamp]) {
        let now_ns = now.as_nanos();
        let origin = now_ns >> self.bucket_shift << self.bucket_shift;
        let mut moving = std::mem::take(&mut self.moving);
        if origin > self.origin_ns {
            let passed = ((origin - self.origin_ns) >> self.bucket_shift).min(RING as u64) as usize;
            for offset in 0..passed {
                moving.append(&mut self.buckets[(self.head + offset) % RING]);
            }
            self.head = (self.head
                + ((origin - self.origin_ns) >> self.bucket_shift) as usize % RING)
                % RING;
            self.origin_ns = origin;
        }
        self.buckets[self.head].retain(|&key| {
            let passed = unpack(key).0 < now_ns;
            if passed {
                moving.push(key);
            }
            !passed
        });
        let ring_end = self
            .origin_ns
            .saturating_add((RING as u64) << self.bucket_shift);
        while let Some(&Reverse(key)) = self.far.peek() {
            if unpack(key).0 >= ring_end {
                break;
            }
            self.far.pop();
            moving.push(key);
        }
        // At a quiet hour a query re-files a dozen or more entries (each candidate once a
        // step): each goes straight to its bucket, counted only if dropped.
        let mut stale = 0;
        for key in moving.drain(..) {
            let (boundary, replica, stamp) = unpack(key);
            let wake = &stamps[replica as usize];
            if wake.stamp != stamp {
                stale += 1;
                continue;
            }
            let key = if boundary < now_ns {
                wake_key(
                    wake.next_boundary(SimTime::from_nanos(boundary), now),
                    replica,
                    stamp,
                )
            } else {
                key
            };
            self.file(key);
        }
        self.len -= stale;
        self.moving = moving;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a brute-force search over every live candidate's next boundary, through
    /// random arrivals, new stretches, wake-ups and refusals; with buckets as wide as the
    /// deployment would make them (steps of 20–50 ms), and much narrower and much wider
    /// (the choice must never depend on where entries sit).
    #[test]
    fn takes_what_a_search_over_every_candidate_takes() {
        for longest_step in [
            SimDuration::from_millis(50),
            SimDuration::from_nanos(1),
            SimDuration::from_secs_f64(30.0),
        ] {
            let taken = random_queries_agree_with_a_search(longest_step);
            println!("longest step {longest_step:?}: {taken} wake-ups agreed");
            assert!(taken > 10_000);
        }
    }

    fn random_queries_agree_with_a_search(longest_step: SimDuration) -> usize {
        let replicas = 40usize;
        let mut stamps = vec![WakeStamp::default(); replicas];
        // Per replica: its live entry's first boundary, if a candidate.
        let mut first: Vec<Option<SimTime>> = vec![None; replicas];
        let mut calendar = WakeCalendar::new(longest_step);
        let mut rng = crate::engine::RngStreams::new(7).stream("wake-calendar-test", 0);
        let mut next = || rand::Rng::next_u64(&mut rng);
        let mut now = SimTime::from_nanos(1_000);
        let mut taken = 0;
        for round in 0..30_000 {
            now += SimDuration::from_nanos(next() % 40_000_000);
            let replica = (next() % replicas as u64) as usize;
            // A new stretch for one replica: its first boundary one step ahead (or, as
            // after a folded prefill, a while ahead).
            if next() % 2 == 0 {
                let step = SimDuration::from_nanos(20_000_000 + next() % 30_000_000);
                let start = now + SimDuration::from_nanos(next() % 3 * 60_000_000);
                let wake = &mut stamps[replica];
                wake.retire();
                wake.step = step;
                wake.end = start + step.saturating_mul(1 + next() % 200);
                let first_boundary = start + step;
                first[replica] = Some(first_boundary);
                calendar.push(wake_key(first_boundary, replica as u32, wake.stamp));
            }
            // Stretches that ended: no longer candidates.
            for index in 0..replicas {
                if first[index].is_some() && stamps[index].end < now {
                    first[index] = None;
                    stamps[index].retire();
                }
            }
            // A query that refuses odd replicas one time in four.
            let refuse_odd = next() % 4 == 0;
            let expected = (0..replicas)
                .filter(|&index| !(refuse_odd && index % 2 == 1))
                .filter_map(|index| {
                    let first_boundary = first[index]?;
                    let boundary = if first_boundary >= now {
                        first_boundary
                    } else {
                        stamps[index].next_boundary(first_boundary, now)
                    };
                    Some((boundary, index as u32))
                })
                .min();
            let got =
                calendar.take_earliest(now, &stamps, |_, index| !(refuse_odd && index % 2 == 1));
            assert_eq!(got, expected, "round {round}");
            if let Some((_, index)) = got {
                first[index as usize] = None;
                stamps[index as usize].retire();
                taken += 1;
            }
            let held = calendar.buckets.iter().map(Vec::len).sum::<usize>() + calendar.far.len();
            assert_eq!(calendar.len(), held, "round {round}");
            if round % 1000 == 0 {
                calendar.compact(&stamps);
                let live = first.iter().flatten().count();
                assert_eq!(
                    calendar.len(),
                    live,
                    "round {round}: only live entries after compacting"
                );
            }
        }
        taken
    }
}
