//! Laney's p' chart by hand (NHSRplotthedots has none to port): the limits of a small series
//! worked through in the comments, and a series that an XmR chart and a p' chart read
//! differently because of its denominators.

use super::super::*;
use super::close;

#[test]
fn p_prime_limits_by_hand() {
    // Numerators 10, 60, 20, 40 of 100, 400, 100, 400: p = 0.10, 0.15, 0.20, 0.10.
    // p̄ = 130 / 1000 = 0.13; p̄(1 - p̄) = 0.1131.
    // σ_p = sqrt(0.1131 / 100) = 0.0336303 (n = 100), sqrt(0.1131 / 400) = 0.0168152 (400).
    // z = -0.03 / 0.0336303 = -0.892052, 0.02 / 0.0168152 = 1.189402,
    //     0.07 / 0.0336303 = 2.081454, -0.03 / 0.0168152 = -1.784103.
    // Moving ranges of z: 2.081454, 0.892052, 3.865557; mean 2.279687; σ_z = 2.279687 /
    // 1.128 = 2.020999.
    // Limits: n = 100: 0.13 ± 3 × 0.0336303 × 2.020999 = 0.13 ± 0.203901 → -0.073901 to
    // 0.333901 (two sigma 0.13 + 0.135934 = 0.265934); n = 400: 0.13 ± 0.101950 →
    // 0.028050 to 0.231950.
    let ys = [0.10, 0.15, 0.20, 0.10];
    let ns = [100.0, 400.0, 100.0, 400.0];
    let l = laney::limits(&ys, &ns, 1.0, None).expect("valid");
    close(l[0].mean, 0.13, 1e-12);
    close(l[0].mean_moving_range, 2.279687, 1e-6);
    close(l[0].upper, 0.333901, 1e-6);
    close(l[0].lower, -0.073901, 1e-6);
    close(l[0].upper_two_sigma, 0.265934, 1e-6);
    close(l[1].upper, 0.231950, 1e-6);
    close(l[1].lower, 0.028050, 1e-6);
    assert_eq!(l[2], l[0], "the same denominator, the same limits");
    assert_eq!(l[3], l[1]);
    // The same in percentages: every figure a hundred times.
    let pct: Vec<f64> = ys.iter().map(|y| y * 100.0).collect();
    let lp = laney::limits(&pct, &ns, 100.0, None).expect("valid");
    close(lp[0].upper, 33.3901, 1e-4);
    close(lp[1].lower, 2.8050, 1e-4);
    close(lp[0].mean_moving_range, l[0].mean_moving_range, 1e-9);
}

/// Twelve months of 13% give or take half a point over 1000 cases each, then a month of 5 of
/// 20 (25%).
fn small_last_month() -> (Vec<f64>, Vec<f64>) {
    let mut ys: Vec<f64> = (0..12)
        .map(|i| if i % 2 == 0 { 13.5 } else { 12.5 })
        .collect();
    let mut ns = vec![1000.0; 12];
    ys.push(25.0);
    ns.push(20.0);
    (ys, ns)
}

#[test]
fn a_small_month_far_off_is_a_special_cause_on_xmr_but_not_on_p_prime() {
    let (ys, ns) = small_last_month();
    // XmR: mean 13.923; moving ranges 1 point (the jump of 12 screened out), so the upper
    // limit is 13.923 + 2.66 = 16.583, and 25% is above it.
    let xmr = analyse(&ys, &Options::default()).expect("valid");
    close(xmr.segments[0].limits.upper, 16.583077, 1e-6);
    assert_eq!(xmr.points[12].cause, Some(Cause::AboveUpper));
    assert_eq!(xmr.variation, Variation::ImprovementHigh);
    // p': p̄ = 1565 / 12020 = 13.020%; σ_z = 0.917352 (the z-scores' mean moving range /
    // 1.128); the limits of a month of 1000 are 13.020 ± 3 × sqrt(0.13020 × 0.86980 / 1000)
    // × 0.917352 = ± 2.929 points, of the month of 20 ± 20.709: 25% is within (33.729).
    let o = Options {
        p_prime: Some(PPrime {
            denominators: ns.clone(),
            scale: 100.0,
        }),
        ..Options::default()
    };
    let p = analyse(&ys, &o).expect("valid");
    close(p.points[12].limits.upper, 33.728854, 1e-5);
    close(p.points[0].limits.upper, 15.948646, 1e-5);
    assert_eq!(p.points[12].cause, None);
    assert_eq!(p.variation, Variation::CommonCause);
    // The segment's limits are the latest point's: the assurance icon reads those.
    assert_eq!(p.segments[0].limits, p.points[12].limits);
    let o = Options {
        target: Some(30.0),
        ..o
    };
    assert_eq!(
        analyse(&ys, &o).expect("valid").assurance,
        Some(Assurance::Inconsistent)
    );
}

#[test]
fn p_prime_refuses_denominators_that_do_not_fit() {
    let (ys, mut ns) = small_last_month();
    let o = |ns: Vec<f64>| Options {
        p_prime: Some(PPrime {
            denominators: ns,
            scale: 100.0,
        }),
        ..Options::default()
    };
    assert_eq!(
        analyse(&ys[..5], &o(ns.clone())),
        Err(SpcError::BadDenominators),
        "one a value"
    );
    ns[3] = 0.0;
    assert_eq!(analyse(&ys, &o(ns)), Err(SpcError::BadDenominators));
    // Every value 0%: zero-width limits at 0, as XmR keeps for a flat series.
    let flat = laney::limits(&[0.0; 3], &[10.0; 3], 100.0, None).expect("valid");
    assert_eq!((flat[0].lower, flat[0].upper), (0.0, 0.0));
}
