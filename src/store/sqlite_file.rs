//! The SQLite file and its folder are the service's alone: the folder is created 0700 and the
//! database 0600 before SQLite first opens it, whatever the umask. SQLite gives its `-wal` and
//! `-shm` files the database file's mode, so they follow; ones an older version left wider
//! (or a file copied in under umask 022) are narrowed at open.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Make `db`'s folder (if missing) 0700 and `db` (if missing) an empty 0600 file; narrow an
/// existing database, WAL or shared-memory file that others may read to 0600. A database in
/// memory has no file and is left alone.
pub(super) fn make_private(db: &Path) -> std::io::Result<()> {
    let Some(name) = db.file_name().and_then(|n| n.to_str()) else {
        return Ok(());
    };
    if name.is_empty() || name == ":memory:" {
        return Ok(());
    }
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    // An empty file is a valid empty database; SQLite keeps the mode it finds.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(db)
    {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    for suffix in ["", "-wal", "-shm"] {
        let path = db.with_file_name(format!("{name}{suffix}"));
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn a_new_database_and_folder_are_private_and_an_open_one_is_narrowed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let db = tmp.path().join("a/b/sendwatch.db");
        make_private(&db).expect("private");
        assert_eq!((mode(&db), mode(db.parent().expect("dir"))), (0o600, 0o700));
        assert_eq!(std::fs::metadata(&db).expect("meta").len(), 0);

        let wal = tmp.path().join("a/b/sendwatch.db-wal");
        std::fs::write(&wal, b"x").expect("write");
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        make_private(&db).expect("again");
        assert_eq!((mode(&db), mode(&wal)), (0o600, 0o600));
    }

    #[test]
    fn a_database_in_memory_has_no_file() {
        make_private(Path::new(":memory:")).expect("nothing to do");
        assert!(!Path::new(":memory:").exists());
    }
}
