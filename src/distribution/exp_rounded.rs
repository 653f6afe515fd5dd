//! `round_to_u64(e^x)` without calling libm's `exp` on almost every draw.
//!
//! Every lognormal draw (two token counts per request, and lognormal time spans) ends as
//! `round_to_u64(exp(μ + σ·z))`: a whole number of tokens or nanoseconds. libm's `exp` is
//! a call the compiler cannot inline, with special cases this use never meets, and it was
//! ~3.8% of the bench-day's samples. Here `e^x` is first approximated inline, with a proven
//! bound on the relative error; when every value within that bound rounds to the same whole
//! number, that number is the answer — it is the one libm's result rounds to as well, since
//! libm's result lies within the bound too. Only a draw within 1.5·10⁻¹¹ of its value of a
//! rounding boundary asks libm: one in 3·10⁷ for values near 1,000 (token counts), one in
//! 300 near 10⁸ (time spans of 0.1 s in nanoseconds), most draws above 10¹¹ (spans of
//! minutes), which are then only slower. So the results are libm's, bit for bit: no
//! stream, sample or output changes.
//!
//! # The approximation and its bound
//!
//! `x = k·(ln 2)/64 + r` with `k = trunc(x·64/ln 2)`, so `|r| < (ln 2)/64 ≈ 0.01083`, and
//! `e^x = 2^(k div 64) · 2^((k mod 64)/64) · e^r`: a power of two (built from its bits), a
//! table entry, and a degree-4 Taylor polynomial of `e^r`. For `|x| < 700`:
//!
//! - `r`'s rounding: `k` is exact, the constant `(ln 2)/64` and the product and difference
//!   are each within half an ulp of a number below 700, so `r` is within 3 · 700 · 2⁻⁵³ ≈
//!   2.4·10⁻¹³ of its exact value: a relative error of at most 2.4·10⁻¹³ in `e^r`;
//! - the polynomial's truncation: `|r|⁵/120 · e^|r| < 1.3·10⁻¹²`;
//! - the polynomial's, table's and two products' roundings: under 10 ulps, 2.3·10⁻¹⁵.
//!
//! In all, under 1.6·10⁻¹² of `e^x`; libm's `exp` is within one ulp (2.3·10⁻¹⁶). The check
//! allows [`MARGIN`] = 2⁻³⁶ ≈ 1.46·10⁻¹¹, nine times the sum, so that the two roundings of
//! the interval's ends cannot matter either. `round_to_u64` is monotone (a rounded sum,
//! then a saturating truncation), so if both ends of the interval round to the same `n`,
//! everything between them does.
//!
//! Worked example: the bench-day's input tokens have median 1,020 and p99 4,142, so
//! σ = ln(4142/1020)/2.326 = 0.60239; a normal draw z = 0.6 gives x = ln 1020 + 0.6·σ =
//! 7.28899, `e^x` ≈ 1464.0968, the interval is 1464.0968 ± 2.1·10⁻⁸, both ends round to
//! 1464, and libm's `exp` is not called.

use super::round_to_u64;

/// Relative half-width of the interval checked: far above the approximation's error.
const MARGIN: f64 = 1.0 / (1u64 << 36) as f64;

/// Steps of the table per power of two.
const STEPS: i64 = 64;

/// 2^(j/64) for j in 0..64, each the double nearest to it (checked against `exp2` in the
/// tests).
#[rustfmt::skip]
const EXP2_SIXTY_FOURTHS: [f64; STEPS as usize] = [
    1.0, 1.0108892860517005, 1.0218971486541166, 1.0330248790212284,
    1.0442737824274138, 1.0556451783605572, 1.0671404006768237, 1.0787607977571199,
    1.0905077326652577, 1.102382583307841, 1.1143867425958924, 1.1265216186082418,
    1.1387886347566916, 1.1511892299529827, 1.1637248587775775, 1.1763969916502812,
    1.189207115002721, 1.202156731452703, 1.215247359980469, 1.22848053610687,
    1.241857812073484, 1.255380757024691, 1.2690509571917332, 1.2828700160787783,
    1.2968395546510096, 1.3109612115247644, 1.3252366431597413, 1.339667524053303,
    1.3542555469368927, 1.3690024229745905, 1.383909881963832, 1.3989796725383112,
    std::f64::consts::SQRT_2, 1.42961333839197, 1.4451808069770467, 1.460917794180647,
    1.4768261459394993, 1.4929077282912648, 1.5091644275934228, 1.5255981507445384,
    1.5422108254079407, 1.559004400237837, 1.5759808451078865, 1.593142151342267,
    1.6104903319492543, 1.6280274218573478, 1.645755478153965, 1.6636765803267364,
    1.681792830507429, 1.7001063537185235, 1.718619298122478, 1.7373338352737062,
    1.7562521603732995, 1.7753764925265212, 1.7947090750031072, 1.8142521755003989,
    1.8340080864093424, 1.8539791250833855, 1.8741676341103, 1.8945759815869656,
    1.9152065613971474, 1.9360617934922943, 1.9571441241754002, 1.978456026387951,
];

