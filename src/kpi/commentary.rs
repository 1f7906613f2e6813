//! Commentary on an exception: what a KPI's owner says of a slipped period and how they will
//! recover it (the request the seeds' January 2020 exception reports answered: reason,
//! recovery actions, revised date, next update). Entered by `sendwatch comment` or a CSV
//! import (issue 11) and shown in the next digest and the board pack.
//!
//! Owns: the record. Written by officers about the service, never about a child; the entry
//! checks (length, no row-level data) live with the command that takes it.

use chrono::{DateTime, NaiveDate, Utc};

use super::Period;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commentary {
    pub kpi_id: String,
    /// The period the exception is for.
    pub period: Period,
    /// Why it slipped.
    pub reason: String,
    /// What is being done to recover it.
    pub actions: String,
    /// When the KPI is expected back on target.
    pub revised_date: Option<NaiveDate>,
    /// When the owner will next report on it.
    pub next_update: Option<NaiveDate>,
    /// Who entered it, and when.
    pub author: String,
    pub entered_at: DateTime<Utc>,
}
