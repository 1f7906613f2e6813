//! A KPI as shown, the one model every output builds from: [`KpiRow`], with the part each
//! output needs. [`Standing`] is the KPI as its catalogue entry and the stored results show it
//! (`kpi show`, the pack's table, the live view's page; built by [`rows`]); [`Slipped`] is a
//! KPI in exception as a digest tells it (built in [`exception`] from the run's evaluation);
//! [`Resolved`] a KPI back on track and [`OverdueValue`] a manual value not entered, as a
//! digest tells them (built in [`notice`]); [`InException`] a KPI in exception as the pack
//! tells it, with the owner's commentary (built in [`board`]).
//!
//! Each output writes a missing value in its own words, kept as it was: the digest's slipped
//! KPI "NO DATA", the digest's resolved KPI, `kpi show` and the pack "no data".
//!
//! Disclosure: a stored value is shown only as decided over its KPI's whole stored series
//! ([`crate::kpi::publish`]; else its words say "not shown"), and rated only when that says
//! so; the slipped and resolved parts write an evaluation's figures as the run decided them
//! ([`Evaluation::shown`], [`unrated`]) through the [`Disclosure`] their context carries.
//! Every float is at one decimal place, as the table prints it. No event date is written.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::disclose::{Disclosure, Verdict};
use crate::kpi::manual::Entered;
use crate::kpi::publish::{Published, publish_stored};
use crate::kpi::{
    Catalogue, Count, Evaluation, Figure, KpiSettings, Measure, Month, Period, Rules, StoredResult,
    Target, own_series, resolve, versions,
};
use crate::view::{not_rated, one_place};

pub mod board;
pub mod exception;
pub mod notice;
pub mod table;

pub use board::{
    CommentaryEntry, InException, RagCount, commentary_entry, in_exception, is_exception,
    rag_counts,
};
pub use exception::{COMMENTARY_DAYS, ChartRef, CommentaryView, Fact, ItemContext, Slipped};
pub use notice::{OverdueValue, Resolved};
pub use table::{ShowError, Stored, show, show_benchmarked, show_entered};

/// One KPI as shown. Each output fills the parts it prints: `kpi show` and the live view the
/// standing, a digest the slipped, resolved or overdue part, the pack the standing with its
/// RAG class and chart, and for a KPI in exception the exception part with its class. A row
/// fills one part (their fields share names: `period`, `value`, `rag`).
#[derive(Debug, Clone, Serialize)]
pub struct KpiRow {
    pub id: String,
    pub title: String,
    #[serde(flatten)]
    pub standing: Option<Standing>,
    #[serde(flatten)]
    pub slipped: Option<Slipped>,
    #[serde(flatten)]
    pub resolved: Option<Resolved>,
    #[serde(flatten)]
    pub overdue: Option<OverdueValue>,
    #[serde(flatten)]
    pub exception: Option<InException>,
    /// CSS class for the RAG cell (the pack).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<&'static str>,
    /// The trend as inline SVG (already safe markup; the pack), when there is a value to draw.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chart: Option<String>,
    /// Its early warning in words, inside a digest's block of a KPI in exception ("at risk
    /// for Jun-21 (chance 40%)"), so the KPI is read once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_warning: Option<String>,
}

impl KpiRow {
    /// A row with its id and title and no part yet.
    pub fn new(id: &str, title: &str) -> KpiRow {
        KpiRow {
            id: id.to_string(),
            title: title.to_string(),
            standing: None,
            slipped: None,
            resolved: None,
            overdue: None,
            exception: None,
            class: None,
            chart: None,
            early_warning: None,
        }
    }

    /// The latest (or asked-for) stored result, when the row has its standing.
    pub fn latest(&self) -> Option<&Actual> {
        self.standing.as_ref().and_then(|s| s.latest.as_ref())
    }
}

/// A KPI as its catalogue entry and the stored results show it: `kpi show`, the pack's KPI
/// table, the live view's KPI page.
#[derive(Debug, Clone, Serialize)]
pub struct Standing {
    pub action: String,
    /// The owning sub-group's key and name.
    pub owner: String,
    pub owner_name: Option<String>,
    pub frequency: &'static str,
    pub unit: &'static str,
    pub better: &'static str,
    /// The AMBER band it is rated with, in its unit: "AMBER within 1 week of target".
    pub amber: String,
    /// The band's size in the KPI's unit, and the setting it comes from
    /// (`rag.amber_tolerance_weeks`, or the KPI's own).
    pub amber_tolerance: f64,
    pub amber_set_by: &'static str,
    /// Computed from an extract (else entered by hand).
    pub computed: bool,
    pub baseline: BaselineView,
    /// The period asked for (`--period`), else the latest one a run stored a value for.
    pub latest: Option<Actual>,
    pub milestones: Vec<MilestoneView>,
    /// How small numbers were kept out of the figures: "suppress" or "round".
    pub disclosure: &'static str,
    /// A timeliness KPI's published figures beside its region's, England's and its
    /// statistical neighbours' (`kpi show`, the pack, the live view), when a release is
    /// imported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub benchmark: Option<crate::view::benchmark::Benchmark>,
    /// Manual KPIs: the values entered by hand in force, by period.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entered: Vec<EnteredView>,
    /// The early warning at the next milestone as of the period shown (issue 21); none
    /// without a milestone ahead that asks for a figure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<crate::view::warning::WarningRow>,
}

