//! Hand-made series, one per rule, icon and option, with the arithmetic in the comments so
//! each expectation can be checked by hand.

use super::super::*;
use super::{causes_of, close};

fn run(ys: &[f64], o: &Options) -> Analysis {
    analyse(ys, o).expect("a valid series")
}

fn with(improvement: Option<Better>) -> Options {
    Options {
        improvement,
        ..Options::default()
    }
}

/// Indices flagged with `cause`.
fn flagged(a: &Analysis, cause: Cause) -> Vec<usize> {
    (0..a.points.len())
        .filter(|&i| a.points[i].cause == Some(cause))
        .collect()
}

/// 12 points of common-cause noise around 10 (mean 10, moving ranges 1 and 2).
const NOISE: [f64; 12] = [10., 11., 9., 10., 11., 9., 10., 11., 9., 10., 11., 9.];

fn noise_then(tail: &[f64]) -> Vec<f64> {
    [&NOISE[..], tail].concat()
}

#[test]
fn xmr_limits_by_hand() {
    // mean 10; moving ranges 2 ×6 → mean moving range 2.
    let ys = [9., 11., 9., 11., 9., 11., 9., 11., 9., 11., 9., 11.];
    let l = limits(&ys, None, true).expect("valid");
    assert_eq!(l.mean, 10.0);
    assert_eq!(l.mean_moving_range, 2.0);
    close(l.upper, 15.32, 1e-12);
    close(l.lower, 4.68, 1e-12);
    close(l.upper_two_sigma, 10.0 + 2.0 * 2.0 * 2.66 / 3.0, 1e-12);
    // Making Data Count's 2 sigma (mean MR / 1.128 × 2) to within 0.001.
    close(l.upper_two_sigma - l.mean, 2.0 * 2.0 / 1.128, 1e-3);
    assert_eq!(l.points, 12);
}

#[test]
fn beyond_upper_limit_by_polarity() {
    // mean 140/13 = 10.77; the range 11 ≥ 3.267 × 26/12 is screened, leaving 15/11 = 1.364:
    // upper limit 14.4, so 20 is beyond it; no other rule fires.
    let ys = noise_then(&[20.]);
    let a = run(&ys, &Options::default());
    assert_eq!(flagged(&a, Cause::AboveUpper), [12]);
    assert_eq!(causes_of(&a).iter().flatten().count(), 1);
    close(a.segments[0].limits.mean_moving_range, 15.0 / 11.0, 1e-12);
    assert_eq!(a.points[12].point_type, PointType::Improvement);
    assert_eq!(a.variation, Variation::ImprovementHigh);
    let lower = run(&ys, &with(Some(Better::Lower)));
    assert_eq!(lower.points[12].point_type, PointType::Concern);
    assert_eq!(lower.variation, Variation::ConcernHigh);
    let neutral = run(&ys, &with(None));
    assert_eq!(neutral.points[12].point_type, PointType::NeutralHigh);
    assert_eq!(neutral.variation, Variation::NeutralHigh);
}

#[test]
fn beyond_lower_limit_by_polarity() {
    // The mirror image (20 - x) of the series above.
    let ys: Vec<f64> = noise_then(&[20.]).iter().map(|v| 20. - v).collect();
    let a = run(&ys, &Options::default());
    assert_eq!(flagged(&a, Cause::BelowLower), [12]);
    assert_eq!(a.variation, Variation::ConcernLow);
    assert_eq!(
        run(&ys, &with(Some(Better::Lower))).variation,
        Variation::ImprovementLow
    );
    assert_eq!(run(&ys, &with(None)).variation, Variation::NeutralLow);
}

#[test]
fn screening_off_keeps_the_outlying_range() {
    // Without screening the range 11 stays in: 26/12 = 2.167, upper limit 16.53.
    let o = Options {
        screen_outliers: false,
        ..Options::default()
    };
    let l = run(&noise_then(&[20.]), &o).segments[0].limits;
    close(l.mean_moving_range, 26.0 / 12.0, 1e-12);
}

const SHIFT: [f64; 13] = [
    12., 8., 12., 8., 12., 8., 11., 11.5, 11., 11.5, 11., 11.5, 11.,
];

