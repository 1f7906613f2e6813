//! Job: one run of the pipeline, the same whether cron or an operator started it.
//!
//! fetch each source → validate and swap in → compute and rate the job's KPIs on the loaded
//! data → queue one exception report per sub-group → deliver → record the run's outcome.
//! A source that fails to fetch or validate is recorded and reported; the KPIs then read the
//! last good load, and the run ends as failed.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use tracing::Instrument;

use crate::config::{ExtractKind, Settings};
use crate::kpi::{Evaluation, Month, evaluate, report_period};
use crate::load::{TrackerCase, parse_tracker};
use crate::notify::{self, DeliverySummary, SourceNote, Transport};
use crate::source;
use crate::store::{LoadRecord, RunStatus, Store, StoreError, Trigger};

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("no job named `{0}` in the configuration")]
    UnknownJob(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Delivery(#[from] notify::DeliveryError),
}

/// How a run was asked for.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub trigger: Trigger,
    /// The cron instant a scheduled run is for.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Report on this month instead of the last complete month of the data.
    pub period: Option<Month>,
}

impl RunOptions {
    pub fn manual() -> RunOptions {
        RunOptions {
            trigger: Trigger::Manual,
            scheduled_at: None,
            period: None,
        }
    }
}

/// What became of one source in a run.
#[derive(Debug, Clone)]
pub enum SourceOutcome {
    Loaded {
        load_id: i64,
        rows: usize,
        as_of: NaiveDate,
    },
    FetchFailed {
        error: String,
    },
    Rejected {
        error: String,
    },
}

#[derive(Debug, Clone)]
pub struct RunReport {
    pub run_id: i64,
    pub job: String,
    pub status: RunStatus,
    pub sources: Vec<(String, SourceOutcome)>,
    pub evaluations: Vec<Evaluation>,
    pub queued: usize,
    pub delivery: DeliverySummary,
    pub delivered_via: String,
}

