//! `[http]`: where the daemon serves `/healthz` and `/metrics`, if at all. Read by config,
//! used by [`super`].

use std::net::SocketAddr;

use serde::Deserialize;

/// `[http]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// `IP:PORT` the daemon listens on; `""` turns HTTP off.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Allow an address other than loopback (the endpoints have no authentication).
    #[serde(default)]
    pub allow_remote: bool,
}

fn default_listen() -> String {
    "127.0.0.1:9187".into()
}

impl Default for HttpSettings {
    fn default() -> HttpSettings {
        HttpSettings {
            listen: default_listen(),
            allow_remote: false,
        }
    }
}

impl HttpSettings {
    /// The address to listen on; `None` when HTTP is off (or the address is invalid, which
    /// [`HttpSettings::check`] reports).
    pub fn addr(&self) -> Option<SocketAddr> {
        let l = self.listen.trim();
        if l.is_empty() { None } else { l.parse().ok() }
    }

    pub fn check(&self, bad: &mut impl FnMut(String, String)) {
        let l = self.listen.trim();
        if l.is_empty() {
            return;
        }
        match l.parse::<SocketAddr>() {
            Err(_) => bad(
                "http.listen".into(),
                format!("`{l}` is not IP:PORT (e.g. 127.0.0.1:9187; \"\" turns HTTP off)"),
            ),
            Ok(a) if !a.ip().is_loopback() && !self.allow_remote => bad(
                "http.listen".into(),
                format!(
                    "`{l}` is not a loopback address; the endpoints have no authentication \
                     (set http.allow_remote = true to allow it)"
                ),
            ),
            Ok(_) => {}
        }
    }
}
