//! The run ledger with real daemons: two `sendwatch daemon` processes on one PostgreSQL run
//! each instant once and deliver each digest once; a daemon killed with SIGKILL mid-run
//! leaves the run to be abandoned by the next one, which tells the administrator; a
//! `run-now` beside a run under way waits for it or, with `--no-wait`, is refused. Each test
//! waits for a state with a bounded poll, then asserts on the ledger and the mail.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::daemon::{signal, spawn, wait_for_line};
use crate::harness::{app, binary, binary_status, current, folder_mail, outbox, repo};
use crate::ledger::{ADMIN, JOB, ledger, ledger_config, poll, stalled_source, wait_until_fetching};
use crate::support::{Response, backends, pg_database};

async fn two_daemons_on_one_postgres_run_each_instant_once_and_deliver_each_digest_once() {
    let db = pg_database().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let tracker = repo("examples/tracker.csv").display().to_string();
    let cfg = ledger_config(dir.path(), &db, &tracker, "cron = \"*/5 * * * * *\"\n", 6);
    let app = app(&cfg).await;
    let daemons: Vec<_> = (0..2)
        .map(|_| spawn(dir.path(), &cfg, &["daemon"]))
        .collect();
    for (_, rx) in &daemons {
        let (ready, log) = wait_for_line(rx, "Daemon ready.", Duration::from_secs(60));
        assert!(ready, "{log:#?}");
    }
    // A run by hand while both daemons run: it works, and takes no scheduled instant.
    let (ok, out, err) = binary(dir.path(), &cfg, &[], &["run-now", JOB]);
    assert!(ok, "{out}{err}");

    // About 40 s of fire times: wait until eight instants are settled.
    let settled = poll(Duration::from_secs(120), || async {
        let rows = ledger(&app).await;
        let done = rows
            .iter()
            .filter(|r| {
                r.scheduled_at.is_some() && r.status != sendwatch::store::RunStatus::Running
            })
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
    let manual: Vec<_> = rows
        .iter()
        .filter(|r| r.trigger == sendwatch::store::Trigger::Manual)
        .collect();
    assert_eq!(manual.len(), 1);
    assert_eq!(manual[0].status, sendwatch::store::RunStatus::Ok);

    // Each digest delivered once: one .eml per outbox row of each run, no Message-ID twice.
    let mail = folder_mail(&outbox(dir.path()));
    let mut per_run: BTreeMap<i64, usize> = BTreeMap::new();
    let mut ids = BTreeSet::new();
    for m in &mail {
        let id = m.header("Message-ID").expect("Message-ID");
        assert!(ids.insert(id.clone()), "{id} delivered twice");
        // `<sendwatch.INSTALLATION.RUN.ROW@domain>`
        let run: i64 = id
            .trim_start_matches("<sendwatch.")
            .split('.')
            .nth(1)
            .and_then(|n| n.parse().ok())
            .expect("run id in the Message-ID");
        *per_run.entry(run).or_default() += 1;
    }
    // The first run queues the digests; later ones, with the data unchanged, have no news.
    let mut any = false;
    for r in rows
        .iter()
        .filter(|r| r.status == sendwatch::store::RunStatus::Ok)
    {
        let queued = app.store.run_mail(r.id).await.expect("outbox");
        any |= !queued.is_empty();
        assert!(queued.iter().all(|m| m.status == "sent"), "{queued:?}");
        assert_eq!(
            per_run.get(&r.id).copied().unwrap_or(0),
            queued.len(),
            "run {}",
            r.id
        );
    }
    assert!(any, "no run queued a digest");
    app.store.close().await;
}

async fn a_daemon_killed_mid_run_leaves_it_abandoned_and_the_administrator_told() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        // The source stalls: the run is under way, fetching, when the daemon is killed.
        let (srv, tracker) = stalled_source().await;
        let cfg = ledger_config(
            dir.path(),
            &backend.url,
            &srv.url("/tracker.csv"),
            "cron = \"*/5 * * * * *\"\n",
            3,
        );
        let app = app(&cfg).await;
        let (mut first, _log) = spawn(dir.path(), &cfg, &["daemon"]);
        wait_until_fetching(&srv, &format!("{}: the daemon", backend.name)).await;
        signal(&first, "KILL");
        let _ = first.wait();
        let killed = ledger(&app)
            .await
            .into_iter()
            .find(|r| r.status == sendwatch::store::RunStatus::Running)
            .expect("the killed run is still marked running");
        assert_eq!(
            killed.runner,
            Some(format!("{}:{}", hostname(), first.id()))
        );

        srv.set("/tracker.csv", Response::ok(tracker.clone()));
        let (mut second, rx) = spawn(dir.path(), &cfg, &["daemon"]);
        let settled = poll(Duration::from_secs(90), || async {
            let rows = ledger(&app).await;
            let abandoned = rows
                .iter()
                .any(|r| r.id == killed.id && r.status == sendwatch::store::RunStatus::Abandoned);
            let later_ok = rows
                .iter()
                .any(|r| r.id > killed.id && r.status == sendwatch::store::RunStatus::Ok);
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
        assert_eq!(
            (told[0].sub_group.as_str(), told[0].recipients.as_str()),
            ("admin", ADMIN)
        );
        assert!(
            told[0]
                .subject
                .contains(&format!("run {} of job {JOB} abandoned", killed.id))
        );
        assert!(told[0].body_text.contains(note), "{}", told[0].body_text);
        assert!(!told[0].body_text.contains("C0"), "a case id in the notice");
        // The next run is right: it loaded the whole extract.
        let next = rows
            .iter()
            .filter(|r| r.id > killed.id && r.status == sendwatch::store::RunStatus::Ok)
            .min_by_key(|r| r.id)
            .expect("a later ok run");
        let summary = next.summary.as_deref().unwrap_or_default();
        assert!(summary.contains("tracker loaded"), "{summary}");
        let lines = tracker.iter().filter(|b| **b == b'\n').count() - 1;
        assert_eq!(current(&app).await.1, lines);
        app.store.close().await;
    }
}

/// One run of a job at a time. A `run-now` killed mid-run still holds the job until its
/// lease lapses: `run-now --no-wait` beside it is refused (exit 75, naming the run), and a
/// plain `run-now` waits, finds the holder dead, abandons it (the administrator told) and
/// runs.
async fn run_now_beside_a_run_under_way_waits_for_it_or_is_refused() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let (srv, _) = stalled_source().await;
        // A lease long enough that the refusal below comes well inside it.
        let cfg = ledger_config(dir.path(), &backend.url, &srv.url("/tracker.csv"), "", 10);
        let app = app(&cfg).await;
        let (mut first, _log) = spawn(dir.path(), &cfg, &["run-now"]);
        wait_until_fetching(&srv, &format!("{}: the run", backend.name)).await;
        signal(&first, "KILL");
        let _ = first.wait();
        let held = ledger(&app)
            .await
            .into_iter()
            .find(|r| r.status == sendwatch::store::RunStatus::Running)
            .expect("the killed run is still marked running");

        let (code, out, err) = binary_status(dir.path(), &cfg, &[], &["run-now", "--no-wait"]);
        assert_eq!(code, Some(75), "{}: {out}{err}", backend.name);
        let said = format!("job `{JOB}` is already running: run {}, by ", held.id);
        assert!(err.contains(&said), "{}: {err}", backend.name);
        assert!(
            out.is_empty(),
            "{}: a refused run printed a report: {out}",
            backend.name
        );
        let rows = ledger(&app).await;
        assert_eq!(
            rows.len(),
            1,
            "{}: the refused run left a row: {rows:?}",
            backend.name
        );

        // The extract from a file now (the stalled server may still be serving the killed
        // process's request): the run that waited is judged on its own.
        let file = repo("examples/tracker.csv").display().to_string();
        let cfg = ledger_config(dir.path(), &backend.url, &file, "", 10);
        let (code, out, err) = binary_status(dir.path(), &cfg, &[], &["run-now"]);
        assert_eq!(code, Some(0), "{}: {out}{err}", backend.name);
        let rows = ledger(&app).await;
        let status: Vec<_> = rows.iter().map(|r| (r.id, r.status.as_str())).collect();
        let after = rows.iter().find(|r| r.id > held.id).map(|r| r.id);
        assert_eq!(
            status,
            [(after.unwrap_or_default(), "ok"), (held.id, "abandoned")],
            "{}",
            backend.name
        );
        let told = app.store.run_mail(held.id).await.expect("outbox");
        assert_eq!(told.len(), 1, "{}: {told:?}", backend.name);
        assert_eq!(told[0].recipients, ADMIN);
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

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(two_daemons_on_one_postgres_run_each_instant_once_and_deliver_each_digest_once)
            .postgres(),
        trial!(a_daemon_killed_mid_run_leaves_it_abandoned_and_the_administrator_told)
            .each_backend(),
        trial!(run_now_beside_a_run_under_way_waits_for_it_or_is_refused).each_backend(),
    ]
}
