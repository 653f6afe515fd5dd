//! Timers: at most one pending event per timer, rescheduled in place.
//!
//! Some entities always have exactly one next event — a server's next completion, a
//! replica's next iteration boundary — that moves whenever something happens to them. With
//! only the event queue, moving it means scheduling a new event and leaving the old one to
//! be popped and ignored later. A timer instead holds the entity's one event; setting it
//! again moves it, so there are no stale events to pop.
//!
//! The timers sit in a hierarchical timing wheel with a heap at its finest grain. Timers
//! due within the cursor's current 32.8 µs (the *near* window) are in a 4-ary heap; those
//! further ahead sit in four levels of 256 buckets, 32.8 µs wide at level 0 (a window of
//! 8.4 ms), 8.4 ms at level 1 (2.1 s), 2.1 s at level 2 (9.2 minutes) and 9.2 minutes at
//! level 3 (39 hours), and an overflow list beyond. Each level holds the timers that fall in
//! the cursor's window one level up but not in its window at their own level, so the near
//! heap holds the earliest timers, a level's buckets are in time order, and without near
//! timers the earliest is in the first occupied bucket of the first occupied level (found
//! with a bitmap). A bucket is an unordered linked list through the timers themselves: setting,
//! moving and cancelling a timer beyond the near window take constant time, with no
//! sifting. When the earliest timer comes from a bucket, the cursor moves to it and the
//! rest of its bucket drops to finer levels or into the heap; a timer drops at most once
//! per level.
//!
//! ```text
//!   cursor ─┐
//!   near    ▓▓ 4-ary heap                      (the cursor's 32.8 µs)
//!   level 0   │▓│ │▓│ │ │ │ ... 256 × 32.8 µs    (the cursor's 8.4 ms window)
//!   level 1   │ │▓▓│▓│ │ │ ... 256 × 8.4 ms     (the cursor's 2.1 s window)
//!   level 2   │▓│ │ │ │▓│ ... 256 × 2.1 s       (the cursor's 9.2 min window)
//!   level 3   │ │▓│ │ │ │ ... 256 × 9.2 min     (the cursor's 39 h window)
//!   overflow  ▓ ▓                                (later)
//! ```
//!
//! Times are exact whatever the widths; the widths decide how much a bucket holds. The
//! heap keeps crowded timers cheap: a bucket is scanned whole for its earliest timer once,
//! when the cursor reaches it, and the rest of it then goes to the heap, so timers due
//! within the same few microseconds by the dozen cost a heap's logarithm each, not a scan
//! per event. In the hold benchmark (`cargo bench --bench engine -- timers_hold`) 65,536
//! timers due within 1 ms take ~0.14 µs per round, as a plain heap does, against ~2.9 µs
//! with a bucket at the finest grain. Sparse timers rarely meet the heap: in the bench-day
//! (~850 timers spread over seconds) a replica's next boundary is popped straight from its
//! bucket, and the wheel runs ~7.5% fewer instructions than a heap of every timer (measured
//! with 1 µs buckets, before the widths below). Timers more than 39 hours ahead wait in the
//! overflow list, scanned whole when nothing nearer is set: fine for a few, slow for
//! thousands of days-long timers.
//!
//! The widths are the bench-day's: ~110 µs between events, most timers a fraction of a
//! millisecond to seconds ahead. Finer buckets there mean more timers re-filed level by
//! level before they fire; coarser ones, more in the heap. Instructions for a 2-minute
//! bench-day peak (callgrind) by near window: 2¹⁰ ns 1.925 G, 2¹² 1.925 G, 2¹⁴ 1.902 G,
//! 2¹⁵ 1.896 G, 2¹⁶ 1.895 G, 2¹⁷ 1.900 G, 2¹⁸ 1.916 G; 2¹⁵ keeps the heap of a crowded
//! wheel half the size of 2¹⁶'s for the same gain.
//!
//! **Few timers.** While no timer numbered beyond 31 has been set, there is no wheel: the
//! timers are scanned whole for the earliest whenever it is taken or moved later. An M/M/c
//! station with ten servers (eleven timers) spent ~1,090 instructions per event in all, ~180
//! of them in the wheel, re-filing each timer level by level on its way down and searching
//! bitmaps and bucket lists for the earliest. A scan of eleven 128-bit keys takes about as
//! many instructions, but none of them a branch that depends on the times, which the
//! processor guesses wrong: 15–17% less time for the whole run (see the README). The first
//! timer numbered 32 or more puts every set timer in the wheel, for good.
//!
//! Ties follow the event queue's rule: same instant → lower rank first; timers of equal
//! rank go by timer number (never by when they were set), so results do not depend on
//! scheduling history.

