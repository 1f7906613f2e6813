//! Ledger: what a process does around a run so that the `runs` table stays true.
//!
//! A run holds a lease in its row and renews it while it works ([`Lease`]); a run whose
//! lease has passed was left by a process that died, and a sweep ([`sweep`]) marks it
//! abandoned. An abandoned run, swept or past its working timeout, is told to the
//! administrator by one short email through the outbox (job, run id, instants, why: no
//! figures, nothing about a child). The claims themselves are rows: see
//! [`crate::store::Store::claim_run`].
//!
//! A job with `dead_man_hours` that has had no successful run for that long is told to the
//! administrator the same way, once per lapse ([`dead_man`]).
//!
//! Owns: `[ledger]` (the lease) and `[admin]` (who is told) settings, this process's runner
//! name. Must not: run jobs (that is [`crate::job`]) or deliver (the caller does).

use std::sync::OnceLock;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;

use crate::bounds::Bound;
use crate::clock::Clock;
use crate::notify::{
    AdminNotice, DeadManNotice, queue_for_admin, render_admin_notice, render_dead_man_notice,
};
use crate::store::{RunRecord, Store, StoreError};
use crate::telemetry::metrics as m;

/// `[ledger]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerSettings {
    /// How long a run's claim holds without renewal; renewed every third of it. A killed
    /// run is abandoned this long after its last renewal at most (plus a sweep). 3 to 3600
    /// ([`LEASE_SECS`]).
    #[serde(default = "default_lease")]
    pub lease_secs: u64,
}

/// `lease_secs`: renewed every third, so at least 3; a killed run's job is held up for a
/// lease at most, so no more than an hour.
pub const LEASE_SECS: Bound<u64> = Bound::new(3, 3_600, "an hour; it is renewed every third of it");

fn default_lease() -> u64 {
    60
}

impl Default for LedgerSettings {
    fn default() -> LedgerSettings {
        LedgerSettings {
            lease_secs: default_lease(),
        }
    }
}

impl LedgerSettings {
    /// The lease as a span, within its range whatever was configured (it is added to now).
    pub fn lease(&self) -> TimeDelta {
        TimeDelta::seconds(i64::try_from(self.secs()).unwrap_or(60))
    }

    /// How often a lease is renewed, and a daemon sweeps for expired ones.
    pub fn renew_every(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.secs() * 1000 / 3)
    }

    fn secs(&self) -> u64 {
        LEASE_SECS.clamp(self.lease_secs)
    }

    pub fn check(&self, bad: &mut dyn FnMut(String, String)) {
        LEASE_SECS.check(bad, "ledger.lease_secs", self.lease_secs);
    }
}

/// `[admin]`: who hears of runs gone wrong.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    /// The administrator's address; unset, abandoned runs are only logged.
    pub email: Option<String>,
}

impl AdminSettings {
    pub fn check(&self, bad: &mut impl FnMut(String, String)) {
        if let Some(e) = &self.email
            && e.parse::<lettre::message::Mailbox>().is_err()
        {
            bad(
                "admin.email".into(),
                format!("`{e}` is not an email address"),
            );
        }
    }
}

/// This process in the ledger: `host:pid`.
pub fn runner() -> &'static str {
    static RUNNER: OnceLock<String> = OnceLock::new();
    RUNNER.get_or_init(|| format!("{}:{}", hostname(), std::process::id()))
}

/// The machine's name (from uname: the service's sandbox hides `/proc/sys`).
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it or
    // fails, and the name is read only up to the first NUL.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let name = buf.split(|b| *b == 0).next().unwrap_or_default();
    match std::str::from_utf8(name) {
        Ok(h) if rc == 0 && !h.is_empty() => h.to_string(),
        _ => "localhost".into(),
    }
}

/// A running run's lease, renewed by a small task until this is dropped.
#[derive(Debug)]
pub struct Lease {
    task: tokio::task::JoinHandle<()>,
}

impl Lease {
    pub fn keep(store: Store, run_id: i64, settings: &LedgerSettings, clock: Clock) -> Lease {
        let every = settings.renew_every();
        let lease = settings.lease();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await; // the first tick is at once; the claim set the lease
            loop {
                tick.tick().await;
                match store.renew_lease(run_id, clock.now() + lease).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(
                            run_id,
                            "The run is no longer marked running (abandoned by a sweep?); its lease is no longer renewed."
                        );
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(run_id, error = %e, "Could not renew the run's lease.")
                    }
                }
            }
        });
        Lease { task }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Who is told of an abandoned run, and how its mail is headed.
#[derive(Debug, Clone, Copy)]
pub struct Tell<'a> {
    pub admin: &'a AdminSettings,
    /// The routes: a `run_failed` item goes where they say (by default, no route matches it
    /// and it goes to the administrator).
    pub notify: &'a crate::notify::NotifySettings,
    pub sub_groups: &'a std::collections::BTreeMap<String, crate::notify::SubGroup>,
    pub area: &'a str,
    pub subject_prefix: &'a str,
    /// The template environment the notices are laid out in (the digests').
    pub templates: &'a crate::notify::Templates,
}

impl Tell<'_> {
    /// Who hears that `job` failed (abandoned, or past its dead-man deadline).
    fn recipients(&self, job: &str) -> Vec<String> {
        let router = crate::notify::route::Router::new(
            &self.notify.routes,
            self.sub_groups,
            &self.notify.recipients,
            std::collections::BTreeMap::new(),
            self.admin.email.as_deref(),
        );
        let item = crate::notify::item::Item::run_failed(job);
        router
            .route(&item)
            .into_iter()
            .map(|t| t.recipient)
            .collect()
    }
}

