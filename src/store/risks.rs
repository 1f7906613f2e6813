//! The risk log's history (`risk_events`).
//!
//! Every change of a risk's score is one row, written with the run that made it; a risk's
//! state now is its last row ([`crate::risk::current_states`]).

use chrono::{DateTime, Utc};

use super::{Pool, Store, StoreError};
use crate::risk::{ChangeKind, Level, RiskChange, RiskEvent, Scored};

impl Store {
    /// Record a run's risk changes, all or none, if the newest recorded event is still
    /// `basis` (the one they were assessed from). False, and nothing recorded, if another run
    /// recorded one since: the caller assesses again. The check and the inserts hold the
    /// table's write lock, so two runs cannot both pass it.
    pub async fn record_risk_changes(
        &self,
        run_id: i64,
        basis: Option<i64>,
        changes: &[RiskChange],
    ) -> Result<bool, StoreError> {
        if changes.is_empty() {
            return Ok(true);
        }
        match &self.pool {
            // The write lock first: no other writer records between our check and our inserts.
            Pool::Sqlite(p) => {
                let tx = p.begin_with("BEGIN IMMEDIATE").await?;
                record(tx, self.area(), run_id, basis, changes).await
            }
            Pool::Postgres(p) => {
                let mut tx = p.begin().await?;
                // Readers go on; a second writer waits for our commit, then sees our rows.
                sqlx::query("LOCK TABLE risk_events IN SHARE ROW EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await?;
                record(tx, self.area(), run_id, basis, changes).await
            }
        }
    }

    /// Every recorded risk change, oldest first.
    pub async fn risk_events(&self) -> Result<Vec<RiskEvent>, StoreError> {
        self.risk_events_where("", None).await
    }

    /// The recorded changes that `filter` (a `WHERE` clause binding `$1` to `arg`, or empty)
    /// picks, oldest first.
    pub(super) async fn risk_events_where(
        &self,
        filter: &'static str,
        arg: Option<i64>,
    ) -> Result<Vec<RiskEvent>, StoreError> {
        let sql = format!(
            "SELECT id, run_id, risk_id, at, change, owner, prev_likelihood, prev_impact, \
             prev_band, likelihood, impact, band, triggers, reason FROM risk_events \
             WHERE area = $1 {filter} ORDER BY id"
        );
        let rows: Vec<EventRow> = on_pool!(self, p => {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(self.area());
            match arg {
                Some(a) => q.bind(a).fetch_all(p).await?,
                None => q.fetch_all(p).await?,
            }
        });
        rows.into_iter().map(event).collect()
    }
}

/// The check and the inserts of [`Store::record_risk_changes`], on either backend's
/// transaction (which holds the table's write lock); commits when it records.
async fn record<DB>(
    mut tx: sqlx::Transaction<'static, DB>,
    area: &str,
    run_id: i64,
    basis: Option<i64>,
    changes: &[RiskChange],
) -> Result<bool, StoreError>
where
    DB: sqlx::Database,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    (Option<i64>,): for<'r> sqlx::FromRow<'r, DB::Row>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i32: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    const NEWEST: &str = "SELECT max(id) FROM risk_events WHERE area = $1";
    const SQL: &str = "INSERT INTO risk_events (run_id, risk_id, at, change, owner, \
        prev_likelihood, prev_impact, prev_score, prev_band, likelihood, impact, score, band, \
        triggers, reason, news_run, area) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $1, $16)";
    let newest: Option<i64> = sqlx::query_scalar(NEWEST)
        .bind(area)
        .fetch_one(&mut *tx)
        .await?;
    if newest != basis {
        return Ok(false);
    }
    for c in changes {
        let (f, t) = (c.from.level, c.to.level);
        sqlx::query(SQL)
            .bind(run_id)
            .bind(c.risk_id.as_str())
            .bind(c.at)
            .bind(c.kind.as_str())
            .bind(c.owner.as_str())
            .bind(i32::from(f.likelihood))
            .bind(i32::from(f.impact))
            .bind(i32::from(f.score()))
            .bind(c.from.band.as_str())
            .bind(i32::from(t.likelihood))
            .bind(i32::from(t.impact))
            .bind(i32::from(t.score()))
            .bind(c.to.band.as_str())
            .bind(c.triggers.join("\n"))
            .bind(c.reasons.join("\n"))
            .bind(area)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// A `risk_events` row as read: id, run, risk, at, change, owner, the level before
/// (likelihood, impact, band) and after, triggers, reason.
type EventRow = (
    i64,
    i64,
    String,
    DateTime<Utc>,
    String,
    String,
    i32,
    i32,
    String,
    i32,
    i32,
    String,
    String,
    String,
);

fn event(r: EventRow) -> Result<RiskEvent, StoreError> {
    let (id, run_id, risk_id, at, change, owner) = (r.0, r.1, r.2, r.3, r.4, r.5);
    let (from, to, triggers, reason) = ((r.6, r.7, r.8), (r.9, r.10, r.11), r.12, r.13);
    let kind = ChangeKind::parse(&change)
        .ok_or_else(|| StoreError::Corrupt(format!("risk_events change `{change}`")))?;
    let scored = |(l, i, band): (i32, i32, String)| Scored {
        level: Level::new(i64::from(l), i64::from(i)),
        band,
    };
    let lines = |s: String| -> Vec<String> {
        if s.is_empty() {
            Vec::new()
        } else {
            s.lines().map(str::to_string).collect()
        }
    };
    Ok(RiskEvent {
        id,
        run_id,
        change: RiskChange {
            risk_id,
            owner,
            kind,
            from: scored(from),
            to: scored(to),
            triggers: lines(triggers),
            reasons: lines(reason),
            at,
        },
    })
}
