//! Answering from the digest (issue 22) through the real daemon on SQLite and PostgreSQL, with
//! curl-like requests: a link opens its form, a post is checked as the CLI checks it and kept
//! as a draft (who, when, from where) that counts only once approved; each link answers once;
//! tampered, expired, foreign and other-item links and cross-site posts are refused plainly,
//! changing nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use sendwatch::answer::link::LinkKey;
use sendwatch::answer::{Ask, grant};

use crate::daemon::{spawn, wait_for_line};
use crate::harness::{Delivery, binary, outbox, repo, write_config};
use crate::ops::free_port;
use crate::support::backends;
use crate::support::trials::{Spec, trial};

pub const KEY: &str = "answer-link-key-0123456789abcdef-0123456789";
pub const OWNER: &str = "pm-ap-subgroup@example.org";
const OFFICER: &str = "officer@example.org";
const LEAD: &str = "lead@example.org";
pub const REASON: &str = "Staff vacancies in the assessment team over spring";

pub fn config(dir: &Path, db: &str, port: u16) -> PathBuf {
    let tracker = repo("examples/tracker.csv").display().to_string();
    write_config(
        dir,
        db,
        &tracker,
        Delivery::Folder(&outbox(dir)),
        &format!(
            "[http]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\n\
             link_key = \"{KEY}\"\n\n[answer]\napprovers = [\"{OFFICER}\"]\n\n\
             [sub_groups.performance]\nlead = \"{LEAD}\"\n"
        ),
    )
}

/// `sendwatch answers ARGS` in `dir`: (success, stdout, stderr).
pub fn answers(dir: &Path, cfg: &Path, args: &[&str]) -> (bool, String, String) {
    binary(dir, cfg, &[], &[&["answers"], args].concat())
}

/// A link made by `answers link`.
pub fn link(dir: &Path, cfg: &Path, args: &[&str]) -> String {
    let (ok, out, err) = answers(dir, cfg, &[&["link"], args].concat());
    assert!(ok, "{err}");
    out.trim().to_string()
}

pub struct Page {
    pub code: u16,
    pub body: String,
    pub cookie: Option<String>,
}

async fn get(url: &str) -> Page {
    let r = reqwest::Client::new().get(url).send().await.expect("GET");
    let code = r.status().as_u16();
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_string);
    Page {
        code,
        body: r.text().await.expect("body"),
        cookie,
    }
}

async fn post(
    url: &str,
    cookie: Option<&str>,
    headers: &[(&str, &str)],
    form: &[(&str, &str)],
) -> Page {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.expect("POST");
    Page {
        code: r.status().as_u16(),
        body: r.text().await.expect("body"),
        cookie: None,
    }
}

/// The form's anti-forgery value.
fn csrf(body: &str) -> String {
    let at = body.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    body[at..].split('"').next().expect("value").to_string()
}

/// Open a link and post `form` as its page's browser would (cookie and csrf from the page).
pub async fn answer(url: &str, form: &[(&str, &str)]) -> Page {
    let page = get(url).await;
    assert_eq!(page.code, 200, "{}", page.body);
    let token = csrf(&page.body);
    let mut all = vec![("csrf", token.as_str())];
    all.extend_from_slice(form);
    post(url, page.cookie.as_deref(), &[], &all).await
}

pub async fn start(dir: &Path, cfg: &Path) -> std::process::Child {
    let (child, rx) = spawn(dir, cfg, &["daemon"]);
    let (up, log) = wait_for_line(&rx, "Daemon ready.", Duration::from_secs(60));
    assert!(up, "{log:#?}");
    child
}

