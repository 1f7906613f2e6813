//! What became of one source in a run: one type from the fetch (or a load by hand) to the
//! ledger's summary, the command line and the owner's notice. It sits with the store's load
//! records, under every stage that reads it, so that `load`, `kpi`, `risk` and `notify` can
//! each read it without a cycle.

use chrono::NaiveDate;

/// What became of one source (one extract) in a run.
#[derive(Debug, Clone)]
pub enum SourceOutcome {
    Loaded {
        load_id: i64,
        rows: u64,
        /// Rows set aside under the quarantine policy.
        set_aside: u64,
        as_of: Option<NaiveDate>,
    },
    /// Written but not swapped in (the shrink guard); `sendwatch load approve` swaps it.
    Held {
        load_id: i64,
        rows: u64,
        reason: String,
    },
    /// A dry run (`sendwatch load --dry-run`): everything checked, nothing kept.
    Checked {
        rows: u64,
        set_aside: u64,
        as_of: Option<NaiveDate>,
    },
    /// Nothing new to load (HTTP 304 or the same bytes as the current load).
    Unchanged {
        why: String,
    },
    FetchFailed {
        error: String,
    },
    Rejected {
        error: String,
    },
}

impl SourceOutcome {
    /// One word for logs, metrics and the ledger's summary.
    pub fn word(&self) -> &'static str {
        match self {
            SourceOutcome::Loaded { .. } => "loaded",
            SourceOutcome::Held { .. } => "held",
            SourceOutcome::Checked { .. } => "checked",
            SourceOutcome::Unchanged { .. } => "unchanged",
            SourceOutcome::FetchFailed { .. } => "fetch failed",
            SourceOutcome::Rejected { .. } => "rejected",
        }
    }

    /// Whether the source's data is as good as it can be after this: the new extract
    /// loaded, or there was nothing new.
    pub fn is_ok(&self) -> bool {
        matches!(
            self,
            SourceOutcome::Loaded { .. }
                | SourceOutcome::Unchanged { .. }
                | SourceOutcome::Checked { .. }
        )
    }

    /// What went wrong, as the source's latest error: `None` when it loaded or was unchanged.
    pub fn error(&self) -> Option<String> {
        match self {
            SourceOutcome::Loaded { .. }
            | SourceOutcome::Unchanged { .. }
            | SourceOutcome::Checked { .. } => None,
            SourceOutcome::FetchFailed { error } | SourceOutcome::Rejected { error } => {
                Some(error.clone())
            }
            SourceOutcome::Held {
                load_id, reason, ..
            } => Some(format!(
                "the new extract (load {load_id}) was held, not swapped in: {reason}"
            )),
        }
    }
}

/// One source as a run's later steps read it (the KPI and risk steps, the digests and the
/// owner's notices): what became of it this run and the load its figures now come from.
#[derive(Debug, Clone)]
pub struct SourceState {
    pub source: String,
    /// What became of it this run; `None` in a preview, which fetches nothing.
    pub outcome: Option<SourceOutcome>,
    /// The load its figures come from (none if no extract was ever accepted): the new one
    /// when it loaded, else the last good one.
    pub load: Option<super::LoadRecord>,
}

impl SourceState {
    /// This run's fetch or validation error, when the figures therefore come from an older
    /// load.
    pub fn latest_error(&self) -> Option<String> {
        self.outcome.as_ref().and_then(SourceOutcome::error)
    }
}

/// A run's sources by name.
pub type Sources = std::collections::BTreeMap<String, SourceState>;
