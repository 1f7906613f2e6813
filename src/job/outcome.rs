//! What became of each source in a run, and what its owner should hear of it; the run's
//! status and its summary line in the ledger.

use chrono::{DateTime, Utc};

use crate::kpi::Evaluation;
use crate::notify;
use crate::risk::RiskChange;
use crate::store::{LoadRecord, RunStatus, SourceOutcome};

/// What a source's owner should hear after this run's ingest: a refused, held or
/// over-quarantined extract, and staleness (from when the current data arrived). Pure.
pub(super) fn data_issues(
    s: &crate::config::SourceSettings,
    outcome: &SourceOutcome,
    current: Option<&LoadRecord>,
    now: DateTime<Utc>,
) -> Vec<notify::DataIssue> {
    let mut issues = Vec::new();
    match outcome {
        SourceOutcome::Held {
            load_id, reason, ..
        } => issues.push(notify::DataIssue::Held {
            load_id: *load_id,
            reason: reason.clone(),
        }),
        SourceOutcome::Rejected { error } => issues.push(notify::DataIssue::Rejected {
            error: error.clone(),
        }),
        SourceOutcome::Loaded {
            load_id,
            rows,
            set_aside,
            ..
        } if *set_aside > 0
            && *set_aside as f64 > s.load.max_bad_share * (*rows + *set_aside) as f64 =>
        {
            issues.push(notify::DataIssue::Quarantined {
                load_id: *load_id,
                rows: *rows,
                set_aside: *set_aside,
                limit: s.load.max_bad_share,
            })
        }
        _ => {}
    }
    if let Some(cadence) = s.cadence {
        let last_new = current.map(|l| l.fetched_at);
        if let Some(stale) =
            crate::source::freshness::stale(cadence, s.deadline_days, last_new, now)
        {
            issues.push(notify::DataIssue::Stale {
                stale,
                cadence,
                deadline_days: s.deadline_days,
            });
        }
    }
    issues
}

/// Log what became of a source in a run.
pub(super) fn log_outcome(name: &str, o: &SourceOutcome) {
    match o {
        SourceOutcome::Loaded {
            load_id,
            rows,
            set_aside,
            ..
        } => tracing::info!(source = name, load_id, rows, set_aside, "Loaded."),
        SourceOutcome::Held {
            load_id, reason, ..
        } => {
            tracing::warn!(source = name, load_id, %reason, "Extract held, not swapped in; approve it with `sendwatch load approve`.")
        }
        SourceOutcome::Rejected { error } => {
            tracing::error!(source = name, error = %error, "Extract rejected; the last good load stays in place.")
        }
        _ => {}
    }
}

/// A run is ok when every source loaded (or was unchanged) and every report it queued went.
pub(super) fn run_status(
    outcomes: &[(String, SourceOutcome)],
    delivery: &notify::DeliverySummary,
) -> RunStatus {
    let sources_ok = outcomes.iter().all(|(_, o)| o.is_ok());
    if sources_ok && delivery.failed == 0 && delivery.ambiguous == 0 && delivery.still_pending == 0
    {
        RunStatus::Ok
    } else {
        RunStatus::Failed
    }
}

/// The ledger's one-line summary of a run: each source's outcome, each KPI's rating, the risk
/// changes and the mail.
pub(super) fn run_summary(
    outcomes: &[(String, SourceOutcome)],
    evaluations: &[Evaluation],
    risks: &[RiskChange],
    queued: usize,
    delivery: &notify::DeliverySummary,
) -> String {
    let join = |xs: Vec<String>| xs.join(", ");
    let risks = if risks.is_empty() {
        "no change".to_string()
    } else {
        join(
            risks
                .iter()
                .map(|c| format!("{} {}", c.risk_id, c.kind.as_str()))
                .collect(),
        )
    };
    let mut summary = format!(
        "sources: {}; KPIs: {}; risks: {risks}; reports queued {queued}, sent {}, failed {}, pending {}",
        join(
            outcomes
                .iter()
                .map(|(n, o)| format!("{n} {}", o.word()))
                .collect()
        ),
        join(
            evaluations
                .iter()
                .map(|e| format!("{} {}", e.kpi_id, e.rag))
                .collect()
        ),
        delivery.sent,
        delivery.failed,
        delivery.still_pending
    );
    if delivery.ambiguous > 0 {
        summary.push_str(&format!(", ambiguous {}", delivery.ambiguous));
    }
    summary
}
