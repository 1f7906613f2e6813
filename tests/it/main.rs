//! Integration tests: the real pipeline against real parts (SQLite and PostgreSQL, an HTTP
//! server and an SMTP server on loopback), and the real binary for the command line.

mod support;

mod harness;

mod bench;
mod cli;
mod daemon;
mod delivery;
mod deploy;
mod digest;
mod faults;
mod fetch;
mod formats;
mod fuzz;
mod hand_checked;
mod hand_checked_reviews;
mod hand_checked_waits;
mod ingest;
mod kpi_show;
mod ledger;
mod ledger_daemons;
mod manual;
mod ops;
mod outbox;
mod pipeline;
mod risks;
mod store;
