//! `sendwatch bench sen2`: a benchmark, not a timed test. It times this very binary's validated
//! `load FILE --source ...` of one SEN2 XML return as a child process into a fresh SQLite
//! database each round, once as the return's requests and once as its active plans, and prints
//! min and median wall times and peak RSS against issue 20's targets (a large county's return,
//! about 20,000 plans and 15,000 requests: under 1 s and under 64 MiB each) as a Markdown table.
//!
//! The return is an argument: `--file` a SEN2 XML, or `--generator` gen_extracts.py to write
//! one of `--rows` tracker and `--rows` review persons (`--format sen2-xml`); 20,000 gives
//! 20,000 active plans and 40,000 requests (each plan's own request besides the tracker's).
//!
//! The peer, timed in the same rounds, is what an analyst without sendwatch writes: Python's
//! streaming `xml.etree.ElementTree.iterparse` over the same file, one row per request (its
//! dates, outcome and plan start) into a fresh SQLite file with `executemany`, no check of
//! any code, date or join. It is the floor a validated load is measured against.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::child::{locate, run_timed};
use crate::load::{Scratch, load_average, print_heading, scratch_dir, toml_str};
use crate::report::{fmt_bytes, fmt_count, fmt_duration, median, min, ratio, rss_row};

/// The target on each load's wall time.
const TIME_TARGET: Duration = Duration::from_secs(1);

/// `sendwatch bench sen2`'s arguments.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["file", "generator"])))]
pub struct Sen2Args {
    /// The SEN2 XML return to load.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// gen_extracts.py: write a SEN2 XML of --rows tracker and --rows review persons with
    /// --seed first, and load that.
    #[arg(long)]
    pub generator: Option<PathBuf>,
    /// Persons of each kind for --generator.
    #[arg(long, default_value_t = 20_000)]
    pub rows: u64,
    /// Seed for --generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Rounds per projection; min and median are over these.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
}

/// The two projections timed: (records, kind, label).
const LOADS: [(&str, &str, &str); 2] = [
    ("requests", "sen2_requests", "requests"),
    ("active_plans", "sen2_active_plans", "active plans"),
];

/// One projection's rounds.
#[derive(Default)]
struct Timed {
    rows: u64,
    wall: Vec<Duration>,
    /// CPU time, user and system: what the wall time is, on a machine with room to spare.
    cpu: Vec<Duration>,
    rss_kib: Vec<u64>,
}

/// The peer: a streaming parse of the return into SQLite, one row per request, unvalidated.
/// Prints the rows it stored.
const PEER: &str = r#"import sqlite3, sys
from xml.etree.ElementTree import iterparse
db = sqlite3.connect(sys.argv[2])
db.execute("CREATE TABLE requests (received TEXT, outcome_date TEXT, outcome TEXT, assessed TEXT, plan_start TEXT)")
rows = []
for event, el in iterparse(sys.argv[1], events=("end",)):
    if el.tag == "Requests":
        rows.append((el.findtext("ReceivedDate"), el.findtext("RequestOutcomeDate"),
                     el.findtext("RequestOutcome"), el.findtext("Assessment/AssessmentOutcomeDate"),
                     el.findtext("Assessment/NamedPlan/StartDate")))
    elif el.tag == "Person":
        el.clear()
    if len(rows) >= 10000:
        db.executemany("INSERT INTO requests VALUES (?, ?, ?, ?, ?)", rows)
        rows = []
db.executemany("INSERT INTO requests VALUES (?, ?, ?, ?, ?)", rows)
db.commit()
print(db.execute("SELECT count(*) FROM requests").fetchone()[0])
"#;

