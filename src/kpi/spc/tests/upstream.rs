//! NHSRplotthedots' (nhs-r-community, MIT) own test cases, ported with their expected values.
//! Each test names the upstream file and `test_that` it comes from and the options it uses.
//! Not ported: tests of plotting (ptd_create_ggplot, ptd_create_plotly, geom_ptd_icon's
//! drawing), of R argument validation and data-frame plumbing (ptd_spc_options,
//! ptd_validate_*, ptd_add_*_column, trajectory, facets as a column), and tests that only
//! check mocks were called (ptd_calculate_point_type's "it calls functions as expected",
//! ptd_special_cause_type's mocked precedence case: our precedence is covered in `hand`).
//!
//! The series are R's `set.seed(123); rnorm(...)` draws, written out to 8 decimals as R
//! prints them (the same draws appear in the upstream snapshots' `y` column).

use super::super::*;
use super::close;

/// `set.seed(123); rnorm(48)`: draws 1-24 are the tests' `y`, 25-36 and 37-48 the later
/// `rnorm(12, 5)` and `rnorm(12, -5)` in test-geom_ptd_icon.R (before the shift).
const RNORM_123: [f64; 48] = [
    -0.56047565,
    -0.23017749,
    1.55870831,
    0.07050839,
    0.12928774,
    1.71506499,
    0.46091621,
    -1.26506123,
    -0.68685285,
    -0.44566197,
    1.22408180,
    0.35981383,
    0.40077145,
    0.11068272,
    -0.55584113,
    1.78691314,
    0.49785048,
    -1.96661716,
    0.70135590,
    -0.47279141,
    -1.06782371,
    -0.21797491,
    -1.02600445,
    -0.72889123,
    -0.62503927,
    -1.68669331,
    0.83778704,
    0.15337312,
    -1.13813694,
    1.25381492,
    0.42646422,
    -0.29507148,
    0.89512566,
    0.87813349,
    0.82158108,
    0.68864025,
    0.55391765,
    -0.06191171,
    -0.30596266,
    -0.38047100,
    -0.69470698,
    -0.20791728,
    -1.26539635,
    2.16895597,
    1.20796200,
    -1.12310858,
    -0.40288484,
    -0.46665535,
];

fn rnorm20() -> Vec<f64> {
    RNORM_123[..20].to_vec()
}

fn analyse_default(ys: &[f64]) -> Analysis {
    analyse(ys, &Options::default()).expect("a valid series")
}

// ---- tests/testthat/test-ptd_spc_standard.R and _snaps/ptd_spc_standard.md ----

/// test-ptd_spc_standard.R, "it returns expected values", r1 (screen_outliers = TRUE).
#[test]
fn standard_expected_values_r1() {
    let a = analyse_default(&rnorm20());
    let l = a.segments[0].limits;
    close(l.mean, 0.1416238, 5e-8);
    close(l.lower, -3.01138, 5e-6);
    close(l.upper, 3.294627, 5e-7);
    // The snapshot's relative_to_mean, first 15 shown; outside_limits and
    // close_to_limits are FALSE as far as shown, and the summary (_snaps/ptd_spc.md,
    // "it outputs expected content") counts 20 common cause points.
    let rtm: Vec<i8> = a.points.iter().map(|p| sign(p.value - l.mean)).collect();
    assert_eq!(
        rtm[..15],
        [-1, -1, 1, -1, -1, 1, 1, -1, -1, -1, 1, 1, 1, -1, -1]
    );
    assert!(
        a.points
            .iter()
            .all(|p| p.point_type == PointType::CommonCause)
    );
}

/// test-ptd_spc_standard.R, "it returns expected values", r2: y[15] = 10,
/// screen_outliers = TRUE.
#[test]
fn standard_expected_values_r2_screened() {
    let mut ys = rnorm20();
    ys[14] = 10.0;
    let a = analyse_default(&ys);
    let l = a.segments[0].limits;
    close(l.mean, 0.6694159, 5e-8);
    close(l.lower, -2.383666, 5e-7);
    close(l.upper, 3.722497, 5e-7);
    let rtm: Vec<i8> = a.points.iter().map(|p| sign(p.value - l.mean)).collect();
    assert_eq!(
        rtm[..14],
        [-1, -1, 1, -1, -1, 1, -1, -1, -1, -1, 1, -1, -1, -1]
    );
}

/// test-ptd_spc_standard.R, "it returns expected values", r3: y[15] = 10,
/// screen_outliers = FALSE (the limits are wider than r2's).
#[test]
fn standard_expected_values_r3_unscreened() {
    let mut ys = rnorm20();
    ys[14] = 10.0;
    let o = Options {
        screen_outliers: false,
        ..Options::default()
    };
    let l = analyse(&ys, &o).expect("valid").segments[0].limits;
    close(l.mean, 0.6694159, 5e-8);
    close(l.lower, -4.596625, 5e-7);
    close(l.upper, 5.935457, 5e-7);
}

