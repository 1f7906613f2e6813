//! The board pack: what SENDCIB, the DfE and NHS England, and Overview and Scrutiny read
//! (DOMAIN 1.4; the seeds' appendices at 004:1385-1545 are such packs, made by hand). One
//! self-contained HTML file per pack (styles and charts inline, no external request), laid
//! out like the appendices, with a print stylesheet for A4 and a PDF made from it by headless
//! Chromium when one is present.
//!
//! Stages, one file each: [`view`] (the pack as data, every figure through disclosure
//! control; pure), [`actions`] (the action log's rows and rating counts; pure), [`history`] (one KPI's page in the live view; pure), [`chart`] (a KPI's trend as inline SVG; pure), [`html`] (the template),
//! [`pdf`] (Chromium, bounded in time). An output stage beside `notify`: it reads what `kpi`,
//! `risk` and the store hold and writes nothing back.

pub mod actions;
pub mod chart;
pub mod history;
pub mod html;
pub mod pdf;
pub mod view;

use std::str::FromStr;

pub use history::{KpiHistory, kpi_history};
pub use html::{PackError, render_html, render_page};
pub use view::{Inputs, Pack, build};

/// Who the pack is for (DOMAIN 1.4): the monthly board, the two-monthly report to the DfE and
/// NHS England, the quarterly report to Overview and Scrutiny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Audience {
    #[default]
    Board,
    Dfe,
    Scrutiny,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Board => "board",
            Audience::Dfe => "dfe",
            Audience::Scrutiny => "scrutiny",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Audience::Board => "SEND Continuous Improvement Board (SENDCIB) pack",
            Audience::Dfe => "Progress report to the DfE and NHS England",
            Audience::Scrutiny => "Progress report to Overview and Scrutiny",
        }
    }

    /// The board gets everything; the DfE and NHS England progress against the plan's
    /// objectives with the risks (001:45-47: slow objectives flagged); scrutiny the KPI table,
    /// the exceptions and the risk log, without the run-level provenance.
    pub fn sections(self) -> view::Sections {
        let board = self == Audience::Board;
        view::Sections {
            kpi_table: true,
            milestones: self != Audience::Scrutiny,
            exceptions: true,
            risks: true,
            risk_changes: board,
            actions: true,
            provenance: self != Audience::Scrutiny,
        }
    }
}

impl FromStr for Audience {
    type Err = String;
    fn from_str(s: &str) -> Result<Audience, String> {
        match s {
            "board" => Ok(Audience::Board),
            "dfe" => Ok(Audience::Dfe),
            "scrutiny" => Ok(Audience::Scrutiny),
            _ => Err(format!("`{s}`: expected board, dfe or scrutiny")),
        }
    }
}
