//! The SPC reading of a KPI's shown series: the options it is read with (its polarity, the
//! target in force, and where its limits start afresh: each recovery plan's effective month
//! and each month its `spc.rebase` names) and the reading in the board's terms.
//!
//! A KPI whose `spc.chart` is `p_prime` is read on Laney's p' chart when every shown value
//! carries its denominator (else on XmR, as a manual KPI entered without one is).
//!
//! Pure: the settings and the shown values (with their periods) come in. A rebase that would
//! leave a segment of fewer than two values (a recovery plan last month) is not made yet: a
//! moving range needs two, and no limits at all would say less than the old ones.

use super::super::spc::{self, Assurance, Limits, PPrime, Variation};
use super::super::{KpiSettings, Month, Period, SpcChart, Unit};

/// One value of the series that disclosure lets through, with its period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shown {
    pub period: Period,
    pub value: f64,
    /// Its denominator where the stored value carries one (a percentage's cases).
    pub denominator: Option<i64>,
}

/// The SPC reading of the shown series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpcReading {
    pub variation: Variation,
    /// `None` with no target to read against.
    pub assurance: Option<Assurance>,
    /// Values the latest limits were built on (trial limits below [`spc::TRIAL_POINTS`]).
    pub points: usize,
    /// The latest segment's limits.
    pub limits: Limits,
    /// The first period of the latest segment when the series was rebased.
    pub since: Option<Period>,
    /// The chart it was read on (p' only where asked and every value has a denominator).
    pub chart: SpcChart,
}

/// The months from which `k`'s limits start afresh: each retarget's effective month and each
/// configured `spc.rebase` month, in order, once each.
pub fn rebase_months(k: &KpiSettings) -> Vec<Month> {
    let mut out: Vec<Month> = k
        .retargets
        .iter()
        .filter_map(|r| r.effective.parse().ok())
        .chain(k.spc.rebase_months())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Where in `periods` (the shown values' periods, in order) each of `months` starts a
/// segment: the first period that ends in or after the month. Rebases that would leave a
/// segment of fewer than two values are dropped, the later of two kept (the recovery plan
/// in force).
pub fn rebase_indices(periods: &[Period], months: &[Month]) -> Vec<usize> {
    let mut starts: Vec<usize> = months
        .iter()
        .filter_map(|m| periods.iter().position(|p| p.last_month() >= *m))
        .filter(|&i| i > 0)
        .collect();
    starts.sort_unstable();
    starts.dedup();
    let mut kept = Vec::new();
    let mut next = periods.len();
    for &s in starts.iter().rev() {
        if s >= 2 && next - s >= 2 {
            kept.push(s);
            next = s;
        }
    }
    kept.reverse();
    kept
}

/// `k`'s SPC reading of `shown` against `target`, and the analysis it reads (each segment's
/// limits and each point's type, for the chart); `None` with fewer than two values.
pub fn read(k: &KpiSettings, shown: &[Shown], target: f64) -> Option<(SpcReading, spc::Analysis)> {
    if shown.len() < 2 {
        return None;
    }
    let periods: Vec<Period> = shown.iter().map(|s| s.period).collect();
    let values: Vec<f64> = shown.iter().map(|s| s.value).collect();
    let rebase_at = rebase_indices(&periods, &rebase_months(k));
    let denominators: Option<Vec<f64>> = shown
        .iter()
        .map(|s| s.denominator.filter(|&d| d > 0).map(|d| d as f64))
        .collect();
    let p_prime = denominators
        .filter(|_| k.spc.chart == SpcChart::PPrime && k.unit == Unit::Percent)
        .map(|denominators| PPrime {
            denominators,
            scale: 100.0,
        });
    let chart = if p_prime.is_some() {
        SpcChart::PPrime
    } else {
        SpcChart::Xmr
    };
    let options = spc::Options {
        improvement: Some(k.better),
        target: Some(target),
        rebase_at,
        p_prime,
        ..spc::Options::default()
    };
    let a = spc::analyse(&values, &options).ok()?;
    let last = a.segments.last()?;
    let reading = SpcReading {
        variation: a.variation,
        assurance: a.assurance,
        points: last.limits.points,
        limits: last.limits,
        since: (last.start > 0).then(|| periods[last.start]),
        chart,
    };
    Some((reading, a))
}
