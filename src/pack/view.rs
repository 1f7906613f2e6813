//! The board pack as data: every section the seeds' appendices carry, built from what the
//! store holds, with every figure already a string that has been through disclosure control.
//! The template ([`super::html`]) only lays it out, so no template can print a raw count.
//!
//! Owns: [`Inputs`] (what the pack is made from) and [`build`]. Pure: takes `now` and the
//! stored records; reads no clock, file or database.

use std::collections::BTreeMap;

use crate::disclose::{Disclosure, stamp};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Audience;
use crate::kpi::StoredResult;
use crate::kpi::commentary::Commentary;
use crate::kpi::manual::Entered;
use crate::kpi::warning;
use crate::kpi::{Catalogue, Period};
use crate::risk::{Register, RiskEvent, RiskLogSettings};
use crate::store::LoadRecord;
use crate::view::action::{ActionRow, RatingCount};
use crate::view::chart::{Series, svg};
use crate::view::kpi::{KpiRow, RagCount, in_exception, is_exception, rag_counts, rows};
use crate::view::pending::{Pending, pending};
use crate::view::rag_class;
use crate::view::risk::RiskRow;

/// How many periods a trend chart covers.
pub const TREND_PERIODS: usize = crate::view::chart::PERIODS;

/// Everything the pack is made from.
pub struct Inputs<'a> {
    pub area: &'a str,
    pub audience: Audience,
    /// The period asked for; else each KPI's latest stored period.
    pub period: Option<Period>,
    pub now: DateTime<Utc>,
    pub kpis: &'a Catalogue,
    /// Sub-group key to name.
    pub owners: &'a BTreeMap<String, String>,
    pub results: &'a [StoredResult],
    pub entered: &'a [Entered],
    pub risks: &'a Register,
    pub risk_log: &'a RiskLogSettings,
    pub risk_events: &'a [RiskEvent],
    pub commentary: &'a [Commentary],
    /// The load in force for each source.
    pub loads: &'a [LoadRecord],
    pub actions: &'a crate::action::Actions,
    pub action_updates: &'a [crate::action::Recorded],
    /// The day in the plan's time zone, for overdue actions.
    pub today: chrono::NaiveDate,
    /// The rules every figure is written by (`[disclosure]`).
    pub disclosure: Disclosure,
    /// The AMBER bands each KPI is rated with (`[rag]`), said in its row.
    pub rag: crate::kpi::RagSettings,
    /// Each timeliness KPI's published benchmarks, by KPI id (none without a release).
    pub benchmarks: &'a BTreeMap<String, crate::view::benchmark::Benchmark>,
    /// The area's answers by link; the drafts among them are said to await approval.
    pub answers: &'a [crate::store::StoredAnswer],
}

#[derive(Debug, Serialize)]
pub struct Pack {
    pub area: String,
    pub audience: &'static str,
    pub audience_title: &'static str,
    /// "May 2021", or "latest stored" when no period was asked for.
    pub period: String,
    /// "2026-11-23 07:00 UTC".
    pub generated: String,
    pub sections: Sections,
    pub rag_counts: Vec<RagCount>,
    pub kpis: Vec<KpiRow>,
    /// The KPIs in exception, each with its exception part.
    pub exceptions: Vec<KpiRow>,
    pub risks: Vec<RiskRow>,
    /// Changes of a risk's score, newest first (at most 20), each with its recorded part.
    pub risk_changes: Vec<RiskRow>,
    pub provenance: Vec<SourceView>,
    pub actions: Vec<ActionRow>,
    pub action_counts: Vec<RatingCount>,
    /// Answers by link awaiting approval (never figures), when there are any.
    pub pending: Option<Pending>,
}

/// Which sections the audience gets.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Sections {
    pub kpi_table: bool,
    pub milestones: bool,
    pub exceptions: bool,
    pub risks: bool,
    pub risk_changes: bool,
    pub actions: bool,
    pub provenance: bool,
}

