//! `[daemon] max_runs`: the daemon has at most that many runs under way at once across its
//! areas. A due run waits for a place before it claims its instant, and runs once one frees
//! (it is not lost). With one place, two areas due at the same instants run one at a time.

use std::time::Duration;

use sendwatch::store::{RunStatus, Store};

use crate::daemon::{signal, spawn, wait_for_line};
use crate::harness::{Delivery, outbox, repo, write_config};
use crate::ledger::{JOB, poll};
use crate::support::trials::{Spec, trial};
use crate::support::{HttpServer, Response, pg_database};

/// Knowsley's tracker answers 8 s late, so each of its runs is under way that long; Sefton's,
/// from the example file, takes no time to fetch. Both areas run every 5 s.
async fn one_place_runs_the_areas_one_at_a_time_and_a_waiting_run_is_not_lost() {
    let db = pg_database().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let tracker = std::fs::read(repo("examples/tracker.csv")).expect("tracker");
    let srv = HttpServer::start().await;
    srv.set(
        "/tracker.csv",
        Response::ok(tracker).with_delay(Duration::from_secs(8)),
    );
    let areas = dir.path().join("areas");
    std::fs::create_dir_all(&areas).expect("areas");
    std::fs::write(
        areas.join("knowsley.toml"),
        format!(
            "[general]\narea = \"Knowsley\"\n\n[sources.tracker]\nurl = \"{}\"\ntimeout_secs = 30\n",
            srv.url("/tracker.csv")
        ),
    )
    .expect("knowsley");
    std::fs::write(areas.join("sefton.toml"), "[general]\narea = \"Sefton\"\n").expect("sefton");
    let cfg = write_config(
        dir.path(),
        &db,
        &repo("examples/tracker.csv").display().to_string(),
        Delivery::Folder(&outbox(dir.path())),
        &format!(
            "[daemon]\nmax_runs = 1\n\n[jobs.{JOB}]\ncron = \"*/5 * * * * *\"\n\n[areas]\ndir = \"areas\"\n"
        ),
    );
    let settings = crate::harness::settings(&cfg);
    let base = Store::connect(&settings.store).await.expect("pool");
    let (knowsley, sefton) = (base.for_area("knowsley"), base.for_area("sefton"));

    let (mut daemon, rx) = spawn(dir.path(), &cfg, &["daemon"]);
    let (ready, log) = wait_for_line(&rx, "Daemon ready.", Duration::from_secs(60));
    assert!(ready, "{log:#?}");
    // Each area's runs go on, in turn: none is lost waiting for the place.
    let ok = |s: &Store| {
        let s = s.clone();
        async move {
            let runs = s.list_runs(None, 1000).await.unwrap_or_default();
            runs.iter().filter(|r| r.status == RunStatus::Ok).count()
        }
    };
    let both = poll(Duration::from_secs(180), || async {
        (ok(&knowsley).await >= 2 && ok(&sefton).await >= 2).then_some(())
    })
    .await;
    signal(&daemon, "TERM");
    let (stopped, log) = wait_for_line(&rx, "Stopped.", Duration::from_secs(90));
    assert!(stopped, "{log:#?}");
    assert!(daemon.wait().expect("wait").success());
    assert!(both.is_some(), "each area ran twice: {log:#?}");

    // One at a time: no run of either area began before the one before it had ended.
    let mut runs = Vec::new();
    for (area, s) in [("knowsley", &knowsley), ("sefton", &sefton)] {
        for r in s.list_runs(None, 1000).await.expect("ledger") {
            if r.status != RunStatus::Skipped {
                let ended = r
                    .finished_at
                    .unwrap_or_else(|| panic!("{area}: {r:?} never ended"));
                runs.push((r.started_at, ended, area, r.id));
            }
        }
    }
    runs.sort();
    for pair in runs.windows(2) {
        assert!(
            pair[1].0 >= pair[0].1,
            "{:?} began before {:?} ended: {runs:#?}",
            pair[1],
            pair[0]
        );
    }
    base.close().await;
}

pub fn tests() -> Vec<Spec> {
    vec![trial!(one_place_runs_the_areas_one_at_a_time_and_a_waiting_run_is_not_lost).postgres()]
}
