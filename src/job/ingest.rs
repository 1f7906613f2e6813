//! Ingest: one extract file, from bytes on disk to a swapped-in (or held, or refused) load.
//!
//! The parser runs on a blocking thread and sends typed batches through a small bounded
//! channel to the store's bulk writer, so reading, checking and inserting overlap and no more
//! than a few batches are ever in memory. The shrink guard judges the written rows before the
//! commit. A refused or held extract's file is kept for inspection (0600, in a 0700 folder)
//! for `load.keep_days`; the last good load stays current.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::mpsc;

use crate::config::SourceSettings;
use crate::load::guard::{Extent, hold_reason};
use crate::load::{KindDef, LoadError, Problems};
use crate::store::{
    BulkOutcome, Feed, LoadMeta, LoadRecord, SourceOutcome, Store, StoreError, Verdict,
};

/// Batches in flight between the parser and the writer.
const CHANNEL: usize = 4;
/// How long a load by hand waits for another load of the same source by hand to end.
const LOAD_WAIT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// A file to load and the facts recorded with it.
pub struct Extract<'a> {
    pub path: &'a Path,
    pub meta: LoadMeta<'a>,
    pub today: NaiveDate,
    pub dry_run: bool,
    /// Bytes and rows read so far, for a progress display.
    pub progress: Option<Progress>,
}

/// Load one extract file of `kind` for the source configured as `settings`.
pub async fn ingest_file(
    store: &Store,
    settings: &SourceSettings,
    kind: &KindDef,
    data_dir: &Path,
    x: Extract<'_>,
) -> Result<SourceOutcome, StoreError> {
    let file_label = x.meta.url.to_string();
    let (tx, mut rx) = mpsc::channel::<Feed>(CHANNEL);
    let parser = {
        let (path, kind, load) = (x.path.to_path_buf(), kind.clone(), settings.load.clone());
        let (label, today, progress) = (file_label.clone(), x.today, x.progress.clone());
        tokio::task::spawn_blocking(move || {
            let result = open_and_parse(&path, &label, &kind, &load, today, progress, &tx);
            // The writer may be gone already (it failed); then nobody needs the verdict.
            let _ = tx.blocking_send(Feed::Done(result.map(|(s, _)| s)));
        })
    };
    let current = store.current_load(x.meta.source).await?;
    let current_extent = current.as_ref().map(extent);
    let max_shrink = settings.load.max_shrink;
    let dry_run = x.dry_run;
    let outcome = store
        .bulk_load(
            &x.meta,
            kind,
            settings.load.policy,
            &file_label,
            &mut rx,
            |w| {
                if dry_run {
                    return Verdict::Discard;
                }
                let new = Extent {
                    rows: w.rows,
                    as_of: w.as_of,
                };
                match hold_reason(current_extent, new, max_shrink) {
                    Some(r) => Verdict::Hold(r),
                    None => Verdict::Swap,
                }
            },
        )
        .await;
    drop(rx);
    let _ = parser.await;
    let outcome = outcome?;
    Ok(match outcome {
        BulkOutcome::Swapped { load_id, written } => SourceOutcome::Loaded {
            load_id,
            rows: written.rows,
            set_aside: written.set_aside,
            as_of: written.as_of,
        },
        BulkOutcome::Discarded { written } => SourceOutcome::Checked {
            rows: written.rows,
            set_aside: written.set_aside,
            as_of: written.as_of,
        },
        BulkOutcome::Held {
            load_id,
            written,
            reason,
        } => {
            if let Some(kept) = keep_unless_sen2(settings, data_dir, x.meta.source, load_id, x.path)
            {
                store.set_kept_file(load_id, &kept).await?;
            }
            SourceOutcome::Held {
                load_id,
                rows: written.rows,
                reason,
            }
        }
        BulkOutcome::Rejected(e) => {
            let error = e.to_string();
            if !dry_run {
                // The row first: its id names the kept file, so refusals within one second
                // keep one file each.
                let load_id = store.record_rejection(&x.meta, &error, None).await?;
                if let Some(kept) =
                    keep_unless_sen2(settings, data_dir, x.meta.source, load_id, x.path)
                {
                    store.set_kept_file(load_id, &kept).await?;
                }
            }
            SourceOutcome::Rejected { error }
        }
    })
}

fn open_and_parse(
    path: &Path,
    label: &str,
    kind: &KindDef,
    load: &crate::load::LoadSettings,
    today: NaiveDate,
    progress: Option<Progress>,
    tx: &mpsc::Sender<Feed>,
) -> Result<(crate::load::ParseSummary, ()), LoadError> {
    let unreadable = |e: std::io::Error| {
        let mut p = Problems::default();
        p.push(1, None, format!("cannot open the file: {}", e.kind()));
        p.into_error(label)
    };
    let rows = progress.as_ref().map(|p| p.rows.clone());
    let mut reader =
        crate::load::open_reader(path, load, progress.map(|p| p.bytes)).map_err(unreadable)?;
    let summary = crate::load::parse(reader.as_mut(), label, kind, load, today, &mut |b| {
        if let Some(r) = &rows {
            r.fetch_add(b.len() as u64, std::sync::atomic::Ordering::Relaxed);
        }
        tx.blocking_send(Feed::Rows(b)).is_ok()
    })?;
    Ok((summary, ()))
}

