//! A replica's decode batch: its members ordered by the decode step after which each
//! finishes, so that a step's end takes exactly the requests it finishes.
//!
//! Every member gains one token per step, so a member's finishing step is fixed when it
//! joins (the replica's step count then, plus the tokens it still needs) and never moves.
//! The batch is asked three things: which member finishes first (`peek`, to plan the
//! replica's next event), take it (`pop`, once per completion), and add one (`push`, once
//! per admission). It holds at most `max_batch` members (64 on the shipped scenarios).
//!
//! The members are one sorted array, latest first, so that the next to finish is the last
//! element: `peek` and `pop` touch one element, and `push` counts the members that finish
//! later than the newcomer (independent comparisons the compiler vectorises) and shifts the
//! rest up by one. A binary heap (before this) took ~6 dependent loads and comparisons per
//! `pop`, each waiting for the one before: 7.9% of the bench-day peak's time in the PGO
//! build (`perf record -e cpu-clock`), the largest single item of its profile. The sorted
//! array spends ~6% on the same work (counting, shifting, and the wait for the last
//! element), and the whole run is ~2% faster (PGO, twenty pairs side by side each way:
//! 0.966 and, reversed, 1.013) and ~5% in the portable release build (0.953).
//!
//! Each member is one `u64`: its finishing step, counted from the batch's `base_step`, in
//! the high half, its request id in the low half. Integer order is then (step, id) order,
//! the order in which simultaneous finishers are reported.
//!
//! ```text
//!   base_step 1000    members (step, id): (1040, 7) (1003, 2) (1003, 9)
//!   keys (high | low):      40 | 7      3 | 2      3 | 9
//!   sorted latest first:   [40|7, 3|9, 3|2]        peek → (1003, 2)
//! ```
//!
//! Offsets fit 32 bits while the members' steps lie within 2³² of the base. A member
//! finishes at most `output_tokens` (a `u32`) steps after the step at which it joined, and
//! every member still in the batch finishes after the replica's current step; so when a
//! newcomer's offset does not fit (after ~2³² steps of one replica, or a newcomer finishing
//! before the base), moving the base to the earliest finishing step among the members and
//! the newcomer makes every offset fit again.

use crate::request::RequestId;

pub(super) struct DecodeBatch {
    /// Members' keys, `(step − base_step) << 32 | id`, in decreasing order.
    keys: Vec<u64>,
    /// The step from which the keys' offsets count.
    base_step: u64,
}

impl DecodeBatch {
    pub(super) fn with_capacity(capacity: usize) -> Self {
        DecodeBatch {
            keys: Vec::with_capacity(capacity),
            base_step: 0,
        }
    }

    fn unpack(&self, key: u64) -> (u64, RequestId) {
        (self.base_step + (key >> 32), key as RequestId)
    }

    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Adds request `id`, which finishes after step `last_step`.
    #[inline]
    pub(super) fn push(&mut self, last_step: u64, id: RequestId) {
        let mut offset = last_step.wrapping_sub(self.base_step);
        if offset > u32::MAX as u64 {
            self.rebase(last_step);
            offset = last_step - self.base_step;
        }
        let key = (offset << 32) | id as u64;
        // Counting, not searching: the comparisons do not depend on each other.
        let later = self.keys.iter().filter(|&&member| member > key).count();
        self.keys.insert(later, key);
    }

    /// Moves the base to the earliest step among the members and `last_step`.
    #[cold]
    fn rebase(&mut self, last_step: u64) {
        let (earliest, latest) = self
            .iter()
            .fold((last_step, last_step), |(low, high), (step, _)| {
                (low.min(step), high.max(step))
            });
        assert!(
            latest - earliest <= u32::MAX as u64,
            "decode batch members finish {} steps apart, more than a request's output tokens",
            latest - earliest
        );
        let old_base = self.base_step;
        for key in &mut self.keys {
            let step = old_base + (*key >> 32);
            *key = ((step - earliest) << 32) | (*key & u32::MAX as u64);
        }
        self.base_step = earliest;
    }

    /// The member that finishes first, and its last step.
    #[inline]
    pub(super) fn peek(&self) -> Option<(u64, RequestId)> {
        self.keys.last().map(|&key| self.unpack(key))
    }

    /// Takes the member that finishes first.
    #[inline]
    pub(super) fn pop(&mut self) {
        self.keys.pop();
    }

