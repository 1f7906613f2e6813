//! `sendwatch bench kpi`: the KPI step of a run, timed beside KPI 1/2a's monthly count as one
//! SQL query in the `sqlite3` shell (and `psql` on PostgreSQL), on the same tables, in the same
//! bench run; with a check that the two counts agree.
//!
//! The generator writes each extract the catalogue's computed KPIs read (`--rows` rows each);
//! the real loader (`App::load_by_hand`, as `sendwatch load` does) stores them in a fresh
//! database; then each round times `App::evaluate`, the very call a run makes (every computed
//! KPI of the catalogue: fold, rate, record), in this process, and one whole `sqlite3` (or
//! `psql`) process running the query, start to exit. Rounds interleave the two.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::Utc;
use sqlx::Connection as _;

use crate::child::{Ran, locate, own_cpu, run_timed};
use crate::kpi_table::{BackendRun, Counted, KpiReport, compare, parse_counts};
use crate::load::{
    PeerArgs, Scratch, generate, load_average, print_heading, scratch_dir, toml_str,
};
use crate::pg::{admin_connection, create_database, drop_database, drop_stale_databases};
use crate::report::{Timings, fmt_duration};
use sendwatch::config::{Settings, Sources};
use sendwatch::job::App;
use sendwatch::kpi::{Basis, EHCP_LIMIT_DAYS, Measure};
use sendwatch::schedule::JobSettings;
use sendwatch::store::SourceOutcome;
use sendwatch::store::{RunStatus, Trigger};

/// The KPI whose count the peers compute.
const PEER_KPI: &str = "1/2a";
/// The job name the bench's runs are recorded under.
const JOB: &str = "bench-kpi";

/// Which databases `bench kpi` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    Sqlite,
    Postgres,
    Both,
}

/// `sendwatch bench kpi`'s arguments.
#[derive(Debug, clap::Args)]
pub struct KpiArgs {
    /// gen_extracts.py: writes each extract the computed KPIs read, --rows rows each.
    #[arg(long)]
    pub generator: PathBuf,
    /// Rows per generated extract.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: u64,
    /// Seed for the generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Timed runs per contender; min and median are over these.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// SQLite, PostgreSQL (needs --postgres), or both (PostgreSQL skipped, and said so, when
    /// there is no URL or no server).
    #[arg(long, value_enum, default_value_t = Backend::Both)]
    pub backend: Backend,
    #[command(flatten)]
    pub peers: PeerArgs,
}

/// KPI 1/2a as the peers count it: the catalogue's own definition, which must still be the
/// one the query below spells out.
struct PeerKpi {
    started_from: Option<chrono::NaiveDate>,
    source: String,
}

/// The extracts and what the computed KPIs read.
struct Plan {
    scratch: PathBuf,
    /// (source, its generated file, rows loaded), in the order the catalogue names them.
    files: Vec<(String, PathBuf)>,
    /// The computed KPIs, in the catalogue's order, and the sources they read.
    kpis: Vec<String>,
    sources: Vec<String>,
    peer: PeerKpi,
}

pub async fn kpi(args: KpiArgs) -> anyhow::Result<ExitCode> {
    let scratch = scratch_dir()?;
    let _cleanup = Scratch(scratch.clone());
    // The source tree's example and the Sefton plan it names: the bench runs from a checkout.
    let base = Settings::load(&Sources {
        file: Some(sendwatch::config::plan::example_file()),
        env: false,
    })
    .context("reading the example configuration")?;
    let plan = plan(&base, &args, &scratch).await?;
    let disclosure = base.disclosure();
    drop(base);
    if cfg!(debug_assertions) {
        eprintln!("bench: note: a debug build; build with --release for representative times");
    }
    let sqlite3 = locate(args.peers.sqlite3.as_deref(), "sqlite3");
    let psql = locate(args.peers.psql.as_deref(), "psql");
    let postgres = postgres_admin(&args).await?;

    let mut rep = KpiReport {
        kpis: plan.kpis.len(),
        peer_kpi: PEER_KPI,
        sources: vec![],
        sqlite: None,
        postgres: None,
        disclosure,
    };
    let busy = load_average();
    if matches!(args.backend, Backend::Sqlite | Backend::Both) {
        let db = scratch.join("kpi.db");
        let url = format!("sqlite://{}", db.display());
        let peer = sqlite3.map(|p| SqlPeer::Sqlite3 { exe: p, db });
        rep.sqlite =
            Some(backend_rounds(&plan, &url, "SQLite", peer, args.runs, &mut rep.sources).await?);
    }
    if matches!(args.backend, Backend::Postgres | Backend::Both) {
        rep.postgres = Some(match &postgres {
            Err(why) => BackendRun::skipped(why),
            Ok(admin) => {
                let name = format!("sendwatch_bench_{}_kpi", std::process::id());
                let url = create_database(admin, &name).await?;
                let peer = psql.map(|p| SqlPeer::Psql {
                    exe: p,
                    url: url.clone(),
                });
                let result =
                    backend_rounds(&plan, &url, "PostgreSQL", peer, args.runs, &mut rep.sources)
                        .await;
                drop_database(admin, &name).await;
                result?
            }
        });
    }

    print_heading("kpi", args.runs, "run", busy.as_deref());
    print!("{}", rep.table());
    println!();
    let (notes, agree) = rep.verdicts();
    for line in &notes {
        println!("{line}");
    }
    if agree {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "bench: MISMATCH: the KPI step and the SQL query counted KPI {PEER_KPI} differently"
        );
        Ok(ExitCode::FAILURE) // 1, as cli::EXIT_FAILED: the counts disagree
    }
}

