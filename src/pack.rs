//! The board pack: what SENDCIB, the DfE and NHS England, and Overview and Scrutiny read
//! (DOMAIN 1.4; the seeds' appendices at 004:1385-1545 are such packs, made by hand). One
//! self-contained HTML file per pack (styles and charts inline, no external request), laid
//! out like the appendices, with a print stylesheet for A4 and a PDF made from it by headless
//! Chromium when one is present.
//!
//! Stages, one file each: [`view`] (the pack as data, its KPI, risk and action rows and
//! trend charts from [`crate::view`], every figure through disclosure control; pure),
//! [`history`] (one KPI's page in the live view; pure), [`html`] (the template), [`pdf`]
//! (Chromium, bounded in time). An output stage beside `notify`: it reads what `kpi`, `risk`
//! and the store hold and writes nothing back.

pub mod history;
pub mod html;
pub mod pdf;
pub mod view;

use std::str::FromStr;

pub use history::{KpiHistory, kpi_history};
pub use html::{PackError, render_html, render_page};
pub use view::{Inputs, Pack, build};

/// Who the pack is for (DOMAIN 1.4): the monthly board, the two-monthly report to the DfE and
/// NHS England, the quarterly report to Overview and Scrutiny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    #[default]
    Board,
    Dfe,
    Scrutiny,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Board => "board",
            Audience::Dfe => "dfe",
            Audience::Scrutiny => "scrutiny",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Audience::Board => "SEND Continuous Improvement Board (SENDCIB) pack",
            Audience::Dfe => "Progress report to the DfE and NHS England",
            Audience::Scrutiny => "Progress report to Overview and Scrutiny",
        }
    }

    /// The board gets everything; the DfE and NHS England progress against the plan's
    /// objectives with the risks (001:45-47: slow objectives flagged); scrutiny the KPI table,
    /// the exceptions and the risk log, without the run-level provenance.
    pub fn sections(self) -> view::Sections {
        let board = self == Audience::Board;
        view::Sections {
            kpi_table: true,
            milestones: self != Audience::Scrutiny,
            exceptions: true,
            risks: true,
            risk_changes: board,
            actions: true,
            provenance: self != Audience::Scrutiny,
        }
    }
}

impl FromStr for Audience {
    type Err = String;
    fn from_str(s: &str) -> Result<Audience, String> {
        match s {
            "board" => Ok(Audience::Board),
            "dfe" => Ok(Audience::Dfe),
            "scrutiny" => Ok(Audience::Scrutiny),
            _ => Err(format!("`{s}`: expected board, dfe or scrutiny")),
        }
    }
}

/// `pack = { ... }` on a job: the job makes the pack and mails it, instead of exception
/// reports. Its `cron` says when (e.g. every two months for the DfE, quarterly for
/// scrutiny); `days_before_meeting` narrows a daily job to the day that many days before a
/// board meeting (`[action_log] meetings`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackJobSettings {
    #[serde(default)]
    pub audience: Audience,
    /// Who gets it: sub-group keys (their owners) or email addresses.
    pub to: Vec<String>,
    /// 0 to 366 ([`DAYS_BEFORE_MEETING`]).
    pub days_before_meeting: Option<u32>,
}

/// `days_before_meeting`: a reminder more than a year ahead reminds of nothing.
pub const DAYS_BEFORE_MEETING: crate::bounds::Bound<u32> =
    crate::bounds::Bound::new(0, 366, "a year");

impl PackJobSettings {
    /// Each of `to` names a sub-group or parses as an address the way delivery reads one;
    /// `days_before_meeting` is in its range.
    pub fn check(
        &self,
        key: &str,
        sub_groups: &std::collections::BTreeMap<String, crate::notify::SubGroup>,
        bad: &mut dyn FnMut(String, String),
    ) {
        DAYS_BEFORE_MEETING.check_opt(
            bad,
            format!("{key}.days_before_meeting"),
            self.days_before_meeting,
        );
        if self.to.is_empty() {
            bad(format!("{key}.to"), "names nobody".into());
        }
        for (i, t) in self.to.iter().enumerate() {
            if !sub_groups.contains_key(t) && t.parse::<lettre::message::Mailbox>().is_err() {
                bad(
                    format!("{key}.to[{i}]"),
                    format!("`{t}` is neither a sub-group nor an email address"),
                );
            }
        }
    }

    /// The addresses it goes to, each once, in order.
    pub fn recipients(
        &self,
        sub_groups: &std::collections::BTreeMap<String, crate::notify::SubGroup>,
    ) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in &self.to {
            let found = sub_groups
                .get(t)
                .map_or_else(|| vec![t.clone()], |g| g.owners.clone());
            for a in found {
                if !out.iter().any(|o| o.eq_ignore_ascii_case(&a)) {
                    out.push(a);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::notify::SubGroup;

    fn groups() -> BTreeMap<String, SubGroup> {
        let mut g = BTreeMap::new();
        g.insert(
            "governance".to_string(),
            SubGroup {
                name: "Governance".into(),
                owners: vec!["gov@example.org".into(), "Chair@example.org".into()],
                lead: None,
            },
        );
        g
    }

    fn job(to: &[&str]) -> PackJobSettings {
        PackJobSettings {
            audience: Audience::Board,
            to: to.iter().map(|s| s.to_string()).collect(),
            days_before_meeting: None,
        }
    }

    #[test]
    fn recipients_are_a_sub_groups_owners_and_addresses_each_once() {
        assert_eq!(
            job(&["governance", "chair@example.org", "dfe@example.org"]).recipients(&groups()),
            ["gov@example.org", "Chair@example.org", "dfe@example.org"]
        );
    }

    #[test]
    fn to_names_sub_groups_or_addresses_and_somebody() {
        let problems = |j: PackJobSettings| {
            let mut out = Vec::new();
            j.check("jobs.p.pack", &groups(), &mut |k, m| {
                out.push(format!("{k}: {m}"))
            });
            out
        };
        assert!(problems(job(&["governance", "\"Smith, J\" <j@example.org>"])).is_empty());
        assert_eq!(problems(job(&[])), ["jobs.p.pack.to: names nobody"]);
        assert_eq!(
            problems(job(&["nobody"])),
            ["jobs.p.pack.to[0]: `nobody` is neither a sub-group nor an email address"]
        );
    }
}
