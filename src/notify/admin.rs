//! Administrator notices: a run was abandoned; a job passed its dead-man deadline; emails
//! were given up. Pure: laid out by their templates (`config/templates/notice_*.txt.j2`) in
//! the digests' template environment, from values formatted here.
//!
//! Says the job, the run, its instants and why, and where to look; never a figure, a load's
//! content or anything about a child.

use chrono::{DateTime, Utc};
use minijinja::context;

use super::render::{Rendered, Templates};
use crate::store::FailedMail;

/// One abandoned run, as the administrator hears of it.
#[derive(Debug, Clone)]
pub struct AdminNotice<'a> {
    pub area: &'a str,
    pub subject_prefix: &'a str,
    pub job: &'a str,
    pub run_id: i64,
    pub trigger: &'a str,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub started_at: DateTime<Utc>,
    pub abandoned_at: DateTime<Utc>,
    /// host:pid of the process that ran it.
    pub runner: Option<&'a str>,
    pub why: &'a str,
}

fn at(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

pub fn render_admin_notice(t: &Templates, n: &AdminNotice<'_>) -> Rendered {
    t.notice(
        "notice_abandoned.txt.j2",
        context! {
            subject_prefix => n.subject_prefix,
            area => n.area,
            job => n.job,
            run_id => n.run_id.to_string(),
            why => n.why,
            trigger => n.trigger,
            scheduled_at => n.scheduled_at.map(at),
            started_at => at(n.started_at),
            abandoned_at => at(n.abandoned_at),
            runner => n.runner,
        },
    )
}

/// A job with no successful run within its `dead_man_hours`.
#[derive(Debug, Clone)]
pub struct DeadManNotice<'a> {
    pub area: &'a str,
    pub subject_prefix: &'a str,
    pub job: &'a str,
    pub hours: u64,
    /// The newest successful run (id, when it ended), if there was one.
    pub last_ok: Option<(i64, DateTime<Utc>)>,
    /// Since when the job has had no success: its last good run's end, else its first row.
    pub since: DateTime<Utc>,
    /// The job's newest ledger row (id, state).
    pub last_row: (i64, &'a str),
    pub now: DateTime<Utc>,
}

pub fn render_dead_man_notice(t: &Templates, n: &DeadManNotice<'_>) -> Rendered {
    t.notice(
        "notice_dead_man.txt.j2",
        context! {
            subject_prefix => n.subject_prefix,
            area => n.area,
            job => n.job,
            hours => n.hours.to_string(),
            last_ok_run => n.last_ok.map(|(id, _)| id.to_string()),
            last_ok_at => n.last_ok.map(|(_, ended)| at(ended)),
            since => at(n.since),
            last_row => n.last_row.0.to_string(),
            last_row_state => n.last_row.1,
            now => at(n.now),
        },
    )
}

/// Emails the outbox gave up: refused for good, out of attempts, or ambiguous.
#[derive(Debug, Clone)]
pub struct DeliveryNotice<'a> {
    pub area: &'a str,
    pub subject_prefix: &'a str,
    pub failed: &'a [FailedMail],
    pub now: DateTime<Utc>,
}