use super::time::SimTime;

/// A timer's place when it is not set, and the end of a bucket's list.
const NONE: u32 = u32::MAX;

/// Buckets per level (a power of two) and their number of bits.
const BUCKET_BITS: u32 = 8;
const BUCKETS: usize = 1 << BUCKET_BITS;
/// Levels of buckets above the near heap.
const LEVELS: usize = 4;
/// The near window is 2^15 ns = 32.8 µs wide, and so are level 0's buckets; each level's
/// buckets are 2^8 times as wide as the one's below.
const NEAR_SHIFT: u32 = 15;
/// The place of timers beyond every level's window.
const OVERFLOW: u32 = (LEVELS * BUCKETS) as u32;
/// The place of timers in the near heap.
const NEAR: u32 = OVERFLOW + 1;
/// The place of every set timer while there are few timers (see the module docs).
const SCANNED: u32 = OVERFLOW + 2;
/// Timer numbers below this, and no others set so far: few timers, scanned.
const SCANNED_BELOW: usize = 32;
// `Timers::occupied_words` has a bit per word of the buckets' bitmap.
const _: () = assert!(LEVELS * BUCKETS / 64 <= u32::BITS as usize);
/// Children per node of the near heap.
const ARITY: usize = 4;

/// A timer's (time, rank) as one number with the same order, for the few-timers scan.
#[inline]
fn scanned_key(time_ns: u64, rank: u64) -> u128 {
    ((time_ns as u128) << 64) | rank as u128
}

/// Bits of a time that name its bucket at `level`; `bucket_shift(level + 1)` names the
/// level's window.
const fn bucket_shift(level: usize) -> u32 {
    NEAR_SHIFT + BUCKET_BITS * level as u32
}

#[derive(Clone, Copy)]
struct Slot {
    time_ns: u64,
    rank: u64,
    /// Neighbours in the bucket's list (in a bucket or the overflow list).
    next: u32,
    previous: u32,
    /// Position in the near heap (when in it).
    near_position: u32,
    /// Bucket (`level * BUCKETS + index`), `OVERFLOW`, `NEAR`, or `NONE` when not set.
    place: u32,
}

const CLEAR: Slot = Slot {
    time_ns: 0,
    rank: 0,
    next: NONE,
    previous: NONE,
    near_position: NONE,
    place: NONE,
};

/// A timer in the near heap, with its order key kept beside it so that sifts read one
/// array.
#[derive(Clone, Copy)]
struct NearEntry {
    time_ns: u64,
    rank: u64,
    timer: u32,
}

impl NearEntry {
    /// Strict order: time, then rank, then timer number.
    #[inline]
    fn before(&self, other: &NearEntry) -> bool {
        if self.time_ns != other.time_ns {
            self.time_ns < other.time_ns
        } else {
            (self.rank, self.timer) < (other.rank, other.timer)
        }
    }
}

