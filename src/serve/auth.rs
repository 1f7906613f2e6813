//! The token that guards the daemon's HTTP endpoints when `[http] token` is set (required on
//! an address other than loopback): `Authorization: Bearer TOKEN` (Prometheus'
//! `authorization` setting) or HTTP Basic with the token as the password (a browser's
//! prompt; the user name is not checked). `/healthz` stays open: it carries no figures.
//!
//! With several areas, who presents which token decides what they see ([`Who`]): an area's
//! own token opens that area's pages only; the operator's token the health, metrics and run
//! ledger of every area, never an area's figures. A single area's one token opens all.
//!
//! Owns: the check, and who the request is. The comparison is over SHA-256 digests so its
//! time does not depend on where the first wrong character is.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use super::ServeState;

/// Paths served without the token.
const OPEN: &[&str] = &["/healthz"];

fn digest(s: &[u8]) -> [u8; 32] {
    Sha256::digest(s).into()
}

/// Equal without an early exit.
fn same(a: &[u8], b: &[u8]) -> bool {
    digest(a)
        .iter()
        .zip(digest(b).iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The token a request presents, if any.
fn presented(headers: &HeaderMap) -> Option<Vec<u8>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    if let Some(t) = value.strip_prefix("Bearer ") {
        return Some(t.trim().as_bytes().to_vec());
    }
    let b64 = value.strip_prefix("Basic ")?.trim();
    let decoded = decode_base64(b64)?;
    let (_, password) = decoded.split_at(decoded.iter().position(|c| *c == b':')? + 1);
    Some(password.to_vec())
}

/// Standard base64 (RFC 4648, padded), as browsers send Basic credentials. `None` if
/// malformed; bounded by the header's own size limit.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= val(*c)? << (18 - 6 * i);
        }
        let take = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        out.extend_from_slice(&n.to_be_bytes()[1..1 + take]);
    }
    Some(out)
}

/// Who a request is, by the token it presents: the handlers let each see only its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// No token is configured (HTTP on loopback only): every page of every area.
    Anyone,
    /// The deployment's operator token (or a single area's one token): the health, metrics
    /// and ledger of every area; with a single area, its pages too.
    Operator,
    /// An area's own token: that area's pages.
    Area(String),
}

impl Who {
    /// May this request see `area`'s pages (its figures)?
    pub fn sees_area(&self, area: &str, several: bool) -> bool {
        match self {
            Who::Anyone => true,
            Who::Operator => !several,
            Who::Area(a) => a == area,
        }
    }

    /// May this request see the health, metrics and ledger of every area?
    pub fn sees_deployment(&self) -> bool {
        matches!(self, Who::Anyone | Who::Operator)
    }
}

/// Who presents `given`, among the configured tokens; `None` if tokens are set and it is none
/// of them.
fn who(st: &ServeState, given: Option<&[u8]>) -> Option<Who> {
    let areas = st.areas();
    let several = st.several();
    let operator = st.http().operator_token;
    let any_token = operator.is_some() || areas.iter().any(|a| a.settings.http.token.is_some());
    if !any_token {
        return Some(Who::Anyone);
    }
    let given = given?;
    if let Some(op) = &operator
        && same(given, op.expose_secret().trim().as_bytes())
    {
        return Some(Who::Operator);
    }
    for a in areas.iter() {
        if let Some(t) = &a.settings.http.token
            && same(given, t.expose_secret().trim().as_bytes())
        {
            return Some(if several {
                Who::Area(a.settings.area_id().0)
            } else {
                Who::Operator
            });
        }
    }
    None
}

/// Let the request through, knowing [`Who`] it is, when no token is set, the path is open,
/// or it carries a configured token.
pub async fn guard(State(st): State<ServeState>, mut req: Request, next: Next) -> Response {
    let given = presented(req.headers());
    let found = who(&st, given.as_deref());
    if let Some(w) = found.clone() {
        req.extensions_mut().insert(w);
        return next.run(req).await;
    }
    // A digest's answer link is its own credential (serve/answer.rs checks it).
    if req.uri().path().starts_with("/answer/") {
        req.extensions_mut().insert(Who::Area(String::new()));
        return next.run(req).await;
    }
    if OPEN.contains(&req.uri().path()) {
        // Nobody in particular: the open page's public part only.
        req.extensions_mut().insert(Who::Area(String::new()));
        return next.run(req).await;
    }
    match found {
        Some(_) => unreachable!("a known caller was let through above"),
        None => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Basic realm=\"sendwatch\", charset=\"UTF-8\"")],
            "the board view needs the token: Authorization: Bearer TOKEN, or the token as the password\n",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, v.parse().expect("header"));
        h
    }

    #[test]
    fn bearer_and_basic_present_the_token() {
        assert_eq!(presented(&headers("Bearer abc")), Some(b"abc".to_vec()));
        // "board:s3cret:x" in base64: the password is everything after the first colon.
        assert_eq!(
            presented(&headers("Basic Ym9hcmQ6czNjcmV0Ong=")),
            Some(b"s3cret:x".to_vec())
        );
        assert_eq!(presented(&headers("Basic !!!")), None);
        assert_eq!(presented(&headers("Digest x")), None);
        assert_eq!(presented(&HeaderMap::new()), None);
    }

    #[test]
    fn base64_round_trips_every_padding() {
        assert_eq!(decode_base64("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(decode_base64("YWI=").as_deref(), Some(&b"ab"[..]));
        assert_eq!(decode_base64("YWJj").as_deref(), Some(&b"abc"[..]));
        assert_eq!(decode_base64("Y"), None);
    }

    #[test]
    fn same_is_equality() {
        assert!(same(b"token", b"token"));
        assert!(!same(b"token", b"tokem"));
        assert!(!same(b"token", b"token2"));
    }
}
