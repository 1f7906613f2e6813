//! Replicas (issue 19): two `sendwatch daemon` processes on one PostgreSQL serve three areas
//! through the ledger's claims alone. One is killed with SIGKILL while it holds a run (its
//! area's source stalls); the other abandons that run after the lease and goes on. Every
//! area's every instant is in the ledger once, and every digest reaches the SMTP sink once.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use sendwatch::store::{RunStatus, Store};

use crate::daemon::{signal, spawn, wait_for_line};
use crate::harness::{Delivery, repo, write_config};
use crate::ledger::{JOB, poll, stalled_source, wait_until_fetching};
use crate::support::trials::{Spec, trial};
use crate::support::{Response, SmtpOptions, SmtpSink, pg_database};

const AREAS: [&str; 3] = ["knowsley", "sefton", "wigan"];

/// Three areas on `db`: Sefton and Knowsley with the shipped plan, Wigan with its own;
/// Knowsley's tracker comes from `stalled` (the others' from the example file).
fn three_areas(dir: &std::path::Path, db: &str, stalled: &str, port: u16) -> std::path::PathBuf {
    let tracker = repo("examples/tracker.csv").display().to_string();
    crate::areas::wigan_plan(dir);
    std::fs::create_dir_all(dir.join("areas")).expect("areas");
    let group = |who: &str| {
        format!(
            "[sub_groups.performance]\nname = \"{who} performance\"\nowners = [\"{who}-performance@example.org\"]\n"
        )
    };
    std::fs::write(
        dir.join("areas/sefton.toml"),
        format!("[general]\narea = \"Sefton\"\n\n{}", group("sefton")),
    )
    .expect("a");
    std::fs::write(
        dir.join("areas/knowsley.toml"),
        format!(
            "[general]\narea = \"Knowsley\"\n\n[sources.tracker]\nurl = \"{stalled}\"\n\n{}",
            group("knowsley")
        ),
    )
    .expect("b");
    std::fs::write(
        dir.join("areas/wigan.toml"),
        "[general]\narea = \"Wigan\"\n\n[plan]\ndir = \"../plans/wigan\"\n",
    )
    .expect("c");
    write_config(
        dir,
        db,
        &tracker,
        Delivery::Smtp { port, auth: None },
        &format!(
            "[ledger]\nlease_secs = 4\n\n[jobs.{JOB}]\ncron = \"*/5 * * * * *\"\n\n[areas]\ndir = \"areas\"\n"
        ),
    )
}