pub fn stop(mut child: std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

async fn an_answer_is_a_draft_until_approved_and_each_link_answers_once() {
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let port = free_port();
        let cfg = config(d, &backend.url, port);
        let child = start(d, &cfg).await;
        let url = link(
            d,
            &cfg,
            &["--to", OWNER, "--kpi", "1/2a", "--period", "2021-06"],
        );
        assert!(
            url.starts_with(&format!("http://127.0.0.1:{port}/answer/v1.")),
            "{url}"
        );

        // The form, then a refusal that records nothing and keeps what was typed.
        let page = get(&url).await;
        assert_eq!(page.code, 200, "{name}: {}", page.body);
        for f in ["reason", "actions", "revised_date", "next_update"] {
            assert!(page.body.contains(&format!("name=\"{f}\"")), "{name}: {f}");
        }
        assert!(page.body.contains(OWNER), "{name}: says who it records");
        let half = answer(&url, &[("reason", REASON), ("actions", "")]).await;
        assert_eq!(half.code, 422, "{name}: {}", half.body);
        assert!(half.body.contains("must not be empty"), "{name}");
        assert!(half.body.contains(REASON), "{name}: the typed text kept");
        let (_, listed, _) = answers(d, &cfg, &["list"]);
        assert_eq!(listed.trim(), "no answers", "{name}");

        // A whole answer: a draft, not yet the board's.
        let done = answer(
            &url,
            &[
                ("reason", REASON),
                ("actions", "Two locum case officers from July"),
                ("revised_date", "2021-09-30"),
            ],
        )
        .await;
        assert_eq!(done.code, 200, "{name}: {}", done.body);
        assert!(done.body.contains("draft until"), "{name}: {}", done.body);
        let (_, listed, _) = answers(d, &cfg, &["list"]);
        assert!(
            listed.contains(&format!(
                "draft     commentary on 1/2a for 2021-06, from {OWNER} at "
            )),
            "{name}: {listed}"
        );
        assert!(
            listed.contains("(127.0.0.1)"),
            "{name}: from where: {listed}"
        );
        let id = listed.split_whitespace().next().expect("an id").to_string();
        let (_, comments, _) = binary(d, &cfg, &[], &["comment", "list"]);
        assert!(
            !comments.contains(REASON),
            "{name}: not before approval: {comments}"
        );

        // The link answers once.
        let again = get(&url).await;
        assert_eq!(again.code, 410, "{name}");
        assert!(again.body.contains("already been used"), "{name}");

        // An approval link for someone who may not approve: refused; for the officer: done.
        let wrong = link(d, &cfg, &["--to", OWNER, "--approve", &id]);
        let refused = get(&wrong).await;
        assert_eq!(refused.code, 403, "{name}: {}", refused.body);
        assert!(refused.body.contains("another item"), "{name}");
        let approve = link(d, &cfg, &["--to", OFFICER, "--approve", &id]);
        let page = get(&approve).await;
        assert_eq!(page.code, 200, "{name}: {}", page.body);
        assert!(
            page.body.contains(REASON) && page.body.contains("value=\"approve\""),
            "{name}"
        );
        let token = csrf(&page.body);
        let decided = post(
            &approve,
            page.cookie.as_deref(),
            &[],
            &[("csrf", &token), ("decision", "approve")],
        )
        .await;
        assert_eq!(decided.code, 200, "{name}: {}", decided.body);
        let (_, comments, _) = binary(d, &cfg, &[], &["comment", "list"]);
        assert!(
            comments.contains(REASON),
            "{name}: approved, in force: {comments}"
        );
        let (_, listed, _) = answers(d, &cfg, &["list", "--state", "approved"]);
        assert!(
            listed.contains(&format!("approved by {OFFICER} at ")),
            "{name}: {listed}"
        );
        assert!(listed.contains("(link)"), "{name}: {listed}");
        assert_eq!(get(&approve).await.code, 410, "{name}: decided once");

        // The lead of the KPI's sub-group may approve too; a value and an action by link,
        // one approved from the server.
        let value = link(
            d,
            &cfg,
            &[
                "--to", OWNER, "--kpi", "1/4", "--period", "2026-Q3", "--value",
            ],
        );
        let sent = answer(
            &value,
            &[("value", "75"), ("numerator", "30"), ("denominator", "40")],
        )
        .await;
        assert_eq!(sent.code, 200, "{name}: {}", sent.body);
        let action = link(d, &cfg, &["--to", OWNER, "--action", "1.1"]);
        let sent = answer(
            &action,
            &[("status", "on-track"), ("note", "Panel dates set")],
        )
        .await;
        assert_eq!(sent.code, 200, "{name}: {}", sent.body);
        let (_, drafts, _) = answers(d, &cfg, &["list"]);
        let ids: Vec<&str> = drafts
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert_eq!(ids.len(), 2, "{name}: {drafts}");
        let lead = link(d, &cfg, &["--to", LEAD, "--approve", ids[0]]);
        assert_eq!(
            get(&lead).await.code,
            200,
            "{name}: the lead approves its own"
        );
        let (ok, out, err) = answers(d, &cfg, &["approve", ids[0], "--by", "officer"]);
        assert!(ok, "{name}: {out}{err}");
        let (ok, out, err) = answers(d, &cfg, &["reject", ids[1], "--by", "officer"]);
        assert!(ok, "{name}: {out}{err}");
        let (_, values, _) = binary(d, &cfg, &[], &["kpi", "values", "1/4"]);
        assert!(
            values.contains("75") && values.contains(OWNER),
            "{name}: {values}"
        );
        let (_, history, _) = binary(d, &cfg, &[], &["action", "history", "1.1"]);
        assert!(
            !history.contains("Panel dates set"),
            "{name}: rejected: {history}"
        );
        let (ok, _, err) = answers(d, &cfg, &["approve", ids[1], "--by", "officer"]);
        assert!(!ok && err.contains("already"), "{name}: {err}");
        assert_eq!(get(&lead).await.code, 410, "{name}: no longer a draft");
        stop(child);
    }
}

