//! Assessing the register: each risk's triggers against the data, beside the risk's state from
//! its recorded history, gives the changes to record and report.
//!
//! Owns: [`assess`], [`current_states`] and the change types. Pure: takes the register, the
//! inputs and the recorded changes, returns new changes stamped with `inputs.now`.
//!
//! A risk at the register's level is raised when a trigger fires, to the highest likelihood
//! and the highest impact its firing triggers give. While raised it holds (nothing recorded)
//! as long as the same triggers fire at the same level; another trigger firing, or one of
//! several stopping, is recorded as a change. When none fires any more it is cleared: back
//! to the register's level, recorded with what cleared it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::trigger::{Finding, Inputs, evaluate};
use super::{Level, Register, RiskLogSettings};

/// What happened to a risk's score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// From the register's level to a trigger's.
    Raised,
    /// Still raised, by other triggers or to another level.
    Changed,
    /// Back to the register's level: no trigger fires any more.
    Cleared,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Raised => "raised",
            ChangeKind::Changed => "changed",
            ChangeKind::Cleared => "cleared",
        }
    }

    pub fn parse(s: &str) -> Option<ChangeKind> {
        [ChangeKind::Raised, ChangeKind::Changed, ChangeKind::Cleared]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A level with its band, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scored {
    pub level: Level,
    pub band: String,
}

impl Scored {
    pub fn new(level: Level, log: &RiskLogSettings) -> Scored {
        Scored {
            level,
            band: log.band(level.score()).to_string(),
        }
    }

    /// "16 (very high)".
    pub fn text(&self) -> String {
        format!("{} ({})", self.level.score(), self.band)
    }
}

/// One change of one risk's score.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskChange {
    pub risk_id: String,
    /// The owning sub-group when the change was made (who was told).
    pub owner: String,
    pub kind: ChangeKind,
    pub from: Scored,
    pub to: Scored,
    /// The triggers firing after the change; for a clearing, those that had been firing.
    pub triggers: Vec<String>,
    /// One line per trigger: why it fires, or for a clearing why it no longer does.
    pub reasons: Vec<String>,
    pub at: DateTime<Utc>,
}

/// A recorded change.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskEvent {
    pub id: i64,
    pub run_id: i64,
    pub change: RiskChange,
}

/// Where a risk stands after its recorded changes.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskState {
    pub raised: bool,
    /// The level after the last change (the register's at that time, once cleared).
    pub level: Scored,
    /// The triggers that raised it (empty once cleared).
    pub triggers: Vec<String>,
    pub reasons: Vec<String>,
    /// When it was raised (for a raised risk) or last cleared.
    pub since: DateTime<Utc>,
}

/// Each risk's state from its recorded changes, in the order recorded.
pub fn current_states(events: &[RiskEvent]) -> BTreeMap<String, RiskState> {
    let mut out: BTreeMap<String, RiskState> = BTreeMap::new();
    for e in events {
        let c = &e.change;
        let since = match (c.kind, out.get(&c.risk_id)) {
            (ChangeKind::Changed, Some(prev)) if prev.raised => prev.since,
            _ => c.at,
        };
        let raised = c.kind != ChangeKind::Cleared;
        out.insert(
            c.risk_id.clone(),
            RiskState {
                raised,
                level: c.to.clone(),
                triggers: if raised {
                    c.triggers.clone()
                } else {
                    Vec::new()
                },
                reasons: c.reasons.clone(),
                since,
            },
        );
    }
    out
}

/// Evaluate every risk's triggers and return the changes against `current`, in id order.
pub fn assess(
    register: &Register,
    log: &RiskLogSettings,
    current: &BTreeMap<String, RiskState>,
    inputs: &Inputs<'_>,
) -> Vec<RiskChange> {
    let mut out = Vec::new();
    for (id, r) in register.ordered() {
        let base = r.level();
        let findings: Vec<(Finding, Level)> = r
            .triggers
            .iter()
            .filter_map(|t| Some((evaluate(&t.condition().ok()?, inputs), t.level(base))))
            .collect();
        let firing: Vec<&(Finding, Level)> = findings.iter().filter(|(f, _)| f.fired).collect();
        let raised = current.get(id).filter(|s| s.raised);
        let change = |kind, from: Scored, to: Level, triggers, reasons| RiskChange {
            risk_id: id.to_string(),
            owner: r.owner.clone(),
            kind,
            from,
            to: Scored::new(to, log),
            triggers,
            reasons,
            at: inputs.now,
        };
        if firing.is_empty() {
            let Some(s) = raised else { continue };
            // What cleared it: each trigger that had been firing, as it reads now.
            let reasons = s
                .triggers
                .iter()
                .map(|t| match findings.iter().find(|(f, _)| &f.trigger == t) {
                    Some((f, _)) => f.reason.clone(),
                    None => format!("{t}: no longer in the register"),
                })
                .collect();
            out.push(change(
                ChangeKind::Cleared,
                s.level.clone(),
                base,
                s.triggers.clone(),
                reasons,
            ));
            continue;
        }
        let to = firing.iter().fold(base, |acc, (_, l)| acc.max(*l));
        let triggers: Vec<String> = firing.iter().map(|(f, _)| f.trigger.clone()).collect();
        let reasons: Vec<String> = firing.iter().map(|(f, _)| f.reason.clone()).collect();
        match raised {
            None => out.push(change(
                ChangeKind::Raised,
                Scored::new(base, log),
                to,
                triggers,
                reasons,
            )),
            Some(s) if s.level.level != to || s.triggers != triggers => out.push(change(
                ChangeKind::Changed,
                s.level.clone(),
                to,
                triggers,
                reasons,
            )),
            Some(_) => {} // holds: the same triggers at the same level
        }
    }
    out
}

#[cfg(test)]
mod tests;
