//! The SEN2 readers on small returns: XML and Blade give the same typed rows, items that are
//! never read stay out, and each broken return is refused naming where and why, never what.

use super::*;
use crate::load::read::RecordReader;
use crate::load::{Format, KindDef, LoadError, LoadSettings, Value, builtin_kinds, parse};

fn settings(format: Format, records: Records) -> LoadSettings {
    LoadSettings {
        format,
        sen2: Sen2Settings {
            records: Some(records),
            ..Sen2Settings::default()
        },
        ..LoadSettings::default()
    }
}

fn kind(records: Records) -> KindDef {
    let name = match records {
        Records::Requests => "sen2_requests",
        Records::ActivePlans => "sen2_active_plans",
    };
    builtin_kinds().expect("kinds")[name].clone()
}

fn fixture(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sen2")
        .join(path)
}

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("date")
}

/// Parse everything `reader` gives as the kind of `records`: (line, cells as text) per row.
fn typed(
    reader: &mut dyn RecordReader,
    s: &LoadSettings,
) -> Result<Vec<(u64, Vec<String>)>, LoadError> {
    let records = s.sen2.records.expect("records");
    let mut rows = Vec::new();
    parse(reader, "t", &kind(records), s, today(), &mut |b| {
        for (line, values) in b.rows() {
            let cells = values
                .iter()
                .map(|v| match v {
                    Value::Null => String::new(),
                    Value::Text(..) => b.str(v).unwrap_or_default().to_string(),
                    Value::Int(n) => n.to_string(),
                    Value::Date(d) => d.to_string(),
                    Value::Flag(f) => f.to_string(),
                    Value::Dec(x) => x.to_string(),
                })
                .collect();
            rows.push((line, cells));
        }
        true
    })?;
    Ok(rows)
}

fn xml_rows(text: &str, records: Records) -> Result<Vec<(u64, Vec<String>)>, LoadError> {
    let s = settings(Format::Sen2Xml, records);
    let mut r = xml_reader(std::io::Cursor::new(text.as_bytes().to_vec()), &s).expect("reader");
    typed(&mut r, &s)
}

/// A refusal's text, checked to be short and to hold none of `secrets`.
fn refusal(e: LoadError, secrets: &[&str]) -> String {
    let text = e.to_string();
    for s in secrets {
        assert!(!text.contains(s), "the error shows `{s}`: {text}");
    }
    assert!(text.len() < 1024, "{text}");
    text
}

