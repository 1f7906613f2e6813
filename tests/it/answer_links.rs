//! Issue 22's links in the digests, on SQLite and PostgreSQL: with `[http] public_url` and a
//! link key, each request of a digest (an exception's commentary, a manual value, an action's progress)
//! carries a link made for that digest's own recipient, in the text and the HTML; a second run
//! with the same news, whose links are made at another instant, queues nothing (the outbox's
//! key is the news, never the rendered body).

use chrono::{DateTime, TimeDelta, Utc};
use sendwatch::answer::Ask;
use sendwatch::answer::link::LinkKey;
use sendwatch::clock::Clock;
use sendwatch::job::RunOptions;

use sendwatch::serve::settings::EXAMPLE_LINK_KEY;

use crate::harness::{Mail, app, binary, folder_config_with, folder_mail, outbox, repo};
use crate::support::backends;
use crate::support::trials::{Spec, trial};

const KEY: &str = "digest-link-key-0123456789abcdef-0123456789";
const BASE: &str = "http://127.0.0.1:9187/answer/";

/// The links a mail's text part carries ("Answer here: URL").
pub fn links_of(m: &Mail) -> Vec<String> {
    m.body
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Answer here:"))
        .map(|u| u.trim().to_string())
        .collect()
}

async fn digest_links_are_each_recipients_own_and_a_rerun_queues_nothing() {
    // Today, to the second: the example plan's actions slip by now (and a link opens now).
    let t1: DateTime<Utc> = DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("now");
    let key = LinkKey::new(KEY.as_bytes()).expect("key");
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let tracker = repo("examples/tracker.csv").display().to_string();
        let cfg = folder_config_with(
            dir.path(),
            &backend.url,
            &tracker,
            &format!(
                "[http]\nlisten = \"\"\npublic_url = \"http://127.0.0.1:9187/\"\n\
                 link_key = \"{KEY}\"\n\n[jobs.monthly-exceptions]\nmanual_kpis = true\n"
            ),
        );
        let app1 = app(&cfg).await.with_clock(Clock::Fixed(t1));
        let first = app1
            .run_job("monthly-exceptions", RunOptions::manual())
            .await
            .expect("run");
        assert!(first.queued > 0, "{name}: {first:?}");
        app1.store.close().await;
        let mails = folder_mail(&outbox(dir.path()));
        let mut commentary = 0;
        let mut progress = 0;
        let mut value = 0;
        for m in &mails {
            let to = m.header("To").unwrap_or_default();
            let html = m.html.clone().unwrap_or_default();
            for url in links_of(m) {
                let token = url
                    .strip_prefix(BASE)
                    .unwrap_or_else(|| panic!("{name}: {url} not under the public URL"));
                let g = key.open(token, t1).expect("a link this key made, open");
                assert_eq!(g.to, to, "{name}: the digest's own recipient");
                assert_eq!(g.area, "sefton", "{name}");
                assert_eq!(g.made, t1.timestamp(), "{name}: made at the run's time");
                assert_eq!(g.expires, (t1 + TimeDelta::days(14)).timestamp(), "{name}");
                match g.ask {
                    Ask::Commentary { .. } => commentary += 1,
                    Ask::Action { .. } => progress += 1,
                    Ask::Value { .. } => value += 1,
                    other => panic!("{name}: {other:?}"),
                }
                // The HTML carries the same link (its slashes escaped as minijinja writes).
                assert!(
                    html.contains(&url.replace('/', "&#x2f;")),
                    "{name}: {to}: the HTML lacks the link"
                );
            }
        }
        assert!(commentary > 0, "{name}: no commentary link");
        assert!(progress > 0, "{name}: no progress link");
        assert!(value > 0, "{name}: no value link");

        // The same news an hour later: links made at another instant, nothing queued.
        let t2 = t1 + TimeDelta::hours(1);
        let app2 = app(&cfg).await.with_clock(Clock::Fixed(t2));
        let again = app2
            .run_job("monthly-exceptions", RunOptions::manual())
            .await
            .expect("run");
        assert_eq!(again.queued, 0, "{name}: queued twice: {again:?}");
        assert_eq!(
            folder_mail(&outbox(dir.path())).len(),
            mails.len(),
            "{name}"
        );
        app2.store.close().await;
    }
}

