//! Monthly numerators and denominators for each measure.
//!
//! KPI 1/2 and 1/2a: on time = final plan − request ≤ 140 days (20 weeks).
//! `decision_within_6_weeks`: on time = the decision on the request − the request ≤ 42 days
//! (the statutory 6 weeks), over the requests decided (withdrawn undecided ones are not);
//! its backlog is the requests still awaiting a decision past 42 days.
//! KPI 1/5: on time = advice returned − advice requested ≤ 42 days (6 weeks); only returned
//! advice is counted, as the plan defines it (DOMAIN 2.3); advice still out is reported apart.
//! KPI 5/1-5/4 (average waits) are folded by [`super::wait`], KPI 1/3 and 1/3a (reviews) by
//! [`super::reviews`]; [`Fold`] runs any of the three kinds over a scanned row.
//!
//! KPI 1/2 and 1/2a read a SEN2 return's requests (a kind with [`SEN2_REQUEST_COLUMNS`]) as
//! they read the tracker: the plan's start is the final plan, and a request is open while it
//! is undecided, being assessed, or decided to issue without a plan yet (the tracker's open
//! statuses, EXTRACTS.md's mapping). A KPI may leave out the requests whose assessment has the
//! 20-week exceptions (`week20_exceptions = "exclude"`, the DfE's `_ex` figures): they are
//! then not counted at all, in neither the numerator nor the denominator, nor the backlog.
//!
//! Beside 1/2 and 1/2a, `overdue_open` is the assessment backlog: requests still open
//! ([`OPEN_STATUSES`]; withdrawn, refused and not-issuing cases are closed) and more than 140
//! days old at the data's as-of date. It counts every open request, whatever its request date:
//! the board's backlog ("147 cases ... reduced to 8", 004:1270) is every late case still
//! open, and those are the oldest, so `started_from` would hide them. The backlog is also a
//! dated series ([`MonthlyCounts::overdue_open_at`]), as the seeds print it (147 -> 17 -> 8,
//! 004:1532, 004:1271, 004:1503): at each month's end before the as-of date, the requests open
//! then ([`TrackerCase::ended`] after it) and more than 140 days old then. Beside 1/5 it is the
//! advice outstanding: requested more than 42 days ago, not returned, for a case still open
//! (advice never returned for a case since closed is no longer awaited).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::Month;
use super::reviews::{REVIEW_COLUMNS, Review, ReviewCounter};
use super::wait::{PROVIDER_COLUMNS, Referral, WaitCounter};
use super::{Basis, KpiSettings, Measure};
use crate::load::{Batch, KindDef, Value};

/// Tracker columns the tracker KPIs read, in the order [`TrackerCase::from_row`] expects.
pub const TRACKER_COLUMNS: [&str; 7] = [
    "request_received_date",
    "health_advice_requested_date",
    "health_advice_returned_date",
    "final_plan_issued_date",
    "status",
    // When a request closed without a plan is known to have still been moving (the backlog).
    "decision_to_assess_date",
    "draft_plan_issued_date",
];

/// A SEN2 return's request columns the 20-week KPIs read (kind `sen2_requests`), in the
/// order [`TrackerCase::from_sen2_row`] expects.
pub const SEN2_REQUEST_COLUMNS: [&str; 6] = [
    "received_date",
    "request_outcome",
    "assessment_outcome",
    "week20_exceptions",
    "plan_start_date",
    "request_outcome_date",
];

/// Whether a 20-week KPI read from a SEN2 return counts the requests whose assessment has the
/// 20-week exceptions (Week20 = 1): `include` (the default, as the tracker counts every case)
/// or `exclude` (as the DfE's figures "excluding exceptions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Week20 {
    #[default]
    Include,
    Exclude,
}

/// Statuses of a request still moving towards a plan: its 20-week clock is running.
pub const OPEN_STATUSES: [&str; 3] = [
    "Awaiting decision",
    "Assessment in progress",
    "Draft plan issued",
];

