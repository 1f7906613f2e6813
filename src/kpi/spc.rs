//! Statistical process control the NHS "Making Data Count" way, for one KPI series: the XmR
//! limits (mean, moving ranges, process limits at mean ± 2.66 × the mean moving range, the
//! two-sigma lines), the special-cause rules, each point's type, the variation icon of the
//! latest point and the assurance icon (where the target sits against the limits).
//!
//! Owns: the arithmetic only. Pure: values in (oldest first), results out; no I/O, no clock,
//! every output reads it through [`super::warning`] (issue 21). The reference is NHSRplotthedots
//! (nhs-r-community, MIT): `ptd_spc_standard` (limits), `ptd_calculate_point_type` (rules),
//! `ptd_calculate_assurance_type` and `ptd_get_icons` (icons). Where we differ from it, the
//! comment at the spot says why. Laney's p' chart, an option for a percentage with varying
//! denominators, is [`laney`]'s (NHSRplotthedots has none).

use thiserror::Error;

use super::Better;

pub mod laney;

pub use laney::PPrime;

/// The process-limit multiplier of the mean moving range (3 / 1.128, rounded as Making Data
/// Count and NHSRplotthedots round it).
pub const LIMIT: f64 = 2.66;
/// The two-sigma lines, as NHSRplotthedots computes them: two thirds of [`LIMIT`] (1.7733 ×
/// the mean moving range; 2 / 1.128 = 1.7730 differs only in the fourth figure).
pub const TWO_SIGMA: f64 = 2.0 * LIMIT / 3.0;
/// A moving range at or above this multiple of the mean moving range is screened out when
/// `screen_outliers` is on (NHSRplotthedots' constant).
pub const SCREEN: f64 = 3.267;
/// Limits built on fewer points than this are trial limits (Making Data Count's guidance;
/// NHSRplotthedots warns about such groups and refuses `fix_after_n_points` below it).
pub const TRIAL_POINTS: usize = 12;
/// The default run and trend length (NHSRplotthedots' "7 Points" and "7 Point Trend").
pub const DEFAULT_RUN: usize = 7;

/// What the caller asks of one analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Which way is better; `None` is neutral (special causes are high or low, never
    /// improvement or concern, and there is no assurance icon).
    pub improvement: Option<Better>,
    /// Limits from the first n points of each segment only (NHSRplotthedots'
    /// `fix_after_n_points`); at least [`TRIAL_POINTS`].
    pub fix_after_n_points: Option<usize>,
    /// Indices (0-based, into the values) where a new segment with its own limits starts
    /// (NHSRplotthedots' rebase dates). Index 0 is allowed and changes nothing.
    pub rebase_at: Vec<usize>,
    /// Leave moving ranges ≥ 3.267 × the mean moving range out of the mean moving range
    /// (NHSRplotthedots' `screen_outliers`, on by default there and here).
    pub screen_outliers: bool,
    /// Points on one side of the mean that make a shift: 7, or 6 as an option.
    /// NHSRplotthedots has no option; it is always 7.
    pub shift_length: usize,
    /// Points rising (or falling) that make a trend: 7, or 6 as an option. NHSRplotthedots
    /// has no option; it is always 7 points (six rises or six falls in a row).
    pub trend_length: usize,
    /// The target in force, for the assurance icon.
    pub target: Option<f64>,
    /// Read on Laney's p' chart with these denominators (one a value) instead of XmR: each
    /// point has its own limits, the rules read each point against its own, and the
    /// assurance icon reads the latest point's.
    pub p_prime: Option<PPrime>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            improvement: Some(Better::Higher),
            fix_after_n_points: None,
            rebase_at: Vec::new(),
            screen_outliers: true,
            shift_length: DEFAULT_RUN,
            trend_length: DEFAULT_RUN,
            target: None,
            p_prime: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SpcError {
    #[error("a value of the series is not a finite number")]
    NotFinite,
    #[error("a segment of the series has fewer than 2 points, too few for a moving range")]
    TooFewPoints,
    #[error("fix_after_n_points must be at least {TRIAL_POINTS}")]
    FixTooSoon,
    #[error("a rebase point lies beyond the end of the series")]
    RebaseOutOfRange,
    #[error("a shift or trend length must be at least 2")]
    RunTooShort,
    #[error("a p' chart needs one denominator above 0 a value")]
    BadDenominators,
}

