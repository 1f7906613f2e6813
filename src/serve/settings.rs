//! `[http]`: where the daemon serves `/healthz`, `/metrics` and the live board view, if at
//! all, the credential that guards them, and the bounds on its connections (how many at
//! once, how long a request head and a silent connection may take). Read by config, used by
//! [`super`].

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
    /// With several areas: the deployment's operator token, which sees the health, metrics
    /// and run ledger of every area (never an area's figures: those need the area's own
    /// `token`). Inline, as `operator_token_file`, or the credential `http_operator_token`.
    #[serde(default)]
    pub operator_token: Option<SecretString>,
    pub operator_token_file: Option<PathBuf>,
    /// The address people reach the daemon's forms at, as a digest's links name it: the
    /// council's reverse proxy in front of the daemon (`https://send.example.gov.uk/sendwatch`),
    /// or a loopback URL for one machine. Unset: digests carry no links (issue 22).
    #[serde(default)]
    pub public_url: Option<String>,
    /// The key the links are signed with (at least 32 bytes). Inline, as `link_key_file`, or
    /// the systemd credential `http_link_key`. Required with `public_url`.
    #[serde(default)]
    pub link_key: Option<SecretString>,
    pub link_key_file: Option<PathBuf>,
    /// Most connections served at once; more wait in the kernel's queue, holding none of the
    /// daemon's file descriptors. Never more than half the open-file limit, whatever is set
    /// here: the other half is kept for runs.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// A connection that has not sent a whole request head this long after it opened (or
    /// after its last answer) is closed: a client that trickles a request, or keeps a
    /// connection open without asking anything, cannot hold its place.
    #[serde(default = "default_header_read_timeout")]
    pub header_read_timeout_secs: u64,
    /// A connection on which nothing is read or written this long, with no request being
    /// answered, is closed (a client that stopped reading its answer).
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_secs: u64,
}

/// The link key config/sendwatch.toml ships so that the README's first run shows working
/// links on one machine. Public: refused with a `public_url` other than loopback.
pub const EXAMPLE_LINK_KEY: &str = "example-link-key-of-the-readme-loopback-only-never-deploy";

/// Whether `url`'s host is this machine (`localhost`, 127.0.0.0/8, `::1`).
fn loopback_url(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    let Some(host) = parsed.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn default_listen() -> String {
    "127.0.0.1:9187".into()
}
fn default_max_connections() -> usize {
    128
}
fn default_header_read_timeout() -> u64 {
    10
}
fn default_idle_timeout() -> u64 {
    60
}

/// The ranges `check` accepts: (least, most).
const MAX_CONNECTIONS: (usize, usize) = (1, 10_000);
const HEADER_READ_TIMEOUT: (u64, u64) = (1, 300);
const IDLE_TIMEOUT: (u64, u64) = (1, 3600);

impl Default for HttpSettings {
    fn default() -> HttpSettings {
        HttpSettings {
            listen: default_listen(),
            token: None,
            token_file: None,
            operator_token: None,
            operator_token_file: None,
            public_url: None,
            link_key: None,
            link_key_file: None,
            max_connections: default_max_connections(),
            header_read_timeout_secs: default_header_read_timeout(),
            idle_timeout_secs: default_idle_timeout(),
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
        for (key, token) in [
            ("http.token", &self.token),
            ("http.operator_token", &self.operator_token),
        ] {
            if let Some(t) = token
                && secrecy::ExposeSecret::expose_secret(t)
                    .trim()
                    .chars()
                    .count()
                    < MIN_TOKEN_CHARS
            {
                return Some((
                    key.into(),
                    format!(
                        "must be at least {MIN_TOKEN_CHARS} characters (e.g. `openssl rand -hex 32`)"
                    ),
                ));
            }
        }
        if self.public_url.is_some() {
            let len = self
                .link_key
                .as_ref()
                .map_or(0, |k| secrecy::ExposeSecret::expose_secret(k).len());
            if len < crate::answer::link::MIN_KEY {
                return Some((
                    "http.link_key".into(),
                    format!(
                        "with http.public_url, a key of at least {} bytes signs the links                          (e.g. `openssl rand -hex 32` into http.link_key_file)",
                        crate::answer::link::MIN_KEY
                    ),
                ));
            }
            // The shipped example key is public: anyone could sign links with it.
            if let Some(url) = &self.public_url
                && self
                    .link_key
                    .as_ref()
                    .is_some_and(|k| secrecy::ExposeSecret::expose_secret(k) == EXAMPLE_LINK_KEY)
                && !loopback_url(url)
            {
                return Some((
                    "http.link_key".into(),
                    format!(
                        "is the example key shipped in config/sendwatch.toml, which anyone can \
                         read, and http.public_url `{url}` is not loopback: make your own \
                         (`openssl rand -hex 32` into http.link_key_file, or the systemd \
                         credential http_link_key)"
                    ),
                ));
            }
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
        crate::secret::check_pair(
            bad,
            "http.operator_token",
            &self.operator_token,
            &self.operator_token_file,
        );
        crate::secret::check_pair(bad, "http.link_key", &self.link_key, &self.link_key_file);
        if let Some(url) = &self.public_url
            && let Err(m) = check_public_url(url)
        {
            bad("http.public_url".into(), m);
        }
        let mut range = |key: &str, value: u64, (least, most): (u64, u64)| {
            if !(least..=most).contains(&value) {
                bad(
                    format!("http.{key}"),
                    format!("must be between {least} and {most} (is {value})"),
                );
            }
        };
        let (least, most) = MAX_CONNECTIONS;
        range(
            "max_connections",
            self.max_connections as u64,
            (least as u64, most as u64),
        );
        range(
            "header_read_timeout_secs",
            self.header_read_timeout_secs,
            HEADER_READ_TIMEOUT,
        );
        range("idle_timeout_secs", self.idle_timeout_secs, IDLE_TIMEOUT);
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

/// A public URL is `http(s)://host[:port][/path]`, with no query, fragment or credentials: the
/// links append `/answer/TOKEN` to it.
fn check_public_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("must start http:// or https://".into());
    }
    if parsed.host_str().is_none() {
        return Err("names no host".into());
    }
    if parsed.query().is_some() || parsed.fragment().is_some() || !parsed.username().is_empty() {
        return Err("must carry no query, fragment or credentials".into());
    }
    Ok(())
}

impl HttpSettings {
    /// The link to `path` (e.g. `answer/TOKEN`) under the public URL, if one is set.
    pub fn public_link(&self, path: &str) -> Option<String> {
        let base = self.public_url.as_deref()?.trim_end_matches('/');
        Some(format!("{base}/{path}"))
    }
}
