//! Grouping: one digest per sub-group ([`group_exceptions`]) holding the KPIs that slipped
//! (Red or no data), the KPIs entered by hand whose values are overdue, and the risk changes
//! it hears of (those of the risks it owns, and as the log's holder all of them); then one per
//! recipient ([`by_recipient`]) holding every sub-group they are an owner of, worst first,
//! with the key that keeps it from being queued twice ([`RecipientDigest::key`]).
//! [`route_digests`] does the same through the routes (`[[notify.routes]]`): each item to
//! whom its route says, silenced items listed apart, and resolved notices for KPIs out of
//! exception since the last digest a person had. A KPI's early warning (at risk or off course
//! at its next milestone) is an item of its own, keyed by its milestone and band only, so it
//! is news once, and again when its band changes ([`crate::news::decide`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::SubGroup;
use super::chase::{self, Chase};
use super::item::{Item, ItemKind};
use super::route::{Router, Target};
use super::silence::{Silence, silencing};
use crate::kpi::Evaluation;
use crate::kpi::manual::Overdue;
use crate::kpi::warning::Warning;
use crate::risk::RiskChange;

mod filing;

/// One email's worth: a sub-group, its owners, its slipped KPIs, overdue manual values and risk
/// changes (any may be empty, not all).
#[derive(Debug, Clone)]
pub struct Digest<'a> {
    pub sub_group: String,
    pub sub_group_name: String,
    pub recipients: Vec<String>,
    pub items: Vec<&'a Evaluation>,
    /// Manual KPIs with no value entered for a period past its due date.
    pub overdue: Vec<&'a Overdue>,
    pub risks: Vec<&'a RiskChange>,
    /// KPIs out of exception since the digest that told of them (back to green, or no longer
    /// red), where the route asks for resolved notices.
    pub resolved: Vec<&'a Evaluation>,
    /// Actions of the action log that slipped or want an update (issue 11).
    pub actions: Vec<&'a ActionNote>,
    /// KPIs whose projection says they may miss their next milestone (issue 21).
    pub warnings: Vec<&'a Warning>,
    /// Items a silence holds back: listed at the digest's foot, never dropped silently.
    pub silenced: Vec<Silenced>,
}

/// An action of the action log that its owner hears of (built by the action stage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionNote {
    /// The plan's reference, e.g. "1.2.1".
    pub reference: String,
    pub title: String,
    /// Key of the owning sub-group.
    pub owner: String,
    /// The named contact, as the plan gives it.
    pub contact: String,
    pub due: chrono::NaiveDate,
    /// The latest progress status, in the seeds' words.
    pub status: String,
    /// Why it is news: "overdue", "not on track" or "update due".
    pub why: String,
    /// The board meeting an update is wanted for, when `why` is "update due".
    pub meeting: Option<chrono::NaiveDate>,
}

/// An item held back by a silence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silenced {
    /// What the item was, as a reader would name it ("KPI 3/3 NO DATA", "risk R10 raised").
    pub item: String,
    pub silence_id: i64,
    pub until: chrono::DateTime<chrono::Utc>,
    pub comment: String,
    pub author: String,
}

/// Group the exceptions among `evaluations`, the `overdue` manual values, and the risk
/// changes by sub-group, in sub-group key order: a KPI or overdue value to its owner, a risk
/// change to its owner and to `holder` (the log's holder). A manual KPI that is overdue is
/// said once: as overdue, not also as NO DATA.
pub fn group_exceptions<'a>(
    sub_groups: &BTreeMap<String, SubGroup>,
    evaluations: &'a [Evaluation],
    overdue: &'a [Overdue],
    risks: &'a [RiskChange],
    holder: &str,
) -> Vec<Digest<'a>> {
    type Items<'a> = (Vec<&'a Evaluation>, Vec<&'a Overdue>, Vec<&'a RiskChange>);
    let mut by_group: BTreeMap<&str, Items<'a>> = BTreeMap::new();
    let said_overdue = |e: &Evaluation| {
        e.measure.is_none()
            && e.rag == crate::kpi::Rag::NoData
            && overdue.iter().any(|o| o.kpi_id == e.kpi_id)
    };
    for e in evaluations
        .iter()
        .filter(|e| e.rag.is_exception() && e.rated() && !said_overdue(e))
    {
        by_group.entry(e.owner.as_str()).or_default().0.push(e);
    }
    for o in overdue {
        by_group.entry(o.owner.as_str()).or_default().1.push(o);
    }
    for c in risks {
        by_group.entry(c.owner.as_str()).or_default().2.push(c);
        if c.owner != holder {
            by_group.entry(holder).or_default().2.push(c);
        }
    }
    by_group
        .into_iter()
        .filter_map(|(key, (items, overdue, risks))| {
            let group = sub_groups.get(key)?;
            Some(Digest {
                sub_group: key.to_string(),
                sub_group_name: group.name.clone(),
                recipients: group.owners.clone(),
                items,
                overdue,
                risks,
                resolved: Vec::new(),
                actions: Vec::new(),
                warnings: Vec::new(),
                silenced: Vec::new(),
            })
        })
        .collect()
}

