//! One KPI, one period: value, previous value, year to date, target in force, rating and
//! wording.
//!
//! Owns: putting a KPI's figures beside its target in force ([`super::target_in_force`], read
//! at the period's last month) and the rating states that are not a colour: before the first
//! milestone or the cohort's start is NOT YET DUE; a milestone without a figure ("NA", a
//! baseline still to be established, a national average not entered) is NO TARGET, or
//! BASELINE OVERDUE once the date for the baseline has passed. Only RED, NO DATA and BASELINE
//! OVERDUE are exceptions, so nothing is mailed for the others.

use chrono::NaiveDate;

use super::{
    Aggregation, Basis, Better, KpiSettings, Measure, PeriodKind, RagSettings, Target, Unit,
};
use super::{
    Count, Milestone, Month, MonthlyCounts, Period, Rag, TargetInForce, Travel, baseline_in_force,
    direction_of_travel, rate, target_in_force,
};
use crate::disclose::{Disclosure, Offer, Series, Shape, Span, Verdict};

/// What may be shown of an evaluation's figures: decided over the KPI's whole series by a
/// run ([`super::publish`]), else each figure alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown {
    pub current: Verdict,
    pub previous: Verdict,
    pub year_to_date: Verdict,
}

impl Shown {
    /// Each figure taken alone.
    pub fn alone(f: &Figures, average: bool, d: Disclosure) -> Shown {
        let one = |f: Option<Figure>| f.map_or(Verdict::OPEN, |f| f.alone(average, d));
        Shown {
            current: one(f.current),
            previous: one(f.previous),
            year_to_date: one(f.year_to_date),
        }
    }
}

/// A period's figure: the value, and the numerator and denominator behind it where there
/// are (every computed KPI; a manual one when they were entered).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figure {
    pub value: f64,
    pub count: Option<Count>,
}

impl Figure {
    /// What disclosure control lets be shown of the figure taken alone: an average over
    /// enough referrals, a share with no small part ([`crate::disclose`]). A value entered
    /// without its counts has nothing to hide. Beside the KPI's other periods it may have to
    /// hide more ([`super::publish`]).
    pub fn alone(&self, average: bool, d: Disclosure) -> Verdict {
        let Some(c) = self.count else {
            return Verdict::OPEN;
        };
        let shape = if average {
            Shape::Average
        } else {
            Shape::Share
        };
        Series::new(d, shape).offer(Offer {
            span: Span {
                axis: 0,
                from: 0,
                to: 1,
            },
            numerator: c.numerator,
            denominator: c.denominator,
        })
    }

    /// The value as written: itself, or under the rounding policy a share's percentage
    /// worked from its rounded counts.
    pub fn written(&self, average: bool, d: Disclosure) -> Option<f64> {
        match self.count {
            Some(c) if !average => d.share_value(self.value, c.numerator, c.denominator),
            _ => Some(self.value),
        }
    }

    /// What stands in for a figure too small to be shown.
    pub fn hidden_text(average: bool, d: Disclosure) -> String {
        Figure::hidden_as(Verdict::SMALL, average, d)
    }

    /// What stands in for a figure not shown, as decided (`v`).
    pub fn hidden_as(v: Verdict, average: bool, d: Disclosure) -> String {
        let why = if average { "referrals" } else { "in a count" };
        d.hidden_words(v, &format!("{} {why}", d.hidden()))
    }
}

/// What a rating follows besides the KPI's own settings: the AMBER band of a KPI that sets
/// none, per unit (`[rag]`), and the disclosure rules its wording is written by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    pub rag: RagSettings,
    pub disclosure: Disclosure,
}

impl Rules {
    /// `[rag]` as configured.
    pub fn of(rag: RagSettings, disclosure: Disclosure) -> Self {
        Rules { rag, disclosure }
    }

    /// `points` for percentages, the other units' bands at their defaults (tests and small
    /// tools).
    pub fn new(points: f64, disclosure: Disclosure) -> Self {
        Rules::of(RagSettings::with_points(points), disclosure)
    }
}

