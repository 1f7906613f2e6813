//! What awaits approval (issue 22): answers entered by a digest's link that no approver has
//! approved or rejected yet. They never count as figures, but the board pack and the board's
//! digest say they are there, so the board knows what is still to come.
//!
//! Owns: [`Pending`], the one view model of them, read by the pack and the digest. It says of
//! each draft its kind, its KPI or action, its period and its sub-group only: never what was
//! typed (free text) nor a draft value (an unapproved figure). Pure.

use std::collections::BTreeMap;

use serde::Serialize;

use super::plural;
use crate::action::Actions;
use crate::answer::Ask;
use crate::kpi::{Catalogue, Period};
use crate::store::StoredAnswer;

/// What awaits approval, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pending {
    /// "Awaiting approval: 2 answers".
    pub heading: String,
    /// One line a draft: "commentary on KPI 1/2a for June 2021, from the X Sub Group".
    pub items: Vec<String>,
}

/// What the area's `answers` (any state; only drafts are kept) await, or `None` when no
/// draft does. `owners` maps a sub-group key to its name.
pub fn pending(
    answers: &[StoredAnswer],
    kpis: &Catalogue,
    actions: &Actions,
    owners: &BTreeMap<String, String>,
) -> Option<Pending> {
    let items: Vec<String> = answers
        .iter()
        .filter(|a| a.state == "draft")
        .filter_map(|a| line(&a.ask, kpis, actions, owners))
        .collect();
    if items.is_empty() {
        return None;
    }
    let n = items.len();
    Some(Pending {
        heading: format!("Awaiting approval: {n} answer{}", plural(n)),
        items,
    })
}

/// One draft in words; `None` for an approval (never stored as an answer).
fn line(
    ask: &Ask,
    kpis: &Catalogue,
    actions: &Actions,
    owners: &BTreeMap<String, String>,
) -> Option<String> {
    let group = |key: Option<&String>| {
        key.map(|k| owners.get(k).unwrap_or(k))
            .map_or_else(String::new, |name| format!(", from the {name}"))
    };
    // A period as every output names it ("June 2021", "Jul-Sep 2026").
    let when = |p: &str| {
        p.parse::<Period>()
            .map_or_else(|_| p.to_string(), Period::label)
    };
    Some(match ask {
        Ask::Commentary { kpi, period } => format!(
            "commentary on KPI {kpi} for {}{}",
            when(period),
            group(kpis.get(kpi).map(|k| &k.owner))
        ),
        Ask::Value { kpi, period } => format!(
            "a value for KPI {kpi} for {}{}",
            when(period),
            group(kpis.get(kpi).map(|k| &k.owner))
        ),
        Ask::Action { reference } => format!(
            "progress on action {reference}{}",
            group(actions.0.get(reference).map(|a| &a.owner))
        ),
        Ask::Approve { .. } => return None,
    })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::answer::entry::Fields;

    fn draft(ask: Ask, state: &str, fields: &[(&str, &str)]) -> StoredAnswer {
        StoredAnswer {
            id: 1,
            ask,
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Fields>(),
            entered_by: "owner@example.org".into(),
            entered_at: Utc::now(),
            entered_from: "127.0.0.1".into(),
            state: state.into(),
            decided_by: None,
            decided_at: None,
            decided_via: None,
        }
    }

    #[test]
    fn says_kind_item_period_and_sub_group_never_what_was_typed() {
        let owners = BTreeMap::from([("assess".to_string(), "Assessment Sub Group".to_string())]);
        let answers = [
            draft(
                Ask::Commentary {
                    kpi: "1/2a".into(),
                    period: "2026-Q3".into(),
                },
                "draft",
                &[("reason", "TYPED REASON")],
            ),
            draft(
                Ask::Value {
                    kpi: "1/4".into(),
                    period: "2021-06".into(),
                },
                "draft",
                &[("value", "987.6")],
            ),
            draft(
                Ask::Action {
                    reference: "9.9".into(),
                },
                "approved",
                &[],
            ),
        ];
        let p = pending(
            &answers,
            &Catalogue::default(),
            &Actions::default(),
            &owners,
        )
        .expect("two drafts");
        assert_eq!(p.heading, "Awaiting approval: 2 answers");
        assert_eq!(
            p.items,
            [
                "commentary on KPI 1/2a for Jul-Sep 2026",
                "a value for KPI 1/4 for June 2021"
            ]
        );
        let all = format!("{p:?}");
        assert!(!all.contains("TYPED") && !all.contains("987"), "{all}");
        assert_eq!(
            pending(
                &answers[2..],
                &Catalogue::default(),
                &Actions::default(),
                &owners
            ),
            None
        );
    }
}