/// Mark `run` abandoned (with `if_expired`, only if its lease is still past) and queue the
/// administrator's email. True if this call abandoned it.
pub async fn abandon(
    store: &Store,
    tell: Tell<'_>,
    run: &RunRecord,
    why: &str,
    now: DateTime<Utc>,
    if_expired: bool,
) -> Result<bool, StoreError> {
    if !store.abandon_run(run.id, why, now, if_expired).await? {
        return Ok(false);
    }
    tracing::warn!(job = %run.job, run_id = run.id, %why, "Run abandoned.");
    metrics::counter!(m::RUNS, "job" => run.job.clone(), "outcome" => "abandoned").increment(1);
    metrics::counter!(m::ABANDONED, "job" => run.job.clone()).increment(1);
    let to = tell.recipients(&run.job);
    if to.is_empty() {
        tracing::warn!(
            run_id = run.id,
            "No administrator to tell of the abandoned run; set admin.email."
        );
        return Ok(true);
    }
    let r = render_admin_notice(
        tell.templates,
        &AdminNotice {
            area: tell.area,
            subject_prefix: tell.subject_prefix,
            job: &run.job,
            run_id: run.id,
            trigger: run.trigger.as_str(),
            scheduled_at: run.scheduled_at,
            started_at: run.started_at,
            abandoned_at: now,
            runner: run.runner.as_deref(),
            why,
        },
    );
    queue_for_admin(store, run.id, &to, &r, now).await?;
    Ok(true)
}

/// Abandon every run whose lease has passed; their ids.
pub async fn sweep(
    store: &Store,
    tell: Tell<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, StoreError> {
    let mut out = Vec::new();
    for run in store.expired_runs(now).await? {
        let why = format!(
            "its process ({}) stopped renewing its lease, last held until {}: it was killed or lost its database",
            run.runner.as_deref().unwrap_or("an earlier version"),
            run.lease_until.map_or_else(
                || "-".into(),
                |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
            )
        );
        if abandon(store, tell, &run, &why, now, true).await? {
            out.push(run.id);
        }
    }
    Ok(out)
}

/// When a job's current lapse began, if it has lasted `hours`: since its newest successful
/// run ended, else since its first ledger row. Pure.
pub fn lapse_since(
    last_ok: Option<DateTime<Utc>>,
    first_row: DateTime<Utc>,
    hours: u64,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let since = last_ok.unwrap_or(first_row);
    // Within its range whatever was configured: a span holds no more.
    let hours = crate::schedule::DEAD_MAN_HOURS.clamp(hours);
    let limit = TimeDelta::hours(i64::try_from(hours).unwrap_or(24));
    (now - since >= limit).then_some(since)
}

/// Check `job`'s dead-man deadline; if it has lapsed and this lapse was not told yet, queue
/// the administrator's notice. True if queued now. A job with no ledger row yet (it has
/// never fired) is not checked.
pub async fn dead_man(
    store: &Store,
    tell: Tell<'_>,
    job: &str,
    hours: u64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let Some((first, last)) = store.first_and_last_row_of(job).await? else {
        return Ok(false);
    };
    let ok = store.last_ok_of(job).await?;
    let ok_at = ok.as_ref().map(|r| r.finished_at.unwrap_or(r.started_at));
    let Some(since) = lapse_since(ok_at, first.started_at, hours, now) else {
        return Ok(false);
    };
    if !store.claim_dead_man(job, since, last.id, now).await? {
        return Ok(false);
    }
    tracing::warn!(job, hours, since = %since, "No successful run within the dead-man deadline.");
    metrics::counter!(m::DEAD_MAN, "job" => job.to_string()).increment(1);
    let to = tell.recipients(job);
    if to.is_empty() {
        tracing::warn!(
            job,
            "No administrator to tell of the missed dead-man deadline; set admin.email."
        );
        return Ok(true);
    }
    let r = render_dead_man_notice(
        tell.templates,
        &DeadManNotice {
            area: tell.area,
            subject_prefix: tell.subject_prefix,
            job,
            hours,
            last_ok: ok.as_ref().zip(ok_at).map(|(r, at)| (r.id, at)),
            since,
            last_row: (last.id, last.status.as_str()),
            now,
        },
    );
    queue_for_admin(store, last.id, &to, &r, now).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_lapse_runs_from_the_last_success_else_the_first_row() {
        let t = Utc
            .with_ymd_and_hms(2027, 3, 28, 0, 0, 0)
            .single()
            .expect("t");
        let h = TimeDelta::hours;
        // A success 25 h ago against 26 h: not yet; at 26 h: lapsed since the success.
        assert_eq!(lapse_since(Some(t), t - h(100), 26, t + h(25)), None);
        assert_eq!(lapse_since(Some(t), t - h(100), 26, t + h(26)), Some(t));
        // Never a success: from the first row.
        assert_eq!(lapse_since(None, t, 26, t + h(27)), Some(t));
        assert_eq!(lapse_since(None, t, 26, t + h(1)), None);
        // A huge setting does not overflow.
        assert_eq!(lapse_since(None, t, u64::MAX, t + h(1)), None);
    }
}
