//! The outbox under faults, with the real binary and a real SMTP sink on loopback, on SQLite
//! and PostgreSQL: two `run-now` processes at once, a process killed inside delivery, a
//! server down then up, a server that takes the message and drops before its 250. Each digest
//! arrives once (at most one extra copy, with the same Message-ID, after no answer).
//! A 550 for one recipient: tests/it/delivery.rs.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use sendwatch::job::App;

use crate::daemon::spawn;
use crate::harness::{Delivery, Mail, app, binary_status, repo, run_example, write_config};
use crate::support::{ReceivedMail, SmtpOptions, SmtpSink, backends};

/// The example configuration's administrator.
pub const ADMIN: &str = "sendwatch-admin@example.org";
/// Retries a second apart, and a claim a killed process held lapses in 3 s.
pub const QUICK_RETRY: &str =
    "[delivery.retry]\nfirst_secs = 1\nmax_secs = 2\nattempts = 4\n\n[ledger]\nlease_secs = 3\n";
/// The example job's digests: performance, the two health owners, the risk log's holder.
const DIGESTS: [&str; 4] = [
    "dco@example.org",
    "governance@example.org",
    "health-performance@example.org",
    "pm-ap-subgroup@example.org",
];
const WAIT: Duration = Duration::from_secs(60);

/// The administrator's notices of emails given up, as text.
pub fn admin_notices(got: &[ReceivedMail]) -> Vec<String> {
    got.iter()
        .filter(|m| m.rcpt_tos == [ADMIN] && m.data.contains("could not be delivered"))
        .map(|m| Mail::parse(&m.data).body)
        .collect()
}

/// Wait (bounded) until no pending email is put off into the future.
pub async fn wait_until_due(app: &App) {
    let deadline = Instant::now() + WAIT;
    loop {
        let pending = app.store.pending_mail().await.expect("outbox");
        let now = chrono::Utc::now();
        if pending
            .iter()
            .all(|o| o.next_attempt_at.is_none_or(|t| t <= now))
            || Instant::now() >= deadline
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Delivery passes until no email is pending (or the bound passes; the caller asserts).
async fn deliver_until_settled(app: &App) {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        app.deliver_due().await.expect("delivery pass");
        if app.store.pending_mail().await.expect("outbox").is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Nothing more goes: another pass and another run (unchanged data) send nothing, and the
/// sink still holds `held` messages. Closes the app.
async fn nothing_more(app: App, sink: &SmtpSink, held: usize) {
    let d = app.deliver_due().await.expect("pass");
    let r = run_example(&app).await;
    assert_eq!((d.sent, r.queued, r.delivery.sent), (0, 0, 0));
    assert_eq!(sink.messages().len(), held);
    app.store.close().await;
}

/// How many copies each recipient got, the administrator's notices aside.
fn copies(got: &[ReceivedMail]) -> BTreeMap<String, usize> {
    let mut n = BTreeMap::new();
    for m in got.iter().filter(|m| m.rcpt_tos != [ADMIN]) {
        *n.entry(m.rcpt_tos.join(",")).or_default() += 1;
    }
    n
}

/// `to` got two copies of one message: the same Message-ID on both.
fn assert_two_copies_one_id(got: &[ReceivedMail], to: &str) {
    let ids: Vec<String> = got
        .iter()
        .filter(|m| m.rcpt_tos == [to])
        .filter_map(|m| Mail::parse(&m.data).header("Message-ID"))
        .collect();
    assert!(ids.len() == 2 && ids[0] == ids[1], "{ids:?}");
}

fn once_each() -> BTreeMap<String, usize> {
    DIGESTS.iter().map(|r| (r.to_string(), 1)).collect()
}

fn smtp(dir: &Path, url: &str, port: u16) -> std::path::PathBuf {
    smtp_with(dir, url, port, QUICK_RETRY)
}

fn smtp_with(dir: &Path, url: &str, port: u16, extra: &str) -> std::path::PathBuf {
    let extract = repo("examples/tracker.csv").display().to_string();
    write_config(
        dir,
        url,
        &extract,
        Delivery::Smtp { port, auth: None },
        extra,
    )
}

/// Run the job while the server is down (a port nothing listens on: connections refused):
/// every digest stays pending. The app is returned for more passes.
async fn run_while_down(dir: &Path, url: &str) -> App {
    let down = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let app = app(&smtp(dir, url, down)).await;
    let r = run_example(&app).await;
    assert_eq!(
        (r.delivery.sent, r.delivery.still_pending),
        (0, DIGESTS.len()),
        "{url}"
    );
    app
}

async fn two_run_now_processes_at_once_send_each_digest_once() {
    let sink = SmtpSink::start(SmtpOptions::default());
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = smtp(dir.path(), &backend.url, sink.port());
        // A new database: the two processes race to create and migrate it, then for the
        // job (one runs, the other waits for it and finds no news) and for the outbox.
        let before = sink.messages().len();
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let (d, c) = (dir.path().to_path_buf(), cfg.clone());
                std::thread::spawn(move || binary_status(&d, &c, &[], &["run-now"]))
            })
            .collect();
        let outs: Vec<_> = runs.into_iter().map(|h| h.join().expect("join")).collect();
        assert!(
            outs.iter().all(|(code, _, _)| *code == Some(0)),
            "{}: {outs:?}",
            backend.name
        );
        // Both processes have exited: whatever either sent is in the sink. (A pass here
        // settles what a process that failed for another reason, say a busy database, left.)
        let app = app(&cfg).await;
        deliver_until_settled(&app).await;
        let got = sink.messages().split_off(before);
        assert_eq!(copies(&got), once_each(), "{}: {got:?}", backend.name);
        app.store.close().await;
    }
}

