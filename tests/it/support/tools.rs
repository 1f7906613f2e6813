//! Programs outside the test binary that some tests run (systemd's offline tools, Chromium),
//! and the harness's probes for them: each asks the program for its version, bounded in time.
//! Also the kernel's memory-deny-write-execute (`prctl(PR_SET_MDWE)`) for a child, as the
//! unit's `MemoryDenyWriteExecute=yes` has it.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt as _;
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

/// Headless Chromium with a fresh profile in `profile`, kept to loopback: its own background
/// traffic (updates, sync, safe browsing) switched off and every host name but loopback left
/// unresolved, so a test never reaches past this machine.
pub fn headless(profile: &Path) -> Command {
    let mut cmd = Command::new(chromium());
    // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start; the pages
    // are the tests' own.
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-domain-reliability",
        "--disable-client-side-phishing-detection",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

/// Writes a PNG of the page `html` (a file) as headless Chromium draws it in a
/// `width` x `height` window (CSS pixels, scale 1), for a test registered with `.chromium()`;
/// look at it with an image viewer, or check its pixels. Panics saying why it failed.
pub fn screenshot(html: &Path, png: &Path, width: u32, height: u32) {
    let html = std::path::absolute(html).expect("absolute path of the page");
    screenshot_url(&format!("file://{}", html.display()), png, width, height);
}

/// [`screenshot`] of a URL (a page the daemon serves on loopback).
pub fn screenshot_url(url: &str, png: &Path, width: u32, height: u32) {
    let profile = tempfile::tempdir().expect("tempdir for Chromium's profile");
    let _ = std::fs::remove_file(png);
    let result = run_bounded(
        headless(profile.path())
            .arg(format!("--screenshot={}", png.display()))
            .arg(format!("--window-size={width},{height}"))
            .arg(url),
        SCREENSHOT_TIMEOUT,
    );
    match result {
        Ok(_) if png.is_file() => {}
        Ok(printed) => panic!("Chromium wrote no {}:\n{printed}", png.display()),
        Err(why) => panic!("screenshot of {url}: {why}"),
    }
}

/// Where a test leaves what a person should look at: `target/screenshots/NAME`.
pub fn artefact(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("screenshots");
    std::fs::create_dir_all(&dir).expect("target/screenshots");
    dir.join(name)
}

/// The DOM of `url` after it rendered, and every URL the page itself asked for, from
/// Chromium's net log (requests Chromium makes for its own sake have no origin behind them;
/// a page's have one, a file:// page's being "null").
pub fn dom_and_requests(url: &str) -> (String, Vec<String>) {
    let scratch = tempfile::tempdir().expect("tempdir for Chromium");
    let log = scratch.path().join("netlog.json");
    let dom = run_bounded(
        headless(&scratch.path().join("profile"))
            .arg("--dump-dom")
            .arg(format!("--log-net-log={}", log.display()))
            .arg(url),
        SCREENSHOT_TIMEOUT,
    )
    .unwrap_or_else(|why| panic!("the DOM of {url}: {why}"));
    let text = std::fs::read_to_string(&log).expect("Chromium wrote its net log");
    // Chromium may stop without closing the JSON; the events are enough.
    let text = if text.trim_end().ends_with('}') {
        text
    } else {
        format!("{}]}}", text.trim_end().trim_end_matches(','))
    };
    let v: serde_json::Value = serde_json::from_str(&text).expect("net log JSON");
    let mut urls: Vec<String> = Vec::new();
    for e in v["events"].as_array().into_iter().flatten() {
        let p = &e["params"];
        let (Some(u), Some(initiator)) = (p["url"].as_str(), p["initiator"].as_str()) else {
            continue;
        };
        if initiator != "not an origin" && !urls.iter().any(|x| x == u) {
            urls.push(u.to_string());
        }
    }
    (dom, urls)
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

pub fn probe_mdwe() -> Result<(), String> {
    // SAFETY: PR_GET_MDWE only reads this process's flag; its other arguments must be 0.
    let got = unsafe { libc::prctl(libc::PR_GET_MDWE, 0, 0, 0, 0) };
    if got >= 0 {
        Ok(())
    } else {
        Err(format!(
            "the kernel has no PR_SET_MDWE (Linux 6.3 or later): {}",
            std::io::Error::last_os_error()
        ))
    }
}

/// `cmd` started with `prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN)`, for a test registered
/// with `.mdwe()`: no memory of it, nor of what it starts (the flag is inherited across fork
/// and exec), may be writable and executable, as under `MemoryDenyWriteExecute=yes`. The
/// spawn fails if the kernel refuses it.
pub fn mdwe(cmd: &mut Command) -> &mut Command {
    require(Need::Mdwe);
    // SAFETY: runs in the forked child before exec; prctl is a plain system call (no
    // allocation, no lock), so it is safe there.
    unsafe {
        cmd.pre_exec(|| {
            let flags = libc::PR_MDWE_REFUSE_EXEC_GAIN as libc::c_ulong;
            if libc::prctl(libc::PR_SET_MDWE, flags, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}
