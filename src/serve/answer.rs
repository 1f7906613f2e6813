//! `/answer/TOKEN`: the form a digest's link opens, and its post (issue 22). The link is the
//! credential (signed, scoped to one recipient, item and period, expiring, answering once), so
//! these paths need no token of `[http]`; everything else about them is bounded: the token's
//! length, the post's size, each field's, and how often one address may ask.
//!
//! A post must carry the anti-forgery value the form was served with, bound to the link and
//! to a nonce in a same-site cookie; a browser's `Origin` and `Sec-Fetch-Site`, when sent, must
//! say the post comes from the form's own site. What is posted is checked as the CLI checks it
//! and stored as a draft with who (the link's recipient), when and from where; it counts once
//! its approver approves it (an approver's own link opens the draft here, or `sendwatch
//! answers approve` on the server).
//!
//! Owns: the answer routes, the per-address rate limit and the approvers of a draft. These are
//! the only handlers that write the database (drafts and decisions, never anything else).

mod tell;

pub use tell::tell_approvers;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Extension, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;

use super::{AreaView, ServeState};
use crate::answer::entry::{self, Fields};
use crate::answer::link::{LinkError, LinkKey, link_id};
use crate::answer::{Ask, Decision, Grant};
use crate::config::Settings;
use crate::kpi::Period;
use crate::store::{Decided, StoredAnswer};
use crate::view::answer as page;

/// Largest post accepted: a form of four fields of at most 2,000 characters each.
pub const MAX_POST: usize = 32 * 1024;
/// Longest field kept (the checks refuse beyond their own, shorter, limits).
const MAX_FIELD: usize = 4000;
/// Requests to `/answer/` one address may make a minute.
pub const PER_MINUTE: u32 = 30;
/// Addresses the limiter remembers at once; past that it forgets the oldest minute's.
const REMEMBERED: usize = 10_000;
/// The form's nonce cookie.
const COOKIE: &str = "sendwatch_answer";

/// A fixed-window count of requests per address and minute.
#[derive(Debug, Default)]
pub struct Limiter {
    seen: Mutex<HashMap<String, (i64, u32)>>,
}

impl Limiter {
    /// Count a request from `from` at `now`; false once it is over [`PER_MINUTE`].
    pub fn allow(&self, from: &str, now: DateTime<Utc>) -> bool {
        let minute = now.timestamp().div_euclid(60);
        let Ok(mut seen) = self.seen.lock() else {
            return false;
        };
        if seen.len() >= REMEMBERED && !seen.contains_key(from) {
            seen.retain(|_, (m, _)| *m == minute);
            if seen.len() >= REMEMBERED {
                return false;
            }
        }
        let e = seen.entry(from.to_string()).or_insert((minute, 0));
        if e.0 != minute {
            *e = (minute, 0);
        }
        e.1 = e.1.saturating_add(1);
        e.1 <= PER_MINUTE
    }
}

pub fn routes() -> Router<ServeState> {
    Router::new()
        .route("/answer/{token}", get(show).post(post))
        .layer(DefaultBodyLimit::max(MAX_POST))
}

/// Where a request comes from: the peer, or, from a reverse proxy on this machine, the
/// address it forwards for (its last `X-Forwarded-For` entry). Only address characters kept.
fn source(peer: Option<SocketAddr>, headers: &HeaderMap) -> String {
    let peer_ip = peer.map(|p| p.ip());
    let forwarded = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 45
                && v.chars()
                    .all(|c| c.is_ascii_hexdigit() || c == '.' || c == ':')
        });
    match (peer_ip, forwarded) {
        (Some(ip), Some(f)) if ip.is_loopback() => f.to_string(),
        (Some(ip), _) => ip.to_string(),
        (None, _) => "unknown".into(),
    }
}

fn respond(code: StatusCode, body: String, cookie: Option<String>) -> Response {
    let mut r = (
        code,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
                 frame-ancestors 'none'",
            ),
            (header::CACHE_CONTROL, "no-store"),
            // The link is in the address: never send it on to another site. Not
            // `no-referrer`: under it a browser sends `Origin: null` with the form's own post,
            // which `forged` must refuse; `same-origin` sends the true origin here, nothing away.
            (header::REFERRER_POLICY, "same-origin"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        body,
    )
        .into_response();
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        r.headers_mut().insert(header::SET_COOKIE, c);
    }
    r
}

fn refused(code: StatusCode, why: &str) -> Response {
    respond(code, page::message("This link cannot be used", why), None)
}