/// A set of numbered timers, each holding at most one pending event.
pub struct Timers<E> {
    slots: Vec<Slot>,
    /// Timer → its event (meaningful while set).
    events: Vec<Option<E>>,
    /// The timers of the cursor's near window, a 4-ary min-heap.
    near: Vec<NearEntry>,
    /// First timer of each bucket's list, and of the overflow list (the last entry).
    heads: Vec<u32>,
    /// A bit per occupied bucket, by place (level by level).
    occupied: [u64; LEVELS * BUCKETS / 64],
    /// A bit per word of `occupied` that is not zero: the first occupied bucket is found
    /// with two bit scans, with no loop whose exit a branch predictor must guess.
    occupied_words: u32,
    /// No timer is earlier than this; the levels' windows are the cursor's.
    cursor_ns: u64,
    /// The earliest timer by (time, rank, number), or `NONE`: the near heap's first when
    /// it holds any.
    earliest: u32,
    /// The earliest timer's (time, rank), kept here so that the event loop's look at it
    /// between events reads no slot: a slot read there missed the L1 cache about once per
    /// event on the bench-day, the handler having run in between (cachegrind).
    earliest_key: (u64, u64),
    len: usize,
    /// Few timers: every set timer is in place `SCANNED`, and the wheel and heap are empty.
    scanning: bool,
    /// Few timers: each timer's (time, rank) as one number, `u128::MAX` when not set, the
    /// array scanned for the earliest.
    scanned_keys: Vec<u128>,
}

impl<E> Default for Timers<E> {
    fn default() -> Self {
        Timers {
            slots: Vec::new(),
            events: Vec::new(),
            near: Vec::new(),
            heads: vec![NONE; LEVELS * BUCKETS + 1],
            occupied: [0; LEVELS * BUCKETS / 64],
            occupied_words: 0,
            cursor_ns: 0,
            earliest: NONE,
            earliest_key: (u64::MAX, u64::MAX),
            len: 0,
            scanning: true,
            scanned_keys: Vec::new(),
        }
    }
}

impl<E> Timers<E> {
    /// Sets `timer` to fire `event` at `time` with `rank`, replacing what it held. `time`
    /// must not be before the last timer taken.
    ///
    /// Inlined: the common case — a timer numbered before, moved from a bucket or from
    /// nowhere into a bucket — is a few dozen instructions; the rest (`set_elsewhere`) is out
    /// of line, so that the common case pays for no registers it does not use.
    #[inline(always)]
    pub fn set(&mut self, timer: u32, time: SimTime, rank: u64, event: E) {
        debug_assert!(time.as_nanos() >= self.cursor_ns, "a timer set in the past");
        let index = timer as usize;
        let time_ns = time.as_nanos().max(self.cursor_ns);
        let place = self.place_for(time_ns);
        let Some(slot) = self.slots.get(index) else {
            return self.set_elsewhere(timer, time_ns, rank, place, event);
        };
        let old_place = slot.place;
        if place >= OVERFLOW || old_place == NEAR {
            return self.set_elsewhere(timer, time_ns, rank, place, event);
        }
        self.events[index] = Some(event);
        if old_place == NONE {
            self.len += 1;
        } else {
            self.unlink(timer);
        }
        self.set_slot_key(index, time_ns, rank);
        self.link(timer, place);
        // Near timers, if any, stay the earliest: the new place is after their window.
        self.update_earliest_after_set(timer, time_ns, rank);
    }

    /// `set` for a timer never set before, one into or out of the near heap, one into the
    /// overflow list, or any while there are few timers.
    #[inline(never)]
    fn set_elsewhere(&mut self, timer: u32, time_ns: u64, rank: u64, mut place: u32, event: E) {
        let index = timer as usize;
        if index >= self.slots.len() {
            self.slots.resize(index + 1, CLEAR);
            self.events.resize_with(index + 1, || None);
            if self.scanning && index >= SCANNED_BELOW {
                self.stop_scanning();
                place = self.place_for(time_ns);
            } else if self.scanning {
                self.scanned_keys.resize(index + 1, u128::MAX);
            }
        }
        self.events[index] = Some(event);
        if place == SCANNED {
            let slot = &mut self.slots[index];
            if slot.place == NONE {
                self.len += 1;
            }
            slot.place = SCANNED;
            self.set_slot_key(index, time_ns, rank);
            self.scanned_keys[index] = scanned_key(time_ns, rank);
            return self.update_earliest_after_set(timer, time_ns, rank);
        }
        let old_place = self.slots[index].place;
        if old_place == NEAR && place == NEAR {
            // Moved within the heap: one sift from where it is.
            let entry = NearEntry {
                time_ns,
                rank,
                timer,
            };
            let position = self.slots[index].near_position as usize;
            self.set_slot_key(index, time_ns, rank);
            if entry.before(&self.near[position]) {
                self.sift_up(position, entry);
            } else {
                self.sift_down(position, entry);
            }
        } else {
            if old_place == NONE {
                self.len += 1;
            } else {
                self.take_out(timer);
            }
            self.set_slot_key(index, time_ns, rank);
            self.put(timer, place);
        }
        if let Some(&first) = self.near.first() {
            self.earliest = first.timer;
            self.earliest_key = (first.time_ns, first.rank);
        } else {
            self.update_earliest_after_set(timer, time_ns, rank);
        }
    }

