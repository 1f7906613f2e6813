//! Who hears of what in a run: the routes over the configuration's directory of recipients
//! ([`App::router`]), and each source's data issues routed as items and queued as one notice
//! per recipient. The digests themselves are planned in `digests.rs` through the same router.

use std::collections::BTreeMap;

use chrono::Utc;

use super::outcome::data_issues;
use super::{App, JobError, SourceOutcome};
use crate::notify::item::Item;
use crate::notify::route::Router;
use crate::notify::{self, DataIssue, SourceNote};

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