fn link_refused(e: LinkError) -> Response {
    let code = match e {
        LinkError::Expired | LinkError::Used => StatusCode::GONE,
        LinkError::Invalid | LinkError::Foreign => StatusCode::FORBIDDEN,
    };
    refused(code, &e.to_string())
}

fn failed(e: &dyn std::fmt::Display) -> Response {
    tracing::warn!(error = %e, "An answer page failed.");
    respond(
        StatusCode::SERVICE_UNAVAILABLE,
        page::message(
            "Not available just now",
            "The answer cannot be taken just now; please try again later.",
        ),
        None,
    )
}

/// The deployment's link key, if answering is set up.
fn key_of(st: &ServeState) -> Option<LinkKey> {
    let http = st.http();
    http.public_url.as_ref()?;
    LinkKey::new(http.link_key.as_ref()?.expose_secret().as_bytes())
}

/// Who may approve an answer to `ask` in `s`: the lead of the sub-group that owns the item,
/// and the area's `[answer] approvers`.
pub fn approvers(ask: &Ask, s: &Settings) -> Vec<String> {
    let owner = match ask {
        Ask::Commentary { kpi, .. } | Ask::Value { kpi, .. } => {
            s.kpis.get(kpi).map(|k| k.owner.as_str())
        }
        Ask::Action { reference } => s.actions.get(reference).map(|a| a.owner.as_str()),
        Ask::Approve { .. } => None,
    };
    let mut out: Vec<String> = owner
        .and_then(|o| s.sub_groups.get(o))
        .and_then(|g| g.lead.clone())
        .into_iter()
        .collect();
    for a in &s.answer.approvers {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(a)) {
            out.push(a.clone());
        }
    }
    out
}

/// What an answer is to, in words, and the item's title.
fn heading(ask: &Ask, s: &Settings) -> (String, String) {
    let period = |p: &str| {
        p.parse::<Period>()
            .map(Period::label)
            .unwrap_or_else(|_| p.to_string())
    };
    match ask {
        Ask::Commentary { kpi, period: p } => (
            format!("Commentary on KPI {kpi} for {}", period(p)),
            s.kpis.get(kpi).map(|k| k.title.clone()).unwrap_or_default(),
        ),
        Ask::Value { kpi, period: p } => (
            format!("KPI {kpi}'s value for {}", period(p)),
            s.kpis.get(kpi).map(|k| k.title.clone()).unwrap_or_default(),
        ),
        Ask::Action { reference } => (
            format!("Progress on action {reference}"),
            s.actions
                .get(reference)
                .map(|a| a.title.clone())
                .unwrap_or_default(),
        ),
        Ask::Approve { draft } => (format!("Answer {draft} awaiting approval"), String::new()),
    }
}

/// The checks every request makes: the rate, the key, the grant, its area, an unused link.
struct Opened {
    key: LinkKey,
    grant: Grant,
    link: String,
    area: AreaView,
    from: String,
    now: DateTime<Utc>,
}

async fn open(
    st: &ServeState,
    limiter: &Limiter,
    token: &str,
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
) -> Result<Opened, Response> {
    let now = Utc::now();
    let from = source(peer, headers);
    if !limiter.allow(&from, now) {
        return Err(refused(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests from this address; please wait a minute.",
        ));
    }
    let key = key_of(st).ok_or_else(|| {
        refused(
            StatusCode::NOT_FOUND,
            "Answering from the digest is not set up here.",
        )
    })?;
    let grant = key.open(token, now).map_err(link_refused)?;
    let area = st
        .areas()
        .iter()
        .find(|a| a.settings.area_id().as_str() == grant.area)
        .cloned()
        .ok_or_else(|| link_refused(LinkError::Invalid))?;
    let link = link_id(token);
    match area.store.link_used(&link).await {
        Ok(true) => return Err(link_refused(LinkError::Used)),
        Ok(false) => {}
        Err(e) => return Err(failed(&e)),
    }
    Ok(Opened {
        key,
        grant,
        link,
        area,
        from,
        now,
    })
}

/// The nonce a request's cookie carries, if any.
fn nonce_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
        .filter(|v| v.len() <= 64)
}

fn new_nonce() -> Option<String> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).ok()?;
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

fn cookie(nonce: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={nonce}; Path=/; HttpOnly; SameSite=Strict; Max-Age=86400{secure}")
}

