//! Property tests of the CSV, JSON and SEN2 XML paths: arbitrary bytes, and arbitrary bytes
//! spliced into a valid tracker extract (or a small SEN2 return), never panic; an error's text stays short; and a spliced token of
//! eight or more letters and digits never shows up in it.
//!
//! The token always holds a digit: a header cell without one may be shown by design (it is
//! a column name, see `shown_header`), and the fixed words of the messages ("rejected") are
//! not data.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use sendwatch::load::{Format, LoadSettings, Records, Sen2Settings, parse_bytes};

use crate::harness::{fixture, kind, today};

/// Longest error text allowed, whatever the input.
const MAX_ERROR: usize = 8 * 1024;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

fn settings(format: Format) -> LoadSettings {
    LoadSettings {
        format,
        ..LoadSettings::default()
    }
}

fn tracker_csv() -> Vec<u8> {
    std::fs::read(fixture("none")).expect("fixture")
}

/// The fixture as JSON Lines (`array` false) or a JSON array, keyed by our column names.
fn tracker_json(array: bool) -> Vec<u8> {
    let text = String::from_utf8(tracker_csv()).expect("utf-8");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let items: Vec<String> = lines
        .map(|l| {
            let fields: Vec<String> = header
                .iter()
                .zip(l.split(','))
                .map(|(k, v)| {
                    let v = if v.is_empty() {
                        "null".to_string()
                    } else {
                        serde_json::to_string(v).expect("string")
                    };
                    format!("\"{k}\":{v}")
                })
                .collect();
            format!("{{{}}}", fields.join(","))
        })
        .collect();
    if array {
        format!("[\n{}\n]\n", items.join(",\n")).into_bytes()
    } else {
        (items.join("\n") + "\n").into_bytes()
    }
}

/// `junk` put into `base` at `at` (taken modulo the length).
fn splice(base: &[u8], at: usize, junk: &[u8]) -> Vec<u8> {
    let at = at % (base.len() + 1);
    let mut out = Vec::with_capacity(base.len() + junk.len());
    out.extend_from_slice(&base[..at]);
    out.extend_from_slice(junk);
    out.extend_from_slice(&base[at..]);
    out
}

/// Parse; on an error, check its text is short and, if given, free of `secret`.
fn check(bytes: &[u8], format: Format, secret: Option<&str>) -> Result<(), TestCaseError> {
    if let Err(e) = parse_bytes(bytes, "f", &kind("tracker"), &settings(format), today()) {
        let text = e.to_string();
        prop_assert!(text.len() < MAX_ERROR, "error is {} bytes", text.len());
        if let Some(s) = secret {
            prop_assert!(!text.contains(s), "the spliced token shows: {}", text);
        }
    }
    Ok(())
}

/// A SEN2 return of three people: the first three of the seed-1 fixture's.
fn sen2_xml() -> Vec<u8> {
    let text = std::fs::read_to_string(crate::harness::repo("tests/fixtures/sen2/seed1/sen2.xml"))
        .expect("fixture");
    let people: Vec<&str> = text.split("    <Person>").collect();
    format!(
        "{}    <Person>{}  </Persons>\n</Message>\n",
        people[0],
        people[1..4].join("    <Person>")
    )
    .replace("  </Persons>\n</Message>\n  </Persons>", "  </Persons>")
    .into_bytes()
}

/// [`check`] for a SEN2 XML read as its requests.
fn check_sen2(bytes: &[u8], secret: Option<&str>) -> Result<(), TestCaseError> {
    let s = LoadSettings {
        format: Format::Sen2Xml,
        sen2: Sen2Settings {
            records: Some(Records::Requests),
            ..Sen2Settings::default()
        },
        ..LoadSettings::default()
    };
    if let Err(e) = parse_bytes(bytes, "f", &kind("sen2_requests"), &s, today()) {
        let text = e.to_string();
        prop_assert!(text.len() < MAX_ERROR, "error is {} bytes", text.len());
        if let Some(s) = secret {
            prop_assert!(!text.contains(s), "the spliced token shows: {}", text);
        }
    }
    Ok(())
}

