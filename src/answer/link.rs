//! A link's grant and its signature: `v1.PAYLOAD.MAC`, the payload the grant's JSON and the MAC
//! its HMAC-SHA-256 under the deployment's key, both base64url. The grant names the area, the
//! recipient it was made for, what it asks and when it expires, so a link opens one item for
//! one person for a while and nothing else; changing any byte of it breaks the MAC.
//!
//! Owns: making and checking a link, and its id (what "used" is recorded against). Pure.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Ask;

/// The longest link token read: longer is refused before any decoding.
pub const MAX_TOKEN: usize = 1024;
/// The shortest key accepted, in bytes: a MAC key as long as the MAC.
pub const MIN_KEY: usize = 32;

const VERSION: &str = "v1";

/// What a link grants: to whom, for what, in which area, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The area's id.
    pub area: String,
    /// The recipient's address the link was made for: who an answer is recorded as from.
    pub to: String,
    #[serde(flatten)]
    pub ask: Ask,
    /// When it was made and when it expires (Unix seconds).
    pub made: i64,
    pub expires: i64,
}

/// Why a link is refused. The words are the page's: they say which, never what the link held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("this link is not one sendwatch made, or it was changed")]
    Invalid,
    #[error("this link has expired; the next digest carries a new one")]
    Expired,
    #[error("this link has already been used")]
    Used,
    #[error("this link is for another item")]
    Foreign,
}

/// The deployment's signing key.
#[derive(Clone)]
pub struct LinkKey(hmac::Key);

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey(***)")
    }
}

impl LinkKey {
    /// A key from the secret's bytes; `None` if shorter than [`MIN_KEY`].
    pub fn new(secret: &[u8]) -> Option<LinkKey> {
        (secret.len() >= MIN_KEY).then(|| LinkKey(hmac::Key::new(hmac::HMAC_SHA256, secret)))
    }

    /// The link token for `grant`.
    pub fn sign(&self, grant: &Grant) -> String {
        let json = serde_json::to_vec(grant).unwrap_or_default();
        let payload = B64.encode(json);
        let signed = format!("{VERSION}.{payload}");
        let mac = hmac::sign(&self.0, signed.as_bytes());
        format!("{signed}.{}", B64.encode(mac.as_ref()))
    }

    /// The grant of a token this key signed, if it has not expired at `now`. The MAC is checked
    /// (in constant time) before the payload is read.
    pub fn open(&self, token: &str, now: DateTime<Utc>) -> Result<Grant, LinkError> {
        if token.len() > MAX_TOKEN {
            return Err(LinkError::Invalid);
        }
        let (signed, mac) = token.rsplit_once('.').ok_or(LinkError::Invalid)?;
        let mac = B64.decode(mac).map_err(|_| LinkError::Invalid)?;
        hmac::verify(&self.0, signed.as_bytes(), &mac).map_err(|_| LinkError::Invalid)?;
        let payload = signed
            .strip_prefix(VERSION)
            .and_then(|p| p.strip_prefix('.'))
            .ok_or(LinkError::Invalid)?;
        let json = B64.decode(payload).map_err(|_| LinkError::Invalid)?;
        let grant: Grant = serde_json::from_slice(&json).map_err(|_| LinkError::Invalid)?;
        if now.timestamp() >= grant.expires {
            return Err(LinkError::Expired);
        }
        Ok(grant)
    }

    /// A form's anti-forgery value for `link` and the browser's `nonce` (the cookie set with
    /// the form): a cross-site page can neither read the cookie nor make the value.
    pub fn csrf(&self, link: &str, nonce: &str) -> String {
        let mac = hmac::sign(&self.0, format!("csrf.{link}.{nonce}").as_bytes());
        B64.encode(mac.as_ref())
    }

    /// Whether `value` is [`LinkKey::csrf`] of `link` and `nonce` (constant time).
    pub fn csrf_ok(&self, link: &str, nonce: &str, value: &str) -> bool {
        let Ok(mac) = B64.decode(value) else {
            return false;
        };
        hmac::verify(&self.0, format!("csrf.{link}.{nonce}").as_bytes(), &mac).is_ok()
    }
}

/// A token's id: what its use is recorded against (the SHA-256 of the token, hex), so the
/// store never holds a working link.
pub fn link_id(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn key() -> LinkKey {
        LinkKey::new(&[7u8; 32]).expect("key")
    }

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(s, 0).single().expect("time")
    }

    fn grant() -> Grant {
        Grant {
            area: "sefton".into(),
            to: "lead@example.org".into(),
            ask: Ask::Commentary {
                kpi: "1/2a".into(),
                period: "2021-06".into(),
            },
            made: 1_000,
            expires: 2_000,
        }
    }

    #[test]
    fn a_signed_grant_opens_until_it_expires() {
        let token = key().sign(&grant());
        assert_eq!(key().open(&token, at(1_999)), Ok(grant()));
        assert_eq!(key().open(&token, at(2_000)), Err(LinkError::Expired));
    }

    #[test]
    fn any_changed_byte_another_key_or_a_long_token_is_refused() {
        let token = key().sign(&grant());
        for i in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).expect("ascii");
            if changed != token {
                assert_eq!(
                    key().open(&changed, at(1_500)),
                    Err(LinkError::Invalid),
                    "{i}"
                );
            }
        }
        let other = LinkKey::new(&[8u8; 32]).expect("key");
        assert_eq!(other.open(&token, at(1_500)), Err(LinkError::Invalid));
        let long = format!("{token}{}", "A".repeat(MAX_TOKEN));
        assert_eq!(key().open(&long, at(1_500)), Err(LinkError::Invalid));
        assert_eq!(key().open("", at(1_500)), Err(LinkError::Invalid));
    }

    #[test]
    fn a_forged_payload_with_a_later_expiry_is_refused() {
        let token = key().sign(&grant());
        let (_, mac) = token.rsplit_once('.').expect("mac");
        let mut g = grant();
        g.expires = i64::MAX;
        let forged = key().sign(&g);
        let (signed, _) = forged.rsplit_once('.').expect("mac");
        assert_eq!(
            key().open(&format!("{signed}.{mac}"), at(1_500)),
            Err(LinkError::Invalid)
        );
    }

    #[test]
    fn short_keys_are_refused_and_the_key_is_never_printed() {
        assert!(LinkKey::new(&[1u8; 31]).is_none());
        assert_eq!(format!("{:?}", key()), "LinkKey(***)");
    }

    #[test]
    fn the_csrf_value_binds_link_and_nonce() {
        let k = key();
        let v = k.csrf("L", "N");
        assert!(k.csrf_ok("L", "N", &v));
        assert!(!k.csrf_ok("L", "M", &v));
        assert!(!k.csrf_ok("K", "N", &v));
        assert!(!k.csrf_ok("L", "N", "not base64!"));
    }

    #[test]
    fn the_link_id_is_the_tokens_digest_not_the_token() {
        let token = key().sign(&grant());
        let id = link_id(&token);
        assert_eq!(id.len(), 64);
        assert!(!token.contains(&id));
        assert_eq!(id, link_id(&token));
    }
}
