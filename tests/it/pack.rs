//! `sendwatch report`: the board pack from the real binary after a real run on the shipped
//! extracts (made by the generator), on SQLite and PostgreSQL; then opened in Debian's
//! headless Chromium, which must find all 26 KPIs and make no request, and leaves a
//! screenshot and a PDF in target/screenshots for a person to look at.

use std::path::{Path, PathBuf};

use crate::harness::{app, binary, folder_config_with, repo, run_example};
use crate::support::html::{decode, text_of};
use crate::support::trials::{Spec, trial};
use crate::support::{artefact, dom_and_requests, screenshot};
use crate::support::{assert_nothing_disclosive, backends};

const IDS: [&str; 26] = [
    "1/1", "1/2", "1/2a", "1/3", "1/3a", "1/4", "1/5", "1/6", "2/1", "2/2", "2/3", "3/1", "3/2",
    "3/3", "3/4", "3/5", "4/1", "4/2", "4/3", "4/4", "4/5", "4/6", "5/1", "5/2", "5/3", "5/4",
];

/// The example job on all three shipped extracts, the manual KPIs rated too.
fn three_sources() -> String {
    format!(
        "[sources.reviews]\nkind = \"reviews\"\nurl = {:?}\n\n[sources.provider]\nkind = \"provider\"\nurl = {:?}\n\n\
         [jobs.monthly-exceptions]\nsources = [\"tracker\", \"reviews\", \"provider\"]\nmanual_kpis = true\n",
        repo("examples/reviews.csv").display().to_string(),
        repo("examples/provider.csv").display().to_string(),
    )
}

/// `report ARGS --out DIR`; the files it wrote, by extension.
fn report(dir: &Path, cfg: &Path, out: &Path, args: &[&str]) -> (String, Vec<PathBuf>) {
    let out_s = out.display().to_string();
    let (ok, stdout, err) = binary(
        dir,
        cfg,
        &[],
        &[&["report", "--out", &out_s], args].concat(),
    );
    assert!(ok, "report failed: {stdout}\n{err}");
    let mut files: Vec<PathBuf> = std::fs::read_dir(out)
        .expect("the pack folder")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    (stdout, files)
}

/// Rows of the KPI table, by KPI id, in order.
fn kpi_rows(html: &str) -> Vec<String> {
    html.match_indices("<tr class=\"kpi\" data-kpi=\"")
        .filter_map(|(i, m)| {
            let rest = &html[i + m.len()..];
            rest.split_once('"').map(|(id, _)| id.to_string())
        })
        .collect()
}

