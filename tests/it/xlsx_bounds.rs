//! XLSX bounds on the real binary: hostile workbooks that are small zips (a cell of hundreds
//! of MB, a sheet of millions of blank cells, a huge shared string, a shared-strings table
//! past its bound) are refused naming the rule, and the tracker with a million blank cells
//! below it loads; the `sendwatch load` child's peak RSS stays under 64 MiB for each.
//!
//! The parts are written by hand through the zip crate's streaming deflate writer, so a part
//! of a GB costs this test a buffer of a MiB, not the part.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::harness::fixture;
use crate::ingest::run_measured;

/// A piece of a part: bytes once, or a pattern repeated `n` times.
enum Piece<'a> {
    Once(&'a str),
    Repeat(&'a str, u64),
}
use Piece::{Once, Repeat};

const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

fn write_part(w: &mut impl Write, pieces: &[Piece<'_>]) {
    for p in pieces {
        match p {
            Once(s) => w.write_all(s.as_bytes()).expect("write"),
            Repeat(pattern, n) => {
                // About a MiB of whole patterns at a time.
                let per = (1 << 20) / pattern.len().max(1) as u64 + 1;
                let chunk = pattern.repeat(per.min(*n) as usize);
                let mut left = *n;
                while left >= per {
                    w.write_all(chunk.as_bytes()).expect("write");
                    left -= per;
                }
                w.write_all(pattern.repeat(left as usize).as_bytes())
                    .expect("write");
            }
        }
    }
}

/// An xlsx at `dir/name`: one worksheet "Tracker" of `sheet_data` (the inside of
/// `<sheetData>`), shared strings of `shared` (the inside of `<sst>`), and styles whose cell
/// format 1 is a date (built-in format 14).
fn workbook(dir: &Path, name: &str, sheet_data: &[Piece<'_>], shared: &[Piece<'_>]) -> PathBuf {
    let path = dir.join(name);
    let file = std::fs::File::create(&path).expect("create");
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    // Level 9: the faster levels leave runs of a short pattern (`<c/>`) 5 times larger.
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .large_file(true);
    const CT: &str = "application/vnd.openxmlformats";
    let types = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
         <Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" ContentType=\"{CT}-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
         <Override PartName=\"/xl/workbook.xml\" \
         ContentType=\"{CT}-officedocument.spreadsheetml.sheet.main+xml\"/>\
         <Override PartName=\"/xl/worksheets/sheet1.xml\" \
         ContentType=\"{CT}-officedocument.spreadsheetml.worksheet+xml\"/></Types>"
    );
    let root_rels = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
         <Relationship Id=\"rId1\" Type=\"{REL}/officeDocument\" Target=\"xl/workbook.xml\"/>\
         </Relationships>"
    );
    let book = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <workbook xmlns=\"{MAIN}\" xmlns:r=\"{REL}\"><sheets>\
         <sheet name=\"Tracker\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
    );
    let book_rels = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
         <Relationship Id=\"rId1\" Type=\"{REL}/worksheet\" Target=\"worksheets/sheet1.xml\"/>\
         <Relationship Id=\"rId2\" Type=\"{REL}/styles\" Target=\"styles.xml\"/>\
         <Relationship Id=\"rId3\" Type=\"{REL}/sharedStrings\" Target=\"sharedStrings.xml\"/>\
         </Relationships>"
    );
    let styles = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <styleSheet xmlns=\"{MAIN}\"><cellXfs count=\"2\"><xf numFmtId=\"0\"/>\
         <xf numFmtId=\"14\" applyNumberFormat=\"1\"/></cellXfs></styleSheet>"
    );
    let sheet_head = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<worksheet xmlns=\"{MAIN}\"><sheetData>"
    );
    let sst_head = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sst xmlns=\"{MAIN}\">");
    // A part: its head, the pieces given, its tail.
    let mut put = |name: &str, head: &str, pieces: &[Piece<'_>], tail: &str| {
        zip.start_file(name, opts).expect("start part");
        write_part(&mut zip, &[Once(head)]);
        write_part(&mut zip, pieces);
        write_part(&mut zip, &[Once(tail)]);
    };
    put("[Content_Types].xml", &types, &[], "");
    put("_rels/.rels", &root_rels, &[], "");
    put("xl/workbook.xml", &book, &[], "");
    put("xl/_rels/workbook.xml.rels", &book_rels, &[], "");
    put("xl/styles.xml", &styles, &[], "");
    put("xl/sharedStrings.xml", &sst_head, shared, "</sst>");
    put(
        "xl/worksheets/sheet1.xml",
        &sheet_head,
        sheet_data,
        "</sheetData></worksheet>",
    );
    zip.finish().expect("finish").flush().expect("flush");
    path
}

/// Row 1 as inline strings: the tracker's header, which a refused file never gets past.
fn header_row() -> String {
    let text = std::fs::read_to_string(fixture("none")).expect("fixture");
    let header = text.lines().next().expect("header");
    row(1, header.split(','))
}

