//! A KPI's stored result: the latest a run recorded for a KPI and a period, as every reader
//! of the history sees it (the risk triggers, the trend charts, `kpi show`, the pack and the
//! live view). One type, read by one query ([`crate::store::Store::stored_results`]).

use super::{Period, Rag};
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
