//! A council's digest templates are bounded: one that loops without end runs out of fuel,
//! one that writes without end stops at the output cap. The run (the real binary's
//! `run-now`, and the daemon) fails with an error naming the template and the rule, well
//! within the job's timeout, with nothing queued, and the process ends by itself.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::daemon::{signal, spawn, wait_for_line};
use crate::harness::{Delivery, app, folder_mail, outbox, repo, write_config};
use crate::support::tools::run_bounded;

/// Nested loops over 10^10 steps: hours of work without fuel.
const LOOPING: &str = "{% for i in range(100000) %}{% for j in range(100000) %}{% if i == j %}{{ area }}{% endif %}{% endfor %}{% endfor %}\n";

/// 100 MB of output in a few hundred thousand steps: past the cap long before the fuel.
fn huge_output() -> String {
    format!(
        "{{% for i in range(100000) %}}{}\n{{% endfor %}}",
        "<p>padding</p>".repeat(70)
    )
}

/// A config whose `[notify] templates_dir` holds `name` with `text`, SQLite in `dir`, mail
/// as files, the tracker job with a two-minute timeout; `extra` appended.
fn config(dir: &Path, name: &str, text: &str, extra: &str) -> PathBuf {
    let templates = dir.join("templates");
    std::fs::create_dir(&templates).expect("mkdir");
    std::fs::write(templates.join(name), text).expect("write template");
    let db = format!("sqlite://{}", dir.join("sw.db").display());
    let extract = repo("examples/tracker.csv").display().to_string();
    write_config(
        dir,
        &db,
        &extract,
        Delivery::Folder(&outbox(dir)),
        &format!(
            "[notify]\ntemplates_dir = {:?}\n\n[jobs.monthly-exceptions]\ntimeout_secs = 120\n{extra}",
            templates.display().to_string()
        ),
    )
}

/// Nothing was queued and the run is recorded failed for its template.
async fn nothing_queued(cfg: &Path) {
    let app = app(cfg).await;
    let runs = app
        .store
        .list_runs(Some("monthly-exceptions"), 10)
        .await
        .expect("runs");
    assert!(!runs.is_empty(), "no run recorded");
    for r in &runs {
        assert_eq!(r.status, sendwatch::store::RunStatus::Failed, "{r:?}");
        assert!(
            r.summary
                .as_deref()
                .is_some_and(|s| s.contains("a digest template failed")),
            "{r:?}"
        );
        let queued = app.store.run_mail(r.id).await.expect("outbox");
        assert!(queued.is_empty(), "queued: {queued:?}");
    }
    assert!(app.store.pending_mail().await.expect("outbox").is_empty());
    app.store.close().await;
}

async fn run_now_stops_a_runaway_digest_template_by_its_rule_with_nothing_queued() {
    let cases = [
        (
            "digest.txt.j2",
            LOOPING.to_string(),
            "ran out of fuel".to_string(),
        ),
        (
            "digest.html.j2",
            huge_output(),
            format!(
                "output past {} bytes",
                sendwatch::notify::render::MAX_PART_BYTES
            ),
        ),
    ];
    for (name, text, rule) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), name, &text, "");
        // Bounded far past the job's timeout: without fuel or a cap this ran for hours.
        let out = run_bounded(
            Command::new(env!("CARGO_BIN_EXE_sendwatch"))
                .current_dir(dir.path())
                .env_clear()
                .arg("--config")
                .arg(&cfg)
                .arg("run-now"),
            Duration::from_secs(600),
        );
        let said = out.expect_err("the run fails");
        // It ended by itself, as a failed run (exit 1), not killed.
        assert!(said.contains("exit status: 1"), "{name}: {said}");
        assert!(
            said.contains(&format!("template {name}")) && said.contains(&rule),
            "{name}: `{rule}` not in: {said}"
        );
        assert!(!said.contains("working timeout"), "{name}: {said}");
        assert!(!said.contains("Sefton"), "no data in the error: {said}");
        assert!(folder_mail(&outbox(dir.path())).is_empty(), "{name}");
        nothing_queued(&cfg).await;
    }
}

async fn the_daemon_stops_on_sigterm_while_a_runaway_template_renders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(
        dir.path(),
        "digest.txt.j2",
        LOOPING,
        "cron = \"* * * * * *\"\n\n[daemon]\nstop_grace_secs = 5\n",
    );
    let (mut child, rx) = spawn(dir.path(), &cfg, &["daemon"]);
    let (ready, log) = wait_for_line(&rx, "Daemon ready.", Duration::from_secs(120));
    assert!(ready, "{log:#?}");
    let (started, log) = wait_for_line(&rx, "Run started.", Duration::from_secs(120));
    assert!(started, "{log:#?}");
    signal(&child, "TERM");
    let (stopped, log) = wait_for_line(&rx, "Stopped.", Duration::from_secs(300));
    assert!(stopped, "{log:#?}");
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status:?}");
    // A run cancelled at the stop tells the administrator; no digest went anywhere.
    let app = app(&cfg).await;
    let runs = app.store.list_runs(None, 1000).await.expect("runs");
    assert!(!runs.is_empty());
    for r in &runs {
        assert_ne!(r.status, sendwatch::store::RunStatus::Ok, "{r:?}");
        let mail = app.store.run_mail(r.id).await.expect("outbox");
        assert!(mail.iter().all(|m| m.sub_group == "admin"), "{mail:?}");
    }
    app.store.close().await;
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(run_now_stops_a_runaway_digest_template_by_its_rule_with_nothing_queued),
        trial!(the_daemon_stops_on_sigterm_while_a_runaway_template_renders),
    ]
}
