//! Wake-up candidates: the decoding replicas with a free slot, and their next step
//! boundaries.
//!
//! A request that waits is taken at the earliest step boundary, at or after now, of any
//! replica that can admit it (`DeploymentState::wake_one`). A replica's boundaries repeat
//! every step from its first one, so a stored boundary goes stale as time passes and must
//! be moved to the replica's next one before it is compared.
//!
//! The candidates are one row per replica of the deployment, in three arrays (next
//! boundary, step, end of the stretch), and a query reads the boundaries in replica order:
//! one that has passed moves on by a step (rarely more) and is written back, and the
//! earliest wins, the lower replica on a tie (the first row holding the earliest boundary).
//! A replica that is not a candidate has no boundary (`u64::MAX`), so it never passes and
//! never wins.
//!
//! ```text
//!   replica     0    1    2    3    4   ...        now = 100
//!   boundary   130   —   95   160   —             95 has passed: + step 40 → 135
//!   step        40   —   40    25   —
//!   earliest:  130 (replica 0)
//! ```
//!
//! Why a scan and not an ordered structure: every boundary that passes between two queries
//! must be moved anyway, whatever holds them, and at a quiet hour many do. On the bench-day
//! a query finds ~54 candidates, nearly every replica of its deployment, of which ~15 have
//! passed a boundary at the daily trough and ~3 at the peak (callgrind call counts). A calendar of buckets by
//! boundary (before this) spent ~1,540 instructions per query at the trough re-filing them,
//! ~665 at the peak; the scan spends ~860 and ~650: ~10 instructions per row, ~25 more
//! per passed one, no stale entries to drop and nothing to allocate.
//!
//! The scan comes in two forms, with the same results. Built for a processor with 64-bit
//! vector minimum and comparisons (AVX-512: the PGO build for this machine), it has no
//! branch that depends on the data: a passed boundary is moved on by one step with
//! selections, which the compiler makes vector code, and the rare one still behind after
//! that is finished by the branchy form. Against that form alone (whose `next < now`
//! mispredicts about once per passed row), side by side, PGO builds for this processor,
//! 20-minute runs: peak 0.975 (fourteen pairs; the other order 1.026), trough 0.901
//! (twelve pairs; the other order 1.128). Elsewhere (the portable release build) the
//! selections run one row at a time: trough 0.938 but peak 1.034 (ten pairs each), so the
//! branchy form stays there.

use crate::engine::{SimDuration, SimTime};

/// No boundary: the replica is not a candidate.
const NONE: u64 = u64::MAX;

/// The decoding replicas with a free slot of one deployment, each with its next step
/// boundary.
pub(super) struct WakeCandidates {
    /// Per replica: its next step boundary not yet passed when last looked at, or `NONE`.
    boundary_ns: Vec<u64>,
    /// Per replica: its decode step, and the planned end of its stretch (its boundaries
    /// stop there: its own event is due).
    step_ns: Vec<u64>,
    end_ns: Vec<u64>,
    /// Candidates a query that refused the earliest one goes through in order (kept to
    /// reuse the allocation).
    ordered: Vec<(u64, u32)>,
}

impl WakeCandidates {
    pub fn new(replicas: usize) -> Self {
        WakeCandidates {
            boundary_ns: vec![NONE; replicas],
            step_ns: vec![0; replicas],
            end_ns: vec![NONE; replicas],
            ordered: Vec::new(),
        }
    }

    /// Makes `replica` a candidate from `first_boundary`, a boundary every `step` after
    /// that until `end`; replaces what it was.
    #[inline]
    pub fn join(&mut self, replica: u32, first_boundary: SimTime, step: SimDuration, end: SimTime) {
        let index = replica as usize;
        self.boundary_ns[index] = first_boundary.as_nanos();
        self.step_ns[index] = step.as_nanos();
        self.end_ns[index] = end.as_nanos();
    }

    /// `replica` is no longer a candidate (its stretch ended, or it was woken).
    #[inline]
    pub fn leave(&mut self, replica: u32) {
        self.boundary_ns[replica as usize] = NONE;
    }

