//! Data notices: news about a source's data, for the source's data owner. Pure.
//!
//! A source is late (stale), or its latest extract was held by the shrink guard, refused, or
//! loaded with more rows set aside than its policy allows. The notice names the source, the
//! load and the rule; like every output it carries no case id, no row's date and no cell, and
//! every count of rows goes through [`suppress`].

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::render::{Rendered, suppress};
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
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "never".to_string(), crate::disclose::stamp)
}

pub fn render_data_notice(n: &DataNotice<'_>) -> Rendered {
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
    let subject = format!(
        "{} {} SEND data: {} for source `{}`",
        n.subject_prefix,
        n.area,
        headline.join(", "),
        n.source
    )
    .trim()
    .to_string();
    let mut b = String::new();
    let _ = writeln!(
        b,
        "To {}, data owner of the source `{}` ({}):",
        n.owner_name, n.source, n.kind_title
    );
    for i in &n.issues {
        let _ = writeln!(b);
        match i {
            DataIssue::Stale {
                stale,
                cadence,
                deadline_days,
            } => {
                let _ = writeln!(b, "STALE DATA: no new extract has arrived in time.");
                let _ = writeln!(
                    b,
                    "  Expected:         {} (plus {deadline_days} days' grace)",
                    cadence.as_str()
                );
                let _ = writeln!(b, "  Current data from: {}", when(stale.last_new));
                let _ = writeln!(b, "  New data was due: {}", when(stale.due));
                let _ = writeln!(
                    b,
                    "  The KPIs read from this source keep their ratings; they are computed from \
                     the current data until a new extract is loaded."
                );
            }
            DataIssue::Held { load_id, reason } => {
                let _ = writeln!(
                    b,
                    "EXTRACT HELD: the latest extract (load {load_id}) was not swapped in: {reason}."
                );
                let _ = writeln!(
                    b,
                    "  The previous load stays current. If the new extract is right, an operator \
                     accepts it with: sendwatch load approve {load_id}"
                );
            }
            DataIssue::Rejected { error } => {
                let _ = writeln!(
                    b,
                    "EXTRACT REFUSED: the latest extract was not loaded; the previous load stays current."
                );
                for line in error.lines() {
                    let _ = writeln!(b, "  {}", line.trim_start());
                }
            }
            DataIssue::Quarantined {
                load_id,
                rows,
                set_aside,
                limit,
            } => {
                let _ = writeln!(
                    b,
                    "ROWS SET ASIDE: load {load_id} loaded {} rows and set aside {} bad rows, \
                     more than the {:.1}% the source allows (load.max_bad_share).",
                    suppress(*rows),
                    suppress(*set_aside),
                    limit * 100.0
                );
                let _ = writeln!(
                    b,
                    "  Where they are and what rule each broke (never their content) is recorded \
                     with the load."
                );
            }
        }
    }
    let _ = writeln!(b);
    let _ = writeln!(b, "--");
    let _ = writeln!(
        b,
        "Sent by sendwatch (job {}, run {}). This notice names places and rules only: no case \
         ids, names or dates about a child.",
        n.job, n.run_id
    );
    Rendered { subject, body: b }
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
        };
        let r = render_data_notice(&n);
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