/// Eight or more letters and digits, at least one a digit.
const TOKEN: &str = "[a-zA-Z]{0,8}[0-9][a-zA-Z0-9]{7,24}";

proptest! {
    #![proptest_config(config())]

    fn csv_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check(&bytes, Format::Csv, None)?;
    }

    fn csv_spliced_bytes(at in any::<usize>(), junk in proptest::collection::vec(any::<u8>(), 1..64)) {
        check(&splice(&tracker_csv(), at, &junk), Format::Csv, None)?;
    }

    fn csv_spliced_token_never_shows(at in any::<usize>(), token in TOKEN) {
        check(&splice(&tracker_csv(), at, token.as_bytes()), Format::Csv, Some(&token))?;
    }

    fn json_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check(&bytes, Format::Json, None)?;
    }

    fn json_arbitrary_text_that_looks_like_json(text in r#"[\[\]{}",:a-c0-9 \n\\]{0,256}"#) {
        check(text.as_bytes(), Format::Json, None)?;
    }

    fn json_spliced_bytes(
        array in any::<bool>(),
        at in any::<usize>(),
        junk in proptest::collection::vec(any::<u8>(), 1..64),
    ) {
        check(&splice(&tracker_json(array), at, &junk), Format::Json, None)?;
    }

    fn json_spliced_token_never_shows(array in any::<bool>(), at in any::<usize>(), token in TOKEN) {
        let bytes = splice(&tracker_json(array), at, token.as_bytes());
        check(&bytes, Format::Json, Some(&token))?;
    }

    fn sen2_xml_arbitrary_text_that_looks_like_xml(text in r#"[<>/a-cR0-9 ="\n&;!?-]{0,256}"#) {
        check_sen2(text.as_bytes(), None)?;
    }

    fn sen2_xml_spliced_bytes(at in any::<usize>(), junk in proptest::collection::vec(any::<u8>(), 1..64)) {
        check_sen2(&splice(&sen2_xml(), at, &junk), None)?;
    }

    fn sen2_xml_spliced_token_never_shows(at in any::<usize>(), token in TOKEN) {
        check_sen2(&splice(&sen2_xml(), at, token.as_bytes()), Some(&token))?;
    }
}

fn the_unspliced_inputs_load() {
    for (bytes, format) in [
        (tracker_csv(), Format::Csv),
        (tracker_json(false), Format::Json),
        (tracker_json(true), Format::Json),
    ] {
        let got = parse_bytes(&bytes, "f", &kind("tracker"), &settings(format), today());
        assert_eq!(got.expect("loads").0.rows, 60, "{format:?}");
    }
    let sen2 = String::from_utf8(sen2_xml()).expect("utf-8");
    assert_eq!(sen2.matches("<Person>").count(), 3, "{sen2}");
    assert!(check_sen2(sen2.as_bytes(), None).is_ok());
    let s = LoadSettings {
        format: Format::Sen2Xml,
        sen2: Sen2Settings {
            records: Some(Records::Requests),
            ..Sen2Settings::default()
        },
        ..LoadSettings::default()
    };
    let got = parse_bytes(sen2.as_bytes(), "f", &kind("sen2_requests"), &s, today());
    assert_eq!(got.expect("loads").0.rows, 3);
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(csv_arbitrary_bytes),
        trial!(csv_spliced_bytes),
        trial!(csv_spliced_token_never_shows),
        trial!(json_arbitrary_bytes),
        trial!(json_arbitrary_text_that_looks_like_json),
        trial!(json_spliced_bytes),
        trial!(json_spliced_token_never_shows),
        trial!(sen2_xml_arbitrary_text_that_looks_like_xml),
        trial!(sen2_xml_spliced_bytes),
        trial!(sen2_xml_spliced_token_never_shows),
        trial!(the_unspliced_inputs_load),
    ]
}
