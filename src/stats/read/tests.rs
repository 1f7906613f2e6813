//! The reader against small files in the release's layout: what is read, what is absent, and
//! each rule that refuses a file.

use super::*;
use crate::stats::settings::builtin;

const HEAD: &str = "time_period,time_identifier,geographic_level,country_code,country_name,\
region_code,region_name,new_la_code,old_la_code,la_name,breakdown_topic,breakdown,\
plans_issued_den,plans_issued_den_ex,plans_issued_within_20_weeks,plans_issued_20_weeks_ex,\
pc_plans_issued_within_20_weeks,PC_plans_issued_20_weeks_ex,plans_issued_gt_1_year,\
pc_plans_issued_gt_1_year";

const TOTAL: &str = "All EHC plans issued,All EHC plans issued";

fn read(body: &str) -> Result<FileRead, StatsError> {
    let s = builtin().expect("shipped");
    let (_, m) = s.mapping(None).expect("mapping");
    let map = &m.files["timeliness"];
    let text = format!("\u{feff}{HEAD}\n{body}");
    read_file(
        text.as_bytes(),
        "timeliness_20_week.csv",
        map,
        m,
        &s.measures,
        1 << 16,
    )
}

fn national(year: &str, cells: &str) -> String {
    format!("{year},Calendar year,National,E92000001,England,,,,,,{TOTAL},{cells}\n")
}

fn la(year: &str, cells: &str) -> String {
    format!(
        "{year},Calendar year,Local authority,E92000001,England,E12000002,North West,E08000014,343,Sefton,{TOTAL},{cells}\n"
    )
}

