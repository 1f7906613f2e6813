//! The two short KPI notices of a digest, parts of a [`super::KpiRow`]: a KPI back on track
//! since the digest that told of it ([`Resolved`]) and a KPI entered by hand with no value for
//! a period past its due date ([`OverdueValue`]). Pure.
//!
//! Disclosure: the resolved value is written as the slipped part writes it (a hidden figure
//! "not shown", a missing one "no data"); the overdue notice has no figure, only the period
//! and its due date (the plan's, not a child's).

use serde::Serialize;

use super::KpiRow;
use crate::disclose::Disclosure;
use crate::kpi::Evaluation;
use crate::kpi::manual::Overdue;
use crate::view::ask::{self, Linker, Request};
use crate::view::{NOT_RATED_COLOUR, not_rated, rag_colour};

/// What a digest says of a KPI back on track (its id and title are the row's).
#[derive(Debug, Clone, Serialize)]
pub struct Resolved {
    pub period: String,
    pub rag: String,
    /// The RAG colour (background, text) for the HTML.
    pub rag_colour: &'static str,
    pub rag_text_colour: &'static str,
    /// The value alone ("96.0%", "no data", "not shown: <5 in a count").
    pub value: String,
    /// The milestone target's figure, or "none".
    pub target: String,
    pub direction: String,
}

/// What a digest says of a manual KPI with no value for a period past its due date (its id
/// and title are the row's).
#[derive(Debug, Clone, Serialize)]
pub struct OverdueValue {
    /// The period with no value, as a board paper writes it.
    pub period: String,
    pub due_by: String,
    /// What is wanted and from whom, in words (no command: the reader is not an operator).
    pub wanted: String,
    /// The link that answers it ([`crate::view::ask::link`]), when there is one.
    pub link: Option<String>,
    /// Where its chase stands: "a reminder before the board meeting on 2026-12-10".
    pub chase: String,
}

/// The digest's row for `e`, back on track.
pub fn resolved(e: &Evaluation, d: Disclosure) -> KpiRow {
    // A value not shown is not rated either (its direction neither).
    let hidden = super::unrated(e);
    let (rag, (bg, fg), direction) = if hidden {
        (
            not_rated().to_string(),
            NOT_RATED_COLOUR,
            not_rated().to_string(),
        )
    } else {
        (e.rag.to_string(), rag_colour(e.rag), e.direction.clone())
    };
    KpiRow {
        resolved: Some(Resolved {
            period: e.period.label(),
            rag,
            rag_colour: bg,
            rag_text_colour: fg,
            value: super::exception::shown(e, e.current, e.shown.current, d),
            target: e
                .milestone
                .as_ref()
                .map_or_else(|| "none".into(), |m| e.format(m.target)),
            direction,
        }),
        ..KpiRow::new(&e.kpi_id, &e.title)
    }
}

/// The digest's row for the overdue manual value `o`, with its link when `linker` makes one.
pub fn overdue(o: &Overdue, linker: Option<&Linker<'_>>) -> KpiRow {
    KpiRow {
        overdue: Some(OverdueValue {
            period: o.due.label(),
            due_by: o.due_by.to_string(),
            // The latest period only: earlier ones are not chased (kpi::manual::chase).
            wanted: format!(
                "the value for {}, from this sub-group, to the performance officer who keeps \
                 the plan's figures",
                o.due.label()
            ),
            link: ask::link(
                linker,
                Request::Value {
                    kpi: &o.kpi_id,
                    period: &o.due.period.to_string(),
                },
            ),
            chase: o.stage.words(),
        }),
        ..KpiRow::new(&o.kpi_id, &o.title)
    }
}