/// [`keep`], except a SEN2 return: it names children, and nothing of it but the items the
/// KPIs need may outlast the load.
fn keep_unless_sen2(
    settings: &SourceSettings,
    data_dir: &Path,
    source: &str,
    load_id: i64,
    file: &Path,
) -> Option<String> {
    if settings.load.format.is_sen2() {
        tracing::info!(
            source,
            "The SEN2 return is not kept for inspection: it identifies children."
        );
        return None;
    }
    keep(data_dir, source, load_id, file)
}

/// Copy a refused or held extract into `data_dir/kept/` (0700) as `SOURCE@load<ID>.EXT`,
/// readable by us only (0600 from its creation). The load id makes the name unique; a file
/// already there is never overwritten. Returns the kept path, or None if it could not be kept
/// (logged; the load goes on).
fn keep(data_dir: &Path, source: &str, load_id: i64, file: &Path) -> Option<String> {
    let dir = data_dir.join("kept");
    let result = (|| -> std::io::Result<PathBuf> {
        use std::os::unix::fs::OpenOptionsExt;
        private_dir(&dir)?;
        let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("dat");
        // '@' cannot appear in a source name, so one source's files never match another's.
        let target = dir.join(format!("{source}@load{load_id}.{ext}"));
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&target)?;
        std::io::copy(&mut std::fs::File::open(file)?, &mut out)?;
        out.sync_all()?;
        Ok(target)
    })();
    match result {
        Ok(p) => Some(p.display().to_string()),
        Err(e) => {
            tracing::warn!(source, error = %e, "Could not keep the extract for inspection.");
            None
        }
    }
}

/// Delete kept extracts of `source` older than `days`.
pub fn prune_kept(data_dir: &Path, source: &str, days: u32, now: DateTime<Utc>) {
    let ours = |n: &str| n.strip_prefix(source).is_some_and(|r| r.starts_with('@'));
    prune(&data_dir.join("kept"), &ours, u64::from(days) * 86_400, now);
}

/// Delete spool files a killed process left behind (older than a day: no fetch takes that
/// long, so none is still being written).
pub fn prune_spool(data_dir: &Path, now: DateTime<Utc>) {
    prune(&data_dir.join("spool"), &|_| true, 86_400, now);
}

/// Delete the files in `dir` whose names `pick` accepts and that are older than `secs`.
fn prune(dir: &Path, pick: &dyn Fn(&str) -> bool, secs: u64, now: DateTime<Utc>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let limit = std::time::Duration::from_secs(secs);
    let now: std::time::SystemTime = now.into();
    for entry in entries.flatten() {
        let picked = entry.file_name().to_str().is_some_and(pick);
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > limit);
        if picked && old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Create `dir` (and parents) and make it ours only.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    set_mode(dir, 0o700)
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// The figures the shrink guard compares for a source's current load.
pub fn extent(l: &LoadRecord) -> Extent {
    Extent {
        rows: l.rows_loaded.unwrap_or(0).max(0) as u64,
        as_of: l.data_as_of,
    }
}

/// Counters a progress display reads while a load runs.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub bytes: Arc<AtomicU64>,
    pub rows: Arc<AtomicU64>,
}