async fn report_writes_one_self_contained_pack_with_all_26_kpis_on_both_backends() {
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let tracker = repo("examples/tracker.csv").display().to_string();
        let cfg = folder_config_with(dir.path(), &backend.url, &tracker, &three_sources());
        let app = app(&cfg).await;
        let run = run_example(&app).await;
        app.store.close().await;
        let red: Vec<&str> = run
            .evaluations
            .iter()
            .filter(|e| e.rag == sendwatch::kpi::Rag::Red)
            .map(|e| e.kpi_id.as_str())
            .collect();
        assert!(!red.is_empty(), "{name}: the example data has RED KPIs");

        // The owner of the first RED KPI answers with an exception report; the pack shows it.
        let first_red = run
            .evaluations
            .iter()
            .find(|e| e.rag == sendwatch::kpi::Rag::Red)
            .expect("a RED KPI");
        let period = first_red.period.to_string();
        let (ok, out, err) = binary(
            dir.path(),
            &cfg,
            &[],
            &[
                "comment",
                &first_red.kpi_id,
                "--period",
                &period,
                "--reason",
                "Staff vacancies in the assessment team",
                "--actions",
                "Two agency officers from March",
                "--revised-date",
                "2021-09-30",
                "--next-update",
                "2021-08-12",
                "--author",
                "Head of SEND",
            ],
        );
        assert!(ok, "{name}: comment: {out}\n{err}");

        let out = dir.path().join("pack");
        let (stdout, files) = report(dir.path(), &cfg, &out, &["--pdf", "never"]);
        assert!(stdout.contains("26 KPIs"), "{name}: {stdout}");
        assert_eq!(files.len(), 1, "{name}: one file, no PDF asked: {files:?}");
        let html_path = &files[0];
        assert!(
            html_path
                .file_name()
                .is_some_and(|f| f == "sefton-send-board-pack-latest.html"),
            "{html_path:?}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(
                mode(html_path),
                0o600,
                "{name}: the pack is the service user's"
            );
            assert_eq!(mode(&out), 0o700, "{name}");
        }
        let raw = std::fs::read_to_string(html_path).expect("the pack");
        let html = decode(&raw);
        assert_eq!(
            kpi_rows(&html),
            IDS,
            "{name}: every KPI once, in plan order"
        );
        // Self-contained: nothing to fetch. (The SVG namespace names a namespace, not a file.)
        let fetchable = raw.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        for needle in [
            "http://", "https://", "<script", "<link", "src=", "url(", "@import",
        ] {
            assert!(
                !fetchable.contains(needle),
                "{name}: `{needle}` in the pack"
            );
        }
        // Every RED KPI is an exception, with its recovery plan asked for; trends are drawn.
        for id in &red {
            assert!(
                html.contains(&format!("<div class=\"exception\" data-kpi=\"{id}\">")),
                "{name}: KPI {id} is RED but not among the exceptions"
            );
        }
        let commented = html
            .split(&format!(
                "<div class=\"exception\" data-kpi=\"{}\">",
                first_red.kpi_id
            ))
            .nth(1)
            .and_then(|rest| rest.split("</div>").next())
            .expect("the commented exception");
        for said in [
            "Staff vacancies in the assessment team",
            "Two agency officers from March",
            "2021-09-30",
            "2021-08-12",
            "Head of SEND",
        ] {
            assert!(
                commented.contains(said),
                "{name}: `{said}` not in {commented}"
            );
        }
        // The others still ask for theirs.
        assert!(
            red.len() < 2 || html.contains("requested from the owner"),
            "{name}"
        );
        // The action log: every shipped action once, with the count at each rating.
        let shipped = sendwatch::action::catalogue::builtin()
            .expect("action log")
            .0;
        let actions = html.matches("<tr class=\"action\" data-action=").count();
        assert_eq!(actions, shipped.0.len(), "{name}: every action once");
        assert!(html.contains("id=\"action-summary\"") && html.contains("Action completed: "));
        assert!(
            html.matches("<svg").count() >= red.len(),
            "{name}: trend charts"
        );
        assert!(html.contains("id=\"provenance\""), "{name}");
        // Each KPI's row says its AMBER band in its unit: weeks for a wait, points for a share.
        let row_of = |id: &str| {
            html.split(&format!("<tr class=\"kpi\" data-kpi=\"{id}\""))
                .nth(1)
                .and_then(|r| r.split("</tr>").next())
                .unwrap_or_else(|| panic!("{name}: no row for {id}"))
                .to_string()
        };
        assert!(
            row_of("5/4").contains("lower is better; AMBER within 1 week of target;"),
            "{name}: {}",
            row_of("5/4")
        );
        assert!(
            row_of("1/2a").contains("AMBER within 5 points of target;"),
            "{name}: {}",
            row_of("1/2a")
        );
        assert_nothing_disclosive(&format!("\n\n{}", text_of(&html)), &format!("{name} pack"));

        // Scrutiny's pack leaves out the run-level provenance and the milestone column.
        let out_s = dir.path().join("scrutiny");
        let (_, files) = report(
            dir.path(),
            &cfg,
            &out_s,
            &["--audience", "scrutiny", "--pdf", "never"],
        );
        let scrutiny = decode(&std::fs::read_to_string(&files[0]).expect("scrutiny pack"));
        assert!(files[0].ends_with("sefton-send-scrutiny-pack-latest.html"));
        assert_eq!(kpi_rows(&scrutiny), IDS, "{name}");
        assert!(!scrutiny.contains("id=\"provenance\"") && !scrutiny.contains("Milestones:"));
        assert!(scrutiny.contains("Overview and Scrutiny"));

        // In a browser: the table holds all 26 KPIs, the page asks for nothing, and a person
        // gets a screenshot and the PDF sendwatch prints.
        let url = format!("file://{}", html_path.display());
        let (dom, requests) = dom_and_requests(&url);
        assert_eq!(kpi_rows(&dom), IDS, "{name}: the rendered table");
        assert!(
            requests.is_empty(),
            "{name}: the pack asked for {requests:?}"
        );
        let png = artefact(&format!("pack-{name}.png"));
        screenshot(html_path, &png, 1400, 2400);
        let out_pdf = dir.path().join("with-pdf");
        let (stdout, files) = report(dir.path(), &cfg, &out_pdf, &["--pdf", "always"]);
        let pdf = files
            .iter()
            .find(|f| f.extension().is_some_and(|e| e == "pdf"))
            .unwrap_or_else(|| panic!("{name}: no PDF: {stdout}"));
        let bytes = std::fs::read(pdf).expect("pdf");
        assert!(
            bytes.starts_with(b"%PDF-") && bytes.len() > 10_000,
            "{name}"
        );
        std::fs::write(artefact(&format!("pack-{name}.pdf")), bytes).expect("save pdf");
        eprintln!(
            "pack for a person to look at: {} and its PDF",
            png.display()
        );
    }
}

/// The request check would see one: a page that asks for an image on loopback.
fn the_request_check_sees_a_page_that_fetches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("fetches.html");
    std::fs::write(&page, "<img src=\"http://127.0.0.1:9/x.png\">").expect("page");
    let (_, requests) = dom_and_requests(&format!("file://{}", page.display()));
    assert_eq!(requests, ["http://127.0.0.1:9/x.png"]);
}

pub fn tests() -> Vec<Spec> {
    vec![
        trial!(report_writes_one_self_contained_pack_with_all_26_kpis_on_both_backends)
            .each_backend()
            .chromium(),
        trial!(the_request_check_sees_a_page_that_fetches).chromium(),
    ]
}
