//! A run's data notices: each source's data issues (stale, refused, held, too many rows set
//! aside) routed as items (by default to the source's data owner), held back by an active
//! silence, keyed and rendered as one notice per recipient, and queued as news: the same
//! issues are not sent to the same person again within `[notify] repeat_interval_hours` (a
//! source stale for a week of daily runs is one notice, not seven).

use super::data::{DataIssue, DataNotice, render_data_notice};
use super::item::Item;
use super::run_mail::RunMail;
use crate::news::{Dedup, MailKind, NewsKey, Outgoing};
use crate::store::{Queued, Store, StoreError};

/// One source's issues from a run, with what its notice names (`job` works the issues out).
#[derive(Debug, Clone)]
pub struct SourceNews<'a> {
    pub source: &'a str,
    /// The title of the source's extract kind.
    pub kind_title: &'a str,
    /// The data owner's name, as the notice greets them.
    pub owner_name: &'a str,
    pub issues: Vec<DataIssue>,
}

/// Route, silence, key, render and queue each source's data notices; how many were queued.
pub async fn queue_data_notices(
    store: &Store,
    run: &RunMail<'_>,
    sources: &[SourceNews<'_>],
) -> Result<usize, StoreError> {
    let mut queued = 0;
    for s in sources {
        for msg in notices(run, s) {
            match store.queue(&msg, run.now).await? {
                Queued::Yes { .. } => queued += 1,
                Queued::Repeat => tracing::info!(
                    source = s.source,
                    "The same data notice went out within the repeat interval; not queued again."
                ),
            }
        }
    }
    Ok(queued)
}

/// One source's notices: one per recipient its issues route to (silenced issues left out),
/// the issues in the order found.
fn notices(run: &RunMail<'_>, s: &SourceNews<'_>) -> Vec<Outgoing> {
    let mut to: Vec<(String, Vec<DataIssue>)> = Vec::new();
    for issue in &s.issues {
        let item = data_item(s.source, issue);
        if let Some(silence) = super::silence::silencing(run.silences, &item, run.now) {
            tracing::info!(
                source = s.source,
                silence = silence.id,
                "A data issue is silenced; not sent."
            );
            continue;
        }
        for t in run.router.route(&item) {
            let key = t.recipient.to_ascii_lowercase();
            match to.iter_mut().find(|(r, _)| r.to_ascii_lowercase() == key) {
                Some((_, list)) => list.push(issue.clone()),
                None => to.push((t.recipient.clone(), vec![issue.clone()])),
            }
        }
    }
    if to.is_empty() && !s.issues.is_empty() {
        tracing::warn!(
            source = s.source,
            "The source has data issues and no one to tell; set sources.NAME.owner or a route."
        );
    }
    to.into_iter()
        .map(|(recipient, issues)| {
            let key = data_key(&recipient, s.source, &issues);
            let r = render_data_notice(
                run.templates,
                &DataNotice {
                    area: run.area,
                    subject_prefix: run.subject_prefix,
                    job: run.job,
                    run_id: run.run_id,
                    source: s.source,
                    kind_title: s.kind_title,
                    owner_name: s.owner_name,
                    issues,
                    disclosure: run.disclosure,
                },
            );
            Outgoing {
                kind: MailKind::Data,
                run_id: run.run_id,
                about: format!("source:{}", s.source),
                recipients: vec![recipient],
                subject: r.subject,
                text: r.body,
                html: None,
                parts: Vec::new(),
                dedup: Dedup::News {
                    key,
                    repeat: run.repeat,
                },
            }
        })
        .collect()
}

/// The outbox key of one recipient's data notice about `source`: one line per issue, naming
/// what makes it the same news (the deadline a stale source missed, the held load, the
/// refusal's text, the load with rows set aside). A new deadline, load or refusal is news.
fn data_key(recipient: &str, source: &str, issues: &[DataIssue]) -> NewsKey {
    let items = issues
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
                DataIssue::Rejected { error } => ("refused", crate::news::fingerprint(error)),
                DataIssue::Quarantined { load_id, .. } => {
                    ("rows set aside", format!("load {load_id}"))
                }
            };
            format!("source:{source}|data|{word}|{which}")
        })
        .collect();
    NewsKey::new(
        format!("{}|source:{source}", recipient.to_ascii_lowercase()),
        items,
    )
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
    use chrono::Utc;

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
