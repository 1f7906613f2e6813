//! A KPI in exception as the board pack tells it ([`InException`], a part of a
//! [`super::KpiRow`]): its latest stored value against the target in force, with the owner's
//! latest commentary for the period ([`CommentaryEntry`], which the live view's KPI page lists
//! too). Built from the KPI's standing row, so its value is already written through
//! disclosure control ([`super::actual`]). Also the pack's tally of KPIs at each RAG rating
//! ([`RagCount`], as [`crate::view::action::RatingCount`] is the action log's). Pure.

use std::collections::BTreeMap;

use serde::Serialize;

use super::KpiRow;
use crate::disclose::stamp;
use crate::kpi::commentary::Commentary;
use crate::kpi::{KpiSettings, Period, target_in_force};
use crate::view::rag_class;

/// What the pack says of a KPI in exception (its id, title and RAG class are the row's).
#[derive(Debug, Clone, Serialize)]
pub struct InException {
    /// The owning sub-group's name (its key when it has none).
    pub owner: String,
    /// "May 2021", or "no period stored".
    pub period: String,
    pub value: String,
    pub rag: String,
    /// The target in force for the period, or "no figure in force".
    pub target: String,
    pub direction: Option<String>,
    pub commentary: Option<CommentaryEntry>,
}

/// An owner's commentary on an exception as recorded: reason, recovery actions, revised date
/// and next update, who wrote it and when.
#[derive(Debug, Clone, Serialize)]
pub struct CommentaryEntry {
    pub reason: String,
    pub actions: String,
    pub revised_date: Option<String>,
    pub next_update: Option<String>,
    pub author: String,
    pub entered: String,
}

/// How many KPIs are at a RAG rating (their latest stored value's; none is "NO DATA").
#[derive(Debug, Clone, Serialize)]
pub struct RagCount {
    pub rag: String,
    pub class: &'static str,
    pub count: usize,
}

/// Whether a stored RAG word puts a KPI in exception.
pub fn is_exception(rag: &str) -> bool {
    matches!(rag, "RED" | "NO DATA" | "BASELINE OVERDUE")
}

/// The pack's exception row for KPI `k`, from its standing `row` (whose latest value is for
/// `period`), with the latest of `commentary` on it for that period.
pub fn in_exception(
    k: &KpiSettings,
    row: &KpiRow,
    period: Option<Period>,
    commentary: &[Commentary],
) -> KpiRow {
    let latest = row.latest();
    let rag = latest.map_or("NO DATA", |a| a.rag.as_str());
    let target = period
        .and_then(|p| target_in_force(k, p.last_month()))
        .and_then(|t| t.value())
        .map_or_else(|| "no figure in force".to_string(), |t| k.unit.format(t));
    let owner = row.standing.as_ref().map_or_else(String::new, |s| {
        s.owner_name.clone().unwrap_or_else(|| s.owner.clone())
    });
    KpiRow {
        exception: Some(InException {
            owner,
            period: latest.map_or_else(
                || "no period stored".to_string(),
                |a| a.period_label.clone(),
            ),
            value: latest.map_or_else(|| "no data".to_string(), |a| a.value_text.clone()),
            rag: rag.to_string(),
            target,
            direction: latest.and_then(|a| a.direction.clone()),
            commentary: period.and_then(|p| latest_commentary(commentary, &row.id, p)),
        }),
        class: Some(rag_class(rag)),
        ..KpiRow::new(&row.id, &row.title)
    }
}

/// The latest commentary on `kpi` for `period`.
fn latest_commentary(all: &[Commentary], kpi: &str, period: Period) -> Option<CommentaryEntry> {
    all.iter()
        .filter(|c| c.kpi_id == kpi && c.period == period)
        .max_by_key(|c| c.entered_at)
        .map(commentary_entry)
}

/// A recorded commentary as shown.
pub fn commentary_entry(c: &Commentary) -> CommentaryEntry {
    CommentaryEntry {
        reason: c.reason.clone(),
        actions: c.actions.clone(),
        revised_date: c.revised_date.map(|d| d.to_string()),
        next_update: c.next_update.map(|d| d.to_string()),
        author: c.author.clone(),
        entered: stamp(c.entered_at),
    }
}

/// How many KPIs are at each RAG rating, red first.
pub fn rag_counts(rows: &[KpiRow]) -> Vec<RagCount> {
    let mut counts: BTreeMap<(u8, &'static str, String), usize> = BTreeMap::new();
    for r in rows {
        let rag = r
            .latest()
            .map_or_else(|| "NO DATA".to_string(), |a| a.rag.clone());
        let order = match rag.as_str() {
            "RED" => 0,
            "AMBER" => 1,
            "GREEN" => 2,
            "NO DATA" => 3,
            _ => 4,
        };
        *counts.entry((order, rag_class(&rag), rag)).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|((_, class, rag), count)| RagCount { rag, class, count })
        .collect()
}
