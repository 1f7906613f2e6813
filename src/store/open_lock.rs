//! A file lock beside an SQLite database, held while a process opens the database and while
//! it migrates it. Two processes starting at once on a new file would otherwise both switch
//! it to WAL (one told "database is locked") and both apply migration 1 ("table runs already
//! exists"). PostgreSQL needs none: sqlx's migrator holds an advisory lock there.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::StoreError;

/// How often a process waiting for the lock tries again.
const POLL: Duration = Duration::from_millis(50);

/// Held until dropped (closing the file releases the lock, also when the process dies).
#[derive(Debug)]
pub(super) struct OpenLock(#[allow(dead_code)] File);

impl OpenLock {
    /// Take the lock of the database file `db` (`<db>.open-lock`), waiting up to `limit`.
    /// `None` for a database with no file (in memory).
    pub(super) async fn take(db: &Path, limit: Duration) -> Result<Option<OpenLock>, StoreError> {
        let Some(path) = lock_path(db) else {
            return Ok(None);
        };
        let failed = |reason: String| StoreError::Lock {
            path: path.display().to_string(),
            reason,
        };
        let mut open = OpenOptions::new();
        open.create(true).truncate(false).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
        let file = open.open(&path).map_err(|e| failed(e.to_string()))?;
        let give_up = tokio::time::Instant::now() + limit;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(OpenLock(file))),
                Err(TryLockError::WouldBlock) if tokio::time::Instant::now() < give_up => {
                    tokio::time::sleep(POLL).await
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(failed(format!(
                        "another process held it for over {} s while opening or migrating the database",
                        limit.as_secs()
                    )));
                }
                Err(TryLockError::Error(e)) => return Err(failed(e.to_string())),
            }
        }
    }
}

/// `<db>.open-lock` beside a database file; none for one in memory.
fn lock_path(db: &Path) -> Option<PathBuf> {
    let name = db.file_name()?.to_str()?;
    if name.is_empty() || name == ":memory:" {
        return None;
    }
    Some(db.with_file_name(format!("{name}.open-lock")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_database_has_a_lock_beside_it_and_one_in_memory_has_none() {
        assert_eq!(
            lock_path(Path::new("data/sendwatch.db")),
            Some(PathBuf::from("data/sendwatch.db.open-lock"))
        );
        assert_eq!(lock_path(Path::new(":memory:")), None);
    }

    #[tokio::test]
    async fn a_second_taker_waits_for_the_first_and_gives_up_at_its_bound() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("s.db");
        let first = OpenLock::take(&db, Duration::ZERO).await.expect("first");
        assert!(first.is_some());
        let err = OpenLock::take(&db, Duration::from_millis(100))
            .await
            .expect_err("held");
        assert!(err.to_string().contains("another process held it"), "{err}");
        drop(first);
        let again = OpenLock::take(&db, Duration::ZERO).await.expect("free");
        assert!(again.is_some());
    }
}
