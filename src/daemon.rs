//! Daemon: run the configured jobs on their cron schedules until SIGTERM.
//!
//! tokio-cron-scheduler supplies a UTC tick every second; on each tick [`schedule::Entry`]
//! says which jobs are due (DST-correct, computed from `now`). The tick only compares
//! instants, so an idle daemon costs next to nothing. Each due instant is claimed in the
//! ledger before it runs ([`crate::job::App::run_scheduled`]): another daemon on the same
//! database that claimed it first runs it, and a job still running records the instant as
//! skipped. At start, and every third of a lease after, runs left `running` by a dead process
//! are abandoned and the dead-man deadlines checked; at start each job's missed fire times
//! are caught up ([`catch_up`]). Between runs, a delivery pass over the outbox's due rows runs
//! on the tick, one at a time, every `[delivery.retry] first_secs` (at most a minute), so
//! mail put off after a failure is retried without waiting for a job's next run.
//!
//! Signals: SIGTERM or SIGINT stops the tick and further catch-up runs at once, gives running
//! jobs `[daemon] stop_grace_secs` to finish, then cancels them (their futures are dropped, so
//! a load's transaction rolls back) and marks their ledger rows abandoned, "stopped by
//! SIGTERM"; then exits 0. SIGHUP reloads the configuration ([`reload`]). systemd hears
//! READY, STATUS=, RELOADING, STOPPING and the watchdog ([`systemd`]). `[http]` serves
//! `/healthz` and `/metrics` ([`crate::serve`]).
//!
//! Areas: a deployment of several areas runs each area's jobs, sweeps and delivery passes
//! side by side on one tick and one pool, each through its own scoped store; their ledger
//! claims are (area, job, instant), so replicas on one PostgreSQL share every area's work.
//! At most `[daemon] max_runs` runs of all the areas are under way at once: a due run waits
//! for a place before it claims its instant (a replica with room claims it first), so 152
//! areas due at one instant do not hold 152 runs' data in memory together.
//!
//! [`schedule::Entry`]: crate::schedule::Entry

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::{Mutex, Semaphore, watch};
use tokio::task::JoinSet;
use tokio_cron_scheduler::{Job, JobScheduler};

mod catch_up;
mod reload;
pub mod settings;
mod systemd;

pub use catch_up::{CatchUpReport, catch_up_job};

use crate::config::{Settings, Sources};
use crate::job::{App, Scheduled};
use crate::schedule::Entry;
use crate::serve::{self, Health, ServeState};
use crate::store::Trigger;
use crate::telemetry::metrics as m;

/// Every area's App in force now.
async fn apps_in_force(state: &Mutex<State>) -> Vec<App> {
    state
        .lock()
        .await
        .areas
        .iter()
        .map(|a| a.app.clone())
        .collect()
}

/// One area's part of the daemon.
struct AreaRun {
    /// The App in force: a reload replaces it; runs under way keep the one they began with.
    app: App,
    entries: Vec<Entry>,
    next_sweep: DateTime<Utc>,
    next_delivery: DateTime<Utc>,
    /// A delivery pass is under way: the tick starts no second one.
    delivering: Arc<AtomicBool>,
}

impl AreaRun {
    fn new(app: App, entries: Vec<Entry>, now: DateTime<Utc>) -> AreaRun {
        AreaRun {
            next_sweep: now + app.settings.ledger.lease() / 3,
            next_delivery: now + delivery_every(&app),
            app,
            entries,
            delivering: Arc::new(AtomicBool::new(false)),
        }
    }
}

struct State {
    /// Every area served, in id order.
    areas: Vec<AreaRun>,
    tasks: JoinSet<()>,
    notifier: systemd::Notifier,
    /// The places for runs under way at once (`[daemon] max_runs`), shared by every area's
    /// scheduled and catch-up runs.
    places: Arc<Semaphore>,
    /// Set at SIGTERM: a run that gets its place after it starts nothing.
    stopping: Arc<AtomicBool>,
}

/// A job as systemd's STATUS= and the logs name it: `area/job` when there are several areas.
fn label(app: &App, job: &str) -> String {
    if app.settings.areas.member {
        format!("{}/{job}", app.settings.area_id())
    } else {
        job.to_string()
    }
}

/// What the HTTP side reads of each area.
fn views(areas: &[AreaRun]) -> Arc<Vec<serve::AreaView>> {
    Arc::new(
        areas
            .iter()
            .map(|a| serve::AreaView {
                store: a.app.store.clone(),
                settings: a.app.settings.clone(),
            })
            .collect(),
    )
}

/// The signals the daemon answers, installed before anything else so that none is missed.
struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
}

