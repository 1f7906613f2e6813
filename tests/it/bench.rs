//! `sendwatch bench load` through the binary: the table comes out with its rows and ratios.
//! It asserts no timing: on a 60-row file start-up dominates, and the machine is shared.

use std::process::Command;

use crate::harness::repo;

#[test]
fn bench_load_prints_the_table_with_ratios_or_says_what_was_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = Command::new(env!("CARGO_BIN_EXE_sendwatch"));
    // Only PATH (to find the peers) and TMPDIR from the caller; PostgreSQL only if CI gives it.
    c.current_dir(dir.path()).env_clear();
    for key in ["PATH", "TMPDIR"] {
        if let Some(v) = std::env::var_os(key) {
            c.env(key, v);
        }
    }
    c.args(["bench", "load", "--rounds", "1", "--file"])
        .arg(repo("tests/fixtures/extracts/tracker.csv"));
    let postgres = std::env::var("TEST_DATABASE_URL").ok();
    if let Some(url) = &postgres {
        c.arg("--postgres").arg(url);
    }
    let out = c.output().expect("run binary");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{printed}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let row = |label: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {label} |")))
            .unwrap_or_else(|| panic!("no `{label}` row in:\n{stdout}"))
            .to_string()
    };
    assert!(
        stdout.contains("| load of tracker.csv (60 rows, ") && stdout.contains("|---|---|---|---|"),
        "{stdout}"
    );
    assert!(
        row("sendwatch peak RSS (SQLite)").contains("target < 64 MiB"),
        "{stdout}"
    );

    // A ratio where the peer ran, "skipped" (and why) where it did not.
    let sqlite = row("sendwatch -> SQLite (validated)");
    if stdout.contains("sqlite3 peer skipped") {
        assert!(row("sqlite3 .import (typed table, PRIMARY KEY)").contains("skipped"));
        assert!(sqlite.contains("no ratio: sqlite3 skipped"), "{sqlite}");
    } else {
        assert!(is_ratio(&sqlite, "sqlite3"), "{sqlite}");
    }
    let pg = row("sendwatch -> PostgreSQL (validated)");
    if postgres.is_some() {
        assert!(
            row("sendwatch peak RSS (PostgreSQL)").contains("MiB"),
            "{stdout}"
        );
        if stdout.contains("psql peer skipped") {
            assert!(pg.contains("no ratio: psql \\copy skipped"), "{pg}");
        } else {
            assert!(is_ratio(&pg, "psql \\copy"), "{pg}");
        }
    } else {
        assert!(pg.contains("skipped"), "{pg}");
        assert!(stdout.contains("PostgreSQL rows skipped"), "{stdout}");
    }
}

/// `1.23x faster than PEER (target ...` or `0.45x the speed of PEER (target ...`.
fn is_ratio(line: &str, peer: &str) -> bool {
    let Some(at) = line
        .find("x faster than ")
        .or_else(|| line.find("x the speed of "))
    else {
        return false;
    };
    let number = line[..at].rsplit(' ').next().unwrap_or("");
    number.parse::<f64>().is_ok() && line[at..].contains(peer) && line.contains("(target >= ")
}
