//! Digests (issue 9, first slice), over real SMTP on loopback and both backends: one digest
//! per recipient with exactly their items; the same job twice with unchanged data sends
//! nothing the second time; a 550 for one recipient leaves the others theirs; a `--period`
//! past the data refused without `--force`; folder delivery private to the service user.
//! Every message received also passes the disclosure scan (`support::disclosure`).

use std::collections::BTreeMap;

use sendwatch::store::RunStatus;

use crate::harness::{
    Delivery, Mail, app, binary, folder_config, outbox, repo, run_example, write_config,
};
use crate::support::{SmtpOptions, SmtpSink, backends, sqlite_backend};

/// Performance (1/2a slips) to alice and bob, health (1/5 slips) to bob and carol.
const THREE: &str = "[sub_groups.performance]\nowners = [\"alice@example.org\", \"bob@example.org\"]\n\
                     [sub_groups.health]\nowners = [\"bob@example.org\", \"carol@example.org\"]\n";

/// The messages after `before`, parsed, by recipient (each must have exactly one).
pub fn by_recipient(sink: &SmtpSink, before: usize) -> BTreeMap<String, Mail> {
    let mut out = BTreeMap::new();
    for m in &sink.messages()[before..] {
        let to = m.rcpt_tos.join(",");
        assert!(
            out.insert(to.clone(), Mail::parse(&m.data)).is_none(),
            "{to} got two digests"
        );
    }
    out
}

async fn three_recipients_in_two_sub_groups_get_one_digest_each_and_nothing_twice() {
    let sink = SmtpSink::start(SmtpOptions::default());
    let extract = repo("examples/tracker.csv").display().to_string();
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let smtp = Delivery::Smtp {
            port: sink.port(),
            auth: None,
        };
        let cfg = write_config(dir.path(), &backend.url, &extract, smtp, THREE);
        let app = app(&cfg).await;
        let before = sink.messages().len();
        let r = run_example(&app).await;
        assert_eq!(r.status, RunStatus::Ok, "{}: {r:?}", backend.name);
        // alice, bob, carol, and the risk log's holder.
        assert_eq!((r.queued, r.delivery.sent), (4, 4), "{}", backend.name);
        sink.wait_for(before + 4).await;
        let got = by_recipient(&sink, before);
        let body = |to: &str| got.get(to).map(|m| m.body.clone()).expect(to);
        let (alice, bob, carol) = (
            body("alice@example.org"),
            body("bob@example.org"),
            body("carol@example.org"),
        );
        assert!(
            alice.contains("KPI 1/2a: ") && !alice.contains("KPI 1/5: "),
            "{alice}"
        );
        assert!(
            carol.contains("KPI 1/5: ") && !carol.contains("KPI 1/2a: "),
            "{carol}"
        );
        assert!(
            bob.contains("KPI 1/2a: ") && bob.contains("KPI 1/5: "),
            "{bob}"
        );
        // bob's: both sub-groups under one header, each its own section, one footer.
        assert!(
            bob.starts_with("Exception reports for 2 sub-groups, the worst first: "),
            "{bob}"
        );
        for section in [
            "== Performance Management and Assessment & Provision Sub Group ==",
            "== SEND Health Performance Improvement Group ==",
        ] {
            assert_eq!(bob.matches(section).count(), 1, "{section} in {bob}");
        }
        assert_eq!(bob.matches("\n--\n").count(), 1, "{bob}");
        let subject = got["bob@example.org"].header("Subject").unwrap_or_default();
        assert!(subject.ends_with("(2 sub-groups)"), "{subject}");
        // Exactly their items: alice's KPIs are bob's performance section's.
        let kpis = |b: &str| -> Vec<String> {
            b.lines()
                .filter(|l| l.starts_with("KPI "))
                .map(str::to_string)
                .collect()
        };
        let mut both = kpis(&alice);
        both.extend(kpis(&carol));
        both.sort();
        let mut bobs = kpis(&bob);
        bobs.sort();
        assert_eq!(both, bobs, "{}", backend.name);

        // The same job again, the data unchanged: nothing queued, nothing sent.
        let r2 = run_example(&app).await;
        assert_eq!(r2.status, RunStatus::Ok);
        assert_eq!((r2.queued, r2.delivery.sent), (0, 0), "{}", backend.name);
        assert_eq!(sink.messages().len(), before + 4, "{}", backend.name);
        app.store.close().await;
    }
}

