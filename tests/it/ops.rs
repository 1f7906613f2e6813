//! Operating the daemon: `/metrics` and `/healthz` from a running `sendwatch daemon`; SIGTERM
//! cancelling a run that never ends once the grace period is over; SIGHUP with a valid then a
//! broken configuration; the dead-man notice; `check-config --connect`. Each test waits for a
//! state with a bounded poll, then asserts on the logs, the ledger, the mail and exit codes.
//!
//! `/metrics` is parsed with the `prometheus-parse` crate, and checked besides by
//! [`exposition_problems`] (every sample under a `# TYPE` of its family, names and label
//! names as the format allows), which that parser does not insist on.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use sendwatch::job::{App, RunOptions};
use sendwatch::store::{RunRecord, RunStatus, Trigger};

use crate::daemon::{signal, spawn, spawn_env, wait_for_line};
use crate::harness::{Delivery, app, binary_status, repo, write_config};
use crate::ledger::{ADMIN, JOB, ledger, ledger_config, poll, stalled_source, wait_until_fetching};
use crate::support::{
    HttpServer, Response, SmtpOptions, SmtpSink, backends, pg_database, refused_url,
};

/// A port on 127.0.0.1 free a moment ago.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local_addr").port()
}

/// [`ledger_config`] with the job's keys, then `[http]` on `port` (or off) and a stop grace.
fn ops_config(
    dir: &Path,
    db: &str,
    source: &str,
    job: &str,
    port: Option<u16>,
    grace: u64,
) -> PathBuf {
    let listen = port.map_or_else(String::new, |p| format!("127.0.0.1:{p}"));
    let rest =
        format!("{job}\n[http]\nlisten = {listen:?}\n\n[daemon]\nstop_grace_secs = {grace}\n");
    ledger_config(dir, db, source, &rest, 60)
}

/// Problems with a text exposition that a lenient parser lets through: a sample whose family
/// has no `# TYPE` before it, a bad metric or label name, a value that is not a number.
fn exposition_problems(text: &str) -> Vec<String> {
    let name_ok = |n: &str| {
        let mut c = n.chars();
        c.next()
            .is_some_and(|f| f.is_ascii_alphabetic() || f == '_' || f == ':')
            && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || x == ':')
    };
    let mut typed: BTreeSet<String> = BTreeSet::new();
    let mut problems = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut w = rest.split_whitespace();
            let (name, kind) = (w.next().unwrap_or_default(), w.next().unwrap_or_default());
            if !name_ok(name)
                || !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind)
            {
                problems.push(format!("bad TYPE line: {line}"));
            }
            typed.insert(name.to_string());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or((line, ""));
        let name = series.split('{').next().unwrap_or_default();
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| typed.contains(*f)))
            .unwrap_or(name);
        if !name_ok(name) || !typed.contains(family) {
            problems.push(format!("sample without a TYPE of its family: {line}"));
        }
        if let Some(labels) = series.split_once('{').map(|(_, l)| l) {
            let Some(labels) = labels.strip_suffix('}') else {
                problems.push(format!("unclosed labels: {line}"));
                continue;
            };
            // Values here never hold a quote or a comma, so a plain split is exact.
            for pair in labels.split(',').filter(|p| !p.is_empty()) {
                let ok = pair.split_once('=').is_some_and(|(k, v)| {
                    name_ok(k) && v.len() >= 2 && v.starts_with('"') && v.ends_with('"')
                });
                if !ok {
                    problems.push(format!("bad label `{pair}`: {line}"));
                }
            }
        }
        if value.parse::<f64>().is_err() && !["+Inf", "-Inf", "NaN"].contains(&value) {
            problems.push(format!("value is not a number: {line}"));
        }
    }
    problems
}

/// The value of the sample `name` with exactly these labels (counter, gauge or untyped).
fn sample(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .find(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .and_then(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => Some(v),
            _ => None,
        })
}

async fn get(url: &str) -> (u16, String) {
    let r = reqwest::get(url).await.expect("GET");
    let code = r.status().as_u16();
    (code, r.text().await.expect("body"))
}

fn ok_runs(rows: &[RunRecord]) -> usize {
    rows.iter().filter(|r| r.status == RunStatus::Ok).count()
}

