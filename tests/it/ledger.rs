//! The run ledger: a scheduled instant claimed once, even by two daemons on one PostgreSQL;
//! the overlap guard; a run killed with SIGKILL or past its working timeout abandoned and the
//! administrator told; missed fire times caught up; `runs` and `status` from the binary.
//! Nothing here times anything: each test waits for a state with a bounded poll, then
//! asserts on the ledger.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use sendwatch::daemon::catch_up_job;
use sendwatch::job::{App, JobError, RunOptions, Scheduled};
use sendwatch::store::{Claim, NewClaim, RunRecord, Store, Trigger};

use crate::daemon::{signal, spawn, wait_for_line};
use crate::harness::{
    Delivery, GoodLoad, app, current, folder_mail, outbox, repo, sendwatch_output, settings,
    write_config,
};
use crate::support::{HttpServer, Response, backends, pg_database};

const JOB: &str = "monthly-exceptions";
const ADMIN: &str = "admin@example.test";

/// A config for `job_extra` (keys of the example job) with a short lease and an administrator.
fn ledger_config(dir: &Path, db: &str, source: &str, job_extra: &str, lease: u64) -> std::path::PathBuf {
    let extra = format!(
        "[ledger]\nlease_secs = {lease}\n\n[admin]\nemail = \"{ADMIN}\"\n\n[jobs.{JOB}]\n{job_extra}"
    );
    write_config(dir, db, source, Delivery::Folder(&outbox(dir)), &extra)
}

fn utc(y: i32, mo: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, 0, 0).single().expect("instant")
}

async fn ledger(app: &App) -> Vec<RunRecord> {
    app.store.list_runs(None, 10_000).await.expect("ledger")
}

/// Ask `probe` every half second until it gives a value or `limit` passes.
async fn poll<T, F, Fut>(limit: Duration, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(v) = probe().await {
            return Some(v);
        }
        if std::time::Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn an_instant_claimed_twice_runs_once_and_a_busy_job_skips_its_tick() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let tracker = repo("examples/tracker.csv").display().to_string();
        let cfg = ledger_config(dir.path(), &backend.url, &tracker, "", 60);
        let app = app(&cfg).await;
        let at = utc(2026, 11, 20, 7);

        let first = app
            .run_scheduled(JOB, at, Trigger::Schedule, None)
            .await
            .expect("first claim");
        let Scheduled::Ran(report) = first else {
            panic!("{}: the first claim did not run: {first:?}", backend.name);
        };
        let again = app
            .run_scheduled(JOB, at, Trigger::Schedule, None)
            .await
            .expect("second claim");
        assert!(matches!(again, Scheduled::Taken), "{}: {again:?}", backend.name);

        // Two pools at once, as two processes would: one claim wins.
        let s = settings(&cfg);
        let (a, b) = (
            Store::connect(&s.store).await.expect("a"),
            Store::connect(&s.store).await.expect("b"),
        );
        let now = Utc::now();
        let claim = |runner| NewClaim {
            job: JOB,
            trigger: Trigger::Schedule,
            at: at + TimeDelta::days(1),
            note: None,
            runner,
            now,
            lease_until: now + TimeDelta::minutes(5),
        };
        let (ca, cb) = (claim("a:1"), claim("b:2"));
        let (ra, rb) = tokio::join!(a.claim_run(&ca), b.claim_run(&cb));
        let outcomes = [ra.expect("claim a"), rb.expect("claim b")];
        let held: Vec<i64> = outcomes
            .iter()
            .filter_map(|c| match c {
                Claim::Run(id) => Some(*id),
                _ => None,
            })
            .collect();
        assert_eq!(held.len(), 1, "{}: {outcomes:?}", backend.name);
        assert!(outcomes.contains(&Claim::Taken), "{}: {outcomes:?}", backend.name);

        // While that claim is running, the next tick is recorded as skipped, with the reason,
        // and a manual run still runs (it has no claim key).
        let busy = app
            .run_scheduled(JOB, at + TimeDelta::days(2), Trigger::Schedule, None)
            .await
            .expect("claim while running");
        let Scheduled::Skipped { run_id, note } = busy else {
            panic!("{}: a tick of a running job was not skipped: {busy:?}", backend.name);
        };
        assert_eq!(note, format!("the job was still running (run {})", held[0]));
        let manual = app
            .run_job(JOB, RunOptions::manual())
            .await
            .expect("manual run");
        assert_eq!(manual.status.as_str(), "ok");

        let rows = ledger(&app).await;
        let by_id: BTreeMap<i64, &RunRecord> = rows.iter().map(|r| (r.id, r)).collect();
        assert_eq!(by_id[&report.run_id].status, "ok");
        assert_eq!(by_id[&report.run_id].scheduled_at, Some(at));
        assert!(by_id[&report.run_id].runner.as_deref().is_some_and(|r| r.ends_with(&format!(":{}", std::process::id()))));
        assert_eq!(by_id[&held[0]].status, "running");
        assert_eq!(by_id[&run_id].status, "skipped");
        assert_eq!(by_id[&run_id].note.as_deref(), Some(note.as_str()));
        assert_eq!(by_id[&manual.run_id].trigger, "manual");
        assert_eq!(by_id[&manual.run_id].scheduled_at, None);
        let instants: Vec<_> = rows.iter().filter_map(|r| r.scheduled_at).collect();
        let distinct: BTreeSet<_> = instants.iter().collect();
        assert_eq!(instants.len(), 3, "{}: {rows:#?}", backend.name);
        assert_eq!(distinct.len(), 3, "{}: an instant has two rows", backend.name);
        a.close().await;
        b.close().await;
        app.store.close().await;
    }
}