/// What a run's digests are built from, besides the routes.
pub struct RouteInputs<'a> {
    pub evaluations: &'a [Evaluation],
    pub overdue: &'a [Overdue],
    pub risks: &'a [RiskChange],
    /// Actions of the action log to tell of (the action stage's).
    pub actions: &'a [ActionNote],
    /// The KPIs' early warnings; those at risk or off course are items.
    pub warnings: &'a [Warning],
    /// The source each computed KPI reads (KPI id to source name).
    pub sources: &'a BTreeMap<String, String>,
    /// Silences (those not active at `now` are ignored).
    pub silences: &'a [Silence],
    /// Each recipient's (lower-cased) last digest's item lines, as [`RecipientDigest::key`]
    /// wrote them: what they were last told.
    pub last_told: &'a BTreeMap<String, Vec<String>>,
    /// Each recipient's (lower-cased) chase lines told already ([`super::chase::line`]): a
    /// chase item is carried only in a run that tells it.
    pub chase_told: &'a BTreeMap<String, BTreeSet<String>>,
    pub now: DateTime<Utc>,
}

/// Where a recipient's section is kept while routing: (address lower-cased, section).
type Slot = (String, String);

/// Route every item to its recipients and file it in their sections: one [`Digest`] per
/// (recipient, sub-group section), each with the one recipient, for [`by_recipient`]. An item
/// an active silence matches is listed in the section's `silenced` instead of carried. A KPI
/// that was in exception in the last digest a recipient had, and is not now, is a resolved
/// notice for them when the route that tells them of it has `send_resolved`.
pub fn route_digests<'a>(router: &Router<'_>, inp: &RouteInputs<'a>) -> Vec<Digest<'a>> {
    let mut f = filing::Filing {
        router,
        inp,
        slots: BTreeMap::new(),
    };
    f.evaluations();
    f.overdue();
    f.risks_actions_and_warnings();
    f.back_on_course();
    f.resolved();
    f.slots.into_values().collect()
}

/// A KPI line of a digest's items ("sub-group|kpi|id|period|state") whose state was an
/// exception: the KPI and the kind of news it was.
fn told_exception(line: &str) -> Option<(&str, ItemKind)> {
    let f: Vec<&str> = line.split('|').collect();
    let [_, "kpi", id, _, state] = f.as_slice() else {
        return None;
    };
    let state = state.trim_end_matches(" (last good load)");
    let rag = crate::kpi::Rag::all()
        .into_iter()
        .find(|r| r.as_str() == state)?;
    Some((id, ItemKind::of_rag(rag)?))
}

/// An early warning's line of a digest's items ("sub-group|at_risk|id|milestone|band")
/// whose band was told as news (at risk or off course): the KPI, the milestone, the band.
fn told_warning(line: &str) -> Option<(&str, &str, &str)> {
    let f: Vec<&str> = line.split('|').collect();
    let [_, "at_risk", id, milestone, band] = f.as_slice() else {
        return None;
    };
    (*band != crate::news::ON_COURSE).then_some((id, milestone, band))
}

/// One person's digest for a run: every sub-group they hear for, worst first.
#[derive(Debug, Clone)]
pub struct RecipientDigest<'a> {
    pub recipient: String,
    pub groups: Vec<Digest<'a>>,
}

/// How bad a KPI item is, for ordering (0 worst).
fn kpi_rank(rag: crate::kpi::Rag) -> u8 {
    match rag {
        crate::kpi::Rag::Red => 0,
        crate::kpi::Rag::NoData => 1,
        crate::kpi::Rag::BaselineOverdue => 2,
        _ => 4,
    }
}

/// How bad a digest's worst item is (an overdue value or a risk change ranks after a
/// baseline overdue).
fn rank(d: &Digest<'_>) -> u8 {
    let kpi = d.items.iter().map(|e| kpi_rank(e.rag)).min();
    let late = (!d.overdue.is_empty()).then_some(3);
    let risk = (!d.risks.is_empty()).then_some(3);
    let warned = d.warnings.iter().any(|w| w.needs_telling()).then_some(4);
    [kpi, late, risk, warned]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(5)
}

