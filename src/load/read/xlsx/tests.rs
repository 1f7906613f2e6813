//! Tests of the XLSX reader: cell text, row layout, refusals that name row and column only,
//! and real workbooks written with rust_xlsxwriter; the XML and its bounds are in
//! `tests_xml.rs`.

use super::*;
use crate::load::read::RecordReader;

fn text(v: Value<'_>) -> Result<String, ()> {
    let mut s = String::new();
    render(&v, &mut s).map(|()| s)
}

fn date(serial: f64) -> Value<'static> {
    Value::Date {
        serial,
        is_1904: false,
    }
}

#[test]
fn cells_read_as_the_text_the_validator_expects() {
    assert_eq!(text(Value::Number(12.0)), Ok("12".into()));
    assert_eq!(text(Value::Number(-1.0)), Ok("-1".into()));
    assert_eq!(text(Value::Number(12.5)), Ok("12.5".into()));
    assert_eq!(text(Value::Number(0.1)), Ok("0.1".into()));
    assert_eq!(text(Value::Number(7.0)), Ok("7".into()));
    assert_eq!(text(Value::Bool(true)), Ok("TRUE".into()));
    assert_eq!(text(Value::Empty), Ok(String::new()));
    assert_eq!(text(Value::Text("Primary")), Ok("Primary".into()));
    // 43497 is 2019-02-01 in the 1900 date system.
    assert_eq!(text(date(43497.0)), Ok("2019-02-01".into()));
    assert_eq!(text(date(43497.5)), Ok("2019-02-01 12:00:00".into()));
    assert_eq!(text(date(0.25)), Ok("06:00:00".into()));
    assert_eq!(text(date(1e9)), Ok("1000000000".into()));
    assert_eq!(
        text(Value::Iso("2019-02-01T00:00:00")),
        Ok("2019-02-01".into())
    );
    assert_eq!(text(Value::Error), Err(()));
}

#[test]
fn column_letters() {
    assert_eq!(letters(0), "A");
    assert_eq!(letters(25), "Z");
    assert_eq!(letters(26), "AA");
    assert_eq!(letters(1023), "AMJ");
}

