//! News: the one shape of an outgoing email ([`Outgoing`], with its [`Part`]s and its
//! [`NewsKey`]) and the pure "is it news?" decision ([`decide`]) with its [`Reason`].
//!
//! A leaf module (it imports nothing of the crate) because both sides need it: `notify`
//! builds the messages and `store` queues them, calling [`decide`] inside the transaction
//! that holds the recipient's lock. `notify` imports `store`, so `store` may not import
//! `notify`; here neither folder depends on the other. `notify` re-exports it all.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};

/// What an outbox row is, for the queries that must tell them apart (migration 0017's
/// `kind` column), rather than reading it out of the sub-group label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// A recipient's digest (KPIs, risks, actions, resolved notices).
    Digest,
    /// News about a source's data, for its owner.
    Data,
    /// An administrator's notice (an abandoned run, a dead-man deadline, mail given up).
    Admin,
    /// A board pack a pack job mails.
    Pack,
    /// An approver told that an answer by link awaits their approval (issue 22).
    Answer,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Digest => "digest",
            MailKind::Data => "data",
            MailKind::Admin => "admin",
            MailKind::Pack => "pack",
            MailKind::Answer => "answer",
        }
    }
}

/// How a part is shown: inline in the HTML (by Content-ID) or attached (by file name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartKind {
    Inline,
    Attachment,
}

impl PartKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PartKind::Inline => "inline",
            PartKind::Attachment => "attachment",
        }
    }

    pub fn parse(s: &str) -> Option<PartKind> {
        match s {
            "inline" => Some(PartKind::Inline),
            "attachment" => Some(PartKind::Attachment),
            _ => None,
        }
    }
}

/// One part of an email besides its text and HTML: an inline image or an attached file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub kind: PartKind,
    /// The Content-ID (no angle brackets) of an inline part; the file name of an attachment.
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Part {
    /// An inline PNG (a trend chart) the HTML shows as `cid:NAME`.
    pub fn inline_png(cid: impl Into<String>, png: Vec<u8>) -> Part {
        Part {
            kind: PartKind::Inline,
            name: cid.into(),
            content_type: "image/png".into(),
            bytes: png,
        }
    }

    pub fn attachment(
        filename: impl Into<String>,
        content_type: impl Into<String>,
        bytes: Vec<u8>,
    ) -> Part {
        Part {
            kind: PartKind::Attachment,
            name: filename.into(),
            content_type: content_type.into(),
            bytes,
        }
    }
}

/// What marks a message as news (migration 0008): its items, its topic and a hash of both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewsKey {
    /// A hash of the topic and the items ([`NewsKey::new`]): the same news, the same hash.
    pub digest: String,
    /// Whom and what it is about (recipient and period, or recipient and source): a newer
    /// message on the same topic supersedes an undelivered one.
    pub topic: String,
    /// Each item as "section|kind|id|period|state", sorted.
    pub items: Vec<String>,
}

impl NewsKey {
    /// The key of `items` on `topic`: the items sorted, and the one hash of keys (SHA-256
    /// of the topic and each item after a newline), so order never makes news.
    pub fn new(topic: String, mut items: Vec<String>) -> NewsKey {
        use sha2::{Digest as _, Sha256};
        items.sort();
        let mut h = Sha256::new();
        h.update(topic.as_bytes());
        for l in &items {
            h.update(b"\n");
            h.update(l.as_bytes());
        }
        NewsKey {
            digest: format!("{:x}", h.finalize()),
            topic,
            items,
        }
    }
}

/// A short fingerprint of free text for an item line (a refusal's error): the same text, the
/// same line, and the text itself never in the key.
pub fn fingerprint(text: &str) -> String {
    use sha2::{Digest as _, Sha256};
    format!("{:x}", Sha256::digest(text.as_bytes()))[..16].to_string()
}

/// How an outgoing message is kept from going twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dedup {
    /// Every one is queued (administrator notices).
    None,
    /// Queued once per key, ever (a board pack to one person on one day).
    Once(String),
    /// Queued when it is news ([`decide`]) for its recipient, at most once per `repeat`
    /// window; it supersedes an undelivered older message on the same topic.
    News { key: NewsKey, repeat: TimeDelta },
}

/// One email on its way to the outbox: the one shape every kind of mail is queued in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub kind: MailKind,
    pub run_id: i64,
    /// What it is about as a reader names it (the outbox's `sub_group`: "health,performance",
    /// "source:tracker", "admin", "pack:board").
    pub about: String,
    /// One or more addresses (a keyed message has one).
    pub recipients: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub parts: Vec<Part>,
    pub dedup: Dedup,
}

/// A message told to a recipient before: its topic, its items and when it was queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Told {
    pub topic: Option<String>,
    pub items: Vec<String>,
    pub at: DateTime<Utc>,
}

/// Why a message is news.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Nothing on its topic was told to the recipient before.
    First,
    /// It holds items they were not told before.
    Changed,
    /// The same news as before, told longer ago than the repeat interval.
    RepeatPassed,
    /// What is new in it is only resolved notices (a KPI out of exception since they heard).
    Resolved,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::First => "first",
            Reason::Changed => "changed",
            Reason::RepeatPassed => "repeat interval passed",
            Reason::Resolved => "resolved",
        }
    }
}

