//! HTTP for the daemon (loopback by default): `/healthz`, `/metrics`, and the live board view
//! ([`board`]: `/`, `/kpi/ID`, `/runs` for a single area; `/a/AREA/`, `/a/AREA/kpi/ID`,
//! `/a/AREA/runs` for each of several), all behind the tokens of `[http]` when set ([`auth`];
//! required on any other address, and with several areas: each area's own token opens only
//! its pages, the operator's token the health, metrics and ledger of all).
//!
//! `/healthz` answers 200 while the daemon is up (migrated, schedules set, not stopping),
//! its scheduler ticked within [`TICK_STALE`] and the database answers, else 503; its JSON
//! body gives each job's last run, its state and age. `/metrics` is the Prometheus text
//! format: the counters the pipeline records (see [`crate::telemetry::metrics`]) and the
//! gauges read from the database at each scrape (outbox depth, stale sources, last success).
//!
//! Owns: `[http]`, the router and the two operational handlers; [`listen`] the connections
//! (their limit and timeouts) and the open-file budget. The handlers read state; they never
//! write the database or start anything. Must not: run jobs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use axum::Router;
use axum::extract::{Extension, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{DateTime, TimeDelta, Utc};
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::config::Settings;
use crate::store::{RunRecord, Store, StoreError};
use crate::telemetry::metrics as m;

mod answer;
mod auth;
mod board;
mod listen;
pub mod settings;
pub use answer::{approvers, tell_approvers};
pub use listen::raise_open_files_limit;
use settings::HttpSettings;

/// A scheduler that has not ticked (once a second) for this long is not healthy.
pub const TICK_STALE: TimeDelta = TimeDelta::seconds(30);

/// What the daemon tells the HTTP side about itself.
#[derive(Debug, Default)]
pub struct Health {
    ready: AtomicBool,
    stopping: AtomicBool,
    /// Unix milliseconds of the newest tick; 0 before the first.
    last_tick_ms: AtomicI64,
}

impl Health {
    /// Migrations done and schedules set.
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
    }

    pub fn set_stopping(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    pub fn tick(&self, now: DateTime<Utc>) {
        self.last_tick_ms
            .store(now.timestamp_millis(), Ordering::SeqCst);
        metrics::gauge!(m::LAST_TICK).set(now.timestamp_millis() as f64 / 1000.0);
    }

    fn tick_age(&self, now: DateTime<Utc>) -> Option<TimeDelta> {
        match self.last_tick_ms.load(Ordering::SeqCst) {
            0 => None,
            ms => Some(now - DateTime::from_timestamp_millis(ms).unwrap_or(now)),
        }
    }
}

/// One area as the handlers read it: its scoped store and its settings in force.
#[derive(Clone)]
pub struct AreaView {
    pub store: Store,
    pub settings: Arc<Settings>,
}

/// What the handlers read.
#[derive(Clone)]
pub struct ServeState {
    /// Every area served, in id order (a reload replaces them).
    pub areas: watch::Receiver<Arc<Vec<AreaView>>>,
    pub health: Arc<Health>,
    pub metrics: Option<PrometheusHandle>,
}

impl ServeState {
    /// One area's state (a single-area daemon, and tests).
    pub fn single(
        store: Store,
        settings: Arc<Settings>,
        health: Arc<Health>,
        metrics: Option<PrometheusHandle>,
    ) -> (ServeState, watch::Sender<Arc<Vec<AreaView>>>) {
        let (tx, areas) = watch::channel(Arc::new(vec![AreaView { store, settings }]));
        (
            ServeState {
                areas,
                health,
                metrics,
            },
            tx,
        )
    }

    /// The areas in force now.
    pub fn areas(&self) -> Arc<Vec<AreaView>> {
        self.areas.borrow().clone()
    }

    /// The deployment's `[http]` (every area has the same, but for its token).
    fn http(&self) -> HttpSettings {
        self.areas()
            .first()
            .map(|a| a.settings.http.clone())
            .unwrap_or_default()
    }

    /// Whether the areas are several (each under `/a/ID/`) rather than one at `/`.
    fn several(&self) -> bool {
        self.areas()
            .first()
            .is_some_and(|a| a.settings.areas.member)
    }
}

/// Bind `[http] listen`; `None` when HTTP is off.
pub async fn bind(settings: &HttpSettings) -> std::io::Result<Option<tokio::net::TcpListener>> {
    match settings.addr() {
        None => Ok(None),
        Some(addr) => tokio::net::TcpListener::bind(addr).await.map(Some),
    }
}

/// Serve until `stop` resolves, under `[http]`'s limits on connections ([`listen`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ServeState,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let http = state.http();
    let limits = listen::Limits::new(&http, listen::open_files_limit());
    if limits.max_connections < http.max_connections {
        tracing::warn!(
            max_connections = limits.max_connections,
            "http.max_connections is more than half the open-file limit; lowered to half, \
             the other half kept for runs (raise LimitNOFILE= or `ulimit -n`)."
        );
    }
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .merge(board::routes())
        .merge(answer::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::guard,
        ))
        .layer(Extension(Arc::new(answer::Limiter::default())))
        .with_state(state);
    listen::run(listener, app, limits, stop).await
}