#[test]
fn rows_are_filled_out_to_the_header_and_blank_rows_skipped() {
    let mut rows = Rows::new(1 << 20);
    let mut out = Vec::new();
    let cells: &[(u32, u32, Value<'_>)] = &[
        (0, 0, Value::Text("a")),
        (0, 1, Value::Text("b")),
        (0, 2, Value::Text("c")),
        (1, 1, Value::Number(2.0)),
        (2, 0, Value::Empty),
        (3, 0, Value::Text("x")),
        (3, 3, Value::Bool(false)),
    ];
    for (r, c, v) in cells {
        if let Some(done) = rows.at_row(*r).expect("in order") {
            out.push(done);
        }
        rows.add(*c, v).expect("cell");
    }
    out.extend(rows.finish());
    let got: Vec<(u64, Vec<String>)> = out
        .iter()
        .map(|r| {
            (
                r.line,
                r.iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect(),
            )
        })
        .collect();
    let want: Vec<(u64, Vec<&str>)> = vec![
        (1, vec!["a", "b", "c"]),
        (2, vec!["", "2", ""]),
        (4, vec!["x", "", "", "FALSE"]),
    ];
    let want: Vec<(u64, Vec<String>)> = want
        .into_iter()
        .map(|(l, c)| (l, c.into_iter().map(String::from).collect()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn an_error_cell_names_row_and_column_only() {
    let mut rows = Rows::new(1 << 20);
    rows.at_row(0).expect("row");
    rows.add(0, &Value::Text("id")).expect("cell");
    rows.add(1, &Value::Text("Date Received")).expect("cell");
    rows.at_row(4).expect("row");
    let err = rows.add(1, &Value::Error).unwrap_err();
    assert_eq!(err.line, 5);
    assert_eq!(
        err.message,
        "column B (Date Received): an error value (such as #N/A or #REF!) where a value \
         was expected"
    );
}

#[test]
fn wide_or_long_rows_are_refused() {
    let mut rows = Rows::new(1 << 20);
    rows.at_row(0).expect("row");
    let err = rows.add(5000, &Value::Number(1.0)).unwrap_err();
    assert!(err.message.contains("beyond column AMJ"), "{err}");
    rows.add(6000, &Value::Empty)
        .expect("empty cells far right are ignored");
    let mut rows = Rows::new(2048);
    rows.at_row(0).expect("row");
    let long = "Q".repeat(4000);
    let err = rows.add(0, &Value::Text(&long)).unwrap_err();
    assert!(err.message.contains("longer than 2048"), "{err}");
    assert!(!err.message.contains('Q'));
}

/// A workbook written here: a first sheet of notes, then the cases with date cells,
/// numbers, empty cells, a blank row and (if asked) an error cell.
fn workbook(error_cell: bool) -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime as When, Format, Formula, Workbook};
    let build = || -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut book = Workbook::new();
        let day = Format::new().set_num_format("dd/mm/yyyy");
        let stamp = Format::new().set_num_format("dd/mm/yyyy hh:mm");
        book.add_worksheet()
            .set_name("Notes")?
            .write_string(0, 0, "read me")?;
        let sheet = book.add_worksheet().set_name("Cases")?;
        for (c, h) in ["Case Ref", "Received", "NCY", "Looked After", "Note"]
            .iter()
            .enumerate()
        {
            sheet.write_string(0, c as u16, *h)?;
        }
        sheet.write_string(1, 0, "C1")?;
        sheet.write_datetime_with_format(1, 1, When::from_ymd(2019, 2, 1)?, &day)?;
        sheet.write_number(1, 2, 10)?;
        sheet.write_string(1, 3, "Yes")?;
        sheet.write_string(3, 0, "C2")?;
        let at = When::from_ymd(2019, 2, 1)?.and_hms(14, 30, 0)?;
        sheet.write_datetime_with_format(3, 1, at, &stamp)?;
        sheet.write_number(3, 2, 12.5)?;
        sheet.write_boolean(3, 3, true)?;
        sheet.write_string(3, 4, " padded ")?;
        if error_cell {
            sheet.write_string(4, 0, "C3")?;
            sheet.write_formula(4, 1, Formula::new("=NA()").set_result("#N/A"))?;
        }
        book.save_to_buffer()
    };
    build().expect("workbook")
}

fn all(bytes: Vec<u8>, sheet: Option<&str>) -> Result<Vec<(u64, Vec<String>)>, ReadError> {
    let input = std::io::Cursor::new(bytes);
    let mut r = reader(input, sheet.map(String::from), 1 << 20).expect("thread");
    let mut rec = Record::default();
    let mut out = Vec::new();
    while r.read(&mut rec)? {
        let cells = rec
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        out.push((rec.line, cells));
    }
    Ok(out)
}

#[test]
fn a_real_workbook_reads_dates_numbers_and_empty_cells() {
    let got = all(workbook(false), Some("Cases")).expect("reads");
    let want: Vec<(u64, Vec<&str>)> = vec![
        (
            1,
            vec!["Case Ref", "Received", "NCY", "Looked After", "Note"],
        ),
        (2, vec!["C1", "2019-02-01", "10", "Yes", ""]),
        (
            4,
            vec!["C2", "2019-02-01 14:30:00", "12.5", "TRUE", " padded "],
        ),
    ];
    let want: Vec<(u64, Vec<String>)> = want
        .into_iter()
        .map(|(l, c)| (l, c.into_iter().map(String::from).collect()))
        .collect();
    assert_eq!(got, want);
    let first = all(workbook(false), None).expect("reads");
    assert_eq!(first, vec![(1, vec!["read me".to_string()])]);
    let err = all(workbook(false), Some("Missing")).unwrap_err();
    assert!(
        err.message.contains("no worksheet named `Missing`"),
        "{err}"
    );
}

#[test]
fn an_error_cell_in_a_real_workbook_refuses_the_file() {
    let err = all(workbook(true), Some("Cases")).unwrap_err();
    assert_eq!(err.line, 5);
    assert!(
        err.message
            .starts_with("column B (Received): an error value"),
        "{err}"
    );
}

#[test]
fn a_file_that_is_not_a_workbook_is_refused_in_our_words() {
    let bytes = b"case_id,name\nC1,Smith\n".to_vec();
    let mut r = reader(std::io::Cursor::new(bytes), None, 1 << 20).expect("thread");
    let mut rec = Record::default();
    let err = r.read(&mut rec).unwrap_err();
    assert_eq!(err.line, 1);
    assert!(err.message.contains("not a readable xlsx"), "{err}");
    assert!(!r.read(&mut rec).expect("done"));
}
