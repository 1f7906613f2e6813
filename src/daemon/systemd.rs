//! What the daemon tells systemd: READY, STATUS= lines ("idle; next: …", "running …"),
//! RELOADING, STOPPING, and WATCHDOG=1 from the scheduler's tick when the unit sets
//! `WatchdogSec=`. Each call is a no-op outside systemd (no `NOTIFY_SOCKET`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono_tz::Tz;
use sd_notify::NotifyState;

use crate::schedule::Entry;

fn notify(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!(error = %e, "Could not notify systemd.");
    }
}

pub fn ready() {
    notify(&[NotifyState::Ready]);
}

pub fn stopping(why: &str) {
    notify(&[NotifyState::Stopping, NotifyState::Status(why)]);
}

/// RELOADING=1 with the monotonic time systemd 253+ asks for.
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(t) => notify(&[NotifyState::Reloading, t]),
        Err(_) => notify(&[NotifyState::Reloading]),
    }
}

/// Jobs with a run under way in this process, counted; a [`Running`] guard holds one.
#[derive(Debug, Clone, Default)]
pub struct RunningJobs(Arc<Mutex<BTreeMap<String, usize>>>);

/// Held while a job's run is under way; dropping it (the run ended, or was cancelled) counts
/// it out.
#[derive(Debug)]
pub struct Running {
    jobs: RunningJobs,
    job: String,
}

impl RunningJobs {
    pub fn start(&self, job: &str) -> Running {
        if let Ok(mut m) = self.0.lock() {
            *m.entry(job.to_string()).or_default() += 1;
        }
        Running {
            jobs: self.clone(),
            job: job.to_string(),
        }
    }

    fn names(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(mut m) = self.jobs.0.lock()
            && let Some(n) = m.get_mut(&self.job)
        {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.job);
            }
        }
    }
}

/// The STATUS= line for now: the runs under way, else the next fire time.
pub fn status_line(running: &[String], entries: &[Entry], tz: Tz) -> String {
    if !running.is_empty() {
        return format!("running {}", running.join(", "));
    }
    let next = entries
        .iter()
        .filter_map(|e| e.next_due.map(|t| (t, e.job.as_str())))
        .min();
    match next {
        Some((t, job)) => format!(
            "idle; next: job {job} at {}",
            t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S %Z")
        ),
        None => "idle; no job scheduled".into(),
    }
}

/// The tick's side of systemd: a new STATUS= when it changes, and the watchdog.
#[derive(Debug)]
pub struct Notifier {
    pub running: RunningJobs,
    last_status: String,
    watchdog: Option<Duration>,
    last_ping: Option<Instant>,
}

impl Notifier {
    pub fn new() -> Notifier {
        let watchdog = sd_notify::watchdog_enabled();
        if let Some(w) = watchdog {
            tracing::info!(
                every_secs = w.as_secs_f64() / 2.0,
                "The systemd watchdog is on; the scheduler feeds it."
            );
        }
        Notifier {
            running: RunningJobs::default(),
            last_status: String::new(),
            watchdog,
            last_ping: None,
        }
    }

    /// Called from each tick: the tick itself is the heartbeat, so a stuck scheduler
    /// stops feeding the watchdog and systemd restarts the service.
    pub fn tick(&mut self, entries: &[Entry], tz: Tz) {
        let line = status_line(&self.running.names(), entries, tz);
        if line != self.last_status {
            notify(&[NotifyState::Status(&line)]);
            self.last_status = line;
        }
        if let Some(w) = self.watchdog
            && self.last_ping.is_none_or(|p| p.elapsed() >= w / 2)
        {
            notify(&[NotifyState::Watchdog]);
            self.last_ping = Some(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn status_says_what_runs_or_what_is_next() {
        let tz = chrono_tz::Europe::London;
        let now = Utc
            .with_ymd_and_hms(2027, 3, 27, 12, 0, 0)
            .single()
            .expect("t");
        let entries = vec![
            Entry::new("weekly", "0 7 * * 1", tz, now).expect("cron"),
            Entry::new("daily", "30 1 * * *", tz, now).expect("cron"),
        ];
        // 01:30 on the spring-forward day does not exist: 02:00 BST.
        assert_eq!(
            status_line(&[], &entries, tz),
            "idle; next: job daily at 2027-03-28 02:00:00 BST"
        );
        assert_eq!(
            status_line(&["daily".into()], &entries, tz),
            "running daily"
        );
        let jobs = RunningJobs::default();
        let a = jobs.start("daily");
        let b = jobs.start("daily");
        drop(a);
        assert_eq!(jobs.names(), vec!["daily".to_string()]);
        drop(b);
        assert!(jobs.names().is_empty());
    }
}
