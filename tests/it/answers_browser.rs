//! Issue 22's acceptance 1, the part a browser sees (headless Chromium against the real
//! daemon, SQLite and PostgreSQL): a digest's link renders its form; a tampered, expired,
//! reused and other-item link each renders its plain refusal; a cross-site page that posts an
//! answer by itself (a file:// page with an auto-submitting form) stores nothing.
//!
//! Not yet here (see the branch's report): filling and submitting the form in Chromium and
//! following the draft through approval into the next digest and the pack.

use chrono::Utc;
use sendwatch::answer::link::LinkKey;
use sendwatch::answer::{Ask, grant};

use crate::answers::{KEY, OWNER, REASON, answer, answers, config, link, start, stop};
use crate::ops::free_port;
use crate::support::backends;
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

pub fn tests() -> Vec<Spec> {
    vec![
        trial!(chromium_renders_each_refused_link_plainly_and_a_cross_site_post_stores_nothing)
            .chromium()
            .each_backend(),
    ]
}
