//! `sendwatch stats import` and `stats show` from the real binary, on SQLite and PostgreSQL,
//! over the trimmed copy of the DfE's 2025 release (tests/fixtures/ees-ehcp-2025): the seeds'
//! figures read back exactly, from the zip, the folder and one file alike; codes for no figure
//! are absent, never 0; a release with renamed columns is read through configuration alone; a
//! newer release replaces its years and an older one never does; a bad file stores nothing.

use std::path::{Path, PathBuf};

use sendwatch::stats::Level;
use sendwatch::store::Store;

use crate::harness::{binary, binary_status, over_example, repo, settings};
use crate::support::trials::{Spec, trial};
use crate::support::{Backend, backends};

mod changed;

pub fn tests() -> Vec<Spec> {
    let mut all = vec![
        trial!(the_seeds_figures_read_back_exactly_as_a_table_csv_and_json).each_backend(),
        trial!(the_zip_the_folder_and_one_file_store_the_same_figures).each_backend(),
        trial!(importing_the_same_release_again_changes_nothing).each_backend(),
        trial!(published_codes_are_absent_never_zero).each_backend(),
        trial!(an_area_the_release_does_not_name_is_a_configuration_error).each_backend(),
        trial!(the_configured_neighbours_are_shown_beside_the_area).each_backend(),
    ];
    all.extend(changed::tests());
    all
}

/// The trimmed release.
pub fn release() -> PathBuf {
    repo("tests/fixtures/ees-ehcp-2025")
}

/// The trimmed release's six CSV files, copied into `dst`.
pub fn copy_release(dst: &Path) {
    for f in FILES {
        std::fs::copy(release().join(f), dst.join(f)).expect("copy the fixture");
    }
}

pub const FILES: [&str; 6] = [
    "annual_reviews.csv",
    "assessments.csv",
    "caseload.csv",
    "newplans.csv",
    "requests.csv",
    "timeliness_20_week.csv",
];

/// A configuration over the example pointing at `backend`, with `extra` appended.
pub fn config(dir: &Path, backend: &Backend, extra: &str) -> PathBuf {
    let text = over_example(&format!(
        "[general]\ndata_dir = {:?}\n\n[store]\nurl = {:?}\n\n{extra}\n",
        dir.join("data").display().to_string(),
        backend.url
    ));
    let path = dir.join("sendwatch-test.toml");
    std::fs::write(&path, text).expect("write the config");
    path
}

/// `sendwatch stats ARGS`; (success, stdout, stderr).
pub fn stats(dir: &Path, cfg: &Path, args: &[&str]) -> (bool, String, String) {
    binary(dir, cfg, &[], &[&["stats"], args].concat())
}

/// `stats import PATH` that must succeed; its stdout.
pub fn import(dir: &Path, cfg: &Path, path: &Path, more: &[&str]) -> String {
    let path = path.display().to_string();
    let (ok, out, err) = stats(dir, cfg, &[&["import", &path], more].concat());
    assert!(ok, "stats import {path}: {err}");
    out
}