/// What the tracker KPIs need of one request for assessment (no id, nothing else).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackerCase {
    pub request_received: NaiveDate,
    pub health_advice_requested: Option<NaiveDate>,
    pub health_advice_returned: Option<NaiveDate>,
    pub final_plan_issued: Option<NaiveDate>,
    /// Status is one of [`OPEN_STATUSES`].
    pub open: bool,
    /// The decision on the request (to assess or not), if made.
    pub decision: Option<NaiveDate>,
    /// No decision yet, and none given up on: the request awaits one.
    pub awaiting_decision: bool,
    /// The day the request stopped being open, as far as its dates tell: its final plan's;
    /// for one closed without a plan (refused, withdrawn, not issuing: the tracker carries no
    /// date of that), the latest date it carries, so that it counts in a past backlog only
    /// while its own dates show it was still moving. `None` while it is open.
    pub ended: Option<NaiveDate>,
}

impl TrackerCase {
    /// Read a row of [`TRACKER_COLUMNS`] (as a store scan returns them). `None` if the row
    /// lacks its request date, which a validated load never does.
    pub fn from_row(batch: &Batch, row: &[Value]) -> Option<TrackerCase> {
        let date = |v: &Value| match v {
            Value::Date(d) => Some(*d),
            _ => None,
        };
        let request_received = date(&row[0])?;
        let health_advice_requested = date(&row[1]);
        let health_advice_returned = date(&row[2]);
        let final_plan_issued = date(&row[3]);
        let open = batch
            .str(&row[4])
            .is_some_and(|s| OPEN_STATUSES.contains(&s));
        let ended = match (final_plan_issued, open) {
            (Some(plan), _) => Some(plan),
            (None, true) => None,
            (None, false) => [
                health_advice_requested,
                health_advice_returned,
                date(&row[5]),
                date(&row[6]),
            ]
            .into_iter()
            .flatten()
            .chain([request_received])
            .max(),
        };
        Some(TrackerCase {
            request_received,
            health_advice_requested,
            health_advice_returned,
            final_plan_issued,
            open,
            ended,
            decision: date(&row[5]),
            awaiting_decision: batch.str(&row[4]) == Some("Awaiting decision"),
        })
    }

    /// The kind must have the columns this reads; names the first one it lacks.
    pub fn missing_column(kind: &KindDef) -> Option<&'static str> {
        TRACKER_COLUMNS
            .into_iter()
            .find(|c| kind.position(c).is_none())
    }

    /// A kind of SEN2 requests: it has every one of [`SEN2_REQUEST_COLUMNS`].
    pub fn is_sen2(kind: &KindDef) -> bool {
        SEN2_REQUEST_COLUMNS
            .iter()
            .all(|c| kind.position(c).is_some())
    }

    /// Read a row of [`SEN2_REQUEST_COLUMNS`]. `None` if it lacks its request date, or if
    /// `week20` leaves it out (its assessment has the exceptions).
    pub fn from_sen2_row(batch: &Batch, row: &[Value], week20: Week20) -> Option<TrackerCase> {
        let date = |v: &Value| match v {
            Value::Date(d) => Some(*d),
            _ => None,
        };
        if week20 == Week20::Exclude && row[3] == Value::Flag(true) {
            return None;
        }
        let plan = date(&row[4]);
        let decided = |v: &Value| batch.str(v).filter(|s| *s != "pending");
        let awaiting_decision = decided(&row[1]).is_none();
        let open = plan.is_none()
            && match decided(&row[1]) {
                None => true,
                Some("assess") => matches!(decided(&row[2]), None | Some("issue")),
                Some(_) => false,
            };
        let request_received = date(&row[0])?;
        let decision = date(&row[5]);
        // As for a tracker row: a request closed without a plan ended on the last day it
        // carries (its decision's), so that it leaves a past backlog then.
        let ended = match (plan, open) {
            (Some(plan), _) => Some(plan),
            (None, true) => None,
            (None, false) => Some(decision.map_or(request_received, |d| d.max(request_received))),
        };
        Some(TrackerCase {
            request_received,
            health_advice_requested: None,
            health_advice_returned: None,
            final_plan_issued: plan,
            open,
            ended,
            decision,
            awaiting_decision,
        })
    }
}

/// Statutory limit from request to final EHC plan.
pub const EHCP_LIMIT_DAYS: i64 = 140;
/// Limit from the LA's request for health advice to its return.
pub const HEALTH_ADVICE_LIMIT_DAYS: i64 = 42;
/// Limit from a request for assessment to the decision whether to assess.
pub const DECISION_LIMIT_DAYS: i64 = 42;