/// One row of inline-string cells (no cell for an empty field).
fn row<'a>(r: u32, fields: impl Iterator<Item = &'a str>) -> String {
    let mut out = format!("<row r=\"{r}\">");
    for (c, v) in fields.enumerate() {
        if v.is_empty() {
            continue;
        }
        let col = char::from(b'A' + c as u8);
        let v = v
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        out.push_str(&format!(
            "<c r=\"{col}{r}\" t=\"inlineStr\"><is><t>{v}</t></is></c>"
        ));
    }
    out.push_str("</row>");
    out
}

const MIB: u64 = 1 << 20;
const LIMIT: u64 = 64 * MIB;

fn hostile_xlsx_files_are_refused_and_a_legitimate_one_loads_in_bounded_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("x.db");
    let cfg = crate::harness::folder_config_with(
        dir.path(),
        &format!("sqlite://{}", db.display()),
        "unused.xlsx",
        "[sources.tracker.load]\nformat = \"xlsx\"\nmax_shrink = 1.0\n",
    );
    let header = header_row();
    let shared_ref = "<row r=\"2\"><c r=\"B2\" t=\"s\"><v>0</v></c></row>";
    let blank_row = format!("<row>{}</row>", "<c/>".repeat(10_000));
    // (name, sheet data, shared strings, what the output must say)
    let cases: Vec<(&str, Vec<Piece<'_>>, Vec<Piece<'_>>, &str)> = vec![
        // About 600 MB in one inline-string cell, from a zip of about 600 KB.
        (
            "inline-cell.xlsx",
            vec![
                Once(&header),
                Once("<row r=\"2\"><c r=\"C2\" t=\"inlineStr\"><is><t>"),
                Repeat("Q", 600 * 1_000_000),
                Once("</t></is></c></row>"),
            ],
            vec![],
            "line 2: column C (decision_to_assess_date): record is longer than 1048576 bytes \
             (load.max_record_bytes)",
        ),
        // About 1 GB in one formula-string value, from a zip of about 1 MB.
        (
            "str-cell.xlsx",
            vec![
                Once(&header),
                Once("<row r=\"2\"><c r=\"B2\" t=\"str\"><v>"),
                Repeat("Q", 1_050 * 1_000_000),
                Once("</v></c></row>"),
            ],
            vec![],
            "line 2: column B (request_received_date): record is longer than 1048576 bytes",
        ),
        // Millions of blank cells (about 1 GB of XML from about 1 MB).
        (
            "blanks.xlsx",
            vec![Once(&header), Repeat(&blank_row, 1_000_000_000 / 40_011)],
            vec![],
            "cells in all (value or blank)",
        ),
        // One shared string of 120 MB (under the old 128 MiB part bound).
        (
            "shared-string.xlsx",
            vec![Once(&header), Once(shared_ref)],
            vec![
                Once("<si><t>"),
                Repeat("S", 120 * 1_000_000),
                Once("</t></si>"),
            ],
            "a shared string is longer than 1048576 bytes (load.max_record_bytes)",
        ),
        // Half a million short shared strings (20 MB of text).
        (
            "shared-table.xlsx",
            vec![Once(&header), Once(shared_ref)],
            vec![Repeat(
                "<si><t>a short string of forty bytes, or so.</t></si>",
                500_000,
            )],
            "the shared strings take more than",
        ),
    ];
    for (name, sheet, shared, says) in &cases {
        let path = workbook(dir.path(), name, sheet, shared);
        let size = std::fs::metadata(&path).expect("written").len();
        assert!(size < 2 * MIB, "{name}: the zip is {size} bytes");
        let f = path.display().to_string();
        let (ok, out, rss) = run_measured(dir.path(), &cfg, &["load", &f, "--source", "tracker"]);
        assert!(rss > 0, "{name}: wait4 reported the child's peak");
        assert!(rss < LIMIT, "{name}: peak RSS {} MiB: {out}", rss >> 20);
        assert!(!ok, "{name}: refused: {out}");
        assert!(out.contains("REJECTED"), "{name}: {out}");
        assert!(out.contains(says), "{name}: wanted `{says}` in {out}");
        assert!(out.len() < 4096, "{name}: {} bytes of output", out.len());
        assert!(
            !out.contains("QQQQ") && !out.contains("SSSS"),
            "{name}: a value leaked"
        );
    }

    // The tracker itself, then a million styled blank cells below it (a sheet someone
    // formatted far down): it loads, and the blanks cost no memory.
    let text = std::fs::read_to_string(fixture("none")).expect("fixture");
    let rows: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| row(i as u32 + 1, l.split(',')))
        .collect();
    let styled = "<c s=\"1\"/>".repeat(10);
    let pattern = format!("<row>{styled}</row>");
    let path = workbook(
        dir.path(),
        "tracker.xlsx",
        &[Once(&rows), Repeat(&pattern, 100_000)],
        &[],
    );
    let f = path.display().to_string();
    let (ok, out, rss) = run_measured(dir.path(), &cfg, &["load", &f, "--source", "tracker"]);
    assert!(ok && out.contains("loaded (load"), "{out}");
    assert!(out.contains("60 rows"), "{out}");
    assert!(rss < LIMIT, "the tracker: peak RSS {} MiB", rss >> 20);
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![trial!(
        hostile_xlsx_files_are_refused_and_a_legitimate_one_loads_in_bounded_memory
    )]
}
