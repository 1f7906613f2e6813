//! Runs tests/support/smtp_sink.py (a real aiosmtpd server on 127.0.0.1)
//! as a child process and reads back the messages it accepted.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::tools::{PROBE_TIMEOUT, run_bounded};
use super::trials::{Need, require};

/// Debian's python: the pyenv `python3` on PATH cannot import aiosmtpd. `TEST_PYTHON` names
/// another (or a missing one, to see the SMTP tests ignored).
const PYTHON: &str = "/usr/bin/python3";
const START_TIMEOUT: Duration = Duration::from_secs(20);
const WAIT_FOR_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Clone, Debug, Default)]
pub struct SmtpOptions {
    /// RCPT for these addresses answers `550 5.1.1 mailbox unavailable`.
    pub refuse_rcpt: Vec<String>,
    /// The end of DATA answers this code (e.g. 554, 451); nothing is stored.
    pub refuse_data: Option<u16>,
    /// Advertise and require AUTH PLAIN/LOGIN (plaintext) with these credentials.
    pub auth: Option<(String, String)>,
    /// Take connections and never greet: a client hangs inside its delivery.
    pub stall: bool,
    /// Mail to these addresses is stored, then the connection closed before the 250.
    pub drop_after_data: Vec<String>,
    /// Drop only the first this many of those (0: every one).
    pub drop_after_data_times: u32,
    /// Speak TLS with tests/fixtures/tls/server.pem (signed by `ca.pem` there).
    pub tls: Option<SinkTls>,
}

/// How the sink speaks TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SinkTls {
    /// Offer STARTTLS and refuse mail without it.
    Starttls,
    /// TLS from the first byte (port 465's way).
    Implicit,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMail {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// The DATA payload as received (CRLF line ends, dot-stuffing removed).
    pub data: String,
    pub auth_login: Option<String>,
    pub auth_password: Option<String>,
    /// It came over TLS.
    pub tls: bool,
}

#[derive(serde::Deserialize)]
struct Meta {
    tls: bool,
    mail_from: String,
    rcpt_tos: Vec<String>,
    auth_login: Option<String>,
    auth_password: Option<String>,
}

/// A running SMTP sink; the server process is killed on drop.
pub struct SmtpSink {
    child: Child,
    // Held so the sink's stdin stays open: it exits when stdin closes, which
    // also cleans it up if this test process dies without running Drop.
    _stdin: ChildStdin,
    port: u16,
    mail_dir: PathBuf,
    _dir: tempfile::TempDir,
}

fn python() -> PathBuf {
    std::env::var_os("TEST_PYTHON").map_or_else(|| PathBuf::from(PYTHON), PathBuf::from)
}

/// The harness's probe: the python imports aiosmtpd, bounded. `Err` says why not.
pub fn probe() -> Result<(), String> {
    let python = python();
    run_bounded(
        Command::new(&python).args(["-c", "import aiosmtpd"]),
        PROBE_TIMEOUT,
    )
    .map(drop)
    .map_err(|e| {
        format!(
            "SMTP sink unavailable: {} cannot import aiosmtpd (Debian: apt-get install \
             python3-aiosmtpd): {e}",
            python.display()
        )
    })
}