/// The limits of one segment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub mean: f64,
    /// The mean moving range after any screening.
    pub mean_moving_range: f64,
    pub lower: f64,
    pub upper: f64,
    pub lower_two_sigma: f64,
    pub upper_two_sigma: f64,
    /// How many points the limits were built on.
    pub points: usize,
}

impl Limits {
    /// Built on fewer than [`TRIAL_POINTS`] points: to be revised as points arrive.
    pub fn trial(&self) -> bool {
        self.points < TRIAL_POINTS
    }
}

/// One run of points sharing limits (the whole series unless rebased).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub start: usize,
    pub len: usize,
    pub limits: Limits,
}

/// Which rule flagged a point, in NHSRplotthedots' order of precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// "Above UCL".
    AboveUpper,
    /// "Below LCL".
    BelowLower,
    /// "7 Point Trend (Increasing)".
    TrendUp,
    /// "7 Point Trend (Decreasing)".
    TrendDown,
    /// "2 in 3 Above CL": two of three beyond the upper two-sigma line, all three above the mean.
    TwoOfThreeAbove,
    /// "2 in 3 Below CL".
    TwoOfThreeBelow,
    /// "7 Points Above CL".
    ShiftAbove,
    /// "7 Points Below CL".
    ShiftBelow,
}

impl Cause {
    /// +1 for a high signal, -1 for a low one (NHSRplotthedots' "Above|Increasing").
    fn sign(self) -> i8 {
        match self {
            Cause::AboveUpper | Cause::TrendUp | Cause::TwoOfThreeAbove | Cause::ShiftAbove => 1,
            _ => -1,
        }
    }
}

/// NHSRplotthedots' `point_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointType {
    CommonCause,
    Improvement,
    Concern,
    NeutralHigh,
    NeutralLow,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub value: f64,
    /// Index into [`Analysis::segments`].
    pub segment: usize,
    /// The limits it is read against: its segment's (XmR), or its own (p').
    pub limits: Limits,
    pub cause: Option<Cause>,
    pub point_type: PointType,
}

/// The Making Data Count variation icon (NHSRplotthedots' icons/variation/*.svg).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variation {
    CommonCause,
    ImprovementHigh,
    ImprovementLow,
    ConcernHigh,
    ConcernLow,
    NeutralHigh,
    NeutralLow,
}

/// The assurance icon (NHSRplotthedots' `assurance_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assurance {
    /// "consistent_pass": the target lies beyond the limit on the worse side.
    ConsistentlyMeets,
    /// "consistent_fail": the target lies beyond the limit on the better side.
    ConsistentlyFails,
    /// The target lies within (or on) the limits.
    Inconsistent,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub segments: Vec<Segment>,
    pub points: Vec<Point>,
    /// From the latest point's type.
    pub variation: Variation,
    /// From the target against the latest segment's limits; `None` with no target or when
    /// neutral.
    pub assurance: Option<Assurance>,
}

/// Analyses one series, oldest value first.
pub fn analyse(values: &[f64], options: &Options) -> Result<Analysis, SpcError> {
    if values.iter().any(|v| !v.is_finite()) {
        return Err(SpcError::NotFinite);
    }
    if options.fix_after_n_points.is_some_and(|n| n < TRIAL_POINTS) {
        return Err(SpcError::FixTooSoon);
    }
    if options.shift_length < 2 || options.trend_length < 2 {
        return Err(SpcError::RunTooShort);
    }
    if options
        .p_prime
        .as_ref()
        .is_some_and(|pp| pp.denominators.len() != values.len())
    {
        return Err(SpcError::BadDenominators);
    }
    if options.rebase_at.iter().any(|&i| i >= values.len()) {
        return Err(SpcError::RebaseOutOfRange);
    }
    let mut starts: Vec<usize> = options
        .rebase_at
        .iter()
        .copied()
        .filter(|&i| i > 0)
        .collect();
    starts.push(0);
    starts.sort_unstable();
    starts.dedup();

    let mut segments = Vec::with_capacity(starts.len());
    let mut points = Vec::with_capacity(values.len());
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(values.len());
        let ys = &values[start..end];
        let each = match &options.p_prime {
            None => {
                let l = limits(ys, options.fix_after_n_points, options.screen_outliers)?;
                vec![l; ys.len()]
            }
            Some(pp) => {
                let ns = pp
                    .denominators
                    .get(start..end)
                    .ok_or(SpcError::BadDenominators)?;
                laney::limits(ys, ns, pp.scale, options.fix_after_n_points)?
            }
        };
        for ((y, cause), l) in ys.iter().zip(causes(ys, &each, options)).zip(&each) {
            points.push(Point {
                value: *y,
                segment: k,
                limits: *l,
                cause,
                point_type: point_type(cause, options.improvement),
            });
        }
        segments.push(Segment {
            start,
            len: ys.len(),
            limits: *each.last().ok_or(SpcError::TooFewPoints)?,
        });
    }
    let latest = points.last().ok_or(SpcError::TooFewPoints)?.point_type;
    let last_limits = segments.last().ok_or(SpcError::TooFewPoints)?.limits;
    Ok(Analysis {
        variation: variation(latest, options.improvement),
        assurance: options
            .target
            .and_then(|t| assurance(t, &last_limits, options.improvement)),
        segments,
        points,
    })
}

