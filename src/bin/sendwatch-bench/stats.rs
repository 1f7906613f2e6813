//! `sendwatch bench stats`: the import of a published-statistics release (`--path`: its zip,
//! its folder or one of its CSV files), timed round by round as this very binary's `stats
//! import PATH` in a child process, into a fresh SQLite database and, where there is a server,
//! a fresh PostgreSQL one; min and median wall times against the target (under 2 s for the
//! DfE's 2025 release), and the peak RSS.
//!
//! As for `bench load`, each import is timed as one whole process, start to exit: reading the
//! configuration, connecting and migrating the fresh database are in its time. Every round
//! must store the same number of figures.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::child::{Ran, run_timed};
use crate::load::{Scratch, load_average, print_heading, scratch_dir, toml_str};
use crate::pg::{admin_connection, create_database, drop_database, drop_stale_databases};
use crate::report::{Timings, fmt_bytes, median, rss_row, time_row};

/// The import must take less than this (median).
pub const TARGET: Duration = Duration::from_secs(2);

/// `sendwatch bench stats`'s arguments.
#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// The release to import: its zip, its folder, or one of its CSV files.
    #[arg(long)]
    pub path: PathBuf,
    /// The mapping to read it with (default: the shipped one, ees-ehcp-2025).
    #[arg(long)]
    pub mapping: Option<String>,
    /// Rounds per database; min and median are over these.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
    /// A PostgreSQL URL whose user may CREATE DATABASE; without one the PostgreSQL row is
    /// skipped.
    #[arg(long, env = "TEST_DATABASE_URL", hide_env_values = true)]
    pub postgres: Option<String>,
}

/// Times, peak RSS and figures stored, per database.
#[derive(Default)]
struct Rounds {
    times: Vec<Duration>,
    rss_kib: Vec<u64>,
    figures: Option<u64>,
}

pub async fn stats(args: StatsArgs) -> anyhow::Result<ExitCode> {
    let scratch = scratch_dir()?;
    let _cleanup = Scratch(scratch.clone());
    let path =
        std::fs::canonicalize(&args.path).with_context(|| format!("{}", args.path.display()))?;
    let exe = crate::sendwatch_binary()?;
    let postgres: Result<String, String> = args
        .postgres
        .clone()
        .ok_or_else(|| "no --postgres URL (nor TEST_DATABASE_URL)".to_string());
    if let Ok(admin) = &postgres {
        // Asked for PostgreSQL and cannot have it: that is an error, not a skip.
        let mut conn = admin_connection(admin).await?;
        drop_stale_databases(&mut conn).await;
        sqlx::Connection::close(conn).await?;
    }
    if cfg!(debug_assertions) {
        eprintln!("bench: note: a debug build; build with --release for representative times");
    }
    let busy = load_average();
    let (mut sqlite, mut pg) = (Rounds::default(), Rounds::default());
    for k in 1..=args.rounds {
        let db = scratch.join(format!("round-{k}.db"));
        let url = format!("sqlite://{}", db.display());
        let ran = import_round(
            &exe,
            &scratch,
            &path,
            args.mapping.as_deref(),
            &url,
            &format!("sqlite-{k}"),
        )
        .await?;
        let mut line = format!(" SQLite {}", crate::report::fmt_duration(ran.0.wall));
        sqlite.add(ran, "SQLite")?;
        let _ = std::fs::remove_file(&db);
        if let Ok(admin) = &postgres {
            let name = format!("sendwatch_bench_{}_{k}_stats", std::process::id());
            let url = create_database(admin, &name).await?;
            let ran = import_round(
                &exe,
                &scratch,
                &path,
                args.mapping.as_deref(),
                &url,
                &format!("pg-{k}"),
            )
            .await;
            drop_database(admin, &name).await;
            let ran = ran?;
            let _ = write!(
                line,
                ", PostgreSQL {}",
                crate::report::fmt_duration(ran.0.wall)
            );
            pg.add(ran, "PostgreSQL")?;
        }
        eprintln!("bench: round {k}/{}:{line}", args.rounds);
    }
    if let (Some(a), Some(b)) = (sqlite.figures, pg.figures)
        && a != b
    {
        bail!("sendwatch stored {a} figures into SQLite but {b} into PostgreSQL");
    }
    print_heading("stats", args.rounds, "round", busy.as_deref());
    print!("{}", table(&path, &sqlite, &pg, postgres.err()));
    Ok(ExitCode::SUCCESS)
}