impl Signals {
    fn install() -> anyhow::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
            int: signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
            hup: signal(SignalKind::hangup()).context("installing the SIGHUP handler")?,
        })
    }
}

/// Schedule entries for the enabled jobs of `settings`.
fn entries(settings: &Settings, now: DateTime<Utc>) -> anyhow::Result<Vec<Entry>> {
    let tz = settings.time_zone();
    let mut out = Vec::new();
    for (name, job) in settings.jobs.iter().filter(|(_, j)| j.enabled) {
        let entry =
            Entry::new(name, &job.cron, tz, now).with_context(|| format!("jobs.{name}.cron"))?;
        tracing::info!(
            job = %name,
            next_local = %entry.next_due.map(|t| t.with_timezone(&tz).to_string()).unwrap_or_default(),
            "Scheduled."
        );
        out.push(entry);
    }
    Ok(out)
}

/// Run the daemon. `sources` are where the configuration came from, read again on SIGHUP.
/// `apps`: one per area, in id order, on one pool.
pub async fn run(apps: Vec<App>, sources: Sources) -> anyhow::Result<()> {
    let Some(first) = apps.first().cloned() else {
        anyhow::bail!("no area to serve");
    };
    let mut signals = Signals::install()?;
    // Before anything opens a file: HTTP connections get at most half of the limit.
    serve::raise_open_files_limit();
    let health = Arc::new(Health::default());
    let stopping = Arc::new(AtomicBool::new(false));
    let state = start_jobs(apps, &stopping).await?;
    let (settings_tx, settings_rx) = watch::channel(views(&state.lock().await.areas));
    let http = Http::start(&first, settings_rx, &health).await?;
    let sched = start_tick(&state, &health, &stopping).await?;
    health.tick(Utc::now());
    health.set_ready();
    systemd::ready();
    tracing::info!("Daemon ready.");

    let signal_name = loop {
        tokio::select! {
            _ = signals.term.recv() => break "SIGTERM",
            _ = signals.int.recv() => break "SIGINT",
            _ = signals.hup.recv() => {
                tracing::info!("SIGHUP received: reloading the configuration.");
                reload::reload(&state, &sources, &settings_tx).await;
            }
        }
    };
    stopping.store(true, Ordering::SeqCst);
    health.set_stopping();
    stop_runs(&state, sched, signal_name).await?;
    http.stop().await;
    close_store(&first).await;
    tracing::info!("Stopped.");
    Ok(())
}