/// The XmR limits of one segment (`ptd_spc_standard`).
pub fn limits(ys: &[f64], fix_after: Option<usize>, screen: bool) -> Result<Limits, SpcError> {
    let fixed = &ys[..fix_after.map_or(ys.len(), |n| n.min(ys.len()))];
    if fixed.len() < 2 {
        // NHSRplotthedots carries on with NaN limits; we refuse rather than show them.
        return Err(SpcError::TooFewPoints);
    }
    let mean = fixed.iter().sum::<f64>() / fixed.len() as f64;
    let ranges: Vec<f64> = fixed.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let mut amr = ranges.iter().sum::<f64>() / ranges.len() as f64;
    // A zero mean moving range would screen out every range (0 < 0 is false) and leave
    // NHSRplotthedots with NaN limits for a flat series; we keep the zero limits instead.
    if screen && amr > 0.0 {
        let kept: Vec<f64> = ranges
            .iter()
            .copied()
            .filter(|&r| r < SCREEN * amr)
            .collect();
        amr = kept.iter().sum::<f64>() / kept.len() as f64;
    }
    Ok(Limits {
        mean,
        mean_moving_range: amr,
        lower: mean - LIMIT * amr,
        upper: mean + LIMIT * amr,
        lower_two_sigma: mean - TWO_SIGMA * amr,
        upper_two_sigma: mean + TWO_SIGMA * amr,
        points: fixed.len(),
    })
}

/// The sign of `x` as NHSRplotthedots' `sign()`: 0 for 0.
fn sign(x: f64) -> i8 {
    if x > 0.0 {
        1
    } else if x < 0.0 {
        -1
    } else {
        0
    }
}

/// Each point's special cause within one segment (`ptd_special_cause_type`), each point
/// read against its own limits `ls` (one set for all on an XmR chart).
fn causes(ys: &[f64], ls: &[Limits], o: &Options) -> Vec<Option<Cause>> {
    let outside: Vec<bool> = ys
        .iter()
        .zip(ls)
        .map(|(&y, l)| y > l.upper || y < l.lower)
        .collect();
    let rtm: Vec<i8> = ys.iter().zip(ls).map(|(&y, l)| sign(y - l.mean)).collect();
    let close: Vec<bool> = ys
        .iter()
        .zip(&outside)
        .zip(ls)
        .map(|((&y, &out), l)| !out && (y < l.lower_two_sigma || y > l.upper_two_sigma))
        .collect();
    let in_trend = part_of_run(&trend(ys, o.trend_length), o.trend_length);
    let in_two_of_three = part_of_two_in_three(&two_in_three(&close, &rtm), &close);
    let in_shift = part_of_run(&run_one_side(&rtm, o.shift_length), o.shift_length);
    (0..ys.len())
        .map(|i| {
            if outside[i] {
                Some(if rtm[i] == 1 {
                    Cause::AboveUpper
                } else {
                    Cause::BelowLower
                })
            } else if in_trend[i] {
                // Which way: the step after the point if that point is in a trend too,
                // else the step before (NHSRplotthedots' `sdy`; a flat step reads as
                // decreasing there, and so here).
                let d = if in_trend.get(i + 1).copied().unwrap_or(false) {
                    sign(ys[i + 1] - ys[i])
                } else if i > 0 {
                    sign(ys[i] - ys[i - 1])
                } else {
                    0
                };
                Some(if d == 1 {
                    Cause::TrendUp
                } else {
                    Cause::TrendDown
                })
            } else if in_two_of_three[i] {
                Some(if rtm[i] > 0 {
                    Cause::TwoOfThreeAbove
                } else {
                    Cause::TwoOfThreeBelow
                })
            } else if in_shift[i] {
                Some(if rtm[i] > 0 {
                    Cause::ShiftAbove
                } else {
                    Cause::ShiftBelow
                })
            } else {
                None
            }
        })
        .collect()
}