pub async fn store(cfg: &Path) -> Store {
    let s = settings(cfg);
    let store = Store::connect(&s.store).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

/// Every stored figure with its provenance, one line each, sorted.
pub async fn snapshot(cfg: &Path) -> Vec<String> {
    let store = store(cfg).await;
    let mut out = Vec::new();
    for level in Level::ALL {
        for p in store.stats_series(level, None).await.expect("series") {
            let f = &p.figure;
            out.push(format!(
                "{} {} {} {} {} {} {} {} {}",
                level.as_str(),
                f.area_code,
                f.measure,
                f.period,
                f.value,
                f.decimals,
                p.release,
                f.file,
                f.line
            ));
        }
    }
    store.close().await;
    out.sort();
    out
}

/// The table's row for `period` under the measure `measure`: its cells after the period.
pub fn table_row(table: &str, measure: &str, period: &str) -> Vec<String> {
    let header = format!("[{measure}]");
    let row = table
        .lines()
        .skip_while(|l| !l.ends_with(&header))
        .skip(2)
        .take_while(|l| !l.is_empty())
        .find(|l| l.split_whitespace().next() == Some(period))
        .unwrap_or_else(|| panic!("no {measure} {period} in\n{table}"));
    row.split_whitespace().skip(1).map(str::to_string).collect()
}

async fn the_seeds_figures_read_back_exactly_as_a_table_csv_and_json() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &backend, "");
        let said = import(dir.path(), &cfg, &release(), &[]);
        assert!(said.contains("imported ees-ehcp-2025"), "{said}");
        assert!(
            said.contains("timeliness_20_week.csv: 82 lines, 48 rows read"),
            "{said}"
        );

        let (ok, table, err) = stats(dir.path(), &cfg, &["show"]);
        assert!(ok, "{err}");
        assert!(
            table.contains(
                "Sefton (E08000014, 343) beside North West (E12000002) and England (E92000001)"
            ),
            "{table}"
        );
        // Sefton, North West, England.
        let row = |m: &str, p: &str| table_row(&table, m, p);
        assert_eq!(row("plans_issued", "2019"), ["318", "7742", "53327"]);
        assert_eq!(
            row("plans_issued_within_20_weeks", "2019"),
            ["73", "4564", "31313"]
        );
        assert_eq!(row("pc_within_20_weeks", "2019"), ["23.0", "59.0", "58.7"]);
        assert_eq!(
            row("pc_within_20_weeks_ex", "2019"),
            ["23.0", "60.1", "60.4"]
        );
        for (year, sefton) in [
            ("2020", "66.9"),
            ("2021", "61.1"),
            ("2022", "27.7"),
            ("2023", "40.4"),
        ] {
            assert_eq!(row("pc_within_20_weeks", year)[0], sefton, "{year}");
        }

        let (ok, csv, err) = stats(
            dir.path(),
            &cfg,
            &["show", "--format", "csv", "--measure", "pc_within_20_weeks"],
        );
        assert!(ok, "{err}");
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some(
                "measure,label,unit,period,level,area_code,area_name,value,release,reporting_year,file,line,role"
            )
        );
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.len(), 6 * 3, "six years of three areas");
        let label = "\"EHC plans issued within 20 weeks, including exceptions (%)\"";
        for want in [
            format!(
                "pc_within_20_weeks,{label},percent,2019,local_authority,E08000014,Sefton,23.0,ees-ehcp-2025,2025,timeliness_20_week.csv,7,area"
            ),
            format!(
                "pc_within_20_weeks,{label},percent,2019,national,E92000001,England,58.7,ees-ehcp-2025,2025,timeliness_20_week.csv,2,england"
            ),
        ] {
            assert!(rows.contains(&want.as_str()), "{want}\n{csv}");
        }

        let (ok, json, err) = stats(
            dir.path(),
            &cfg,
            &[
                "show",
                "--format",
                "json",
                "--measure",
                "plans_issued",
                "--measure",
                "pc_within_20_weeks_ex",
            ],
        );
        assert!(ok, "{err}");
        let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(v["areas"][0]["name"], "Sefton");
        assert_eq!(v["areas"][1]["name"], "North West");
        assert_eq!(v["areas"][2]["name"], "England");
        assert_eq!(v["areas"][1]["role"], "region");
        let m = &v["measures"];
        assert_eq!(m.as_array().map(Vec::len), Some(2));
        let first = &m[0]["periods"][0];
        assert_eq!(first["period"], "2019");
        assert_eq!(first["figures"]["E08000014"]["value"], 318);
        assert_eq!(first["figures"]["E08000014"]["line"], 7);
        let ex = &m[1]["periods"][0]["figures"]["E92000001"];
        assert_eq!(
            (ex["value"].as_f64(), ex["text"].as_str()),
            (Some(60.4), Some("60.4"))
        );
        assert_eq!(ex["file"], "timeliness_20_week.csv");
    }
}

async fn the_zip_the_folder_and_one_file_store_the_same_figures() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &backend, "");
        import(dir.path(), &cfg, &release().join("ees-ehcp-2025.zip"), &[]);
        let from_zip = snapshot(&cfg).await;
        assert_eq!(from_zip.len(), 803, "{}", backend.name);
        import(dir.path(), &cfg, &release(), &[]);
        assert_eq!(
            snapshot(&cfg).await,
            from_zip,
            "{}: the folder",
            backend.name
        );
        let said = import(
            dir.path(),
            &cfg,
            &release().join("timeliness_20_week.csv"),
            &[],
        );
        assert!(
            said.contains("from timeliness_20_week.csv: 319 figures"),
            "{said}"
        );
        assert_eq!(snapshot(&cfg).await, from_zip, "{}: one file", backend.name);
        let timeliness = from_zip
            .iter()
            .filter(|l| l.contains(" timeliness_20_week.csv "))
            .count();
        assert_eq!(timeliness, 319);
        let store = store(&cfg).await;
        let releases = store.stats_releases().await.expect("releases");
        store.close().await;
        assert_eq!(releases.len(), 1);
        assert_eq!(releases[0].release.imported_from, "timeliness_20_week.csv");
    }
}

