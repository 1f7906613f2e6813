//! `[daemon]`: how the daemon stops. Read by config, used by [`super`].
//!
//! Owns: the settings type, the range of its grace period and its check.

use serde::Deserialize;

use crate::bounds::Bound;

/// `stop_grace_secs`: no stop should wait more than an hour (systemd's own wait is shorter).
pub const STOP_GRACE_SECS: Bound<u64> = Bound::new(
    0,
    3_600,
    "an hour; keep it under the unit's TimeoutStopSec=",
);

/// `[daemon]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonSettings {
    /// After SIGTERM, how long running jobs may take to finish before they are cancelled and
    /// marked abandoned. Keep it under the unit's `TimeoutStopSec=` (60). 0 to 3600
    /// ([`STOP_GRACE_SECS`]).
    #[serde(default = "default_grace")]
    pub stop_grace_secs: u64,
}

fn default_grace() -> u64 {
    45
}

impl Default for DaemonSettings {
    fn default() -> DaemonSettings {
        DaemonSettings {
            stop_grace_secs: default_grace(),
        }
    }
}

impl DaemonSettings {
    pub fn check(&self, bad: &mut dyn FnMut(String, String)) {
        STOP_GRACE_SECS.check(bad, "daemon.stop_grace_secs", self.stop_grace_secs);
    }

    /// The grace period, within its range whatever was configured (it is added to now).
    pub fn grace(&self) -> std::time::Duration {
        std::time::Duration::from_secs(STOP_GRACE_SECS.clamp(self.stop_grace_secs))
    }
}
