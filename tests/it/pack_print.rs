//! Acceptance 5 of issue 22: the board pack laid out as Chromium prints it (A4 landscape, the
//! print stylesheet's rules in force) leaves no cell's content past its column, and no table
//! wider than the page. The pack is the generated examples' (all 26 KPIs, three extracts, the
//! manual KPIs rated), whose long values and labels the old stylesheet let overflow (the
//! Current column ran into RAG).
//!
//! How: headless Chromium lays out a copy of the pack's HTML into which the test put (a) its
//! `@media print` rules as `@media all`, with the page's printable width (A4 landscape, less
//! the `@page` margins) on the root, and (b) a script that measures each cell's text and boxes
//! against the cell's own box and writes what it found into `<pre id="overflow">`; then
//! `--dump-dom` gives the DOM back. The copy is left in target/screenshots for a person.

use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use sendwatch::job::pack::Gathered;
use sendwatch::pack::{self, Audience};

use crate::harness::{app, folder_config_with, repo, run_example};
use crate::support::html::decode;
use crate::support::sqlite_backend;
use crate::support::tools::{artefact, headless, run_bounded};
use crate::support::trials::{Spec, trial};

/// A4 landscape (297 mm) less the 12 mm `@page` margins each side: the width a page prints.
const PRINT_WIDTH: &str = "273mm";

/// Measures every cell once the page has loaded; a finding is written in words (no figure
/// of the pack's, only where and by how much).
const PROBE: &str = r#"<script>
window.addEventListener('load', function () {
  var out = [];
  var cells = document.querySelectorAll('td, th');
  cells.forEach(function (cell) {
    var box = cell.getBoundingClientRect();
    var worst = 0;
    var walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    for (var n = walk.nextNode(); n; n = walk.nextNode()) {
      var r;
      if (n.nodeType === Node.TEXT_NODE) {
        if (!n.textContent.trim()) continue;
        var range = document.createRange();
        range.selectNodeContents(n);
        r = range.getBoundingClientRect();
      } else {
        r = n.getBoundingClientRect();
      }
      if (r.width > 0) worst = Math.max(worst, r.right - box.right, box.left - r.left);
    }
    worst = Math.max(worst, cell.scrollWidth - cell.clientWidth);
    if (worst > 1) {
      var table = cell.closest('table');
      var row = cell.closest('tr');
      var head = table.tHead && table.tHead.rows[0] && table.tHead.rows[0].cells[cell.cellIndex];
      out.push((table.id || 'a table') + ', row ' + row.rowIndex + ', column ' +
        (head ? head.textContent.trim() : cell.cellIndex) + ': ' + Math.round(worst) +
        'px past its column');
    }
  });
  var page = document.body.getBoundingClientRect().right;
  document.querySelectorAll('table').forEach(function (t) {
    var r = t.getBoundingClientRect();
    if (r.right > page + 1) out.push((t.id || 'a table') + ': ' + Math.round(r.right - page) + 'px past the page');
  });
  var pre = document.createElement('pre');
  pre.id = 'overflow';
  pre.textContent = 'checked ' + cells.length + ' cells\n' + out.join('\n');
  document.body.appendChild(pre);
});
</script>"#;

/// The pack's HTML as the print layout sees it, with the probe.
fn print_copy(html: &str) -> String {
    let printed = html.replace("@media print", "@media all");
    assert_ne!(printed, html, "the pack has print rules");
    let page = format!("<style>html {{ width: {PRINT_WIDTH}; }}</style>\n</head>");
    printed
        .replacen("</head>", &page, 1)
        .replacen("</body>", &format!("{PROBE}\n</body>"), 1)
}

