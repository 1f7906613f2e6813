//! A replica of the national bench: the bench binary run again as `national-worker`, so that
//! each replica is a process of its own whose peak RSS is its own, as a daemon's would be.
//!
//! It starts as `sendwatch daemon` does (the deployment's every area on one pool,
//! `App::build_on`), says `ready` on stdout, waits for `go` on stdin, then runs every area's
//! job at the one scheduled instant through the ledger's claim (`App::run_scheduled`), at
//! most `[daemon] max_runs` at a time as the daemon does, and prints one `report {JSON}` line: what became of each area,
//! each run's stage times, and its peak RSS (`getrusage`).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use super::deploy::JOB;
use sendwatch::config::{Deployment, Sources};
use sendwatch::job::{App, JobError, Scheduled, Stage, Stages};
use sendwatch::store::{Store, Trigger};

/// `national-worker`'s arguments (the bench gives them; not for people).
#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// The deployment's file.
    #[arg(long)]
    pub config: PathBuf,
    /// The scheduled instant every area's job runs at (RFC 3339).
    #[arg(long)]
    pub at: String,
}

/// What one replica reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerReport {
    pub pid: u32,
    /// Reading the deployment and building every area's App, in microseconds.
    pub startup_us: u64,
    /// Peak RSS once started, KiB.
    pub startup_rss_kib: u64,
    /// From `go` to the last area's end, in microseconds.
    pub cycle_us: u64,
    /// Peak RSS over the whole life of the process, KiB.
    pub max_rss_kib: u64,
    pub areas: Vec<AreaOutcome>,
}

/// What became of one area's instant in this replica.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AreaOutcome {
    pub id: String,
    /// `ran`, `taken` (another replica claimed it), `skipped` or `error`.
    pub outcome: String,
    pub run_id: Option<i64>,
    pub error: Option<String>,
    pub queued: usize,
    pub sent: usize,
    /// From the claim to the run's end, in microseconds.
    pub wall_us: u64,
    /// Each [`Stage`]'s time, in microseconds, in [`Stage::ALL`]'s order.
    pub stages_us: Vec<u64>,
}

impl AreaOutcome {
    pub fn stages(&self) -> Stages {
        let mut s = Stages::default();
        for (stage, us) in Stage::ALL.iter().zip(&self.stages_us) {
            s.add(*stage, Duration::from_micros(*us));
        }
        s
    }
}

pub async fn worker(args: WorkerArgs) -> anyhow::Result<ExitCode> {
    let at: DateTime<Utc> = DateTime::parse_from_rfc3339(&args.at)
        .context("--at")?
        .with_timezone(&Utc);
    let started = Instant::now();
    let (base, apps) = start(args.config).await?;
    let places = apps.first().map_or(1, |a| a.settings.daemon.runs());
    let startup_us = micros(started.elapsed());
    let startup_rss_kib = max_rss_kib();
    say("ready")?;
    // Blocking, on a thread of its own: tokio's stdin is a feature the daemon does not need.
    let line = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await?
    .context("waiting for go")?;
    if line.trim() != "go" {
        bail!("the bench said {:?}, not go", line.trim());
    }

    let began = Instant::now();
    let places = Arc::new(Semaphore::new(places));
    let mut runs = tokio::task::JoinSet::new();
    // In id order, as the daemon's tick takes its areas; each waits for a place
    // (`[daemon] max_runs`, as the daemon does) before it claims its instant.
    for app in apps {
        let place = places.clone().acquire_owned().await?;
        runs.spawn(async move {
            let _place = place;
            let t = Instant::now();
            let r = app.run_scheduled(JOB, at, Trigger::Schedule, None).await;
            outcome(app.settings.area_id().0, r, t.elapsed())
        });
    }
    let mut areas = Vec::new();
    while let Some(done) = runs.join_next().await {
        areas.push(done?);
    }
    let cycle_us = micros(began.elapsed());
    base.close().await;
    areas.sort_by(|a, b| a.id.cmp(&b.id));
    let report = WorkerReport {
        pid: std::process::id(),
        startup_us,
        startup_rss_kib,
        cycle_us,
        max_rss_kib: max_rss_kib(),
        areas,
    };
    say(&format!("report {}", serde_json::to_string(&report)?))?;
    Ok(ExitCode::SUCCESS)
}

/// As `sendwatch daemon` starts: the deployment, one pool, every area's App on it.
async fn start(config: PathBuf) -> anyhow::Result<(Store, Vec<App>)> {
    let deployment = Deployment::load(&Sources {
        file: Some(config),
        env: false,
    })
    .context("reading the deployment")?;
    let first = deployment.areas.first().context("no area")?;
    let base = Store::connect(&first.store).await.context("connecting")?;
    base.migrate().await.context("migrating")?;
    let mut apps = Vec::with_capacity(deployment.areas.len());
    for settings in deployment.areas {
        let id = settings.area_id();
        let app = App::build_on(settings, &base)
            .await
            .with_context(|| format!("starting area `{id}`"))?;
        apps.push(app);
    }
    Ok((base, apps))
}

fn outcome(id: String, r: Result<Scheduled, JobError>, took: Duration) -> AreaOutcome {
    let mut o = AreaOutcome {
        id,
        outcome: String::new(),
        run_id: None,
        error: None,
        queued: 0,
        sent: 0,
        wall_us: micros(took),
        stages_us: vec![0; Stage::ALL.len()],
    };
    match r {
        Ok(Scheduled::Ran(report)) => {
            o.outcome = "ran".into();
            o.run_id = Some(report.run_id);
            o.queued = report.queued;
            o.sent = report.delivery.sent;
            o.stages_us = Stage::ALL
                .iter()
                .map(|s| micros(report.stages.get(*s)))
                .collect();
            if report.status != sendwatch::store::RunStatus::Ok {
                o.error = Some(format!("the run ended {}", report.status.as_str()));
            }
        }
        Ok(Scheduled::Taken) => o.outcome = "taken".into(),
        Ok(Scheduled::Skipped { run_id, .. }) => {
            o.outcome = "skipped".into();
            o.run_id = Some(run_id);
        }
        Err(e) => {
            o.outcome = "error".into();
            o.error = Some(e.to_string());
        }
    }
    o
}

/// One line on stdout, flushed: the bench reads it as it comes.
fn say(line: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}

pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// This process's peak RSS so far, KiB (`ru_maxrss` on Linux).
fn max_rss_kib() -> u64 {
    // SAFETY: rusage is plain old data; all-zero bytes is a valid value of it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF is always valid and getrusage writes only into the live local.
    unsafe {
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
    }
    u64::try_from(usage.ru_maxrss).unwrap_or(0)
}
