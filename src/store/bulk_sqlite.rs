//! SQLite bulk insert: one prepared statement, bound and stepped for every row through the
//! connection's raw handle, inside the load's transaction.
//!
//! Why raw: sqlx sends each statement to its worker thread and boxes every bound value; at a
//! million rows that costs more than the insert itself. Here a batch of rows is one lock of
//! the handle, one prepare, and then bind/step/reset per row with text bound in place
//! (`SQLITE_STATIC`: the batch outlives the step). Dates are stored as `yyyymmdd` integers.

use std::ffi::{CStr, CString, c_int};
use std::ptr::{self, NonNull};

use chrono::Datelike;
use libsqlite3_sys as ffi;
use sqlx::{Sqlite, SqliteConnection, Transaction};
use tokio::sync::mpsc::Receiver;

use super::StoreError;
use super::feed::{Feed, SetAside};
use crate::load::{Batch, KindDef, LoadError, ParseSummary, Value};

/// `2020-01-05` as `20200105`.
pub fn date_number(d: chrono::NaiveDate) -> i64 {
    i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
}

/// The inverse of [`date_number`].
pub fn number_date(n: i64) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::from_ymd_opt(
        (n / 10_000) as i32,
        (n / 100 % 100) as u32,
        (n % 100) as u32,
    )
}

fn insert_sql(table: &str, kind: &KindDef) -> Result<CString, StoreError> {
    let cols: Vec<String> = kind
        .columns
        .iter()
        .map(|c| format!("\"{}\"", c.name))
        .collect();
    let marks = vec!["?"; kind.columns.len() + 1].join(", ");
    CString::new(format!(
        "INSERT INTO {table} (line, {}) VALUES ({marks})",
        cols.join(", ")
    ))
    .map_err(|_| StoreError::Bulk("a column name holds a NUL byte".into()))
}

pub(super) async fn write_rows(
    tx: &mut Transaction<'static, Sqlite>,
    table: &str,
    kind: &KindDef,
    feed: &mut Receiver<Feed>,
    set_aside: &mut SetAside,
) -> Result<Option<Result<ParseSummary, LoadError>>, StoreError> {
    let sql = insert_sql(table, kind)?;
    loop {
        match feed.recv().await {
            Some(Feed::Rows(mut batch)) => {
                set_aside.take(&mut batch);
                if batch.lines.is_empty() {
                    continue;
                }
                let conn: &mut SqliteConnection = tx;
                let mut handle = conn.lock_handle().await?;
                insert(handle.as_raw_handle(), &sql, &batch).map_err(StoreError::Bulk)?;
            }
            Some(Feed::Done(result)) => return Ok(Some(result)),
            None => return Ok(None),
        }
    }
}

/// Finalizes the statement however the batch ends.
struct Statement(*mut ffi::sqlite3_stmt);

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: the pointer came from a successful sqlite3_prepare_v2 and is finalized once.
        unsafe {
            ffi::sqlite3_finalize(self.0);
        }
    }
}

fn message(db: *mut ffi::sqlite3) -> String {
    // SAFETY: sqlite3_errmsg returns a NUL-terminated string owned by the connection, valid
    // until the next call on it; it is copied at once. SQLite's messages name columns and
    // constraints, never bound values.
    unsafe {
        let m = ffi::sqlite3_errmsg(db);
        if m.is_null() {
            "unknown SQLite error".into()
        } else {
            CStr::from_ptr(m).to_string_lossy().into_owned()
        }
    }
}

