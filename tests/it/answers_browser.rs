//! Issue 22's acceptance 1, the part a browser sees (headless Chromium against the real
//! daemon, SQLite and PostgreSQL): a digest's link renders its form; a tampered, expired,
//! reused and other-item link each renders its plain refusal; a cross-site page that posts an
//! answer by itself (a file:// page with an auto-submitting form) stores nothing. And the whole
//! path in a live tab (support::cdp): the commentary typed into the form a digest's link opens
//! and sent, kept out of the next digest and the pack until the approver approves it from
//! their own link, then in both.

use chrono::Utc;
use sendwatch::answer::link::LinkKey;
use sendwatch::answer::{Ask, grant};

use std::path::{Path, PathBuf};

use sendwatch::job::RunOptions;

use crate::answer_links::links_of;
use crate::answers::{KEY, OWNER, REASON, answer, answers, config, link, start, stop};
use crate::harness::{app, binary, folder_mail, outbox};
use crate::ops::free_port;
use crate::support::backends;
use crate::support::cdp::Browser;
use crate::support::html::decode;
use crate::support::tools::dom_and_requests;
use crate::support::trials::{Spec, trial};

/// The page Chromium rendered for `url`, as its DOM.
fn rendered(url: &str) -> String {
    dom_and_requests(url).0
}

async fn chromium_renders_each_refused_link_plainly_and_a_cross_site_post_stores_nothing() {
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

        // The link renders its form.
        let form = rendered(&url);
        assert!(
            form.contains("name=\"reason\"") && form.contains(OWNER),
            "{name}: {form}"
        );

        // A cross-site page that posts the form by itself: refused, nothing stored.
        let page = d.join("attack.html");
        std::fs::write(
            &page,
            format!(
                "<!doctype html><form method=\"post\" action=\"{url}\">\
                 <input name=\"reason\" value=\"{REASON}\"><input name=\"actions\" value=\"x\">\
                 <input name=\"csrf\" value=\"AAAA\"></form>\
                 <script>document.forms[0].submit()</script>"
            ),
        )
        .expect("write the page");
        let after = rendered(&format!("file://{}", page.display()));
        // The post reached the daemon (its refusal is what Chromium shows), and stored nothing.
        assert!(after.contains("not sent from the page"), "{name}: {after}");
        let (_, listed, _) = answers(d, &cfg, &["list", "--state", "all"]);
        assert_eq!(listed.trim(), "no answers", "{name}: {after}");

        // Tampered: one character of the token changed.
        let token = url.strip_prefix(&base).expect("under /answer/");
        let mut bytes = token.as_bytes().to_vec();
        let mid = bytes.len() / 2;
        bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
        let tampered = format!("{base}{}", String::from_utf8(bytes).expect("ascii"));
        let dom = rendered(&tampered);
        assert!(dom.contains("not one sendwatch made"), "{name}: {dom}");
        assert!(!dom.contains("name=\"reason\""), "{name}: no form");

        // Expired, signed with the right key.
        let key = LinkKey::new(KEY.as_bytes()).expect("key");
        let ask = Ask::Commentary {
            kpi: "1/2a".into(),
            period: "2021-06".into(),
        };
        let mut old = grant("sefton", OWNER, ask, Utc::now(), 1);
        old.expires = Utc::now().timestamp() - 1;
        let dom = rendered(&format!("{base}{}", key.sign(&old)));
        assert!(dom.contains("expired"), "{name}: {dom}");

        // Another item: an approval link for someone who may not decide it.
        let other = link(d, &cfg, &["--to", OWNER, "--approve", "1"]);
        let dom = rendered(&other);
        assert!(dom.contains("another item"), "{name}: {dom}");

        // Reused: answered once (as a browser would post it), then opened again.
        let done = answer(
            &url,
            &[("reason", REASON), ("actions", "Two locum officers")],
        )
        .await;
        assert_eq!(done.code, 200, "{name}: {}", done.body);
        let dom = rendered(&url);
        assert!(dom.contains("already been used"), "{name}: {dom}");
        let (_, listed, _) = answers(d, &cfg, &["list", "--state", "all"]);
        assert_eq!(listed.lines().count(), 1, "{name}: one answer: {listed}");
        stop(child);
    }
}

const JOB: &str = "monthly-exceptions";
const ACTIONS: &str = "Two locum case officers from July";
/// The approver of every answer (`[answer] approvers` in answers::config).
const OFFICER: &str = "officer@example.org";

/// Every file `sendwatch preview JOB --out` writes for the next digests, as (name, text).
fn next_digests(d: &Path, cfg: &Path, out: &str) -> Vec<(String, String)> {
    let out = d.join(out);
    let shown = out.display().to_string();
    let (ok, stdout, err) = binary(d, cfg, &[], &["preview", JOB, "--out", &shown]);
    assert!(ok, "preview: {stdout}{err}");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&out)
        .expect("the preview folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt" || e == "html"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("a preview file");
            (p.display().to_string(), text)
        })
        .collect()
}

