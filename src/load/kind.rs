//! Extract kinds as data: a kind's columns with their types, its key, and its row rules.
//!
//! Owns: the definition types and the pure check that a definition makes sense. The shipped
//! kinds (tracker, reviews, provider, and the SEN2 return's two) are in `config/kinds.toml`, the first configuration
//! layer; a deployment may add its own. Nothing here reads a file or knows a particular kind.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::Deserialize;

/// The shipped kinds; laid under every configuration by [`crate::config`].
pub const BUILTIN: &str = include_str!("../../config/kinds.toml");

/// EHC plans began with the Children and Families Act 2014 on 1 September 2014.
pub const EHCP_START: NaiveDate = match NaiveDate::from_ymd_opt(2014, 9, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// Free text longer than this is refused unless a column says otherwise.
pub const DEFAULT_MAX_LEN: usize = 100;

/// A column's `max_len`: a row is at most 64 MiB, and no field wants a million characters.
pub const MAX_LEN: crate::bounds::Bound<usize> =
    crate::bounds::Bound::new(1, 1 << 20, "a million characters");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColType {
    Text,
    Integer,
    Decimal,
    Date,
    Flag,
    Enum,
    /// A reporting month, `YYYY-MM`.
    Month,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnDef {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ColType,
    #[serde(default)]
    pub required: bool,
    /// Text: longest value in characters, 1 to 1048576 ([`MAX_LEN`]).
    pub max_len: Option<usize>,
    /// Enum: the allowed values, exactly.
    pub values: Option<Vec<String>>,
    /// Integer and decimal bounds.
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Date: earliest allowed (default [`EHCP_START`]).
    pub earliest: Option<NaiveDate>,
    /// Date: may fall after the fetch date (a due date).
    #[serde(default)]
    pub future: bool,
    /// Date: counts towards the extract's "data as of" date.
    #[serde(default)]
    pub event: bool,
}

impl ColumnDef {
    pub fn max_len(&self) -> usize {
        self.max_len.unwrap_or(DEFAULT_MAX_LEN)
    }
    pub fn earliest(&self) -> NaiveDate {
        self.earliest.unwrap_or(EHCP_START)
    }
}

/// A check across the cells of one row.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "rule", rename_all = "lowercase", deny_unknown_fields)]
pub enum RowRule {
    /// `later` is not before `earlier` when both are given.
    Order { earlier: String, later: String },
    /// `column` given means `needs` is given.
    Requires { column: String, needs: String },
    /// `column` is one of `values` exactly when `present` is given.
    When {
        column: String,
        values: Vec<String>,
        present: String,
    },
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindDef {
    pub title: String,
    pub key: Vec<String>,
    pub columns: Vec<ColumnDef>,
    #[serde(default)]
    pub rules: Vec<RowRule>,
}

/// A rule with its columns resolved to positions in [`KindDef::columns`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    Order {
        earlier: usize,
        later: usize,
    },
    Requires {
        column: usize,
        needs: usize,
    },
    When {
        column: usize,
        values: Vec<String>,
        present: usize,
    },
}

impl KindDef {
    pub fn position(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == column)
    }

    /// Positions of the key columns (checked by [`KindDef::check`]).
    pub fn key_positions(&self) -> Vec<usize> {
        self.key.iter().filter_map(|k| self.position(k)).collect()
    }

    /// The rules with column names resolved (unresolvable rules are dropped; `check` names them).
    pub fn resolved_rules(&self) -> Vec<Rule> {
        self.rules
            .iter()
            .filter_map(|r| {
                Some(match r {
                    RowRule::Order { earlier, later } => Rule::Order {
                        earlier: self.position(earlier)?,
                        later: self.position(later)?,
                    },
                    RowRule::Requires { column, needs } => Rule::Requires {
                        column: self.position(column)?,
                        needs: self.position(needs)?,
                    },
                    RowRule::When {
                        column,
                        values,
                        present,
                    } => Rule::When {
                        column: self.position(column)?,
                        values: values.clone(),
                        present: self.position(present)?,
                    },
                })
            })
            .collect()
    }

    /// A fingerprint of the definition, so a stored table can be matched to the kind it was
    /// made from.
    pub fn columns_signature(&self) -> String {
        self.columns
            .iter()
            .map(|c| format!("{}:{:?}", c.name, c.ty))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Check the definition; pure. `bad(key_suffix, message)` is called for each problem.
    pub fn check(&self, bad: &mut dyn FnMut(String, String)) {
        if self.columns.is_empty() {
            bad("columns".into(), "a kind needs at least one column".into());
        }
        let mut seen = BTreeSet::new();
        for (i, c) in self.columns.iter().enumerate() {
            let key = format!("columns[{i}]");
            if !is_identifier(&c.name) {
                bad(
                    format!("{key}.name"),
                    "column names use a-z, 0-9 and '_' only, starting with a letter".into(),
                );
            }
            if c.name == "line" {
                bad(format!("{key}.name"), "`line` is reserved".into());
            }
            if !seen.insert(c.name.as_str()) {
                bad(format!("{key}.name"), format!("`{}` repeats", c.name));
            }
            match c.ty {
                ColType::Enum if c.values.as_ref().is_none_or(Vec::is_empty) => {
                    bad(format!("{key}.values"), "an enum needs its values".into())
                }
                ColType::Enum => {}
                _ if c.values.is_some() => {
                    bad(format!("{key}.values"), "only an enum has values".into())
                }
                _ => {}
            }
            MAX_LEN.check_opt(bad, format!("{key}.max_len"), c.max_len);
            for (name, v) in [("min", c.min), ("max", c.max)] {
                if v.is_some_and(|v| !v.is_finite()) {
                    bad(format!("{key}.{name}"), "must be a number".into());
                }
            }
            if let (Some(lo), Some(hi)) = (c.min, c.max)
                && lo > hi
            {
                bad(format!("{key}.min"), "min is above max".into());
            }
        }
        if self.key.is_empty() {
            bad("key".into(), "a kind needs at least one key column".into());
        }
        for k in &self.key {
            match self.position(k) {
                None => bad("key".into(), format!("no column named `{k}`")),
                Some(p) if !self.columns[p].required => {
                    bad("key".into(), format!("key column `{k}` must be required"))
                }
                Some(_) => {}
            }
        }
        for (i, r) in self.rules.iter().enumerate() {
            let key = format!("rules[{i}]");
            let names: Vec<&String> = match r {
                RowRule::Order { earlier, later } => vec![earlier, later],
                RowRule::Requires { column, needs } => vec![column, needs],
                RowRule::When {
                    column, present, ..
                } => vec![column, present],
            };
            for n in names {
                if self.position(n).is_none() {
                    bad(key.clone(), format!("no column named `{n}`"));
                }
            }
            if let RowRule::Order { earlier, later } = r {
                for n in [earlier, later] {
                    if let Some(p) = self.position(n)
                        && self.columns[p].ty != ColType::Date
                    {
                        bad(key.clone(), format!("`{n}` is not a date column"));
                    }
                }
            }
        }
    }
}

/// Names that are safe as SQL identifiers without quoting tricks.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 48
}

