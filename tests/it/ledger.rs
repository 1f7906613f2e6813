//! The run ledger: a scheduled instant claimed once (two daemons: `ledger_daemons`); the
//! overlap guard; a run past its working timeout abandoned and the administrator told; missed
//! fire times caught up; `runs` and `status` from the binary. Nothing here times anything.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use sendwatch::daemon::catch_up_job;
use sendwatch::job::{App, JobError, RunOptions, Scheduled};
use sendwatch::store::{Claim, NewClaim, RunRecord, Store, Trigger};

use crate::harness::{
    Delivery, GoodLoad, app, binary, folder_mail, outbox, repo, settings, write_config,
};
use crate::support::{HttpServer, Response, backends};

pub const JOB: &str = "monthly-exceptions";
pub const ADMIN: &str = "admin@example.test";

/// A config for `job_extra` (keys of the example job) with a short lease and an administrator.
pub fn ledger_config(
    dir: &Path,
    db: &str,
    source: &str,
    job_extra: &str,
    lease: u64,
) -> std::path::PathBuf {
    let extra = format!(
        "[ledger]\nlease_secs = {lease}\n\n[admin]\nemail = \"{ADMIN}\"\n\n[jobs.{JOB}]\n{job_extra}"
    );
    write_config(dir, db, source, Delivery::Folder(&outbox(dir)), &extra)
}

fn utc(y: i32, mo: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, 0, 0)
        .single()
        .expect("instant")
}

pub async fn ledger(app: &App) -> Vec<RunRecord> {
    app.store.list_runs(None, 10_000).await.expect("ledger")
}

/// A loopback server whose `/tracker.csv` (the example tracker, also returned) answers only
/// after a minute: a run reading it is under way until something stops it.
pub async fn stalled_source() -> (HttpServer, Vec<u8>) {
    let tracker = std::fs::read(repo("examples/tracker.csv")).expect("tracker");
    let srv = HttpServer::start().await;
    srv.set(
        "/tracker.csv",
        Response::ok(tracker.clone()).with_delay(Duration::from_secs(60)),
    );
    (srv, tracker)
}

/// Wait (a minute at most) until a process has asked [`stalled_source`] for the tracker: its
/// run is under way, fetching. `who` names the process in the failure.
pub async fn wait_until_fetching(srv: &HttpServer, who: &str) {
    let fetching = poll(Duration::from_secs(60), || async {
        (srv.hits("/tracker.csv") > 0).then_some(())
    })
    .await;
    assert!(fetching.is_some(), "{who} never fetched");
}

/// Ask `probe` every half second until it gives a value or `limit` passes.
pub async fn poll<T, F, Fut>(limit: Duration, mut probe: F) -> Option<T>
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
        assert!(
            matches!(again, Scheduled::Taken),
            "{}: {again:?}",
            backend.name
        );

        // Two pools at once, as two processes would: one claim wins.
        let s = settings(&cfg);
        let (a, b) = (
            Store::connect(&s.store)
                .await
                .expect("a")
                .for_area(s.area_id().as_str()),
            Store::connect(&s.store)
                .await
                .expect("b")
                .for_area(s.area_id().as_str()),
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
        assert!(
            outcomes.contains(&Claim::Taken),
            "{}: {outcomes:?}",
            backend.name
        );

        // While that claim is running, the next tick is recorded as skipped, with the reason,
        // and a manual run that may not wait is refused, naming the run under way: one run of
        // a job at a time.
        let busy = app
            .run_scheduled(JOB, at + TimeDelta::days(2), Trigger::Schedule, None)
            .await
            .expect("claim while running");
        let Scheduled::Skipped { run_id, note } = busy else {
            panic!(
                "{}: a tick of a running job was not skipped: {busy:?}",
                backend.name
            );
        };
        assert_eq!(note, format!("the job was still running (run {})", held[0]));
        let no_wait = RunOptions {
            wait: false,
            ..RunOptions::manual()
        };
        match app.run_job(JOB, no_wait.clone()).await {
            Err(JobError::Busy { run_id, job, .. }) => {
                assert_eq!((run_id, job.as_str()), (held[0], JOB), "{}", backend.name)
            }
            other => panic!(
                "{}: a manual run beside a running one: {other:?}",
                backend.name
            ),
        }
        // Once it has ended, a manual run runs (it has no claim key).
        app.store
            .finish_run(
                held[0],
                sendwatch::store::RunStatus::Ok,
                "a test's claim",
                now,
            )
            .await
            .expect("finish");
        let manual = app.run_job(JOB, no_wait).await.expect("manual run");
        assert_eq!(manual.status.as_str(), "ok");

        let rows = ledger(&app).await;
        let by_id: BTreeMap<i64, &RunRecord> = rows.iter().map(|r| (r.id, r)).collect();
        assert_eq!(
            by_id[&report.run_id].status,
            sendwatch::store::RunStatus::Ok
        );
        assert_eq!(by_id[&report.run_id].scheduled_at, Some(at));
        assert!(
            by_id[&report.run_id]
                .runner
                .as_deref()
                .is_some_and(|r| r.ends_with(&format!(":{}", std::process::id())))
        );
        assert_eq!(by_id[&held[0]].status, sendwatch::store::RunStatus::Ok);
        assert_eq!(by_id[&run_id].status, sendwatch::store::RunStatus::Skipped);
        assert_eq!(by_id[&run_id].note.as_deref(), Some(note.as_str()));
        assert_eq!(by_id[&manual.run_id].trigger, Trigger::Manual);
        assert_eq!(by_id[&manual.run_id].scheduled_at, None);
        let instants: Vec<_> = rows.iter().filter_map(|r| r.scheduled_at).collect();
        let distinct: BTreeSet<_> = instants.iter().collect();
        assert_eq!(instants.len(), 3, "{}: {rows:#?}", backend.name);
        assert_eq!(
            distinct.len(),
            3,
            "{}: an instant has two rows",
            backend.name
        );
        a.close().await;
        b.close().await;
        app.store.close().await;
    }
}

