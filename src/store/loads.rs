//! Loads: the record of every fetch, and reading back the rows of a load.
//!
//! Every fetch leaves one row in `loads`, whatever became of it: loaded, held, rejected,
//! unchanged or failed. The rows of an accepted load sit in its own table (see
//! [`super::bulk`]); [`Store::scan`] streams them back a batch at a time, in extract order,
//! so a KPI never needs the whole extract in memory.

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::TryStreamExt;
use sqlx::postgres::PgPoolCopyExt as _;

use super::bulk::{LoadMeta, row_table};
use super::scan::SCAN_ROWS;
use super::{Pool, Store, StoreError};
use crate::load::{Batch, ColType, KindDef};
// Every URL stored in `loads.url` goes through it, whoever built the row.
use crate::secret::redact_url;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoadRecord {
    pub id: i64,
    pub run_id: i64,
    pub source: String,
    pub kind: Option<String>,
    pub url: String,
    pub fetched_at: DateTime<Utc>,
    pub http_status: Option<i32>,
    pub bytes: Option<i64>,
    pub sha256: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub rows_loaded: Option<i64>,
    pub rows_set_aside: Option<i64>,
    pub data_as_of: Option<NaiveDate>,
    pub outcome: String,
    pub error: Option<String>,
    pub held_reason: Option<String>,
    pub kept_file: Option<String>,
    pub row_table: Option<String>,
    /// The area whose load it is.
    pub area: String,
}

const LOAD_COLUMNS: &str = "l.id, l.run_id, l.source, l.kind, l.url, l.fetched_at, l.http_status, \
    l.bytes, l.sha256, l.etag, l.last_modified, l.rows_loaded, l.rows_set_aside, l.data_as_of, \
    l.outcome, l.error, l.held_reason, l.kept_file, l.row_table, l.area";

impl Store {
    /// Record a fetch that brought nothing back.
    pub async fn record_fetch_failure(
        &self,
        run_id: i64,
        source: &str,
        url: &str,
        at: DateTime<Utc>,
        http_status: Option<u16>,
        error: &str,
    ) -> Result<i64, StoreError> {
        let fetch = (run_id, source, url, at, http_status);
        self.record_no_rows(fetch, "fetch_failed", error).await
    }

    /// Record a fetch that found nothing new (HTTP 304, or the same sha256 as the current load).
    pub async fn record_unchanged(
        &self,
        run_id: i64,
        source: &str,
        url: &str,
        at: DateTime<Utc>,
        http_status: Option<u16>,
        why: &str,
    ) -> Result<i64, StoreError> {
        let fetch = (run_id, source, url, at, http_status);
        self.record_no_rows(fetch, "unchanged", why).await
    }

    /// A load row with no rows behind it: the fetch (run, source, URL, when, HTTP status), its
    /// `outcome` and the sentence that says why.
    async fn record_no_rows(
        &self,
        (run_id, source, url, at, http_status): (i64, &str, &str, DateTime<Utc>, Option<u16>),
        outcome: &str,
        why: &str,
    ) -> Result<i64, StoreError> {
        const SQL: &str = "INSERT INTO loads (run_id, source, url, fetched_at, http_status, outcome, error, area) \
                           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
        Ok(on_pool!(self, p => sqlx::query_scalar(SQL)
            .bind(run_id)
            .bind(source)
            .bind(redact_url(url))
            .bind(at)
            .bind(http_status.map(i32::from))
            .bind(outcome)
            .bind(why)
            .bind(self.area())
            .fetch_all(p)
            .await?
            .into_iter().next().ok_or(sqlx::Error::RowNotFound)?))
    }

