//! The way from news to the outbox: every message notify sends (digests, data notices,
//! administrator notices, board packs) becomes one [`Outgoing`] and goes in through
//! [`crate::store::Store::queue`], which decides inside its lock whether keyed news is news
//! ([`crate::news::decide`]) and stores the reason with the row. `job` hands a run's news over
//! once ([`queue_run`]).

use chrono::{DateTime, TimeDelta, Utc};

use super::data_news::{self, SourceNews};
use super::plan::Planned;
use super::render::Rendered;
pub use super::run_mail::RunMail;
use crate::news::{Decision, Dedup, MailKind, NewsKey, Outgoing, Part};
use crate::store::{Queued, Store, StoreError};

/// The sub-group label of the administrator's notices.
pub const ADMIN_GROUP: &str = "admin";

impl Planned {
    /// The outgoing message, as news with its key.
    pub fn outgoing(&self, run_id: i64, repeat: TimeDelta) -> Outgoing {
        Outgoing {
            kind: MailKind::Digest,
            run_id,
            about: self.sub_groups.join(","),
            recipients: vec![self.recipient.clone()],
            subject: self.mail.subject.clone(),
            text: self.mail.text.clone(),
            html: Some(self.mail.html.clone()),
            parts: self.mail.parts(),
            dedup: Dedup::News {
                key: self.key.clone(),
                repeat,
            },
        }
    }
}

/// Queue a run's news: each recipient's digest, then each source's data notices. How many
/// messages were queued (news that was no news is not).
pub async fn queue_run(
    store: &Store,
    run: &RunMail<'_>,
    digests: &[Planned],
    sources: &[SourceNews<'_>],
) -> Result<usize, StoreError> {
    let mut queued = 0;
    for d in digests {
        match store
            .queue(&d.outgoing(run.run_id, run.repeat), run.now)
            .await?
        {
            Queued::Yes { id, superseded, .. } => {
                queued += 1;
                if superseded > 0 {
                    tracing::info!(
                        outbox_id = id,
                        superseded,
                        "An undelivered older digest was superseded."
                    );
                }
            }
            Queued::Repeat => {
                let sub_groups = d.sub_groups.join(",");
                tracing::info!(sub_groups = %sub_groups, "The same digest went out within the repeat interval; not queued again.");
            }
        }
    }
    Ok(queued + data_news::queue_data_notices(store, run, sources).await?)
}

/// What queueing `key` to `recipient` would decide now, read without a lock and recording
/// nothing: `preview` says it ("would send: changed", "no news").
pub async fn would_send(
    store: &Store,
    recipient: &str,
    key: &NewsKey,
    repeat: TimeDelta,
    now: DateTime<Utc>,
) -> Result<Decision, StoreError> {
    let told = store.told(recipient, &key.topic, repeat, now).await?;
    Ok(crate::news::decide(
        &key.items, &key.topic, &told, repeat, now,
    ))
}

/// An administrator's notice to `to`: queued every time (the callers tell each thing once).
pub fn admin_mail(run_id: i64, to: &str, r: &Rendered) -> Outgoing {
    Outgoing {
        kind: MailKind::Admin,
        run_id,
        about: ADMIN_GROUP.into(),
        recipients: vec![to.to_string()],
        subject: r.subject.clone(),
        text: r.body.clone(),
        html: None,
        parts: Vec::new(),
        dedup: Dedup::None,
    }
}

/// One outbox row per address for an administrator's notice.
pub async fn queue_for_admin(
    store: &Store,
    run_id: i64,
    to: &[String],
    r: &Rendered,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for email in to {
        store.queue(&admin_mail(run_id, email, r), now).await?;
    }
    Ok(())
}

/// A board pack for one person: its files attached.
pub struct PackMail<'a> {
    pub run_id: i64,
    /// The pack's audience ("board").
    pub audience: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub files: &'a [Part],
    /// Queued once per key: the same pack to the same person on the same day is not queued
    /// twice.
    pub key: String,
}

/// Queue a board pack; whether it was queued.
pub async fn queue_pack(
    store: &Store,
    p: &PackMail<'_>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let msg = Outgoing {
        kind: MailKind::Pack,
        run_id: p.run_id,
        about: format!("pack:{}", p.audience),
        recipients: vec![p.to.to_string()],
        subject: p.subject.to_string(),
        text: p.text.to_string(),
        html: None,
        parts: p.files.to_vec(),
        dedup: Dedup::Once(p.key.clone()),
    };
    Ok(matches!(store.queue(&msg, now).await?, Queued::Yes { .. }))
}
