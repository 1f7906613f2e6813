//! Daemon: run the configured jobs on their cron schedules until SIGTERM.
//!
//! tokio-cron-scheduler supplies a UTC tick every second; on each tick [`schedule::Entry`]
//! says which jobs are due (DST-correct, computed from `now`). The tick only compares
//! instants, so an idle daemon costs next to nothing. Each due instant is claimed in the
//! ledger before it runs ([`crate::job::App::run_scheduled`]): another daemon on the same
//! database that claimed it first runs it, and a job still running records the instant as
//! skipped. At start, and every third of a lease after, runs left `running` by a dead process
//! are abandoned; at start each job's missed fire times are caught up ([`catch_up`]).
//! SIGTERM or SIGINT stops the tick and further catch-up runs, lets running jobs finish, and
//! exits 0. systemd is told READY and STOPPING.
//!
//! [`schedule::Entry`]: crate::schedule::Entry

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use tokio::sync::Mutex;
use tokio::task::JoinSet;
use tokio_cron_scheduler::{Job, JobScheduler};

mod catch_up;

pub use catch_up::{CatchUpReport, catch_up_job};

use crate::job::{App, Scheduled};
use crate::schedule::Entry;
use crate::store::Trigger;

struct State {
    entries: Vec<Entry>,
    tasks: JoinSet<()>,
    next_sweep: DateTime<Utc>,
}

pub async fn run(app: App) -> anyhow::Result<()> {
    let tz = app.settings.time_zone();
    let now = Utc::now();
    let mut entries = Vec::new();
    for (name, job) in app.settings.jobs.iter().filter(|(_, j)| j.enabled) {
        let entry =
            Entry::new(name, &job.cron, tz, now).with_context(|| format!("jobs.{name}.cron"))?;
        tracing::info!(
            job = %name,
            next_local = %entry.next_due.map(|t| t.with_timezone(&tz).to_string()).unwrap_or_default(),
            "Scheduled."
        );
        entries.push(entry);
    }

    // Before catching up: a run a killed process left must not stand in the ledger as running.
    sweep(&app, now).await;
    let stopping = Arc::new(AtomicBool::new(false));
    let mut tasks = JoinSet::new();
    for entry in &entries {
        let (app, job, stop) = (app.clone(), entry.job.clone(), stopping.clone());
        tasks.spawn(async move {
            match catch_up_job(&app, &job, now, &stop).await {
                Ok(r) if r.is_empty() => {}
                Ok(r) => tracing::info!(job = %job, ran = ?r.ran, skipped = ?r.skipped, taken = r.taken, "Caught up."),
                Err(e) => tracing::error!(job = %job, error = %e, "Could not catch up."),
            }
        });
    }
    let state = Arc::new(Mutex::new(State {
        entries,
        tasks,
        next_sweep: now + app.settings.ledger.lease() / 3,
    }));

    let mut sched = JobScheduler::new()
        .await
        .context("starting the scheduler")?;
    let tick_state = state.clone();
    let tick_app = app.clone();
    sched
        .add(
            Job::new_async("*/1 * * * * *", move |_id, _lock| {
                let state = tick_state.clone();
                let app = tick_app.clone();
                Box::pin(async move { tick(&app, &state).await })
            })
            .context("creating the tick")?,
        )
        .await
        .context("adding the tick")?;
    sched.start().await.context("starting the scheduler")?;
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    tracing::info!("Daemon ready.");

    wait_for_signal().await?;
    stopping.store(true, Ordering::SeqCst);
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    tracing::info!("Stopping: no new runs; waiting for running jobs to finish.");
    sched.shutdown().await.context("stopping the scheduler")?;
    let mut tasks = std::mem::take(&mut state.lock().await.tasks);
    while tasks.join_next().await.is_some() {}
    app.store.close().await;
    tracing::info!("Stopped.");
    Ok(())
}

async fn sweep(app: &App, now: DateTime<Utc>) {
    match app.sweep_abandoned(now).await {
        Ok(ids) if !ids.is_empty() => {
            tracing::warn!(runs = ?ids, "Runs left running by a process that died were abandoned.")
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "Could not sweep for abandoned runs."),
    }
}

async fn tick(app: &App, state: &Arc<Mutex<State>>) {
    let tz = app.settings.time_zone();
    let now = Utc::now();
    let mut st = state.lock().await;
    if now >= st.next_sweep {
        st.next_sweep = now + app.settings.ledger.lease() / 3;
        let app = app.clone();
        st.tasks.spawn(async move { sweep(&app, now).await });
    }
    let due: Vec<_> = st
        .entries
        .iter_mut()
        .map(|e| (e.job.clone(), e.take_due(tz, now)))
        .filter(|(_, due)| !due.is_empty())
        .collect();
    for (job, due) in due {
        let app = app.clone();
        st.tasks
            .spawn(async move { run_due(&app, &job, &due).await });
    }
    // Reap finished tasks so the set does not grow.
    while st.tasks.try_join_next().is_some() {}
}

/// Claim and run the newest due instant; older ones a late tick passed are recorded skipped.
async fn run_due(app: &App, job: &str, due: &[DateTime<Utc>]) {
    let Some((&newest, older)) = due.split_last() else {
        return;
    };
    for &at in older {
        let note = "overtaken: the tick came after a later fire time (a busy or suspended machine), which ran instead";
        if let Err(e) = app
            .store
            .insert_skipped(
                job,
                Trigger::Schedule,
                at,
                note,
                crate::ledger::runner(),
                Utc::now(),
            )
            .await
        {
            tracing::error!(job, error = %e, "Could not record a skipped instant.");
        }
    }
    match app
        .run_scheduled(job, newest, Trigger::Schedule, None)
        .await
    {
        Ok(Scheduled::Ran(r)) => {
            tracing::info!(job, run_id = r.run_id, status = r.status.as_str(), due = %newest, "Scheduled run done.")
        }
        Ok(Scheduled::Skipped { run_id, note }) => {
            tracing::warn!(job, run_id, due = %newest, %note, "Skipped: the job is still running.")
        }
        Ok(Scheduled::Taken) => {
            tracing::debug!(job, due = %newest, "Claimed by another process; not run here.")
        }
        Err(e) => tracing::error!(job, error = %e, "Scheduled run could not complete."),
    }
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received."),
        _ = int.recv() => tracing::info!("SIGINT received."),
    }
    Ok(())
}