    /// Ends the few-timers mode: every set timer moves to the place its time gives it.
    #[cold]
    fn stop_scanning(&mut self) {
        self.scanning = false;
        self.scanned_keys = Vec::new();
        for timer in 0..self.slots.len() as u32 {
            let slot = self.slots[timer as usize];
            if slot.place == SCANNED {
                self.put(timer, self.place_for(slot.time_ns));
            }
        }
        self.update_earliest();
    }

    /// Keeps the earliest timer after `timer` was set to (`time_ns`, `rank`) outside the
    /// near heap, or with the heap empty.
    #[inline(always)]
    fn update_earliest_after_set(&mut self, timer: u32, time_ns: u64, rank: u64) {
        if self.earliest == timer {
            // Moved: perhaps later than another now.
            self.update_earliest();
            return;
        }
        // Whether the timer set comes first is as likely as not: selected, not branched on
        // (a branch here was guessed wrong about every other set on the M/M/c station).
        let (key, earliest_key) = (
            scanned_key(time_ns, rank),
            scanned_key(self.earliest_key.0, self.earliest_key.1),
        );
        let first = (self.earliest == NONE)
            | (key < earliest_key)
            | ((key == earliest_key) & (timer < self.earliest));
        self.earliest = std::hint::select_unpredictable(first, timer, self.earliest);
        self.earliest_key =
            std::hint::select_unpredictable(first, (time_ns, rank), self.earliest_key);
    }

    /// Clears `timer`; nothing happens if it was not set.
    pub fn cancel(&mut self, timer: u32) {
        let Some(slot) = self.slots.get(timer as usize) else {
            return;
        };
        if slot.place == NONE {
            return;
        }
        self.take_out(timer);
        self.slots[timer as usize].place = NONE;
        self.events[timer as usize] = None;
        self.len -= 1;
        if self.earliest == timer || !self.near.is_empty() {
            self.update_earliest();
        }
    }

    /// The earliest timer's (time, rank), if any is set.
    #[inline]
    pub fn peek(&self) -> Option<(SimTime, u64)> {
        (self.earliest != NONE).then(|| {
            (
                SimTime::from_nanos(self.earliest_key.0),
                self.earliest_key.1,
            )
        })
    }

    /// The earliest timer's event.
    pub fn peek_event(&self) -> Option<&E> {
        self.events.get(self.earliest as usize)?.as_ref()
    }

    /// Takes the earliest timer's event; the timer is then clear.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let timer = self.earliest;
        let slot = *self.slots.get(timer as usize)?;
        self.take_out(timer);
        self.slots[timer as usize].place = NONE;
        self.len -= 1;
        self.cursor_ns = slot.time_ns;
        if slot.place <= OVERFLOW {
            // From a bucket (the heap and finer levels are empty): its bucket-mates now
            // fall in the cursor's finer windows.
            self.cascade(slot.place);
        }
        self.update_earliest();
        let event = self.events[timer as usize]
            .take()
            .expect("a set timer holds an event");
        Some((SimTime::from_nanos(slot.time_ns), event))
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Strict order of two set timers: time, then rank, then timer number.
    #[inline]
    fn before(&self, a: u32, b: u32) -> bool {
        let (first, second) = (&self.slots[a as usize], &self.slots[b as usize]);
        if first.time_ns != second.time_ns {
            first.time_ns < second.time_ns
        } else {
            (first.rank, a) < (second.rank, b)
        }
    }

