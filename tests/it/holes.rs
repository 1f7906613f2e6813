//! The holes a hostile probe found (issue 16), each shown closed: risk news a killed run
//! recorded but never queued is told by the next run, once; a held load's texts carry no day
//! from a row; refusals within one second keep one file each; two installations never share a
//! Message-ID; the SQLite database and its folder are private under umask 022.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use crate::daemon::{signal, spawn_env, wait_for_line};
use crate::harness::{Mail, RISK_LOG_HOLDER, app, binary_status, folder_mail, outbox, repo};
use crate::ledger::{ADMIN, ledger, ledger_config};
use crate::support::backends;
use sendwatch::store::Trigger;

/// A run killed after it recorded its risk changes and before it queued the digests: the next
/// run tells the risk log's holder of them, once, and leaves nothing untold.
async fn risk_news_recorded_by_a_killed_run_is_told_by_the_next_run_once() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let tracker = repo("examples/tracker.csv").display().to_string();
        let cfg = ledger_config(dir.path(), &backend.url, &tracker, "", 10);
        let app = app(&cfg).await;
        let (mut first, log) = spawn_env(
            dir.path(),
            &cfg,
            &[("SENDWATCH_PAUSE_AT", "risks-recorded")],
            &["run-now"],
        );
        let (paused, seen) =
            wait_for_line(&log, "paused at risks-recorded", Duration::from_secs(180));
        assert!(
            paused,
            "{}: the run never got to its risks: {seen:#?}",
            backend.name
        );
        let events = app.store.risk_events().await.expect("risk events");
        assert!(
            !events.is_empty(),
            "{}: no risk change recorded",
            backend.name
        );
        let killed = events[0].run_id;
        assert!(
            app.store.run_mail(killed).await.expect("outbox").is_empty(),
            "{}: paused before queueing",
            backend.name
        );
        signal(&first, "KILL");
        let _ = first.wait();

        // The next run waits for the dead run's lease, abandons it, and tells its news.
        let (code, out, err) = binary_status(dir.path(), &cfg, &[], &["run-now"]);
        assert_eq!(code, Some(0), "{}: {out}{err}", backend.name);
        let mails = folder_mail(&outbox(dir.path()));
        let holder: Vec<&Mail> = mails
            .iter()
            .filter(|m| m.headers.contains(&format!("To: {RISK_LOG_HOLDER}")))
            .collect();
        assert_eq!(holder.len(), 1, "{}: {} mails", backend.name, mails.len());
        for e in &events {
            assert!(
                holder[0].body.contains(&e.change.risk_id),
                "{}: {} not told: {}",
                backend.name,
                e.change.risk_id,
                holder[0].body
            );
        }
        assert!(
            mails
                .iter()
                .any(|m| m.headers.contains(&format!("To: {ADMIN}"))),
            "{}: the administrator hears of the abandoned run",
            backend.name
        );
        let runs = ledger(&app).await;
        let next = runs.iter().map(|r| r.id).max().expect("runs");
        assert!(next > killed);
        assert_eq!(
            app.store.risk_events().await.expect("events").len(),
            events.len(),
            "{}: the next run records no change of its own",
            backend.name
        );
        assert!(
            app.store
                .take_untold_risk_news(next)
                .await
                .expect("untold")
                .is_empty(),
            "{}: every change is marked told",
            backend.name
        );

        // A third run: nothing new for the holder.
        let (code, out, err) = binary_status(dir.path(), &cfg, &[], &["run-now"]);
        assert_eq!(code, Some(0), "{}: {out}{err}", backend.name);
        let again = folder_mail(&outbox(dir.path()));
        assert_eq!(again.len(), mails.len(), "{}: sent again", backend.name);
        app.store.close().await;
    }
}

/// The tracker's rows whose latest event date is at most `last`, as a CSV.
fn tracker_until(last: &str) -> String {
    crate::ingest::tracker_with(|_, l| crate::ingest::latest(l).as_str() <= last)
}

