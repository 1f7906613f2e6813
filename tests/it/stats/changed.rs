//! Releases other than the one shipped: renamed columns read through configuration alone, a
//! later release replacing its years (and an earlier one never replacing a later one's), and
//! bad files refused whole with the statistics imported before kept.

use std::path::Path;

use super::{config, copy_release, release, snapshot, stats, table_row};
use crate::harness::binary_status;
use crate::support::backends;
use crate::support::trials::{Spec, trial};

pub fn tests() -> Vec<Spec> {
    vec![
        trial!(a_release_with_renamed_columns_is_read_through_a_mapping_in_config_alone)
            .each_backend(),
        trial!(a_later_release_replaces_its_years_and_an_earlier_one_never_does).each_backend(),
        trial!(a_malformed_file_is_refused_whole_and_the_previous_import_kept).each_backend(),
        trial!(files_and_lines_past_the_bounds_are_refused).each_backend(),
    ]
}

/// A mapping for a made-up later release whose timeliness file renames its columns, its file
/// and its words for the level and the period.
const RENAMED: &str = r#"
[stats.mappings.ees-ehcp-2026]
title = "Education, health and care plans, reporting year 2026"
reporting_year = 2026
[stats.mappings.ees-ehcp-2026.columns]
time_period = "year"
time_identifier = "time_identifier"
geographic_level = "level"
country_code = "country_code"
country_name = "country_name"
region_code = "region_code"
region_name = "region_name"
la_code = "la_code_ons"
old_la_code = "old_la_code"
la_name = "authority"
[stats.mappings.ees-ehcp-2026.levels]
national = "National"
regional = "Regional"
local_authority = "Local Authority"
[stats.mappings.ees-ehcp-2026.periods]
calendar_year = "Calendar Year"
[stats.mappings.ees-ehcp-2026.files.timeliness]
file = "ehcp_timeliness.csv"
select = { column = "breakdown_topic", value = "All EHC plans issued" }
[stats.mappings.ees-ehcp-2026.files.timeliness.measures]
plans_issued = "issued"
plans_issued_within_20_weeks = "issued_20wk"
pc_within_20_weeks = "pct_20wk"
"#;

const TOTAL: &str = "All EHC plans issued,All EHC plans issued";

const SEFTON_2024: &str = "2024,Calendar year,Local authority,E92000001,England,E12000002,North West,E08000014,343,Sefton,All EHC plans issued,All EHC plans issued,869,866,460,460,52.9,";

/// The fixture's timeliness file as the made-up 2026 release writes it, into `dir`: renamed,
/// Sefton's 2024 rate revised to 60.0, a 2025 row for Sefton, and the plans issued within 20
/// weeks in 2019 unavailable (`x`) for every area.
fn write_2026(dir: &Path) {
    let text = std::fs::read_to_string(release().join("timeliness_20_week.csv")).expect("fixture");
    assert!(text.contains(SEFTON_2024), "the fixture's Sefton 2024 row");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[0] = lines[0]
        .replacen("time_period", "year", 1)
        .replace("geographic_level", "level")
        .replace("new_la_code", "la_code_ons")
        .replace("la_name", "authority")
        // The percentage first: its name holds the count's.
        .replace("pc_plans_issued_within_20_weeks,", "pct_20wk,")
        .replace("plans_issued_den,", "issued,")
        .replace("plans_issued_within_20_weeks,", "issued_20wk,");
    let within = lines[0]
        .split(',')
        .position(|h| h == "issued_20wk")
        .expect("the renamed column");
    for l in lines
        .iter_mut()
        .filter(|l| l.starts_with("2019,") && l.contains(TOTAL))
    {
        let mut cells: Vec<&str> = l.split(',').collect();
        cells[within] = "x";
        *l = cells.join(",");
    }
    let revised = SEFTON_2024.replace(",52.9,", ",60.0,");
    let added = SEFTON_2024
        .replacen("2024,", "2025,", 1)
        .replace(",52.9,", ",71.5,");
    let sefton_2024 = lines
        .iter()
        .position(|l| l.starts_with(SEFTON_2024))
        .expect("row");
    let tail = lines[sefton_2024][SEFTON_2024.len()..].to_string();
    lines[sefton_2024] = format!("{revised}{tail}");
    lines.push(format!("{added}{tail}"));
    let body = lines[1..]
        .iter()
        .map(|l| {
            l.replace("Calendar year", "Calendar Year")
                .replace("Local authority", "Local Authority")
        })
        .collect::<Vec<_>>()
        .join("\r\n");
    std::fs::write(
        dir.join("ehcp_timeliness.csv"),
        format!("{}\r\n{body}\r\n", lines[0]),
    )
    .expect("write");
}