    #[inline]
    fn set_slot_key(&mut self, index: usize, time_ns: u64, rank: u64) {
        let slot = &mut self.slots[index];
        slot.time_ns = time_ns;
        slot.rank = rank;
    }

    /// Where a timer at `time_ns` belongs, relative to the cursor: `NEAR`, a bucket, or
    /// `OVERFLOW`.
    #[inline]
    fn place_for(&self, time_ns: u64) -> u32 {
        if self.scanning {
            return SCANNED;
        }
        let differs = time_ns ^ self.cursor_ns;
        if differs >> NEAR_SHIFT == 0 {
            return NEAR;
        }
        for level in 0..LEVELS {
            if differs >> bucket_shift(level + 1) == 0 {
                let index = (time_ns >> bucket_shift(level)) as usize & (BUCKETS - 1);
                return (level * BUCKETS + index) as u32;
            }
        }
        OVERFLOW
    }

    /// Puts a timer whose key is set at `place`.
    #[inline(always)]
    fn put(&mut self, timer: u32, place: u32) {
        if place == NEAR {
            let slot = &mut self.slots[timer as usize];
            slot.place = NEAR;
            let entry = NearEntry {
                time_ns: slot.time_ns,
                rank: slot.rank,
                timer,
            };
            self.near.push(entry);
            self.sift_up(self.near.len() - 1, entry);
        } else {
            self.link(timer, place);
        }
    }

    /// Takes a set timer out of its heap position or bucket list (its place is left
    /// for the caller to overwrite).
    #[inline]
    fn take_out(&mut self, timer: u32) {
        let slot = self.slots[timer as usize];
        if slot.place == NEAR {
            self.remove_near(slot.near_position as usize);
        } else if slot.place == SCANNED {
            self.scanned_keys[timer as usize] = u128::MAX;
        } else {
            self.unlink(timer);
        }
    }

    #[inline(always)]
    fn link(&mut self, timer: u32, place: u32) {
        let head = self.heads[place as usize];
        let slot = &mut self.slots[timer as usize];
        slot.place = place;
        slot.previous = NONE;
        slot.next = head;
        // The old head, if any, now follows this timer. Whether the bucket was empty is
        // data: the write is redirected (to this timer's own `previous`, NONE already)
        // rather than branched around.
        let has_head = head != NONE;
        let follower = std::hint::select_unpredictable(has_head, head, timer);
        self.slots[follower as usize].previous =
            std::hint::select_unpredictable(has_head, timer, NONE);
        self.heads[place as usize] = timer;
        self.mark_occupied(place, true);
    }

    #[inline(always)]
    fn unlink(&mut self, timer: u32) {
        let Slot {
            next,
            previous,
            place,
            ..
        } = self.slots[timer as usize];
        if previous == NONE {
            self.heads[place as usize] = next;
            if next == NONE {
                self.mark_occupied(place, false);
            }
        } else {
            self.slots[previous as usize].next = next;
        }
        // As in `link`: without a next timer, the write goes to this timer's own slot, which
        // is leaving the list (whoever takes it out sets its place and links anew).
        let has_next = next != NONE;
        let follower = std::hint::select_unpredictable(has_next, next, timer);
        self.slots[follower as usize].previous = std::hint::select_unpredictable(
            has_next,
            previous,
            self.slots[timer as usize].previous,
        );
    }

    /// Sets or clears a bucket's bit in its level's bitmap (the overflow list has none).
    #[inline]
    fn mark_occupied(&mut self, place: u32, occupied: bool) {
        if place == OVERFLOW {
            return;
        }
        let bit = 1u64 << (place % 64);
        let word_index = place / 64;
        let word = &mut self.occupied[word_index as usize];
        if occupied {
            *word |= bit;
            self.occupied_words |= 1 << word_index;
        } else {
            *word &= !bit;
            self.occupied_words &= !(u32::from(*word == 0) << word_index);
        }
    }

    /// Re-places every timer of `place`'s list after the cursor moved into its window.
    fn cascade(&mut self, place: u32) {
        let mut timer = self.heads[place as usize];
        self.heads[place as usize] = NONE;
        self.mark_occupied(place, false);
        while timer != NONE {
            let slot = self.slots[timer as usize];
            self.put(timer, self.place_for(slot.time_ns));
            timer = slot.next;
        }
    }

