//! Test helpers for the integration tests: a real HTTP server, a real SMTP
//! sink (aiosmtpd child process), and SQLite/PostgreSQL test databases.
//! `selftest` checks the helpers themselves against real clients.

// Not every test uses every helper.
#![allow(dead_code, unused_imports)]

pub mod cdp;
pub mod db;
pub mod disclosure;
pub mod html;
pub mod http;
pub mod smtp;
pub mod tools;
pub mod trials;

pub use db::{Backend, backends, pg_database, sqlite_backend};
pub use disclosure::assert_nothing_disclosive;
pub use http::{BodyMode, HttpServer, Response, refused_url};
pub use smtp::{ReceivedMail, SinkTls, SmtpOptions, SmtpSink};
pub use tools::{artefact, chromium, dom_and_requests, screenshot, screenshot_url};

/// The helpers' own tests.
pub fn tests() -> Vec<trials::Spec> {
    [
        selftest::tests(),
        db::tests(),
        disclosure::tests(),
        http::tests(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

// `deny` overrides the allow above: a test fn left out of tests() fails the build.
#[deny(dead_code)]
mod selftest {
    use std::str::FromStr;
    use std::time::Duration;

    use lettre::message::Message;
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpStream;

    use super::*;

    fn client() -> reqwest::Client {
        reqwest::Client::builder().build().expect("reqwest client")
    }

    async fn http_answers_set_status_and_404() {
        let srv = HttpServer::start().await;
        srv.set("/tracker.csv", Response::ok("a,b\n1,2\n"));
        srv.set("broken", Response::status(500));

        let ok = client().get(srv.url("/tracker.csv")).send().await.unwrap();
        assert_eq!(ok.status().as_u16(), 200);
        assert_eq!(ok.text().await.unwrap(), "a,b\n1,2\n");

        let err = client().get(srv.url("/broken?x=1")).send().await.unwrap();
        assert_eq!(err.status().as_u16(), 500);

        let missing = client().get(srv.url("/nope")).send().await.unwrap();
        assert_eq!(missing.status().as_u16(), 404);

        assert_eq!(srv.hits("/tracker.csv"), 1);
        assert_eq!(srv.hits("/broken"), 1);
        assert_eq!(srv.hits("/nope"), 1);
        assert_eq!(srv.hits("/never"), 0);
        assert!(srv.url("x.csv").starts_with("http://127.0.0.1:"));
    }

    async fn http_requires_basic_auth() {
        let srv = HttpServer::start().await;
        srv.set("/f", Response::ok("secret"));
        srv.require_basic_auth("alice", "pa:ss");

        let none = client().get(srv.url("/f")).send().await.unwrap();
        assert_eq!(none.status().as_u16(), 401);
        let wrong = client()
            .get(srv.url("/f"))
            .basic_auth("alice", Some("x"))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status().as_u16(), 401);
        let right = client()
            .get(srv.url("/f"))
            .basic_auth("alice", Some("pa:ss"))
            .send()
            .await
            .unwrap();
        assert_eq!(right.status().as_u16(), 200);
        assert_eq!(right.text().await.unwrap(), "secret");
        assert_eq!(srv.hits("/f"), 3);
    }

    async fn http_delay_trips_client_timeout_and_refused_url_refuses() {
        let srv = HttpServer::start().await;
        srv.set(
            "/slow",
            Response::ok("late").with_delay(Duration::from_secs(5)),
        );
        let c = reqwest::Client::builder()
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let err = c.get(srv.url("/slow")).send().await.unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert_eq!(srv.hits("/slow"), 1);

        let err = client().get(refused_url()).send().await.unwrap_err();
        assert!(err.is_connect(), "{err:?}");
    }

    fn message(to: &[&str]) -> Message {
        let mut b = Message::builder()
            .from("sendwatch@example.test".parse().unwrap())
            .subject("selftest");
        for t in to {
            b = b.to(t.parse().unwrap());
        }
        b.body(String::from("line one\n.starts with a dot\n"))
            .unwrap()
    }

    fn transport(port: u16, creds: Option<(&str, &str)>) -> AsyncSmtpTransport<Tokio1Executor> {
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(port)
            .timeout(Some(Duration::from_secs(10)));
        if let Some((u, p)) = creds {
            b = b.credentials(Credentials::new(u.into(), p.into()));
        }
        b.build()
    }

    async fn smtp_sink_receives_lettre_message() {
        let sink = SmtpSink::start(SmtpOptions::default());
        transport(sink.port(), None)
            .send(message(&["a@example.test", "b@example.test"]))
            .await
            .unwrap();
        let msgs = sink.wait_for(1).await;
        assert_eq!(msgs.len(), 1);
        let m = &msgs[0];
        assert_eq!(m.mail_from, "sendwatch@example.test");
        assert_eq!(m.rcpt_tos, ["a@example.test", "b@example.test"]);
        assert!(m.data.contains("Subject: selftest\r\n"), "{}", m.data);
        assert!(
            m.data.contains("\r\n.starts with a dot"),
            "dot-stuffing undone: {}",
            m.data
        );
        assert_eq!(m.auth_login, None);
    }

    /// Sends one SMTP command (or nothing, for the greeting) and returns the
    /// final reply line; raw so we can see per-RCPT answers lettre hides.
    async fn cmd(r: &mut BufReader<TcpStream>, line: Option<&str>) -> String {
        if let Some(l) = line {
            r.get_mut()
                .write_all(format!("{l}\r\n").as_bytes())
                .await
                .unwrap();
        }
        loop {
            let mut reply = String::new();
            r.read_line(&mut reply).await.unwrap();
            // Multi-line replies have '-' after the code; the last has ' '.
            if reply.as_bytes().get(3) != Some(&b'-') {
                return reply.trim_end().to_string();
            }
        }
    }

    async fn smtp_sink_refuses_listed_rcpt() {
        let opts = SmtpOptions {
            refuse_rcpt: vec!["gone@example.test".into()],
            ..Default::default()
        };
        let sink = SmtpSink::start(opts);
        let mut r = BufReader::new(
            TcpStream::connect(("127.0.0.1", sink.port()))
                .await
                .unwrap(),
        );
        assert!(cmd(&mut r, None).await.starts_with("220"));
        assert!(cmd(&mut r, Some("EHLO selftest")).await.starts_with("250"));
        assert!(
            cmd(&mut r, Some("MAIL FROM:<s@example.test>"))
                .await
                .starts_with("250")
        );
        assert_eq!(
            cmd(&mut r, Some("RCPT TO:<gone@example.test>")).await,
            "550 5.1.1 mailbox unavailable"
        );
        assert!(
            cmd(&mut r, Some("RCPT TO:<ok@example.test>"))
                .await
                .starts_with("250")
        );
        assert!(cmd(&mut r, Some("DATA")).await.starts_with("354"));
        assert!(
            cmd(&mut r, Some("Subject: raw\r\n\r\nbody\r\n."))
                .await
                .starts_with("250")
        );
        assert!(cmd(&mut r, Some("QUIT")).await.starts_with("221"));
        let msgs = sink.wait_for(1).await;
        assert_eq!(msgs[0].rcpt_tos, ["ok@example.test"]);
        assert_eq!(msgs[0].data, "Subject: raw\r\n\r\nbody\r\n");
    }

    async fn smtp_sink_refuses_data() {
        for (code, permanent) in [(554, true), (451, false)] {
            let opts = SmtpOptions {
                refuse_data: Some(code),
                ..Default::default()
            };
            let sink = SmtpSink::start(opts);
            let err = transport(sink.port(), None)
                .send(message(&["a@example.test"]))
                .await
                .unwrap_err();
            assert_eq!(
                err.status().map(|c| c.to_string()),
                Some(code.to_string()),
                "{err:?}"
            );
            assert_eq!(err.is_permanent(), permanent, "{err:?}");
            assert_eq!(err.is_transient(), !permanent, "{err:?}");
            assert!(sink.messages().is_empty());
        }
    }

    async fn smtp_sink_requires_and_records_auth() {
        let opts = SmtpOptions {
            auth: Some(("mailer".into(), "s3cret".into())),
            ..Default::default()
        };
        let sink = SmtpSink::start(opts);

        let err = transport(sink.port(), None)
            .send(message(&["a@example.test"]))
            .await
            .unwrap_err();
        assert_eq!(
            err.status().map(|c| c.to_string()).as_deref(),
            Some("530"),
            "{err:?}"
        );
        let err = transport(sink.port(), Some(("mailer", "wrong")))
            .send(message(&["a@example.test"]))
            .await
            .unwrap_err();
        assert_eq!(
            err.status().map(|c| c.to_string()).as_deref(),
            Some("535"),
            "{err:?}"
        );

        transport(sink.port(), Some(("mailer", "s3cret")))
            .send(message(&["a@example.test"]))
            .await
            .unwrap();
        let msgs = sink.wait_for(1).await;
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].auth_login.as_deref(), Some("mailer"));
        assert_eq!(msgs[0].auth_password.as_deref(), Some("s3cret"));
    }

    async fn backends_are_fresh_and_usable() {
        let all = backends().await;
        assert_eq!(all.len(), 1, "one backend per trial");
        if let Some(path) = all[0].url.strip_prefix("sqlite://") {
            assert_eq!(all[0].name, "sqlite");
            assert!(
                !std::path::Path::new(path).exists(),
                "SQLite file must not exist yet"
            );
        }

        for b in &all {
            match b.name {
                "sqlite" => {
                    let opts = sqlx::sqlite::SqliteConnectOptions::from_str(&b.url)
                        .unwrap()
                        .create_if_missing(true);
                    let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
                    let one: i64 = sqlx::query_scalar("SELECT 1")
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                    assert_eq!(one, 1);
                    pool.close().await;
                }
                "postgres" => {
                    let pool = sqlx::PgPool::connect(&b.url).await.unwrap();
                    let db: String = sqlx::query_scalar("SELECT current_database()")
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                    assert!(b.url.ends_with(&format!("/{db}")), "{db} vs {}", b.url);
                    let tables: i64 = sqlx::query_scalar(
                        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
                    )
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                    assert_eq!(tables, 0, "a new database is empty");
                    pool.close().await;
                }
                other => panic!("unknown backend {other}"),
            }
        }
        // Each call gives a new database.
        if all[0].name == "postgres" {
            assert_ne!(pg_database().await, pg_database().await);
        }
    }

    fn chromium_screenshots_a_page_at_its_window_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let html = dir.path().join("page.html");
        let png = dir.path().join("page.png");
        std::fs::write(
            &html,
            "<html><body><h1>Digest</h1><p>1/2a RED</p></body></html>",
        )
        .expect("write page");
        super::tools::screenshot(&html, &png, 400, 200);
        let bytes = std::fs::read(&png).expect("read png");
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
        // IHDR: width and height, big-endian, at bytes 16..24.
        let size = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        assert_eq!((size(16), size(20)), (400, 200));
    }

    /// With `harness = false` a `#[test]` or `#[tokio::test]` fn is compiled out without a
    /// word, and a file without its `mod` line is not compiled at all: both would be tests
    /// that never run. (A fn left out of its module's tests() is dead code, a build error.)
    fn every_test_is_registered() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
        let mut problems = Vec::new();
        let mut dirs = vec![root.clone()];
        while let Some(dir) = dirs.pop() {
            let parent = if dir == root { "main.rs" } else { "mod.rs" };
            let parent_text = std::fs::read_to_string(dir.join(parent)).unwrap_or_default();
            for entry in std::fs::read_dir(&dir).expect("read tests/it") {
                let path = entry.expect("dir entry").path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let (Some(stem), Some("rs")) = (
                    path.file_stem().and_then(|s| s.to_str()),
                    path.extension().and_then(|s| s.to_str()),
                ) else {
                    continue;
                };
                let shown = path.strip_prefix(&root).unwrap_or(&path).display();
                if stem != "main"
                    && stem != "mod"
                    && !parent_text.lines().any(|l| {
                        let l = l.trim_start().trim_start_matches("pub ");
                        l == format!("mod {stem};")
                    })
                {
                    problems.push(format!("tests/it/{shown}: no `mod {stem};` in {parent}"));
                }
                let text = std::fs::read_to_string(&path).expect("read a test file");
                for (n, line) in text.lines().enumerate() {
                    let l = line.trim_start();
                    if l.starts_with("#[test]") || l.starts_with("#[tokio::test") {
                        problems.push(format!(
                            "tests/it/{shown}:{}: `{l}`: drop the attribute and list the fn in \
                             the module's tests() (see tests/it/main.rs)",
                            n + 1
                        ));
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    pub fn tests() -> Vec<trials::Spec> {
        use trials::trial;
        vec![
            trial!(http_answers_set_status_and_404),
            trial!(http_requires_basic_auth),
            trial!(http_delay_trips_client_timeout_and_refused_url_refuses),
            trial!(smtp_sink_receives_lettre_message).smtp(),
            trial!(smtp_sink_refuses_listed_rcpt).smtp(),
            trial!(smtp_sink_refuses_data).smtp(),
            trial!(smtp_sink_requires_and_records_auth).smtp(),
            trial!(backends_are_fresh_and_usable).each_backend(),
            trial!(chromium_screenshots_a_page_at_its_window_size).chromium(),
            trial!(every_test_is_registered),
        ]
    }
}
