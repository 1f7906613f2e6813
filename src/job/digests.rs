//! What a run's digests are made from, shared by a run (which queues them) and `sendwatch
//! preview` (which shows or writes them and records nothing): what stands in the store
//! besides the run's findings, and the findings handed to notify, which plans the digests
//! ([`crate::notify::plan`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::run::{Findings, Run};
use super::{App, JobError};
use crate::kpi::Evaluation;
use crate::kpi::StoredResult;
use crate::kpi::commentary::Commentary;
use crate::notify::route::Router;
use crate::notify::{self, Planned};
use crate::store::Sources;

/// What the digests are made from: the run, what it found and its sources' notes.
pub(crate) struct Found<'a> {
    pub run: &'a Run<'a>,
    pub findings: &'a Findings,
    pub notes: &'a Sources,
    /// The run's routes ([`App::router`]), built once.
    pub router: &'a Router<'a>,
}

/// What a plan reads from the store besides the run's findings; a run and a preview read it
/// the same way.
pub(crate) struct Standing {
    /// The owners' commentary in force on the evaluations' periods.
    pub commentary: Vec<Commentary>,
    /// Silences in force (those not active at `now` are ignored when routing).
    pub silences: Vec<crate::notify::silence::Silence>,
    /// Each recipient's last digest's item lines (for resolved notices).
    pub last_told: BTreeMap<String, Vec<String>>,
}

impl App {
    /// What stands for a plan of `evaluations` at `now`: the owners' commentary in force on
    /// their periods (the reason, recovery actions, revised date and next update each
    /// exception is shown with), the silences in force and each recipient's last digest.
    pub(crate) async fn standing(
        &self,
        evaluations: &[Evaluation],
        now: DateTime<Utc>,
    ) -> Result<Standing, crate::store::StoreError> {
        let mut periods: Vec<_> = evaluations.iter().map(|e| e.period).collect();
        periods.sort();
        periods.dedup();
        Ok(Standing {
            commentary: self.store.commentary_for(&periods).await?,
            silences: self.store.silences(now, false).await?,
            last_told: self.store.last_digest_items().await?,
        })
    }

    /// Every recipient's digest for what the run found, planned by notify and laid out with
    /// the configured templates.
    pub(crate) async fn plan_digests(&self, f: &Found<'_>) -> Result<Vec<Planned>, JobError> {
        let settings = &self.settings;
        let (run, found) = (f.run, f.findings);
        let inputs = notify::PlanInputs {
            ctx: notify::render::Context {
                area: &settings.general.area,
                subject_prefix: &settings.delivery.subject_prefix,
                job: run.job,
                run_id: run.id,
                kpis: &settings.kpis,
                risks: &settings.risks,
                sub_groups: &settings.sub_groups,
                sources: f.notes,
                entered: &found.entered,
                commentary: &found.standing.commentary,
                disclosure: settings.disclosure(),
            },
            router: f.router,
            evaluations: &found.evaluations,
            overdue: &found.overdue,
            risks: &found.risk_news,
            actions: &found.actions,
            history: &found.history,
            silences: &found.standing.silences,
            last_told: &found.standing.last_told,
            now: run.now,
        };
        Ok(notify::plan(&inputs, self.notifier.templates.clone()).await?)
    }
}

/// The stored history with `fresh` evaluations (a preview's, not stored) in place of the
/// stored results of the same KPI and period.
pub(crate) fn overlay(stored: Vec<StoredResult>, fresh: &[Evaluation]) -> Vec<StoredResult> {
    let mut by: BTreeMap<(String, crate::kpi::Period), StoredResult> = stored
        .into_iter()
        .map(|r| ((r.kpi_id.clone(), r.period), r))
        .collect();
    for e in fresh {
        by.insert(
            (e.kpi_id.clone(), e.period),
            StoredResult {
                kpi_id: e.kpi_id.clone(),
                period: e.period,
                value: e.value(),
                target: e.milestone.as_ref().map(|m| m.target),
                numerator: e.count().map(|c| c.numerator as i64),
                denominator: e.count().map(|c| c.denominator as i64),
                rag: e.rag,
                direction: Some(e.direction.clone()),
                overdue_open: Some(e.overdue_open as i64),
                run_id: 0,
            },
        );
    }
    by.into_values().collect()
}
