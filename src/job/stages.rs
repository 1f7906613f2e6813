//! How long each step of a run took, in wall time: a run's report carries it, so that
//! `sendwatch bench national` can say where a cycle's time goes. Measured with
//! [`std::time::Instant`], never the run's clock (a test's fixed clock does not stop it).

use std::time::{Duration, Instant};

/// The steps a run's time is told under, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Fetching each source's extract to the spool.
    Fetch,
    /// Validating it and swapping it in.
    Load,
    /// Rating the job's KPIs (and recording each result).
    Kpis,
    /// Assessing the risk register and reading back its news and the KPI history.
    Risks,
    /// Planning the digests and queueing them in the outbox.
    Digests,
    /// Delivering what is due in the outbox.
    Delivery,
    /// The rest: values entered by hand, the action log, what stands in the store, the
    /// ledger's writes.
    Other,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::Fetch,
        Stage::Load,
        Stage::Kpis,
        Stage::Risks,
        Stage::Digests,
        Stage::Delivery,
        Stage::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Fetch => "fetch",
            Stage::Load => "load",
            Stage::Kpis => "KPIs",
            Stage::Risks => "risks",
            Stage::Digests => "digests queued",
            Stage::Delivery => "delivery",
            Stage::Other => "other",
        }
    }
}

/// Each [`Stage`]'s wall time in one run (or summed over several).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stages([Duration; 7]);

impl Stages {
    pub fn add(&mut self, stage: Stage, took: Duration) {
        self.0[stage as usize] += took;
    }

    pub fn get(&self, stage: Stage) -> Duration {
        self.0[stage as usize]
    }

    /// Every stage's time added up.
    pub fn total(&self) -> Duration {
        self.0.iter().sum()
    }

    /// Adds `other`'s times to these (a cycle's sum over its runs).
    pub fn merge(&mut self, other: &Stages) {
        for s in Stage::ALL {
            self.add(s, other.get(s));
        }
    }

    /// Adds the time since `since` to `stage` and moves `since` to now, where the next
    /// stage starts.
    pub(crate) fn lap(&mut self, stage: Stage, since: &mut Instant) {
        let now = Instant::now();
        self.add(stage, now.saturating_duration_since(*since));
        *since = now;
    }

    /// Puts what `whole` has beyond the stages told so far under [`Stage::Other`].
    pub(crate) fn rest_is_other(&mut self, whole: Duration) {
        let told = self.total();
        self.add(Stage::Other, whole.saturating_sub(told));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_add_up_and_the_rest_is_other() {
        let ms = Duration::from_millis;
        let mut s = Stages::default();
        s.add(Stage::Fetch, ms(10));
        s.add(Stage::Fetch, ms(5));
        s.add(Stage::Kpis, ms(20));
        s.rest_is_other(ms(50));
        assert_eq!(s.get(Stage::Fetch), ms(15));
        assert_eq!(s.get(Stage::Other), ms(15));
        assert_eq!(s.total(), ms(50));
        let mut sum = Stages::default();
        sum.merge(&s);
        sum.merge(&s);
        assert_eq!(sum.get(Stage::Kpis), ms(40));
        // Less time than was told: nothing is taken away.
        s.rest_is_other(ms(1));
        assert_eq!(s.total(), ms(50));
    }
}
