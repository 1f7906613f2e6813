//! Scheduled packs (issue 11): a pack job makes the board pack from what the runs stored and
//! mails it, HTML and PDF attached, through the outbox to a sub-group's owners and an
//! address, once a day at most; a job narrowed to the day a week before a board meeting makes
//! none on another day. Real SMTP on loopback, both backends.

use chrono::{Days, Utc};
use mail_parser::MimeHeaders;
use sendwatch::job::RunOptions;
use sendwatch::store::RunStatus;

use crate::harness::{Delivery, app, repo, write_config};
use crate::support::html::{rows, text_of};
use crate::support::trials::{Spec, trial};
use crate::support::{SmtpOptions, SmtpSink, assert_nothing_disclosive, backends};

/// (filename, content type, bytes) of each attachment of a raw message.
fn attachments(raw: &str) -> Vec<(String, String, Vec<u8>)> {
    let m = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .expect("a MIME message");
    m.attachments()
        .map(|a| {
            let ct = a
                .content_type()
                .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or_default()))
                .unwrap_or_default();
            (
                a.attachment_name().unwrap_or_default().to_string(),
                ct,
                a.contents().to_vec(),
            )
        })
        .collect()
}

async fn a_pack_job_mails_the_pack_once_and_only_in_the_week_before_a_board() {
    let sink = SmtpSink::start(SmtpOptions::default());
    let extract = repo("examples/tracker.csv").display().to_string();
    let today = Utc::now()
        .with_timezone(&chrono_tz::Europe::London)
        .date_naive();
    let board = today.checked_add_days(Days::new(7)).expect("date");
    let extra = format!(
        "[sub_groups.governance]\nowners = [\"gov@example.org\"]\n\n\
         [action_log]\nmeetings = [\"{board}\"]\n\n\
         [jobs.board-pack]\ncron = \"0 7 * * *\"\n\
         pack = {{ audience = \"board\", to = [\"governance\", \"adviser@example.org\"], days_before_meeting = 7 }}\n\n\
         [jobs.dfe-pack]\ncron = \"0 7 * * *\"\n\
         pack = {{ audience = \"dfe\", to = [\"adviser@example.org\"], days_before_meeting = 3 }}\n"
    );
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let smtp = Delivery::Smtp {
            port: sink.port(),
            auth: None,
        };
        let cfg = write_config(dir.path(), &backend.url, &extract, smtp, &extra);
        let app = app(&cfg).await;
        app.run_job("monthly-exceptions", RunOptions::manual())
            .await
            .expect("a run stores the figures");
        sink.wait_for(sink.messages().len()).await;

        let before = sink.messages().len();
        let r = app
            .run_job("board-pack", RunOptions::manual())
            .await
            .expect("pack run");
        assert_eq!(r.status, RunStatus::Ok, "{name}: {r:?}");
        assert_eq!((r.queued, r.delivery.sent), (2, 2), "{name}: {r:?}");
        sink.wait_for(before + 2).await;
        let got = &sink.messages()[before..];
        let mut to: Vec<String> = got.iter().map(|m| m.rcpt_tos.join(",")).collect();
        to.sort();
        assert_eq!(to, ["adviser@example.org", "gov@example.org"], "{name}");
        for m in got {
            let files = attachments(&m.data);
            let html = files
                .iter()
                .find(|(f, ..)| f == "sefton-send-board-pack-latest.html")
                .unwrap_or_else(|| panic!("{name}: no pack attached: {files:?}"));
            assert_eq!(html.1, "text/html", "{name}");
            let page = String::from_utf8(html.2.clone()).expect("utf-8 pack");
            assert_eq!(rows(&page, "kpi"), 26, "{name}: the pack's KPI table");
            assert_nothing_disclosive(&format!("\n\n{}", text_of(&page)), &format!("{name} pack"));
            assert_nothing_disclosive(&m.data, &format!("{name} pack mail"));
            let pdf = files
                .iter()
                .find(|(f, ..)| f == "sefton-send-board-pack-latest.pdf")
                .unwrap_or_else(|| panic!("{name}: no PDF attached"));
            assert!(pdf.2.starts_with(b"%PDF-"), "{name}");
        }

        // The same day again: nothing queued twice.
        let again = app
            .run_job("board-pack", RunOptions::manual())
            .await
            .expect("second pack run");
        assert_eq!((again.queued, again.delivery.sent), (0, 0), "{name}");

        // Three days before a board there is none: no pack, and the ledger says why.
        let dfe = app
            .run_job("dfe-pack", RunOptions::manual())
            .await
            .expect("dfe run");
        assert_eq!((dfe.status, dfe.queued), (RunStatus::Ok, 0), "{name}");
        let row = app.store.run(dfe.run_id).await.expect("ledger row");
        assert!(
            row.summary
                .as_deref()
                .is_some_and(|s| s.contains("no board meeting 3 days from")),
            "{name}: {row:?}"
        );
        app.store.close().await;
    }
}

pub fn tests() -> Vec<Spec> {
    vec![
        trial!(a_pack_job_mails_the_pack_once_and_only_in_the_week_before_a_board)
            .each_backend()
            .smtp()
            .chromium(),
    ]
}
