//! The early warning: a KPI's series projected to a future milestone, with a prediction
//! interval at the milestone and the chance of meeting its target, in the board's words
//! ("on course for Jun-21 (chance 85%)", "at risk (40%)", "off course (5%)", "too little
//! data").
//!
//! Owns: the projection and its bands. Pure: the series, the last period (the caller's
//! "now"), the milestone and the target come in as arguments; no I/O, no clock; every
//! output reads it through [`super::warning`] (issue 21). Suited to short series (12-36 points): a straight line
//! by least squares, or Holt's additive damped trend fitted by least squares, whichever has
//! the lower AICc ([`model`]); the predictive distribution is a Student t with the fit's
//! residual variance and degrees of freedom, its spread growing with the horizon as each
//! model's formula says ([`student`]). Calibration is measured, not assumed: `sendwatch bench
//! forecast` replays history and prints the reliability table (docs/benchmarks.md).
//!
//! Bounded units: a percentage cannot leave 0-100, nor a wait or a count go below 0. The
//! projected value is read as censored at the bounds (a projection past 100% reaches 100%),
//! so the interval and the centre are clamped and the chance counts the mass beyond a bound
//! as being at it.

use thiserror::Error;

use super::{Better, Month, Period, Unit};

pub mod model;
pub mod student;

pub use model::{Choice, Fitted, Method, Predictive, fit};

/// Fewer observed values than this: "too little data". A year of months: the replays of
/// `bench forecast` (docs/benchmarks.md) find projections from 12 or more values within a
/// few points of what came true, and those from 6 to 11 as much as 38 points off (an early
/// bend, a cohort's first months, read as a trend), however the t widens their interval.
pub const MIN_POINTS: usize = 12;
/// A chance at or above this is "on course".
pub const ON_COURSE: f64 = 0.8;
/// A chance below this is "off course"; between the two, "at risk".
pub const OFF_COURSE: f64 = 0.2;
/// The prediction interval's level.
pub const LEVEL: f64 = 0.8;
/// The furthest a projection looks, in periods (ten years of months).
pub const MAX_HORIZON: usize = 120;

/// The board's reading of a projection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    /// The chance of meeting the target is at least [`ON_COURSE`].
    OnCourse,
    /// Between [`OFF_COURSE`] and [`ON_COURSE`]: an item of its own before the milestone is
    /// missed.
    AtRisk,
    /// Below [`OFF_COURSE`].
    OffCourse,
    /// Fewer than the minimum number of values to project from.
    TooLittleData,
}

impl Band {
    /// As a state is written (`state=at_risk`).
    pub fn as_str(self) -> &'static str {
        match self {
            Band::OnCourse => "on_course",
            Band::AtRisk => "at_risk",
            Band::OffCourse => "off_course",
            Band::TooLittleData => "too_little_data",
        }
    }

    /// The band of a chance of meeting the target.
    pub fn of_chance(chance: f64) -> Band {
        if chance >= ON_COURSE {
            Band::OnCourse
        } else if chance >= OFF_COURSE {
            Band::AtRisk
        } else {
            Band::OffCourse
        }
    }
}

/// What a projection is asked.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    /// One value per period of the KPI's kind, oldest first, the last being `last`'s;
    /// `None` where a period has no value.
    pub values: &'a [Option<f64>],
    /// The latest period the series holds: the projection's "now".
    pub last: Period,
    /// The milestone's month (its target is in force from then); the projection is to the
    /// KPI's period that holds it.
    pub milestone: Month,
    pub target: f64,
    pub better: Better,
    pub unit: Unit,
}

/// How a projection is made; the defaults are the documented ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    pub min_points: usize,
    pub choice: Choice,
    /// The prediction interval's level, 0 < level < 1.
    pub level: f64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            min_points: MIN_POINTS,
            choice: Choice::Aicc,
            level: LEVEL,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ForecastError {
    #[error("a value of the series or the target is not a finite number")]
    NotFinite,
    #[error("the milestone is not after the series' last period")]
    NotAhead,
    #[error("the milestone is more than {MAX_HORIZON} periods ahead")]
    TooFar,
    #[error("the interval's level must be between 0 and 1")]
    BadLevel,
}

/// The projection at the milestone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    pub method: Method,
    /// Observed values it was fitted to.
    pub points: usize,
    /// The central projection (the predictive median), within the unit's bounds.
    pub value: f64,
    /// The prediction interval at [`Options::level`], within the unit's bounds.
    pub low: f64,
    pub high: f64,
    /// The chance of meeting the target, 0 to 1.
    pub chance: f64,
}

/// A KPI's early warning for one milestone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Forecast {
    pub band: Band,
    pub milestone: Month,
    /// Periods from the last to the milestone's.
    pub horizon: usize,
    /// `None` with too little data.
    pub projection: Option<Projection>,
}

impl Forecast {
    /// The board's words: "on course for Jun-21 (chance 85%)", "at risk (40%)", "off course
    /// (5%)", "too little data". The chance is a whole percentage and never said as 0% or
    /// 100%: a projection is not a certainty.
    pub fn words(&self) -> String {
        let Some(p) = self.projection else {
            return "too little data".into();
        };
        let pct = percent(p.chance);
        match self.band {
            Band::OnCourse => format!("on course for {} (chance {pct}%)", short(self.milestone)),
            Band::AtRisk => format!("at risk ({pct}%)"),
            Band::OffCourse => format!("off course ({pct}%)"),
            Band::TooLittleData => "too little data".into(),
        }
    }
}

