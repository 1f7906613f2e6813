//! Queueing: the one way a message enters the outbox ([`Store::queue`], and [`queue_in`] for
//! a caller already in a transaction). The row, its parts and what it supersedes are written
//! in one transaction, all or none, after the news check ([`crate::news::decide`]) that the
//! recipient's lock makes safe against other runs (the write lock on SQLite, an advisory lock
//! on the address on PostgreSQL); the unique `idem_key` backs that up.

use chrono::{DateTime, Utc};

use super::tx::{Tx, on_tx};
use super::{Store, StoreError};
use crate::news::{self, Decision, Dedup, Outgoing, Reason, Told};

/// Whether a message went into the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// Queued as this row, as news for `reason` (none for unkeyed mail); `superseded` older
    /// undelivered rows on its topic were marked superseded.
    Yes {
        id: i64,
        superseded: u64,
        reason: Option<Reason>,
    },
    /// No news (told within the repeat interval), or a row with its key is there already.
    Repeat,
}

/// What a recipient was told: their keyed rows (not superseded) queued after `$2`, and those
/// on topic `$3` whenever queued (the decision's "told before", without reading years).
/// Also every message that told an early warning (an `at_risk` item line), whenever and on
/// whatever topic: a warning is told once per milestone and band ([`news::decide`]).
const TOLD: &str = "SELECT topic, items, created_at FROM outbox WHERE recipients = $1 \
                    AND status <> 'superseded' AND items IS NOT NULL \
                    AND (created_at > $2 OR topic = $3 OR items LIKE '%|at_risk|%') \
                    AND area = $4 ORDER BY id";

fn told_rows(rows: Vec<(Option<String>, String, DateTime<Utc>)>) -> Vec<Told> {
    rows.into_iter()
        .map(|(topic, items, at)| Told {
            topic,
            items: items.lines().map(str::to_string).collect(),
            at,
        })
        .collect()
}

impl Store {
    /// Queue `msg` (see [`queue_in`]) in a transaction of its own.
    pub async fn queue(&self, msg: &Outgoing, now: DateTime<Utc>) -> Result<Queued, StoreError> {
        let mut tx = Tx::begin(self).await?;
        let q = queue_in(&mut tx, self.area(), msg, now).await?;
        tx.commit().await?;
        Ok(q)
    }

