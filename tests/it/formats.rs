//! Formats: the committed tracker extract, rewritten here as a column-mapped CSV, an XLSX
//! with real date cells, JSON Lines and a JSON array, loads into exactly the typed rows of the
//! original CSV; and a JSON item over `max_record_bytes` is refused without its value.

use std::collections::BTreeMap;
use std::path::Path;

use sendwatch::load::{
    ColType, DateFormat, FlagWords, Format, LoadError, LoadSettings, ParseSummary, open_reader,
    parse,
};

use crate::harness::{TextRow, fixture, kind, parse_rows, text_rows, today};

/// Our column -> the header a differently-built system gives it.
const MAPPED: [(&str, &str); 13] = [
    ("case_id", "Case Ref"),
    ("request_received_date", "Date Request Received"),
    ("decision_to_assess_date", "Decision To Assess"),
    ("health_advice_requested_date", "Health Advice Requested"),
    ("health_advice_returned_date", "Health Advice Returned"),
    ("draft_plan_issued_date", "Draft Plan Issued"),
    ("final_plan_issued_date", "Final Plan Issued"),
    ("status", "Case Status"),
    ("ncy", "NC Year"),
    ("school_phase", "Phase"),
    ("caseworker_team", "Team"),
    ("looked_after", "Looked After"),
    ("out_of_borough", "Out Of Borough"),
];

/// The original fixture: our header, and its rows of cells.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn load() -> Table {
        let text = std::fs::read_to_string(fixture("none")).expect("fixture");
        let mut lines = text.lines();
        let split = |l: &str| l.split(',').map(String::from).collect::<Vec<_>>();
        let header = split(lines.next().expect("header"));
        let rows: Vec<Vec<String>> = lines.map(split).collect();
        assert_eq!(rows.len(), 60, "the fixture has 60 rows");
        Table { header, rows }
    }

    /// Column positions in the mapped files: the fixture's order, turned round.
    fn order(&self) -> Vec<usize> {
        (0..self.header.len()).rev().collect()
    }

    fn mapped_name(&self, col: usize) -> &'static str {
        MAPPED
            .iter()
            .find(|(ours, _)| *ours == self.header[col])
            .map(|(_, theirs)| *theirs)
            .expect("every column is mapped")
    }

    fn ty(&self, col: usize) -> ColType {
        let k = kind("tracker");
        k.columns[k.position(&self.header[col]).expect("tracker column")].ty
    }
}

fn mapped(format: Format) -> LoadSettings {
    LoadSettings {
        format,
        columns: MAPPED
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<BTreeMap<_, _>>(),
        flags: vec![FlagWords::YN, FlagWords::YesNo],
        ..LoadSettings::default()
    }
}

fn iso(s: &str) -> (u16, u8, u8) {
    let n = |r: std::ops::Range<usize>| s[r].parse::<u16>().expect("digits");
    (n(0..4), n(5..7) as u8, n(8..10) as u8)
}

fn yes_no(s: &str) -> &'static str {
    if s == "Y" { "Yes" } else { "No" }
}

/// (a) other headers, other column order, `dd/mm/yyyy`, `Yes/No`, padded cells.
fn mapped_csv(t: &Table) -> Vec<u8> {
    let order = t.order();
    let mut out: Vec<String> = vec![
        order
            .iter()
            .map(|c| t.mapped_name(*c))
            .collect::<Vec<_>>()
            .join(","),
    ];
    for (r, row) in t.rows.iter().enumerate() {
        let cells: Vec<String> = order
            .iter()
            .map(|&c| {
                let v = &row[c];
                let v = match t.ty(c) {
                    ColType::Date if !v.is_empty() => {
                        let (y, m, d) = iso(v);
                        format!("{d:02}/{m:02}/{y}")
                    }
                    ColType::Flag => yes_no(v).to_string(),
                    _ => v.clone(),
                };
                if (r + c) % 3 == 0 {
                    format!("  {v} ")
                } else {
                    v
                }
            })
            .collect();
        out.push(cells.join(","));
    }
    (out.join("\r\n") + "\r\n").into_bytes()
}

/// (b) the mapped CSV's layout as a workbook: real date cells, numbers, `Yes/No` text.
fn mapped_xlsx(t: &Table) -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format as Look, Workbook, XlsxError};
    let build = || -> Result<Vec<u8>, XlsxError> {
        let mut book = Workbook::new();
        let day = Look::new().set_num_format("dd/mm/yyyy");
        let sheet = book.add_worksheet().set_name("Tracker")?;
        for (x, &c) in t.order().iter().enumerate() {
            let x = x as u16;
            sheet.write_string(0, x, t.mapped_name(c))?;
            for (r, row) in t.rows.iter().enumerate() {
                let (r, v) = (r as u32 + 1, &row[c]);
                if v.is_empty() {
                    continue;
                }
                match (t.ty(c), v.parse::<f64>()) {
                    (ColType::Date, _) => {
                        let (y, m, d) = iso(v);
                        let when = ExcelDateTime::from_ymd(y, m, d)?;
                        sheet.write_datetime_with_format(r, x, when, &day)?;
                    }
                    (ColType::Flag, _) => {
                        sheet.write_string(r, x, yes_no(v))?;
                    }
                    (_, Ok(n)) => {
                        sheet.write_number(r, x, n)?;
                    }
                    _ => {
                        sheet.write_string(r, x, v)?;
                    }
                }
            }
        }
        book.save_to_buffer()
    };
    build().expect("workbook")
}

