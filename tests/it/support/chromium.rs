//! Debian's headless Chromium for the tests that look at pages: a screenshot and a PDF for a
//! person to look at, the DOM after rendering, and every request the page itself made (from
//! Chromium's net log). Chromium is kept to loopback: its own background traffic is switched
//! off and every host name other than loopback fails to resolve.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Chromium's binary, or `None` (a panic under CI=true, where .ci/run installs it).
pub fn chromium() -> Option<PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: .ci/run should have installed chromium"
        );
        eprintln!("skipping: no chromium at /usr/bin/chromium");
    }
    found
}

/// Where a test saves what a person should look at: `target/screenshots/NAME`.
pub fn artefact(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("screenshots");
    std::fs::create_dir_all(&dir).expect("target/screenshots");
    dir.join(name)
}

/// Run Chromium headless on `url` with `args`, its profile in `scratch`, bounded to 90 s.
fn run(browser: &Path, scratch: &Path, url: &str, args: &[String]) -> std::process::Output {
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
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
    .arg(format!(
        "--user-data-dir={}",
        scratch.join("profile").display()
    ))
    .args(args)
    .arg(url)
    .stdin(Stdio::null())
    .stderr(Stdio::null());
    let child = cmd.stdout(Stdio::piped()).spawn().expect("start chromium");
    let id = child.id();
    // A watchdog: a hung browser fails the test instead of hanging the suite.
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let guard = std::thread::spawn(move || {
        if rx.recv_timeout(Duration::from_secs(90)).is_err() {
            let _ = Command::new("kill").args(["-9", &id.to_string()]).status();
        }
    });
    let out = child.wait_with_output().expect("chromium output");
    let _ = tx.send(());
    let _ = guard.join();
    out
}

/// A PNG screenshot of `url` at `width` x `height` into `png`.
pub fn screenshot(browser: &Path, scratch: &Path, url: &str, png: &Path, width: u32, height: u32) {
    let _ = std::fs::remove_file(png);
    run(
        browser,
        scratch,
        url,
        &[
            format!("--window-size={width},{height}"),
            format!("--screenshot={}", png.display()),
        ],
    );
    let bytes = std::fs::read(png).expect("chromium wrote the screenshot");
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 10_000,
        "{} is not a screenshot of a page ({} bytes)",
        png.display(),
        bytes.len()
    );
}

/// A PDF of `url` (its print stylesheet) into `pdf`.
pub fn print_pdf(browser: &Path, scratch: &Path, url: &str, pdf: &Path) {
    let _ = std::fs::remove_file(pdf);
    run(
        browser,
        scratch,
        url,
        &[
            "--no-pdf-header-footer".into(),
            format!("--print-to-pdf={}", pdf.display()),
        ],
    );
    let bytes = std::fs::read(pdf).expect("chromium wrote the PDF");
    assert!(
        bytes.starts_with(b"%PDF-"),
        "{} is not a PDF",
        pdf.display()
    );
}

/// The DOM after the page rendered, and every URL the page itself asked for (requests
/// Chromium makes for its own sake are told apart by their initiator).
pub fn dom_and_requests(browser: &Path, scratch: &Path, url: &str) -> (String, Vec<String>) {
    let log = scratch.join("netlog.json");
    let _ = std::fs::remove_file(&log);
    let out = run(
        browser,
        scratch,
        url,
        &[
            "--dump-dom".into(),
            format!("--log-net-log={}", log.display()),
        ],
    );
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    let text = std::fs::read_to_string(&log).expect("chromium wrote its net log");
    // Chromium may stop without closing the JSON; the events array is enough.
    let text = if text.trim_end().ends_with('}') {
        text
    } else {
        format!("{}]}}", text.trim_end().trim_end_matches(','))
    };
    let v: serde_json::Value = serde_json::from_str(&text).expect("net log JSON");
    let mut urls = Vec::new();
    for e in v["events"].as_array().into_iter().flatten() {
        let p = &e["params"];
        let (Some(u), Some(initiator)) = (p["url"].as_str(), p["initiator"].as_str()) else {
            continue;
        };
        // The browser's own traffic has no origin behind it; a page's has one (a file:// page's
        // is "null").
        if initiator != "not an origin" && !urls.iter().any(|x| x == u) {
            urls.push(u.to_string());
        }
    }
    (dom, urls)
}
