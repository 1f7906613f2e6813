//! Spool files: where a fetch writes the extract's bytes, hashed and counted as they pass.
//!
//! Owns: the spool directory (created 0700; refused if it is not a directory of ours that
//! only we can write), unique 0600 spool files created with `O_EXCL`, removing a spool file
//! on any failure ([`SpoolGuard`]), and [`Tally`]: the sha256 and byte count, with the
//! `max_bytes` cap checked on the bytes actually seen; and what a caller may do with a
//! [`Spooled`] file (discard it, read it back).

use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use super::{Fetched, Spooled, Validators};

/// Removes its spool file when dropped, unless [`SpoolGuard::keep`] was called.
#[derive(Debug)]
pub(super) struct SpoolGuard {
    path: Option<PathBuf>,
}

impl SpoolGuard {
    /// Hand the file over to the caller: it is no longer removed.
    pub(super) fn keep(mut self) -> PathBuf {
        self.path.take().unwrap_or_default()
    }
}

impl Drop for SpoolGuard {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            remove_quietly(&p);
        }
    }
}

/// Remove a spool file; one already gone is fine, any other failure is logged.
pub(super) fn remove_quietly(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(path = %path.display(), error = %e, "Cannot remove a spool file."),
    }
}

impl Spooled {
    /// Delete the spool file. A file already gone is fine; any other failure is logged.
    pub fn discard(self) {
        remove_quietly(&self.path);
    }

    /// The validators a later fetch can send, if this extract is accepted.
    pub fn validators(&self) -> Validators {
        Validators {
            etag: self.etag.clone(),
            last_modified: self.last_modified.clone(),
            sha256: Some(self.sha256.clone()),
        }
    }

    /// Read the spool file into memory and delete it: the form today's parser and store
    /// take ([`Fetched`]). The file is deleted whether or not the read succeeds.
    pub fn into_fetched(self) -> std::io::Result<Fetched> {
        let read = std::fs::read(&self.path);
        remove_quietly(&self.path);
        Ok(Fetched {
            url: self.url,
            fetched_at: self.fetched_at,
            http_status: self.http_status,
            sha256: self.sha256,
            bytes: read?,
        })
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Create a new, empty spool file for source `name` in `dir`: mode 0600, a name no other
/// fetch (in this or another process) uses. Creates `dir` with mode 0700 when missing.
pub(super) fn create(dir: &Path, name: &str) -> io::Result<(SpoolGuard, File)> {
    ensure_dir(dir)?;
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    let mut last_err = None;
    for _ in 0..8 {
        let unique = format!(
            "{stem}-{}-{}-{:016x}.spool",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            fastrand::u64(..)
        );
        let path = dir.join(unique);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)
        {
            Ok(f) => return Ok((SpoolGuard { path: Some(path) }, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| io::Error::other("no unique spool file name")))
}

/// Make sure `dir` is a directory we own and nobody else can write to (another user able
/// to write there could swap a spool file before it is parsed).
fn ensure_dir(dir: &Path) -> io::Result<()> {
    match DirBuilder::new().recursive(true).mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) => {
            return Err(io::Error::new(
                e.kind(),
                format!("cannot create {}: {e}", dir.display()),
            ));
        }
    }
    let meta = std::fs::symlink_metadata(dir)?;
    let refuse = |why: &str| {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("spool directory {} {why}", dir.display()),
        ))
    };
    if !meta.file_type().is_dir() {
        return refuse("is not a directory (a symlink?)");
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return refuse("belongs to another user");
    }
    if meta.mode() & 0o022 != 0 {
        return refuse("is writable by group or others");
    }
    Ok(())
}

/// Running sha256 and byte count of what has been written, against the `max_bytes` cap.
#[derive(Debug)]
pub(super) struct Tally {
    hasher: Sha256,
    bytes: u64,
    max: u64,
}

/// The chunk would take the total past `max_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct OverCap;

/// A finished spool file's facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Written {
    pub bytes: u64,
    pub sha256: String,
}

impl Tally {
    pub(super) fn new(max: u64) -> Tally {
        Tally {
            hasher: Sha256::new(),
            bytes: 0,
            max,
        }
    }

    /// Count and hash `chunk`, which is about to be written; refuse it past the cap.
    pub(super) fn add(&mut self, chunk: &[u8]) -> Result<(), OverCap> {
        let total = self.bytes.saturating_add(chunk.len() as u64);
        if total > self.max {
            return Err(OverCap);
        }
        self.hasher.update(chunk);
        self.bytes = total;
        Ok(())
    }

    pub(super) fn finish(self) -> Written {
        Written {
            bytes: self.bytes,
            sha256: self
                .hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_hashes_and_caps_on_bytes_seen() {
        let mut t = Tally::new(5);
        assert_eq!(t.add(b"abc"), Ok(()));
        assert_eq!(t.add(b"def"), Err(OverCap));
        assert_eq!(t.add(b"de"), Ok(()));
        let w = t.finish();
        assert_eq!(w.bytes, 5);
        // sha256("abcde")
        assert_eq!(
            w.sha256,
            "36bbe50ed96841d10443bcb670d6554f0a34b761be67ec9c4a8ad2c0c44ca42c"
        );
    }

    #[test]
    fn spool_files_are_private_unique_and_removed_unless_kept() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("a/spool");
        let (g1, _f1) = create(&dir, "src/../x").expect("create");
        let (g2, _f2) = create(&dir, "src/../x").expect("create");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        let p1 = g1.keep();
        assert_eq!(p1.parent(), Some(dir.as_path()), "no path tricks: {p1:?}");
        assert_eq!(mode(&p1), 0o600);
        let p2 = g2.path.clone().expect("path");
        assert_ne!(p1, p2);
        drop(g2);
        assert!(!p2.exists(), "a dropped guard removes its file");
        assert!(p1.exists(), "a kept file stays");
    }

    #[test]
    fn a_spool_dir_others_can_write_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("open");
        std::fs::create_dir(&dir).expect("mkdir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let err = create(&dir, "x").unwrap_err();
        assert!(err.to_string().contains("writable by group"), "{err}");
    }
}