    /// Record an extract that was fetched but refused; none of its rows is stored. `error`
    /// holds places and rules only, never a value.
    pub async fn record_rejection(
        &self,
        meta: &LoadMeta<'_>,
        error: &str,
        kept_file: Option<&str>,
    ) -> Result<i64, StoreError> {
        const SQL: &str = "INSERT INTO loads (run_id, source, kind, url, fetched_at, http_status, bytes, \
            sha256, etag, last_modified, outcome, error, kept_file, area) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'rejected', $11, $12, $13) RETURNING id";
        Ok(on_pool!(self, p => sqlx::query_scalar(SQL)
            .bind(meta.run_id)
            .bind(meta.source)
            .bind(meta.kind)
            .bind(redact_url(meta.url))
            .bind(meta.fetched_at)
            .bind(meta.http_status.map(i32::from))
            .bind(meta.bytes as i64)
            .bind(meta.sha256)
            .bind(meta.etag)
            .bind(meta.last_modified)
            .bind(error)
            .bind(kept_file)
            .bind(self.area())
            .fetch_all(p)
            .await?
            .into_iter().next().ok_or(sqlx::Error::RowNotFound)?))
    }

    /// Note where a held load's file was kept.
    pub async fn set_kept_file(&self, load_id: i64, path: &str) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE loads SET kept_file = $2 WHERE id = $1 AND area = $3";
        on_pool!(self, p => sqlx::query(SQL).bind(load_id).bind(path).bind(self.area()).execute(p).await.map(|_| ())?);
        Ok(())
    }

    /// The load a source's rows currently come from, if any was ever accepted.
    pub async fn current_load(&self, source: &str) -> Result<Option<LoadRecord>, StoreError> {
        let sql = format!(
            "SELECT {LOAD_COLUMNS} FROM extract_current c JOIN loads l ON l.id = c.load_id \
             WHERE c.source = $1 AND c.area = $2 AND l.area = $2"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(source).bind(self.area()).fetch_optional(p).await?),
        )
    }

    /// One load by id.
    pub async fn load(&self, id: i64) -> Result<Option<LoadRecord>, StoreError> {
        let sql = format!("SELECT {LOAD_COLUMNS} FROM loads l WHERE l.id = $1 AND l.area = $2");
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).bind(self.area()).fetch_optional(p).await?),
        )
    }

    /// Every fetch a run made, in order.
    pub async fn run_loads(&self, run_id: i64) -> Result<Vec<LoadRecord>, StoreError> {
        let sql = format!(
            "SELECT {LOAD_COLUMNS} FROM loads l WHERE l.run_id = $1 AND l.area = $2 ORDER BY l.id"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(run_id).bind(self.area()).fetch_all(p).await?),
        )
    }

    /// The problems recorded with a load (quarantined rows, repeated keys): (line, column, rule).
    pub async fn load_problems(
        &self,
        load_id: i64,
    ) -> Result<Vec<(i64, Option<String>, String)>, StoreError> {
        // A load's problems are its area's: through the load's row.
        const SQL: &str = "SELECT line, column_name, problem FROM load_problems WHERE load_id = $1 \
            AND load_id IN (SELECT id FROM loads WHERE area = $2) ORDER BY line";
        Ok(
            on_pool!(self, p => sqlx::query_as(SQL).bind(load_id).bind(self.area()).fetch_all(p).await?),
        )
    }

    /// Stream `columns` of a load's rows (all of them, in storage order: extract order on
    /// SQLite, any order on PostgreSQL), a batch at a time. The batch's values follow
    /// `columns`' order; its `lines` are the extract's lines.
    pub async fn scan(
        &self,
        load: &LoadRecord,
        kind: &KindDef,
        columns: &[&str],
        mut each: impl FnMut(&Batch),
    ) -> Result<u64, StoreError> {
        let (table, types) = scan_table(self, load, kind, columns)?;
        match &self.pool {
            Pool::Sqlite(p) => {
                // The raw handle, as for the bulk insert: sqlx decodes each cell through its
                // worker thread, which costs seconds at a million rows.
                let sql = sqlite_sql(&table, columns)?;
                let mut conn = p.acquire().await?;
                let mut handle = conn.lock_handle().await?;
                super::bulk_sqlite::scan(handle.as_raw_handle(), &sql, &types, SCAN_ROWS, &mut each)
                    .map_err(StoreError::Bulk)
            }
            Pool::Postgres(p) => {
                let sql = super::bulk_pg::copy_out_sql(&table, columns, &types);
                let mut chunks = p.copy_out_raw(&sql).await?;
                let mut reader = super::bulk_pg::CopyReader::new(&types);
                let mut batch = Batch::new(columns.len(), SCAN_ROWS);
                let mut total = 0u64;
                while let Some(chunk) = chunks.try_next().await? {
                    total += reader
                        .feed(&chunk, &mut batch, SCAN_ROWS, &mut each)
                        .map_err(StoreError::Corrupt)?;
                }
                reader.finish().map_err(StoreError::Corrupt)?;
                if !batch.lines.is_empty() {
                    each(&batch);
                }
                Ok(total)
            }
        }
    }

    /// [`Store::scan`] into `state`, which comes back fed with every batch. On SQLite the
    /// read runs on a blocking thread of its own, so that folds of several loads run side by
    /// side (a core each) and none holds up the runtime's other tasks meanwhile.
    pub async fn fold<S: Send + 'static>(
        &self,
        load: &LoadRecord,
        kind: &KindDef,
        columns: &[&str],
        mut state: S,
        each: impl Fn(&mut S, &Batch) + Send + 'static,
    ) -> Result<S, StoreError> {
        let Pool::Sqlite(p) = &self.pool else {
            // PostgreSQL's server does the reading; this task only decodes what it sends.
            self.scan(load, kind, columns, |b| each(&mut state, b))
                .await?;
            return Ok(state);
        };
        let (table, types) = scan_table(self, load, kind, columns)?;
        let sql = sqlite_sql(&table, columns)?;
        let mut conn = p.acquire().await?;
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            // Not on a runtime thread: waiting here for the connection's lock blocks no task.
            let mut handle = runtime.block_on(conn.lock_handle())?;
            super::bulk_sqlite::scan(handle.as_raw_handle(), &sql, &types, SCAN_ROWS, &mut |b| {
                each(&mut state, b)
            })
            .map_err(StoreError::Bulk)?;
            Ok(state)
        })
        .await
        .map_err(|e| StoreError::Bulk(format!("the scan's thread stopped: {e}")))?
    }
}