async fn a_process_killed_inside_delivery_loses_nothing_and_sends_nothing_twice() {
    let stall = SmtpSink::start(SmtpOptions {
        stall: true,
        ..Default::default()
    });
    let good = SmtpSink::start(SmtpOptions::default());
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = smtp(dir.path(), &backend.url, stall.port());
        let seen = stall.stalled_connections();
        let (mut child, _log) = spawn(dir.path(), &cfg, &["run-now"]);
        // The digests are in the outbox and the process waits on the server, inside delivery.
        let deadline = Instant::now() + WAIT;
        while stall.stalled_connections() == seen && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            stall.stalled_connections() > seen,
            "{}: the run never reached the server",
            backend.name
        );
        child.kill().expect("SIGKILL");
        child.wait().expect("wait");

        // The server is back; a new process runs the job again and the outbox settles.
        let cfg = smtp(dir.path(), &backend.url, good.port());
        let before = good.messages().len();
        let (code, out, err) = binary_status(dir.path(), &cfg, &[], &["run-now"]);
        assert!(code.is_some(), "{}: {out}{err}", backend.name);
        let app = app(&cfg).await;
        let waiting = app.store.pending_mail().await.expect("outbox");
        assert!(
            waiting.len() <= 1,
            "{}: only the row the killed process held may wait for its claim to lapse: {waiting:?}",
            backend.name
        );
        deliver_until_settled(&app).await;
        let got = good.messages().split_off(before);
        assert_eq!(copies(&got), once_each(), "{}: {got:?}", backend.name);
        nothing_more(app, &good, before + got.len()).await;
    }
}

async fn smtp_down_then_up_delivers_everything_once() {
    let good = SmtpSink::start(SmtpOptions::default());
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let app_down = run_while_down(dir.path(), &backend.url).await;
        // Still down for the next pass: one more attempt each, put off further.
        wait_until_due(&app_down).await;
        let d = app_down.deliver_due().await.expect("pass");
        assert_eq!((d.sent, d.still_pending), (0, DIGESTS.len()));
        let pending = app_down.store.pending_mail().await.expect("outbox");
        assert!(
            pending.iter().all(|o| o.attempts == 2
                && o.last_error
                    .as_deref()
                    .is_some_and(|e| e.starts_with("SMTP connect"))),
            "{pending:?}"
        );
        app_down.store.close().await;

        let before = good.messages().len();
        let app = app(&smtp(dir.path(), &backend.url, good.port())).await;
        deliver_until_settled(&app).await;
        let got = good.messages().split_off(before);
        assert_eq!(copies(&got), once_each(), "{}: {got:?}", backend.name);
        assert!(
            admin_notices(&got).is_empty(),
            "nothing was given up: {got:?}"
        );
        nothing_more(app, &good, before + got.len()).await;
    }
}

