//! What stands in the store besides a run's findings, read the same way by a run and a
//! preview: the owners' commentary, the silences in force, what each recipient was last
//! told and the answers awaiting approval ([`Standing`]); and a preview's history, its own
//! evaluations laid over the stored results ([`overlay`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::App;
use crate::kpi::commentary::Commentary;
use crate::kpi::{Evaluation, StoredResult};

/// What a plan reads from the store besides the run's findings; a run and a preview read it
/// the same way.
pub(crate) struct Standing {
    /// The owners' commentary in force on the evaluations' periods.
    pub commentary: Vec<Commentary>,
    /// Silences in force (those not active at `now` are ignored when routing).
    pub silences: Vec<crate::notify::silence::Silence>,
    /// Each recipient's last digest's item lines (for resolved notices).
    pub last_told: BTreeMap<String, Vec<String>>,
    /// Each recipient's chase lines told already, in mail not superseded: a chase item is
    /// carried only in the runs that tell it ([`crate::notify::chase`]).
    pub chase_told: BTreeMap<String, std::collections::BTreeSet<String>>,
    /// Answers by link still drafts: the board's digest says they await approval.
    pub drafts: Vec<crate::store::StoredAnswer>,
}

impl App {
    /// What stands for a plan of `evaluations` at `now`: the owners' commentary in force on
    /// their periods (the reason, recovery actions, revised date and next update each
    /// exception is shown with), the silences in force and each recipient's last digest.
    pub(crate) async fn standing(
        &self,
        evaluations: &[Evaluation],
        now: DateTime<Utc>,
    ) -> Result<Standing, crate::store::StoreError> {
        let mut periods: Vec<_> = evaluations.iter().map(|e| e.period).collect();
        periods.sort();
        periods.dedup();
        Ok(Standing {
            commentary: self.store.commentary_for(&periods).await?,
            silences: self.store.silences(now, false).await?,
            last_told: self.store.last_digest_items().await?,
            chase_told: self.store.chase_told(now).await?,
            drafts: self.store.answers(Some("draft")).await?,
        })
    }
}

/// The stored history with `fresh` evaluations (a preview's, not stored) in place of the
/// stored results of the same KPI and period.
pub(crate) fn overlay(stored: Vec<StoredResult>, fresh: &[Evaluation]) -> Vec<StoredResult> {
    let mut by: BTreeMap<(String, crate::kpi::Period), StoredResult> = stored
        .into_iter()
        .map(|r| ((r.kpi_id.clone(), r.period), r))
        .collect();
    for e in fresh {
        by.insert(
            (e.kpi_id.clone(), e.period),
            StoredResult {
                kpi_id: e.kpi_id.clone(),
                period: e.period,
                value: e.value(),
                target: e.milestone.as_ref().map(|m| m.target),
                numerator: e.count().map(|c| c.numerator as i64),
                denominator: e.count().map(|c| c.denominator as i64),
                rag: e.rag,
                direction: Some(e.direction.clone()),
                overdue_open: Some(e.overdue_open as i64),
                run_id: 0,
                ytd_numerator: e
                    .year_to_date
                    .and_then(|f| f.count)
                    .map(|c| c.numerator as i64),
                ytd_denominator: e
                    .year_to_date
                    .and_then(|f| f.count)
                    .map(|c| c.denominator as i64),
            },
        );
    }
    by.into_values().collect()
}