#[test]
fn shift_of_seven_above_the_mean() {
    // mean 138.5/13 = 10.65, mean MR 26/12 = 2.17: limits 4.89-16.41, two sigma 6.81-14.49;
    // the last seven points sit above the mean, the one before below it.
    let a = run(&SHIFT, &Options::default());
    assert_eq!(flagged(&a, Cause::ShiftAbove), (6..13).collect::<Vec<_>>());
    assert_eq!(causes_of(&a).iter().flatten().count(), 7);
    assert_eq!(a.variation, Variation::ImprovementHigh);
    // One point fewer above the mean is no shift at 7.
    let mut six = SHIFT;
    six[6] = 8.;
    assert!(
        causes_of(&run(&six, &Options::default()))
            .iter()
            .all(Option::is_none)
    );
}

#[test]
fn shift_of_six_as_an_option() {
    // 8, then six points above the mean (135.5/13 = 10.42): a shift only at length 6.
    let mut ys = SHIFT;
    ys[6] = 8.;
    let o = Options {
        shift_length: 6,
        ..Options::default()
    };
    let a = run(&ys, &o);
    assert_eq!(flagged(&a, Cause::ShiftAbove), (7..13).collect::<Vec<_>>());
}

#[test]
fn shift_below_the_mean_is_a_concern_when_higher_is_better() {
    let ys: Vec<f64> = SHIFT.iter().map(|v| 20. - v).collect();
    let a = run(&ys, &Options::default());
    assert_eq!(flagged(&a, Cause::ShiftBelow), (6..13).collect::<Vec<_>>());
    assert_eq!(a.points[12].point_type, PointType::Concern);
}

const TREND: [f64; 13] = [10., 6., 14., 6., 14., 7., 8., 9., 10., 11., 12., 13., 10.];

#[test]
fn trend_of_seven_rising() {
    // mean 10, mean MR 44/12: limits 0.25-19.75, two sigma 3.5-16.5; 7..13 rise.
    let a = run(&TREND, &Options::default());
    assert_eq!(flagged(&a, Cause::TrendUp), (5..12).collect::<Vec<_>>());
    assert_eq!(causes_of(&a).iter().flatten().count(), 7);
    // The latest point ends no trend: common cause.
    assert_eq!(a.variation, Variation::CommonCause);
}

#[test]
fn trend_of_seven_falling_by_polarity() {
    let ys: Vec<f64> = TREND.iter().map(|v| 20. - v).collect();
    let a = run(&ys, &with(Some(Better::Lower)));
    assert_eq!(flagged(&a, Cause::TrendDown), (5..12).collect::<Vec<_>>());
    assert_eq!(a.points[5].point_type, PointType::Improvement);
    let higher = run(&ys, &Options::default());
    assert_eq!(higher.points[5].point_type, PointType::Concern);
}

#[test]
fn trend_of_six_as_an_option() {
    // 14 → 8 falls, then 8..13 is six rising points: a trend only at length 6.
    let ys = [10., 6., 14., 6., 10., 14., 8., 9., 10., 11., 12., 13., 10.];
    assert!(
        causes_of(&run(&ys, &Options::default()))
            .iter()
            .all(Option::is_none)
    );
    let o = Options {
        trend_length: 6,
        ..Options::default()
    };
    let a = run(&ys, &o);
    assert_eq!(flagged(&a, Cause::TrendUp), (6..12).collect::<Vec<_>>());
}

#[test]
fn two_of_three_beyond_two_sigma() {
    // mean 159/15 = 10.6, mean MR 26/14 = 1.857: two sigma at 13.89, upper limit 15.54;
    // 14, 11, 14 are all above the mean and two are beyond two sigma. Only those two are
    // flagged (NHSRplotthedots' ptd_part_of_two_in_three).
    let a = run(&noise_then(&[14., 11., 14.]), &Options::default());
    assert_eq!(flagged(&a, Cause::TwoOfThreeAbove), [12, 14]);
    assert_eq!(causes_of(&a).iter().flatten().count(), 2);
    assert_eq!(a.variation, Variation::ImprovementHigh);
    let below: Vec<f64> = noise_then(&[14., 11., 14.])
        .iter()
        .map(|v| 20. - v)
        .collect();
    let b = run(&below, &Options::default());
    assert_eq!(flagged(&b, Cause::TwoOfThreeBelow), [12, 14]);
    assert_eq!(b.variation, Variation::ConcernLow);
}

