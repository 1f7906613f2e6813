//! The rendered digest (issue 9): a run on the generated example extract, delivered to a real
//! SMTP server on loopback, read back part by part (text, HTML, inline charts) on both
//! backends and scanned for disclosure; `sendwatch preview` writing the same emails to files
//! while sending and recording nothing; and the HTML drawn by headless Chromium into a PNG a
//! person can look at.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use sendwatch::job::RunOptions;
use sendwatch::store::RunStatus;

use crate::harness::write_config;
use crate::harness::{Delivery, Mail, app, binary, folder_config, folder_mail, outbox, repo};
use crate::support::trials::{Spec, trial};
use crate::support::{SmtpOptions, SmtpSink, assert_nothing_disclosive, backends};

const JOB: &str = "monthly-exceptions";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The text a reader sees in an HTML part: tags out, entities decoded.
fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&middot;", "-")
        .replace("&amp;", "&")
}

/// Every part of `m` through the disclosure scan, and the structure of a digest: a text part,
/// an HTML part, and each inline image a PNG that the HTML references by its Content-ID.
fn check_digest(m: &Mail, what: &str) {
    assert_nothing_disclosive(&format!("\n\n{}", m.body), &format!("{what} (text part)"));
    let html = m
        .html
        .as_deref()
        .unwrap_or_else(|| panic!("{what}: no HTML part"));
    assert_nothing_disclosive(
        &format!("\n\n{}", html_text(html)),
        &format!("{what} (HTML part)"),
    );
    assert!(
        !html.contains("<script") && !html.contains("http://") && !html.contains("https://"),
        "{what}: the HTML asks for nothing from outside"
    );
    for (cid, png) in &m.images {
        assert!(png.starts_with(PNG), "{what}: image {cid} is not a PNG");
        assert!(
            html.contains(&format!("src=\"cid:{cid}\"")),
            "{what}: image {cid} is not referenced"
        );
    }
}

async fn a_digest_carries_text_html_and_its_charts_through_smtp_on_both_backends() {
    let sink = SmtpSink::start(SmtpOptions::default());
    let tracker = repo("examples/tracker.csv").display().to_string();
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = write_config(
            dir.path(),
            &backend.url,
            &tracker,
            Delivery::Smtp {
                port: sink.port(),
                auth: None,
            },
            "",
        );
        let app = app(&cfg).await;
        let before = sink.messages().len();
        let report = app.run_job(JOB, RunOptions::manual()).await.expect("run");
        assert_eq!(report.status, RunStatus::Ok, "{}: {report:?}", backend.name);
        let all = sink.wait_for(before + report.queued).await;
        let mails: Vec<(Vec<String>, Mail)> = all[before..]
            .iter()
            .map(|m| (m.rcpt_tos.clone(), Mail::parse(&m.data)))
            .collect();
        assert!(!mails.is_empty(), "{}: digests sent", backend.name);
        for (to, m) in &mails {
            check_digest(m, &format!("{}: mail to {to:?}", backend.name));
            assert!(
                m.header("Message-ID")
                    .is_some_and(|id| id.starts_with("<sendwatch.")),
                "{}: the Message-ID derived from the row",
                backend.name
            );
        }
        let (_, perf) = mails
            .iter()
            .find(|(to, _)| to == &["pm-ap-subgroup@example.org".to_string()])
            .expect("the performance sub-group's digest");
        let subject = perf.header("Subject").expect("subject");
        assert!(
            subject.contains("Sefton")
                && subject.contains("July 2021")
                && subject.contains(" red)"),
            "{}: area, period and red count in {subject}",
            backend.name
        );
        for want in [
            "KPI 1/2a: ",
            "  RAG:              RED",
            "  Exception report: requested from the owner, wanted by ",
            "  Data:             fetched ",
        ] {
            assert!(
                perf.body.contains(want),
                "{}: `{want}` not in\n{}",
                backend.name,
                perf.body
            );
        }
        let html = html_text(perf.html.as_deref().unwrap_or_default());
        for want in [
            "KPI 1/2a: ",
            "Exception report",
            "Where these figures come from",
        ] {
            assert!(
                html.contains(want),
                "{}: `{want}` not in the HTML",
                backend.name
            );
        }
        assert!(
            !perf.images.is_empty(),
            "{}: 1/2a has a history to chart",
            backend.name
        );
        app.store.close().await;
    }
}

