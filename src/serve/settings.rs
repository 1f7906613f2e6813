//! `[http]`: where the daemon serves `/healthz`, `/metrics` and the live board view, if at
//! all, and the credential that guards them. Read by config, used by [`super`].

use std::net::SocketAddr;
use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

/// `[http]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// `IP:PORT` the daemon listens on; `""` turns HTTP off.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// A bearer token every request must carry (`Authorization: Bearer T`, or HTTP Basic
    /// with T as the password, for a browser). Required on an address other than loopback.
    /// Inline, as `token_file`, or the systemd credential `http_token`.
    #[serde(default)]
    pub token: Option<SecretString>,
    pub token_file: Option<PathBuf>,
}

fn default_listen() -> String {
    "127.0.0.1:9187".into()
}

impl Default for HttpSettings {
    fn default() -> HttpSettings {
        HttpSettings {
            listen: default_listen(),
            token: None,
            token_file: None,
        }
    }
}

/// Shortest token accepted: guessing one must be out of reach.
pub const MIN_TOKEN_CHARS: usize = 32;

impl HttpSettings {
    /// The address to listen on; `None` when HTTP is off (or the address is invalid, which
    /// [`HttpSettings::check`] reports).
    pub fn addr(&self) -> Option<SocketAddr> {
        let l = self.listen.trim();
        if l.is_empty() { None } else { l.parse().ok() }
    }

    /// Once the secrets are read (a token may come from a file or a systemd credential): a
    /// token too short to resist guessing, or an address other than loopback with no token.
    /// The key at fault and what is wrong.
    pub fn check_resolved(&self) -> Option<(String, String)> {
        if let Some(t) = &self.token
            && secrecy::ExposeSecret::expose_secret(t)
                .trim()
                .chars()
                .count()
                < MIN_TOKEN_CHARS
        {
            return Some((
                "http.token".into(),
                format!(
                    "must be at least {MIN_TOKEN_CHARS} characters (e.g. `openssl rand -hex 32`)"
                ),
            ));
        }
        match self.addr() {
            Some(a) if !a.ip().is_loopback() && self.token.is_none() => Some((
                "http.listen".into(),
                format!(
                    "`{a}` is not a loopback address, and no credentials are set: the board view \
                     and the metrics would be open to the network (set http.token_file, or the \
                     systemd credential http_token)"
                ),
            )),
            _ => None,
        }
    }

    pub fn check(&self, bad: &mut impl FnMut(String, String)) {
        crate::secret::check_pair(bad, "http.token", &self.token, &self.token_file);
        let l = self.listen.trim();
        if l.is_empty() {
            return;
        }
        // An address other than loopback needs the token: checked once it is read.
        if l.parse::<SocketAddr>().is_err() {
            bad(
                "http.listen".into(),
                format!("`{l}` is not IP:PORT (e.g. 127.0.0.1:9187; \"\" turns HTTP off)"),
            );
        }
    }
}