/// Regroup the sub-groups' digests by recipient: one digest per address (compared without
/// regard to case), its sub-groups worst first, then by key.
pub fn by_recipient<'a>(digests: &[Digest<'a>]) -> Vec<RecipientDigest<'a>> {
    let mut by: BTreeMap<String, RecipientDigest<'a>> = BTreeMap::new();
    for d in digests {
        for r in &d.recipients {
            let entry =
                by.entry(r.trim().to_ascii_lowercase())
                    .or_insert_with(|| RecipientDigest {
                        recipient: r.trim().to_string(),
                        groups: Vec::new(),
                    });
            let mut mine = d.clone();
            mine.recipients = vec![entry.recipient.clone()];
            entry.groups.push(mine);
        }
    }
    let mut out: Vec<_> = by.into_values().collect();
    for r in &mut out {
        r.groups
            .sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.sub_group.cmp(&b.sub_group)));
        for g in &mut r.groups {
            g.items.sort_by_key(|e| kpi_rank(e.rag));
        }
    }
    out
}

impl RecipientDigest<'_> {
    /// True when it carries nothing but silenced items: it is not sent.
    pub fn only_silenced(&self) -> bool {
        self.groups.iter().all(|g| {
            g.items.is_empty()
                && g.overdue.is_empty()
                && g.risks.is_empty()
                && g.resolved.is_empty()
                && g.actions.is_empty()
                && g.warnings.is_empty()
        })
    }

    /// The periods its KPI items (and resolved KPIs) are for, in order ("risk log" when it
    /// has none).
    pub fn periods(&self) -> String {
        let mut p: Vec<_> = self
            .groups
            .iter()
            .flat_map(|g| g.items.iter().chain(g.resolved.iter()).map(|e| e.period))
            .collect();
        p.sort();
        p.dedup();
        let warned_only = self
            .groups
            .iter()
            .all(|g| g.risks.is_empty() && g.actions.is_empty() && g.overdue.is_empty())
            && self.groups.iter().any(|g| !g.warnings.is_empty());
        if p.is_empty() && warned_only {
            "early warning".into()
        } else if p.is_empty() {
            "risk log".into()
        } else {
            p.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(",")
        }
    }

    /// What marks it in the outbox: a hash of the recipient, sub-groups, period and each
    /// item's (kind, id, period, state); and its topic, recipient and period. A KPI whose
    /// source failed this run (`from_last_good`: its figures are the last good load's) is in
    /// a state of its own, so the warning is news.
    pub fn key(&self, from_last_good: impl Fn(&Evaluation) -> bool) -> crate::news::NewsKey {
        let mut lines = Vec::new();
        for g in &self.groups {
            for e in &g.items {
                // A manual KPI's missing value is keyed by its chase's line alone: told once
                // per stage, never on the repeat interval.
                if chase::value_missing(e) && g.overdue.iter().any(|o| o.kpi_id == e.kpi_id) {
                    continue;
                }
                let last_good = if from_last_good(e) {
                    " (last good load)"
                } else {
                    ""
                };
                lines.push(format!(
                    "{}|kpi|{}|{}|{}{last_good}",
                    g.sub_group,
                    e.kpi_id,
                    e.period,
                    e.rag.as_str()
                ));
            }
            for o in &g.overdue {
                // The chase's stage is the state: each stage is news once.
                lines.push(chase::line(&g.sub_group, o));
            }
            for e in &g.resolved {
                lines.push(format!(
                    "{}|resolved|{}|{}|{}",
                    g.sub_group,
                    e.kpi_id,
                    e.period,
                    e.rag.as_str()
                ));
            }
            for a in &g.actions {
                lines.push(format!(
                    "{}|action|{}|{}|{}",
                    g.sub_group, a.reference, a.due, a.why
                ));
            }
            // The milestone and the band, not the report period: the same warning next month
            // is not news ([`crate::news::decide`] never repeats one once told).
            for w in &g.warnings {
                lines.push(format!(
                    "{}|at_risk|{}|{}|{}",
                    g.sub_group,
                    w.kpi_id,
                    w.milestone,
                    w.band().as_str()
                ));
            }
            for c in &g.risks {
                lines.push(format!(
                    "{}|risk|{}|{}|{} {}",
                    g.sub_group,
                    c.risk_id,
                    c.at.to_rfc3339(),
                    c.kind.as_str(),
                    c.to.text()
                ));
            }
        }
        let recipient = self.recipient.to_ascii_lowercase();
        crate::news::NewsKey::new(format!("{recipient}|{}", self.periods()), lines)
    }
}

#[cfg(test)]
mod tests;
