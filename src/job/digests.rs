//! What a run's digests are made from, shared by a run (which queues them) and `sendwatch
//! preview` (which shows or writes them and records nothing): the run's findings handed to
//! notify, which plans the digests ([`crate::notify::plan`]).

use super::run::{Findings, Run};
use super::{App, JobError};
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

impl App {
    /// Every recipient's digest for what the run found, planned by notify and laid out with
    /// the configured templates.
    pub(crate) async fn plan_digests(&self, f: &Found<'_>) -> Result<Vec<Planned>, JobError> {
        let settings = &self.settings;
        let (run, found) = (f.run, f.findings);
        // Each KPI's early warning as of its report period, from the stored series (this
        // run's results in place).
        let warnings = crate::kpi::warning::warnings(
            &settings.kpis,
            found
                .evaluations
                .iter()
                .map(|e| (e.kpi_id.as_str(), e.period.last_month())),
            &found.history,
            settings.disclosure(),
        );
        let pending = crate::view::pending::pending(
            &found.standing.drafts,
            &settings.kpis,
            &settings.actions,
            &notify::sub_group_names(&settings.sub_groups),
        );
        // The digests' answer links (issue 22), when `[http] public_url` and the key are set.
        let links = crate::view::ask::LinkSetup::of(
            settings.http.public_url.as_deref(),
            settings.http.link_key.as_ref(),
            settings.area_id().as_str(),
            settings.answer.link_days,
        );
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
                board: &settings.risk_log.holder,
                pending: pending.as_ref(),
                links: links.as_ref(),
                warnings: &warnings,
            },
            router: f.router,
            evaluations: &found.evaluations,
            overdue: &found.overdue,
            risks: &found.risk_news,
            actions: &found.actions,
            warnings: &warnings,
            history: &found.history,
            silences: &found.standing.silences,
            last_told: &found.standing.last_told,
            chase_told: &found.standing.chase_told,
            now: run.now,
        };
        Ok(notify::plan(&inputs, self.notifier.templates.clone()).await?)
    }
}