async fn a_run_past_its_working_timeout_is_abandoned_and_the_next_one_is_right() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let (srv, tracker) = stalled_source().await;
        let cfg = ledger_config(
            dir.path(),
            &backend.url,
            &srv.url("/tracker.csv"),
            "timeout_secs = 1\n",
            60,
        );
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
        assert_eq!(run.status, sendwatch::store::RunStatus::Abandoned);
        assert!(run.finished_at.is_some());
        assert_eq!(
            run.note.as_deref(),
            Some(
                format!("stopped past its working timeout of 1 s (jobs.{JOB}.timeout_secs)")
                    .as_str()
            )
        );
        let told = app.store.run_mail(run_id).await.expect("outbox");
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!(told[0].recipients, ADMIN);
        assert_eq!(told[0].status, "sent", "the notice is delivered at once");
        let mail = folder_mail(&outbox(dir.path()));
        assert_eq!(mail.len(), 1);
        assert!(
            mail[0].body.contains("working timeout of 1 s"),
            "{}",
            mail[0].body
        );

        srv.set("/tracker.csv", Response::ok(tracker.clone()));
        // The next run, with a working timeout no busy machine reaches: the 1 s above was for
        // the stalled fetch, and a whole run can take longer than that on a loaded machine.
        app.store.close().await;
        let cfg = ledger_config(
            dir.path(),
            &backend.url,
            &srv.url("/tracker.csv"),
            "timeout_secs = 600\n",
            60,
        );
        let app = crate::harness::app(&cfg).await;
        let good = GoodLoad::run(&app).await;
        assert!(good.report.run_id > run_id);
        app.store.close().await;
    }
}

async fn downtime_over_two_fire_times_is_one_catch_up_run_and_one_skipped_row() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let tracker = repo("examples/tracker.csv").display().to_string();
        let cfg = ledger_config(
            dir.path(),
            &backend.url,
            &tracker,
            "cron = \"0 7 * * *\"\n",
            60,
        );
        let app = app(&cfg).await;
        let stop = AtomicBool::new(false);
        // A fresh install catches up nothing.
        let none = catch_up_job(&app, JOB, utc(2026, 11, 22, 8), &stop)
            .await
            .expect("catch up");
        assert!(none.is_empty(), "{none:?}");

        let last = utc(2026, 11, 20, 7);
        let ran = app
            .run_scheduled(JOB, last, Trigger::Schedule, None)
            .await
            .expect("run");
        assert!(matches!(ran, Scheduled::Ran(_)), "{ran:?}");
        // Down from after the 20th's run until 08:00 on the 22nd: 07:00 on the 21st and 22nd
        // were missed (GMT: local time is UTC).
        let now = utc(2026, 11, 22, 8);
        let report = catch_up_job(&app, JOB, now, &stop).await.expect("catch up");
        assert_eq!(
            (report.ran.len(), report.skipped.len()),
            (1, 1),
            "{report:?}"
        );
        let rows = ledger(&app).await;
        let run = rows
            .iter()
            .find(|r| r.id == report.ran[0])
            .expect("catch-up run");
        assert_eq!(run.status, sendwatch::store::RunStatus::Ok);
        assert_eq!(run.trigger, Trigger::CatchUp);
        assert_eq!(run.scheduled_at, Some(utc(2026, 11, 22, 7)));
        assert_eq!(
            run.note.as_deref(),
            Some("catch-up of 07:00 GMT on 2026-11-22 missed while down")
        );
        let skipped = rows
            .iter()
            .find(|r| r.id == report.skipped[0])
            .expect("skipped row");
        assert_eq!(skipped.status, sendwatch::store::RunStatus::Skipped);
        assert_eq!(skipped.trigger, Trigger::CatchUp);
        assert_eq!(skipped.scheduled_at, Some(utc(2026, 11, 21, 7)));
        assert_eq!(
            skipped.note.as_deref(),
            Some(
                "missed while down; catch_up = \"latest\" ran only the newest missed time, 07:00 GMT on 2026-11-22"
            )
        );
        assert_eq!(rows.len(), 3, "{rows:#?}");
        // A second start at the same time finds nothing more to do.
        let again = catch_up_job(&app, JOB, now, &stop).await.expect("catch up");
        assert!(again.is_empty(), "{again:?}");
        app.store.close().await;
    }
}