    /// Members with their last steps, latest first.
    pub(super) fn iter(&self) -> impl Iterator<Item = (u64, RequestId)> + '_ {
        self.keys.iter().map(|&key| self.unpack(key))
    }

    pub(super) fn remove(&mut self, id: RequestId) {
        self.keys.retain(|&key| key as RequestId != id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    /// Small deterministic generator (SplitMix64), so that the test needs no seed plumbing.
    struct Numbers(u64);

    impl Numbers {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
    }

    fn drain(batch: &mut DecodeBatch) -> Vec<(u64, RequestId)> {
        let mut taken = Vec::new();
        while let Some(member) = batch.peek() {
            taken.push(member);
            batch.pop();
        }
        taken
    }

    #[test]
    fn takes_members_by_step_then_id() {
        let mut batch = DecodeBatch::with_capacity(4);
        for (step, id) in [(1040, 7), (1003, 9), (1003, 2), (1500, 0)] {
            batch.push(step, id);
        }
        assert_eq!(batch.len(), 4);
        let taken = drain(&mut batch);
        let expected = vec![(1003, 2), (1003, 9), (1040, 7), (1500, 0)];
        assert_eq!(taken, expected, "expected {expected:?}, took {taken:?}");
        assert!(batch.is_empty());
    }

    /// A replica's life in miniature: steps advance, members finishing by the current step
    /// leave, newcomers finish up to `max_tokens` steps later. The batch must give the same
    /// members in the same order as a binary heap of (step, id), across base moves.
    fn agrees_with_a_heap(start_step: u64, step_stride: u64, max_tokens: u64, seed: u64) {
        let mut numbers = Numbers(seed);
        let mut batch = DecodeBatch::with_capacity(64);
        let mut reference = BinaryHeap::new();
        let mut step = start_step;
        let mut next_id: RequestId = 0;
        for round in 0..20_000 {
            step += 1 + numbers.next() % step_stride;
            // Members whose last step has passed leave, earliest first.
            loop {
                let expected = reference.peek().map(|&Reverse(member)| member);
                assert_eq!(batch.peek(), expected, "round {round}: first to finish");
                match expected {
                    Some((last_step, _)) if last_step <= step => {
                        batch.pop();
                        reference.pop();
                    }
                    _ => break,
                }
            }
            while batch.len() < 64 && !numbers.next().is_multiple_of(3) {
                let last_step = step + 1 + numbers.next() % max_tokens;
                batch.push(last_step, next_id);
                reference.push(Reverse((last_step, next_id)));
                next_id += 1;
            }
            if numbers.next().is_multiple_of(50)
                && let Some(&Reverse((_, id))) = reference.iter().next()
            {
                batch.remove(id);
                reference.retain(|&Reverse((_, member))| member != id);
            }
            let mut members: Vec<_> = batch.iter().collect();
            members.sort_unstable();
            let mut expected: Vec<_> = reference.iter().map(|&Reverse(member)| member).collect();
            expected.sort_unstable();
            assert_eq!(members, expected, "round {round}: members");
        }
        let taken = drain(&mut batch);
        let mut expected: Vec<_> = reference
            .into_iter()
            .map(|Reverse(member)| member)
            .collect();
        expected.sort_unstable();
        assert_eq!(taken, expected, "final drain");
    }

    #[test]
    fn agrees_with_a_heap_on_short_and_long_outputs() {
        agrees_with_a_heap(0, 3, 8, 1);
        agrees_with_a_heap(0, 40, 4_000, 2);
    }

    #[test]
    fn agrees_with_a_heap_past_two_to_the_32_steps() {
        // Starts near the edge of the first base's range and crosses it several times.
        agrees_with_a_heap(u32::MAX as u64 - 50_000, 1 << 20, 1 << 30, 3);
        // Outputs of up to u32::MAX tokens: offsets use the whole low-half range.
        agrees_with_a_heap(1 << 40, 1 << 16, u32::MAX as u64, 4);
    }

    #[test]
    fn newcomer_finishing_before_the_base_moves_it_down() {
        let mut batch = DecodeBatch::with_capacity(4);
        batch.push(5_000_000_000, 1); // beyond 2³²: the base moves to it
        assert_eq!(batch.base_step, 5_000_000_000);
        batch.push(4_999_999_990, 2); // before the base: it moves down again
        assert_eq!(batch.base_step, 4_999_999_990);
        let taken = drain(&mut batch);
        let expected = vec![(4_999_999_990, 2), (5_000_000_000, 1)];
        assert_eq!(taken, expected, "expected {expected:?}, took {taken:?}");
    }
}
