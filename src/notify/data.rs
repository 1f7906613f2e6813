//! Data notices: news about a source's data, for the source's data owner. Pure.
//!
//! A source is late (stale), or its latest extract was held by the shrink guard, refused, or
//! loaded with more rows set aside than its policy allows. The notice names the source, the
//! load and the rule; like every output it carries no case id, no row's date and no cell, and
//! every count of rows goes through [`Disclosure::suppress`]. Laid out by `config/templates/
//! notice_data.txt.j2` in the digests' template environment.

use chrono::{DateTime, Utc};
use minijinja::context;

use super::render::{Rendered, Templates};
use crate::disclose::Disclosure;
use crate::source::freshness::{Cadence, Stale};

/// One thing wrong with a source's data.
#[derive(Debug, Clone, PartialEq)]
pub enum DataIssue {
    Stale {
        stale: Stale,
        cadence: Cadence,
        deadline_days: u32,
    },
    Held {
        load_id: i64,
        reason: String,
    },
    Rejected {
        error: String,
    },
    Quarantined {
        load_id: i64,
        rows: u64,
        set_aside: u64,
        limit: f64,
    },
}

/// Everything one owner hears about one source from one run.
#[derive(Debug, Clone)]
pub struct DataNotice<'a> {
    pub area: &'a str,
    pub subject_prefix: &'a str,
    pub job: &'a str,
    pub run_id: i64,
    pub source: &'a str,
    pub kind_title: &'a str,
    pub owner_name: &'a str,
    pub issues: Vec<DataIssue>,
    /// The rules the counts of rows are written by (`[disclosure]`).
    pub disclosure: Disclosure,
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "never".to_string(), crate::disclose::stamp)
}

pub fn render_data_notice(t: &Templates, n: &DataNotice<'_>) -> Rendered {
    let headline: Vec<&str> = n
        .issues
        .iter()
        .map(|i| match i {
            DataIssue::Stale { .. } => "stale data",
            DataIssue::Held { .. } => "extract held",
            DataIssue::Rejected { .. } => "extract refused",
            DataIssue::Quarantined { .. } => "rows set aside",
        })
        .collect();
    let issues: Vec<minijinja::Value> = n.issues.iter().map(|i| issue(i, n.disclosure)).collect();
    t.notice(
        "notice_data.txt.j2",
        context! {
            subject_prefix => n.subject_prefix,
            area => n.area,
            headline => headline.join(", "),
            source => n.source,
            owner_name => n.owner_name,
            kind_title => n.kind_title,
            issues => issues,
            job => n.job,
            run_id => n.run_id.to_string(),
        },
    )
}

/// One issue for the template, every value a string (counts through [`Disclosure::suppress`]).
fn issue(i: &DataIssue, d: Disclosure) -> minijinja::Value {
    match i {
        DataIssue::Stale {
            stale,
            cadence,
            deadline_days,
        } => context! {
            kind => "stale",
            cadence => cadence.as_str(),
            deadline_days => deadline_days.to_string(),
            last_new => when(stale.last_new),
            due => when(stale.due),
        },
        DataIssue::Held { load_id, reason } => context! {
            kind => "held",
            load_id => load_id.to_string(),
            reason => reason,
        },
        DataIssue::Rejected { error } => context! {
            kind => "refused",
            lines => error.lines().map(|l| l.trim_start().to_string()).collect::<Vec<_>>(),
        },
        DataIssue::Quarantined {
            load_id,
            rows,
            set_aside,
            limit,
        } => context! {
            kind => "rows set aside",
            load_id => load_id.to_string(),
            rows => d.suppress(*rows),
            set_aside => d.suppress(*set_aside),
            limit => format!("{:.1}", limit * 100.0),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_notice_names_the_source_owner_and_dates_and_suppresses_small_counts() {
        let n = DataNotice {
            area: "Sefton",
            subject_prefix: "[sendwatch]",
            job: "monthly",
            run_id: 7,
            source: "tracker",
            kind_title: "EHCP needs-assessment tracker",
            owner_name: "SEND data team",
            issues: vec![
                DataIssue::Stale {
                    stale: Stale {
                        last_new: "2026-09-02T07:00:00Z".parse().ok(),
                        due: "2026-10-12T07:00:00Z".parse().ok(),
                    },
                    cadence: Cadence::Monthly,
                    deadline_days: 10,
                },
                DataIssue::Quarantined {
                    load_id: 3,
                    rows: 58,
                    set_aside: 2,
                    limit: 0.02,
                },
            ],
            disclosure: Disclosure::default(),
        };
        let r = render_data_notice(&Templates::builtin(), &n);
        assert_eq!(
            r.subject,
            "[sendwatch] Sefton SEND data: stale data, rows set aside for source `tracker`"
        );
        assert!(
            r.body
                .contains("To SEND data team, data owner of the source `tracker`")
        );
        assert!(
            r.body.contains("New data was due: 2026-10-12 07:00 UTC"),
            "{}",
            r.body
        );
        assert!(r.body.contains("set aside <5 bad rows"), "{}", r.body);
    }
}