    /// Finds the earliest timer and keeps its key.
    #[inline]
    fn update_earliest(&mut self) {
        self.earliest = self.find_earliest();
        if let Some(slot) = self.slots.get(self.earliest as usize) {
            self.earliest_key = (slot.time_ns, slot.rank);
        }
    }

    /// The earliest set timer: the near heap's first, or the earliest of the first
    /// occupied bucket of the first occupied level, or of the overflow list.
    fn find_earliest(&self) -> u32 {
        if let Some(first) = self.near.first() {
            return first.timer;
        }
        if self.scanning {
            return self.scan_earliest();
        }
        // Levels' bitmaps are consecutive: the first set bit is the first occupied bucket
        // of the first occupied level.
        if self.occupied_words != 0 {
            let word_index = self.occupied_words.trailing_zeros() as usize;
            let word = self.occupied[word_index];
            let place = word_index * 64 + word.trailing_zeros() as usize;
            return self.earliest_in(place);
        }
        self.earliest_in(OVERFLOW as usize)
    }

    /// The earliest set timer, by a scan of every timer (few timers only). Ties go to the
    /// lower number: a later one replaces the best only when strictly before it.
    fn scan_earliest(&self) -> u32 {
        let mut best = 0;
        let mut best_key = u128::MAX;
        for (timer, &key) in self.scanned_keys.iter().enumerate() {
            if key < best_key {
                best = timer;
                best_key = key;
            }
        }
        if best_key == u128::MAX {
            // None set, or only timers at the very last instant and rank: look at places.
            return (0..self.slots.len() as u32)
                .find(|&timer| self.slots[timer as usize].place == SCANNED)
                .unwrap_or(NONE);
        }
        best as u32
    }

    fn earliest_in(&self, place: usize) -> u32 {
        let mut best = self.heads[place];
        if best == NONE {
            return NONE;
        }
        let mut timer = self.slots[best as usize].next;
        while timer != NONE {
            if self.before(timer, best) {
                best = timer;
            }
            timer = self.slots[timer as usize].next;
        }
        best
    }

    /// Removes the near heap's entry at `position`.
    fn remove_near(&mut self, position: usize) {
        let last = self.near.pop().expect("the position is in the heap");
        if position < self.near.len() {
            if position > 0 && last.before(&self.near[(position - 1) / ARITY]) {
                self.sift_up(position, last);
            } else {
                self.sift_down(position, last);
            }
        }
    }

    fn sift_up(&mut self, mut position: usize, entry: NearEntry) {
        while position > 0 {
            let parent = (position - 1) / ARITY;
            let above = self.near[parent];
            if !entry.before(&above) {
                break;
            }
            self.place_near(position, above);
            position = parent;
        }
        self.place_near(position, entry);
    }

    fn sift_down(&mut self, mut position: usize, entry: NearEntry) {
        let length = self.near.len();
        loop {
            let first_child = ARITY * position + 1;
            if first_child >= length {
                break;
            }
            let mut child = first_child;
            for candidate in first_child + 1..(first_child + ARITY).min(length) {
                if self.near[candidate].before(&self.near[child]) {
                    child = candidate;
                }
            }
            let below = self.near[child];
            if !below.before(&entry) {
                break;
            }
            self.place_near(position, below);
            position = child;
        }
        self.place_near(position, entry);
    }