    /// What `recipient` was told on `topic` or within `repeat` before `now`, read without a
    /// lock: for `preview`, which records nothing and only says what a run would decide.
    pub async fn told(
        &self,
        recipient: &str,
        topic: &str,
        repeat: chrono::TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Vec<Told>, StoreError> {
        let since = since(now, repeat);
        let rows = on_pool!(self, p => sqlx::query_as(TOLD)
            .bind(recipient)
            .bind(since)
            .bind(topic)
            .bind(self.area())
            .fetch_all(p)
            .await?);
        Ok(told_rows(rows))
    }
}

fn since(now: DateTime<Utc>, repeat: chrono::TimeDelta) -> DateTime<Utc> {
    now.checked_sub_signed(repeat)
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Queue `msg` in `tx`: keyed news only when [`news::decide`] says it is news for its
/// recipient (the lock taken first; the reason stored with the row), then the row (nothing
/// when a row with its `idem_key` exists), its parts in the order the message carries them,
/// and, for news, the older undelivered rows on its topic marked superseded.
pub(super) async fn queue_in(
    tx: &mut Tx,
    area: &str,
    msg: &Outgoing,
    now: DateTime<Utc>,
) -> Result<Queued, StoreError> {
    const LOCK: &str = "SELECT pg_advisory_xact_lock(hashtext(lower($1)))";
    const SQL: &str = "INSERT INTO outbox (run_id, sub_group, recipients, subject, body_text, status, \
                       created_at, digest, idem_key, topic, items, body_html, kind, reason, area) \
                       VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                       ON CONFLICT (area, idem_key) DO NOTHING RETURNING id";
    let recipients = msg.recipients.join("\n");
    let (idem_key, key, reason) = match &msg.dedup {
        Dedup::None => (None, None, None),
        Dedup::Once(k) => (Some(k.clone()), None, None),
        Dedup::News { key, repeat } => {
            if let Tx::Pg(t) = tx {
                sqlx::query(LOCK)
                    .bind(&recipients)
                    .execute(&mut **t)
                    .await?;
            }
            let told: Vec<(Option<String>, String, DateTime<Utc>)> = on_tx!(tx, t => sqlx::query_as(TOLD)
                .bind(&recipients)
                .bind(since(now, *repeat))
                .bind(&key.topic)
                .bind(area)
                .fetch_all(&mut **t)
                .await?);
            let told = told_rows(told);
            let Decision::Send(reason) = news::decide(&key.items, &key.topic, &told, *repeat, now)
            else {
                return Ok(Queued::Repeat);
            };
            let window = now.timestamp() / repeat.num_seconds().max(1);
            let mut idem = format!("{}:{window}", key.digest);
            // An early warning news again after its recovery was told has the key of its first
            // telling, maybe in the same window: the latest message told marks it apart (two
            // runs that saw the same told messages still make one key).
            if let Some(at) = told.iter().map(|t| t.at).max()
                && key.items.iter().any(|i| news::is_warning(i))
            {
                idem.push_str(&format!(":{}", at.timestamp_micros()));
            }
            (Some(idem), Some(key), Some(reason))
        }
    };
    let id: Option<i64> = on_tx!(tx, t => sqlx::query_scalar(SQL)
        .bind(msg.run_id)
        .bind(&msg.about)
        .bind(&recipients)
        .bind(&msg.subject)
        .bind(&msg.text)
        .bind(now)
        .bind(key.map(|k| k.digest.as_str()))
        .bind(idem_key.as_deref())
        .bind(key.map(|k| k.topic.as_str()))
        .bind(key.map(|k| k.items.join("\n")))
        .bind(msg.html.as_deref())
        .bind(msg.kind.as_str())
        .bind(reason.map(Reason::as_str))
        .bind(area)
        .fetch_optional(&mut **t)
        .await?);
    let Some(id) = id else {
        return Ok(Queued::Repeat);
    };
    insert_parts(tx, id, &msg.parts).await?;
    let superseded = match key {
        Some(key) => supersede(tx, area, key, id, now).await?,
        None => 0,
    };
    Ok(Queued::Yes {
        id,
        superseded,
        reason,
    })
}

/// The parts of row `id`: inline parts first, each kind by name, the order the outbox read
/// them in before they shared a table (so a message is built the same as ever).
async fn insert_parts(tx: &mut Tx, id: i64, parts: &[news::Part]) -> Result<(), StoreError> {
    const PART: &str = "INSERT INTO outbox_parts (outbox_id, position, kind, name, content_type, bytes) \
                        VALUES ($1, $2, $3, $4, $5, $6)";
    let mut ordered: Vec<&news::Part> = parts.iter().collect();
    ordered.sort_by(|a, b| {
        (a.kind != news::PartKind::Inline, &a.name)
            .cmp(&(b.kind != news::PartKind::Inline, &b.name))
    });
    for (position, p) in ordered.into_iter().enumerate() {
        let position = i32::try_from(position).unwrap_or(i32::MAX);
        on_tx!(tx, t => {
         sqlx::query(PART)
                    .bind(id)
                    .bind(position)
                    .bind(p.kind.as_str())
                    .bind(&p.name)
                    .bind(&p.content_type)
                    .bind(&p.bytes)
                    .execute(&mut **t)
                    .await?;
        });
    }
    Ok(())
}

/// Mark the older undelivered rows on `topic` superseded by row `id`, whose items are `items`.
/// Not one being sent right now (claimed): that one goes, and this one after it. Nor one whose
/// send was ambiguous: it may have arrived, and "superseded" would say it did not. Nor one
/// telling a chase item the new row does not: a digest leaves out a chase item already told
/// (in a row not superseded, [`crate::notify::chase`]), so superseding that row would lose it.
async fn supersede(
    tx: &mut Tx,
    area: &str,
    key: &news::NewsKey,
    id: i64,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    const OLDER: &str = "SELECT id, items FROM outbox WHERE topic = $1 AND id < $2 \
                         AND status = 'pending' AND ambiguous_at IS NULL \
                         AND (claimed_until IS NULL OR claimed_until < $3) AND area = $4";
    // The conditions again: a sender may have claimed the row since it was read.
    const SUPERSEDE: &str = "UPDATE outbox SET status = 'superseded' WHERE id = $1 \
                             AND status = 'pending' AND ambiguous_at IS NULL \
                             AND (claimed_until IS NULL OR claimed_until < $3) AND area = $2";
    let older: Vec<(i64, Option<String>)> = on_tx!(tx, t => sqlx::query_as(OLDER)
        .bind(&key.topic)
        .bind(id)
        .bind(now)
        .bind(area)
        .fetch_all(&mut **t)
        .await?);
    let mut n = 0;
    for (old, items) in older {
        let keeps_a_chase = items
            .as_deref()
            .unwrap_or("")
            .lines()
            .any(|l| news::is_chase(l) && !key.items.iter().any(|i| i == l));
        if keeps_a_chase {
            continue;
        }
        n += on_tx!(tx, t => sqlx::query(SUPERSEDE)
            .bind(old)
            .bind(area)
            .bind(now)
            .execute(&mut **t)
            .await?
            .rows_affected());
    }
    Ok(n)
}
