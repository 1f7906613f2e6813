//! `sendwatch bench national`: one evaluation cycle of every local authority in England on
//! one PostgreSQL (issue 19), timed. Not a test: a benchmark with targets to report against.
//!
//! The areas are the DfE release's local authorities ([`dfe`]), each sized by its own
//! figures and given extracts of that size by the generator, one seed per area, generated
//! once per bench run ([`extracts`]). The bench serves them over loopback HTTP and takes the
//! mail with a loopback SMTP sink ([`loopback`]), writes a deployment of one file per area
//! ([`deploy`]), and for each area count and replica count, on a fresh database, starts the
//! replicas as processes of their own ([`worker`]) and times every area's job at one
//! scheduled instant through the ledger's claims: fetch, load, KPIs, risks, digests queued
//! and delivered. Then it checks that every area ran exactly once and every message reached
//! the sink once, and prints the tables ([`table`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::{DateTime, SubsecRound as _, Utc};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::{Child, ChildStdout};

use crate::load::{Scratch, load_average, print_heading, scratch_dir};
use crate::pg::{admin_connection, create_database, drop_database, drop_stale_databases};
use sendwatch::config::{Deployment, Settings, Sources};
use sendwatch::job::Stages;
use sendwatch::store::Store;

mod checks;
pub mod deploy;
pub mod dfe;
pub mod extracts;
pub mod loopback;
pub mod table;
pub mod worker;

use extracts::{Area, Cache};
use table::Cycle;
use worker::WorkerReport;

/// `sendwatch bench national`'s arguments.
#[derive(Debug, clap::Args)]
pub struct NationalArgs {
    /// gen_extracts.py: writes each area's tracker, reviews and provider extracts.
    #[arg(long)]
    pub generator: PathBuf,
    /// The DfE release's folder: requests.csv, newplans.csv and caseload.csv.
    #[arg(long)]
    pub data: PathBuf,
    /// A PostgreSQL URL whose user may CREATE DATABASE; each cycle gets a fresh database.
    #[arg(long, env = "TEST_DATABASE_URL", hide_env_values = true)]
    pub postgres: String,
    /// The area counts to time, each a cycle of its own.
    #[arg(long, value_delimiter = ',', default_value = "19,38,76,152")]
    pub areas: Vec<usize>,
    /// The replica counts to time each area count with (processes sharing the claims).
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub replicas: Vec<u32>,
    /// Runs under way at once in each replica (`[daemon] max_runs`; default: the daemon's).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Each replica's database pool (`[store] max_connections`; default: the example's).
    #[arg(long)]
    pub pool: Option<u32>,
}

/// What every cycle shares.
struct Plan {
    admin: String,
    scratch: PathBuf,
    concurrency: usize,
    pool: u32,
    extracts: loopback::Extracts,
    sink: loopback::Sink,
}

pub async fn national(args: NationalArgs) -> anyhow::Result<ExitCode> {
    check_args(&args)?;
    let (concurrency, pool) = defaults(&args)?;
    let release = dfe::read(&args.data)?;
    let scratch = scratch_dir()?;
    let _cleanup = Scratch(scratch.clone());
    let (picks, cache) = extracts_of(&args, &release, &scratch).await?;

    let mut conn = admin_connection(&args.postgres).await?;
    drop_stale_databases(&mut conn).await;
    sqlx::Connection::close(conn).await?;
    let extracts = loopback::Extracts::start(cache.paths()).await?;
    let sink = loopback::Sink::start().await?;
    let plan = Plan {
        admin: args.postgres.clone(),
        scratch: scratch.clone(),
        concurrency,
        pool,
        extracts,
        sink,
    };
    if cfg!(debug_assertions) {
        eprintln!("bench: note: a debug build; build with --release for representative times");
    }
    let busy = load_average();
    let mut cycles = Vec::new();
    for areas in &picks {
        for &replicas in &args.replicas {
            eprintln!(
                "bench: {} areas, {replicas} replica(s): one cycle",
                areas.len()
            );
            let c = cycle(&plan, areas, replicas).await?;
            eprintln!(
                "bench: {} areas, {replicas} replica(s): {}",
                areas.len(),
                crate::report::fmt_duration(c.wall)
            );
            cycles.push(c);
        }
    }
    Ok(print_report(&plan, &release, busy.as_deref(), &cycles))
}

/// Runs at once and the pool's size: as given, else the example's (and so the daemon's)
/// defaults.
fn defaults(args: &NationalArgs) -> anyhow::Result<(usize, u32)> {
    let example = Settings::load_unchecked(&Sources {
        file: Some(sendwatch::config::plan::example_file()),
        env: false,
    })
    .context("reading the example configuration")?;
    Ok((
        args.concurrency.unwrap_or(example.daemon.runs()),
        args.pool.unwrap_or(example.store.max_connections),
    ))
}

