//! A run's digests, planned: route the items (`[[notify.routes]]`, silences, resolved
//! notices), regroup them into one digest per recipient, key each for the outbox and render
//! it (text, HTML, trend charts). The same for a run (which queues them, [`super::queue_run`])
//! and `sendwatch preview` (which shows or writes them and records nothing).
//!
//! The templates (a council's own, maybe) lay the digests out on tokio's blocking pool, each
//! part within its fuel and output cap: a run's timeout or a stop cancels the run without
//! waiting on them, and a cancelled run's laying out stops at its next write. A template that
//! fails fails the whole plan, so no digest is queued with part of its content.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};

use super::ActionNote;
use super::context::Context;
use super::group::{self, RouteInputs};
use super::render::{self, Mail, Prepared, RenderError, Stop, Templates};
use super::route::Router;
use super::silence::Silence;
use crate::kpi::manual::Overdue;
use crate::kpi::{Evaluation, StoredResult};
use crate::news::NewsKey;
use crate::risk::RiskChange;

/// What a run's digests are made from.
pub struct PlanInputs<'a> {
    /// The area, the run and the catalogues the text names.
    pub ctx: Context<'a>,
    /// The run's routes, built once.
    pub router: &'a Router<'a>,
    /// The job's KPIs rated for the report period.
    pub evaluations: &'a [Evaluation],
    pub overdue: &'a [Overdue],
    /// The risk changes to tell.
    pub risks: &'a [RiskChange],
    pub actions: &'a [ActionNote],
    /// The job's KPIs' early warnings ([`crate::kpi::warning`]); those at risk or off course
    /// are items.
    pub warnings: &'a [crate::kpi::warning::Warning],
    /// The KPI history the trend charts read (the latest result of each period).
    pub history: &'a [StoredResult],
    /// Silences in force (those not active at `now` are ignored).
    pub silences: &'a [Silence],
    /// Each recipient's last digest's item lines (for resolved notices).
    pub last_told: &'a BTreeMap<String, Vec<String>>,
    /// Each recipient's chase lines told already (a chase item is carried only untold).
    pub chase_told: &'a BTreeMap<String, std::collections::BTreeSet<String>>,
    pub now: DateTime<Utc>,
}

/// One recipient's digest, rendered and keyed.
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

/// Every recipient's digest for what a run found, laid out with `templates`.
pub async fn plan(
    p: &PlanInputs<'_>,
    templates: Arc<Templates>,
) -> Result<Vec<Planned>, RenderError> {
    let ctx = &p.ctx;
    let sources: BTreeMap<String, String> = p
        .evaluations
        .iter()
        .filter_map(|e| {
            let s = ctx.kpis.get(&e.kpi_id)?.source.clone()?;
            Some((e.kpi_id.clone(), s))
        })
        .collect();
    let digests = group::route_digests(
        p.router,
        &RouteInputs {
            evaluations: p.evaluations,
            overdue: p.overdue,
            risks: p.risks,
            actions: p.actions,
            warnings: p.warnings,
            sources: &sources,
            silences: p.silences,
            last_told: p.last_told,
            chase_told: p.chase_told,
            now: p.now,
        },
    );
    let mut out = Vec::new();
    let mut prepared = Vec::new();
    for d in group::by_recipient(&digests) {
        // A digest of silenced items alone is not sent (they are listed in the others').
        if d.only_silenced() {
            let n: usize = d.groups.iter().map(|g| g.silenced.len()).sum();
            tracing::info!(
                silenced = n,
                "Every item of a digest is silenced; not sent."
            );
            continue;
        }
        let view = render::prepare(&d, ctx, p.history, p.warnings, p.now);
        let items = view.items();
        prepared.push(view);
        // A KPI whose source failed this run is news again when it loads: the key says so.
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
            items,
            key,
            mail: Mail::default(),
        });
    }
    let mails = lay_out(templates, prepared).await?;
    for (p, mail) in out.iter_mut().zip(mails) {
        p.mail = mail;
    }
    Ok(out)
}

/// Raises the stop when dropped: the future waiting on the blocking pool was cancelled (or
/// has its answer, when raising it changes nothing).
struct StopOnDrop(Arc<Stop>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Lay out every prepared digest on the blocking pool, in order.
async fn lay_out(
    templates: Arc<Templates>,
    prepared: Vec<Prepared>,
) -> Result<Vec<Mail>, RenderError> {
    let stop = Arc::new(Stop::new(false));
    let _stop_if_cancelled = StopOnDrop(stop.clone());
    tokio::task::spawn_blocking(move || {
        prepared
            .into_iter()
            .map(|p| render::lay_out(p, &templates, &stop))
            .collect()
    })
    .await
    .map_err(|e| RenderError::Task(e.to_string()))?
}
