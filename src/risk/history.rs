//! KPI history as the triggers read it: the latest stored result of each KPI for each period,
//! whichever run computed it.
//!
//! Owns: [`History`] over [`StoredResult`]s: a KPI's latest period, and walking back from it one
//! period at a time. Pure: the store reads the rows ([`crate::store`]), this only orders them.

use std::cmp::Reverse;
use std::collections::BTreeMap;

#[cfg(test)]
use crate::kpi::Rag;
use crate::kpi::{Period, StoredResult};

/// Every KPI's stored results by period.
#[derive(Debug, Clone, Default)]
pub struct History {
    by_kpi: BTreeMap<String, BTreeMap<Period, StoredResult>>,
}

impl History {
    /// From stored records; a later record for the same KPI and period replaces an earlier.
    pub fn new(records: impl IntoIterator<Item = StoredResult>) -> History {
        let mut by_kpi: BTreeMap<String, BTreeMap<Period, StoredResult>> = BTreeMap::new();
        for r in records {
            by_kpi
                .entry(r.kpi_id.clone())
                .or_default()
                .insert(r.period, r);
        }
        History { by_kpi }
    }

    /// The KPI's latest result: the period ending last (a month before the quarter that ends
    /// with it: the shorter period is the more recent reading).
    pub fn latest(&self, kpi: &str) -> Option<&StoredResult> {
        self.by_kpi
            .get(kpi)?
            .values()
            .max_by_key(|r| (r.period.last_month(), Reverse(r.period.len_months())))
    }

    /// Every stored period of the KPI, oldest first (the series its disclosure is decided
    /// over).
    pub fn series(&self, kpi: &str) -> Vec<&StoredResult> {
        self.by_kpi
            .get(kpi)
            .map_or_else(Vec::new, |m| m.values().collect())
    }

    pub fn get(&self, kpi: &str, period: Period) -> Option<&StoredResult> {
        self.by_kpi.get(kpi)?.get(&period)
    }

    /// The KPI's latest `n` periods of the latest one's kind, latest first; `None` for a
    /// period with no stored result.
    pub fn last_n(&self, kpi: &str, n: u32) -> Vec<(Period, Option<&StoredResult>)> {
        let Some(latest) = self.latest(kpi) else {
            return Vec::new();
        };
        std::iter::successors(Some(latest.period), |p| Some(p.prev()))
            .take(n as usize)
            .map(|p| (p, self.get(kpi, p)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::testing::rec;

    #[test]
    fn the_latest_period_and_the_ones_before_it() {
        let h = History::new([
            rec("1/2a", "2021-05", Rag::Red, Some(50.0)),
            rec("1/2a", "2021-07", Rag::Red, Some(51.0)),
            rec("1/2a", "2021-Q2", Rag::Amber, Some(70.0)),
            rec("1/5", "2021-06", Rag::Green, Some(99.0)),
        ]);
        assert_eq!(
            h.latest("1/2a").map(|r| r.period.to_string()).as_deref(),
            Some("2021-07")
        );
        let last: Vec<(String, bool)> = h
            .last_n("1/2a", 3)
            .into_iter()
            .map(|(p, r)| (p.to_string(), r.is_some()))
            .collect();
        assert_eq!(
            last,
            [
                ("2021-07".to_string(), true),
                ("2021-06".to_string(), false),
                ("2021-05".to_string(), true)
            ]
        );
        assert!(h.last_n("9/9", 2).is_empty());
    }

    #[test]
    fn a_month_ending_with_a_quarter_is_the_later_reading_and_a_rerun_replaces_a_result() {
        let mut again = rec("1/3", "2021-06", Rag::Green, Some(96.0));
        again.run_id = 2;
        let h = History::new([
            rec("1/3", "2021-Q2", Rag::Red, Some(10.0)),
            rec("1/3", "2021-06", Rag::Red, Some(10.0)),
            again,
        ]);
        let latest = h.latest("1/3").expect("latest");
        assert_eq!(
            (latest.period.to_string(), latest.rag, latest.run_id),
            ("2021-06".to_string(), Rag::Green, 2)
        );
    }

    #[test]
    fn a_twice_yearly_kpi_is_walked_back_by_its_half_years_not_its_old_quarters() {
        let c = crate::risk::testing::catalogue();
        let stored = vec![
            rec("2/3", "2025-Q4", Rag::Green, Some(99.0)),
            rec("2/3", "2026-Q1", Rag::Green, Some(99.0)),
            rec("2/3", "2026-Q2", Rag::Green, Some(99.0)),
            rec("2/3", "2025-H2", Rag::Red, Some(40.0)),
            rec("2/3", "2026-H1", Rag::Red, Some(45.0)),
        ];
        // As the run reads it: each KPI's own period kind (Apr-Jun 2026 would otherwise be
        // the latest reading, a month-for-month match with the shorter period).
        let h = History::new(crate::kpi::own_kind(&c, stored));
        let last: Vec<(String, Option<Rag>)> = h
            .last_n("2/3", 2)
            .into_iter()
            .map(|(p, r)| (p.to_string(), r.map(|r| r.rag)))
            .collect();
        assert_eq!(
            last,
            [
                ("2026-H1".to_string(), Some(Rag::Red)),
                ("2025-H2".to_string(), Some(Rag::Red))
            ]
        );
        assert!(h.series("2/3").iter().all(|r| r.period.len_months() == 6));
    }
}