#[test]
fn the_xml_and_the_blade_export_of_one_return_give_the_same_typed_rows() {
    for records in [Records::Requests, Records::ActivePlans] {
        let x = settings(Format::Sen2Xml, records);
        let file = std::fs::File::open(fixture("sen2.xml")).expect("xml");
        let xml = typed(&mut xml_reader(file, &x).expect("reader"), &x).expect("xml loads");
        let b = settings(Format::Sen2Blade, records);
        let folder = typed(
            &mut blade_reader(&fixture("sen2-blade"), &b).expect("reader"),
            &b,
        )
        .expect("blade loads");
        let cells =
            |rows: &[(u64, Vec<String>)]| rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>();
        assert_eq!(cells(&xml), cells(&folder), "{}", records.as_str());
        // 40 tracker and 40 review persons: a request each; a plan for each review person.
        let want = if records == Records::Requests { 80 } else { 40 };
        assert_eq!(xml.len(), want, "{}", records.as_str());
        // Lines: the record's element, or its row of the Blade file.
        assert!(xml.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(folder[0].0, 2);
    }
}

const HEAD: &str = "<?xml version=\"1.0\"?>\n<Message>\n<Header><CollectionDetails>\
<ReferenceDate>2021-01-14</ReferenceDate></CollectionDetails></Header>\n<Persons>\n";

fn person(inner: &str) -> String {
    format!("<Person><Surname>Fakeson</Surname><UPN>X999100000042</UPN>{inner}</Person>\n")
}

#[test]
fn only_the_items_read_reach_a_record_and_names_match_without_case() {
    let text = format!(
        "{HEAD}{}{}</Persons></Message>\n",
        // Lower-case names, an empty item, and the birth date after the requests.
        person(
            "<requests><receiveddate>2020-03-02</receiveddate><RequestOutcome>A</RequestOutcome>\
             <RequestOutcomeDate/><Assessment><AssessmentOutcome>Y</AssessmentOutcome>\
             <Week20>1</Week20><NamedPlan><StartDate>2020-09-01</StartDate></NamedPlan>\
             </Assessment><ActivePlans><ReviewMeeting>2020-12-01</ReviewMeeting>\
             <ReviewOutcome>M</ReviewOutcome></ActivePlans></requests>\
             <PersonBirthDate>2013-08-31</PersonBirthDate><PostCode>ZZ99 1AB</PostCode>"
        ),
        person(
            "<Requests><ReceivedDate>2020-05-05</ReceivedDate><Frobnicate>x</Frobnicate></Requests>"
        ),
    );
    let got = xml_rows(&text, Records::Requests).expect("loads");
    assert_eq!(
        got.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
        [
            vec![
                "1",
                "2020-03-02",
                "assess",
                "",
                "issue",
                "",
                "true",
                "2020-09-01"
            ],
            vec!["2", "2020-05-05", "", "", "", "", "", ""],
        ]
    );
    assert_eq!(got[0].0, 5, "the Requests element's line");
    let plans = xml_rows(&text, Records::ActivePlans).expect("loads");
    // Born 31 August 2013: 7 on 31 August 2020, so year 3 in the 2020/21 school year.
    assert_eq!(
        plans[0].1,
        ["1", "3", "2020-09-01", "", "2020-12-01", "maintain", ""]
    );
    for r in got.iter().chain(&plans) {
        let all = r.1.join(",");
        assert!(!all.contains("Fakeson") && !all.contains("X999") && !all.contains("ZZ99"));
        assert!(!all.contains("2013-08-31"), "the birth date");
    }
}

#[test]
fn an_unknown_code_names_its_element_and_list_not_its_value() {
    let text = format!(
        "{HEAD}{}</Persons></Message>\n",
        person(
            "<Requests>\n<ReceivedDate>2020-03-02</ReceivedDate>\n<RequestOutcome>QZX</RequestOutcome>\n</Requests>"
        )
    );
    let err = xml_rows(&text, Records::Requests).expect_err("refused");
    let msg = refusal(err, &["QZX", "Fakeson"]);
    assert!(
        msg.contains(
            "line 7: Message/Persons/Person/Requests/RequestOutcome holds a code in no \
             RequestOutcome list (load.sen2.request_outcomes); the file is refused"
        ),
        "{msg}"
    );
    // A council whose return writes QZX for a refusal says so, and it loads.
    let mut s = settings(Format::Sen2Xml, Records::Requests);
    s.sen2.request_outcomes.not_assess = vec!["N".into(), "QZX".into()];
    let mut r = xml_reader(std::io::Cursor::new(text.into_bytes()), &s).expect("reader");
    let rows = typed(&mut r, &s).expect("loads");
    assert_eq!(rows[0].1[2], "not_assess");
}

#[test]
fn broken_xml_is_refused_at_its_line_without_its_content() {
    let req = "<Requests><ReceivedDate>2020-03-02</ReceivedDate></Requests>";
    let cases: Vec<(String, &str)> = vec![
        (
            format!(
                "{HEAD}<Person><Surname>Fakeson</Surname>\n<Requests></Request>\n</Person></Persons></Message>"
            ),
            "line 6: an end tag does not match the element it closes",
        ),
        (
            format!("{HEAD}{}", person(req)),
            "line 6: the file ends inside Message/Persons: it looks cut off",
        ),
        (
            format!(
                "{HEAD}{}</Persons></Message>",
                person("<Requests><Assessment/>\n<Assessment/></Requests>")
            ),
            "line 6: Message/Persons/Person/Requests/Assessment is the second in its parent",
        ),
        (
            format!(
                "{HEAD}{}</Persons></Message>",
                person(
                    "<Requests><ReceivedDate>2020-03-02</ReceivedDate>\n<ReceivedDate>2020-03-02</ReceivedDate></Requests>"
                )
            ),
            "line 6: Message/Persons/Person/Requests/ReceivedDate is given twice in one record",
        ),
        (
            String::new(),
            "line 1: the file holds no XML element (is it empty?)",
        ),
        (
            format!("{HEAD}</Persons></Message>"),
            "line 1: the return holds no Requests records",
        ),
        (
            format!("{HEAD}{}</Persons></Message><Message/>", person(req)),
            "a second root element follows the first",
        ),
    ];
    for (text, want) in cases {
        let err = xml_rows(&text, Records::Requests).expect_err(want);
        let msg = refusal(err, &["Fakeson", "X999"]);
        assert!(msg.contains(want), "want {want}\n got {msg}");
    }
}

#[test]
fn an_xml_item_over_max_record_bytes_is_refused_unread() {
    let huge = "Fakeson".repeat(300_000);
    let text = format!(
        "{HEAD}{}</Persons></Message>",
        person(&format!("<Surname>{huge}</Surname>"))
    );
    let mut s = settings(Format::Sen2Xml, Records::Requests);
    s.max_record_bytes = 1 << 20;
    let mut r = xml_reader(std::io::Cursor::new(text.into_bytes()), &s).expect("reader");
    let msg = refusal(typed(&mut r, &s).expect_err("refused"), &["Fakeson"]);
    assert!(
        msg.contains("line 5: one tag or run of text is longer than 1048576 bytes"),
        "{msg}"
    );
}

#[test]
fn active_plans_need_the_reference_date_first_and_say_so() {
    let text = format!(
        "<Message><Persons>{}</Persons></Message>",
        person("<Requests><ReceivedDate>2020-03-02</ReceivedDate></Requests>")
    );
    let msg = refusal(
        xml_rows(&text, Records::ActivePlans).expect_err("refused"),
        &["Fakeson"],
    );
    assert!(
        msg.contains("comes before the Header's ReferenceDate"),
        "{msg}"
    );
    // An unreadable birth date: the row is refused for its NCY, the date is not shown.
    let text = format!(
        "{HEAD}{}</Persons></Message>",
        person(
            "<PersonBirthDate>31/02/2013</PersonBirthDate><Requests><ReceivedDate>2020-03-02</ReceivedDate><ActivePlans/></Requests>"
        )
    );
    let msg = refusal(
        xml_rows(&text, Records::ActivePlans).expect_err("refused"),
        &["31/02", "Fakeson"],
    );
    assert!(
        msg.contains("column 2 (ncy): not one of the allowed values"),
        "{msg}"
    );
}

/// The fixture's Blade folder copied into a temporary one, for a test to spoil.
fn blade_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for e in std::fs::read_dir(fixture("sen2-blade")).expect("fixture") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), dir.path().join(e.file_name())).expect("copy");
    }
    dir
}

