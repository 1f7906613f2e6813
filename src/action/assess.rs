//! Which actions are news for their owners today: overdue (past the due date and neither
//! completed nor business as usual), rated not on track, or with no update for longer than
//! `[action_log] update_days` as the next board meeting nears.
//!
//! Owns: an action's current state (the latest update, else the log's own rating) and the
//! [`Slip`]s. Pure: takes the log, the updates and `today`; reads no clock. A completed or
//! business-as-usual action is never news.

use chrono::{DateTime, Days, NaiveDate, Utc};

use super::{ActionLogSettings, ActionSettings, Actions, Recorded, Status};

/// An action as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State<'a> {
    pub reference: &'a str,
    pub action: &'a ActionSettings,
    /// The latest update's rating, else the log's.
    pub status: Status,
    /// The latest update, if any was recorded.
    pub last: Option<&'a Recorded>,
}

impl State<'_> {
    /// Past its due date and neither completed nor business as usual.
    pub fn is_overdue(&self, today: chrono::NaiveDate) -> bool {
        self.action.due < today && !self.status.is_closed()
    }
}

/// Every action of the log in the plan's order, with its latest update.
pub fn current<'a>(actions: &'a Actions, updates: &'a [Recorded]) -> Vec<State<'a>> {
    actions
        .ordered()
        .into_iter()
        .map(|(reference, action)| {
            let last = updates
                .iter()
                .filter(|u| u.update.reference == reference)
                .max_by_key(|u| (u.entered_at, u.id));
            State {
                reference,
                action,
                status: last.map_or(action.status, |u| u.update.status),
                last,
            }
        })
        .collect()
}

/// Why an action is news.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Why {
    /// Past its due date, not completed.
    Overdue,
    /// Rated "not on track, risk to implementation".
    NotOnTrack,
    /// No update for longer than `update_days` by the next meeting.
    UpdateDue,
}

impl Why {
    /// As notify's `ActionNote::why` words it.
    pub fn as_str(self) -> &'static str {
        match self {
            Why::Overdue => "overdue",
            Why::NotOnTrack => "not on track",
            Why::UpdateDue => "update due",
        }
    }
}

/// An action its owner hears of: the same facts as `notify::ActionNote`, which the notify
/// stage builds from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slip {
    /// The plan's reference, e.g. "1.2.1".
    pub reference: String,
    pub title: String,
    /// Key of the owning sub-group.
    pub owner: String,
    /// The named contact, as the plan gives it.
    pub contact: String,
    pub due: NaiveDate,
    pub status: Status,
    /// The first reason it is news (overdue before not on track before update due).
    pub why: Why,
    /// The board meeting an update is wanted for, whenever one is (whatever `why` is).
    pub meeting: Option<NaiveDate>,
    /// When the latest update was recorded; none if none has been.
    pub last_update: Option<DateTime<Utc>>,
}

/// The actions that are news on `today`, in the plan's order.
pub fn assess(
    actions: &Actions,
    log: &ActionLogSettings,
    updates: &[Recorded],
    today: NaiveDate,
) -> Vec<Slip> {
    current(actions, updates)
        .into_iter()
        .filter(|s| !s.status.is_closed())
        .filter_map(|s| {
            let last_update = s.last.map(|u| u.entered_at);
            let meeting = update_wanted(log, last_update, today);
            let why = if s.action.due < today {
                Why::Overdue
            } else if s.status == Status::NotOnTrack {
                Why::NotOnTrack
            } else if meeting.is_some() {
                Why::UpdateDue
            } else {
                return None;
            };
            Some(Slip {
                reference: s.reference.to_string(),
                title: s.action.title.clone(),
                owner: s.action.owner.clone(),
                contact: s.action.contact.clone(),
                due: s.action.due,
                status: s.status,
                why,
                meeting,
                last_update,
            })
        })
        .collect()
}

