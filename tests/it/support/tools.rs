//! Programs outside the test binary that some tests run (systemd's offline tools, Chromium),
//! and the harness's probes for them: each asks the program for its version, bounded in time.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
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

/// How long one screenshot may take.
const SCREENSHOT_TIMEOUT: Duration = Duration::from_secs(60);

/// Writes a PNG of the page `html` (a file) as headless Chromium draws it in a
/// `width` x `height` window (CSS pixels, scale 1), for a test registered with `.chromium()`;
/// look at it with an image viewer, or check its pixels. Panics saying why it failed.
pub fn screenshot(html: &Path, png: &Path, width: u32, height: u32) {
    let chromium = chromium();
    let profile = tempfile::tempdir().expect("tempdir for Chromium's profile");
    let html = std::path::absolute(html).expect("absolute path of the page");
    let result = run_bounded(
        Command::new(&chromium)
            // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start; the
            // page is the test's own file.
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--force-device-scale-factor=1",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--screenshot={}", png.display()))
            .arg(format!("--window-size={width},{height}"))
            .arg(format!("file://{}", html.display())),
        SCREENSHOT_TIMEOUT,
    );
    match result {
        Ok(_) if png.is_file() => {}
        Ok(printed) => panic!("Chromium wrote no {}:\n{printed}", png.display()),
        Err(why) => panic!("screenshot of {}: {why}", html.display()),
    }
}

/// Runs `cmd` to its end or `limit` (then kills it); `Ok` holds what it printed on stdout
/// and stderr if it exited 0, `Err` says why not.
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Result<String, String> {
    let shown = format!("{:?}", cmd.get_program());
    // Output to a file, not a pipe: a chatty program cannot block on a full pipe while we
    // poll for its end.
    let mut printed_to = tempfile::tempfile().map_err(|e| format!("temp file: {e}"))?;
    let stdout = printed_to
        .try_clone()
        .map_err(|e| format!("temp file: {e}"))?;
    let stderr = printed_to
        .try_clone()
        .map_err(|e| format!("temp file: {e}"))?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    let deadline = Instant::now() + limit;
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
    let _ = printed_to.seek(SeekFrom::Start(0));
    let _ = printed_to.read_to_string(&mut printed);
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
