//! Commentary on an exception: what a KPI's owner says of a slipped period and how they will
//! recover it (the request the seeds' January 2020 exception reports answered: reason,
//! recovery actions, revised date, next update). Entered by `sendwatch comment` or a CSV
//! import (issue 11) and shown in the next digest and the board pack.
//!
//! Owns: the record and the checks on an entry (`sendwatch comment`, a row of `comment
//! import`, [`import`]): a KPI of the catalogue, a period of the kind the KPI is reported by
//! and not yet to come, bounded text on one line, ISO dates. Pure. Written by officers about
//! the service, never about a child; the latest entry for a KPI and period is in force, the
//! earlier ones are kept as its history.

pub mod import;

use chrono::{DateTime, NaiveDate, Utc};

use super::manual::{accepts, check_name, kinds_words, text_faults};
use super::{Catalogue, Month, Period};
use crate::load::form::{Input, Refusal};

/// Longest reason or recovery actions, in characters: a paragraph for the board.
pub const MAX_TEXT: usize = 2000;

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

/// An entry as someone typed it, before it is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    pub kpi: String,
    pub period: String,
    pub reason: String,
    pub actions: String,
    pub revised_date: Option<String>,
    pub next_update: Option<String>,
    pub author: String,
}

/// Each input: (the import's column, `comment`'s flag).
pub const KPI: Input = ("kpi", "KPI");
pub const PERIOD: Input = ("period", "--period");
pub const REASON: Input = ("reason", "--reason");
pub const ACTIONS: Input = ("actions", "--actions");
pub const REVISED_DATE: Input = ("revised_date", "--revised-date");
pub const NEXT_UPDATE: Input = ("next_update", "--next-update");
pub const AUTHOR: Input = ("author", "--author (or the login name)");

/// Check an entry against the catalogue; `today` bounds the period, `now` is when it is
/// entered.
pub fn check(
    catalogue: &Catalogue,
    d: &Draft,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Commentary, Vec<Refusal>> {
    let mut bad = Vec::new();
    let mut refuse = |input: Input, message: String| bad.push(Refusal::new(input, message));
    let kpi = catalogue.get(d.kpi.trim());
    if kpi.is_none() {
        refuse(KPI, "no KPI with this id in the catalogue".into());
    }
    let period = d.period.trim().parse::<Period>().ok();
    match (period, kpi) {
        (None, _) => refuse(
            PERIOD,
            "not a period: write YYYY-MM, YYYY-Qn or Jan-Mar YYYY, YYYY-Hn or Jan-Jun YYYY, \
             AYyyyy/yy, FYyyyy/yy or YYYY"
                .into(),
        ),
        (Some(p), Some(k)) if !accepts(k, p.kind()) => refuse(
            PERIOD,
            format!(
                "this KPI is reported for {} ({})",
                kinds_words(k),
                k.frequency.as_str()
            ),
        ),
        (Some(p), _) if p.first_month() > Month::of(today) => {
            refuse(PERIOD, "the period has not begun yet".into())
        }
        _ => {}
    }
    for (field, text) in [(REASON, &d.reason), (ACTIONS, &d.actions)] {
        let text = text.trim();
        if text.is_empty() {
            refuse(field, "must not be empty".into());
        }
        for m in text_faults(text, MAX_TEXT) {
            refuse(field, m);
        }
    }
    let mut date = |input: Input, s: &Option<String>| {
        let s = s.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
        let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        if d.is_none() {
            refuse(input, "not a date: write YYYY-MM-DD".into());
        }
        d
    };
    let revised_date = date(REVISED_DATE, &d.revised_date);
    let next_update = date(NEXT_UPDATE, &d.next_update);
    let author = d.author.trim();
    if let Err(m) = check_name(author) {
        refuse(AUTHOR, m);
    }
    match period {
        Some(period) if bad.is_empty() => Ok(Commentary {
            kpi_id: d.kpi.trim().to_string(),
            period,
            reason: d.reason.trim().to_string(),
            actions: d.actions.trim().to_string(),
            revised_date,
            next_update,
            author: author.to_string(),
            entered_at: now,
        }),
        _ => Err(bad),
    }
}

/// The entry in force for each KPI and period among `all`: the latest entered.
pub fn latest(all: &[Commentary]) -> Vec<&Commentary> {
    let mut by: std::collections::BTreeMap<(&str, Period), &Commentary> = Default::default();
    for c in all {
        let slot = by.entry((c.kpi_id.as_str(), c.period)).or_insert(c);
        if c.entered_at >= slot.entered_at {
            *slot = c;
        }
    }
    by.into_values().collect()
}
