//! One instant per run: an app with a fixed clock runs the example job, and every time the run
//! wrote (the ledger, the fetch, the swap, the risk changes, the mail queued and sent) is that
//! instant; the lease is that instant plus the lease.

use chrono::{DateTime, TimeDelta, Utc};
use sendwatch::clock::Clock;
use sendwatch::job::RunOptions;
use sendwatch::store::{Pool, Store};

use crate::harness::{app, folder_config, repo};
use crate::support::backends;

/// Every value of the first column `sql` returns, as instants.
async fn times(store: &Store, sql: &'static str) -> Vec<DateTime<Utc>> {
    match store.pool() {
        Pool::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await,
        Pool::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn a_run_at_a_fixed_instant_writes_that_instant_everywhere() {
    let at = DateTime::parse_from_rfc3339("2021-08-02T07:00:00Z")
        .expect("instant")
        .with_timezone(&Utc);
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let tracker = repo("examples/tracker.csv").display().to_string();
        let cfg = folder_config(dir.path(), &backend.url, &tracker);
        let app = app(&cfg).await.with_clock(Clock::Fixed(at));
        let report = app
            .run_job("monthly-exceptions", RunOptions::manual())
            .await
            .expect("run");
        assert!(report.queued > 0 && !report.risks.is_empty(), "{report:?}");
        for sql in [
            "SELECT started_at FROM runs",
            "SELECT finished_at FROM runs",
            "SELECT fetched_at FROM loads",
            "SELECT swapped_at FROM extract_current",
            "SELECT at FROM risk_events",
            "SELECT told_at FROM risk_events",
            "SELECT created_at FROM outbox",
            "SELECT sent_at FROM outbox",
        ] {
            let got = times(&app.store, sql).await;
            assert!(!got.is_empty(), "{}: {sql} wrote nothing", backend.name);
            assert!(
                got.iter().all(|t| *t == at),
                "{}: {sql}: {got:?}",
                backend.name
            );
        }
        let lease =
            TimeDelta::seconds(i64::try_from(app.settings.ledger.lease_secs).expect("secs"));
        let leases = times(&app.store, "SELECT lease_until FROM runs").await;
        assert_eq!(leases, vec![at + lease], "{}", backend.name);
        app.store.close().await;
    }
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![trial!(a_run_at_a_fixed_instant_writes_that_instant_everywhere).each_backend()]
}