/// Everything an exception report says about one KPI.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub kpi_id: String,
    pub title: String,
    /// Key of the owning sub-group.
    pub owner: String,
    /// What computed it; `None` for a value entered by hand.
    pub measure: Option<Measure>,
    pub unit: Unit,
    pub basis: Basis,
    pub better: Better,
    /// The baseline in force for the period, as printed.
    pub baseline: String,
    pub period: Period,
    pub current: Option<Figure>,
    pub previous: Option<Figure>,
    /// From the start of the KPI's year (`year`) to the end of the period.
    pub year_to_date: Option<Figure>,
    /// The figure in force and its milestone, when the milestone in force gives a figure.
    pub milestone: Option<Milestone>,
    /// The milestone in force whatever its kind, with its version and how it resolved.
    pub in_force: Option<TargetInForce>,
    pub rag: Rag,
    pub direction: String,
    /// What may be shown of `current`, `previous` and `year_to_date`.
    pub shown: Shown,
    /// Cases open and already past the limit at `as_of` (advice outstanding, reviews overdue,
    /// referrals waiting more than 18 weeks); the backlog (1/2, 1/2a) at the end of `period`
    /// when that is before `as_of` ([`MonthlyCounts::overdue_open_at`]).
    pub overdue_open: u64,
    /// Referrals still waiting at `as_of` (average waits only; 0 for the tracker measures).
    pub waiting: u64,
    /// Last date the data has events for (a computed KPI), or the day of the run.
    pub as_of: NaiveDate,
}

impl Evaluation {
    /// Whether its readers may be told its rating: no value (NO DATA is no figure), or a
    /// value disclosure control rates. A KPI they may not be told the rating of is neither in
    /// exception nor back on track to them: being listed as either would rate it.
    pub fn rated(&self) -> bool {
        self.current.is_none() || self.shown.current.rated
    }

    /// The period's value: a percentage, an average in weeks, a figure entered.
    pub fn value(&self) -> Option<f64> {
        self.current.map(|f| f.value)
    }
    pub fn previous_value(&self) -> Option<f64> {
        self.previous.map(|f| f.value)
    }
    pub fn count(&self) -> Option<Count> {
        self.current.and_then(|f| f.count)
    }
    pub fn previous_count(&self) -> Option<Count> {
        self.previous.and_then(|f| f.count)
    }
    /// A value of this KPI as reports print it, one decimal place.
    pub fn format(&self, v: f64) -> String {
        self.unit.format_one_place(v)
    }
}

/// The period a KPI of `kind` reports on: the last one complete by `as_of`.
pub fn report_period(kind: PeriodKind, as_of: NaiveDate) -> Period {
    let p = Period::containing(kind, Month::of(as_of));
    if as_of == p.last_month().last_day() {
        p
    } else {
        p.prev()
    }
}

/// The counts of `period` from the monthly counts: summed over its months, or its last
/// month's (a running total). `None` when nothing was counted.
pub fn period_count(
    counts: &MonthlyCounts,
    months: impl Iterator<Item = Month>,
    aggregation: Aggregation,
) -> Option<Count> {
    let c = match aggregation {
        Aggregation::Sum => {
            months
                .filter_map(|m| counts.by_month.get(&m))
                .fold(Count::default(), |a, c| Count {
                    numerator: a.numerator + c.numerator,
                    denominator: a.denominator + c.denominator,
                })
        }
        Aggregation::Last => months
            .filter_map(|m| counts.by_month.get(&m).copied())
            .last()
            .unwrap_or_default(),
    };
    (c.denominator > 0).then_some(c)
}

/// Evaluate one computed KPI for `period` from its monthly counts (see [`super::Counter`]),
/// each figure's disclosure decided alone.
pub fn evaluate(
    id: &str,
    kpi: &KpiSettings,
    measure: Measure,
    rules: Rules,
    counts: &MonthlyCounts,
    as_of: NaiveDate,
    period: Period,
) -> Evaluation {
    let figures = figures(kpi, measure, counts, period);
    evaluate_counted(id, kpi, measure, rules, figures, counts, as_of, period)
}

/// The figures of `period` (its own, the previous period's, its year to date) from the
/// monthly counts.
pub fn figures(
    kpi: &KpiSettings,
    measure: Measure,
    counts: &MonthlyCounts,
    period: Period,
) -> Figures {
    let agg = measure.aggregation();
    let figure = |c: Option<Count>| {
        let c = c?;
        Some(Figure {
            value: measure.value(c.numerator, c.denominator)?,
            count: Some(c),
        })
    };
    Figures {
        current: figure(period_count(counts, period.months(), agg)),
        previous: figure(period_count(counts, period.prev().months(), agg)),
        year_to_date: figure(period_count(
            counts,
            period.year_to_date(kpi.ytd_year()),
            agg,
        )),
        shown: None,
    }
}

