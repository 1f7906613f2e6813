//! SIGHUP: read the configuration again from the same layers. A valid one replaces the jobs,
//! their schedules and the settings the next runs use (runs under way finish on the old
//! ones); a broken one is refused, the error naming each key at fault, and the old stays.
//! The store, `[http]` and `[log]` are set at start: a change to them is logged as waiting
//! for a restart.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use secrecy::ExposeSecret;
use tokio::sync::{Mutex, watch};

use super::{State, entries, systemd};
use crate::config::{Settings, Sources};

pub(super) async fn reload(
    state: &Arc<Mutex<State>>,
    sources: &Sources,
    settings_tx: &watch::Sender<Arc<Settings>>,
) {
    systemd::reloading();
    let new = match Settings::load(sources) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "Configuration reload refused; the old configuration stays in force.");
            systemd::ready();
            return;
        }
    };
    let old = state.lock().await.app.clone();
    for key in needs_restart(&old.settings, &new) {
        tracing::warn!(
            key,
            "This setting changed; it takes effect when the daemon restarts."
        );
    }
    let now = Utc::now();
    let app = match old.reconfigure(new).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = %e, "Configuration reload refused; the old configuration stays in force.");
            systemd::ready();
            return;
        }
    };
    let mut fresh = match entries(&app.settings, now) {
        Ok(e) => e,
        Err(e) => {
            // Validated already; kept for safety.
            tracing::error!(
                error = format!("{e:#}"),
                "Configuration reload refused; the old configuration stays in force."
            );
            systemd::ready();
            return;
        }
    };
    let mut st = state.lock().await;
    // A job whose cron did not change keeps its next fire time, so a reload a moment before
    // a fire time does not lose it.
    let kept: BTreeMap<String, _> = st
        .entries
        .iter()
        .filter(|e| {
            old.settings.jobs.get(&e.job).map(|j| &j.cron)
                == app.settings.jobs.get(&e.job).map(|j| &j.cron)
        })
        .map(|e| (e.job.clone(), e.next_due))
        .collect();
    for e in &mut fresh {
        if let Some(next) = kept.get(&e.job) {
            e.next_due = *next;
        }
    }
    let jobs: Vec<String> = fresh.iter().map(|e| e.job.clone()).collect();
    st.entries = fresh;
    st.app = app.clone();
    drop(st);
    let _ = settings_tx.send(app.settings.clone());
    tracing::info!(jobs = ?jobs, "Configuration reloaded: the jobs and settings above are in force for the next runs.");
    systemd::ready();
}

/// Keys set at start that a reload cannot change.
fn needs_restart(old: &Settings, new: &Settings) -> Vec<&'static str> {
    let mut out = Vec::new();
    if old.store.url.expose_secret() != new.store.url.expose_secret()
        || old.store.max_connections != new.store.max_connections
    {
        out.push("store");
    }
    if old.http.listen != new.http.listen {
        out.push("http");
    }
    if old.log.format != new.log.format {
        out.push("log.format");
    }
    out
}
