//! A full disk, said as such, and room kept to record it.
//!
//! SQLite says "database or disk is full" (code 13), or "disk I/O error" when it cannot even
//! grow its shared-memory file; PostgreSQL says `disk_full` (53100); a file write says ENOSPC.
//! Each becomes [`StoreError::DiskFull`]: "no space left on device", once, not the driver's
//! words three times over.
//!
//! A run that meets a full disk must still be recorded as failed, which is itself a write.
//! So a small reserve file is kept beside an SQLite database (`<db>.reserve`, made at start
//! and at each run when there is room); it is deleted when the disk is found full, and the
//! space it frees is what the failure is recorded in.

use std::path::{Path, PathBuf};

use super::{Pool, Store, StoreError};

/// Bytes held in reserve beside an SQLite database: a ledger row, a load's refusal and
/// their WAL pages many times over.
const RESERVE: u64 = 2 << 20;

/// Whether a driver error means the disk is full.
pub(super) fn is_full(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            let code = d.code();
            let code = code.as_deref().unwrap_or("");
            // SQLite's SQLITE_FULL (13, also as an extended code), PostgreSQL's disk_full.
            code == "53100" || code.parse::<i64>().is_ok_and(|c| c & 0xff == 13)
        }
        sqlx::Error::Io(io) => io_full(io),
        _ => false,
    }
}

/// Whether an I/O error is ENOSPC (or EDQUOT: a quota is a full disk to us).
pub fn io_full(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull
        || e.kind() == std::io::ErrorKind::QuotaExceeded
        || e.raw_os_error() == Some(libc::ENOSPC)
}

/// Whether the file system holding `path` has (next to) no room left: for errors that do not
/// say why (SQLite's "disk I/O error").
pub(super) fn no_room_at(path: &Path) -> bool {
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d,
        None => Path::new("."),
    };
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    let mut s = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: a valid NUL-terminated path and a buffer statvfs fills on success only.
    if unsafe { libc::statvfs(c.as_ptr(), s.as_mut_ptr()) } != 0 {
        return false;
    }
    // SAFETY: statvfs returned 0, so it filled the buffer.
    let s = unsafe { s.assume_init() };
    s.f_bavail.saturating_mul(s.f_frsize) < 64 * 1024
}

fn reserve_path(db: &Path) -> Option<PathBuf> {
    let name = db.file_name()?.to_str()?;
    (!name.is_empty() && name != ":memory:").then(|| db.with_file_name(format!("{name}.reserve")))
}

/// Make the reserve beside `db` if it is missing and there is room; never an error (a disk
/// too full for it is said when a write fails).
pub(super) fn keep_reserve(db: &Path) {
    use std::os::unix::fs::OpenOptionsExt;
    let Some(path) = reserve_path(db) else { return };
    if path.exists() {
        return;
    }
    let made = (|| -> std::io::Result<()> {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        // Blocks really allocated (a sparse file would free nothing when deleted).
        let zeros = vec![0u8; 64 * 1024];
        let mut left = RESERVE;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            std::io::Write::write_all(&mut &f, &zeros[..n])?;
            left -= n as u64;
        }
        f.sync_all()
    })();
    if let Err(e) = made {
        let _ = std::fs::remove_file(&path);
        tracing::warn!(path = %path.display(), error = %e, "No room to keep space in reserve beside the database.");
    }
}

/// Delete the reserve beside `db`; whether there was one.
pub(super) fn release_reserve(db: &Path) -> bool {
    let Some(path) = reserve_path(db) else {
        return false;
    };
    let freed = std::fs::remove_file(&path).is_ok();
    if freed {
        tracing::warn!(path = %path.display(), "The disk is full: the space held in reserve is freed to record it.");
    }
    freed
}

impl Store {
    /// Keep the reserve beside an SQLite database (none for PostgreSQL: its disk is the
    /// server's).
    pub fn keep_reserve(&self) {
        if let Pool::Sqlite(p) = &self.pool {
            keep_reserve(p.connect_options().get_filename());
        }
    }

    /// Free the reserve so that a failure can be recorded on a full disk; whether there was
    /// one to free.
    pub fn release_reserve(&self) -> bool {
        match &self.pool {
            Pool::Sqlite(p) => release_reserve(p.connect_options().get_filename()),
            Pool::Postgres(_) => false,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        if is_full(&e) {
            StoreError::DiskFull(match &e {
                sqlx::Error::Database(d) => {
                    format!("the database could not write ({})", d.message())
                }
                _ => "the database could not write".into(),
            })
        } else if let sqlx::Error::ColumnDecode { source, .. } = &e
            && let Some(unknown) = source.downcast_ref::<super::named::UnknownValue>()
        {
            StoreError::Corrupt(unknown.to_string())
        } else {
            StoreError::Query(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enospc_and_a_quota_are_a_full_disk_and_others_are_not() {
        assert!(io_full(&std::io::Error::from_raw_os_error(libc::ENOSPC)));
        assert!(io_full(&std::io::Error::from_raw_os_error(libc::EDQUOT)));
        assert!(!io_full(&std::io::Error::from_raw_os_error(libc::EACCES)));
        assert!(!is_full(&sqlx::Error::RowNotFound));
    }

    #[test]
    fn the_reserve_is_made_once_and_freed_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("sw.db");
        keep_reserve(&db);
        let r = reserve_path(&db).expect("path");
        assert_eq!(std::fs::metadata(&r).expect("reserve").len(), RESERVE);
        assert!(!no_room_at(&db), "a test machine has room");
        assert!(reserve_path(Path::new(":memory:")).is_none());
        assert!(release_reserve(&db));
        assert!(!r.exists());
        assert!(!release_reserve(&db), "freed once");
    }
}