#[test]
fn a_point_beyond_a_limit_is_not_counted_as_near_it() {
    // As NHSRplotthedots: a point beyond the limit is not "close to limits", so 30 and 14
    // are not two of three; 30 is flagged for the limit alone.
    let a = run(&noise_then(&[30., 11., 14.]), &Options::default());
    let got: Vec<Option<Cause>> = causes_of(&a)[12..].to_vec();
    assert_eq!(got, [Some(Cause::AboveUpper), None, None]);
}

#[test]
fn trial_limits_below_twelve_points() {
    assert!(limits(&SHIFT[..11], None, true).expect("valid").trial());
    assert!(!limits(&SHIFT[..12], None, true).expect("valid").trial());
}

#[test]
fn fixed_limits_judge_later_points() {
    // Fixed after 12: mean 10, limits 4.68-15.32, so 16 is beyond the upper limit. Unfixed,
    // the 16s raise the mean to 10.86 and the limit to 16.38: they are only two of three
    // beyond two sigma (14.54).
    let ys = noise_then(&[16., 16.]);
    let mut alternating = ys.clone();
    alternating[..12].copy_from_slice(&[9., 11., 9., 11., 9., 11., 9., 11., 9., 11., 9., 11.]);
    let o = Options {
        fix_after_n_points: Some(12),
        ..Options::default()
    };
    let fixed = run(&alternating, &o);
    assert_eq!(fixed.segments[0].limits.points, 12);
    close(fixed.segments[0].limits.upper, 15.32, 1e-12);
    assert_eq!(flagged(&fixed, Cause::AboveUpper), [12, 13]);
    let free = run(&alternating, &Options::default());
    close(
        free.segments[0].limits.upper,
        152. / 14. + 2.66 * 27. / 13.,
        1e-12,
    );
    assert_eq!(flagged(&free, Cause::TwoOfThreeAbove), [12, 13]);
    assert_eq!(causes_of(&free).iter().flatten().count(), 2);
}

/// Alternating 9/11 for 12 points, then 19/21 for 12.
fn step() -> Vec<f64> {
    (0..24)
        .map(|i| {
            let base = if i < 12 { 10. } else { 20. };
            if i % 2 == 0 { base - 1. } else { base + 1. }
        })
        .collect()
}

#[test]
fn rebase_gives_each_segment_its_limits() {
    // Unrebased, the step is special cause throughout: mean 15, the range 8 across the step
    // screened (≥ 3.267 × 52/23), limits 9.68-20.32; the 9s and 21s are beyond them, the
    // 11s and 19s beyond two sigma (11.45, 18.55), two of three ahead of the shift.
    let whole = run(&step(), &Options::default());
    let types: Vec<PointType> = whole.points.iter().map(|p| p.point_type).collect();
    assert_eq!(
        types,
        [[PointType::Concern; 12], [PointType::Improvement; 12]].concat()
    );
    assert_eq!(flagged(&whole, Cause::BelowLower).len(), 6);
    assert_eq!(flagged(&whole, Cause::TwoOfThreeBelow).len(), 6);
    // Rebased at the step: means 10 and 20, and no special cause within either.
    let o = Options {
        rebase_at: vec![12],
        target: Some(12.),
        ..Options::default()
    };
    let a = run(&step(), &o);
    assert_eq!(a.segments.len(), 2);
    assert_eq!(a.segments[0].limits.mean, 10.);
    assert_eq!(a.segments[1].limits.mean, 20.);
    assert!(causes_of(&a).iter().all(Option::is_none));
    // Assurance reads the latest segment's limits (14.68-25.32): a target of 12 is met.
    assert_eq!(a.assurance, Some(Assurance::ConsistentlyMeets));
    let inconsistent = Options {
        target: Some(12.),
        ..Options::default()
    };
    assert_eq!(
        run(&step(), &inconsistent).assurance,
        Some(Assurance::Inconsistent)
    );
}