/// The shipped kinds, parsed (for tests and tools that run without a configuration).
pub fn builtin_kinds() -> Result<BTreeMap<String, KindDef>, config::ConfigError> {
    #[derive(Deserialize)]
    struct File {
        kinds: BTreeMap<String, KindDef>,
    }
    let file: File = config::Config::builder()
        .add_source(config::File::from_str(BUILTIN, config::FileFormat::Toml))
        .build()?
        .try_deserialize()?;
    Ok(file.kinds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_kinds_are_sound() {
        let kinds = builtin_kinds().expect("kinds.toml parses");
        assert_eq!(
            kinds.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "provider",
                "reviews",
                "sen2_active_plans",
                "sen2_requests",
                "tracker"
            ]
        );
        for (name, k) in &kinds {
            let mut issues = Vec::new();
            k.check(&mut |key, msg| issues.push(format!("{key}: {msg}")));
            assert!(issues.is_empty(), "{name}: {issues:?}");
            assert_eq!(k.resolved_rules().len(), k.rules.len(), "{name}");
        }
        assert_eq!(kinds["tracker"].columns.len(), 13);
    }

    #[test]
    fn a_broken_kind_is_named_by_key() {
        let mut k = builtin_kinds().expect("parses")["tracker"].clone();
        k.key = vec!["nope".into()];
        k.columns[7].values = None;
        k.rules.push(RowRule::Order {
            earlier: "status".into(),
            later: "case_id".into(),
        });
        let mut issues = Vec::new();
        k.check(&mut |key, msg| issues.push(format!("{key}: {msg}")));
        let text = issues.join("\n");
        assert!(text.contains("key: no column named `nope`"), "{text}");
        assert!(text.contains("columns[7].values"), "{text}");
        assert!(text.contains("is not a date column"), "{text}");
    }
}