/// Every day-date in the extract's rows that is not a month's last day (a period's end may be
/// shown), in the ways output could write it.
fn row_days(csv: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for cell in csv.lines().skip(1).flat_map(|l| l.split(',')) {
        let Ok(d) = chrono::NaiveDate::parse_from_str(cell, "%Y-%m-%d") else {
            continue;
        };
        if d.succ_opt().is_some_and(|n| n.month0() != d.month0()) {
            continue;
        }
        for f in ["%Y-%m-%d", "%d/%m/%Y", "%-d %B %Y", "%-d %b %Y"] {
            out.insert(d.format(f).to_string());
        }
    }
    out
}

use chrono::Datelike as _;

/// A load held because its data go back in time: the reason stored, the owner's notice, the
/// digests and the log name months, never a day from a row.
async fn a_held_load_names_months_never_a_day_from_a_row() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("tracker.csv");
        let cfg =
            crate::harness::folder_config(dir.path(), &backend.url, &file.display().to_string());
        let app = app(&cfg).await;
        let env = [("SENDWATCH_LOG", "info")];
        std::fs::write(&file, tracker_until("9999")).expect("write");
        let (code, out, err) = binary_status(dir.path(), &cfg, &env, &["run-now"]);
        assert_eq!(code, Some(0), "{}: {out}{err}", backend.name);
        let older = tracker_until("2021-06-03");
        std::fs::write(&file, &older).expect("write");
        let (_, out, err) = binary_status(dir.path(), &cfg, &env, &["run-now"]);
        let held = all_loads(&app)
            .await
            .into_iter()
            .find(|l| l.outcome == "held")
            .unwrap_or_else(|| panic!("{}: not held: {out}{err}", backend.name));
        let reason = held.held_reason.clone().expect("a reason");
        assert!(
            reason.contains("runs to June 2021, before the current load's July 2021"),
            "{reason}"
        );
        let mails = folder_mail(&outbox(dir.path()));
        let mut texts = vec![reason, out, err];
        for m in &mails {
            texts.push(m.headers.clone());
            texts.push(m.body.clone());
            texts.extend(m.html.clone());
        }
        assert!(
            texts.iter().any(|t| t.contains("held")),
            "{}: nobody was told of the held load",
            backend.name
        );
        let days = row_days(&older);
        assert!(days.contains("2021-06-03"));
        for t in &texts {
            for d in &days {
                assert!(
                    !t.contains(d.as_str()),
                    "{}: a row's day {d} in: {t}",
                    backend.name
                );
            }
        }
        app.store.close().await;
    }
}

/// Every load recorded, by run.
async fn all_loads(app: &sendwatch::job::App) -> Vec<sendwatch::store::LoadRecord> {
    let mut out = Vec::new();
    for r in ledger(app).await {
        out.extend(app.store.run_loads(r.id).await.expect("loads"));
    }
    out
}

