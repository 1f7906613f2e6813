//! The action log as data: every action and sub-action of the plan, `[actions."1.2.1"]`, and
//! `[action_log]`.
//!
//! Owns: the [`Actions`] type, the shipped Sefton log's reading for tests ([`builtin`], from
//! `config/plans/sefton/`; a deployment's plan is laid by [`crate::config`]), reference order
//! (1.2 before 1.10), and the pure check that the log makes sense, naming the key at fault
//! (`actions."1.2.1".owner`). Must not: know a particular action.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::{Deref, DerefMut};

use serde::Deserialize;

use super::{ActionLogSettings, ActionSettings};

/// Every action by its plan reference ("1.2.1").
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Actions(pub BTreeMap<String, ActionSettings>);

impl Deref for Actions {
    type Target = BTreeMap<String, ActionSettings>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Actions {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

/// Order references as the plan does: 1.2.1 before 1.10, 2 before 2.1.
pub fn reference_order(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| -> Vec<u64> { s.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parts(a).cmp(&parts(b)).then_with(|| a.cmp(b))
}

/// A reference is numbers joined by dots: "5", "1.4", "1.4.2".
pub fn is_reference(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 16
        && s.split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

impl Actions {
    /// The actions in the plan's order.
    pub fn ordered(&self) -> Vec<(&str, &ActionSettings)> {
        let mut v: Vec<(&str, &ActionSettings)> =
            self.iter().map(|(r, a)| (r.as_str(), a)).collect();
        v.sort_by(|a, b| reference_order(a.0, b.0));
        v
    }

    /// Check `[action_log]` and every action; pure. `sub_groups` are the `[sub_groups]` keys;
    /// `bad(key, message)` for each problem.
    pub fn check(
        &self,
        log: &ActionLogSettings,
        sub_groups: &BTreeSet<&str>,
        bad: &mut dyn FnMut(String, String),
    ) {
        log.check(bad);
        let mut seen = BTreeSet::new();
        for (i, m) in log.meetings.iter().enumerate() {
            if !seen.insert(*m) {
                bad(
                    format!("action_log.meetings[{i}]"),
                    format!("{m} is given twice"),
                );
            }
        }
        for (reference, a) in self.iter() {
            let key = format!("actions.\"{reference}\"");
            if !is_reference(reference) {
                bad(
                    key.clone(),
                    "a reference is numbers joined by dots, e.g. 1.2.1".into(),
                );
            }
            if a.title.trim().is_empty() {
                bad(format!("{key}.title"), "must not be empty".into());
            }
            if a.contact.trim().is_empty() {
                bad(
                    format!("{key}.contact"),
                    "name the contact as the plan gives it (a role or a body)".into(),
                );
            }
            if !sub_groups.contains(a.owner.as_str()) {
                bad(
                    format!("{key}.owner"),
                    format!("no sub-group named `{}`", a.owner),
                );
            }
        }
    }
}

/// The shipped (Sefton) log alone, read from the source tree ([`crate::config::plan::shipped`]:
/// tests, and a check that it parses; nothing of it is compiled in). Read through the `config`
/// crate, as the layers are, so a reference's dots survive.
pub fn builtin() -> Result<(Actions, ActionLogSettings), config::ConfigError> {
    #[derive(Deserialize)]
    struct File {
        action_log: ActionLogSettings,
        actions: Actions,
    }
    let f: File = crate::config::plan::shipped("actions.toml")?.try_deserialize()?;
    Ok((f.actions, f.action_log))
}

#[cfg(test)]
mod tests {
    use crate::config::{Settings, Sources};

    #[test]
    fn the_log_is_a_layer_whose_dotted_references_a_deployment_amends_key_by_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("override.toml");
        std::fs::write(
            &path,
            format!(
                "base = {:?}\n[action_log]\nmeetings = [2020-02-11]\n\n[actions.\"1.3\"]\ndue = 2020-09-30\n",
                crate::config::plan::example_file().display().to_string()
            ),
        )
        .expect("write");
        let s = Settings::load_unchecked(&Sources {
            file: Some(path),
            env: false,
        })
        .expect("loads");
        s.validate().expect("valid");
        let refs: Vec<&str> = s.actions.ordered().iter().map(|(r, _)| *r).collect();
        assert_eq!(refs.first(), Some(&"1.1"), "{refs:?}");
        assert!(
            refs.contains(&"1.2.1") && refs.contains(&"1.4.2"),
            "{refs:?}"
        );
        let a = &s.actions["1.3"];
        assert_eq!(a.due.to_string(), "2020-09-30");
        assert_eq!(
            a.owner, "performance",
            "untouched keys keep the log's value"
        );
        assert_eq!(s.action_log.update_days, 30);
        assert_eq!(s.action_log.meetings.len(), 1);
    }

    #[test]
    fn an_unknown_owner_is_named_by_its_key() {
        let mut s = Settings::load_unchecked(&Sources {
            file: Some(crate::config::plan::example_file()),
            env: false,
        })
        .expect("example");
        if let Some(a) = s.actions.get_mut("1.2.1") {
            a.owner = "nobody".into();
        }
        let err = s.validate().expect_err("invalid").to_string();
        assert!(
            err.contains("actions.\"1.2.1\".owner: no sub-group named `nobody`"),
            "{err}"
        );
    }
}