/// The sources the computed KPIs read, generated; the job that evaluates every computed KPI.
async fn plan(base: &Settings, args: &KpiArgs, scratch: &Path) -> anyhow::Result<Plan> {
    let computed: Vec<_> = base.kpis.computed().collect();
    let mut sources: Vec<String> = vec![];
    for c in &computed {
        if !sources.iter().any(|s| s == c.source) {
            sources.push(c.source.to_string());
        }
    }
    let mut files = vec![];
    for src in &sources {
        let kind = base
            .sources
            .get(src)
            .map(|s| s.kind.clone())
            .with_context(|| format!("no source `{src}` in the example configuration"))?;
        if !["tracker", "reviews", "provider"].contains(&kind.as_str()) {
            bail!("source `{src}` is of kind `{kind}`, which the generator does not write");
        }
        let file = generate(&args.generator, &kind, args.rows, args.seed, scratch).await?;
        files.push((src.clone(), file));
    }
    let peer = computed
        .iter()
        .find(|c| c.id == PEER_KPI)
        .with_context(|| format!("the catalogue has no computed KPI {PEER_KPI}"))?;
    if peer.measure != Measure::EhcpWithin20Weeks || peer.kpi.basis != Basis::Completed {
        bail!(
            "KPI {PEER_KPI} is no longer plans within 20 weeks by month of issue; \
             the bench's query must follow it"
        );
    }
    Ok(Plan {
        scratch: scratch.to_path_buf(),
        files,
        kpis: computed.iter().map(|c| c.id.to_string()).collect(),
        sources,
        peer: PeerKpi {
            started_from: peer.kpi.started_from,
            source: peer.source.to_string(),
        },
    })
}

/// The admin URL, or why the PostgreSQL rows are skipped. Asked for PostgreSQL alone and
/// cannot have it: that is an error.
async fn postgres_admin(args: &KpiArgs) -> anyhow::Result<Result<String, String>> {
    if args.backend == Backend::Sqlite {
        return Ok(Err("--backend sqlite".into()));
    }
    let Some(admin) = &args.peers.postgres else {
        if args.backend == Backend::Postgres {
            bail!("--backend postgres needs --postgres URL (or TEST_DATABASE_URL)");
        }
        return Ok(Err("no --postgres URL (nor TEST_DATABASE_URL)".into()));
    };
    match admin_connection(admin).await {
        Ok(mut conn) => {
            drop_stale_databases(&mut conn).await;
            conn.close().await?;
            Ok(Ok(admin.clone()))
        }
        Err(e) if args.backend == Backend::Both => Ok(Err(format!("{e:#}"))),
        Err(e) => Err(e),
    }
}

/// A peer that counts KPI 1/2a in one query.
enum SqlPeer {
    Sqlite3 { exe: PathBuf, db: PathBuf },
    Psql { exe: PathBuf, url: String },
}