/// The next meeting, if it is at most `ask_days_before` away and the latest update (none
/// counts as never) will be more than `update_days` old on its day. Closed actions are the
/// caller's to leave out.
pub fn update_wanted(
    log: &ActionLogSettings,
    last: Option<DateTime<Utc>>,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let meeting = log.next_meeting(today)?;
    let ask_from = meeting
        .checked_sub_days(Days::new(log.ask_days_before.into()))
        .unwrap_or(meeting);
    if today < ask_from {
        return None;
    }
    let fresh_from = meeting
        .checked_sub_days(Days::new(log.update_days.into()))
        .unwrap_or(NaiveDate::MIN);
    match last {
        Some(t) if t.date_naive() >= fresh_from => None,
        _ => Some(meeting),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Update;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    fn action(due: NaiveDate, status: Status) -> ActionSettings {
        ActionSettings {
            title: "Do the thing".into(),
            owner: "performance".into(),
            contact: "SEND team".into(),
            due,
            status,
            cites: Vec::new(),
        }
    }

    fn log(meetings: &[NaiveDate]) -> ActionLogSettings {
        ActionLogSettings {
            meetings: meetings.to_vec(),
            update_days: 30,
            ask_days_before: 7,
        }
    }

    fn update(id: i64, reference: &str, status: Status, at: NaiveDate) -> Recorded {
        Recorded {
            id,
            update: Update {
                reference: reference.into(),
                status,
                note: "n".into(),
                evidence: None,
                next_steps: None,
                author: "ann".into(),
            },
            entered_at: at.and_hms_opt(12, 0, 0).expect("time").and_utc(),
        }
    }

    fn one(due: NaiveDate, status: Status) -> Actions {
        Actions([("1.2.1".to_string(), action(due, status))].into())
    }

    fn why(slips: &[Slip]) -> Vec<(&str, Why)> {
        slips
            .iter()
            .map(|s| (s.reference.as_str(), s.why))
            .collect()
    }

    #[test]
    fn past_due_and_not_completed_is_overdue_the_day_after() {
        let a = one(d(2020, 10, 31), Status::OnTrack);
        let none = log(&[]);
        assert!(
            assess(&a, &none, &[], d(2020, 10, 31)).is_empty(),
            "due today"
        );
        let s = assess(&a, &none, &[], d(2020, 11, 1));
        assert_eq!(why(&s), [("1.2.1", Why::Overdue)]);
        assert_eq!(s[0].owner, "performance");
        assert_eq!(s[0].contact, "SEND team");
    }

    #[test]
    fn not_on_track_is_news_before_its_due_date_from_the_log_or_an_update() {
        let a = one(d(2021, 6, 30), Status::NotOnTrack);
        let s = assess(&a, &log(&[]), &[], d(2020, 2, 1));
        assert_eq!(why(&s), [("1.2.1", Why::NotOnTrack)]);
        let a = one(d(2021, 6, 30), Status::OnTrack);
        let u = [update(1, "1.2.1", Status::NotOnTrack, d(2020, 1, 20))];
        let s = assess(&a, &log(&[]), &u, d(2020, 2, 1));
        assert_eq!(why(&s), [("1.2.1", Why::NotOnTrack)]);
        assert_eq!(s[0].status, Status::NotOnTrack, "the update's rating");
    }

    #[test]
    fn completed_and_business_as_usual_are_never_news() {
        for closed in [Status::Completed, Status::Bau] {
            let a = one(d(2019, 10, 31), closed);
            assert!(assess(&a, &log(&[d(2020, 2, 11)]), &[], d(2020, 2, 10)).is_empty());
            // Closed by an update, past due, with a meeting near: still no news.
            let a = one(d(2019, 10, 31), Status::NotOnTrack);
            let u = [update(1, "1.2.1", closed, d(2019, 12, 1))];
            assert!(
                assess(&a, &log(&[d(2020, 2, 11)]), &u, d(2020, 2, 10)).is_empty(),
                "{closed}"
            );
        }
    }

    #[test]
    fn an_update_is_asked_for_in_the_week_before_a_meeting_when_the_last_is_stale() {
        let a = one(d(2021, 6, 30), Status::OnTrack);
        let meeting = d(2020, 2, 11);
        let l = log(&[d(2020, 1, 14), meeting, d(2020, 3, 10)]);
        // Never updated: asked from 4 February (7 days before), not on 3 February.
        assert!(assess(&a, &l, &[], d(2020, 2, 3)).is_empty());
        let s = assess(&a, &l, &[], d(2020, 2, 4));
        assert_eq!(why(&s), [("1.2.1", Why::UpdateDue)]);
        assert_eq!(s[0].meeting, Some(meeting));
        assert_eq!(s[0].last_update, None);
        // Updated 12 January: 30 days before the meeting, fresh enough.
        let u = [update(1, "1.2.1", Status::OnTrack, d(2020, 1, 12))];
        assert!(assess(&a, &l, &u, d(2020, 2, 4)).is_empty());
        // Updated 11 January: 31 days old at the meeting: asked, until an update comes.
        let u = [update(1, "1.2.1", Status::OnTrack, d(2020, 1, 11))];
        let s = assess(&a, &l, &u, d(2020, 2, 11));
        assert_eq!(
            why(&s),
            [("1.2.1", Why::UpdateDue)],
            "the meeting's own day"
        );
        let mut u = u.to_vec();
        u.push(update(2, "1.2.1", Status::OnTrack, d(2020, 2, 5)));
        assert!(assess(&a, &l, &u, d(2020, 2, 6)).is_empty());
        // No meeting ahead: no ask.
        assert!(assess(&a, &l, &[], d(2020, 3, 11)).is_empty());
    }

    #[test]
    fn overdue_comes_first_and_still_says_the_meeting() {
        let a = one(d(2020, 1, 31), Status::NotOnTrack);
        let s = assess(&a, &log(&[d(2020, 2, 11)]), &[], d(2020, 2, 10));
        assert_eq!(why(&s), [("1.2.1", Why::Overdue)]);
        assert_eq!(s[0].meeting, Some(d(2020, 2, 11)));
    }

    #[test]
    fn the_shipped_log_in_february_2020() {
        let (a, _) = crate::action::catalogue::builtin().expect("log");
        let s = assess(&a, &log(&[]), &[], d(2020, 2, 11));
        // 1.4.2 was due October 2019 (in place late); 1.3 and 3.1 and 5.3 not on track.
        assert_eq!(
            why(&s),
            [
                ("1.3", Why::NotOnTrack),
                ("1.4.2", Why::Overdue),
                ("3.1", Why::NotOnTrack),
                ("5.3", Why::NotOnTrack),
            ]
        );
    }
}
