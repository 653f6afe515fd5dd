//! Hints to the processor. They change no result: only how soon memory is at hand.

/// Asks the CPU to bring the cache line holding `address` into its caches (nothing on
/// other architectures). The address need not be valid: a prefetch never faults.
#[inline(always)]
pub fn prefetch<T>(address: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: SSE is part of the x86_64 baseline, and a prefetch reads nothing and
        // never faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(address.cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// Asks the CPU to bring every cache line of `value` into cache (a hint).
#[inline]
pub fn prefetch_all<T>(value: &T) {
    let address = (value as *const T).cast::<u8>();
    let mut offset = 0;
    while offset < std::mem::size_of::<T>() {
        prefetch(address.wrapping_add(offset));
        offset += 64;
    }
}
