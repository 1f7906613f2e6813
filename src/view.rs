//! Presentation: the one place things are shown from. One view model per thing shown: a KPI
//! ([`kpi::KpiRow`]), a risk ([`risk::RiskRow`]), an action ([`action::ActionRow`]), what awaits approval
//! ([`pending::Pending`]) and a KPI's trend ([`chart::Series`], drawn as PNG or SVG by [`chart`]). The command line
//! (`kpi show`, `risks`, `action list`), the digests ([`crate::notify`]'s templates), the pack
//! ([`crate::pack`]) and the live view ([`crate::serve`]) all build their rows here; each
//! output picks the fields it prints.
//!
//! Every figure in a view model is a string already written through [`crate::disclose`]
//! (counts under the threshold "<5", a share with a small part or an average over few
//! referrals "not shown", no event dates), so no output, however a council restyles its
//! templates, can print a raw count.
//!
//! Dependencies point one way: this module reads `kpi`, `risk`, `action`, `disclose` and the
//! store's record types; `notify`, `pack`, `serve` and `cli` use it; it uses none of them.
//! Pure: takes `now` and `today` as arguments, reads no clock, file or database.

use std::fmt::Write as _;
use std::str::FromStr;

use crate::kpi::Rag;

pub mod action;
pub mod answer;
pub mod ask;
pub mod benchmark;
pub mod chart;
pub mod kpi;
pub mod pending;
pub mod risk;
pub mod stats;
pub mod warning;

#[cfg(test)]
mod hidden_tests;
#[cfg(test)]
mod tests;

/// How a command-line listing prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Csv,
    Json,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "table" => Ok(Format::Table),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            _ => Err(format!("`{s}`: expected table, csv or json")),
        }
    }
}

/// One CSV record, quoting fields that need it.
pub fn csv_line(b: &mut String, fields: impl Iterator<Item = String>) {
    let quoted: Vec<String> = fields
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f
            }
        })
        .collect();
    let _ = writeln!(b, "{}", quoted.join(","));
}

/// The one wording every output gives, in place of a RAG rating, a direction of travel and a
/// change, for a figure disclosure control hides ([`crate::disclose::NOT_RATED`]). The RAG is
/// still computed and stored (risk triggers read it); only what leaves the process says this.
pub fn not_rated() -> &'static str {
    crate::disclose::NOT_RATED
}

/// A float as JSON and CSV carry it: at one decimal place, the precision the tables print,
/// never a raw ratio whose digits give its parts back (84.84848... is 28 of 33).
pub fn one_place(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Background and text colour of a badge that says [`not_rated`]: a neutral grey, the same
/// whatever the hidden rating is.
pub const NOT_RATED_COLOUR: (&str, &str) = ("#d9d9d9", "#000000");

/// Background and text colour of a RAG badge (the mail's HTML).
pub fn rag_colour(rag: Rag) -> (&'static str, &'static str) {
    match rag {
        Rag::Red | Rag::BaselineOverdue => ("#c00000", "#ffffff"),
        Rag::Amber => ("#ffc000", "#000000"),
        Rag::Green => ("#00b050", "#ffffff"),
        Rag::NoData => ("#404040", "#ffffff"),
        Rag::NoTarget | Rag::NotYetDue => ("#d9d9d9", "#000000"),
    }
}

/// CSS class for a stored RAG word (the pack and the live view).
pub fn rag_class(rag: &str) -> &'static str {
    match rag {
        "GREEN" => "green",
        "AMBER" => "amber",
        "RED" => "red",
        "NO DATA" | "BASELINE OVERDUE" => "nodata",
        _ => "none",
    }
}

/// "s" unless one.
pub(crate) fn plural(k: usize) -> &'static str {
    if k == 1 { "" } else { "s" }
}
