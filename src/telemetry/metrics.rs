//! Metrics: their names, descriptions and the process's recorder. Recorded with the
//! `metrics` macros where the events happen (a run ends in `job`, a load in `job::ingest`,
//! an email in `notify::deliver`, an abandoned run in `ledger`); rendered in the Prometheus
//! text format by [`crate::serve`]. Labels carry job, source, outcome and rating names from
//! the configuration, never a value about a child.
//!
//! Without an installed recorder (every command but `daemon`) the macros do nothing.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Runs that ended, by `job` and `outcome` (ok, failed, abandoned, skipped).
pub const RUNS: &str = "sendwatch_runs_total";
/// How long runs took, by `job` (ok and failed runs).
pub const RUN_SECONDS: &str = "sendwatch_run_duration_seconds";
/// Runs abandoned (lease passed, working timeout, stopped by a signal), by `job`.
pub const ABANDONED: &str = "sendwatch_runs_abandoned_total";
/// Rows swapped in, by `source`.
pub const ROWS_LOADED: &str = "sendwatch_rows_loaded_total";
/// Fetches and loads, by `source` and `outcome` (loaded, unchanged, held, rejected, fetch_failed).
pub const LOADS: &str = "sendwatch_loads_total";
/// KPIs by rating in each job's latest run, by `job` and `rag`.
pub const KPIS: &str = "sendwatch_kpis";
/// Emails delivered.
pub const EMAILS_SENT: &str = "sendwatch_emails_sent_total";
/// Emails refused for good (a 5xx or a message that cannot be built).
pub const EMAILS_FAILED: &str = "sendwatch_emails_failed_total";
/// Attempts that ended with no answer after the message was sent (it may have arrived).
pub const EMAILS_AMBIGUOUS: &str = "sendwatch_emails_ambiguous_total";
/// Emails in the outbox waiting for delivery (read from the database at each scrape).
pub const OUTBOX_PENDING: &str = "sendwatch_outbox_pending";
/// Emails in the outbox given up, by `status` (failed, ambiguous), at each scrape.
pub const OUTBOX_GIVEN_UP: &str = "sendwatch_outbox_given_up";
/// 1 for a source whose data is stale by its cadence, else 0, by `source` (at each scrape).
pub const SOURCE_STALE: &str = "sendwatch_source_stale";
/// Sources whose data is stale (at each scrape).
pub const STALE_SOURCES: &str = "sendwatch_stale_sources";
/// Unix time of each job's newest successful run, by `job` (at each scrape).
pub const LAST_SUCCESS: &str = "sendwatch_last_success_timestamp_seconds";
/// Dead-man notices sent to the administrator, by `job`.
pub const DEAD_MAN: &str = "sendwatch_dead_man_notices_total";
/// Unix time of the scheduler's newest tick.
pub const LAST_TICK: &str = "sendwatch_scheduler_last_tick_timestamp_seconds";

/// Run durations: a few seconds to the default hour-long working timeout.
const RUN_BUCKETS: [f64; 9] = [1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0];

/// Install the Prometheus recorder (once per process) and describe the metrics; its handle
/// renders them. `None` if another recorder was installed first (logged).
pub fn install() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(RUN_SECONDS.into()), &RUN_BUCKETS);
            let handle = builder.and_then(|b| b.install_recorder());
            match handle {
                Ok(h) => {
                    describe();
                    Some(h)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Metrics are off: the recorder could not be installed.");
                    None
                }
            }
        })
        .clone()
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(RUNS, "Runs that ended, by job and outcome.");
    describe_histogram!(RUN_SECONDS, Unit::Seconds, "How long runs took, by job.");
    describe_counter!(ABANDONED, "Runs marked abandoned, by job.");
    describe_counter!(ROWS_LOADED, "Rows swapped in, by source.");
    describe_counter!(LOADS, "Fetches and loads, by source and outcome.");
    describe_gauge!(KPIS, "KPIs by rating in each job's latest run.");
    describe_counter!(EMAILS_SENT, "Emails delivered.");
    describe_counter!(EMAILS_FAILED, "Emails refused for good.");
    describe_counter!(
        EMAILS_AMBIGUOUS,
        "Attempts with no answer after the message was sent."
    );
    describe_gauge!(OUTBOX_PENDING, "Emails in the outbox waiting for delivery.");
    describe_gauge!(
        OUTBOX_GIVEN_UP,
        "Emails in the outbox given up, by status (failed, ambiguous)."
    );
    describe_gauge!(
        SOURCE_STALE,
        "1 if the source's data is stale by its cadence."
    );
    describe_gauge!(STALE_SOURCES, "Sources whose data is stale.");
    describe_gauge!(
        LAST_SUCCESS,
        Unit::Seconds,
        "Unix time of each job's newest successful run."
    );
    describe_counter!(DEAD_MAN, "Dead-man notices sent, by job.");
    describe_gauge!(
        LAST_TICK,
        Unit::Seconds,
        "Unix time of the scheduler's newest tick."
    );
}