async fn importing_the_same_release_again_changes_nothing() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &backend, "");
        let first = import(dir.path(), &cfg, &release(), &[]);
        let once = snapshot(&cfg).await;
        let store_ = store(&cfg).await;
        let areas = store_.stats_areas().await.expect("areas");
        store_.close().await;
        let again = import(dir.path(), &cfg, &release(), &[]);
        assert_eq!(
            first.lines().next(),
            again.lines().next(),
            "the same counts"
        );
        assert!(!again.contains("kept"), "{again}");
        assert_eq!(snapshot(&cfg).await, once, "{}", backend.name);
        let store_ = store(&cfg).await;
        assert_eq!(store_.stats_areas().await.expect("areas"), areas);
        assert_eq!(store_.stats_count().await.expect("count"), 803);
        assert_eq!(store_.stats_releases().await.expect("releases").len(), 1);
        store_.close().await;
    }
}

/// Each mapped cell of each row the mapping selects in the fixture: (file, line, level word,
/// area code, measure, cell).
fn fixture_cells() -> Vec<(String, u64, String, String, String, String)> {
    let s = sendwatch::stats::settings::builtin().expect("shipped mapping");
    let (_, m) = s.mapping(None).expect("mapping");
    let mut out = Vec::new();
    for f in m.files.values() {
        let text = std::fs::read_to_string(release().join(&f.file)).expect("fixture");
        let mut lines = text.trim_start_matches('\u{feff}').lines();
        let header: Vec<&str> = lines.next().expect("header").split(',').collect();
        let at = |name: &str| header.iter().position(|h| *h == name).expect("column");
        let select = f.select.as_ref().expect("a select");
        for (i, line) in lines.enumerate() {
            let cells: Vec<&str> = line.split(',').collect();
            if cells[at(&select.column)] != select.value {
                continue;
            }
            let code = match cells[at("geographic_level")] {
                "National" => cells[at("country_code")],
                "Regional" => cells[at("region_code")],
                _ => cells[at("new_la_code")],
            };
            for (measure, column) in &f.measures {
                out.push((
                    f.file.clone(),
                    i as u64 + 2,
                    cells[at("geographic_level")].to_string(),
                    code.to_string(),
                    measure.clone(),
                    cells[at(column)].to_string(),
                ));
            }
        }
    }
    out
}

async fn published_codes_are_absent_never_zero() {
    // The real release writes only x; z, c, low, u and blanks go into a copy of Sefton's rows.
    let copy = tempfile::tempdir().expect("tempdir");
    copy_release(copy.path());
    let t = copy.path().join("timeliness_20_week.csv");
    let text = std::fs::read_to_string(&t).expect("read");
    let sefton_2020 = "2020,Calendar year,Local authority,E92000001,England,E12000002,North West,E08000014,343,Sefton,All EHC plans issued,All EHC plans issued,296,296,198,198,66.9,66.9,";
    assert!(text.contains(sefton_2020), "the fixture's Sefton 2020 row");
    let coded = "2020,Calendar year,Local authority,E92000001,England,E12000002,North West,E08000014,343,Sefton,All EHC plans issued,All EHC plans issued,z,c,low,u,,66.9,";
    std::fs::write(&t, text.replace(sefton_2020, coded)).expect("write");

    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &backend, "");
        import(dir.path(), &cfg, &release(), &[]);
        let stored = snapshot(&cfg).await;
        let mut codes = 0;
        for (file, line, _, code, measure, cell) in fixture_cells() {
            let here: Vec<&String> = stored
                .iter()
                .filter(|s| {
                    s.contains(&format!(" {code} {measure} "))
                        && s.ends_with(&format!("{file} {line}"))
                })
                .collect();
            if ["x", "z", "c", "low", "u", ""].contains(&cell.as_str()) {
                codes += 1;
                assert!(
                    here.is_empty(),
                    "{file} line {line} {measure}: `{cell}` stored as {here:?}"
                );
            } else {
                let value: f64 = cell.parse().expect("a number");
                assert_eq!(here.len(), 1, "{file} line {line} {measure}");
                let stored_value: f64 = here[0]
                    .split(' ')
                    .nth(4)
                    .and_then(|v| v.parse().ok())
                    .expect("value");
                assert_eq!(stored_value, value, "{file} line {line} {measure}");
            }
        }
        assert!(codes > 200, "the fixture has codes to read: {codes}");
        assert!(
            !stored.iter().any(|s| s.contains(" E06000009 reviews_")),
            "Blackpool's 2024 reviews are all x"
        );

        // The copy with z, c, low, u and a blank: those figures are "-", never 0.
        import(dir.path(), &cfg, copy.path(), &[]);
        let (ok, table, err) = stats(dir.path(), &cfg, &["show"]);
        assert!(ok, "{err}");
        for m in [
            "plans_issued",
            "plans_issued_ex",
            "plans_issued_within_20_weeks",
            "plans_issued_within_20_weeks_ex",
            "pc_within_20_weeks",
        ] {
            assert_eq!(table_row(&table, m, "2020")[0], "-", "{m}\n{table}");
        }
        assert_eq!(
            table_row(&table, "pc_within_20_weeks_ex", "2020")[0],
            "66.9"
        );
        let (ok, csv, _) = stats(
            dir.path(),
            &cfg,
            &["show", "--format", "csv", "--measure", "plans_issued"],
        );
        assert!(ok);
        assert!(
            !csv.lines()
                .any(|l| l.contains(",2020,local_authority,E08000014,")),
            "{csv}"
        );
    }
}

