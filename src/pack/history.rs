//! One KPI's page in the live board view: its catalogue entry and milestones, every period a
//! run stored for it (newest first) with the trend over the last two years, and the owner's
//! commentary on its exceptions, and a timeliness KPI's published benchmarks. Pure, like [`super::view`].

use serde::Serialize;

use super::view::{Inputs, trend};
use crate::kpi::{Period, StoredResult, own_series};
use crate::view::kpi::{Actual, CommentaryEntry, KpiRow, actual, commentary_entry, rows};
use crate::view::rag_class;

/// Periods drawn on a KPI's own page.
pub const HISTORY_PERIODS: usize = 24;

#[derive(Debug, Serialize)]
pub struct KpiHistory {
    pub kpi: KpiRow,
    pub chart: Option<String>,
    /// Every stored period, newest first, each with its RAG class and run.
    pub periods: Vec<Actual>,
    pub commentary: Vec<(String, CommentaryEntry)>,
}

/// The page for KPI `id`, or `None` when the catalogue has no such KPI.
pub fn kpi_history(i: &Inputs<'_>, id: &str) -> Option<KpiHistory> {
    let k = i.kpis.get(id)?;
    let mut kpi = rows(
        i.kpis,
        i.owners,
        i.results,
        i.entered,
        Some(id),
        i.period,
        crate::kpi::Rules::of(i.rag, i.disclosure),
    )
    .into_iter()
    .next()?;
    super::view::benchmark(i, &mut kpi);
    // Its own period kind only: a period left from an earlier frequency is not one of its.
    let mut mine: Vec<&StoredResult> = own_series(id, k, i.results);
    let published = crate::kpi::publish::publish_stored(k, &mine, i.disclosure);
    mine.sort_by_key(|r| std::cmp::Reverse(r.period));
    let periods = mine
        .iter()
        .map(|r| {
            // The class from the RAG as shown: a hidden value's is not rated, so no colour.
            let a = actual(k, r, published.stored(r), i.disclosure);
            Actual {
                run_id: Some(r.run_id),
                class: Some(rag_class(&a.rag)),
                ..a
            }
        })
        .collect();
    let upto = kpi.latest().and_then(|a| a.period.parse::<Period>().ok());
    let mut commentary: Vec<_> = i
        .commentary
        .iter()
        .filter(|c| c.kpi_id == id)
        .map(|c| (c.period.label(), commentary_entry(c)))
        .collect();
    commentary.reverse();
    Some(KpiHistory {
        chart: upto.and_then(|p| trend(i, id, p, HISTORY_PERIODS)),
        kpi,
        periods,
        commentary,
    })
}