#[tokio::test]
async fn two_daemons_on_one_postgres_run_each_instant_once_and_deliver_each_digest_once() {
    let Some(db) = pg_database().await else {
        return; // said on stderr; under CI=true pg_database fails the test instead
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let tracker = repo("examples/tracker.csv").display().to_string();
    let cfg = ledger_config(dir.path(), &db, &tracker, "cron = \"*/5 * * * * *\"\n", 6);
    let app = app(&cfg).await;
    let daemons: Vec<_> = (0..2).map(|_| spawn(dir.path(), &cfg, &["daemon"])).collect();
    for (_, rx) in &daemons {
        let (ready, log) = wait_for_line(rx, "Daemon ready.", Duration::from_secs(60));
        assert!(ready, "{log:#?}");
    }
    // A run by hand while both daemons run: it works, and takes no scheduled instant.
    let (ok, out, err) = sendwatch_output(dir.path(), &cfg, &["run-now", JOB]);
    assert!(ok, "{out}{err}");

    // About 40 s of fire times: wait until eight instants are settled.
    let settled = poll(Duration::from_secs(120), || async {
        let rows = ledger(&app).await;
        let done = rows
            .iter()
            .filter(|r| r.scheduled_at.is_some() && r.status != "running")
            .count();
        (done >= 8).then_some(rows)
    })
    .await;
    for (child, rx) in &daemons {
        signal(child, "TERM");
        let (stopped, log) = wait_for_line(rx, "Stopped.", Duration::from_secs(60));
        assert!(stopped, "{log:#?}");
    }
    for (mut child, _) in daemons {
        assert!(child.wait().expect("wait").success());
    }
    assert!(settled.is_some(), "fewer than eight instants settled");

    let rows = ledger(&app).await;
    let mut instants: Vec<DateTime<Utc>> = rows.iter().filter_map(|r| r.scheduled_at).collect();
    instants.sort();
    for pair in instants.windows(2) {
        assert_eq!(
            pair[1] - pair[0],
            TimeDelta::seconds(5),
            "an instant is missing or in the ledger twice: {rows:#?}"
        );
    }
    for r in &rows {
        assert!(
            ["ok", "skipped"].contains(&r.status.as_str()),
            "run {} ended {}: {r:?}",
            r.id,
            r.status
        );
    }
    let manual: Vec<_> = rows.iter().filter(|r| r.trigger == "manual").collect();
    assert_eq!(manual.len(), 1);
    assert_eq!(manual[0].status, "ok");

    // Each digest delivered once: one .eml per outbox row of each run, no Message-ID twice.
    let mail = folder_mail(&outbox(dir.path()));
    let mut per_run: BTreeMap<i64, usize> = BTreeMap::new();
    let mut ids = BTreeSet::new();
    for m in &mail {
        let id = m.header("Message-ID").expect("Message-ID");
        assert!(ids.insert(id.clone()), "{id} delivered twice");
        let run: i64 = id
            .trim_start_matches("<sendwatch.")
            .split('.')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("run id in the Message-ID");
        *per_run.entry(run).or_default() += 1;
    }
    for r in rows.iter().filter(|r| r.status == "ok") {
        let queued = app.store.run_mail(r.id).await.expect("outbox");
        assert!(!queued.is_empty(), "run {} queued no digest", r.id);
        assert!(queued.iter().all(|m| m.status == "sent"), "{queued:?}");
        assert_eq!(per_run.get(&r.id), Some(&queued.len()), "run {}", r.id);
    }
    app.store.close().await;
}

#[tokio::test]
async fn a_daemon_killed_mid_run_leaves_it_abandoned_and_the_administrator_told() {
    let tracker = std::fs::read(repo("examples/tracker.csv")).expect("tracker");
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let srv = HttpServer::start().await;
        // The source stalls: the run is under way, fetching, when the daemon is killed.
        srv.set(
            "/tracker.csv",
            Response::ok(tracker.clone()).with_delay(Duration::from_secs(60)),
        );
        let cfg = ledger_config(
            dir.path(),
            &backend.url,
            &srv.url("/tracker.csv"),
            "cron = \"*/5 * * * * *\"\n",
            3,
        );
        let app = app(&cfg).await;
        let (mut first, _log) = spawn(dir.path(), &cfg, &["daemon"]);
        let fetching = poll(Duration::from_secs(60), || async {
            (srv.hits("/tracker.csv") > 0).then_some(())
        })
        .await;
        assert!(fetching.is_some(), "{}: the daemon never fetched", backend.name);
        signal(&first, "KILL");
        let _ = first.wait();
        let killed = ledger(&app)
            .await
            .into_iter()
            .find(|r| r.status == "running")
            .expect("the killed run is still marked running");
        assert_eq!(killed.runner, Some(format!("{}:{}", hostname(), first.id())));

        srv.set("/tracker.csv", Response::ok(tracker.clone()));
        let (mut second, rx) = spawn(dir.path(), &cfg, &["daemon"]);
        let settled = poll(Duration::from_secs(90), || async {
            let rows = ledger(&app).await;
            let abandoned = rows.iter().any(|r| r.id == killed.id && r.status == "abandoned");
            let later_ok = rows.iter().any(|r| r.id > killed.id && r.status == "ok");
            (abandoned && later_ok).then_some(rows)
        })
        .await;
        signal(&second, "TERM");
        let (stopped, log) = wait_for_line(&rx, "Stopped.", Duration::from_secs(60));
        assert!(stopped, "{log:#?}");
        assert!(second.wait().expect("wait").success());
        let rows = settled.unwrap_or_else(|| panic!("{}: not settled: {log:#?}", backend.name));

        let run = rows.iter().find(|r| r.id == killed.id).expect("killed run");
        let note = run.note.as_deref().unwrap_or_default();
        assert!(note.contains("stopped renewing its lease"), "{note}");
        let told = app.store.run_mail(killed.id).await.expect("outbox");
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!((told[0].sub_group.as_str(), told[0].recipients.as_str()), ("admin", ADMIN));
        assert!(told[0].subject.contains(&format!("run {} of job {JOB} abandoned", killed.id)));
        assert!(told[0].body_text.contains(note), "{}", told[0].body_text);
        assert!(!told[0].body_text.contains("C0"), "a case id in the notice");
        // The next run is right: it loaded the whole extract.
        let next = rows
            .iter()
            .filter(|r| r.id > killed.id && r.status == "ok")
            .min_by_key(|r| r.id)
            .expect("a later ok run");
        let summary = next.summary.as_deref().unwrap_or_default();
        assert!(summary.contains("tracker loaded"), "{summary}");
        let lines = tracker.iter().filter(|b| **b == b'\n').count() - 1;
        assert_eq!(current(&app).await.1, lines);
        app.store.close().await;
    }
}

