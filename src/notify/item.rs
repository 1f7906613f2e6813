//! Items: every thing a digest or notice can carry, as labels that routes and silences match
//! on (`kind`, `sub_group`, `kpi`, `risk`, `source`, `action`, `severity`, `period`, `state`).
//! Pure.
//!
//! Owns: the item kinds and severities, and how each news (a slipped KPI, an overdue value, a
//! KPI at risk of missing its next milestone, a risk change, a data issue, a failed run)
//! becomes an item. Must not: decide who hears it
//! (that is [`super::route`]) or hold it back (that is [`super::silence`]).

use crate::kpi::manual::Overdue;
use crate::kpi::warning::Warning;
use crate::kpi::{Evaluation, Rag};
use crate::risk::{ChangeKind, RiskChange};

/// What an item is news of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ItemKind {
    /// A KPI RED against its milestone.
    Breach,
    /// A KPI with a figure to meet and nothing to compute it from.
    NoData,
    /// A milestone asked for a baseline and its date has passed.
    BaselineOverdue,
    /// A KPI entered by hand with no value past its due date.
    ManualOverdue,
    /// A KPI whose projection says it may miss its next milestone (the early warning: at
    /// risk or off course), told before the milestone is missed.
    AtRisk,
    /// A source has brought no new data past its cadence and grace.
    StaleData,
    /// An extract refused, held, or with too many rows set aside.
    DataQuality,
    RiskRaised,
    RiskLowered,
    ActionSlipped,
    /// A run abandoned, or a job past its dead-man deadline.
    RunFailed,
}