/// The long-lived parts a run needs.
#[derive(Debug, Clone)]
pub struct App {
    pub settings: Arc<Settings>,
    pub store: Store,
    fetcher: source::Fetcher,
    transport: Transport,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Delivery(#[from] notify::DeliveryError),
    #[error(transparent)]
    Fetch(#[from] source::FetchError),
}

impl App {
    /// Connect, migrate, set up delivery.
    pub async fn build(settings: Settings) -> Result<App, BuildError> {
        let store = Store::connect(&settings.store).await?;
        store.migrate().await?;
        let transport = Transport::build(&settings.delivery)?;
        let fetcher = source::Fetcher::new(&settings.sources)?;
        Ok(App {
            settings: Arc::new(settings),
            store,
            fetcher,
            transport,
        })
    }

    /// Run `job` once, now.
    pub async fn run_job(&self, job: &str, opts: RunOptions) -> Result<RunReport, JobError> {
        let settings = &self.settings;
        let job_settings = settings
            .jobs
            .get(job)
            .ok_or_else(|| JobError::UnknownJob(job.to_string()))?;
        let started = Utc::now();
        let run_id = self
            .store
            .start_run(job, opts.trigger, opts.scheduled_at, started)
            .await?;
        let span = tracing::info_span!("run", job, run_id);
        self.run_steps(job, job_settings, run_id, started, opts)
            .instrument(span)
            .await
    }

    async fn run_steps(
        &self,
        job: &str,
        job_settings: &crate::config::JobSettings,
        run_id: i64,
        started: DateTime<Utc>,
        opts: RunOptions,
    ) -> Result<RunReport, JobError> {
        let settings = &self.settings;
        tracing::info!(trigger = opts.trigger.as_str(), "Run started.");

        let today = started.with_timezone(&settings.time_zone()).date_naive();
        let mut outcomes = Vec::new();
        let mut notes: BTreeMap<String, SourceNote> = BTreeMap::new();
        for name in &job_settings.sources {
            let outcome = self.ingest(run_id, name, today).await?;
            let latest_error = match &outcome {
                SourceOutcome::Loaded { .. } => None,
                SourceOutcome::FetchFailed { error } | SourceOutcome::Rejected { error } => {
                    Some(error.clone())
                }
            };
            notes.insert(
                name.clone(),
                SourceNote {
                    source: name.clone(),
                    load: self.store.current_load(name).await?,
                    latest_error,
                },
            );
            outcomes.push((name.clone(), outcome));
        }

        let evaluations = self
            .evaluate(run_id, job_settings, &notes, opts.period, today)
            .await?;

        let ctx = notify::render::Context {
            area: &settings.general.area,
            subject_prefix: &settings.delivery.subject_prefix,
            job,
            run_id,
            kpis: &settings.kpis,
            sources: &notes,
        };
        let digests = notify::group_exceptions(settings, &evaluations);
        let queued = digests.len();
        for d in &digests {
            let r = notify::render(d, &ctx);
            self.store
                .enqueue_mail(
                    run_id,
                    &d.sub_group,
                    &d.recipients,
                    &r.subject,
                    &r.body,
                    Utc::now(),
                )
                .await?;
        }
        drop(digests);
        let delivery =
            notify::deliver_pending(&self.store, &self.transport, &settings.delivery, Utc::now)
                .await?;

        let sources_ok = outcomes
            .iter()
            .all(|(_, o)| matches!(o, SourceOutcome::Loaded { .. }));
        let status = if sources_ok && delivery.failed == 0 && delivery.still_pending == 0 {
            RunStatus::Ok
        } else {
            RunStatus::Failed
        };
        let summary = format!(
            "sources: {}; KPIs: {}; reports queued {}, sent {}, failed {}, pending {}",
            outcomes
                .iter()
                .map(|(n, o)| format!("{n} {}", outcome_word(o)))
                .collect::<Vec<_>>()
                .join(", "),
            evaluations
                .iter()
                .map(|e| format!("{} {}", e.kpi_id, e.rag))
                .collect::<Vec<_>>()
                .join(", "),
            queued,
            delivery.sent,
            delivery.failed,
            delivery.still_pending
        );
        self.store
            .finish_run(run_id, status, &summary, Utc::now())
            .await?;
        tracing::info!(status = status.as_str(), %summary, "Run finished.");
        Ok(RunReport {
            run_id,
            job: job.to_string(),
            status,
            sources: outcomes,
            evaluations,
            queued,
            delivery,
            delivered_via: self.transport.describe(),
        })
    }

    /// Fetch, validate and swap in one source. Failures are recorded, not returned.
    async fn ingest(
        &self,
        run_id: i64,
        name: &str,
        today: NaiveDate,
    ) -> Result<SourceOutcome, StoreError> {
        let Some(s) = self.settings.sources.get(name) else {
            return Ok(SourceOutcome::FetchFailed {
                error: format!("no source named `{name}`"),
            });
        };
        let now = Utc::now();
        // Validators and a lasting spool folder come with the loader's rewrite; until then
        // each fetch is unconditional and the spooled bytes are read back into memory.
        let spool_dir = std::env::temp_dir().join("sendwatch-spool");
        let fetched = match self.fetcher.fetch_bytes(name, s, &spool_dir, now).await {
            Ok(f) => f,
            Err(e) => {
                let error = e.to_string();
                tracing::error!(source = name, error = %error, "Fetch failed; the last good load stays in place.");
                let url = crate::config::redact_url(&s.url);
                self.store
                    .record_fetch_failure(run_id, name, &url, now, e.http_status(), &error)
                    .await?;
                return Ok(SourceOutcome::FetchFailed { error });
            }
        };
        tracing::info!(source = name, bytes = fetched.bytes.len(), sha256 = %fetched.sha256, "Fetched.");
        let parsed = match s.kind {
            ExtractKind::Tracker => parse_tracker(&fetched.url, &fetched.bytes, today),
        };
        match parsed {
            Ok(p) => {
                let rows = p.cases.len();
                tracing::info!(source = name, rows, "Validated; swapping in.");
                let load_id = self
                    .store
                    .replace_tracker(run_id, name, &fetched, &p)
                    .await?;
                tracing::info!(source = name, load_id, rows, data_as_of = %p.as_of, "Loaded.");
                Ok(SourceOutcome::Loaded {
                    load_id,
                    rows,
                    as_of: p.as_of,
                })
            }
            Err(e) => {
                let error = e.to_string();
                tracing::error!(source = name, error = %error, "Extract rejected; the last good load stays in place.");
                self.store
                    .record_rejection(run_id, name, &fetched, &error)
                    .await?;
                Ok(SourceOutcome::Rejected { error })
            }
        }
    }

    async fn evaluate(
        &self,
        run_id: i64,
        job: &crate::config::JobSettings,
        notes: &BTreeMap<String, SourceNote>,
        period: Option<Month>,
        today: NaiveDate,
    ) -> Result<Vec<Evaluation>, StoreError> {
        let mut cases: HashMap<&str, Vec<TrackerCase>> = HashMap::new();
        let mut out = Vec::new();
        for (id, kpi) in self.settings.job_kpis(job) {
            let load: Option<&LoadRecord> = notes.get(&kpi.source).and_then(|n| n.load.as_ref());
            let load = match load {
                Some(l) => Some(l.clone()),
                None => self.store.current_load(&kpi.source).await?,
            };
            if !cases.contains_key(kpi.source.as_str()) {
                let rows = match &load {
                    Some(_) => self.store.tracker_cases(&kpi.source).await?,
                    None => Vec::new(),
                };
                cases.insert(kpi.source.as_str(), rows);
            }
            let as_of = load.as_ref().and_then(|l| l.data_as_of).unwrap_or(today);
            let period = period.unwrap_or_else(|| report_period(as_of));
            let rows = cases
                .get(kpi.source.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let e = evaluate(
                id,
                kpi,
                self.settings.rag.amber_tolerance,
                rows,
                as_of,
                period,
            );
            self.store
                .save_evaluation(run_id, &e, load.as_ref().map(|l| l.id))
                .await?;
            out.push(e);
        }
        Ok(out)
    }
}

fn outcome_word(o: &SourceOutcome) -> &'static str {
    match o {
        SourceOutcome::Loaded { .. } => "loaded",
        SourceOutcome::FetchFailed { .. } => "fetch failed",
        SourceOutcome::Rejected { .. } => "rejected",
    }
}
