//! The daemon's HTTP server under a flood of slow clients: with a low `[http] max_connections`,
//! a short header-read timeout and a small open-file limit (set on the child process), far
//! more half-sent requests than the limit are held open. The server closes every one of them
//! (each reads EOF), a scheduled run started during the flood still fetches and succeeds (no
//! "Too many open files"), and `/healthz` answers afterwards. Every wait is a bounded poll for
//! an event; nothing is timed.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use chrono::Utc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::daemon::{signal, wait_for_line};
use crate::harness::{app, repo};
use crate::ledger::{ledger, ledger_config, poll};
use crate::ops::free_port;

/// The daemon's `[http] max_connections`.
const LIMIT: usize = 50;
/// Half-sent requests held open at once: six times the limit, more than the open-file limit.
const FLOOD: usize = 300;
/// The daemon's open-file limit, soft and hard (so it cannot raise it): without a connection
/// limit the flood alone would exhaust it.
const OPEN_FILES: u64 = 256;

/// `sendwatch --config CFG daemon` with RLIMIT_NOFILE set to [`OPEN_FILES`]; its log lines
/// come through the receiver.
fn spawn_daemon(cwd: &Path, cfg: &Path) -> (Child, mpsc::Receiver<String>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sendwatch"));
    command
        .current_dir(cwd)
        .env_clear()
        .env("SENDWATCH_LOG", "info")
        .arg("--config")
        .arg(cfg)
        .arg("daemon")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: between fork and exec this only calls setrlimit, which is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            let rl = libc::rlimit {
                rlim_cur: OPEN_FILES,
                rlim_max: OPEN_FILES,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &rl) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let mut child = command.spawn().expect("spawn sendwatch daemon");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Read until the server closes the connection (EOF, or a reset).
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut sink = Vec::new();
    match stream.read_to_end(&mut sink).await {
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

async fn a_flood_of_half_sent_requests_is_timed_out_and_starves_no_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("sw.db").display());
    let tracker = repo("examples/tracker.csv").display().to_string();
    let port = free_port();
    let job = format!(
        "cron = \"*/2 * * * * *\"\n\n[http]\nlisten = \"127.0.0.1:{port}\"\n\
         max_connections = {LIMIT}\nheader_read_timeout_secs = 3\nidle_timeout_secs = 30\n"
    );
    let cfg = ledger_config(dir.path(), &db, &tracker, &job, 60);
    let app = app(&cfg).await;
    let (mut child, rx) = spawn_daemon(dir.path(), &cfg);
    let mut log = Vec::new();
    let (ran, seen) = wait_for_line(&rx, "Scheduled run done.", Duration::from_secs(120));
    log.extend(seen);
    assert!(ran, "no scheduled run before the flood: {log:#?}");

    // Half a request each: a request line and one header, never the blank line.
    let addr = format!("127.0.0.1:{port}");
    let mut flood = Vec::with_capacity(FLOOD);
    for _ in 0..FLOOD {
        let mut s = TcpStream::connect(&addr).await.expect("connect");
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            .await
            .expect("half a request");
        flood.push(s);
    }
    let flooded_at = Utc::now();

    // A scheduled run begun while the flood is held open fetches the extract and succeeds.
    let run = poll(Duration::from_secs(120), || async {
        ledger(&app)
            .await
            .into_iter()
            .find(|r| r.started_at > flooded_at && r.status != sendwatch::store::RunStatus::Running)
    })
    .await
    .unwrap_or_else(|| panic!("no run finished after the flood: {log:#?}"));
    assert_eq!(run.status, sendwatch::store::RunStatus::Ok, "{run:?}");
    let loads = app.store.run_loads(run.id).await.expect("loads");
    assert!(
        loads
            .iter()
            .all(|l| l.outcome == "loaded" || l.outcome == "unchanged"),
        "{loads:#?}"
    );

    // The server closes every half-sent request: its header-read timeout, place by place.
    let closed = tokio::time::timeout(Duration::from_secs(180), async {
        let mut closed = 0;
        for s in &mut flood {
            closed += usize::from(closed_by_server(s).await);
        }
        closed
    })
    .await
    .expect("the server closed every half-sent request (hang guard)");
    assert_eq!(closed, FLOOD);

    let healthz = format!("http://{addr}/healthz");
    let answered = poll(Duration::from_secs(60), || async {
        let r = reqwest::get(&healthz).await.ok()?;
        (r.status() == 200).then_some(())
    })
    .await;
    assert!(answered.is_some(), "/healthz did not answer 200");

    signal(&child, "TERM");
    let (stopped, seen) = wait_for_line(&rx, "Stopped.", Duration::from_secs(60));
    log.extend(seen);
    assert!(stopped, "{log:#?}");
    assert!(child.wait().expect("wait").success());
    log.extend(rx.try_iter());
    let starved: Vec<_> = log
        .iter()
        .filter(|l| l.contains("Too many open files"))
        .collect();
    assert!(starved.is_empty(), "{starved:#?}");
    app.store.close().await;
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![trial!(a_flood_of_half_sent_requests_is_timed_out_and_starves_no_run).multi_thread(2)]
}