async fn a_550_for_one_recipient_leaves_the_others_theirs() {
    let sink = SmtpSink::start(SmtpOptions {
        refuse_rcpt: vec!["carol@example.org".into()],
        ..Default::default()
    });
    let extract = repo("examples/tracker.csv").display().to_string();
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let smtp = Delivery::Smtp {
            port: sink.port(),
            auth: None,
        };
        let cfg = write_config(dir.path(), &backend.url, &extract, smtp, THREE);
        let app = app(&cfg).await;
        let before = sink.messages().len();
        let r = run_example(&app).await;
        assert_eq!(r.status, RunStatus::Failed);
        // The three others, and the administrator's notice of carol's.
        assert_eq!(
            (r.delivery.sent, r.delivery.failed),
            (4, 1),
            "{}",
            backend.name
        );
        sink.wait_for(before + 4).await;
        let got = by_recipient(&sink, before);
        let to: Vec<&str> = got.keys().map(String::as_str).collect();
        assert_eq!(
            to,
            [
                "alice@example.org",
                "bob@example.org",
                "governance@example.org",
                crate::outbox::ADMIN
            ]
        );
        assert!(
            got[crate::outbox::ADMIN].body.contains("carol@example.org"),
            "{}",
            got[crate::outbox::ADMIN].body
        );
        // bob hears of health all the same.
        assert!(got["bob@example.org"].body.contains("KPI 1/5: "));
        let rows = app.store.run_mail(r.run_id).await.expect("outbox");
        for row in &rows {
            let want = if row.recipients == "carol@example.org" {
                "failed"
            } else {
                "sent"
            };
            assert_eq!(row.status, want, "{row:?}");
        }
        let carol = rows
            .iter()
            .find(|o| o.recipients == "carol@example.org")
            .expect("carol's row");
        assert!(
            carol
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("550")),
            "{:?}",
            carol.last_error
        );
        app.store.close().await;
    }
}

fn a_period_past_the_data_is_not_mailed_without_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    let extract = repo("examples/tracker.csv").display().to_string();
    let backend = sqlite_backend();
    let cfg = folder_config(dir.path(), &backend.url, &extract);
    let mail = outbox(dir.path());
    let (ok, out, err) = binary(dir.path(), &cfg, &[], &["run-now", "--period", "2030-01"]);
    assert!(!ok, "{out}");
    assert!(err.contains("outside the loaded data"), "{err}");
    assert!(
        crate::harness::folder_mail(&mail).is_empty(),
        "nothing mailed"
    );
    let (ok, out, err) = binary(
        dir.path(),
        &cfg,
        &[],
        &["run-now", "--period", "2030-01", "--force"],
    );
    assert!(ok, "{out}{err}");
    assert!(!crate::harness::folder_mail(&mail).is_empty());
    // Folder delivery: only the service user can read the reports.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| {
            std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
        };
        assert_eq!(mode(&mail), 0o700);
        for entry in std::fs::read_dir(&mail).expect("outbox") {
            let path = entry.expect("entry").path();
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
}

async fn a_newer_digest_supersedes_an_undelivered_older_one_and_the_same_is_not_queued_twice() {
    use sendwatch::news::NewsKey as DigestKey;
    use sendwatch::store::Queued;
    let extract = repo("examples/tracker.csv").display().to_string();
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = folder_config(dir.path(), &backend.url, &extract);
        let app = app(&cfg).await;
        let now = chrono::Utc::now();
        let run = app
            .store
            .start_manual(
                "monthly-exceptions",
                "test",
                now,
                now + chrono::TimeDelta::hours(1),
            )
            .await
            .expect("run");
        let sendwatch::store::Start::Run(run) = run else {
            panic!("{}: the job is free: {run:?}", backend.name)
        };
        let key = |digest: &str, items: &[&str]| DigestKey {
            digest: digest.into(),
            topic: "bob@example.org|2021-07".into(),
            items: items.iter().map(|s| s.to_string()).collect(),
        };
        let week = chrono::TimeDelta::hours(24 * 7);
        let queue = |k: DigestKey, at| {
            let store = app.store.clone();
            async move {
                store
                    .queue(&digest_to_bob(run, k, week), at)
                    .await
                    .expect("queue")
            }
        };
        let no_data = key("d1", &["health|kpi|1/5|2021-07|NO DATA"]);
        let Queued::Yes { id: first, .. } = queue(no_data.clone(), now).await else {
            panic!("{}: the first digest is queued", backend.name);
        };
        // The same news again: not queued.
        assert_eq!(
            queue(no_data, now).await,
            Queued::Repeat,
            "{}",
            backend.name
        );
        // Worse news for the same person and period, before the first went: it replaces it.
        let red = key("d2", &["health|kpi|1/5|2021-07|RED"]);
        let Queued::Yes { superseded, .. } = queue(red, now).await else {
            panic!("{}: a change is queued", backend.name);
        };
        assert_eq!(superseded, 1, "{}", backend.name);
        let rows = app.store.run_mail(run).await.expect("outbox");
        let status: Vec<(i64, &str)> = rows.iter().map(|r| (r.id, r.status.as_str())).collect();
        assert_eq!(status[0], (first, "superseded"), "{}", backend.name);
        assert_eq!(status[1].1, "pending", "{}", backend.name);
        let pending = app.store.pending_mail().await.expect("pending");
        assert_eq!(
            pending.len(),
            1,
            "{}: only the newer one goes",
            backend.name
        );
        app.store.close().await;
    }
}