/// Evaluate one computed KPI from `figures` of its monthly `counts` (their disclosure
/// decided over the series when `figures.shown` says so).
#[allow(clippy::too_many_arguments)]
pub fn evaluate_counted(
    id: &str,
    kpi: &KpiSettings,
    measure: Measure,
    rules: Rules,
    figures: Figures,
    counts: &MonthlyCounts,
    as_of: NaiveDate,
    period: Period,
) -> Evaluation {
    let mut e = evaluate_figures(id, kpi, rules, figures, as_of, period);
    e.measure = Some(measure);
    e.overdue_open = counts.overdue_open_at(period, as_of);
    e.waiting = counts.waiting;
    e
}

/// A period's figures, however they were arrived at.
#[derive(Debug, Clone, Copy, Default)]
pub struct Figures {
    pub current: Option<Figure>,
    pub previous: Option<Figure>,
    pub year_to_date: Option<Figure>,
    /// Decided over the KPI's series; `None`: each figure alone.
    pub shown: Option<Shown>,
}

/// Evaluate one KPI for `period` from its figures (computed or entered by hand).
pub fn evaluate_figures(
    id: &str,
    kpi: &KpiSettings,
    rules: Rules,
    figures: Figures,
    as_of: NaiveDate,
    period: Period,
) -> Evaluation {
    let last = period.last_month();
    let started = kpi.started_from.is_none_or(|from| Month::of(from) <= last);
    let in_force = target_in_force(kpi, last).filter(|_| started);
    let target = in_force.as_ref().and_then(TargetInForce::value);
    let milestone = in_force.as_ref().and_then(|t| {
        Some(Milestone {
            from: t.from,
            target: t.value()?,
            label: t.label.clone(),
        })
    });
    let baseline = baseline_in_force(kpi, last);
    let value = figures.current.map(|f| f.value);
    let pending_by = in_force.as_ref().and_then(|t| match t.target {
        Target::EstablishBaseline { by } => Some(by),
        _ => None,
    });
    let tolerance = rules.rag.band(kpi).tolerance;
    let rag = match (&in_force, pending_by) {
        (None, _) => Rag::NotYetDue,
        // The baseline was due before the period ended and is still not there.
        (Some(_), Some(Some(by))) if by < last.last_day() => Rag::BaselineOverdue,
        (Some(_), Some(_)) => Rag::NoTarget,
        (Some(_), None) => match target {
            Some(_) => rate(value, target, kpi.better, tolerance),
            None => Rag::NoTarget,
        },
    };
    let average = kpi.measure == Some(Measure::AverageWaitWeeks);
    let shown = figures
        .shown
        .unwrap_or_else(|| Shown::alone(&figures, average, rules.disclosure));
    let previous_text = figures
        .previous
        .map(|f| match f.written(average, rules.disclosure) {
            Some(v) if shown.previous.value => kpi.unit.format_one_place(v),
            _ => Figure::hidden_as(shown.previous, average, rules.disclosure),
        })
        .unwrap_or_default();
    let direction = match rag {
        Rag::NotYetDue => "Not yet due: no milestone is in force for the period.".to_string(),
        _ => direction_of_travel(&Travel {
            value,
            previous: figures.previous.map(|f| f.value),
            previous_text: &previous_text,
            target: milestone.as_ref().map(|m| (m.target, m.from)),
            baseline: baseline.value,
            baseline_pending: pending_by.is_some(),
            better: kpi.better,
            period_noun: period_noun(period.kind()),
            previous_hidden: figures.previous.is_some() && !shown.previous.rated,
        }),
    };
    Evaluation {
        kpi_id: id.to_string(),
        title: kpi.title.clone(),
        owner: kpi.owner.clone(),
        measure: None,
        unit: kpi.unit,
        basis: kpi.basis,
        better: kpi.better,
        baseline: baseline.text.clone(),
        period,
        current: figures.current,
        previous: figures.previous,
        year_to_date: figures.year_to_date,
        rag,
        direction,
        shown,
        milestone,
        in_force,
        overdue_open: 0,
        waiting: 0,
        as_of,
    }
}