/// Says each email's outbox id, run, sub-group, recipient and the server's last answer: what
/// the administrator needs to mend an address or a server, and nothing from the report itself.
pub fn render_delivery_notice(t: &Templates, n: &DeliveryNotice<'_>) -> Rendered {
    let failed: Vec<minijinja::Value> = n
        .failed
        .iter()
        .map(|f| {
            let outcome = if f.status == crate::store::OutboxStatus::Ambiguous {
                "ambiguous: the server gave no answer after the message was sent, and again on \
                 its one retry; it may have arrived (at most twice, with the same Message-ID)"
            } else {
                "failed: not delivered"
            };
            context! {
                id => f.id.to_string(),
                run_id => f.run_id.to_string(),
                recipients => &f.recipients,
                sub_group => &f.sub_group,
                outcome => outcome,
                attempts => f.attempts.to_string(),
                last_error => f.last_error.as_deref().unwrap_or("-"),
            }
        })
        .collect();
    t.notice(
        "notice_delivery.txt.j2",
        context! {
            subject_prefix => n.subject_prefix,
            area => n.area,
            now => at(n.now),
            failed => failed,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn names_the_run_and_why() {
        let t = Utc
            .with_ymd_and_hms(2027, 3, 28, 6, 0, 0)
            .single()
            .expect("t");
        let r = render_admin_notice(
            &Templates::builtin(),
            &AdminNotice {
                area: "Sefton",
                subject_prefix: "[sendwatch]",
                job: "monthly-exceptions",
                run_id: 12,
                trigger: "schedule",
                scheduled_at: Some(t),
                started_at: t,
                abandoned_at: t + chrono::TimeDelta::minutes(61),
                runner: Some("host:42"),
                why: "past its working timeout of 3600 s",
            },
        );
        assert_eq!(
            r.subject,
            "[sendwatch] Sefton sendwatch: run 12 of job monthly-exceptions abandoned"
        );
        assert!(
            r.body
                .contains("Why:        past its working timeout of 3600 s"),
            "{}",
            r.body
        );
        assert!(
            r.body.contains("Scheduled:  2027-03-28 06:00:00 UTC"),
            "{}",
            r.body
        );
        assert!(
            r.body.contains("Abandoned:  2027-03-28 07:01:00 UTC"),
            "{}",
            r.body
        );
        assert!(r.body.contains("Ran on:     host:42"), "{}", r.body);
    }

    #[test]
    fn a_delivery_notice_names_each_email_and_its_outcome() {
        let t = Utc
            .with_ymd_and_hms(2027, 3, 28, 6, 0, 0)
            .single()
            .expect("t");
        let failed = [FailedMail {
            id: 31,
            run_id: 4,
            sub_group: "health".into(),
            recipients: "dco@example.org".into(),
            status: crate::store::OutboxStatus::Failed,
            attempts: 1,
            last_error: Some("SMTP RCPT TO: permanent error (550): mailbox unavailable".into()),
        }];
        let r = render_delivery_notice(
            &Templates::builtin(),
            &DeliveryNotice {
                area: "Sefton",
                subject_prefix: "[sendwatch]",
                failed: &failed,
                now: t,
            },
        );
        assert_eq!(
            r.subject,
            "[sendwatch] Sefton sendwatch: 1 email(s) could not be delivered"
        );
        for want in [
            "Email 31 (run 4), to dco@example.org",
            "  Outcome:    failed: not delivered",
            "  Last error: SMTP RCPT TO: permanent error (550): mailbox unavailable",
        ] {
            assert!(r.body.contains(want), "{want} not in {}", r.body);
        }
    }

    #[test]
    fn a_dead_man_notice_names_the_job_the_deadline_and_the_last_success() {
        let t = Utc
            .with_ymd_and_hms(2027, 3, 28, 6, 0, 0)
            .single()
            .expect("t");
        let r = render_dead_man_notice(
            &Templates::builtin(),
            &DeadManNotice {
                area: "Sefton",
                subject_prefix: "[sendwatch]",
                job: "daily",
                hours: 26,
                last_ok: Some((7, t)),
                since: t,
                last_row: (9, "failed"),
                now: t + chrono::TimeDelta::hours(27),
            },
        );
        assert_eq!(
            r.subject,
            "[sendwatch] Sefton sendwatch: job daily has had no successful run for 26 hours"
        );
        assert!(r.body.contains("jobs.daily.dead_man_hours"), "{}", r.body);
        assert!(
            r.body
                .contains("Last success: run 7, ended 2027-03-28 06:00:00 UTC"),
            "{}",
            r.body
        );
        assert!(
            r.body.contains("Newest row:   run 9 (failed)"),
            "{}",
            r.body
        );
    }
}