/// Load the extracts into the fresh database at `url`, then time the KPI step and the peer's
/// query round by round, and fold once more to compare 1/2a's counts with the peer's.
async fn backend_rounds(
    plan: &Plan,
    url: &str,
    name: &str,
    peer: Result<SqlPeer, String>,
    runs: u32,
    sources: &mut Vec<(String, u64)>,
) -> anyhow::Result<BackendRun> {
    let app = bench_app(plan, url, name).await?;
    // The app's pool is closed however the runs end.
    let result: anyhow::Result<BackendRun> = async {
        let app = &app;
        let job = app
            .settings
            .jobs
            .get(JOB)
            .context("the bench's job is not in its configuration")?;
        let mut table = String::new();
        for (src, file) in &plan.files {
            let started = Instant::now();
            let (_, outcome) = app
                .load_by_hand(src, file, false, None)
                .await
                .with_context(|| format!("loading the generated {src} into {name}"))?;
            let SourceOutcome::Loaded { load_id, rows, .. } = outcome else {
                bail!("the generated {src} was not loaded into {name}: {outcome:?}");
            };
            eprintln!(
                "bench: {name}: loaded {src} ({rows} rows) in {}",
                fmt_duration(started.elapsed())
            );
            if *src == plan.peer.source {
                table = sendwatch::store::row_table(load_id);
            }
            if !sources.iter().any(|(s, _)| s == src) {
                sources.push((src.clone(), rows));
            }
        }
        let peer = peer.map(|p| (p.command(&table, &plan.peer, &plan.scratch), p.label()));
        let (mut ours, mut ours_cpu, mut theirs, mut theirs_cpu) = (vec![], vec![], vec![], vec![]);
        let mut counted = None;
        for k in 1..=runs {
            let (wall, cpu) = kpi_step(app, job, plan.kpis.len()).await?;
            let mut line = format!(
                "bench: run {k}/{runs}: {name} KPI step {}",
                fmt_duration(wall)
            );
            ours.push(wall);
            ours_cpu.push(cpu);
            if let Ok((cmd, label)) = &peer {
                let (ran, counts) = peer_round(cmd, &plan.scratch, &format!("peer-{name}-{k}"))
                    .await
                    .with_context(|| label.clone())?;
                line.push_str(&format!(", {label} {}", fmt_duration(ran.wall)));
                theirs.push(ran.wall);
                theirs_cpu.push(ran.cpu);
                if counted.as_ref().is_some_and(|c| *c != counts) {
                    bail!("{label} counted differently from one run to the next");
                }
                counted = Some(counts);
            }
            eprintln!("{line}");
        }
        let check = match (&peer, counted) {
            (Ok((_, label)), Some(peer_counts)) => {
                let ours = fold_peer_kpi(app, job).await?;
                Some(compare(
                    label,
                    &ours,
                    &peer_counts,
                    app.settings.disclosure(),
                ))
            }
            _ => None,
        };
        Ok(BackendRun {
            skipped: None,
            ours,
            ours_cpu,
            theirs_cpu,
            theirs: match &peer {
                Ok(_) => Timings::Ran(theirs),
                Err(why) => Timings::Skipped(why.clone()),
            },
            peer_name: match &peer {
                Ok((_, label)) => label.clone(),
                Err(_) => String::new(),
            },
            check,
        })
    }
    .await;
    app.store.close().await;
    result
}

/// Settings for a fresh database at `url` with the generated extracts as sources, and the app
/// a run would build from them (migrated).
async fn bench_app(plan: &Plan, url: &str, name: &str) -> anyhow::Result<App> {
    let dir = plan.scratch.join(format!("data-{name}"));
    let mut toml = format!(
        "base = {}\n\n[general]\narea = \"bench\"\ntime_zone = \"Europe/London\"\ndata_dir = {}\n\n\
         [store]\nurl = {}\n\n[delivery]\nmode = \"folder\"\nfolder = {}\n",
        toml_str(&sendwatch::config::plan::example_file().to_string_lossy()),
        toml_str(&dir.to_string_lossy()),
        toml_str(url),
        toml_str(&dir.join("outbox").to_string_lossy()),
    );
    for (src, file) in &plan.files {
        toml.push_str(&format!(
            "\n[sources.{src}]\nurl = {}\n",
            toml_str(&file.to_string_lossy())
        ));
    }
    // The job whose KPI step is timed: every computed KPI (none entered by hand), all else
    // as a configured job has it.
    let list = |xs: &[String]| {
        xs.iter()
            .map(|x| toml_str(x))
            .collect::<Vec<_>>()
            .join(", ")
    };
    toml.push_str(&format!(
        "\n[jobs.{JOB}]\ncron = \"0 7 2 * *\"\nsources = [{}]\nkpis = [{}]\nmanual_kpis = false\n",
        list(&plan.sources),
        list(&plan.kpis)
    ));
    let config = plan.scratch.join(format!("{name}.toml"));
    std::fs::write(&config, toml).context("writing the bench's configuration")?;
    let settings = Settings::load(&Sources {
        file: Some(config),
        env: false,
    })
    .context("the bench's configuration")?;
    App::build(settings)
        .await
        .with_context(|| format!("opening a fresh {name} database"))
}