impl super::App {
    /// `sendwatch load FILE --source NAME`: the same path as a run's, for a file at hand.
    /// Recorded as a manual run named `load:NAME`.
    pub async fn load_by_hand(
        &self,
        source: &str,
        path: &Path,
        dry_run: bool,
        progress: Option<Progress>,
    ) -> Result<(i64, SourceOutcome), super::JobError> {
        let settings = &self.settings;
        let s = settings
            .sources
            .get(source)
            .ok_or_else(|| super::JobError::UnknownSource(source.to_string()))?;
        let kind = settings
            .kinds
            .get(&s.kind)
            .ok_or_else(|| super::JobError::UnknownSource(source.to_string()))?;
        let meta = std::fs::metadata(path).map_err(|e| super::JobError::File(e.to_string()))?;
        // A Blade export may be its folder: its module files are the extract.
        let files = if meta.is_dir() && s.load.format == crate::load::Format::Sen2Blade {
            crate::load::read::sen2::blade::folder_files(path)
                .map_err(|e| super::JobError::File(format!("{}: {e}", path.display())))?
        } else if meta.is_file() {
            vec![path.to_path_buf()]
        } else {
            return Err(super::JobError::File(format!(
                "{} is not a regular file",
                path.display()
            )));
        };
        let mut bytes = 0u64;
        for f in &files {
            bytes += std::fs::metadata(f)
                .map_err(|e| super::JobError::File(e.to_string()))?
                .len();
        }
        if bytes > s.max_bytes {
            return Err(super::JobError::File(format!(
                "{} is larger than the source's max_bytes ({})",
                path.display(),
                s.max_bytes
            )));
        }
        let sha256 = sha256_files(&files).map_err(|e| super::JobError::File(e.to_string()))?;
        let job = format!("load:{source}");
        let lease = &self.settings.ledger;
        // Two loads of one source by hand at once: the second waits for the first, then
        // loads (the later load is current; each is whole).
        let (run_id, now) = self.start_manual(&job, Some(LOAD_WAIT)).await?;
        // Renewed while the load works, so that a killed `load` is abandoned, not left running.
        let _lease = crate::ledger::Lease::keep(self.store.clone(), run_id, lease, self.clock);
        let label = path.display().to_string();
        let extract = Extract {
            path,
            meta: LoadMeta {
                run_id,
                source,
                kind: &s.kind,
                url: &label,
                fetched_at: now,
                http_status: None,
                bytes,
                sha256: &sha256,
                etag: None,
                last_modified: None,
            },
            today: now.with_timezone(&settings.time_zone()).date_naive(),
            dry_run,
            progress,
        };
        let result = ingest_file(&self.store, s, kind, &settings.general.data_dir, extract).await;
        let (status, summary) = match &result {
            Ok(SourceOutcome::Loaded { rows, .. }) => {
                (crate::store::RunStatus::Ok, format!("loaded {rows} rows"))
            }
            Ok(SourceOutcome::Checked { rows, .. }) => (
                crate::store::RunStatus::Ok,
                format!("dry run: {rows} rows valid"),
            ),
            Ok(SourceOutcome::Held { reason, .. }) => {
                (crate::store::RunStatus::Failed, format!("held: {reason}"))
            }
            Ok(SourceOutcome::Rejected { .. }) => {
                (crate::store::RunStatus::Failed, "rejected".to_string())
            }
            // A file given by hand is neither fetched nor compared with the current load.
            Ok(o @ (SourceOutcome::Unchanged { .. } | SourceOutcome::FetchFailed { .. })) => {
                (crate::store::RunStatus::Failed, o.word().to_string())
            }
            Err(e) => (crate::store::RunStatus::Failed, e.to_string()),
        };
        self.store
            .finish_run(run_id, status, &summary, self.clock.now())
            .await?;
        Ok((run_id, result?))
    }
}

/// The SHA-256 of one file's bytes; of several (a Blade folder), of their bytes one after
/// another in the order given.
fn sha256_files(paths: &[PathBuf]) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    for path in paths {
        let mut f = std::fs::File::open(path)?;
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn kept_extracts_are_private_and_pruned_after_their_days_for_their_source_only() {
        let data = tempfile::tempdir().expect("tempdir");
        let spooled = data.path().join("in.csv");
        std::fs::write(&spooled, "a,b\n").expect("write");
        let kept = PathBuf::from(keep(data.path(), "tracker", 7, &spooled).expect("kept"));
        assert_eq!(
            kept.file_name().and_then(|n| n.to_str()),
            Some("tracker@load7.csv")
        );
        assert_eq!(
            (mode(&kept), mode(kept.parent().expect("dir"))),
            (0o600, 0o700)
        );
        let other = PathBuf::from(keep(data.path(), "tracker-b", 8, &spooled).expect("kept"));
        let recent = PathBuf::from(keep(data.path(), "tracker", 9, &spooled).expect("kept"));

        let now = Utc::now();
        let age = |p: &Path, days: i64| {
            let t: std::time::SystemTime = (now - chrono::Duration::days(days)).into();
            std::fs::File::options()
                .write(true)
                .open(p)
                .and_then(|f| f.set_modified(t))
                .expect("set mtime");
        };
        age(&kept, 31);
        age(&other, 31);
        age(&recent, 29);
        prune_kept(data.path(), "tracker", 30, now);
        assert!(!kept.exists(), "past 30 days: gone");
        let spool = data.path().join("spool");
        private_dir(&spool).expect("spool");
        let (stale, fresh) = (spool.join("tracker-a"), spool.join("tracker-b"));
        std::fs::write(&stale, "x").expect("write");
        std::fs::write(&fresh, "x").expect("write");
        age(&stale, 2);
        prune_spool(data.path(), now);
        assert!(
            !stale.exists() && fresh.exists(),
            "only a day-old spool file goes"
        );
        assert!(recent.exists(), "within 30 days: kept");
        assert!(
            other.exists(),
            "another source's file is not this source's to prune"
        );
    }
}
