//! Job: one run of the pipeline, the same whether cron or an operator started it.
//!
//! fetch each source → validate and swap in → compute and rate the job's KPIs on the loaded
//! data → assess the risk log's triggers → queue one digest per recipient (slipped KPIs and
//! risk changes of every sub-group they are an owner of; not again when it is no news) →
//! deliver → record the run's outcome.
//! A source that fails to fetch or validate is recorded and reported; the KPIs then read the
//! last good load, and the run ends as failed.

use std::sync::Arc;

use chrono::{DateTime, Utc};

mod compute;
mod digests;
pub mod ingest;
mod manual;
mod open;
pub use open::{adopt, open_store, scope_store};
mod outcome;
pub mod pack;
mod pack_mail;
mod preview;
mod risks;
mod routing;
mod run;
mod stages;
mod standing;
mod supervise;

pub use crate::notify::Planned;
pub use crate::store::SourceOutcome;
pub use preview::Preview;
pub use stages::{Stage, Stages};
pub use supervise::Scheduled;

use crate::clock::Clock;
use crate::config::Settings;
use crate::kpi::{Evaluation, Period};
use crate::notify::{self, DeliverySummary};
use crate::risk::RiskChange;
use crate::source;
use crate::store::{LoadMeta, RunStatus, SourceState, Sources, Store, StoreError, Trigger};
use crate::telemetry::metrics as m;
use ingest::Extract;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("no job named `{0}` in the configuration")]
    UnknownJob(String),
    #[error("no source named `{0}` (with a known kind) in the configuration")]
    UnknownSource(String),
    #[error("{0}")]
    File(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Delivery(#[from] notify::DeliveryError),
    #[error(transparent)]
    Render(#[from] notify::RenderError),
    #[error("board pack: {0}")]
    Pack(String),
    #[error("run {run_id} was stopped past its working timeout of {secs} s and marked abandoned")]
    TimedOut { run_id: i64, secs: u64 },
    #[error(
        "period {period} is outside the loaded data ({loaded}); nothing mailed (pass --force to report on it all the same)"
    )]
    PeriodOutsideData { period: String, loaded: String },
    #[error(
        "job `{job}` is already running: run {run_id}, by {runner}, started {since}; this run was not started (`sendwatch runs` shows how it ends)"
    )]
    Busy {
        job: String,
        run_id: i64,
        runner: String,
        since: String,
    },
}

/// How a run was asked for.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub trigger: Trigger,
    /// The cron instant a scheduled run is for.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Report on this month instead of the last complete month of the data.
    pub period: Option<Period>,
    /// Report on `period` even when it starts after the loaded data ends (it would read NO
    /// DATA for every KPI).
    pub force: bool,
    /// A manual run that finds the job under way waits for it to end (or for its lease to
    /// lapse, if its process died) rather than being refused with [`JobError::Busy`].
    pub wait: bool,
}

impl RunOptions {
    pub fn manual() -> RunOptions {
        RunOptions {
            trigger: Trigger::Manual,
            scheduled_at: None,
            period: None,
            force: false,
            wait: true,
        }
    }
}

#[derive(Debug, Clone)]
pub struct RunReport {
    pub run_id: i64,
    pub job: String,
    pub status: RunStatus,
    pub sources: Vec<(String, SourceOutcome)>,
    pub evaluations: Vec<Evaluation>,
    /// Changes of a risk's score this run.
    pub risks: Vec<RiskChange>,
    pub queued: usize,
    pub delivery: DeliverySummary,
    pub delivered_via: String,
    /// How long each step took, wall time.
    pub stages: Stages,
}

/// What became of each of a run's sources, and each one's note for the later steps.
type Fetched = (Vec<(String, SourceOutcome)>, Sources);

