//! The action log's updates and owners' commentary on exceptions: every entry, who made it and
//! when. The latest update of an action, and the latest commentary for a KPI and period, is in
//! force; the earlier ones stay as history.

use chrono::{DateTime, NaiveDate, Utc};

use super::{Store, StoreError};
use crate::action::{Recorded, Status, Update};
use crate::kpi::Period;
use crate::kpi::commentary::{self, Commentary};

/// (id, reference, status, note, evidence, next_steps, author, entered_at)
type UpdateRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    DateTime<Utc>,
);

/// (kpi_id, period, reason, actions, revised_date, next_update, author, entered_at)
type CommentRow = (
    String,
    String,
    String,
    String,
    Option<NaiveDate>,
    Option<NaiveDate>,
    String,
    DateTime<Utc>,
);

/// Insert one checked action update of `area` entered at `now` on `conn` (a transaction's):
/// its id. A macro because each backend's connection is its own type; used by
/// [`Store::save_action_updates`] and an approved answer (`store::answers`).
macro_rules! insert_update {
    ($conn:expr, $area:expr, $u:expr, $now:expr) => {{
        let u: &$crate::action::Update = $u;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO action_updates \
             (reference, status, note, evidence, next_steps, author, entered_at, area) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&u.reference)
        .bind(u.status.as_str())
        .bind(&u.note)
        .bind(u.evidence.as_deref())
        .bind(u.next_steps.as_deref())
        .bind(&u.author)
        .bind($now)
        .bind($area)
        .fetch_one($conn)
        .await?;
        id
    }};
}
pub(super) use insert_update;

/// Insert one checked commentary entry of `area` on `conn`: its id. As [`insert_update`].
macro_rules! insert_commentary {
    ($conn:expr, $area:expr, $c:expr) => {{
        let c: &$crate::kpi::commentary::Commentary = $c;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO commentary \
             (kpi_id, period, reason, actions, revised_date, next_update, author, entered_at, \
             area) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(&c.kpi_id)
        .bind(c.period.to_string())
        .bind(&c.reason)
        .bind(&c.actions)
        .bind(c.revised_date)
        .bind(c.next_update)
        .bind(&c.author)
        .bind(c.entered_at)
        .bind($area)
        .fetch_one($conn)
        .await?;
        id
    }};
}
pub(super) use insert_commentary;

impl Store {
    /// Store checked updates, all or none (one transaction), entered at `now`; their ids.
    pub async fn save_action_updates(
        &self,
        updates: &[Update],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut ids = Vec::with_capacity(updates.len());
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for u in updates {
                ids.push(insert_update!(&mut *tx, self.area(), u, now));
            }
            tx.commit().await?;
        });
        Ok(ids)
    }

    /// Every update in entry order (`only`: one action's).
    pub async fn action_updates(&self, only: Option<&str>) -> Result<Vec<Recorded>, StoreError> {
        // One query for all and for one: `$1` NULL matches every action.
        const SQL: &str = "SELECT id, reference, status, note, evidence, next_steps, author, \
            entered_at FROM action_updates \
            WHERE (CAST($1 AS TEXT) IS NULL OR reference = $1) AND area = $2 ORDER BY id";
        let rows: Vec<UpdateRow> = on_pool!(self, p => sqlx::query_as(SQL).bind(only).bind(self.area()).fetch_all(p).await?);
        rows.into_iter().map(recorded).collect()
    }

    /// Store checked commentary, all or none (one transaction), each at its `entered_at`.
    pub async fn save_commentary(&self, entries: &[Commentary]) -> Result<(), StoreError> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for c in entries {
                insert_commentary!(&mut *tx, self.area(), c);
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every commentary entry, superseded ones too, by KPI, period and entry order (`only`:
    /// one KPI's).
    pub async fn commentary_history(
        &self,
        only: Option<&str>,
    ) -> Result<Vec<Commentary>, StoreError> {
        // One query for all and for one: `$1` NULL matches every KPI.
        const SQL: &str = "SELECT kpi_id, period, reason, actions, revised_date, next_update, \
            author, entered_at FROM commentary \
            WHERE (CAST($1 AS TEXT) IS NULL OR kpi_id = $1) AND area = $2 \
            ORDER BY kpi_id, period, id";
        let rows: Vec<CommentRow> = on_pool!(self, p => sqlx::query_as(SQL).bind(only).bind(self.area()).fetch_all(p).await?);
        rows.into_iter().map(comment).collect()
    }

    /// The commentary in force for each KPI on any of `periods` (the digest's and the pack's
    /// periods): the latest entry per KPI and period, by KPI and period. Read whole and picked
    /// in memory: the table holds a few entries per KPI a month.
    pub async fn commentary_for(&self, periods: &[Period]) -> Result<Vec<Commentary>, StoreError> {
        let all = self.commentary_history(None).await?;
        Ok(commentary::latest(&all)
            .into_iter()
            .filter(|c| periods.contains(&c.period))
            .cloned()
            .collect())
    }
}

fn recorded(r: UpdateRow) -> Result<Recorded, StoreError> {
    let (id, reference, status, note, evidence, next_steps, author, entered_at) = r;
    let status: Status = status.parse().map_err(|_| {
        StoreError::Corrupt(format!("action_updates {id}: the status is not a status"))
    })?;
    Ok(Recorded {
        id,
        update: Update {
            reference,
            status,
            note,
            evidence,
            next_steps,
            author,
        },
        entered_at,
    })
}

fn comment(r: CommentRow) -> Result<Commentary, StoreError> {
    let (kpi_id, period, reason, actions, revised_date, next_update, author, entered_at) = r;
    let period = period.parse().map_err(|_| {
        StoreError::Corrupt(format!(
            "commentary on {kpi_id}: the period is not a period"
        ))
    })?;
    Ok(Commentary {
        kpi_id,
        period,
        reason,
        actions,
        revised_date,
        next_update,
        author,
        entered_at,
    })
}
