//! A progress update on an action, as the board records it at a meeting: the rating, the
//! progress note, the evidence and the next steps (the columns of the seeds' action tables,
//! 004:1501-1502), with who recorded it and when.
//!
//! Owns: the update's types and the checks on one (`action set`, a row of `action import`).
//! Pure. The latest update of an action is its state; earlier ones are its history.

use chrono::{DateTime, Utc};

use super::{Actions, Status};
use crate::kpi::manual::{check_name, text_faults};
use crate::load::form::{Input, Refusal};

/// Longest note, evidence or next steps, in characters: the seeds' progress cells run to a
/// long paragraph (004:1503 is about 1,500 characters), not to a report.
pub const MAX_TEXT: usize = 2000;

/// An update as someone typed it, before it is checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Draft {
    pub reference: String,
    pub status: String,
    pub note: String,
    pub evidence: Option<String>,
    pub next_steps: Option<String>,
    pub author: String,
}

/// A checked update, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub reference: String,
    pub status: Status,
    /// Progress on key actions. Free text for the board's log (`action history`, the pack);
    /// never mailed or logged.
    pub note: String,
    pub evidence: Option<String>,
    pub next_steps: Option<String>,
    pub author: String,
}

/// A stored update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub id: i64,
    pub update: Update,
    pub entered_at: DateTime<Utc>,
}

/// Each input: (the import's column, `action set`'s flag).
pub const REFERENCE: Input = ("reference", "REFERENCE");
pub const STATUS: Input = ("status", "--status");
pub const NOTE: Input = ("note", "--note");
pub const EVIDENCE: Input = ("evidence", "--evidence");
pub const NEXT_STEPS: Input = ("next_steps", "--next-steps");
pub const AUTHOR: Input = ("author", "--author (or the login name)");

/// Check an update against the log.
pub fn check(actions: &Actions, d: &Draft) -> Result<Update, Vec<Refusal>> {
    let mut bad = Vec::new();
    let mut refuse = |input: Input, message: String| bad.push(Refusal::new(input, message));
    let reference = d.reference.trim();
    if !actions.contains_key(reference) {
        refuse(
            REFERENCE,
            "no action with this reference in the log (`sendwatch action list`)".into(),
        );
    }
    let status = d.status.parse::<Status>();
    if let Err(e) = &status {
        refuse(STATUS, e.clone());
    }
    let note = d.note.trim();
    if note.is_empty() {
        refuse(NOTE, "say what progress was made".into());
    }
    let optional = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let evidence = optional(&d.evidence);
    let next_steps = optional(&d.next_steps);
    for (field, text) in [
        (NOTE, Some(note)),
        (EVIDENCE, evidence.as_deref()),
        (NEXT_STEPS, next_steps.as_deref()),
    ] {
        for m in text_faults(text.unwrap_or(""), MAX_TEXT) {
            refuse(field, m);
        }
    }
    let author = d.author.trim();
    if let Err(m) = check_name(author) {
        refuse(AUTHOR, m);
    }
    match status {
        Ok(status) if bad.is_empty() => Ok(Update {
            reference: reference.to_string(),
            status,
            note: note.to_string(),
            evidence,
            next_steps,
            author: author.to_string(),
        }),
        _ => Err(bad),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions() -> Actions {
        super::super::catalogue::builtin().expect("log").0
    }

    fn draft() -> Draft {
        Draft {
            reference: "1.2.1".into(),
            status: "on-track".into(),
            note: "tracker in place".into(),
            evidence: Some("  ".into()),
            next_steps: None,
            author: "ann".into(),
        }
    }

    #[test]
    fn a_good_update_is_trimmed_and_blank_optionals_are_none() {
        let u = check(&actions(), &draft()).expect("accepted");
        assert_eq!(u.status, Status::OnTrack);
        assert_eq!(u.evidence, None);
    }

    #[test]
    fn each_bad_input_is_named_and_nothing_typed_is_repeated() {
        let d = Draft {
            reference: "9.9.9".into(),
            status: "green".into(),
            note: "x".repeat(MAX_TEXT + 1),
            evidence: Some("line\nbreak".into()),
            next_steps: None,
            author: " ".into(),
        };
        let bad = check(&actions(), &d).expect_err("refused");
        let fields: Vec<&str> = bad.iter().map(|r| r.column).collect();
        assert_eq!(
            fields,
            ["reference", "status", "note", "evidence", "author"]
        );
        let text = format!("{bad:?}");
        assert!(!text.contains("9.9.9") && !text.contains("green"), "{text}");
    }

    #[test]
    fn the_seeds_words_are_read_as_well_as_the_short_names() {
        for s in Status::ALL {
            assert_eq!(s.label().parse::<Status>(), Ok(s));
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
    }
}
