//! Values entered by hand for the KPIs no extract carries: every entry, who made it and when.
//! The latest entry for a KPI and period is in force; the earlier ones stay as its history.

use chrono::{DateTime, Utc};

use super::{Store, StoreError};
use crate::kpi::manual::{Entered, ManualValue};

/// (id, kpi_id, period, value, numerator, denominator, note, entered_by, entered_at, via)
type Row = (
    i64,
    String,
    String,
    f64,
    Option<i64>,
    Option<i64>,
    Option<String>,
    String,
    DateTime<Utc>,
    String,
);

/// Insert one checked value of `area` entered at `now` by way of `via` on `conn` (a
/// transaction's): its id. A macro because each backend's connection is its own type; used by
/// [`Store::save_manual_values`] and an approved answer (`store::answers`).
macro_rules! insert_value {
    ($conn:expr, $area:expr, $v:expr, $now:expr, $via:expr) => {{
        let v: &$crate::kpi::manual::ManualValue = $v;
        let count = |n: Option<u64>| n.and_then(|n| i64::try_from(n).ok());
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO kpi_manual_values \
             (kpi_id, period, value, numerator, denominator, note, entered_by, entered_at, via, \
             area) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(&v.kpi_id)
        .bind(v.period.to_string())
        .bind(v.value)
        .bind(count(v.numerator))
        .bind(count(v.denominator))
        .bind(v.note.as_deref())
        .bind(&v.by)
        .bind($now)
        .bind($via)
        .bind($area)
        .fetch_one($conn)
        .await?;
        id
    }};
}
pub(super) use insert_value;

impl Store {
    /// Store checked values, all or none (one transaction), entered at `now` by way of `via`
    /// ("set" or "import"); their ids in order.
    pub async fn save_manual_values(
        &self,
        values: &[ManualValue],
        now: DateTime<Utc>,
        via: &str,
    ) -> Result<Vec<i64>, StoreError> {
        let mut ids = Vec::with_capacity(values.len());
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for v in values {
                ids.push(insert_value!(&mut *tx, self.area(), v, now, via));
            }
            tx.commit().await?;
        });
        Ok(ids)
    }

    /// Every entry, superseded ones too, by KPI, period and entry order (`only`: one KPI).
    pub async fn manual_history(&self, only: Option<&str>) -> Result<Vec<Entered>, StoreError> {
        // One query for all and for one: `$1` NULL matches every KPI.
        const SQL: &str = "SELECT id, kpi_id, period, value, numerator, denominator, note, \
            entered_by, entered_at, via FROM kpi_manual_values \
            WHERE (CAST($1 AS TEXT) IS NULL OR kpi_id = $1) AND area = $2 ORDER BY kpi_id, period, id";
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(SQL).bind(only).bind(self.area()).fetch_all(p).await?);
        rows.into_iter().map(entered).collect()
    }

    /// The entry in force for every KPI and period: the latest.
    pub async fn manual_values(&self) -> Result<Vec<Entered>, StoreError> {
        const SQL: &str = "SELECT id, kpi_id, period, value, numerator, denominator, note, \
            entered_by, entered_at, via FROM kpi_manual_values v \
            WHERE v.id = (SELECT MAX(l.id) FROM kpi_manual_values l \
            WHERE l.kpi_id = v.kpi_id AND l.period = v.period AND l.area = $1) \
            AND v.area = $1 ORDER BY v.kpi_id, v.period";
        let rows: Vec<Row> =
            on_pool!(self, p => sqlx::query_as(SQL).bind(self.area()).fetch_all(p).await?);
        rows.into_iter().map(entered).collect()
    }
}

fn entered(r: Row) -> Result<Entered, StoreError> {
    let (id, kpi_id, period, value, numerator, denominator, note, by, entered_at, via) = r;
    let period = period.parse().map_err(|_| {
        StoreError::Corrupt(format!(
            "kpi_manual_values {id}: the period is not a period"
        ))
    })?;
    let count = |n: Option<i64>| n.and_then(|n| u64::try_from(n).ok());
    Ok(Entered {
        id,
        value: ManualValue {
            kpi_id,
            period,
            value,
            numerator: count(numerator),
            denominator: count(denominator),
            note,
            by,
        },
        entered_at,
        via,
    })
}
