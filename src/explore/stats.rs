//! The failure rate and its confidence interval.

/// z for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// The Wilson score interval for `k` successes in `n` trials at normal quantile `z`
/// (Wilson 1927; it stays inside [0, 1] and is sound at k = 0 and k = n, where the
/// textbook p ± z·√(p(1−p)/n) collapses to a point). `(0, 1)` when `n` is 0.
pub fn wilson(k: u64, n: u64, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n_f = n as f64;
    let p = k.min(n) as f64 / n_f;
    let z2 = z * z;
    let denom = 1.0 + z2 / n_f;
    let center = (p + z2 / (2.0 * n_f)) / denom;
    let half = z / denom * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt();
    let lo = if k == 0 {
        0.0
    } else {
        (center - half).max(0.0)
    };
    let hi = if k >= n {
        1.0
    } else {
        (center + half).min(1.0)
    };
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // 0 of 10000: the upper bound is about z²/n (the "rule of three" is 3/n at 95%
        // one-sided; Wilson two-sided gives 3.84/(n+3.84)).
        let (lo, hi) = wilson(0, 10_000, Z95);
        assert_eq!(lo, 0.0);
        assert!((hi - 3.8415 / 10003.8415).abs() < 1e-6, "{hi}");
        // 50 of 100: symmetric around 0.5, about ±0.0962.
        let (lo, hi) = wilson(50, 100, Z95);
        assert!((0.5 - lo - (hi - 0.5)).abs() < 1e-12);
        assert!((hi - 0.5962).abs() < 1e-3, "{hi}");
        // all successes
        let (lo, hi) = wilson(20, 20, Z95);
        assert_eq!(hi, 1.0);
        assert!((lo - 0.8389).abs() < 1e-3, "{lo}");
        assert_eq!(wilson(0, 0, Z95), (0.0, 1.0));
    }
}