/// A value entered by hand, as `kpi show` lists it: no counts, the note in full.
#[derive(Debug, Clone, Serialize)]
pub struct EnteredView {
    /// As written: `2020-Q2`, `AY2019/20`.
    pub period: String,
    pub period_label: String,
    /// At one decimal place; none when its share may not be shown.
    pub value: Option<f64>,
    pub value_text: String,
    pub by: String,
    /// RFC 3339, UTC.
    pub entered_at: String,
    pub note: Option<String>,
    pub entry: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BaselineView {
    pub text: String,
    pub value: Option<f64>,
    pub date: Option<String>,
    pub establish_by: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MilestoneView {
    /// "as printed", or "reset from YYYY-MM: reason".
    pub version: String,
    /// `YYYY-MM`.
    pub from: String,
    pub label: Option<String>,
    /// The figure, where the milestone gives one.
    pub target: Option<f64>,
    /// The target in words: "15.0%", "not applicable", "establish baseline by 2019-10-31".
    pub target_text: String,
    pub note: Option<String>,
    /// The stored value and RAG for the KPI's period holding the milestone's month.
    pub actual: Option<Actual>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Actual {
    /// As stored: `2021-05`, `2021-Q2`, `AY2020/21`, `FY2020/21`, `2021`.
    pub period: String,
    /// As a board paper writes it: "May 2021", "Apr-Jun 2021".
    pub period_label: String,
    pub value: Option<f64>,
    pub value_text: String,
    pub rag: String,
    pub direction: Option<String>,
    /// The run that stored it (the live view's history lists it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<i64>,
    /// CSS class for the RAG cell (the live view's history).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<&'static str>,
}

/// Each KPI of the catalogue (or the one `only`) as the table shows it, in catalogue order;
/// shared by `kpi show` and the board pack. `rules`: the AMBER bands (`[rag]`) and the
/// disclosure rules.
pub fn rows(
    catalogue: &Catalogue,
    owners: &BTreeMap<String, String>,
    results: &[StoredResult],
    entered: &[Entered],
    only: Option<&str>,
    period: Option<Period>,
    rules: Rules,
) -> Vec<KpiRow> {
    let disclosure = rules.disclosure;
    catalogue
        .iter()
        .filter(|(id, _)| only.is_none_or(|o| o == id.as_str()))
        .map(|(id, k)| {
            // Its series: the periods of its own kind only, so its latest, its milestones'
            // values and its warning never read a period left from an earlier frequency.
            let mine = own_series(id, k, results);
            let mut v = standing(k, owners, &mine, period, rules);
            // As of the period shown: the one asked for, else the latest stored.
            let as_of = period
                .map(Period::last_month)
                .or_else(|| mine.iter().map(|r| r.period.last_month()).max());
            v.warning = as_of
                .and_then(|m| crate::kpi::warning::warning(id, k, &mine, disclosure, m))
                .map(|w| crate::view::warning::WarningRow::of(&w, k));
            v.entered = entered
                .iter()
                .filter(|e| e.value.kpi_id == *id)
                .map(|e| EnteredView {
                    period: e.value.period.to_string(),
                    period_label: e.value.period.label(),
                    value: entered_value(e, disclosure).map(one_place),
                    value_text: entered_text(k, e, disclosure),
                    by: e.value.by.clone(),
                    entered_at: e.entered_at.to_rfc3339(),
                    note: e.value.note.clone(),
                    entry: e.id,
                })
                .collect();
            KpiRow {
                standing: Some(v),
                ..KpiRow::new(id, &k.title)
            }
        })
        .collect()
}

/// What may be shown of a value entered by hand: one entered with its counts only what its
/// share may be (a value alone has nothing to hide). Entered values stand alone: no period's
/// is worked from another's.
pub fn entered_verdict(e: &Entered, d: Disclosure) -> Verdict {
    let count = match (e.value.numerator, e.value.denominator) {
        (Some(numerator), Some(denominator)) => Some(Count {
            numerator,
            denominator,
        }),
        _ => None,
    };
    Figure {
        value: e.value.value,
        count,
    }
    .alone(false, d)
}

/// The value entered by hand as written: itself, or from its rounded counts.
pub fn entered_value(e: &Entered, d: Disclosure) -> Option<f64> {
    if !entered_verdict(e, d).value {
        return None;
    }
    match (e.value.numerator, e.value.denominator) {
        (Some(n), Some(den)) => d.share_value(e.value.value, n, den),
        _ => Some(e.value.value),
    }
}

/// A value entered by hand in words: in its unit, or what stands for it when hidden (as the
/// digest writes a hidden share).
pub fn entered_text(k: &KpiSettings, e: &Entered, d: Disclosure) -> String {
    match entered_value(e, d) {
        Some(v) => k.unit.format(v),
        None => Figure::hidden_as(entered_verdict(e, d), false, d),
    }
}

/// Whether an evaluation's value is there but not rated (hidden, or under the rounding
/// policy too few to rate): its RAG, direction and change are then
/// [`crate::view::not_rated`] in every output.
pub fn unrated(e: &Evaluation) -> bool {
    e.current.is_some() && !e.shown.current.rated
}

/// A stored result of KPI `k` as shown: its value only when `v` (decided over the KPI's
/// series) lets it be, its RAG and direction only when it is rated.
pub fn actual(k: &KpiSettings, r: &StoredResult, v: Verdict, d: Disclosure) -> Actual {
    let average = k.measure == Some(Measure::AverageWaitWeeks);
    let written = r.written(average, d);
    let (hidden, unrated) = (r.value.is_some() && !v.value, r.value.is_some() && !v.rated);
    Actual {
        period: r.period.to_string(),
        period_label: r.period.label(),
        direction: if unrated {
            Some(not_rated().to_string())
        } else {
            r.direction.clone()
        },
        value: written.filter(|_| !hidden).map(one_place),
        value_text: match written {
            _ if hidden => Figure::hidden_as(v, average, d),
            Some(v) => k.unit.format(v),
            None => "no data".to_string(),
        },
        rag: if unrated {
            not_rated().to_string()
        } else {
            r.rag.to_string()
        },
        run_id: None,
        class: None,
    }
}

/// `k` as its catalogue entry and its stored series (`mine`, of its own period kind) show it.
fn standing(
    k: &KpiSettings,
    owners: &BTreeMap<String, String>,
    mine: &[&StoredResult],
    period: Option<Period>,
    rules: Rules,
) -> Standing {
    let d = rules.disclosure;
    let band = rules.rag.band(k);
    let published = publish_stored(k, mine, d);
    let actual = |r: &StoredResult| actual(k, r, published.stored(r), d);
    Standing {
        action: k.action.clone(),
        owner: k.owner.clone(),
        owner_name: owners.get(&k.owner).cloned(),
        frequency: k.frequency.as_str(),
        unit: k.unit.as_str(),
        better: k.better.as_str(),
        amber: band.words(),
        amber_tolerance: band.tolerance,
        amber_set_by: band.set_by,
        computed: k.measure.is_some(),
        baseline: BaselineView {
            text: k.baseline.text.clone(),
            value: k.baseline.value.map(one_place),
            date: k.baseline.date.clone(),
            establish_by: k.baseline.establish_by.map(|d| d.to_string()),
        },
        latest: match period {
            Some(p) => {
                let wanted = Period::containing(k.period_kind(), p.last_month());
                mine.iter().find(|r| r.period == wanted).map(|r| actual(r))
            }
            None => mine.iter().max_by_key(|r| r.period).map(|r| actual(r)),
        },
        milestones: milestones(k, mine, &published, d),
        disclosure: d.policy().as_str(),
        benchmark: None,
        entered: Vec::new(),
        warning: None,
    }
}

/// Each milestone of each version of `k`'s targets, with the stored value for its month.
fn milestones(
    k: &KpiSettings,
    mine: &[&StoredResult],
    published: &Published,
    d: Disclosure,
) -> Vec<MilestoneView> {
    let mut milestones = Vec::new();
    for version in versions(k) {
        let name = match (version.effective, version.reason) {
            (Some(e), Some(reason)) => format!("reset from {e}: {reason}"),
            _ => "as printed".to_string(),
        };
        for m in version.milestones {
            let Ok(from) = m.from.parse::<Month>() else {
                continue;
            };
            let resolved = resolve(k, &version, m, from);
            let target = resolved.as_ref().and_then(|t| t.value());
            let target_text = match resolved.as_ref().map(|t| &t.target) {
                Some(Target::Value(v)) => k.unit.format(*v),
                Some(Target::EstablishBaseline { by: Some(by) }) => {
                    format!("establish baseline by {by}")
                }
                Some(Target::EstablishBaseline { by: None }) => "establish baseline".into(),
                Some(Target::NotApplicable) => "not applicable".into(),
                Some(Target::Unknown) => "not known".into(),
                None => "malformed (see check-config)".into(),
            };
            milestones.push(MilestoneView {
                version: name.clone(),
                from: from.to_string(),
                label: m.label.clone(),
                target: target.map(one_place),
                target_text,
                note: resolved.and_then(|t| t.note),
                actual: mine
                    .iter()
                    .find(|r| r.period == Period::containing(k.period_kind(), from))
                    .map(|r| actual(k, r, published.stored(r), d)),
            });
        }
    }
    milestones
}