impl ItemKind {
    pub const ALL: [ItemKind; 11] = [
        ItemKind::Breach,
        ItemKind::NoData,
        ItemKind::BaselineOverdue,
        ItemKind::ManualOverdue,
        ItemKind::AtRisk,
        ItemKind::StaleData,
        ItemKind::DataQuality,
        ItemKind::RiskRaised,
        ItemKind::RiskLowered,
        ItemKind::ActionSlipped,
        ItemKind::RunFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Breach => "breach",
            ItemKind::NoData => "no_data",
            ItemKind::BaselineOverdue => "baseline_overdue",
            ItemKind::ManualOverdue => "manual_overdue",
            ItemKind::AtRisk => "at_risk",
            ItemKind::StaleData => "stale_data",
            ItemKind::DataQuality => "data_quality",
            ItemKind::RiskRaised => "risk_raised",
            ItemKind::RiskLowered => "risk_lowered",
            ItemKind::ActionSlipped => "action_slipped",
            ItemKind::RunFailed => "run_failed",
        }
    }

    /// The kind of news a KPI in exception in `rag` is (none when it is not an exception).
    pub fn of_rag(rag: Rag) -> Option<ItemKind> {
        match rag {
            Rag::Red => Some(ItemKind::Breach),
            Rag::NoData => Some(ItemKind::NoData),
            Rag::BaselineOverdue => Some(ItemKind::BaselineOverdue),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// The label names a matcher may use.
pub const LABELS: [&str; 9] = [
    "kind",
    "sub_group",
    "kpi",
    "risk",
    "source",
    "action",
    "severity",
    "period",
    "state",
];

/// One piece of news, by its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub kind: ItemKind,
    /// Key of the sub-group it is about (the KPI's or risk's owner); empty when none.
    pub sub_group: String,
    pub kpi: Option<String>,
    pub risk: Option<String>,
    pub source: Option<String>,
    pub action: Option<String>,
    pub severity: Severity,
    /// The period it is for ("2021-07"), or empty.
    pub period: String,
    /// Its state: the RAG ("RED"), "overdue", a risk's new score, a data issue's word.
    pub state: String,
}

impl Item {
    fn new(kind: ItemKind, sub_group: &str, severity: Severity) -> Item {
        Item {
            kind,
            sub_group: sub_group.to_string(),
            kpi: None,
            risk: None,
            source: None,
            action: None,
            severity,
            period: String::new(),
            state: String::new(),
        }
    }

    /// A label's value; an absent label reads as empty (as in Alertmanager, so `kpi!=3/3`
    /// matches an item about no KPI, and `kpi=~.+` only those about one).
    pub fn label(&self, name: &str) -> &str {
        fn opt(o: &Option<String>) -> &str {
            o.as_deref().unwrap_or("")
        }
        match name {
            "kind" => self.kind.as_str(),
            "sub_group" => &self.sub_group,
            "kpi" => opt(&self.kpi),
            "risk" => opt(&self.risk),
            "source" => opt(&self.source),
            "action" => opt(&self.action),
            "severity" => self.severity.as_str(),
            "period" => &self.period,
            "state" => &self.state,
            _ => "",
        }
    }

    /// A KPI in exception (RED, NO DATA, BASELINE OVERDUE); `source` is the extract it is
    /// computed from. None when the KPI is not in exception, or its readers may not be told
    /// its rating ([`Evaluation::rated`]).
    pub fn of_evaluation(e: &Evaluation, source: Option<&str>) -> Option<Item> {
        if !e.rated() {
            return None;
        }
        let kind = ItemKind::of_rag(e.rag)?;
        Some(Item::of_kpi(e, kind, source))
    }

    /// A KPI as `kind` of news, whatever its RAG now (a resolved notice keeps the kind it
    /// resolves, so the route that told of it tells of its end).
    pub fn of_kpi(e: &Evaluation, kind: ItemKind, source: Option<&str>) -> Item {
        let severity = match e.rag {
            Rag::Red => Severity::Critical,
            r if r.is_exception() => Severity::Warning,
            _ => Severity::Info,
        };
        Item {
            kpi: Some(e.kpi_id.clone()),
            source: source.map(str::to_string),
            period: e.period.to_string(),
            state: e.rag.as_str().to_string(),
            ..Item::new(kind, &e.owner, severity)
        }
    }

    pub fn of_overdue(o: &Overdue) -> Item {
        Item {
            kpi: Some(o.kpi_id.clone()),
            period: o.due.period.to_string(),
            state: o.stage.word().into(),
            ..Item::new(ItemKind::ManualOverdue, &o.owner, Severity::Warning)
        }
    }

    /// A KPI's early warning (at risk or off course at its next milestone): its state is the
    /// band (`at_risk`, `off_course`), its period the milestone's month, so that routes and
    /// silences can match `state=at_risk` and the item is the same news until its band or
    /// milestone changes.
    pub fn of_warning(w: &Warning, source: Option<&str>) -> Item {
        Item {
            kpi: Some(w.kpi_id.clone()),
            source: source.map(str::to_string),
            period: w.milestone.to_string(),
            state: w.band().as_str().to_string(),
            ..Item::new(ItemKind::AtRisk, &w.owner, Severity::Warning)
        }
    }

    /// A warned KPI back on course for the same milestone: routed as the warning it takes
    /// back (its state the band `was` told, so that a route matching `state=at_risk` hears
    /// of the recovery too).
    pub fn of_recovery(w: &Warning, was: &str, source: Option<&str>) -> Item {
        Item {
            state: was.to_string(),
            ..Item::of_warning(w, source)
        }
    }

    /// A change of a risk's score: raised when the score went up (or the risk was raised),
    /// lowered otherwise.
    pub fn of_risk(c: &RiskChange) -> Item {
        let up = match c.kind {
            ChangeKind::Raised => true,
            ChangeKind::Cleared => false,
            ChangeKind::Changed => c.to.level.score() >= c.from.level.score(),
        };
        let (kind, severity) = if up {
            (ItemKind::RiskRaised, Severity::Warning)
        } else {
            (ItemKind::RiskLowered, Severity::Info)
        };
        Item {
            risk: Some(c.risk_id.clone()),
            state: c.to.text(),
            ..Item::new(kind, &c.owner, severity)
        }
    }

    /// An action of the action log that slipped or wants an update.
    pub fn of_action(a: &super::ActionNote) -> Item {
        Item {
            action: Some(a.reference.clone()),
            state: a.why.clone(),
            ..Item::new(ItemKind::ActionSlipped, &a.owner, Severity::Warning)
        }
    }

    /// News about a source's data (`stale` or a data-quality issue).
    pub fn of_source(source: &str, stale: bool, state: &str) -> Item {
        let kind = if stale {
            ItemKind::StaleData
        } else {
            ItemKind::DataQuality
        };
        Item {
            source: Some(source.to_string()),
            state: state.to_string(),
            ..Item::new(kind, "", Severity::Warning)
        }
    }

    /// A run abandoned or a dead-man deadline passed.
    pub fn run_failed(job: &str) -> Item {
        Item {
            state: job.to_string(),
            ..Item::new(ItemKind::RunFailed, "", Severity::Critical)
        }
    }

    /// How a reader would name it ("KPI 3/3 RED", "risk R10 12 (high)").
    pub fn describe(&self) -> String {
        match (&self.kpi, &self.risk, &self.source) {
            (Some(k), _, _) => format!("KPI {k} {} ({})", self.state, self.period),
            (None, Some(r), _) => {
                let how = if self.kind == ItemKind::RiskRaised {
                    "raised"
                } else {
                    "lowered"
                };
                format!("risk {r} {how} to {}", self.state)
            }
            (None, None, Some(s)) => format!("source {s}: {}", self.state),
            _ if self.action.is_some() => format!(
                "action {} {}",
                self.action.as_deref().unwrap_or(""),
                self.state
            ),
            _ => format!("{} {}", self.kind.as_str().replace('_', " "), self.state),
        }
    }
}
