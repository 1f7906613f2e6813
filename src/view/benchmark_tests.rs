//! The benchmark view model over a comparison built by hand: cells as published, "-" for no
//! figure, the neighbours' median and the area's rank, the provenance, and no comparison
//! without a measure or a release.

use super::*;
use crate::stats::{Area, Figure, Level, Release, StoredRelease};

const M: &str = "pc_within_20_weeks";

fn area(level: Level, code: &str, name: &str) -> Area {
    Area {
        level,
        code: code.into(),
        name: name.into(),
        old_code: None,
        region_code: None,
    }
}

fn fig(code: &str, year: &str, value: f64, decimals: u8, line: u64) -> Published {
    Published {
        figure: Figure {
            measure: M.into(),
            period: year.parse().expect("year"),
            level: Level::LocalAuthority,
            area_code: code.into(),
            value,
            decimals,
            file: "timeliness_20_week.csv".into(),
            line,
        },
        release: "ees-ehcp-2025".into(),
        reporting_year: 2025,
    }
}

fn compared(neighbours: bool) -> Compared {
    let mut columns = vec![
        (
            Role::Area,
            area(Level::LocalAuthority, "E08000014", "Sefton"),
            vec![
                fig("E08000014", "2019", 23.0, 0, 7),
                fig("E08000014", "2020", 66.9, 1, 15),
                fig("E08000014", "2021", 61.1, 1, 23),
            ],
        ),
        (
            Role::Region,
            area(Level::Regional, "E12000002", "North West"),
            vec![fig("E12000002", "2019", 59.0, 0, 3)],
        ),
        (
            Role::England,
            area(Level::National, "E92000001", "England"),
            vec![fig("E92000001", "2019", 58.7, 1, 2)],
        ),
    ];
    if neighbours {
        columns.push((
            Role::Neighbour,
            area(Level::LocalAuthority, "E08000011", "Knowsley"),
            vec![
                fig("E08000011", "2019", 64.5, 1, 5),
                fig("E08000011", "2020", 73.4, 1, 13),
            ],
        ));
        columns.push((
            Role::Neighbour,
            area(Level::LocalAuthority, "E06000009", "Blackpool"),
            // 2020 published as `x`: no figure stored.
            vec![fig("E06000009", "2019", 7.5, 1, 8)],
        ));
    }
    Compared {
        releases: vec![StoredRelease {
            release: Release {
                name: "ees-ehcp-2025".into(),
                title: "Education, health and care plans, reporting year 2025".into(),
                reporting_year: 2025,
                imported_from: "ees-ehcp-2025.zip".into(),
            },
            imported_at: chrono::Utc::now(),
        }],
        columns,
        missing: vec!["stats.neighbours[2] `Nowhere`: no local authority".into()],
        absent: "x, z, c, low, u or blank".into(),
    }
}

fn kpi() -> (KpiSettings, BTreeMap<String, MeasureDef>) {
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let mut k = c["1/2a"].clone();
    k.national_measure = Some(M.into());
    let measures = crate::stats::settings::builtin().expect("shipped").measures;
    (k, measures)
}

