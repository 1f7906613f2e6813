//! The command line: `daemon`, `run-now [JOB]`, `check-config`, `db migrate`.
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
use crate::kpi::{Month, fmt_pct};
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
    /// Database maintenance.
    Db {
        #[command(subcommand)]
        command: DbCommand,
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
    let settings = load_settings(&cli)?;
    match cli.command {
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
        crate::config::DeliveryMode::Folder => {
            println!("  delivery: .eml files in {}", s.delivery.folder.display())
        }
        crate::config::DeliveryMode::Smtp => println!(
            "  delivery: SMTP {}:{} ({:?})",
            s.delivery.smtp.host, s.delivery.smtp.port, s.delivery.smtp.tls
        ),
    }
    for (name, src) in &s.sources {
        println!(
            "  source {name}: {:?} from {}",
            src.kind,
            redact_url(&src.url)
        );
    }
    for (id, k) in &s.kpis {
        let state = if k.enabled { "" } else { " (disabled)" };
        println!("  KPI {id}: {} -> {}{state}", k.title, k.owner);
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
                as_of,
            } => {
                println!(
                    "  source {name}: loaded (load {load_id}, {rows} rows, data as of {as_of})"
                )
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
        let value = e.value().map_or_else(|| "no data".to_string(), fmt_pct);
        let target = e
            .milestone
            .as_ref()
            .map_or_else(|| "none".to_string(), |m| fmt_pct(m.target));
        println!(
            "  KPI {:<5} {:<15} value {:>8}  target {:>6}  {}",
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
