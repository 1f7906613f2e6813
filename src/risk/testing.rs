//! Test helpers for the risk stage: stored KPI results and inputs built by hand.

use chrono::{DateTime, Utc};

use super::{History, Inputs, SourceFreshness};
use crate::kpi::StoredResult;
use crate::kpi::{Catalogue, Rag};

/// A stored result with a target of 75 over 40 cases.
pub fn rec(kpi: &str, period: &str, rag: Rag, value: Option<f64>) -> StoredResult {
    StoredResult {
        kpi_id: kpi.into(),
        period: period.parse().expect("period"),
        value,
        target: Some(75.0),
        numerator: value.map(|_| 20),
        denominator: value.map(|_| 40),
        rag,
        direction: None,
        overdue_open: None,
        run_id: 1,
        ytd_numerator: None,
        ytd_denominator: None,
    }
}

pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("instant")
}

pub fn catalogue() -> Catalogue {
    crate::kpi::catalogue::builtin().expect("kpi catalogue")
}

pub fn inputs<'a>(
    kpis: &'a Catalogue,
    history: &'a History,
    sources: &'a [SourceFreshness],
) -> Inputs<'a> {
    Inputs {
        kpis,
        history,
        sources,
        now: at("2021-08-02T07:00:00Z"),
        disclosure: crate::disclose::Disclosure::default(),
    }
}
