//! SMTP over TLS, end to end against the aiosmtpd sink speaking TLS on loopback with
//! tests/fixtures/tls/server.pem (a test CA's, `ca.pem` beside it, 100 years): STARTTLS and
//! implicit TLS deliver when `[delivery.smtp] ca_file` trusts that CA; without it the
//! certificate is refused and nothing is sent; `starttls` against a server that does not
//! offer it is refused rather than sent in plain text; `check-config --connect` says TLS.

use std::path::{Path, PathBuf};

use crate::harness::{Delivery, app, binary, repo, run_example, write_config};
use crate::support::{ReceivedMail, SinkTls, SmtpOptions, SmtpSink, backends};

/// The example job's digests (tests/it/outbox.rs names them).
const DIGESTS: usize = 4;

fn ca() -> PathBuf {
    repo("tests/fixtures/tls/ca.pem")
}

/// A config sending through `sink` with `tls` ("starttls", "tls" or "none") and, if given,
/// `ca_file`.
fn config(dir: &Path, db: &str, sink: &SmtpSink, tls: &str, ca_file: Option<&Path>) -> PathBuf {
    let extract = repo("examples/tracker.csv").display().to_string();
    let cfg = write_config(
        dir,
        db,
        &extract,
        Delivery::Smtp {
            port: sink.port(),
            auth: None,
        },
        // Retries a second apart: the plain-text control below delivers what was put off.
        crate::outbox::QUICK_RETRY,
    );
    let mut tls_keys = format!("tls = {tls:?}");
    if let Some(ca) = ca_file {
        tls_keys.push_str(&format!("\nca_file = {:?}", ca.display().to_string()));
    }
    let text = std::fs::read_to_string(&cfg).expect("config");
    assert!(text.contains("tls = \"none\""), "{text}");
    std::fs::write(&cfg, text.replace("tls = \"none\"", &tls_keys)).expect("write config");
    cfg
}

fn received_since(sink: &SmtpSink, before: usize) -> Vec<ReceivedMail> {
    sink.messages().split_off(before)
}

/// The example job through a sink speaking `mode`, configured as `tls` with the test CA: every
/// digest arrives, over TLS.
async fn delivers_over(mode: SinkTls, tls: &str) {
    let sink = SmtpSink::start(SmtpOptions {
        tls: Some(mode),
        ..Default::default()
    });
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &backend.url, &sink, tls, Some(&ca()));
        let app = app(&cfg).await;
        let before = sink.messages().len();
        let r = run_example(&app).await;
        assert_eq!(
            (r.delivery.sent, r.delivery.failed),
            (DIGESTS, 0),
            "{} {tls}: {:?}",
            backend.name,
            r.delivery
        );
        let got = received_since(&sink, before);
        assert_eq!(got.len(), DIGESTS, "{} {tls}", backend.name);
        assert!(got.iter().all(|m| m.tls), "{} {tls}: {got:?}", backend.name);
        app.store.close().await;
    }
}

async fn starttls_delivers_with_the_ca_file() {
    delivers_over(SinkTls::Starttls, "starttls").await;
}

async fn implicit_tls_delivers_with_the_ca_file() {
    delivers_over(SinkTls::Implicit, "tls").await;
}

async fn a_certificate_from_an_unknown_ca_is_refused_and_nothing_is_sent() {
    let sink = SmtpSink::start(SmtpOptions {
        tls: Some(SinkTls::Starttls),
        ..Default::default()
    });
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        // The system's roots only: the test CA is not among them.
        let cfg = config(dir.path(), &backend.url, &sink, "starttls", None);
        let app = app(&cfg).await;
        let before = sink.messages().len();
        let r = run_example(&app).await;
        assert_eq!(r.delivery.sent, 0, "{}: {:?}", backend.name, r.delivery);
        assert!(received_since(&sink, before).is_empty(), "{}", backend.name);
        let pending = app.store.pending_mail().await.expect("outbox");
        assert_eq!(pending.len(), DIGESTS, "{}: kept for a retry", backend.name);
        for row in &pending {
            let error = row.last_error.as_deref().unwrap_or_default();
            assert!(
                error.starts_with("SMTP connect") && error.contains("certificate"),
                "{}: {error}",
                backend.name
            );
        }
        app.store.close().await;
    }
}

async fn starttls_is_never_given_up_for_plain_text() {
    // A server that offers no STARTTLS (as a man in the middle would strip it).
    let plain = SmtpSink::start(SmtpOptions::default());
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &backend.url, &plain, "starttls", Some(&ca()));
        let app = app(&cfg).await;
        let before = plain.messages().len();
        let r = run_example(&app).await;
        assert_eq!(r.delivery.sent, 0, "{}: {:?}", backend.name, r.delivery);
        assert!(
            received_since(&plain, before).is_empty(),
            "{}",
            backend.name
        );
        let pending = app.store.pending_mail().await.expect("outbox");
        assert!(
            pending.iter().all(|o| o
                .last_error
                .as_deref()
                .is_some_and(|e| e.starts_with("SMTP connect"))),
            "{}: {pending:?}",
            backend.name
        );
        app.store.close().await;
        // The control: the same server in plain text (allowed on loopback) takes them, and the
        // sink tells plain text from TLS.
        let cfg = config(dir.path(), &backend.url, &plain, "none", None);
        let plain_app = crate::harness::app(&cfg).await;
        crate::outbox::wait_until_due(&plain_app).await;
        plain_app.deliver_due().await.expect("pass");
        let got = received_since(&plain, before);
        assert_eq!(got.len(), DIGESTS, "{}", backend.name);
        assert!(got.iter().all(|m| !m.tls), "{}: {got:?}", backend.name);
        plain_app.store.close().await;
    }
}

async fn check_config_connect_speaks_starttls_with_the_ca_file() {
    let sink = SmtpSink::start(SmtpOptions {
        tls: Some(SinkTls::Starttls),
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("s.db").display());
    let cfg = config(dir.path(), &db, &sink, "starttls", Some(&ca()));
    let (_, out, err) = binary(dir.path(), &cfg, &[], &["check-config", "--connect"]);
    let want = format!(
        "127.0.0.1:{} answered EHLO as sendwatch-test-sink (STARTTLS)",
        sink.port()
    );
    assert!(out.contains(&want), "{out}{err}");
    // Without the CA, the same probe names the certificate.
    let cfg = config(dir.path(), &db, &sink, "starttls", None);
    let (ok, out, err) = binary(dir.path(), &cfg, &[], &["check-config", "--connect"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("certificate") || err.contains("certificate"),
        "{out}{err}"
    );
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(starttls_delivers_with_the_ca_file)
            .each_backend()
            .smtp(),
        trial!(implicit_tls_delivers_with_the_ca_file)
            .each_backend()
            .smtp(),
        trial!(a_certificate_from_an_unknown_ca_is_refused_and_nothing_is_sent)
            .each_backend()
            .smtp(),
        trial!(starttls_is_never_given_up_for_plain_text)
            .each_backend()
            .smtp(),
        trial!(check_config_connect_speaks_starttls_with_the_ca_file).smtp(),
    ]
}
