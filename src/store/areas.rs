//! Areas in the store: giving rows written before areas (migration 0018) to the configured
//! area, and the few reads that cross areas on purpose (the operator's ledger and health of
//! every area). Everything else reads and writes through a handle scoped to one area.

use super::{Store, StoreError, UNSCOPED};

/// The tables whose rows carry their area (migration 0018). Child tables (load_problems,
/// outbox_parts) belong to their parent row's area.
const AREA_TABLES: [&str; 12] = [
    "runs",
    "loads",
    "extract_current",
    "kpi_results",
    "outbox",
    "kpi_manual_values",
    "kpi_retargets",
    "risk_events",
    "dead_man_notices",
    "silences",
    "action_updates",
    "commentary",
];

impl Store {
    /// Whether the database holds rows written before areas that no area has taken yet.
    pub async fn has_unscoped_rows(&self) -> Result<bool, StoreError> {
        const SQL: &str = "SELECT count(*) FROM runs WHERE area = ''";
        let n: i64 = on_pool!(self, p => sqlx::query_scalar(SQL).fetch_one(p).await?);
        Ok(n > 0)
    }

    /// Give every row written before areas to this handle's area, in one transaction: a
    /// single-area database keeps its history when it is upgraded. The number of rows moved.
    pub async fn adopt_unscoped(&self) -> Result<u64, StoreError> {
        if self.area() == UNSCOPED {
            return Err(StoreError::NotFound(
                "rows written before areas can only be given to a named area".into(),
            ));
        }
        let mut moved = 0;
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for table in AREA_TABLES {
                let sql = format!("UPDATE {table} SET area = $1 WHERE area = ''");
                moved += sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(self.area())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await?;
        });
        Ok(moved)
    }

    /// How many rows of each table carry no area (for the test that every row carries one).
    pub async fn rows_without_area(&self) -> Result<Vec<(&'static str, i64)>, StoreError> {
        let mut out = Vec::new();
        for table in AREA_TABLES {
            let sql = format!("SELECT count(*) FROM {table} WHERE area = ''");
            let n: i64 = on_pool!(self, p => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await?);
            out.push((table, n));
        }
        Ok(out)
    }
}

impl Store {
    /// The operator's ledger: every area's runs, newest first (a deliberate crossing of
    /// areas: the operator token sees the ledger of all, never their figures).
    pub async fn list_runs_every_area(
        &self,
        limit: u32,
    ) -> Result<Vec<super::RunRecord>, StoreError> {
        let sql = format!("{} ORDER BY id DESC LIMIT $1", super::runs::RUN_COLUMNS);
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(i64::from(limit)).fetch_all(p).await?),
        )
    }
}