/// The HTTP server (`/healthz`, `/metrics`) when `[http]` gives an address, and the switch
/// that stops it.
struct Http {
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Http {
    /// Bind and serve. First of all: an address in use stops the start before systemd hears
    /// READY.
    async fn start(
        app: &App,
        areas: watch::Receiver<Arc<Vec<serve::AreaView>>>,
        health: &Arc<Health>,
    ) -> anyhow::Result<Http> {
        let listener = serve::bind(&app.settings.http).await.with_context(|| {
            format!("listening on http.listen = {:?}", app.settings.http.listen)
        })?;
        let (stop, mut stopped) = watch::channel(false);
        let task = listener.map(|l| {
            let addr = l.local_addr().map(|a| a.to_string()).unwrap_or_default();
            tracing::info!(%addr, "Serving /healthz and /metrics.");
            let state = ServeState {
                areas,
                health: health.clone(),
                metrics: m::install(),
            };
            tokio::spawn(serve::serve(l, state, async move {
                let _ = stopped.wait_for(|s| *s).await;
            }))
        });
        Ok(Http { stop, task })
    }

    /// Stop serving; a scrape still waiting on the database must not hold the stop up for long.
    async fn stop(self) {
        let _ = self.stop.send(true);
        if let Some(mut h) = self.task {
            match tokio::time::timeout(Duration::from_secs(5), &mut h).await {
                Ok(Ok(Err(e))) => {
                    tracing::warn!(error = %e, "The HTTP server ended with an error.")
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "The HTTP server task failed."),
                Ok(Ok(Ok(()))) => {}
                Err(_) => h.abort(),
            }
        }
    }
}

/// Schedule each area's enabled jobs, sweep for runs a dead process left, and start each
/// job's catch-up; the daemon's state, with the catch-ups as its first tasks.
async fn start_jobs(
    apps: Vec<App>,
    stopping: &Arc<AtomicBool>,
) -> anyhow::Result<Arc<Mutex<State>>> {
    let now = Utc::now();
    let notifier = systemd::Notifier::new();
    let mut tasks = JoinSet::new();
    let mut areas = Vec::with_capacity(apps.len());
    // Read at start: a reload keeps the places the daemon began with.
    let places = Arc::new(Semaphore::new(
        apps.first().map_or(1, |a| a.settings.daemon.runs()),
    ));
    for app in apps {
        let entries = entries(&app.settings, now)
            .with_context(|| format!("area `{}`", app.settings.area_id()))?;
        // Before catching up: a run a killed process left must not stand as running.
        sweep(&app, now).await;
        for entry in &entries {
            let (app, job, stop) = (app.clone(), entry.job.clone(), stopping.clone());
            let (running, places) = (notifier.running.clone(), places.clone());
            tasks.spawn(async move {
                let Ok(_place) = places.acquire_owned().await else {
                    return;
                };
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let _running = running.start(&label(&app, &job));
                let area = app.settings.area_id();
                match catch_up_job(&app, &job, now, &stop).await {
                    Ok(r) if r.is_empty() => {}
                    Ok(r) => tracing::info!(%area, job = %job, ran = ?r.ran, skipped = ?r.skipped, taken = r.taken, "Caught up."),
                    Err(e) => tracing::error!(%area, job = %job, error = %e, "Could not catch up."),
                }
            });
        }
        areas.push(AreaRun::new(app, entries, now));
    }
    Ok(Arc::new(Mutex::new(State {
        areas,
        tasks,
        notifier,
        places,
        stopping: stopping.clone(),
    })))
}

/// Start the scheduler's one-second tick, which does nothing once `stopping` is set.
async fn start_tick(
    state: &Arc<Mutex<State>>,
    health: &Arc<Health>,
    stopping: &Arc<AtomicBool>,
) -> anyhow::Result<JobScheduler> {
    let sched = JobScheduler::new()
        .await
        .context("starting the scheduler")?;
    let (tick_state, tick_health, tick_stop) = (state.clone(), health.clone(), stopping.clone());
    sched
        .add(
            Job::new_async("*/1 * * * * *", move |_id, _lock| {
                let (state, health, stop) =
                    (tick_state.clone(), tick_health.clone(), tick_stop.clone());
                Box::pin(async move {
                    if !stop.load(Ordering::SeqCst) {
                        tick(&state, &health).await
                    }
                })
            })
            .context("creating the tick")?,
        )
        .await
        .context("adding the tick")?;
    sched.start().await.context("starting the scheduler")?;
    Ok(sched)
}

/// Stop on `signal_name`: stop the tick, give running jobs the grace period, then cancel what
/// is left and mark its runs abandoned. The App in force at the stop.
async fn stop_runs(
    state: &Arc<Mutex<State>>,
    mut sched: JobScheduler,
    signal_name: &str,
) -> anyhow::Result<()> {
    let apps = apps_in_force(state).await;
    let grace = apps
        .first()
        .map_or(0, |a| a.settings.daemon.grace().as_secs());
    systemd::stopping(&format!(
        "stopping ({signal_name}): no new runs; waiting up to {grace} s for running jobs"
    ));
    tracing::info!(
        signal = signal_name,
        grace_secs = grace,
        "{signal_name} received. Stopping: no new runs; running jobs have the grace period to finish."
    );
    sched.shutdown().await.context("stopping the scheduler")?;
    let mut tasks = std::mem::take(&mut state.lock().await.tasks);
    if !drain(&mut tasks, Duration::from_secs(grace)).await {
        let why = format!(
            "stopped by {signal_name}: still running when the daemon's stop grace period of \
             {grace} s (daemon.stop_grace_secs) ended; cancelled (a load under way rolled back)"
        );
        for app in &apps {
            match app.abandon_own_runs(&why, Utc::now()).await {
                Ok(ids) if ids.is_empty() => {}
                Ok(ids) => {
                    tracing::warn!(area = %app.settings.area_id(), runs = ?ids, "Runs cancelled at stop and marked abandoned.")
                }
                Err(e) => {
                    tracing::error!(error = %e, "Could not mark the cancelled runs abandoned.")
                }
            }
        }
    }
    Ok(())
}

/// Close the store's connections, waiting at most 5 s. A connection a cancelled run held (a
/// COPY cut off mid-stream) may never come back to the pool; the server rolls its transaction
/// back when the process exits and the connection drops.
async fn close_store(app: &App) {
    if tokio::time::timeout(Duration::from_secs(5), app.store.close())
        .await
        .is_err()
    {
        tracing::warn!(
            "A database connection was still busy after 5 s; leaving it to close at exit."
        );
    }
}

/// Wait for the tasks to finish within `grace`; past it, cancel what is left (dropping their
/// futures). True if all finished by themselves.
async fn drain(tasks: &mut JoinSet<()>, grace: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + grace;
    loop {
        match tokio::time::timeout_at(deadline, tasks.join_next()).await {
            Ok(Some(_)) => {}
            Ok(None) => return true,
            Err(_elapsed) => {
                tracing::warn!(
                    left = tasks.len(),
                    "The stop grace period is over: cancelling the runs still going."
                );
                tasks.abort_all();
                while tasks.join_next().await.is_some() {}
                return false;
            }
        }
    }
}

async fn sweep(app: &App, now: DateTime<Utc>) {
    match app.sweep_abandoned(now).await {
        Ok(ids) if !ids.is_empty() => {
            tracing::warn!(runs = ?ids, "Runs left running by a process that died were abandoned.")
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "Could not sweep for abandoned runs."),
    }
    match app.check_dead_man(now).await {
        Ok(told) if !told.is_empty() => {
            tracing::warn!(jobs = ?told, "No successful run within the dead-man deadline: the administrator is told.")
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "Could not check the dead-man deadlines."),
    }
}

async fn tick(state: &Arc<Mutex<State>>, health: &Health) {
    let now = Utc::now();
    health.tick(now);
    let mut st = state.lock().await;
    let State {
        areas,
        tasks,
        notifier,
        places,
        stopping,
    } = &mut *st;
    for area in areas.iter_mut() {
        tick_area(area, tasks, notifier, (places, stopping), now);
    }
    // Reap finished tasks so the set does not grow.
    while tasks.try_join_next().is_some() {}
    let entries: Vec<Entry> = areas.iter().flat_map(|a| a.entries.clone()).collect();
    let tz = areas
        .first()
        .map_or(chrono_tz::Europe::London, |a| a.app.settings.time_zone());
    notifier.tick(&entries, tz);
}

/// One area's share of a tick: its sweep, its delivery pass and its due jobs (each waits for
/// a place among `places` before it claims its instant, and runs nothing once `stopping`).
fn tick_area(
    st: &mut AreaRun,
    tasks: &mut JoinSet<()>,
    notifier: &systemd::Notifier,
    (places, stopping): (&Arc<Semaphore>, &Arc<AtomicBool>),
    now: DateTime<Utc>,
) {
    let app = st.app.clone();
    let tz = app.settings.time_zone();
    if now >= st.next_sweep {
        st.next_sweep = now + app.settings.ledger.lease() / 3;
        let app = app.clone();
        tasks.spawn(async move { sweep(&app, now).await });
    }
    if now >= st.next_delivery {
        st.next_delivery = now + delivery_every(&app);
        if !st.delivering.swap(true, Ordering::SeqCst) {
            let (app, delivering) = (app.clone(), st.delivering.clone());
            tasks.spawn(async move {
                match app.deliver_due().await {
                    Ok(d) if d != Default::default() => {
                        tracing::info!(
                            sent = d.sent,
                            failed = d.failed,
                            pending = d.still_pending,
                            ambiguous = d.ambiguous,
                            "Delivery pass done."
                        )
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "The delivery pass could not complete."),
                }
                delivering.store(false, Ordering::SeqCst);
            });
        }
    }
    let due: Vec<_> = st
        .entries
        .iter_mut()
        .map(|e| (e.job.clone(), e.take_due(tz, now)))
        .filter(|(_, due)| !due.is_empty())
        .collect();
    for (job, due) in due {
        let (app, running, places) = (app.clone(), notifier.running.clone(), places.clone());
        let stopping = stopping.clone();
        tasks.spawn(async move {
            let Ok(_place) = places.acquire_owned().await else {
                return;
            };
            if stopping.load(Ordering::SeqCst) {
                return;
            }
            let _running = running.start(&label(&app, &job));
            run_due(&app, &job, &due).await
        });
    }
}

/// How often the tick starts a delivery pass.
fn delivery_every(app: &App) -> chrono::TimeDelta {
    let secs = app.settings.delivery.retry.first_secs.clamp(1, 60);
    chrono::TimeDelta::seconds(i64::try_from(secs).unwrap_or(60))
}

/// Claim and run the newest due instant; older ones a late tick passed are recorded skipped.
async fn run_due(app: &App, job: &str, due: &[DateTime<Utc>]) {
    let Some((&newest, older)) = due.split_last() else {
        return;
    };
    for &at in older {
        let note = "overtaken: the tick came after a later fire time (a busy or suspended machine), which ran instead";
        match app
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
            Ok(Some(_)) => {
                metrics::counter!(m::RUNS, "job" => job.to_string(), "outcome" => "skipped")
                    .increment(1)
            }
            Ok(None) => {}
            Err(e) => tracing::error!(job, error = %e, "Could not record a skipped instant."),
        }
    }
    match app
        .run_scheduled(job, newest, Trigger::Schedule, None)
        .await
    {
        Ok(Scheduled::Ran(r)) => {
            tracing::info!(area = %app.settings.area_id(), job, run_id = r.run_id, status = r.status.as_str(), due = %newest, "Scheduled run done.")
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