/// test-ptd_spc_standard.R, "it sets the rebase_group field": a rebase at the 11th point
/// makes two groups of 10.
#[test]
fn standard_sets_rebase_group() {
    let o = Options {
        rebase_at: vec![10],
        ..Options::default()
    };
    let a = analyse(&rnorm20(), &o).expect("valid");
    let groups: Vec<usize> = a.points.iter().map(|p| p.segment).collect();
    assert_eq!(groups, [vec![0; 10], vec![1; 10]].concat());
    assert_eq!(a.segments[1].start, 10);
}

/// test-ptd_spc_standard.R, "setting fix_after_n_points changes the calculations"
/// (fix_after_n_points = 12).
#[test]
fn standard_fix_after_n_points_changes_limits() {
    let s0 = analyse_default(&rnorm20()).segments[0].limits;
    let o = Options {
        fix_after_n_points: Some(12),
        ..Options::default()
    };
    let s1 = analyse(&rnorm20(), &o).expect("valid").segments[0].limits;
    assert_ne!(s1.lower, s0.lower);
    assert_ne!(s1.upper, s0.upper);
    assert_eq!(s1.points, 12);
    // and they are the first 12 points' limits
    assert_eq!(s1, limits(&RNORM_123[..12], None, true).expect("valid"));
}

/// test-ptd_spc_standard.R, "it only reports special cause for 2of3 points close to limits
/// when they are on the same side of the mean" (defaults).
#[test]
fn standard_two_of_three_needs_one_side() {
    let mut ys: Vec<f64> = (0..16)
        .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    ys[14] = 5.5;
    ys[15] = -5.5;
    let a = analyse_default(&ys);
    let tail: Vec<PointType> = a.points[14..].iter().map(|p| p.point_type).collect();
    assert_eq!(tail, [PointType::CommonCause, PointType::CommonCause]);
}

// ---- tests/testthat/_snaps/ptd_spc.md ("it outputs expected content") ----

/// The summaries s3/s4: facet 0 is the first 10 points, facet 1 the last 10 (a facet is a
/// series of its own here; s4's rebase date falls before the data, so changes nothing).
/// Each is 10 common cause points; both are trial limits (n < 12).
#[test]
fn summary_facets_limits() {
    for (ys, mean, lpl, upl) in [
        (&RNORM_123[..10], 0.0746, -2.60, 2.75),
        (&RNORM_123[10..20], 0.209, -3.28, 3.70),
    ] {
        let a = analyse_default(ys);
        let l = a.segments[0].limits;
        close(l.mean, mean, 5e-4);
        close(l.lower, lpl, 5e-3);
        close(l.upper, upl, 5e-3);
        assert!(l.trial());
        assert!(
            a.points
                .iter()
                .all(|p| p.point_type == PointType::CommonCause)
        );
    }
}

/// The summaries s1, s2 (rebase before the data: index 0) and s5 / "summary with a target"
/// (target 0.5): mean 0.142, limits -3.01 and 3.29, 20 common cause points.
#[test]
fn summary_whole_series() {
    for o in [
        Options::default(),
        Options {
            rebase_at: vec![0],
            ..Options::default()
        },
        Options {
            target: Some(0.5),
            ..Options::default()
        },
    ] {
        let a = analyse(&rnorm20(), &o).expect("valid");
        assert_eq!(a.segments.len(), 1);
        let l = a.segments[0].limits;
        close(l.mean, 0.142, 5e-4);
        close(l.lower, -3.01, 5e-3);
        close(l.upper, 3.29, 5e-3);
        assert!(a.points.iter().all(|p| p.cause.is_none()));
        assert_eq!(a.variation, Variation::CommonCause);
    }
}

// ---- tests/testthat/test-geom_ptd_icon.R, "ptd_get_icons transforms the data correctly" ----

/// s1, s2 (target 0.5), and s3/s4 (each facet of 12 on its own, target 0.5).
#[test]
fn icons_common_cause_inconsistent() {
    let ys = &RNORM_123[..24];
    let s1 = analyse_default(ys);
    assert_eq!(s1.variation, Variation::CommonCause);
    assert_eq!(s1.assurance, None);
    let o = Options {
        target: Some(0.5),
        ..Options::default()
    };
    let s2 = analyse(ys, &o).expect("valid");
    assert_eq!(s2.variation, Variation::CommonCause);
    assert_eq!(s2.assurance, Some(Assurance::Inconsistent));
    for facet in [&ys[..12], &ys[12..]] {
        let s4 = analyse(facet, &o).expect("valid");
        assert_eq!(s4.variation, Variation::CommonCause);
        assert_eq!(s4.assurance, Some(Assurance::Inconsistent));
    }
}

