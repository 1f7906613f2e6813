//! The risk register: every risk of the log as data, `[risks.ID]`, and `[risk_log]`.
//!
//! Owns: the [`Register`] type, the shipped Sefton register's reading for tests
//! ([`builtin`], from `config/plans/sefton/risks.toml`; a deployment's plan is laid by
//! [`crate::config`]), and the pure check that it makes sense,
//! naming the key at fault (`risks.R2.triggers[1].kpi`). Must not: read files (the layering
//! is `config`'s) or know a particular risk.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::{Deref, DerefMut};

use serde::Deserialize;

use super::{Condition, Contact, Figure, RiskLogSettings, RiskSettings, TriggerSettings};

/// Every risk by id ("R2").
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Register(pub BTreeMap<String, RiskSettings>);

impl Deref for Register {
    type Target = BTreeMap<String, RiskSettings>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Register {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

/// What the rest of the configuration offers a risk to refer to.
#[derive(Debug, Default)]
pub struct Known<'a> {
    /// `[sub_groups]` keys.
    pub sub_groups: BTreeSet<&'a str>,
    /// KPI ids, each with whether it is computed (has a measure, so an `overdue_open`).
    pub kpis: BTreeMap<&'a str, bool>,
    /// `[sources]` keys, each with whether it has a cadence (so can be stale).
    pub sources: BTreeMap<&'a str, bool>,
}

/// Order risk ids as people do: R2 before R10.
pub fn id_order(a: &str, b: &str) -> std::cmp::Ordering {
    let split = |s: &str| {
        let digits = s.len() - s.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        let (head, tail) = s.split_at(s.len() - digits);
        (
            head.to_string(),
            tail.parse::<u64>().unwrap_or(0),
            s.to_string(),
        )
    };
    split(a).cmp(&split(b))
}

impl Register {
    /// The risks in id order (R1, R2, ..., R10).
    pub fn ordered(&self) -> Vec<(&str, &RiskSettings)> {
        let mut v: Vec<(&str, &RiskSettings)> =
            self.iter().map(|(id, r)| (id.as_str(), r)).collect();
        v.sort_by(|a, b| id_order(a.0, b.0));
        v
    }

    /// Check the log's settings and every risk; pure. `bad(key, message)` for each problem.
    pub fn check(
        &self,
        log: &RiskLogSettings,
        known: &Known<'_>,
        bad: &mut dyn FnMut(String, String),
    ) {
        check_log(log, known, bad);
        for (id, r) in self.iter() {
            check_risk(&format!("risks.{id}"), id, r, known, bad);
        }
    }
}

fn check_log(log: &RiskLogSettings, known: &Known<'_>, bad: &mut dyn FnMut(String, String)) {
    if !known.sub_groups.contains(log.holder.as_str()) {
        bad(
            "risk_log.holder".into(),
            format!("no sub-group named `{}`", log.holder),
        );
    }
    if log.bands.is_empty() {
        bad("risk_log.bands".into(), "needs at least one band".into());
    }
    let mut names = BTreeSet::new();
    for (i, b) in log.bands.iter().enumerate() {
        let key = format!("risk_log.bands[{i}]");
        if b.name.trim().is_empty() {
            bad(format!("{key}.name"), "must not be empty".into());
        } else if !names.insert(b.name.as_str()) {
            bad(
                format!("{key}.name"),
                format!("`{}` is given twice", b.name),
            );
        }
        if !(1..=25).contains(&b.from) {
            bad(
                format!("{key}.from"),
                "a score is 1 to 25 (likelihood x impact)".into(),
            );
        } else if i == 0 && b.from != 1 {
            bad(
                format!("{key}.from"),
                "the first band must start at 1, so that every score has a band".into(),
            );
        }
        if i > 0 && log.bands[i - 1].from >= b.from {
            bad(
                format!("{key}.from"),
                "bands must be in score order, each starting above the last".into(),
            );
        }
    }
}

fn level_ok(n: i64) -> bool {
    (1..=5).contains(&n)
}

/// Check one risk: its id, title, owner, contact, levels, mitigation and triggers.
fn check_risk(
    key: &str,
    id: &str,
    r: &RiskSettings,
    known: &Known<'_>,
    bad: &mut dyn FnMut(String, String),
) {
    if id.trim().is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        bad(
            key.into(),
            "risk ids use letters, digits and '_' only".into(),
        );
    }
    if r.title.trim().is_empty() {
        bad(format!("{key}.title"), "must not be empty".into());
    }
    if !known.sub_groups.contains(r.owner.as_str()) {
        bad(
            format!("{key}.owner"),
            format!("no sub-group named `{}`", r.owner),
        );
    }
    if let Some(c) = &r.contact {
        check_contact(key, c, bad);
    }
    for (name, n) in [("likelihood", r.likelihood), ("impact", r.impact)] {
        if !level_ok(n) {
            bad(format!("{key}.{name}"), "must be 1 to 5".into());
        }
    }
    if r.mitigation.trim().is_empty() {
        bad(
            format!("{key}.mitigation"),
            "say what mitigates it (or that the seeds record nothing)".into(),
        );
    }
    for (i, t) in r.triggers.iter().enumerate() {
        check_trigger(&format!("{key}.triggers[{i}]"), r, t, known, bad);
    }
}