    fn place_near(&mut self, position: usize, entry: NearEntry) {
        self.near[position] = entry;
        self.slots[entry.timer as usize].near_position = position as u32;
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

    /// Against a sorted list, over many random sets, moves and cancels, never in the past
    /// (as the engine sets them). `spread` picks how far ahead a timer is set, in ns: the
    /// scales cover the near heap, every level of the wheel and the overflow list. Timers
    /// are numbered below `few` for the first `few_rounds` rounds (few timers: the scan),
    /// then below 64 (the wheel, which takes over the timers set by then).
    fn random_operations_agree(few: u64, few_rounds: usize, spread: impl Fn(u64) -> u64) -> usize {
        let mut timers = Timers::default();
        let mut reference: Vec<Option<(u64, u64)>> = vec![None; 64];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut now = 0u64;
        let mut popped = 0;
        let mut numbered_beyond_few = false;
        let mut scanned_rounds = 0;
        for round in 0..20_000 {
            let numbers = if round < few_rounds { few } else { 64 };
            let timer = (next() % numbers) as u32;
            match next() % 4 {
                0 => {
                    timers.cancel(timer);
                    reference[timer as usize] = None;
                }
                1 => {
                    let expected = reference
                        .iter()
                        .enumerate()
                        .filter_map(|(t, slot)| slot.map(|(time, rank)| (time, rank, t as u32)))
                        .min();
                    let got = timers.pop().map(|(time, e)| (time.as_nanos(), e));
                    assert_eq!(
                        got,
                        expected.map(|(time, _, t)| (time, t)),
                        "round {round}: (time, timer) popped vs expected"
                    );
                    if let Some((time, _, t)) = expected {
                        reference[t as usize] = None;
                        now = time;
                        popped += 1;
                    }
                }
                _ => {
                    let (time, rank) = (now + spread(next()), next() % 3);
                    timers.set(timer, at(time), rank, timer);
                    reference[timer as usize] = Some((time, rank));
                    numbered_beyond_few |= timer as usize >= SCANNED_BELOW;
                }
            }
            assert_eq!(timers.scanning, !numbered_beyond_few, "round {round}: mode");
            if timers.scanning {
                scanned_rounds += 1;
            }
            assert_eq!(timers.len(), reference.iter().flatten().count());
            let earliest = reference.iter().flatten().min().copied();
            assert_eq!(
                timers.peek().map(|(time, rank)| (time.as_nanos(), rank)),
                earliest,
                "round {round}: peek"
            );
        }
        assert!(
            scanned_rounds >= few_rounds,
            "{scanned_rounds} rounds with few timers, expected at least {few_rounds}"
        );
        popped
    }

    #[test]
    fn random_operations_agree_with_a_sorted_list() {
        // Equal times and ranks are common at this scale: ties by rank, then number.
        let popped = random_operations_agree(0, 0, |random| random % 1000);
        println!("within 1 µs (all in the near heap): {popped} pops agreed");
        assert!(popped > 3_000);
    }

    #[test]
    fn random_operations_agree_at_every_level_of_the_wheel() {
        // Up to four times the near window ahead, or four windows of level k, for every
        // level (the last reaching the overflow list), mixed.
        let popped = random_operations_agree(0, 0, |random| {
            let level = (random % (LEVELS as u64 + 1)) as usize;
            (random >> 3) % (1u64 << (bucket_shift(level) + 2))
        });
        println!("mixed scales: {popped} pops agreed");
        assert!(popped > 3_000);
    }

    #[test]
    fn few_timers_are_scanned_then_handed_to_the_wheel_in_order() {
        // Sixteen timers, scanned, for 10,000 rounds (many of them pending at any time),
        // then 64: the first one numbered 32 or more moves them all into the wheel. Mixed
        // scales, as above (from ties to the overflow list).
        let popped = random_operations_agree(16, 10_000, |random| match random % 7 {
            0 => random % 4,
            6 => 1 << 50,
            _ => (random >> 3) % (1u64 << (bucket_shift(random as usize % LEVELS) + 2)),
        });
        println!("few, then many: {popped} pops agreed");
        assert!(popped > 3_000);
    }

    #[test]
    fn timers_set_at_the_last_instant_and_rank_are_still_found() {
        // Their scan key is the same as an unset timer's: the scan falls back to places.
        let mut timers = Timers::default();
        timers.set(3, SimTime::MAX, u64::MAX, 'z');
        timers.set(1, SimTime::MAX, u64::MAX, 'y');
        timers.set(2, at(5), 0, 'a');
        let order: Vec<char> = std::iter::from_fn(|| timers.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['a', 'y', 'z']);
        assert!(timers.scanning);
    }
}
