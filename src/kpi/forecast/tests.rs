//! Tests of the early warning: the board's cases (improving, flat below, too short,
//! polarity, a flat series), the bounds, the horizon, and hand-checked numbers for the line
//! and for the damped trend on tiny series.

use super::model::{Holt, HoltParams, fit_holt, fit_line, holt_best_start, holt_run};
use super::*;

#[track_caller]
fn close(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() <= tol, "{a} is not {b} (within {tol})");
}

fn month(s: &str) -> Month {
    s.parse().expect("a month")
}

/// A fixed wobble (no randomness in a test): -0.6 to +0.6, no trend of its own.
fn wobble(i: usize) -> f64 {
    [0.6, -0.4, 0.1, -0.6, 0.3, 0.0][i % 6]
}

/// Monthly values ending in Dec-20, asked about `milestone`.
fn ask(
    values: &[Option<f64>],
    milestone: &str,
    target: f64,
    better: Better,
    unit: Unit,
) -> Forecast {
    let q = Question {
        values,
        last: Period::month(month("2020-12")),
        milestone: month(milestone),
        target,
        better,
        unit,
    };
    forecast(&q, &Options::default()).expect("projects")
}

fn series(n: usize, f: impl Fn(usize) -> f64) -> Vec<Option<f64>> {
    (0..n).map(|i| Some(f(i))).collect()
}

#[test]
fn a_kpi_improving_towards_its_target_is_on_course() {
    // 30% rising a point a month for two years: 53% now, about 59% by June.
    let v = series(24, |i| 30.0 + i as f64 + wobble(i));
    let f = ask(&v, "2021-06", 55.0, Better::Higher, Unit::Percent);
    assert_eq!(f.band, Band::OnCourse, "{f:?}");
    assert_eq!(f.horizon, 6);
    let p = f.projection.expect("a projection");
    assert!(p.chance > 0.95, "{p:?}");
    assert!(p.low < p.value && p.value < p.high, "{p:?}");
    close(p.value, 59.0, 0.5);
    assert!(
        f.words().starts_with("on course for Jun-21 (chance "),
        "{}",
        f.words()
    );
}

#[test]
fn a_kpi_flat_below_its_target_is_off_course() {
    let v = series(18, |i| 40.0 + wobble(i));
    let f = ask(&v, "2021-06", 60.0, Better::Higher, Unit::Percent);
    assert_eq!(f.band, Band::OffCourse, "{f:?}");
    assert_eq!(f.words(), "off course (1%)");
}

#[test]
fn a_series_too_short_says_too_little_data() {
    let v = series(MIN_POINTS - 1, |i| 40.0 + i as f64);
    let f = ask(&v, "2021-06", 60.0, Better::Higher, Unit::Percent);
    assert_eq!(f.band, Band::TooLittleData);
    assert_eq!(f.projection, None);
    assert_eq!(f.words(), "too little data");
    // Missing periods are not values: six periods, five values, still too little.
    let mut gappy = series(MIN_POINTS, |i| 40.0 + i as f64);
    gappy[2] = None;
    let f = ask(&gappy, "2021-06", 60.0, Better::Higher, Unit::Percent);
    assert_eq!(f.band, Band::TooLittleData);
    // Leading empty periods neither count nor shift the line.
    let mut late = vec![None; 6];
    late.extend(series(MIN_POINTS, |i| 40.0 + i as f64 + wobble(i)));
    let f = ask(&late, "2021-03", 40.0, Better::Higher, Unit::Percent);
    assert_eq!(f.projection.map(|p| p.points), Some(MIN_POINTS));
}

#[test]
fn polarity_is_respected() {
    // A wait falling from 20 to about 14.5 weeks, about 11.5 by June: 13 weeks then is
    // likely under "lower is better", and the same figure as a floor ("higher") unlikely.
    let v = series(12, |i| 20.0 - 0.5 * i as f64 + wobble(i));
    let lower = ask(&v, "2021-06", 13.0, Better::Lower, Unit::Weeks);
    let higher = ask(&v, "2021-06", 13.0, Better::Higher, Unit::Weeks);
    assert_eq!(lower.band, Band::OnCourse, "{lower:?}");
    assert_eq!(higher.band, Band::OffCourse, "{higher:?}");
    let (l, h) = (
        lower.projection.expect("lower"),
        higher.projection.expect("higher"),
    );
    close(l.chance + h.chance, 1.0, 1e-12);
    assert_eq!(l.value, h.value);
}

