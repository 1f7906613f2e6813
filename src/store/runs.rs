//! The run ledger: one row per job run (and per scheduled instant), how it was triggered,
//! who ran it, its lease and how it ended.
//!
//! A scheduled instant is claimed by inserting its row with a unique claim key
//! (`INSERT ... ON CONFLICT DO NOTHING RETURNING id`, the same text on SQLite and PostgreSQL):
//! the process whose insert returns a row runs it, any other does not. A job has at most one
//! running run (a partial unique index, migration 0014): a start that finds it held gets the
//! holder back instead. Reading the ledger for `runs` and `status` is in [`super::runs_read`].

use chrono::{DateTime, SecondsFormat, Utc};

use super::named::{UnknownValue, named, named_column};
use super::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    Manual,
    /// A fire time missed while no daemon ran, run at the next start.
    CatchUp,
}

impl Trigger {
    const ALL: [Trigger; 3] = [Trigger::Schedule, Trigger::Manual, Trigger::CatchUp];

    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Manual => "manual",
            Trigger::CatchUp => "catch_up",
        }
    }
}

named_column!(Trigger);
named_column!(RunStatus);

impl TryFrom<String> for Trigger {
    type Error = UnknownValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        named(&Trigger::ALL, Trigger::as_str, "runs.trigger", value)
    }
}

/// As its column's text (the JSON of `runs` and the live view).
impl serde::Serialize for Trigger {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Running,
    Ok,
    Failed,
    /// Its process died (lease expired) or it passed its working timeout.
    Abandoned,
    /// Never started: the job was still running, or the instant was missed and the job's
    /// catch-up policy did not run it.
    Skipped,
}

impl RunStatus {
    const ALL: [RunStatus; 5] = [
        RunStatus::Running,
        RunStatus::Ok,
        RunStatus::Failed,
        RunStatus::Abandoned,
        RunStatus::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Ok => "ok",
            RunStatus::Failed => "failed",
            RunStatus::Abandoned => "abandoned",
            RunStatus::Skipped => "skipped",
        }
    }
}

impl TryFrom<String> for RunStatus {
    type Error = UnknownValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        named(&RunStatus::ALL, RunStatus::as_str, "runs.status", value)
    }
}

/// As its column's text (the JSON of `runs` and the live view).
impl serde::Serialize for RunStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRecord {
    pub id: i64,
    pub job: String,
    pub trigger: Trigger,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: RunStatus,
    pub summary: Option<String>,
    pub runner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub note: Option<String>,
    /// The area the run was for.
    pub area: String,
}

pub(super) const RUN_COLUMNS: &str = "SELECT id, job, trigger, scheduled_at, started_at, finished_at, status, \
    summary, runner, lease_until, note, area FROM runs";

/// The claim key of a scheduled instant: `JOB@2027-03-28T06:00:00Z`.
pub fn claim_key(job: &str, at: DateTime<Utc>) -> String {
    format!("{job}@{}", at.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// A scheduled instant to claim.
#[derive(Debug, Clone, Copy)]
pub struct NewClaim<'a> {
    pub job: &'a str,
    pub trigger: Trigger,
    pub at: DateTime<Utc>,
    /// Said in the ledger when it runs (a catch-up says which fire time it makes up).
    pub note: Option<&'a str>,
    /// host:pid of this process.
    pub runner: &'a str,
    pub now: DateTime<Utc>,
    pub lease_until: DateTime<Utc>,
}

/// What claiming an instant came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This process holds the instant: run it.
    Run(i64),
    /// The job was still running: the instant is recorded as skipped, with the reason.
    Skipped { id: i64, note: String },
    /// Another process claimed (or skipped) this instant first.
    Taken,
}

// Writes with RETURNING outside a transaction read every row (`fetch_all`), here and in the
// other files: SQLite commits such a statement when it is stepped to its end, so reading only
// the first row would miss a commit that failed (a full disk) and hand back an id that was
// never stored (a later insert naming it then fails "FOREIGN KEY constraint failed").
const INSERT: &str = "INSERT INTO runs (job, trigger, scheduled_at, started_at, finished_at, status, \
    claim_key, runner, lease_until, note, area) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
    ON CONFLICT DO NOTHING RETURNING id";

