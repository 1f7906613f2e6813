//! `[daemon]`: how many runs the daemon has under way at once, and how it stops. Read by
//! config, used by [`super`].
//!
//! Owns: the settings type, the ranges of its values and its check.

use serde::Deserialize;

use crate::bounds::Bound;

/// `stop_grace_secs`: no stop should wait more than an hour (systemd's own wait is shorter).
pub const STOP_GRACE_SECS: Bound<u64> = Bound::new(
    0,
    3_600,
    "an hour; keep it under the unit's TimeoutStopSec=",
);

/// `max_runs`: runs under way at once, across every area.
pub const MAX_RUNS: Bound<usize> = Bound::new(1, 64, "");

/// `[daemon]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonSettings {
    /// After SIGTERM, how long running jobs may take to finish before they are cancelled and
    /// marked abandoned. Keep it under the unit's `TimeoutStopSec=` (60). 0 to 3600
    /// ([`STOP_GRACE_SECS`]).
    #[serde(default = "default_grace")]
    pub stop_grace_secs: u64,
    /// How many runs (scheduled and catch-up, of every area) are under way at once; a run
    /// due past that waits for one to end before it claims its instant, so a replica with
    /// room takes it first. Each run holds its extracts, figures and digests in memory: 152
    /// areas due at one instant all at once took 319 MiB (`sendwatch bench national`), four
    /// at a time 134 MiB. 1 to 64 ([`MAX_RUNS`]).
    #[serde(default = "default_max_runs")]
    pub max_runs: usize,
}

fn default_grace() -> u64 {
    45
}

fn default_max_runs() -> usize {
    4
}

impl Default for DaemonSettings {
    fn default() -> DaemonSettings {
        DaemonSettings {
            stop_grace_secs: default_grace(),
            max_runs: default_max_runs(),
        }
    }
}

impl DaemonSettings {
    pub fn check(&self, bad: &mut dyn FnMut(String, String)) {
        STOP_GRACE_SECS.check(bad, "daemon.stop_grace_secs", self.stop_grace_secs);
        MAX_RUNS.check(bad, "daemon.max_runs", self.max_runs);
    }

    /// Runs under way at once, within its range whatever was configured.
    pub fn runs(&self) -> usize {
        MAX_RUNS.clamp(self.max_runs)
    }

    /// The grace period, within its range whatever was configured (it is added to now).
    pub fn grace(&self) -> std::time::Duration {
        std::time::Duration::from_secs(STOP_GRACE_SECS.clamp(self.stop_grace_secs))
    }
}