/// The table that holds a load's rows, and the types of `columns` in it.
fn scan_table(
    store: &Store,
    load: &LoadRecord,
    kind: &KindDef,
    columns: &[&str],
) -> Result<(String, Vec<ColType>), StoreError> {
    // A record is plain data anyone could make: its rows are read only in its own area.
    if load.area != store.area() {
        return Err(StoreError::NotFound(format!(
            "load {} is not this area's",
            load.id
        )));
    }
    let table = match &load.row_table {
        Some(t) if *t == row_table(load.id) => t.clone(),
        _ => {
            return Err(StoreError::NotFound(format!(
                "load {} has no rows stored (outcome `{}`)",
                load.id, load.outcome
            )));
        }
    };
    let mut types = Vec::with_capacity(columns.len());
    for c in columns {
        let pos = kind.position(c).ok_or_else(|| {
            StoreError::Corrupt(format!("the kind of load {} has no column `{c}`", load.id))
        })?;
        types.push(kind.columns[pos].ty);
    }
    Ok((table, types))
}

/// SQLite's query for [`Store::scan`]. No ORDER BY: `line` has no index, so sorting a
/// million rows would cost more than reading them, and no fold depends on the order.
fn sqlite_sql(table: &str, columns: &[&str]) -> Result<std::ffi::CString, StoreError> {
    let list: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
    std::ffi::CString::new(format!("SELECT line, {} FROM {table}", list.join(", ")))
        .map_err(|_| StoreError::Bulk("a column name holds a NUL byte".into()))
}
