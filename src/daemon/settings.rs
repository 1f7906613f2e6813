//! `[daemon]`: how the daemon stops. Read by config, used by [`super`].

use serde::Deserialize;

/// `[daemon]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonSettings {
    /// After SIGTERM, how long running jobs may take to finish before they are cancelled and
    /// marked abandoned. Keep it under the unit's `TimeoutStopSec=` (60).
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
    pub fn check(&self, bad: &mut impl FnMut(String, String)) {
        if self.stop_grace_secs > 3600 {
            bad(
                "daemon.stop_grace_secs".into(),
                "must be at most 3600 (and under the unit's TimeoutStopSec=)".into(),
            );
        }
    }
}
