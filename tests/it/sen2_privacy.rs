//! Data minimisation, on both backends: after SEN2 loads (a scheduled run and `sendwatch load`,
//! XML and Blade, one refused), none of the generator's names, UPNs, ULNs, postcodes or birth
//! dates is in the database (SQLite's file bytes; every PostgreSQL table's rows), the data
//! folder (spool, kept files), the log at trace level, or a mail.

use crate::harness::{app, binary, folder_mail, outbox};
use crate::sen2::{Src, config, files_under, fix, stored_rows, zip_folder};
use crate::support::backends;

/// Every value of `tag` in the XML fixture.
fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.match_indices(&open)
        .filter_map(|(i, _)| {
            let rest = &xml[i + open.len()..];
            rest.find(&close).map(|j| rest[..j].to_string())
        })
        .collect()
}

/// What must not outlast a load: every name, UPN, ULN, postcode and birth date of the
/// fixture (a birth date that is also a date the KPIs keep is left out: it is there anyway).
fn identifying_values() -> Vec<String> {
    let xml = std::fs::read_to_string(fix("sen2.xml")).expect("fixture");
    let kept: Vec<String> = [
        "ReceivedDate",
        "RequestOutcomeDate",
        "AssessmentOutcomeDate",
        "StartDate",
        "ReviewMeeting",
        "LastReview",
    ]
    .iter()
    .flat_map(|t| xml_values(&xml, t))
    .collect();
    let mut needles: Vec<String> = [
        "Surname",
        "Forename",
        "UPN",
        "UniqueLearnerNumber",
        "PostCode",
    ]
    .iter()
    .flat_map(|t| xml_values(&xml, t))
    .collect();
    let births = xml_values(&xml, "PersonBirthDate");
    assert_eq!(births.len(), 80);
    let person = std::fs::read_to_string(fix("sen2-blade/Blade-Export_01-07-2021_person.csv"))
        .expect("person");
    for b in births.iter().filter(|b| !kept.contains(b)) {
        needles.push(b.clone());
        let blade = person
            .lines()
            .filter_map(|l| l.split(',').nth(7))
            .find(|d| d.starts_with(&b[..5]) && d[9..11] == b[8..10])
            .map(String::from);
        needles.extend(blade);
    }
    assert!(needles.iter().any(|n| n.starts_with("X999")));
    assert!(needles.iter().any(|n| n.starts_with("ZZ99")));
    assert!(needles.iter().any(|n| n.len() == 20), "Blade birth dates");
    needles.sort();
    needles.dedup();
    assert!(needles.len() > 150, "{}", needles.len());
    needles
}

fn assert_none_in(haystack: &[u8], needles: &[String], what: &str) {
    let text = String::from_utf8_lossy(haystack);
    for n in needles {
        assert!(!text.contains(n.as_str()), "{what} holds `{n}`");
    }
}

/// Every row of every table, as text: PostgreSQL's `t::text` of each row.
async fn pg_tables_text(url: &str) -> String {
    use sqlx::{AssertSqlSafe, Connection, Row};
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
    let tables: Vec<String> =
        sqlx::query("SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()")
            .fetch_all(&mut conn)
            .await
            .expect("tables")
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
    assert!(tables.len() > 10, "{tables:?}");
    let mut all = String::new();
    for t in tables {
        // Table names come from the catalogue: sendwatch's own, made of [a-z0-9_].
        assert!(
            t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "{t}"
        );
        let rows = sqlx::query(AssertSqlSafe(format!("SELECT t::text FROM \"{t}\" t")))
            .fetch_all(&mut conn)
            .await
            .expect("rows");
        for r in rows {
            all.push_str(&r.get::<String, _>(0));
            all.push('\n');
        }
    }
    let _ = conn.close().await;
    all
}

async fn no_name_upn_postcode_or_birth_date_outlasts_a_load() {
    let needles = identifying_values();
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let zip = dir.path().join("blade.zip");
        zip_folder(&fix("sen2-blade"), &zip);
        let (xml, zip, bad) = (
            fix("sen2.xml").display().to_string(),
            zip.display().to_string(),
            fix("faults/sen2__unknown-code.xml").display().to_string(),
        );
        let cfg = config(
            dir.path(),
            &backend.url,
            &[
                Src("req_xml", "sen2_requests", &xml, "sen2-xml", "requests", ""),
                Src(
                    "plans_blade",
                    "sen2_active_plans",
                    &zip,
                    "sen2-blade",
                    "active_plans",
                    "",
                ),
                // Refused: its file is not kept for inspection.
                Src("req_bad", "sen2_requests", &bad, "sen2-xml", "requests", ""),
            ],
        );
        let trace = [("SENDWATCH_LOG", "trace")];
        let mut logs = String::new();
        let (ok, out, err) = binary(dir.path(), &cfg, &trace, &["run-now", "ingest"]);
        logs.push_str(&format!("{out}{err}"));
        assert!(!ok, "one source is refused: {out}{err}");
        assert!(
            out.contains("REJECTED") || err.contains("rejected"),
            "{out}{err}"
        );
        for (file, source) in [
            (fix("sen2-blade"), "plans_blade"),
            (fix("sen2.xml"), "req_xml"),
            (fix("faults/sen2__unknown-code.xml"), "req_bad"),
        ] {
            let f = file.display().to_string();
            let (_, out, err) = binary(dir.path(), &cfg, &trace, &["load", &f, "--source", source]);
            logs.push_str(&format!("{out}{err}"));
        }
        assert!(
            logs.contains("TRACE") || logs.contains("DEBUG"),
            "the log ran at trace"
        );
        assert!(logs.contains("rows"), "{logs}");
        assert_none_in(logs.as_bytes(), &needles, "the log");

        let app = app(&cfg).await;
        assert_eq!(
            stored_rows(&app, "req_xml", "sen2_requests").await.len(),
            80
        );
        assert_eq!(
            stored_rows(&app, "plans_blade", "sen2_active_plans")
                .await
                .len(),
            40
        );
        app.store.close().await;

        let data = files_under(&dir.path().join("data"));
        for f in &data {
            assert_none_in(
                &std::fs::read(f).expect("read"),
                &needles,
                &f.display().to_string(),
            );
        }
        assert!(
            files_under(&dir.path().join("data/spool")).is_empty(),
            "the spool is empty after the loads: {data:?}"
        );
        assert!(
            files_under(&dir.path().join("data/kept")).is_empty(),
            "{data:?}"
        );
        for m in folder_mail(&outbox(dir.path())) {
            assert_none_in(
                format!("{}{}{:?}", m.headers, m.body, m.html).as_bytes(),
                &needles,
                "a mail",
            );
        }
        if backend.name == "sqlite" {
            let db = backend.url.trim_start_matches("sqlite://");
            let mut read = 0;
            for suffix in ["", "-wal", "-shm", "-journal"] {
                if let Ok(bytes) = std::fs::read(format!("{db}{suffix}")) {
                    read += bytes.len();
                    assert_none_in(&bytes, &needles, &format!("the database file{suffix}"));
                }
            }
            assert!(read > 100_000, "the database was read ({read} bytes)");
        } else {
            let text = pg_tables_text(&backend.url).await;
            assert!(text.contains("2019-06-19"), "the rows tables were read");
            assert_none_in(text.as_bytes(), &needles, "the PostgreSQL tables");
        }
    }
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![trial!(no_name_upn_postcode_or_birth_date_outlasts_a_load).each_backend()]
}