/// Cases on time out of cases counted; for an average wait, the total of the weeks waited
/// over the referrals counted ([`Measure::value`] reads it either way).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    pub numerator: u64,
    pub denominator: u64,
}

impl Count {
    /// The percentage, or `None` when nothing was counted ("no data", never 0).
    pub fn percent(&self) -> Option<f64> {
        // Multiply first so that whole-number results are exact (1500/100, not 0.15*100).
        (self.denominator > 0).then(|| self.numerator as f64 * 100.0 / self.denominator as f64)
    }
}

/// Counts per month, plus the cases still open past the limit at the data's as-of date (and,
/// for the backlog, at each month's end before it).
///
/// For a flow (tracker measures, waits) a month holds what happened in it, and a longer
/// period's figure is the sum of its months. For a cumulative measure (the reviews,
/// [`Measure::aggregation`] is `Last`) a month holds the figure at its end, cumulated over the
/// academic year, and a period's figure is its last month's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MonthlyCounts {
    pub by_month: BTreeMap<Month, Count>,
    pub overdue_open: u64,
    /// Cases still open at the as-of date, late or not (counted for average waits only: the
    /// referrals still waiting).
    pub waiting: u64,
    /// The backlog (1/2, 1/2a) as a dated series: the requests open past the limit at the end
    /// of each month before the as-of date's (a month absent: none). `None` for the other
    /// measures, whose open cases are counted at the as-of date only.
    pub overdue_open_by_month: Option<BTreeMap<Month, u64>>,
}

impl MonthlyCounts {
    /// The cases open past the limit at the end of `period`, or at `as_of` for a period that
    /// ends on or after it (the data go no further); at `as_of` whatever the period for a
    /// measure with no dated series.
    pub fn overdue_open_at(&self, period: super::Period, as_of: NaiveDate) -> u64 {
        let last = period.last_month();
        match &self.overdue_open_by_month {
            Some(by_month) if last.last_day() < as_of => by_month.get(&last).copied().unwrap_or(0),
            _ => self.overdue_open,
        }
    }
}

/// The clock of one case for one measure: when it started, when it stopped (if it has).
struct Clock {
    start: NaiveDate,
    stop: Option<NaiveDate>,
    /// Still running (not closed without stopping the clock): once past the limit, known late.
    open: bool,
    /// Still awaited: open, and its case too (counted in `overdue_open` once past the limit).
    awaited: bool,
}

fn clock(measure: Measure, c: &TrackerCase) -> Option<Clock> {
    match measure {
        Measure::EhcpWithin20Weeks => Some(Clock {
            start: c.request_received,
            stop: c.final_plan_issued,
            open: c.final_plan_issued.is_none() && c.open,
            awaited: c.final_plan_issued.is_none() && c.open,
        }),
        Measure::DecisionWithin6Weeks => Some(Clock {
            start: c.request_received,
            stop: c.decision,
            open: c.decision.is_none() && c.awaiting_decision,
            awaited: c.decision.is_none() && c.awaiting_decision,
        }),
        Measure::HealthAdviceWithin6Weeks => c.health_advice_requested.map(|start| Clock {
            start,
            stop: c.health_advice_returned,
            open: c.health_advice_returned.is_none(),
            awaited: c.health_advice_returned.is_none() && c.open,
        }),
        // Not a tracker measure: a [`Counter`] for it counts nothing.
        Measure::AverageWaitWeeks
        | Measure::TransitionReviewsByDeadline
        | Measure::OtherReviewsCompleted => None,
    }
}

fn limit_days(measure: Measure) -> i64 {
    match measure {
        Measure::EhcpWithin20Weeks => EHCP_LIMIT_DAYS,
        Measure::HealthAdviceWithin6Weeks => HEALTH_ADVICE_LIMIT_DAYS,
        Measure::DecisionWithin6Weeks => DECISION_LIMIT_DAYS,
        Measure::AverageWaitWeeks => super::wait::WAIT_LIMIT_DAYS,
        // Reviews have their own deadlines ([`super::reviews`]); a `Counter` never asks.
        Measure::TransitionReviewsByDeadline | Measure::OtherReviewsCompleted => 0,
    }
}