/// The draft an approval link is for, if the link's recipient may decide it.
async fn draft_for(o: &Opened, draft: i64) -> Result<StoredAnswer, Response> {
    let found = o.area.store.answer(draft).await.map_err(|e| failed(&e))?;
    let Some(a) = found else {
        return Err(link_refused(LinkError::Foreign));
    };
    let allowed = approvers(&a.ask, &o.area.settings);
    if !allowed.iter().any(|x| x.eq_ignore_ascii_case(&o.grant.to)) {
        return Err(link_refused(LinkError::Foreign));
    }
    if a.state != "draft" {
        return Err(refused(
            StatusCode::GONE,
            &format!("This answer has been {} already.", a.state),
        ));
    }
    Ok(a)
}

fn approvers_words(ask: &Ask, s: &Settings) -> String {
    let list = approvers(ask, s);
    if list.is_empty() {
        "the plan's performance officer".into()
    } else {
        list.join(" or ")
    }
}

fn form_page(o: &Opened, fields: &Fields, refusals: &[(String, String)], nonce: &str) -> String {
    let (heading, title) = heading(&o.grant.ask, &o.area.settings);
    page::form(&page::FormPage {
        area: &o.grant.area,
        heading,
        title: &title,
        ask: &o.grant.ask,
        fields,
        refusals,
        to: &o.grant.to,
        csrf: &o.key.csrf(&o.link, nonce),
        approvers: &approvers_words(&o.grant.ask, &o.area.settings),
    })
}

fn approve_page(o: &Opened, a: &StoredAnswer, nonce: &str) -> String {
    let (heading, title) = heading(&a.ask, &o.area.settings);
    let s = &o.area.settings;
    let refusals = entry::check(&a.ask, &a.fields, &a.entered_by, &s.kpis, &s.actions, o.now)
        .err()
        .unwrap_or_default();
    page::approve(&page::ApprovePage {
        area: &o.grant.area,
        heading,
        title: &title,
        ask: &a.ask,
        fields: &a.fields,
        entered_by: &a.entered_by,
        entered_at: a.entered_at.format("%-d %b %Y %H:%M UTC").to_string(),
        csrf: &o.key.csrf(&o.link, nonce),
        refusals: &refusals,
    })
}

async fn show(
    State(st): State<ServeState>,
    Extension(limiter): Extension<Arc<Limiter>>,
    Path(token): Path<String>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
) -> Response {
    let o = match open(&st, &limiter, &token, peer.map(|c| (c.0).0), &headers).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Some(nonce) = nonce_of(&headers).or_else(new_nonce) else {
        return failed(&"no random bytes for the form's nonce");
    };
    let secure = st
        .http()
        .public_url
        .is_some_and(|u| u.starts_with("https:"));
    let body = match &o.grant.ask {
        Ask::Approve { draft } => match draft_for(&o, *draft).await {
            Ok(a) => approve_page(&o, &a, &nonce),
            Err(r) => return r,
        },
        _ => form_page(&o, &Fields::new(), &[], &nonce),
    };
    respond(StatusCode::OK, body, Some(cookie(&nonce, secure)))
}

/// The origin (`scheme://host[:port]`) of the public URL.
fn public_origin(st: &ServeState) -> Option<String> {
    let url = reqwest::Url::parse(st.http().public_url.as_deref()?).ok()?;
    Some(url.origin().ascii_serialization())
}

/// A post from another site: its browser says so, or it lacks the form's value.
fn forged(st: &ServeState, o: &Opened, headers: &HeaderMap, csrf: Option<&str>) -> bool {
    let header = |h: &str| headers.get(h).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site").is_some_and(|s| !matches!(s, "same-origin" | "none")) {
        return true;
    }
    if let Some(origin) = header("origin")
        && Some(origin.to_string()) != public_origin(st)
    {
        return true;
    }
    match (nonce_of(headers), csrf) {
        (Some(n), Some(v)) => !o.key.csrf_ok(&o.link, &n, v),
        _ => true,
    }
}