#[test]
fn each_year_shows_the_area_region_england_and_neighbours_as_published() {
    let (k, measures) = kpi();
    let b = build("1/2a", &k, &measures, &compared(true)).expect("a comparison");
    let names: Vec<(&str, &str)> = b
        .columns
        .iter()
        .map(|c| (c.role, c.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("area", "Sefton"),
            ("region", "North West"),
            ("england", "England"),
            ("neighbour", "Knowsley"),
            ("neighbour", "Blackpool")
        ]
    );
    let texts =
        |i: usize| -> Vec<&str> { b.years[i].cells.iter().map(|c| c.text.as_str()).collect() };
    assert_eq!(b.years.len(), 3);
    assert_eq!(b.years[0].period_label, "2019");
    assert_eq!(texts(0), ["23.0", "59.0", "58.7", "64.5", "7.5"]);
    // No figure is "-", never 0, and has no provenance.
    assert_eq!(texts(1), ["66.9", "-", "-", "73.4", "-"]);
    assert_eq!(b.years[1].cells[4].value, None);
    assert_eq!(b.years[1].cells[4].line, None);
    assert_eq!(b.years[0].cells[0].line, Some(7));
    // 2019: neighbours 64.5 and 7.5, median 36.0; Sefton's 23.0 is behind Knowsley only.
    assert_eq!(b.years[0].neighbours_median, "36.0");
    assert_eq!(b.years[0].rank, "2 of 3");
    // 2020: Blackpool has no figure: the median and rank are of Knowsley alone.
    assert_eq!(b.years[1].neighbours_median, "73.4");
    assert_eq!(b.years[1].rank, "2 of 2");
    // 2021: no neighbour has a figure: nothing to rank among.
    assert_eq!(b.years[2].neighbours_median, "-");
    assert_eq!(b.years[2].rank, "-");
    assert!(
        b.source
            .contains("release ees-ehcp-2025 (Education, health and care plans")
            && b.source.contains("timeliness_20_week.csv"),
        "{}",
        b.source
    );
    assert_eq!(b.notes.len(), 1);

    // Lower is better: the rank counts the other way.
    let mut lower = k.clone();
    lower.better = crate::kpi::Better::Lower;
    let b = build("1/2a", &lower, &measures, &compared(true)).expect("a comparison");
    assert_eq!(b.years[1].rank, "1 of 2");
}

#[test]
fn without_neighbours_there_is_no_median_or_rank() {
    let (k, measures) = kpi();
    let b = build("1/2a", &k, &measures, &compared(false)).expect("a comparison");
    assert_eq!(b.columns.len(), 3);
    assert_eq!(b.years[0].neighbours_median, "-");
    assert_eq!(b.years[0].rank, "-");
}

#[test]
fn no_measure_or_no_release_means_no_comparison() {
    let (k, measures) = kpi();
    let mut none = k.clone();
    none.national_measure = None;
    assert!(build("1/2a", &none, &measures, &compared(true)).is_none());
    let mut empty = compared(true);
    empty.releases.clear();
    assert!(build("1/2a", &k, &measures, &empty).is_none());
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    assert!(build_all(&c, &measures, &Compared::default()).is_empty());
    assert!(show(&[], Format::Table).starts_with("no published benchmarks"));
}

#[test]
fn the_table_csv_and_json_carry_the_same_cells() {
    let (k, measures) = kpi();
    let b = build("1/2a", &k, &measures, &compared(true)).expect("a comparison");
    let t = table(&b);
    let row = t
        .lines()
        .find(|l| l.trim_start().starts_with("2020"))
        .expect("2020 row");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells,
        [
            "2020", "66.9", "-", "-", "73.4", "-", "73.4", "2", "of", "2"
        ]
    );
    assert!(t.contains("note: stats.neighbours[2] `Nowhere`"), "{t}");

    let csv = show(&[&b], Format::Csv);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], CSV_HEADER.join(","));
    assert_eq!(lines.len(), 1 + 3 * 5, "one row per year and area");
    assert!(
        lines.contains(
            &"1/2a,pc_within_20_weeks,percent,2020,neighbour,E06000009,Blackpool,-,73.4,2 of 2,,,,\
              \"EHC plans issued within 20 weeks, including exceptions (%)\""
        ),
        "{csv}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with(
            "1/2a,pc_within_20_weeks,percent,2019,area,E08000014,Sefton,23.0,36.0,2 of 3,ees-ehcp-2025,timeliness_20_week.csv,7,"
        )),
        "{csv}"
    );

    let v: serde_json::Value = serde_json::from_str(&show(&[&b], Format::Json)).expect("json");
    assert_eq!(v[0]["years"][1]["cells"][4]["text"], "-");
    assert_eq!(
        v[0]["years"][1]["cells"][4]["value"],
        serde_json::Value::Null
    );
    assert_eq!(v[0]["years"][0]["cells"][3]["value"], 64.5);
}
