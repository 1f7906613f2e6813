//! Each timeliness KPI's published benchmarks (issue 20): once the DfE release is imported,
//! `kpi show`, the pack and the live view's KPI page show the area's published figure of the
//! KPI's `national_measure` beside its region's, England's and its configured statistical
//! neighbours' for each year, exactly as the committed fixture gives them ("-" for a code,
//! never 0). A neighbour the release does not name is said, naming its key; each area of a
//! deployment sees its own neighbours only. SQLite and PostgreSQL alike.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use sendwatch::config::{Deployment, Sources};
use sendwatch::job::App;
use sendwatch::serve::{AreaView, Health, ServeState, serve};
use sendwatch::store::Store;

use crate::board::get;
use crate::harness::{binary, binary_status, folder_config_with, repo};
use crate::support::backends;
use crate::support::html::text_of;
use crate::support::trials::{Spec, trial};

pub fn tests() -> Vec<Spec> {
    vec![
        trial!(kpi_show_and_the_pack_set_the_area_beside_its_region_england_and_neighbours)
            .each_backend(),
        trial!(the_live_view_shows_each_area_its_own_neighbours).each_backend(),
    ]
}

const SEFTON_TOKEN: &str = "sefton-bench-token-0123456789abcdef";
const LIVERPOOL_TOKEN: &str = "liverpool-bench-token-0123456789abcd";
const OPERATOR: &str = "operator-bench-token-0123456789abcdef";

/// The release's codes for the areas used: Sefton, its region (North West), England, and
/// the local authorities used as neighbours.
const SEFTON: &str = "E08000014";
const NORTH_WEST: &str = "E12000002";
const ENGLAND: &str = "E92000001";
const KNOWSLEY: &str = "E08000011";
const CITY_OF_LONDON: &str = "E09000001";

/// Sefton's neighbours in these tests: Knowsley by name, the City of London by its old code
/// (its 2024 figure excluding exceptions is published as `x`).
const NEIGHBOURS: &str = "neighbours = [\"Knowsley\", \"201\"]\n";

/// KPI 1/2 compared on the figure excluding exceptions (1/2a's is the shipped plan's).
const KPI_1_2: &str = "[kpis.\"1/2\"]\nnational_measure = \"pc_within_20_weeks_ex\"\n";

/// The fixture's totals-row figures of `column` in timeliness_20_week.csv, by (year, code):
/// England by its country code, a region by its region code, a local authority by its code;
/// as a benchmark writes them (at least one decimal place; a code is "-").
fn published(column: &str) -> BTreeMap<(String, String), String> {
    let text = std::fs::read_to_string(repo("tests/fixtures/ees-ehcp-2025/timeliness_20_week.csv"))
        .expect("fixture");
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let (year, level, country, region, la, topic, value) = (
        col("time_period"),
        col("geographic_level"),
        col("country_code"),
        col("region_code"),
        col("new_la_code"),
        col("breakdown_topic"),
        col(column),
    );
    let mut out = BTreeMap::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        if f[topic] != "All EHC plans issued" {
            continue;
        }
        let code = match f[level] {
            "National" => f[country],
            "Regional" => f[region],
            _ => f[la],
        };
        let v = f[value];
        let text = if ["x", "z", "c", "low", "u", ""].contains(&v) {
            "-".to_string()
        } else if v.contains('.') {
            v.to_string()
        } else {
            format!("{v}.0")
        };
        out.insert((f[year].to_string(), code.to_string()), text);
    }
    out
}

/// For each year the fixture has, the cells of `codes` in that order.
fn expected(column: &str, codes: &[&str]) -> Vec<(String, Vec<String>)> {
    let all = published(column);
    let years: std::collections::BTreeSet<&String> = all.keys().map(|(y, _)| y).collect();
    years
        .into_iter()
        .map(|y| {
            let cells = codes
                .iter()
                .map(|c| {
                    all.get(&(y.clone(), c.to_string()))
                        .cloned()
                        .unwrap_or_else(|| "-".into())
                })
                .collect();
            (y.clone(), cells)
        })
        .collect()
}

/// The area's rank among itself and its neighbours (higher is better), from the cells.
fn rank(cells: &[String]) -> String {
    let v = |s: &String| s.parse::<f64>().ok();
    let Some(area) = v(&cells[0]) else {
        return "-".into();
    };
    let neighbours: Vec<f64> = cells[3..].iter().filter_map(v).collect();
    if neighbours.is_empty() {
        return "-".into();
    }
    let ahead = neighbours.iter().filter(|n| **n > area).count();
    format!("{} of {}", ahead + 1, neighbours.len() + 1)
}