/// The areas of each `--areas` count, spread over the release by size, and their extracts
/// generated once each into `scratch`.
async fn extracts_of(
    args: &NationalArgs,
    release: &dfe::Release,
    scratch: &Path,
) -> anyhow::Result<(Vec<Vec<Area>>, Cache)> {
    let most = args.areas.iter().copied().max().unwrap_or(0);
    if most > release.authorities.len() {
        bail!(
            "--areas {most}: the release has {} local authorities with all three figures",
            release.authorities.len()
        );
    }
    let mut picks = Vec::new();
    for &n in &args.areas {
        let areas: Vec<Area> = dfe::pick(&release.authorities, n)?
            .iter()
            .map(extracts::area)
            .collect();
        picks.push(areas);
    }
    let mut cache = Cache::default();
    let all: Vec<Area> = picks.iter().flatten().cloned().collect();
    let ids: BTreeSet<&str> = all.iter().map(|a| a.id.as_str()).collect();
    eprintln!(
        "bench: generating the extracts of {} areas (3 each)",
        ids.len()
    );
    cache
        .fill(&args.generator, &scratch.join("extracts"), &all)
        .await?;
    Ok((picks, cache))
}

/// The heading, what was run and the table; a failure when a check found a mismatch.
fn print_report(
    plan: &Plan,
    release: &dfe::Release,
    busy: Option<&str>,
    cycles: &[Cycle],
) -> ExitCode {
    let count = u32::try_from(cycles.len()).unwrap_or(u32::MAX);
    print_heading("national", count, "cycle", busy);
    println!(
        "{} local authorities in the DfE release ({} left out for want of a figure): requests and \
         new plans in {}, plans in January of {}. Areas of each count are spread evenly over \
         them by size. Extract rows per area: {}. Every area runs the example's `{}` job over \
         its three extracts with the shipped Sefton plan; up to {} runs at once per replica \
         (`[daemon] max_runs`), a pool of {} connections each.\n",
        release.authorities.len(),
        release.left_out,
        release.periods[0],
        academic_year(&release.periods[2]),
        dfe::SCALING,
        deploy::JOB,
        plan.concurrency,
        plan.pool
    );
    print!("{}", table::render(cycles));
    let failed = cycles
        .iter()
        .flat_map(|c| &c.checks)
        .any(|l| l.starts_with("MISMATCH"));
    if failed {
        eprintln!("bench: MISMATCH: not every area ran once, or not every message arrived once");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn check_args(args: &NationalArgs) -> anyhow::Result<()> {
    if args.areas.is_empty() || args.areas.contains(&0) {
        bail!("--areas: one or more area counts, each at least 1");
    }
    if args.replicas.is_empty() || args.replicas.iter().any(|r| !(1..=8).contains(r)) {
        bail!("--replicas: one or more replica counts, each 1 to 8");
    }
    if args.concurrency.is_some_and(|c| !(1..=64).contains(&c)) {
        bail!("--concurrency: 1 to 64 runs");
    }
    if args.pool.is_some_and(|p| !(1..=100).contains(&p)) {
        bail!("--pool: 1 to 100 connections");
    }
    Ok(())
}

/// `202425` -> `2025` (the January of academic year 2024/25); anything else as it is.
fn academic_year(period: &str) -> String {
    match (period.len(), period.get(..2), period.get(4..)) {
        (6, Some(century), Some(year)) => format!("{century}{year}"),
        _ => period.to_string(),
    }
}

/// One cycle of `areas` with `replicas` replicas, on a fresh database dropped after.
async fn cycle(plan: &Plan, areas: &[Area], replicas: u32) -> anyhow::Result<Cycle> {
    let db = format!(
        "sendwatch_bench_{}_national_{}_{replicas}",
        std::process::id(),
        areas.len()
    );
    let url = create_database(&plan.admin, &db).await?;
    let result = cycle_on(plan, &url, areas, replicas).await;
    drop_database(&plan.admin, &db).await;
    result
}

async fn cycle_on(plan: &Plan, url: &str, areas: &[Area], replicas: u32) -> anyhow::Result<Cycle> {
    let dir = plan
        .scratch
        .join(format!("deploy-{}-{replicas}", areas.len()));
    let extracts = plan.extracts.url("");
    let shared = deploy::Shared {
        store_url: url,
        pool: plan.pool,
        max_runs: plan.concurrency,
        smtp_port: plan.sink.port,
        extracts: &extracts,
    };
    let config = deploy::write(&dir, &shared, areas)?;
    // Migrated before the replicas start, as an upgrade would leave it; kept for the checks.
    let deployment = Deployment::load(&Sources {
        file: Some(config.clone()),
        env: false,
    })
    .context("reading the bench's deployment")?;
    let base = Store::connect(&deployment.areas[0].store).await?;
    base.migrate().await?;
    drop(deployment);
    plan.sink.take();
    let at = Utc::now().trunc_subsecs(0);

    let mut workers = Vec::new();
    for k in 1..=replicas {
        workers.push(Worker::start(&config, at, &dir, k)?);
    }
    for w in &mut workers {
        w.expect_ready().await?;
    }
    let began = Instant::now();
    for w in &mut workers {
        w.go().await?;
    }
    let mut reports = Vec::new();
    for w in &mut workers {
        reports.push(w.report().await?);
    }
    let wall = began.elapsed();
    for w in &mut workers {
        w.wait().await?;
    }
    let received = plan.sink.take();
    let checks = checks::exactly_once(&base, at, areas, &reports, &received).await?;
    base.close().await;

    let rows: BTreeMap<&str, u64> = areas
        .iter()
        .map(|a| (a.id.as_str(), a.total_rows()))
        .collect();
    let mut stages = Stages::default();
    let mut runs = Vec::new();
    for o in reports
        .iter()
        .flat_map(|r| &r.areas)
        .filter(|o| o.outcome == "ran")
    {
        stages.merge(&o.stages());
        let n = rows.get(o.id.as_str()).copied().unwrap_or(0);
        runs.push((n, Duration::from_micros(o.wall_us)));
    }
    Ok(Cycle {
        areas: areas.len(),
        replicas,
        rows: rows.values().sum(),
        startup: reports
            .iter()
            .map(|r| Duration::from_micros(r.startup_us))
            .max()
            .unwrap_or_default(),
        wall,
        rss_kib: reports.iter().map(|r| r.max_rss_kib).collect(),
        stages,
        runs,
        checks,
    })
}

/// A replica: this binary again, as `national-worker`.
struct Worker {
    child: Child,
    lines: tokio::io::Lines<BufReader<ChildStdout>>,
    stderr: PathBuf,
    replica: u32,
}

impl Worker {
    fn start(config: &Path, at: DateTime<Utc>, dir: &Path, replica: u32) -> anyhow::Result<Worker> {
        let exe = std::env::current_exe().context("finding the bench binary")?;
        let stderr = dir.join(format!("replica-{replica}.err"));
        let mut cmd = tokio::process::Command::new(exe);
        // Only the bench's configuration: none of the caller's SENDWATCH_* settings.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("SENDWATCH") {
                cmd.env_remove(key);
            }
        }
        cmd.arg("national-worker")
            .arg("--config")
            .arg(config)
            .args(["--at", &at.to_rfc3339()])
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).context("creating a replica's log")?)
            .kill_on_drop(true);
        let mut child = cmd.spawn().context("starting a replica")?;
        let stdout = child.stdout.take().context("a replica's stdout")?;
        Ok(Worker {
            child,
            lines: BufReader::new(stdout).lines(),
            stderr,
            replica,
        })
    }

    /// The next line on the replica's stdout; its log's tail if it ended first.
    async fn line(&mut self) -> anyhow::Result<String> {
        match self.lines.next_line().await? {
            Some(l) => Ok(l),
            None => {
                let status = self.child.wait().await?;
                let log = std::fs::read_to_string(&self.stderr).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(15).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                bail!(
                    "replica {} ended ({status}) before its report:\n{}",
                    self.replica,
                    tail.join("\n")
                )
            }
        }
    }

    async fn expect_ready(&mut self) -> anyhow::Result<()> {
        let l = self.line().await?;
        if l != "ready" {
            bail!("replica {} said {l:?}, not ready", self.replica);
        }
        Ok(())
    }

    async fn go(&mut self) -> anyhow::Result<()> {
        let stdin = self.child.stdin.as_mut().context("a replica's stdin")?;
        stdin.write_all(b"go\n").await?;
        stdin.flush().await?;
        Ok(())
    }

    async fn report(&mut self) -> anyhow::Result<WorkerReport> {
        let l = self.line().await?;
        let json = l
            .strip_prefix("report ")
            .with_context(|| format!("replica {} said {l:?}, not its report", self.replica))?;
        serde_json::from_str(json).context("reading a replica's report")
    }

    async fn wait(&mut self) -> anyhow::Result<()> {
        let status = self.child.wait().await?;
        if !status.success() {
            bail!("replica {} ended {status}", self.replica);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_academic_year_gives_its_january() {
        assert_eq!(academic_year("202425"), "2025");
        assert_eq!(academic_year("2024"), "2024");
    }
}
