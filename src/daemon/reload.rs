//! SIGHUP: read the configuration again from the same layers (every area's file). A valid one replaces the jobs,
//! their schedules and the settings the next runs use (runs under way finish on the old
//! ones); a broken one is refused, the error naming each key at fault, and the old stays.
//! The store, `[http]` and `[log]` are set at start: a change to them is logged as waiting
//! for a restart.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use secrecy::ExposeSecret;
use tokio::sync::{Mutex, watch};

use super::{AreaRun, State, entries, systemd};
use crate::config::{Deployment, Settings, Sources};
use crate::job::App;

pub(super) async fn reload(
    state: &Arc<Mutex<State>>,
    sources: &Sources,
    views_tx: &watch::Sender<Arc<Vec<crate::serve::AreaView>>>,
) {
    systemd::reloading();
    let refused = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "Configuration reload refused; the old configuration stays in force.");
        systemd::ready();
    };
    let deployment = match Deployment::load(sources) {
        Ok(d) => d,
        Err(e) => return refused(&e),
    };
    let old: Vec<App> = super::apps_in_force(state).await;
    let Some(any) = old.first().cloned() else {
        return refused(&"no area was running");
    };
    let now = Utc::now();
    let mut fresh = Vec::with_capacity(deployment.areas.len());
    for new in deployment.areas {
        let id = new.area_id();
        let before = old.iter().find(|a| a.settings.area_id() == id);
        for key in needs_restart(&before.unwrap_or(&any).settings, &new) {
            tracing::warn!(
                key,
                "This setting changed; it takes effect when the daemon restarts."
            );
        }
        let app = match before.unwrap_or(&any).reconfigure(new).await {
            Ok(app) => app,
            Err(e) => return refused(&format!("area `{id}`: {e}")),
        };
        let entries = match entries(&app.settings, now) {
            Ok(e) => e,
            Err(e) => return refused(&format!("area `{id}`: {e:#}")),
        };
        fresh.push((app, entries, before.cloned()));
    }
    let mut st = state.lock().await;
    let mut areas = Vec::with_capacity(fresh.len());
    let mut jobs = Vec::new();
    for (app, mut entries, before) in fresh {
        let id = app.settings.area_id();
        let old_run = st.areas.iter().find(|a| a.app.settings.area_id() == id);
        if let (Some(before), Some(old_run)) = (before, old_run) {
            keep_next_fire_times(
                &before.settings,
                &app.settings,
                &old_run.entries,
                &mut entries,
            );
        }
        jobs.extend(entries.iter().map(|e| super::label(&app, &e.job)));
        areas.push(AreaRun::new(app, entries, now));
    }
    st.areas = areas;
    let _ = views_tx.send(super::views(&st.areas));
    drop(st);
    tracing::info!(jobs = ?jobs, "Configuration reloaded: the jobs and settings above are in force for the next runs.");
    systemd::ready();
}

/// A job whose cron did not change keeps its next fire time, so a reload a moment before a
/// fire time does not lose it.
fn keep_next_fire_times(
    old: &Settings,
    new: &Settings,
    running: &[crate::schedule::Entry],
    fresh: &mut [crate::schedule::Entry],
) {
    let kept: BTreeMap<String, _> = running
        .iter()
        .filter(|e| old.jobs.get(&e.job).map(|j| &j.cron) == new.jobs.get(&e.job).map(|j| &j.cron))
        .map(|e| (e.job.clone(), e.next_due))
        .collect();
    for e in fresh {
        if let Some(next) = kept.get(&e.job) {
            e.next_due = *next;
        }
    }
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
