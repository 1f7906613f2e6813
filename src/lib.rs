//! sendwatch: watches a local area's SEND improvement plan.
//!
//! The pipeline: [`source`] (fetch) → [`load`] (parse, validate) → [`store`] (swap in) →
//! [`kpi`] (compute, rate) → [`risk`] (triggers) → [`action`] (the action log: slipped
//! actions, updates wanted) → [`notify`] (group, render, deliver).
//! [`job`] runs it once; [`schedule`] and [`daemon`] run it on cron; [`ledger`] keeps the
//! `runs` table true (claims, leases, abandoned runs); [`cli`] is the command line; [`config`] says
//! what to do; [`serve`] answers `/healthz` and `/metrics`; [`view`] is the one place things
//! are shown from (the rows and charts every output builds from). The benchmarks are a binary of their
//! own (`src/bin/sendwatch-bench`) on this public API. [`stats`] keeps the DfE's published
//! statistics beside the area's own figures. [`answer`] is what a digest's links let a person
//! answer, and its approval.

pub mod action;
pub mod answer;
pub mod bounds;
pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod disclose;
pub mod job;
pub mod kpi;
pub mod ledger;
pub mod load;
pub mod news;
pub mod notify;
pub mod pack;
pub mod risk;
pub mod schedule;
pub mod secret;
pub mod serve;
pub mod source;
pub mod stats;
pub mod store;
pub mod telemetry;
pub mod view;