/// This machine's name as the ledger writes it (`host:pid`).
fn hostname() -> &'static str {
    sendwatch::ledger::runner()
        .rsplit_once(':')
        .expect("host:pid")
        .0
}

#[tokio::test]
async fn a_run_past_its_working_timeout_is_abandoned_and_the_next_one_is_right() {
    let tracker = std::fs::read(repo("examples/tracker.csv")).expect("tracker");
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let srv = HttpServer::start().await;
        srv.set(
            "/tracker.csv",
            Response::ok(tracker.clone()).with_delay(Duration::from_secs(60)),
        );
        let cfg = ledger_config(dir.path(), &backend.url, &srv.url("/tracker.csv"), "timeout_secs = 1\n", 60);
        let app = app(&cfg).await;
        let err = app
            .run_job(JOB, RunOptions::manual())
            .await
            .expect_err("the run should time out");
        let JobError::TimedOut { run_id, secs } = err else {
            panic!("{}: {err}", backend.name);
        };
        assert_eq!(secs, 1);
        let run = app.store.run(run_id).await.expect("run");
        assert_eq!(run.status, "abandoned");
        assert!(run.finished_at.is_some());
        assert_eq!(
            run.note.as_deref(),
            Some(format!("stopped past its working timeout of 1 s (jobs.{JOB}.timeout_secs)").as_str())
        );
        let told = app.store.run_mail(run_id).await.expect("outbox");
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!(told[0].recipients, ADMIN);
        assert_eq!(told[0].status, "sent", "the notice is delivered at once");
        let mail = folder_mail(&outbox(dir.path()));
        assert_eq!(mail.len(), 1);
        assert!(mail[0].body.contains("working timeout of 1 s"), "{}", mail[0].body);

        srv.set("/tracker.csv", Response::ok(tracker.clone()));
        let good = GoodLoad::run(&app).await;
        assert!(good.report.run_id > run_id);
        app.store.close().await;
    }
}

