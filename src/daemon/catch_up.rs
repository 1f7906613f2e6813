//! Catch-up at start: a job's fire times missed while no daemon ran, handled by its
//! `catch_up` policy and said in the ledger.
//!
//! The plan is pure ([`crate::schedule::catch_up`]); this runs it. Missed times are those after
//! the job's last ledger row: a job that never ran (a fresh install) catches up nothing.
//! Skipped rows and runs carry the instant's claim key like any scheduled run, so two daemons
//! starting together record and run each missed time once.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};

use crate::job::{App, JobError, Scheduled};
use crate::schedule::catch_up::{MAX_LISTED, run_note, skip_note};
use crate::schedule::{missed, parse_cron, plan};
use crate::store::Trigger;
use crate::telemetry::metrics as m;

/// What a catch-up did: ledger ids of the runs it made and of the instants it skipped.
#[derive(Debug, Clone, Default)]
pub struct CatchUpReport {
    pub ran: Vec<i64>,
    pub skipped: Vec<i64>,
    /// Missed times another process had already recorded.
    pub taken: usize,
}

impl CatchUpReport {
    pub fn is_empty(&self) -> bool {
        self.ran.is_empty() && self.skipped.is_empty() && self.taken == 0
    }
}

/// Catch up `job`'s fire times missed up to `now`. Stops starting runs once `stop` is set.
pub async fn catch_up_job(
    app: &App,
    job: &str,
    now: DateTime<Utc>,
    stop: &AtomicBool,
) -> Result<CatchUpReport, JobError> {
    let mut report = CatchUpReport::default();
    let settings = app
        .settings
        .jobs
        .get(job)
        .ok_or_else(|| JobError::UnknownJob(job.to_string()))?;
    let Some(since) = app.store.job_covered_until(job).await? else {
        return Ok(report);
    };
    let Ok(cron) = parse_cron(&settings.cron) else {
        return Ok(report); // validated with the configuration
    };
    let tz = app.settings.time_zone();
    let plan = plan(
        settings.catch_up,
        &missed(&cron, tz, since, now, MAX_LISTED),
    );
    let newest_run = plan.run.last().copied();
    for (i, (at, why)) in plan.skip.iter().enumerate() {
        let earlier = (i == 0).then_some((plan.earlier, plan.earlier_at_least));
        let note = skip_note(*why, newest_run, tz, earlier);
        let id = app
            .store
            .insert_skipped(
                job,
                Trigger::CatchUp,
                *at,
                &note,
                crate::ledger::runner(),
                Utc::now(),
            )
            .await?;
        match id {
            Some(id) => {
                metrics::counter!(m::RUNS, "job" => job.to_string(), "outcome" => "skipped")
                    .increment(1);
                report.skipped.push(id)
            }
            None => report.taken += 1,
        }
    }
    for at in plan.run {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let note = run_note(at, tz);
        match app
            .run_scheduled(job, at, Trigger::CatchUp, Some(&note))
            .await
        {
            Ok(Scheduled::Ran(r)) => {
                tracing::info!(job, run_id = r.run_id, status = r.status.as_str(), %note, "Catch-up run done.");
                report.ran.push(r.run_id);
            }
            Ok(Scheduled::Skipped { run_id, .. }) => report.skipped.push(run_id),
            Ok(Scheduled::Taken) => report.taken += 1,
            // One failed catch-up run does not stop the others ("all").
            Err(e) => tracing::error!(job, error = %e, %note, "Catch-up run could not complete."),
        }
    }
    Ok(report)
}
