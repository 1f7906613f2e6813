//! KPIs 1/3 and 1/3a: EHCP reviews completed, cumulative over the academic year, folded from
//! the reviews extract one row at a time.
//!
//! Owns: [`REVIEW_COLUMNS`], reading a review from a scanned row ([`Review::from_row`]), the
//! catalogue check of a reviews KPI's `cohorts` ([`check`]) and [`ReviewCounter`].
//!
//! A row is one plan's current review: due on `review_due_date`, completed on
//! `review_completed_date` (blank if not yet). It belongs to the academic year (September to
//! August) its due date falls in. For each month of that year the KPI is cumulative, as the
//! seeds' ladders read (1/3: 50% by January, 95% from April; 1/3a: "16% (New academic year)"
//! in October, about two months of twelve; DOMAIN 2.3):
//! - denominator: the reviews in scope due in the academic year: the whole year's cohort, as
//!   identified at its start ("96 children ... currently in NCY6"), not just those due so far;
//! - numerator: those completed by the month's end, and for a transition cohort by its
//!   deadline (Yr 6 15 February, Yr 11 31 March, Yr 9 the end of the academic year; the
//!   KPI's `cohorts`, DOMAIN 4.1). A review done before its academic year began counts from
//!   its first month; one done after the deadline never counts.
//!
//! So each month holds the figure at its end, and a period's figure is its last month's, not a
//! sum of months ([`super::Aggregation::Last`]). A new academic year starts again from its
//! own cohort (the "reset"). Months after the data's as-of month are not given.
//!
//! 1/3a (`other_reviews_completed`) counts the reviews with no `transition_cohort`: children
//! aged 0-5 and everyone not moving between key phases (004:1539). It counts a review
//! completed at all, late or not: the KPI reads "All other EHCP reviews, % completed" and the
//! narrative's target is "15% of all other reviews to have been completed by end of January
//! 2020" (004:1053), a share of the year's reviews done, not a timeliness rate.
//!
//! Beside each KPI, `overdue_open` counts its reviews not completed at the as-of date and past
//! their due date (or, for a transition cohort, past its deadline, if that came first).
//!
//! The extract holds each plan's current review only, so an academic year long past holds just
//! the reviews still open from it; the current academic year is the one to read.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use super::{Cohort, Count, KpiSettings, Measure, Month, MonthlyCounts, Period, PeriodKind};
use crate::load::{Batch, KindDef, Value};

/// Reviews columns the review KPIs read, in the order [`Review::from_row`] expects.
pub const REVIEW_COLUMNS: [&str; 3] = [
    "transition_cohort",
    "review_due_date",
    "review_completed_date",
];

/// What the review KPIs need of one review (no plan id, nothing else).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Review<'a> {
    /// `transition_cohort` ("Yr 6"), `None` when blank.
    pub cohort: Option<&'a str>,
    pub due: NaiveDate,
    pub completed: Option<NaiveDate>,
}

impl<'a> Review<'a> {
    /// Read a row of [`REVIEW_COLUMNS`] (as a store scan returns them). `None` if the row
    /// lacks its due date, which a validated load never does.
    pub fn from_row(batch: &'a Batch, row: &[Value]) -> Option<Review<'a>> {
        let date = |v: &Value| match v {
            Value::Date(d) => Some(*d),
            _ => None,
        };
        Some(Review {
            cohort: batch.str(&row[0]).filter(|s| !s.is_empty()),
            due: date(&row[1])?,
            completed: date(&row[2]),
        })
    }

    /// The kind must have the columns this reads; names the first one it lacks.
    pub fn missing_column(kind: &KindDef) -> Option<&'static str> {
        REVIEW_COLUMNS
            .into_iter()
            .find(|c| kind.position(c).is_none())
    }
}

/// Check a KPI's `cohorts` and the keys a reviews measure ignores; pure. `bad(key, message)`.
pub fn check(key: &str, k: &KpiSettings, bad: &mut dyn FnMut(String, String)) {
    let transition = k.measure == Some(Measure::TransitionReviewsByDeadline);
    if transition && k.cohorts.is_empty() {
        bad(
            format!("{key}.cohorts"),
            "measure transition_reviews_by_deadline needs its cohorts, e.g. \
             [{ cohort = \"Yr 6\", deadline = \"02-15\" }]"
                .into(),
        );
    }
    if !transition && !k.cohorts.is_empty() {
        bad(
            format!("{key}.cohorts"),
            "cohorts go with measure transition_reviews_by_deadline only".into(),
        );
    }
    for (i, c) in k.cohorts.iter().enumerate() {
        let ckey = format!("{key}.cohorts[{i}]");
        if c.cohort.trim().is_empty() {
            bad(format!("{ckey}.cohort"), "must not be empty".into());
        } else if k.cohorts[..i].iter().any(|o| o.cohort == c.cohort) {
            bad(
                format!("{ckey}.cohort"),
                format!("`{}` is given twice", c.cohort),
            );
        }
        if c.month_day().is_none() {
            bad(
                format!("{ckey}.deadline"),
                "not a day of the year as MM-DD (e.g. \"02-15\" for 15 February; not 02-29)".into(),
            );
        }
    }
    let reviews = matches!(
        k.measure,
        Some(Measure::TransitionReviewsByDeadline | Measure::OtherReviewsCompleted)
    );
    if reviews && k.started_from.is_some() {
        bad(
            format!("{key}.started_from"),
            "a reviews measure counts the academic year its reviews fall due in; \
             started_from does not apply"
                .into(),
        );
    }
}