/// Count every case into its month, one case at a time, so a whole extract never has to be
/// held.
///
/// `Basis::Completed` counts a case in the month its clock stopped. `Basis::Started` counts it
/// in the month its clock started, and also counts cases still open and already past the limit
/// at `as_of` (they are known to be late), so recent months are not flattered by survivorship.
#[derive(Debug, Clone)]
pub struct Counter {
    pub measure: Measure,
    pub basis: Basis,
    pub started_from: Option<NaiveDate>,
    pub as_of: NaiveDate,
    pub counts: MonthlyCounts,
    /// The backlog's changes by month ([`Counter::count_backlog`]): +1 in the first month a
    /// request ends past the limit and open, -1 in the first it does not; summed by
    /// [`Counter::finish`].
    backlog: BTreeMap<Month, i64>,
}

impl Counter {
    pub fn new(
        measure: Measure,
        basis: Basis,
        started_from: Option<NaiveDate>,
        as_of: NaiveDate,
    ) -> Counter {
        Counter {
            measure,
            basis,
            started_from,
            as_of,
            counts: MonthlyCounts::default(),
            backlog: BTreeMap::new(),
        }
    }

    /// The counts, with the backlog's dated series summed up (the assessment measure only).
    pub fn finish(mut self) -> MonthlyCounts {
        if self.measure == Measure::EhcpWithin20Weeks {
            let mut by_month = BTreeMap::new();
            let mut open = 0i64;
            let mut m = self.backlog.keys().next().copied();
            let last = Month::of(self.as_of).prev();
            while let Some(month) = m.filter(|m| *m <= last) {
                open += self.backlog.get(&month).copied().unwrap_or(0);
                if open > 0 {
                    by_month.insert(month, open.unsigned_abs());
                }
                m = Some(month.next());
            }
            self.counts.overdue_open_by_month = Some(by_month);
        }
        self.counts
    }

    /// Count a request into the backlog of each month's end before the as-of date's (the as-of
    /// month's is `overdue_open`) at which it was open (received, not yet [`TrackerCase::ended`])
    /// and more than the limit's days old.
    fn count_backlog(&mut self, case: &TrackerCase) {
        let Some(late) = case
            .request_received
            .checked_add_days(chrono::Days::new(EHCP_LIMIT_DAYS.unsigned_abs() + 1))
        else {
            return;
        };
        let first = Month::of(late);
        // Open at a month's end while that end is before the day it ended.
        let last = Month::of(self.as_of).prev();
        let last = case.ended.map_or(last, |e| Month::of(e).prev().min(last));
        if first <= last {
            *self.backlog.entry(first).or_default() += 1;
            *self.backlog.entry(last.next()).or_default() -= 1;
        }
    }

    pub fn add(&mut self, case: &TrackerCase) {
        let limit = limit_days(self.measure);
        let Some(clock) = clock(self.measure, case) else {
            return;
        };
        let past_limit = (self.as_of - clock.start).num_days() > limit;
        let overdue_now = clock.open && past_limit;
        // The backlog counts every open case, before the cohort filter (see the module doc).
        if clock.awaited && past_limit {
            self.counts.overdue_open += 1;
        }
        if self.measure == Measure::EhcpWithin20Weeks {
            self.count_backlog(case);
        }
        if self.started_from.is_some_and(|from| clock.start < from) {
            return;
        }
        let (month, on_time) = match (self.basis, clock.stop) {
            (Basis::Completed, Some(stop)) => {
                (Month::of(stop), (stop - clock.start).num_days() <= limit)
            }
            (Basis::Completed, None) => return,
            (Basis::Started, Some(stop)) => (
                Month::of(clock.start),
                (stop - clock.start).num_days() <= limit,
            ),
            (Basis::Started, None) if overdue_now => (Month::of(clock.start), false),
            (Basis::Started, None) => return,
        };
        let count = self.counts.by_month.entry(month).or_default();
        count.denominator += 1;
        if on_time {
            count.numerator += 1;
        }
    }
}

/// One KPI's fold over a scan of its source: a tracker [`Counter`] (over a tracker, or over
/// a SEN2 return's requests), a [`WaitCounter`] or a [`ReviewCounter`].
#[derive(Debug, Clone)]
pub enum Fold {
    Tracker(Counter),
    Sen2(Counter, Week20),
    Wait(WaitCounter),
    Reviews(ReviewCounter),
}

