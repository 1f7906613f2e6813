//! Grouping: one digest per sub-group, holding the KPIs that slipped (Red or no data), the
//! KPIs entered by hand whose values are overdue, and the risk changes it hears of: those of
//! the risks it owns, and as the log's holder all of them.

use std::collections::BTreeMap;

use super::SubGroup;
use crate::kpi::Evaluation;
use crate::kpi::manual::Overdue;
use crate::risk::RiskChange;
use crate::store::LoadRecord;

/// Where a source's figures came from, and whether this run's fetch of it failed.
#[derive(Debug, Clone)]
pub struct SourceNote {
    pub source: String,
    /// The load the figures were computed from (none if no extract was ever accepted).
    pub load: Option<LoadRecord>,
    /// This run's fetch or validation error, when the figures are therefore from an older load.
    pub latest_error: Option<String>,
}

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
        .filter(|e| e.rag.is_exception() && !said_overdue(e))
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
            })
        })
        .collect()
}
