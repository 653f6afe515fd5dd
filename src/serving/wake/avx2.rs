//! The wake-up scan with AVX2 vectors: four rows per comparison.
//!
//! The scalar scan spends ~10 instructions a row and mispredicts its running minimum
//! whenever a later row is earlier. Here a chunk of eight rows takes two loads, two
//! comparisons with now and one branch (taken only if a boundary in the chunk has passed),
//! then two lane-wise minimums; the replica is found afterwards by comparing the rows with
//! the minimum, again eight at a time. AVX2 compares signed 64-bit lanes only, so every
//! value is compared with its top bit flipped, which turns unsigned order into signed order.
//!
//! ```text
//!   chunk      130   —   95   160 │  —    —   142  135      now = 100
//!   passed      0    0    1    0  │  0    0    0    0   → row 2 moves on: 95 + 40 = 135
//!   lowest  min(lowest, chunk), lane by lane; the minimum of the lanes at the end
//! ```

use std::arch::x86_64::{
    __m256i, _mm256_blendv_epi8, _mm256_castsi256_pd, _mm256_cmpeq_epi64, _mm256_cmpgt_epi64,
    _mm256_loadu_si256, _mm256_movemask_pd, _mm256_set1_epi64x, _mm256_storeu_si256,
    _mm256_xor_si256,
};

use super::{CHUNK, NONE, next_boundary};

/// As `super::scan`, for rows in whole chunks.
///
/// # Safety
/// The processor must have AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn scan(
    boundaries: &mut [u64],
    steps: &[u64],
    ends: &[u64],
    now_ns: u64,
) -> (u64, usize) {
    debug_assert_eq!(boundaries.len() % CHUNK, 0);
    let top_bit = _mm256_set1_epi64x(i64::MIN);
    let now = _mm256_xor_si256(_mm256_set1_epi64x(now_ns as i64), top_bit);
    // Running minimums, lane by lane, of the low and high halves of the chunks (flipped).
    let none = _mm256_xor_si256(_mm256_set1_epi64x(NONE as i64), top_bit);
    let (mut lowest_low, mut lowest_high) = (none, none);
    let (chunks, _) = boundaries.as_chunks_mut::<CHUNK>();
    let (step_chunks, _) = steps.as_chunks::<CHUNK>();
    let (end_chunks, _) = ends.as_chunks::<CHUNK>();
    for ((chunk, steps), ends) in chunks.iter_mut().zip(step_chunks).zip(end_chunks) {
        let (mut low, mut high) = load_flipped(chunk, top_bit);
        let passed = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(now, low)))
            | (_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(now, high))) << 4);
        if passed != 0 {
            let mut lanes = passed as u32;
            while lanes != 0 {
                let lane = lanes.trailing_zeros() as usize;
                lanes &= lanes - 1;
                chunk[lane] = next_boundary(chunk[lane], steps[lane], ends[lane], now_ns);
            }
            (low, high) = load_flipped(chunk, top_bit);
        }
        lowest_low = minimum(lowest_low, low);
        lowest_high = minimum(lowest_high, high);
    }
    let mut lanes = [0u64; 4];
    // SAFETY: `lanes` holds four `u64`s; unaligned store.
    unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), minimum(lowest_low, lowest_high)) };
    let earliest = lanes
        .into_iter()
        .fold(NONE, |lowest, lane| lowest.min(lane ^ i64::MIN as u64));
    if earliest == NONE {
        return (NONE, 0);
    }
    // The lowest row at the earliest boundary: ties go to the lower replica.
    let wanted = _mm256_xor_si256(_mm256_set1_epi64x(earliest as i64), top_bit);
    for (chunk_index, chunk) in chunks.iter().enumerate() {
        let (low, high) = load_flipped(chunk, top_bit);
        let equal = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(low, wanted)))
            | (_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(high, wanted))) << 4);
        if equal != 0 {
            return (
                earliest,
                chunk_index * CHUNK + equal.trailing_zeros() as usize,
            );
        }
    }
    unreachable!("the earliest boundary is in a row")
}

/// A chunk's two halves, each lane's top bit flipped.
#[inline]
#[target_feature(enable = "avx2")]
fn load_flipped(chunk: &[u64; CHUNK], top_bit: __m256i) -> (__m256i, __m256i) {
    // SAFETY: both loads read four `u64`s inside `chunk`; unaligned loads are allowed.
    let (low, high) = unsafe {
        (
            _mm256_loadu_si256(chunk.as_ptr().cast()),
            _mm256_loadu_si256(chunk.as_ptr().add(4).cast()),
        )
    };
    (
        _mm256_xor_si256(low, top_bit),
        _mm256_xor_si256(high, top_bit),
    )
}

/// Lane-wise minimum of flipped values (signed order).
#[inline]
#[target_feature(enable = "avx2")]
fn minimum(a: __m256i, b: __m256i) -> __m256i {
    _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi64(a, b))
}
