//! Integration tests: the real pipeline against real parts (SQLite and PostgreSQL, an HTTP
//! server and an SMTP server on loopback), and the real binary for the command line.
//!
//! One binary with its own harness (libtest-mimic, support/trials.rs), so that a test whose
//! server is missing is listed as ignored, saying why, instead of passing; under `CI=true`
//! it fails. To add a test: write a plain `fn` or `async fn` with no attribute (no
//! `#[test]`/`#[tokio::test]`), and list it in its module's `pub fn tests() -> Vec<Spec>`:
//!
//! - `trial!(name)`: needs nothing; an async fn gets a current-thread runtime.
//! - `trial!(name).each_backend()`: two trials, `module::name::sqlite` and `::postgres`;
//!   the body does `for backend in backends().await { ... }` and gets that one backend.
//! - `trial!(name).postgres()`: PostgreSQL only; the body calls `pg_database().await`.
//! - `.smtp()` (the body calls `SmtpSink::start`), `.chromium()` (`support::screenshot()`
//!   or `support::chromium()`), `.systemd_analyze()`, `.root()`, `.mdwe()` (a child under
//!   `support::tools::mdwe`; ignored, even under CI, where the kernel lacks it);
//!   `.multi_thread(2)` for `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]`.
//!   They combine.
//!
//! `SmtpSink::start` returns the sink and `pg_database()` the URL (no `Option`): in a trial
//! they run only where the server is, so `let Some(x) = ... else { return; }` goes.
//!
//! A new file gets `mod file;` below and `file::tests()` in `main`. A fn left out of
//! tests() is dead code, which fails the build (`deny` below); a helper that finds a server
//! the test did not register panics saying what to add.

// A test fn nobody registered is dead code: fail the build rather than skip the test.
#![deny(dead_code)]

mod support;

mod harness;

mod action_mail;
mod actions;
mod answer_links;
mod answers;
mod answers_browser;
mod areas;
mod areas_http;
mod areas_replicas;
mod attacker;
mod awaiting;
mod backlog;
mod bench;
mod benchmarks;
mod board;
mod bounds;
mod chase;
mod check_sources;
mod cli;
mod clock;
mod daemon;
mod daemon_places;
mod delivery;
mod deploy;
mod digest;
mod digest_limits;
mod disclosure;
mod disclosure_hidden;
mod disk_full;
mod faults;
mod fetch;
mod formats;
mod fuzz;
mod halves;
mod hand_checked;
mod hand_checked_reviews;
mod hand_checked_waits;
mod holes;
mod http_limits;
mod ingest;
mod init;
mod kpi_show;
mod ledger;
mod ledger_daemons;
mod mail_words;
mod manual;
mod news;
mod ops;
mod outbox;
mod pack;
mod pack_mail;
mod pack_print;
mod pdf_mdwe;
mod pipeline;
mod plan_config;
mod redaction;
mod redirects;
mod render;
mod risks;
mod routes;
mod sen2;
mod sen2_kpis;
mod sen2_privacy;
mod smtp_tls;
mod stats;
mod stats_kpi;
mod store;
mod warning;
mod warning_view;
mod xlsx_bounds;

fn main() -> std::process::ExitCode {
    support::trials::run(
        [
            support::tests(),
            action_mail::tests(),
            actions::tests(),
            answer_links::tests(),
            answers::tests(),
            awaiting::tests(),
            answers_browser::tests(),
            areas::tests(),
            areas_http::tests(),
            areas_replicas::tests(),
            bench::tests(),
            benchmarks::tests(),
            board::tests(),
            bounds::tests(),
            chase::tests(),
            check_sources::tests(),
            cli::tests(),
            clock::tests(),
            daemon::tests(),
            daemon_places::tests(),
            delivery::tests(),
            deploy::tests(),
            digest::tests(),
            disclosure::tests(),
            disclosure_hidden::tests(),
            attacker::tests(),
            backlog::tests(),
            disk_full::tests(),
            digest_limits::tests(),
            faults::tests(),
            fetch::tests(),
            formats::tests(),
            fuzz::tests(),
            halves::tests(),
            hand_checked::tests(),
            holes::tests(),
            hand_checked_reviews::tests(),
            hand_checked_waits::tests(),
            http_limits::tests(),
            ingest::tests(),
            init::tests(),
            kpi_show::tests(),
            ledger::tests(),
            ledger_daemons::tests(),
            mail_words::tests(),
            manual::tests(),
            news::tests(),
            ops::tests(),
            outbox::tests(),
            pack::tests(),
            pack_mail::tests(),
            pack_print::tests(),
            pdf_mdwe::tests(),
            pipeline::tests(),
            plan_config::tests(),
            redaction::tests(),
            redirects::tests(),
            render::tests(),
            risks::tests(),
            routes::tests(),
            sen2::tests(),
            sen2_kpis::tests(),
            sen2_privacy::tests(),
            smtp_tls::tests(),
            stats::tests(),
            stats_kpi::tests(),
            store::tests(),
            warning::tests(),
            warning_view::tests(),
            xlsx_bounds::tests(),
        ]
        .into_iter()
        .flatten()
        .collect(),
    )
}
