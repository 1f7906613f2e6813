//! Tests of the XLSX reader on workbooks written here part by part: what each kind of cell
//! reads as, where cells without a reference land, how the sheet is found, and each bound
//! refusing with its rule and never a value.

use std::io::Write as _;

use super::*;

const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const PKG: &str = "http://schemas.openxmlformats.org/package/2006/relationships";

fn zip_of(parts: &[(&str, String)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in parts {
        w.start_file(*name, opts).expect("start");
        w.write_all(body.as_bytes()).expect("write");
    }
    w.finish().expect("finish").into_inner()
}

fn rels(list: &[(&str, &str, &str)]) -> String {
    let items: String = list
        .iter()
        .map(|(id, typ, target)| {
            format!("<Relationship Id=\"{id}\" Type=\"{REL}/{typ}\" Target=\"{target}\"/>")
        })
        .collect();
    format!("<Relationships xmlns=\"{PKG}\">{items}</Relationships>")
}

/// A one-sheet workbook: `data` inside `<sheetData>`, `shared` inside `<sst>`, `styles`
/// inside `<styleSheet>`, `pr` before the sheets in `workbook.xml`.
fn book(data: &str, shared: &str, styles: &str, pr: &str) -> Vec<u8> {
    zip_of(&[
        (
            "_rels/.rels",
            rels(&[("rId1", "officeDocument", "xl/workbook.xml")]),
        ),
        (
            "xl/workbook.xml",
            format!(
                "<workbook xmlns=\"{MAIN}\" xmlns:r=\"{REL}\">{pr}<sheets>\
                 <sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
            ),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            rels(&[
                ("rId1", "worksheet", "worksheets/sheet1.xml"),
                ("rId2", "sharedStrings", "sharedStrings.xml"),
            ]),
        ),
        (
            "xl/worksheets/sheet1.xml",
            format!("<worksheet xmlns=\"{MAIN}\"><sheetData>{data}</sheetData></worksheet>"),
        ),
        (
            "xl/sharedStrings.xml",
            format!("<sst xmlns=\"{MAIN}\">{shared}</sst>"),
        ),
        (
            "xl/styles.xml",
            format!("<styleSheet xmlns=\"{MAIN}\">{styles}</styleSheet>"),
        ),
    ])
}

type Rows = Vec<(u64, Vec<String>)>;

fn read(bytes: Vec<u8>, sheet: Option<&str>, max: usize) -> Result<Rows, ReadError> {
    let input = std::io::Cursor::new(bytes);
    let mut r = reader(input, sheet.map(String::from), max).expect("thread");
    super::super::text_rows(&mut r)
}

fn sheet(data: &str) -> Result<Rows, ReadError> {
    read(book(data, "", "", ""), None, 1 << 20)
}

fn row(line: u64, cells: &[&str]) -> (u64, Vec<String>) {
    (line, cells.iter().map(|c| c.to_string()).collect())
}

#[test]
fn strings_of_every_kind_read_as_their_text() {
    let shared = "<si><t>plain</t></si>\
        <si><r><t>rich </t></r><r><rPr><b/></rPr><t xml:space=\"preserve\">run </t></r>\
        <rPh sb=\"0\" eb=\"1\"><t>phonetic</t></rPh></si>\
        <si><t>  trimmed \n</t></si>\
        <si><t>a&amp;b &#x41;_x000D_c_x005F_x000D_</t></si>\
        <si><t><![CDATA[<cdata>]]></t></si><si/><si><t>after an empty one</t></si>";
    let data = "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c>\
        <c r=\"C1\" t=\"s\"><v>2</v></c><c r=\"D1\" t=\"s\"><v>3</v></c>\
        <c r=\"E1\" t=\"s\"><v>4</v></c>\
        <c r=\"F1\" t=\"inlineStr\"><is><t>inline</t></is></c>\
        <c r=\"G1\" t=\"str\"><f>A1</f><v>x_x0009_y</v></c>\
        <c r=\"H1\" t=\"s\"><v>6</v></c></row>";
    let got = read(book(data, shared, "", ""), None, 1 << 20).expect("reads");
    let want = [
        "plain",
        "richrun ",
        "trimmed",
        "a&b A\rc_x000D_",
        "<cdata>",
        "inline",
        "x\ty",
        "after an empty one",
    ];
    assert_eq!(got, vec![row(1, &want)]);
    assert_eq!(cell::unescape_x("_xD83D__xDE00_!"), "\u{1F600}!");
    assert_eq!(cell::unescape_x("_xDE00_"), "\u{FFFD}");
}

const STYLES: &str = "<numFmts count=\"3\"><numFmt numFmtId=\"164\" formatCode=\"dd/mm/yyyy;@\"/>\
    <numFmt numFmtId=\"165\" formatCode=\"[h]:mm\"/>\
    <numFmt numFmtId=\"166\" formatCode=\"0.00&quot; d&quot;\"/></numFmts>\
    <cellStyleXfs count=\"1\"><xf numFmtId=\"14\"/></cellStyleXfs>\
    <cellXfs count=\"6\"><xf numFmtId=\"0\"/><xf numFmtId=\"164\"/><xf numFmtId=\"165\"/>\
    <xf numFmtId=\"166\"/><xf numFmtId=\"14\"/><xf numFmtId=\"21\"><alignment/></xf></cellXfs>\
    <dxfs count=\"1\"><dxf><numFmt numFmtId=\"0\" formatCode=\"yyyy\"/></dxf></dxfs>";

#[test]
fn numbers_dates_and_booleans_read_by_type_and_format() {
    let data = "<row r=\"1\"><c r=\"A1\" s=\"0\"><v>12</v></c><c r=\"B1\" s=\"1\"><v>43497</v></c>\
        <c r=\"C1\" s=\"2\"><v>1.5</v></c><c r=\"D1\" s=\"3\"><v>2.5</v></c>\
        <c r=\"E1\" s=\"4\"><v>43497.5</v></c><c r=\"F1\" s=\"5\"><v>0.25</v></c>\
        <c r=\"G1\" t=\"b\"><v>1</v></c><c r=\"H1\" t=\"d\"><v>2019-02-01T00:00:00</v></c>\
        <c r=\"I1\"><v>12.50</v></c><c r=\"J1\" s=\"99\"><v>43497</v></c>\
        <c r=\"K1\" t=\"n\"><v></v></c><c r=\"L1\" s=\"1\"><v>60</v></c>\
        <c r=\"M1\" s=\"1\"><v>61</v></c><c r=\"N1\" t=\"b\"><v>false</v></c>\
        <c r=\"O1\"><v>not a number</v></c></row>";
    let got = read(book(data, "", STYLES, ""), None, 1 << 20).expect("reads");
    let want = [
        "12",
        "2019-02-01",
        "1.5",
        "2.5",
        "2019-02-01 12:00:00",
        "06:00:00",
        "TRUE",
        "2019-02-01",
        "12.5",
        "43497",
        "",
        "1900-02-29",
        "1900-03-01",
        "FALSE",
        "not a number",
    ];
    assert_eq!(got, vec![row(1, &want)]);

    // The 1904 date system: the same day is 1462 lower.
    let data = "<row><c s=\"1\"><v>42035</v></c><c s=\"1\"><v>1</v></c></row>";
    let pr = "<workbookPr date1904=\"1\"/>";
    let got = read(book(data, "", STYLES, pr), None, 1 << 20).expect("reads");
    assert_eq!(got, vec![row(1, &["2019-02-01", "1904-01-02"])]);
}

#[test]
fn cells_without_a_reference_follow_the_last() {
    let data = "<row><c><v>1</v></c><c><v>2</v></c></row>\
        <row r=\"4\"><c><v>3</v></c><c r=\"D4\"><v>4</v></c><c><v>5</v></c></row>\
        <row><c><v>6</v></c></row><row/><row><c/><c s=\"1\"/></row>";
    assert_eq!(
        sheet(data).expect("reads"),
        vec![
            row(1, &["1", "2"]),
            row(4, &["3", "", "", "4", "5"]),
            row(5, &["6", ""]),
        ]
    );
}

/// A sheet whose header is `id`, `Date` and whose row 2 is `cell` in column B.
fn second_row(cell: &str, max: usize) -> ReadError {
    let data = format!(
        "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>id</t></is></c>\
         <c r=\"B1\" t=\"inlineStr\"><is><t>Date</t></is></c></row>\
         <row r=\"2\"><c r=\"A2\"><v>1</v></c>{cell}</row>"
    );
    read(book(&data, "<si><t>x</t></si>", "", ""), None, max).expect_err("refused")
}

#[test]
fn a_cell_that_cannot_be_read_names_its_row_and_column_only() {
    for (cell, says) in [
        ("<c r=\"B2\" t=\"e\"><v>#N/A</v></c>", "an error value"),
        ("<c r=\"B2\" t=\"e\"><v>#WHAT?</v></c>", "an error value"),
        (
            "<c r=\"B2\" t=\"b\"><v>2</v></c>",
            "a boolean cell that cannot",
        ),
        (
            "<c r=\"B2\" t=\"s\"><v>7</v></c>",
            "a shared string that cannot",
        ),
        (
            "<c r=\"B2\" t=\"n\"><v>12x</v></c>",
            "a number cell that cannot",
        ),
        (
            "<c r=\"B2\" t=\"zz\"><v>1</v></c>",
            "a cell of an unknown type",
        ),
    ] {
        let err = second_row(cell, 1 << 20);
        assert_eq!(err.line, 2, "{cell}: {err}");
        assert!(
            err.message.starts_with(&format!("column B (Date): {says}")),
            "{cell}: {err}"
        );
    }
    let err = second_row("<c r=\"B!2\"><v>1</v></c>", 1 << 20);
    assert!(
        err.message.contains("reference that cannot be read"),
        "{err}"
    );
}

#[test]
fn a_long_cell_is_refused_while_it_is_read() {
    let long = "Q".repeat(10_000);
    let entities = "&amp;".repeat(10_000);
    for cell in [
        format!("<c r=\"B2\" t=\"inlineStr\"><is><t>{long}</t></is></c>"),
        format!("<c r=\"B2\" t=\"str\"><v>{entities}</v></c>"),
        format!("<c r=\"B2\"><v>{long}</v></c>"),
    ] {
        let err = second_row(&cell, 4096);
        assert_eq!(err.line, 2);
        assert!(
            err.message.starts_with(
                "column B (Date): record is longer than 4096 bytes (load.max_record_bytes)"
            ),
            "{err}"
        );
        assert!(!err.message.contains('Q') && !err.message.contains('&'));
    }
    // Cells each under the bound, together over it: refused where the row passes it.
    let third = "Q".repeat(1500);
    let cells = format!(
        "<c r=\"B2\" t=\"inlineStr\"><is><t>{third}</t></is></c>\
         <c r=\"C2\" t=\"inlineStr\"><is><t>{third}</t></is></c>\
         <c r=\"D2\" t=\"inlineStr\"><is><t>{third}</t></is></c>"
    );
    let err = second_row(&cells, 4096);
    assert!(
        err.message.starts_with("column D: record is longer"),
        "{err}"
    );
    // A shared string that could never fit a row.
    let shared = format!("<si><t>{long}</t></si>");
    let err = read(book("", &shared, "", ""), None, 4096).expect_err("refused");
    assert_eq!(err.line, 1);
    assert!(
        err.message
            .starts_with("a shared string is longer than 4096 bytes (load.max_record_bytes)"),
        "{err}"
    );
}

#[test]
fn a_tag_too_long_or_too_many_rows_are_refused() {
    let huge = format!(
        "<row r=\"1\" x=\"{}\"><c><v>1</v></c></row>",
        "a".repeat(100_000)
    );
    let err = read(book(&huge, "", "", ""), None, 4096).expect_err("refused");
    assert!(
        err.message.contains("tag or text too long to read"),
        "{err}"
    );
    // quick-xml holds the names of open elements: a deep nest is refused, not held.
    let deep = format!("<row>{}", "<a>".repeat(1000));
    let err = sheet(&deep).expect_err("refused");
    assert!(err.message.contains("more than 64 deep"), "{err}");
    let named = format!("<row><{0}><c/></{0}></row>", "n".repeat(300));
    let err = sheet(&named).expect_err("refused");
    assert!(err.message.contains("more than 256 bytes"), "{err}");
    for data in [
        "<row r=\"1048577\"><c><v>1</v></c></row>",
        "<row><c r=\"A1048577\"><v>1</v></c></row>",
    ] {
        let err = sheet(data).expect_err("refused");
        assert!(err.message.contains("more than 1048576 rows"), "{err}");
    }
    // A value past the last column refuses; a blank there is ignored.
    let err = sheet("<row><c r=\"AMK1\"><v>1</v></c></row>").expect_err("refused");
    assert!(err.message.contains("beyond column AMJ"), "{err}");
    let ok = sheet("<row><c r=\"A1\"><v>1</v></c><c r=\"XFD1\" s=\"1\"/></row>");
    assert_eq!(ok.expect("reads"), vec![row(1, &["1"])]);
}

#[test]
fn a_part_that_unpacks_too_far_is_refused_as_it_unpacks() {
    let body = format!("<a>{}</a>", "<b/>".repeat(5000));
    for (in_all, says) in [(false, "unpacks past 5000 bytes"), (true, "in all")] {
        let part = part::Part::bounded(body.as_bytes(), 1 << 20, 5000, in_all);
        let mut xml = part::Xml::new(part);
        let fail = loop {
            match xml.next() {
                Ok(quick_xml::events::Event::Eof) => panic!("read past the bound"),
                Ok(_) => {}
                Err(f) => break f,
            }
        };
        let err = fail.at(1);
        assert!(err.message.contains(says), "{err}");
        assert!(xml.unpacked() <= 5000 + 64 * 1024);
    }
}

#[test]
fn a_zip_of_too_many_parts_or_not_a_zip_is_refused_up_front() {
    let many: Vec<(String, String)> = (0..20_000)
        .map(|i| {
            (
                format!("xl/media/a-rather-long-name-for-part-{i:08}.xml"),
                String::new(),
            )
        })
        .collect();
    let parts: Vec<(&str, String)> = many.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    let err = read(zip_of(&parts), None, 1 << 20).expect_err("refused");
    assert!(
        err.message.contains("zip directory is over 1048576 bytes"),
        "{err}"
    );

    let mut cfb = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    cfb.extend([0u8; 504]);
    let err = read(cfb, None, 1 << 20).expect_err("refused");
    assert!(
        err.message.contains("encrypted (password-protected)"),
        "{err}"
    );
}

#[test]
fn the_sheet_is_found_by_name_or_as_the_first_worksheet() {
    let sheet_xml = |v: &str| {
        format!(
            "<worksheet xmlns=\"{MAIN}\"><sheetData><row><c t=\"inlineStr\"><is><t>{v}</t>\
             </is></c></row></sheetData></worksheet>"
        )
    };
    let bytes = zip_of(&[
        (
            "_rels/.rels",
            rels(&[("r1", "officeDocument", "/Book/main.xml")]),
        ),
        (
            "Book/main.xml",
            format!(
                "<workbook xmlns=\"{MAIN}\" xmlns:r=\"{REL}\"><sheets>\
                 <sheet name=\"Chart\" sheetId=\"1\" r:id=\"a\"/>\
                 <sheet name=\"Q &amp; A\" sheetId=\"2\" r:id=\"b\"/>\
                 <sheet name=\"Other\" sheetId=\"3\" r:id=\"c\"/></sheets></workbook>"
            ),
        ),
        (
            "Book/_rels/main.xml.rels",
            rels(&[
                ("a", "chartsheet", "charts/c1.xml"),
                ("b", "worksheet", "../Sheets/one.xml"),
                ("c", "worksheet", "/Sheets/two.xml"),
            ]),
        ),
        ("Book/charts/c1.xml", "<chartsheet/>".to_string()),
        ("SHEETS/One.xml", sheet_xml("first")),
        ("Sheets/two.xml", sheet_xml("second")),
    ]);
    let first = read(bytes.clone(), None, 1 << 20).expect("reads");
    assert_eq!(first, vec![row(1, &["first"])]);
    let named = read(bytes.clone(), Some("Other"), 1 << 20).expect("reads");
    assert_eq!(named, vec![row(1, &["second"])]);
    let amp = read(bytes.clone(), Some("Q & A"), 1 << 20).expect("reads");
    assert_eq!(amp, vec![row(1, &["first"])]);
    let err = read(bytes, Some("Chart"), 1 << 20).expect_err("a chart has no cells");
    assert!(err.message.contains("no worksheet named `Chart`"), "{err}");

    let no_rels = zip_of(&[("xl/workbook.xml", "<workbook/>".to_string())]);
    let err = read(no_rels, None, 1 << 20).expect_err("refused");
    assert!(
        err.message.contains("no package relationships part"),
        "{err}"
    );
}

mod spliced {
    //! Bytes spliced anywhere into a sheet's or the shared strings' XML never panic the
    //! worker, and a spliced token never shows in an error.

    use proptest::prelude::*;

    use super::*;

    const DATA: &str = "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>id</t></is></c>\
        <c r=\"B1\" t=\"s\"><v>0</v></c><c r=\"C1\" t=\"s\"><v>1</v></c></row>\
        <row r=\"2\"><c r=\"A2\"><v>12.5</v></c><c r=\"B2\" s=\"1\"><v>43497</v></c>\
        <c r=\"C2\" t=\"b\"><v>1</v></c><c r=\"D2\" t=\"str\"><f>A2</f><v>x</v></c></row>\
        <row><c/><c t=\"inlineStr\"><is><r><t>a</t></r><rPh><t>b</t></rPh></is></c></row>";
    const SHARED: &str = "<si><t>Received</t></si><si><r><t xml:space=\"preserve\">N </t></r>\
        <r><t>CY</t></r></si>";
    const STYLES: &str = "<cellXfs><xf numFmtId=\"0\"/><xf numFmtId=\"14\"/></cellXfs>";

    fn splice(base: &str, at: usize, junk: &[u8], token: &str) -> String {
        let mut bytes = base.as_bytes().to_vec();
        let at = at % (bytes.len() + 1);
        let mut insert = junk.to_vec();
        insert.extend(token.as_bytes());
        bytes.splice(at..at, insert);
        // Not UTF-8 is one way a part is damaged; the zip writer takes text here.
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn check(result: Result<Rows, ReadError>, token: &str) -> Result<(), TestCaseError> {
        if let Err(e) = result {
            prop_assert!(!e.message.contains("stopped before the end"), "{e}");
            prop_assert!(!e.message.contains(token), "{e}");
            prop_assert!(e.message.len() < 1024, "{e}");
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn anything_spliced_into_the_sheet_or_strings_is_read_or_refused(
            at in 0usize..2000,
            junk in prop::collection::vec(any::<u8>(), 0..12),
            token in "[a-z]{3}[0-9][a-z0-9]{4,8}",
            into_strings in any::<bool>(),
        ) {
            let (data, shared) = if into_strings {
                (DATA.to_string(), splice(SHARED, at, &junk, &token))
            } else {
                (splice(DATA, at, &junk, &token), SHARED.to_string())
            };
            check(read(book(&data, &shared, STYLES, ""), None, 4096), &token)?;
        }
    }
}
