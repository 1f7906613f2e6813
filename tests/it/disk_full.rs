//! A full disk (issue 16, item 12): a tmpfs of our own that fills. The run says "no space left
//! on device" (never "FOREIGN KEY constraint failed") and is in the ledger as failed; with
//! room again the next run is ok. SQLite keeps its database on the full disk (a reserve beside
//! it is the room the failure is recorded in); with PostgreSQL the data folder (the spool)
//! is what fills.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{binary_status, folder_config, repo};
use crate::ledger::ledger;
use crate::support::backends;

/// A small tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(at).expect("mount point");
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(at)
            .status()
            .expect("mount");
        assert!(ok.success(), "mount a tmpfs at {}", at.display());
        Tmpfs(at.to_path_buf())
    }

    /// Write zeros until the file system says it is full; the filler's path.
    fn fill(&self) -> PathBuf {
        let path = self.0.join("filler");
        let mut f = std::fs::File::create(&path).expect("filler");
        let block = vec![0u8; 4096];
        loop {
            match f.write_all(&block) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
                Err(e) => panic!("filling: {e}"),
            }
        }
        let _ = f.flush();
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

async fn a_full_disk_fails_the_run_saying_so_and_records_it() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let fs = Tmpfs::mount(&dir.path().join("fs"), "16m");
        let url = if backend.name == "sqlite" {
            format!("sqlite://{}", fs.0.join("data/sendwatch.db").display())
        } else {
            backend.url.clone()
        };
        let tracker = dir.path().join("tracker.csv");
        let example = std::fs::read_to_string(repo("examples/tracker.csv")).expect("example");
        std::fs::write(&tracker, &example).expect("write");
        let cfg = folder_config(&fs.0, &url, &tracker.display().to_string());
        let (code, out, err) = binary_status(&fs.0, &cfg, &[], &["run-now"]);
        assert_eq!(code, Some(0), "{}: {out}{err}", backend.name);

        // New bytes (so the run loads them), more than the reserve beside an SQLite database
        // holds (it is freed to open the database), and not a byte free.
        std::fs::write(&tracker, crate::harness::big_tracker(60, "x")).expect("write");
        let filler = fs.fill();
        let (code, out, err) = binary_status(&fs.0, &cfg, &[], &["run-now"]);
        let said = format!("{out}{err}");
        assert_ne!(code, Some(0), "{}: {said}", backend.name);
        assert!(
            said.to_lowercase().contains("no space left on device"),
            "{}: {said}",
            backend.name
        );
        assert!(!said.contains("FOREIGN KEY"), "{}: {said}", backend.name);
        std::fs::remove_file(&filler).expect("free the space");

        let app = crate::harness::app(&cfg).await;
        let runs = ledger(&app).await;
        let last = runs.iter().max_by_key(|r| r.id).expect("runs");
        assert_eq!(runs.len(), 2, "{}: {runs:#?}", backend.name);
        assert_eq!(
            last.status,
            sendwatch::store::RunStatus::Failed,
            "{}: {runs:#?}",
            backend.name
        );
        let recorded = format!(
            "{} {:?}",
            last.summary.clone().unwrap_or_default(),
            app.store.run_loads(last.id).await.expect("loads")
        );
        assert!(
            recorded.to_lowercase().contains("no space left on device"),
            "{}: {recorded}",
            backend.name
        );
        app.store.close().await;

        // Room again: the next run is ok and loads the new bytes.
        let (code, out, err) = binary_status(&fs.0, &cfg, &[], &["run-now"]);
        assert_eq!(code, Some(0), "{}: {out}{err}", backend.name);
        assert!(
            out.contains("source tracker: loaded"),
            "{}: {out}",
            backend.name
        );
    }
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(a_full_disk_fails_the_run_saying_so_and_records_it)
            .each_backend()
            .root(),
    ]
}