async fn metrics_and_healthz_from_a_running_daemon() {
    let tracker = repo("examples/tracker.csv");
    let rows = std::fs::read_to_string(&tracker)
        .expect("tracker")
        .lines()
        .count()
        - 1;
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let cfg = ops_config(
            dir.path(),
            &backend.url,
            &tracker.display().to_string(),
            "cron = \"*/3 * * * * *\"\n",
            Some(port),
            45,
        );
        let app = app(&cfg).await;
        let (mut child, rx) = spawn(dir.path(), &cfg, &["daemon"]);
        let (ready, log) = wait_for_line(&rx, "Daemon ready.", Duration::from_secs(60));
        assert!(ready, "{}: {log:#?}", backend.name);
        let (ran, log) = wait_for_line(&rx, "Scheduled run done.", Duration::from_secs(60));
        assert!(ran, "{}: {log:#?}", backend.name);

        let base = format!("http://127.0.0.1:{port}");
        let (code, text) = get(&format!("{base}/metrics")).await;
        assert_eq!(code, 200, "{text}");
        let after = ledger(&app).await;
        let problems = exposition_problems(&text);
        assert!(
            problems.is_empty(),
            "{}: {problems:#?}\n{text}",
            backend.name
        );
        let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
            .expect("a Prometheus text exposition");
        let ok = sample(
            &scrape,
            "sendwatch_runs_total",
            &[("job", JOB), ("outcome", "ok")],
        )
        .unwrap_or_else(|| panic!("{}: no ok runs counted:\n{text}", backend.name));
        // At least the run seen in the log; never more than the ledger holds afterwards.
        assert!(
            ok >= 1.0 && ok <= ok_runs(&after) as f64,
            "{ok} vs {after:#?}"
        );
        assert_eq!(
            sample(
                &scrape,
                "sendwatch_rows_loaded_total",
                &[("source", "tracker")]
            ),
            Some(rows as f64),
            "the first run loads the extract, later ones find it unchanged"
        );
        assert_eq!(
            sample(
                &scrape,
                "sendwatch_loads_total",
                &[("source", "tracker"), ("outcome", "loaded")]
            ),
            Some(1.0)
        );
        assert_eq!(sample(&scrape, "sendwatch_outbox_pending", &[]), Some(0.0));
        assert!(sample(&scrape, "sendwatch_emails_sent_total", &[]).is_some_and(|n| n >= 1.0));
        // The example's 1/2a and 1/5 are RED for July 2021.
        assert_eq!(
            sample(&scrape, "sendwatch_kpis", &[("job", JOB), ("rag", "RED")]),
            Some(2.0),
            "{text}"
        );
        // The tracker was just fetched; the example's other sources have never been.
        assert_eq!(
            sample(&scrape, "sendwatch_source_stale", &[("source", "tracker")]),
            Some(0.0)
        );
        let stale = scrape
            .samples
            .iter()
            .filter(|s| s.metric == "sendwatch_source_stale")
            .filter(|s| matches!(s.value, prometheus_parse::Value::Gauge(v) if v == 1.0))
            .count();
        assert_eq!(
            sample(&scrape, "sendwatch_stale_sources", &[]),
            Some(stale as f64)
        );
        let durations = scrape
            .samples
            .iter()
            .find(|s| s.metric == "sendwatch_run_duration_seconds")
            .expect("run durations");
        assert!(
            matches!(&durations.value, prometheus_parse::Value::Histogram(b) if b.iter().any(|c| c.count >= 1.0)),
            "{durations:?}"
        );

        let (code, body) = get(&format!("{base}/healthz")).await;
        assert_eq!(code, 200, "{body}");
        let health: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(health["status"], "ok", "{body}");
        let job = &health["jobs"][0];
        assert_eq!(job["job"], JOB, "{body}");
        assert!(job["last_run"]["state"].is_string(), "{body}");
        assert!(
            job["last_run"]["age_secs"].as_i64().is_some_and(|a| a >= 0),
            "{body}"
        );
        assert_eq!(job["last_ok"]["state"], "ok", "{body}");

        signal(&child, "TERM");
        let (stopped, log) = wait_for_line(&rx, "Stopped.", Duration::from_secs(60));
        assert!(stopped, "{log:#?}");
        assert!(child.wait().expect("wait").success());
        app.store.close().await;
    }
}