/// How often a start retries when the job's holder finishes between the insert and the read.
const HOLDER_TRIES: usize = 5;

/// What starting a manual run came to.
#[derive(Debug, Clone)]
pub enum Start {
    /// This process holds the job: run it.
    Run(i64),
    /// A run of the job is under way: this one.
    Busy(Box<RunRecord>),
}

impl Store {
    /// A run outside the ledger's leases (`load FILE` by hand, tests): no key, no lease.
    pub async fn start_run(
        &self,
        job: &str,
        trigger: Trigger,
        scheduled_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        const SQL: &str = "INSERT INTO runs (job, trigger, scheduled_at, started_at, status, area) \
                           VALUES ($1, $2, $3, $4, 'running', $5) RETURNING id";
        let id = on_pool!(self, p => sqlx::query_scalar(SQL)
            .bind(job)
            .bind(trigger.as_str())
            .bind(scheduled_at)
            .bind(now)
            .bind(self.area())
            .fetch_all(p)
            .await?
            .into_iter().next().ok_or(sqlx::Error::RowNotFound)?);
        Ok(id)
    }

    /// A manual run: no claim key (it never collides with a scheduled instant), with a lease.
    /// [`Start::Busy`] if a run of the job is under way: one running run per job (migration
    /// 0014's unique index), so two runs never record the same news at once.
    pub async fn start_manual(
        &self,
        job: &str,
        runner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Start, StoreError> {
        const SQL: &str = "INSERT INTO runs (job, trigger, started_at, status, runner, lease_until, area) \
                           VALUES ($1, 'manual', $2, 'running', $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id";
        // The holder may finish between our insert and our read: then try again.
        for _ in 0..HOLDER_TRIES {
            let id: Option<i64> = on_pool!(self, p => sqlx::query_scalar(SQL)
                .bind(job)
                .bind(now)
                .bind(runner)
                .bind(lease_until)
                .bind(self.area())
                .fetch_all(p)
                .await?
                .into_iter().next());
            if let Some(id) = id {
                return Ok(Start::Run(id));
            }
            if let Some(holder) = self.running_run_of(job).await? {
                return Ok(Start::Busy(Box::new(holder)));
            }
        }
        Err(StoreError::NotFound(format!(
            "job `{job}` could not be started: its running row came and went {HOLDER_TRIES} times"
        )))
    }

    /// Claim a scheduled instant. If a run of the job is under way the instant is recorded as
    /// skipped instead. Either row carries the instant's claim key, so whichever process
    /// inserts first decides, and every other process gets [`Claim::Taken`]. The insert is
    /// the whole check: one running run per job and one row per instant are unique indexes.
    pub async fn claim_run(&self, c: &NewClaim<'_>) -> Result<Claim, StoreError> {
        const KEYED: &str = "SELECT id FROM runs WHERE claim_key = $1 AND area = $2";
        let key = claim_key(c.job, c.at);
        for _ in 0..HOLDER_TRIES {
            let inserted: Option<i64> = on_pool!(self, p => sqlx::query_scalar(INSERT)
                .bind(c.job)
                .bind(c.trigger.as_str())
                .bind(c.at)
                .bind(c.now)
                .bind(None::<DateTime<Utc>>)
                .bind(RunStatus::Running.as_str())
                .bind(&key)
                .bind(c.runner)
                .bind(c.lease_until)
                .bind(c.note)
                .bind(self.area())
                .fetch_all(p)
                .await?
                .into_iter()
                .next());
            if let Some(id) = inserted {
                return Ok(Claim::Run(id));
            }
            let keyed: Option<i64> = on_pool!(self, p => sqlx::query_scalar(KEYED).bind(&key).bind(self.area()).fetch_optional(p).await?);
            if keyed.is_some() {
                return Ok(Claim::Taken);
            }
            if let Some(holder) = self.running_run_of(c.job).await? {
                let note = format!("the job was still running (run {})", holder.id);
                let id = self
                    .insert_skipped(c.job, c.trigger, c.at, &note, c.runner, c.now)
                    .await?;
                return Ok(id.map_or(Claim::Taken, |id| Claim::Skipped { id, note }));
            }
        }
        Err(StoreError::NotFound(format!(
            "instant {key} could not be claimed: the job's running row came and went {HOLDER_TRIES} times"
        )))
    }

    /// The run of `job` under way, if any (there is at most one).
    pub async fn running_run_of(&self, job: &str) -> Result<Option<RunRecord>, StoreError> {
        let sql = format!("{RUN_COLUMNS} WHERE job = $1 AND status = 'running' AND area = $2");
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(job).bind(self.area()).fetch_optional(p).await?),
        )
    }

    /// Record a scheduled instant as skipped, with why. `None` if it already has a row.
    pub async fn insert_skipped(
        &self,
        job: &str,
        trigger: Trigger,
        at: DateTime<Utc>,
        note: &str,
        runner: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        let key = claim_key(job, at);
        Ok(on_pool!(self, p => sqlx::query_scalar(INSERT)
            .bind(job)
            .bind(trigger.as_str())
            .bind(at)
            .bind(now)
            .bind(Some(now))
            .bind(RunStatus::Skipped.as_str())
            .bind(&key)
            .bind(runner)
            .bind(None::<DateTime<Utc>>)
            .bind(note)
            .bind(self.area())
            .fetch_all(p)
            .await?
            .into_iter()
            .next()))
    }

    /// Push a running run's lease to `until`. False if the run is no longer running (it was
    /// abandoned meanwhile).
    pub async fn renew_lease(&self, id: i64, until: DateTime<Utc>) -> Result<bool, StoreError> {
        const SQL: &str =
            "UPDATE runs SET lease_until = $1 WHERE id = $2 AND status = 'running' AND area = $3";
        let n = on_pool!(self, p => sqlx::query(SQL).bind(until).bind(id).bind(self.area()).execute(p).await?.rows_affected());
        Ok(n == 1)
    }

    pub async fn finish_run(
        &self,
        id: i64,
        status: RunStatus,
        summary: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE runs SET status = $1, summary = $2, finished_at = $3 WHERE id = $4 AND area = $5";
        on_pool!(self, p => sqlx::query(SQL)
            .bind(status.as_str())
            .bind(summary)
            .bind(now)
            .bind(id)
            .bind(self.area())
            .execute(p).await?.rows_affected());
        Ok(())
    }

    /// Runs still marked running whose lease ran out before `now`: their process is gone.
    pub async fn expired_runs(&self, now: DateTime<Utc>) -> Result<Vec<RunRecord>, StoreError> {
        let sql = format!(
            "{RUN_COLUMNS} WHERE status = 'running' AND lease_until < $1 AND area = $2 ORDER BY id"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).bind(self.area()).fetch_all(p).await?),
        )
    }

    /// Mark a running run abandoned, with why. With `if_expired`, only while its lease is
    /// still past (a sweep must not take a run whose owner just renewed it). True if this
    /// call changed it, so that only one process tells the administrator.
    pub async fn abandon_run(
        &self,
        id: i64,
        note: &str,
        now: DateTime<Utc>,
        if_expired: bool,
    ) -> Result<bool, StoreError> {
        const ANY: &str = "UPDATE runs SET status = 'abandoned', finished_at = $1, note = $2 \
                           WHERE id = $3 AND status = 'running' AND area = $4";
        const EXPIRED: &str = "UPDATE runs SET status = 'abandoned', finished_at = $1, note = $2 \
                               WHERE id = $3 AND status = 'running' AND lease_until < $1 AND area = $4";
        let sql = if if_expired { EXPIRED } else { ANY };
        let n = on_pool!(self, p => sqlx::query(sql)
            .bind(now)
            .bind(note)
            .bind(id)
            .bind(self.area())
            .execute(p).await?.rows_affected());
        Ok(n == 1)
    }

    pub async fn run(&self, id: i64) -> Result<RunRecord, StoreError> {
        let sql = format!("{RUN_COLUMNS} WHERE id = $1 AND area = $2");
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).bind(self.area()).fetch_one(p).await?),
        )
    }

    /// The newest run's id, if any.
    pub async fn last_run_id(&self) -> Result<Option<i64>, StoreError> {
        const SQL: &str = "SELECT max(id) FROM runs WHERE area = $1";
        Ok(on_pool!(self, p => sqlx::query_scalar(SQL).bind(self.area()).fetch_one(p).await?))
    }
}
