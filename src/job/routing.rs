//! Who hears of what in a run: the routes over the configuration's directory of recipients
//! ([`App::router`]), and each source's data issues routed as items and queued as one notice
//! per recipient. The digests themselves are planned in `digests.rs` through the same router.

use chrono::{DateTime, Utc};

use super::outcome::data_issues;
use super::{App, JobError, SourceOutcome};
use crate::notify::item::Item;
use crate::notify::route::Router;
use crate::notify::{self, DataIssue};
use crate::store::Sources;

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
    /// items (by default to the source's data owner), held back by an active silence, and
    /// queued as one notice per recipient, keyed like a digest: the same issues are not sent
    /// to the same person again within `[notify] repeat_interval_hours` (a source stale for a
    /// week of daily runs is one notice, not seven). Returns how many were queued.
    pub(super) async fn queue_data_notices(
        &self,
        run_id: i64,
        job: &str,
        outcomes: &[(String, SourceOutcome)],
        notes: &Sources,
        silences: &[notify::silence::Silence],
        now: DateTime<Utc>,
    ) -> Result<usize, JobError> {
        let settings = &self.settings;
        let router = self.router();
        let repeat = settings.notify.repeat_interval();
        let mut queued = 0;
        for (name, outcome) in outcomes {
            let Some(s) = settings.sources.get(name) else {
                continue;
            };
            let current = notes.get(name).and_then(|n| n.load.as_ref());
            let issues = data_issues(s, outcome, current, now);
            let any = !issues.is_empty();
            // Each recipient with the issues routed to them, in the order found.
            let mut to: Vec<(String, Vec<DataIssue>)> = Vec::new();
            for issue in issues {
                let item = data_item(name, &issue);
                if let Some(silence) = notify::silence::silencing(silences, &item, now) {
                    tracing::info!(
                        source = name.as_str(),
                        silence = silence.id,
                        "A data issue is silenced; not sent."
                    );
                    continue;
                }
                for t in router.route(&item) {
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
                let key = data_key(&recipient, name, &notice.issues);
                let r = notify::render_data_notice(&notice);
                let q = self
                    .store
                    .enqueue_digest(
                        run_id,
                        &format!("source:{name}"),
                        &recipient,
                        &r.subject,
                        &r.body,
                        None,
                        &key,
                        repeat,
                        now,
                    )
                    .await?;
                match q {
                    crate::store::Queued::Yes { .. } => queued += 1,
                    crate::store::Queued::Repeat => tracing::info!(
                        source = name.as_str(),
                        "The same data notice went out within the repeat interval; not queued again."
                    ),
                }
            }
        }
        Ok(queued)
    }
}

/// The outbox key of one recipient's data notice about `source`: one line per issue, naming
/// what makes it the same news (the deadline a stale source missed, the held load, the
/// refusal's text, the load with rows set aside). A new deadline, load or refusal is news.
fn data_key(recipient: &str, source: &str, issues: &[DataIssue]) -> crate::store::DigestKey {
    use sha2::{Digest as _, Sha256};
    let mut items: Vec<String> = issues
        .iter()
        .map(|issue| {
            let (word, which) = match issue {
                DataIssue::Stale { stale, .. } => (
                    "stale",
                    stale
                        .due
                        .map_or_else(|| "never loaded".to_string(), |d| d.to_rfc3339()),
                ),
                DataIssue::Held { load_id, .. } => ("held", format!("load {load_id}")),
                DataIssue::Rejected { error } => (
                    "refused",
                    format!("{:x}", Sha256::digest(error.as_bytes()))[..16].to_string(),
                ),
                DataIssue::Quarantined { load_id, .. } => {
                    ("rows set aside", format!("load {load_id}"))
                }
            };
            format!("source:{source}|data|{word}|{which}")
        })
        .collect();
    items.sort();
    let topic = format!("{}|source:{source}", recipient.to_ascii_lowercase());
    let mut h = Sha256::new();
    h.update(topic.as_bytes());
    for l in &items {
        h.update(b"\n");
        h.update(l.as_bytes());
    }
    crate::store::DigestKey {
        digest: format!("{:x}", h.finalize()),
        topic,
        items,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::freshness::{Cadence, Stale};

    fn stale(due_day: u32) -> DataIssue {
        let due = chrono::TimeZone::with_ymd_and_hms(&Utc, 2027, 3, due_day, 0, 0, 0).single();
        DataIssue::Stale {
            stale: Stale {
                last_new: None,
                due,
            },
            cadence: Cadence::Monthly,
            deadline_days: 10,
        }
    }

    #[test]
    fn a_data_notice_is_the_same_news_until_its_deadline_load_or_refusal_changes() {
        let refused = |e: &str| DataIssue::Rejected { error: e.into() };
        let a = data_key(
            "Owner@Example.org",
            "tracker",
            &[stale(1), refused("line 3")],
        );
        let b = data_key(
            "owner@example.org",
            "tracker",
            &[refused("line 3"), stale(1)],
        );
        assert_eq!(
            a, b,
            "the order of issues and the address's case change nothing"
        );
        assert_eq!(a.topic, "owner@example.org|source:tracker");
        assert!(a.items[0].starts_with("source:tracker|data|refused|"));
        assert_eq!(
            a.items[1],
            "source:tracker|data|stale|2027-03-01T00:00:00+00:00"
        );
        for other in [
            data_key(
                "owner@example.org",
                "tracker",
                &[stale(2), refused("line 3")],
            ),
            data_key(
                "owner@example.org",
                "tracker",
                &[stale(1), refused("line 4")],
            ),
            data_key(
                "owner@example.org",
                "provider",
                &[stale(1), refused("line 3")],
            ),
        ] {
            assert_ne!(a.digest, other.digest);
        }
    }
}
