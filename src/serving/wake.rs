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
//! earliest wins, the lower replica on a tie because the scan meets it first. A replica that
//! is not a candidate has no boundary (`u64::MAX`), so it never passes and never wins.
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
//! ~665 at the peak; the scan row by row spends ~860 and ~650: ~10 instructions per row,
//! ~25 more per passed one, no stale entries to drop and nothing to allocate.
//!
//! Where the processor has AVX2 (found at run time) the scan reads eight rows at a time
//! (`avx2.rs`): ~300 instructions per query at the peak, and no mispredicted running
//! minimum; the whole 2-minute peak runs 4.0% fewer instructions (1.877 G → 1.803 G), the
//! trough 2.7% (0.819 G → 0.797 G). The rows are padded to whole chunks of eight.

use crate::engine::{SimDuration, SimTime};

#[cfg(target_arch = "x86_64")]
mod avx2;

/// No boundary: the replica is not a candidate.
const NONE: u64 = u64::MAX;

/// Rows come in whole chunks of this many (the rows past the last replica are never
/// candidates), so that a vector scan needs no remainder loop.
const CHUNK: usize = 8;

/// How a query reads the rows: one at a time, or with AVX2 vectors where the processor
/// has them (found when the candidates are made; both find the same).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scan {
    Scalar,
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

impl Scan {
    fn best_available() -> Scan {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            return Scan::Avx2;
        }
        Scan::Scalar
    }
}

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
    scan: Scan,
}

impl WakeCandidates {
    pub fn new(replicas: usize) -> Self {
        Self::with_scan(replicas, Scan::best_available())
    }

    fn with_scan(replicas: usize, scan: Scan) -> Self {
        let rows = replicas.next_multiple_of(CHUNK);
        WakeCandidates {
            boundary_ns: vec![NONE; rows],
            step_ns: vec![0; rows],
            end_ns: vec![NONE; rows],
            ordered: Vec::new(),
            scan,
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
        let (earliest, earliest_replica) = match self.scan {
            Scan::Scalar => scan(&mut self.boundary_ns, &self.step_ns, &self.end_ns, now_ns),
            // SAFETY: `Scan::Avx2` is chosen only where the processor has AVX2.
            #[cfg(target_arch = "x86_64")]
            Scan::Avx2 => unsafe {
                avx2::scan(&mut self.boundary_ns, &self.step_ns, &self.end_ns, now_ns)
            },
        };
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

/// Moves every boundary before `now_ns` to the replica's next one, and returns the earliest
/// boundary and its replica, the lower replica on a tie (`NONE` if there is no candidate).
/// `steps` and `ends` are as long as `boundaries`.
fn scan(boundaries: &mut [u64], steps: &[u64], ends: &[u64], now_ns: u64) -> (u64, usize) {
    let mut earliest = NONE;
    let mut earliest_replica = 0;
    // Slices of one length, so that the loop indexes them without bounds checks.
    let steps = &steps[..boundaries.len()];
    let ends = &ends[..boundaries.len()];
    for index in 0..boundaries.len() {
        let mut next = boundaries[index];
        if next < now_ns {
            next = next_boundary(next, steps[index], ends[index], now_ns);
            boundaries[index] = next;
        }
        // Strictly earlier: on a tie the lower replica, met first, stays.
        if next < earliest {
            earliest = next;
            earliest_replica = index;
        }
    }
    (earliest, earliest_replica)
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
            for scan in available_scans() {
                let (taken, passed, capped) =
                    random_queries_agree_with_a_search(scan, low_step_ns, step_spread_ns);
                println!(
                    "{scan:?} scan, steps from {low_step_ns} ns: {taken} wake-ups agreed, \
                     {passed} of them at a boundary moved on from a passed one, {capped} at a \
                     stretch's end"
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
    }

    /// The scalar scan, and the vector scan where this processor has it.
    fn available_scans() -> Vec<Scan> {
        let best = Scan::best_available();
        if best == Scan::Scalar {
            println!("no vector scan on this processor: the scalar scan only");
            vec![Scan::Scalar]
        } else {
            vec![Scan::Scalar, best]
        }
    }

    /// Returns wake-ups taken, those at a boundary moved on from a passed one, and those
    /// at a stretch's end before its next boundary.
    fn random_queries_agree_with_a_search(
        scan: Scan,
        low_step_ns: u64,
        step_spread_ns: u64,
    ) -> (usize, usize, usize) {
        // Not a whole number of chunks: the padding rows must never be taken.
        let replicas = 37usize;
        // Per replica, while a candidate: (first boundary, step, end).
        let mut stretch: Vec<Option<(u64, u64, u64)>> = vec![None; replicas];
        let mut candidates = WakeCandidates::with_scan(replicas, scan);
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

    /// Equal boundaries go to the lower replica, whichever joined first.
    #[test]
    fn ties_go_to_the_lower_replica() {
        for scan in available_scans() {
            let mut candidates = WakeCandidates::with_scan(4, scan);
            let step = SimDuration::from_nanos(10);
            let end = SimTime::from_nanos(1_000);
            candidates.join(3, SimTime::from_nanos(50), step, end);
            candidates.join(1, SimTime::from_nanos(30), step, end);
            // At 45 replica 1 has passed 30 and 40: both are at 50 now.
            let mut take = || candidates.take_earliest(SimTime::from_nanos(45), |_, _| true);
            let taken = [take(), take(), take()];
            println!("{scan:?} scan: {taken:?}");
            let at_50 = SimTime::from_nanos(50);
            assert_eq!(taken, [Some((at_50, 1)), Some((at_50, 3)), None]);
        }
    }
}