fn run_json(r: &RunRecord, now: DateTime<Utc>) -> Value {
    let since = r.finished_at.unwrap_or(r.started_at);
    json!({
        "id": r.id,
        "state": r.status,
        "trigger": r.trigger,
        "scheduled_at": r.scheduled_at,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
        "age_secs": (now - since).num_seconds(),
    })
}

async fn jobs_json(areas: &[AreaView], now: DateTime<Utc>) -> Result<Value, StoreError> {
    let mut jobs = Vec::new();
    for AreaView { store, settings } in areas {
        for (name, job) in &settings.jobs {
            let last = store.last_run_of(name).await?;
            let ok = store.last_ok_of(name).await?;
            jobs.push(json!({
            "area": settings.area_id().as_str(),
            "job": name,
            "enabled": job.enabled,
            "last_run": last.as_ref().map(|r| run_json(r, now)),
            "last_ok": ok.as_ref().map(|r| run_json(r, now)),
            }));
        }
    }
    Ok(Value::Array(jobs))
}

async fn healthz(
    State(st): State<ServeState>,
    Extension(who): Extension<auth::Who>,
) -> impl IntoResponse {
    let now = Utc::now();
    // Open to all, but with several areas their jobs only to the operator.
    let all = st.areas();
    let shown: &[AreaView] = if who.sees_deployment() || !st.several() {
        &all
    } else {
        &[]
    };
    let ready = st.health.ready.load(Ordering::SeqCst);
    let stopping = st.health.stopping.load(Ordering::SeqCst);
    let tick_age = st.health.tick_age(now);
    let ticking = tick_age.is_some_and(|a| a <= TICK_STALE);
    let pinged = match all.first() {
        Some(a) => a.store.ping().await,
        None => Ok(()),
    };
    let (jobs, database) = match pinged.and(jobs_json(shown, now).await) {
        Ok(j) => (j, "ok".to_string()),
        Err(e) => (Value::Array(Vec::new()), e.to_string()),
    };
    let healthy = ready && !stopping && ticking && database == "ok";
    let mut problems = Vec::new();
    if !ready {
        problems.push("starting".to_string());
    }
    if stopping {
        problems.push("stopping".to_string());
    }
    if ready && !ticking {
        problems.push(format!(
            "the scheduler has not ticked for more than {} s",
            TICK_STALE.num_seconds()
        ));
    }
    if database != "ok" {
        problems.push(format!("database: {database}"));
    }
    let body = json!({
        "status": if healthy { "ok" } else { "unavailable" },
        "problems": problems,
        "ready": ready,
        "stopping": stopping,
        "last_tick_age_secs": tick_age.map(|a| a.num_milliseconds() as f64 / 1000.0),
        "database": database,
        "jobs": jobs,
    });
    let code = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string() + "\n",
    )
}

/// The gauges read at each scrape: outbox depth, stale sources, each job's last success. With
/// several areas a source or job is labelled `area/name`; the counts are the deployment's.
async fn refresh_gauges(areas: &[AreaView], now: DateTime<Utc>) -> Result<(), StoreError> {
    let mut outbox = crate::store::OutboxCounts::default();
    let mut stale = 0u32;
    for AreaView { store, settings } in areas {
        let o = store.outbox_counts().await?;
        outbox.pending += o.pending;
        outbox.failed += o.failed;
        outbox.ambiguous += o.ambiguous;
        stale += area_gauges(settings, store, now).await?;
    }
    metrics::gauge!(m::OUTBOX_PENDING).set(outbox.pending as f64);
    metrics::gauge!(m::OUTBOX_GIVEN_UP, "status" => "failed").set(outbox.failed as f64);
    metrics::gauge!(m::OUTBOX_GIVEN_UP, "status" => "ambiguous").set(outbox.ambiguous as f64);
    metrics::gauge!(m::STALE_SOURCES).set(f64::from(stale));
    Ok(())
}