/// Where the figures came from: the load in force per source.
#[derive(Debug, Serialize)]
pub struct SourceView {
    pub source: String,
    pub kind: Option<String>,
    /// With credentials in the query string masked.
    pub url: String,
    pub fetched: String,
    pub sha256: Option<String>,
    /// Rows loaded, through disclosure control.
    pub rows: String,
    pub load_id: i64,
    pub run_id: i64,
}

/// Build the pack.
pub fn build(i: &Inputs<'_>) -> Pack {
    let (kpis, exceptions) = kpi_rows(i);
    let states = crate::action::current(i.actions, i.action_updates);
    let mut changes = crate::view::risk::recorded(i.risks, i.risk_events);
    changes.reverse();
    changes.truncate(20);
    Pack {
        area: i.area.to_string(),
        audience: i.audience.as_str(),
        audience_title: i.audience.title(),
        period: i
            .period
            .map_or_else(|| "latest stored".to_string(), |p| p.label()),
        generated: stamp(i.now),
        sections: i.audience.sections(),
        rag_counts: rag_counts(&kpis),
        kpis,
        exceptions,
        risks: crate::view::risk::views(i.risks, i.risk_log, i.kpis, i.owners, i.risk_events),
        risk_changes: changes,
        actions: crate::view::action::rows(&states, i.owners, None, i.today),
        action_counts: crate::view::action::rating_counts(&states),
        pending: pending(i.answers, i.kpis, i.actions, i.owners),
        provenance: i
            .loads
            .iter()
            .map(|l| source_view(l, i.disclosure))
            .collect(),
    }
}

/// The KPI table's rows, each with its RAG class and trend, and the exceptions among them.
fn kpi_rows(i: &Inputs<'_>) -> (Vec<KpiRow>, Vec<KpiRow>) {
    let mut out = Vec::new();
    let mut exceptions = Vec::new();
    for mut row in rows(
        i.kpis,
        i.owners,
        i.results,
        i.entered,
        None,
        i.period,
        crate::kpi::Rules::of(i.rag, i.disclosure),
    ) {
        let Some(k) = i.kpis.get(&row.id) else {
            continue;
        };
        let rag = row
            .latest()
            .map_or("NO DATA", |a| a.rag.as_str())
            .to_string();
        let upto = row.latest().and_then(|a| a.period.parse::<Period>().ok());
        if is_exception(&rag) {
            exceptions.push(in_exception(k, &row, upto, i.commentary));
        }
        row.class = Some(rag_class(&rag));
        row.chart = upto.and_then(|p| trend(i, &row.id, p, TREND_PERIODS));
        benchmark(i, &mut row);
        out.push(row);
    }
    (out, exceptions)
}

/// The row's published benchmarks, when its KPI has them.
pub(super) fn benchmark(i: &Inputs<'_>, row: &mut KpiRow) {
    if let Some(s) = row.standing.as_mut() {
        s.benchmark = i.benchmarks.get(&row.id).cloned();
    }
}

fn source_view(l: &LoadRecord, d: Disclosure) -> SourceView {
    SourceView {
        source: l.source.clone(),
        kind: l.kind.clone(),
        url: crate::secret::redact_url(&l.url),
        fetched: stamp(l.fetched_at),
        sha256: l.sha256.clone(),
        rows: l
            .rows_loaded
            .map_or_else(|| "-".to_string(), |n| d.suppress_i64(n)),
        load_id: l.id,
        run_id: l.run_id,
    }
}

/// The KPI's last `n` stored periods of its own kind up to `upto`, against the target in
/// force for each, as inline SVG; values disclosure would hide are gaps. With the early
/// warning as of `upto` (the one `kpi show` words), its SPC limits and projection.
pub(super) fn trend(i: &Inputs<'_>, id: &str, upto: Period, n: usize) -> Option<String> {
    let k = i.kpis.get(id)?;
    let series = Series::of_stored(id, k, i.results, upto, n, i.disclosure);
    let mine = crate::kpi::own_series(id, k, i.results);
    let series = match warning::warning(id, k, &mine, i.disclosure, upto.last_month()) {
        Some(w) => series.with_warning(&w),
        None => series,
    };
    svg(&series)
}