/// The series of s5-s9: the first 12 draws, then 12 more shifted by `by`.
fn shifted(draws: &[f64], by: f64) -> Vec<f64> {
    let mut ys = RNORM_123[..12].to_vec();
    ys.extend(draws.iter().map(|v| v + by));
    ys
}

fn icons(ys: &[f64], target: f64, improvement: Option<Better>) -> (Variation, Option<Assurance>) {
    let o = Options {
        target: Some(target),
        improvement,
        ..Options::default()
    };
    let a = analyse(ys, &o).expect("valid");
    (a.variation, a.assurance)
}

/// s5 (increase, target -3) and s6 (decrease, target -3): last 12 points `rnorm(12, 5)`.
#[test]
fn icons_shift_up() {
    let ys = shifted(&RNORM_123[24..36], 5.0);
    assert_eq!(
        icons(&ys, -3.0, Some(Better::Higher)),
        (
            Variation::ImprovementHigh,
            Some(Assurance::ConsistentlyMeets)
        )
    );
    assert_eq!(
        icons(&ys, -3.0, Some(Better::Lower)),
        (Variation::ConcernHigh, Some(Assurance::ConsistentlyFails))
    );
}

/// s7 (increase, target 3), s8 (decrease, target 3) and s9 (neutral, target 3: no
/// assurance icon): last 12 points `rnorm(12, -5)`.
#[test]
fn icons_shift_down() {
    let ys = shifted(&RNORM_123[36..48], -5.0);
    assert_eq!(
        icons(&ys, 3.0, Some(Better::Higher)),
        (Variation::ConcernLow, Some(Assurance::ConsistentlyFails))
    );
    assert_eq!(
        icons(&ys, 3.0, Some(Better::Lower)),
        (
            Variation::ImprovementLow,
            Some(Assurance::ConsistentlyMeets)
        )
    );
    assert_eq!(icons(&ys, 3.0, None), (Variation::NeutralLow, None));
}

// ---- tests/testthat/test-ptd_calculate_assurance_type.R ----

fn lims(lower: f64, mean: f64, upper: f64) -> Limits {
    Limits {
        mean,
        mean_moving_range: 0.0,
        lower,
        upper,
        lower_two_sigma: lower,
        upper_two_sigma: upper,
        points: 12,
    }
}

/// The three facets a, b, c of the file's data frame: (lpl, mean, upl), target 4.
const FACETS: [(f64, f64, f64); 3] = [(1.0, 2.0, 3.0), (5.0, 6.0, 7.0), (1.0, 4.0, 5.0)];

fn assurances(improvement: Option<Better>) -> Vec<Option<Assurance>> {
    FACETS
        .iter()
        .map(|&(l, m, u)| assurance(4.0, &lims(l, m, u), improvement))
        .collect()
}

/// "it returns correct values for assurance when improvement_direction is increase".
#[test]
fn assurance_increase() {
    use Assurance::*;
    assert_eq!(
        assurances(Some(Better::Higher)),
        [
            Some(ConsistentlyFails),
            Some(ConsistentlyMeets),
            Some(Inconsistent)
        ]
    );
}

/// "it returns correct values for assurance when improvement_direction is decrease".
#[test]
fn assurance_decrease() {
    use Assurance::*;
    assert_eq!(
        assurances(Some(Better::Lower)),
        [
            Some(ConsistentlyMeets),
            Some(ConsistentlyFails),
            Some(Inconsistent)
        ]
    );
}

/// "it returns correct values for assurance when improvement_direction is neutral" and
/// "it returns a column of NA's if there is no target".
#[test]
fn assurance_neutral_or_no_target() {
    assert_eq!(assurances(None), [None, None, None]);
    let o = Options::default();
    assert_eq!(analyse(&rnorm20(), &o).expect("valid").assurance, None);
}

// ---- tests/testthat/test-ptd_calculate_point_type.R (the rule helpers, n = 7) ----

/// "ptd_seven_point_one_side_mean works as expected".
#[test]
fn seven_point_one_side_mean() {
    assert!(run_one_side(&[], 7).is_empty());
    assert_eq!(run_one_side(&[1; 6], 7), [false; 6]);
    assert_eq!(run_one_side(&[1, 1, 1, 1, 1, 1, -1], 7), [false; 7]);
    let mut want = [false; 9];
    want[6] = true;
    want[7] = true;
    assert_eq!(run_one_side(&[1, 1, 1, 1, 1, 1, 1, 1, -1], 7), want);
    assert_eq!(run_one_side(&[-1, -1, -1, -1, -1, -1, -1, -1, 1], 7), want);
}

