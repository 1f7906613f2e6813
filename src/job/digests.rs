//! The run's notify step: every item routed (`[[notify.routes]]`), silences applied, resolved
//! notices worked out, and one digest per recipient queued unless it is no news; data notices
//! routed to their recipients, one email each.
//!
//! Moved from job.rs as it was (queue_digests), with the routing in front of it. Named
//! `digests`, not `notify`, so that `notify` stays the crate's stage inside `job`.

use std::collections::BTreeMap;

use chrono::Utc;

use super::outcome::data_issues;
use super::{App, JobError, SourceOutcome};
use crate::kpi::Evaluation;
use crate::kpi::manual::Overdue;
use crate::notify::item::Item;
use crate::notify::route::Router;
use crate::notify::{self, DataIssue, SourceNote};
use crate::risk::RiskChange;

impl App {
    /// The routes over this configuration's directory of recipients.
    pub fn router(&self) -> Router<'_> {
        let s = &self.settings;
        let source_owners = s
            .sources
            .iter()
            .filter_map(|(name, src)| Some((name.clone(), src.owner.as_ref()?.email.clone())))
            .collect();
        Router::new(
            &s.notify.routes,
            &s.sub_groups,
            &s.notify.recipients,
            source_owners,
            s.admin.email.as_deref(),
        )
    }

    /// Route the run's items, then queue one digest per recipient (every sub-group section
    /// they hear for), unless the same news went to them within the repeat interval, or it
    /// holds only silenced items; a newer digest supersedes an undelivered older one for the
    /// same period. Returns how many were queued.
    pub(super) async fn queue_digests(
        &self,
        run_id: i64,
        evaluations: &[Evaluation],
        overdue: &[Overdue],
        risks: &[RiskChange],
        ctx: &notify::render::Context<'_>,
    ) -> Result<usize, JobError> {
        let now = Utc::now();
        let sources: BTreeMap<String, String> = evaluations
            .iter()
            .filter_map(|e| {
                let s = ctx.kpis.get(&e.kpi_id)?.source.clone()?;
                Some((e.kpi_id.clone(), s))
            })
            .collect();
        let silences = self.store.silences(now, false).await?;
        let last_told = self.store.last_digest_items().await?;
        let router = self.router();
        let digests = notify::group::route_digests(
            &router,
            &notify::group::RouteInputs {
                evaluations,
                overdue,
                risks,
                actions: &[],
                sources: &sources,
                silences: &silences,
                last_told: &last_told,
                now,
            },
        );
        let hours = i64::try_from(self.settings.notify.repeat_interval_hours).unwrap_or(i64::MAX);
        let repeat = chrono::TimeDelta::try_hours(hours).unwrap_or(chrono::TimeDelta::MAX);
        let mut queued = 0;
        for d in notify::by_recipient(&digests) {
            if d.only_silenced() {
                let n: usize = d.groups.iter().map(|g| g.silenced.len()).sum();
                tracing::info!(
                    silenced = n,
                    "Every item of a digest is silenced; not sent."
                );
                continue;
            }
            let r = notify::render_for(&d, ctx);
            let sub_groups: Vec<&str> = d.groups.iter().map(|g| g.sub_group.as_str()).collect();
            let key = d.key(|e| {
                ctx.kpis
                    .get(&e.kpi_id)
                    .and_then(|k| k.source.as_deref())
                    .and_then(|s| ctx.sources.get(s))
                    .is_some_and(|n| n.latest_error.is_some())
            });
            match self
                .store
                .enqueue_digest(
                    run_id,
                    &sub_groups.join(","),
                    &d.recipient,
                    &r.subject,
                    &r.body,
                    &key,
                    repeat,
                    Utc::now(),
                )
                .await?
            {
                crate::store::Queued::Yes { id, superseded } => {
                    queued += 1;
                    if superseded > 0 {
                        tracing::info!(
                            outbox_id = id,
                            superseded,
                            "An undelivered older digest was superseded."
                        );
                    }
                }
                crate::store::Queued::Repeat => {
                    tracing::info!(sub_groups = %sub_groups.join(","), "The same digest went out within the repeat interval; not queued again.");
                }
            }
        }
        Ok(queued)
    }

    /// Each source's data issues (stale, refused, held, too many rows set aside), routed as
    /// items (by default to the source's data owner) and queued as one notice per recipient.
    /// Returns how many were queued.
    pub(super) async fn queue_data_notices(
        &self,
        run_id: i64,
        job: &str,
        outcomes: &[(String, SourceOutcome)],
        notes: &BTreeMap<String, SourceNote>,
    ) -> Result<usize, JobError> {
        let settings = &self.settings;
        let router = self.router();
        let mut queued = 0;
        for (name, outcome) in outcomes {
            let Some(s) = settings.sources.get(name) else {
                continue;
            };
            let current = notes.get(name).and_then(|n| n.load.as_ref());
            let issues = data_issues(s, outcome, current, Utc::now());
            let any = !issues.is_empty();
            // Each recipient with the issues routed to them, in the order found.
            let mut to: Vec<(String, Vec<DataIssue>)> = Vec::new();
            for issue in issues {
                for t in router.route(&data_item(name, &issue)) {
                    let key = t.recipient.to_ascii_lowercase();
                    match to.iter_mut().find(|(r, _)| r.to_ascii_lowercase() == key) {
                        Some((_, list)) => list.push(issue.clone()),
                        None => to.push((t.recipient.clone(), vec![issue.clone()])),
                    }
                }
            }
            if to.is_empty() && any {
                tracing::warn!(
                    source = name.as_str(),
                    "The source has data issues and no one to tell; set sources.NAME.owner or a route."
                );
            }
            for (recipient, issues) in to {
                let notice = notify::DataNotice {
                    area: &settings.general.area,
                    subject_prefix: &settings.delivery.subject_prefix,
                    job,
                    run_id,
                    source: name,
                    kind_title: settings.kinds.get(&s.kind).map_or("", |k| k.title.as_str()),
                    owner_name: s
                        .owner
                        .as_ref()
                        .map_or("the data owner", |o| o.name.as_str()),
                    issues,
                };
                let r = notify::render_data_notice(&notice);
                self.store
                    .enqueue_mail(
                        run_id,
                        &format!("source:{name}"),
                        std::slice::from_ref(&recipient),
                        &r.subject,
                        &r.body,
                        Utc::now(),
                    )
                    .await?;
                queued += 1;
            }
        }
        Ok(queued)
    }
}

/// A data issue as an item: stale data, or a data-quality issue with its word.
fn data_item(source: &str, issue: &DataIssue) -> Item {
    match issue {
        DataIssue::Stale { .. } => Item::of_source(source, true, "stale"),
        DataIssue::Held { .. } => Item::of_source(source, false, "held"),
        DataIssue::Rejected { .. } => Item::of_source(source, false, "refused"),
        DataIssue::Quarantined { .. } => Item::of_source(source, false, "rows set aside"),
    }
}