async fn sigterm_cancels_a_run_that_never_ends_after_the_grace_period() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let (srv, _) = stalled_source().await;
        let cfg = ops_config(
            dir.path(),
            &backend.url,
            &srv.url("/tracker.csv"),
            "cron = \"*/3 * * * * *\"\n",
            None,
            2,
        );
        let app = app(&cfg).await;
        // The source answers after a minute and the fetch may wait five: only the stop ends it.
        let env = [("SENDWATCH__SOURCES__TRACKER__TIMEOUT_SECS", "300")];
        let (mut child, rx) = spawn_env(dir.path(), &cfg, &env, &["daemon"]);
        wait_until_fetching(&srv, &format!("{}: the daemon", backend.name)).await;
        signal(&child, "TERM");
        let (stopped, log) = wait_for_line(&rx, "Stopped.", Duration::from_secs(60));
        assert!(stopped, "{}: {log:#?}", backend.name);
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(0), "{log:#?}");
        assert!(
            log.iter()
                .any(|l| l.contains("Runs cancelled at stop and marked abandoned.")),
            "{log:#?}"
        );

        let rows = ledger(&app).await;
        let runs: Vec<_> = rows
            .iter()
            .filter(|r| r.status != RunStatus::Skipped)
            .collect();
        assert_eq!(runs.len(), 1, "{}: {rows:#?}", backend.name);
        let run = runs[0];
        assert_eq!(run.status, RunStatus::Abandoned, "{run:?}");
        let note = run.note.as_deref().unwrap_or_default();
        assert!(note.starts_with("stopped by SIGTERM"), "{note}");
        assert!(note.contains("daemon.stop_grace_secs"), "{note}");
        let told = app.store.run_mail(run.id).await.expect("outbox");
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!(
            (told[0].sub_group.as_str(), told[0].recipients.as_str()),
            ("admin", ADMIN)
        );
        assert!(
            app.store
                .current_load("tracker")
                .await
                .expect("load")
                .is_none(),
            "nothing was loaded"
        );
        app.store.close().await;
    }
}

/// Rewrite the test's config file with the job's `cron`.
fn rewrite(dir: &Path, db: &str, cron: &str) -> PathBuf {
    let tracker = repo("examples/tracker.csv").display().to_string();
    ops_config(dir, db, &tracker, &format!("cron = {cron:?}\n"), None, 45)
}

fn scheduled(rows: &[RunRecord]) -> Vec<&RunRecord> {
    rows.iter()
        .filter(|r| r.trigger == Trigger::Schedule)
        .collect()
}

async fn sighup_reloads_a_valid_config_and_refuses_a_broken_one() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        // New Year's midnight: nothing fires while the test runs.
        let cfg = rewrite(dir.path(), &backend.url, "0 0 1 1 *");
        let app = app(&cfg).await;
        let (mut child, rx) = spawn(dir.path(), &cfg, &["daemon"]);
        let (ready, log) = wait_for_line(&rx, "Daemon ready.", Duration::from_secs(60));
        assert!(ready, "{log:#?}");

        // A valid config: every two seconds. The new schedule runs.
        rewrite(dir.path(), &backend.url, "*/2 * * * * *");
        signal(&child, "HUP");
        let (reloaded, log) = wait_for_line(&rx, "Configuration reloaded", Duration::from_secs(60));
        assert!(reloaded, "{}: {log:#?}", backend.name);
        let first = poll(Duration::from_secs(60), || async {
            let rows = ledger(&app).await;
            scheduled(&rows)
                .iter()
                .any(|r| r.status == RunStatus::Ok)
                .then_some(rows)
        })
        .await;
        assert!(
            first.is_some(),
            "{}: the reloaded schedule never ran",
            backend.name
        );

        // A broken one: refused, naming the key; the old schedule goes on.
        rewrite(dir.path(), &backend.url, "61 * * * *");
        signal(&child, "HUP");
        let (refused, log) =
            wait_for_line(&rx, "Configuration reload refused", Duration::from_secs(60));
        assert!(refused, "{}: {log:#?}", backend.name);
        let line = log.last().expect("the refusal");
        assert!(line.contains("jobs.monthly-exceptions.cron"), "{line}");
        let before = ledger(&app).await.iter().map(|r| r.id).max().unwrap_or(0);
        let later = poll(Duration::from_secs(60), || async {
            let rows = ledger(&app).await;
            scheduled(&rows)
                .iter()
                .any(|r| r.id > before && r.status == RunStatus::Ok)
                .then_some(())
        })
        .await;
        assert!(
            later.is_some(),
            "{}: the old schedule stopped after the refusal",
            backend.name
        );

        signal(&child, "TERM");
        let (stopped, log) = wait_for_line(&rx, "Stopped.", Duration::from_secs(60));
        assert!(stopped, "{log:#?}");
        assert_eq!(child.wait().expect("wait").code(), Some(0));
        for r in ledger(&app).await {
            assert!(["ok", "skipped"].contains(&r.status.as_str()), "{r:?}");
        }
        app.store.close().await;
    }
}