fn refused(r: Result<FileRead, StatsError>) -> (u64, Option<String>, String) {
    match r {
        Err(StatsError::Refused {
            line, column, rule, ..
        }) => (line, column, rule),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn figures_are_read_with_their_line_and_codes_are_absent_never_zero() {
    let body = national("2019", "53327,49519,31313,29895,58.7,60.4,x,x")
        + &la("2019", "318,318,73,73,23,23,z,c")
        + "2019,Calendar year,Local authority,E92000001,England,E12000002,North West,E08000014,343,Sefton,Sex,Female,1,1,1,1,100,100,low,u\n"
        + &la("2020", "296,296,198,198,66.9,66.9,,u");
    let got = read(&body).expect("reads");
    assert_eq!((got.lines, got.rows), (5, 3), "the Sex row is not selected");
    let find = |m: &str, code: &str, year: &str| {
        got.figures
            .iter()
            .find(|f| f.measure == m && f.area_code == code && f.period.to_string() == year)
    };
    let pc = find("pc_within_20_weeks", "E08000014", "2019").expect("Sefton 2019");
    assert_eq!((pc.value, pc.decimals, pc.line), (23.0, 0, 3));
    let eng = find("pc_within_20_weeks_ex", "E92000001", "2019").expect("England 2019");
    assert_eq!((eng.value, eng.decimals, eng.line), (60.4, 1, 2));
    assert_eq!(
        find("plans_issued", "E08000014", "2019").map(|f| f.value),
        Some(318.0)
    );
    for (code, year) in [
        ("E92000001", "2019"),
        ("E08000014", "2019"),
        ("E08000014", "2020"),
    ] {
        assert!(find("plans_issued_over_52_weeks", code, year).is_none());
        assert!(find("pc_over_52_weeks", code, year).is_none());
    }
    assert_eq!(got.absent, 6, "x, x, z, c, blank, u");
    let covered = |m: &str, y: &str| {
        got.covered
            .contains(&(m.to_string(), y.parse().expect("y")))
    };
    assert!(
        covered("plans_issued_over_52_weeks", "2019"),
        "given, if only as codes"
    );
    assert!(covered("pc_within_20_weeks", "2020"));
    assert_eq!(got.covered.len(), 8 * 2, "eight measures, two years");
    assert!(got.figures.iter().all(|f| f.value != 0.0));
    let sefton = got
        .areas
        .iter()
        .find(|a| a.code == "E08000014")
        .expect("Sefton");
    assert_eq!(sefton.old_code.as_deref(), Some("343"));
    assert_eq!(sefton.region_code.as_deref(), Some("E12000002"));
    assert_eq!(got.areas.len(), 2);
}

#[test]
fn a_missing_or_repeated_column_refuses_the_file_at_the_header() {
    let s = builtin().expect("shipped");
    let (_, m) = s.mapping(None).expect("mapping");
    let map = &m.files["timeliness"];
    let head = HEAD.replace("PC_plans_issued_20_weeks_ex", "pc_20_ex");
    let r = read_file(head.as_bytes(), "t.csv", map, m, &s.measures, 1 << 16);
    let (line, column, rule) = refused(r);
    assert_eq!(
        (line, column.as_deref()),
        (1, Some("PC_plans_issued_20_weeks_ex"))
    );
    assert!(rule.contains("measure pc_within_20_weeks_ex"), "{rule}");
    let head = format!("{HEAD},la_name");
    let (_, column, rule) = refused(read_file(
        head.as_bytes(),
        "t.csv",
        map,
        m,
        &s.measures,
        1 << 16,
    ));
    assert_eq!(column.as_deref(), Some("la_name"));
    assert!(rule.contains("twice"), "{rule}");
}

#[test]
fn each_rule_names_its_line_and_column() {
    let cases = [
        (
            la("2019", "318,318,73,73,23.5.1,23,x,x"),
            Some("pc_plans_issued_within_20_weeks"),
            "a percentage from 0 to 100",
        ),
        (
            la("2019", "318,318,73,73,101,23,x,x"),
            Some("pc_plans_issued_within_20_weeks"),
            "a percentage",
        ),
        (
            la("2019", "318.5,318,73,73,23,23,x,x"),
            Some("plans_issued_den"),
            "a whole number",
        ),
        (
            la("2019", "n/a,318,73,73,23,23,x,x"),
            Some("plans_issued_den"),
            "x, z, c, low, u or blank",
        ),
        (
            la("19", "318,318,73,73,23,23,x,x"),
            Some("time_period"),
            "YYYY",
        ),
        (
            la("2019", "318,318,73,73,23,23,x"),
            None,
            "has 19 cells where the header has 20",
        ),
        (
            la("2019", "1,1,1,1,1,1,1,1") + &la("2019", "1,1,1,1,1,1,1,1"),
            None,
            "same area and period as line 2",
        ),
    ];
    for (body, column, rule) in cases {
        let (line, col, said) = refused(read(&body));
        assert!(line >= 2, "{said}");
        assert_eq!(col.as_deref(), column, "{said}");
        assert!(said.contains(rule), "want `{rule}` in `{said}`");
    }
    let body = la("2019", "1,1,1,1,1,1,1,1").replace("Calendar year", "Tax year");
    let (_, col, said) = refused(read(&body));
    assert_eq!(col.as_deref(), Some("time_identifier"));
    assert!(said.contains("not one of the mapping's periods"), "{said}");
    let body = la("2019", "1,1,1,1,1,1,1,1").replace("E08000014", "");
    let (_, col, said) = refused(read(&body));
    assert_eq!(col.as_deref(), Some("new_la_code"));
    assert!(said.contains("blank on a local authority row"), "{said}");
}

#[test]
fn a_file_with_no_selected_row_is_refused_rather_than_read_as_nothing() {
    let body = la("2019", "1,1,1,1,1,1,1,1").replace(TOTAL, "Sex,Female");
    let (line, col, said) = refused(read(&body));
    assert_eq!((line, col.as_deref()), (1, Some("breakdown_topic")));
    assert!(said.contains("selects none"), "{said}");
    let (line, _, said) = refused(read_file(
        &b""[..],
        "t.csv",
        &builtin().expect("s").mappings["ees-ehcp-2025"].files["timeliness"],
        &builtin().expect("s").mappings["ees-ehcp-2025"],
        &builtin().expect("s").measures,
        1 << 16,
    ));
    assert_eq!(line, 1);
    assert!(said.contains("empty"), "{said}");
}

#[test]
fn rows_at_other_levels_are_counted_and_left_out() {
    let body = la("2019", "1,1,1,1,1,1,1,1")
        + &la("2020", "1,1,1,1,1,1,1,1").replace("Local authority", "Parliamentary constituency");
    let got = read(&body).expect("reads");
    assert_eq!((got.rows, got.other_levels), (1, 1));
}

#[test]
fn academic_years_read_as_ay_periods_and_numbers_keep_their_places() {
    assert_eq!(number("58.7"), Some((58.7, 1)));
    assert_eq!(number("-1"), Some((-1.0, 0)));
    assert_eq!(number("1e3"), None);
    assert_eq!(number(".5"), None);
    assert_eq!(number("5."), None);
    let m = &builtin().expect("s").mappings["ees-ehcp-2025"];
    assert_eq!(
        period_of("Academic year", "201819", m).map(|p| p.to_string()),
        Ok("AY2018/19".to_string())
    );
    assert!(period_of("Academic year", "201820", m).is_err());
    assert_eq!(crate::stats::written(23.0, 0, StatUnit::Percent), "23.0");
    assert_eq!(crate::stats::written(318.0, 0, StatUnit::Count), "318");
}
