//! File sources: a bounded read of a local regular file into a spool file.
//!
//! Owns: refusing anything but a regular file (FIFOs, devices, sockets, directories) before
//! opening it and again on the opened handle (closing the swap race), opening with
//! `O_NONBLOCK` so a FIFO swapped in cannot block the open, and the copy bounded by
//! `max_bytes` (counted on bytes read) and by the total `timeout_secs`. The blocking work
//! runs on tokio's blocking pool; on timeout it is told to stop and the spool file is
//! removed at once.

use std::fs::{Metadata, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::time::Instant;

use super::spool::{self, OverCap, Tally, Written};
use super::{Body, FetchFailure, Got, SourceSettings};

/// Read size for one chunk.
const CHUNK: usize = 64 * 1024;

pub(super) async fn fetch(
    name: &str,
    path: &Path,
    s: &SourceSettings,
    spool_dir: &Path,
    deadline: Instant,
) -> Result<Got, FetchFailure> {
    let (guard, out) = spool::create(spool_dir, name).map_err(FetchFailure::Spool)?;
    let stop = Arc::new(AtomicBool::new(false));
    let job = {
        let stop = stop.clone();
        let path: PathBuf = path.to_path_buf();
        let max = s.max_bytes;
        tokio::task::spawn_blocking(move || read_into(&path, out, max, &stop))
    };
    let written = match tokio::time::timeout_at(deadline, job).await {
        Ok(Ok(result)) => result?,
        Ok(Err(join)) => {
            return Err(FetchFailure::Io(std::io::Error::other(format!(
                "the reading task failed: {join}"
            ))));
        }
        Err(_elapsed) => {
            // The blocking read may be stuck in the kernel; it stops at its next chunk.
            // `guard` is dropped on return, removing the spool file now.
            stop.store(true, Ordering::Relaxed);
            return Err(FetchFailure::Timeout {
                secs: s.timeout_secs,
                previous: None,
            });
        }
    };
    Ok(Got::Body(Body {
        spool: guard,
        written,
        http_status: None,
        etag: None,
        last_modified: None,
        attempts: 1,
    }))
}

/// What kind of file this is, for "not a regular file (…)" (the published statistics'
/// reader refuses the same, [`crate::stats::open`]).
pub(crate) fn kind(meta: &Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("directory")
    } else if t.is_fifo() {
        Some("FIFO")
    } else if t.is_char_device() {
        Some("character device")
    } else if t.is_block_device() {
        Some("block device")
    } else if t.is_socket() {
        Some("socket")
    } else {
        Some("unknown file type")
    }
}

/// Check, open, check again, copy. Runs on the blocking pool.
fn read_into(
    path: &Path,
    out: impl Write,
    max: u64,
    stop: &AtomicBool,
) -> Result<Written, FetchFailure> {
    // Symlinks are followed: the target is what must be a regular file.
    let meta = std::fs::metadata(path)?;
    if let Some(k) = kind(&meta) {
        return Err(FetchFailure::NotRegularFile(k));
    }
    if meta.len() > max {
        return Err(FetchFailure::TooLarge(max));
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)?;
    // The path may have been swapped for a FIFO or device since the check above.
    let meta = file.metadata()?;
    if let Some(k) = kind(&meta) {
        return Err(FetchFailure::NotRegularFile(k));
    }
    copy_bounded(file, out, max, stop)
}

/// Copy `from` into `to`, hashing, until EOF; fail once more than `max` bytes were read
/// (whatever any size field said) or when `stop` is set.
fn copy_bounded(
    mut from: impl Read,
    mut to: impl Write,
    max: u64,
    stop: &AtomicBool,
) -> Result<Written, FetchFailure> {
    let mut tally = Tally::new(max);
    let mut buf = vec![0u8; CHUNK];
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(FetchFailure::Io(std::io::Error::other("read cancelled")));
        }
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(FetchFailure::Io(e)),
        };
        let chunk = &buf[..n];
        tally
            .add(chunk)
            .map_err(|OverCap| FetchFailure::TooLarge(max))?;
        to.write_all(chunk).map_err(FetchFailure::Spool)?;
    }
    to.flush().map_err(FetchFailure::Spool)?;
    Ok(tally.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_reader_stops_at_the_cap_counted_on_bytes_read() {
        let mut out = Vec::new();
        let err = copy_bounded(
            std::io::repeat(0),
            &mut out,
            100_000,
            &AtomicBool::new(false),
        )
        .unwrap_err();
        assert!(matches!(err, FetchFailure::TooLarge(100_000)), "{err}");
        assert!(out.len() <= 100_000, "{}", out.len());
    }

    #[test]
    fn a_stop_request_ends_the_copy() {
        let err = copy_bounded(
            std::io::repeat(0),
            std::io::sink(),
            u64::MAX,
            &AtomicBool::new(true),
        )
        .unwrap_err();
        assert!(err.to_string().contains("cancelled"), "{err}");
    }

    #[test]
    fn special_files_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut out = Vec::new();
        let stop = AtomicBool::new(false);
        let err = read_into(dir.path(), out_file(&dir), 10, &stop).unwrap_err();
        assert_eq!(err.to_string(), "not a regular file (directory)");
        let err = read_into(Path::new("/dev/null"), out_file(&dir), 10, &stop).unwrap_err();
        assert_eq!(err.to_string(), "not a regular file (character device)");
        let w = copy_bounded(&b"hello"[..], &mut out, 5, &stop).expect("fits exactly");
        assert_eq!((w.bytes, out.as_slice()), (5, &b"hello"[..]));
    }

    fn out_file(dir: &tempfile::TempDir) -> std::fs::File {
        std::fs::File::create(dir.path().join("out")).expect("create")
    }
}