/// Which reviews a counter counts, and by when each must be done.
#[derive(Debug, Clone)]
enum Scope {
    /// The transition cohorts listed, each with its deadline.
    Cohorts(Vec<Cohort>),
    /// Reviews with no transition cohort; done by the end of the academic year.
    Others,
}

/// One academic year's reviews: how many are due in it, and from which month each completed
/// one counts.
#[derive(Debug, Clone, Default)]
struct Year {
    due: u64,
    counts_from: BTreeMap<Month, u64>,
}

/// Fold reviews into each academic year's cumulative monthly figures ([`ReviewCounter::counts`]).
#[derive(Debug, Clone)]
pub struct ReviewCounter {
    scope: Scope,
    as_of: NaiveDate,
    years: BTreeMap<Period, Year>,
    overdue_open: u64,
}

impl ReviewCounter {
    /// A counter for `measure` (a reviews measure; any other counts nothing in scope but the
    /// reviews without a cohort) with the KPI's `cohorts`.
    pub fn new(measure: Measure, cohorts: &[Cohort], as_of: NaiveDate) -> ReviewCounter {
        let scope = match measure {
            Measure::TransitionReviewsByDeadline => Scope::Cohorts(cohorts.to_vec()),
            _ => Scope::Others,
        };
        ReviewCounter {
            scope,
            as_of,
            years: BTreeMap::new(),
            overdue_open: 0,
        }
    }

    pub fn add(&mut self, r: &Review<'_>) {
        let year = Period::containing(PeriodKind::AcademicYear, Month::of(r.due));
        let year_end = year.last_month().last_day();
        let by = match (&self.scope, r.cohort) {
            (Scope::Others, None) => year_end,
            (Scope::Cohorts(cohorts), Some(name)) => {
                let Some(c) = cohorts.iter().find(|c| c.cohort == name) else {
                    return;
                };
                // The catalogue check refuses a deadline that is no day; this never falls back.
                c.deadline_in(year.first_month().first_day().year())
                    .unwrap_or(year_end)
            }
            _ => return,
        };
        let y = self.years.entry(year).or_default();
        y.due += 1;
        match r.completed {
            Some(done) if done <= by => {
                let from = Month::of(done).max(year.first_month());
                *y.counts_from.entry(from).or_default() += 1;
            }
            Some(_) => {}
            None if self.as_of > r.due.min(by) => self.overdue_open += 1,
            None => {}
        }
    }

    /// Each academic year's months up to the as-of month, each with its figure at the month's
    /// end; plus the reviews overdue at the as-of date.
    pub fn counts(&self) -> MonthlyCounts {
        let last = Month::of(self.as_of);
        let mut out = MonthlyCounts {
            overdue_open: self.overdue_open,
            ..MonthlyCounts::default()
        };
        for (year, y) in &self.years {
            let mut done = 0;
            for m in year.months().take_while(|m| *m <= last) {
                done += y.counts_from.get(&m).copied().unwrap_or(0);
                out.by_month.insert(
                    m,
                    Count {
                        numerator: done,
                        denominator: y.due,
                    },
                );
            }
        }
        out
    }
}