/// "First month performance ...", "First quarter ...".
pub fn period_noun(kind: PeriodKind) -> &'static str {
    match kind {
        PeriodKind::Month => "month",
        PeriodKind::Quarter => "quarter",
        _ => "year",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kpi::Target;

    fn rules() -> Rules {
        Rules::new(5.0, Disclosure::default())
    }

    fn m(s: &str) -> Month {
        s.parse().expect("month")
    }
    fn p(s: &str) -> Period {
        s.parse().expect("period")
    }
    fn count(numerator: u64, denominator: u64) -> Count {
        Count {
            numerator,
            denominator,
        }
    }
    fn counts(months: &[(&str, u64, u64)]) -> MonthlyCounts {
        let mut c = MonthlyCounts::default();
        for (month, n, d) in months {
            c.by_month.insert(m(month), count(*n, *d));
        }
        c
    }

    #[test]
    fn before_the_first_milestone_or_the_cohort_is_not_yet_due_and_na_is_no_target() {
        let c = crate::kpi::catalogue::builtin().expect("catalogue");
        let counts = counts(&[("2020-02", 4, 10), ("2020-05", 4, 10)]);
        let as_of = NaiveDate::from_ymd_opt(2020, 7, 10).expect("date");
        let e = |period: &str| {
            let m = Measure::EhcpWithin20Weeks;
            evaluate("1/2a", &c["1/2a"], m, rules(), &counts, as_of, p(period))
        };
        // 1/2a counts requests from 1 Jan 2020: 2019 is before its cohort, whatever the data.
        let sep = e("2019-09");
        assert_eq!((sep.rag, sep.in_force.is_none()), (Rag::NotYetDue, true));
        assert!(!sep.rag.is_exception());
        // "NA" in force: a value, no target.
        let feb = e("2020-02");
        assert_eq!(feb.rag, Rag::NoTarget);
        assert_eq!(feb.value(), Some(40.0));
        assert_eq!(feb.milestone, None);
        assert_eq!(feb.in_force.map(|t| t.target), Some(Target::NotApplicable));
        // 15% in force from April 2020: rated as before.
        let may = e("2020-05");
        assert_eq!(
            (may.rag, may.milestone.map(|x| x.target)),
            (Rag::Green, Some(15.0))
        );
        assert_eq!(e("2020-06").rag, Rag::NoData);
        assert_eq!(may.baseline, "TBC / NA: relates to 2020 performance only");
    }

    #[test]
    fn a_baseline_past_its_date_is_overdue_and_an_exception() {
        let c = crate::kpi::catalogue::builtin().expect("catalogue");
        let as_of = NaiveDate::from_ymd_opt(2020, 1, 10).expect("date");
        // KPI 1/6: "Establish baseline by 31st October 2019", a manual KPI.
        let e = |period: &str| {
            evaluate_figures(
                "1/6",
                &c["1/6"],
                rules(),
                Figures::default(),
                as_of,
                p(period),
            )
        };
        let oct = e("2019-10");
        assert_eq!(oct.rag, Rag::NoTarget);
        assert_eq!(
            oct.direction,
            "Performance is not measured as the baseline is still to be established."
        );
        let q4 = e("2019-Q4");
        assert_eq!(q4.rag, Rag::BaselineOverdue);
        assert!(q4.rag.is_exception());
        assert_eq!(e("2019-Q3").rag, Rag::NotYetDue);
    }

    #[test]
    fn a_quarter_sums_its_months_and_year_to_date_runs_from_the_kpis_year() {
        let c = crate::kpi::catalogue::builtin().expect("catalogue");
        let as_of = NaiveDate::from_ymd_opt(2020, 12, 31).expect("date");
        let counts = counts(&[
            ("2020-04", 1, 4),
            ("2020-07", 3, 4),
            ("2020-08", 2, 4),
            ("2020-09", 1, 2),
        ]);
        let mut kpi = c["1/5"].clone();
        kpi.period = Some(PeriodKind::Quarter);
        let m = Measure::HealthAdviceWithin6Weeks;
        let q3 = evaluate("1/5", &kpi, m, rules(), &counts, as_of, p("2020-Q3"));
        assert_eq!(q3.count(), Some(count(6, 10)));
        assert_eq!(q3.value(), Some(60.0));
        assert_eq!(q3.previous_count(), Some(count(1, 4)));
        // Financial year by default: April to September.
        assert_eq!(q3.year_to_date.and_then(|f| f.count), Some(count(7, 14)));
        kpi.year = Some(PeriodKind::CalendarYear);
        let q3 = evaluate("1/5", &kpi, m, rules(), &counts, as_of, p("2020-Q3"));
        assert_eq!(q3.year_to_date.and_then(|f| f.count), Some(count(7, 14)));
        kpi.year = Some(PeriodKind::AcademicYear);
        let q3 = evaluate("1/5", &kpi, m, rules(), &counts, as_of, p("2020-Q3"));
        // The academic year 2020/21 starts in September.
        assert_eq!(q3.year_to_date.and_then(|f| f.count), Some(count(1, 2)));
    }

    #[test]
    fn a_running_total_takes_its_periods_last_month() {
        let counts = counts(&[("2020-01", 2, 10), ("2020-02", 5, 10), ("2020-04", 7, 10)]);
        let q1 = p("2020-Q1");
        assert_eq!(
            period_count(&counts, q1.months(), Aggregation::Last),
            Some(count(5, 10))
        );
        assert_eq!(
            period_count(&counts, q1.months(), Aggregation::Sum),
            Some(count(7, 20))
        );
        assert_eq!(
            period_count(&counts, p("2020-Q3").months(), Aggregation::Last),
            None
        );
    }

    #[test]
    fn a_wait_above_its_target_is_red_and_at_or_under_it_green() {
        let c = crate::kpi::catalogue::builtin().expect("catalogue");
        let as_of = NaiveDate::from_ymd_opt(2021, 7, 31).expect("date");
        let rated = |numerator: u64, denominator: u64| {
            let counts = counts(&[("2021-07", numerator, denominator)]);
            let m = Measure::AverageWaitWeeks;
            let e = evaluate("5/1", &c["5/1"], m, rules(), &counts, as_of, p("2021-07"));
            (e.value(), e.rag)
        };
        // KPI 5/1: 7 weeks in force from Jun-21, amber within 1 week, lower is better.
        assert_eq!(rated(36, 4), (Some(9.0), Rag::Red));
        assert_eq!(rated(32, 4), (Some(8.0), Rag::Amber));
        assert_eq!(rated(28, 4), (Some(7.0), Rag::Green));
        assert_eq!(rated(26, 4), (Some(6.5), Rag::Green));
        assert_eq!(rated(0, 0), (None, Rag::NoData));
    }

    #[test]
    fn each_unit_is_rated_with_its_own_band_and_a_kpi_may_set_its_own() {
        let c = crate::kpi::catalogue::builtin().expect("catalogue");
        let as_of = NaiveDate::from_ymd_opt(2021, 7, 31).expect("date");
        let rag = |id: &str, rag: RagSettings, own: Option<f64>, n: u64, d: u64| {
            let mut k = c[id].clone();
            k.amber_tolerance = own;
            let counts = counts(&[("2021-07", n, d)]);
            let measure = k.measure.expect("computed");
            let rules = Rules::of(rag, Disclosure::default());
            evaluate(id, &k, measure, rules, &counts, as_of, p("2021-07")).rag
        };
        let with = |points: f64, weeks: f64| RagSettings {
            amber_tolerance: points,
            amber_tolerance_weeks: weeks,
            ..RagSettings::default()
        };
        // 5/1: 7 weeks in force; 9 weeks is 2 over. Its band is in weeks: 5 points of a
        // percentage's band do not reach it.
        assert_eq!(rag("5/1", with(5.0, 1.0), None, 36, 4), Rag::Red);
        assert_eq!(rag("5/1", with(0.0, 2.0), None, 36, 4), Rag::Amber);
        // Its own band (weeks too) wins over [rag]'s.
        assert_eq!(rag("5/1", with(5.0, 2.0), Some(1.0), 36, 4), Rag::Red);
        assert_eq!(rag("5/1", with(5.0, 0.0), Some(2.0), 36, 4), Rag::Amber);
        // 1/2a, a percentage: 4 points short is AMBER under 5 points, RED under 3 points,
        // whatever the weeks' band.
        let target = crate::kpi::target_in_force(&c["1/2a"], m("2021-07"))
            .and_then(|t| t.value())
            .expect("a figure in force");
        let n = ((target - 4.0) * 10.0).round() as u64;
        assert_eq!(rag("1/2a", with(5.0, 0.0), None, n, 1000), Rag::Amber);
        assert_eq!(rag("1/2a", with(3.0, 9.0), None, n, 1000), Rag::Red);
    }

    #[test]
    fn the_report_period_is_the_last_complete_one_of_the_kpis_kind() {
        let d = |s: &str| s.parse::<NaiveDate>().expect("date");
        let month = |s| report_period(PeriodKind::Month, d(s)).to_string();
        assert_eq!(month("2021-07-30"), "2021-06");
        assert_eq!(month("2021-07-31"), "2021-07");
        assert_eq!(month("2021-01-01"), "2020-12");
        let quarter = |s| report_period(PeriodKind::Quarter, d(s)).to_string();
        assert_eq!(quarter("2021-07-30"), "2021-Q2");
        assert_eq!(quarter("2021-06-30"), "2021-Q2");
        assert_eq!(quarter("2021-06-29"), "2021-Q1");
        let ay = |s| report_period(PeriodKind::AcademicYear, d(s)).to_string();
        assert_eq!(ay("2021-08-31"), "AY2020/21");
        assert_eq!(ay("2021-08-30"), "AY2019/20");
    }
}