impl Rounds {
    /// One round's run and figure count; every round must store as many as the first.
    fn add(&mut self, (ran, figures): (Ran, u64), db: &str) -> anyhow::Result<()> {
        if let Some(first) = self.figures
            && first != figures
        {
            bail!("sendwatch stored {figures} figures into {db} but {first} in round 1");
        }
        self.figures = Some(figures);
        self.times.push(ran.wall);
        self.rss_kib.push(ran.max_rss_kib);
        Ok(())
    }
}

/// The Markdown table.
fn table(path: &Path, sqlite: &Rounds, pg: &Rounds, pg_skipped: Option<String>) -> String {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| import of {name} ({}, {} figures) | min | median | target |",
        fmt_bytes(size_of(path)),
        crate::report::fmt_count(sqlite.figures.unwrap_or(0))
    );
    let _ = writeln!(out, "|---|---|---|---|");
    let verdict = |r: &Rounds| match median(&r.times) {
        Some(m) if m < TARGET => format!("target < {} s: met", TARGET.as_secs()),
        Some(m) => format!(
            "target < {} s: missed by {}",
            TARGET.as_secs(),
            crate::report::fmt_duration(m.saturating_sub(TARGET))
        ),
        None => String::new(),
    };
    time_row(
        &mut out,
        "sendwatch stats import -> SQLite",
        &Timings::Ran(sqlite.times.clone()),
        None,
        &verdict(sqlite),
    );
    let pg_times = match &pg_skipped {
        Some(why) => Timings::Skipped(why.clone()),
        None => Timings::Ran(pg.times.clone()),
    };
    time_row(
        &mut out,
        "sendwatch stats import -> PostgreSQL",
        &pg_times,
        None,
        &verdict(pg),
    );
    rss_row(&mut out, "sendwatch peak RSS (SQLite)", &sqlite.rss_kib);
    rss_row(&mut out, "sendwatch peak RSS (PostgreSQL)", &pg.rss_kib);
    if let Some(why) = pg_skipped {
        let _ = writeln!(out, "\nPostgreSQL rows skipped: {why}");
    }
    out
}

/// Bytes of a file, or of the files of a folder (not below it).
fn size_of(path: &Path) -> u64 {
    if path.is_dir() {
        std::fs::read_dir(path)
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| e.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    } else {
        std::fs::metadata(path).map_or(0, |m| m.len())
    }
}

/// One timed `sendwatch --config <round.toml> stats import PATH` into `store_url`; the run
/// and the figures it says it stored.
async fn import_round(
    exe: &Path,
    scratch: &Path,
    path: &Path,
    mapping: Option<&str>,
    store_url: &str,
    tag: &str,
) -> anyhow::Result<(Ran, u64)> {
    let config = scratch.join(format!("{tag}.toml"));
    std::fs::write(
        &config,
        format!(
            "base = {}\n\n[general]\narea = \"bench\"\ntime_zone = \"Europe/London\"\ndata_dir = {}\n\n[store]\nurl = {}\n",
            toml_str(&sendwatch::config::plan::example_file().to_string_lossy()),
            toml_str(&scratch.join("data").to_string_lossy()),
            toml_str(store_url)
        ),
    )
    .context("writing the round's configuration")?;
    let mut cmd = Command::new(exe);
    // Only the bench's configuration: none of the caller's SENDWATCH_* settings or log level.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SENDWATCH") {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(scratch)
        .arg("--config")
        .arg(&config)
        .args(["stats", "import"])
        .arg(path);
    if let Some(m) = mapping {
        cmd.args(["--mapping", m]);
    }
    let scratch = scratch.to_path_buf();
    let tag = tag.to_string();
    let ran = tokio::task::spawn_blocking(move || run_timed(cmd, None, &scratch, &tag))
        .await?
        .context("sendwatch stats import")?;
    let figures = stored_figures(&ran.stdout).with_context(|| {
        format!(
            "sendwatch did not say `imported`:\n{}{}",
            ran.stdout, ran.stderr
        )
    })?;
    Ok((ran, figures))
}

/// The count from `imported NAME (TITLE) from FILE: 16256 figures of 169 areas`.
fn stored_figures(stdout: &str) -> Option<u64> {
    let line = stdout.lines().find(|l| l.starts_with("imported "))?;
    let tail = line.rsplit_once(": ")?.1;
    tail.split(' ').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figure_count_is_read_from_the_import_line() {
        let out = "imported ees-ehcp-2025 (Education, health and care plans: 2025) from x.zip: 16256 figures of 169 areas\n  a.csv: ...\n";
        assert_eq!(stored_figures(out), Some(16256));
        assert_eq!(stored_figures("sendwatch: refused"), None);
    }
}