/// Check a risk's contact: a name, and an email address that parses.
fn check_contact(key: &str, c: &Contact, bad: &mut dyn FnMut(String, String)) {
    if c.name.trim().is_empty() {
        bad(format!("{key}.contact.name"), "must not be empty".into());
    }
    if let Some(e) = &c.email
        && e.parse::<lettre::message::Mailbox>().is_err()
    {
        bad(
            format!("{key}.contact.email"),
            format!("`{e}` is not an email address"),
        );
    }
}

/// Check one trigger of risk `r`: its condition names what exists, its levels are 1 to 5, and
/// it raises the risk's score.
fn check_trigger(
    tkey: &str,
    r: &RiskSettings,
    t: &TriggerSettings,
    known: &Known<'_>,
    bad: &mut dyn FnMut(String, String),
) {
    check_condition(tkey, t, known, bad);
    for (name, n) in [("likelihood", t.likelihood), ("impact", t.impact)] {
        if let Some(n) = n
            && !level_ok(n)
        {
            bad(format!("{tkey}.{name}"), "must be 1 to 5".into());
        }
    }
    if t.likelihood.is_none() && t.impact.is_none() {
        bad(
            tkey.into(),
            "give the likelihood and/or impact the trigger raises the risk to".into(),
        );
    } else if level_ok(r.likelihood) && level_ok(r.impact) {
        let register = r.level();
        let raised = t.level(register);
        if raised.likelihood < register.likelihood || raised.impact < register.impact {
            bad(
                tkey.into(),
                "a trigger raises a risk: its likelihood and impact must not be below the \
                 register's"
                    .into(),
            );
        } else if raised.score() <= register.score() {
            bad(
                tkey.into(),
                format!(
                    "raises nothing: the score would stay {} (the register's)",
                    register.score()
                ),
            );
        }
    }
}

/// Check what a trigger watches: the KPI (and figure) or the source it names exists and can
/// give it.
fn check_condition(
    tkey: &str,
    t: &TriggerSettings,
    known: &Known<'_>,
    bad: &mut dyn FnMut(String, String),
) {
    match t.condition() {
        Err(e) => bad(tkey.into(), e),
        Ok(Condition::Rated { kpi, .. }) => check_kpi(tkey, &kpi, None, known, bad),
        Ok(Condition::Figure { kpi, figure, .. }) => {
            check_kpi(tkey, &kpi, Some(figure), known, bad)
        }
        Ok(Condition::Stale { source }) => match known.sources.get(source.as_str()) {
            None => bad(
                format!("{tkey}.source"),
                format!("no source named `{source}`"),
            ),
            Some(false) => bad(
                format!("{tkey}.source"),
                format!(
                    "source `{source}` has no cadence, so it is never stale: give it one \
                     in [sources.{source}]"
                ),
            ),
            Some(true) => {}
        },
    }
}

fn check_kpi(
    tkey: &str,
    kpi: &str,
    figure: Option<Figure>,
    known: &Known<'_>,
    bad: &mut dyn FnMut(String, String),
) {
    match known.kpis.get(kpi) {
        None => bad(format!("{tkey}.kpi"), format!("no KPI named `{kpi}`")),
        Some(false) if figure == Some(Figure::OverdueOpen) => bad(
            format!("{tkey}.figure"),
            format!(
                "KPI `{kpi}` is entered by hand: only a computed KPI counts cases still open \
                 past its limit"
            ),
        ),
        Some(_) => {}
    }
}

/// The shipped (Sefton) register and log settings, read from the source tree
/// ([`crate::config::plan::shipped`]: for tests, which run from a checkout; nothing of it is
/// compiled in).
pub fn builtin() -> Result<(Register, RiskLogSettings), config::ConfigError> {
    #[derive(Deserialize)]
    struct File {
        risks: Register,
        risk_log: RiskLogSettings,
    }
    let file: File = crate::config::plan::shipped("risks.toml")?.try_deserialize()?;
    Ok((file.risks, file.risk_log))
}

#[cfg(test)]
mod tests;