/// A digest leaves out a chase item already told (`notify::chase`), so a newer digest on the
/// same topic that leaves it out must not supersede the unsent row that holds it: the
/// request would be lost. One that carries the same chase item replaces it as any other.
async fn an_unsent_digest_holding_a_chase_item_is_not_superseded_by_one_without_it() {
    use sendwatch::news::NewsKey as DigestKey;
    use sendwatch::store::Queued;
    let extract = repo("examples/tracker.csv").display().to_string();
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = folder_config(dir.path(), &backend.url, &extract);
        let app = app(&cfg).await;
        let now = chrono::Utc::now();
        let run = app
            .store
            .start_run("digests", sendwatch::store::Trigger::Manual, None, now)
            .await
            .expect("run");
        let key = |digest: &str, items: &[&str]| DigestKey {
            digest: digest.into(),
            topic: "bob@example.org|2021-07".into(),
            items: items.iter().map(|s| s.to_string()).collect(),
        };
        let week = chrono::TimeDelta::hours(24 * 7);
        let queue = |k: DigestKey| {
            let store = app.store.clone();
            async move {
                store
                    .queue(&digest_to_bob(run, k, week), now)
                    .await
                    .expect("queue")
            }
        };
        let chase = "dco|overdue|3/3|Apr-Jun 2021|asked";
        let Queued::Yes { id: first, .. } =
            queue(key("d1", &["health|kpi|1/5|2021-07|NO DATA", chase])).await
        else {
            panic!("{name}: the first digest is queued");
        };
        // Newer news without the chase item: queued, the older row kept.
        let Queued::Yes { superseded, .. } =
            queue(key("d2", &["health|kpi|1/5|2021-07|RED"])).await
        else {
            panic!("{name}: a change is queued");
        };
        assert_eq!(superseded, 0, "{name}: the chase item's row is kept");
        let pending: Vec<i64> = app
            .store
            .pending_mail()
            .await
            .expect("pending")
            .iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(pending.len(), 2, "{name}: both go");
        assert!(pending.contains(&first), "{name}");
        // Newer news carrying the same chase item: it replaces both unsent rows.
        let Queued::Yes { superseded, .. } = queue(key(
            "d3",
            &[
                "health|kpi|1/5|2021-07|RED",
                "performance|kpi|1/2a|2021-07|RED",
                chase,
            ],
        ))
        .await
        else {
            panic!("{name}: a change is queued");
        };
        assert_eq!(superseded, 2, "{name}");
        assert_eq!(app.store.pending_mail().await.expect("pending").len(), 1);
        app.store.close().await;
    }
}