/// `round_to_u64(x.exp())`, bit for bit, for every `x` (NaN and infinities included).
#[inline]
pub fn round_exp_to_u64(x: f64) -> u64 {
    // Also false for NaN: it goes to libm, as every x outside the proven range does.
    if x > -700.0 && x < 700.0 {
        let approximation = approximate_exp(x);
        let low = round_to_u64(approximation * (1.0 - MARGIN));
        let high = round_to_u64(approximation * (1.0 + MARGIN));
        if low == high {
            return low;
        }
    }
    round_to_u64(x.exp())
}

/// `e^x` within a relative 1.6·10⁻¹² for `|x| < 700` (see the module's docs).
#[inline(always)]
fn approximate_exp(x: f64) -> f64 {
    const STEP: f64 = std::f64::consts::LN_2 / STEPS as f64;
    const STEPS_PER_UNIT: f64 = STEPS as f64 / std::f64::consts::LN_2;
    // Truncation toward zero (one instruction on baseline x86-64, unlike `round`): r then
    // has the sign of x, and its magnitude is under one step either way.
    let k = (x * STEPS_PER_UNIT) as i64;
    let r = x - k as f64 * STEP;
    let e_r = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0))));
    // k mod 64 and k div 64, rounding toward minus infinity (two's complement).
    let fraction = EXP2_SIXTY_FOURTHS[(k & (STEPS - 1)) as usize];
    let power = k >> 6;
    // |power| ≤ 1010 here: the exponent field stays in the normal range.
    let two_to_power = f64::from_bits(((power + 1023) as u64) << 52);
    fraction * e_r * two_to_power
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_two_to_the_sixty_fourths() {
        for (j, &entry) in EXP2_SIXTY_FOURTHS.iter().enumerate() {
            let expected = (j as f64 / 64.0).exp2();
            let ulps = entry.to_bits().abs_diff(expected.to_bits());
            assert!(ulps <= 1, "2^({j}/64): table {entry:e}, exp2 {expected:e}");
        }
    }

    #[test]
    fn the_approximation_is_within_its_bound() {
        // Every step offset across the whole range, and the ends.
        let mut worst = 0f64;
        let mut x = -699.999;
        while x < 700.0 {
            let (ours, libm) = (approximate_exp(x), x.exp());
            worst = worst.max((ours / libm - 1.0).abs());
            x += 0.000_731;
        }
        println!("worst relative error {worst:e} (bound 1.6e-12, margin {MARGIN:e})");
        assert!(worst < 1.6e-12, "worst relative error {worst:e}");
    }

    /// The module docs' worked example, number for number.
    #[test]
    fn the_worked_example_holds() {
        let sigma = (4142f64 / 1020.0).ln() / crate::distribution::NORMAL_QUANTILE_99;
        let x = 1020f64.ln() + 0.6 * sigma;
        let approximation = approximate_exp(x);
        let (low, high) = (
            approximation * (1.0 - MARGIN),
            approximation * (1.0 + MARGIN),
        );
        println!(
            "sigma {sigma:.5}, x {x:.5}, e^x {approximation:.4}, interval {low:.9}..{high:.9}"
        );
        assert!((sigma - 0.60239).abs() < 5e-6 && (x - 7.28899).abs() < 5e-6);
        assert!((approximation - 1464.0968).abs() < 5e-5);
        assert!((high - approximation - 2.13e-8).abs() < 0.01e-8);
        assert_eq!((round_to_u64(low), round_to_u64(high)), (1464, 1464));
        assert_eq!(round_exp_to_u64(x), 1464);
    }

    /// The rounded results equal libm's, draw for draw, including right at rounding
    /// boundaries (where the check must hand over to libm) and at the range's edges.
    #[test]
    fn rounded_results_are_libms() {
        let (mut checked, mut handed_over) = (0u64, 0u64);
        let mut agree = |x: f64| {
            let (ours, libms) = (round_exp_to_u64(x), round_to_u64(x.exp()));
            assert_eq!(ours, libms, "x = {x:e}: ours {ours}, libm's {libms}");
            checked += 1;
            let approximation = approximate_exp(x);
            if !(x > -700.0 && x < 700.0)
                || round_to_u64(approximation * (1.0 - MARGIN))
                    != round_to_u64(approximation * (1.0 + MARGIN))
            {
                handed_over += 1;
            }
        };
        // Near every half-integer boundary up to 5,000 (ln(n + 0.5) and its neighbours,
        // where the fast path must give up), and across typical token and span ranges.
        for n in 0..5_000u64 {
            let boundary = (n as f64 + 0.5).ln();
            let mut below = boundary;
            let mut above = boundary;
            for _ in 0..8 {
                agree(below);
                agree(above);
                below = f64::from_bits(below.to_bits() - 1);
                above = f64::from_bits(above.to_bits() + 1);
            }
        }
        let mut x = -50.0;
        while x < 45.0 {
            agree(x);
            x += 0.000_013_7;
        }
        for x in [
            -700.0,
            699.999_999,
            700.0,
            709.7,
            710.0,
            -745.2,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
        ] {
            agree(x);
        }
        println!("{checked} draws agreed, {handed_over} of them through libm");
        // Every boundary's nearest neighbours must have gone to libm: the check is tested,
        // not only the easy draws.
        assert!(handed_over >= 5_000 * 2, "{handed_over} draws went to libm");
    }
}
