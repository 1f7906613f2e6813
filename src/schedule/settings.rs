//! `[jobs.NAME]`: when a job runs, what it reads, how long it may work and when its silence
//! is news. Read by config, used by [`super`] (when), [`crate::job`] (what) and
//! [`crate::ledger`] (the dead man's deadline).
//!
//! Owns: the settings type, the ranges of its durations and its check (the sources and KPIs
//! it names are looked up in what [`Known`] says the other sections hold).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::CatchUp;
use crate::bounds::Bound;

/// `timeout_secs`: a run's whole working time, fetches and mail included.
pub const TIMEOUT_SECS: Bound<u64> = Bound::new(1, 86_400, "one day");
/// `dead_man_hours`: room for a job that runs once a year, with a year's slack.
pub const DEAD_MAN_HOURS: Bound<u64> = Bound::new(1, 17_568, "two years");

/// One `[jobs.NAME]` table: when a job runs and what it reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSettings {
    /// Five-field cron expression, read in `general.time_zone` (six fields, seconds first,
    /// are accepted for tests at seconds scale).
    pub cron: String,
    #[serde(default)]
    pub sources: Vec<String>,
    /// KPIs to evaluate; default: every enabled KPI fed by one of the job's sources.
    pub kpis: Option<Vec<String>>,
    /// Also rate the KPIs no extract carries from the values entered by hand, and tell their
    /// owners of values overdue. With several jobs, leave it on for one.
    #[serde(default = "yes")]
    pub manual_kpis: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// A run still working after this long is stopped and marked abandoned. 1 to 86400
    /// ([`TIMEOUT_SECS`]).
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// What a daemon does at start with fire times missed while none ran.
    #[serde(default)]
    pub catch_up: CatchUp,
    /// No successful run for this many hours tells the administrator (once per lapse). 1 to
    /// 17568 ([`DEAD_MAN_HOURS`]).
    #[serde(default)]
    pub dead_man_hours: Option<u64>,
    /// Make and mail the board pack instead of exception reports.
    #[serde(default)]
    pub pack: Option<crate::pack::PackJobSettings>,
}

fn yes() -> bool {
    true
}

fn default_timeout() -> u64 {
    3600
}

/// What the other sections hold that a job may name.
pub struct Known<'a> {
    pub sources: BTreeSet<&'a str>,
    /// Each KPI's id, and whether it has a measure (only those a run computes).
    pub kpis: BTreeMap<&'a str, bool>,
    pub sub_groups: &'a BTreeMap<String, crate::notify::SubGroup>,
}

impl JobSettings {
    /// Check the keys of the job `name` (the name itself is config's); pure. Each problem
    /// goes to `bad` as (full key, message).
    pub fn check(&self, name: &str, known: &Known<'_>, bad: &mut dyn FnMut(String, String)) {
        let key = format!("jobs.{name}");
        if let Err(e) = super::parse_cron(&self.cron) {
            bad(format!("{key}.cron"), e.to_string());
        }
        // A pack job reads what the runs stored; it needs no source of its own.
        match &self.pack {
            Some(p) => p.check(&format!("{key}.pack"), known.sub_groups, bad),
            None if self.sources.is_empty() => {
                bad(format!("{key}.sources"), "needs at least one source".into())
            }
            None => {}
        }
        TIMEOUT_SECS.check(bad, format!("{key}.timeout_secs"), self.timeout_secs);
        DEAD_MAN_HOURS.check_opt(bad, format!("{key}.dead_man_hours"), self.dead_man_hours);
        for s in &self.sources {
            if !known.sources.contains(s.as_str()) {
                bad(format!("{key}.sources"), format!("no source named `{s}`"));
            }
        }
        for k in self.kpis.iter().flatten() {
            match known.kpis.get(k.as_str()) {
                None => bad(format!("{key}.kpis"), format!("no KPI named `{k}`")),
                Some(false) => bad(
                    format!("{key}.kpis"),
                    format!("KPI `{k}` has no measure: a run computes only KPIs with one"),
                ),
                Some(true) => {}
            }
        }
    }

    /// The working timeout as a span, within its range whatever was configured.
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(TIMEOUT_SECS.clamp(self.timeout_secs))
    }
}
