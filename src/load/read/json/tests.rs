//! Tests of the JSON reader: both layouts, the header and layout rules, refusals that never
//! show a value, and the cap on an item or a line.

use super::*;

type Rows = Vec<(u64, Vec<String>)>;

fn all(text: &[u8], max: usize) -> Result<Rows, ReadError> {
    crate::load::read::text_rows(&mut JsonReader::new(text, max))
}

fn row(line: u64, cells: &[&str]) -> (u64, Vec<String>) {
    (line, cells.iter().map(|c| c.to_string()).collect())
}

#[test]
fn an_array_gives_the_first_items_keys_then_every_item_in_that_order() {
    let text = br#"[
      {"id": "C1", "n": 12, "x": 12.50, "ok": true, "note": null},
      {"note": "caf\u00e9 \"q\"", "ok": false, "id": "C2"},
      {"id": "C3", "n": -1e3}
    ]"#;
    let got = all(text, 1 << 20).expect("reads");
    assert_eq!(
        got,
        vec![
            row(1, &["id", "n", "x", "ok", "note"]),
            row(2, &["C1", "12", "12.50", "TRUE", ""]),
            row(3, &["C2", "", "", "FALSE", "café \"q\""]),
            row(4, &["C3", "-1e3", "", "", ""]),
        ]
    );
}

#[test]
fn json_lines_carry_their_line_numbers_and_skip_blank_lines() {
    let text = b"\xEF\xBB\xBF{\"a\":\"1\",\"b\":2}\r\n\n  \n{\"b\":3}\n{\"a\":\"x\"}";
    let got = all(text, 1 << 20).expect("reads");
    assert_eq!(
        got,
        vec![
            row(1, &["a", "b"]),
            row(1, &["1", "2"]),
            row(4, &["", "3"]),
            row(5, &["x", ""]),
        ]
    );
}

#[test]
fn empty_inputs() {
    assert_eq!(all(b"", 4096).expect("reads"), Vec::new());
    assert_eq!(all(b" \n\t\n", 4096).expect("reads"), Vec::new());
    let err = all(b" [ ] ", 4096).unwrap_err();
    assert!(err.message.contains("no items"), "{err}");
}

#[test]
fn a_key_not_in_the_first_item_is_refused_without_showing_data_like_names() {
    let err = all(b"[{\"a\":1},{\"a\":2,\"C0042xyz\":3}]", 4096).unwrap_err();
    assert_eq!(err.line, 3);
    assert!(err.message.starts_with("item 2: an unnamed key"), "{err}");
    assert!(!err.to_string().contains("C0042"), "{err}");
    let err = all(b"{\"a\":1}\n{\"a\":2,\"extra\":3}\n", 4096).unwrap_err();
    assert_eq!(err.line, 2);
    assert!(
        err.message
            .contains("key `extra` is not one of the first item's keys"),
        "{err}"
    );
    let err = all(b"{\"a\":1,\"a\":2}\n", 4096).unwrap_err();
    assert!(err.message.contains("appears twice"), "{err}");
}

#[test]
fn nested_values_and_non_objects_are_refused() {
    let err = all(b"[{\"a\":1,\"b\":2},{\"a\":1,\"b\":[\"Smith\"]}]", 4096).unwrap_err();
    assert_eq!(err.line, 3);
    assert!(
        err.message.contains("item 2: key `b` holds an array"),
        "{err}"
    );
    assert!(!err.to_string().contains("Smith"));
    let err = all(b"{\"a\":{\"name\":\"Smith\"}}\n", 4096).unwrap_err();
    assert!(err.message.contains("not a plain value"), "{err}");
    assert!(!err.to_string().contains("Smith"));
    let err = all(b"[{\"a\":1}, \"Smith\"]", 4096).unwrap_err();
    assert!(err.message.contains("item 2: not an object"), "{err}");
    let err = all(b"{\"a\":1}\n[\"Smith\"]\n", 4096).unwrap_err();
    assert_eq!(err.line, 2);
    assert!(!err.to_string().contains("Smith"));
    let err = all(b"\"Smith\"", 4096).unwrap_err();
    assert!(err.message.contains("not a JSON extract"), "{err}");
}

#[test]
fn a_lone_surrogate_is_refused_for_what_it_is_and_a_pair_is_read() {
    let err = all(b"{\"a\":1,\"b\":\"Sm\\ud800ith\"}\n", 4096).unwrap_err();
    assert_eq!(err.line, 1);
    assert!(
        err.message
            .contains("key `b` holds text with an escape that is no character"),
        "{err}"
    );
    assert!(!err.message.contains("array"), "{err}");
    assert!(!err.to_string().contains("Sm"), "{err}");
    let err = all(b"[{\"a\":1},{\"a\":\"\\udfff\"}]", 4096).unwrap_err();
    assert!(
        err.message
            .contains("item 2: key `a` holds text with an escape"),
        "{err}"
    );
    let rows = all(b"{\"a\":\"\\ud83d\\ude00\"}\n", 4096).expect("a pair is a character");
    assert_eq!(rows, vec![row(1, &["a"]), row(1, &["\u{1F600}"])]);
}

#[test]
fn bad_json_is_refused_in_our_own_words() {
    for text in [
        &b"{\"a\":1}\n{\"a\": Smith}\n"[..],
        b"[{\"a\":1},{\"a\": Smith}]",
        b"{\"a\":\"Smith\n",
        b"[{\"a\":1} {\"a\":2}]",
        b"[{\"a\":1},]",
        b"[{\"a\":1}] Smith",
    ] {
        let err = all(text, 4096).unwrap_err();
        assert!(!err.to_string().contains("Smith"), "{err}");
    }
    let err = all(b"[{\"a\":1},{\"a\":\"Smi", 4096).unwrap_err();
    assert!(err.message.contains("truncated"), "{err}");
    let err = all(b"[{\"a\":1}", 4096).unwrap_err();
    assert!(err.message.contains("truncated"), "{err}");
}

#[test]
fn a_huge_line_or_item_is_refused_at_the_cap() {
    let mut text = b"{\"a\":\"x\"}\n{\"a\":\"".to_vec();
    text.extend(std::iter::repeat_n(b'Q', 100_000));
    text.extend(b"\"}\n");
    let err = all(&text, 4096).unwrap_err();
    assert_eq!(err.line, 2);
    assert!(err.message.contains("longer than 4096 bytes"), "{err}");
    assert!(!err.message.contains('Q'));

    /// Counts the bytes taken, to show the reader stops near the cap.
    struct Taken<'a>(&'a [u8], usize);
    impl Read for Taken<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.read(buf)?;
            self.1 += n;
            Ok(n)
        }
    }
    let mut text = b"[{\"a\":\"x\"},{\"a\":\"".to_vec();
    text.extend(std::iter::repeat_n(b'Q', 1_000_000));
    text.extend(b"\"}]");
    let mut taken = Taken(&text, 0);
    let mut r = JsonReader::new(&mut taken, 4096);
    let mut rec = Record::default();
    let err = loop {
        match r.read(&mut rec) {
            Ok(true) => {}
            Ok(false) => panic!("read to the end"),
            Err(e) => break e,
        }
    };
    assert_eq!(err.line, 3);
    drop(r);
    assert!(taken.1 <= 4096 + 2 * CHUNK, "read {} bytes", taken.1);
}