    /// Removes and returns the candidate with the earliest (boundary at or after `now`,
    /// replica) that `accepts` (given boundary and replica); candidates it refuses stay.
    pub fn take_earliest(
        &mut self,
        now: SimTime,
        mut accepts: impl FnMut(SimTime, u32) -> bool,
    ) -> Option<(SimTime, u32)> {
        let now_ns = now.as_nanos();
        let (earliest, earliest_replica) = self.move_on_and_find_earliest(now_ns);
        if earliest == NONE {
            return None;
        }
        if accepts(SimTime::from_nanos(earliest), earliest_replica as u32) {
            self.boundary_ns[earliest_replica] = NONE;
            return Some((SimTime::from_nanos(earliest), earliest_replica as u32));
        }
        // Refused (a KV cache too full at that boundary): the others in order. Every
        // boundary is at or after `now` from the scan above.
        let mut ordered = std::mem::take(&mut self.ordered);
        ordered.clear();
        ordered.extend(
            self.boundary_ns
                .iter()
                .enumerate()
                .filter(|&(index, &boundary)| boundary != NONE && index != earliest_replica)
                .map(|(index, &boundary)| (boundary, index as u32)),
        );
        ordered.sort_unstable();
        let found = ordered
            .iter()
            .find(|&&(boundary, replica)| accepts(SimTime::from_nanos(boundary), replica))
            .copied();
        self.ordered = ordered;
        let (boundary, replica) = found?;
        self.boundary_ns[replica as usize] = NONE;
        Some((SimTime::from_nanos(boundary), replica))
    }
}

impl WakeCandidates {
    /// The rows' boundaries, steps and ends, as slices of one length, so that the scans
    /// index them without bounds checks.
    #[inline]
    fn rows(&mut self) -> (&mut [u64], &[u64], &[u64]) {
        let boundaries = &mut self.boundary_ns[..];
        let steps = &self.step_ns[..boundaries.len()];
        let ends = &self.end_ns[..boundaries.len()];
        (boundaries, steps, ends)
    }

    /// Moves every passed boundary to its next one at or after `now_ns` (or its stretch's
    /// end), and returns the earliest boundary and its replica, the lower replica on a tie
    /// (`NONE` if there is no candidate).
    #[inline]
    fn move_on_and_find_earliest(&mut self, now_ns: u64) -> (u64, usize) {
        // Without vector 64-bit minimum and comparisons the selections run one row at a
        // time, and the branchy scan is quicker at busy hours (see the module doc).
        if cfg!(target_feature = "avx512f") {
            self.move_on_by_selections(now_ns)
        } else {
            self.move_on_by_branches(now_ns)
        }
    }

    /// One pass moves each passed boundary on by one step, with selections instead of
    /// branches so that the compiler can make it vector code; if a boundary is still
    /// behind after that (seldom), the branchy scan finishes the job.
    #[inline]
    fn move_on_by_selections(&mut self, now_ns: u64) -> (u64, usize) {
        let (boundaries, steps, ends) = self.rows();
        let mut earliest = NONE;
        let mut behind = false;
        for index in 0..boundaries.len() {
            let boundary = boundaries[index];
            // `NONE` never passes, so its wrapped sum is never kept.
            let moved = boundary.wrapping_add(steps[index]).min(ends[index]);
            let next = if boundary < now_ns { moved } else { boundary };
            boundaries[index] = next;
            behind |= next < now_ns;
            earliest = earliest.min(next);
        }
        if behind {
            return self.move_on_by_branches(now_ns);
        }
        let replica = self
            .boundary_ns
            .iter()
            .position(|&boundary| boundary == earliest)
            .unwrap_or(0);
        (earliest, replica)
    }

    /// One pass, a passed boundary moved on where it is met, the earliest kept as it goes
    /// (strictly earlier only: on a tie the lower replica, met first, stays).
    #[inline]
    fn move_on_by_branches(&mut self, now_ns: u64) -> (u64, usize) {
        let (boundaries, steps, ends) = self.rows();
        let mut earliest = NONE;
        let mut earliest_replica = 0;
        for index in 0..boundaries.len() {
            let mut next = boundaries[index];
            if next < now_ns {
                next = next_boundary(next, steps[index], ends[index], now_ns);
                boundaries[index] = next;
            }
            if next < earliest {
                earliest = next;
                earliest_replica = index;
            }
        }
        (earliest, earliest_replica)
    }
}