async fn dead_man_mail(app: &App) -> Vec<sendwatch::store::OutboxRow> {
    let mut all = Vec::new();
    for r in ledger(app).await {
        all.extend(app.store.run_mail(r.id).await.expect("outbox"));
    }
    all.retain(|m| m.subject.contains("has had no successful run"));
    all.sort_by_key(|m| m.id);
    all
}

async fn a_job_past_its_dead_man_deadline_tells_the_administrator_once_per_lapse() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let tracker = repo("examples/tracker.csv").display().to_string();
        let cfg = ledger_config(
            dir.path(),
            &backend.url,
            &tracker,
            "dead_man_hours = 2\n",
            60,
        );
        let app = app(&cfg).await;
        let now = Utc::now();
        let h = TimeDelta::hours;

        // Nothing in the ledger yet: a job that never fired is not checked.
        assert!(app.check_dead_man(now).await.expect("check").is_empty());
        // Its last success three hours ago, then a failure.
        let old = app
            .store
            .start_run(JOB, Trigger::Manual, None, now - h(3))
            .await
            .expect("run");
        app.store
            .finish_run(old, RunStatus::Ok, "a test's run", now - h(3))
            .await
            .expect("finish");
        let failed = app
            .store
            .start_run(JOB, Trigger::Manual, None, now - h(1))
            .await
            .expect("run");
        app.store
            .finish_run(failed, RunStatus::Failed, "a test's run", now - h(1))
            .await
            .expect("finish");

        assert_eq!(
            app.check_dead_man(now).await.expect("check"),
            vec![JOB.to_string()]
        );
        // Once per lapse: not again at the next check, nor the one after.
        assert!(app.check_dead_man(now).await.expect("check").is_empty());
        assert!(
            app.check_dead_man(now + h(5))
                .await
                .expect("check")
                .is_empty()
        );
        let mail = dead_man_mail(&app).await;
        assert_eq!(mail.len(), 1, "{}: {mail:#?}", backend.name);
        let m = &mail[0];
        assert_eq!(
            (m.sub_group.as_str(), m.recipients.as_str()),
            ("admin", ADMIN)
        );
        assert_eq!(m.run_id, failed, "the notice names the job's newest row");
        assert!(
            m.subject
                .contains(&format!("job {JOB} has had no successful run for 2 hours")),
            "{}",
            m.subject
        );
        assert!(
            m.body_text.contains(&format!("Last success: run {old}")),
            "{}",
            m.body_text
        );
        assert_eq!(m.status, "sent", "delivered at once: {m:?}");

        // A success ends the lapse; the next one is told again.
        let good = app.run_job(JOB, RunOptions::manual()).await.expect("run");
        assert_eq!(good.status, RunStatus::Ok);
        assert!(
            app.check_dead_man(Utc::now() + h(1))
                .await
                .expect("check")
                .is_empty()
        );
        let told = app.check_dead_man(Utc::now() + h(3)).await.expect("check");
        assert_eq!(told, vec![JOB.to_string()]);
        let mail = dead_man_mail(&app).await;
        assert_eq!(mail.len(), 2, "{mail:#?}");
        assert!(
            mail[1]
                .body_text
                .contains(&format!("Last success: run {}", good.run_id))
        );
        app.store.close().await;
    }
}

/// `check-config --connect` from the repository (where the example's other sources are):
/// (exit code, stdout and stderr).
fn check_connect(cfg: &Path) -> (Option<i32>, String) {
    let (code, out, err) = binary_status(&repo(""), cfg, &[], &["check-config", "--connect"]);
    (code, format!("{out}{err}"))
}

fn line_of<'a>(text: &'a str, what: &str) -> &'a str {
    text.lines()
        .find(|l| l.trim_start().starts_with(what))
        .unwrap_or_else(|| panic!("no `{what}` line:\n{text}"))
}

