//! Student's t distribution: its CDF and quantile, for the projection's predictive
//! distribution (a short series' residual variance is itself an estimate, so the chance is
//! read from a t with the fit's residual degrees of freedom, not a normal).
//!
//! Owns: the numerics only (log-gamma by Lanczos, the regularised incomplete beta by its
//! continued fraction, as Numerical Recipes §6.1 and §6.4 give them). No crate for three
//! functions; the tests check them against closed forms and published table values.

/// Degrees of freedom above this are read as this many: t(1000) is the normal to about 1e-3,
/// and the continued fraction then converges in a few dozen steps.
const MAX_DF: f64 = 1000.0;

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine coefficients; about 15 significant figures).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection, for completeness: the t distribution only asks for x >= 0.5.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + G + 0.5;
    let a = C
        .iter()
        .enumerate()
        .skip(1)
        .fold(C[0], |a, (i, c)| a + c / (x + i as f64));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The continued fraction of the incomplete beta (modified Lentz).
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-15;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=1000 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// The regularised incomplete beta I_x(a, b).
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

/// P(T <= t) for T ~ t(df), df > 0.
pub fn cdf(t: f64, df: f64) -> f64 {
    if t.is_nan() {
        return f64::NAN;
    }
    if t == f64::INFINITY {
        return 1.0;
    }
    if t == f64::NEG_INFINITY {
        return 0.0;
    }
    let df = df.clamp(f64::MIN_POSITIVE, MAX_DF);
    // P(|T| > |t|) = I_{df/(df+t²)}(df/2, 1/2).
    let tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// The t for which P(T <= t) = p, 0 < p < 1 (bisection on [`cdf`]: exact to 1e-12, and a
/// projection asks for two).
pub fn quantile(p: f64, df: f64) -> f64 {
    if p.is_nan() || p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    if p == 0.5 {
        return 0.0; // the symmetric centre, exactly
    }
    if p < 0.5 {
        return -quantile(1.0 - p, df);
    }
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    // t(1)'s 0.9999999 quantile is about 3e6: doubling finds any bracket in ~25 steps.
    while cdf(hi, df) < p && hi < 1e12 {
        lo = hi;
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-12 * hi.max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} is not {b} (within {tol})");
    }

    #[test]
    fn the_cdf_equals_the_closed_forms_for_one_and_two_degrees_of_freedom() {
        for t in [-30.0, -3.0, -1.0, -0.2, 0.0, 0.5, 1.0, 2.5, 40.0] {
            // t(1) is Cauchy; t(2) has the closed form 1/2 + t / (2 sqrt(2 + t²)).
            close(
                cdf(t, 1.0),
                0.5 + f64::atan(t) / std::f64::consts::PI,
                1e-12,
            );
            close(cdf(t, 2.0), 0.5 + t / (2.0 * (2.0 + t * t).sqrt()), 1e-12);
        }
    }

    #[test]
    fn quantiles_equal_the_printed_tables() {
        // Student's t table (two-sided 95% and 80% columns).
        close(quantile(0.975, 10.0), 2.228_139, 1e-6);
        close(quantile(0.9, 5.0), 1.475_884, 1e-6);
        close(quantile(0.975, 1.0), 12.706_205, 1e-5);
        close(quantile(0.1, 3.0), -1.637_744, 1e-6);
        // Many degrees of freedom: the normal's 1.959964 to three places.
        close(quantile(0.975, 1e6), 1.962_339, 1e-6);
        assert_eq!(quantile(0.5, 4.0), 0.0);
        close(cdf(quantile(0.8, 7.0), 7.0), 0.8, 1e-12);
    }

    #[test]
    fn ln_gamma_equals_known_values() {
        close(ln_gamma(0.5), std::f64::consts::PI.sqrt().ln(), 1e-13);
        close(ln_gamma(1.0), 0.0, 1e-13);
        close(ln_gamma(5.0), 24.0_f64.ln(), 1e-12);
        close(ln_gamma(0.25), 3.625_609_908_221_908_f64.ln(), 1e-12);
    }
}