impl Fold {
    /// The fold of `measure` for `kpi` over its source, whose `kind` (when known) says whether
    /// it is a tracker or a SEN2 return.
    pub fn new(
        measure: Measure,
        kpi: &KpiSettings,
        as_of: NaiveDate,
        kind: Option<&KindDef>,
    ) -> Fold {
        match measure {
            Measure::EhcpWithin20Weeks | Measure::DecisionWithin6Weeks
                if kind.is_some_and(TrackerCase::is_sen2) =>
            {
                Fold::Sen2(
                    Counter::new(measure, kpi.basis, kpi.started_from, as_of),
                    kpi.week20_exceptions,
                )
            }
            Measure::AverageWaitWeeks => Fold::Wait(WaitCounter::new(
                kpi.service.as_deref().unwrap_or_default(),
                kpi.basis,
                as_of,
            )),
            Measure::TransitionReviewsByDeadline | Measure::OtherReviewsCompleted => {
                Fold::Reviews(ReviewCounter::new(measure, &kpi.cohorts, as_of))
            }
            Measure::EhcpWithin20Weeks
            | Measure::HealthAdviceWithin6Weeks
            | Measure::DecisionWithin6Weeks => {
                Fold::Tracker(Counter::new(measure, kpi.basis, kpi.started_from, as_of))
            }
        }
    }

    /// The columns [`Fold::add_batch`] expects, in order; folds with the same columns can share
    /// one scan.
    pub fn columns(&self) -> &'static [&'static str] {
        match self {
            Fold::Tracker(_) => &TRACKER_COLUMNS,
            Fold::Sen2(..) => &SEN2_REQUEST_COLUMNS,
            Fold::Wait(_) => &PROVIDER_COLUMNS,
            Fold::Reviews(_) => &REVIEW_COLUMNS,
        }
    }

    /// The first column `measure` needs that `kind` lacks.
    pub fn missing_column(measure: Measure, kind: &KindDef) -> Option<&'static str> {
        match measure {
            Measure::AverageWaitWeeks => Referral::missing_column(kind),
            Measure::TransitionReviewsByDeadline | Measure::OtherReviewsCompleted => {
                Review::missing_column(kind)
            }
            Measure::EhcpWithin20Weeks | Measure::DecisionWithin6Weeks
                if TrackerCase::is_sen2(kind) =>
            {
                None
            }
            Measure::EhcpWithin20Weeks
            | Measure::HealthAdviceWithin6Weeks
            | Measure::DecisionWithin6Weeks => TrackerCase::missing_column(kind),
        }
    }

    /// Add every row of a scanned batch to `folds`, which share one [`Fold::columns`]: each
    /// row is read once, however many folds count it.
    pub fn add_batch(folds: &mut [Fold], batch: &Batch) {
        for (_, row) in batch.rows() {
            let mut case = None;
            let mut referral = None;
            let mut review = None;
            for f in folds.iter_mut() {
                match f {
                    Fold::Tracker(c) => {
                        if let Some(case) =
                            case.get_or_insert_with(|| TrackerCase::from_row(batch, row))
                        {
                            c.add(case);
                        }
                    }
                    // Read afresh for each: folds over one scan may differ in `week20`.
                    Fold::Sen2(c, week20) => {
                        if let Some(case) = TrackerCase::from_sen2_row(batch, row, *week20) {
                            c.add(&case);
                        }
                    }
                    Fold::Wait(c) => {
                        if let Some(r) =
                            referral.get_or_insert_with(|| Referral::from_row(batch, row))
                        {
                            c.add(r);
                        }
                    }
                    Fold::Reviews(c) => {
                        if let Some(r) = review.get_or_insert_with(|| Review::from_row(batch, row))
                        {
                            c.add(r);
                        }
                    }
                }
            }
        }
    }

    pub fn into_counts(self) -> MonthlyCounts {
        match self {
            Fold::Tracker(c) | Fold::Sen2(c, _) => c.finish(),
            Fold::Wait(c) => c.counts,
            Fold::Reviews(c) => c.counts(),
        }
    }
}

/// Count a slice of cases (tests and small tools).
pub fn monthly_counts(
    measure: Measure,
    basis: Basis,
    started_from: Option<NaiveDate>,
    cases: &[TrackerCase],
    as_of: NaiveDate,
) -> MonthlyCounts {
    let mut c = Counter::new(measure, basis, started_from, as_of);
    for case in cases {
        c.add(case);
    }
    c.finish()
}