pub async fn sen2(args: Sen2Args) -> anyhow::Result<ExitCode> {
    let scratch = scratch_dir()?;
    let _cleanup = Scratch(scratch.clone());
    let file = match (&args.file, &args.generator) {
        (Some(f), _) => std::fs::canonicalize(f).with_context(|| format!("{}", f.display()))?,
        (None, Some(g)) => generate(g, args.rows, args.seed, &scratch).await?,
        (None, None) => bail!("give --file FILE or --generator PATH"),
    };
    let bytes = std::fs::metadata(&file)
        .with_context(|| format!("{}", file.display()))?
        .len();
    let exe = crate::sendwatch_binary()?;
    if cfg!(debug_assertions) {
        eprintln!("bench: note: a debug build; build with --release for representative times");
    }
    let busy = load_average();
    let mut timed: Vec<Timed> = LOADS.iter().map(|_| Timed::default()).collect();
    let mut peer = Timed::default();
    let python = locate(None, "python3");
    let script = scratch.join("peer.py");
    std::fs::write(&script, PEER).context("writing the peer's script")?;
    for k in 1..=args.rounds {
        let mut line = String::new();
        if let Ok(python) = &python {
            let (wall, cpu, rss, rows) = peer_round(python, &script, &file, &scratch, k).await?;
            peer.wall.push(wall);
            peer.cpu.push(cpu);
            peer.rss_kib.push(rss);
            peer.rows = rows;
            let _ = write!(line, " python {}", fmt_duration(wall));
        }
        for ((records, kind, label), t) in LOADS.iter().zip(&mut timed) {
            let (wall, cpu, rss, rows) = round(&exe, &file, &scratch, records, kind, k).await?;
            t.wall.push(wall);
            t.cpu.push(cpu);
            t.rss_kib.push(rss);
            t.rows = rows;
            let _ = write!(line, " {label} {}", fmt_duration(wall));
        }
        eprintln!("bench: round {k}/{}:{line}", args.rounds);
    }
    print_heading("sen2", args.rounds, "round", busy.as_deref());
    print!("{}", table(&file, bytes, &timed, &peer));
    if let Err(why) = python {
        println!("\nThe Python script was skipped: {why}");
    }
    Ok(ExitCode::SUCCESS)
}

/// gen_extracts.py `--format sen2-xml`; returns the XML it wrote.
async fn generate(generator: &Path, rows: u64, seed: u64, out: &Path) -> anyhow::Result<PathBuf> {
    eprintln!(
        "bench: generating a SEN2 XML of {} tracker and review persons (seed {seed})",
        fmt_count(rows)
    );
    let mut cmd = Command::new("python3");
    cmd.arg(generator)
        .args(["--rows", &rows.to_string(), "--seed", &seed.to_string()])
        .arg("--out")
        .arg(out)
        .args(["--format", "sen2-xml", "--quiet"]);
    let scratch = out.to_path_buf();
    tokio::task::spawn_blocking(move || run_timed(cmd, None, &scratch, "generator-sen2"))
        .await?
        .context("running the generator")?;
    Ok(out.join("sen2.xml"))
}

