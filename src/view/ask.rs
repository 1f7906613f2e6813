//! What a digest asks a person for (a manual KPI's value, an exception report's commentary,
//! an action's progress), in plain words, and the one place where the link that answers it
//! is made.
//!
//! Owns: [`Request`] (what is asked of whom), [`LinkSetup`] (what making links needs: the
//! deployment's key and public URL, the area, how long a link opens its form), [`Linker`]
//! (one digest's: its recipient and time) and [`link`]. A board member or a sub-group owner
//! reads the digest, not an operator: no request names a command, the link does the asking.
//! Pure: the time comes in with the linker; no global state.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use crate::answer::{self, Ask, LinkKey};

/// One thing a digest asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request<'a> {
    /// A manual KPI's value for a period (its `Period` key, e.g. "2026-Q2").
    Value { kpi: &'a str, period: &'a str },
    /// The owner's exception report on a KPI for a period.
    Commentary { kpi: &'a str, period: &'a str },
    /// An action's progress update.
    Progress { action: &'a str },
}

/// What making an area's answer links needs. Exists only when answering is set up: a public
/// URL and a key of [`crate::answer::link::MIN_KEY`] bytes or more.
#[derive(Debug, Clone)]
pub struct LinkSetup {
    key: LinkKey,
    /// The public URL, without a trailing `/`.
    base: String,
    area: String,
    days: u32,
}

impl LinkSetup {
    /// The setup from `[http] public_url` and `link_key` for area `area` (its id), links open
    /// `days`; `None` without a public URL or a usable key (the digests then carry the words
    /// alone).
    pub fn of(
        public_url: Option<&str>,
        key: Option<&SecretString>,
        area: &str,
        days: u32,
    ) -> Option<LinkSetup> {
        let key = LinkKey::new(key?.expose_secret().as_bytes())?;
        Some(LinkSetup::new(key, public_url?, area, days))
    }

    pub fn new(key: LinkKey, base: &str, area: &str, days: u32) -> LinkSetup {
        LinkSetup {
            key,
            base: base.trim_end_matches('/').to_string(),
            area: area.to_string(),
            days,
        }
    }

    /// The linker of one digest to `to`, made at `now`; `None` for a digest to nobody (a
    /// sub-group's report rendered for the shell).
    pub fn for_recipient<'a>(&'a self, to: &'a str, now: DateTime<Utc>) -> Option<Linker<'a>> {
        let to = to.trim();
        (!to.is_empty()).then_some(Linker {
            setup: self,
            to,
            now,
        })
    }

    /// The link granting `ask` to `to`, made at `now`.
    pub fn url(&self, to: &str, ask: Ask, now: DateTime<Utc>) -> String {
        let grant = answer::grant(&self.area, to, ask, now, self.days);
        format!("{}/answer/{}", self.base, self.key.sign(&grant))
    }
}

/// One digest's links: each is made for the digest's own recipient, at the digest's time.
#[derive(Debug, Clone, Copy)]
pub struct Linker<'a> {
    setup: &'a LinkSetup,
    to: &'a str,
    now: DateTime<Utc>,
}

/// The link that answers `request` for the digest's reader; `None` without a linker (no
/// public URL or key: the request's words alone).
pub fn link(linker: Option<&Linker<'_>>, request: Request<'_>) -> Option<String> {
    let l = linker?;
    let ask = match request {
        Request::Value { kpi, period } => Ask::Value {
            kpi: kpi.to_string(),
            period: period.to_string(),
        },
        Request::Commentary { kpi, period } => Ask::Commentary {
            kpi: kpi.to_string(),
            period: period.to_string(),
        },
        Request::Progress { action } => Ask::Action {
            reference: action.to_string(),
        },
    };
    Some(l.setup.url(l.to, ask, l.now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn setup() -> LinkSetup {
        LinkSetup::new(
            LinkKey::new(&[3u8; 32]).expect("key"),
            "http://127.0.0.1:9187/",
            "sefton",
            14,
        )
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0)
            .single()
            .expect("time")
    }

    #[test]
    fn a_link_grants_the_request_to_the_digests_recipient_until_it_expires() {
        let s = setup();
        let l = s.for_recipient("owner@example.org", at()).expect("linker");
        let url = link(
            Some(&l),
            Request::Commentary {
                kpi: "1/2a",
                period: "2021-06",
            },
        )
        .expect("a link");
        let token = url
            .strip_prefix("http://127.0.0.1:9187/answer/")
            .expect("under the public URL, one slash");
        let g = LinkKey::new(&[3u8; 32])
            .expect("key")
            .open(token, at())
            .expect("opens");
        assert_eq!(g.area, "sefton");
        assert_eq!(g.to, "owner@example.org");
        assert_eq!(
            g.ask,
            Ask::Commentary {
                kpi: "1/2a".into(),
                period: "2021-06".into()
            }
        );
        assert_eq!(g.made, at().timestamp());
        assert_eq!(g.expires, at().timestamp() + 14 * 86_400);
        let other = s.for_recipient("lead@example.org", at()).expect("linker");
        let theirs = link(Some(&other), Request::Progress { action: "1.1" }).expect("a link");
        let g = LinkKey::new(&[3u8; 32])
            .expect("key")
            .open(theirs.rsplit('/').next().expect("token"), at())
            .expect("opens");
        assert_eq!(g.to, "lead@example.org", "each recipient their own");
        assert_eq!(
            g.ask,
            Ask::Action {
                reference: "1.1".into()
            }
        );
    }

    #[test]
    fn no_linker_or_no_recipient_no_link() {
        assert_eq!(
            link(
                None,
                Request::Value {
                    kpi: "1/4",
                    period: "2026-Q3"
                }
            ),
            None
        );
        assert!(setup().for_recipient("  ", at()).is_none());
    }
}
