//! One computed KPI, one period: value, previous value, target in force, rating and wording.
//!
//! Owns: putting a KPI's counts beside its target in force ([`super::target_in_force`]).
//! A period whose milestone gives no figure (before the first milestone, "NA", "establish
//! baseline", a national average not entered) is NO TARGET, whatever the data: not an
//! exception, so nothing is mailed for it.

use chrono::NaiveDate;

use super::{Basis, Better, KpiSettings, Measure};
use super::{
    Count, Milestone, Month, MonthlyCounts, Rag, TargetInForce, baseline_in_force,
    direction_of_travel, rate, target_in_force,
};

/// Everything an exception report says about one KPI.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub kpi_id: String,
    pub title: String,
    /// Key of the owning sub-group.
    pub owner: String,
    pub measure: Measure,
    pub basis: Basis,
    pub better: Better,
    /// The baseline in force for the period, as printed.
    pub baseline: String,
    pub period: Month,
    pub current: Option<Count>,
    pub previous: Option<Count>,
    /// The figure in force and its milestone, when the milestone in force gives a figure.
    pub milestone: Option<Milestone>,
    /// The milestone in force whatever its kind, with its version and how it resolved.
    pub in_force: Option<TargetInForce>,
    pub rag: Rag,
    pub direction: String,
    /// Cases open and already past the limit at `as_of` (backlog, advice outstanding,
    /// referrals waiting more than 18 weeks).
    pub overdue_open: u64,
    /// Referrals still waiting at `as_of` (average waits only; 0 for the tracker measures).
    pub waiting: u64,
    /// Last date the extract has events for.
    pub as_of: NaiveDate,
}

impl Evaluation {
    /// The period's value: a percentage, or an average in weeks ([`Measure::value`]).
    pub fn value(&self) -> Option<f64> {
        self.current
            .and_then(|c| self.measure.value(c.numerator, c.denominator))
    }
    pub fn previous_value(&self) -> Option<f64> {
        self.previous
            .and_then(|c| self.measure.value(c.numerator, c.denominator))
    }
}

/// The period a run reports on: the last calendar month complete by `as_of`.
pub fn report_period(as_of: NaiveDate) -> Month {
    let m = Month::of(as_of);
    if as_of == m.last_day() { m } else { m.prev() }
}

/// Evaluate one KPI, computed by `measure`, for `period` from its monthly counts (see
/// [`super::Counter`]).
pub fn evaluate(
    id: &str,
    kpi: &KpiSettings,
    measure: Measure,
    default_tolerance: f64,
    counts: &MonthlyCounts,
    as_of: NaiveDate,
    period: Month,
) -> Evaluation {
    let current = counts
        .by_month
        .get(&period)
        .copied()
        .filter(|c| c.denominator > 0);
    let previous = counts
        .by_month
        .get(&period.prev())
        .copied()
        .filter(|c| c.denominator > 0);
    let in_force = target_in_force(kpi, period);
    let target = in_force.as_ref().and_then(TargetInForce::value);
    let milestone = in_force.as_ref().and_then(|t| {
        Some(Milestone {
            from: t.from,
            target: t.value()?,
            label: t.label.clone(),
        })
    });
    let of = |c: Option<Count>| c.and_then(|c| measure.value(c.numerator, c.denominator));
    let value = of(current);
    let tolerance = kpi.amber_tolerance.unwrap_or(default_tolerance);
    Evaluation {
        kpi_id: id.to_string(),
        title: kpi.title.clone(),
        owner: kpi.owner.clone(),
        measure,
        basis: kpi.basis,
        better: kpi.better,
        baseline: baseline_in_force(kpi, period).text.clone(),
        period,
        current,
        previous,
        rag: match target {
            Some(_) => rate(value, target, kpi.better, tolerance),
            None => Rag::NoTarget,
        },
        direction: direction_of_travel(value, of(previous), target, kpi.better, &|v| {
            measure.format(v)
        }),
        milestone,
        in_force,
        overdue_open: counts.overdue_open,
        waiting: counts.waiting,
        as_of,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kpi::Target;

    #[test]
    fn a_period_without_a_target_figure_is_no_target_even_without_data() {
        let c = crate::kpi::catalogue::builtin().expect("catalogue");
        let m = |s: &str| s.parse::<Month>().expect("month");
        let mut counts = MonthlyCounts::default();
        let c40 = Count {
            numerator: 4,
            denominator: 10,
        };
        counts.by_month.insert(m("2020-02"), c40);
        counts.by_month.insert(m("2020-05"), c40);
        let as_of = NaiveDate::from_ymd_opt(2020, 7, 10).expect("date");
        let e = |p: &str| {
            let m = Measure::EhcpWithin20Weeks;
            evaluate(
                "1/2a",
                &c["1/2a"],
                m,
                5.0,
                &counts,
                as_of,
                p.parse().expect("p"),
            )
        };
        // Before the first milestone, and no data: unrated, so not mailed as NO DATA.
        let nov = e("2019-09");
        assert_eq!((nov.rag, nov.in_force.is_none()), (Rag::NoTarget, true));
        assert!(!nov.rag.is_exception());
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
    fn a_wait_above_its_target_is_red_and_at_or_under_it_green() {
        let c = crate::kpi::catalogue::builtin().expect("catalogue");
        let as_of = NaiveDate::from_ymd_opt(2021, 7, 31).expect("date");
        let july: Month = "2021-07".parse().expect("month");
        let rated = |numerator: u64, denominator: u64| {
            let mut counts = MonthlyCounts::default();
            let weeks = Count {
                numerator,
                denominator,
            };
            counts.by_month.insert(july, weeks);
            let m = Measure::AverageWaitWeeks;
            let e = evaluate("5/1", &c["5/1"], m, 5.0, &counts, as_of, july);
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
    fn period_is_the_last_complete_month() {
        let d = |s: &str| s.parse::<NaiveDate>().expect("date");
        assert_eq!(report_period(d("2021-07-30")).to_string(), "2021-06");
        assert_eq!(report_period(d("2021-07-31")).to_string(), "2021-07");
        assert_eq!(report_period(d("2021-01-01")).to_string(), "2020-12");
    }
}