async fn check_config_connect_fails_plainly_on_refused_ports_and_passes_on_real_servers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = |url: String| -> u16 {
        url.trim_end_matches('/')
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port")
    };
    let (pg_port, smtp_port) = (port(refused_url()), port(refused_url()));
    let store = format!("postgres://sendwatch:sendwatch@127.0.0.1:{pg_port}/sendwatch");
    let cfg = write_config(
        dir.path(),
        &store,
        &format!("{}tracker.csv", refused_url()),
        Delivery::Smtp {
            port: smtp_port,
            auth: None,
        },
        "",
    );
    let (code, text) = check_connect(&cfg);
    assert_eq!(code, Some(78), "{text}");
    let db = line_of(&text, "database:");
    assert!(
        db.contains("FAILED")
            && db.contains(&format!("127.0.0.1:{pg_port}"))
            && db.contains("connection refused"),
        "{db}"
    );
    assert!(
        !db.contains("sendwatch:sendwatch@"),
        "the password is shown: {db}"
    );
    let smtp = line_of(&text, "smtp:");
    assert!(
        smtp.contains("FAILED") && smtp.contains(&format!("127.0.0.1:{smtp_port}")),
        "{smtp}"
    );
    assert!(smtp.to_lowercase().contains("refused"), "{smtp}");
    let src = line_of(&text, "source tracker (");
    assert!(
        src.contains("FAILED") && src.contains("connection failed"),
        "{src}"
    );

    // A FIFO is not a file source.
    let fifo = dir.path().join("tracker.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let sqlite = format!("sqlite://{}", dir.path().join("sw.db").display());
    let cfg = write_config(
        dir.path(),
        &sqlite,
        &fifo.display().to_string(),
        Delivery::Folder(dir.path()),
        "",
    );
    let (code, text) = check_connect(&cfg);
    assert_eq!(code, Some(78), "{text}");
    assert!(
        line_of(&text, "database:").contains("ok, sqlite answered"),
        "{text}"
    );
    assert!(
        line_of(&text, "source tracker (").contains("not a regular file (FIFO)"),
        "{text}"
    );

    // The real servers: PostgreSQL, aiosmtpd and an HTTP server holding the extract.
    let pg = pg_database().await;
    let sink = SmtpSink::start(SmtpOptions::default());
    let srv = HttpServer::start().await;
    srv.set(
        "/tracker.csv",
        Response::ok(std::fs::read(repo("examples/tracker.csv")).expect("tracker")),
    );
    let cfg = write_config(
        dir.path(),
        &pg,
        &srv.url("/tracker.csv"),
        Delivery::Smtp {
            port: sink.port(),
            auth: None,
        },
        "",
    );
    let (code, text) = check_connect(&cfg);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        line_of(&text, "database:").contains("ok, postgres answered"),
        "{text}"
    );
    assert!(line_of(&text, "smtp:").contains("ok, 127.0.0.1"), "{text}");
    assert!(
        line_of(&text, "source tracker (").contains("ok, HEAD answered HTTP 200"),
        "{text}"
    );
    assert!(sink.messages().is_empty(), "the probe sent mail");
}

/// `/healthz` in-process over real HTTP: 503 while starting, 200 when ready and ticking, 503
/// once the tick is older than 30 s, and 503 while stopping; `problems` says which.
async fn healthz_says_503_while_starting_stale_or_stopping() {
    use std::sync::Arc;

    use sendwatch::serve::{Health, ServeState, serve};

    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let tracker = repo("examples/tracker.csv").display().to_string();
        let cfg = ledger_config(dir.path(), &backend.url, &tracker, "", 60);
        let app = app(&cfg).await;
        let health = Arc::new(Health::default());
        let (state, _tx) = ServeState::single(
            app.store.clone(),
            app.settings.clone(),
            health.clone(),
            None,
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/healthz", listener.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, state, async {
            let _ = stopped.await;
        }));
        let problems = |body: &str| -> Vec<String> {
            let v: serde_json::Value = serde_json::from_str(body).expect("JSON");
            v["problems"]
                .as_array()
                .expect("problems")
                .iter()
                .map(|p| p.as_str().unwrap_or_default().to_string())
                .collect()
        };

        let (code, body) = get(&url).await;
        assert_eq!(
            (code, problems(&body)),
            (503, vec!["starting".to_string()]),
            "{body}"
        );
        health.tick(Utc::now());
        health.set_ready();
        let (code, body) = get(&url).await;
        assert_eq!(code, 200, "{}: {body}", backend.name);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).expect("JSON")["jobs"][0]["last_run"],
            serde_json::Value::Null,
            "no run yet: {body}"
        );
        health.tick(Utc::now() - TimeDelta::seconds(31));
        let (code, body) = get(&url).await;
        assert_eq!(code, 503, "{body}");
        assert!(problems(&body)[0].contains("has not ticked"), "{body}");
        health.tick(Utc::now());
        health.set_stopping();
        let (code, body) = get(&url).await;
        assert_eq!(
            (code, problems(&body)),
            (503, vec!["stopping".to_string()]),
            "{body}"
        );
        // Metrics off in this process (no recorder): said, not an empty 200.
        let (code, body) = get(&url.replace("healthz", "metrics")).await;
        assert_eq!(code, 503, "{body}");

        let _ = stop.send(());
        server.await.expect("join").expect("served");
        app.store.close().await;
    }
}

