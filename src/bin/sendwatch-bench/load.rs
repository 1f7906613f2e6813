//! `sendwatch bench load`: a benchmark, not a timed test (`bench kpi` is in [`kpi`]). It times, round by round, this very
//! binary's validated `load FILE --source tracker` as a child process (a fresh database each
//! round) beside the plain bulk loaders (`sqlite3 .import`, `psql \copy`) into a typed table
//! with the same key, and prints min and median wall times, the speed-ups and sendwatch's
//! peak RSS as a Markdown table.
//!
//! Each contender is timed as one whole process, start to exit: sendwatch's time includes
//! reading its configuration, connecting and migrating the fresh database; a peer's includes
//! its `CREATE TABLE`. Creating and dropping a PostgreSQL database is not timed. Rounds
//! interleave the contenders so that noise from other work on the machine falls on all alike.
//! The bench needs no configuration of the user's: it lays its own over the source tree's
//! example.

use std::fmt::Write as _;
use std::io::{BufRead as _, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use sqlx::{Connection as _, SqliteConnection};

use crate::child::{Ran, locate, run_timed};
use crate::pg::{
    admin_connection, create_database, drop_database, drop_stale_databases, pg_connection,
};
use crate::report::{Report, Timings, fmt_count, fmt_duration};

/// `sendwatch bench load`'s arguments.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["file", "generator"])))]
pub struct LoadArgs {
    /// The tracker extract to load.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// gen_extracts.py: write a tracker extract of --rows rows with --seed first, and load that.
    #[arg(long)]
    pub generator: Option<PathBuf>,
    /// Rows for --generator.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: u64,
    /// Seed for --generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Rounds per contender; min and median are over these.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
    #[command(flatten)]
    pub peers: PeerArgs,
}

/// Where the peers are: both benches' PostgreSQL server, `sqlite3` and `psql`.
#[derive(Debug, clap::Args)]
pub struct PeerArgs {
    /// A PostgreSQL URL whose user may CREATE DATABASE; the bench makes fresh databases
    /// beside it. Without one the PostgreSQL rows are skipped.
    #[arg(long, env = "TEST_DATABASE_URL", hide_env_values = true)]
    pub postgres: Option<String>,
    /// The sqlite3 CLI (default: `sqlite3` on PATH).
    #[arg(long)]
    pub sqlite3: Option<PathBuf>,
    /// The psql CLI (default: `psql` on PATH).
    #[arg(long)]
    pub psql: Option<PathBuf>,
}

/// What every round needs.
struct Plan {
    exe: PathBuf,
    file: PathBuf,
    scratch: PathBuf,
    columns: Vec<String>,
    sqlite3: Result<PathBuf, String>,
    psql: Result<PathBuf, String>,
    /// The admin URL, or why the PostgreSQL rows are skipped.
    postgres: Result<String, String>,
}

/// Removes the scratch folder (generated extract, databases, child output) when done.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub async fn load(args: LoadArgs) -> anyhow::Result<ExitCode> {
    let scratch = scratch_dir()?;
    let _cleanup = Scratch(scratch.clone());
    let (plan, bytes) = Plan::make(&args, scratch).await?;
    if cfg!(debug_assertions) {
        eprintln!("bench: note: a debug build; build with --release for representative times");
    }
    let mut rep = empty_report(&plan, bytes);
    // Other work on the machine shows here: read the table in its light.
    let busy = load_average();
    for k in 1..=args.rounds {
        let line = round(&plan, k, &mut rep).await?;
        eprintln!("bench: round {k}/{}:{line}", args.rounds);
    }

    print_heading("load", args.rounds, "round", busy.as_deref());
    print!("{}", rep.table());
    println!();
    for (what, t) in [
        ("sqlite3 peer", &rep.sqlite3),
        ("PostgreSQL rows", &rep.sw_pg),
        ("psql peer", &rep.psql),
    ] {
        if let Timings::Skipped(why) = t {
            println!("{what} skipped: {why}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

impl Plan {
    /// The extract (given, or generated into `scratch`), its header and size, and the peers;
    /// a PostgreSQL URL asked for must answer.
    async fn make(args: &LoadArgs, scratch: PathBuf) -> anyhow::Result<(Plan, u64)> {
        let file = match (&args.file, &args.generator) {
            (Some(f), _) => std::fs::canonicalize(f).with_context(|| format!("{}", f.display()))?,
            (None, Some(generator)) => {
                generate(generator, "tracker", args.rows, args.seed, &scratch).await?
            }
            (None, None) => bail!("give --file FILE or --generator PATH"),
        };
        let columns = header(&file)?;
        let bytes = std::fs::metadata(&file)
            .with_context(|| format!("{}", file.display()))?
            .len();
        let plan = Plan {
            exe: crate::sendwatch_binary()?,
            file,
            scratch,
            columns,
            sqlite3: locate(args.peers.sqlite3.as_deref(), "sqlite3"),
            psql: locate(args.peers.psql.as_deref(), "psql"),
            postgres: args
                .peers
                .postgres
                .clone()
                .ok_or_else(|| "no --postgres URL (nor TEST_DATABASE_URL)".to_string()),
        };
        if let Ok(admin) = &plan.postgres {
            // Asked for PostgreSQL and cannot have it: that is an error, not a skip.
            let mut conn = admin_connection(admin).await?;
            drop_stale_databases(&mut conn).await;
            conn.close().await?;
        }
        Ok((plan, bytes))
    }
}

/// The report before the first round: each contender with no times yet, or why it is skipped.
fn empty_report(plan: &Plan, bytes: u64) -> Report {
    Report {
        file_name: plan
            .file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        rows: 0,
        bytes,
        sw_sqlite: vec![],
        sw_sqlite_rss_kib: vec![],
        sqlite3: skipped_or_empty(&plan.sqlite3),
        sw_pg: skipped_or_empty(&plan.postgres),
        sw_pg_rss_kib: vec![],
        psql: match (&plan.postgres, &plan.psql) {
            (Err(why), _) | (_, Err(why)) => Timings::Skipped(why.clone()),
            _ => Timings::Ran(vec![]),
        },
    }
}

/// Round `k`: each contender once, its times added to `rep`; sendwatch must load the same rows
/// every time. The round's times, as a line's tail.
async fn round(plan: &Plan, k: u32, rep: &mut Report) -> anyhow::Result<String> {
    let mut line = String::new();
    let url = format!(
        "sqlite://{}",
        plan.scratch.join(format!("round-{k}.db")).display()
    );
    let (ran, rows) = sendwatch_round(plan, &url, &format!("sw-sqlite-{k}")).await?;
    let _ = write!(line, " sendwatch->SQLite {}", fmt_duration(ran.wall));
    remove_sqlite(&plan.scratch.join(format!("round-{k}.db")));
    if k == 1 {
        rep.rows = rows;
    } else if rows != rep.rows {
        bail!(
            "sendwatch loaded {rows} rows in round {k} but {} in round 1",
            rep.rows
        );
    }
    rep.sw_sqlite.push(ran.wall);
    rep.sw_sqlite_rss_kib.push(ran.max_rss_kib);

    if let (Ok(sqlite3), Timings::Ran(times)) = (&plan.sqlite3, &mut rep.sqlite3) {
        let wall = sqlite3_round(plan, sqlite3, k, rep.rows).await?;
        let _ = write!(line, ", sqlite3 {}", fmt_duration(wall));
        times.push(wall);
    }
    if let (Ok(admin), Timings::Ran(times)) = (&plan.postgres, &mut rep.sw_pg) {
        let db = format!("sendwatch_bench_{}_{k}_sw", std::process::id());
        let url = create_database(admin, &db).await?;
        let result = sendwatch_round(plan, &url, &format!("sw-pg-{k}")).await;
        drop_database(admin, &db).await;
        let (ran, rows) = result?;
        if rows != rep.rows {
            bail!(
                "sendwatch loaded {rows} rows into PostgreSQL but {} into SQLite",
                rep.rows
            );
        }
        let _ = write!(line, ", sendwatch->PostgreSQL {}", fmt_duration(ran.wall));
        times.push(ran.wall);
        rep.sw_pg_rss_kib.push(ran.max_rss_kib);
    }
    if let (Ok(admin), Ok(psql), Timings::Ran(times)) = (&plan.postgres, &plan.psql, &mut rep.psql)
    {
        let db = format!("sendwatch_bench_{}_{k}_psql", std::process::id());
        let url = create_database(admin, &db).await?;
        let result = psql_round(plan, psql, &url, k, rep.rows).await;
        drop_database(admin, &db).await;
        let wall = result?;
        let _ = write!(line, ", psql {}", fmt_duration(wall));
        times.push(wall);
    }
    Ok(line)
}

/// A fresh scratch folder for one bench (see [`Scratch`]).
pub(crate) fn scratch_dir() -> anyhow::Result<PathBuf> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let scratch =
        std::env::temp_dir().join(format!("sendwatch-bench-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    Ok(scratch)
}

/// `sendwatch bench NAME: 5 round(s), 2 CPU(s), load average 0.42 before the rounds`: what
/// the table's times were measured under.
pub(crate) fn print_heading(bench: &str, count: u32, unit: &str, busy: Option<&str>) {
    println!(
        "sendwatch bench {bench}: {count} {unit}(s), {} CPU(s){}{}\n",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        busy.map_or_else(String::new, |l| format!(
            ", load average {l} before the {unit}s"
        )),
        if cfg!(debug_assertions) {
            ", debug build"
        } else {
            ""
        }
    );
}

/// The 1-minute load average (Linux), e.g. "0.42".
pub(crate) fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next().map(str::to_string)
}

fn skipped_or_empty<T>(r: &Result<T, String>) -> Timings {
    match r {
        Ok(_) => Timings::Ran(vec![]),
        Err(why) => Timings::Skipped(why.clone()),
    }
}

/// Runs the generator for one `kind` (tracker, reviews, provider) and returns the extract it
/// wrote.
pub(crate) async fn generate(
    generator: &Path,
    kind: &str,
    rows: u64,
    seed: u64,
    out: &Path,
) -> anyhow::Result<PathBuf> {
    eprintln!(
        "bench: generating {} {kind} rows (seed {seed})",
        fmt_count(rows)
    );
    let mut cmd = Command::new("python3");
    cmd.arg(generator)
        .args(["--rows", &rows.to_string(), "--seed", &seed.to_string()])
        .arg("--out")
        .arg(out)
        .args(["--kind", kind, "--quiet"]);
    let scratch = out.to_path_buf();
    let tag = format!("generator-{kind}");
    tokio::task::spawn_blocking(move || run_timed(cmd, None, &scratch, &tag))
        .await?
        .context("running the generator")?;
    Ok(out.join(format!("{kind}.csv")))
}

/// The header's column names, which must be plain identifiers (they go into SQL).
fn header(file: &Path) -> anyhow::Result<Vec<String>> {
    let f = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let mut line = String::new();
    std::io::BufReader::new(f)
        .take(64 * 1024)
        .read_line(&mut line)
        .with_context(|| format!("reading the header of {}", file.display()))?;
    let line = line
        .trim_start_matches('\u{feff}')
        .trim_end_matches(['\r', '\n']);
    let columns: Vec<String> = line.split(',').map(str::to_string).collect();
    let plain = |c: &str| {
        c.starts_with(|ch: char| ch.is_ascii_alphabetic() || ch == '_')
            && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
    };
    if let Some(bad) = columns.iter().find(|c| !plain(c)) {
        bail!(
            "{}: header column `{bad}` is not a plain name",
            file.display()
        );
    }
    Ok(columns)
}

/// `CREATE TABLE t (...)`: the first column is the key (the tracker's `case_id`); in
/// PostgreSQL the `*_date` columns are `date`, all else is text.
fn create_table(columns: &[String], pg: bool) -> String {
    let cols: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let ty = if !pg {
                "TEXT"
            } else if c.ends_with("_date") {
                "date"
            } else {
                "text"
            };
            let key = if i == 0 { " PRIMARY KEY" } else { "" };
            format!("{c} {ty}{key}")
        })
        .collect();
    format!("CREATE TABLE t ({})", cols.join(", "))
}

/// A path for a quoted argument of a `sqlite3` dot-command or psql's `\copy`.
fn quotable(p: &Path) -> anyhow::Result<String> {
    let s = p.to_str().context("the extract's path is not UTF-8")?;
    if s.contains(['\'', '"', '\\', '\n']) {
        bail!("the extract's path {s:?} has a quote, backslash or newline in it; move it");
    }
    Ok(s.to_string())
}

/// One timed `sendwatch --config <round.toml> load FILE --source tracker` into `store_url`;
/// returns the run and the rows it says it loaded.
async fn sendwatch_round(plan: &Plan, store_url: &str, tag: &str) -> anyhow::Result<(Ran, u64)> {
    let config = plan.scratch.join(format!("{tag}.toml"));
    let data_dir = plan.scratch.join("data");
    std::fs::write(
        &config,
        format!(
            "base = {}\n\n[general]\narea = \"bench\"\ntime_zone = \"Europe/London\"\ndata_dir = {}\n\n[store]\nurl = {}\n",
            toml_str(&sendwatch::config::plan::example_file().to_string_lossy()),
            toml_str(&data_dir.to_string_lossy()),
            toml_str(store_url)
        ),
    )
    .context("writing the round's configuration")?;
    let mut cmd = Command::new(&plan.exe);
    // Only the bench's configuration: none of the caller's SENDWATCH_* settings or log level.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SENDWATCH") {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(&plan.scratch)
        .arg("--config")
        .arg(&config)
        .arg("load")
        .arg(&plan.file)
        .args(["--source", "tracker"]);
    let scratch = plan.scratch.clone();
    let tag = tag.to_string();
    let ran = tokio::task::spawn_blocking(move || run_timed(cmd, None, &scratch, &tag))
        .await?
        .context("sendwatch load")?;
    let rows = loaded_rows(&ran.stdout).with_context(|| {
        format!(
            "sendwatch did not say `loaded`:\n{}{}",
            ran.stdout, ran.stderr
        )
    })?;
    Ok((ran, rows))
}

/// The row count from `run 1: source tracker: loaded (load 1, 60 rows, data as of ...)`.
fn loaded_rows(stdout: &str) -> Option<u64> {
    let line = stdout.lines().find(|l| l.contains(": loaded ("))?;
    let before = line.split(" rows").next()?;
    let digits: String = before
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().ok()
}

pub(crate) fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn remove_sqlite(db: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// One timed `sqlite3 db < commands` into a fresh file; checks it holds `rows` rows.
async fn sqlite3_round(plan: &Plan, sqlite3: &Path, k: u32, rows: u64) -> anyhow::Result<Duration> {
    let db = plan.scratch.join(format!("peer-{k}.db"));
    let commands = plan.scratch.join("sqlite3-commands.sql");
    std::fs::write(
        &commands,
        format!(
            ".bail on\n{};\n.mode csv\n.import --skip 1 '{}' t\n",
            create_table(&plan.columns, false),
            quotable(&plan.file)?
        ),
    )
    .context("writing the sqlite3 commands")?;
    let mut cmd = Command::new(sqlite3);
    cmd.current_dir(&plan.scratch).arg(&db);
    let scratch = plan.scratch.clone();
    let ran = tokio::task::spawn_blocking(move || {
        run_timed(cmd, Some(&commands), &scratch, &format!("sqlite3-{k}"))
    })
    .await?
    .context("sqlite3 .import")?;
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .context("opening the sqlite3 peer's database")?;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    remove_sqlite(&db);
    check_count("sqlite3 .import", count, rows)?;
    Ok(ran.wall)
}

/// One timed `psql URL -c "CREATE TABLE ..." -c "\copy t FROM 'FILE' ..."` into the fresh
/// database at `url`; checks it holds `rows` rows.
async fn psql_round(
    plan: &Plan,
    psql: &Path,
    url: &str,
    k: u32,
    rows: u64,
) -> anyhow::Result<Duration> {
    let mut cmd = Command::new(psql);
    cmd.current_dir(&plan.scratch)
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c"])
        .arg(create_table(&plan.columns, true))
        .arg("-c")
        .arg(format!(
            "\\copy t FROM '{}' WITH (FORMAT csv, HEADER)",
            quotable(&plan.file)?
        ));
    let scratch = plan.scratch.clone();
    let ran =
        tokio::task::spawn_blocking(move || run_timed(cmd, None, &scratch, &format!("psql-{k}")))
            .await?
            .context("psql \\copy")?;
    let mut conn = pg_connection(url)
        .await
        .context("connecting to the psql peer's database")?;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    check_count("psql \\copy", count, rows)?;
    Ok(ran.wall)
}

/// A peer that stored a different number of rows did different work: no fair comparison.
fn check_count(peer: &str, count: i64, rows: u64) -> anyhow::Result<()> {
    if u64::try_from(count).ok() != Some(rows) {
        bail!("{peer} stored {count} rows where sendwatch loaded {rows}: not comparable");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_row_count_is_read_from_the_load_line() {
        let out = "run 3: source tracker: loaded (load 2, 1000000 rows, data as of 2021-06-30)\n";
        assert_eq!(loaded_rows(out), Some(1_000_000));
        let out = "run 3: source tracker: loaded (load 2, 60 rows, 2 set aside, data as of -)\n";
        assert_eq!(loaded_rows(out), Some(60));
        assert_eq!(loaded_rows("run 3: source tracker: REJECTED, ..."), None);
    }

    #[test]
    fn the_peer_table_keys_the_first_column_and_types_dates_in_postgres() {
        let cols = ["case_id", "request_received_date", "looked_after"].map(String::from);
        assert_eq!(
            create_table(&cols, false),
            "CREATE TABLE t (case_id TEXT PRIMARY KEY, request_received_date TEXT, looked_after TEXT)"
        );
        assert_eq!(
            create_table(&cols, true),
            "CREATE TABLE t (case_id text PRIMARY KEY, request_received_date date, looked_after text)"
        );
    }

    #[test]
    fn toml_strings_are_escaped() {
        assert_eq!(toml_str("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
