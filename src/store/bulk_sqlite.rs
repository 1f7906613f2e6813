//! SQLite bulk insert: one prepared statement, bound and stepped for every row through the
//! connection's raw handle, inside the load's transaction.
//!
//! Why raw: sqlx sends each statement to its worker thread and boxes every bound value; at a
//! million rows that costs more than the insert itself. Here a batch of rows is one lock of
//! the handle, one prepare, and then bind/step/reset per row with text bound in place
//! (`SQLITE_STATIC`: the batch outlives the step). Dates are stored as `yyyymmdd` integers.

use std::ffi::{CStr, CString, c_int};
use std::ptr::{self, NonNull};

use chrono::{Datelike, NaiveDate};
use libsqlite3_sys as ffi;
use sqlx::{Sqlite, SqliteConnection, Transaction};
use tokio::sync::mpsc::Receiver;

use super::StoreError;
use super::feed::{Feed, SetAside};
use super::scan::{Texts, reuse};
use crate::load::{Batch, ColType, KindDef, LoadError, ParseSummary, Value};

/// `2020-01-05` as `20200105`.
pub fn date_number(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
}

/// The inverse of [`date_number`].
pub fn number_date(n: i64) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(
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
                let raw = handle.as_raw_handle();
                insert(raw, &sql, &batch).map_err(|m| {
                    // SAFETY: the connection is locked for us; errcode reads its last result.
                    let code = unsafe { ffi::sqlite3_errcode(raw.as_ptr()) };
                    if code & 0xff == ffi::SQLITE_FULL {
                        StoreError::DiskFull(
                            "the database could not write the extract's rows".into(),
                        )
                    } else {
                        StoreError::Bulk(m)
                    }
                })?;
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

/// Dates one column of a scan has met, by their `yyyymmdd` number: a column holds a few
/// hundred distinct dates in a batch of thousands of rows, and building a date checks the
/// calendar each time. Small enough to stay in the CPU's nearest cache.
struct Dates(Box<[Option<(i64, NaiveDate)>]>);

impl Dates {
    /// A power of two: dates fewer than this many days apart never share a slot.
    const SLOTS: usize = 256;

    fn new() -> Dates {
        Dates(vec![None; Self::SLOTS].into_boxed_slice())
    }

    fn get(&mut self, n: i64) -> Option<NaiveDate> {
        let day = (n / 10_000) * 372 + (n / 100 % 100) * 31 + n % 100;
        let slot = &mut self.0[(day as usize) & (Self::SLOTS - 1)];
        match *slot {
            Some((k, d)) if k == n => Some(d),
            _ => {
                let d = number_date(n)?;
                *slot = Some((n, d));
                Some(d)
            }
        }
    }
}

/// Read `sql`'s rows (first column `line`, then one per `types`) into batches of `rows`,
/// handing each to `each`. The caller holds the connection's lock for the whole read.
pub(super) fn scan(
    db: NonNull<ffi::sqlite3>,
    sql: &CStr,
    types: &[ColType],
    rows: usize,
    each: &mut dyn FnMut(&Batch),
) -> Result<u64, String> {
    let db = db.as_ptr();
    let mut raw = ptr::null_mut();
    // SAFETY: as in `insert`: a live, locked connection and a NUL-terminated statement.
    let rc = unsafe { ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut raw, ptr::null_mut()) };
    if rc != ffi::SQLITE_OK || raw.is_null() {
        return Err(message(db));
    }
    let stmt = Statement(raw);
    let mut batch = Batch::new(types.len(), rows);
    let mut dates: Vec<Dates> = types
        .iter()
        .map(|t| {
            if *t == ColType::Date {
                Dates::new()
            } else {
                Dates(Box::new([]))
            }
        })
        .collect();
    let mut texts: Vec<Texts> = types.iter().map(|_| Texts::default()).collect();
    let mut total = 0u64;
    loop {
        // SAFETY: `stmt.0` is live; column indexes are below the statement's column count
        // (line plus one per type); a text pointer is read before the next step.
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
                // A NULL reads as 0 (or a null pointer): only then is its type asked.
                let null = || ffi::sqlite3_column_type(stmt.0, at) == ffi::SQLITE_NULL;
                let v = match ty {
                    ColType::Text | ColType::Enum | ColType::Month => {
                        let p = ffi::sqlite3_column_text(stmt.0, at);
                        let n = ffi::sqlite3_column_bytes(stmt.0, at);
                        if p.is_null() || n < 0 {
                            Value::Null
                        } else {
                            let bytes = std::slice::from_raw_parts(p, n as usize);
                            texts[i].push(&mut batch, bytes)?
                        }
                    }
                    ColType::Integer | ColType::Flag | ColType::Date => {
                        let n = ffi::sqlite3_column_int64(stmt.0, at);
                        if n == 0 && null() {
                            Value::Null
                        } else if *ty == ColType::Integer {
                            Value::Int(n)
                        } else if *ty == ColType::Flag {
                            Value::Flag(n != 0)
                        } else {
                            match dates[i].get(n) {
                                Some(d) => Value::Date(d),
                                None => return Err("a stored date is not yyyymmdd".into()),
                            }
                        }
                    }
                    ColType::Decimal => {
                        let x = ffi::sqlite3_column_double(stmt.0, at);
                        if x == 0.0 && null() {
                            Value::Null
                        } else {
                            Value::Dec(x)
                        }
                    }
                };
                batch.values.push(v);
            }
        }
        total += 1;
        if batch.lines.len() >= rows {
            each(&batch);
            reuse(&mut batch);
            texts.iter_mut().for_each(Texts::clear);
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

    #[test]
    fn remembered_dates_are_the_dates_asked_for() {
        let mut dates = Dates::new();
        let start = NaiveDate::from_ymd_opt(2015, 1, 1).expect("date");
        // Twenty years, twice over: every slot is reused, and no date is taken for another.
        for _ in 0..2 {
            let mut d = start;
            while d.year() < 2035 {
                assert_eq!(dates.get(date_number(d)), Some(d));
                d = d.succ_opt().expect("next day");
            }
        }
        assert_eq!(dates.get(20_200_230), None);
        assert_eq!(dates.get(-1), None);
        assert_eq!(dates.get(0), None);
    }

    /// An in-memory database, closed on drop.
    struct Memory(*mut ffi::sqlite3);

    impl Drop for Memory {
        fn drop(&mut self) {
            // SAFETY: opened by sqlite3_open below, closed once.
            unsafe {
                ffi::sqlite3_close(self.0);
            }
        }
    }

    #[test]
    fn a_scan_tells_null_from_zero_and_empty() {
        let mut db = ptr::null_mut();
        // SAFETY: a NUL-terminated name and an out pointer to a live local.
        let rc = unsafe { ffi::sqlite3_open(c":memory:".as_ptr(), &mut db) };
        let db = Memory(db);
        assert_eq!(rc, ffi::SQLITE_OK);
        let setup =
            c"CREATE TABLE t (line INTEGER, d INTEGER, n INTEGER, f INTEGER, x REAL, s TEXT);
            INSERT INTO t VALUES (1, 20200105, 0, 0, 0.0, '');
            INSERT INTO t VALUES (2, NULL, NULL, NULL, NULL, NULL);
            INSERT INTO t VALUES (3, 20200105, 7, 1, 2.5, 'a');";
        // SAFETY: a live connection and NUL-terminated SQL, no callback.
        let rc = unsafe {
            ffi::sqlite3_exec(db.0, setup.as_ptr(), None, ptr::null_mut(), ptr::null_mut())
        };
        assert_eq!(rc, ffi::SQLITE_OK);
        let types = [
            ColType::Date,
            ColType::Integer,
            ColType::Flag,
            ColType::Decimal,
            ColType::Text,
        ];
        let mut rows = vec![];
        let total = scan(
            NonNull::new(db.0).expect("open"),
            c"SELECT line, d, n, f, x, s FROM t ORDER BY line",
            &types,
            2,
            &mut |b: &Batch| rows.extend(super::super::scan::shown(b)),
        )
        .expect("scan");
        assert_eq!(total, 3);
        assert_eq!(
            rows,
            [
                "1: Date(2020-01-05) Int(0) Flag(false) Dec(0.0) Some(\"\")",
                "2: Null Null Null Null Null",
                "3: Date(2020-01-05) Int(7) Flag(true) Dec(2.5) Some(\"a\")",
            ]
        );
    }
}