#[test]
fn assurance_icons_by_polarity() {
    // limits 4.68-15.32
    let ys = [9., 11., 9., 11., 9., 11., 9., 11., 9., 11., 9., 11.];
    let of = |target: f64, better: Option<Better>| {
        let o = Options {
            target: Some(target),
            improvement: better,
            ..Options::default()
        };
        run(&ys, &o).assurance
    };
    use Assurance::*;
    assert_eq!(of(4., Some(Better::Higher)), Some(ConsistentlyMeets));
    assert_eq!(of(16., Some(Better::Higher)), Some(ConsistentlyFails));
    assert_eq!(of(10., Some(Better::Higher)), Some(Inconsistent));
    assert_eq!(of(4., Some(Better::Lower)), Some(ConsistentlyFails));
    assert_eq!(of(16., Some(Better::Lower)), Some(ConsistentlyMeets));
    assert_eq!(of(16., None), None);
}

#[test]
fn flat_series_has_zero_width_limits_not_nan() {
    // NHSRplotthedots screens every zero range out of a flat series and gets NaN limits;
    // we keep mean 5 with zero width.
    let a = run(&[5.; 12], &Options::default());
    let l = a.segments[0].limits;
    assert_eq!((l.lower, l.mean, l.upper), (5., 5., 5.));
    assert!(causes_of(&a).iter().all(Option::is_none));
}

#[test]
fn invalid_input_is_an_error() {
    let o = Options::default();
    assert_eq!(analyse(&[], &o), Err(SpcError::TooFewPoints));
    assert_eq!(analyse(&[1.], &o), Err(SpcError::TooFewPoints));
    assert_eq!(analyse(&[1., f64::NAN], &o), Err(SpcError::NotFinite));
    let fix = Options {
        fix_after_n_points: Some(11),
        ..Options::default()
    };
    assert_eq!(analyse(&NOISE, &fix), Err(SpcError::FixTooSoon));
    let beyond = Options {
        rebase_at: vec![12],
        ..Options::default()
    };
    assert_eq!(analyse(&NOISE, &beyond), Err(SpcError::RebaseOutOfRange));
    let last = Options {
        rebase_at: vec![11],
        ..Options::default()
    };
    assert_eq!(analyse(&NOISE, &last), Err(SpcError::TooFewPoints));
    let short = Options {
        trend_length: 1,
        ..Options::default()
    };
    assert_eq!(analyse(&NOISE, &short), Err(SpcError::RunTooShort));
}

#[test]
fn a_limit_outranks_a_trend() {
    // 7..13 rise (a trend) and 30 continues it, but 30 is beyond the upper limit (mean
    // 150/13 = 11.54, the range 17 screened, mean MR 41/11, upper limit 21.45): NHSRplotthedots'
    // precedence is limit, trend, two of three, shift.
    let ys = [10., 6., 14., 6., 14., 7., 8., 9., 10., 11., 12., 13., 30.];
    let a = run(&ys, &Options::default());
    assert_eq!(flagged(&a, Cause::TrendUp), (5..12).collect::<Vec<_>>());
    assert_eq!(flagged(&a, Cause::AboveUpper), [12]);
    assert_eq!(causes_of(&a).iter().flatten().count(), 8);
}

#[test]
fn a_peak_between_two_trends_reads_as_falling() {
    // 7..13 rise and 13..7 fall; the peak is in both and takes the direction of the step
    // after it (NHSRplotthedots' `sdy`). The trends outrank the shift of 10..10 above the
    // mean (187/19 = 9.84); the 2s and 18s are beyond the limits (4.34-15.34).
    let ys = [
        10., 2., 18., 2., 18., 10., 7., 8., 9., 10., 11., 12., 13., 12., 11., 10., 9., 8., 7.,
    ];
    let a = run(&ys, &Options::default());
    assert_eq!(flagged(&a, Cause::TrendUp), (6..12).collect::<Vec<_>>());
    assert_eq!(flagged(&a, Cause::TrendDown), (12..19).collect::<Vec<_>>());
    assert_eq!(flagged(&a, Cause::BelowLower), [1, 3]);
    assert_eq!(flagged(&a, Cause::AboveUpper), [2, 4]);
    assert_eq!(causes_of(&a)[..6].iter().flatten().count(), 4);
}
