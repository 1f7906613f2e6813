//! The risk step of a run, after the KPI step: read the KPI history and each source's
//! freshness from the store, assess the register ([`crate::risk::assess`]), and record the
//! changes with the run, in one transaction.
//!
//! Each job has one run at a time, but two jobs may assess the register at once. The changes
//! are recorded only if no other run recorded one since they were assessed (a compare and
//! set on the newest event); otherwise they are assessed again from the register as it now
//! stands, so that one change is recorded once and told once.
//!
//! The history is read back from the store after the KPI step, so it does not matter which run
//! computed which period: a trigger reads the latest result of each period.

use chrono::{DateTime, Utc};

use super::App;
use crate::risk::{self, History, Inputs, RiskChange, RiskEvent, SourceFreshness};
use crate::store::Sources;
use crate::store::StoreError;

/// How often a run assesses the register again when another run recorded changes meanwhile.
const RECORD_TRIES: usize = 3;

impl App {
    pub(super) async fn assess_risks(
        &self,
        run_id: i64,
        notes: &Sources,
        now: DateTime<Utc>,
    ) -> Result<Vec<RiskChange>, StoreError> {
        let mut tries = 0;
        let changes = loop {
            let history = self.store.stored_results().await?;
            let events = self.store.risk_events().await?;
            let basis = events.last().map(|e| e.id);
            let changes = self.risk_changes(history, &events, notes, now).await?;
            if self
                .store
                .record_risk_changes(run_id, basis, &changes)
                .await?
            {
                break changes;
            }
            tries += 1;
            if tries >= RECORD_TRIES {
                return Err(StoreError::NotFound(format!(
                    "the risk log changed under this run {RECORD_TRIES} times running; its changes were not recorded"
                )));
            }
            tracing::info!("Another run recorded risk changes meanwhile; assessing again.");
        };
        for c in &changes {
            tracing::info!(
                risk = c.risk_id.as_str(),
                change = c.kind.as_str(),
                from = c.from.level.score(),
                to = c.to.level.score(),
                "Risk score changed."
            );
        }
        Ok(changes)
    }

    /// The changes of the register's scores that `history` implies from the state `events`
    /// leave, not recorded (a preview passes the stored history with its own evaluations in
    /// place).
    pub(super) async fn risk_changes(
        &self,
        history: Vec<crate::kpi::StoredResult>,
        events: &[RiskEvent],
        notes: &Sources,
        now: DateTime<Utc>,
    ) -> Result<Vec<RiskChange>, StoreError> {
        let settings = &self.settings;
        // Each KPI's own period kind only: the triggers walk back from its latest period,
        // which an old quarter of a twice-yearly KPI would otherwise be.
        let history = History::new(crate::kpi::own_kind(&settings.kpis, history));
        let mut sources = Vec::new();
        for (name, s) in &settings.sources {
            let Some(cadence) = s.cadence else { continue };
            // This run's sources were just read; any other is asked for.
            let load = match notes.get(name) {
                Some(n) => n.load.clone(),
                None => self.store.current_load(name).await?,
            };
            sources.push(SourceFreshness {
                source: name.clone(),
                cadence,
                deadline_days: s.deadline_days,
                last_new: load.map(|l| l.fetched_at),
            });
        }
        let current = risk::current_states(events);
        let inputs = Inputs {
            kpis: &settings.kpis,
            history: &history,
            sources: &sources,
            now,
            disclosure: settings.disclosure(),
        };
        Ok(risk::assess(
            &settings.risks,
            &settings.risk_log,
            &current,
            &inputs,
        ))
    }
}