/// Three extracts refused within one second each keep their own file, named by load id.
async fn refusals_within_one_second_keep_one_file_each() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = crate::harness::folder_config(dir.path(), &backend.url, "unused.csv");
        let app = app(&cfg).await;
        let settings = crate::harness::settings(&cfg);
        let source = settings.sources.get("tracker").expect("tracker");
        let kind = crate::harness::kind("tracker");
        let fetched_at = chrono::Utc::now();
        let mut kept = Vec::new();
        for i in 0..3 {
            let bad = dir.path().join(format!("bad{i}.csv"));
            std::fs::write(&bad, format!("not,a,tracker\n{i},2,3\n")).expect("write");
            let meta = sendwatch::store::LoadMeta {
                run_id: app
                    .store
                    .start_run(&format!("by-hand-{i}"), Trigger::Manual, None, fetched_at)
                    .await
                    .expect("run"),
                source: "tracker",
                kind: "tracker",
                url: "bad.csv",
                fetched_at,
                http_status: None,
                bytes: 20,
                sha256: "0",
                etag: None,
                last_modified: None,
            };
            let x = sendwatch::job::ingest::Extract {
                path: &bad,
                meta,
                today: crate::harness::today(),
                dry_run: false,
                progress: None,
            };
            let got = sendwatch::job::ingest::ingest_file(
                &app.store,
                source,
                &kind,
                &settings.general.data_dir,
                x,
            )
            .await
            .expect("ingest");
            assert!(
                matches!(got, sendwatch::store::SourceOutcome::Rejected { .. }),
                "{got:?}"
            );
        }
        for l in all_loads(&app).await {
            let path = l.kept_file.clone().expect("kept");
            assert!(
                path.ends_with(&format!("tracker@load{}.csv", l.id)),
                "{path}"
            );
            kept.push(std::fs::read_to_string(&path).expect("kept file"));
        }
        kept.sort();
        assert_eq!(kept.len(), 3, "{}", backend.name);
        for (i, k) in kept.iter().enumerate() {
            assert!(k.contains(&format!("\n{i},2,3")), "{}: {k}", backend.name);
        }
        app.store.close().await;
    }
}

/// Two installations (two databases) running the same job never write the same Message-ID.
async fn two_installations_never_share_a_message_id() {
    for backend in backends().await {
        let mut ids: Vec<BTreeSet<String>> = Vec::new();
        for install in 0..2 {
            let dir = tempfile::tempdir().expect("tempdir");
            let url = if install == 0 {
                backend.url.clone()
            } else if backend.name == "postgres" {
                crate::support::pg_database().await
            } else {
                format!("sqlite://{}", dir.path().join("other.db").display())
            };
            let tracker = repo("examples/tracker.csv").display().to_string();
            let cfg = crate::harness::folder_config(dir.path(), &url, &tracker);
            let (code, out, err) = binary_status(dir.path(), &cfg, &[], &["run-now"]);
            assert_eq!(code, Some(0), "{}: {out}{err}", backend.name);
            let got: BTreeSet<String> = folder_mail(&outbox(dir.path()))
                .iter()
                .map(|m| m.header("Message-ID").expect("a Message-ID"))
                .collect();
            assert!(!got.is_empty());
            ids.push(got);
        }
        assert!(
            ids[0].is_disjoint(&ids[1]),
            "{}: shared Message-IDs {:?} and {:?}",
            backend.name,
            ids[0],
            ids[1]
        );
    }
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

/// Under umask 022 the SQLite folder is made 0700 and the database, WAL and shared-memory
/// files 0600.
fn the_database_and_its_folder_are_private_under_umask_022() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("db-folder/sendwatch.db");
    let tracker = repo("examples/tracker.csv").display().to_string();
    let cfg =
        crate::harness::folder_config(dir.path(), &format!("sqlite://{}", db.display()), &tracker);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sendwatch"));
    cmd.current_dir(dir.path())
        .env_clear()
        .arg("--config")
        .arg(&cfg)
        .args(["run-now"]);
    // SAFETY: umask is async-signal-safe and touches nothing but the child's mask.
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0o022);
            Ok(())
        });
    }
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(db.parent().expect("folder")), 0o700);
    assert_eq!(mode(&db), 0o600);
    for suffix in ["-wal", "-shm"] {
        let f = db.with_file_name(format!("sendwatch.db{suffix}"));
        if f.exists() {
            assert_eq!(mode(&f), 0o600, "{}", f.display());
        }
    }
    // A file left open to all by an earlier version is narrowed at the next start.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&db), 0o600);
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(risk_news_recorded_by_a_killed_run_is_told_by_the_next_run_once).each_backend(),
        trial!(a_held_load_names_months_never_a_day_from_a_row).each_backend(),
        trial!(refusals_within_one_second_keep_one_file_each).each_backend(),
        trial!(two_installations_never_share_a_message_id).each_backend(),
        trial!(the_database_and_its_folder_are_private_under_umask_022),
    ]
}