async fn no_answer_after_data_sends_at_most_one_more_copy_with_the_same_message_id() {
    const DROPPED: &str = "dco@example.org";
    let sink = SmtpSink::start(SmtpOptions {
        drop_after_data: vec![DROPPED.into()],
        ..Default::default()
    });
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = smtp(dir.path(), &backend.url, sink.port());
        let app = app(&cfg).await;
        let before = sink.messages().len();
        let r = run_example(&app).await;
        // The others go; the dropped one waits for its one retry, not tried again at once.
        assert_eq!(
            (r.delivery.sent, r.delivery.still_pending),
            (DIGESTS.len() - 1, 1),
            "{}",
            backend.name
        );
        let held = app.store.pending_mail().await.expect("outbox");
        assert!(
            held.len() == 1 && held[0].ambiguous_at.is_some() && held[0].attempts == 1,
            "{held:?}"
        );
        assert_eq!(sink.messages().len(), before + DIGESTS.len());
        deliver_until_settled(&app).await;
        // Passes after the retry send nothing more.
        wait_until_due(&app).await;
        app.deliver_due().await.expect("pass");

        let got = sink.messages().split_off(before);
        let mut want = once_each();
        want.insert(DROPPED.into(), 2);
        assert_eq!(copies(&got), want, "{}: {got:?}", backend.name);
        assert_two_copies_one_id(&got, DROPPED);
        let row = app
            .store
            .run_mail(r.run_id)
            .await
            .expect("outbox")
            .into_iter()
            .find(|o| o.recipients == DROPPED)
            .expect("the dropped digest");
        assert_eq!((row.status.as_str(), row.attempts), ("ambiguous", 2));
        let told = admin_notices(&got);
        assert_eq!(told.len(), 1, "{got:?}");
        assert!(
            told[0].contains(DROPPED) && told[0].contains("may have arrived"),
            "{}",
            told[0]
        );
        app.store.close().await;
        let (code, status, err) = binary_status(dir.path(), &cfg, &[], &["status"]);
        assert_eq!(code, Some(0), "{err}");
        assert!(
            status.contains("outbox: 0 email(s) pending delivery (0 waiting to be tried again), 0 failed, 1 ambiguous"),
            "{status}"
        );
    }
}

async fn the_daemon_retries_mail_put_off_between_runs() {
    let good = SmtpSink::start(SmtpOptions::default());
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        run_while_down(dir.path(), &backend.url)
            .await
            .store
            .close()
            .await;

        // No job will run (disabled): only the daemon's own delivery pass can send them.
        let cfg = smtp_with(
            dir.path(),
            &backend.url,
            good.port(),
            &format!("{QUICK_RETRY}\n[jobs.monthly-exceptions]\nenabled = false\n"),
        );
        let before = good.messages().len();
        let (mut child, rx) = spawn(dir.path(), &cfg, &["daemon"]);
        let (ready, log) =
            crate::daemon::wait_for_line(&rx, "Daemon ready.", Duration::from_secs(60));
        assert!(ready, "{log:#?}");
        let got = good
            .wait_for(before + DIGESTS.len())
            .await
            .split_off(before);
        crate::daemon::signal(&child, "TERM");
        let status = child.wait().expect("wait");
        assert!(status.success(), "{status:?}");
        assert_eq!(copies(&got), once_each(), "{}: {got:?}", backend.name);
        let app = app(&cfg).await;
        assert!(app.store.pending_mail().await.expect("outbox").is_empty());
        app.store.close().await;
    }
}