/// Fold a slice of reviews (tests and small tools).
pub fn monthly_reviews(
    measure: Measure,
    cohorts: &[Cohort],
    reviews: &[Review<'_>],
    as_of: NaiveDate,
) -> MonthlyCounts {
    let mut c = ReviewCounter::new(measure, cohorts, as_of);
    for r in reviews {
        c.add(r);
    }
    c.counts()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn m(s: &str) -> Month {
        s.parse().expect("month")
    }

    fn cohorts() -> Vec<Cohort> {
        [("Yr 6", "02-15"), ("Yr 9", "08-31"), ("Yr 11", "03-31")]
            .map(|(c, dl)| Cohort {
                cohort: c.into(),
                deadline: dl.into(),
            })
            .to_vec()
    }

    fn r(cohort: Option<&'static str>, due: &str, done: Option<&str>) -> Review<'static> {
        Review {
            cohort,
            due: d(due),
            completed: done.map(d),
        }
    }

    fn at(c: &MonthlyCounts, month: &str) -> (u64, u64) {
        let x = c.by_month[&m(month)];
        (x.numerator, x.denominator)
    }

    const T: Measure = Measure::TransitionReviewsByDeadline;
    const O: Measure = Measure::OtherReviewsCompleted;

    #[test]
    fn a_deadline_is_the_day_itself_and_falls_in_the_academic_years_spring() {
        let six = &cohorts()[0];
        assert_eq!(six.deadline_in(2020), Some(d("2021-02-15")));
        let autumn = Cohort {
            cohort: "x".into(),
            deadline: "10-31".into(),
        };
        assert_eq!(autumn.deadline_in(2020), Some(d("2020-10-31")));
        for bad in ["2-15", "02-30", "02-29", "15-02", "0215", "02-1x", ""] {
            let c = Cohort {
                cohort: "x".into(),
                deadline: bad.into(),
            };
            assert_eq!(c.month_day(), None, "{bad}");
        }
        let as_of = d("2021-07-31");
        let reviews = [
            r(Some("Yr 6"), "2021-03-01", Some("2021-02-15")), // on the deadline: counts
            r(Some("Yr 6"), "2021-03-01", Some("2021-02-16")), // a day late: never counts
            r(Some("Yr 11"), "2021-05-01", Some("2021-03-31")), // on the deadline
            r(Some("Yr 11"), "2021-05-01", Some("2021-04-01")), // a day late
        ];
        let c = monthly_reviews(T, &cohorts(), &reviews, as_of);
        assert_eq!(at(&c, "2021-01"), (0, 4));
        assert_eq!(at(&c, "2021-02"), (1, 4));
        assert_eq!(at(&c, "2021-03"), (2, 4));
        assert_eq!(at(&c, "2021-07"), (2, 4), "late ones stay out all year");
        // Not completed and past the deadline: none here (all four were done).
        assert_eq!(c.overdue_open, 0);
    }

    #[test]
    fn the_figure_is_cumulative_over_the_academic_year_and_starts_again_in_september() {
        let as_of = d("2021-10-31");
        let reviews = [
            // Academic year 2020/21: three other reviews.
            r(None, "2020-09-20", Some("2020-08-30")), // done before the year: counts from Sep
            r(None, "2020-11-10", Some("2021-01-05")), // late, counts from January
            r(None, "2021-06-01", None),               // never done: overdue
            // 2021/22: two, one done in October.
            r(None, "2021-10-01", Some("2021-10-02")),
            r(None, "2022-03-01", None), // not due yet: in the denominator, not overdue
            // Another KPI's reviews.
            r(Some("Yr 6"), "2021-01-10", Some("2021-01-01")),
        ];
        let c = monthly_reviews(O, &[], &reviews, as_of);
        assert_eq!(at(&c, "2020-09"), (1, 3));
        assert_eq!(at(&c, "2020-12"), (1, 3));
        assert_eq!(at(&c, "2021-01"), (2, 3));
        assert_eq!(at(&c, "2021-08"), (2, 3));
        assert_eq!(
            at(&c, "2021-09"),
            (0, 2),
            "a new academic year, a new cohort"
        );
        assert_eq!(at(&c, "2021-10"), (1, 2));
        assert!(
            !c.by_month.contains_key(&m("2021-11")),
            "nothing past as-of"
        );
        assert!(!c.by_month.contains_key(&m("2020-08")));
        assert_eq!(c.overdue_open, 1);
        assert_eq!(Measure::OtherReviewsCompleted.value(1, 2), Some(50.0));
    }

    #[test]
    fn only_the_listed_cohorts_count_and_overdue_is_past_the_earlier_of_due_and_deadline() {
        let as_of = d("2021-03-10");
        let reviews = [
            r(Some("Yr 6"), "2021-06-01", None), // due in June, but past 15 Feb: overdue
            r(Some("Yr 11"), "2021-06-01", None), // deadline 31 Mar not yet: not overdue
            r(Some("Yr 9"), "2021-01-01", None), // past due: overdue
            r(Some("Yr 9"), "2021-05-01", Some("2020-12-01")),
            r(Some("Yr 10"), "2021-01-01", None), // not a listed cohort
            r(None, "2021-01-01", None),          // not a cohort at all
        ];
        let c = monthly_reviews(T, &cohorts(), &reviews, as_of);
        assert_eq!(at(&c, "2020-11"), (0, 4));
        assert_eq!(at(&c, "2020-12"), (1, 4));
        assert_eq!(at(&c, "2021-03"), (1, 4));
        assert_eq!(c.overdue_open, 2);
        // Yr 6 and Yr 11 only (the March version's scope): Yr 9 is out.
        let two = [cohorts()[0].clone(), cohorts()[2].clone()];
        let c = monthly_reviews(T, &two, &reviews, as_of);
        assert_eq!(at(&c, "2021-03"), (0, 2));
        assert_eq!(c.overdue_open, 1);
    }

    #[test]
    fn no_reviews_no_months() {
        let c = monthly_reviews(T, &cohorts(), &[], d("2021-07-31"));
        assert_eq!(c, MonthlyCounts::default());
    }
}
