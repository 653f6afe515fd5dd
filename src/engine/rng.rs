//! Independent, seeded random-number streams, one per purpose.
//!
//! Each consumer of randomness (one tenant's arrivals, one link's jitter, one router…) gets
//! its own generator, seeded from the run seed, a purpose name and an index. Changing how
//! one consumer draws numbers therefore never shifts the numbers another one sees: demand
//! stays identical when only the routing strategy changes (common random numbers).

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

/// The generator every stream uses: small, fast, and statistically strong for simulation.
pub type StreamRng = Xoshiro256PlusPlus;

/// Derives independent generators from one run seed.
#[derive(Clone, Copy, Debug)]
pub struct RngStreams {
    seed: u64,
}

impl RngStreams {
    pub fn new(seed: u64) -> Self {
        RngStreams { seed }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The generator for `purpose` number `index` (e.g. `("tenant-arrivals", 3)`).
    /// Same seed, purpose and index give the same sequence, in every run.
    pub fn stream(&self, purpose: &str, index: u64) -> StreamRng {
        let purpose_hash = fnv1a(purpose.as_bytes());
        let mixed = splitmix64(splitmix64(self.seed ^ splitmix64(purpose_hash)) ^ index);
        StreamRng::seed_from_u64(mixed)
    }
}

/// SplitMix64's output function: a bijective mixer that turns nearby inputs into
/// unrelated outputs.
fn splitmix64(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ byte as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn same_inputs_same_stream_other_inputs_other_streams() {
        let streams = RngStreams::new(42);
        let first = streams.stream("arrivals", 0).next_u64();
        assert_eq!(first, streams.stream("arrivals", 0).next_u64());
        assert_ne!(first, streams.stream("arrivals", 1).next_u64());
        assert_ne!(first, streams.stream("jitter", 0).next_u64());
        assert_ne!(first, RngStreams::new(43).stream("arrivals", 0).next_u64());
    }
}
