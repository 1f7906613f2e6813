//! A KPI's stored result: the latest a run recorded for a KPI and a period, as every reader
//! of the history sees it (the risk triggers, the trend charts, `kpi show`, the pack and the
//! live view). One type, read by one query ([`crate::store::Store::stored_results`]).
//!
//! Owns also which of them are a KPI's series: those of its own period kind. The store keeps
//! what each run rated, so a KPI whose frequency changed (2/3 was rated per quarter before
//! half-years were a kind) holds periods of two kinds; every reader takes its series through
//! [`own_series`] or [`own_kind`], so a quarter is never drawn, compared or counted as one
//! of a twice-yearly KPI's half-years.

use super::{KpiSettings, Period, Rag};
use crate::disclose::Disclosure;

/// One KPI's latest stored result for one period.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResult {
    pub kpi_id: String,
    pub period: Period,
    pub value: Option<f64>,
    /// The target the period was rated against, when it had a figure.
    pub target: Option<f64>,
    /// Of [`StoredResult::denominator`], the cases counted in (none for an average).
    pub numerator: Option<i64>,
    /// Cases (referrals, for an average wait) the value is over.
    pub denominator: Option<i64>,
    pub rag: Rag,
    /// The direction-of-travel sentence as rated.
    pub direction: Option<String>,
    /// Cases still open past the KPI's limit at the data's as-of date, or for the backlog at the
    /// period's end when that is earlier (computed KPIs; none for results stored before it was
    /// recorded).
    pub overdue_open: Option<i64>,
    pub run_id: i64,
    /// The year to date's counts as a digest quoted them (the series' disclosure decides
    /// them with the rest: [`super::publish`]).
    pub ytd_numerator: Option<i64>,
    pub ytd_denominator: Option<i64>,
}

impl StoredResult {
    /// The value as written: itself, or under the rounding policy a share's percentage worked
    /// from its rounded counts (`average`: the value is an average, not a share). Whether it
    /// may be shown at all is the series' decision ([`super::publish`]).
    pub fn written(&self, average: bool, d: Disclosure) -> Option<f64> {
        let value = self.value?;
        let count = |x: i64| u64::try_from(x).unwrap_or(0);
        match (average, self.numerator, self.denominator) {
            (false, Some(n), Some(den)) => d.share_value(value, count(n), count(den)),
            _ => Some(value),
        }
    }
}

impl StoredResult {
    /// Whether it is of `k`'s own period kind (its frequency's, or its `period`): a period of
    /// another kind is left from an earlier rating of the KPI and is not in its series.
    pub fn is_own_kind(&self, k: &KpiSettings) -> bool {
        self.period.kind() == k.period_kind()
    }
}

/// KPI `id`'s series: its stored results of its own period kind, in store order.
pub fn own_series<'a>(
    id: &str,
    k: &KpiSettings,
    results: &'a [StoredResult],
) -> Vec<&'a StoredResult> {
    results
        .iter()
        .filter(|r| r.kpi_id == id && r.is_own_kind(k))
        .collect()
}

/// Every KPI's series in `results`: each result of a catalogued KPI only when of its own
/// period kind (one of a KPI the catalogue no longer has is kept: no reader rates it).
pub fn own_kind(
    kpis: &std::collections::BTreeMap<String, KpiSettings>,
    mut results: Vec<StoredResult>,
) -> Vec<StoredResult> {
    results.retain(|r| kpis.get(&r.kpi_id).is_none_or(|k| r.is_own_kind(k)));
    results
}