/// The long-lived parts a run needs.
#[derive(Debug, Clone)]
pub struct App {
    pub settings: Arc<Settings>,
    pub store: Store,
    fetcher: source::Fetcher,
    notifier: notify::Notifier,
    /// Where a run's `now` comes from ([`App::with_clock`]).
    clock: Clock,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Fetch(#[from] source::FetchError),
    #[error(transparent)]
    Notifier(#[from] notify::BuildNotifierError),
    #[error("cannot make the data folder {path} (mode 0700): {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
}

impl App {
    /// Connect, migrate, set up delivery.
    pub async fn build(settings: Settings) -> Result<App, BuildError> {
        let data = &settings.general.data_dir;
        ingest::private_dir(data).map_err(|source| BuildError::DataDir {
            path: data.display().to_string(),
            source,
        })?;
        ingest::prune_spool(data, Utc::now());
        let store = open_store(&settings).await?;
        App::assemble(settings, store).await
    }

    /// [`App::build`] on a pool already open (connected and migrated): each of a
    /// deployment's areas gets `base` scoped to it.
    pub async fn build_on(settings: Settings, base: &Store) -> Result<App, BuildError> {
        let data = &settings.general.data_dir;
        ingest::private_dir(data).map_err(|source| BuildError::DataDir {
            path: data.display().to_string(),
            source,
        })?;
        ingest::prune_spool(data, Utc::now());
        let store = scope_store(base, &settings).await?;
        App::assemble(settings, store).await
    }

    /// The same store with new settings (a reload): delivery and fetchers built anew, the
    /// stored target versions merged again. The store's own settings are not re-read.
    pub async fn reconfigure(&self, settings: Settings) -> Result<App, BuildError> {
        let data = &settings.general.data_dir;
        ingest::private_dir(data).map_err(|source| BuildError::DataDir {
            path: data.display().to_string(),
            source,
        })?;
        // An area added by the reload gets the same pool, scoped to it.
        let store = self.store.for_area(settings.area_id().as_str());
        App::assemble(settings, store).await
    }

    /// The same app reading its time from `clock` (a test pins a run's instant with
    /// [`Clock::Fixed`]).
    pub fn with_clock(mut self, clock: Clock) -> App {
        self.clock = clock;
        self
    }

    /// The time now, by this app's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    async fn assemble(mut settings: Settings, store: Store) -> Result<App, BuildError> {
        // Target versions recorded with `kpi retarget` join the catalogue's own.
        let stored = store.retargets().await?;
        for kpi in crate::kpi::manual::retarget::merge(&mut settings.kpis, &stored) {
            tracing::warn!(
                kpi = kpi.as_str(),
                "A recorded target version is for a KPI the catalogue no longer has; left out."
            );
        }
        // England's published figures, where a KPI names a measure, as its national average.
        crate::stats::national::lay_over(&store, &mut settings.kpis).await?;
        let fetcher = source::Fetcher::new(&settings.sources)?;
        let notifier = notify::Notifier::build(&settings.delivery, &settings.notify)?;
        Ok(App {
            settings: Arc::new(settings),
            store,
            fetcher,
            notifier,
            clock: Clock::System,
        })
    }

    /// Run `job` once, now, as a manual run in the ledger (no claim key: it never collides
    /// with a scheduled instant). Scheduled runs go through [`App::run_scheduled`].
    pub async fn run_job(&self, job: &str, opts: RunOptions) -> Result<RunReport, JobError> {
        let job_settings = self.job_settings(job)?;
        // A live holder ends within its working timeout, a dead one is found when its lease
        // lapses: the longest a run can wait for the one under way.
        let wait = opts.wait.then(|| {
            job_settings
                .timeout()
                .saturating_add(self.settings.ledger.renew_every() * 3)
        });
        let (run_id, started) = self.start_manual(job, wait).await?;
        self.run_claimed(job, job_settings, run_id, started, opts)
            .await
    }

    fn job_settings(&self, job: &str) -> Result<&crate::schedule::JobSettings, JobError> {
        self.settings
            .jobs
            .get(job)
            .ok_or_else(|| JobError::UnknownJob(job.to_string()))
    }

    async fn run_steps(
        &self,
        job: &str,
        job_settings: &crate::schedule::JobSettings,
        run_id: i64,
        started: DateTime<Utc>,
        opts: RunOptions,
    ) -> Result<RunReport, JobError> {
        tracing::info!(trigger = opts.trigger.as_str(), "Run started.");
        if let Some(p) = &job_settings.pack {
            return self.run_pack(job, p, run_id, started).await;
        }

        let run = self.run_of(job, Some(run_id), started, opts.period)?;
        let began = std::time::Instant::now();
        let mut stages = Stages::default();
        let (outcomes, notes) = self
            .fetch_sources(run_id, job_settings, started, &mut stages)
            .await?;
        if let Some(p) = opts.period
            && !opts.force
        {
            outside_data(p, &notes)?;
        }
        let found = self.find(&run, &notes).await?;
        stages.merge(&found.stages);
        let mut lap = std::time::Instant::now();
        for rag in crate::kpi::Rag::all() {
            let n = found.evaluations.iter().filter(|e| e.rag == rag).count();
            metrics::gauge!(m::KPIS, "job" => job.to_string(), "rag" => rag.as_str()).set(n as f64);
        }
        let router = self.router();
        let planned = self
            .plan_digests(&digests::Found {
                run: &run,
                findings: &found,
                notes: &notes,
                router: &router,
            })
            .await?;
        let run_mail = notify::RunMail {
            area: &self.settings.general.area,
            subject_prefix: &self.settings.delivery.subject_prefix,
            job,
            run_id,
            router: &router,
            silences: &found.standing.silences,
            templates: &self.notifier.templates,
            repeat: self.settings.notify.repeat_interval(),
            disclosure: self.settings.disclosure(),
            now: started,
        };
        let queued = self
            .queue_news(&run_mail, &planned, &outcomes, &notes)
            .await?;
        // Told only now that every digest is queued; killed before this, the next run tells it
        // (a digest it makes again whose items were all queued is no news, so not sent twice).
        self.store.mark_risk_news_told(run_id, started).await?;
        stages.lap(Stage::Digests, &mut lap);
        let delivery = self.deliver_due().await?;
        stages.lap(Stage::Delivery, &mut lap);

        let status = outcome::run_status(&outcomes, &delivery);
        let summary = outcome::run_summary(
            &outcomes,
            &found.evaluations,
            &found.risks,
            queued,
            &delivery,
        );
        self.store
            .finish_run(run_id, status, &summary, self.clock.now())
            .await?;
        tracing::info!(status = status.as_str(), %summary, "Run finished.");
        stages.rest_is_other(began.elapsed());
        Ok(RunReport {
            run_id,
            job: job.to_string(),
            status,
            sources: outcomes,
            evaluations: found.evaluations,
            risks: found.risks,
            queued,
            delivery,
            delivered_via: self.notifier.transport.describe(),
            stages,
        })
    }

    /// Fetch, validate and swap in each of the job's sources, in order: what became of each
    /// (in the job's order, for the report and the notices) and each one's state for the later
    /// steps (its outcome and the load its figures now come from). Each fetch's and load's
    /// time is added to `stages`.
    async fn fetch_sources(
        &self,
        run_id: i64,
        job_settings: &crate::schedule::JobSettings,
        now: DateTime<Utc>,
        stages: &mut Stages,
    ) -> Result<Fetched, JobError> {
        let mut outcomes = Vec::new();
        let mut sources = Sources::new();
        for name in &job_settings.sources {
            let outcome = self.ingest(run_id, name, now, stages).await?;
            let word = outcome.word().replace(' ', "_");
            metrics::counter!(m::LOADS, "source" => name.clone(), "outcome" => word).increment(1);
            if let SourceOutcome::Loaded { rows, .. } = &outcome {
                metrics::counter!(m::ROWS_LOADED, "source" => name.clone()).increment(*rows);
            }
            outcomes.push((name.clone(), outcome.clone()));
            sources.insert(
                name.clone(),
                SourceState {
                    source: name.clone(),
                    outcome: Some(outcome),
                    load: self.store.current_load(name).await?,
                },
            );
        }
        Ok((outcomes, sources))
    }

    /// Hand the run's news to notify, once: one digest per recipient and each source's data
    /// notices, each queued unless it is no news. Returns how many were queued.
    async fn queue_news(
        &self,
        run: &notify::RunMail<'_>,
        planned: &[Planned],
        outcomes: &[(String, SourceOutcome)],
        notes: &Sources,
    ) -> Result<usize, JobError> {
        let sources = self.source_news(outcomes, notes, run.now);
        Ok(notify::queue_run(&self.store, run, planned, &sources).await?)
    }

    /// Fetch, validate and swap in one source. Failures are recorded, not returned.
    async fn ingest(
        &self,
        run_id: i64,
        name: &str,
        now: DateTime<Utc>,
        stages: &mut Stages,
    ) -> Result<SourceOutcome, StoreError> {
        let today = now.with_timezone(&self.settings.time_zone()).date_naive();
        let settings = &self.settings;
        let (Some(s), Some(kind)) = (
            settings.sources.get(name),
            settings
                .sources
                .get(name)
                .and_then(|s| settings.kinds.get(&s.kind)),
        ) else {
            return Ok(SourceOutcome::FetchFailed {
                error: format!("no source (or no kind for the source) named `{name}`"),
            });
        };
        let data_dir = &settings.general.data_dir;
        ingest::prune_kept(data_dir, name, s.load.keep_days, now);
        let current = self.store.current_load(name).await?;
        let prev = current
            .as_ref()
            .map_or_else(source::Validators::default, |l| source::Validators {
                etag: l.etag.clone(),
                last_modified: l.last_modified.clone(),
                sha256: l.sha256.clone(),
            });
        let spool_dir = data_dir.join("spool");
        let mut lap = std::time::Instant::now();
        let fetched = self.fetcher.fetch(name, s, &prev, &spool_dir, now).await;
        stages.lap(Stage::Fetch, &mut lap);
        let spooled = match fetched {
            Ok(source::Fetch::Got(spooled)) => spooled,
            Ok(source::Fetch::Unchanged {
                reason,
                url,
                http_status,
                fetched_at,
                ..
            }) => {
                let why = match reason {
                    source::NotReloaded::NotModified => {
                        "not modified since the current load (HTTP 304); not reloaded"
                    }
                    source::NotReloaded::SameContent => {
                        "the same bytes (sha256) as the current load; not reloaded"
                    }
                }
                .to_string();
                self.store
                    .record_unchanged(run_id, name, &url, fetched_at, http_status, &why)
                    .await?;
                tracing::info!(source = name, %why, "Unchanged.");
                return Ok(SourceOutcome::Unchanged { why });
            }
            Err(e) => {
                let error = e.to_string();
                tracing::error!(source = name, error = %error, "Fetch failed; the last good load stays in place.");
                self.store
                    .record_fetch_failure(run_id, name, e.url(), now, e.http_status(), &error)
                    .await?;
                return Ok(SourceOutcome::FetchFailed { error });
            }
        };
        tracing::info!(source = name, bytes = spooled.bytes, sha256 = %spooled.sha256, attempts = spooled.attempts, "Fetched.");
        let meta = LoadMeta {
            run_id,
            source: name,
            kind: &s.kind,
            url: &spooled.url,
            fetched_at: spooled.fetched_at,
            http_status: spooled.http_status,
            bytes: spooled.bytes,
            sha256: &spooled.sha256,
            etag: spooled.etag.as_deref(),
            last_modified: spooled.last_modified.as_deref(),
        };
        let extract = Extract {
            path: &spooled.path,
            meta,
            today,
            dry_run: false,
            progress: None,
        };
        let result = ingest::ingest_file(&self.store, s, kind, data_dir, extract).await;
        stages.lap(Stage::Load, &mut lap);
        spooled.discard();
        let outcome = result?;
        outcome::log_outcome(name, &outcome);
        Ok(outcome)
    }
}

/// A test's way to stop a debug build at a named step of a run, so that it can be killed
/// there (`SENDWATCH_PAUSE_AT=risks-recorded`): it says so on stderr and waits for ever.
/// Compiled out of release builds.
fn pause_point(step: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("SENDWATCH_PAUSE_AT").is_ok_and(|v| v == step) {
        eprintln!("sendwatch: paused at {step} (SENDWATCH_PAUSE_AT, a test hook)");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = step;
}

/// Refuse a period that starts after every source's loaded data ends (or with no data loaded):
/// its report would say NO DATA for every KPI, to everyone.
fn outside_data(period: Period, notes: &Sources) -> Result<(), JobError> {
    let latest = notes
        .values()
        .filter_map(|n| n.load.as_ref()?.data_as_of)
        .max();
    match latest {
        Some(d) if period.first_month() <= crate::kpi::Month::of(d) => Ok(()),
        Some(d) => Err(JobError::PeriodOutsideData {
            period: period.to_string(),
            loaded: format!("its data ends in {}", crate::kpi::Month::of(d).label()),
        }),
        None => Err(JobError::PeriodOutsideData {
            period: period.to_string(),
            loaded: "no extract is loaded".into(),
        }),
    }
}