/// "ptd_part_of_seven_trend works as expected".
#[test]
fn part_of_seven_trend() {
    assert!(part_of_run::<i8>(&[], 7).is_empty());
    assert_eq!(part_of_run(&[0i8; 6], 7), [false; 6]);
    let seven_then_no = [vec![true; 7], vec![false]].concat();
    assert_eq!(part_of_run(&[0i8, 0, 0, 0, 0, 0, 1, 0], 7), seven_then_no);
    assert_eq!(part_of_run(&[0i8, 0, 0, 0, 0, 0, -1, 0], 7), seven_then_no);
    let shifted = [vec![false], vec![true; 7], vec![false]].concat();
    assert_eq!(part_of_run(&[0i8, 0, 0, 0, 0, 0, 0, 1, 0], 7), shifted);
    assert_eq!(part_of_run(&[0i8, 0, 0, 0, 0, 0, 0, -1, 0], 7), shifted);
}

/// "ptd_seven_point_trend works as expected".
#[test]
fn seven_point_trend() {
    assert!(trend(&[], 7).is_empty());
    assert_eq!(trend(&[1., 2., 3., 4., 5., 6.], 7), [0; 6]);
    assert_eq!(trend(&[1., 2., 3., 3., 4., 5., 6.], 7), [0; 7]);
    assert_eq!(
        trend(&[1., 2., 3., 4., 5., 6., 7.], 7),
        [0, 0, 0, 0, 0, 0, 1]
    );
    let d = trend(&[2., 1., 2., 3., 4., 5., 6., 7., 3.], 7);
    assert_eq!(d, [0, 0, 0, 0, 0, 0, 0, 1, 0]);
    assert_eq!(
        trend(&[7., 6., 5., 4., 3., 2., 1.], 7),
        [0, 0, 0, 0, 0, 0, -1]
    );
    let f = trend(&[2., 7., 6., 5., 4., 3., 2., 1., 3.], 7);
    assert_eq!(f, [0, 0, 0, 0, 0, 0, 0, -1, 0]);
}

fn b(v: &[u8]) -> Vec<bool> {
    v.iter().map(|&x| x == 1).collect()
}

/// "ptd_two_in_three works as expected" (the case with a recycled 1-long `rtm` is R
/// recycling, not ported).
#[test]
fn two_in_three_cases() {
    assert!(two_in_three(&[], &[]).is_empty());
    for v in [[1, 0, 1], [0, 1, 1], [1, 1, 0]] {
        assert_eq!(two_in_three(&b(&v), &[1, 1, 1]), [true; 3]);
    }
    let all_above = [1i8; 7];
    let g = two_in_three(&b(&[0, 0, 1, 0, 1, 0, 0]), &all_above);
    assert_eq!(g, b(&[0, 0, 1, 1, 1, 0, 0]));
    let h = two_in_three(&b(&[0, 0, 1, 1, 0, 0, 0]), &all_above);
    assert_eq!(h, b(&[0, 1, 1, 1, 1, 0, 0]));
}

/// "ptd_two_in_three works as expected when points are on opposite sides of the mean".
#[test]
fn two_in_three_opposite_sides() {
    for v in [[1, 0, 1], [0, 1, 1], [1, 1, 0]] {
        assert_eq!(two_in_three(&b(&v), &[1, -1, 1]), [false; 3]);
    }
    let g = two_in_three(&b(&[0, 0, 1, 0, 1, 0, 0]), &[1, -1, 1, -1, 1, -1, 1]);
    assert_eq!(g, [false; 7]);
    let h = two_in_three(&b(&[0, 0, 1, 1, 0, 0, 0]), &[-1, 1, -1, 1, -1, 1, -1]);
    assert_eq!(h, [false; 7]);
}

/// "ptd_part_of_two_in_three works as expected" (case b passes swapped, recycled
/// arguments in R and is not ported; case g is ported with the arguments meant).
#[test]
fn part_of_two_in_three_cases() {
    let part = |v: &[u8]| {
        let close = b(v);
        part_of_two_in_three(&two_in_three(&close, &vec![1; v.len()]), &close)
    };
    assert!(part(&[]).is_empty());
    for v in [
        &[1, 0, 1][..],
        &[0, 1, 1],
        &[1, 1, 0],
        &[0, 0, 1, 0, 1, 0, 0],
        &[0, 0, 1, 1, 0, 0, 0],
    ] {
        assert_eq!(part(v), b(v));
    }
    assert_eq!(part(&[1, 0, 0, 1]), [false; 4]);
    assert_eq!(part(&[1, 0, 0, 1, 1]), b(&[0, 0, 0, 1, 1]));
}
