//! A PDF of the pack, printed by headless Chromium from the HTML file (its A4 print
//! stylesheet), when a Chromium is installed. Bounded in time; Chromium's own output is not
//! passed on (it would only say what Chromium did).
//!
//! V8 runs without its JIT (`--js-flags=--jitless`): the unit's `MemoryDenyWriteExecute=yes`
//! refuses the writable+executable memory the JIT reserves, and a renderer without it dies
//! ("Failed to reserve virtual memory for CodeRange") and leaves Chromium waiting until
//! [`TIMEOUT`]. The pack has no JavaScript, so this costs nothing (deploy/README.md).
//!
//! Owns: finding the browser and running it.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long Chromium may take to print one pack.
pub const TIMEOUT: Duration = Duration::from_secs(60);

const CANDIDATES: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// The first Chromium on `PATH` (or `explicit` when given and present).
pub fn find_chromium(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return p.is_file().then(|| p.to_path_buf());
    }
    // A service may run with no PATH at all: then the usual places.
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .flat_map(|dir| CANDIDATES.iter().map(move |c| dir.join(c)))
        .find(|p| p.is_file())
}

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("cannot start {browser}: {message}")]
    Start { browser: String, message: String },
    #[error("{browser} did not finish the PDF within {secs} s")]
    Timeout { browser: String, secs: u64 },
    #[error("{browser} exited with {status} and wrote no PDF")]
    Failed { browser: String, status: String },
}

/// Print `html` (a file) to `pdf` with `browser`. The browser profile is a fresh folder
/// beside the PDF, removed afterwards, so no user's browser state is read or written.
pub async fn print_pdf(browser: &Path, html: &Path, pdf: &Path) -> Result<(), PdfError> {
    let profile = pdf.with_file_name(format!(".sendwatch-chromium-{}", std::process::id()));
    let result = run(browser, html, pdf, &profile).await;
    let _ = std::fs::remove_dir_all(&profile);
    result
}

async fn run(browser: &Path, html: &Path, pdf: &Path, profile: &Path) -> Result<(), PdfError> {
    let name = browser.display().to_string();
    let html = std::path::absolute(html).unwrap_or_else(|_| html.to_path_buf());
    let mut cmd = tokio::process::Command::new(browser);
    cmd.arg("--headless")
        .arg("--disable-gpu")
        .arg("--no-sandbox")
        .arg("--no-first-run")
        .arg("--disable-extensions")
        .arg("--no-pdf-header-footer")
        // No W+X memory: works under MemoryDenyWriteExecute= (see the header).
        .arg("--js-flags=--jitless")
        // Printing a local file needs no network: none of Chromium's own traffic, and no host
        // name resolves (the pack makes no request; this keeps it so if a template did).
        .arg("--disable-background-networking")
        .arg("--disable-component-update")
        .arg("--disable-sync")
        .arg("--disable-default-apps")
        .arg("--host-resolver-rules=MAP * ~NOTFOUND")
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let child = cmd.spawn().map_err(|e| PdfError::Start {
        browser: name.clone(),
        message: e.to_string(),
    })?;
    let out = tokio::time::timeout(TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| PdfError::Timeout {
            browser: name.clone(),
            secs: TIMEOUT.as_secs(),
        })?
        .map_err(|e| PdfError::Start {
            browser: name.clone(),
            message: e.to_string(),
        })?;
    let written = std::fs::metadata(pdf).is_ok_and(|m| m.len() > 0);
    if !out.status.success() || !written {
        return Err(PdfError::Failed {
            browser: name,
            status: out.status.to_string(),
        });
    }
    Ok(())
}
