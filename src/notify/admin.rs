//! Administrator notices: a run was abandoned; a job passed its dead-man deadline; emails
//! were given up. Pure.
//!
//! Says the job, the run, its instants and why, and where to look; never a figure, a load's
//! content or anything about a child.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::render::Rendered;
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

pub fn render_admin_notice(n: &AdminNotice<'_>) -> Rendered {
    let subject = format!(
        "{} {} sendwatch: run {} of job {} abandoned",
        n.subject_prefix, n.area, n.run_id, n.job
    )
    .trim()
    .to_string();
    let mut b = String::new();
    let _ = writeln!(b, "Run {} of job {} was abandoned.", n.run_id, n.job);
    let _ = writeln!(b);
    let _ = writeln!(b, "Why:        {}", n.why);
    let _ = writeln!(b, "Trigger:    {}", n.trigger);
    if let Some(s) = n.scheduled_at {
        let _ = writeln!(b, "Scheduled:  {}", at(s));
    }
    let _ = writeln!(b, "Started:    {}", at(n.started_at));
    let _ = writeln!(b, "Abandoned:  {}", at(n.abandoned_at));
    if let Some(r) = n.runner {
        let _ = writeln!(b, "Ran on:     {r}");
    }
    let _ = writeln!(b);
    let _ = writeln!(
        b,
        "Its loads and reports may be incomplete; the last good load stays current and the job's \
         next run starts afresh. `sendwatch runs {}` shows the job's ledger, and the service's \
         log says more.",
        n.job
    );
    Rendered { subject, body: b }
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

pub fn render_dead_man_notice(n: &DeadManNotice<'_>) -> Rendered {
    let subject = format!(
        "{} {} sendwatch: job {} has had no successful run for {} hours",
        n.subject_prefix, n.area, n.job, n.hours
    )
    .trim()
    .to_string();
    let mut b = String::new();
    let _ = writeln!(
        b,
        "Job {} has had no successful run within its dead-man deadline of {} hours (jobs.{}.dead_man_hours).",
        n.job, n.hours, n.job
    );
    let _ = writeln!(b);
    match n.last_ok {
        Some((id, ended)) => {
            let _ = writeln!(b, "Last success: run {id}, ended {}", at(ended));
        }
        None => {
            let _ = writeln!(
                b,
                "Last success: none since the job's first ledger row, {}",
                at(n.since)
            );
        }
    }
    let _ = writeln!(b, "Newest row:   run {} ({})", n.last_row.0, n.last_row.1);
    let _ = writeln!(b, "Checked:      {}", at(n.now));
    let _ = writeln!(b);
    let _ = writeln!(
        b,
        "This is said once until the job succeeds again. `sendwatch runs {}` shows why its runs \
         failed or were skipped, `sendwatch status` whether the daemon is scheduling it, and the \
         service's log says more.",
        n.job
    );
    Rendered { subject, body: b }
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
pub fn render_delivery_notice(n: &DeliveryNotice<'_>) -> Rendered {
    let subject = format!(
        "{} {} sendwatch: {} email(s) could not be delivered",
        n.subject_prefix,
        n.area,
        n.failed.len()
    )
    .trim()
    .to_string();
    let mut b = String::new();
    let _ = writeln!(
        b,
        "These emails in the outbox were given up ({}):",
        at(n.now)
    );
    for f in n.failed {
        let _ = writeln!(b);
        let _ = writeln!(b, "Email {} (run {}), to {}", f.id, f.run_id, f.recipients);
        let _ = writeln!(b, "  Sub-group:  {}", f.sub_group);
        let why = if f.status == "ambiguous" {
            "ambiguous: the server gave no answer after the message was sent, and again on its \
             one retry; it may have arrived (at most twice, with the same Message-ID)"
        } else {
            "failed: not delivered"
        };
        let _ = writeln!(b, "  Outcome:    {why}");
        let _ = writeln!(b, "  Attempts:   {}", f.attempts);
        let _ = writeln!(
            b,
            "  Last error: {}",
            f.last_error.as_deref().unwrap_or("-")
        );
    }
    let _ = writeln!(b);
    let _ = writeln!(
        b,
        "A refused address needs mending in the configuration (the sub-group's owner or route); \
         a server that kept failing, in [delivery.smtp]. The emails are not sent again by \
         themselves: the next run queues a new digest when there is news. `sendwatch status` \
         shows the outbox, and the service's log says more."
    );
    Rendered { subject, body: b }
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
        let r = render_admin_notice(&AdminNotice {
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
        });
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
            status: "failed".into(),
            attempts: 1,
            last_error: Some("SMTP RCPT TO: permanent error (550): mailbox unavailable".into()),
        }];
        let r = render_delivery_notice(&DeliveryNotice {
            area: "Sefton",
            subject_prefix: "[sendwatch]",
            failed: &failed,
            now: t,
        });
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
        let r = render_dead_man_notice(&DeadManNotice {
            area: "Sefton",
            subject_prefix: "[sendwatch]",
            job: "daily",
            hours: 26,
            last_ok: Some((7, t)),
            since: t,
            last_row: (9, "failed"),
            now: t + chrono::TimeDelta::hours(27),
        });
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