/// One timed `sendwatch load FILE --source sen2` of `records` into a fresh SQLite file:
/// (wall time, CPU time, peak RSS in KiB, rows loaded).
async fn round(
    exe: &Path,
    file: &Path,
    scratch: &Path,
    records: &str,
    kind: &str,
    k: u32,
) -> anyhow::Result<(Duration, Duration, u64, u64)> {
    let tag = format!("sen2-{records}-{k}");
    let db = scratch.join(format!("{tag}.db"));
    let config = scratch.join(format!("{tag}.toml"));
    std::fs::write(
        &config,
        format!(
            "base = {}\n\n[general]\narea = \"bench\"\ntime_zone = \"Europe/London\"\n\
             data_dir = {}\n\n[store]\nurl = {}\n\n[sources.sen2]\nkind = \"{kind}\"\n\
             url = \"unused.xml\"\nmax_bytes = 68719476736\n\n[sources.sen2.load]\n\
             format = \"sen2-xml\"\nsen2 = {{ records = \"{records}\" }}\n",
            toml_str(&sendwatch::config::plan::example_file().to_string_lossy()),
            toml_str(&scratch.join("data").to_string_lossy()),
            toml_str(&format!("sqlite://{}", db.display())),
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
        .arg("load")
        .arg(file)
        .args(["--source", "sen2"]);
    let dir = scratch.to_path_buf();
    let ran = tokio::task::spawn_blocking(move || run_timed(cmd, None, &dir, &tag))
        .await?
        .context("sendwatch load")?;
    let rows = ran
        .stdout
        .lines()
        .find(|l| l.contains(": loaded ("))
        .and_then(|l| l.split(", ").nth(1))
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .with_context(|| {
            format!(
                "sendwatch did not say `loaded`:\n{}{}",
                ran.stdout, ran.stderr
            )
        })?;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    Ok((ran.wall, ran.cpu, ran.max_rss_kib, rows))
}

/// One timed run of the peer's script over `file` into a fresh SQLite file: (wall time, CPU
/// time, peak RSS in KiB, rows stored).
async fn peer_round(
    python: &Path,
    script: &Path,
    file: &Path,
    scratch: &Path,
    k: u32,
) -> anyhow::Result<(Duration, Duration, u64, u64)> {
    let tag = format!("sen2-peer-{k}");
    let db = scratch.join(format!("{tag}.db"));
    let mut cmd = Command::new(python);
    cmd.current_dir(scratch).arg(script).arg(file).arg(&db);
    let dir = scratch.to_path_buf();
    let ran = tokio::task::spawn_blocking(move || run_timed(cmd, None, &dir, &tag))
        .await?
        .context("the peer's python3")?;
    let rows = ran
        .stdout
        .trim()
        .parse()
        .with_context(|| format!("the peer did not print its rows:\n{}", ran.stdout))?;
    let _ = std::fs::remove_file(&db);
    Ok((ran.wall, ran.cpu, ran.max_rss_kib, rows))
}

/// The Markdown table: each projection's times beside the peer's, then the peak RSS.
fn table(file: &Path, bytes: u64, timed: &[Timed], peer: &Timed) -> String {
    let name = file
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| load of {name} ({}) | min | median | rows, target |",
        fmt_bytes(bytes)
    );
    out.push_str("|---|---|---|---|\n");
    let peer_min = min(&peer.wall);
    for ((_, _, label), t) in LOADS.iter().zip(timed) {
        let (Some(lo), Some(mid), Some(cpu)) = (min(&t.wall), median(&t.wall), min(&t.cpu)) else {
            continue;
        };
        let against = peer_min.map_or_else(String::new, |p| {
            let r = ratio(p, lo);
            let how = if r >= 1.0 {
                "faster than"
            } else {
                "the speed of"
            };
            format!("; {r:.2}x {how} the Python script")
        });
        let verdict = if lo < TIME_TARGET {
            "met".to_string()
        } else {
            format!("missed by {}", fmt_duration(lo - TIME_TARGET))
        };
        let _ = writeln!(
            out,
            "| {label} -> SQLite (validated) | {} | {} | {} rows, CPU {}; target < {}: {verdict}{against} |",
            fmt_duration(lo),
            fmt_duration(mid),
            fmt_count(t.rows),
            fmt_duration(cpu),
            fmt_duration(TIME_TARGET),
        );
    }
    if let (Some(lo), Some(mid), Some(cpu)) = (peer_min, median(&peer.wall), min(&peer.cpu)) {
        let _ = writeln!(
            out,
            "| python3 iterparse -> sqlite3 (unvalidated requests) | {} | {} | {} rows, CPU {} |",
            fmt_duration(lo),
            fmt_duration(mid),
            fmt_count(peer.rows),
            fmt_duration(cpu),
        );
    }
    for ((_, _, label), t) in LOADS.iter().zip(timed) {
        rss_row(
            &mut out,
            &format!("sendwatch peak RSS ({label})"),
            &t.rss_kib,
        );
    }
    rss_row(&mut out, "python3 peak RSS", &peer.rss_kib);
    out
}
