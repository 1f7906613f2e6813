//! What every message of one run shares ([`RunMail`]): built once per run by `job`, read by
//! the queueing of digests ([`super::outbox`]) and of data notices ([`super::data_news`]).

use chrono::{DateTime, TimeDelta, Utc};

use super::route::Router;
use super::silence::Silence;

/// What a run's mail shares: who it is from, which run, the routes and silences, the repeat
/// interval and the run's `now`. Built once per run.
pub struct RunMail<'a> {
    pub area: &'a str,
    pub subject_prefix: &'a str,
    pub job: &'a str,
    pub run_id: i64,
    pub router: &'a Router<'a>,
    pub silences: &'a [Silence],
    /// The template environment the notices are laid out in (the digests').
    pub templates: &'a super::Templates,
    /// `[notify] repeat_interval_hours`: between two tellings of the same news.
    pub repeat: TimeDelta,
    /// The rules the notices' counts are written by (`[disclosure]`).
    pub disclosure: crate::disclose::Disclosure,
    pub now: DateTime<Utc>,
}
