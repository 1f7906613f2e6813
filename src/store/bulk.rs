//! Bulk load: an extract's rows, streamed from the parser, into a table of their own, then
//! swapped in (or held) in the same transaction.
//!
//! The steps, one transaction: record the load as `loading`; create `rows_<load id>` from the
//! kind's columns, with no index; write the rows as they arrive (SQLite: one prepared
//! statement through the raw handle, [`super::bulk_sqlite`]; PostgreSQL: binary COPY,
//! [`super::bulk_pg`]); build the key index once; find repeated keys only if that fails; then
//! let the caller's judge say swap or hold. A rejected extract, a failure or a kill before the
//! commit leaves nothing behind, and the previous load stays current.

use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::mpsc::Receiver;

pub use super::feed::Feed;
use super::feed::SetAside;
use super::tx::{Tx, on_tx};
use super::{Store, StoreError};
use crate::load::{ColType, KindDef, LoadError, ParseSummary, Policy, Problem, Problems};

/// The facts of a fetched extract, recorded with its load.
#[derive(Debug, Clone)]
pub struct LoadMeta<'a> {
    pub run_id: i64,
    pub source: &'a str,
    pub kind: &'a str,
    /// File name or redacted URL, as shown.
    pub url: &'a str,
    pub fetched_at: DateTime<Utc>,
    pub http_status: Option<u16>,
    pub bytes: u64,
    pub sha256: &'a str,
    pub etag: Option<&'a str>,
    pub last_modified: Option<&'a str>,
}

/// What the rows came to, for the judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub rows: u64,
    /// Bad rows and repeated keys set aside (quarantine policy).
    pub set_aside: u64,
    pub as_of: Option<NaiveDate>,
}

/// The judge's ruling on a written extract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Swap,
    /// Keep it, but not current, until an operator approves it.
    Hold(String),
    /// Roll it all back (a dry run).
    Discard,
}

#[derive(Debug)]
pub enum BulkOutcome {
    Swapped {
        load_id: i64,
        written: Written,
    },
    Held {
        load_id: i64,
        written: Written,
        reason: String,
    },
    /// Checked and rolled back, as the judge asked.
    Discarded {
        written: Written,
    },
    /// Nothing was stored; the caller records the rejection.
    Rejected(LoadError),
}

/// `rows_<load id>`: safe as an identifier by construction.
pub fn row_table(load_id: i64) -> String {
    format!("rows_{load_id}")
}

fn sql_type(ty: ColType, pg: bool) -> &'static str {
    match (ty, pg) {
        (ColType::Text | ColType::Enum | ColType::Month, _) => "TEXT",
        (ColType::Integer, false) => "INTEGER",
        (ColType::Integer, true) => "BIGINT",
        (ColType::Decimal, false) => "REAL",
        (ColType::Decimal, true) => "DOUBLE PRECISION",
        // SQLite: yyyymmdd as an integer: compact, sortable, and readable in the sqlite3 shell.
        (ColType::Date, false) => "INTEGER",
        (ColType::Date, true) => "DATE",
        (ColType::Flag, false) => "INTEGER",
        (ColType::Flag, true) => "BOOLEAN",
    }
}

fn create_table_sql(table: &str, kind: &KindDef, pg: bool) -> String {
    let line = if pg { "BIGINT" } else { "INTEGER" };
    let cols: Vec<String> = kind
        .columns
        .iter()
        .map(|c| {
            let null = if c.required { " NOT NULL" } else { "" };
            format!("\"{}\" {}{null}", c.name, sql_type(c.ty, pg))
        })
        .collect();
    format!(
        "CREATE TABLE {table} (line {line} NOT NULL, {})",
        cols.join(", ")
    )
}

