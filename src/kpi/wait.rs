//! Average waits for KPIs 5/1-5/4, folded from the provider extract one referral at a time.
//!
//! Owns: [`PROVIDER_COLUMNS`], reading a referral from a scanned row ([`Referral::from_row`])
//! and [`WaitCounter`]. A month's numerator is the total of `weeks_waited`, its denominator the
//! referrals counted; the value is their quotient (see [`super::Measure::value`]), so it is
//! exact and can be recomputed by hand.
//!
//! `Basis::Completed` (the published reading, DOMAIN 5.2: "average weeks from referral to first
//! contact"): a referral counts in the month of its first appointment, so the average is over
//! the children actually seen that month. `Basis::Started` counts seen referrals in their
//! referral month instead; recent referral months then read short, because their long waits
//! are not over yet and are not counted (censoring, `shared/tools/EXTRACTS.md`).
//! Referrals still waiting count in no month under either basis; they are reported apart: how
//! many are waiting at the data's as-of date, and how many of those for more than 18 weeks.

use chrono::NaiveDate;

use super::{Basis, Month, MonthlyCounts};
use crate::load::{Batch, KindDef, Value};

/// Provider columns the wait KPIs read, in the order [`Referral::from_row`] expects.
pub const PROVIDER_COLUMNS: [&str; 5] = [
    "service",
    "referral_date",
    "first_appointment_date",
    "weeks_waited",
    "still_waiting",
];

/// A wait longer than this (days from referral to the as-of date) is "past 18 weeks", the
/// local standard for speech and language therapy (DOMAIN 5.2).
pub const WAIT_LIMIT_DAYS: i64 = 18 * 7;

/// What the wait KPIs need of one referral (no id, no provider).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Referral<'a> {
    pub service: &'a str,
    pub referral_date: NaiveDate,
    /// `None` while still waiting.
    pub first_appointment: Option<NaiveDate>,
    /// Whole weeks from referral to first appointment (or to the extract's as-of if waiting).
    pub weeks_waited: u64,
    pub still_waiting: bool,
}

impl<'a> Referral<'a> {
    /// Read a row of [`PROVIDER_COLUMNS`] (as a store scan returns them). `None` if the row
    /// lacks a required value, which a validated load never does.
    pub fn from_row(batch: &'a Batch, row: &[Value]) -> Option<Referral<'a>> {
        let date = |v: &Value| match v {
            Value::Date(d) => Some(*d),
            _ => None,
        };
        Some(Referral {
            service: batch.str(&row[0])?,
            referral_date: date(&row[1])?,
            first_appointment: date(&row[2]),
            weeks_waited: match row[3] {
                Value::Int(n) => u64::try_from(n).ok()?,
                _ => return None,
            },
            still_waiting: match row[4] {
                Value::Flag(b) => b,
                _ => return None,
            },
        })
    }

    /// The kind must have the columns this reads; names the first one it lacks.
    pub fn missing_column(kind: &KindDef) -> Option<&'static str> {
        PROVIDER_COLUMNS
            .into_iter()
            .find(|c| kind.position(c).is_none())
    }
}

/// Fold one service's referrals into monthly totals of weeks and counts of referrals.
#[derive(Debug, Clone)]
pub struct WaitCounter {
    pub service: String,
    pub basis: Basis,
    pub as_of: NaiveDate,
    pub counts: MonthlyCounts,
}

impl WaitCounter {
    pub fn new(service: &str, basis: Basis, as_of: NaiveDate) -> WaitCounter {
        WaitCounter {
            service: service.to_string(),
            basis,
            as_of,
            counts: MonthlyCounts::default(),
        }
    }

    pub fn add(&mut self, r: &Referral<'_>) {
        if r.service != self.service {
            return;
        }
        let seen = match r.first_appointment {
            Some(d) if !r.still_waiting => d,
            _ => {
                self.counts.waiting += 1;
                if (self.as_of - r.referral_date).num_days() > WAIT_LIMIT_DAYS {
                    self.counts.overdue_open += 1;
                }
                return;
            }
        };
        let month = match self.basis {
            Basis::Completed => Month::of(seen),
            Basis::Started => Month::of(r.referral_date),
        };
        let count = self.counts.by_month.entry(month).or_default();
        count.numerator += r.weeks_waited;
        count.denominator += 1;
    }
}