/// The first step boundary at or after `now_ns`, given one before it, but no later than the
/// stretch's planned end (whose own event is then due).
#[inline]
fn next_boundary(boundary_ns: u64, step_ns: u64, end_ns: u64, now_ns: u64) -> u64 {
    if step_ns == 0 {
        return end_ns;
    }
    // Usually a step behind, seldom more: an addition is cheaper than a division.
    let mut next = boundary_ns + step_ns;
    if next < now_ns {
        next += (now_ns - next).div_ceil(step_ns) * step_ns;
    }
    next.min(end_ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a search over every live candidate's boundaries from its first one, through
    /// random arrivals, new stretches, wake-ups and refusals; steps of 20–50 ms (a step or
    /// two behind), of 1–2 µs (thousands of steps behind) and of 30 s (far ahead).
    #[test]
    fn takes_what_a_search_over_every_candidate_takes() {
        // (shortest step, spread of steps, least wake-ups expected at a moved boundary and
        // at a stretch's end: each case must reach what it is there for)
        for (low_step_ns, step_spread_ns, least_passed, least_capped) in [
            (20_000_000u64, 30_000_000u64, 1_000, 10),
            (1_000, 1_000, 1_000, 0),
            (30_000_000_000, 1, 0, 0),
        ] {
            let (taken, passed, capped) =
                random_queries_agree_with_a_search(low_step_ns, step_spread_ns);
            println!(
                "steps from {low_step_ns} ns: {taken} wake-ups agreed, {passed} of them at a \
                 boundary moved on from a passed one, {capped} at a stretch's end"
            );
            assert!(taken > 10_000, "only {taken} wake-ups");
            assert!(
                passed >= least_passed,
                "only {passed} wake-ups at a moved boundary"
            );
            assert!(
                capped >= least_capped,
                "only {capped} wake-ups at a stretch's end"
            );
        }
    }

    /// Returns wake-ups taken, those at a boundary moved on from a passed one, and those
    /// at a stretch's end before its next boundary.
    fn random_queries_agree_with_a_search(
        low_step_ns: u64,
        step_spread_ns: u64,
    ) -> (usize, usize, usize) {
        let replicas = 40usize;
        // Per replica, while a candidate: (first boundary, step, end).
        let mut stretch: Vec<Option<(u64, u64, u64)>> = vec![None; replicas];
        let mut candidates = WakeCandidates::new(replicas);
        let mut rng = crate::engine::RngStreams::new(7).stream("wake-candidates-test", 0);
        let mut next = || rand::Rng::next_u64(&mut rng);
        let mut now = 1_000u64;
        let (mut taken, mut passed, mut capped) = (0, 0, 0);
        for round in 0..60_000 {
            now += next() % 40_000_000;
            // New stretches for up to two replicas: the first boundary one step ahead (or,
            // as after a folded prefill, a while ahead).
            for _ in 0..next() % 3 {
                let replica = (next() % replicas as u64) as usize;
                let step = low_step_ns + next() % step_spread_ns;
                let start = now + next() % 3 * 60_000_000;
                let first = start + step;
                // Stretches end on a boundary; some ends off it test the cap.
                let off_grid = if next() % 4 == 0 { next() % step } else { 0 };
                // Stretches of up to 200 steps, or of up to 4 s of short steps.
                let longest = (4_000_000_000 / step).max(200);
                let end = start + step.saturating_mul(1 + next() % longest) + off_grid;
                stretch[replica] = Some((first, step, end));
                candidates.join(
                    replica as u32,
                    SimTime::from_nanos(first),
                    SimDuration::from_nanos(step),
                    SimTime::from_nanos(end),
                );
            }
            // Stretches that ended: no longer candidates.
            for (index, entry) in stretch.iter_mut().enumerate() {
                if entry.is_some_and(|(_, _, end)| end < now) {
                    *entry = None;
                    candidates.leave(index as u32);
                }
            }
            // Queries in one round of two (so that most candidates have passed some
            // boundaries), refusing odd replicas one time in four.
            if next() % 2 == 0 {
                continue;
            }
            let refuse_odd = next() % 4 == 0;
            let expected = (0..replicas)
                .filter(|&index| !(refuse_odd && index % 2 == 1))
                .filter_map(|index| {
                    let (first, step, end) = stretch[index]?;
                    // The first of first + k × step at or after now, by counting steps.
                    let steps = now.saturating_sub(first).div_ceil(step);
                    Some((
                        SimTime::from_nanos((first + steps * step).min(end)),
                        index as u32,
                    ))
                })
                .min();
            let got = candidates.take_earliest(SimTime::from_nanos(now), |_, index| {
                !(refuse_odd && index % 2 == 1)
            });
            assert_eq!(got, expected, "round {round}");
            if let Some((boundary, index)) = got {
                let (first, step, end) = stretch[index as usize].expect("a candidate");
                passed += usize::from(first < now);
                capped += usize::from(boundary.as_nanos() == end && (end - first) % step != 0);
                stretch[index as usize] = None;
                taken += 1;
            }
        }
        (taken, passed, capped)
    }

    /// Both forms of the scan move the same boundaries to the same places and find the
    /// same earliest, ties, stretch ends, steps of zero and rows many steps behind included.
    #[test]
    fn both_forms_of_the_scan_agree() {
        let mut rng = crate::engine::RngStreams::new(11).stream("wake-scan-forms-test", 0);
        let mut next = || rand::Rng::next_u64(&mut rng);
        let (mut behind_many, mut ties) = (0, 0);
        for round in 0..20_000 {
            let replicas = 1 + (next() % 70) as usize;
            let mut candidates = WakeCandidates::new(replicas);
            let now = 1_000_000 + next() % 1_000;
            for replica in 0..replicas {
                if next() % 5 == 0 {
                    continue; // not a candidate
                }
                // Boundaries a little behind, far behind or ahead, on a coarse grid so
                // that ties happen; some steps of zero, some ends before the next step.
                let boundary = now - 2_000 + (next() % 40) * 100;
                let step = [0, 50, 100, 300, 7][(next() % 5) as usize];
                let end = boundary + next() % 5_000;
                candidates.join(
                    replica as u32,
                    SimTime::from_nanos(boundary),
                    SimDuration::from_nanos(step),
                    SimTime::from_nanos(end),
                );
                behind_many += usize::from(step > 0 && boundary + step < now);
            }
            let mut by_branches = WakeCandidates::new(replicas);
            by_branches.boundary_ns.clone_from(&candidates.boundary_ns);
            by_branches.step_ns.clone_from(&candidates.step_ns);
            by_branches.end_ns.clone_from(&candidates.end_ns);
            let selected = candidates.move_on_by_selections(now);
            let branched = by_branches.move_on_by_branches(now);
            assert_eq!(
                selected, branched,
                "round {round}: earliest (boundary, replica)"
            );
            assert_eq!(
                candidates.boundary_ns, by_branches.boundary_ns,
                "round {round}: boundaries after the scan"
            );
            ties += usize::from(
                selected.0 != NONE
                    && candidates
                        .boundary_ns
                        .iter()
                        .filter(|&&b| b == selected.0)
                        .count()
                        > 1,
            );
        }
        println!("{behind_many} rows more than a step behind, {ties} scans with a tie");
        assert!(behind_many > 10_000 && ties > 1_000);
    }

    /// Equal boundaries go to the lower replica, whichever joined first.
    #[test]
    fn ties_go_to_the_lower_replica() {
        let mut candidates = WakeCandidates::new(4);
        let step = SimDuration::from_nanos(10);
        let end = SimTime::from_nanos(1_000);
        candidates.join(3, SimTime::from_nanos(50), step, end);
        candidates.join(1, SimTime::from_nanos(30), step, end);
        // At 45 replica 1 has passed 30 and 40: both are at 50 now.
        let got = candidates.take_earliest(SimTime::from_nanos(45), |_, _| true);
        assert_eq!(got, Some((SimTime::from_nanos(50), 1)));
        let got = candidates.take_earliest(SimTime::from_nanos(45), |_, _| true);
        assert_eq!(got, Some((SimTime::from_nanos(50), 3)));
        assert_eq!(
            candidates.take_earliest(SimTime::from_nanos(45), |_, _| true),
            None
        );
    }
}