/// The example's key, public, is refused with a public URL other than loopback, naming the
/// setting; the example as shipped (loopback) passes.
fn the_example_link_key_is_refused_off_loopback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tracker = repo("examples/tracker.csv").display().to_string();
    let cfg = folder_config_with(
        dir.path(),
        "sqlite://data/sendwatch.db",
        &tracker,
        "[http]\nlisten = \"\"\npublic_url = \"https://send.example.gov.uk/sendwatch\"\n",
    );
    let (ok, out, err) = binary(dir.path(), &cfg, &[], &["check-config"]);
    assert!(!ok, "{out}");
    assert!(
        err.contains("http.link_key") && err.contains("example key"),
        "{err}"
    );
    assert!(
        !err.contains(EXAMPLE_LINK_KEY),
        "the key is never said: {err}"
    );
    let cfg = folder_config_with(dir.path(), "sqlite://data/sendwatch.db", &tracker, "");
    let (ok, out, err) = binary(dir.path(), &cfg, &[], &["check-config"]);
    assert!(ok, "{out}{err}");
}

/// An answer's approvers (the sub-group's lead and `[answer] approvers`) are told once, through
/// the outbox, each with their own approval link and never the typed text: a second call (a
/// retry, another replica) queues nothing more.
async fn an_answers_approvers_are_told_once_each_with_their_own_link() {
    let key = LinkKey::new(KEY.as_bytes()).expect("key");
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let tracker = repo("examples/tracker.csv").display().to_string();
        let cfg = folder_config_with(
            dir.path(),
            &backend.url,
            &tracker,
            &format!(
                "[http]\nlisten = \"\"\npublic_url = \"http://127.0.0.1:9187\"\n\
                 link_key = \"{KEY}\"\n\n[answer]\napprovers = [\"officer@example.org\"]\n\n\
                 [sub_groups.performance]\nlead = \"lead@example.org\"\n"
            ),
        );
        let app = app(&cfg).await;
        app.run_job("monthly-exceptions", RunOptions::manual())
            .await
            .expect("run");
        let before = folder_mail(&outbox(dir.path())).len();
        let ask = Ask::Commentary {
            kpi: "1/2a".into(),
            period: "2021-07".into(),
        };
        let now = Utc::now();
        let by = "pm-ap-subgroup@example.org";
        let first =
            sendwatch::serve::tell_approvers(&app.store, &app.settings, 41, &ask, by, now, now)
                .await
                .expect("queued");
        assert_eq!(first, 2, "{name}: the lead and the officer");
        let again =
            sendwatch::serve::tell_approvers(&app.store, &app.settings, 41, &ask, by, now, now)
                .await
                .expect("queued");
        assert_eq!(again, 0, "{name}: once per answer and approver");
        app.deliver_due().await.expect("delivered");
        app.store.close().await;
        let mails = folder_mail(&outbox(dir.path()));
        assert_eq!(mails.len(), before + 2, "{name}");
        for who in ["lead@example.org", "officer@example.org"] {
            let m = mails
                .iter()
                .find(|m| {
                    m.header("To").as_deref() == Some(who)
                        && m.header("Subject")
                            .is_some_and(|s| s.contains("awaits your approval"))
                })
                .unwrap_or_else(|| panic!("{name}: no mail to {who}"));
            assert!(
                m.body.contains("commentary on KPI 1/2a for July 2021") && m.body.contains(by),
                "{name}: {}",
                m.body
            );
            let url = m
                .body
                .lines()
                .map(str::trim)
                .find(|l| l.starts_with(BASE))
                .unwrap_or_else(|| panic!("{name}: no link in {}", m.body));
            let g = key
                .open(url.strip_prefix(BASE).expect("token"), now)
                .expect("opens");
            assert_eq!(g.to, who, "{name}: their own link");
            assert_eq!(g.ask, Ask::Approve { draft: 41 }, "{name}");
        }
    }
}

pub fn tests() -> Vec<Spec> {
    vec![
        trial!(digest_links_are_each_recipients_own_and_a_rerun_queues_nothing).each_backend(),
        trial!(the_example_link_key_is_refused_off_loopback),
        trial!(an_answers_approvers_are_told_once_each_with_their_own_link).each_backend(),
    ]
}