/// Ends of runs of `n` points on one side of the mean (`ptd_seven_point_one_side_mean`):
/// true where this point and the `n - 1` before it share a nonzero side.
fn run_one_side(rtm: &[i8], n: usize) -> Vec<bool> {
    (0..rtm.len())
        .map(|i| i + 1 >= n && rtm[i] != 0 && rtm[i + 1 - n..i].iter().all(|&r| r == rtm[i]))
        .collect()
}

/// Ends of trends of `n` points (`ptd_seven_point_trend`): +1 where this point and the
/// `n - 1` before it rise strictly, -1 where they fall strictly, else 0.
fn trend(ys: &[f64], n: usize) -> Vec<i8> {
    (0..ys.len())
        .map(|i| {
            if i + 1 < n {
                return 0;
            }
            let steps: Vec<i8> = ys[i + 1 - n..=i]
                .windows(2)
                .map(|w| sign(w[1] - w[0]))
                .collect();
            if steps.iter().all(|&s| s == 1) {
                1
            } else if steps.iter().all(|&s| s == -1) {
                -1
            } else {
                0
            }
        })
        .collect()
}

/// Every point of a run whose end is marked (`ptd_part_of_seven_trend`): this point or one
/// of the `n - 1` after it ends a run.
fn part_of_run<T: Copy + Default + PartialEq>(ends: &[T], n: usize) -> Vec<bool> {
    (0..ends.len())
        .map(|i| {
            ends[i..(i + n).min(ends.len())]
                .iter()
                .any(|&e| e != T::default())
        })
        .collect()
}

/// Points in a window of three with at least two beyond a two-sigma line (but inside the
/// limits) and all three on one side of the mean (`ptd_two_in_three`).
fn two_in_three(close: &[bool], rtm: &[i8]) -> Vec<bool> {
    let n = close.len() as isize;
    let window = |from: isize| {
        let idx = (from..from + 3).filter(|&j| j >= 0 && j < n);
        let near = idx.clone().filter(|&j| close[j as usize]).count();
        let side: i32 = idx.map(|j| i32::from(rtm[j as usize])).sum();
        near >= 2 && side.abs() == 3
    };
    (0..n)
        .map(|i| window(i - 2) || window(i - 1) || window(i))
        .collect()
}

/// Of those, only the points that are themselves beyond two sigma
/// (`ptd_part_of_two_in_three`).
fn part_of_two_in_three(flagged: &[bool], close: &[bool]) -> Vec<bool> {
    flagged.iter().zip(close).map(|(&f, &c)| f && c).collect()
}

/// A point's type from its cause and the polarity (`ptd_point_type`).
pub fn point_type(cause: Option<Cause>, improvement: Option<Better>) -> PointType {
    let Some(cause) = cause else {
        return PointType::CommonCause;
    };
    let high = cause.sign() > 0;
    match improvement {
        None if high => PointType::NeutralHigh,
        None => PointType::NeutralLow,
        Some(better) if high == (better == Better::Higher) => PointType::Improvement,
        Some(_) => PointType::Concern,
    }
}

/// The variation icon for the latest point's type (`ptd_get_icons`).
pub fn variation(latest: PointType, improvement: Option<Better>) -> Variation {
    let higher = improvement != Some(Better::Lower);
    match latest {
        PointType::CommonCause => Variation::CommonCause,
        PointType::NeutralHigh => Variation::NeutralHigh,
        PointType::NeutralLow => Variation::NeutralLow,
        PointType::Improvement if higher => Variation::ImprovementHigh,
        PointType::Improvement => Variation::ImprovementLow,
        PointType::Concern if higher => Variation::ConcernLow,
        PointType::Concern => Variation::ConcernHigh,
    }
}

/// The assurance icon: the target against the limits (`ptd_calculate_assurance_type`).
/// A target exactly on a limit is inconsistent, as there.
pub fn assurance(target: f64, l: &Limits, improvement: Option<Better>) -> Option<Assurance> {
    let higher = improvement? == Better::Higher;
    Some(if target > l.upper {
        if higher {
            Assurance::ConsistentlyFails
        } else {
            Assurance::ConsistentlyMeets
        }
    } else if target < l.lower {
        if higher {
            Assurance::ConsistentlyMeets
        } else {
            Assurance::ConsistentlyFails
        }
    } else {
        Assurance::Inconsistent
    })
}

#[cfg(test)]
mod tests;
