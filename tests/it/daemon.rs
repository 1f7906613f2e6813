//! The daemon binary: it runs a job when the cron says so, and SIGTERM stops it cleanly.
//! A SIGKILL in the middle of a load leaves the previous load in place.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use sendwatch::job::RunOptions;

use crate::harness::{
    Delivery, GoodLoad, app, current, figures, folder_config, folder_mail, outbox, repo,
    write_config,
};
use crate::support::backends;

pub fn spawn(cwd: &Path, config: &Path, args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    spawn_env(cwd, config, &[], args)
}

/// [`spawn`] with `env` besides `SENDWATCH_LOG=info` in the child's environment.
pub fn spawn_env(
    cwd: &Path,
    config: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sendwatch"))
        .current_dir(cwd)
        .env_clear()
        .env("SENDWATCH_LOG", "info")
        .envs(env.iter().copied())
        .arg("--config")
        .arg(config)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sendwatch");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Read log lines until one contains `needle`; everything read so far is returned either way.
pub fn wait_for_line(
    rx: &mpsc::Receiver<String>,
    needle: &str,
    limit: Duration,
) -> (bool, Vec<String>) {
    let deadline = std::time::Instant::now() + limit;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                let hit = line.contains(needle);
                seen.push(line);
                if hit {
                    return (true, seen);
                }
            }
            Err(_) => break,
        }
    }
    (false, seen)
}

pub fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert!(ok.success());
}

fn the_daemon_runs_its_job_on_schedule_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outbox = outbox(dir.path());
    let db = format!("sqlite://{}", dir.path().join("sw.db").display());
    let extract = repo("examples/tracker.csv").display().to_string();
    // Every minute, so that the test sees a scheduled run within about a minute.
    let cfg = write_config(
        dir.path(),
        &db,
        &extract,
        Delivery::Folder(&outbox),
        "[jobs.monthly-exceptions]\ncron = \"* * * * *\"\n",
    );
    let (mut child, rx) = spawn(dir.path(), &cfg, &["daemon"]);
    let (ready, log) = wait_for_line(&rx, "Daemon ready.", Duration::from_secs(60));
    assert!(ready, "{log:#?}");
    let (ran, log) = wait_for_line(&rx, "Scheduled run done.", Duration::from_secs(150));
    assert!(ran, "no scheduled run: {log:#?}");
    // Performance and health's two owners (their KPIs), and the risk log's holder (R10, R12
    // raised): one digest per recipient.
    assert_eq!(folder_mail(&outbox).len(), 4);

    signal(&child, "TERM");
    let (stopped, log) = wait_for_line(&rx, "Stopped.", Duration::from_secs(60));
    assert!(stopped, "{log:#?}");
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status:?}");
}

async fn a_kill_in_the_middle_of_a_load_keeps_the_previous_load() {
    let big = crate::harness::big_tracker(300, "").into_bytes();
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = repo("examples/tracker.csv").display().to_string();
        let cfg = folder_config(dir.path(), &backend.url, &good);
        let app = app(&cfg).await;
        let good = GoodLoad::run(&app).await;

        let big_path = dir.path().join("big.csv");
        std::fs::write(&big_path, &big).expect("write big extract");
        let cfg_big = folder_config(dir.path(), &backend.url, &big_path.display().to_string());
        let (mut child, rx) = spawn(dir.path(), &cfg_big, &["run-now"]);
        // Logged as the transaction that swaps in 162,000 rows begins.
        let (fetched, log) = tokio::task::spawn_blocking(move || {
            wait_for_line(&rx, "swapping in", Duration::from_secs(120))
        })
        .await
        .expect("join");
        assert!(fetched, "{log:#?}");
        signal(&child, "KILL");
        let _ = child.wait();

        assert_eq!(
            current(&app).await,
            (good.load_id, good.rows),
            "{}: a half-done load became current",
            backend.name
        );
        let again = app
            .run_job("monthly-exceptions", RunOptions::manual())
            .await
            .expect("run after kill");
        assert_eq!(figures(&again), figures(&good.report));
        app.store.close().await;
    }
}

/// What the daemon says to systemd, read from a notify socket of our own: READY after the
/// schedules are up, a STATUS= line naming the next fire time, WATCHDOG=1 from the tick when
/// `WATCHDOG_USEC` is set, RELOADING and READY around a SIGHUP, STOPPING at SIGTERM.
fn the_daemon_tells_systemd_ready_status_watchdog_reload_and_stopping() {
    use std::os::unix::net::UnixDatagram;
    let dir = tempfile::tempdir().expect("tempdir");
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("bind the notify socket");
    socket
        .set_read_timeout(Some(Duration::from_secs(1)))
        .expect("timeout");
    let db = format!("sqlite://{}", dir.path().join("sw.db").display());
    let extract = repo("examples/tracker.csv").display().to_string();
    let cfg = write_config(
        dir.path(),
        &db,
        &extract,
        Delivery::Folder(&outbox(dir.path())),
        "[jobs.monthly-exceptions]\ncron = \"0 7 2 * *\"\n",
    );
    let socket_env = socket_path.display().to_string();
    // Half a second: the watchdog is fed every quarter second at most, by the tick (1 s).
    let env = [
        ("NOTIFY_SOCKET", socket_env.as_str()),
        ("WATCHDOG_USEC", "500000"),
    ];
    let (mut child, rx) = spawn_env(dir.path(), &cfg, &env, &["daemon"]);
    let mut said: Vec<String> = Vec::new();
    let mut read_until = |want: &dyn Fn(&[String]) -> bool| {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let mut buf = [0u8; 4096];
        while !want(&said) && std::time::Instant::now() < deadline {
            if let Ok(n) = socket.recv(&mut buf) {
                said.extend(
                    String::from_utf8_lossy(&buf[..n])
                        .lines()
                        .map(str::to_string),
                );
            }
        }
        want(&said)
    };
    let has = |lines: &[String], f: &dyn Fn(&str) -> bool| lines.iter().any(|l| f(l));
    let started = read_until(&|l| {
        has(l, &|x| x == "READY=1")
            && has(l, &|x| {
                x.starts_with("STATUS=idle; next: job monthly-exceptions at ")
            })
            && l.iter().filter(|x| *x == "WATCHDOG=1").count() >= 2
    });
    assert!(started, "{said:#?}");

    signal(&child, "HUP");
    let reloaded = read_until(&|l| {
        let at = l.iter().position(|x| x == "RELOADING=1");
        at.is_some_and(|i| {
            l[i..].iter().any(|x| x.starts_with("MONOTONIC_USEC="))
                && l[i..].iter().any(|x| x == "READY=1")
        })
    });
    assert!(reloaded, "{said:#?}");

    signal(&child, "TERM");
    let stopping = read_until(&|l| has(l, &|x| x == "STOPPING=1"));
    assert!(stopping, "{said:#?}");
    let (stopped, log) = wait_for_line(&rx, "Stopped.", Duration::from_secs(60));
    assert!(stopped, "{log:#?}");
    assert!(child.wait().expect("wait").success());
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(the_daemon_runs_its_job_on_schedule_and_stops_on_sigterm),
        trial!(a_kill_in_the_middle_of_a_load_keeps_the_previous_load).each_backend(),
        trial!(the_daemon_tells_systemd_ready_status_watchdog_reload_and_stopping),
    ]
}