/// `kpi show`'s benchmark rows of KPI `id`: (year, cells..., median, rank words).
fn shown_rows(table: &str, id: &str) -> Vec<Vec<String>> {
    let head = format!("KPI {id}  ");
    let section: Vec<&str> = table
        .lines()
        .skip_while(|l| !l.starts_with(&head))
        .skip(1)
        .take_while(|l| !l.starts_with("KPI "))
        .skip_while(|l| !l.contains("Published benchmarks:"))
        .collect();
    assert!(
        !section.is_empty(),
        "no benchmarks under KPI {id}:\n{table}"
    );
    section
        .iter()
        .filter(|l| l.starts_with("    20"))
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
}

/// The benchmark table of KPI `id` in a page: each year's row, its cells' text.
fn html_rows(html: &str, id: &str) -> Vec<Vec<String>> {
    let at = format!(
        "<div class=\"benchmark\" data-kpi=\"{}\">",
        id.replace('/', "&#x2f;")
    );
    let start = html
        .find(&at)
        .unwrap_or_else(|| panic!("no benchmark of {id} in the page"));
    let rest = &html[start..];
    let table = &rest[..rest.find("</table>").expect("the table ends")];
    table
        .split("<tr class=\"benchmark-year\">")
        .skip(1)
        .map(|row| {
            text_of(row)
                .lines()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .collect()
}

/// Each year's row is the fixture's figures for the area, region, England and neighbours, and
/// the rank the fixture's figures give.
fn assert_rows(rows: &[Vec<String>], want: &[(String, Vec<String>)], what: &str) {
    assert_eq!(rows.len(), want.len(), "{what}: one row per year: {rows:?}");
    for (row, (year, cells)) in rows.iter().zip(want) {
        assert_eq!(&row[0], year, "{what}");
        assert_eq!(&row[1..=cells.len()], cells.as_slice(), "{what} {year}");
        let words = row[cells.len() + 2..].join(" ");
        assert_eq!(words, rank(cells), "{what} {year}: the area's rank");
    }
}

async fn kpi_show_and_the_pack_set_the_area_beside_its_region_england_and_neighbours() {
    let tracker = repo("examples/tracker.csv").display().to_string();
    let release = repo("tests/fixtures/ees-ehcp-2025").display().to_string();
    let codes = [SEFTON, NORTH_WEST, ENGLAND, KNOWSLEY, CITY_OF_LONDON];
    let with = expected("pc_plans_issued_within_20_weeks", &codes);
    let without = expected("PC_plans_issued_20_weeks_ex", &codes);
    assert!(
        without.iter().any(|(y, c)| y == "2024" && c[4] == "-"),
        "the fixture publishes the City of London's 2024 figure as a code"
    );
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let extra = format!("[stats]\n{NEIGHBOURS}\n{KPI_1_2}");
        let cfg = folder_config_with(dir.path(), &backend.url, &tracker, &extra);

        // No release imported: no comparison, and `--benchmarks` says why.
        let (ok, before, err) = binary(dir.path(), &cfg, &[], &["kpi", "show", "1/2a"]);
        assert!(ok, "{name}: {err}");
        assert!(!before.contains("Published benchmarks"), "{name}: {before}");
        let (ok, out, err) = binary(dir.path(), &cfg, &[], &["kpi", "show", "--benchmarks"]);
        assert!(ok, "{name}: {err}");
        assert!(out.contains("no release is imported"), "{name}: {out}");

        let (ok, _, err) = binary(dir.path(), &cfg, &[], &["stats", "import", &release]);
        assert!(ok, "{name}: {err}");
        let (ok, table, err) = binary(dir.path(), &cfg, &[], &["kpi", "show"]);
        assert!(ok, "{name}: {err}");
        assert_rows(&shown_rows(&table, "1/2a"), &with, &format!("{name} 1/2a"));
        assert_rows(&shown_rows(&table, "1/2"), &without, &format!("{name} 1/2"));
        let header = table
            .lines()
            .find(|l| l.trim_start().starts_with("year "))
            .expect("a header");
        for area in [
            "Sefton",
            "North West",
            "England",
            "Knowsley",
            "City of London",
        ] {
            assert!(header.contains(area), "{name}: {header}");
        }
        assert!(
            table.contains("Published by the DfE, release ees-ehcp-2025 (Education, health and care plans, reporting year 2025): timeliness_20_week.csv"),
            "{name}: {table}"
        );
        // A KPI without a national_measure has none.
        assert!(
            shown_rows_absent(&table, "1/3"),
            "{name}: 1/3 has no benchmarks"
        );

        // --benchmarks as CSV: one row per year and area, with the file and line.
        let (ok, csv, err) = binary(
            dir.path(),
            &cfg,
            &[],
            &["kpi", "show", "1/2", "--benchmarks", "--format", "csv"],
        );
        assert!(ok, "{name}: {err}");
        assert_eq!(
            csv.lines().count(),
            1 + without.len() * codes.len(),
            "{csv}"
        );
        assert!(
            csv.lines().any(|l| l.starts_with(&format!(
                "1/2,pc_within_20_weeks_ex,percent,2024,neighbour,{CITY_OF_LONDON},City of London,-,"
            ))),
            "{name}: {csv}"
        );
        let sefton_2019 = format!(
            "1/2,pc_within_20_weeks_ex,percent,2019,area,{SEFTON},Sefton,{},",
            without[0].1[0]
        );
        let line = csv
            .lines()
            .find(|l| l.starts_with(&sefton_2019))
            .unwrap_or_else(|| panic!("{name}: no {sefton_2019} in {csv}"));
        assert!(
            line.contains(",ees-ehcp-2025,timeliness_20_week.csv,"),
            "{line}"
        );
        let (ok, json, err) = binary(
            dir.path(),
            &cfg,
            &[],
            &["kpi", "show", "1/2a", "--format", "json"],
        );
        assert!(ok, "{name}: {err}");
        let v: serde_json::Value = serde_json::from_str(&json).expect("json");
        let b = &v[0]["benchmark"];
        assert_eq!(b["measure"], "pc_within_20_weeks", "{name}");
        assert_eq!(b["columns"][4]["code"], CITY_OF_LONDON, "{name}");
        assert_eq!(
            b["years"][0]["cells"][0]["text"],
            with[0].1[0].as_str(),
            "{name}"
        );

        // The pack holds the same tables.
        let out = dir.path().join("pack");
        let (ok, said, err) = binary(
            dir.path(),
            &cfg,
            &[],
            &[
                "report",
                "--out",
                &out.display().to_string(),
                "--pdf",
                "never",
            ],
        );
        assert!(ok, "{name}: {said}{err}");
        let html = only_html(&out);
        assert_rows(
            &html_rows(&html, "1/2a"),
            &with,
            &format!("{name} pack 1/2a"),
        );
        assert_rows(
            &html_rows(&html, "1/2"),
            &without,
            &format!("{name} pack 1/2"),
        );
        assert!(html.contains("Published benchmarks"), "{name}");

        // A neighbour the release does not name: said under the table, and refused by
        // `check-config --connect`, naming its key.
        let unknown = format!("[stats]\nneighbours = [\"Knowsley\", \"Nowhere\"]\n\n{KPI_1_2}");
        let cfg = folder_config_with(dir.path(), &backend.url, &tracker, &unknown);
        let (ok, table, err) = binary(dir.path(), &cfg, &[], &["kpi", "show", "1/2a"]);
        assert!(ok, "{name}: {err}");
        assert!(
            table.contains("note: stats.neighbours[1] `Nowhere`: no local authority"),
            "{name}: {table}"
        );
        assert!(!table.contains("City of London"), "{name}: {table}");
        let (code, out, err) = binary_status(dir.path(), &cfg, &[], &["check-config", "--connect"]);
        assert_eq!(code, Some(78), "{name}: {out}{err}");
        assert!(
            out.contains("stats.neighbours: FAILED: stats.neighbours[1] `Nowhere`"),
            "{name}: {out}"
        );
    }
}

/// Whether KPI `id`'s part of `kpi show` has no benchmarks.
fn shown_rows_absent(table: &str, id: &str) -> bool {
    let head = format!("KPI {id}  ");
    !table
        .lines()
        .skip_while(|l| !l.starts_with(&head))
        .skip(1)
        .take_while(|l| !l.starts_with("KPI "))
        .any(|l| l.contains("Published benchmarks"))
}

/// The one HTML file in `dir`.
fn only_html(dir: &Path) -> String {
    let files: Vec<_> = std::fs::read_dir(dir)
        .expect("pack folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    std::fs::read_to_string(&files[0]).expect("pack")
}

/// Two areas, Sefton (neighbours Knowsley and the City of London) and Liverpool (neighbour
/// Blackpool), each with its live-view token.
fn two_areas(dir: &Path, store_url: &str) -> std::path::PathBuf {
    let tracker = repo("examples/tracker.csv").display().to_string();
    std::fs::create_dir_all(dir.join("areas")).expect("areas");
    std::fs::write(
        dir.join("areas/sefton.toml"),
        format!(
            "[general]\narea = \"Sefton\"\n\n[stats]\n{NEIGHBOURS}\n[http]\ntoken = \"{SEFTON_TOKEN}\"\n"
        ),
    )
    .expect("a");
    std::fs::write(
        dir.join("areas/liverpool.toml"),
        format!(
            "[general]\narea = \"Liverpool\"\n\n[stats]\nneighbours = [\"Blackpool\"]\n\n\
             [http]\ntoken = \"{LIVERPOOL_TOKEN}\"\n"
        ),
    )
    .expect("b");
    folder_config_with(
        dir,
        store_url,
        &tracker,
        &format!(
            "[http]\nlisten = \"127.0.0.1:1\"\noperator_token = \"{OPERATOR}\"\n\n\
             [areas]\ndir = \"areas\"\n"
        ),
    )
}

async fn the_live_view_shows_each_area_its_own_neighbours() {
    let release = repo("tests/fixtures/ees-ehcp-2025").display().to_string();
    let with = expected(
        "pc_plans_issued_within_20_weeks",
        &[SEFTON, NORTH_WEST, ENGLAND, KNOWSLEY, CITY_OF_LONDON],
    );
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = two_areas(dir.path(), &backend.url);
        let (ok, _, err) = binary(
            dir.path(),
            &cfg,
            &[],
            &["--area", "sefton", "stats", "import", &release],
        );
        assert!(ok, "{name}: {err}");

        // The daemon's serving machinery, in this process, on loopback.
        let deployment = Deployment::load(&Sources {
            file: Some(cfg.clone()),
            env: false,
        })
        .expect("the deployment loads");
        let base = Store::connect(&deployment.areas[0].store)
            .await
            .expect("connect");
        base.migrate().await.expect("migrate");
        let mut views = Vec::new();
        for settings in deployment.areas {
            let app = App::build_on(settings, &base).await.expect("area");
            views.push(AreaView {
                store: app.store.clone(),
                settings: app.settings.clone(),
            });
        }
        let (_tx, areas) = tokio::sync::watch::channel(Arc::new(views));
        let state = ServeState {
            areas,
            health: Arc::new(Health::default()),
            metrics: None,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, state, async {
            let _ = stopped.await;
        }));

        let (code, sefton) = get(&format!("{url}/a/sefton/kpi/1/2a"), Some(SEFTON_TOKEN)).await;
        assert_eq!(code, 200, "{name}: {sefton}");
        assert_rows(
            &html_rows(&sefton, "1/2a"),
            &with,
            &format!("{name} live 1/2a"),
        );
        assert!(
            !sefton.contains("Blackpool"),
            "{name}: Liverpool's neighbour"
        );
        assert!(!sefton.contains("Liverpool"), "{name}");

        let (code, liverpool) = get(
            &format!("{url}/a/liverpool/kpi/1/2a"),
            Some(LIVERPOOL_TOKEN),
        )
        .await;
        assert_eq!(code, 200, "{name}: {liverpool}");
        let rows = html_rows(&liverpool, "1/2a");
        assert!(liverpool.contains("Blackpool"), "{name}: its own neighbour");
        assert!(
            !liverpool.contains("Knowsley") && !liverpool.contains("City of London"),
            "{name}: Sefton's neighbours on Liverpool's page"
        );
        let mine = expected(
            "pc_plans_issued_within_20_weeks",
            &["E08000012", NORTH_WEST, ENGLAND, "E06000009"],
        );
        assert_rows(&rows, &mine, &format!("{name} live Liverpool"));
        // The board page carries them too; another area's token opens neither.
        let (code, board) = get(&format!("{url}/a/sefton/"), Some(SEFTON_TOKEN)).await;
        assert_eq!(code, 200, "{name}");
        assert_rows(&html_rows(&board, "1/2a"), &with, &format!("{name} board"));
        let (code, _) = get(&format!("{url}/a/sefton/kpi/1/2a"), Some(LIVERPOOL_TOKEN)).await;
        assert_eq!(code, 404, "{name}");

        let _ = stop.send(());
        server.await.expect("join").expect("served");
        base.close().await;
    }

    // An area sets which authority it is and its neighbours, nothing else of [stats].
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let cfg = two_areas(dir.path(), &db);
    std::fs::write(
        dir.path().join("areas/wirral.toml"),
        "[general]\narea = \"Wirral\"\n\n[stats]\nmax_file_bytes = 2048\n\n\
         [http]\ntoken = \"wirral-bench-token-0123456789abcdef\"\n",
    )
    .expect("c");
    let (code, out, err) = binary_status(dir.path(), &cfg, &[], &["check-config"]);
    assert_eq!(code, Some(78), "{out}{err}");
    assert!(
        err.contains("stats.max_file_bytes")
            && err.contains("an area sets only stats.area or stats.neighbours"),
        "{err}"
    );
}
