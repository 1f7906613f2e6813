//! The command line: `daemon`, `run-now [JOB]`, `load FILE --source NAME`, `load approve ID`,
//! `check-config`, `kpi show [KPI]`, `db migrate`, `bench load`.
//!
//! Exit codes: 0 all well; 1 a run failed (a source or a delivery); 2 usage; 78 the
//! configuration is wrong (EX_CONFIG, so systemd and scripts can tell).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;
use clap::{Parser, Subcommand};

use crate::config::{ConfigError, Settings, Sources, override_file, redact_url};
use crate::job::{App, RunOptions, RunReport, SourceOutcome};
use crate::kpi::Month;
use crate::schedule::Entry;
use crate::store::{RunStatus, Store};

pub const EXIT_FAILED: u8 = 1;
pub const EXIT_CONFIG: u8 = 78;

#[derive(Debug, Parser)]
#[command(
    name = "sendwatch",
    version,
    about = "Watches a SEND improvement plan's KPIs and emails exception reports"
)]
pub struct Cli {
    /// Configuration file layered over the built-in example (also $SENDWATCH_CONFIG).
    #[arg(short, long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the configured jobs on their schedules until SIGTERM.
    Daemon,
    /// Run a job once now (every enabled job if none is named) and print a summary.
    RunNow {
        job: Option<String>,
        /// Report on this month (YYYY-MM) instead of the last complete month of the data.
        #[arg(long)]
        period: Option<Month>,
    },
    /// Validate the configuration and print each job's next fire time.
    CheckConfig,
    /// Load an extract file by hand through the same checks as a run (`load FILE --source
    /// NAME [--dry-run]`), or approve a held load (`load approve LOAD_ID`).
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Load {
        #[command(subcommand)]
        action: Option<LoadCommand>,
        /// The extract file.
        #[arg(required = true)]
        file: Option<PathBuf>,
        /// The configured source it is an extract of (its kind and reading rules apply).
        #[arg(long, required = true)]
        source: Option<String>,
        /// Check everything, store nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// The KPI catalogue with the latest stored values.
    Kpi {
        #[command(subcommand)]
        command: KpiCommand,
    },
    /// Database maintenance.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Benchmarks (need no configuration file).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Time `load` into SQLite and PostgreSQL beside `sqlite3 .import` and `psql \copy`.
    Load(crate::bench::LoadArgs),
}

#[derive(Debug, Subcommand)]
pub enum LoadCommand {
    /// Swap in a load the shrink guard held, as the source's current data.
    Approve { load_id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum KpiCommand {
    /// Print the board's KPI table: baseline, each milestone with its target and the stored
    /// value and RAG for its month, owner.
    Show {
        /// One KPI id (e.g. 1/2a); all of them if not given.
        kpi: Option<String>,
        /// table, csv (one row per milestone) or json.
        #[arg(long, default_value = "table")]
        format: crate::kpi::show::Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply pending migrations.
    Migrate,
}

/// Why the binary stops early.
enum Failure {
    Config(ConfigError),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        Failure::Other(e)
    }
}

pub fn main(cli: Cli) -> ExitCode {
    crate::telemetry::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sendwatch: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let outcome = runtime.block_on(dispatch(cli));
    // A blocking read stuck in the kernel (a hung network file system) must not keep the
    // process alive: give blocking tasks a moment, then exit regardless.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    match outcome {
        Ok(code) => code,
        Err(Failure::Config(e)) => {
            eprintln!("sendwatch: {e}");
            ExitCode::from(EXIT_CONFIG)
        }
        Err(Failure::Other(e)) => {
            eprintln!("sendwatch: {e:#}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

fn load_settings(cli: &Cli) -> Result<Settings, Failure> {
    let sources = Sources {
        file: override_file(cli.config.as_deref()),
        env: true,
    };
    Settings::load(&sources).map_err(Failure::Config)
}

async fn dispatch(cli: Cli) -> Result<ExitCode, Failure> {
    // The bench reads no configuration of the user's: it runs before the settings load.
    if let Command::Bench {
        command: BenchCommand::Load(args),
    } = cli.command
    {
        return Ok(crate::bench::load(args).await?);
    }
    let settings = load_settings(&cli)?;
    match cli.command {
        Command::Bench { .. } => unreachable!("bench runs before the settings load"),
        Command::CheckConfig => {
            check_config(&settings);
            Ok(ExitCode::SUCCESS)
        }
        Command::Db {
            command: DbCommand::Migrate,
        } => {
            let store = Store::connect(&settings.store)
                .await
                .context("connecting to the database")?;
            store.migrate().await.context("migrating")?;
            println!(
                "database {} ({}) is up to date",
                redact_url(secrecy::ExposeSecret::expose_secret(&settings.store.url)),
                store.backend()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Kpi {
            command: KpiCommand::Show { kpi, format },
        } => {
            let store = Store::connect(&settings.store)
                .await
                .context("connecting to the database")?;
            store.migrate().await.context("migrating")?;
            let results = store.latest_results().await;
            store.close().await;
            let results = results.context("reading stored KPI results")?;
            let owners = settings
                .sub_groups
                .iter()
                .map(|(key, g)| (key.clone(), g.name.clone()))
                .collect();
            let text =
                crate::kpi::show::show(&settings.kpis, &owners, &results, kpi.as_deref(), format)
                    .map_err(anyhow::Error::from)?;
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Load {
            action: Some(LoadCommand::Approve { load_id }),
            ..
        } => {
            let app = App::build(settings).await.context("starting")?;
            let source = app
                .store
                .approve_load(load_id, Utc::now())
                .await
                .with_context(|| format!("approving load {load_id}"))?;
            println!("load {load_id} approved: it is now the current data of source {source}");
            app.store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Load {
            action: None,
            file,
            source,
            dry_run,
        } => {
            let (Some(file), Some(source)) = (file, source) else {
                return Err(anyhow::anyhow!("load needs FILE and --source NAME").into());
            };
            let app = App::build(settings).await.context("starting")?;
            let code = load_by_hand(&app, &source, &file, dry_run).await?;
            app.store.close().await;
            Ok(code)
        }
        Command::Daemon => {
            let app = App::build(settings).await.context("starting")?;
            crate::daemon::run(app).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::RunNow { job, period } => {
            let jobs: Vec<String> = match job {
                Some(j) => vec![j],
                None => settings
                    .jobs
                    .iter()
                    .filter(|(_, j)| j.enabled)
                    .map(|(n, _)| n.clone())
                    .collect(),
            };
            if jobs.is_empty() {
                return Err(anyhow::anyhow!("no enabled jobs in the configuration").into());
            }
            let app = App::build(settings).await.context("starting")?;
            let mut failed = false;
            for name in jobs {
                let opts = RunOptions {
                    period,
                    ..RunOptions::manual()
                };
                let report = app
                    .run_job(&name, opts)
                    .await
                    .with_context(|| format!("job `{name}`"))?;
                print_report(&report);
                failed |= report.status == RunStatus::Failed;
            }
            app.store.close().await;
            Ok(if failed {
                ExitCode::from(EXIT_FAILED)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}

fn check_config(s: &Settings) {
    let tz = s.time_zone();
    let now = Utc::now();
    println!("configuration OK");
    println!(
        "  store:    {}",
        redact_url(secrecy::ExposeSecret::expose_secret(&s.store.url))
    );
    match s.delivery.mode {
        crate::notify::DeliveryMode::Folder => {
            println!("  delivery: .eml files in {}", s.delivery.folder.display())
        }
        crate::notify::DeliveryMode::Smtp => println!(
            "  delivery: SMTP {}:{} ({:?})",
            s.delivery.smtp.host, s.delivery.smtp.port, s.delivery.smtp.tls
        ),
    }
    for (name, src) in &s.sources {
        println!(
            "  source {name}: {} from {}",
            src.kind,
            redact_url(&src.url)
        );
    }
    for (id, k) in s.kpis.iter() {
        let computed = if k.measure.is_some() { "" } else { " (manual)" };
        let state = if k.enabled { "" } else { " (disabled)" };
        println!("  KPI {id}: {} -> {}{computed}{state}", k.title, k.owner);
    }
    for (name, job) in &s.jobs {
        match Entry::new(name, &job.cron, tz, now)
            .ok()
            .and_then(|e| e.next_due)
        {
            Some(next) => println!(
                "  job {name}: `{}` next fires {} ({}), {} UTC{}",
                job.cron,
                next.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z"),
                tz,
                next.format("%Y-%m-%d %H:%M"),
                if job.enabled { "" } else { " (disabled)" }
            ),
            None => println!("  job {name}: `{}` never fires", job.cron),
        }
    }
}

async fn load_by_hand(
    app: &App,
    source: &str,
    file: &std::path::Path,
    dry_run: bool,
) -> Result<ExitCode, Failure> {
    use std::io::IsTerminal;
    use std::sync::atomic::Ordering;
    let progress = crate::job::ingest::Progress::default();
    let bar = std::io::stderr().is_terminal().then(|| {
        let total = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {binary_bytes}/{binary_total_bytes} {msg} ({elapsed})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let (b, p) = (bar.clone(), progress.clone());
        let ticker = tokio::spawn(async move {
            loop {
                b.set_position(p.bytes.load(Ordering::Relaxed));
                b.set_message(format!("{} rows", p.rows.load(Ordering::Relaxed)));
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        });
        (bar, ticker)
    });
    let result = app
        .load_by_hand(source, file, dry_run, Some(progress))
        .await;
    if let Some((bar, ticker)) = bar {
        ticker.abort();
        bar.finish_and_clear();
    }
    let (run_id, outcome) = result.with_context(|| format!("loading {}", file.display()))?;
    use crate::job::ingest::Ingested;
    let ok = match outcome {
        Ingested::Loaded {
            load_id,
            rows,
            set_aside,
            as_of,
        } => {
            println!(
                "run {run_id}: source {source}: loaded (load {load_id}, {rows} rows{}, data as of {})",
                aside(set_aside),
                as_of.map_or("-".to_string(), |d| d.to_string())
            );
            true
        }
        Ingested::Checked {
            rows,
            set_aside,
            as_of,
        } => {
            println!(
                "run {run_id}: source {source}: dry run, valid ({rows} rows{}, data as of {}); nothing stored",
                aside(set_aside),
                as_of.map_or("-".to_string(), |d| d.to_string())
            );
            true
        }
        Ingested::Held {
            load_id,
            rows,
            reason,
        } => {
            println!(
                "run {run_id}: source {source}: HELD as load {load_id} ({rows} rows), not swapped in: {reason}\n  to accept it: sendwatch load approve {load_id}"
            );
            false
        }
        Ingested::Rejected { error } => {
            println!("run {run_id}: source {source}: REJECTED, last good load kept: {error}");
            false
        }
    };
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    })
}

fn aside(n: u64) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(", {n} set aside")
    }
}

fn print_report(r: &RunReport) {
    let status = match r.status {
        RunStatus::Ok => "ok",
        RunStatus::Failed => "FAILED",
        RunStatus::Running => "running",
    };
    println!("run {} of job {}: {status}", r.run_id, r.job);
    for (name, o) in &r.sources {
        match o {
            SourceOutcome::Loaded {
                load_id,
                rows,
                set_aside,
                as_of,
            } => {
                println!(
                    "  source {name}: loaded (load {load_id}, {rows} rows{}, data as of {})",
                    aside(*set_aside),
                    as_of.map_or("-".to_string(), |d| d.to_string())
                )
            }
            SourceOutcome::Held { load_id, reason } => {
                println!(
                    "  source {name}: HELD as load {load_id}, last good load kept: {reason}; approve with `sendwatch load approve {load_id}`"
                )
            }
            SourceOutcome::Unchanged { why } => {
                println!("  source {name}: unchanged ({why})")
            }
            SourceOutcome::FetchFailed { error } => {
                println!("  source {name}: FETCH FAILED, last good load kept: {error}")
            }
            SourceOutcome::Rejected { error } => {
                println!("  source {name}: REJECTED, last good load kept: {error}")
            }
        }
    }
    for e in &r.evaluations {
        let fmt = |v: f64| e.measure.format(v);
        // As the mail: no average wait over fewer than 5 referrals (a child's own wait).
        let few = e.measure == crate::kpi::Measure::AverageWaitWeeks
            && e.current
                .is_some_and(|c| c.denominator < crate::kpi::FEWEST_FOR_AN_AVERAGE);
        let value = match e.value() {
            Some(_) if few => "<5 seen".to_string(),
            Some(v) => fmt(v),
            None => "no data".to_string(),
        };
        let target = e
            .milestone
            .as_ref()
            .map_or_else(|| "none".to_string(), |m| fmt(m.target));
        println!(
            "  KPI {:<5} {:<15} value {:>10}  target {:>10}  {}",
            e.kpi_id,
            e.period.label(),
            value,
            target,
            e.rag
        );
    }
    println!(
        "  exception reports: {} queued, {} delivered, {} failed, {} pending; via {}",
        r.queued, r.delivery.sent, r.delivery.failed, r.delivery.still_pending, r.delivered_via
    );
}