async fn a_release_with_renamed_columns_is_read_through_a_mapping_in_config_alone() {
    let later = tempfile::tempdir().expect("tempdir");
    write_2026(later.path());
    // The shipped mapping with one column renamed by a key of the configuration.
    let renamed_one = tempfile::tempdir().expect("tempdir");
    copy_release(renamed_one.path());
    let t = renamed_one.path().join("timeliness_20_week.csv");
    let text = std::fs::read_to_string(&t).expect("read");
    std::fs::write(
        &t,
        text.replacen("PC_plans_issued_20_weeks_ex", "pc_20wk_ex", 1),
    )
    .expect("write");
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &backend, RENAMED);
        // The shipped mapping cannot read it: no file of its names.
        let (ok, _, err) = stats(
            dir.path(),
            &cfg,
            &["import", &later.path().display().to_string()],
        );
        assert!(
            !ok && err.contains("the release has no annual_reviews.csv"),
            "{err}"
        );
        let said = super::import(
            dir.path(),
            &cfg,
            later.path(),
            &["--mapping", "ees-ehcp-2026"],
        );
        assert!(
            said.contains("ehcp_timeliness.csv: 83 lines, 49 rows read"),
            "{said}"
        );
        let (ok, table, err) = stats(
            dir.path(),
            &cfg,
            &[
                "show",
                "--measure",
                "pc_within_20_weeks",
                "--measure",
                "plans_issued",
            ],
        );
        assert!(ok, "{err}");
        assert_eq!(
            table_row(&table, "pc_within_20_weeks", "2019"),
            ["23.0", "59.0", "58.7"]
        );
        assert_eq!(
            table_row(&table, "plans_issued", "2019"),
            ["318", "7742", "53327"]
        );
        assert_eq!(
            table_row(&table, "pc_within_20_weeks", "2025"),
            ["71.5", "-", "-"]
        );
        let snap = snapshot(&cfg).await;
        assert!(
            snap.contains(&"local_authority E08000014 pc_within_20_weeks 2019 23 0 ees-ehcp-2026 ehcp_timeliness.csv 7".to_string()),
            "{snap:#?}"
        );

        let cfg = config(
            dir.path(),
            &backend,
            "[stats.mappings.ees-ehcp-2025.files.timeliness.measures]\npc_within_20_weeks_ex = \"pc_20wk_ex\"\n",
        );
        let (ok, _, err) = stats(
            dir.path(),
            &cfg,
            &["import", &release().display().to_string()],
        );
        assert!(
            !ok && err.contains("column pc_20wk_ex: is not in the header"),
            "{err}"
        );
        super::import(dir.path(), &cfg, renamed_one.path(), &[]);
        let (ok, table, err) = stats(
            dir.path(),
            &cfg,
            &["show", "--measure", "pc_within_20_weeks_ex"],
        );
        assert!(ok, "{err}");
        assert_eq!(
            table_row(&table, "pc_within_20_weeks_ex", "2019"),
            ["23.0", "60.1", "60.4"]
        );
    }
}

async fn a_later_release_replaces_its_years_and_an_earlier_one_never_does() {
    let later = tempfile::tempdir().expect("tempdir");
    write_2026(later.path());
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &backend, RENAMED);
        super::import(dir.path(), &cfg, &release(), &[]);
        let said = super::import(
            dir.path(),
            &cfg,
            later.path(),
            &["--mapping", "ees-ehcp-2026"],
        );
        assert!(!said.contains("kept"), "{said}");
        let show = |m: &str| {
            let (ok, csv, err) = stats(
                dir.path(),
                &cfg,
                &["show", "--format", "csv", "--measure", m],
            );
            assert!(ok, "{err}");
            csv
        };
        let pc = show("pc_within_20_weeks");
        let sefton = |csv: &str, year: &str| {
            csv.lines()
                .find(|l| l.contains(&format!(",{year},local_authority,E08000014,")))
                .map(str::to_string)
                .unwrap_or_default()
        };
        assert!(
            sefton(&pc, "2024").contains(",60.0,ees-ehcp-2026,2026,ehcp_timeliness.csv,"),
            "{pc}"
        );
        assert!(sefton(&pc, "2025").contains(",71.5,ees-ehcp-2026,"), "{pc}");
        assert!(sefton(&pc, "2019").contains(",23.0,ees-ehcp-2026,"), "{pc}");
        // A measure the later release does not give stays the earlier one's.
        // Unavailable throughout in the later release: no longer the earlier one's figures.
        let within = show("plans_issued_within_20_weeks");
        assert!(!within.contains(",2019,"), "{within}");
        assert!(
            sefton(&within, "2020").contains(",198,ees-ehcp-2026,"),
            "{within}"
        );
        let ex = show("pc_within_20_weeks_ex");
        assert!(
            sefton(&ex, "2024").contains(",53.1,ees-ehcp-2025,2025,timeliness_20_week.csv,"),
            "{ex}"
        );
        let after_later = snapshot(&cfg).await;

        // The earlier release again: the later one's years are kept, the rest re-read.
        let said = super::import(dir.path(), &cfg, &release(), &[]);
        assert!(
            said.contains("kept pc_within_20_weeks 2024 as ees-ehcp-2026 gives it"),
            "{said}"
        );
        assert!(
            said.contains("kept plans_issued 2019 as ees-ehcp-2026 gives it"),
            "{said}"
        );
        assert!(!said.contains("kept plans_issued_ex"), "{said}");
        assert!(
            said.contains("kept plans_issued_within_20_weeks 2019 as ees-ehcp-2026 gives it"),
            "{said}"
        );
        assert_eq!(snapshot(&cfg).await, after_later, "{}", backend.name);
    }
}