#[tokio::test]
async fn downtime_over_two_fire_times_is_one_catch_up_run_and_one_skipped_row() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let tracker = repo("examples/tracker.csv").display().to_string();
        let cfg = ledger_config(dir.path(), &backend.url, &tracker, "cron = \"0 7 * * *\"\n", 60);
        let app = app(&cfg).await;
        let stop = AtomicBool::new(false);
        // A fresh install catches up nothing.
        let none = catch_up_job(&app, JOB, utc(2026, 11, 22, 8), &stop).await.expect("catch up");
        assert!(none.is_empty(), "{none:?}");

        let last = utc(2026, 11, 20, 7);
        let ran = app.run_scheduled(JOB, last, Trigger::Schedule, None).await.expect("run");
        assert!(matches!(ran, Scheduled::Ran(_)), "{ran:?}");
        // Down from after the 20th's run until 08:00 on the 22nd: 07:00 on the 21st and 22nd
        // were missed (GMT: local time is UTC).
        let now = utc(2026, 11, 22, 8);
        let report = catch_up_job(&app, JOB, now, &stop).await.expect("catch up");
        assert_eq!((report.ran.len(), report.skipped.len()), (1, 1), "{report:?}");
        let rows = ledger(&app).await;
        let run = rows.iter().find(|r| r.id == report.ran[0]).expect("catch-up run");
        assert_eq!(run.status, "ok");
        assert_eq!(run.trigger, "catch_up");
        assert_eq!(run.scheduled_at, Some(utc(2026, 11, 22, 7)));
        assert_eq!(
            run.note.as_deref(),
            Some("catch-up of 07:00 GMT on 2026-11-22 missed while down")
        );
        let skipped = rows.iter().find(|r| r.id == report.skipped[0]).expect("skipped row");
        assert_eq!(skipped.status, "skipped");
        assert_eq!(skipped.trigger, "catch_up");
        assert_eq!(skipped.scheduled_at, Some(utc(2026, 11, 21, 7)));
        assert_eq!(
            skipped.note.as_deref(),
            Some("missed while down; catch_up = \"latest\" ran only the newest missed time, 07:00 GMT on 2026-11-22")
        );
        assert_eq!(rows.len(), 3, "{rows:#?}");
        // A second start at the same time finds nothing more to do.
        let again = catch_up_job(&app, JOB, now, &stop).await.expect("catch up");
        assert!(again.is_empty(), "{again:?}");
        app.store.close().await;
    }
}