fn blade_file(dir: &std::path::Path, module: &str) -> std::path::PathBuf {
    dir.join(format!("Blade-Export_01-07-2021_{module}.csv"))
}

fn blade_rows(
    dir: &std::path::Path,
    records: Records,
) -> Result<Vec<(u64, Vec<String>)>, LoadError> {
    let s = settings(Format::Sen2Blade, records);
    typed(&mut blade_reader(dir, &s).expect("reader"), &s)
}

#[test]
fn a_blade_zip_reads_as_its_folder_does() {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for e in std::fs::read_dir(fixture("sen2-blade")).expect("fixture") {
        let e = e.expect("entry");
        let name = format!("export/{}", e.file_name().to_string_lossy());
        zip.start_file(name, opts).expect("entry");
        std::io::Write::write_all(&mut zip, &std::fs::read(e.path()).expect("read"))
            .expect("write");
    }
    let bytes = zip.finish().expect("zip").into_inner();
    for records in [Records::Requests, Records::ActivePlans] {
        let s = settings(Format::Sen2Blade, records);
        let zipped = typed(
            &mut blade_zip_reader(bytes.clone(), &s).expect("reader"),
            &s,
        )
        .expect("zip loads");
        assert_eq!(
            zipped,
            blade_rows(&fixture("sen2-blade"), records).expect("folder loads")
        );
    }
    let s = settings(Format::Sen2Blade, Records::Requests);
    let mut r = blade_zip_reader(b"not a zip".to_vec(), &s).expect("reader");
    let msg = refusal(typed(&mut r, &s).expect_err("refused"), &[]);
    assert!(msg.contains("neither a folder nor a readable zip"), "{msg}");
}

#[test]
fn broken_blade_sets_are_refused_naming_file_line_and_rule() {
    let edit = |module: &str, f: &dyn Fn(&str) -> String| {
        let dir = blade_copy();
        let path = blade_file(dir.path(), module);
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, f(&text)).expect("write");
        dir
    };
    let second_row = |text: &str| -> String {
        let lines: Vec<&str> = text.lines().collect();
        lines[1].to_string()
    };
    // A repeated table id; a column gone; a row cut short; an unknown review outcome.
    let cases: Vec<(tempfile::TempDir, Records, String)> = vec![
        (
            edit("person", &|t| format!("{t}{}\n", second_row(t))),
            Records::Requests,
            "person.csv: its persontableid repeats an earlier row's".into(),
        ),
        (
            edit("namedplan", &|t| t.replacen("startdate", "start_date", 1)),
            Records::Requests,
            "namedplan.csv has no `startdate` column".into(),
        ),
        (
            edit("requests", &|t| format!("{t}2100,999")),
            Records::Requests,
            "requests.csv: the row has 2 fields, the header 13 (the file looks cut off)".into(),
        ),
        (
            edit("activeplans", &|t| t.replacen(",M,", ",QZX,", 1)),
            Records::ActivePlans,
            "activeplans.csv, column reviewoutcome, holds a code in no ReviewOutcome list".into(),
        ),
        (
            edit("sen2", &|t| format!("{t}{}\n", second_row(t))),
            Records::Requests,
            "sen2.csv: a second return (the set holds one)".into(),
        ),
    ];
    for (dir, records, want) in cases {
        let msg = refusal(
            blade_rows(dir.path(), records).expect_err(&want),
            &["QZX", "Fakeson", "X999"],
        );
        assert!(msg.contains(&want), "want {want}\n got {msg}");
    }
}
