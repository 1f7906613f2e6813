//! The manual KPIs' part of a run: each enabled KPI no extract carries is rated for its latest
//! due period from the values entered by hand, the same way as a computed one, and recorded
//! with the entry it came from (together with the computed KPIs' results, `compute.rs`); a
//! value past its due date is an exception for the owner.
//!
//! A job does this unless it says `manual_kpis = false` (a deployment with several jobs keeps
//! it to one, so owners hear once).

use chrono::NaiveDate;

use super::App;
use super::compute::{HISTORY_PERIODS, Pending};
use crate::kpi::manual::{self, Entered, Overdue};
use crate::kpi::{Evaluation, Period, Rag, Rules, evaluate_figures};
use crate::schedule::JobSettings;
use crate::store::StoreError;

impl App {
    /// Rate every enabled manual KPI for its report period (and the periods before it, as a
    /// computed KPI's history is recorded), each put in `pending` with the entry it came from
    /// when the run `records`; the report period's evaluations.
    pub(super) async fn evaluate_manual(
        &self,
        records: bool,
        job: &JobSettings,
        period: Option<Period>,
        today: NaiveDate,
        window_out: &mut Vec<Evaluation>,
        pending: &mut Vec<Pending>,
    ) -> Result<Vec<Evaluation>, StoreError> {
        if !job.manual_kpis {
            return Ok(Vec::new());
        }
        let entered = self.store.manual_values().await?;
        let settings = &self.settings;
        let mut out = Vec::new();
        for (id, k) in settings.kpis.iter() {
            if !k.enabled || k.measure.is_some() {
                continue;
            }
            let days = k.overdue_days.unwrap_or(settings.kpi_defaults.overdue_days);
            let upto = period.map(Period::last_month);
            let report = manual::report_due(k, id, days, &entered, today, upto);
            let window = std::iter::successors(Some(report), |d| Some(manual::previous_due(k, *d)))
                .take(HISTORY_PERIODS)
                .collect::<Vec<_>>();
            for d in window.into_iter().rev() {
                let (figures, entry) = manual::figures(k, id, &entered, d);
                let e = evaluate_figures(
                    id,
                    k,
                    Rules::of(settings.rag, settings.disclosure()),
                    figures,
                    today,
                    d.period,
                );
                let report_one = d == report;
                if !report_one && e.rag == Rag::NotYetDue && e.current.is_none() {
                    continue;
                }
                if records {
                    pending.push((e.clone(), None, entry));
                }
                if report_one {
                    out.push(e.clone());
                }
                window_out.push(e);
            }
        }
        Ok(out)
    }

    /// The values entered by hand in force, and the manual KPIs whose values are overdue and
    /// still chased, each with its stage (none when the job leaves manual KPIs to another).
    pub(super) async fn manual_inputs(
        &self,
        job: &JobSettings,
        today: NaiveDate,
    ) -> Result<(Vec<Entered>, Vec<Overdue>), StoreError> {
        if !job.manual_kpis {
            return Ok((Vec::new(), Vec::new()));
        }
        let entered = self.store.manual_values().await?;
        let days = self.settings.kpi_defaults.overdue_days;
        let overdue = manual::overdue(&self.settings.kpis, days, &entered, today);
        // Chased on a schedule that ends (before the next meeting, once after, escalated
        // once): a value missing past that is not mailed again.
        let log = &self.settings.action_log;
        let overdue = manual::chase::chase(overdue, &log.meetings, log.ask_days_before, today);
        Ok((entered, overdue))
    }

    /// The action log's news for its owners today: overdue, not on track, or an update wanted
    /// before the next board meeting. Told by the jobs that rate the manual KPIs (the plan's
    /// upkeep, said once with several jobs).
    pub(super) async fn action_news(
        &self,
        job: &JobSettings,
        today: NaiveDate,
    ) -> Result<Vec<crate::notify::ActionNote>, StoreError> {
        if !job.manual_kpis {
            return Ok(Vec::new());
        }
        let updates = self.store.action_updates(None).await?;
        let s = &self.settings;
        Ok(
            crate::action::assess(&s.actions, &s.action_log, &updates, today)
                .iter()
                .map(crate::notify::ActionNote::from)
                .collect(),
        )
    }
}