/// Every file in `dir`, by name.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

async fn preview_writes_each_email_and_sends_and_records_nothing() {
    let tracker = repo("examples/tracker.csv").display().to_string();
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = folder_config(dir.path(), &backend.url, &tracker);
        // A run loads the extract (and mails); the preview then reads the loaded data.
        let app = app(&cfg).await;
        let report = app.run_job(JOB, RunOptions::manual()).await.expect("run");
        let sent = folder_mail(&outbox(dir.path())).len();
        let runs = app.store.last_run_id().await.expect("runs");
        let history = app.store.stored_results().await.expect("history");
        let pending = app.store.pending_mail().await.expect("outbox").len();
        let run_mail = app.store.run_mail(report.run_id).await.expect("mail").len();

        // The owner's answer to the exception, entered as the board would: the digest shows it.
        let (ok, stdout, stderr) = binary(
            dir.path(),
            &cfg,
            &[],
            &[
                "comment",
                "1/2a",
                "--period",
                "2021-07",
                "--reason",
                "Two caseworkers on long-term leave",
                "--actions",
                "Agency cover agreed until October",
                "--revised-date",
                "2021-12-31",
                "--next-update",
                "2021-09-15",
                "--author",
                "Head of SEND",
            ],
        );
        assert!(ok, "{}: {stdout}\n{stderr}", backend.name);

        let out = dir.path().join("preview");
        let (ok, stdout, stderr) = binary(
            dir.path(),
            &cfg,
            &[],
            &["preview", JOB, "--out", out.to_str().expect("utf-8 path")],
        );
        assert!(ok, "{}: {stdout}\n{stderr}", backend.name);
        assert!(
            stdout.contains("to pm-ap-subgroup@example.org") && stdout.contains("subject:"),
            "{}: {stdout}",
            backend.name
        );

        assert_eq!(
            folder_mail(&outbox(dir.path())).len(),
            sent,
            "{}: nothing sent",
            backend.name
        );
        assert_eq!(
            app.store.last_run_id().await.expect("runs"),
            runs,
            "{}: no run",
            backend.name
        );
        assert_eq!(
            app.store.stored_results().await.expect("history").len(),
            history.len(),
            "{}: no KPI results stored",
            backend.name
        );
        assert_eq!(
            app.store.pending_mail().await.expect("outbox").len(),
            pending
        );
        assert_eq!(
            app.store.run_mail(report.run_id).await.expect("mail").len(),
            run_mail
        );

        assert_eq!(mode(&out), 0o700, "{}: the folder", backend.name);
        let written = files(&out);
        assert!(!written.is_empty());
        for f in &written {
            assert_eq!(mode(f), 0o600, "{}: {}", backend.name, f.display());
        }
        let stem = "pm-ap-subgroup_at_example.org--2021-07--performance";
        for ext in ["eml", "html", "txt"] {
            let f = out.join(format!("{stem}.{ext}"));
            assert!(
                f.is_file(),
                "{}: {} in {written:?}",
                backend.name,
                f.display()
            );
        }
        let eml = std::fs::read_to_string(out.join(format!("{stem}.eml"))).expect("eml");
        check_digest(&Mail::parse(&eml), &format!("{}: preview", backend.name));
        // The .html opens in a browser: its charts are data: URIs, not cid: parts.
        let html = std::fs::read_to_string(out.join(format!("{stem}.html"))).expect("html");
        assert!(
            html.contains("src=\"data:image/png;base64,") && !html.contains("cid:"),
            "{}: the preview's charts",
            backend.name
        );
        let txt = std::fs::read_to_string(out.join(format!("{stem}.txt"))).expect("txt");
        for want in [
            "KPI 1/2a: ",
            "  Reason:           Two caseworkers on long-term leave",
            "  Recovery actions: Agency cover agreed until October",
            "  Revised date:     2021-12-31",
            "  Next update:      2021-09-15",
        ] {
            assert!(
                txt.contains(want),
                "{}: `{want}` not in\n{txt}",
                backend.name
            );
        }
        app.store.close().await;
    }
}