#[test]
fn a_flat_series_with_no_variance_does_not_divide_by_zero() {
    let v = series(12, |_| 50.0);
    let met = ask(&v, "2021-06", 50.0, Better::Higher, Unit::Percent);
    let p = met.projection.expect("projects");
    assert_eq!((p.value, p.low, p.high, p.chance), (50.0, 50.0, 50.0, 1.0));
    assert_eq!(met.words(), "on course for Jun-21 (chance 99%)");
    let missed = ask(&v, "2021-06", 60.0, Better::Higher, Unit::Percent);
    assert_eq!(missed.projection.map(|p| p.chance), Some(0.0));
    assert_eq!(missed.words(), "off course (1%)");
    // A perfectly straight line is exact too: no NaN anywhere.
    let line = series(12, |i| 10.0 + 2.0 * i as f64);
    let f = ask(&line, "2021-03", 40.0, Better::Higher, Unit::Weeks);
    let p = f.projection.expect("projects");
    assert_eq!(p.method, Method::Linear);
    close(p.value, 38.0, 1e-9);
    assert_eq!(p.chance, 0.0);
    assert!(p.low.is_finite() && p.high.is_finite());
}

#[test]
fn a_percentage_stays_within_0_and_100_and_a_wait_above_0() {
    let v = series(12, |i| 90.0 + 1.5 * i as f64 + wobble(i));
    let f = ask(&v, "2021-12", 100.0, Better::Higher, Unit::Percent);
    let p = f.projection.expect("projects");
    assert_eq!((p.value, p.high), (100.0, 100.0));
    assert!(p.low <= 100.0 && p.chance > 0.5 && p.chance < 1.0, "{p:?}");
    // A target past the ceiling can never be met; one at or under the floor always is.
    let over = ask(&v, "2021-12", 101.0, Better::Higher, Unit::Percent);
    assert_eq!(over.projection.map(|p| p.chance), Some(0.0));
    let w = series(12, |i| 12.0 - 1.0 * i as f64 + wobble(i));
    let f = ask(&w, "2021-12", 0.0, Better::Lower, Unit::Weeks);
    let p = f.projection.expect("projects");
    assert_eq!((p.value, p.low), (0.0, 0.0));
    assert!(p.chance > 0.5, "{p:?}");
}

#[test]
fn the_horizon_counts_the_kpis_own_periods() {
    let v = series(8, |i| 40.0 + i as f64 + wobble(i));
    let q = |last: &str, milestone: &str| Question {
        values: &v,
        last: last.parse().expect("a period"),
        milestone: month(milestone),
        target: 50.0,
        better: Better::Higher,
        unit: Unit::Percent,
    };
    let o = Options::default();
    // Quarterly: Jun-21 is in 2021-Q2, two quarters after 2020-Q4.
    assert_eq!(
        forecast(&q("2020-Q4", "2021-06"), &o).map(|f| f.horizon),
        Ok(2)
    );
    assert_eq!(
        forecast(&q("2020-12", "2021-06"), &o).map(|f| f.horizon),
        Ok(6)
    );
    assert_eq!(
        forecast(&q("2021-Q2", "2021-06"), &o),
        Err(ForecastError::NotAhead)
    );
    assert_eq!(
        forecast(&q("2020-12", "2040-01"), &o),
        Err(ForecastError::TooFar)
    );
    let bad = [Some(1.0), Some(f64::NAN)];
    let mut nan = q("2020-12", "2021-06");
    nan.values = &bad;
    assert_eq!(forecast(&nan, &o), Err(ForecastError::NotFinite));
}

#[test]
fn the_bands_cut_at_80_and_20_percent_and_say_the_chance() {
    assert_eq!(Band::of_chance(0.8), Band::OnCourse);
    assert_eq!(Band::of_chance(0.799), Band::AtRisk);
    assert_eq!(Band::of_chance(0.2), Band::AtRisk);
    assert_eq!(Band::of_chance(0.199), Band::OffCourse);
    let f = |band, chance| Forecast {
        band,
        milestone: month("2021-06"),
        horizon: 6,
        projection: Some(Projection {
            method: Method::Linear,
            points: 12,
            value: 0.0,
            low: 0.0,
            high: 0.0,
            chance,
        }),
    };
    assert_eq!(
        f(Band::OnCourse, 0.85).words(),
        "on course for Jun-21 (chance 85%)"
    );
    assert_eq!(f(Band::AtRisk, 0.404).words(), "at risk (40%)");
    assert_eq!(f(Band::OffCourse, 0.05).words(), "off course (5%)");
    assert_eq!(Band::AtRisk.as_str(), "at_risk");
}

#[test]
fn the_line_matches_hand_arithmetic() {
    // t = 0..3, y = 1, 3, 2, 4: t̄ = 1.5, ȳ = 2.5, Sxx = 5, Sxy = 4, so slope 0.8 and
    // intercept 1.3; residuals -0.3, 0.9, -0.9, 0.3, SSE 1.8, s² = 0.9 on 2 df.
    let line = fit_line(&[Some(1.0), Some(3.0), Some(2.0), Some(4.0)]).expect("fits");
    close(line.slope, 0.8, 1e-12);
    close(line.intercept, 1.3, 1e-12);
    close(line.sse, 1.8, 1e-12);
    // Two periods on (t = 5): 1.3 + 0.8 × 5 = 5.3, scale sqrt(0.9 × (1 + 1/4 + 3.5²/5)) =
    // sqrt(3.33) = 1.824829; P(Y ≥ 3.5) = 1 − F_t2(−0.986394) = 0.786039.
    let p = line.predict(5.0);
    close(p.mean, 5.3, 1e-12);
    close(p.scale, 1.824_829, 1e-6);
    assert_eq!(p.df, 2.0);
    close(
        p.chance(3.5, Better::Higher, (0.0, f64::INFINITY)),
        0.786_039,
        1e-6,
    );
    close(
        p.chance(5.3, Better::Higher, (0.0, f64::INFINITY)),
        0.5,
        1e-12,
    );
}

