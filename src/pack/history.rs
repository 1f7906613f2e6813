//! One KPI's page in the live board view: its catalogue entry and milestones, every period a
//! run stored for it (newest first) with the trend over the last two years, and the owner's
//! commentary on its exceptions. Pure, like [`super::view`].

use serde::Serialize;

use super::view::{CommentaryView, Inputs, commentary_view, rag_class, trend};
use crate::kpi::StoredResult;
use crate::kpi::show::{KpiView, views};
use crate::kpi::{Measure, Period};

/// Periods drawn on a KPI's own page.
pub const HISTORY_PERIODS: usize = 24;

#[derive(Debug, Serialize)]
pub struct KpiHistory {
    pub kpi: KpiView,
    pub chart: Option<String>,
    pub periods: Vec<PeriodRow>,
    pub commentary: Vec<(String, CommentaryView)>,
}

#[derive(Debug, Serialize)]
pub struct PeriodRow {
    pub period: String,
    pub value: String,
    pub rag: String,
    pub class: &'static str,
    pub direction: Option<String>,
    pub run_id: i64,
}

/// The page for KPI `id`, or `None` when the catalogue has no such KPI.
pub fn kpi_history(i: &Inputs<'_>, id: &str) -> Option<KpiHistory> {
    let k = i.kpis.get(id)?;
    let kpi = views(i.kpis, i.owners, i.results, i.entered, Some(id), i.period)
        .into_iter()
        .next()?;
    let average = k.measure == Some(Measure::AverageWaitWeeks);
    let mut mine: Vec<&StoredResult> = i.results.iter().filter(|r| r.kpi_id == id).collect();
    mine.sort_by_key(|r| std::cmp::Reverse(r.period));
    let periods = mine
        .iter()
        .map(|r| {
            let shown = crate::disclose::stored_shown(average, r.numerator, r.denominator);
            PeriodRow {
                period: r.period.label(),
                value: match r.value {
                    Some(_) if !shown => crate::kpi::Figure::hidden_text(average),
                    Some(v) => k.unit.format(v),
                    None => "no data".into(),
                },
                rag: r.rag.to_string(),
                class: rag_class(r.rag.as_str()),
                direction: r.direction.clone(),
                run_id: r.run_id,
            }
        })
        .collect();
    let upto = kpi
        .latest
        .as_ref()
        .and_then(|a| a.period.parse::<Period>().ok());
    let mut commentary: Vec<_> = i
        .commentary
        .iter()
        .filter(|c| c.kpi_id == id)
        .map(|c| (c.period.label(), commentary_view(c)))
        .collect();
    commentary.reverse();
    Some(KpiHistory {
        chart: upto.and_then(|p| trend(i, id, p, HISTORY_PERIODS)),
        kpi,
        periods,
        commentary,
    })
}