async fn the_html_digest_renders_in_headless_chromium() {
    let tracker = repo("examples/tracker.csv").display().to_string();
    let backend = crate::support::sqlite_backend();
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = folder_config(dir.path(), &backend.url, &tracker);
    let app = app(&cfg).await;
    app.run_job(JOB, RunOptions::manual()).await.expect("run");
    let mail = folder_mail(&outbox(dir.path()))
        .into_iter()
        .find(|m| m.header("To").as_deref() == Some("pm-ap-subgroup@example.org"))
        .expect("the performance digest");
    app.store.close().await;
    // The page as a mail client shows it: the cid: images as files beside it.
    let mut html = mail.html.clone().expect("an HTML part");
    let page_dir = tempfile::tempdir().expect("page folder");
    for (i, (cid, png)) in mail.images.iter().enumerate() {
        let name = format!("chart{i}.png");
        std::fs::write(page_dir.path().join(&name), png).expect("chart");
        html = html.replace(&format!("cid:{cid}"), &name);
    }
    let page = page_dir.path().join("digest.html");
    std::fs::write(&page, html).expect("page");
    let shot = crate::support::artefact("render-digest.png");
    crate::support::screenshot(&page, &shot, 1000, 1400);
    let png = std::fs::read(&shot).expect("the screenshot");
    assert!(png.starts_with(PNG));
    let info = png::Decoder::new(std::io::Cursor::new(&png))
        .read_info()
        .expect("decodes")
        .info()
        .clone();
    assert_eq!((info.width, info.height), (1000, 1400));
    // A blank page compresses to a few kB; the digest with its charts is far more.
    assert!(png.len() > 30_000, "{} bytes: blank?", png.len());
    eprintln!("the HTML digest as Chromium draws it: {}", shot.display());
    // Nothing but the page and its charts (files beside it) is asked for.
    let (_, requests) = crate::support::dom_and_requests(&format!("file://{}", page.display()));
    assert!(
        requests.iter().all(|r| r.starts_with("file://")),
        "the digest asks for {requests:?}"
    );
}

fn a_councils_template_that_does_not_parse_fails_check_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let templates = dir.path().join("templates");
    std::fs::create_dir(&templates).expect("folder");
    std::fs::write(templates.join("digest.html.j2"), "{% for %}").expect("template");
    let backend = crate::support::sqlite_backend();
    let cfg = crate::harness::folder_config_with(
        dir.path(),
        &backend.url,
        &repo("examples/tracker.csv").display().to_string(),
        &format!(
            "[notify]\ntemplates_dir = {:?}\n",
            templates.display().to_string()
        ),
    );
    let (code, out, err) = crate::harness::binary_status(dir.path(), &cfg, &[], &["check-config"]);
    assert_eq!(code, Some(78), "{out}\n{err}");
    assert!(
        err.contains("templates_dir") && err.contains("digest.html.j2"),
        "{err}"
    );
}

pub fn tests() -> Vec<Spec> {
    vec![
        trial!(a_digest_carries_text_html_and_its_charts_through_smtp_on_both_backends)
            .each_backend()
            .smtp(),
        trial!(preview_writes_each_email_and_sends_and_records_nothing).each_backend(),
        trial!(the_html_digest_renders_in_headless_chromium).chromium(),
        trial!(a_councils_template_that_does_not_parse_fails_check_config),
    ]
}