/// The board pack `sendwatch report` writes (HTML only), its entities decoded.
fn pack(d: &Path, cfg: &Path, out: &str) -> String {
    let out = d.join(out);
    let shown = out.display().to_string();
    let (ok, stdout, err) = binary(d, cfg, &[], &["report", "--out", &shown, "--pdf", "never"]);
    assert!(ok, "report: {stdout}{err}");
    let html = std::fs::read_dir(&out)
        .expect("the pack folder")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "html"))
        .expect("the pack's HTML");
    decode(&std::fs::read_to_string(html).expect("the pack"))
}

/// The pack's exception block for `kpi`.
fn exception<'a>(pack: &'a str, kpi: &str) -> &'a str {
    pack.split(&format!("<div class=\"exception\" data-kpi=\"{kpi}\">"))
        .nth(1)
        .and_then(|rest| rest.split("</div>").next())
        .unwrap_or_else(|| panic!("no exception for {kpi} in the pack"))
}

async fn commentary_typed_in_chromium_reaches_the_digest_and_the_pack_once_approved() {
    let key = LinkKey::new(KEY.as_bytes()).expect("key");
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let port = free_port();
        let cfg = config(d, &backend.url, port);

        // A run mails the digests, each request with its link; the owner's first commentary
        // link is the one a person would follow.
        let run = app(&cfg).await;
        run.run_job(JOB, RunOptions::manual()).await.expect("run");
        run.store.close().await;
        let base = format!("http://127.0.0.1:{port}/answer/");
        let (url, kpi) = folder_mail(&outbox(d))
            .iter()
            .filter(|m| m.header("To").as_deref() == Some(OWNER))
            .flat_map(links_of)
            .find_map(|url| {
                let token = url.strip_prefix(&base)?;
                match key.open(token, Utc::now()).ok()?.ask {
                    Ask::Commentary { kpi, .. } => Some((url, kpi)),
                    _ => None,
                }
            })
            .unwrap_or_else(|| panic!("{name}: no commentary link in {OWNER}'s digest"));

        let child = start(d, &cfg).await;
        let mut browser = Browser::start();
        let form = browser.open(&url);
        assert!(form.contains("name=\"reason\""), "{name}: {form}");
        browser.type_into("reason", REASON);
        browser.type_into("actions", ACTIONS);
        browser.type_into("revised_date", "2021-09-30");
        let sent = browser.press("button[type=submit]");
        assert!(sent.contains("draft until"), "{name}: {sent}");
        let (_, listed, _) = answers(d, &cfg, &["list"]);
        assert!(
            listed.contains(&format!("draft     commentary on {kpi} for "))
                && listed.contains(&format!("from {OWNER} at ")),
            "{name}: {listed}"
        );
        let id = listed.split_whitespace().next().expect("an id").to_string();
        // Opened again in the tab, the link says it was used and offers no form.
        let again = browser.open(&url);
        assert!(
            again.contains("already been used") && !again.contains("name=\"reason\""),
            "{name}: {again}"
        );

        // A draft: neither the next digests nor the pack show it.
        let before = next_digests(d, &cfg, "preview-before");
        assert!(!before.is_empty(), "{name}: no digest previewed");
        for (file, text) in &before {
            assert!(
                !text.contains(REASON) && !text.contains(ACTIONS),
                "{name}: {file}"
            );
        }
        assert!(
            before
                .iter()
                .any(|(f, t)| f.contains("pm-ap-subgroup_at_example.org")
                    && f.ends_with(".txt")
                    && t.contains(&format!("KPI {kpi}: "))),
            "{name}: the owner's next digest still names {kpi}"
        );
        let html = pack(d, &cfg, "pack-before");
        let shown = exception(&html, &kpi);
        assert!(
            !shown.contains(REASON) && shown.contains("requested from the owner"),
            "{name}: the pack still asks: {shown}"
        );
        assert!(!html.contains(REASON), "{name}: the pack");

        // The approver's own link (as their mail carries it), approved in the tab.
        let approve = link(d, &cfg, &["--to", OFFICER, "--approve", &id]);
        let page = browser.open(&approve);
        assert!(page.contains(REASON), "{name}: {page}");
        let done = browser.press("button[value=approve]");
        assert!(
            done.contains(&format!("Answer {id} is approved")),
            "{name}: {done}"
        );
        drop(browser);
        stop(child);

        // Approved: the next digest to the owner and the pack carry it.
        let after = next_digests(d, &cfg, "preview-after");
        let (file, text) = after
            .iter()
            .find(|(f, t)| f.ends_with(".txt") && t.contains(REASON))
            .unwrap_or_else(|| panic!("{name}: no digest shows the answer: {after:?}"));
        assert!(
            file.contains("pm-ap-subgroup_at_example.org")
                && text.contains(&format!("  Reason:           {REASON}"))
                && text.contains(&format!("  Recovery actions: {ACTIONS}")),
            "{name}: {file}: {text}"
        );
        let html = pack(d, &cfg, "pack-after");
        let shown = exception(&html, &kpi);
        assert!(
            shown.contains(REASON) && shown.contains(ACTIONS) && shown.contains("2021-09-30"),
            "{name}: {shown}"
        );
    }
}

pub fn tests() -> Vec<Spec> {
    vec![
        trial!(chromium_renders_each_refused_link_plainly_and_a_cross_site_post_stores_nothing)
            .chromium()
            .each_backend(),
        trial!(commentary_typed_in_chromium_reaches_the_digest_and_the_pack_once_approved)
            .chromium()
            .each_backend(),
    ]
}
