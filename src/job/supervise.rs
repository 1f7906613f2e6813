//! A run under the ledger: claimed (scheduled) or started (manual, once the job's run under
//! way, if any, has ended), its lease renewed while it works, stopped past its working
//! timeout, and its end written down whatever happens.
//!
//! Owns: the calls from a run to [`crate::ledger`]. The steps themselves are in `job.rs`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::Instrument;

use super::{App, JobError, RunOptions, RunReport};
use crate::ledger::{self, Lease, Tell};
use crate::notify;
use crate::schedule::JobSettings;
use crate::store::{Claim, NewClaim, RunStatus, Start, StoreError, Trigger};
use crate::telemetry::metrics as m;

/// How often a manual run that found its job under way looks again.
const BUSY_POLL: Duration = Duration::from_secs(1);

/// What became of a scheduled instant.
#[derive(Debug)]
pub enum Scheduled {
    /// This process claimed it and ran it.
    Ran(Box<RunReport>),
    /// The job was still running: recorded as skipped.
    Skipped { run_id: i64, note: String },
    /// Another process claimed it first.
    Taken,
}

impl App {
    /// Claim the scheduled instant `at` of `job` and, if this process holds it, run it.
    /// `note` is said in the ledger (a catch-up says which fire time it makes up).
    pub async fn run_scheduled(
        &self,
        job: &str,
        at: DateTime<Utc>,
        trigger: Trigger,
        note: Option<&str>,
    ) -> Result<Scheduled, JobError> {
        let job_settings = self.job_settings(job)?;
        let now = self.clock.now();
        let claim = NewClaim {
            job,
            trigger,
            at,
            note,
            runner: ledger::runner(),
            now,
            lease_until: now + self.settings.ledger.lease(),
        };
        match self.store.claim_run(&claim).await? {
            Claim::Run(run_id) => {
                let opts = RunOptions {
                    trigger,
                    scheduled_at: Some(at),
                    period: None,
                    force: false,
                    // Claimed already: there is nothing to wait for.
                    wait: false,
                };
                let report = self
                    .run_claimed(job, job_settings, run_id, now, opts)
                    .await?;
                Ok(Scheduled::Ran(Box::new(report)))
            }
            Claim::Skipped { id, note } => {
                metrics::counter!(m::RUNS, "job" => job.to_string(), "outcome" => "skipped")
                    .increment(1);
                Ok(Scheduled::Skipped { run_id: id, note })
            }
            Claim::Taken => Ok(Scheduled::Taken),
        }
    }