async fn catch_up_skip_records_every_missed_time_and_runs_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = crate::support::sqlite_backend();
    let tracker = repo("examples/tracker.csv").display().to_string();
    let cfg = ledger_config(
        dir.path(),
        &backend.url,
        &tracker,
        "cron = \"0 7 * * *\"\ncatch_up = \"skip\"\n",
        60,
    );
    let app = app(&cfg).await;
    let last = utc(2026, 11, 20, 7);
    app.run_scheduled(JOB, last, Trigger::Schedule, None)
        .await
        .expect("run");
    let report = catch_up_job(&app, JOB, utc(2026, 11, 23, 7), &AtomicBool::new(false))
        .await
        .expect("catch up");
    assert!(report.ran.is_empty());
    assert_eq!(report.skipped.len(), 3);
    let rows = ledger(&app).await;
    for id in &report.skipped {
        let r = rows.iter().find(|r| r.id == *id).expect("row");
        assert_eq!(
            (r.status.as_str(), r.note.as_deref()),
            ("skipped", Some("missed while down; catch_up = \"skip\""))
        );
    }
    app.store.close().await;
}

async fn runs_and_status_from_the_binary() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let tracker = repo("examples/tracker.csv").display().to_string();
        let cfg = ledger_config(dir.path(), &backend.url, &tracker, "", 60);
        let app = app(&cfg).await;
        let good = GoodLoad::run(&app).await;
        let at = utc(2026, 11, 20, 7);
        app.run_scheduled(JOB, at, Trigger::Schedule, None)
            .await
            .expect("run");
        app.store
            .insert_skipped(
                JOB,
                Trigger::Schedule,
                at + TimeDelta::days(1),
                "a test's reason",
                "t:1",
                Utc::now(),
            )
            .await
            .expect("skipped row");

        let (ok, table, err) = binary(dir.path(), &cfg, &[], &["runs"]);
        assert!(ok, "{}: {err}", backend.name);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>().join(" "),
            "RUN JOB TRIGGER STATE SCHEDULED STARTED TOOK RUNNER NOTE"
        );
        assert!(
            lines[1].contains("skipped") && lines[1].ends_with("a test's reason"),
            "{table}"
        );
        assert!(
            lines[2].contains("schedule") && lines[2].contains("2026-11-20 07:00:00 GMT"),
            "{table}"
        );
        assert!(
            lines[3].starts_with(&good.report.run_id.to_string()) && lines[3].contains("manual"),
            "{table}"
        );

        let (ok, json, err) = binary(
            dir.path(),
            &cfg,
            &[],
            &["runs", JOB, "--limit", "2", "--format", "json"],
        );
        assert!(ok, "{err}");
        let rows: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        let rows = rows.as_array().expect("an array");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["state"], "skipped");
        assert_eq!(rows[1]["scheduled_at"], "2026-11-20T07:00:00Z");
        assert_eq!(rows[1]["state"], "ok");
        assert!(rows[1]["seconds"].as_f64().is_some());

        let (ok, status, err) = binary(dir.path(), &cfg, &[], &["status"]);
        assert!(ok, "{err}");
        let last = ledger(&app)
            .await
            .into_iter()
            .find(|r| r.status == sendwatch::store::RunStatus::Ok)
            .expect("ok run");
        for want in [
            format!("  {JOB}: `0 7 2 * *`"),
            format!("    last run:  {} ok, schedule", last.id),
            "    next fire: ".to_string(),
            "(Europe/London), ".to_string(),
            "running now:\n  none".to_string(),
            "outbox: 0 email(s) pending delivery".to_string(),
            format!(
                "  tracker: load {} current, 540 rows, data to July 2021",
                good.load_id
            ),
            "  provider: no load yet".to_string(),
        ] {
            assert!(status.contains(&want), "{want:?} not in:\n{status}");
        }
        app.store.close().await;
    }
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(an_instant_claimed_twice_runs_once_and_a_busy_job_skips_its_tick).each_backend(),
        trial!(a_run_past_its_working_timeout_is_abandoned_and_the_next_one_is_right)
            .each_backend(),
        trial!(downtime_over_two_fire_times_is_one_catch_up_run_and_one_skipped_row).each_backend(),
        trial!(catch_up_skip_records_every_missed_time_and_runs_none),
        trial!(runs_and_status_from_the_binary).each_backend(),
    ]
}
