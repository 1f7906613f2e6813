//! Redirects, followed by hand under three rules. The client's own policy is
//! `Policy::none()`: reqwest's policy sees each hop, but cannot tell the caller that it
//! stripped the credentials on the way, and it sends the previous URL (query string and all)
//! as `Referer` to the next host. Here every hop is a request of its own.
//!
//! Owns the rules: a redirect (301, 302, 303, 307, 308 with a `Location`) is followed at most
//! [`MAX_REDIRECTS`] times, only to `http`/`https`, and never from `https` to plain `http`
//! (the extract would cross the network in clear). The source's credentials (basic, bearer,
//! or `user:password@` in its URL) go only to the scheme, host and port of its configured
//! URL, as curl does (Go's net/http and Python's requests much the same): a redirect to
//! another host is followed without them (a pre-signed download link needs none), said in
//! the log, and a 401 or 403 there says that the credentials were not sent. Every URL shown
//! is redacted.

use reqwest::header::{HeaderMap, LOCATION};
use reqwest::{Method, StatusCode, Url};

use super::{AttemptFailed, authorize, send_failed};
use crate::secret::redact_url;
use crate::source::{FetchFailure, SourceSettings};

/// The longest chain of redirects followed (reqwest's and Go's default too).
pub(in crate::source) const MAX_REDIRECTS: usize = 10;

/// The final answer, after any redirects.
pub(in crate::source) struct Sent {
    pub resp: reqwest::Response,
    /// The redacted URL of the first other host the redirects went to, when the source has
    /// credentials: they were not sent there, nor anywhere after it but the source's own host.
    pub withheld: Option<String>,
}

impl Sent {
    /// What a status other than success means: a 401 or 403 after the credentials were left
    /// behind says so; any other is the plain status.
    pub fn status_failure(&self) -> FetchFailure {
        let status = self.resp.status();
        match &self.withheld {
            Some(at) if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => {
                FetchFailure::CredentialsWithheld {
                    status: status.as_u16(),
                    at: at.clone(),
                }
            }
            _ => FetchFailure::Status {
                status: status.as_u16(),
            },
        }
    }
}

/// Send `method` to `start` with `headers`, following redirects under the rules above.
/// `name` is the source's, for the log.
pub(in crate::source) async fn send(
    client: &reqwest::Client,
    method: Method,
    start: &Url,
    s: &SourceSettings,
    name: &str,
    headers: &HeaderMap,
) -> Result<Sent, AttemptFailed> {
    let has_credentials = s.username.is_some()
        || s.bearer_token.is_some()
        || !start.username().is_empty()
        || start.password().is_some();
    let mut url = start.clone();
    let mut withheld = None;
    let mut hops = 0;
    loop {
        let mut req = client
            .request(method.clone(), url.clone())
            .headers(headers.clone());
        if same_origin(&url, start) {
            req = authorize(req, s);
        }
        let resp = req.send().await.map_err(send_failed)?;
        let Some(mut next) = next_hop(&resp, &url)? else {
            return Ok(Sent { resp, withheld });
        };
        hops += 1;
        if hops > MAX_REDIRECTS {
            return Err(refused(format!(
                "more than {MAX_REDIRECTS} redirects (the last from {} to {})",
                redact_url(url.as_str()),
                redact_url(next.as_str())
            )));
        }
        // Userinfo only from the configured URL, and only to its own origin.
        let own = same_origin(&next, start);
        let (user, password) = if own {
            (start.username(), start.password())
        } else {
            ("", None)
        };
        // Fails only for a URL with no host, which `next_hop` does not return.
        let _ = next.set_username(user);
        let _ = next.set_password(password);
        if has_credentials && !own && withheld.is_none() {
            let at = redact_url(next.as_str());
            tracing::info!(
                source = name,
                from = %redact_url(url.as_str()),
                to = %at,
                "Redirected to another host: the source's credentials are not sent there."
            );
            withheld = Some(at);
        }
        url = next;
    }
}

/// Scheme, host and port: what credentials are bound to.
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Where a redirect answer sends us, checked against the rules; `None` for any other answer
/// (a 3xx without a `Location` stands as its status).
fn next_hop(resp: &reqwest::Response, from: &Url) -> Result<Option<Url>, AttemptFailed> {
    let status = resp.status().as_u16();
    if !matches!(status, 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    let Some(location) = resp.headers().get(LOCATION) else {
        return Ok(None);
    };
    let shown_from = redact_url(from.as_str());
    let next = location
        .to_str()
        .ok()
        .and_then(|l| from.join(l).ok())
        .ok_or_else(|| {
            refused(format!(
                "{shown_from} answered HTTP {status} with a Location that is not a URL"
            ))
        })?;
    let shown_next = redact_url(next.as_str());
    match (from.scheme(), next.scheme()) {
        ("https", "http") => Err(refused(format!(
            "{shown_from} sends to {shown_next}: a redirect from https to plain http is never \
             followed (the extract and any credentials would cross the network unencrypted)"
        ))),
        (_, "http" | "https") => Ok(Some(next)),
        _ => Err(refused(format!(
            "{shown_from} sends to {shown_next}: a redirect is followed only to http or https"
        ))),
    }
}

fn refused(why: String) -> AttemptFailed {
    AttemptFailed::fatal(FetchFailure::Redirect(why))
}