async fn passes_claiming_at_once_never_hold_the_same_row() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let extract = repo("examples/tracker.csv").display().to_string();
        let cfg = crate::harness::folder_config(dir.path(), &backend.url, &extract);
        let app = app(&cfg).await;
        let now = chrono::Utc::now();
        let lease = chrono::TimeDelta::minutes(5);
        let run = app
            .store
            .start_manual("claims", "test:1", now, now + lease)
            .await
            .expect("run");
        let sendwatch::store::Start::Run(run) = run else {
            panic!("{}: the job is free: {run:?}", backend.name)
        };
        const ROWS: usize = 40;
        for i in 0..ROWS {
            let mail = sendwatch::news::Outgoing {
                kind: sendwatch::news::MailKind::Admin,
                run_id: run,
                about: "g".into(),
                recipients: vec![format!("r{i}@example.org")],
                subject: "s".into(),
                text: "b".into(),
                html: None,
                parts: Vec::new(),
                dedup: sendwatch::news::Dedup::None,
            };
            app.store.queue(&mail, now).await.expect("queue");
        }
        // Eight passes at once, each claiming until none is left (and never releasing).
        let passes: Vec<_> = (0..8)
            .map(|p| {
                let store = app.store.clone();
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    let who = format!("pass{p}");
                    loop {
                        let t = chrono::Utc::now();
                        match store
                            .claim_due_mail(&who, t, t, t + lease)
                            .await
                            .expect("claim")
                        {
                            Some(row) => got.push(row.id),
                            None => return got,
                        }
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        for p in passes {
            all.extend(p.await.expect("join"));
        }
        all.sort_unstable();
        let n = all.len();
        all.dedup();
        assert_eq!((n, all.len()), (ROWS, ROWS), "{}", backend.name);
        app.store.close().await;
    }
}

async fn a_retry_after_no_answer_that_is_answered_is_sent_with_the_same_message_id() {
    const DROPPED: &str = "dco@example.org";
    for backend in backends().await {
        // Drops the first message to DROPPED only: a fresh sink for each backend.
        let sink = SmtpSink::start(SmtpOptions {
            drop_after_data: vec![DROPPED.into()],
            drop_after_data_times: 1,
            ..Default::default()
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let app = app(&smtp(dir.path(), &backend.url, sink.port())).await;
        let r = run_example(&app).await;
        deliver_until_settled(&app).await;
        let got = sink.messages();
        let mut want = once_each();
        want.insert(DROPPED.into(), 2);
        assert_eq!(copies(&got), want, "{}: {got:?}", backend.name);
        assert_two_copies_one_id(&got, DROPPED);
        let rows = app.store.run_mail(r.run_id).await.expect("outbox");
        assert!(
            rows.iter()
                .all(|o| o.status == "sent" && (o.recipients != DROPPED || o.attempts == 2)),
            "{rows:?}"
        );
        assert!(admin_notices(&got).is_empty(), "nothing was given up");
        nothing_more(app, &sink, got.len()).await;
    }
}

pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(two_run_now_processes_at_once_send_each_digest_once)
            .each_backend()
            .smtp(),
        trial!(a_process_killed_inside_delivery_loses_nothing_and_sends_nothing_twice)
            .each_backend()
            .smtp(),
        trial!(smtp_down_then_up_delivers_everything_once)
            .each_backend()
            .smtp(),
        trial!(no_answer_after_data_sends_at_most_one_more_copy_with_the_same_message_id)
            .each_backend()
            .smtp(),
        trial!(the_daemon_retries_mail_put_off_between_runs)
            .each_backend()
            .smtp(),
        trial!(passes_claiming_at_once_never_hold_the_same_row)
            .each_backend()
            .multi_thread(4),
        trial!(a_retry_after_no_answer_that_is_answered_is_sent_with_the_same_message_id)
            .each_backend()
            .smtp(),
    ]
}