async fn post(
    State(st): State<ServeState>,
    Extension(limiter): Extension<Arc<Limiter>>,
    Path(token): Path<String>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let o = match open(&st, &limiter, &token, peer.map(|c| (c.0).0), &headers).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let posted: Vec<(String, String)> = form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let value = |name: &str| {
        posted
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if forged(&st, &o, &headers, value("csrf")) {
        return refused(
            StatusCode::FORBIDDEN,
            "This form was not sent from the page this link opened. Open the link again.",
        );
    }
    match o.grant.ask.clone() {
        Ask::Approve { draft } => decide(&o, draft, value("decision")).await,
        ask => record(&o, ask, posted, &headers).await,
    }
}

/// An approver's post: approve or reject draft `draft`.
async fn decide(o: &Opened, draft: i64, decision: Option<&str>) -> Response {
    let s = &o.area.settings;
    let a = match draft_for(o, draft).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(decision) = decision.and_then(Decision::parse) else {
        return refused(StatusCode::BAD_REQUEST, "Choose approve or reject.");
    };
    let checked = entry::check(&a.ask, &a.fields, &a.entered_by, &s.kpis, &s.actions, o.now);
    let entry = match (decision, checked) {
        (Decision::Approve, Err(_)) => {
            return refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "This answer no longer passes the checks; it can only be rejected.",
            );
        }
        (Decision::Approve, Ok(e)) => Some(e),
        (Decision::Reject, _) => None,
    };
    let done = o
        .area
        .store
        .decide_answer(
            draft,
            decision,
            entry.as_ref(),
            &o.grant.to,
            Some(&o.link),
            o.now,
        )
        .await;
    match done {
        Ok(Decided::Done) => {
            tracing::info!(area = %o.grant.area, answer = draft, decision = decision.state(), "An answer was decided by link.");
            respond(
                StatusCode::OK,
                page::message(
                    "Thank you",
                    &format!("Answer {draft} is {}.", decision.state()),
                ),
                None,
            )
        }
        Ok(Decided::LinkUsed) => link_refused(LinkError::Used),
        Ok(Decided::NotADraft) => {
            refused(StatusCode::GONE, "This answer has been decided already.")
        }
        Err(e) => failed(&e),
    }
}

/// A recipient's post: check the answer as the CLI would and store it as a draft.
async fn record(
    o: &Opened,
    ask: Ask,
    posted: Vec<(String, String)>,
    headers: &HeaderMap,
) -> Response {
    let s = &o.area.settings;
    let fields = entry::fields_of(&ask, posted, MAX_FIELD);
    if let Err(refusals) = entry::check(&ask, &fields, &o.grant.to, &s.kpis, &s.actions, o.now) {
        let nonce = nonce_of(headers).unwrap_or_default();
        return respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            form_page(o, &fields, &refusals, &nonce),
            None,
        );
    }
    let stored = o
        .area
        .store
        .record_answer(&o.link, &ask, &fields, &o.grant.to, &o.from, o.now)
        .await;
    match stored {
        Ok(Some(id)) => {
            tracing::info!(area = %o.grant.area, answer = id, kind = ask.kind(), "An answer was recorded as a draft.");
            // Its approvers hear of it through the outbox (once per answer and approver); the
            // answer stands whether or not that works.
            let told =
                tell::tell_approvers(&o.area.store, s, id, &ask, &o.grant.to, o.now, o.now).await;
            if let Err(e) = told {
                tracing::warn!(answer = id, error = %e, "The approvers of an answer could not be told.");
            }
            respond(
                StatusCode::OK,
                page::message(
                    "Thank you",
                    &format!(
                        "Your answer is recorded (number {id}). It is a draft until {} \
                         approves it; the board sees it once approved.",
                        approvers_words(&ask, s)
                    ),
                ),
                None,
            )
        }
        Ok(None) => link_refused(LinkError::Used),
        Err(e) => failed(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn an_address_gets_its_quota_a_minute() {
        let l = Limiter::default();
        let t = Utc
            .with_ymd_and_hms(2026, 12, 7, 10, 0, 5)
            .single()
            .expect("time");
        for _ in 0..PER_MINUTE {
            assert!(l.allow("a", t));
        }
        assert!(!l.allow("a", t));
        assert!(l.allow("b", t), "another address has its own");
        let next = t + chrono::TimeDelta::minutes(1);
        assert!(l.allow("a", next), "a new minute, a new quota");
    }

    #[test]
    fn the_source_is_the_peer_or_what_a_local_proxy_forwards() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "198.51.100.7, 203.0.113.9".parse().expect("h"),
        );
        let local: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
        let remote: SocketAddr = "192.0.2.1:5000".parse().expect("addr");
        assert_eq!(source(Some(local), &h), "203.0.113.9");
        assert_eq!(
            source(Some(remote), &h),
            "192.0.2.1",
            "only a local proxy is believed"
        );
        h.insert("x-forwarded-for", "<script>".parse().expect("h"));
        assert_eq!(source(Some(local), &h), "127.0.0.1");
    }
}