/// SIGTERM with no grace while a run swaps in a large extract: the run is cancelled in the
/// middle of its transaction, which rolls back: the previous load stays current and no
/// half-written table is left; the run is abandoned and the daemon exits 0.
async fn sigterm_in_the_middle_of_a_load_rolls_it_back() {
    let big = crate::harness::big_tracker(300, "").into_bytes();
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let tracker = repo("examples/tracker.csv").display().to_string();
        let cfg = ops_config(dir.path(), &backend.url, &tracker, "", None, 0);
        let app = app(&cfg).await;
        let good = crate::harness::GoodLoad::run(&app).await;
        let tables = crate::ingest::row_tables(&app).await;

        let big_path = dir.path().join("big.csv");
        std::fs::write(&big_path, &big).expect("write big extract");
        let cron = "cron = \"*/3 * * * * *\"\n";
        let cfg = ops_config(
            dir.path(),
            &backend.url,
            &big_path.display().to_string(),
            cron,
            None,
            0,
        );
        let (mut child, rx) = spawn(dir.path(), &cfg, &["daemon"]);
        // Logged as the transaction that swaps in 162,000 rows begins.
        let (swapping, log) = wait_for_line(&rx, "swapping in", Duration::from_secs(120));
        assert!(swapping, "{}: {log:#?}", backend.name);
        signal(&child, "TERM");
        let (stopped, log) = wait_for_line(&rx, "Stopped.", Duration::from_secs(60));
        assert!(stopped, "{}: {log:#?}", backend.name);
        assert_eq!(child.wait().expect("wait").code(), Some(0));

        assert_eq!(
            crate::harness::current(&app).await,
            (good.load_id, good.rows),
            "{}: a cancelled load became current",
            backend.name
        );
        assert_eq!(
            crate::ingest::row_tables(&app).await,
            tables,
            "{}: a table was left",
            backend.name
        );
        let rows = ledger(&app).await;
        // The run SIGTERM cancelled, and only it: on a busy machine the daemon may have run
        // (and ended) an earlier instant (every 3 s; `schedule` or `catch_up`) before the one
        // it was swapping in; those are not this test's business, but none may have swapped
        // in its load (checked above) and none is left running.
        let cancelled: Vec<_> = rows
            .iter()
            .filter(|r| r.trigger != Trigger::Manual && r.status == RunStatus::Abandoned)
            .collect();
        assert_eq!(cancelled.len(), 1, "{rows:#?}");
        assert!(
            rows.iter().all(|r| r.status != RunStatus::Running),
            "{rows:#?}"
        );
        assert!(
            cancelled[0]
                .note
                .as_deref()
                .is_some_and(|n| n.starts_with("stopped by SIGTERM")),
            "{rows:#?}"
        );
        app.store.close().await;
    }
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(metrics_and_healthz_from_a_running_daemon)
            .each_backend()
            .multi_thread(2),
        trial!(sigterm_cancels_a_run_that_never_ends_after_the_grace_period)
            .each_backend()
            .multi_thread(2),
        trial!(sighup_reloads_a_valid_config_and_refuses_a_broken_one)
            .each_backend()
            .multi_thread(2),
        trial!(a_job_past_its_dead_man_deadline_tells_the_administrator_once_per_lapse)
            .each_backend(),
        trial!(check_config_connect_fails_plainly_on_refused_ports_and_passes_on_real_servers)
            .postgres()
            .smtp()
            .multi_thread(2),
        trial!(healthz_says_503_while_starting_stale_or_stopping).each_backend(),
        trial!(sigterm_in_the_middle_of_a_load_rolls_it_back)
            .each_backend()
            .multi_thread(2),
    ]
}