/// One timed KPI step, in a run of its own (a run records each KPI once): wall time, and this
/// process's CPU time over it (all threads: the scans run on threads of their own).
async fn kpi_step(
    app: &App,
    job: &JobSettings,
    kpis: usize,
) -> anyhow::Result<(Duration, Duration)> {
    let run_id = app
        .store
        .start_run(JOB, Trigger::Manual, None, Utc::now())
        .await?;
    let today = Utc::now()
        .with_timezone(&app.settings.time_zone())
        .date_naive();
    let cpu = own_cpu();
    let started = Instant::now();
    let evaluations = app
        .evaluate(run_id, job, &BTreeMap::new(), None, today)
        .await
        .context("the KPI step")?;
    let wall = started.elapsed();
    let cpu = own_cpu().saturating_sub(cpu);
    app.store
        .finish_run(run_id, RunStatus::Ok, "bench kpi", Utc::now())
        .await?;
    if evaluations.len() != kpis {
        bail!(
            "the KPI step evaluated {} KPIs, not the catalogue's {kpis} computed ones",
            evaluations.len()
        );
    }
    Ok((wall, cpu))
}

/// KPI 1/2a's monthly counts from the run's own fold (the code `App::evaluate` calls).
async fn fold_peer_kpi(app: &App, job: &JobSettings) -> anyhow::Result<Counted> {
    let kpis = app.settings.job_kpis(job);
    let today = Utc::now().date_naive();
    let (_, counts) = app.fold_kpis(&kpis, &BTreeMap::new(), today).await?;
    let at = kpis
        .iter()
        .position(|c| c.id == PEER_KPI)
        .with_context(|| format!("the job has no KPI {PEER_KPI}"))?;
    Ok(counts
        .get(&at)
        .map(|c| {
            c.by_month
                .iter()
                .map(|(m, n)| (*m, (n.numerator, n.denominator)))
                .collect()
        })
        .unwrap_or_default())
}

impl SqlPeer {
    fn label(&self) -> String {
        match self {
            SqlPeer::Sqlite3 { .. } => "sqlite3".into(),
            SqlPeer::Psql { .. } => "psql".into(),
        }
    }

    /// The peer's command: KPI 1/2a by month of final plan, as `yyyymm,on time,counted` lines.
    fn command(&self, table: &str, kpi: &PeerKpi, scratch: &Path) -> Command {
        let (request, plan) = ("\"request_received_date\"", "\"final_plan_issued_date\"");
        match self {
            SqlPeer::Sqlite3 { exe, db } => {
                // Dates are yyyymmdd integers: julianday needs them spelled as ISO dates.
                let iso = |c: &str| {
                    format!(
                        "julianday(printf('%04d-%02d-%02d', {c} / 10000, {c} / 100 % 100, {c} % 100))"
                    )
                };
                let from = kpi.started_from.map_or_else(String::new, |d| {
                    format!(" AND {request} >= {}", sendwatch::store::date_number(d))
                });
                let sql = format!(
                    "SELECT {plan} / 100 AS m, sum({} - {} <= {EHCP_LIMIT_DAYS}), count(*) \
                     FROM {table} WHERE {plan} IS NOT NULL{from} GROUP BY m ORDER BY m;",
                    iso(plan),
                    iso(request)
                );
                let mut cmd = Command::new(exe);
                cmd.current_dir(scratch)
                    .args(["-bail", "-readonly", "-csv", "-noheader"])
                    .arg(db)
                    .arg(sql);
                cmd
            }
            SqlPeer::Psql { exe, url } => {
                let from = kpi
                    .started_from
                    .map_or_else(String::new, |d| format!(" AND {request} >= DATE '{d}'"));
                let sql = format!(
                    "SELECT (extract(year FROM {plan}) * 100 + extract(month FROM {plan}))::int AS m, \
                     count(*) FILTER (WHERE {plan} - {request} <= {EHCP_LIMIT_DAYS}), count(*) \
                     FROM {table} WHERE {plan} IS NOT NULL{from} GROUP BY m ORDER BY m"
                );
                let mut cmd = Command::new(exe);
                cmd.current_dir(scratch)
                    .args([
                        "-X",
                        "-q",
                        "-A",
                        "-t",
                        "-F",
                        ",",
                        "-v",
                        "ON_ERROR_STOP=1",
                        "-d",
                    ])
                    .arg(url)
                    .arg("-c")
                    .arg(sql);
                cmd
            }
        }
    }
}

/// One timed run of the peer's query, start to exit, and the counts it printed.
async fn peer_round(cmd: &Command, scratch: &Path, tag: &str) -> anyhow::Result<(Ran, Counted)> {
    let mut again = Command::new(cmd.get_program());
    again.args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        again.current_dir(dir);
    }
    let (scratch, tag) = (scratch.to_path_buf(), tag.to_string());
    let ran = tokio::task::spawn_blocking(move || run_timed(again, None, &scratch, &tag)).await??;
    let counts = parse_counts(&ran.stdout)?;
    Ok((ran, counts))
}