async fn an_area_the_release_does_not_name_is_a_configuration_error() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &backend, "");
        let (code, _, err) = binary_status(dir.path(), &cfg, &[], &["stats", "show"]);
        assert_eq!(code, Some(1), "nothing imported yet: {err}");
        assert!(
            err.contains("no published statistics imported yet"),
            "{err}"
        );
        import(dir.path(), &cfg, &release(), &[]);
        let cfg = config(dir.path(), &backend, "[stats]\narea = \"Narnia\"\n");
        let (code, _, err) = binary_status(dir.path(), &cfg, &[], &["stats", "show"]);
        assert_eq!(code, Some(78), "{err}");
        assert!(
            err.contains("stats.area: `Narnia` is no local authority"),
            "{err}"
        );
        // By its old code: Blackpool, and no North West row it lacks.
        let cfg = config(dir.path(), &backend, "[stats]\narea = \"890\"\n");
        let (ok, table, err) = stats(dir.path(), &cfg, &["show", "--measure", "reviews_expected"]);
        assert!(ok, "{err}");
        assert!(
            table.contains("Blackpool (E06000009, 890) beside North West"),
            "{table}"
        );
        assert_eq!(
            table_row(&table, "reviews_expected", "2024")[0],
            "-",
            "{table}"
        );
        let (code, _, err) = binary_status(
            dir.path(),
            &cfg,
            &[],
            &["stats", "show", "--measure", "nonesuch"],
        );
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("no measure named `nonesuch`"), "{err}");
    }
}

/// `[stats] neighbours` (by name and by old code) are columns after England in the table,
/// rows with the role `neighbour` in the CSV and areas in the JSON; one the release does not
/// name is left out and said.
async fn the_configured_neighbours_are_shown_beside_the_area() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(
            dir.path(),
            &backend,
            "[stats]\nneighbours = [\"Knowsley\", \"201\", \"Atlantis\"]\n",
        );
        import(dir.path(), &cfg, &release(), &[]);
        let (ok, table, err) = stats(dir.path(), &cfg, &["show", "--measure", "plans_issued"]);
        assert!(ok, "{err}");
        assert!(
            err.contains("stats.neighbours[2] `Atlantis`: no local authority"),
            "{err}"
        );
        assert!(
            table.contains(
                "Statistical neighbours: Knowsley (E08000011, 340), City of London (E09000001, 201)"
            ),
            "{table}"
        );
        let header = table
            .lines()
            .find(|l| l.trim_start().starts_with("period"))
            .expect("a header row");
        let names: Vec<&str> = header.split_whitespace().skip(1).collect();
        assert_eq!(
            names,
            [
                "Sefton", "North", "West", "England", "Knowsley", "City", "of", "London"
            ],
            "{table}"
        );
        // Each neighbour's figure as the release gives it in its own row.
        let (ok, csv, err) = stats(
            dir.path(),
            &cfg,
            &["show", "--format", "csv", "--measure", "plans_issued"],
        );
        assert!(ok, "{err}");
        let knowsley: Vec<&str> = csv
            .lines()
            .filter(|l| l.contains(",E08000011,Knowsley,"))
            .collect();
        assert!(!knowsley.is_empty(), "{csv}");
        assert!(knowsley.iter().all(|l| l.ends_with(",neighbour")), "{csv}");
        // From the end: the label before them is quoted and holds a comma.
        let last: Vec<&str> = knowsley[0].rsplit(',').collect();
        let (year, value) = (last[9], last[5]);
        assert_eq!(table_row(&table, "plans_issued", year)[3], value, "{table}");
        let (ok, json, err) = stats(
            dir.path(),
            &cfg,
            &["show", "--format", "json", "--measure", "plans_issued"],
        );
        assert!(ok, "{err}");
        let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        let roles: Vec<(&str, &str)> = v["areas"]
            .as_array()
            .expect("areas")
            .iter()
            .map(|a| {
                (
                    a["code"].as_str().unwrap_or(""),
                    a["role"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            roles,
            [
                ("E08000014", "area"),
                ("E12000002", "region"),
                ("E92000001", "england"),
                ("E08000011", "neighbour"),
                ("E09000001", "neighbour"),
            ]
        );
    }
}