/// A chance as the words say it: a whole percentage from 1 to 99.
pub fn percent(chance: f64) -> u32 {
    (chance * 100.0).round().clamp(1.0, 99.0) as u32
}

/// "Jun-21", as the plan writes its milestones.
pub fn short(m: Month) -> String {
    let label = m.label();
    let year = m.first_day().format("%y");
    format!("{}-{year}", label.get(..3).unwrap_or(&label))
}

/// The range a value of `unit` can take: 0-100 for a percentage, from 0 otherwise.
pub fn bounds(unit: Unit) -> (f64, f64) {
    match unit {
        Unit::Percent => (0.0, 100.0),
        Unit::Weeks | Unit::Count | Unit::Deliverable => (0.0, f64::INFINITY),
    }
}

/// Small slack so that a value equal to its target on paper meets it in floating point too
/// (as [`super::rate`] compares).
const EPS: f64 = 1e-9;

/// True when `value` meets `target` in the KPI's direction.
pub fn meets(value: f64, target: f64, better: Better) -> bool {
    match better {
        Better::Higher => value >= target - EPS,
        Better::Lower => value <= target + EPS,
    }
}

impl Predictive {
    /// No spread worth the name: an exact fit (a flat or perfectly straight series).
    fn degenerate(&self) -> bool {
        self.scale <= 1e-9 * self.mean.abs().max(1.0)
    }

    /// The predictive median within the bounds.
    pub fn centre(&self, (lo, hi): (f64, f64)) -> f64 {
        self.mean.clamp(lo, hi)
    }

    /// The central interval holding `level` of the predictive mass, within the bounds.
    pub fn interval(&self, level: f64, (lo, hi): (f64, f64)) -> (f64, f64) {
        if self.degenerate() {
            let c = self.mean.clamp(lo, hi);
            return (c, c);
        }
        let q = student::quantile(0.5 + level / 2.0, self.df) * self.scale;
        ((self.mean - q).clamp(lo, hi), (self.mean + q).clamp(lo, hi))
    }

    /// The chance that the value, censored at the bounds, meets `target`.
    pub fn chance(&self, target: f64, better: Better, (lo, hi): (f64, f64)) -> f64 {
        if self.degenerate() {
            return if meets(self.mean.clamp(lo, hi), target, better) {
                1.0
            } else {
                0.0
            };
        }
        let below = |x: f64| student::cdf((x - self.mean) / self.scale, self.df);
        match better {
            // A target at or below the floor is met whatever happens; one above the ceiling
            // never is; the mass past the ceiling sits at it, so it meets a target there.
            Better::Higher if target <= lo => 1.0,
            Better::Higher if target > hi => 0.0,
            Better::Higher => 1.0 - below(target),
            Better::Lower if target >= hi => 1.0,
            Better::Lower if target < lo => 0.0,
            Better::Lower => below(target),
        }
    }
}

/// Periods of `last`'s kind from `last` to the one holding `milestone`.
fn horizon(last: Period, milestone: Month) -> Result<usize, ForecastError> {
    let target = Period::containing(last.kind(), milestone);
    if target <= last {
        return Err(ForecastError::NotAhead);
    }
    let mut p = last;
    for h in 1..=MAX_HORIZON {
        p = p.next();
        if p == target {
            return Ok(h);
        }
    }
    Err(ForecastError::TooFar)
}

/// Projects the series to the milestone and says how likely its target is met.
pub fn forecast(q: &Question<'_>, options: &Options) -> Result<Forecast, ForecastError> {
    if !q.target.is_finite() || q.values.iter().flatten().any(|v| !v.is_finite()) {
        return Err(ForecastError::NotFinite);
    }
    if !(options.level > 0.0 && options.level < 1.0) {
        return Err(ForecastError::BadLevel);
    }
    let h = horizon(q.last, q.milestone)?;
    let too_little = Forecast {
        band: Band::TooLittleData,
        milestone: q.milestone,
        horizon: h,
        projection: None,
    };
    // The series starts at its first value: leading empty periods say nothing.
    let first = q.values.iter().position(Option::is_some).unwrap_or(0);
    let values = &q.values[first..];
    if values.iter().flatten().count() < options.min_points.max(3) {
        return Ok(too_little);
    }
    let Some(fitted) = fit(values, options.choice) else {
        return Ok(too_little);
    };
    let bounds = bounds(q.unit);
    let pred = fitted.predict(h);
    let (low, high) = pred.interval(options.level, bounds);
    let chance = pred.chance(q.target, q.better, bounds);
    Ok(Forecast {
        band: Band::of_chance(chance),
        milestone: q.milestone,
        horizon: h,
        projection: Some(Projection {
            method: fitted.method(),
            points: fitted.points(),
            value: pred.centre(bounds),
            low,
            high,
            chance,
        }),
    })
}

#[cfg(test)]
mod tests;
