//! How a manual KPI's missing value is chased, so that chasing ends: for its latest due
//! period only, first asked once the due date has passed, reminded in the days before the
//! next board meeting, reminded once after it, then escalated once to the sub-group's lead
//! in the days before the meeting after; past that meeting it is not chased again (the next
//! period, when it falls due, starts its own chase).
//!
//! Owns: [`Stage`] and [`stage`]. Pure: dates in, a stage out. Each stage is a different
//! item state in a digest's news key, and a chase item is not repeated within a stage
//! ([`crate::news::decide`]), so an owner hears of a missing value once per stage.

use chrono::{Days, NaiveDate};

use super::Overdue;

/// Days between meetings assumed after the last one configured (or with none): the board
/// meets monthly.
pub const MEETING_EVERY_DAYS: u64 = 28;

/// Where the chase of a missing value stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Past its due date: asked for the first time.
    Asked,
    /// In the days before the first meeting after its due date.
    Reminded { meeting: NaiveDate },
    /// After that meeting, once.
    RemindedAfter { meeting: NaiveDate },
    /// In the days before the meeting after: told to the sub-group's lead too, once.
    Escalated { meeting: NaiveDate },
}

impl Stage {
    /// The item state of a digest's news key ("asked", "reminded", ...).
    pub fn word(self) -> &'static str {
        match self {
            Stage::Asked => "asked",
            Stage::Reminded { .. } => "reminded",
            Stage::RemindedAfter { .. } => "reminded after",
            Stage::Escalated { .. } => "escalated",
        }
    }

    /// As the digest says it.
    pub fn words(self) -> String {
        match self {
            Stage::Asked => "asked for the first time".into(),
            Stage::Reminded { meeting } => {
                format!("a reminder before the board meeting on {meeting}")
            }
            Stage::RemindedAfter { meeting } => {
                format!(
                    "a reminder after the board meeting on {meeting}; the last before it is escalated"
                )
            }
            Stage::Escalated { meeting } => format!(
                "escalated to the sub-group's lead before the board meeting on {meeting}; the \
                 last time it is chased"
            ),
        }
    }
}

/// The first meeting after `d`: the configured ones, then every [`MEETING_EVERY_DAYS`] after
/// the last (or after `d` when none are configured).
fn meeting_after(meetings: &[NaiveDate], d: NaiveDate) -> NaiveDate {
    if let Some(m) = meetings.iter().copied().filter(|m| *m > d).min() {
        return m;
    }
    let mut m = meetings.iter().copied().max().unwrap_or(d);
    // Bounded: d is at most a century past the last meeting.
    for _ in 0..2000 {
        if m > d {
            break;
        }
        m = m
            .checked_add_days(Days::new(MEETING_EVERY_DAYS))
            .unwrap_or(d.succ_opt().unwrap_or(d));
    }
    m
}

/// Where the chase of a value due by `due_by` stands on `today`, with the board's `meetings`
/// and reminders `ask_days_before` a meeting; `None` before it is due and once the chase has
/// ended.
pub fn stage(
    due_by: NaiveDate,
    meetings: &[NaiveDate],
    ask_days_before: u32,
    today: NaiveDate,
) -> Option<Stage> {
    if today <= due_by {
        return None;
    }
    let before = |m: NaiveDate| {
        m.checked_sub_days(Days::new(ask_days_before.into()))
            .unwrap_or(m)
    };
    let first = meeting_after(meetings, due_by);
    let second = meeting_after(meetings, first);
    Some(if today < before(first) {
        Stage::Asked
    } else if today <= first {
        Stage::Reminded { meeting: first }
    } else if today < before(second) {
        Stage::RemindedAfter { meeting: first }
    } else if today <= second {
        Stage::Escalated { meeting: second }
    } else {
        return None;
    })
}

/// The overdue values still chased on `today`, each with its stage.
pub fn chase(
    overdue: Vec<Overdue>,
    meetings: &[NaiveDate],
    ask_days_before: u32,
    today: NaiveDate,
) -> Vec<Overdue> {
    overdue
        .into_iter()
        .filter_map(|o| {
            let stage = stage(o.due_by, meetings, ask_days_before, today)?;
            Some(Overdue { stage, ..o })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect(s)
    }

    #[test]
    fn asked_reminded_before_and_after_the_meeting_escalated_once_then_done() {
        let meetings = [d("2026-12-10"), d("2027-01-14")];
        let at = |t: &str| stage(d("2026-09-30"), &meetings, 7, d(t));
        assert_eq!(at("2026-09-30"), None);
        assert_eq!(at("2026-10-01"), Some(Stage::Asked));
        assert_eq!(
            at("2026-12-03"),
            Some(Stage::Reminded {
                meeting: d("2026-12-10")
            })
        );
        assert_eq!(
            at("2026-12-10"),
            Some(Stage::Reminded {
                meeting: d("2026-12-10")
            })
        );
        assert_eq!(
            at("2026-12-11"),
            Some(Stage::RemindedAfter {
                meeting: d("2026-12-10")
            })
        );
        assert_eq!(
            at("2027-01-07"),
            Some(Stage::Escalated {
                meeting: d("2027-01-14")
            })
        );
        assert_eq!(at("2027-01-15"), None);
        // Past the configured meetings, one every four weeks.
        assert_eq!(
            stage(d("2027-01-31"), &meetings, 7, d("2027-02-05")),
            Some(Stage::Reminded {
                meeting: d("2027-02-11")
            })
        );
        assert_eq!(stage(d("2027-01-31"), &[], 7, d("2027-06-01")), None);
    }
}