    /// Run the steps of a run this process holds: renew its lease meanwhile, stop it past
    /// the job's working timeout (abandoned, the administrator told), and mark it failed if
    /// a step could not complete.
    pub(super) async fn run_claimed(
        &self,
        job: &str,
        job_settings: &JobSettings,
        run_id: i64,
        started: DateTime<Utc>,
        opts: RunOptions,
    ) -> Result<RunReport, JobError> {
        // Room to record a failure on a full disk, made again once there is space.
        self.store.keep_reserve();
        let span = tracing::info_span!("run", job, run_id);
        let lease = Lease::keep(
            self.store.clone(),
            run_id,
            &self.settings.ledger,
            self.clock,
        );
        let clock_started = std::time::Instant::now();
        let limit = job_settings.timeout();
        let outcome = tokio::time::timeout(
            limit,
            self.run_steps(job, job_settings, run_id, started, opts)
                .instrument(span.clone()),
        )
        .await;
        drop(lease);
        // Real seconds for the metric, whatever the clock says.
        let took = clock_started.elapsed().as_secs_f64();
        let ended = |outcome: &'static str| {
            metrics::counter!(m::RUNS, "job" => job.to_string(), "outcome" => outcome).increment(1);
            metrics::histogram!(m::RUN_SECONDS, "job" => job.to_string()).record(took);
        };
        match outcome {
            Ok(Ok(report)) => {
                ended(report.status.as_str());
                Ok(report)
            }
            Ok(Err(e)) => {
                ended(RunStatus::Failed.as_str());
                tracing::error!(job, run_id, error = %e, "The run could not complete.");
                let summary = format!("could not complete: {}", e.kind());
                if e.disk_full() {
                    // The write below needs room: the reserve kept for this.
                    self.store.release_reserve();
                }
                let mut recorded = self
                    .store
                    .finish_run(run_id, RunStatus::Failed, &summary, self.clock.now())
                    .await;
                if matches!(recorded, Err(StoreError::DiskFull(_))) && self.store.release_reserve()
                {
                    recorded = self
                        .store
                        .finish_run(run_id, RunStatus::Failed, &summary, self.clock.now())
                        .await;
                }
                if let Err(e) = recorded {
                    tracing::error!(run_id, error = %e, "Could not record the failed run.");
                }
                Err(e)
            }
            Err(_elapsed) => {
                let secs = job_settings.timeout_secs;
                let why = format!(
                    "stopped past its working timeout of {secs} s (jobs.{job}.timeout_secs)"
                );
                let run = self.store.run(run_id).await?;
                ledger::abandon(
                    &self.store,
                    self.tell(),
                    &run,
                    &why,
                    self.clock.now(),
                    false,
                )
                .await?;
                self.deliver_notices().await;
                Err(JobError::TimedOut { run_id, secs })
            }
        }
    }

    /// Start a manual run of `job` (`load:SOURCE` for a load by hand). If a run of it is under
    /// way, wait up to `wait` until it ends or its process is found dead (its lease lapses and
    /// the sweep abandons it); past that, or with no `wait`, [`JobError::Busy`]. The run's id
    /// and its instant (its `started_at`, the `now` of all it writes).
    pub(crate) async fn start_manual(
        &self,
        job: &str,
        wait: Option<Duration>,
    ) -> Result<(i64, DateTime<Utc>), JobError> {
        let ledger = &self.settings.ledger;
        // Past the end of the clock (a wait no check allowed), it never gives up.
        let give_up = tokio::time::Instant::now().checked_add(wait.unwrap_or_default());
        let mut told = false;
        loop {
            let now = self.clock.now();
            let started = async {
                // A holder killed earlier frees the job as soon as its lease has lapsed.
                self.sweep_abandoned(now).await?;
                Ok::<_, JobError>(
                    self.store
                        .start_manual(job, ledger::runner(), now, now + ledger.lease())
                        .await?,
                )
            }
            .await;
            // On a full disk the run is started in the space held in reserve, so that it is
            // in the ledger and fails there saying why, rather than leaving no trace.
            let started = match started {
                Err(e) if e.disk_full() && self.store.release_reserve() => continue,
                other => other?,
            };
            let holder = match started {
                Start::Run(id) => return Ok((id, now)),
                Start::Busy(holder) => holder,
            };
            if give_up.is_some_and(|g| tokio::time::Instant::now() >= g) {
                return Err(JobError::Busy {
                    job: job.to_string(),
                    run_id: holder.id,
                    runner: holder.runner.unwrap_or_else(|| "an earlier version".into()),
                    since: crate::disclose::stamp(holder.started_at),
                });
            }
            if !told {
                told = true;
                tracing::info!(
                    job,
                    holder = holder.id,
                    runner = holder.runner.as_deref().unwrap_or("-"),
                    "The job is under way in another run; waiting for it to end."
                );
            }
            tokio::time::sleep(BUSY_POLL).await;
        }
    }

    /// Abandon the runs whose lease has passed (their process died), telling the
    /// administrator; their ids.
    pub async fn sweep_abandoned(&self, now: DateTime<Utc>) -> Result<Vec<i64>, JobError> {
        let swept = ledger::sweep(&self.store, self.tell(), now).await?;
        if !swept.is_empty() {
            self.deliver_notices().await;
        }
        Ok(swept)
    }

    /// Mark this process's runs still marked running abandoned, with why (a stop cancelled
    /// them), telling the administrator; their ids.
    pub async fn abandon_own_runs(
        &self,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, JobError> {
        let mut ids = Vec::new();
        for run in self.store.running_runs().await? {
            if run.runner.as_deref() == Some(ledger::runner())
                && ledger::abandon(&self.store, self.tell(), &run, why, now, false).await?
            {
                ids.push(run.id);
            }
        }
        Ok(ids)
    }

    /// Tell the administrator of each enabled job with `dead_man_hours` that has had no
    /// successful run for that long, once per lapse; the jobs told now.
    pub async fn check_dead_man(&self, now: DateTime<Utc>) -> Result<Vec<String>, JobError> {
        let mut told = Vec::new();
        for (name, job) in self.settings.jobs.iter().filter(|(_, j)| j.enabled) {
            let Some(hours) = job.dead_man_hours else {
                continue;
            };
            if ledger::dead_man(&self.store, self.tell(), name, hours, now).await? {
                told.push(name.clone());
            }
        }
        if !told.is_empty() {
            self.deliver_notices().await;
        }
        Ok(told)
    }

    fn tell(&self) -> Tell<'_> {
        Tell {
            admin: &self.settings.admin,
            notify: &self.settings.notify,
            sub_groups: &self.settings.sub_groups,
            area: &self.settings.general.area,
            subject_prefix: &self.settings.delivery.subject_prefix,
            templates: &self.notifier.templates,
        }
    }

    /// One delivery pass over the outbox rows that are due (see [`notify::deliver_pending`]):
    /// a run's own reports, and what earlier passes put off. The daemon runs one on its tick
    /// too, so that mail put off is retried between runs.
    pub async fn deliver_due(&self) -> Result<notify::DeliverySummary, notify::DeliveryError> {
        let s = &self.settings;
        let pass = notify::Pass {
            lease: s.ledger.lease(),
            admin: s.admin.email.as_deref(),
            area: &s.general.area,
            runner: ledger::runner(),
            templates: &self.notifier.templates,
        };
        let clock = self.clock;
        notify::deliver_pending(
            &self.store,
            &self.notifier.transport,
            &s.delivery,
            &pass,
            move || clock.now(),
        )
        .await
    }

    /// Deliver what is due now (the administrator's notice among it); what fails stays
    /// pending for a later pass.
    async fn deliver_notices(&self) {
        if let Err(e) = self.deliver_due().await {
            tracing::warn!(error = %e, "Could not deliver the administrator's notice now; it stays in the outbox.");
        }
    }
}

impl JobError {
    /// Whether the disk (the database's or the data folder's) was found full.
    pub fn disk_full(&self) -> bool {
        matches!(self, JobError::Store(StoreError::DiskFull(_)))
    }

    /// What went wrong, in words safe for the ledger's summary column (the detail is logged).
    pub fn kind(&self) -> String {
        match self {
            JobError::UnknownJob(_)
            | JobError::UnknownSource(_)
            | JobError::TimedOut { .. }
            | JobError::PeriodOutsideData { .. }
            | JobError::Busy { .. } => self.to_string(),
            JobError::File(_) => "a file could not be read (see the log)".into(),
            JobError::Store(StoreError::DiskFull(_)) => {
                "no space left on device (see the log)".into()
            }
            JobError::Store(_) => "a database error (see the log)".into(),
            JobError::Delivery(_) => "a delivery error (see the log)".into(),
            JobError::Render(_) => "a digest template failed (see the log)".into(),
            JobError::Pack(_) => "the board pack could not be made (see the log)".into(),
        }
    }
}