/// Fold a slice of referrals (tests and small tools).
pub fn monthly_waits(
    service: &str,
    basis: Basis,
    referrals: &[Referral<'_>],
    as_of: NaiveDate,
) -> MonthlyCounts {
    let mut c = WaitCounter::new(service, basis, as_of);
    for r in referrals {
        c.add(r);
    }
    c.counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kpi::{Count, Measure};

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn seen(service: &'static str, referred: &str, first: &str) -> Referral<'static> {
        let (r, f) = (d(referred), d(first));
        Referral {
            service,
            referral_date: r,
            first_appointment: Some(f),
            weeks_waited: ((f - r).num_days() / 7) as u64,
            still_waiting: false,
        }
    }

    fn waiting(service: &'static str, referred: &str, weeks: u64) -> Referral<'static> {
        Referral {
            service,
            referral_date: d(referred),
            first_appointment: None,
            weeks_waited: weeks,
            still_waiting: true,
        }
    }

    const DIET: &str = "Paediatric Dietetics";
    const OT: &str = "Occupational Therapy";

    fn sample() -> Vec<Referral<'static>> {
        vec![
            seen(DIET, "2021-05-03", "2021-06-28"), // 8 weeks, seen June
            seen(DIET, "2021-05-10", "2021-07-05"), // 8 weeks, seen July
            seen(DIET, "2021-06-01", "2021-07-27"), // 8 weeks, seen July
            seen(DIET, "2021-04-01", "2021-07-29"), // 17 weeks, seen July
            seen(OT, "2021-04-01", "2021-07-01"),   // another service
            waiting(DIET, "2021-03-01", 21),        // 152 days at as-of: past 18 weeks
            waiting(DIET, "2021-07-01", 4),         // 30 days
        ]
    }

    #[test]
    fn seen_referrals_sum_their_weeks_in_the_month_first_seen() {
        let c = monthly_waits(DIET, Basis::Completed, &sample(), d("2021-07-31"));
        let m = |s: &str| s.parse::<Month>().expect("month");
        let july = c.by_month[&m("2021-07")];
        assert_eq!(
            july,
            Count {
                numerator: 33,
                denominator: 3
            }
        );
        assert_eq!(Measure::AverageWaitWeeks.value(33, 3), Some(11.0));
        assert_eq!(
            c.by_month[&m("2021-06")],
            Count {
                numerator: 8,
                denominator: 1
            }
        );
        assert_eq!(c.by_month.len(), 2, "waiting referrals count in no month");
        assert_eq!((c.waiting, c.overdue_open), (2, 1));
    }

    #[test]
    fn by_referral_month_the_same_waits_fall_where_they_started() {
        let c = monthly_waits(DIET, Basis::Started, &sample(), d("2021-07-31"));
        let m = |s: &str| s.parse::<Month>().expect("month");
        let months: Vec<(String, u64, u64)> = c
            .by_month
            .iter()
            .map(|(k, v)| (k.to_string(), v.numerator, v.denominator))
            .collect();
        assert_eq!(
            months,
            [
                ("2021-04".to_string(), 17, 1),
                ("2021-05".to_string(), 16, 2),
                ("2021-06".to_string(), 8, 1)
            ]
        );
        assert!(!c.by_month.contains_key(&m("2021-07")));
        assert_eq!((c.waiting, c.overdue_open), (2, 1));
    }

    #[test]
    fn an_unknown_service_counts_nothing_and_an_average_needs_a_referral() {
        let c = monthly_waits("Audiology", Basis::Completed, &sample(), d("2021-07-31"));
        assert_eq!(c, MonthlyCounts::default());
        assert_eq!(Measure::AverageWaitWeeks.value(0, 0), None);
        assert_eq!(Measure::AverageWaitWeeks.format(37.0 / 3.0), "12.3 weeks");
    }

    #[test]
    fn the_limit_is_eighteen_weeks_to_the_day() {
        let as_of = d("2021-07-31");
        let on = waiting(DIET, "2021-03-27", 18); // 126 days: not past
        let past = waiting(DIET, "2021-03-26", 18); // 127 days
        assert_eq!((as_of - on.referral_date).num_days(), 126);
        let c = monthly_waits(DIET, Basis::Completed, &[on, past], as_of);
        assert_eq!((c.waiting, c.overdue_open), (2, 1));
    }
}