async fn refused_links_and_forged_posts_change_nothing() {
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let port = free_port();
        let cfg = config(d, &backend.url, port);
        let child = start(d, &cfg).await;
        let url = link(
            d,
            &cfg,
            &["--to", OWNER, "--kpi", "1/2a", "--period", "2021-06"],
        );
        let base = format!("http://127.0.0.1:{port}/answer/");
        let token = url.strip_prefix(&base).expect("under /answer/");

        // Tampered: any changed character of the token.
        let mut bytes = token.as_bytes().to_vec();
        let mid = bytes.len() / 2;
        bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
        let tampered = format!("{base}{}", String::from_utf8(bytes).expect("ascii"));
        let page = get(&tampered).await;
        assert_eq!(page.code, 403, "{name}");
        assert!(page.body.contains("not one sendwatch made"), "{name}");
        // Expired, and another area's, signed with the right key.
        let key = LinkKey::new(KEY.as_bytes()).expect("key");
        let ask = Ask::Commentary {
            kpi: "1/2a".into(),
            period: "2021-06".into(),
        };
        let mut old = grant("sefton", OWNER, ask.clone(), Utc::now(), 1);
        old.expires = Utc::now().timestamp() - 1;
        let page = get(&format!("{base}{}", key.sign(&old))).await;
        assert_eq!(page.code, 410, "{name}");
        assert!(page.body.contains("expired"), "{name}");
        let other = grant("wigan", OWNER, ask, Utc::now(), 1);
        assert_eq!(
            get(&format!("{base}{}", key.sign(&other))).await.code,
            403,
            "{name}"
        );
        let long = format!("{base}{}", "A".repeat(5000));
        assert_eq!(
            get(&long).await.code,
            403,
            "{name}: a long token is refused unread"
        );

        // Forged posts: no cookie, another site's Origin, a cross-site fetch.
        let page = get(&url).await;
        let value = csrf(&page.body);
        let form = [
            ("csrf", value.as_str()),
            ("reason", REASON),
            ("actions", "x"),
        ];
        let no_cookie = post(&url, None, &[], &form).await;
        assert_eq!(no_cookie.code, 403, "{name}: {}", no_cookie.body);
        let cookie = page.cookie.as_deref();
        for h in [
            ("origin", "http://attacker.example"),
            ("sec-fetch-site", "cross-site"),
        ] {
            let p = post(&url, cookie, &[h], &form).await;
            assert_eq!(p.code, 403, "{name}: {h:?}: {}", p.body);
            assert!(p.body.contains("not sent from the page"), "{name}");
        }
        let wrong = [("csrf", "AAAA"), ("reason", REASON), ("actions", "x")];
        assert_eq!(post(&url, cookie, &[], &wrong).await.code, 403, "{name}");
        let (_, listed, _) = answers(d, &cfg, &["list", "--state", "all"]);
        assert_eq!(listed.trim(), "no answers", "{name}");
        // The same post from the form's own site is taken.
        let own = format!("http://127.0.0.1:{port}");
        let ok = post(
            &url,
            cookie,
            &[("origin", own.as_str()), ("sec-fetch-site", "same-origin")],
            &form,
        )
        .await;
        assert_eq!(ok.code, 200, "{name}: {}", ok.body);
        stop(child);
    }
}

pub fn tests() -> Vec<Spec> {
    vec![
        trial!(an_answer_is_a_draft_until_approved_and_each_link_answers_once).each_backend(),
        trial!(refused_links_and_forged_posts_change_nothing).each_backend(),
    ]
}
