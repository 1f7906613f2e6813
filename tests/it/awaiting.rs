//! What awaits approval (issue 22) on SQLite and PostgreSQL: an answer by link stored as a
//! draft never counts, but the board pack and the board's digest (the risk log holder's,
//! governance) say it awaits approval, by kind, KPI, period and sub-group, never by what was
//! typed or the value; once approved or rejected it is no longer said.

use chrono::Utc;
use sendwatch::answer::{Ask, Decision};
use sendwatch::job::App;
use sendwatch::job::pack::Gathered;
use sendwatch::pack::{self, Audience};
use sendwatch::store::Decided;

use crate::harness::{app, folder_config_with, repo, run_example};
use crate::support::backends;
use crate::support::html::decode;
use crate::support::trials::{Spec, trial};

const BOARD: &str = "governance@example.org";
const OWNER: &str = "pm-ap-subgroup@example.org";
/// Typed into the drafts; none of it may be shown.
const TYPED: &str = "Typed-reason-never-shown";
const TYPED_NOTE: &str = "Typed-note-never-shown";
const VALUE: &str = "987.6";

/// Every KPI item to its owners and to the board's sub-group too, so the board has a digest.
const ROUTES: &str = "[[notify.routes]]\nmatch = [\"kpi=~.+\"]\nowners = true\n\
                      sub_groups = [\"governance\"]\n";

/// The board pack's HTML, entities decoded.
async fn pack_html(app: &App) -> String {
    let g = Gathered::read(&app.store, &app.settings)
        .await
        .expect("gather");
    let built = pack::build(&g.inputs(&app.settings, Audience::Board, None, Utc::now()));
    let html = pack::render_html(&built, None, app.settings.disclosure()).expect("render");
    decode(&html)
}

/// (the board's digest, text and HTML (entities decoded); every other digest's text and HTML).
async fn digests(app: &App) -> (String, Vec<String>) {
    let p = app
        .preview("monthly-exceptions", None)
        .await
        .expect("preview");
    let mut board = String::new();
    let mut others = Vec::new();
    for d in &p.planned {
        let both = format!("{}\n{}", d.mail.text, decode(&d.mail.html));
        if d.recipient == BOARD {
            board = both;
        } else {
            others.push(both);
        }
    }
    assert!(!board.is_empty(), "the board has a digest");
    (board, others)
}

fn shows_nothing_typed(what: &str, s: &str) {
    for t in [TYPED, TYPED_NOTE, VALUE] {
        assert!(!s.contains(t), "{what} shows what was typed ({t})");
    }
}

async fn a_draft_awaits_approval_in_the_pack_and_the_boards_digest_until_decided() {
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let tracker = repo("examples/tracker.csv").display().to_string();
        let cfg = folder_config_with(dir.path(), &backend.url, &tracker, ROUTES);
        let app = app(&cfg).await;
        run_example(&app).await;
        let (board, _) = digests(&app).await;
        assert!(!board.contains("Awaiting approval"), "{name}: none yet");
        assert!(
            !pack_html(&app).await.contains("Awaiting approval"),
            "{name}"
        );

        let now = Utc::now();
        let fields = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let commentary = app
            .store
            .record_answer(
                "link-commentary",
                &Ask::Commentary {
                    kpi: "1/2a".into(),
                    period: "2021-06".into(),
                },
                &fields(&[("reason", TYPED), ("actions", TYPED_NOTE)]),
                OWNER,
                "127.0.0.1",
                now,
            )
            .await
            .expect("record")
            .expect("a fresh link");
        let value = app
            .store
            .record_answer(
                "link-value",
                &Ask::Value {
                    kpi: "1/4".into(),
                    period: "2026-Q3".into(),
                },
                &fields(&[("value", VALUE), ("note", TYPED_NOTE)]),
                OWNER,
                "127.0.0.1",
                now,
            )
            .await
            .expect("record")
            .expect("a fresh link");

        let said_c = "commentary on KPI 1/2a for June 2021, from the Performance Management";
        let said_v = "a value for KPI 1/4 for Jul-Sep 2026, from the ";
        let html = pack_html(&app).await;
        assert!(
            html.contains("Awaiting approval: 2 answers"),
            "{name}: {html}"
        );
        assert!(
            html.contains(said_c) && html.contains(said_v),
            "{name}: {html}"
        );
        shows_nothing_typed(name, &html);
        let (board, others) = digests(&app).await;
        assert_eq!(
            board.matches("Awaiting approval: 2 answers").count(),
            2,
            "{name}: in the text and the HTML: {board}"
        );
        assert!(board.contains(said_c) && board.contains(said_v), "{name}");
        shows_nothing_typed(name, &board);
        for o in &others {
            assert!(!o.contains("Awaiting approval"), "{name}: the board's only");
            shows_nothing_typed(name, o);
        }

        // Approved: no longer awaiting; rejected: neither.
        let decided = app
            .store
            .decide_answer(commentary, Decision::Approve, None, BOARD, None, now)
            .await
            .expect("decide");
        assert_eq!(decided, Decided::Done, "{name}");
        let html = pack_html(&app).await;
        assert!(
            html.contains("Awaiting approval: 1 answer;"),
            "{name}: {html}"
        );
        assert!(!html.contains(said_c) && html.contains(said_v), "{name}");
        let (board, _) = digests(&app).await;
        assert!(!board.contains(said_c) && board.contains(said_v), "{name}");
        let decided = app
            .store
            .decide_answer(value, Decision::Reject, None, BOARD, None, now)
            .await
            .expect("decide");
        assert_eq!(decided, Decided::Done, "{name}");
        assert!(
            !pack_html(&app).await.contains("Awaiting approval"),
            "{name}"
        );
        let (board, _) = digests(&app).await;
        assert!(!board.contains("Awaiting approval"), "{name}: {board}");
        app.store.close().await;
    }
}

pub fn tests() -> Vec<Spec> {
    vec![
        trial!(a_draft_awaits_approval_in_the_pack_and_the_boards_digest_until_decided)
            .each_backend(),
    ]
}