impl SmtpSink {
    /// Starts a sink, for a test registered with `.smtp()` (the harness checked that the
    /// python imports aiosmtpd, so a failure here is the test's).
    pub fn start(opts: SmtpOptions) -> SmtpSink {
        require(Need::Smtp);
        let python = python();
        let dir = tempfile::tempdir().expect("tempdir for SMTP sink");
        let mail_dir = dir.path().join("mail");
        let stderr_path = dir.path().join("sink.stderr");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");

        let mut cmd = Command::new(&python);
        cmd.arg(&script).arg("--out").arg(&mail_dir);
        for addr in &opts.refuse_rcpt {
            cmd.arg("--refuse-rcpt").arg(addr);
        }
        if let Some(code) = opts.refuse_data {
            cmd.arg("--refuse-data").arg(code.to_string());
        }
        if opts.stall {
            cmd.arg("--stall");
        }
        for addr in &opts.drop_after_data {
            cmd.arg("--drop-after-data").arg(addr);
        }
        if opts.drop_after_data_times > 0 {
            cmd.arg("--drop-after-data-times")
                .arg(opts.drop_after_data_times.to_string());
        }
        if let Some((user, pass)) = &opts.auth {
            cmd.arg("--auth-user")
                .arg(user)
                .arg("--auth-password")
                .arg(pass);
        }
        if let Some(tls) = opts.tls {
            let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
            let mode = match tls {
                SinkTls::Starttls => "starttls",
                SinkTls::Implicit => "implicit",
            };
            cmd.arg("--tls")
                .arg(mode)
                .arg("--tls-cert")
                .arg(fixtures.join("server.pem"))
                .arg("--tls-key")
                .arg(fixtures.join("server.key"));
        }
        // stderr to a file: nobody drains a pipe, and we want it in panics.
        let stderr = std::fs::File::create(&stderr_path).expect("create sink stderr file");
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr);

        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => panic!(
                "spawning SMTP sink {} under {}: {e}",
                script.display(),
                python.display()
            ),
        };
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");

        // Read the PORT line on a thread so a wedged child cannot hang the test.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let got = reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false);
            let _ = tx.send(got.then_some(line));
            // Keep draining so the child never blocks on a full pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });

        let read_stderr = || std::fs::read_to_string(&stderr_path).unwrap_or_default();
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(Some(line)) => line,
            Ok(None) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                // Stdout closed without a PORT line: the sink exited.
                let status = child.wait().expect("wait for SMTP sink");
                let stderr = read_stderr();
                panic!("SMTP sink exited before listening ({status}):\n{stderr}");
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "SMTP sink printed no PORT line within {START_TIMEOUT:?}:\n{}",
                    read_stderr()
                );
            }
        };
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse::<u16>().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                let _ = child.wait();
                panic!("SMTP sink's first line was {line:?}, not `PORT <n>`")
            });

        SmtpSink {
            child,
            _stdin: stdin,
            port,
            mail_dir,
            _dir: dir,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Messages accepted so far, in arrival order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let Ok(entries) = std::fs::read_dir(&self.mail_dir) else {
            return Vec::new();
        };
        // Only `<seq>.json` counts: the sink renames it into place after the
        // .eml is complete, and temp files are dot-prefixed.
        let mut seqs: Vec<u64> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str()?.strip_suffix(".json")?.parse().ok())
            .collect();
        seqs.sort_unstable();
        seqs.into_iter()
            .map(|seq| {
                let json = self.mail_dir.join(format!("{seq}.json"));
                let eml = self.mail_dir.join(format!("{seq}.eml"));
                let meta: Meta = serde_json::from_slice(
                    &std::fs::read(&json).unwrap_or_else(|e| panic!("{}: {e}", json.display())),
                )
                .unwrap_or_else(|e| panic!("{}: {e}", json.display()));
                let mut data = Vec::new();
                std::fs::File::open(&eml)
                    .and_then(|mut f| f.read_to_end(&mut data))
                    .unwrap_or_else(|e| panic!("{}: {e}", eml.display()));
                let data = String::from_utf8_lossy(&data).into_owned();
                // Every message the suite receives is scanned (DOMAIN 8).
                super::assert_nothing_disclosive(&data, &format!("message {seq} to the SMTP sink"));
                ReceivedMail {
                    mail_from: meta.mail_from,
                    rcpt_tos: meta.rcpt_tos,
                    data,
                    auth_login: meta.auth_login,
                    auth_password: meta.auth_password,
                    tls: meta.tls,
                }
            })
            .collect()
    }

    /// Connections a `stall` sink took (and holds) so far.
    pub fn stalled_connections(&self) -> usize {
        std::fs::read_dir(&self.mail_dir).map_or(0, |d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with("stalled."))
                .count()
        })
    }

    /// Polls until at least `n` messages arrived or 20 s passed, then returns
    /// what is there (the caller asserts). Async so that an app running on
    /// the same (current-thread) test runtime can keep sending meanwhile.
    pub async fn wait_for(&self, n: usize) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + WAIT_FOR_TIMEOUT;
        loop {
            let msgs = self.messages();
            if msgs.len() >= n || Instant::now() >= deadline {
                return msgs;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // kill + wait: no zombie, and the port is released before the next test.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