/// The decision for one message to one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Send(Reason),
    /// Every item went to them within the repeat interval.
    NoNews,
}

impl std::fmt::Display for Decision {
    /// "would send: changed", "no news": what `preview` says of a message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Decision::Send(r) => write!(f, "would send: {}", r.as_str()),
            Decision::NoNews => f.write_str("no news"),
        }
    }
}

/// Whether `items` on `topic` are news for a recipient who was `told` these messages, at
/// `now`, with `repeat` between tellings of the same news. Pure.
///
/// No news when every item was told within `repeat` before `now`, or for a chase item
/// ("|overdue|", a stage of a missing value's chase) ever; an early warning (an `at_risk`
/// item line) is told once for its milestone and band and not repeated on the interval: it
/// is news only when the latest message that told of its KPI's milestone said another band
/// (or none did). Its band `on_course` is the "back on course" line: news when the latest
/// such message said at risk or off course, and never when none told of the milestone
/// (there is nothing to take back); once it is told, a later at risk is news again. A
/// message with no items is never news. Otherwise the reason, in this order:
/// [`Reason::Resolved`] when the items never told before are all resolved notices or
/// back-on-course lines; [`Reason::First`] when nothing on the topic
/// was told before; [`Reason::Changed`] when some item was never told; else
/// [`Reason::RepeatPassed`] (each item was told, but longer ago than `repeat`).
pub fn decide(
    items: &[String],
    topic: &str,
    told: &[Told],
    repeat: TimeDelta,
    now: DateTime<Utc>,
) -> Decision {
    let since = now
        .checked_sub_signed(repeat)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    // A chase item (a manual value overdue, at one stage of its chase) is told once, not
    // repeated with the interval: its chase moves on to the next stage instead.
    let recent: BTreeSet<&str> = told
        .iter()
        .flat_map(|t| {
            let fresh = t.at > since;
            t.items
                .iter()
                .map(String::as_str)
                .filter(move |i| fresh || is_chase(i))
        })
        .collect();
    let told_now = |i: &str| {
        if is_warning(i) {
            warned_last(told, i)
        } else {
            recent.contains(i)
        }
    };
    if items.iter().all(|i| told_now(i)) {
        return Decision::NoNews;
    }
    let ever: BTreeSet<&str> = told
        .iter()
        .flat_map(|t| t.items.iter().map(String::as_str))
        .collect();
    let fresh: Vec<&str> = items
        .iter()
        .map(String::as_str)
        .filter(|i| !ever.contains(i) || (is_warning(i) && !warned_last(told, i)))
        .collect();
    let reason = if !fresh.is_empty() && fresh.iter().all(|i| is_resolved(i) || is_recovery(i)) {
        Reason::Resolved
    } else if !told.iter().any(|t| t.topic.as_deref() == Some(topic)) {
        Reason::First
    } else if !fresh.is_empty() {
        Reason::Changed
    } else {
        Reason::RepeatPassed
    };
    Decision::Send(reason)
}

/// An early warning's item line ("section|at_risk|id|milestone|band"): told once per
/// milestone and band, never repeated on the interval.
pub fn is_warning(item: &str) -> bool {
    item.split('|').nth(1) == Some("at_risk")
}

/// True when the latest message that told of `line`'s KPI and milestone (its line but the
/// band) told this band; with none, true only for the on-course band (the state a KPI is in
/// until warned of).
fn warned_last(told: &[Told], line: &str) -> bool {
    let Some((stem, _)) = line.rsplit_once('|') else {
        return false;
    };
    let same = |l: &String| is_warning(l) && l.rsplit_once('|').is_some_and(|(s, _)| s == stem);
    // Ties on time (two rows of one run) go to the later row, as `told` is in queue order.
    told.iter()
        .filter(|t| t.items.iter().any(same))
        .max_by_key(|t| t.at)
        .map_or(is_recovery(line), |t| t.items.iter().any(|l| l == line))
}

/// An early warning's "back on course" line ("section|at_risk|id|milestone|on_course"):
/// what tells that a warned KPI recovered, so that a later warning is news again.
fn is_recovery(item: &str) -> bool {
    is_warning(item) && item.rsplit('|').next() == Some(ON_COURSE)
}

/// The band of a back-on-course line, as [`crate::kpi::forecast::Band`] writes it (this
/// module imports nothing of the crate).
pub const ON_COURSE: &str = "on_course";

/// A chase item's line ("section|overdue|id|period|stage"): a manual value's chase at one
/// stage, told once and never repeated on the interval.
pub fn is_chase(item: &str) -> bool {
    item.split('|').nth(1) == Some("overdue")
}

/// A resolved notice's item line ("section|resolved|id|period|state", as the digest's key
/// writes it).
fn is_resolved(item: &str) -> bool {
    item.split('|').nth(1) == Some("resolved")
}

#[cfg(test)]
mod tests;