fn key_list(kind: &KindDef) -> String {
    kind.key
        .iter()
        .map(|k| format!("\"{k}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Lines whose key repeats an earlier line's, with that earlier line.
fn repeats_sql(table: &str, kind: &KindDef) -> String {
    format!(
        "SELECT line, first FROM (SELECT line, min(line) OVER (PARTITION BY {keys}) AS first \
         FROM {table}) d WHERE line > first",
        keys = key_list(kind)
    )
}

impl Store {
    /// Write an extract's rows as the parser sends them, and swap them in or hold them as
    /// `judge` rules; or roll everything back if the parser rejects the file or keys repeat
    /// (strict policy).
    pub async fn bulk_load(
        &self,
        meta: &LoadMeta<'_>,
        kind: &KindDef,
        policy: Policy,
        file: &str,
        feed: &mut Receiver<Feed>,
        judge: impl FnOnce(&Written) -> Verdict,
    ) -> Result<BulkOutcome, StoreError> {
        let mut tx = Tx::begin(self).await?;
        let area = self.area();
        let load_id = record_load(&mut tx, area, meta).await?;
        let table = row_table(load_id);
        let pg = matches!(tx, Tx::Pg(_));
        exec(&mut tx, create_table_sql(&table, kind, pg)).await?;
        tracing::info!(
            source = meta.source,
            load_id,
            "Validating and swapping in as the rows arrive."
        );

        let mut set_aside_rows = SetAside::default();
        let parsed = match &mut tx {
            Tx::Sqlite(t) => {
                super::bulk_sqlite::write_rows(t, &table, kind, feed, &mut set_aside_rows).await?
            }
            Tx::Pg(t) => {
                super::bulk_pg::write_rows(t, &table, kind, feed, &mut set_aside_rows).await?
            }
        };
        let summary = match parsed {
            Some(Ok(s)) => s,
            Some(Err(e)) => {
                rollback(tx).await;
                return Ok(BulkOutcome::Rejected(e));
            }
            None => {
                rollback(tx).await;
                return Err(StoreError::Bulk(
                    "the parser stopped without a verdict".into(),
                ));
            }
        };

        for p in &set_aside_rows.kept {
            record_problem(&mut tx, load_id, p).await?;
        }
        let repeats =
            match set_aside_repeats(&mut tx, load_id, &table, kind, policy, &summary).await? {
                Ok(n) => n,
                Err(problems) => {
                    rollback(tx).await;
                    return Ok(BulkOutcome::Rejected(problems.into_error(file)));
                }
            };
        let written = Written {
            rows: summary.rows.saturating_sub(repeats),
            set_aside: summary.set_aside + repeats,
            as_of: summary.as_of,
        };
        let verdict = judge(&written);
        if verdict == Verdict::Discard {
            rollback(tx).await;
            return Ok(BulkOutcome::Discarded { written });
        }
        record_verdict(&mut tx, area, meta, load_id, &written, &verdict).await?;
        tx.commit().await?;
        Ok(match verdict {
            Verdict::Hold(reason) => BulkOutcome::Held {
                load_id,
                written,
                reason,
            },
            _ => BulkOutcome::Swapped { load_id, written },
        })
    }

    /// Make a held load current (an operator's approval). Errors if it is not held.
    pub async fn approve_load(
        &self,
        load_id: i64,
        at: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let mut tx = Tx::begin(self).await?;
        const HELD: &str =
            "SELECT source, outcome, row_table FROM loads WHERE id = $1 AND area = $2";
        let row: Option<(String, String, Option<String>)> = on_tx!(&mut tx, t => sqlx::query_as(HELD).bind(load_id).bind(self.area()).fetch_optional(&mut **t).await?);
        let Some((source, outcome, table)) = row else {
            return Err(StoreError::NotFound(format!("no load {load_id}")));
        };
        if outcome != "held" || table.is_none() {
            return Err(StoreError::NotFound(format!(
                "load {load_id} is `{outcome}`, not held: only a held load can be approved"
            )));
        }
        const APPROVE: &str =
            "UPDATE loads SET outcome = 'approved', approved_at = $2 WHERE id = $1";
        on_tx!(&mut tx, t => sqlx::query(APPROVE).bind(load_id).bind(at).execute(&mut **t).await.map(|_| ())?);
        swap_in(&mut tx, self.area(), &source, load_id, at).await?;
        tx.commit().await?;
        Ok(source)
    }
}

/// Record the fetched extract as a load, `loading`; its id.
async fn record_load(tx: &mut Tx, area: &str, meta: &LoadMeta<'_>) -> Result<i64, StoreError> {
    const RECORD: &str = "INSERT INTO loads (run_id, source, kind, url, fetched_at, http_status, \
        bytes, sha256, etag, last_modified, outcome, area) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'loading', $11) RETURNING id";
    Ok(on_tx!(tx, t => sqlx::query_scalar(RECORD)
        .bind(meta.run_id)
        .bind(meta.source)
        .bind(meta.kind)
        .bind(crate::secret::redact_url(meta.url))
        .bind(meta.fetched_at)
        .bind(meta.http_status.map(i32::from))
        .bind(meta.bytes as i64)
        .bind(meta.sha256)
        .bind(meta.etag)
        .bind(meta.last_modified)
        .bind(area)
        .fetch_one(&mut **t)
        .await?))
}

/// Build the key index over the written rows. Where keys repeat: under the strict policy, the
/// problems that reject the extract (`Err`); under quarantine, the repeats are deleted,
/// recorded as set aside and the index built, and their number returned.
async fn set_aside_repeats(
    tx: &mut Tx,
    load_id: i64,
    table: &str,
    kind: &KindDef,
    policy: Policy,
    summary: &ParseSummary,
) -> Result<Result<u64, Problems>, StoreError> {
    let repeats = build_key_index(tx, table, kind).await?;
    if repeats.is_empty() {
        return Ok(Ok(0));
    }
    let name = kind.key.join(", ");
    let problem = |(line, first): (i64, i64)| Problem {
        line: line as u64,
        column: summary.key_column.map(|c| (c, name.clone())),
        message: format!("key repeats the one on line {first}"),
    };
    if policy == Policy::Strict {
        let mut problems = Problems::default();
        repeats.into_iter().for_each(|r| problems.add(problem(r)));
        return Ok(Err(problems));
    }
    let count = repeats.len() as u64;
    let delete = format!(
        "DELETE FROM {table} WHERE line IN (SELECT line FROM ({}) r)",
        repeats_sql(table, kind)
    );
    exec(tx, delete).await?;
    for r in repeats {
        record_problem(tx, load_id, &problem(r)).await?;
    }
    exec(
        tx,
        format!(
            "CREATE UNIQUE INDEX {table}_key ON {table} ({})",
            key_list(kind)
        ),
    )
    .await?;
    Ok(Ok(count))
}

/// Record what the load came to and the judge's ruling; swap it in, or hold it (replacing an
/// older held load of the source).
async fn record_verdict(
    tx: &mut Tx,
    area: &str,
    meta: &LoadMeta<'_>,
    load_id: i64,
    written: &Written,
    verdict: &Verdict,
) -> Result<(), StoreError> {
    const FACTS: &str = "UPDATE loads SET outcome = $2, row_table = $3, rows_loaded = $4, \
        rows_set_aside = $5, data_as_of = $6, held_reason = $7 WHERE id = $1";
    let (outcome, reason) = match verdict {
        Verdict::Hold(r) => ("held", Some(r.as_str())),
        _ => ("loaded", None),
    };
    on_tx!(&mut *tx, t => sqlx::query(FACTS)
        .bind(load_id)
        .bind(outcome)
        .bind(row_table(load_id))
        .bind(written.rows as i64)
        .bind(written.set_aside as i64)
        .bind(written.as_of)
        .bind(reason)
        .execute(&mut **t)
        .await
        .map(|_| ())?);
    if *verdict == Verdict::Swap {
        swap_in(tx, area, meta.source, load_id, meta.fetched_at).await
    } else {
        // A newer held extract supersedes an older one: at most one waits per source.
        drop_replaced(tx, area, meta.source, load_id, true).await
    }
}

async fn exec(tx: &mut Tx, sql: String) -> Result<(), StoreError> {
    on_tx!(tx, t => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut **t).await.map(|_| ())?);
    Ok(())
}

async fn rollback(tx: Tx) {
    // A failed rollback still ends the transaction: the connection is dropped with it.
    let _ = on_tx!(tx, t => t.rollback().await);
}

/// Build the unique key index; on a clash, return the repeated lines instead.
async fn build_key_index(
    tx: &mut Tx,
    table: &str,
    kind: &KindDef,
) -> Result<Vec<(i64, i64)>, StoreError> {
    let index = format!(
        "CREATE UNIQUE INDEX {table}_key ON {table} ({})",
        key_list(kind)
    );
    // PostgreSQL aborts a transaction on any error: fence the attempt with a savepoint.
    let pg = matches!(tx, Tx::Pg(_));
    if pg {
        exec(tx, "SAVEPOINT key_index".into()).await?;
    }
    let tried = on_tx!(&mut *tx, t => sqlx::query(sqlx::AssertSqlSafe(index)).execute(&mut **t).await.map(|_| ()));
    match tried {
        Ok(_) => Ok(Vec::new()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            if pg {
                exec(tx, "ROLLBACK TO SAVEPOINT key_index".into()).await?;
            }
            let sql = format!("{} ORDER BY line", repeats_sql(table, kind));
            let rows: Vec<(i64, i64)> = on_tx!(tx, t => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&mut **t).await?);
            Ok(rows)
        }
        Err(e) => Err(e.into()),
    }
}

/// Point the source at `load_id`, and drop the tables of loads it replaces (the previous
/// current load and any held ones), in the caller's transaction. The pointer moves first: on
/// PostgreSQL that takes the source's row lock, so a second load of the same source waits
/// here until the first commits, and then sees (and drops) the first's table.
async fn swap_in(
    tx: &mut Tx,
    area: &str,
    source: &str,
    load_id: i64,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    const SWAP: &str = "INSERT INTO extract_current (source, load_id, swapped_at, area) \
        VALUES ($1, $2, $3, $4) ON CONFLICT (area, source) DO UPDATE \
        SET load_id = excluded.load_id, swapped_at = excluded.swapped_at";
    on_tx!(&mut *tx, t => sqlx::query(SWAP)
        .bind(source)
        .bind(load_id)
        .bind(at)
        .bind(area)
        .execute(&mut **t)
        .await
        .map(|_| ())?);
    drop_replaced(tx, area, source, load_id, false).await
}

/// Drop the row tables of `source`'s other loads (only the held ones if `held_only`), and mark
/// a held one superseded.
async fn drop_replaced(
    tx: &mut Tx,
    area: &str,
    source: &str,
    load_id: i64,
    held_only: bool,
) -> Result<(), StoreError> {
    const OLD: &str = "SELECT id, row_table FROM loads WHERE source = $1 AND id <> $2 \
        AND row_table IS NOT NULL AND (outcome = 'held' OR NOT $3) AND area = $4";
    let old: Vec<(i64, String)> = on_tx!(&mut *tx, t => sqlx::query_as(OLD)
        .bind(source)
        .bind(load_id)
        .bind(held_only)
        .bind(area)
        .fetch_all(&mut **t)
        .await?);
    for (id, table) in old {
        if table == row_table(id) {
            exec(tx, format!("DROP TABLE IF EXISTS {table}")).await?;
        }
        const GONE: &str = "UPDATE loads SET row_table = NULL, \
            outcome = CASE WHEN outcome = 'held' THEN 'superseded' ELSE outcome END WHERE id = $1";
        on_tx!(&mut *tx, t => sqlx::query(GONE).bind(id).execute(&mut **t).await.map(|_| ())?);
    }
    Ok(())
}

const PROBLEM: &str = "INSERT INTO load_problems (load_id, line, column_no, column_name, problem) \
    VALUES ($1, $2, $3, $4, $5)";

async fn record_problem(tx: &mut Tx, load_id: i64, p: &Problem) -> Result<(), StoreError> {
    on_tx!(tx, t => sqlx::query(PROBLEM)
        .bind(load_id)
        .bind(p.line as i64)
        .bind(p.column.as_ref().map(|c| c.0 as i32))
        .bind(p.column.as_ref().map(|c| c.1.as_str()))
        .bind(&p.message)
        .execute(&mut **t)
        .await
        .map(|_| ())?);
    Ok(())
}