/// (c) one JSON object per row, keyed by the mapped headers: ISO dates, numbers as numbers,
/// flags as booleans; a blank is `null` in the first item and odd rows, and the key left out
/// in the other rows, whose keys also come in reverse order.
fn json_items(t: &Table) -> Vec<String> {
    t.rows
        .iter()
        .enumerate()
        .map(|(r, row)| {
            let mut fields = Vec::new();
            for (c, v) in row.iter().enumerate() {
                let value = match t.ty(c) {
                    _ if v.is_empty() && r % 2 == 1 => continue,
                    _ if v.is_empty() => "null".to_string(),
                    ColType::Flag => (v == "Y").to_string(),
                    _ if v.parse::<i64>().is_ok() => v.clone(),
                    _ => serde_json::to_string(v).expect("string"),
                };
                let key = serde_json::to_string(t.mapped_name(c)).expect("key");
                fields.push(format!("{key}: {value}"));
            }
            if r > 0 {
                fields.reverse();
            }
            format!("{{{}}}", fields.join(", "))
        })
        .collect()
}

fn json_settings() -> LoadSettings {
    LoadSettings {
        flags: vec![FlagWords::YN, FlagWords::TrueFalse],
        ..mapped(Format::Json)
    }
}

/// Load a file through the reader its format needs and the validator, as the daemon does.
fn load_file(
    path: &Path,
    settings: &LoadSettings,
) -> Result<(ParseSummary, Vec<TextRow>), LoadError> {
    let k = kind("tracker");
    let mut reader = open_reader(path, settings, None).expect("opens");
    let mut batches = Vec::new();
    let summary = parse(reader.as_mut(), "t", &k, settings, today(), &mut |b| {
        batches.push(b);
        true
    })?;
    Ok((summary, text_rows(&batches)))
}

fn cells(rows: &[TextRow]) -> Vec<&[String]> {
    rows.iter().map(|(_, c)| c.as_slice()).collect()
}

fn lines(rows: &[TextRow]) -> Vec<u64> {
    rows.iter().map(|(l, _)| *l).collect()
}

fn every_format_loads_the_same_typed_rows_as_the_original_csv() {
    let t = Table::load();
    let original = std::fs::read(fixture("none")).expect("fixture");
    let (want_summary, want) =
        parse_rows(&original, "tracker", &LoadSettings::default()).expect("fixture parses");
    assert_eq!(want.len(), 60);

    let csv_settings = LoadSettings {
        date_formats: vec![DateFormat::DayMonthYear],
        ..mapped(Format::Csv)
    };
    let items = json_items(&t);
    let variants: Vec<(&str, Vec<u8>, LoadSettings)> = vec![
        ("mapped.csv", mapped_csv(&t), csv_settings),
        ("mapped.xlsx", mapped_xlsx(&t), mapped(Format::Xlsx)),
        (
            "lines.json",
            (items.join("\n") + "\n").into_bytes(),
            json_settings(),
        ),
        (
            "array.json",
            format!("[\n  {}\n]\n", items.join(",\n  ")).into_bytes(),
            json_settings(),
        ),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, bytes, settings) in &variants {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let mut problems = Vec::new();
        settings.check(&kind("tracker"), &mut |k, m| {
            problems.push(format!("{k}: {m}"))
        });
        assert!(problems.is_empty(), "{name}: {problems:?}");

        let (summary, got) =
            load_file(&path, settings).unwrap_or_else(|e| panic!("{name} loads: {e}"));
        assert_eq!(cells(&got), cells(&want), "{name}: typed rows differ");
        assert_eq!(summary.rows, want_summary.rows, "{name}");
        assert_eq!(summary.as_of, want_summary.as_of, "{name}");

        let (_, in_memory) =
            parse_rows(bytes, "tracker", settings).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            in_memory, got,
            "{name}: parse_bytes and the file path differ"
        );

        // Numbering: CSV lines, sheet rows and array items + 1 match the original's lines;
        // a JSON Lines row is the line its object is on.
        if *name == "lines.json" {
            assert_eq!(lines(&got), (1..=60).collect::<Vec<u64>>(), "{name}");
        } else {
            assert_eq!(lines(&got), lines(&want), "{name}");
        }
    }
}

fn a_json_item_over_max_record_bytes_is_refused_without_its_value() {
    let t = Table::load();
    let mut items = json_items(&t);
    let secret = "QX7".repeat(700_000);
    items[2] = items[2].replacen("{", &format!("{{\"Phase\": \"{secret}\", "), 1);
    let settings = LoadSettings {
        max_record_bytes: 1024 * 1024,
        ..json_settings()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, bytes, line) in [
        ("lines.json", (items.join("\n") + "\n").into_bytes(), 3),
        (
            "array.json",
            format!("[{}]", items.join(",")).into_bytes(),
            4,
        ),
    ] {
        assert!(bytes.len() > 2_000_000);
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).expect("write");
        for err in [
            load_file(&path, &settings).expect_err("refused"),
            parse_rows(&bytes, "tracker", &settings).expect_err("refused"),
        ] {
            let text = err.to_string();
            assert!(text.contains("longer than 1048576 bytes"), "{name}: {text}");
            assert_eq!(err.problems()[0].line, line, "{name}: {text}");
            assert!(!text.contains("QX7QX7"), "{name}: the value leaked");
            assert!(text.len() < 1024, "{name}: {} bytes", text.len());
        }
    }
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(every_format_loads_the_same_typed_rows_as_the_original_csv),
        trial!(a_json_item_over_max_record_bytes_is_refused_without_its_value),
    ]
}