#[test]
fn the_damped_trend_matches_hand_arithmetic() {
    // y = 10, 12, 13 from l0 = 10, b0 = 1 with α 0.5, β 0.2, φ 0.9:
    //   fit 10.9, e −0.9, l 10.45, b 0.72;
    //   fit 11.098, e 0.902, l 11.549, b 0.8284;
    //   fit 12.29456, e 0.70544, l 12.64728, b 0.886648.
    let p = HoltParams {
        alpha: 0.5,
        beta: 0.2,
        phi: 0.9,
    };
    let v = [Some(10.0), Some(12.0), Some(13.0)];
    let run = holt_run(&v, p, 10.0, 1.0);
    close(run.level, 12.647_28, 1e-9);
    close(run.trend, 0.886_648, 1e-9);
    close(run.sse, 0.81 + 0.813_604 + 0.497_645_593_6, 1e-9);
    let holt = Holt {
        params: p,
        l0: 10.0,
        b0: 1.0,
        run,
        n: 3,
    };
    // Two ahead: l + (0.9 + 0.81) b = 14.163448; variance factor 1 + c1², c1 = α + βφ = 0.68.
    let two = holt.predict(2);
    close(two.mean, 14.163_448_08, 1e-8);
    close(two.scale * two.scale / run.sse, 1.4624, 1e-12);
    // Three ahead adds c2² = (0.5 + 0.2 × 1.71)² = 0.708964.
    let three = holt.predict(3);
    close(three.scale * three.scale / run.sse, 2.171_364, 1e-12);
    // A missing period steps the states on without an update.
    let gap = holt_run(&[Some(10.0), None, Some(13.0)], p, 10.0, 1.0);
    let (l1, b1) = (10.45, 0.72);
    let (l2, b2) = (l1 + 0.9 * b1, 0.9 * b1);
    let e3: f64 = 13.0 - (l2 + 0.9 * b2);
    close(gap.sse, 0.81 + e3 * e3, 1e-12);
}

#[test]
fn the_damped_trend_fit_recovers_an_exact_series() {
    // Errors all zero: y_t = l_{t−1} + φ b_{t−1}, l_t = y_t, b_t = φ b_{t−1}, from l0 = 20,
    // b0 = 3, φ = 0.9: a trend that flattens out.
    let (mut l, mut b, phi) = (20.0, 3.0, 0.9);
    let mut v = Vec::new();
    for _ in 0..14 {
        l += phi * b;
        b *= phi;
        v.push(Some(l));
    }
    let p = HoltParams {
        alpha: 0.3,
        beta: 0.1,
        phi,
    };
    let best = holt_best_start(&v, p);
    close(best.l0, 20.0, 1e-8);
    close(best.b0, 3.0, 1e-8);
    assert!(best.run.sse < 1e-16, "{best:?}");
    let fitted = fit_holt(&v).expect("fits");
    assert!(fitted.run.sse < 1e-6, "{fitted:?}");
    // AICc prefers it to a line, which cannot bend.
    assert_eq!(
        fit(&v, Choice::Aicc).map(|f| f.method()),
        Some(Method::DampedHolt)
    );
    assert!(fit_line(&v).expect("line").sse > 1.0);
}

#[test]
fn aicc_keeps_the_line_for_a_straight_noisy_series_and_too_few_points_for_holt() {
    let v = series(24, |i| 30.0 + i as f64 + wobble(i));
    assert_eq!(
        fit(&v, Choice::Aicc).map(|f| f.method()),
        Some(Method::Linear)
    );
    let short = series(model::HOLT_MIN_POINTS - 1, |i| 30.0 + i as f64 + wobble(i));
    assert_eq!(fit(&short, Choice::DampedHolt), None);
    assert_eq!(
        fit(&short, Choice::Aicc).map(|f| f.method()),
        Some(Method::Linear)
    );
}

#[test]
fn the_interval_widens_with_the_horizon() {
    let v = series(18, |i| 40.0 + 0.5 * i as f64 + wobble(i));
    let at = |m: &str| {
        let p = ask(&v, m, 50.0, Better::Higher, Unit::Percent)
            .projection
            .expect("projects");
        p.high - p.low
    };
    assert!(at("2021-01") < at("2021-06") && at("2021-06") < at("2021-12"));
}
