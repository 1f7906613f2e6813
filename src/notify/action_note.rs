//! An action of the action log that its owner hears of, as the digest carries it: built from
//! the action stage's [`crate::action::Slip`] (the rating in the seeds' words).

use super::ActionNote;
use crate::action::Slip;

impl From<&Slip> for ActionNote {
    fn from(s: &Slip) -> ActionNote {
        ActionNote {
            reference: s.reference.clone(),
            title: s.title.clone(),
            owner: s.owner.clone(),
            contact: s.contact.clone(),
            due: s.due,
            status: s.status.label().to_string(),
            why: s.why.as_str().to_string(),
            meeting: s.meeting,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::{Status, Why};

    #[test]
    fn a_slip_becomes_a_note_in_the_seeds_words() {
        let due = chrono::NaiveDate::from_ymd_opt(2020, 7, 31).expect("date");
        let slip = Slip {
            reference: "1.3".into(),
            title: "Reviews".into(),
            owner: "performance".into(),
            contact: "SEND team".into(),
            due,
            status: Status::NotOnTrack,
            why: Why::NotOnTrack,
            meeting: None,
            last_update: None,
        };
        let note = ActionNote::from(&slip);
        assert_eq!(note.status, "Action not on track, risk to implementation");
        assert_eq!(note.why, "not on track");
        assert_eq!((note.owner.as_str(), note.due), ("performance", due));
    }
}
