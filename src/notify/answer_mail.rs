//! The approvers' mail (issue 22): when an answer comes in by link, each person who may approve
//! it (its sub-group's `lead`, the area's `[answer] approvers`) is told, through the outbox like
//! every other message, with their own approval link. Queued once per answer and approver:
//! the outbox's idempotency key is the answer's id, so a retried or repeated call queues
//! nothing more.
//!
//! Owns: the message's words ([`approval`], pure); `serve::answer` queues it when an answer is
//! recorded (`tell_approvers`, which reads the settings this module may not). The
//! mail says what kind of answer, for which KPI or action and period, and from whom; never
//! what was typed (free text stays in the database, shown on the approver's page).

use chrono::{DateTime, Utc};

use crate::answer::Ask;
use crate::kpi::Period;
use crate::news::{Dedup, MailKind, Outgoing};

/// What an approver is told of answer `id`.
pub struct Approval<'a> {
    pub area: &'a str,
    pub subject_prefix: &'a str,
    pub id: i64,
    pub ask: &'a Ask,
    /// The item's title from the plan ("" when it has none).
    pub title: &'a str,
    /// Who answered (the link's recipient).
    pub by: &'a str,
    pub at: DateTime<Utc>,
    /// The approver's own link to approve or reject it.
    pub link: &'a str,
}

/// What an answer answers, in words: "commentary on KPI 1/2a for July 2021".
pub fn what(ask: &Ask) -> String {
    let period = |p: &str| {
        p.parse::<Period>()
            .map(Period::label)
            .unwrap_or_else(|_| p.to_string())
    };
    match ask {
        Ask::Commentary { kpi, period: p } => {
            format!("commentary on KPI {kpi} for {}", period(p))
        }
        Ask::Value { kpi, period: p } => format!("a value of KPI {kpi} for {}", period(p)),
        Ask::Action { reference } => format!("progress on action {reference}"),
        Ask::Approve { draft } => format!("answer {draft}"),
    }
}

/// The message to `to` about `a` (its subject and text).
pub fn approval(a: &Approval<'_>, run_id: i64, to: &str) -> Outgoing {
    let what = what(a.ask);
    let title = if a.title.is_empty() {
        String::new()
    } else {
        format!(" ({})", a.title)
    };
    let subject = format!(
        "{} {}: an answer awaits your approval: {what}",
        a.subject_prefix, a.area
    )
    .trim()
    .to_string();
    let text = format!(
        "An answer has come in by link and awaits approval.\n\n\
         \x20 What:     {what}{title}\n\
         \x20 From:     {by}\n\
         \x20 When:     {at}\n\
         \x20 Number:   {id}\n\n\
         It is a draft: the digests to the board and the pack show it only once approved.\n\
         Approve or reject it here (the page shows what was written):\n\n\
         \x20 {link}\n\n\
         --\n\
         Sent by sendwatch because you approve answers for the {area} SEND improvement plan.\n",
        by = a.by,
        at = a.at.format("%-d %b %Y %H:%M UTC"),
        id = a.id,
        link = a.link,
        area = a.area,
    );
    Outgoing {
        kind: MailKind::Answer,
        run_id,
        about: format!("answer:{}", a.ask.kind()),
        recipients: vec![to.to_string()],
        subject,
        text,
        html: None,
        parts: Vec::new(),
        // Once per answer and approver, ever: a retry or a second call queues nothing.
        dedup: Dedup::Once(format!("answer:{}:{}", a.id, to.to_ascii_lowercase())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_approver_is_told_what_from_whom_and_their_link_never_the_text() {
        let ask = Ask::Commentary {
            kpi: "1/2a".into(),
            period: "2021-07".into(),
        };
        let a = Approval {
            area: "Sefton",
            subject_prefix: "[sendwatch]",
            id: 7,
            ask: &ask,
            title: "EHCPs issued within 20 weeks",
            by: "owner@example.org",
            at: "2026-12-07T09:30:00Z".parse().expect("instant"),
            link: "http://127.0.0.1:9187/answer/v1.X.Y",
        };
        let m = approval(&a, 3, "Lead@Example.org");
        assert_eq!(
            m.subject,
            "[sendwatch] Sefton: an answer awaits your approval: commentary on KPI 1/2a for \
             July 2021"
        );
        for want in [
            "What:     commentary on KPI 1/2a for July 2021 (EHCPs issued within 20 weeks)",
            "From:     owner@example.org",
            "When:     7 Dec 2026 09:30 UTC",
            "  http://127.0.0.1:9187/answer/v1.X.Y",
        ] {
            assert!(m.text.contains(want), "{want} not in {}", m.text);
        }
        assert!(!m.text.contains('`') && !m.text.contains("sendwatch answers"));
        assert_eq!(m.recipients, vec!["Lead@Example.org".to_string()]);
        assert_eq!(m.dedup, Dedup::Once("answer:7:lead@example.org".into()));
        assert_eq!(m.kind, MailKind::Answer);
    }
}
