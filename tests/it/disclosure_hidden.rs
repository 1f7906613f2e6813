//! Issue 17, defects 3 and 4, through the real binary on SQLite and PostgreSQL with the
//! example data: KPI 5/1 in March 2021 is an average over one referral, RED inside, and its
//! RAG and direction of travel are said nowhere its value is hidden (`run-now`'s summary and
//! `kpi show` say "not rated: too few cases"; no digest lists it, as a list would rate it); and a share of 1 of 3 entered
//! by hand is not shown by `kpi values` or `kpi show` in any format.

use std::path::Path;

use crate::harness::{binary, folder_config_with, folder_mail, outbox, repo};
use crate::manual::{config as manual_config, run};
use crate::support::backends;

/// The one wording (`sendwatch::view::not_rated`).
const NOT_RATED: &str = "not rated: too few cases";
/// Where the example configuration sends KPI 5/1 (the joint performance sub-group).
const JOINT: &str = "joint-performance@example.org";
/// Words that would rate a value or give its direction.
const RATING_WORDS: [&str; 10] = [
    "RED",
    "AMBER",
    "GREEN",
    "worse",
    "better than",
    "improved",
    "deteriorated",
    "maintained",
    "ahead of",
    "behind",
];

fn assert_unrated(what: &str, text: &str) {
    for w in RATING_WORDS {
        assert!(!text.contains(w), "{what}: `{w}` in\n{text}");
    }
    assert!(
        text.contains(NOT_RATED),
        "{what}: no `{NOT_RATED}` in\n{text}"
    );
}

/// A config reading the example tracker and provider extracts into `store_url`.
fn config(dir: &Path, store_url: &str) -> std::path::PathBuf {
    let tracker = repo("examples/tracker.csv").display().to_string();
    let extra = format!(
        "[sources.provider]\nkind = \"provider\"\nurl = {:?}\n\n\
         [jobs.monthly-exceptions]\nsources = [\"tracker\", \"provider\"]\n",
        repo("examples/provider.csv").display().to_string()
    );
    folder_config_with(dir, store_url, &tracker, &extra)
}

async fn a_hidden_average_is_not_rated_in_the_digest_or_run_nows_summary() {
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &backend.url);
        let (ok, out, err) = binary(
            dir.path(),
            &cfg,
            &[],
            &["run-now", "monthly-exceptions", "--period", "2021-03"],
        );
        assert!(ok, "{name}: {err}");
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with("KPI 5/1 "))
            .unwrap_or_else(|| panic!("{name}: no 5/1 in\n{out}"));
        assert!(line.contains("March 2021"), "{name}: {line}");
        assert!(line.contains("not shown"), "{name}: {line}");
        assert_unrated(&format!("{name}: run-now"), line);

        let mail = folder_mail(&outbox(dir.path()))
            .into_iter()
            .find(|m| m.header("To").as_deref() == Some(JOINT))
            .unwrap_or_else(|| panic!("{name}: no digest to {JOINT}"));
        // 5/1 and 5/2 are RED inside with their values hidden, 5/4 RED and shown. Listed as
        // slipped, the hidden two would be rated by the list: they are in neither part, and
        // the subject counts the one it lists.
        assert!(
            !mail.body.contains("KPI 5/1:"),
            "{name}: 5/1 listed in\n{}",
            mail.body
        );
        assert!(!mail.body.contains("KPI 5/2:"), "{name}: 5/2 listed");
        assert!(mail.body.contains("KPI 5/4:"), "{name}: 5/4 not listed");
        let html = mail.html.as_deref().expect("an HTML part");
        assert!(
            !html.contains("Paediatric Dietetics"),
            "{name}: 5/1 in the HTML"
        );
        let subject = mail.header("Subject").unwrap_or_default();
        assert!(
            subject.contains("1 KPI slipped (1 red)"),
            "{name}: {subject}"
        );

        // `kpi show 5/1` for March 2021, in every format.
        for format in ["table", "csv", "json"] {
            let (ok, out, err) = binary(
                dir.path(),
                &cfg,
                &[],
                &[
                    "kpi", "show", "5/1", "--period", "2021-03", "--format", format,
                ],
            );
            assert!(ok, "{name}: {err}");
            let march = match format {
                "table" => Some(
                    out.lines()
                        .filter(|l| l.contains("Latest:") || l.contains("Direction:"))
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
                "csv" => out
                    .lines()
                    .find(|l| l.contains("2021-03") || l.contains("Mar-21"))
                    .map(str::to_string),
                _ => {
                    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
                    Some(v[0]["latest"].to_string())
                }
            };
            if let Some(march) = march {
                assert_unrated(&format!("{name}: kpi show --format {format}"), &march);
            }
        }
    }
}

async fn a_manual_share_of_1_of_3_is_not_shown_by_kpi_values_or_kpi_show() {
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = manual_config(dir.path(), &backend.url);
        let (ok, _, err) = run(
            dir.path(),
            &cfg,
            "kpi set 3/3 --period 2021-Q1 --value 33.3 --numerator 1 --denominator 3",
        );
        assert!(ok, "{name}: {err}");
        let mut outputs = Vec::new();
        for line in [
            "kpi values 3/3",
            "kpi show 3/3",
            "kpi show 3/3 --format csv",
            "kpi show 3/3 --format json",
        ] {
            let (ok, out, err) = run(dir.path(), &cfg, line);
            assert!(ok, "{name}: {line}: {err}");
            // The figure as a table, CSV or JSON would write it (not the digits of a
            // timestamp's seconds, "09:38:33.398", which a run at the wrong moment holds).
            for figure in ["33.3%", ": 33.3", ",33.3", " 33.3 "] {
                assert!(
                    !out.contains(figure),
                    "{name}: {line}: {figure:?} in\n{out}"
                );
            }
            assert!(!out.contains("(<5 of <5)"), "{name}: {line}:\n{out}");
            outputs.push(out);
        }
        // The value is there, in the words the digest uses for it.
        for out in [&outputs[0], &outputs[1], &outputs[3]] {
            assert!(out.contains("not shown: <5 in a count"), "{name}:\n{out}");
        }
    }
}

pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(a_hidden_average_is_not_rated_in_the_digest_or_run_nows_summary).each_backend(),
        trial!(a_manual_share_of_1_of_3_is_not_shown_by_kpi_values_or_kpi_show).each_backend(),
    ]
}