fn insert(db: NonNull<ffi::sqlite3>, sql: &CStr, batch: &Batch) -> Result<(), String> {
    let db = db.as_ptr();
    let mut raw = ptr::null_mut();
    // SAFETY: `db` is the open connection whose lock the caller holds for this whole call;
    // `sql` is NUL-terminated.
    let rc = unsafe { ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut raw, ptr::null_mut()) };
    if rc != ffi::SQLITE_OK || raw.is_null() {
        return Err(message(db));
    }
    let stmt = Statement(raw);
    let text = batch.text.as_bytes();
    for (line, row) in batch.rows() {
        // SAFETY: `stmt.0` is a live statement of `db`; parameter indexes are 1..=width+1, as
        // many as the statement's placeholders; text pointers point into `batch.text`, which
        // is borrowed (and so neither moved nor freed) until after sqlite3_reset, and bound
        // with SQLITE_STATIC accordingly.
        unsafe {
            let mut rc = ffi::sqlite3_bind_int64(stmt.0, 1, line as i64);
            for (i, v) in row.iter().enumerate() {
                if rc != ffi::SQLITE_OK {
                    break;
                }
                let at = (i + 2) as c_int;
                rc = match *v {
                    Value::Null => ffi::sqlite3_bind_null(stmt.0, at),
                    Value::Text(a, b) => {
                        let piece = &text[a as usize..b as usize];
                        ffi::sqlite3_bind_text(
                            stmt.0,
                            at,
                            piece.as_ptr().cast(),
                            piece.len() as c_int,
                            ffi::SQLITE_STATIC(),
                        )
                    }
                    Value::Int(n) => ffi::sqlite3_bind_int64(stmt.0, at, n),
                    Value::Dec(x) => ffi::sqlite3_bind_double(stmt.0, at, x),
                    Value::Date(d) => ffi::sqlite3_bind_int64(stmt.0, at, date_number(d)),
                    Value::Flag(f) => ffi::sqlite3_bind_int(stmt.0, at, c_int::from(f)),
                };
            }
            if rc != ffi::SQLITE_OK {
                return Err(message(db));
            }
            if ffi::sqlite3_step(stmt.0) != ffi::SQLITE_DONE {
                let m = message(db);
                ffi::sqlite3_reset(stmt.0);
                return Err(m);
            }
            ffi::sqlite3_reset(stmt.0);
        }
    }
    Ok(())
}

/// Read `sql`'s rows (first column `line`, then one per `types`) into batches of `rows`,
/// handing each to `each`. The caller holds the connection's lock for the whole read.
pub(super) fn scan(
    db: NonNull<ffi::sqlite3>,
    sql: &CStr,
    types: &[crate::load::ColType],
    rows: usize,
    each: &mut dyn FnMut(&Batch),
) -> Result<u64, String> {
    use crate::load::ColType;
    let db = db.as_ptr();
    let mut raw = ptr::null_mut();
    // SAFETY: as in `insert`: a live, locked connection and a NUL-terminated statement.
    let rc = unsafe { ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut raw, ptr::null_mut()) };
    if rc != ffi::SQLITE_OK || raw.is_null() {
        return Err(message(db));
    }
    let stmt = Statement(raw);
    let mut batch = Batch::new(types.len(), rows);
    let mut total = 0u64;
    loop {
        // SAFETY: `stmt.0` is live; column indexes are below the statement's column count
        // (line plus one per type); a text pointer is copied before the next step.
        unsafe {
            match ffi::sqlite3_step(stmt.0) {
                ffi::SQLITE_ROW => {}
                ffi::SQLITE_DONE => break,
                _ => return Err(message(db)),
            }
            batch
                .lines
                .push(ffi::sqlite3_column_int64(stmt.0, 0) as u64);
            for (i, ty) in types.iter().enumerate() {
                let at = (i + 1) as c_int;
                let v = if ffi::sqlite3_column_type(stmt.0, at) == ffi::SQLITE_NULL {
                    Value::Null
                } else {
                    match ty {
                        ColType::Text | ColType::Enum | ColType::Month => {
                            let p = ffi::sqlite3_column_text(stmt.0, at);
                            let n = ffi::sqlite3_column_bytes(stmt.0, at);
                            if p.is_null() || n < 0 {
                                Value::Null
                            } else {
                                let bytes = std::slice::from_raw_parts(p, n as usize);
                                match std::str::from_utf8(bytes) {
                                    Ok(s) => batch.push_text(s),
                                    Err(_) => return Err("a stored text is not UTF-8".into()),
                                }
                            }
                        }
                        ColType::Integer => Value::Int(ffi::sqlite3_column_int64(stmt.0, at)),
                        ColType::Decimal => Value::Dec(ffi::sqlite3_column_double(stmt.0, at)),
                        ColType::Flag => Value::Flag(ffi::sqlite3_column_int64(stmt.0, at) != 0),
                        ColType::Date => match number_date(ffi::sqlite3_column_int64(stmt.0, at)) {
                            Some(d) => Value::Date(d),
                            None => return Err("a stored date is not yyyymmdd".into()),
                        },
                    }
                };
                batch.values.push(v);
            }
        }
        total += 1;
        if batch.lines.len() >= rows {
            each(&batch);
            super::loads::reuse(&mut batch);
        }
    }
    if !batch.lines.is_empty() {
        each(&batch);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_as_numbers() {
        let d = chrono::NaiveDate::from_ymd_opt(2020, 1, 5).expect("date");
        assert_eq!(date_number(d), 20_200_105);
        assert_eq!(number_date(20_200_105), Some(d));
        assert_eq!(number_date(20_200_230), None);
    }
}