#[tokio::test]
async fn catch_up_skip_records_every_missed_time_and_runs_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = crate::support::sqlite_backend();
    let tracker = repo("examples/tracker.csv").display().to_string();
    let cfg = ledger_config(dir.path(), &backend.url, &tracker, "cron = \"0 7 * * *\"\ncatch_up = \"skip\"\n", 60);
    let app = app(&cfg).await;
    let last = utc(2026, 11, 20, 7);
    app.run_scheduled(JOB, last, Trigger::Schedule, None).await.expect("run");
    let report = catch_up_job(&app, JOB, utc(2026, 11, 23, 7), &AtomicBool::new(false))
        .await
        .expect("catch up");
    assert!(report.ran.is_empty());
    assert_eq!(report.skipped.len(), 3);
    let rows = ledger(&app).await;
    for id in &report.skipped {
        let r = rows.iter().find(|r| r.id == *id).expect("row");
        assert_eq!((r.status.as_str(), r.note.as_deref()), ("skipped", Some("missed while down; catch_up = \"skip\"")));
    }
    app.store.close().await;
}

#[tokio::test]
async fn runs_and_status_from_the_binary() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let tracker = repo("examples/tracker.csv").display().to_string();
        let cfg = ledger_config(dir.path(), &backend.url, &tracker, "", 60);
        let app = app(&cfg).await;
        let good = GoodLoad::run(&app).await;
        let at = utc(2026, 11, 20, 7);
        app.run_scheduled(JOB, at, Trigger::Schedule, None).await.expect("run");
        app.store
            .insert_skipped(JOB, Trigger::Schedule, at + TimeDelta::days(1), "a test's reason", "t:1", Utc::now())
            .await
            .expect("skipped row");

        let (ok, table, err) = sendwatch_output(dir.path(), &cfg, &["runs"]);
        assert!(ok, "{}: {err}", backend.name);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        for col in ["RUN", "JOB", "TRIGGER", "STATE", "SCHEDULED", "STARTED", "TOOK", "RUNNER", "NOTE"] {
            assert!(lines[0].contains(col), "{table}");
        }
        assert!(lines[1].contains("skipped") && lines[1].ends_with("a test's reason"), "{table}");
        assert!(lines[2].contains("schedule") && lines[2].contains("2026-11-20 07:00:00 GMT"), "{table}");
        assert!(lines[3].starts_with(&good.report.run_id.to_string()) && lines[3].contains("manual"), "{table}");

        let (ok, json, err) = sendwatch_output(dir.path(), &cfg, &["runs", JOB, "--limit", "2", "--format", "json"]);
        assert!(ok, "{err}");
        let rows: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        let rows = rows.as_array().expect("an array");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["state"], "skipped");
        assert_eq!(rows[1]["scheduled_at"], "2026-11-20T07:00:00Z");
        assert_eq!(rows[1]["state"], "ok");
        assert!(rows[1]["seconds"].as_f64().is_some());

        let (ok, status, err) = sendwatch_output(dir.path(), &cfg, &["status"]);
        assert!(ok, "{err}");
        let last = ledger(&app).await.into_iter().find(|r| r.status == "ok").expect("ok run");
        for want in [
            format!("  {JOB}: `0 7 2 * *`"),
            format!("    last run:  {} ok, schedule", last.id),
            "    next fire: ".to_string(),
            "(Europe/London), ".to_string(),
            "running now:\n  none".to_string(),
            "outbox: 0 email(s) pending delivery".to_string(),
            format!("  tracker: load {} current, 540 rows, data as of 2021-07-31", good.load_id),
            "  provider: no load yet".to_string(),
        ] {
            assert!(status.contains(&want), "{want:?} not in:\n{status}");
        }
        app.store.close().await;
    }
}
