//! Grouping: one digest per sub-group, holding only the KPIs that slipped (Red or no data).

use std::collections::BTreeMap;

use super::SubGroup;
use crate::kpi::Evaluation;
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

/// One email's worth: a sub-group, its owners, and its slipped KPIs.
#[derive(Debug, Clone)]
pub struct Digest<'a> {
    pub sub_group: String,
    pub sub_group_name: String,
    pub recipients: Vec<String>,
    pub items: Vec<&'a Evaluation>,
}

/// Group the exceptions among `evaluations` by owning sub-group, in sub-group key order.
pub fn group_exceptions<'a>(
    sub_groups: &BTreeMap<String, SubGroup>,
    evaluations: &'a [Evaluation],
) -> Vec<Digest<'a>> {
    let mut by_owner: BTreeMap<&str, Vec<&Evaluation>> = BTreeMap::new();
    for e in evaluations.iter().filter(|e| e.rag.is_exception()) {
        by_owner.entry(e.owner.as_str()).or_default().push(e);
    }
    by_owner
        .into_iter()
        .filter_map(|(key, items)| {
            let group = sub_groups.get(key)?;
            Some(Digest {
                sub_group: key.to_string(),
                sub_group_name: group.name.clone(),
                recipients: group.owners.clone(),
                items,
            })
        })
        .collect()
}