/// What the probe found in the page at `path`: (cells checked, findings).
fn probe(path: &Path) -> (usize, Vec<String>) {
    let profile = tempfile::tempdir().expect("tempdir for Chromium");
    let url = format!(
        "file://{}",
        std::path::absolute(path).expect("absolute").display()
    );
    let dom = run_bounded(
        headless(profile.path())
            .args([
                "--dump-dom",
                "--run-all-compositor-stages-before-draw",
                "--virtual-time-budget=10000",
                "--window-size=1200,900",
            ])
            .arg(&url),
        Duration::from_secs(120),
    )
    .unwrap_or_else(|why| panic!("the DOM of {url}: {why}"));
    let start = dom
        .find("<pre id=\"overflow\">")
        .unwrap_or_else(|| panic!("the probe ran and wrote its findings: {dom}"))
        + "<pre id=\"overflow\">".len();
    let end = dom[start..].find("</pre>").expect("its end") + start;
    let found = decode(&dom[start..end]);
    let mut lines = found.lines().map(str::to_string);
    let first = lines.next().unwrap_or_default();
    let cells = first
        .strip_prefix("checked ")
        .and_then(|r| r.strip_suffix(" cells"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the probe's first line: {first}"));
    (cells, lines.filter(|l| !l.trim().is_empty()).collect())
}

async fn the_packs_pdf_layout_keeps_every_cell_in_its_column_on_a4_landscape() {
    let backend = sqlite_backend();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let tracker = repo("examples/tracker.csv").display().to_string();
    let three = format!(
        "[sources.reviews]\nkind = \"reviews\"\nurl = {:?}\n\n[sources.provider]\nkind = \
         \"provider\"\nurl = {:?}\n\n[jobs.monthly-exceptions]\nsources = [\"tracker\", \
         \"reviews\", \"provider\"]\nmanual_kpis = true\n",
        repo("examples/reviews.csv").display().to_string(),
        repo("examples/provider.csv").display().to_string(),
    );
    let cfg = folder_config_with(d, &backend.url, &tracker, &three);
    let app = app(&cfg).await;
    run_example(&app).await;
    let g = Gathered::read(&app.store, &app.settings)
        .await
        .expect("gather");
    let built = pack::build(&g.inputs(&app.settings, Audience::Board, None, Utc::now()));
    assert_eq!(built.kpis.len(), 26, "all 26 KPIs");
    let html = pack::render_html(&built, None, app.settings.disclosure()).expect("render");
    app.store.close().await;

    let copy = artefact("pack-print-layout.html");
    std::fs::write(&copy, print_copy(&html)).expect("write the print copy");
    let (cells, found) = probe(&copy);
    assert!(
        cells > 26 * 8,
        "every KPI row's cells were measured: {cells}"
    );
    assert!(
        found.is_empty(),
        "cells past their column in the print layout ({}):\n{}",
        copy.display(),
        found.join("\n")
    );
}

/// The pages of `html` as Chromium prints it (`--print-to-pdf`, as `sendwatch report` does):
/// the page tree's count.
fn printed_pages(html: &str, name: &str) -> usize {
    let page = artefact(&format!("{name}.html"));
    let pdf = artefact(&format!("{name}.pdf"));
    std::fs::write(&page, html).expect("write the page");
    let _ = std::fs::remove_file(&pdf);
    let profile = tempfile::tempdir().expect("tempdir for Chromium");
    run_bounded(
        headless(profile.path())
            .arg("--no-pdf-header-footer")
            .arg(format!("--print-to-pdf={}", pdf.display()))
            .arg(format!("file://{}", page.display())),
        Duration::from_secs(120),
    )
    .unwrap_or_else(|why| panic!("printing {}: {why}", page.display()));
    let bytes = std::fs::read(&pdf).expect("Chromium wrote the PDF");
    let text = String::from_utf8_lossy(&bytes);
    text.match_indices("/Count ")
        .filter_map(|(i, m)| {
            let digits: String = text[i + m.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .max()
        .expect("a page tree")
}

/// A page under the shipped stylesheet (base.html.j2's): `before` mm of text, a table of
/// `rows` rows `row` mm tall (its head repeated on each page), then `after` mm.
fn laid_out(style: &str, before: u32, rows: u32, row: u32, after: u32) -> String {
    let block = |mm: u32| format!("<div style=\"height:{mm}mm\">text</div>");
    let rows: String = (1..=rows)
        .map(|i| format!("<tr><td style=\"height:{row}mm\">risk {i}</td></tr>"))
        .collect();
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">{style}</head><body>{}\
         <table id=\"risk-table\"><thead><tr><th>Risk</th></tr></thead><tbody>{rows}</tbody>\
         </table>{}</body></html>",
        if before > 0 {
            block(before)
        } else {
            String::new()
        },
        block(after),
    )
}

/// Acceptance 5, its rows: Chromium's print layout under the pack's own stylesheet leaves no
/// table row alone on a page. Measured by the pages a PDF has, each case built so that the
/// count differs: A4 landscape holds 186 mm a page.
fn the_packs_print_stylesheet_leaves_no_row_alone_on_a_page() {
    let base = std::fs::read_to_string(repo("config/templates/base.html.j2")).expect("base");
    let from = base.find("<style>").expect("a stylesheet");
    let to = base.find("</style>").expect("its end") + "</style>".len();
    let style = &base[from..to];
    // Five 80 mm rows, then 90 mm: two rows a page, so the fifth alone would share page 3
    // with what follows (3 pages); kept with the fourth, what follows takes a page (4).
    assert_eq!(
        printed_pages(&laid_out(style, 0, 5, 80, 90), "pack-print-last-row"),
        4,
        "the last row kept with the one before"
    );
    // 100 mm, then three 50 mm rows and 50 mm: the first row alone at the foot of page 1
    // leaves the rest on page 2 (2 pages); kept with the second, the table starts on page 2
    // and what follows takes page 3.
    assert_eq!(
        printed_pages(&laid_out(style, 100, 3, 50, 50), "pack-print-first-row"),
        3,
        "the first row kept with the second"
    );
}

pub fn tests() -> Vec<Spec> {
    vec![
        trial!(the_packs_pdf_layout_keeps_every_cell_in_its_column_on_a4_landscape).chromium(),
        trial!(the_packs_print_stylesheet_leaves_no_row_alone_on_a_page).chromium(),
    ]
}