/// What a run reads as told of the chase is bounded in time (`CHASE_MEMORY`): a chase line
/// told within it is read, one told before it is not (a chase line names its period, and only
/// the latest due period is chased).
async fn the_chase_told_is_read_over_a_bounded_window() {
    use sendwatch::news::NewsKey as DigestKey;
    use sendwatch::store::CHASE_MEMORY;
    let extract = repo("examples/tracker.csv").display().to_string();
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = folder_config(dir.path(), &backend.url, &extract);
        let app = app(&cfg).await;
        let now = chrono::Utc::now();
        let run = app
            .store
            .start_run("digests", sendwatch::store::Trigger::Manual, None, now)
            .await
            .expect("run");
        let week = chrono::TimeDelta::hours(24 * 7);
        let day = chrono::TimeDelta::days(1);
        let old = "dco|overdue|3/3|Apr-Jun 2019|asked";
        let recent = "dco|overdue|3/3|Apr-Jun 2021|asked";
        for (digest, line, at) in [
            ("d1", old, now - CHASE_MEMORY - day),
            ("d2", recent, now - CHASE_MEMORY + day),
        ] {
            let key = DigestKey {
                digest: digest.into(),
                topic: format!("bob@example.org|{digest}"),
                items: vec![line.to_string()],
            };
            app.store
                .queue(&digest_to_bob(run, key, week), at)
                .await
                .expect("queue");
        }
        let told = app.store.chase_told(now).await.expect("chase told");
        let bob: Vec<&str> = told["bob@example.org"].iter().map(String::as_str).collect();
        assert_eq!(bob, [recent], "{name}");
        app.store.close().await;
    }
}

/// The same news queued by eight processes at once (eight pools, each its own digest key, as
/// two jobs whose routes reach one person would make): queued once, the rest repeats.
async fn the_same_news_queued_by_several_processes_at_once_is_queued_once() {
    use sendwatch::news::NewsKey as DigestKey;
    use sendwatch::store::{Queued, Store};
    let extract = repo("examples/tracker.csv").display().to_string();
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = folder_config(dir.path(), &backend.url, &extract);
        let app = app(&cfg).await;
        let now = chrono::Utc::now();
        let run = app
            .store
            .start_run("digests", sendwatch::store::Trigger::Manual, None, now)
            .await
            .expect("run");
        let settings = crate::harness::settings(&cfg);
        let mut tasks = Vec::new();
        for i in 0..8 {
            // Another process opens its own pool, scoped to the same area.
            let store = Store::connect(&settings.store)
                .await
                .expect("pool")
                .for_area(settings.area_id().as_str());
            let key = DigestKey {
                digest: format!("job{i}"),
                topic: "bob@example.org|2021-07".into(),
                items: vec!["health|kpi|1/5|2021-07|RED".into()],
            };
            tasks.push(tokio::spawn(async move {
                let week = chrono::TimeDelta::hours(24 * 7);
                let q = store
                    .queue(&digest_to_bob(run, key, week), now)
                    .await
                    .expect("queue");
                store.close().await;
                q
            }));
        }
        let mut queued = 0;
        for t in tasks {
            if matches!(t.await.expect("task"), Queued::Yes { .. }) {
                queued += 1;
            }
        }
        assert_eq!(queued, 1, "{}", backend.name);
        let rows = app.store.run_mail(run).await.expect("outbox");
        assert_eq!(rows.len(), 1, "{}: {rows:?}", backend.name);
        app.store.close().await;
    }
}

/// A digest to bob about the health sub-group, keyed with `key`, as a run queues one.
fn digest_to_bob(
    run: i64,
    key: sendwatch::news::NewsKey,
    repeat: chrono::TimeDelta,
) -> sendwatch::news::Outgoing {
    use sendwatch::news::{Dedup, MailKind, Outgoing};
    Outgoing {
        kind: MailKind::Digest,
        run_id: run,
        about: "health".into(),
        recipients: vec!["bob@example.org".into()],
        subject: "s".into(),
        text: "b".into(),
        html: None,
        parts: Vec::new(),
        dedup: Dedup::News { key, repeat },
    }
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(three_recipients_in_two_sub_groups_get_one_digest_each_and_nothing_twice)
            .each_backend()
            .smtp(),
        trial!(a_550_for_one_recipient_leaves_the_others_theirs)
            .each_backend()
            .smtp(),
        trial!(a_period_past_the_data_is_not_mailed_without_force),
        trial!(a_newer_digest_supersedes_an_undelivered_older_one_and_the_same_is_not_queued_twice)
            .each_backend(),
        trial!(an_unsent_digest_holding_a_chase_item_is_not_superseded_by_one_without_it)
            .each_backend(),
        trial!(the_chase_told_is_read_over_a_bounded_window).each_backend(),
        trial!(the_same_news_queued_by_several_processes_at_once_is_queued_once)
            .each_backend()
            .multi_thread(2),
    ]
}
