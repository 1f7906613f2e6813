//! Daemon: run the configured jobs on their cron schedules until SIGTERM.
//!
//! tokio-cron-scheduler supplies a UTC tick every 15 seconds; on each tick [`schedule::Entry`]
//! says which jobs are due (DST-correct, computed from `now`). A job still running when it
//! is due again is not started twice. SIGTERM or SIGINT stops the tick, lets running jobs
//! finish, and exits 0. systemd is told READY and STOPPING.

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::Context as _;
use chrono::Utc;
use tokio::sync::Mutex;
use tokio::task::JoinSet;
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::job::{App, RunOptions};
use crate::schedule::Entry;
use crate::store::Trigger;

struct State {
    entries: Vec<Entry>,
    running: HashSet<String>,
    tasks: JoinSet<()>,
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
    let state = Arc::new(Mutex::new(State {
        entries,
        running: HashSet::new(),
        tasks: JoinSet::new(),
    }));

    let mut sched = JobScheduler::new()
        .await
        .context("starting the scheduler")?;
    let tick_state = state.clone();
    let tick_app = app.clone();
    sched
        .add(
            Job::new_async("*/15 * * * * *", move |_id, _lock| {
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
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    tracing::info!("Stopping: no new runs; waiting for running jobs to finish.");
    sched.shutdown().await.context("stopping the scheduler")?;
    let mut tasks = std::mem::take(&mut state.lock().await.tasks);
    while tasks.join_next().await.is_some() {}
    app.store.close().await;
    tracing::info!("Stopped.");
    Ok(())
}

async fn tick(app: &App, state: &Arc<Mutex<State>>) {
    let tz = app.settings.time_zone();
    let now = Utc::now();
    let mut st = state.lock().await;
    let due: Vec<_> = st
        .entries
        .iter_mut()
        .filter_map(|e| e.take_due(tz, now).map(|at| (e.job.clone(), at)))
        .collect();
    for (job, at) in due {
        if !st.running.insert(job.clone()) {
            tracing::warn!(job = %job, due = %at, "Still running from its last start; this start is skipped.");
            continue;
        }
        let app = app.clone();
        let state = state.clone();
        st.tasks.spawn(async move {
            let opts = RunOptions { trigger: Trigger::Schedule, scheduled_at: Some(at), period: None };
            match app.run_job(&job, opts).await {
                Ok(r) => tracing::info!(job = %job, run_id = r.run_id, status = r.status.as_str(), "Scheduled run done."),
                Err(e) => tracing::error!(job = %job, error = %e, "Scheduled run could not complete."),
            }
            state.lock().await.running.remove(&job);
        });
    }
    // Reap finished tasks so the set does not grow.
    while st.tasks.try_join_next().is_some() {}
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
