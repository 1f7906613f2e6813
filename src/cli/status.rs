//! `sendwatch status`: what an operator asks first. Each job's last run (state, when, how
//! long) and next fire time (local and UTC), the runs under way, the outbox's depth, and each
//! source's current load with its data's as-of date.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;

use super::Failure;
use super::runs::{local, open, took};
use crate::config::Settings;
use crate::schedule::Entry;
use crate::store::Store;

pub(super) async fn run(settings: &Settings) -> Result<ExitCode, Failure> {
    let store = open(settings).await?;
    let text = status(settings, &store).await;
    store.close().await;
    print!("{}", text.context("reading the ledger")?);
    Ok(ExitCode::SUCCESS)
}

async fn status(s: &Settings, store: &Store) -> Result<String, crate::store::StoreError> {
    let tz = s.time_zone();
    let now = Utc::now();
    let mut o = String::new();
    let _ = writeln!(o, "sendwatch status at {} ({tz})", local(now, tz));
    let _ = writeln!(o, "\njobs:");
    for (name, job) in &s.jobs {
        let off = if job.enabled { "" } else { " (disabled)" };
        let _ = writeln!(o, "  {name}: `{}`{off}", job.cron);
        match store.last_run_of(name).await? {
            Some(r) => {
                let how_long = match r.finished_at {
                    Some(f) => format!("took {}", took(r.started_at, Some(f))),
                    None => format!("{} so far", took(r.started_at, None)),
                };
                let _ = writeln!(
                    o,
                    "    last run:  {} {}, {} {}, {how_long}",
                    r.id,
                    r.status,
                    r.trigger,
                    local(r.started_at, tz)
                );
            }
            None => {
                let _ = writeln!(o, "    last run:  none");
            }
        }
        let next = Entry::new(name, &job.cron, tz, now)
            .ok()
            .and_then(|e| e.next_due);
        let _ = match next.filter(|_| job.enabled) {
            Some(n) => writeln!(
                o,
                "    next fire: {} ({tz}), {} UTC",
                local(n, tz),
                n.format("%Y-%m-%d %H:%M:%S")
            ),
            None => writeln!(o, "    next fire: none"),
        };
    }
    let _ = writeln!(o, "\nrunning now:");
    let running = store.running_runs().await?;
    if running.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for r in &running {
        let lease = match r.lease_until {
            Some(l) if l < now => {
                format!(", lease passed at {} (its process is gone)", local(l, tz))
            }
            Some(l) => format!(", lease until {}", local(l, tz)),
            None => String::new(),
        };
        let _ = writeln!(
            o,
            "  run {} of {} ({}), started {}, {} so far, on {}{lease}",
            r.id,
            r.job,
            r.trigger,
            local(r.started_at, tz),
            took(r.started_at, None),
            r.runner.as_deref().unwrap_or("-")
        );
    }
    let c = store.outbox_counts().await?;
    let _ = writeln!(
        o,
        "\noutbox: {} email(s) pending delivery ({} waiting to be tried again), {} failed, {} ambiguous (may have arrived)",
        c.pending, c.retrying, c.failed, c.ambiguous
    );
    let _ = writeln!(o, "\nsources:");
    for name in s.sources.keys() {
        let _ = match store.current_load(name).await? {
            Some(l) => writeln!(
                o,
                "  {name}: load {} current, {} rows, data to {}, fetched {}",
                l.id,
                l.rows_loaded.map_or_else(|| "-".into(), |n| n.to_string()),
                crate::disclose::data_month(l.data_as_of),
                local(l.fetched_at, tz)
            ),
            None => writeln!(o, "  {name}: no load yet"),
        };
    }
    Ok(o)
}
