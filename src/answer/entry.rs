//! What an answer holds and how it becomes an entry: the form's fields as typed, turned into
//! the same draft `sendwatch comment`, `kpi set` and `action set` make, and checked by the same
//! rules (when entered, and again when approved, against the catalogue then in force).
//!
//! Owns: [`Fields`], [`Entry`], [`check`]. Pure: takes the plan and `now`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::Ask;
use crate::action::{self, Actions};
use crate::kpi::Catalogue;
use crate::kpi::commentary::{self, Commentary};
use crate::kpi::manual::{self, ManualValue};

/// The form's fields as typed (name to text), as stored with a draft.
pub type Fields = BTreeMap<String, String>;

/// The fields each kind of form has, in the order shown.
pub fn field_names(ask: &Ask) -> &'static [&'static str] {
    match ask {
        Ask::Commentary { .. } => &["reason", "actions", "revised_date", "next_update"],
        Ask::Value { .. } => &["value", "numerator", "denominator", "note"],
        Ask::Action { .. } => &["status", "note", "evidence", "next_steps"],
        Ask::Approve { .. } => &[],
    }
}

/// A checked answer, ready to store as its kind's entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Commentary(Commentary),
    Value(ManualValue),
    Action(action::Update),
}

/// One refused field and why (the words never repeat what was typed).
pub type Refusals = Vec<(String, String)>;

fn text(f: &Fields, name: &str) -> String {
    f.get(name)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn optional(f: &Fields, name: &str) -> Option<String> {
    Some(text(f, name)).filter(|s| !s.is_empty())
}

/// Check `fields` answering `ask` as from `by` at `now`, by the CLI's own rules.
pub fn check(
    ask: &Ask,
    fields: &Fields,
    by: &str,
    catalogue: &Catalogue,
    actions: &Actions,
    now: DateTime<Utc>,
) -> Result<Entry, Refusals> {
    let today = now.date_naive();
    match ask {
        Ask::Commentary { kpi, period } => {
            let d = commentary::Draft {
                kpi: kpi.clone(),
                period: period.clone(),
                reason: text(fields, "reason"),
                actions: text(fields, "actions"),
                revised_date: optional(fields, "revised_date"),
                next_update: optional(fields, "next_update"),
                author: by.to_string(),
            };
            commentary::check(catalogue, &d, today, now)
                .map(Entry::Commentary)
                .map_err(|bad| {
                    bad.into_iter()
                        .map(|r| (r.column.to_string(), r.message))
                        .collect()
                })
        }
        Ask::Value { kpi, period } => {
            let mut bad = Refusals::new();
            let value = match text(fields, "value").parse::<f64>() {
                Ok(v) if v.is_finite() => v,
                _ => {
                    bad.push(("value".into(), "write a number".into()));
                    0.0
                }
            };
            let mut count = |name: &str| {
                let s = text(fields, name);
                if s.is_empty() {
                    return None;
                }
                let n = s.parse::<i64>().ok();
                if n.is_none() {
                    bad.push((
                        name.into(),
                        "write a whole number, or leave it empty".into(),
                    ));
                }
                n
            };
            let numerator = count("numerator");
            let denominator = count("denominator");
            let d = manual::Draft {
                kpi: kpi.clone(),
                period: period.clone(),
                value,
                numerator,
                denominator,
                note: optional(fields, "note"),
                by: by.to_string(),
            };
            match manual::check(catalogue, &d, today) {
                Ok(v) if bad.is_empty() => Ok(Entry::Value(v)),
                Ok(_) => Err(bad),
                Err(more) => {
                    bad.extend(
                        more.into_iter()
                            .map(|r| (r.field.as_str().to_string(), r.message)),
                    );
                    Err(bad)
                }
            }
        }
        Ask::Action { reference } => {
            let d = action::Draft {
                reference: reference.clone(),
                status: text(fields, "status"),
                note: text(fields, "note"),
                evidence: optional(fields, "evidence"),
                next_steps: optional(fields, "next_steps"),
                author: by.to_string(),
            };
            action::update::check(actions, &d)
                .map(Entry::Action)
                .map_err(|bad| {
                    bad.into_iter()
                        .map(|r| (r.column.to_string(), r.message))
                        .collect()
                })
        }
        Ask::Approve { .. } => Err(vec![(
            "link".into(),
            "this link approves, it does not answer".into(),
        )]),
    }
}

/// Keep only the fields `ask`'s form has, each at most `max` characters (a longer one is
/// refused by the check's own length rule, so it is cut only to bound what is held).
pub fn fields_of(
    ask: &Ask,
    given: impl IntoIterator<Item = (String, String)>,
    max: usize,
) -> Fields {
    let names = field_names(ask);
    given
        .into_iter()
        .filter(|(k, _)| names.contains(&k.as_str()))
        .map(|(k, v)| (k, v.chars().take(max).collect()))
        .collect()
}
