//! Programs outside the test binary that some tests run (systemd's offline tools, Chromium),
//! and the harness's probes for them: each asks the program for its version, bounded in time.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::trials::{Need, require};

/// How long a probe waits for a program to answer `--version`.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Debian's `chromium` package; `TEST_CHROMIUM` names another (or a missing one, to see the
/// screenshot tests ignored).
const CHROMIUM: &str = "/usr/bin/chromium";

fn chromium_path() -> PathBuf {
    std::env::var_os("TEST_CHROMIUM").map_or_else(|| PathBuf::from(CHROMIUM), PathBuf::from)
}

/// The Chromium binary, for a test registered with `.chromium()` (headless screenshots).
pub fn chromium() -> PathBuf {
    require(Need::Chromium);
    chromium_path()
}

/// Runs `cmd` to its end or `limit` (then kills it); `Ok` holds what it printed on stdout
/// and stderr if it exited 0, `Err` says why not.
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Result<String, String> {
    let shown = format!("{:?}", cmd.get_program());
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    let deadline = Instant::now() + limit;
    // A version line fits in the pipe, so polling cannot deadlock on a full pipe.
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{shown} did not answer within {limit:?}"));
            }
            Err(e) => return Err(format!("waiting for {shown}: {e}")),
        }
    };
    let mut printed = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut printed);
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut printed);
    }
    if status.success() {
        Ok(printed)
    } else {
        Err(format!("{shown} exited {status}: {}", printed.trim()))
    }
}

pub fn probe_systemd_analyze() -> Result<(), String> {
    run_bounded(
        Command::new("systemd-analyze").arg("--version"),
        PROBE_TIMEOUT,
    )
    .map(drop)
    .map_err(|e| format!("systemd-analyze unavailable (Debian: apt-get install systemd): {e}"))
}

pub fn probe_chromium() -> Result<(), String> {
    let path = chromium_path();
    run_bounded(
        Command::new(&path).args(["--headless", "--version"]),
        PROBE_TIMEOUT,
    )
    .map(drop)
    .map_err(|e| {
        format!(
            "Chromium unavailable at {} (Debian: apt-get install chromium): {e}",
            path.display()
        )
    })
}

pub fn probe_root() -> Result<(), String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        Ok(())
    } else {
        Err("not running as root".into())
    }
}
