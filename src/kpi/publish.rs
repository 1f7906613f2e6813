//! Which of one KPI's figures an audience may be shown, decided over its whole series of
//! periods ([`crate::disclose::series`]), so that every output (a digest and the digests before
//! it, `kpi show`, the pack, the live view, a risk's reason) shows the same figures and none
//! of them together gives a small count back.
//!
//! Owns how a KPI's figures relate: a flow KPI's month, quarter and year to date are sums of
//! its months (one axis); a running total's (1/3, 1/3a) are its academic year's total at the
//! period's end (one axis per year); a value entered by hand stands alone. Both a run (its
//! fresh figures laid over the stored ones) and a reader of the store (the stored ones) offer
//! the same series in the same order, so they decide alike.

use std::collections::BTreeMap;

use super::{Aggregation, Count, KpiSettings, Measure, Month, Period, PeriodKind, StoredResult};
use crate::disclose::{Disclosure, Offer, Series, Shape, Span, Verdict};

/// One period's figures as offered: its counts and its year to date's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Offered {
    pub current: Option<Count>,
    pub year_to_date: Option<Count>,
}

impl Offered {
    /// A run's fresh figures.
    pub fn figures(f: &super::Figures) -> Offered {
        Offered {
            current: f.current.and_then(|f| f.count),
            year_to_date: f.year_to_date.and_then(|f| f.count),
        }
    }

    /// A stored result's counts.
    pub fn stored(r: &StoredResult) -> Offered {
        let count = |n: Option<i64>, d: Option<i64>| {
            Some(Count {
                numerator: n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                denominator: u64::try_from(d?).ok()?,
            })
        };
        Offered {
            current: r.value.and(count(r.numerator, r.denominator)),
            year_to_date: count(r.ytd_numerator, r.ytd_denominator),
        }
    }
}

/// What may be shown of a period's figure and of its year to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodVerdict {
    pub current: Verdict,
    pub year_to_date: Verdict,
}

/// The decisions for one KPI's series.
#[derive(Debug, Clone, Default)]
pub struct Published {
    by_period: BTreeMap<Period, PeriodVerdict>,
}

impl Published {
    /// The period's figure as decided (open: a figure without counts); `None` for a period
    /// not in the series, whose figure is then decided alone.
    pub fn current(&self, p: Period) -> Option<Verdict> {
        self.by_period.get(&p).map(|v| v.current)
    }

    pub fn year_to_date(&self, p: Period) -> Option<Verdict> {
        self.by_period.get(&p).map(|v| v.year_to_date)
    }

    /// A stored result's figure: decided in the series it was read with.
    pub fn stored(&self, r: &StoredResult) -> Verdict {
        self.current(r.period).unwrap_or(Verdict::OPEN)
    }
}

/// Whether the KPI's figures are averages (over referrals) rather than shares.
pub fn shape(k: &KpiSettings) -> Shape {
    if k.measure == Some(Measure::AverageWaitWeeks) {
        Shape::Average
    } else {
        Shape::Share
    }
}

/// Decide `series` (by period, any order) for KPI `k`: oldest period first, each period's
/// figure before its year to date.
pub fn publish(k: &KpiSettings, series: &BTreeMap<Period, Offered>, d: Disclosure) -> Published {
    let mut s = Series::new(d, shape(k));
    let mut by_period = BTreeMap::new();
    for (i, (&p, o)) in series.iter().enumerate() {
        let mut decide = |count: Option<Count>, span: Span| {
            count.map_or(Verdict::OPEN, |c| {
                s.offer(Offer {
                    span,
                    numerator: c.numerator,
                    denominator: c.denominator,
                })
            })
        };
        let (current, year_to_date) = match k.measure.map(Measure::aggregation) {
            // Entered by hand: a period's figure has no known relation to another's.
            None => (
                decide(o.current, alone(i, p)),
                decide(o.year_to_date, alone(i, p)),
            ),
            Some(Aggregation::Sum) => {
                let ytd_first = p
                    .year_to_date(k.ytd_year())
                    .next()
                    .unwrap_or(p.first_month());
                (
                    decide(o.current, flow(p.first_month(), p.last_month())),
                    decide(o.year_to_date, flow(ytd_first, p.last_month())),
                )
            }
            Some(Aggregation::Last) => {
                let span = running(p.last_month());
                (decide(o.current, span), decide(o.year_to_date, span))
            }
        };
        by_period.insert(
            p,
            PeriodVerdict {
                current,
                year_to_date,
            },
        );
    }
    Published { by_period }
}

/// A stored series decided: `mine` are one KPI's stored results.
pub fn publish_stored(k: &KpiSettings, mine: &[&StoredResult], d: Disclosure) -> Published {
    let series = mine
        .iter()
        .map(|r| (r.period, Offered::stored(r)))
        .collect();
    publish(k, &series, d)
}

fn number(m: Month) -> i64 {
    use chrono::Datelike;
    let day = m.first_day();
    i64::from(day.year()) * 12 + i64::from(day.month0())
}

/// The months `first` to `last` of a flow: one axis for all.
fn flow(first: Month, last: Month) -> Span {
    Span {
        axis: 0,
        from: number(first) - 1,
        to: number(last),
    }
}

/// A running total at `last`: from the start of its academic year, on that year's axis.
fn running(last: Month) -> Span {
    let start = Period::containing(PeriodKind::AcademicYear, last).first_month();
    Span {
        axis: number(start),
        from: number(start) - 1,
        to: number(last),
    }
}

/// A figure related to no other: an axis of its own.
fn alone(i: usize, p: Period) -> Span {
    Span {
        axis: -1 - i64::try_from(i).unwrap_or(i64::MAX - 1),
        from: 0,
        to: number(p.last_month()),
    }
}
