//! [`Settings::validate`]: every section's check, gathered. Pure (no I/O); every issue is
//! collected, naming its key, rather than stopping at the first.
//!
//! Owns: what one section may name of another (a source's kind, a KPI's owner, a job's
//! sources), gathered for each stage's own check. Must not: check a stage's own keys (that is
//! the stage's `check`).

use super::{ConfigError, Issue, Settings, valid_name};

/// Where a check reports an issue: (key, message).
type Bad<'a> = dyn FnMut(String, String) + 'a;

impl Settings {
    /// Check every key; pure (no I/O). Collects all issues rather than stopping at the first.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut issues = Vec::new();
        // A kind's and a source's reading settings are said after everything else.
        let mut issues_kind = Vec::new();
        {
            let mut bad = |key: String, message: String| issues.push(Issue::new(key, message));
            self.check_singletons(&mut bad);
            self.check_kinds(&mut issues_kind, &mut bad);
            self.check_sources(&mut issues_kind, &mut bad);
            self.check_sub_groups(&mut bad);
            self.check_plan(&mut bad);
            self.check_jobs(&mut bad);
            self.ledger.check(&mut bad);
            self.admin.check(&mut bad);
            self.http.check(&mut bad);
            self.daemon.check(&mut bad);
        }
        issues.extend(issues_kind);
        if issues.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(issues))
        }
    }

    /// The sections that name nothing else.
    fn check_singletons(&self, bad: &mut Bad<'_>) {
        if let Some(id) = &self.general.id
            && !super::areas::valid_id(id)
        {
            bad(
                "general.id".into(),
                format!("`{id}` is not an area id: {}", super::areas::ID_RULE),
            );
        }
        if self.general.id.is_none() && !super::areas::valid_id(&self.area_id().0) {
            bad(
                "general.area".into(),
                format!(
                    "no id can be made from `{}`: give `general.id` ({})",
                    self.general.area,
                    super::areas::ID_RULE
                ),
            );
        }
        if self.general.time_zone.parse::<chrono_tz::Tz>().is_err() {
            bad(
                "general.time_zone".into(),
                format!("`{}` is not an IANA time zone", self.general.time_zone),
            );
        }
        self.store.check(bad);
        self.disclosure.check(bad);
        self.delivery.check(bad);
        self.rag.check(bad);
        self.kpi_defaults.check(bad);
        self.stats.check(bad);
    }

    fn check_kinds(&self, issues_kind: &mut Vec<Issue>, bad: &mut Bad<'_>) {
        for (name, k) in &self.kinds {
            let key = format!("kinds.{name}");
            if !crate::load::kind::is_identifier(name) {
                bad(key.clone(), "kind names use a-z, 0-9 and '_' only".into());
            }
            k.check(&mut |suffix, message| {
                issues_kind.push(Issue::new(format!("{key}.{suffix}"), message))
            });
        }
    }

    fn check_sources(&self, issues_kind: &mut Vec<Issue>, bad: &mut Bad<'_>) {
        for (name, s) in &self.sources {
            let key = format!("sources.{name}");
            match self.kinds.get(&s.kind) {
                None => bad(format!("{key}.kind"), format!("no kind named `{}`", s.kind)),
                Some(kind) => s.load.check(kind, &mut |suffix, message| {
                    issues_kind.push(Issue::new(format!("{key}.load.{suffix}"), message))
                }),
            }
            if !valid_name(name) {
                bad(
                    key.clone(),
                    "names use letters, digits, '-' and '_' only".into(),
                );
            }
            s.validate(&key, bad);
        }
    }

    /// The sub-groups, and `[notify]`'s routes that name them.
    fn check_sub_groups(&self, bad: &mut Bad<'_>) {
        for (name, g) in &self.sub_groups {
            let key = format!("sub_groups.{name}");
            if g.owners.is_empty() {
                bad(format!("{key}.owners"), "needs at least one address".into());
            }
            for (i, o) in g.owners.iter().enumerate() {
                crate::notify::check_address(&mut *bad, format!("{key}.owners[{i}]"), o);
            }
            if let Some(lead) = &g.lead {
                crate::notify::check_address(&mut *bad, format!("{key}.lead"), lead);
            }
        }
        self.notify
            .check(&self.sub_groups, self.admin.email.is_some(), bad);
    }

    /// The plan: its KPI catalogue, risk register and action log, against the sub-groups and
    /// sources they name.
    fn check_plan(&self, bad: &mut Bad<'_>) {
        let known = crate::kpi::catalogue::Known {
            sub_groups: self.sub_groups.keys().map(String::as_str).collect(),
            sources: self
                .sources
                .iter()
                .map(|(name, s)| (name.as_str(), self.kinds.get(&s.kind)))
                .collect(),
        };
        self.kpis.check(&known, bad);
        self.stats.check_kpis(&self.kpis, bad);

        // A plan without a risk register (or no plan) needs no `[risk_log]`.
        if !self.risks.is_empty() || !self.risk_log.holder.is_empty() {
            let known_to_risks = crate::risk::catalogue::Known {
                sub_groups: self.sub_groups.keys().map(String::as_str).collect(),
                kpis: self
                    .kpis
                    .iter()
                    .map(|(id, k)| (id.as_str(), k.measure.is_some()))
                    .collect(),
                sources: self
                    .sources
                    .iter()
                    .map(|(name, s)| (name.as_str(), s.cadence.is_some()))
                    .collect(),
            };
            self.risks.check(&self.risk_log, &known_to_risks, bad);
        }
        let groups = self.sub_groups.keys().map(String::as_str).collect();
        self.actions.check(&self.action_log, &groups, bad);
    }

    fn check_jobs(&self, bad: &mut Bad<'_>) {
        let known_to_jobs = crate::schedule::settings::Known {
            sources: self.sources.keys().map(String::as_str).collect(),
            kpis: self
                .kpis
                .iter()
                .map(|(id, k)| (id.as_str(), k.measure.is_some()))
                .collect(),
            sub_groups: &self.sub_groups,
        };
        for (name, j) in &self.jobs {
            if !valid_name(name) {
                bad(
                    format!("jobs.{name}"),
                    "names use letters, digits, '-' and '_' only".into(),
                );
            }
            j.check(name, &known_to_jobs, bad);
        }
    }
}
