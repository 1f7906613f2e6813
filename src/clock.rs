//! Where the time comes from: the system's clock, or a fixed instant (a test, or a replay of a
//! past run). An [`crate::job::App`] holds one; a run reads it once at its start and every
//! time the run writes (its fetches, results, risk changes, mail) is that `now`, so a run has
//! one instant and a test can pin it. The end of a run, leases and delivery read the same
//! clock, later.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    /// The system's clock.
    #[default]
    System,
    /// Always this instant.
    Fixed(DateTime<Utc>),
}

impl Clock {
    pub fn now(self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(t) => t,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_always_says_its_instant_and_the_system_one_moves_on() {
        let t = DateTime::parse_from_rfc3339("2021-08-02T07:00:00Z")
            .expect("instant")
            .with_timezone(&Utc);
        assert_eq!((Clock::Fixed(t).now(), Clock::Fixed(t).now()), (t, t));
        let before = Utc::now();
        assert!(Clock::System.now() >= before);
    }
}