async fn two_replicas_share_three_areas_and_a_killed_one_loses_and_repeats_nothing() {
    let db = pg_database().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = SmtpSink::start(SmtpOptions::default());
    let (srv, tracker) = stalled_source().await;
    let cfg = three_areas(dir.path(), &db, &srv.url("/tracker.csv"), sink.port());
    let settings = crate::harness::settings(&cfg);
    let base = Store::connect(&settings.store).await.expect("pool");
    base.migrate().await.expect("migrate");
    let stores: Vec<Store> = AREAS.iter().map(|a| base.for_area(a)).collect();

    let mut daemons: Vec<_> = (0..2)
        .map(|_| spawn(dir.path(), &cfg, &["daemon"]))
        .collect();
    for (_, rx) in &daemons {
        let (ready, log) = wait_for_line(rx, "Daemon ready.", Duration::from_secs(60));
        assert!(ready, "{log:#?}");
    }
    // Knowsley's run is under way, fetching its stalled source: kill the daemon holding it.
    wait_until_fetching(&srv, "a replica").await;
    let knowsley = &stores[0];
    let held = poll(Duration::from_secs(30), || async {
        knowsley
            .running_runs()
            .await
            .expect("running")
            .into_iter()
            .next()
    })
    .await
    .expect("Knowsley's run is marked running");
    let runner = held.runner.clone().expect("runner");
    let victim = daemons
        .iter()
        .position(|(c, _)| runner.ends_with(&format!(":{}", c.id())))
        .expect("one of the two holds it");
    let (mut killed, _) = daemons.remove(victim);
    signal(&killed, "KILL");
    let _ = killed.wait();
    // SMTP's one ambiguity: a message the server took whose row the killed process had not
    // yet marked sent is sent again, with the same Message-ID, once its claim lapses (as
    // `notify::deliver` says). Only such a row may arrive twice: pending at the kill, its
    // first copy at the sink before it.
    let at_sink: BTreeSet<String> = sink.messages().iter().map(message_id).collect();
    let mut in_flight = BTreeSet::new();
    for s in &stores {
        for r in s.pending_mail().await.expect("pending") {
            in_flight.insert(r.id);
        }
    }
    srv.set("/tracker.csv", Response::ok(tracker));

    // The survivor abandons the killed run after the lease and runs every area on.
    let settled = poll(Duration::from_secs(120), || async {
        let mut ok = true;
        for s in &stores {
            let rows = s.list_runs(None, 1000).await.expect("ledger");
            let after = rows
                .iter()
                .filter(|r| r.id > held.id && r.status == RunStatus::Ok && r.scheduled_at.is_some())
                .count();
            ok &= after >= 2;
        }
        let abandoned = knowsley.run(held.id).await.expect("run").status == RunStatus::Abandoned;
        (ok && abandoned).then_some(())
    })
    .await;
    let (mut survivor, rx) = daemons.remove(0);
    signal(&survivor, "TERM");
    let (stopped, log) = wait_for_line(&rx, "Stopped.", Duration::from_secs(60));
    assert!(stopped, "{log:#?}");
    assert!(survivor.wait().expect("wait").success());
    assert!(settled.is_some(), "the survivor did not carry on: {log:#?}");

    // Each area's instants: each in the ledger once, none missing between the first and last.
    let mut queued = Vec::new();
    for (area, s) in AREAS.iter().zip(&stores) {
        let rows = s.list_runs(None, 1000).await.expect("ledger");
        let mut instants: Vec<DateTime<Utc>> = rows.iter().filter_map(|r| r.scheduled_at).collect();
        instants.sort();
        for pair in instants.windows(2) {
            assert_eq!(
                pair[1] - pair[0],
                TimeDelta::seconds(5),
                "{area}: an instant is missing or twice: {rows:#?}"
            );
        }
        assert!(rows.iter().all(|r| r.area == *area), "{area}");
        for r in &rows {
            for m in s.run_mail(r.id).await.expect("outbox") {
                assert_eq!(m.status, "sent", "{area}: {m:?}");
                queued.push((area.to_string(), m.id));
            }
        }
    }
    assert!(!queued.is_empty(), "no digest was queued");
    // Every digest at the sink once: one message per outbox row, no Message-ID twice.
    let received = sink.wait_for(queued.len()).await;
    let mut ids = BTreeSet::new();
    let mut again = 0;
    for m in &received {
        let id = message_id(m);
        if !ids.insert(id.clone()) {
            let row: Option<i64> = id
                .trim_end_matches(|c| c != '@')
                .trim_end_matches('@')
                .rsplit('.')
                .next()
                .and_then(|n| n.parse().ok());
            assert!(
                at_sink.contains(&id) && row.is_some_and(|r| in_flight.contains(&r)),
                "{id} delivered twice, and it was not in flight at the kill"
            );
            again += 1;
        }
    }
    assert_eq!(received.len(), queued.len() + again, "{queued:?}");
    // Each area's digests went to its own group.
    for area in AREAS {
        let mine = received
            .iter()
            .filter(|m| {
                m.rcpt_tos
                    .iter()
                    .any(|r| r.starts_with(&format!("{area}-")))
            })
            .count();
        let others = received
            .iter()
            .filter(|m| {
                m.rcpt_tos
                    .iter()
                    .any(|r| r.starts_with(&format!("{area}-")))
            })
            .filter(|m| {
                m.rcpt_tos.iter().any(|r| {
                    r.ends_with("-performance@example.org") && !r.starts_with(&format!("{area}-"))
                })
            })
            .count();
        assert!(mine > 0, "{area}'s group heard nothing");
        assert_eq!(
            others, 0,
            "{area}'s digest also went to another area's group"
        );
    }
    base.close().await;
}

fn message_id(m: &crate::support::ReceivedMail) -> String {
    m.data
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .expect("Message-ID")
        .to_string()
}

pub fn tests() -> Vec<Spec> {
    vec![
        trial!(two_replicas_share_three_areas_and_a_killed_one_loses_and_repeats_nothing)
            .postgres()
            .smtp(),
    ]
}