/// One area's source and job gauges; how many of its sources are stale.
async fn area_gauges(s: &Settings, store: &Store, now: DateTime<Utc>) -> Result<u32, StoreError> {
    let label = |name: &str| {
        if s.areas.member {
            format!("{}/{name}", s.area_id())
        } else {
            name.to_string()
        }
    };
    let mut stale = 0u32;
    for (name, src) in &s.sources {
        let Some(cadence) = src.cadence else {
            continue;
        };
        let last_new = store.current_load(name).await?.map(|l| l.fetched_at);
        let is_stale =
            crate::source::freshness::stale(cadence, src.deadline_days, last_new, now).is_some();
        stale += u32::from(is_stale);
        metrics::gauge!(m::SOURCE_STALE, "source" => label(name))
            .set(f64::from(u8::from(is_stale)));
    }
    for name in s.jobs.keys() {
        if let Some(r) = store.last_ok_of(name).await? {
            let at = r.finished_at.unwrap_or(r.started_at);
            metrics::gauge!(m::LAST_SUCCESS, "job" => label(name))
                .set(at.timestamp_millis() as f64 / 1000.0);
        }
    }
    Ok(stale)
}

async fn metrics_text(
    State(st): State<ServeState>,
    Extension(who): Extension<auth::Who>,
) -> impl IntoResponse {
    const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
    if !who.sees_deployment() {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, TEXT)],
            "# the metrics are the operator's: they need the operator token\n".to_string(),
        );
    }
    let Some(handle) = &st.metrics else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, TEXT)],
            "# metrics are off: the recorder could not be installed\n".to_string(),
        );
    };
    if let Err(e) = refresh_gauges(&st.areas(), Utc::now()).await {
        // The counters are still worth having; the database gauges keep their last values.
        tracing::warn!(error = %e, "Could not read the database for /metrics.");
    }
    handle.run_upkeep();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, TEXT)],
        handle.render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(listen: &str, token: Option<&str>) -> Vec<String> {
        let s = HttpSettings {
            listen: listen.into(),
            token: token.map(|t| secrecy::SecretString::from(t.to_string())),
            ..HttpSettings::default()
        };
        let mut out = Vec::new();
        s.check(&mut |k, m| out.push(format!("{k}: {m}")));
        out.extend(s.check_resolved().map(|(k, m)| format!("{k}: {m}")));
        out
    }

    /// The problems of `[http]` with `public_url` and `link_key`.
    fn link_problems(url: &str, key: &str) -> Vec<String> {
        let s = HttpSettings {
            public_url: Some(url.into()),
            link_key: Some(secrecy::SecretString::from(key.to_string())),
            ..HttpSettings::default()
        };
        let mut out = Vec::new();
        s.check(&mut |k, m| out.push(format!("{k}: {m}")));
        out.extend(s.check_resolved().map(|(k, m)| format!("{k}: {m}")));
        out
    }

    #[test]
    fn the_example_link_key_is_refused_unless_the_public_url_is_loopback() {
        use settings::EXAMPLE_LINK_KEY as EXAMPLE;
        for url in [
            "http://127.0.0.1:9187",
            "http://localhost:9187/sendwatch/",
            "http://[::1]:9187",
        ] {
            assert!(link_problems(url, EXAMPLE).is_empty(), "{url}");
        }
        for url in [
            "https://send.example.gov.uk/sendwatch",
            "http://192.0.2.10:9187",
        ] {
            let p = link_problems(url, EXAMPLE);
            assert_eq!(p.len(), 1, "{url}: {p:?}");
            assert!(
                p[0].starts_with("http.link_key: is the example key") && p[0].contains(url),
                "{p:?}"
            );
            assert!(!p[0].contains(EXAMPLE), "the key is never said");
        }
        let own = "0123456789abcdef0123456789abcdef0123";
        assert!(link_problems("https://send.example.gov.uk/sendwatch", own).is_empty());
    }

    #[test]
    fn loopback_only_unless_a_token_guards_it_and_empty_is_off() {
        let token = "0123456789abcdef0123456789abcdef";
        assert!(problems("127.0.0.1:9187", None).is_empty());
        assert!(problems("[::1]:9187", None).is_empty());
        assert!(problems("", None).is_empty());
        assert_eq!(
            HttpSettings {
                listen: "".into(),
                ..HttpSettings::default()
            }
            .addr(),
            None
        );
        let p = problems("0.0.0.0:9187", None);
        assert!(
            p.len() == 1 && p[0].starts_with("http.listen: `0.0.0.0:9187` is not a loopback"),
            "{p:?}"
        );
        assert!(problems("0.0.0.0:9187", Some(token)).is_empty());
        let p = problems("0.0.0.0:9187", Some("short"));
        assert!(
            p.len() == 1 && p[0].starts_with("http.token: must be at least 32"),
            "{p:?}"
        );
        let p = problems("localhost:9187", None);
        assert!(p.len() == 1 && p[0].contains("is not IP:PORT"), "{p:?}");
    }
}
