//! One KPI, one period: value, previous value, target in force, rating and wording.

use chrono::NaiveDate;

use super::{Basis, Better, KpiSettings, Measure};
use super::{
    Count, Milestone, Month, MonthlyCounts, Rag, direction_of_travel, milestone_in_force, rate,
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
    pub baseline: String,
    pub period: Month,
    pub current: Option<Count>,
    pub previous: Option<Count>,
    pub milestone: Option<Milestone>,
    pub rag: Rag,
    pub direction: String,
    /// Cases open and already past the limit at `as_of` (backlog, advice outstanding).
    pub overdue_open: u64,
    /// Last date the extract has events for.
    pub as_of: NaiveDate,
}

impl Evaluation {
    pub fn value(&self) -> Option<f64> {
        self.current.and_then(|c| c.percent())
    }
    pub fn previous_value(&self) -> Option<f64> {
        self.previous.and_then(|c| c.percent())
    }
}

/// The period a run reports on: the last calendar month complete by `as_of`.
pub fn report_period(as_of: NaiveDate) -> Month {
    let m = Month::of(as_of);
    if as_of == m.last_day() { m } else { m.prev() }
}

/// Evaluate one KPI for `period` from its monthly counts (see [`super::Counter`]).
pub fn evaluate(
    id: &str,
    kpi: &KpiSettings,
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
    let milestones: Vec<Milestone> = kpi
        .milestones
        .iter()
        .filter_map(|m| {
            Some(Milestone {
                from: m.from.parse().ok()?,
                target: m.target,
                label: m.label.clone(),
            })
        })
        .collect();
    let milestone = milestone_in_force(&milestones, period).cloned();
    let target = milestone.as_ref().map(|m| m.target);
    let value = current.and_then(|c| c.percent());
    let tolerance = kpi.amber_tolerance.unwrap_or(default_tolerance);
    Evaluation {
        kpi_id: id.to_string(),
        title: kpi.title.clone(),
        owner: kpi.owner.clone(),
        measure: kpi.measure,
        basis: kpi.basis,
        better: kpi.better,
        baseline: kpi.baseline.clone(),
        period,
        current,
        previous,
        rag: rate(value, target, kpi.better, tolerance),
        direction: direction_of_travel(
            value,
            previous.and_then(|c| c.percent()),
            target,
            kpi.better,
        ),
        milestone,
        overdue_open: counts.overdue_open,
        as_of,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_is_the_last_complete_month() {
        let d = |s: &str| s.parse::<NaiveDate>().expect("date");
        assert_eq!(report_period(d("2021-07-30")).to_string(), "2021-06");
        assert_eq!(report_period(d("2021-07-31")).to_string(), "2021-07");
        assert_eq!(report_period(d("2021-01-01")).to_string(), "2020-12");
    }
}
