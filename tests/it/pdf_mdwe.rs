//! The board pack's PDF under the unit's `MemoryDenyWriteExecute=yes`, emulated with
//! `prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN)` on the real binary; the flag is inherited by
//! the Chromium it starts. Chromium's JIT needs writable+executable memory: without
//! `--js-flags=--jitless` (src/pack/pdf.rs) its renderer dies and no PDF comes. Where the
//! kernel has no PR_SET_MDWE (before Linux 6.3) the trial is ignored, under `CI=true` too
//! (no install step brings a kernel); where it has it, a missing PDF fails it.

use std::process::Command;

use crate::harness::{binary, example_dir};
use crate::support::tools::mdwe;
use crate::support::trials::{Spec, trial};

fn report_writes_the_pdf_under_memory_deny_write_execute() {
    // The README's layout: the example config and extracts, a run to report on.
    let dir = example_dir();
    let cfg = dir.path().join("config/sendwatch.toml");
    let (ok, out, err) = binary(dir.path(), &cfg, &[], &["run-now"]);
    assert!(ok, "run-now: {out}\n{err}");

    let pack = dir.path().join("pack");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sendwatch"));
    cmd.current_dir(dir.path())
        .env_clear()
        .arg("--config")
        .arg(&cfg)
        .args(["report", "--pdf", "always", "--out"])
        .arg(&pack);
    let done = mdwe(&mut cmd)
        .output()
        .expect("run the binary under PR_SET_MDWE");
    let stdout = String::from_utf8_lossy(&done.stdout);
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(done.status.success(), "report: {stdout}\n{stderr}");
    let pdf = pack.join("sefton-send-board-pack-latest.pdf");
    let bytes = std::fs::read(&pdf)
        .unwrap_or_else(|e| panic!("no PDF under PR_SET_MDWE ({e}): {stdout}\n{stderr}"));
    assert!(
        bytes.starts_with(b"%PDF-") && bytes.len() > 10_000,
        "not a whole PDF: {} bytes",
        bytes.len()
    );
}

pub fn tests() -> Vec<Spec> {
    vec![
        trial!(report_writes_the_pdf_under_memory_deny_write_execute)
            .chromium()
            .mdwe(),
    ]
}
