//! The digests of a run, shared by a run (which queues them) and `sendwatch preview` (which
//! shows or writes them and records nothing): route the items (`[[notify.routes]]`, silences,
//! resolved notices; the routes from `routing.rs`), regroup them into one digest per recipient, render each (text, HTML, trend charts) and key it for the
//! outbox.
//!
//! The templates (a council's own, maybe) lay the digests out on tokio's blocking pool, each
//! part within its fuel and output cap: a run's timeout or a stop cancels the run without
//! waiting on them, and a cancelled run's laying out stops at its next write. A template that
//! fails fails the whole plan, so no digest is queued with part of its content.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};

use super::run::{Findings, Run};
use super::{App, JobError};
use crate::kpi::Evaluation;
use crate::kpi::StoredResult;
use crate::kpi::commentary::Commentary;
use crate::news::NewsKey;
use crate::notify::route::Router;
use crate::notify::{self, Mail};
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

/// One recipient's digest, rendered.
#[derive(Debug, Clone)]
pub struct Planned {
    pub recipient: String,
    /// The sub-groups it holds, by key and by name, worst first.
    pub sub_groups: Vec<String>,
    pub sub_group_names: Vec<String>,
    /// Its periods as the outbox names them ("2021-07", "risk log").
    pub periods: String,
    /// How many items it tells of (KPIs, overdue values, risk changes, actions, resolved).
    pub items: usize,
    pub key: NewsKey,
    pub mail: Mail,
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

    /// Every recipient's digest for what the run found, rendered with the configured
    /// templates.
    pub(crate) async fn plan_digests(&self, f: &Found<'_>) -> Result<Vec<Planned>, JobError> {
        let settings = &self.settings;
        let (run, found) = (f.run, f.findings);
        let ctx = notify::render::Context {
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
        };
        let sources: BTreeMap<String, String> = found
            .evaluations
            .iter()
            .filter_map(|e| {
                let s = settings.kpis.get(&e.kpi_id)?.source.clone()?;
                Some((e.kpi_id.clone(), s))
            })
            .collect();
        let digests = notify::group::route_digests(
            f.router,
            &notify::group::RouteInputs {
                evaluations: &found.evaluations,
                overdue: &found.overdue,
                risks: &found.risk_news,
                actions: &found.actions,
                sources: &sources,
                silences: &found.standing.silences,
                last_told: &found.standing.last_told,
                now: run.now,
            },
        );
        let mut out = Vec::new();
        let mut prepared = Vec::new();
        for d in notify::by_recipient(&digests) {
            // A digest of silenced items alone is not sent (they are listed in the others').
            if d.only_silenced() {
                let n: usize = d.groups.iter().map(|g| g.silenced.len()).sum();
                tracing::info!(
                    silenced = n,
                    "Every item of a digest is silenced; not sent."
                );
                continue;
            }
            prepared.push(notify::prepare(&d, &ctx, &found.history, run.now));
            let key = d.key(|e| {
                ctx.kpis
                    .get(&e.kpi_id)
                    .and_then(|k| k.source.as_deref())
                    .and_then(|s| ctx.sources.get(s))
                    .is_some_and(|n| n.latest_error().is_some())
            });
            out.push(Planned {
                recipient: d.recipient.clone(),
                sub_groups: d.groups.iter().map(|g| g.sub_group.clone()).collect(),
                sub_group_names: d.groups.iter().map(|g| g.sub_group_name.clone()).collect(),
                periods: d.periods(),
                items: d
                    .groups
                    .iter()
                    .map(|g| {
                        g.items.len()
                            + g.overdue.len()
                            + g.risks.len()
                            + g.actions.len()
                            + g.resolved.len()
                    })
                    .sum(),
                key,
                mail: Mail::default(),
            });
        }
        let mails = lay_out(self.templates.clone(), prepared).await?;
        for (p, mail) in out.iter_mut().zip(mails) {
            p.mail = mail;
        }
        Ok(out)
    }
}

/// Raises the stop when dropped: the future waiting on the blocking pool was cancelled (or
/// has its answer, when raising it changes nothing).
struct StopOnDrop(Arc<notify::Stop>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Lay out every prepared digest on the blocking pool, in order.
async fn lay_out(
    templates: Arc<notify::Templates>,
    prepared: Vec<notify::Prepared>,
) -> Result<Vec<Mail>, notify::RenderError> {
    let stop = Arc::new(notify::Stop::new(false));
    let _stop_if_cancelled = StopOnDrop(stop.clone());
    tokio::task::spawn_blocking(move || {
        prepared
            .into_iter()
            .map(|p| notify::lay_out(p, &templates, &stop))
            .collect()
    })
    .await
    .map_err(|e| notify::RenderError::Task(e.to_string()))?
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