/// The copy's `file` with its line `line` (1-based) changed by `edit`.
fn edit_line(dir: &Path, file: &str, line: usize, edit: impl Fn(&str) -> String) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).expect("read");
    let mut lines: Vec<String> = text.split("\r\n").map(str::to_string).collect();
    lines[line - 1] = edit(&lines[line - 1]);
    std::fs::write(&path, lines.join("\r\n")).expect("write");
}

async fn a_malformed_file_is_refused_whole_and_the_previous_import_kept() {
    // Sefton's January 2019 caseload (line 7) with a cell that is no number; and, apart, a
    // row with a cell too many.
    let bad_cell = tempfile::tempdir().expect("tempdir");
    copy_release(bad_cell.path());
    edit_line(bad_cell.path(), "caseload.csv", 7, |l| {
        let mut cells: Vec<&str> = l.split(',').collect();
        assert_eq!(cells[9], "Sefton");
        cells[12] = "12a";
        cells.join(",")
    });
    let extra_cell = tempfile::tempdir().expect("tempdir");
    copy_release(extra_cell.path());
    edit_line(extra_cell.path(), "requests.csv", 20, |l| format!("{l},1"));
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &backend, "");
        super::import(dir.path(), &cfg, &release(), &[]);
        let before = snapshot(&cfg).await;
        for (folder, want) in [
            (
                bad_cell.path(),
                "caseload.csv, line 7, column ehcplans: is not a whole number, nor a code the mapping reads as no figure (x, z, c, low, u or blank)",
            ),
            (
                extra_cell.path(),
                "requests.csv, line 20: has 30 cells where the header has 29",
            ),
        ] {
            let path = folder.display().to_string();
            let (code, out, err) =
                binary_status(dir.path(), &cfg, &[], &["stats", "import", &path]);
            assert_eq!(code, Some(1), "{out}{err}");
            assert!(err.contains(want), "want `{want}` in {err}");
            assert!(
                err.contains(
                    "nothing of the release is stored (the statistics imported before are kept)"
                ),
                "{err}"
            );
            assert_eq!(snapshot(&cfg).await, before, "{}: {want}", backend.name);
        }
    }
}

async fn files_and_lines_past_the_bounds_are_refused() {
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &backend, "");
        super::import(dir.path(), &cfg, &release(), &[]);
        let before = snapshot(&cfg).await;
        let zip = release().join("ees-ehcp-2025.zip").display().to_string();
        let folder = release().display().to_string();
        for (extra, path, want) in [
            // caseload.csv is 25,337 bytes.
            (
                "max_file_bytes = 25000",
                &folder,
                "caseload.csv: larger than 25000 bytes ([stats] max_file_bytes)",
            ),
            // The zip (25,228 bytes) is under the cap, caseload.csv in it unpacks past it.
            (
                "max_file_bytes = 25300",
                &zip,
                "caseload.csv, line 1: the file unpacks to more than 25300 bytes",
            ),
            // caseload.csv's header is 1,119 bytes.
            (
                "max_record_bytes = 1024",
                &folder,
                "caseload.csv, line 1: record is longer than 1024 bytes ([stats] max_record_bytes)",
            ),
        ] {
            let cfg = config(dir.path(), &backend, &format!("[stats]\n{extra}\n"));
            let (code, out, err) = binary_status(dir.path(), &cfg, &[], &["stats", "import", path]);
            assert_eq!(code, Some(1), "{out}{err}");
            assert!(err.contains(want), "want `{want}` in {err}");
            assert_eq!(snapshot(&cfg).await, before, "{}: {want}", backend.name);
        }
    }
}
